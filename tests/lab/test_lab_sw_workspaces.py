"""Secure Workload lab: workspaces, policies and L4 params, catch-all, clusters, versions and enforcement."""

from __future__ import annotations

from sw_helpers import eq, error_of, subnet


def setup(sw, **extra):
    root = sw.root()
    web = sw.scope("web", query=subnet("10.1.0.0/16"))
    db = sw.inventory_filter("db", root["id"], eq("host_name", "lab-db-1"))
    workspace = sw.workspace("shop", web["id"], **extra)
    return root, web, db, workspace


def test_new_workspace_defaults_and_crud(sw):
    root, web, _db, workspace = setup(sw, description="the shop")
    assert set(workspace) >= {"id", "name", "description", "app_scope_id", "author", "primary", "alternate_query_mode", "created_at",
                              "latest_adm_version", "analysis_enabled", "analyzed_version", "enforcement_enabled", "enforced_version"}
    assert workspace["primary"] is True and workspace["alternate_query_mode"] is True
    assert workspace["enforcement_enabled"] is False and workspace["enforced_version"] == 0 and workspace["latest_adm_version"] == 0
    catch_all = sw.ok(sw.get("/applications/%s/catch_all" % workspace["id"]))
    assert catch_all == {"id": catch_all["id"], "application_id": workspace["id"], "version": "v0", "rank": "CATCH_ALL", "action": "DENY"}
    assert [w["id"] for w in sw.ok(sw.get("/applications"))] == [workspace["id"]]
    assert sw.ok(sw.get("/applications", params={"app_scope_id": root["id"]})) == []
    assert [w["name"] for w in sw.ok(sw.get("/applications", params={"exact_name": "shop"}))] == ["shop"]
    # one primary workspace per scope; a secondary is fine
    assert "already has a primary workspace" in error_of(sw.post("/applications", {"name": "x", "app_scope_id": web["id"]}), 422)
    second = sw.workspace("second", web["id"], primary="false")  # the string form some clients send
    assert second["primary"] is False
    assert "already has a primary" in error_of(sw.put("/applications/" + second["id"], {"primary": True}), 422)
    updated = sw.ok(sw.put("/applications/" + workspace["id"], {"name": "shop2", "description": "d", "primary": False, "app_scope_id": root["id"]}))
    assert (updated["name"], updated["description"], updated["primary"], updated["app_scope_id"]) == ("shop2", "d", False, web["id"])
    assert sw.ok(sw.put("/applications/" + second["id"], {"primary": "true"}))["primary"] is True
    assert "make it secondary" in error_of(sw.delete("/applications/" + second["id"]), 422)
    assert sw.ok(sw.delete("/applications/" + workspace["id"])) == {"success": True}
    error_of(sw.get("/applications/" + workspace["id"]), 404)
    assert "app_scope_id is required" in error_of(sw.post("/applications", {"name": "x"}), 422)
    assert "strict_validation" in error_of(sw.post("/applications", {"name": "x", "app_scope_id": root["id"], "strict_validation": True,
                                                                     "colour": "blue"}), 422)
    assert sw.post("/applications", {"name": "x", "app_scope_id": root["id"], "colour": "blue"}).status_code == 200


