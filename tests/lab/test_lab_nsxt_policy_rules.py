"""NSX-T lab, Policy API: security policies and rules (PUT vs PATCH, defaults, sub-resources,
validation, default policy), the hierarchical PATCH /infra (atomicity, marked_for_delete) and
GET /infra with a filter."""

from __future__ import annotations

import pytest
from nsxt_helpers import DOMAIN, POLICY, condition, error_of, group_path, policy_rule

POLICIES = DOMAIN + "/security-policies"


def make_groups(nsx, *names):
    for name in names:
        assert nsx.patch(DOMAIN + "/groups/" + name, {"expression": [condition("app|" + name)]}).status_code == 200


def get_policy(nsx, pid: str) -> dict:
    return nsx.ok(nsx.get(POLICIES + "/" + pid))


def rule_ids(nsx, pid: str) -> list[str]:
    return [r["id"] for r in get_policy(nsx, pid)["rules"]]


def test_rule_fields_and_defaults(nsx):
    make_groups(nsx, "web", "app")
    body = {"display_name": "app-pol", "category": "Application", "rules": [
        policy_rule("r1", [group_path("web")], [group_path("app")], services=["/infra/services/HTTP"], sequence_number=10),
        {"id": "r2", "action": "DROP", "source_groups": ["10.0.0.0/8", "fd00::1"], "destination_groups": ["any"],
         "services": ["ANY"], "sequence_number": 20, "description": None, "ip_protocol": None, "notes": None, "profiles": None,
         "scope": None, "service_entries": None, "tag": None, "tags": None, "logged": False}]}
    created = nsx.ok(nsx.put(POLICIES + "/app-pol", body))
    assert created["_revision"] == 0 and created["rule_count"] == 2 and created["is_default"] is False
    assert (created["stateful"], created["tcp_strict"], created["sequence_number"], created["scope"]) == (True, True, 0, ["ANY"])
    r1, r2 = created["rules"]
    assert r1["path"] == "/infra/domains/default/security-policies/app-pol/rules/r1" and r1["resource_type"] == "Rule"
    assert (r1["profiles"], r1["scope"], r1["ip_protocol"], r1["direction"]) == (["ANY"], ["ANY"], "IPV4_IPV6", "IN_OUT")
    assert (r1["logged"], r1["disabled"], r1["sources_excluded"], r1["destinations_excluded"]) == (False, False, False, False)
    assert r1["display_name"] == "r1" and r1["is_default"] is False
    assert r1["rule_id"] >= 1000 and r2["rule_id"] == r1["rule_id"] + 1
    assert r2["destination_groups"] == ["ANY"] and r2["scope"] == ["ANY"]
    assert nsx.ok(nsx.get(POLICIES + "/app-pol/rules/r2"))["rule_id"] == r2["rule_id"]
    # the same body again changes nothing
    nsx.ok(nsx.patch(POLICIES + "/app-pol", body))
    assert get_policy(nsx, "app-pol")["_revision"] == 0
    listed = nsx.ok(nsx.get(POLICIES))
    assert [p["id"] for p in listed["results"]] == ["app-pol", "default-layer3-section"]
    assert "rules" not in listed["results"][0] and listed["results"][0]["rule_count"] == 2


def test_put_replaces_rules_and_patch_merges_them(nsx):
    nsx.ok(nsx.put(POLICIES + "/p", {"category": "Application", "rules": [policy_rule("a"), policy_rule("b")]}))
    rule_a = nsx.ok(nsx.get(POLICIES + "/p/rules/a"))
    # PATCH merges by id: b changes, c is added, a stays
    assert nsx.patch(POLICIES + "/p", {"category": "Application", "rules": [policy_rule("b", action="DROP"), policy_rule("c")]}).status_code == 200
    policy = get_policy(nsx, "p")
    assert sorted(r["id"] for r in policy["rules"]) == ["a", "b", "c"] and policy["_revision"] == 1
    assert next(r for r in policy["rules"] if r["id"] == "b")["action"] == "DROP"
    assert nsx.ok(nsx.get(POLICIES + "/p/rules/a")) == rule_a
    # PATCH without rules leaves them alone
    nsx.ok(nsx.patch(POLICIES + "/p", {"category": "Application", "description": "x"}))
    assert sorted(rule_ids(nsx, "p")) == ["a", "b", "c"]
    # PUT replaces the list: a and c are deleted; PUT needs the current _revision
    current = get_policy(nsx, "p")
    error_of(nsx.put(POLICIES + "/p", {"category": "Application", "rules": [policy_rule("b")]}), 412)
    error_of(nsx.put(POLICIES + "/p", {"category": "Application", "rules": [policy_rule("b")], "_revision": 0}), 412)
    replaced = nsx.ok(nsx.put(POLICIES + "/p", {"category": "Application", "rules": [policy_rule("b", action="DROP")],
                                                "_revision": current["_revision"]}))
    assert [r["id"] for r in replaced["rules"]] == ["b"] and replaced["_revision"] == current["_revision"] + 1
    error_of(nsx.get(POLICIES + "/p/rules/a"), 404)


