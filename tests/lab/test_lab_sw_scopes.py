"""Secure Workload lab: scopes (dirty queries, commit, in-use deletes) and inventory filters
(query/short_query, primary, public, the query grammar)."""

from __future__ import annotations

import pytest
from sw_helpers import eq, error_of, subnet


def test_root_scope_at_start(sw):
    scopes = sw.ok(sw.get("/app_scopes"))
    assert len(scopes) == 1
    root = scopes[0]
    assert root["name"] == root["short_name"] == "Default"
    assert root["parent_app_scope_id"] is None and root["root_app_scope_id"] == root["id"]
    assert root["short_query"] == root["query"] == {"type": "eq", "field": "vrf_id", "value": 1}
    assert root["vrf_id"] == 1 and root["dirty"] is False and root["dirty_short_query"] is None
    assert len(root["id"]) == 24


def test_scope_crud_and_derived_fields(sw):
    root = sw.root()
    web = sw.scope("web", query=subnet("10.1.0.0/16"), description="web tier")
    assert set(web) >= {"id", "short_name", "name", "description", "short_query", "query", "vrf_id", "parent_app_scope_id",
                        "child_app_scope_ids", "policy_priority", "dirty", "dirty_short_query"}
    assert web["name"] == "Default:web" and web["parent_app_scope_id"] == root["id"]
    assert web["query"] == {"type": "and", "filters": [root["short_query"], subnet("10.1.0.0/16")]}
    front = sw.scope("front", web["id"], query=eq("user_tier", "front"))
    assert front["name"] == "Default:web:front"
    assert front["query"] == {"type": "and", "filters": [root["short_query"], subnet("10.1.0.0/16"), eq("user_tier", "front")]}
    assert sw.ok(sw.get("/app_scopes/" + web["id"]))["child_app_scope_ids"] == [front["id"]]
    assert sw.ok(sw.get("/app_scopes/" + root["id"]))["child_app_scope_ids"] == [web["id"]]
    # filters of the list
    assert [s["id"] for s in sw.ok(sw.get("/app_scopes", params={"exact_name": "Default:web:front"}))] == [front["id"]]
    assert [s["id"] for s in sw.ok(sw.get("/app_scopes", params={"exact_short_name": "web"}))] == [web["id"]]
    assert sw.ok(sw.get("/app_scopes", params={"exact_name": "default:web"})) == []  # case-sensitive
    assert len(sw.ok(sw.get("/app_scopes", params={"root_app_scope_id": root["id"]}))) == 3
    assert sw.ok(sw.get("/app_scopes", params={"vrf_id": 2})) == []
    # rename: immediate, and visible on the descendants
    renamed = sw.ok(sw.put("/app_scopes/" + web["id"], {"short_name": "www", "description": "new"}))
    assert renamed["name"] == "Default:www" and renamed["description"] == "new" and renamed["dirty"] is False
    assert sw.ok(sw.get("/app_scopes/" + front["id"]))["name"] == "Default:www:front"
    assert sw.ok(sw.delete("/app_scopes/" + front["id"])) == {"success": True}
    error_of(sw.get("/app_scopes/" + front["id"]), 404)
    error_of(sw.delete("/app_scopes/" + front["id"]), 404)


def test_scope_validation(sw):
    root = sw.root()
    cases = [
        ({"parent_app_scope_id": root["id"], "short_query": subnet("10.0.0.0/8")}, "short_name is required"),
        ({"short_name": "x", "short_query": subnet("10.0.0.0/8")}, "parent_app_scope_id is required"),
        ({"short_name": "x", "parent_app_scope_id": "5e05ffffffffffffffffffff", "short_query": subnet("10.0.0.0/8")}, "not an existing scope"),
        ({"short_name": "x", "parent_app_scope_id": root["id"]}, "short_query is required"),
        ({"short_name": "x", "parent_app_scope_id": root["id"], "short_query": subnet("10.0.0.300/8")}, "not a subnet"),
        ({"short_name": 5, "parent_app_scope_id": root["id"], "short_query": subnet("10.0.0.0/8")}, "short_name must be a string"),
        ({"short_name": "x", "parent_app_scope_id": root["id"], "short_query": subnet("10.0.0.0/8"), "policy_priority": 0}, "at least 1"),
    ]
    for body, message in cases:
        assert message in error_of(sw.post("/app_scopes", body), 422), body
    sw.scope("web")
    assert "already exists" in error_of(sw.post("/app_scopes", {"short_name": "WEB", "parent_app_scope_id": root["id"],
                                                                "short_query": subnet("10.0.0.0/8")}), 422)
    assert "root scope" in error_of(sw.put("/app_scopes/" + root["id"], {"short_name": "Other"}), 422)
    assert "cannot be deleted" in error_of(sw.delete("/app_scopes/" + root["id"]), 422)
    assert sw.ok(sw.put("/app_scopes/" + root["id"], {"description": "tenant root"}))["description"] == "tenant root"