def test_policy_crud_and_field_names(sw):
    root, web, db, workspace = setup(sw)
    policy = sw.policy(workspace, web["id"], db["id"], "ALLOW", priority=10,
                       l4_params=[{"proto": 6, "port": [443, 443], "approved": True}, {"proto": 17, "port": [53, 53], "description": "dns"},
                                  {"proto": 1}, {"proto": None}])
    assert "policy_action" not in policy and policy["action"] == "ALLOW"
    assert policy["version"] == "v0" and policy["rank"] == "DEFAULT" and policy["priority"] == 10
    assert policy["application_id"] == workspace["id"]
    assert policy["consumer_filter"] == {"id": web["id"], "name": "Default:web", "filter_type": "AppScope"}
    assert policy["provider_filter"] == {"id": db["id"], "name": "db", "filter_type": "UserInventoryFilter"}
    tcp, udp, icmp, anything = policy["l4_params"]
    assert tcp == {"id": tcp["id"], "proto": 6, "port": [443, 443], "approved": True}
    assert udp == {"id": udp["id"], "proto": 17, "port": [53, 53], "description": "dns"}  # approved omitted when false
    assert icmp == {"id": icmp["id"], "proto": 1} and anything == {"id": anything["id"], "proto": None}
    assert sw.ok(sw.get("/policies/" + policy["id"])) == policy
    # PUT updates in place
    updated = sw.ok(sw.put("/policies/" + policy["id"], {"policy_action": "DENY", "priority": 5, "rank": "ABSOLUTE"}))
    assert updated["id"] == policy["id"] and (updated["action"], updated["priority"], updated["rank"]) == ("DENY", 5, "ABSOLUTE")
    assert updated["l4_params"] == policy["l4_params"]
    replaced = sw.ok(sw.put("/policies/" + policy["id"], {"l4_params": [{"proto": 6, "port": [443, 443], "approved": True},
                                                                        {"proto": 6, "port": [8443, 8443]}]}))
    assert replaced["l4_params"][0]["id"] == tcp["id"] and len(replaced["l4_params"]) == 2
    listed = sw.ok(sw.get("/applications/%s/policies" % workspace["id"]))
    assert listed["default_policies"] == [] and [p["id"] for p in listed["absolute_policies"]] == [policy["id"]]
    assert listed["catch_all_action"] == "DENY"
    assert [p["id"] for p in sw.ok(sw.get("/applications/%s/absolute_policies" % workspace["id"]))] == [policy["id"]]
    assert sw.ok(sw.get("/applications/%s/policies" % workspace["id"], params={"consumer_filter_id": db["id"]}))["absolute_policies"] == []
    assert sw.ok(sw.delete("/policies/" + policy["id"])) == {"success": True}
    error_of(sw.get("/policies/" + policy["id"]), 404)
    assert root["id"]


def test_policy_validation(sw):
    root, web, db, workspace = setup(sw)
    path = "/applications/%s/policies" % workspace["id"]
    base = {"version": "v0", "consumer_filter_id": web["id"], "provider_filter_id": db["id"], "policy_action": "ALLOW"}
    cases = [
        (dict(base, policy_action=None), "policy_action is required"),
        (dict(base, policy_action="PERMIT"), "policy_action must be one of ALLOW, DENY"),
        (dict(base, rank="CATCH_ALL"), "rank must be one of DEFAULT, ABSOLUTE"),
        (dict(base, consumer_filter_id="5e05ffffffffffffffffffff"), "consumer_filter_id 5e05ffffffffffffffffffff is not an existing"),
        (dict(base, provider_filter_id=None), "provider_filter_id is required"),
        (dict(base, version="v3"), "does not exist (the working version is v0)"),
        (dict(base, version="p1"), "published and read-only"),
        (dict(base, l4_params=[{"proto": 6, "port": [90, 80]}]), "low <= high"),
        (dict(base, l4_params=[{"proto": 6, "port": [0, 70000]}]), "within 0-65535"),
        (dict(base, l4_params=[{"proto": 1, "port": [1, 1]}]), "only valid for TCP (6) and UDP (17)"),
        (dict(base, l4_params=[{"proto": 300}]), "proto must be an IP protocol number"),
        (dict(base, l4_params=[{"proto": 6, "port": [80, 80]}, {"proto": 6, "port": [80, 80]}]), "repeats protocol"),
        (dict(base, priority="high"), "priority must be an integer"),
    ]
    for body, message in cases:
        assert message in error_of(sw.post(path, body), 422), body
    assert sw.ok(sw.get(path)) == {"absolute_policies": [], "default_policies": [], "catch_all_action": "DENY"}
    # the version may be given as a bare number; "action" (the output name) is accepted on input too
    created = sw.ok(sw.post(path, dict(base, version="0", policy_action=None, action="DENY")))
    assert created["action"] == "DENY"
    assert root["id"]