def test_rule_changes_bump_the_policy_revision(nsx):
    nsx.ok(nsx.patch(POLICIES + "/p", {"category": "Application", "rules": [policy_rule("a")]}))
    assert get_policy(nsx, "p")["_revision"] == 0
    nsx.ok(nsx.patch(POLICIES + "/p", {"category": "Application", "rules": [policy_rule("a", logged=True)]}))
    policy = get_policy(nsx, "p")
    assert policy["_revision"] == 1 and policy["rules"][0]["_revision"] == 1
    nsx.ok(nsx.patch(POLICIES + "/p", {"category": "Application", "rules": [policy_rule("a", logged=True)]}))
    assert get_policy(nsx, "p")["_revision"] == 1
    error_of(nsx.patch(POLICIES + "/p", {"category": "Application", "_revision": 0}), 412)


def test_rule_sub_resources(nsx):
    make_groups(nsx, "web")
    nsx.ok(nsx.patch(POLICIES + "/p", {"category": "Application"}))
    put = nsx.ok(nsx.put(POLICIES + "/p/rules/r1", policy_rule("r1", [group_path("web")], sequence_number=5)))
    assert put["_revision"] == 0 and put["source_groups"] == [group_path("web")]
    assert nsx.patch(POLICIES + "/p/rules/r2", policy_rule("r2", sequence_number=1)).status_code == 200
    assert rule_ids(nsx, "p") == ["r2", "r1"]  # ordered by sequence_number
    listed = nsx.ok(nsx.get(POLICIES + "/p/rules"))
    assert [r["id"] for r in listed["results"]] == ["r2", "r1"] and listed["result_count"] == 2
    # PUT on an existing rule needs its _revision; PATCH is a full replace
    error_of(nsx.put(POLICIES + "/p/rules/r1", policy_rule("r1", action="DROP")), 412)
    updated = nsx.ok(nsx.put(POLICIES + "/p/rules/r1", dict(policy_rule("r1", action="DROP"), _revision=0)))
    assert updated["action"] == "DROP" and updated["source_groups"] == ["ANY"] and updated["_revision"] == 1
    assert updated["rule_id"] == put["rule_id"]
    assert nsx.patch(POLICIES + "/p/rules/r1", {"action": "REJECT", "_revision": 0}).status_code == 412
    assert nsx.patch(POLICIES + "/p/rules/r1", {"action": "REJECT"}).status_code == 200
    assert nsx.ok(nsx.get(POLICIES + "/p/rules/r1"))["action"] == "REJECT"
    assert nsx.delete(POLICIES + "/p/rules/r1").status_code == 200
    error_of(nsx.get(POLICIES + "/p/rules/r1"), 404)
    assert nsx.delete(POLICIES + "/p/rules/r1").status_code == 200
    error_of(nsx.put(POLICIES + "/missing/rules/r1", policy_rule("r1")), 404)
    assert get_policy(nsx, "p")["_revision"] == 5  # one bump per rule change: put, patch, update, patch, delete


