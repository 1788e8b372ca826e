"""Secure Workload lab: agent config profiles and intents, Kubernetes (external) orchestrators,
sensors and the inventory search ({results, offset} pagination)."""

from __future__ import annotations

import pytest
from sw_helpers import error_of, subnet

PROFILES = "/inventory_config/profiles"
INTENTS = "/inventory_config/intents"


def test_default_profile_and_profile_crud(sw):
    root = sw.root()
    profiles = sw.ok(sw.get(PROFILES))
    assert [p["name"] for p in profiles] == ["Default"]
    default = profiles[0]
    assert default["allow_broadcast"] is True and default["allow_multicast"] is True and default["allow_link_local"] is True
    assert "enforcement_enabled" not in default and isinstance(default["enforcement_disabled"], bool)
    created = sw.ok(sw.post(PROFILES, {"name": "k8s", "root_app_scope_id": root["id"], "preserve_existing_rules": True,
                                       "enforcement_disabled": False, "cpu_quota_pct": 3, "max_rss_limit_mb": 1024}))
    assert created["preserve_existing_rules"] is True and created["enforcement_disabled"] is False
    assert (created["cpu_quota_pct"], created["cpu_quota_us"], created["cpu_quota_mode"]) == (3, 30000, default["cpu_quota_mode"])
    assert (created["max_rss_limit_mb"], created["max_rss_limit"]) == (1024, 1024 * 1024 * 1024)
    assert created["allow_multicast"] == default["allow_multicast"]  # the rest comes from Default
    assert sw.ok(sw.get(PROFILES + "/" + created["id"])) == created
    # PUT is partial
    updated = sw.ok(sw.put(PROFILES + "/" + created["id"], {"cpu_quota_us": 50000, "allow_broadcast": False}))
    assert (updated["cpu_quota_pct"], updated["cpu_quota_us"]) == (5, 50000)
    assert updated["allow_broadcast"] is False and updated["preserve_existing_rules"] is True and updated["max_rss_limit_mb"] == 1024
    # a new profile starts from the (changed) Default profile of its root scope
    sw.ok(sw.put(PROFILES + "/" + default["id"], {"enable_forensics": True}))
    assert sw.ok(sw.post(PROFILES, {"name": "other", "root_app_scope_id": root["id"]}))["enable_forensics"] is True
    assert [p["name"] for p in sw.ok(sw.get(PROFILES, params={"root_app_scope_id": root["id"]}))] == ["Default", "k8s", "other"]
    assert "cannot be deleted" in error_of(sw.delete(PROFILES + "/" + default["id"]), 422)
    assert sw.ok(sw.delete(PROFILES + "/" + created["id"])) == {"success": True}
    error_of(sw.get(PROFILES + "/" + created["id"]), 404)


@pytest.mark.parametrize("body, message", [
    ({"name": None}, "name is required"),
    ({"root_app_scope_id": None}, "root_app_scope_id is required"),
    ({"cpu_quota_pct": 0}, "cpu_quota_pct must be at least 1"),
    ({"cpu_quota_pct": 101}, "cpu_quota_pct must be at most 100"),
    ({"cpu_quota_us": 5000}, "cpu_quota_us must be at least 10000"),
    ({"cpu_quota_pct": 3, "cpu_quota_us": 50000}, "disagree"),
    ({"cpu_quota_mode": 3}, "cpu_quota_mode must be at most 2"),
    ({"max_rss_limit_mb": 100}, "max_rss_limit_mb must be at least 200"),
    ({"enforcement_max_rss_limit": 1024}, "enforcement_max_rss_limit must be at least 134217728"),
    ({"forensics_mem_quota_mb": 4096}, "forensics_mem_quota_mb must be at most 2048"),
    ({"preserve_existing_rules": "yes"}, "preserve_existing_rules must be a boolean"),
    ({"name": "Default"}, "already exists"),
])
def test_profile_validation(sw, body, message):
    full = dict({"name": "p", "root_app_scope_id": sw.root()["id"]}, **body)
    full = {k: v for k, v in full.items() if v is not None}
    assert message in error_of(sw.post(PROFILES, full), 422)


def test_profile_needs_a_root_scope(sw):
    child = sw.scope("child")
    assert "not a root scope" in error_of(sw.post(PROFILES, {"name": "p", "root_app_scope_id": child["id"]}), 422)


