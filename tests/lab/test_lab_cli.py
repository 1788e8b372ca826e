"""labctl: start/stop/status, files written, restart behaviour and SQLite persistence."""

from __future__ import annotations

import json
import os
import subprocess

import requests

from lab_helpers import VALID_BODIES, PrismaClient, labctl, read_lab_json


def test_start_writes_the_contract_files(lab_dir, lab_info):
    for name in ("ca.pem", "server.pem", "server.key", "lab.pid", "lab.log", "lab.json", "lab.env", "prisma-appcred.json"):
        assert os.path.exists(os.path.join(lab_dir, name)), name
    assert set(lab_info) == {"url", "token", "namespace", "ca_path", "app_credential"}
    assert lab_info["url"].startswith("https://127.0.0.1:")
    assert lab_info["namespace"] == "/acme"
    assert lab_info["ca_path"] == os.path.join(lab_dir, "ca.pem")
    assert lab_info["app_credential"] == os.path.join(lab_dir, "prisma-appcred.json")
    env = subprocess.run(["bash", "-c", 'set -a; . "%s"; set +a; env' % os.path.join(lab_dir, "lab.env")],
                         capture_output=True, text=True, check=True).stdout
    values = dict(line.split("=", 1) for line in env.splitlines() if line.startswith("PRISMA_"))
    assert values == {"PRISMA_API": lab_info["url"], "PRISMA_TOKEN": lab_info["token"], "PRISMA_NAMESPACE": "/acme",
                      "PRISMA_CA_PATH": lab_info["ca_path"]}
    with open(os.path.join(lab_dir, "lab.log")) as handle:
        assert lab_info["token"] not in handle.read()


def test_status_of_the_running_lab(lab_dir):
    assert labctl("status", "--dir", str(lab_dir)).returncode == 0
    # already running: start is a no-op that succeeds
    assert "already running" in labctl("start", "--dir", str(lab_dir)).stdout


def test_stop_start_cycle_sqlite_and_ca_reuse(tmp_path):
    state = tmp_path / "state with space"
    other_cwd = tmp_path / "elsewhere"
    other_cwd.mkdir()
    labctl("start", "--dir", str(state), "--sqlite", cwd=str(other_cwd))
    try:
        info = read_lab_json(state)["prisma"]
        with open(info["ca_path"]) as handle:
            ca_before = handle.read()
        client = PrismaClient(info)
        ns = client.create("namespaces", {"name": "persist", "type": "Group"})
        net = client.create("externalnetworks", VALID_BODIES["externalnetworks"])
        client.put("/externalnetworks/" + net["ID"], dict(net, description="v2"))
        client.fresh("/acme/persist").create("services", VALID_BODIES["services"])
        doomed = client.create("externalnetworks", {"name": "doomed", "entries": ["1.2.3.0/24"]})
        client.delete("/externalnetworks/" + doomed["ID"])
    finally:
        labctl("stop", "--dir", str(state))
    assert labctl("status", "--dir", str(state), check=False).returncode == 3
    assert "not running" in labctl("stop", "--dir", str(state)).stdout  # idempotent
    assert not os.path.exists(state / "lab.pid")
    assert os.path.exists(state / "prisma.sqlite")

    labctl("start", "--dir", str(state), "--sqlite")
    try:
        info2 = read_lab_json(state)["prisma"]
        with open(info2["ca_path"]) as handle:
            assert handle.read() == ca_before
        assert info2["token"] == info["token"]
        client = PrismaClient(info2)
        assert [n["ID"] for n in client.get("/namespaces").json()] == [ns["ID"]]
        nets = client.get("/externalnetworks").json()
        assert [(n["ID"], n["description"]) for n in nets] == [(net["ID"], "v2")]
        inner = client.fresh("/acme/persist")
        assert [s["name"] for s in inner.get("/services").json()] == ["web-lb"]
        assert [s["name"] for s in inner.get("/servicedependencypolicies").json()] == ["default"]
        with open(info2["app_credential"]) as handle:
            assert json.load(handle)["APIURL"] == info2["url"]
        # reset also wipes the database
        client.admin("POST", "/_lab/reset")
    finally:
        labctl("stop", "--dir", str(state))
    labctl("start", "--dir", str(state), "--sqlite")
    try:
        client = PrismaClient(read_lab_json(state)["prisma"])
        assert client.get("/namespaces").json() == []
        assert [n["name"] for n in client.fresh("/").get("/namespaces").json()] == ["/acme"]
    finally:
        labctl("stop", "--dir", str(state))


def test_without_sqlite_state_is_not_kept(tmp_path):
    state = tmp_path / "mem"
    labctl("start", "--dir", str(state))
    try:
        client = PrismaClient(read_lab_json(state)["prisma"])
        client.create("externalnetworks", VALID_BODIES["externalnetworks"])
    finally:
        labctl("stop", "--dir", str(state))
    labctl("start", "--dir", str(state))
    try:
        client = PrismaClient(read_lab_json(state)["prisma"])
        assert client.get("/externalnetworks").json() == []
    finally:
        labctl("stop", "--dir", str(state))


def test_fixed_port(tmp_path):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    state = tmp_path / "fixed"
    labctl("start", "--dir", str(state), "--prisma-port", str(port))
    try:
        assert read_lab_json(state)["prisma"]["url"] == "https://127.0.0.1:%d" % port
    finally:
        labctl("stop", "--dir", str(state))


def test_status_without_lab(tmp_path):
    assert labctl("status", "--dir", str(tmp_path / "never"), check=False).returncode == 3
    assert labctl("stop", "--dir", str(tmp_path / "never")).returncode == 0


def test_latency_ms_sets_every_product(tmp_path):
    state = tmp_path / "wan"
    assert "--latency-ms" in labctl("start", "--help").stdout
    refused = labctl("start", "--dir", str(state), "--latency-ms", "-5", check=False)
    assert refused.returncode == 2 and "from 0 to 10000" in refused.stderr
    assert not os.path.exists(state / "lab.pid")
    labctl("start", "--dir", str(state), "--latency-ms", "40")
    try:
        description = read_lab_json(state)
        session = requests.Session()
        session.trust_env = False  # loopback, the lab CA: nothing from the environment

        def latencies():
            return {name: session.get(section["url"] + "/_lab/latency", verify=section["ca_path"], timeout=30).json()["seconds"]
                    for name, section in description.items()}

        assert latencies() == {"prisma": 0.04, "nsxt": 0.04, "secure_workload": 0.04}
        # on the running lab, start --latency-ms changes the latency (and starts nothing)
        again = labctl("start", "--dir", str(state), "--latency-ms", "0")
        assert "already running" in again.stdout and "latency now 0 ms" in again.stdout
        assert latencies() == {"prisma": 0, "nsxt": 0, "secure_workload": 0}
    finally:
        labctl("stop", "--dir", str(state))