@pytest.mark.parametrize("policy, fragment", [
    ({"category": "Sideways"}, "category"),
    ({"category": "Application", "sequence_number": -1}, "sequence_number"),
    ({"category": "Ethernet", "stateful": True}, "stateless"),
    ({"category": "Application", "stateful": False, "tcp_strict": True}, "tcp_strict"),
    ({"category": "Application", "connectivity_strategy": "WHITELIST"}, "needs a scope"),
    ({"category": "Application", "scope": ["ANY", "/infra/domains/default/groups/x"]}, "ANY must be the only element"),
    ({"rules": [{"action": "ALLOW"}]}, "rules[0].id is missing"),
    ({"rules": [policy_rule("a"), policy_rule("a")]}, "listed twice"),
    ({"rules": [policy_rule("a", action="PERMIT")]}, "action"),
    ({"category": "Application", "rules": [policy_rule("a", action="JUMP_TO_APPLICATION")]}, "Environment"),
    ({"rules": [policy_rule("a", direction="UP")]}, "direction"),
    ({"rules": [policy_rule("a", ip_protocol="IPV5")]}, "ip_protocol"),
    ({"category": "Ethernet", "rules": [policy_rule("a", ip_protocol="IPV4")]}, "must be null"),
    ({"rules": [policy_rule("a", ["ANY", "10.0.0.1"])]}, "ANY must be the only element"),
    ({"rules": [policy_rule("a", ["web"])]}, "neither ANY, a group path nor an IP"),
    ({"rules": [policy_rule("a", ["/infra/segments/s1"])]}, "is not a group path"),
    ({"rules": [policy_rule("a", ["10.0.0.0/33"])]}, "neither ANY"),
    ({"rules": [policy_rule("a", ["10.0.0.%d" % (i % 250) for i in range(129)])]}, "at most 128 items"),
    ({"rules": [policy_rule("a", services=["HTTP"])]}, "service path"),
    ({"rules": [policy_rule("a", profiles=["/infra/services/HTTP"])]}, "context profile"),
    ({"rules": [policy_rule("a", sequence_number="1")]}, "sequence_number must be an integer"),
    ({"rules": [policy_rule("a", notes="n" * 2049)]}, "notes"),
    ({"rules": [policy_rule("a", service_entries=[{"resource_type": "L4PortSetServiceEntry", "l4_protocol": "ICMP"}])]}, "l4_protocol"),
])
def test_policy_validation(nsx, policy, fragment):
    error = error_of(nsx.patch(POLICIES + "/bad", policy), 400)
    assert fragment in error["error_message"], error["error_message"]
    error_of(nsx.get(POLICIES + "/bad"), 404)


def test_groups_used_by_rules_must_exist(nsx):
    error = error_of(nsx.patch(POLICIES + "/p", {"rules": [policy_rule("a", [group_path("ghost")])]}), 400)
    assert error["error_code"] == 500012 and group_path("ghost") in error["error_message"]
    error_of(nsx.patch(POLICIES + "/p", {"scope": [group_path("ghost")]}), 400)
    error_of(nsx.get(POLICIES + "/p"), 404)  # nothing was created
    make_groups(nsx, "web")
    nsx.ok(nsx.patch(POLICIES + "/p", {"scope": [group_path("web")], "connectivity_strategy": "WHITELIST",
                                       "rules": [policy_rule("a", [group_path("web")], scope=[group_path("web"), "/infra/tier-1s/t1"])]}))
    assert get_policy(nsx, "p")["rules"][0]["scope"] == [group_path("web"), "/infra/tier-1s/t1"]


def test_default_policy_and_rule(nsx):
    default = get_policy(nsx, "default-layer3-section")
    assert (default["display_name"], default["category"], default["is_default"], default["sequence_number"]) == \
        ("Default Layer3 Section", "Application", True, 2147483647)
    rule = default["rules"][0]
    assert (rule["id"], rule["display_name"], rule["rule_id"], rule["action"], rule["is_default"]) == \
        ("default-layer3-rule", "Default Layer3 Rule", 2, "ALLOW", True)
    assert nsx.patch(POLICIES + "/default-layer3-section/rules/default-layer3-rule", {"action": "DROP", "logged": True}).status_code == 200
    dropped = nsx.ok(nsx.get(POLICIES + "/default-layer3-section/rules/default-layer3-rule"))
    assert (dropped["action"], dropped["logged"], dropped["source_groups"], dropped["_revision"]) == ("DROP", True, ["ANY"], 1)
    error_of(nsx.patch(POLICIES + "/default-layer3-section/rules/default-layer3-rule", {"action": "DROP", "source_groups": ["10.0.0.1"]}), 400)
    error_of(nsx.delete(POLICIES + "/default-layer3-section/rules/default-layer3-rule"), 400)
    error_of(nsx.delete(POLICIES + "/default-layer3-section"), 400)
    error_of(nsx.patch(POLICIES + "/default-layer3-section", {"rules": [policy_rule("mine")]}), 400)
    error_of(nsx.patch(POLICIES + "/default-layer3-section", {"category": "Emergency"}), 400)
    # PUT without the default rule keeps it
    current = get_policy(nsx, "default-layer3-section")
    kept = nsx.ok(nsx.put(POLICIES + "/default-layer3-section", dict(current, rules=[])))
    assert [r["id"] for r in kept["rules"]] == ["default-layer3-rule"]
    # whatever the other policies say, the default one is listed last
    nsx.ok(nsx.patch(POLICIES + "/late", {"category": "Application", "sequence_number": 2147483647}))
    nsx.ok(nsx.patch(POLICIES + "/no-category", {}))
    nsx.ok(nsx.patch(POLICIES + "/first", {"category": "Emergency", "sequence_number": 5}))
    order = [p["id"] for p in nsx.ok(nsx.get(POLICIES))["results"]]
    assert order == ["first", "late", "no-category", "default-layer3-section"]