def test_intents(sw):
    root = sw.root()
    web = sw.scope("web")
    flt = sw.inventory_filter("nodes", web["id"])
    profile = sw.ok(sw.post(PROFILES, {"name": "k8s", "root_app_scope_id": root["id"], "preserve_existing_rules": True}))
    on_filter = sw.ok(sw.post(INTENTS, {"inventory_config_profile_id": profile["id"], "inventory_filter_id": flt["id"]}))
    assert set(on_filter) == {"id", "inventory_config_profile_id", "inventory_filter_id", "name", "created_at", "updated_at"}
    assert on_filter["name"] is None
    # a scope id is a valid inventory_filter_id
    on_scope = sw.ok(sw.post(INTENTS, {"inventory_config_profile_id": profile["id"], "inventory_filter_id": root["id"]}))
    assert [i["id"] for i in sw.ok(sw.get(INTENTS))] == [on_filter["id"], on_scope["id"]]
    assert sw.ok(sw.get(INTENTS + "/" + on_scope["id"])) == on_scope
    assert "already exists" in error_of(sw.post(INTENTS, {"inventory_config_profile_id": profile["id"], "inventory_filter_id": root["id"]}), 422)
    assert "not an existing agent config profile" in error_of(
        sw.post(INTENTS, {"inventory_config_profile_id": flt["id"], "inventory_filter_id": root["id"]}), 422)
    assert "not an existing inventory filter or scope" in error_of(
        sw.post(INTENTS, {"inventory_config_profile_id": profile["id"], "inventory_filter_id": profile["id"]}), 422)
    assert "inventory_filter_id is required" in error_of(sw.post(INTENTS, {"inventory_config_profile_id": profile["id"]}), 422)
    response = sw.put(INTENTS + "/" + on_scope["id"], {"inventory_filter_id": flt["id"]})
    error_of(response, 405)  # intents are created and deleted, never updated
    in_use = sw.delete(PROFILES + "/" + profile["id"])
    assert error_of(in_use, 422) == "cannot delete agent config profile because it is in use"
    assert {d["id"] for d in in_use.json()["details"]} == {on_filter["id"], on_scope["id"]}
    assert error_of(sw.delete("/filters/inventories/" + flt["id"]), 422).endswith("in use")
    for intent in (on_filter, on_scope):
        assert sw.ok(sw.delete(INTENTS + "/" + intent["id"])) == {"success": True}
    assert sw.ok(sw.delete(PROFILES + "/" + profile["id"])) == {"success": True}


