"""Helpers for the NSX-T lab tests: an HTTP client and small body builders."""

from __future__ import annotations

import requests

MP = "/api/v1"
POLICY = "/policy/api/v1/infra"
DOMAIN = POLICY + "/domains/default"
DEFAULT_L3_SECTION_NAME = "Default Layer3 Section"


class NsxClient:
    """A thin client for the NSX-T emulator: Basic auth (unless auth=False), the lab CA, no proxies."""

    def __init__(self, info: dict, auth: bool = True):
        self.info = info
        self.url = info["url"]
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = info["ca_path"]
        if auth:
            self.session.auth = (info["username"], info["password"])

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 60)
        return self.session.request(method, self.url + path, **kwargs)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, json=body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, json=body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, json=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def ok(self, response: requests.Response, status: int = 200):
        assert response.status_code == status, "%d %s" % (response.status_code, response.text)
        return response.json() if response.content else None

    # admin routes (no auth needed, not counted)
    def admin(self, method: str, path: str, body=None) -> requests.Response:
        return requests.request(method, self.url + path, json=body, timeout=30, verify=self.info["ca_path"])

    def counters(self) -> dict:
        return self.admin("GET", "/_lab/counters").json()

    def set_inventory(self, document: dict) -> dict:
        response = self.admin("PUT", "/_lab/nsxt/inventory", document)
        assert response.status_code == 200, response.text
        return response.json()

    # Manager API shortcuts
    def nsgroup(self, body: dict) -> dict:
        return self.ok(self.post(MP + "/ns-groups", body), 201)

    def section(self, body: dict | None = None, rules: list | None = None, **params) -> dict:
        body = dict(body or {"display_name": "s", "section_type": "LAYER3", "stateful": True})
        if rules is not None:
            body["rules"] = rules
            params["action"] = "create_with_rules"
        return self.ok(self.post(MP + "/firewall/sections", body, params=params), 201)

    def section_names(self, section_type: str = "LAYER3") -> list[str]:
        body = self.ok(self.get(MP + "/firewall/sections", params={"type": section_type}))
        return [s["display_name"] for s in body["results"]]

    def all_pages(self, path: str, **params) -> tuple[list, int]:
        """Every result of a list following cursors, and the number of pages."""
        results, pages, cursor = [], 0, None
        while True:
            query = dict(params)
            if cursor:
                query["cursor"] = cursor
            body = self.ok(self.get(path, params=query))
            results += body["results"]
            pages += 1
            cursor = body.get("cursor")
            if not cursor:
                return results, pages


def error_of(response: requests.Response, status: int) -> dict:
    """The NSX error body of a failed response, checked for the documented shape."""
    assert response.status_code == status, "%d %s" % (response.status_code, response.text)
    body = response.json()
    assert body["httpStatus"] and isinstance(body["error_code"], int) and body["module_name"] and body["error_message"], body
    return body


def tag_expr(scope: str, tag: str, target_type: str = "LogicalPort", **extra) -> dict:
    return dict({"resource_type": "NSGroupTagExpression", "target_type": target_type, "scope": scope, "tag": tag}, **extra)


def complex_expr(*expressions) -> dict:
    return {"resource_type": "NSGroupComplexExpression", "expressions": list(expressions)}


def nsgroup_member(group_id: str) -> dict:
    return {"resource_type": "NSGroupSimpleExpression", "target_type": "NSGroup", "target_property": "id", "op": "EQUALS", "value": group_id}


def ref(target_id: str, target_type: str = "NSGroup") -> dict:
    return {"target_id": target_id, "target_type": target_type}


def mp_rule(name: str, action: str = "ALLOW", **extra) -> dict:
    return dict({"display_name": name, "action": action}, **extra)


def condition(value: str, member_type: str = "SegmentPort", key: str = "Tag", operator: str = "EQUALS") -> dict:
    return {"resource_type": "Condition", "member_type": member_type, "key": key, "operator": operator, "value": value}


def conjunction(operator: str = "AND") -> dict:
    return {"resource_type": "ConjunctionOperator", "conjunction_operator": operator}


def group_path(group_id: str, domain: str = "default") -> str:
    return "/infra/domains/%s/groups/%s" % (domain, group_id)


def policy_rule(rule_id: str, source: list | None = None, destination: list | None = None, **extra) -> dict:
    return dict({"id": rule_id, "action": "ALLOW", "source_groups": source or ["ANY"], "destination_groups": destination or ["ANY"],
                 "services": ["ANY"]}, **extra)