def test_l4_param_routes(sw):
    _root, web, db, workspace = setup(sw)
    policy = sw.policy(workspace, web["id"], db["id"])
    added = sw.ok(sw.post("/policies/%s/l4_params" % policy["id"], {"proto": 6, "start_port": 8080, "end_port": 8090, "description": "alt"}))
    assert added["id"] == policy["id"]  # the whole policy comes back
    param = added["l4_params"][0]
    assert param == {"id": param["id"], "proto": 6, "port": [8080, 8090], "description": "alt"}
    single = sw.ok(sw.post("/policies/%s/l4_params" % policy["id"], {"proto": 17, "start_port": 53}))["l4_params"][1]
    assert single["port"] == [53, 53]
    every = sw.ok(sw.post("/policies/%s/l4_params" % policy["id"], {"proto": 6, "start_port": 0}))["l4_params"][2]
    assert every["port"] == [0, 65535]
    assert "already has an l4 param" in error_of(sw.post("/policies/%s/l4_params" % policy["id"], {"proto": 17, "start_port": 53}), 422)
    approved = sw.ok(sw.put("/policies/%s/l4_params/%s" % (policy["id"], param["id"]), {"approved": True}))
    assert approved["l4_params"][0]["approved"] is True
    unapproved = sw.ok(sw.put("/policies/%s/l4_params/%s" % (policy["id"], param["id"]), {"approved": False}))
    assert "approved" not in unapproved["l4_params"][0]
    error_of(sw.put("/policies/%s/l4_params/%s" % (policy["id"], "5e05ffffffffffffffffffff"), {"approved": True}), 404)
    deleted = sw.delete("/policies/%s/l4_params/%s" % (policy["id"], param["id"]), {"create_exclusion_filter": False})
    assert sw.ok(deleted) == {"success": True}
    assert [p["id"] for p in sw.ok(sw.get("/policies/" + policy["id"]))["l4_params"]] == [single["id"], every["id"]]


def test_catch_all(sw):
    _root, _web, _db, workspace = setup(sw)
    path = "/applications/%s/catch_all" % workspace["id"]
    changed = sw.ok(sw.put(path, {"version": "v0", "policy_action": "ALLOW"}))
    assert changed["action"] == "ALLOW" and changed["rank"] == "CATCH_ALL"
    assert sw.ok(sw.get(path))["action"] == "ALLOW"
    assert "policy_action must be one of" in error_of(sw.put(path, {"version": "v0", "policy_action": "DROP"}), 422)
    assert "published and read-only" in error_of(sw.put(path, {"version": "p1", "policy_action": "DENY"}), 422)


def test_default_policies_pagination(sw):
    _root, web, db, workspace = setup(sw)
    ids = [sw.policy(workspace, web["id"], db["id"], priority=100 - i)["id"] for i in range(5)]
    ordered = list(reversed(ids))  # sorted by priority
    path = "/applications/%s/default_policies" % workspace["id"]
    assert [p["id"] for p in sw.ok(sw.get(path))] == ordered
    assert [p["id"] for p in sw.ok(sw.get(path, params={"limit": 2}))] == ordered[:2]
    assert [p["id"] for p in sw.ok(sw.get(path, params={"limit": 2, "offset": 2}))] == ordered[2:4]
    assert [p["id"] for p in sw.ok(sw.get(path, params={"limit": 2, "offset": 4}))] == ordered[4:]
    assert sw.ok(sw.get(path, params={"limit": 2, "offset": 6})) == []
    error_of(sw.get(path, params={"limit": "many"}), 400)


def test_clusters(sw):
    root, web, db, workspace = setup(sw)
    path = "/applications/%s/clusters" % workspace["id"]
    cluster = sw.ok(sw.post(path, {"name": "frontends", "version": "v0", "description": "fe", "query": subnet("10.1.1.0/24"),
                                   "approved": True}))
    assert (cluster["name"], cluster["approved"], cluster["version"], cluster["query"]) == ("frontends", True, "v0", subnet("10.1.1.0/24"))
    assert sw.ok(sw.get(path)) == [cluster]
    assert sw.ok(sw.get("/clusters/" + cluster["id"])) == cluster
    # a cluster is a valid consumer/provider of its workspace's policies
    policy = sw.policy(workspace, cluster["id"], db["id"])
    assert policy["consumer_filter"]["filter_type"] == "Cluster"
    other = sw.workspace("other", root["id"])
    foreign = {"consumer_filter_id": cluster["id"], "provider_filter_id": db["id"], "policy_action": "ALLOW"}
    assert "not an existing scope, inventory filter or cluster" in error_of(sw.post("/applications/%s/policies" % other["id"], foreign), 422)
    updated = sw.ok(sw.put("/clusters/" + cluster["id"], {"description": "front ends", "approved": False}))
    assert updated["description"] == "front ends" and updated["approved"] is False and updated["name"] == "frontends"
    response = sw.delete("/clusters/" + cluster["id"])
    assert error_of(response, 422) == "cannot delete cluster because it is in use"
    sw.ok(sw.delete("/policies/" + policy["id"]))
    assert sw.ok(sw.delete("/clusters/" + cluster["id"])) == {"success": True}
    assert "query is required" in error_of(sw.post(path, {"name": "x"}), 422)
    from_nodes = sw.ok(sw.post(path, {"name": "nodes", "nodes": [{"ip": "10.1.1.1", "name": "a"}, {"ip": "10.1.1.2"}]}))
    assert from_nodes["query"] == {"type": "or", "filters": [eq("ip", "10.1.1.1"), eq("ip", "10.1.1.2")]}
    assert web["id"]


