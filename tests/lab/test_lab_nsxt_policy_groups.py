"""NSX-T lab, Policy API: domains and groups (create-or-update, revisions, decoration, validation,
members, delete protection, pagination)."""

from __future__ import annotations

import pytest
from nsxt_helpers import DOMAIN, POLICY, condition, conjunction, error_of, group_path, policy_rule

GROUPS = DOMAIN + "/groups"
READ_ONLY_FROM_GET = ("id", "_revision", "resource_type", "path", "relative_path", "parent_path", "remote_path", "unique_id",
                      "marked_for_delete", "overridden", "_system_owned", "_protection", "_create_time", "_create_user",
                      "_last_modified_time", "_last_modified_user", "realization_id", "reference")


def make_group(nsx, gid: str, *expression, **extra) -> None:
    response = nsx.patch(GROUPS + "/" + gid, dict({"display_name": gid, "expression": list(expression)}, **extra))
    assert response.status_code == 200, response.text


def members(nsx, gid: str, kind: str = "ip-addresses") -> list:
    return nsx.ok(nsx.get(GROUPS + "/%s/members/%s" % (gid, kind)))["results"]


def test_default_domain(nsx):
    domains = nsx.ok(nsx.get(POLICY + "/domains"))
    assert [d["id"] for d in domains["results"]] == ["default"]
    domain = nsx.ok(nsx.get(DOMAIN))
    assert domain["path"] == "/infra/domains/default" and domain["resource_type"] == "Domain"
    error_of(nsx.delete(DOMAIN), 400)
    error_of(nsx.get(POLICY + "/domains/nope/groups"), 404)
    assert nsx.patch(POLICY + "/domains/extra", {"display_name": "extra"}).status_code == 200
    assert nsx.patch(POLICY + "/domains/extra/groups/g", {"expression": []}).status_code == 200
    assert nsx.delete(POLICY + "/domains/extra").status_code == 200
    error_of(nsx.get(POLICY + "/domains/extra/groups/g"), 404)


def test_patch_creates_and_get_decorates(nsx):
    response = nsx.patch(GROUPS + "/web", {"display_name": "web", "tags": [{"scope": "owner", "tag": "team-a"}],
                                           "expression": [condition("app|web", member_type="VirtualMachine")]})
    assert response.status_code == 200 and response.content == b""
    group = nsx.ok(nsx.get(GROUPS + "/web"))
    assert group["id"] == "web" and group["_revision"] == 0 and group["resource_type"] == "Group"
    assert group["path"] == "/infra/domains/default/groups/web" and group["parent_path"] == "/infra/domains/default"
    assert group["relative_path"] == "web" and group["marked_for_delete"] is False and group["unique_id"]
    expression = group["expression"][0]
    assert expression["scope_operator"] == "EQUALS"  # echoed although never sent
    assert expression["id"] and expression["path"] == "/infra/domains/default/groups/web/condition-expressions/" + expression["id"]
    assert expression["parent_path"] == group["path"] and expression["_protection"] == "NOT_PROTECTED"
    assert "error_code" not in str(group)
    # PUT returns the object; a nested and a conjunction element get their own paths
    body = {"display_name": "nested", "expression": [
        condition("ncp/project|x1"), conjunction("OR"),
        {"resource_type": "NestedExpression", "expressions": [condition("ncp/project|z1"), conjunction("AND"), condition("app|service-c")]}]}
    created = nsx.ok(nsx.put(GROUPS + "/nested", body))
    assert "/conjunction-expressions/" in created["expression"][1]["path"]
    nested = created["expression"][2]
    assert "/nested-expressions/" in nested["path"]
    assert nested["expressions"][0]["parent_path"] == nested["path"]


