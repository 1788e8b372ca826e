# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secure Workload policy helpers: ports, L4 comparison, keys, and the policy adapter on a fake connection."""

import pytest

from ansible_collections.microseg.segmentation.plugins.module_utils._core.adapter import Task
from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Field, Kind, ReconcileError, plan
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.agents import IntentAdapter, build_profile
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.policies import (
    Key,
    SwPolicyAdapter,
    build_ports,
    canon_l4,
    check_workspace_options,
    parse_port,
    parse_protocol,
    policy_key,
)

WS = "a" * 24
SCOPE = "b" * 24
ROOT = "c" * 24
WEB = "d" * 24
DB = "e" * 24
POLICY = "f" * 24


class FakeConnection:
    def __init__(self, policies=None):
        self.calls = []
        self.policies = policies or []

    def create_once(self, method, path, lookup, **kwargs):
        return self.request(method, path, **kwargs)

    def list_all(self, path, params=None):
        self.calls.append(("GET", path))
        if path == "/app_scopes":
            return [{"id": ROOT, "name": "Default"}, {"id": SCOPE, "name": "Default:web", "parent_app_scope_id": ROOT, "root_app_scope_id": ROOT}]
        if path == "/filters/inventories":
            return [{"id": WEB, "name": "web", "app_scope_id": SCOPE}, {"id": DB, "name": "db", "app_scope_id": SCOPE}]
        if path == "/applications":
            return [{"id": WS, "name": "ws", "app_scope_id": SCOPE, "latest_adm_version": 0}]
        if path.endswith("/clusters"):
            return []
        raise AssertionError(path)

    def request(self, method, path, body=None, params=None):
        self.calls.append((method, path, body))
        if method == "GET" and path.endswith("/policies"):
            return {"default_policies": self.policies, "absolute_policies": []}
        if method == "PUT":
            return dict(self.policies[0], action=body.get("policy_action", self.policies[0]["action"]))
        raise AssertionError(path)


PARAMS = {"workspace": "ws", "scope": "Default:web", "workspace_id": None}
KIND = Kind("policy", "policy", [Field("action", "action"), Field("ports", "l4_params", compare=canon_l4, empty=[])], identity="key")


def test_protocols():
    assert parse_protocol("tcp", "p") == 6
    assert parse_protocol("ANY", "p") is None
    assert parse_protocol(47, "p") == 47
    for bad in ("sctpx", 256, True, "-1"):
        with pytest.raises(ValidationError, match="^p: "):
            parse_protocol(bad, "p")


def test_ports():
    assert parse_port(80, "p") == [80, 80]
    assert parse_port("1000-2000", "p") == [1000, 2000]
    with pytest.raises(ValidationError, match="starts above its end"):
        parse_port("2000-1000", "p")
    with pytest.raises(ValidationError, match="out of range"):
        parse_port(70000, "p")
    with pytest.raises(ValidationError):
        parse_port("http", "p")


def test_build_ports_defaults_and_errors():
    built = build_ports([{"protocol": "tcp", "port": None}, {"protocol": "icmp", "port": None}], "ports")
    assert built == [{"proto": 6, "port": [0, 65535]}, {"proto": 1}]
    with pytest.raises(ValidationError, match=r"^ports\[0\]\.port: "):
        build_ports([{"protocol": "icmp", "port": 8}], "ports")
    with pytest.raises(ValidationError, match=r"^ports\[1\]: repeats"):
        build_ports([{"protocol": "tcp", "port": 80}, {"protocol": "6", "port": "80"}], "ports")


def test_canon_l4_ignores_order_ids_and_extras():
    api = [{"id": "x", "proto": 1}, {"id": "y", "proto": 6, "port": [80, 80], "approved": True}]
    mine = [{"proto": 6, "port": [80, 80]}, {"proto": 1}]
    assert canon_l4(api) == canon_l4(mine)
    assert canon_l4(mine) != canon_l4([{"proto": 6, "port": [81, 81]}, {"proto": 1}])


