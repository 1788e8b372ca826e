"""NSX-T lab, Manager API: NSGroups (CRUD, validation, members actions, delete protection,
effective members from the inventory, pagination)."""

from __future__ import annotations

import pytest
from nsxt_helpers import MP, complex_expr, error_of, nsgroup_member, ref, tag_expr


def pod_group(nsx, namespace: str, app: str | None = None) -> dict:
    expressions = [tag_expr("ncp/project", namespace)]
    if app:
        expressions.append(tag_expr("app", app))
    criteria = [complex_expr(*expressions)] if app else expressions
    return nsx.nsgroup({"display_name": "%s-%s" % (namespace, app or "all"), "membership_criteria": criteria})


def test_nsgroup_crud_and_revision(nsx):
    created = nsx.nsgroup({"display_name": "web", "description": "web tier", "tags": [{"scope": "owner", "tag": "team-a"}],
                           "membership_criteria": [tag_expr("app", "web")]})
    gid = created["id"]
    assert created["resource_type"] == "NSGroup" and created["_revision"] == 0 and created["member_count"] == 0
    assert created["membership_criteria"][0]["tag_op"] == "EQUALS" and created["membership_criteria"][0]["scope_op"] == "EQUALS"
    assert created["_create_user"] == "admin" and "error_code" not in created
    assert nsx.ok(nsx.get(MP + "/ns-groups/" + gid)) == created
    unnamed = nsx.nsgroup({})
    assert unnamed["display_name"] == unnamed["id"]

    update = dict(created, description="changed")
    update.pop("_revision")
    missing = error_of(nsx.put(MP + "/ns-groups/" + gid, update), 412)
    assert missing["httpStatus"] == "PRECONDITION_FAILED" and missing["error_code"] == 206
    stale = error_of(nsx.put(MP + "/ns-groups/" + gid, dict(update, _revision=5)), 412)
    assert stale["error_code"] == 206
    updated = nsx.ok(nsx.put(MP + "/ns-groups/" + gid, dict(update, _revision=0)))
    assert updated["description"] == "changed" and updated["_revision"] == 1
    assert updated["_create_time"] == created["_create_time"]
    # the old revision is now stale
    error_of(nsx.put(MP + "/ns-groups/" + gid, dict(update, _revision=0)), 412)

    assert nsx.delete(MP + "/ns-groups/" + gid).status_code == 200
    error_of(nsx.get(MP + "/ns-groups/" + gid), 404)
    error_of(nsx.delete(MP + "/ns-groups/" + gid), 404)
    error_of(nsx.put(MP + "/ns-groups/" + gid, dict(update, _revision=1)), 404)


@pytest.mark.parametrize("body, fragment", [
    ({"membership_criteria": [tag_expr("a", "b", target_type="Pod")]}, "target_type"),
    ({"membership_criteria": [tag_expr("a", "b", tag_op="CONTAINS")]}, "supports only the EQUALS"),
    ({"membership_criteria": [tag_expr("a", "b", target_type="LogicalSwitch", tag_op="STARTSWITH")]}, "supports only the EQUALS"),
    ({"membership_criteria": [tag_expr("a", "b", scope_op="CONTAINS")]}, "scope_op"),
    ({"membership_criteria": [{"resource_type": "NSGroupTagExpression", "scope": "a"}]}, "required property membership_criteria[0].target_type"),
    ({"membership_criteria": [{"target_type": "LogicalPort", "scope": "a"}]}, "resource_type"),
    ({"membership_criteria": [complex_expr(tag_expr("a", "b"))]}, "at least 2 items"),
    ({"membership_criteria": [complex_expr(*[tag_expr("a", str(i)) for i in range(6)])]}, "at most 5 items"),
    ({"membership_criteria": [complex_expr(tag_expr("a", "b"), complex_expr(tag_expr("a", "b"), tag_expr("c", "d")))]}, "cannot contain another"),
    ({"membership_criteria": [tag_expr("a", str(i)) for i in range(6)]}, "membership_criteria must have at most 5 items"),
    ({"members": [dict(nsgroup_member("x"), target_type="VirtualMachine")]}, "VirtualMachine cannot be added as a static member"),
    ({"members": [tag_expr("a", "b")]}, "NSGroupSimpleExpression"),
    ({"members": [dict(nsgroup_member("x"), op="LIKE")]}, "op"),
    ({"members": [nsgroup_member("x%d" % i) for i in range(501)]}, "members must have at most 500 items"),
    ({"membership_criteria": [tag_expr("a" * 129, "b")]}, "at most 128 characters"),
    ({"tags": [{"scope": "s", "tag": str(i)} for i in range(31)]}, "tags must have at most 30 items"),
    ({"display_name": 5}, "display_name must be a string"),
])
def test_nsgroup_validation(nsx, body, fragment):
    error = error_of(nsx.post(MP + "/ns-groups", body), 400)
    assert error["httpStatus"] == "BAD_REQUEST"
    assert error["error_message"].startswith("Field level validation errors: {")
    assert fragment in error["error_message"], error["error_message"]
    assert nsx.ok(nsx.get(MP + "/ns-groups"))["result_count"] == 0