def test_revise_orders_policies_and_rules(nsx):
    for pid in ("a", "b", "c"):
        nsx.ok(nsx.patch(POLICIES + "/" + pid, {"category": "Application", "sequence_number": {"a": 1, "b": 2, "c": 3}[pid]}))
    params = {"action": "revise", "operation": "insert_before", "anchor_path": "/infra/domains/default/security-policies/a"}
    revised = nsx.ok(nsx.post(POLICIES + "/c", {}, params=params))
    assert revised["sequence_number"] < get_policy(nsx, "a")["sequence_number"]
    assert [p["id"] for p in nsx.ok(nsx.get(POLICIES))["results"]][:3] == ["c", "a", "b"]
    error_of(nsx.post(POLICIES + "/c", {}, params={"action": "revise", "operation": "insert_after"}), 400)
    rules = [policy_rule("r1", sequence_number=1), policy_rule("r2", sequence_number=2)]
    nsx.ok(nsx.patch(POLICIES + "/a", {"category": "Application", "rules": rules}))
    nsx.ok(nsx.post(POLICIES + "/a/rules/r1", {}, params={"action": "revise", "operation": "insert_bottom"}))
    assert rule_ids(nsx, "a") == ["r2", "r1"]
    error_of(nsx.post(POLICIES + "/default-layer3-section", {}, params={"action": "revise"}), 400)


def test_policy_list_pagination(nsx):
    for index in range(7):
        nsx.ok(nsx.patch(POLICIES + "/p%d" % index, {"category": "Application", "sequence_number": index}))
    results, pages = nsx.all_pages(POLICIES, page_size=3)
    assert pages == 3 and [p["id"] for p in results] == ["p%d" % i for i in range(7)] + ["default-layer3-section"]
    nsx.ok(nsx.put(POLICIES + "/big", {"category": "Application", "rules": [policy_rule("r%03d" % i, sequence_number=i) for i in range(250)]}))
    rules, pages = nsx.all_pages(POLICIES + "/big/rules", page_size=100)
    assert pages == 3 and [r["id"] for r in rules] == ["r%03d" % i for i in range(250)]
    whole = nsx.ok(nsx.get(POLICIES + "/big/rules", params={"page_size": 1000}))
    assert len(whole["results"]) == 250 and "cursor" not in whole


# ---------------------------------------------------------------- hierarchical API


def hapi(*domain_children, domain: str = "default") -> dict:
    return {"resource_type": "Infra", "children": [
        {"resource_type": "ChildResourceReference", "target_type": "Domain", "id": domain, "children": list(domain_children)}]}


def child_group(gid: str, **extra) -> dict:
    group = {"resource_type": "Group", "id": gid, "display_name": gid, "expression": [condition("app|" + gid)]}
    return dict({"resource_type": "ChildGroup", "Group": group}, **extra)


def child_policy(pid: str, *rules, **extra) -> dict:
    policy = {"resource_type": "SecurityPolicy", "id": pid, "display_name": pid, "category": "Application",
              "children": [{"resource_type": "ChildRule", "Rule": dict(r, resource_type="Rule")} for r in rules]}
    return dict({"resource_type": "ChildSecurityPolicy", "SecurityPolicy": policy}, **extra)


