"""NSX-T lab at the scale of real users: 200 groups and a 1000-rule section or policy, created and
read back (in memory and indexed: this takes seconds). No timing assertion: `make bench` measures."""

from __future__ import annotations

from nsxt_helpers import DOMAIN, MP, POLICY, condition, group_path, policy_rule, ref, tag_expr


def test_manager_200_groups_and_a_1000_rule_section(nsx):
    ids = [nsx.nsgroup({"display_name": "g%03d" % i, "membership_criteria": [tag_expr("app", "service-%d" % i)]})["id"] for i in range(200)]
    rules = [{"display_name": "r%04d" % i, "action": "ALLOW", "sources": [ref(ids[i % 200])], "destinations": [ref(ids[(i + 1) % 200])],
              "services": [{"service": {"resource_type": "L4PortSetNSService", "l4_protocol": "TCP", "destination_ports": [str(1024 + i)]}}]}
             for i in range(1000)]
    section = nsx.section({"display_name": "big", "section_type": "LAYER3", "stateful": True}, rules=rules, operation="insert_bottom")
    assert section["rule_count"] == 1000
    groups, pages = nsx.all_pages(MP + "/ns-groups")
    assert len(groups) == 200 and pages == 4
    read = nsx.ok(nsx.get(MP + "/firewall/sections/%s/rules" % section["id"]))["results"]
    assert [r["display_name"] for r in read] == ["r%04d" % i for i in range(1000)]
    assert read[999]["sources"][0]["target_display_name"] == "g199"
    body = dict(nsx.ok(nsx.get(MP + "/firewall/sections/" + section["id"])), rules=[dict(r, logged=True) for r in read])
    updated = nsx.ok(nsx.post(MP + "/firewall/sections/" + section["id"], body, params={"action": "update_with_rules"}))
    assert all(r["logged"] for r in updated["rules"]) and updated["_revision"] == 1
    counters = nsx.counters()
    assert counters["routes"]["POST /api/v1/ns-groups"] == 200 and counters["writes"] == 202


def test_policy_200_groups_and_a_1000_rule_policy(nsx):
    for index in range(200):
        assert nsx.patch(DOMAIN + "/groups/g%03d" % index, {"expression": [condition("app|service-%d" % index)]}).status_code == 200
    rules = [policy_rule("r%04d" % i, [group_path("g%03d" % (i % 200))], [group_path("g%03d" % ((i + 1) % 200))],
                         services=["/infra/services/HTTPS"], sequence_number=i) for i in range(1000)]
    created = nsx.ok(nsx.put(DOMAIN + "/security-policies/big", {"category": "Application", "rules": rules}))
    assert created["rule_count"] == 1000
    again = nsx.patch(DOMAIN + "/security-policies/big", {"category": "Application", "rules": rules})
    assert again.status_code == 200
    policy = nsx.ok(nsx.get(DOMAIN + "/security-policies/big"))
    assert policy["_revision"] == 0 and [r["id"] for r in policy["rules"]] == ["r%04d" % i for i in range(1000)]
    groups, pages = nsx.all_pages(DOMAIN + "/groups")
    assert len(groups) == 200 and pages == 1
    # the same tree through one hierarchical call
    body = {"resource_type": "Infra", "children": [{"resource_type": "ChildResourceReference", "target_type": "Domain", "id": "default",
            "children": [{"resource_type": "ChildSecurityPolicy", "SecurityPolicy": {"id": "big2", "category": "Application",
                          "children": [{"resource_type": "ChildRule", "Rule": r} for r in rules]}}]}]}
    assert nsx.patch(POLICY, body).status_code == 200
    assert nsx.ok(nsx.get(DOMAIN + "/security-policies/big2"))["rule_count"] == 1000