def test_vm_tag_operators_and_static_member_references(nsx):
    group = nsx.nsgroup({"membership_criteria": [tag_expr("env", "pro", target_type="VirtualMachine", tag_op="STARTSWITH")]})
    assert group["membership_criteria"][0]["tag_op"] == "STARTSWITH"
    assert "does not exist" in error_of(nsx.post(MP + "/ns-groups", {"members": [nsgroup_member("nope")]}), 400)["error_message"]
    parent = nsx.nsgroup({"members": [nsgroup_member(group["id"])]})
    assert parent["member_count"] == 1
    populated = nsx.ok(nsx.get(MP + "/ns-groups/" + parent["id"], params={"populate_references": "true"}))
    assert populated["members"][0]["target_resource"]["target_display_name"] == group["display_name"]
    # a group cannot contain itself, directly or through another group
    self_ref = dict(group, members=[nsgroup_member(group["id"])])
    assert "itself" in error_of(nsx.put(MP + "/ns-groups/" + group["id"], self_ref), 400)["error_message"]
    loop = dict(group, members=[nsgroup_member(parent["id"])])
    assert "circular" in error_of(nsx.put(MP + "/ns-groups/" + group["id"], loop), 400)["error_message"]


def test_add_and_remove_members(nsx):
    a = nsx.nsgroup({"display_name": "a"})
    b = nsx.nsgroup({"display_name": "b"})
    target = nsx.nsgroup({"display_name": "target"})
    path = MP + "/ns-groups/" + target["id"]
    added = nsx.ok(nsx.post(path, {"members": [nsgroup_member(a["id"]), nsgroup_member(b["id"])]}, params={"action": "ADD_MEMBERS"}))
    assert [m["value"] for m in added["members"]] == [a["id"], b["id"]] and added["_revision"] == 1
    again = nsx.ok(nsx.post(path, {"members": [nsgroup_member(a["id"])]}, params={"action": "ADD_MEMBERS"}))
    assert len(again["members"]) == 2 and again["_revision"] == 1  # nothing new: no change
    removed = nsx.ok(nsx.post(path, {"members": [nsgroup_member(a["id"])]}, params={"action": "REMOVE_MEMBERS"}))
    assert [m["value"] for m in removed["members"]] == [b["id"]] and removed["_revision"] == 2
    error_of(nsx.post(path, {"members": []}), 400)  # action is required
    error_of(nsx.post(path, {"members": []}, params={"action": "CLEAR"}), 400)
    error_of(nsx.post(path, {}, params={"action": "ADD_MEMBERS"}), 400)
    vm_member = dict(nsgroup_member("vm"), target_type="VirtualMachine")
    error_of(nsx.post(path, {"members": [vm_member]}, params={"action": "ADD_MEMBERS"}), 400)


def test_delete_refused_while_referenced(nsx):
    inner = nsx.nsgroup({"display_name": "inner"})
    outer = nsx.nsgroup({"display_name": "outer", "members": [nsgroup_member(inner["id"])]})
    error = error_of(nsx.delete(MP + "/ns-groups/" + inner["id"]), 400)
    assert outer["id"] in error["error_message"] and "force=true" in error["error_message"]
    used = nsx.nsgroup({"display_name": "used-by-rule"})
    section = nsx.section(rules=[{"action": "ALLOW", "destinations": [ref(used["id"])]}])
    error = error_of(nsx.delete(MP + "/ns-groups/" + used["id"]), 400)
    assert "firewall rule" in error["error_message"]
    # force deletes; the rule keeps a reference marked invalid
    assert nsx.delete(MP + "/ns-groups/" + used["id"], params={"force": "true"}).status_code == 200
    rule = nsx.ok(nsx.get(MP + "/firewall/sections/%s/rules" % section["id"]))["results"][0]
    assert rule["destinations"][0]["is_valid"] is False
    assert nsx.delete(MP + "/ns-groups/" + inner["id"], params={"force": "true"}).status_code == 200
    assert nsx.delete(MP + "/ns-groups/" + outer["id"]).status_code == 200