def test_hapi_creates_a_tree_in_one_call(nsx):
    body = hapi(child_group("web"), child_group("db"),
                child_policy("app", policy_rule("web-to-db", [group_path("web")], [group_path("db")], sequence_number=10),
                             policy_rule("deny", action="DROP", sequence_number=20)))
    response = nsx.patch(POLICY, body)
    assert response.status_code == 200 and response.content == b""
    assert nsx.ok(nsx.get(DOMAIN + "/groups/web"))["expression"][0]["value"] == "app|web"
    policy = get_policy(nsx, "app")
    assert [r["id"] for r in policy["rules"]] == ["web-to-db", "deny"] and policy["_revision"] == 0
    # the same call again changes nothing
    assert nsx.patch(POLICY, body).status_code == 200
    assert get_policy(nsx, "app")["_revision"] == 0
    assert nsx.ok(nsx.get(DOMAIN + "/groups/web"))["_revision"] == 0
    # groups referenced before they are declared in the same call are fine
    later = hapi(child_policy("later", policy_rule("r", [group_path("declared-after")])), child_group("declared-after"))
    assert nsx.patch(POLICY, later).status_code == 200
    # a ChildDomain creates a domain with its children
    body = {"resource_type": "Infra", "children": [{"resource_type": "ChildDomain", "Domain": {
        "resource_type": "Domain", "id": "team", "children": [child_group("team-web")]}}]}
    assert nsx.patch(POLICY, body).status_code == 200
    assert nsx.get(POLICY + "/domains/team/groups/team-web").status_code == 200


def test_hapi_is_atomic(nsx):
    make_groups(nsx, "web")
    nsx.ok(nsx.patch(POLICIES + "/app", {"category": "Application", "rules": [policy_rule("keep")]}))
    before_policy = get_policy(nsx, "app")
    before_counts = nsx.ok(nsx.get(DOMAIN + "/groups"))["result_count"]
    bad_bodies = [
        hapi(child_group("new-1"), child_policy("app", policy_rule("r", [group_path("ghost")]))),
        hapi(child_group("new-1"), child_policy("new-pol", policy_rule("r", action="PERMIT"))),
        hapi(child_group("new-1"), {"resource_type": "ChildGroup", "Group": {"id": "bad", "expression": [condition("a"), condition("b")]}}),
        hapi(child_group("new-1"), {"resource_type": "ChildTier1", "Tier1": {"id": "t1"}}),
        hapi(child_group("new-1"), child_policy("default-layer3-section", marked_for_delete=True)),
        hapi(child_group("new-1"), child_group("web", marked_for_delete=True)),
        hapi(child_group("new-1"), domain="no-such-domain"),
        {"resource_type": "Infra", "children": [{"resource_type": "ChildDomain", "Domain": {"display_name": "no id"}}]},
    ]
    nsx.ok(nsx.patch(POLICIES + "/uses-web", {"rules": [policy_rule("r", [group_path("web")])]}))
    for body in bad_bodies:
        response = nsx.patch(POLICY, body)
        assert response.status_code == 400, (body, response.text)
        assert error_of(response, 400)["error_message"]
        assert nsx.get(DOMAIN + "/groups/new-1").status_code == 404, body
    assert get_policy(nsx, "app") == before_policy
    assert nsx.ok(nsx.get(DOMAIN + "/groups"))["result_count"] == before_counts
    assert nsx.get(POLICY + "/domains/no-such-domain").status_code == 404