def test_patch_without_change_does_not_bump_revision(nsx):
    body = {"display_name": "web", "description": "d", "tags": [{"scope": "a", "tag": "1"}, {"scope": "b", "tag": "2"}],
            "expression": [condition("app|web"), conjunction("AND"), condition("ncp/project|x1")]}
    nsx.ok(nsx.patch(GROUPS + "/web", body))
    first = nsx.ok(nsx.get(GROUPS + "/web"))
    # the same body, the body with every read-only field a GET returned (what VMware's module sends),
    # tags in another order and explicit nulls: nothing changes
    nsx.ok(nsx.patch(GROUPS + "/web", body))
    afn_style = dict(first)
    afn_style["tags"] = list(reversed(first["tags"]))
    afn_style["extended_expression"] = None
    nsx.ok(nsx.patch(GROUPS + "/web", afn_style))
    nsx.ok(nsx.patch(GROUPS + "/web", dict(body, _revision=0)))
    again = nsx.ok(nsx.get(GROUPS + "/web"))
    assert again["_revision"] == 0 and again["_last_modified_time"] == first["_last_modified_time"]
    assert [e["id"] for e in again["expression"]] == [e["id"] for e in first["expression"]]
    # a real change bumps; then the old revision is stale
    nsx.ok(nsx.patch(GROUPS + "/web", dict(body, description="changed", _revision=0)))
    assert nsx.ok(nsx.get(GROUPS + "/web"))["_revision"] == 1
    stale = error_of(nsx.patch(GROUPS + "/web", dict(body, _revision=0)), 412)
    assert stale["httpStatus"] == "PRECONDITION_FAILED" and stale["error_code"] == 206
    # PATCH replaces the object: a field left out goes back to its default
    nsx.ok(nsx.patch(GROUPS + "/web", {"expression": body["expression"]}))
    replaced = nsx.ok(nsx.get(GROUPS + "/web"))
    assert replaced["display_name"] == "web" and "description" not in replaced and "tags" not in replaced
    assert replaced["_revision"] == 2


def test_put_needs_revision_on_update(nsx):
    created = nsx.ok(nsx.put(GROUPS + "/web", {"expression": [condition("app|web")]}))
    assert created["_revision"] == 0 and created["display_name"] == "web"
    update = {k: v for k, v in created.items() if k not in READ_ONLY_FROM_GET}
    error_of(nsx.put(GROUPS + "/web", dict(update, description="x")), 412)
    error_of(nsx.put(GROUPS + "/web", dict(update, description="x", _revision=3)), 412)
    updated = nsx.ok(nsx.put(GROUPS + "/web", dict(update, description="x", _revision=0)))
    assert updated["_revision"] == 1 and updated["description"] == "x"
    same = nsx.ok(nsx.put(GROUPS + "/web", dict(update, description="x", _revision=1)))
    assert same["_revision"] == 1