def test_effective_members_of_the_default_inventory(nsx):
    x1 = pod_group(nsx, "x1")
    z1 = pod_group(nsx, "z1")
    z1_c = pod_group(nsx, "z1", "service-c")
    nobody = pod_group(nsx, "x1", "service-c")

    def ips(group):
        return nsx.ok(nsx.get(MP + "/ns-groups/%s/effective-ip-address-members" % group["id"]))["results"]

    # Two replicas per service, as the workload-isolation guide deploys them.
    assert ips(x1) == ["10.244.1.10", "10.244.1.11"]
    assert ips(z1) == ["10.244.3.10", "10.244.3.11", "10.244.3.12", "10.244.3.13"]
    assert ips(z1_c) == ["10.244.3.10", "10.244.3.12"]
    assert ips(nobody) == []
    ports = nsx.ok(nsx.get(MP + "/ns-groups/%s/effective-logical-port-members" % z1["id"]))
    assert ports["result_count"] == 4
    assert {p["target_display_name"] for p in ports["results"]} == {
        "z1/service-c-5b7f9d6c8-m2j4t", "z1/service-c-5b7f9d6c8-r7c3w", "z1/service-d-8f6c4d9b7-t9n6x", "z1/service-d-8f6c4d9b7-z3p8k"}
    assert all(p["target_type"] == "LogicalPort" and p["is_valid"] for p in ports["results"])
    # a group of groups, and a static logical port member
    both = nsx.nsgroup({"members": [nsgroup_member(x1["id"]), nsgroup_member(z1_c["id"])]})
    assert ips(both) == ["10.244.1.10", "10.244.1.11", "10.244.3.10", "10.244.3.12"]
    port_id = ports["results"][0]["target_id"]
    static = nsx.nsgroup({"members": [{"resource_type": "NSGroupSimpleExpression", "target_type": "LogicalPort",
                                       "target_property": "id", "op": "EQUALS", "value": port_id}]})
    assert len(ips(static)) == 1
    # a cluster-wide criterion
    cluster = nsx.nsgroup({"membership_criteria": [tag_expr("ncp/cluster", "lab-cluster")]})
    assert len(ips(cluster)) == 8
    assert nsx.ok(nsx.get(MP + "/ns-groups/%s/effective-virtual-machine-members" % cluster["id"]))["results"] == []
    error_of(nsx.get(MP + "/ns-groups/missing/effective-ip-address-members"), 404)


def test_effective_members_follow_the_inventory(nsx):
    nsx.set_inventory({
        "pods": [{"name": "api", "namespace": "prod", "labels": {"app": "api", "tier": "back"}, "ip": "10.244.7.1"},
                 {"name": "web", "namespace": "prod", "labels": {"app": "web"}, "ip": "10.244.7.2"}],
        "vms": [{"name": "db-1", "external_id": "vm-db-1", "tags": [{"scope": "env", "tag": "production"}], "ips": ["192.168.10.5"]},
                {"name": "db-2", "external_id": "vm-db-2", "tags": [{"scope": "env", "tag": "staging"}], "ips": ["192.168.10.6"]}],
    })
    back = nsx.nsgroup({"membership_criteria": [complex_expr(tag_expr("ncp/project", "prod"), tag_expr("tier", "back"))]})
    assert nsx.ok(nsx.get(MP + "/ns-groups/%s/effective-ip-address-members" % back["id"]))["results"] == ["10.244.7.1"]
    prod_vms = nsx.nsgroup({"membership_criteria": [tag_expr("env", "prod", target_type="VirtualMachine", tag_op="STARTSWITH")]})
    vms = nsx.ok(nsx.get(MP + "/ns-groups/%s/effective-virtual-machine-members" % prod_vms["id"]))["results"]
    assert [(v["display_name"], v["external_id"], v["resource_type"]) for v in vms] == [("db-1", "vm-db-1", "VirtualMachine")]
    assert nsx.ok(nsx.get(MP + "/ns-groups/%s/effective-ip-address-members" % prod_vms["id"]))["results"] == ["192.168.10.5"]
    by_name = nsx.nsgroup({"membership_criteria": [{"resource_type": "NSGroupSimpleExpression", "target_type": "VirtualMachine",
                                                    "target_property": "name", "op": "STARTSWITH", "value": "db-"}]})
    assert nsx.ok(nsx.get(MP + "/ns-groups/%s/effective-virtual-machine-members" % by_name["id"]))["result_count"] == 2
    unassociated = nsx.ok(nsx.get(MP + "/ns-groups/unassociated-virtual-machines"))
    assert unassociated["results"] == []


def test_list_pages_are_capped_at_50(nsx):
    created = [nsx.nsgroup({"display_name": "g%03d" % i})["id"] for i in range(120)]
    first = nsx.ok(nsx.get(MP + "/ns-groups"))
    assert len(first["results"]) == 50 and first["result_count"] == 120 and first["cursor"]
    results, pages = nsx.all_pages(MP + "/ns-groups")
    assert pages == 3 and [g["id"] for g in results] == created
    small, pages = nsx.all_pages(MP + "/ns-groups", page_size=40)
    assert pages == 3 and len(small) == 120
    last = nsx.ok(nsx.get(MP + "/ns-groups", params={"cursor": first["cursor"], "page_size": 1000}))
    assert len(last["results"]) == 50 and last["cursor"]
    ordered = nsx.ok(nsx.get(MP + "/ns-groups", params={"sort_by": "display_name", "sort_ascending": "false", "page_size": 3}))
    assert [g["display_name"] for g in ordered["results"]] == ["g119", "g118", "g117"]
    fields = nsx.ok(nsx.get(MP + "/ns-groups", params={"included_fields": "id,display_name", "page_size": 1}))
    assert set(fields["results"][0]) == {"id", "display_name"}
    error_of(nsx.get(MP + "/ns-groups", params={"page_size": 1001}), 400)
    error_of(nsx.get(MP + "/ns-groups", params={"cursor": "garbage"}), 400)