def test_hapi_marked_for_delete(nsx):
    setup = hapi(child_group("web"), child_group("old"),
                 child_policy("app", policy_rule("r1", [group_path("web")]), policy_rule("r2", [group_path("old")]), policy_rule("r3")),
                 child_policy("gone", policy_rule("x")))
    assert nsx.patch(POLICY, setup).status_code == 200
    revision = get_policy(nsx, "app")["_revision"]
    # delete one rule through a ChildResourceReference to the policy
    body = hapi({"resource_type": "ChildResourceReference", "target_type": "SecurityPolicy", "id": "app", "children": [
        {"resource_type": "ChildRule", "marked_for_delete": True, "Rule": {"resource_type": "Rule", "id": "r3"}}]})
    assert nsx.patch(POLICY, body).status_code == 200
    assert rule_ids(nsx, "app") == ["r1", "r2"]
    assert get_policy(nsx, "app")["_revision"] == revision + 1
    # a group still used by r2 cannot go alone; with r2 in the same call it can
    error_of(nsx.patch(POLICY, hapi(child_group("old", marked_for_delete=True))), 400)
    body = hapi(child_group("old", marked_for_delete=True),
                {"resource_type": "ChildResourceReference", "target_type": "SecurityPolicy", "id": "app", "children": [
                    {"resource_type": "ChildRule", "marked_for_delete": True, "Rule": {"id": "r2"}}]})
    assert nsx.patch(POLICY, body).status_code == 200
    error_of(nsx.get(DOMAIN + "/groups/old"), 404)
    assert rule_ids(nsx, "app") == ["r1"]
    # deleting a policy cascades to its rules
    assert nsx.patch(POLICY, hapi(child_policy("gone", marked_for_delete=True))).status_code == 200
    error_of(nsx.get(POLICIES + "/gone"), 404)
    error_of(nsx.get(POLICIES + "/gone/rules/x"), 404)
    # deleting what does not exist is not an error
    assert nsx.patch(POLICY, hapi(child_group("never", marked_for_delete=True))).status_code == 200
    # a ChildDomain marked for delete removes the domain and everything in it
    team = {"resource_type": "Infra", "children": [{"resource_type": "ChildDomain", "Domain": {
        "id": "team", "children": [child_group("g"), child_policy("p", policy_rule("r", [group_path("g", "team")]))]}}]}
    assert nsx.patch(POLICY, team).status_code == 200
    assert nsx.patch(POLICY, {"resource_type": "Infra", "children": [
        {"resource_type": "ChildDomain", "marked_for_delete": True, "Domain": {"id": "team"}}]}).status_code == 200
    error_of(nsx.get(POLICY + "/domains/team"), 404)


def test_hapi_revision_check_is_optional(nsx):
    nsx.ok(nsx.patch(DOMAIN + "/groups/web", {"expression": [condition("app|web")]}))
    nsx.ok(nsx.patch(DOMAIN + "/groups/web", {"expression": [condition("app|web2")]}))  # _revision 1 now
    stale = child_group("web")
    stale["Group"]["_revision"] = 0
    assert nsx.patch(POLICY, hapi(stale)).status_code == 200  # enforce_revision_check defaults to false
    stale["Group"]["expression"] = [condition("app|web3")]
    error_of(nsx.patch(POLICY, hapi(stale), params={"enforce_revision_check": "true"}), 412)


def test_get_infra_with_filter(nsx):
    assert nsx.patch(POLICY, hapi(child_group("web"), child_policy("app", policy_rule("r1", [group_path("web")])))).status_code == 200
    plain = nsx.ok(nsx.get(POLICY))
    assert plain["resource_type"] == "Infra" and "children" not in plain
    tree = nsx.ok(nsx.get(POLICY, params={"filter": "Type-Domain|Group|SecurityPolicy|Rule"}))
    domain = tree["children"][0]
    assert domain["resource_type"] == "ChildDomain" and domain["Domain"]["id"] == "default"
    kinds = [c["resource_type"] for c in domain["Domain"]["children"]]
    assert kinds == ["ChildGroup", "ChildSecurityPolicy", "ChildSecurityPolicy"]
    app = next(c["SecurityPolicy"] for c in domain["Domain"]["children"] if c.get("SecurityPolicy", {}).get("id") == "app")
    assert [c["Rule"]["id"] for c in app["children"]] == ["r1"]
    groups_only = nsx.ok(nsx.get(POLICY, params={"filter": "Type-Group"}))
    reference = groups_only["children"][0]
    assert reference["resource_type"] == "ChildResourceReference" and [c["Group"]["id"] for c in reference["children"]] == ["web"]
    error_of(nsx.get(POLICY, params={"filter": "("}), 400)


@pytest.mark.parametrize("path", [POLICY + "/domains", DOMAIN + "/groups", POLICIES, POLICIES + "/default-layer3-section/rules"])
def test_policy_lists_take_a_page_size_from_0_to_1000(nsx, path):
    # the documented bounds of page_size (0 = the default of 1000); outside them an NSX error body
    assert "results" in nsx.ok(nsx.get(path, params={"page_size": 1000}))
    assert "results" in nsx.ok(nsx.get(path, params={"page_size": 0}))
    for size in (1001, -1):
        assert "page_size" in error_of(nsx.get(path, params={"page_size": size}), 400)["error_message"]