def test_enforcement_and_versions(sw):
    _root, web, db, workspace = setup(sw)
    wid = workspace["id"]
    policy = sw.policy(workspace, web["id"], db["id"], l4_params=[{"proto": 6, "port": [5432, 5432]}])
    enforced = sw.ok(sw.post("/applications/%s/enable_enforce" % wid, {"version": "p1"}))
    assert set(enforced) == {"epoch"} and len(enforced["epoch"]) == 24
    state = sw.ok(sw.get("/applications/" + wid))
    assert state["enforcement_enabled"] is True and state["enforced_version"] == 1
    # p1 is a read-only copy with new policy ids
    published = sw.ok(sw.get("/applications/%s/policies" % wid, params={"version": "p1"}))["default_policies"]
    assert len(published) == 1 and published[0]["id"] != policy["id"] and published[0]["version"] == "p1"
    assert published[0]["l4_params"][0]["port"] == [5432, 5432]
    assert "published version p1" in error_of(sw.put("/policies/" + published[0]["id"], {"priority": 1}), 422)
    assert "published version p1" in error_of(sw.delete("/policies/" + published[0]["id"]), 422)
    # enabling again without a version and without changes keeps p1 (a new epoch)
    again = sw.ok(sw.post("/applications/%s/enable_enforce" % wid, {}))
    assert again["epoch"] != enforced["epoch"]
    assert sw.ok(sw.get("/applications/" + wid))["enforced_version"] == 1
    # a change to the working version, then enforcing publishes p2
    sw.ok(sw.put("/policies/" + policy["id"], {"policy_action": "DENY"}))
    sw.ok(sw.post("/applications/%s/enable_enforce" % wid))
    assert sw.ok(sw.get("/applications/" + wid))["enforced_version"] == 2
    versions = sw.ok(sw.get("/applications/%s/versions" % wid))
    assert [v["version"] for v in versions] == ["v0", "p2", "p1"]
    assert set(versions[1]) == {"version", "created_at", "name", "description", "last_enforcement_event_at"}
    assert versions[1]["last_enforcement_event_at"] is not None
    # back to p1 (a bare number means pN here), p9 does not exist
    sw.ok(sw.post("/applications/%s/enable_enforce" % wid, {"version": "1"}))
    assert sw.ok(sw.get("/applications/" + wid))["enforced_version"] == 1
    assert "p9 does not exist" in error_of(sw.post("/applications/%s/enable_enforce" % wid, {"version": "p9"}), 422)
    details = sw.ok(sw.get("/applications/%s/versions/p2" % wid))
    assert details["version"] == "p2" and details["default_policies"][0]["action"] == "DENY"
    assert details["catch_all_action"] == "DENY" and details["inventory_filters"][0]["id"] in (web["id"], db["id"])
    error_of(sw.get("/applications/%s/versions/p7" % wid), 404)
    assert "is enforced" in error_of(sw.delete("/applications/%s/versions/p1" % wid), 422)
    assert sw.ok(sw.delete("/applications/%s/versions/p2" % wid)) == {"success": True}
    assert [v["version"] for v in sw.ok(sw.get("/applications/%s/versions" % wid))] == ["v0", "p1"]
    # a scope used by the enforced version cannot be deleted; nor can an enforcing workspace
    assert sw.ok(sw.delete("/policies/" + policy["id"])) == {"success": True}
    assert "ClusterEdge" in str(sw.delete("/filters/inventories/" + db["id"]).json()["details"])
    assert "Disable enforcement" in error_of(sw.delete("/applications/" + wid), 422)
    assert sw.ok(sw.post("/applications/%s/disable_enforce" % wid)) == {"success": True}
    state = sw.ok(sw.get("/applications/" + wid))
    assert state["enforcement_enabled"] is False and state["enforced_version"] == 0
    assert sw.ok(sw.delete("/filters/inventories/" + db["id"])) == {"success": True}