def test_key_is_a_string_with_parts():
    key = policy_key("web", "db", "DEFAULT", 100)
    assert key == "web -> db (DEFAULT, priority 100)"
    assert isinstance(key, Key) and key.parts == ("web", "db", "DEFAULT", 100)


def test_workspace_options():
    check_workspace_options({"workspace_id": WS})
    with pytest.raises(ValidationError, match="^scope: "):
        check_workspace_options({"workspace": "ws"})
    with pytest.raises(ValidationError, match="^workspace: "):
        check_workspace_options({})


def test_adapter_canonical_accepts_names_and_ids():
    adapter = SwPolicyAdapter(FakeConnection(), KIND, Task(PARAMS))
    by_name = adapter.canonical(policy_key("web", "db", "DEFAULT", 100), "present")
    by_id = adapter.canonical(policy_key(WEB, "db", "DEFAULT", 100), "present")
    assert by_name == by_id == "web -> db (DEFAULT, priority 100)"
    with pytest.raises(ReconcileError, match="^provider: 'nope'"):
        adapter.canonical(policy_key("web", "nope", "DEFAULT", 100), "present")
    missing = policy_key("web", "nope", "DEFAULT", 100)
    assert adapter.canonical(missing, "absent") is missing


def test_adapter_updates_in_place_with_put():
    existing = {"id": POLICY, "consumer_filter_id": WEB, "provider_filter_id": DB, "rank": "DEFAULT", "priority": 100,
                "action": "ALLOW", "l4_params": [{"id": "l1", "proto": 6, "port": [80, 80], "description": "web", "approved": True}]}
    conn = FakeConnection([existing])
    adapter = SwPolicyAdapter(conn, KIND, Task(PARAMS))
    key = adapter.canonical(policy_key("web", "db", "DEFAULT", 100), "present")
    found = adapter.find(key)
    assert found["id"] == POLICY
    desired = adapter.complete(key, {"action": "DENY", "l4_params": [{"proto": 6, "port": [80, 80]}, {"proto": 17, "port": [53, 53]}]}, found)
    change = plan(KIND, key, desired, found, "present")
    assert change.action == "update" and sorted(change.fields) == ["action", "l4_params"]
    adapter.update(change)
    method, path, body = conn.calls[-1]
    assert (method, path) == ("PUT", "/policies/%s" % POLICY)
    assert body["policy_action"] == "DENY"
    assert body["l4_params"][0] == {"proto": 6, "port": [80, 80], "description": "web", "approved": True}
    assert not [c for c in conn.calls if c[0] in ("POST", "DELETE")]


def test_adapter_no_change_when_equal():
    existing = {"id": POLICY, "consumer_filter_id": WEB, "provider_filter_id": DB, "rank": "DEFAULT", "priority": 100,
                "action": "ALLOW", "l4_params": [{"id": "l1", "proto": 1}]}
    adapter = SwPolicyAdapter(FakeConnection([existing]), KIND, Task(PARAMS))
    key = adapter.canonical(policy_key("web", DB, "DEFAULT", 100), "present")
    found = adapter.find(key)
    desired = adapter.complete(key, {"action": "ALLOW", "l4_params": [{"proto": 1}]}, found)
    assert plan(KIND, key, desired, found, "present").action == "none"


def test_profile_builder_maps_enforcement_and_checks_ranges():
    assert build_profile({"enforcement_enabled": True, "preserve_existing_rules": True}, "") == {
        "enforcement_disabled": False, "preserve_existing_rules": True}
    with pytest.raises(ValidationError, match=r"^items\[0\]\.cpu_quota_pct: "):
        build_profile({"cpu_quota_pct": 0}, "items[0].")


def test_intent_display_falls_back_to_id_for_ambiguous_names():
    pairs = [("1", "same"), ("2", "same"), ("3", "unique")]
    assert IntentAdapter._display(pairs, "1") == "1"
    assert IntentAdapter._display(pairs, "3") == "unique"
    with pytest.raises(ReconcileError, match="more than one"):
        IntentAdapter._resolve(pairs, "same", "inventory_filter", "scope or inventory filter")