@pytest.mark.parametrize("expression, fragment", [
    ([condition("a|b"), condition("c|d")], "odd number"),
    ([condition("a|b"), condition("c|d"), condition("e|f")], "odd positions must hold a ConjunctionOperator"),
    ([conjunction(), conjunction(), conjunction()], "must sit between two expressions"),
    ([condition("a|b"), conjunction("XOR"), condition("c|d")], "conjunction_operator"),
    ([x for i in range(6) for x in (condition("a|%d" % i), conjunction("OR"))][:-1], "at most 5 Condition"),
    ([condition("a|b", member_type="Planet")], "member_type"),
    ([condition("a|b", key="Colour")], "key"),
    ([condition("a|b", operator="LIKE")], "operator"),
    ([dict(condition("a|b"), scope_operator="CONTAINS")], "scope_operator"),
    ([condition("")], "at least 1 characters"),
    ([{"resource_type": "Condition", "key": "Tag", "value": "x"}], "member_type is missing"),
    ([{"resource_type": "NestedExpression", "expressions": [condition("a|b"), conjunction("AND"), condition("c|d", member_type="VirtualMachine")]}],
     "same member_type"),
    ([{"resource_type": "NestedExpression", "expressions": [condition("a|b"), conjunction("OR"), condition("c|d")]}], "only the AND"),
    ([{"resource_type": "NestedExpression", "expressions": [{"resource_type": "IPAddressExpression", "ip_addresses": ["1.1.1.1"]}]}],
     "can only hold Condition"),
    ([{"resource_type": "IPAddressExpression", "ip_addresses": ["10.0.0.1", "10.0.0.300"]}], "'10.0.0.300' is not an IP"),
    ([{"resource_type": "IPAddressExpression", "ip_addresses": ["10.0.0.1", "fd00::1"]}], "cannot be mixed"),
    ([{"resource_type": "IPAddressExpression", "ip_addresses": []}], "at least 1 item"),
    ([{"resource_type": "IPAddressExpression", "ip_addresses": ["10.%d.%d.1" % (i // 250, i % 250) for i in range(501)]}], "at most 500"),
    ([{"resource_type": "MACAddressExpression", "mac_addresses": ["01:23:45:67:89"]}], "not a MAC address"),
    ([{"resource_type": "ExternalIDExpression", "member_type": "Pod", "external_ids": ["x"]}], "member_type"),
    ([{"resource_type": "Shape"}], "resource_type"),
])
def test_group_expression_validation(nsx, expression, fragment):
    error = error_of(nsx.patch(GROUPS + "/bad", {"expression": expression}), 400)
    assert error["httpStatus"] == "BAD_REQUEST"
    assert fragment in error["error_message"], error["error_message"]
    error_of(nsx.get(GROUPS + "/bad"), 404)


def test_newer_enums_and_valid_expression_kinds(nsx):
    newer = [condition("app|web", member_type="Pod", operator="IN"), conjunction("OR"),
             dict(condition("ns-.*", member_type="Namespace", key="Name", operator="MATCHES"), scope_operator="NOTEQUALS"), conjunction("OR"),
             condition("k8s", member_type="KubernetesCluster", key="ALL", operator="NOTIN")]
    make_group(nsx, "newer", *newer)
    make_group(nsx, "mixed", {"resource_type": "IPAddressExpression", "ip_addresses": ["10.0.0.1", "10.1.0.0/16", "10.2.0.1-10.2.0.9"]},
               conjunction("OR"), {"resource_type": "MACAddressExpression", "mac_addresses": ["01:23:45:67:89:ab"]},
               conjunction("OR"), {"resource_type": "ExternalIDExpression", "member_type": "VirtualMachine", "external_ids": ["vm-1"]})
    assert nsx.ok(nsx.get(GROUPS + "/mixed"))["expression"][0]["ip_addresses"][2] == "10.2.0.1-10.2.0.9"


def test_path_expressions_must_point_at_existing_objects(nsx):
    make_group(nsx, "x1", condition("ncp/project|x1"))
    error = error_of(nsx.patch(GROUPS + "/parent", {"expression": [{"resource_type": "PathExpression", "paths": [group_path("ghost")]}]}), 400)
    assert error["error_code"] == 500012 and error["error_message"] == "The path=[%s] is invalid" % group_path("ghost")
    error_of(nsx.patch(GROUPS + "/parent", {"expression": [{"resource_type": "PathExpression", "paths": ["/infra/segments/none"]}]}), 400)
    make_group(nsx, "parent", {"resource_type": "PathExpression", "paths": [group_path("x1"), "/infra/segments/lab-cluster-z1"]})
    assert members(nsx, "parent") == ["10.244.1.10", "10.244.1.11", "10.244.3.10", "10.244.3.11", "10.244.3.12", "10.244.3.13"]
    port_path = members(nsx, "x1", "segment-ports")[0]["path"]
    make_group(nsx, "one-port", {"resource_type": "PathExpression", "paths": [port_path]})
    assert members(nsx, "one-port") == ["10.244.1.10"]
    # no loops
    error = error_of(nsx.patch(GROUPS + "/x1", {"expression": [{"resource_type": "PathExpression", "paths": [group_path("parent")]}]}), 400)
    assert "circular" in error["error_message"]


def test_members_from_the_inventory(nsx):
    make_group(nsx, "z1", condition("ncp/project|z1"))
    make_group(nsx, "z1-c", condition("ncp/project|z1"), conjunction("AND"), condition("app|service-c"))
    make_group(nsx, "a-or-b", condition("app|service-a"), conjunction("OR"), condition("app|service-b"))
    make_group(nsx, "case", condition("APP|SERVICE-A"))  # evaluation is case-insensitive
    make_group(nsx, "scope-only", condition("app|"))
    make_group(nsx, "value-only", condition("x1"))
    make_group(nsx, "starts", condition("app|service-", operator="STARTSWITH"))
    make_group(nsx, "not-a", condition("app|service-a", operator="NOTEQUALS"))
    make_group(nsx, "by-name", condition("z1/", key="Name", operator="STARTSWITH"))
    make_group(nsx, "ips", {"resource_type": "IPAddressExpression", "ip_addresses": ["192.0.2.0/24"]})
    # Two replicas per service, as the workload-isolation guide deploys them.
    assert members(nsx, "z1") == ["10.244.3.10", "10.244.3.11", "10.244.3.12", "10.244.3.13"]
    assert members(nsx, "z1-c") == ["10.244.3.10", "10.244.3.12"]
    assert members(nsx, "a-or-b") == ["10.244.1.10", "10.244.1.11", "10.244.2.10", "10.244.2.11"]
    assert members(nsx, "case") == ["10.244.1.10", "10.244.1.11"]
    assert len(members(nsx, "scope-only")) == 8
    assert members(nsx, "value-only") == ["10.244.1.10", "10.244.1.11"]
    assert len(members(nsx, "starts")) == 8
    assert members(nsx, "not-a") == ["10.244.2.10", "10.244.2.11", "10.244.3.10", "10.244.3.11", "10.244.3.12", "10.244.3.13"]
    assert members(nsx, "by-name") == ["10.244.3.10", "10.244.3.11", "10.244.3.12", "10.244.3.13"]
    assert members(nsx, "ips") == ["192.0.2.0/24"]
    ports = members(nsx, "z1", "segment-ports")
    assert sorted(p["display_name"] for p in ports) == [
        "z1/service-c-5b7f9d6c8-m2j4t", "z1/service-c-5b7f9d6c8-r7c3w", "z1/service-d-8f6c4d9b7-t9n6x", "z1/service-d-8f6c4d9b7-z3p8k"]
    assert all(p["path"].startswith("/infra/segments/lab-cluster-z1/ports/") for p in ports)
    assert members(nsx, "z1", "virtual-machines") == []
    error_of(nsx.get(GROUPS + "/missing/members/ip-addresses"), 404)
    # virtual machines
    nsx.set_inventory({"pods": [], "vms": [{"name": "web-1", "external_id": "vm-web-1", "tags": [{"scope": "app", "tag": "web"}], "ips": ["192.168.1.10"]},
                                           {"name": "db-1", "external_id": "vm-db-1", "tags": [{"scope": "app", "tag": "db"}], "ips": ["192.168.1.20"]}]})
    make_group(nsx, "web-vms", condition("app|web", member_type="VirtualMachine"))
    make_group(nsx, "db-by-id", {"resource_type": "ExternalIDExpression", "member_type": "VirtualMachine", "external_ids": ["vm-db-1"]})
    vms = members(nsx, "web-vms", "virtual-machines")
    assert [(v["display_name"], v["id"], v["resource_type"]) for v in vms] == [("web-1", "vm-web-1", "RealizedVirtualMachine")]
    assert members(nsx, "web-vms") == ["192.168.1.10"]
    assert members(nsx, "db-by-id") == ["192.168.1.20"]
    assert members(nsx, "z1") == []


def test_delete_refused_while_used_by_a_rule(nsx):
    make_group(nsx, "web", condition("app|web"))
    make_group(nsx, "parent", {"resource_type": "PathExpression", "paths": [group_path("web")]})
    nsx.ok(nsx.put(DOMAIN + "/security-policies/app", {"category": "Application", "rules": [policy_rule("r1", [group_path("web")])]}))
    error = error_of(nsx.delete(GROUPS + "/web"), 400)
    assert "force=true" in error["error_message"] and group_path("web") in error["error_message"]
    assert nsx.get(GROUPS + "/web").status_code == 200
    nsx.ok(nsx.put(DOMAIN + "/security-policies/app", dict(nsx.ok(nsx.get(DOMAIN + "/security-policies/app")), rules=[])))
    assert "parent" in error_of(nsx.delete(GROUPS + "/web"), 400)["error_message"]  # still in a path expression
    assert nsx.delete(GROUPS + "/web", params={"force": "true"}).status_code == 200
    error_of(nsx.get(GROUPS + "/web"), 404)  # gone at once
    assert nsx.delete(GROUPS + "/web").status_code == 200  # deleting a missing group is not an error


def test_group_list_pagination(nsx):
    for index in range(25):
        make_group(nsx, "g%02d" % index, condition("app|g%02d" % index))
    first = nsx.ok(nsx.get(GROUPS, params={"page_size": 10}))
    assert len(first["results"]) == 10 and first["result_count"] == 25 and first["cursor"]
    results, pages = nsx.all_pages(GROUPS, page_size=10)
    assert pages == 3 and [g["id"] for g in results] == ["g%02d" % i for i in range(25)]
    assert all(g["expression"][0]["path"] for g in results)
    whole = nsx.ok(nsx.get(GROUPS))
    assert len(whole["results"]) == 25 and "cursor" not in whole