def test_policy_priority_orders_siblings(sw):
    first = sw.scope("first")
    second = sw.scope("second")
    assert (first["policy_priority"], second["policy_priority"]) == (1, 2)
    top = sw.scope("top", policy_priority=1)
    root = sw.ok(sw.get("/app_scopes/" + sw.root()["id"]))
    assert root["child_app_scope_ids"] == [top["id"], first["id"], second["id"]]
    assert sw.ok(sw.get("/app_scopes/" + second["id"]))["policy_priority"] == 3
    sw.ok(sw.put("/app_scopes/" + second["id"], {"policy_priority": 1}))
    assert sw.ok(sw.get("/app_scopes/" + root["id"]))["child_app_scope_ids"] == [second["id"], top["id"], first["id"]]


def test_scope_move_refuses_cycles(sw):
    parent = sw.scope("parent")
    child = sw.scope("child", parent["id"])
    assert "descendants" in error_of(sw.put("/app_scopes/" + parent["id"], {"parent_app_scope_id": child["id"]}), 422)
    moved = sw.ok(sw.put("/app_scopes/" + child["id"], {"parent_app_scope_id": sw.root()["id"]}))
    assert moved["name"] == "Default:child"


def test_query_change_is_dirty_until_committed(sw):
    root = sw.root()
    web = sw.scope("web", query=subnet("10.1.0.0/16"))
    app = sw.scope("app", web["id"], query=eq("user_app", "shop"))
    dirty = sw.ok(sw.put("/app_scopes/" + web["id"], {"short_query": subnet("10.2.0.0/16")}))
    assert dirty["dirty"] is True and dirty["dirty_short_query"] == subnet("10.2.0.0/16")
    assert dirty["short_query"] == subnet("10.1.0.0/16")  # not applied yet
    assert sw.ok(sw.get("/app_scopes/" + app["id"]))["query"]["filters"][1] == subnet("10.1.0.0/16")
    # setting the committed query back clears the pending change
    clean = sw.ok(sw.put("/app_scopes/" + web["id"], {"short_query": subnet("10.1.0.0/16")}))
    assert clean["dirty"] is False and clean["dirty_short_query"] is None
    sw.ok(sw.put("/app_scopes/" + web["id"], {"short_query": subnet("10.2.0.0/16")}))
    sw.ok(sw.put("/app_scopes/" + app["id"], {"short_query": eq("user_app", "cart")}))
    flt = sw.inventory_filter("web-primary", web["id"], eq("user_role", "lb"), primary=True)
    assert "10.1.0.0/16" in str(flt["query"])
    assert error_of(sw.post("/app_scopes/commit_dirty", {"root_app_scope_id": web["id"]}), 422).endswith("is not a root scope")
    error_of(sw.post("/app_scopes/commit_dirty", {}), 422)
    assert sw.ok(sw.post("/app_scopes/commit_dirty", {"root_app_scope_id": root["id"], "sync": True})) == {"success": True}
    web2 = sw.ok(sw.get("/app_scopes/" + web["id"]))
    assert web2["dirty"] is False and web2["dirty_short_query"] is None and web2["short_query"] == subnet("10.2.0.0/16")
    app2 = sw.ok(sw.get("/app_scopes/" + app["id"]))
    assert app2["short_query"] == eq("user_app", "cart")
    assert app2["query"] == {"type": "and", "filters": [root["short_query"], subnet("10.2.0.0/16"), eq("user_app", "cart")]}
    flt2 = sw.ok(sw.get("/filters/inventories/" + flt["id"]))
    assert "10.2.0.0/16" in str(flt2["query"]) and flt2["short_query"] == eq("user_role", "lb")
    assert [s for s in sw.ok(sw.get("/app_scopes")) if s["dirty"]] == []


