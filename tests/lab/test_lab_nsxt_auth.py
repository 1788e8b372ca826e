"""NSX-T lab: the lab.json/lab.env contract, authentication (Basic, session + XSRF, client
certificate), error bodies and the admin routes on the NSX port."""

from __future__ import annotations

import os
import subprocess

import pytest
import requests
from lab_helpers import labctl, read_lab_json
from nsxt_helpers import MP, POLICY, NsxClient, error_of

CREDENTIALS_ERROR = {"module_name": "common-services",
                     "error_message": "The credentials were incorrect or the account specified has been locked.", "error_code": 403}


def test_lab_json_and_env_contract(lab_dir, nsxt_info):
    assert set(nsxt_info) == {"url", "host", "username", "password", "ca_path", "client_cert", "client_key"}
    assert nsxt_info["url"] == "https://" + nsxt_info["host"]
    assert nsxt_info["host"].startswith("127.0.0.1:")
    assert nsxt_info["username"] == "admin"
    assert nsxt_info["ca_path"] == os.path.join(lab_dir, "ca.pem")
    assert nsxt_info["client_cert"] == os.path.join(lab_dir, "nsxt-client.pem")
    assert nsxt_info["client_key"] == os.path.join(lab_dir, "nsxt-client.key")
    with open(os.path.join(lab_dir, "nsxt-password")) as handle:
        assert handle.read().strip() == nsxt_info["password"]
    assert read_lab_json(lab_dir)["prisma"]["url"] != nsxt_info["url"]
    env = subprocess.run(["bash", "-c", 'set -a; . "%s"; set +a; env' % os.path.join(lab_dir, "lab.env")],
                         capture_output=True, text=True, check=True).stdout
    values = dict(line.split("=", 1) for line in env.splitlines() if line.startswith("NSXT_"))
    assert values == {"NSXT_HOST": nsxt_info["host"], "NSXT_USERNAME": "admin", "NSXT_PASSWORD": nsxt_info["password"],
                      "NSXT_CA_PATH": nsxt_info["ca_path"]}
    with open(os.path.join(lab_dir, "lab.log")) as handle:
        assert nsxt_info["password"] not in handle.read()


def test_basic_auth_on_both_apis(nsx):
    assert nsx.get(MP + "/ns-groups").status_code == 200
    assert nsx.get(POLICY + "/domains").status_code == 200
    version = nsx.ok(nsx.get(MP + "/node/version"))
    assert version["product_version"].startswith("3.")


@pytest.mark.parametrize("auth", [None, ("admin", "wrong"), ("root", "x")])
def test_bad_or_missing_credentials(nsx, nsxt_info, auth):
    client = NsxClient(nsxt_info, auth=False)
    response = client.get(MP + "/ns-groups", auth=auth)
    assert response.status_code == 403
    assert response.json() == CREDENTIALS_ERROR
    assert client.get(POLICY + "/domains/default", auth=auth).json() == CREDENTIALS_ERROR


def test_session_with_xsrf(nsx, nsxt_info):
    client = NsxClient(nsxt_info, auth=False)
    created = client.request("POST", "/api/session/create",
                             data={"j_username": nsxt_info["username"], "j_password": nsxt_info["password"]})
    assert created.status_code == 200, created.text
    assert "error_code" not in created.text
    cookie = created.headers["Set-Cookie"]
    assert cookie.startswith("JSESSIONID=") and "HttpOnly" in cookie and "Secure" in cookie
    xsrf = created.headers["X-XSRF-TOKEN"]
    session_id = client.session.cookies.get("JSESSIONID")
    assert session_id
    # the cookie alone is refused
    refused = client.get(MP + "/ns-groups")
    assert error_of(refused, 403)["error_code"] == 98
    assert error_of(client.get(MP + "/ns-groups", headers={"X-XSRF-TOKEN": "nope"}), 403)["error_code"] == 98
    # cookie + token work on both APIs, for writes too
    headers = {"X-XSRF-TOKEN": xsrf}
    assert client.get(MP + "/ns-groups", headers=headers).status_code == 200
    assert client.patch(POLICY + "/domains/default/groups/s1", {"expression": []}, headers=headers).status_code == 200
    assert client.post("/api/session/destroy", headers=headers).status_code == 200
    # the session is gone: the same cookie and token are now bad credentials
    gone = client.request("GET", MP + "/ns-groups", headers=headers, cookies={"JSESSIONID": session_id})
    assert gone.status_code == 403 and gone.json() == CREDENTIALS_ERROR


