"""Helpers shared by the lab tests (client, labctl wrapper, sample bodies)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
LABCTL = ROOT / "lab" / "labctl.py"


def labctl(*args: str, check: bool = True, cwd: str | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, str(LABCTL), *args], capture_output=True, text=True, cwd=cwd, timeout=120, check=False)
    if check and result.returncode != 0:
        raise AssertionError("labctl %s failed (%d):\n%s\n%s" % (" ".join(args), result.returncode, result.stdout, result.stderr))
    return result


def read_lab_json(state_dir) -> dict:
    with open(os.path.join(state_dir, "lab.json")) as handle:
        return json.load(handle)


class PrismaClient:
    """A thin HTTP client for the Prisma emulator (no retries, no environment CA bundles)."""

    def __init__(self, info: dict, namespace: str | None = None):
        self.info = info
        self.url = info["url"]
        self.token = info["token"]
        self.namespace = namespace or info["namespace"]
        self.ca = info["ca_path"]
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = self.ca

    def request(self, method: str, path: str, *, namespace: str | None = None, token: str | None = None,
                auth: bool = True, headers: dict | None = None, **kwargs) -> requests.Response:
        hdrs = {}
        if auth:
            hdrs["Authorization"] = "Bearer " + (token or self.token)
        ns = self.namespace if namespace is None else namespace
        if ns:
            hdrs["X-Namespace"] = ns
        hdrs.update(headers or {})
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, self.url + path, headers=hdrs, **kwargs)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, json=body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, json=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def create(self, resource: str, body: dict, **kw) -> dict:
        response = self.post("/" + resource, body, **kw)
        assert response.status_code == 200, response.text
        return response.json()

    # admin routes (no auth, not counted)
    def admin(self, method: str, path: str, body=None) -> requests.Response:
        return self.session.request(method, self.url + path, json=body, timeout=30)

    def counters(self) -> dict:
        return self.admin("GET", "/_lab/counters").json()

    def fresh(self, namespace: str | None = None) -> PrismaClient:
        return PrismaClient(self.info, namespace)


def errors_of(response: requests.Response) -> list[dict]:
    body = response.json()
    assert isinstance(body, list), body
    return body


def descriptions(response: requests.Response) -> list[str]:
    return [e["description"] for e in errors_of(response)]


# Minimal valid bodies per resource (used by the CRUD tests).
VALID_BODIES = {
    "externalnetworks": {"name": "internet", "entries": ["0.0.0.0/0"], "associatedTags": ["externalnetwork:name=internet"]},
    "networkrulesetpolicies": {
        "name": "web",
        "subject": [["$identity=processingunit", "app=web"]],
        "incomingRules": [{"action": "Allow", "object": [["$identity=processingunit"]], "protocolPorts": ["tcp/443"]}],
        "outgoingRules": [{"action": "Allow", "object": [["externalnetwork:name=internet"]], "protocolPorts": ["any"]}],
    },
    "services": {"name": "web-lb", "type": "TCP", "hosts": ["web.example.com"], "IPs": ["10.1.2.3"], "exposedPort": 443,
                 "port": 8443, "TLSType": "None", "selectors": [["$identity=processingunit", "app=web"]]},
    "servicedependencypolicies": {"name": "web-to-db", "subject": [["app=web"]], "object": [["app=db"]]},
    "enforcerprofiles": {"name": "default-profile", "targetNetworks": ["10.0.0.0/8"], "excludedNetworks": ["127.0.0.0/8"]},
    "enforcerprofilemappingpolicies": {"name": "map", "subject": [["$identity=enforcer"]], "object": [["$name=default-profile"]]},
    "namespaces": {"name": "team"},
}
