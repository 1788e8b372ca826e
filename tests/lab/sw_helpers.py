"""Helpers for the Secure Workload lab tests: a signing HTTP client (written here from the
documented algorithm, independent of the collection's and the lab's code) and body builders."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import requests

API = "/openapi/v1"
ROOT_NAME = "Default"
CHECKSUM_METHODS = ("POST", "PUT", "DELETE")


def stamp(when: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(time.time() if when is None else when))


def signature(secret: str, method: str, target: str, checksum: str, content_type: str, timestamp: str) -> str:
    message = "%s\n%s\n%s\n%s\n%s\n" % (method, target, checksum, content_type, timestamp)
    return base64.b64encode(hmac.new(secret.encode("ascii"), message.encode(), hashlib.sha256).digest()).decode()


class SwClient:
    """Signs each request like the official Python client: Content-Type application/json,
    X-Tetration-Cksum for a non-empty POST/PUT/DELETE body, Timestamp, Id, Authorization.

    ``tamper`` (a dict) changes the signing for negative tests: ``secret``, ``key``, ``timestamp``,
    ``checksum`` (a value, or None to leave the header out), ``signed_target``, ``content_type``,
    ``signature``."""

    def __init__(self, info: dict):
        self.info = info
        self.url = info["url"]
        self.key = info["api_key"]
        self.secret = info["api_secret"]
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = info["ca_path"]

    def request(self, method: str, path: str, body=None, *, params=None, raw: bytes | None = None, tamper: dict | None = None,
                headers: dict | None = None) -> requests.Response:
        tamper = tamper or {}
        url = self.url + (path if path.startswith("/_lab") or path.startswith(API) else API + path)
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        prepared = requests.Request(method, url, data=data, params=params).prepare()
        content_type = tamper.get("content_type", "application/json")
        timestamp = tamper.get("timestamp", stamp())
        checksum = hashlib.sha256(data).hexdigest() if data and method in CHECKSUM_METHODS else ""
        if "checksum" in tamper:
            checksum = tamper["checksum"]
        hdrs = {"Timestamp": timestamp, "Id": tamper.get("key", self.key), "User-Agent": "lab test client"}
        if content_type is not None:
            hdrs["Content-Type"] = content_type
        if checksum:
            hdrs["X-Tetration-Cksum"] = checksum
        target = tamper.get("signed_target", prepared.path_url)
        hdrs["Authorization"] = tamper.get("signature") or signature(tamper.get("secret", self.secret), method, target, checksum or "",
                                                                     content_type or "", timestamp)
        prepared.headers.update(hdrs)
        for name in [n for n, v in hdrs.items() if v is None]:
            del prepared.headers[name]
        prepared.headers.update(headers or {})
        return self.session.send(prepared, timeout=30)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def delete(self, path, body=None, **kw):
        return self.request("DELETE", path, body, **kw)

    @staticmethod
    def ok(response: requests.Response):
        assert response.status_code == 200, "%d %s" % (response.status_code, response.text)
        return response.json()

    # admin routes (no signature, not counted)
    def admin(self, method: str, path: str, body=None) -> requests.Response:
        return self.session.request(method, self.url + path, json=body, timeout=30)

    def counters(self) -> dict:
        return self.admin("GET", "/_lab/counters").json()

    # shortcuts
    def root(self) -> dict:
        scopes = self.ok(self.get("/app_scopes", params={"exact_name": ROOT_NAME}))
        assert len(scopes) == 1, scopes
        return scopes[0]

    def scope(self, short_name: str, parent_id: str | None = None, query: dict | None = None, **extra) -> dict:
        body = dict({"short_name": short_name, "parent_app_scope_id": parent_id or self.root()["id"],
                     "short_query": query or subnet("10.0.0.0/8")}, **extra)
        return self.ok(self.post("/app_scopes", body))

    def inventory_filter(self, name: str, scope_id: str, query: dict | None = None, **extra) -> dict:
        body = dict({"name": name, "app_scope_id": scope_id, "query": query or eq("host_name", name)}, **extra)
        return self.ok(self.post("/filters/inventories", body))

    def workspace(self, name: str, scope_id: str, **extra) -> dict:
        return self.ok(self.post("/applications", dict({"name": name, "app_scope_id": scope_id}, **extra)))

    def policy(self, workspace: dict, consumer: str, provider: str, action: str = "ALLOW", **extra) -> dict:
        body = dict({"version": "v%d" % workspace["latest_adm_version"], "consumer_filter_id": consumer, "provider_filter_id": provider,
                     "policy_action": action, "priority": 100, "rank": "DEFAULT"}, **extra)
        return self.ok(self.post("/applications/%s/policies" % workspace["id"], body))


def error_of(response: requests.Response, status: int) -> str:
    """The lab's error message, checked for the {"error": "..."} shape."""
    assert response.status_code == status, "%d %s" % (response.status_code, response.text)
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], body
    return body["error"]


def eq(field: str, value) -> dict:
    return {"type": "eq", "field": field, "value": value}


def subnet(cidr: str) -> dict:
    return {"type": "subnet", "field": "ip", "value": cidr}