def test_session_with_bad_credentials(nsx, nsxt_info):
    client = NsxClient(nsxt_info, auth=False)
    response = client.request("POST", "/api/session/create", data={"j_username": "admin", "j_password": "bad"})
    assert response.status_code == 403
    assert response.json() == CREDENTIALS_ERROR
    assert "Set-Cookie" not in response.headers
    assert client.get("/api/session/create").status_code == 405


def test_client_certificate_is_admin(nsx, nsxt_info):
    client = NsxClient(nsxt_info, auth=False)
    client.session.cert = (nsxt_info["client_cert"], nsxt_info["client_key"])
    assert client.get(MP + "/ns-groups").status_code == 200
    assert client.patch(POLICY + "/domains/default/groups/by-cert", {"expression": []}).status_code == 200
    group = client.ok(client.get(POLICY + "/domains/default/groups/by-cert"))
    assert group["_create_user"] == "admin"


def test_error_body_shape(nsx):
    body = error_of(nsx.get(MP + "/ns-groups/missing"), 404)
    assert body["httpStatus"] == "NOT_FOUND" and body["error_code"] == 600
    assert "missing" in body["error_message"]
    body = error_of(nsx.get(POLICY + "/domains/default/groups/missing"), 404)
    assert body["error_code"] == 600
    assert error_of(nsx.get("/api/v1/nothing-here"), 404)["httpStatus"] == "NOT_FOUND"
    assert error_of(nsx.request("PATCH", MP + "/ns-groups"), 405)["httpStatus"] == "METHOD_NOT_ALLOWED"
    bad_json = nsx.request("POST", MP + "/ns-groups", data="{not json", headers={"Content-Type": "application/json"})
    assert error_of(bad_json, 400)["httpStatus"] == "BAD_REQUEST"


def test_counters_use_route_ids(nsx):
    group = nsx.nsgroup({"display_name": "g"})
    nsx.get(MP + "/ns-groups/" + group["id"])
    nsx.patch(POLICY + "/domains/default/groups/web", {"expression": []})
    nsx.get(POLICY + "/domains/default/groups/web/members/ip-addresses")
    section = nsx.section()
    nsx.get(MP + "/firewall/sections/%s/rules" % section["id"])
    nsx.get(MP + "/ns-groups", auth=("admin", "bad"))  # refused requests count too
    counters = nsx.counters()
    assert counters["routes"] == {
        "POST /api/v1/ns-groups": 1,
        "GET /api/v1/ns-groups/:id": 1,
        "PATCH /policy/api/v1/infra/domains/:id/groups/:id": 1,
        "GET /policy/api/v1/infra/domains/:id/groups/:id/members/ip-addresses": 1,
        "POST /api/v1/firewall/sections": 1,
        "GET /api/v1/firewall/sections/:id/rules": 1,
        "GET /api/v1/ns-groups": 1,
    }
    assert counters["total"] == 7 and counters["writes"] == 3
    assert nsx.admin("POST", "/_lab/counters/reset").status_code == 200
    assert nsx.counters() == {"total": 0, "writes": 0, "routes": {}}


def test_faults_on_the_nsx_port(nsx):
    response = nsx.admin("PUT", "/_lab/faults", {"rules": [{"method": "PATCH", "path": "/policy/api/v1/infra", "status": 429,
                                                            "retry_after": 1, "count": 1}]})
    assert response.status_code == 200
    faulted = nsx.patch(POLICY + "/domains/default/groups/web", {"expression": []})
    assert faulted.headers["Retry-After"] == "1"
    assert error_of(faulted, 429)["httpStatus"] == "TOO_MANY_REQUESTS"
    assert nsx.get(POLICY + "/domains/default/groups/web").status_code == 404  # nothing was written
    assert nsx.patch(POLICY + "/domains/default/groups/web", {"expression": []}).status_code == 200
    nsx.admin("PUT", "/_lab/faults", {"rules": [{"path": "/api/v1/ns-groups", "drop": True}]})
    with pytest.raises(requests.ConnectionError):
        nsx.get(MP + "/ns-groups")
    nsx.admin("PUT", "/_lab/faults", {"rules": [{"path": "/api/v1", "status": 503, "count": -1}]})
    assert error_of(nsx.get(MP + "/ns-groups"), 503)["httpStatus"] == "SERVICE_UNAVAILABLE"
    assert nsx.get(POLICY + "/domains").status_code == 200
    assert nsx.admin("DELETE", "/_lab/faults").status_code == 200
    assert nsx.get(MP + "/ns-groups").status_code == 200