def test_deleting_a_scope_in_use_is_422_with_details(sw):
    web = sw.scope("web")
    child = sw.scope("child", web["id"])
    flt = sw.inventory_filter("f", web["id"])
    workspace = sw.workspace("ws", web["id"])
    other = sw.workspace("other", sw.root()["id"])
    policy = sw.policy(other, web["id"], flt["id"])
    profile = sw.ok(sw.post("/inventory_config/profiles", {"name": "p", "root_app_scope_id": sw.root()["id"]}))
    intent = sw.ok(sw.post("/inventory_config/intents", {"inventory_config_profile_id": profile["id"], "inventory_filter_id": web["id"]}))
    response = sw.delete("/app_scopes/" + web["id"])
    assert error_of(response, 422) == "cannot delete scope because it is in use"
    details = {(d["type"], d["id"]) for d in response.json()["details"]}
    assert details == {("AppScope", child["id"]), ("UserInventoryFilter", flt["id"]), ("DataSet", workspace["id"]),
                       ("ClusterEdge", policy["id"]), ("InventoryConfigIntent", intent["id"])}
    # remove the dependents one by one; the scope then goes
    for path in ("/app_scopes/" + child["id"], "/inventory_config/intents/" + intent["id"], "/policies/" + policy["id"],
                 "/filters/inventories/" + flt["id"]):
        assert sw.ok(sw.delete(path)) == {"success": True}, path
    sw.ok(sw.put("/applications/" + workspace["id"], {"primary": False}))
    sw.ok(sw.delete("/applications/" + workspace["id"]))
    assert sw.ok(sw.delete("/app_scopes/" + web["id"])) == {"success": True}


@pytest.mark.parametrize("query, message", [
    ({"field": "ip", "value": "1.2.3.4"}, "type is missing"),
    ({"type": "equals", "field": "ip", "value": "1.2.3.4"}, "unknown filter type 'equals'"),
    ({"type": "eq", "value": "1.2.3.4"}, "needs a field"),
    ({"type": "eq", "field": "ip"}, "needs a value"),
    ({"type": "in", "field": "ip", "value": "1.2.3.4"}, "needs a non-empty values list"),
    ({"type": "and", "filters": []}, "non-empty filters list"),
    ({"type": "or", "filters": [{"type": "eq", "field": "ip", "value": "1.1.1.1"}, {"type": "regex", "field": "host_name", "value": "(a"}]},
     "query.filters[1].value"),
    ({"type": "not"}, "needs a filter"),
    ({"type": "not", "filter": {"type": "subnet", "field": "ip", "value": "nonsense"}}, "query.filter.value"),
    ({"type": "eq", "field": "ip", "value": {"a": 1}}, "string, number or boolean"),
    ({"type": "eq", "field": "ip", "value": "1.1.1.1", "values": ["x"]}, "unexpected key"),
    ({"type": "range", "field": "port", "value": 5}, "a range is"),
    ("ip = 1.2.3.4", "JSON object"),
])
def test_filter_query_grammar_is_validated(sw, query, message):
    scope = sw.root()
    error = error_of(sw.post("/filters/inventories", {"name": "f", "app_scope_id": scope["id"], "query": query}), 422)
    assert error.startswith("invalid query: ") and message in error
    checked = sw.ok(sw.post("/filters/inventories/validate_query", {"query": query}))
    assert checked["valid"] is False and message in checked["error"]