def test_details_and_create_with_policies(sw):
    root, web, db, _workspace = setup(sw)
    body = {
        "app_scope_id": root["id"], "name": "imported", "primary": False, "catch_all_action": "ALLOW",
        "clusters": [{"id": "c1", "name": "frontends", "nodes": [{"ip": "10.1.1.1", "name": "fe1"}], "consistent_uuid": "cu-1"}],
        "inventory_filters": [{"id": db["id"], "name": "db", "query": eq("host_name", "lab-db-1")},
                              {"id": "f-new", "name": "cache", "query": eq("host_name", "cache")}],
        "absolute_policies": [{"consumer_filter_id": "c1", "provider_filter_id": db["id"], "action": "ALLOW",
                               "l4_params": [{"proto": 6, "port": [5432, 5432], "approved": True}]}],
        "default_policies": [{"consumer_filter_id": "c1", "provider_filter_id": "f-new", "action": "DENY", "priority": 1}],
    }
    created = sw.ok(sw.post("/applications", body))
    details = sw.ok(sw.get("/applications/%s/details" % created["id"]))
    assert details["catch_all_action"] == "ALLOW" and details["version"] == "v0"
    cluster = details["clusters"][0]
    assert cluster["name"] == "frontends" and cluster["consistent_uuid"] == "cu-1" and cluster["query"] == eq("ip", "10.1.1.1")
    absolute = details["absolute_policies"][0]
    assert absolute["consumer_filter_id"] == cluster["id"] and absolute["provider_filter_id"] == db["id"]
    assert absolute["l4_params"][0]["approved"] is True
    cache = [f for f in sw.ok(sw.get("/filters/inventories")) if f["name"] == "cache"][0]
    assert details["default_policies"][0]["provider_filter_id"] == cache["id"]
    assert {f["id"] for f in details["inventory_filters"]} == {db["id"], cache["id"]}
    # a primary workspace of the same scope receives new policies as a new working version
    primary = sw.ok(sw.get("/applications", params={"app_scope_id": web["id"]}))[0]
    again = sw.ok(sw.post("/applications", {"app_scope_id": web["id"], "name": "ignored",
                                            "default_policies": [{"consumer_filter_id": web["id"], "provider_filter_id": db["id"],
                                                                  "action": "ALLOW"}]}))
    assert again["id"] == primary["id"] and again["latest_adm_version"] == 1
    assert sw.ok(sw.get("/applications/%s/policies" % primary["id"]))["default_policies"][0]["version"] == "v1"
    assert "does not exist" in error_of(sw.post("/applications/%s/policies" % primary["id"], {
        "version": "v0", "consumer_filter_id": web["id"], "provider_filter_id": db["id"], "policy_action": "ALLOW"}), 422)


def test_a_refused_request_changes_nothing(sw):
    root = sw.root()
    body = {"app_scope_id": root["id"], "name": "broken", "primary": False,
            "clusters": [{"id": "c1", "name": "fe", "query": subnet("10.1.1.0/24")}],
            "inventory_filters": [{"id": "f1", "name": "new-filter", "query": eq("host_name", "x")}],
            "default_policies": [{"consumer_filter_id": "c1", "provider_filter_id": "f1", "action": "ALLOW"},
                                 {"consumer_filter_id": "c1", "provider_filter_id": "missing", "action": "ALLOW"}]}
    assert "default_policies[1].provider_filter_id missing" in error_of(sw.post("/applications", body), 422)
    assert sw.ok(sw.get("/applications")) == []
    assert sw.ok(sw.get("/filters/inventories")) == []
    # an update that moves siblings, then fails, leaves them where they were
    first = sw.scope("a")
    second = sw.scope("b")
    assert "already exists" in error_of(sw.put("/app_scopes/" + second["id"], {"policy_priority": 1, "short_name": "A"}), 422)
    assert sw.ok(sw.get("/app_scopes/" + first["id"]))["policy_priority"] == 1
    assert sw.ok(sw.get("/app_scopes/" + root["id"]))["child_app_scope_ids"] == [first["id"], second["id"]]