def test_reset_restores_the_startup_state(nsx):
    nsx.nsgroup({"display_name": "gone"})
    nsx.section()
    nsx.patch(POLICY + "/domains/default/groups/gone", {"expression": []})
    nsx.set_inventory({"pods": [], "vms": []})
    assert nsx.admin("POST", "/_lab/reset").status_code == 200
    assert nsx.ok(nsx.get(MP + "/ns-groups"))["results"] == []
    assert nsx.section_names() == ["Default Layer3 Section"]
    assert nsx.ok(nsx.get(POLICY + "/domains/default/groups"))["results"] == []
    assert len(nsx.admin("GET", "/_lab/nsxt/inventory").json()["pods"]) == 8  # two replicas of each of the guide's four services


def test_inventory_admin_route_validates(nsx):
    assert nsx.admin("PUT", "/_lab/nsxt/inventory", {"pods": [{"name": "p", "namespace": "n", "ip": "not-an-ip"}]}).status_code == 400
    assert nsx.admin("PUT", "/_lab/nsxt/inventory", {"pods": [], "colour": "red"}).status_code == 400
    assert nsx.admin("PUT", "/_lab/nsxt/inventory", ["not", "an", "object"]).status_code == 400
    assert nsx.admin("DELETE", "/_lab/nsxt/inventory").status_code == 405
    document = nsx.set_inventory({"pods": [{"name": "p", "namespace": "n", "labels": {"app": "p"}, "ip": "10.244.9.9"}],
                                  "vms": [{"name": "vm1", "tags": [{"scope": "env", "tag": "prod"}], "ips": ["192.168.1.5"]}]})
    assert document["vms"][0]["external_id"]
    assert nsx.admin("GET", "/_lab/nsxt/inventory").json() == document
    assert "_lab" not in str(nsx.counters()["routes"])


def test_sqlite_state_password_and_certificate_survive_a_restart(tmp_path):
    state = tmp_path / "nsx-state"
    labctl("start", "--dir", str(state), "--sqlite")
    try:
        info = read_lab_json(state)["nsxt"]
        client = NsxClient(info)
        group = client.nsgroup({"display_name": "kept"})
        section = client.section(rules=[{"action": "DROP", "sources": [{"target_id": group["id"], "target_type": "NSGroup"}]}])
        client.ok(client.patch(POLICY + "/domains/default/groups/kept", {"expression": []}))
        client.ok(client.put(POLICY + "/domains/default/security-policies/p", {"rules": [{"id": "r", "action": "DROP"}]}))
        client.set_inventory({"pods": [], "vms": [{"name": "vm-kept", "ips": ["192.168.0.1"]}]})
        with open(info["client_cert"]) as handle:
            cert_before = handle.read()
    finally:
        labctl("stop", "--dir", str(state))
    labctl("start", "--dir", str(state), "--sqlite")
    try:
        info2 = read_lab_json(state)["nsxt"]
        assert info2["password"] == info["password"]
        with open(info2["client_cert"]) as handle:
            assert handle.read() == cert_before
        client = NsxClient(info2)
        assert [g["display_name"] for g in client.ok(client.get(MP + "/ns-groups"))["results"]] == ["kept"]
        assert client.section_names() == ["s", "Default Layer3 Section"]
        rules = client.ok(client.get(MP + "/firewall/sections/%s/rules" % section["id"]))["results"]
        assert [(r["action"], r["sources"][0]["target_display_name"]) for r in rules] == [("DROP", "kept")]
        policy = client.ok(client.get(POLICY + "/domains/default/security-policies/p"))
        assert [r["id"] for r in policy["rules"]] == ["r"]
        assert client.get(POLICY + "/domains/default/groups/kept").status_code == 200
        assert [v["name"] for v in client.admin("GET", "/_lab/nsxt/inventory").json()["vms"]] == ["vm-kept"]
        # a new rule gets a fresh id after the restart
        added = client.ok(client.post(MP + "/firewall/sections/%s/rules" % section["id"], {"action": "ALLOW"}))
        assert added["id"] != rules[0]["id"]
    finally:
        labctl("stop", "--dir", str(state))


def test_fixed_nsxt_port(tmp_path):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    state = tmp_path / "fixed-nsx"
    started = labctl("start", "--dir", str(state), "--nsxt-port", str(port))
    try:
        info = read_lab_json(state)["nsxt"]
        assert info["url"] == "https://127.0.0.1:%d" % port and info["host"] == "127.0.0.1:%d" % port
        assert "nsxt: https://127.0.0.1:%d (user admin)" % port in started.stdout
        assert NsxClient(info).get(MP + "/ns-groups").status_code == 200
    finally:
        labctl("stop", "--dir", str(state))
