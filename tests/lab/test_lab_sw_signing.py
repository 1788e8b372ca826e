"""Secure Workload lab: the lab.json/lab.env contract, request signing (good and bad signatures,
checksums, timestamps, keys), media types, routing errors, admin routes and counters."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time

import pytest
from lab_helpers import ROOT, labctl, read_lab_json
from sw_helpers import API, SwClient, error_of, signature, stamp

sys.path.insert(0, str(ROOT / "lab"))

from microseg_lab.secure_workload.signing import Verifier, body_checksum, sign, string_to_sign  # noqa: E402

VECTOR_TIMESTAMP = "2020-04-21T18:23:37+0000"
VECTOR_SIGNATURE = "uTixNCblmmldnLBADYcuzfxU/LHy3a2RM3jLrQwxFtc="


class Headers(dict):
    """A case-sensitive stand-in for the request headers (``get`` is all the verifier uses)."""


def test_documented_test_vector_verifies():
    assert sign("X" * 40, "GET", "/openapi/v1/app_scopes", "", "application/json", VECTOR_TIMESTAMP) == VECTOR_SIGNATURE
    assert string_to_sign("GET", "/openapi/v1/app_scopes", "", "application/json", VECTOR_TIMESTAMP) == \
        "GET\n/openapi/v1/app_scopes\n\napplication/json\n2020-04-21T18:23:37+0000\n"
    verifier = Verifier("k" * 32, "X" * 40)
    verifier.clock = lambda: 1587493417.0  # the vector's own time
    headers = Headers({"Id": "k" * 32, "Timestamp": VECTOR_TIMESTAMP, "Authorization": VECTOR_SIGNATURE, "Content-Type": "application/json"})
    verifier.verify("GET", "/openapi/v1/app_scopes", headers, b"")
    # the same headers an hour later are refused (default skew: 300 s)
    verifier.clock = lambda: 1587493417.0 + 3600
    with pytest.raises(Exception, match="away from the server clock"):
        verifier.verify("GET", "/openapi/v1/app_scopes", headers, b"")


def test_documented_checksums():
    assert body_checksum(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    body = b'{"Name":"Alice","Body":"Hello","Time":1294706395881547000}'
    assert body_checksum(body).startswith("feb73c8c") and body_checksum(body).endswith("3899")
    assert body_checksum(body + b"\n").startswith("aa38a646") and body_checksum(body + b"\n").endswith("430b")


def test_lab_json_and_env_contract(lab_dir, sw_info):
    assert set(sw_info) == {"url", "api_key", "api_secret", "ca_path"}
    assert sw_info["url"].startswith("https://127.0.0.1:")
    assert len(sw_info["api_key"]) == 32 and all(c in "0123456789abcdef" for c in sw_info["api_key"])
    assert len(sw_info["api_secret"]) == 40
    assert sw_info["ca_path"] == os.path.join(lab_dir, "ca.pem")
    others = read_lab_json(lab_dir)
    assert sw_info["url"] not in (others["prisma"]["url"], others["nsxt"]["url"])
    with open(os.path.join(lab_dir, "secure-workload-credentials.json")) as handle:
        assert json.load(handle) == {"api_key": sw_info["api_key"], "api_secret": sw_info["api_secret"]}
    assert os.stat(os.path.join(lab_dir, "secure-workload-credentials.json")).st_mode & 0o077 == 0
    env = subprocess.run(["bash", "-c", 'set -a; . "%s"; set +a; env' % os.path.join(lab_dir, "lab.env")],
                         capture_output=True, text=True, check=True).stdout
    values = dict(line.split("=", 1) for line in env.splitlines() if line.startswith("SW_"))
    assert values == {"SW_URL": sw_info["url"], "SW_API_KEY": sw_info["api_key"], "SW_API_SECRET": sw_info["api_secret"],
                      "SW_CA_PATH": sw_info["ca_path"]}
    with open(os.path.join(lab_dir, "lab.log")) as handle:
        assert sw_info["api_secret"] not in handle.read()


def test_signed_requests_are_accepted(sw):
    scopes = sw.ok(sw.get("/app_scopes"))
    assert [s["name"] for s in scopes] == ["Default"]
    # the query string is part of what is signed
    assert sw.ok(sw.get("/app_scopes", params={"exact_name": "Default", "vrf_id": 1}))[0]["vrf_id"] == 1
    assert sw.ok(sw.get("/app_scopes", params={"exact_name": "No such: scope/ü"})) == []
    created = sw.scope("web")
    assert created["name"] == "Default:web"


def test_wrong_secret_or_signature(sw):
    message = error_of(sw.get("/app_scopes", tamper={"secret": "X" * 40}), 401)
    assert "signature does not match" in message
    assert "GET\\n/openapi/v1/app_scopes\\n\\napplication/json\\n" in message  # tells what the lab signed
    error_of(sw.get("/app_scopes", tamper={"signature": "Bearer abc"}), 401)
    # signing another path than the one requested
    error_of(sw.get("/app_scopes", params={"vrf_id": 1}, tamper={"signed_target": API + "/app_scopes"}), 401)
    # the Content-Type is signed: a different header value than the signed one fails
    error_of(sw.get("/app_scopes", headers={"Content-Type": "application/json; charset=utf-8"}), 401)


def test_unknown_key_and_missing_headers(sw):
    assert "unknown API key" in error_of(sw.get("/app_scopes", tamper={"key": "0" * 32}), 401)
    assert "Timestamp" in error_of(sw.get("/app_scopes", tamper={"timestamp": None}), 401)
    bare = sw.session.get(sw.url + API + "/app_scopes", timeout=30)
    assert "Id, Timestamp, Authorization" in error_of(bare, 401)


def test_checksum_is_required_and_checked(sw):
    root = sw.root()
    body = {"short_name": "db", "parent_app_scope_id": root["id"], "short_query": {"type": "eq", "field": "ip", "value": "10.0.0.1"}}
    assert "required" in error_of(sw.post("/app_scopes", body, tamper={"checksum": None}), 401)
    wrong = hashlib.sha256(b"something else").hexdigest()
    assert "does not match the SHA-256" in error_of(sw.post("/app_scopes", body, tamper={"checksum": wrong}), 401)
    assert sw.ok(sw.get("/app_scopes", params={"exact_short_name": "db"})) == []
    # uppercase hex is the same checksum; a GET with a checksum of its (empty) body is fine too
    upper = hashlib.sha256(json.dumps(body).encode()).hexdigest().upper()
    assert sw.post("/app_scopes", body, tamper={"checksum": upper}).status_code == 200
    assert sw.get("/app_scopes", tamper={"checksum": hashlib.sha256(b"").hexdigest()}).status_code == 200


def test_stale_and_malformed_timestamps(sw):
    stale = stamp(time.time() - 301)
    assert "away from the server clock" in error_of(sw.get("/app_scopes", tamper={"timestamp": stale}), 401)
    assert sw.get("/app_scopes", tamper={"timestamp": stamp(time.time() - 200)}).status_code == 200
    assert sw.get("/app_scopes", tamper={"timestamp": stamp(time.time() + 200)}).status_code == 200
    assert "not of the form" in error_of(sw.get("/app_scopes", tamper={"timestamp": "2020-04-21 18:23:37"}), 401)


def test_clock_skew_and_failure_status_are_configurable(sw):
    assert sw.admin("GET", "/_lab/secure_workload/clock_skew").json() == {"clock_skew": 300}
    assert sw.admin("PUT", "/_lab/secure_workload/clock_skew", {"clock_skew": 5}).json() == {"clock_skew": 5}
    error_of(sw.get("/app_scopes", tamper={"timestamp": stamp(time.time() - 60)}), 401)
    assert sw.admin("PUT", "/_lab/secure_workload/clock_skew", {"clock_skew": None}).json() == {"clock_skew": None}
    assert sw.get("/app_scopes", tamper={"timestamp": VECTOR_TIMESTAMP}).status_code == 200
    assert sw.admin("PUT", "/_lab/secure_workload/clock_skew", {"clock_skew": -1}).status_code == 400
    assert sw.admin("PUT", "/_lab/secure_workload/clock_skew", {}).status_code == 400
    assert sw.admin("PUT", "/_lab/secure_workload/auth_failure_status", {"status": 403}).json() == {"status": 403}
    error_of(sw.get("/app_scopes", tamper={"key": "0" * 32}), 403)
    assert sw.admin("PUT", "/_lab/secure_workload/auth_failure_status", {"status": 500}).status_code == 400
    sw.admin("POST", "/_lab/reset")
    assert sw.admin("GET", "/_lab/secure_workload/clock_skew").json() == {"clock_skew": 300}
    assert sw.admin("GET", "/_lab/secure_workload/auth_failure_status").json() == {"status": 401}


def test_media_type_json_and_routing_errors(sw):
    root = sw.root()
    body = json.dumps({"short_name": "a", "parent_app_scope_id": root["id"], "short_query": {"type": "all"}}).encode()
    assert "Content-Type" in error_of(sw.post("/app_scopes", raw=body, tamper={"content_type": "text/plain"}), 415)
    assert "Content-Type" in error_of(sw.post("/app_scopes", raw=body, tamper={"content_type": None}), 415)
    assert "not valid JSON" in error_of(sw.post("/app_scopes", raw=b"{not json"), 400)
    assert "JSON object" in error_of(sw.post("/app_scopes", [1, 2]), 400)
    assert "unknown API path" in error_of(sw.get("/no_such_thing"), 404)
    response = sw.request("PATCH", "/app_scopes/" + root["id"], {"description": "x"})
    error_of(response, 405)
    assert "PUT" in response.headers["Allow"]
    # outside /openapi/v1: a plain 404, no signature needed
    assert sw.session.get(sw.url + "/api/v1/anything", timeout=30).status_code == 404
    error_of(sw.get("/app_scopes/5e05ffffffffffffffffffff"), 404)


def test_counters_and_faults(sw):
    sw.admin("POST", "/_lab/counters/reset")
    scope = sw.scope("web")
    sw.get("/app_scopes/" + scope["id"])
    sw.put("/app_scopes/" + scope["id"], {"description": "d"})
    sw.get("/app_scopes", tamper={"key": "0" * 32})  # refused requests are counted too
    workspace = sw.workspace("ws", scope["id"])
    sw.get("/applications/%s/versions/v0" % workspace["id"])
    sw.get("/orchestrator/Default")
    counters = sw.counters()
    assert counters["routes"] == {
        "GET /openapi/v1/app_scopes": 2,  # one inside sw.scope()
        "POST /openapi/v1/app_scopes": 1,
        "GET /openapi/v1/app_scopes/:id": 1,
        "PUT /openapi/v1/app_scopes/:id": 1,
        "POST /openapi/v1/applications": 1,
        "GET /openapi/v1/applications/:id/versions/:version": 1,
        "GET /openapi/v1/orchestrator/:scope": 1,
    }
    assert counters["writes"] == 3
    rule = {"method": "GET", "path": API + "/app_scopes", "status": 429, "retry_after": 2, "count": 1}
    assert sw.admin("PUT", "/_lab/faults", {"rules": [rule]}).status_code == 200
    response = sw.get("/app_scopes")
    assert response.status_code == 429 and response.headers["Retry-After"] == "2"
    assert response.json() == {"error": "too_many_request"}
    assert sw.get("/app_scopes").status_code == 200


def test_sqlite_state_and_credentials_survive_a_restart(tmp_path):
    state = tmp_path / "sw"
    labctl("start", "--dir", str(state), "--sqlite")
    try:
        info = read_lab_json(state)["secure_workload"]
        client = SwClient(info)
        scope = client.scope("persist")
        client.put("/app_scopes/" + scope["id"], {"short_query": {"type": "eq", "field": "ip", "value": "10.1.1.1"}})
        workspace = client.workspace("ws", scope["id"], primary=False)
        policy = client.policy(workspace, scope["id"], scope["id"], l4_params=[{"proto": 6, "port": [443, 443]}])
        client.ok(client.post("/applications/%s/enable_enforce" % workspace["id"], {"version": "p1"}))
        doomed = client.inventory_filter("doomed", scope["id"])
        client.delete("/filters/inventories/" + doomed["id"])
    finally:
        labctl("stop", "--dir", str(state))
    assert os.path.exists(state / "secure_workload.sqlite")
    labctl("start", "--dir", str(state), "--sqlite")
    try:
        info2 = read_lab_json(state)["secure_workload"]
        assert (info2["api_key"], info2["api_secret"]) == (info["api_key"], info["api_secret"])
        client = SwClient(info2)
        again = client.ok(client.get("/app_scopes/" + scope["id"]))
        assert again["dirty"] is True and again["dirty_short_query"]["value"] == "10.1.1.1"
        assert client.ok(client.get("/policies/" + policy["id"]))["l4_params"][0]["port"] == [443, 443]
        assert client.ok(client.get("/applications/" + workspace["id"]))["enforced_version"] == 1
        assert client.ok(client.get("/filters/inventories")) == []
        assert [s["short_name"] for s in client.ok(client.get("/app_scopes"))] == ["Default", "persist"]
        # new objects keep coming after the restored ones
        client.scope("later")
        assert [s["short_name"] for s in client.ok(client.get("/app_scopes"))] == ["Default", "persist", "later"]
    finally:
        labctl("stop", "--dir", str(state))


def test_fixed_port(tmp_path):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    state = tmp_path / "fixed"
    labctl("start", "--dir", str(state), "--sw-port", str(port))
    try:
        info = read_lab_json(state)["secure_workload"]
        assert info["url"] == "https://127.0.0.1:%d" % port
        assert signature("X" * 40, "GET", "/openapi/v1/app_scopes", "", "application/json", VECTOR_TIMESTAMP) == VECTOR_SIGNATURE
        assert SwClient(info).get("/app_scopes").status_code == 200
    finally:
        labctl("stop", "--dir", str(state))