def k8s_body(**extra) -> dict:
    body = {"name": "lab-cluster", "type": "kubernetes", "description": "the lab cluster",
            "hosts_list": [{"host_name": "10.10.0.11", "port_number": 6443}], "auth_token": "secret-token",
            "ca_certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "insecure": False}
    body.update(extra)
    return body


def test_kubernetes_orchestrator_crud(sw):
    path = "/orchestrator/Default"
    created = sw.ok(sw.post(path, k8s_body()))
    assert created["name"] == "lab-cluster" and created["type"] == "kubernetes"
    assert created["hosts_list"] == [{"host_name": "10.10.0.11", "port_number": 6443}]
    assert created["delta_interval"] == 60 and created["full_snapshot_interval"] == 3600 and created["insecure"] is False
    assert "auth_token" not in created and "password" not in created and "secret-token" not in str(created)
    assert sw.ok(sw.get(path)) == [created]
    assert sw.ok(sw.get(path + "/" + created["id"])) == created
    updated = sw.ok(sw.put(path + "/" + created["id"], {"delta_interval": 30, "hosts_list": [{"host_name": "api.lab", "port_number": 443}]}))
    assert updated["delta_interval"] == 30 and updated["hosts_list"] == [{"host_name": "api.lab", "port_number": 443}]
    assert updated["description"] == "the lab cluster"  # partial
    assert "cannot be changed" in error_of(sw.put(path + "/" + created["id"], {"type": "aws"}), 422)
    assert "already exists" in error_of(sw.post(path, k8s_body()), 422)
    error_of(sw.get("/orchestrator/NoSuchTenant"), 404)
    error_of(sw.get("/orchestrator/NoSuchTenant/" + created["id"]), 404)
    assert sw.ok(sw.delete(path + "/" + created["id"])) == {"success": True}
    assert sw.ok(sw.get(path)) == []


@pytest.mark.parametrize("extra, message", [
    ({"type": "openstack"}, "type must be one of"),
    ({"hosts_list": []}, "hosts_list needs at least one"),
    ({"hosts_list": [{"host_name": "a", "port_number": 70000}]}, "port_number must be at most 65535"),
    ({"hosts_list": [{"port_number": 443}]}, "host_name is required"),
    ({"name": None}, "name is required"),
    ({"insecure": "no"}, "insecure must be a boolean"),
    ({"delta_interval": 0}, "delta_interval must be at least 1"),
])
def test_orchestrator_validation(sw, extra, message):
    assert message in error_of(sw.post("/orchestrator/Default", k8s_body(**extra)), 422)


def test_sensors_pagination(sw):
    first = sw.ok(sw.get("/sensors", params={"limit": 2}))
    assert set(first) == {"results", "offset"} and len(first["results"]) == 2
    seen = [s["uuid"] for s in first["results"]]
    offset = first["offset"]
    pages = 1
    while offset:
        page = sw.ok(sw.get("/sensors", params={"limit": 2, "offset": offset}))
        seen += [s["uuid"] for s in page["results"]]
        offset = page.get("offset")
        pages += 1
    assert len(seen) == len(set(seen)) == 5 and pages == 3
    everything = sw.ok(sw.get("/sensors"))
    assert "offset" not in everything and [s["uuid"] for s in everything["results"]] == seen
    sensor = everything["results"][0]
    assert sensor["host_name"] and sensor["interfaces"][0]["ip"]
    assert sw.ok(sw.get("/sensors/" + sensor["uuid"])) == sensor
    assert "not an offset" in error_of(sw.get("/sensors", params={"offset": "garbage"}), 400)
    assert sw.ok(sw.delete("/sensors/" + sensor["uuid"])) == {"success": True}
    assert len(sw.ok(sw.get("/sensors"))["results"]) == 4


def test_inventory_search(sw):
    pods = {"type": "eq", "field": "user_orchestrator_system/workload_type", "value": "pod"}
    result = sw.ok(sw.post("/inventory/search", {"filter": pods, "limit": 5}))
    assert len(result["results"]) == 5 and result["offset"]
    rest = sw.ok(sw.post("/inventory/search", {"filter": pods, "limit": 10, "offset": result["offset"]}))
    assert "offset" not in rest
    names = [i["user_orchestrator_system/pod_name"] for i in result["results"] + rest["results"]]
    assert names == ["service-a", "service-b", "service-c", "service-d", "db-0", "db-1", "web-0", "web-1", "reports-0",
                     "web-staging-0", "coredns-0", "coredns-1"]
    z1 = sw.ok(sw.post("/inventory/search", {"filter": {"type": "and", "filters": [
        pods, {"type": "eq", "field": "user_orchestrator_system/namespace", "value": "z1"}]}, "dimensions": ["ip"]}))
    assert z1 == {"results": [{"ip": "10.244.3.10"}, {"ip": "10.244.3.11"}]}
    sw.scope("pods", query=subnet("10.244.0.0/16"))
    scoped = sw.ok(sw.post("/inventory/search", {"scopeName": "Default:pods", "dimensions": ["ip"]}))
    assert len(scoped["results"]) == 12
    assert "invalid query" in error_of(sw.post("/inventory/search", {"filter": {"type": "near", "field": "ip", "value": 1}}), 422)
    # the inventory is replaceable through an admin route
    assert sw.admin("PUT", "/_lab/secure_workload/inventory", [{"ip": "192.0.2.1", "host_name": "only"}]).status_code == 200
    assert sw.ok(sw.post("/inventory/search", {}))["results"] == [{"ip": "192.0.2.1", "host_name": "only"}]
    assert sw.admin("PUT", "/_lab/secure_workload/inventory", {"ip": "x"}).status_code == 400


def test_inventory_holds_the_kubernetes_guide_workloads(sw):
    """Seed 003 (the Secure Workload Kubernetes guide): production pods with either label form, a staging
    pod, the cluster DNS, the Services as the connector imports them, the nodes and the API server."""
    def search(query):
        return sw.ok(sw.post("/inventory/search", {"filter": query, "limit": 100}))["results"]

    def eq(field, value):
        return {"type": "eq", "field": field, "value": value}

    either = {"type": "or", "filters": [eq("user_environment", "production"), eq("user_orchestrator_environment", "production")]}
    prod_pods = search({"type": "and", "filters": [either, eq("user_orchestrator_system/workload_type", "pod")]})
    assert sorted(p["user_orchestrator_system/pod_name"] for p in prod_pods) == ["db-0", "db-1", "reports-0", "web-0", "web-1"]
    assert [p["user_orchestrator_system/pod_name"] for p in search(eq("user_environment", "production"))
            if "user_orchestrator_system/pod_name" in p] == ["reports-0"]
    assert all(p["user_orchestrator_system/namespace"] == "prod" for p in prod_pods)
    staging = search(eq("user_orchestrator_environment", "staging"))
    assert [(p["user_orchestrator_system/pod_name"], p["ip"]) for p in staging] == [("web-staging-0", "10.244.2.30")]
    dns = search(eq("user_orchestrator_k8s-app", "kube-dns"))
    assert sorted((d["user_orchestrator_system/workload_type"], d["ip"]) for d in dns) == [
        ("pod", "10.244.0.10"), ("pod", "10.244.0.11"), ("service", "10.96.0.10")]
    services = search(eq("user_orchestrator_system/workload_type", "service"))
    assert sorted((s["user_orchestrator_system/namespace"], s["user_orchestrator_system/service_name"], s["ip"]) for s in services) == [
        ("default", "kubernetes", "10.96.0.1"), ("kube-system", "kube-dns", "10.96.0.10"), ("prod", "db", "10.96.0.27")]
    nodes = search({"type": "and", "filters": [eq("user_orchestrator_system/workload_type", "node"),
                                               eq("user_orchestrator_system/cluster_name", "lab-cluster")]})
    assert [(n["host_name"], n["ip"]) for n in nodes] == [("lab-node-1", "10.10.0.11"), ("lab-node-2", "10.10.0.12"), ("lab-node-3", "10.10.0.13")]
    assert [a["host_name"] for a in search(eq("ip", "10.10.0.2"))] == ["lab-k8s-apiserver"]
    # the guide's old hard-coded node range selects none of them
    assert search({"type": "subnet", "field": "ip", "value": "10.128.0.0/20"}) == []