def test_every_documented_filter_type_is_accepted(sw):
    query = {"type": "and", "filters": [
        {"type": "eq", "field": "vrf_id", "value": 1}, {"type": "ne", "field": "os", "value": "windows"},
        {"type": "lt", "field": "port", "value": 1024}, {"type": "lte", "field": "port", "value": 1024},
        {"type": "gt", "field": "port", "value": 0}, {"type": "gte", "field": "port", "value": 1},
        {"type": "in", "field": "host_name", "values": ["a", "b"]}, {"type": "regex", "field": "host_name", "value": "^web-[0-9]+$"},
        {"type": "subnet", "field": "ip", "value": "1.0.0.0/8"}, {"type": "subnet", "field": "ip", "value": "fd00::/8"},
        {"type": "contains", "field": "host_name", "value": "web"}, {"type": "range", "field": "port", "value": [80, 90]},
        {"type": "or", "filters": [{"type": "not", "filter": {"type": "eq", "field": "user_env", "value": "dev"}}, {"type": "all"}]},
        {"type": "ranges", "field": "port", "values": [[1, 2], "10-20"]}, {"type": "none"},
    ]}
    assert sw.ok(sw.post("/filters/inventories/validate_query", {"query": query})) == {"valid": True}
    created = sw.inventory_filter("everything", sw.root()["id"], query)
    assert created["short_query"] == query


def test_inventory_filter_crud(sw):
    root = sw.root()
    web = sw.scope("web", query=subnet("10.1.0.0/16"))
    created = sw.inventory_filter("lb", web["id"], eq("user_role", "lb"))
    assert set(created) >= {"id", "name", "app_scope_id", "short_query", "query", "primary", "public"}
    # the request field is "query", the stored user query comes back as "short_query"
    assert created["short_query"] == created["query"] == eq("user_role", "lb")
    assert created["primary"] is False and created["public"] is False
    primary = sw.ok(sw.put("/filters/inventories/" + created["id"], {"primary": True}))
    assert primary["short_query"] == eq("user_role", "lb")
    assert primary["query"] == {"type": "and", "filters": [root["short_query"], subnet("10.1.0.0/16"), eq("user_role", "lb")]}
    public = sw.ok(sw.put("/filters/inventories/" + created["id"], {"public": True, "name": "lb-service"}))
    assert public["public"] is True and public["name"] == "lb-service" and public["primary"] is True
    assert "must also be primary" in error_of(sw.put("/filters/inventories/" + created["id"], {"primary": False}), 422)
    assert "must also be primary" in error_of(
        sw.post("/filters/inventories", {"name": "x", "app_scope_id": web["id"], "query": eq("a", "b"), "public": True}), 422)
    assert "app_scope_id is required" in error_of(sw.post("/filters/inventories", {"name": "x", "query": eq("a", "b")}), 422)
    assert "not an existing scope" in error_of(
        sw.post("/filters/inventories", {"name": "x", "app_scope_id": "5e05ffffffffffffffffffff", "query": eq("a", "b")}), 422)
    other = sw.inventory_filter("db", root["id"])

    def names(**params):
        return [f["name"] for f in sw.ok(sw.get("/filters/inventories", params=params))]

    assert names() == ["lb-service", "db"]
    assert names(exact_name="db") == ["db"]
    assert names(name="SERV") == ["lb-service"]
    assert names(app_scope_id=web["id"]) == ["lb-service"]
    assert names(root_app_scope_id=root["id"]) == ["lb-service", "db"]
    assert names(vrf_id=1) == ["lb-service", "db"]
    assert sw.ok(sw.delete("/filters/inventories/" + other["id"])) == {"success": True}
    error_of(sw.get("/filters/inventories/" + other["id"]), 404)


def test_inventory_filter_in_use(sw):
    root = sw.root()
    flt = sw.inventory_filter("f", root["id"])
    workspace = sw.workspace("ws", root["id"])
    policy = sw.policy(workspace, flt["id"], root["id"])
    response = sw.delete("/filters/inventories/" + flt["id"])
    assert error_of(response, 422) == "cannot delete inventory filter because it is in use"
    assert response.json()["details"] == [{"type": "ClusterEdge", "id": policy["id"], "application_id": workspace["id"], "name": "ws"}]
