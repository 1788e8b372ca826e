# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secure Workload scopes, inventory filters and workspaces: the filter grammar and the adapters,
against a fake connection that records every request."""

import copy

import pytest
import yaml

from ansible_collections.microseg.segmentation.plugins.module_utils._core.adapter import Task
from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Field, Kind, ReconcileError, Reconciler
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.scopes import (
    InventoryFilterAdapter,
    ScopeAdapter,
    WorkspaceAdapter,
    build_clusters,
    build_query,
    canon_clusters,
    canon_query,
    validate_query,
)

ROOT = {"id": "r" * 24, "name": "Default", "short_name": "Default", "parent_app_scope_id": None, "root_app_scope_id": "r" * 24}
APPS = {"id": "a" * 24, "name": "Default:Apps", "short_name": "Apps", "parent_app_scope_id": "r" * 24, "root_app_scope_id": "r" * 24,
        "short_query": {"type": "subnet", "field": "ip", "value": "10.0.0.0/8"}, "dirty": False, "dirty_short_query": None,
        "description": "apps"}


class FakeConnection:
    def __init__(self, lists=None, answers=None):
        self.lists = lists or {}
        self.answers = answers or {}
        self.calls = []

    def create_once(self, method, path, lookup, **kwargs):
        return self.request(method, path, **kwargs)

    def list_all(self, path, params=None):
        self.calls.append(("LIST", path, params))
        return copy.deepcopy(self.lists.get(path, []))

    def request(self, method, path, body=None, **kwargs):
        self.calls.append((method, path, body))
        answer = self.answers.get((method, path))
        if callable(answer):
            return answer(body)
        return copy.deepcopy(answer) if answer is not None else {"success": True}

    def writes(self):
        return [c for c in self.calls if c[0] in ("POST", "PUT", "DELETE")]


# ------------------------------------------------------------------ the grammar

@pytest.mark.parametrize("query", [
    {"type": "eq", "field": "ip", "value": "10.0.0.1"},
    {"type": "gte", "field": "port", "value": 80},
    {"type": "in", "field": "app", "values": ["a", "b"]},
    {"type": "subnet", "field": "ip", "value": "10.0.0.0/8"},
    {"type": "regex", "field": "host_name", "value": "^web-[0-9]+$"},
    {"type": "contains", "field": "host_name", "value": "db"},
    {"type": "range", "field": "ip", "value": [1, 9]},
    {"type": "range", "field": "ip", "value": "10.0.0.1-10.0.0.9"},
    {"type": "and", "filters": [{"type": "eq", "field": "a", "value": 1}, {"type": "not", "filter": {"type": "eq", "field": "b", "value": True}}]},
])
def test_valid_queries(query):
    validate_query(query)


@pytest.mark.parametrize("query, where, text", [
    ("ip = 1", "query", "dict"),
    ({"field": "ip", "value": 1}, "query.type", "None"),
    ({"type": "like", "field": "ip", "value": 1}, "query.type", "like"),
    ({"type": "eq", "value": 1}, "query.field", "field"),
    ({"type": "eq", "field": "ip"}, "query.value", "needs a value"),
    ({"type": "eq", "field": "ip", "value": [1]}, "query.value", "string, number or boolean"),
    ({"type": "in", "field": "ip", "value": 1}, "query.values", "non-empty"),
    ({"type": "in", "field": "ip", "values": [{"a": 1}]}, "query.values[0]", "string"),
    ({"type": "subnet", "field": "ip", "value": "10.0.0.0/33"}, "query.value", "not a subnet"),
    ({"type": "regex", "field": "h", "value": "(a"}, "query.value", "regular expression"),
    ({"type": "contains", "field": "h", "value": 3}, "query.value", "string"),
    ({"type": "range", "field": "ip", "value": 3}, "query.value", "range"),
    ({"type": "and", "filters": []}, "query.filters", "non-empty"),
    ({"type": "or", "filter": {"type": "eq", "field": "a", "value": 1}}, "query.filters", "non-empty"),
    ({"type": "not", "filters": []}, "query.filter", "one filter"),
    ({"type": "eq", "field": "ip", "value": 1, "values": [1]}, "query", "unexpected key(s) values"),
    ({"type": "or", "filters": [{"type": "eq", "field": "a", "value": 1}, {"type": "not", "filter": {"type": "x"}}]},
     "query.filters[1].filter.type", "x"),
])
def test_invalid_queries_name_the_part(query, where, text):
    with pytest.raises(ValidationError) as caught:
        validate_query(query)
    assert caught.value.option == where
    assert text in caught.value.message


def test_build_query_prefixes_the_item():
    with pytest.raises(ValidationError) as caught:
        build_query({"query": {"type": "eq", "field": "a"}}, "items[2].")
    assert str(caught.value).startswith("items[2].query.value:")
    assert build_query({}, "") is None


def test_canon_query_ignores_the_order_of_and_or_operands_only():
    a = {"type": "eq", "field": "a", "value": 1}
    b = {"type": "in", "field": "b", "values": ["x", "y"]}
    assert canon_query({"type": "and", "filters": [a, b]}) == canon_query({"filters": [b, a], "type": "and"})
    assert canon_query({"type": "not", "filter": {"type": "or", "filters": [a, b]}}) == \
        canon_query({"type": "not", "filter": {"type": "or", "filters": [b, a]}})
    assert canon_query(b) != canon_query(dict(b, values=["y", "x"]))
    assert canon_query(None) is None


# ------------------------------------------------------------------ scopes

SCOPE_KIND = Kind("scope", "Scope", [
    Field("name", "short_name"), Field("description", "description"),
    Field("query", "short_query", compare=canon_query), Field("policy_priority", "policy_priority"), Field("commit", "dirty"),
], create_requires=[("short_query", "query")], identity="name")


def scope_connection(*scopes):
    def put(body):
        out = dict(APPS, **body)
        if "short_query" in body:
            out.update(short_query=APPS["short_query"], dirty=True, dirty_short_query=body["short_query"])
        return out
    return FakeConnection(lists={"/app_scopes": [ROOT] + list(scopes)},
                          answers={("PUT", "/app_scopes/" + APPS["id"]): put,
                                   ("POST", "/app_scopes"): lambda body: dict(body, id="n" * 24, name="Default:" + body["short_name"])})


def scope_reconciler(connection, check_mode=False, **params):
    params.setdefault("parent", "Default")
    params.setdefault("commit", True)
    return Reconciler(SCOPE_KIND, ScopeAdapter(connection, SCOPE_KIND, Task(params)), check_mode=check_mode)


def test_scope_unchanged_reads_once():
    connection = scope_connection(APPS)
    result = scope_reconciler(connection).ensure("Apps", {"short_query": copy.deepcopy(APPS["short_query"]), "description": "apps"}, "present")
    assert result["action"] == "none"
    assert connection.calls == [("LIST", "/app_scopes", None)]


def test_scope_create_resolves_the_parent():
    connection = scope_connection()
    query = {"type": "eq", "field": "ip", "value": "10.0.0.1"}
    result = scope_reconciler(connection).ensure("web", {"short_query": query}, "present")
    assert result["action"] == "create"
    assert connection.writes() == [("POST", "/app_scopes", {"short_query": query, "parent_app_scope_id": ROOT["id"], "short_name": "web"})]


def test_scope_check_mode_create_predicts_the_full_name():
    connection = scope_connection(APPS)
    result = scope_reconciler(connection, check_mode=True, parent="Default:Apps").ensure(
        "web", {"short_query": {"type": "eq", "field": "ip", "value": "1.1.1.1"}}, "present")
    assert result["object"]["name"] == "Default:Apps:web"
    assert connection.writes() == []


def test_scope_query_change_is_put_then_committed():
    connection = scope_connection(APPS)
    query = {"type": "subnet", "field": "ip", "value": "10.1.0.0/16"}
    result = scope_reconciler(connection).ensure("Apps", {"short_query": query}, "present")
    assert result["action"] == "update"
    assert connection.writes() == [
        ("PUT", "/app_scopes/" + APPS["id"], {"short_query": query}),
        ("POST", "/app_scopes/commit_dirty", {"root_app_scope_id": ROOT["id"], "sync": True}),
    ]
    assert result["object"]["query_committed"] is True
    assert result["object"]["dirty"] is False


def test_scope_query_change_without_commit_stays_dirty():
    connection = scope_connection(APPS)
    query = {"type": "subnet", "field": "ip", "value": "10.1.0.0/16"}
    result = scope_reconciler(connection, commit=False).ensure("Apps", {"short_query": query}, "present")
    assert [c[1] for c in connection.writes()] == ["/app_scopes/" + APPS["id"]]
    assert result["object"]["dirty"] is True
    assert result["object"]["short_query"] == query
    assert result["object"]["committed_short_query"] == APPS["short_query"]


def test_dirty_scope_compares_the_pending_query_and_commit_commits_it():
    pending = {"type": "subnet", "field": "ip", "value": "10.2.0.0/16"}
    dirty = dict(APPS, dirty=True, dirty_short_query=pending)
    connection = scope_connection(dirty)
    assert scope_reconciler(connection, commit=False).ensure("Apps", {"short_query": pending}, "present")["action"] == "none"
    connection = scope_connection(dirty)
    result = scope_reconciler(connection).ensure("Apps", {"short_query": pending}, "present")
    assert result["action"] == "update"
    assert connection.writes() == [("POST", "/app_scopes/commit_dirty", {"root_app_scope_id": ROOT["id"], "sync": True})]


def test_scope_unknown_parent_fails_after_the_read_before_any_write():
    connection = scope_connection(APPS)
    with pytest.raises(ReconcileError, match="parent: no scope is named 'Default:Nope'"):
        scope_reconciler(connection, parent="Default:Nope").ensure("web", {"short_query": {"type": "eq", "field": "a", "value": 1}}, "present")
    assert connection.writes() == []
    assert scope_reconciler(connection, parent="Default:Nope").ensure("web", {}, "absent")["action"] == "none"


# ------------------------------------------------------------------ inventory filters

FILTER_KIND = Kind("inventory_filter", "Inventory filter", [
    Field("query", "short_query", compare=canon_query), Field("primary", "primary", empty=False), Field("public", "public", empty=False),
], create_requires=[("short_query", "query")])
DNS = {"id": "f" * 24, "name": "dns", "app_scope_id": APPS["id"], "short_query": {"type": "eq", "field": "ip", "value": "10.0.0.53"},
       "query": {}, "primary": False, "public": False}


def test_filter_sends_query_and_compares_short_query():
    connection = FakeConnection(lists={"/app_scopes": [APPS], "/filters/inventories": [DNS]},
                                answers={("PUT", "/filters/inventories/" + DNS["id"]): lambda body: dict(DNS, short_query=body["query"])})
    adapter = InventoryFilterAdapter(connection, FILTER_KIND, Task({"scope": "Default:Apps"}))
    reconciler = Reconciler(FILTER_KIND, adapter)
    assert reconciler.ensure("dns", {"short_query": copy.deepcopy(DNS["short_query"])}, "present")["action"] == "none"
    new = {"type": "in", "field": "ip", "values": ["10.0.0.53"]}
    result = reconciler.ensure("dns", {"short_query": new, "primary": False}, "present")
    assert result["action"] == "update"
    assert connection.writes() == [("PUT", "/filters/inventories/" + DNS["id"], {"query": new})]
    assert ("LIST", "/app_scopes", {"exact_name": "Default:Apps"}) in connection.calls


def test_filter_create_in_the_scope():
    connection = FakeConnection(lists={"/app_scopes": [APPS]}, answers={("POST", "/filters/inventories"): lambda body: dict(body, id="x" * 24)})
    result = Reconciler(FILTER_KIND, InventoryFilterAdapter(connection, FILTER_KIND, Task({"scope": "Default:Apps"}))).ensure(
        "dns", {"short_query": DNS["short_query"]}, "present")
    assert result["action"] == "create"
    assert connection.writes() == [("POST", "/filters/inventories", {"query": DNS["short_query"], "app_scope_id": APPS["id"], "name": "dns"})]


# ------------------------------------------------------------------ workspaces

WS_KIND = Kind("workspace", "Workspace", [
    Field("description", "description"), Field("primary", "primary"),
    Field("catch_all_action", "catch_all_action", compare=lambda v: v.upper() if v else v),
    Field("clusters", "clusters", compare=canon_clusters),
])
WS = {"id": "w" * 24, "name": "apps", "app_scope_id": APPS["id"], "primary": True, "description": "d", "latest_adm_version": 0,
      "enforcement_enabled": False}


def ws_connection(workspace):
    return FakeConnection(lists={"/app_scopes": [APPS], "/applications": [workspace]},
                          answers={("GET", "/applications/%s/catch_all" % WS["id"]): {"action": "DENY"},
                                   ("PUT", "/applications/%s/catch_all" % WS["id"]): lambda body: {"action": body["policy_action"]}})


def test_workspace_reads_the_catch_all_only_when_set():
    connection = ws_connection(WS)
    reconciler = Reconciler(WS_KIND, WorkspaceAdapter(connection, WS_KIND, Task({"scope": "Default:Apps"})))
    assert reconciler.ensure("apps", {"description": "d"}, "present")["action"] == "none"
    assert not [c for c in connection.calls if c[1].endswith("catch_all")]
    result = reconciler.ensure("apps", {"catch_all_action": "ALLOW"}, "present")
    assert result["object"]["catch_all_action"] == "ALLOW"
    assert connection.writes() == [("PUT", "/applications/%s/catch_all" % WS["id"], {"version": "v0", "policy_action": "ALLOW"})]


def test_workspace_delete_makes_a_primary_one_secondary_first():
    connection = ws_connection(WS)
    Reconciler(WS_KIND, WorkspaceAdapter(connection, WS_KIND, Task({"scope": "Default:Apps"}))).ensure("apps", {}, "absent")
    assert connection.writes() == [("PUT", "/applications/" + WS["id"], {"primary": False}), ("DELETE", "/applications/" + WS["id"], None)]


def test_workspace_enforcing_is_not_deleted():
    connection = ws_connection(dict(WS, enforcement_enabled=True))
    with pytest.raises(ReconcileError, match="disable enforcement"):
        Reconciler(WS_KIND, WorkspaceAdapter(connection, WS_KIND, Task({"scope": "Default:Apps"}))).ensure("apps", {}, "absent")
    assert connection.writes() == []


# ------------------------------------------------------------------ workspace clusters

WEB = {"name": "web", "query": {"type": "subnet", "field": "ip", "value": "10.1.1.0/24"}}
DB_QUERY = {"type": "or", "filters": [{"type": "eq", "field": "ip", "value": "10.1.2.10"}, {"type": "eq", "field": "ip", "value": "10.1.2.11"}]}
STORED = [dict(WEB, id="c1" * 12, description="web servers", approved=False),
          {"id": "c2" * 12, "name": "db", "query": DB_QUERY, "approved": True},
          {"id": "c3" * 12, "name": "old", "query": {"type": "eq", "field": "ip", "value": "10.9.9.9"}}]


def cluster_connection(policies=()):
    connection = ws_connection(WS)
    connection.lists["/applications/%s/clusters" % WS["id"]] = STORED
    connection.answers[("GET", "/applications/%s/policies" % WS["id"])] = {"absolute_policies": list(policies)}
    return connection


def test_build_clusters_checks_each_query_and_duplicate_names():
    assert build_clusters({"clusters": [dict(WEB, description=None, approved=None)]}, "") == [WEB]
    with pytest.raises(ValidationError, match=r"items\[2\]\.clusters\[1\]\.query\.value"):
        build_clusters({"clusters": [WEB, {"name": "bad", "query": {"type": "subnet", "field": "ip", "value": "10.1.300.0/24"}}]}, "items[2].")
    with pytest.raises(ValidationError, match="more than once"):
        build_clusters({"clusters": [WEB, WEB]}, "")


def test_canon_clusters_ignores_list_and_operand_order():
    reordered = {"name": "db", "query": dict(DB_QUERY, filters=list(reversed(DB_QUERY["filters"])))}
    assert canon_clusters([WEB, {"name": "db", "query": DB_QUERY}]) == canon_clusters([reordered, WEB])
    assert canon_clusters([WEB]) != canon_clusters([dict(WEB, description="x")])


def test_clusters_compare_only_the_declared_keys_and_names():
    connection = cluster_connection()
    reconciler = Reconciler(WS_KIND, WorkspaceAdapter(connection, WS_KIND, Task({"scope": "Default:Apps"})))
    declared = [WEB, {"name": "db", "query": dict(DB_QUERY, filters=list(reversed(DB_QUERY["filters"]))), "approved": True}]
    assert reconciler.ensure("apps", {"clusters": declared}, "present")["action"] == "none"
    assert connection.writes() == []


def test_clusters_are_created_updated_in_place_and_purged():
    connection = cluster_connection()
    adapter = WorkspaceAdapter(connection, WS_KIND, Task({"scope": "Default:Apps", "purge_clusters": True}))
    declared = [dict(WEB, description="web and proxies"), {"name": "cache", "query": {"type": "eq", "field": "ip", "value": "10.1.3.1"}}]
    result = Reconciler(WS_KIND, adapter).ensure("apps", {"clusters": declared}, "present", want_diff=True)
    assert result["action"] == "update"
    writes = connection.writes()
    # deletes first, then the in-place update, then the create
    assert [w[:2] for w in writes] == [("DELETE", "/clusters/" + "c2" * 12), ("DELETE", "/clusters/" + "c3" * 12),
                                       ("PUT", "/clusters/" + "c1" * 12), ("POST", "/applications/%s/clusters" % WS["id"])]
    assert writes[2][2] == {"description": "web and proxies"}
    assert sorted(c["name"] for c in yaml.safe_load(result["diff"]["before"])["clusters"]) == ["db", "old", "web"]


def test_purging_a_cluster_a_policy_uses_fails_before_any_write():
    connection = cluster_connection(policies=[{"consumer_filter_id": "c1" * 12, "provider_filter_id": "c2" * 12}])
    adapter = WorkspaceAdapter(connection, WS_KIND, Task({"scope": "Default:Apps", "purge_clusters": True}))
    with pytest.raises(ReconcileError, match="db"):
        Reconciler(WS_KIND, adapter).ensure("apps", {"clusters": [WEB], "description": "new"}, "present")
    assert connection.writes() == []


def test_clusters_in_check_mode_write_nothing():
    connection = cluster_connection()
    adapter = WorkspaceAdapter(connection, WS_KIND, Task({"scope": "Default:Apps"}))
    result = Reconciler(WS_KIND, adapter, check_mode=True).ensure("apps", {"clusters": [dict(WEB, approved=True)]}, "present")
    assert result["changed"] and result["object"]["clusters"] == [dict(WEB, approved=True)]
    assert connection.writes() == []
