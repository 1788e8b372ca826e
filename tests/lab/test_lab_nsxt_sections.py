"""NSX-T lab, Manager API: distributed firewall sections and rules (placement, default section,
create_with_rules, update_with_rules, revisions, cascade, rule validation, pagination)."""

from __future__ import annotations

import pytest
from nsxt_helpers import DEFAULT_L3_SECTION_NAME, MP, error_of, mp_rule, ref

SECTIONS = MP + "/firewall/sections"
L3 = {"section_type": "LAYER3", "stateful": True}


def named(name: str, **extra) -> dict:
    return dict(L3, display_name=name, **extra)


def default_section(nsx) -> dict:
    sections = nsx.ok(nsx.get(SECTIONS))["results"]
    return next(s for s in sections if s["is_default"])


def test_placement_keeps_the_default_section_last(nsx):
    assert nsx.section_names() == [DEFAULT_L3_SECTION_NAME]
    a = nsx.section(named("a"))  # insert_top by default
    nsx.section(named("b"), operation="insert_bottom")
    nsx.section(named("top"))
    nsx.section(named("after-a"), operation="insert_after", id=a["id"])
    nsx.section(named("before-a"), operation="insert_before", id=a["id"])
    assert nsx.section_names() == ["top", "before-a", "a", "after-a", "b", DEFAULT_L3_SECTION_NAME]
    default = default_section(nsx)
    nsx.section(named("before-default"), operation="insert_before", id=default["id"])
    assert nsx.section_names()[-2:] == ["before-default", DEFAULT_L3_SECTION_NAME]
    assert "default" in error_of(nsx.post(SECTIONS, named("x"), params={"operation": "insert_after", "id": default["id"]}), 400)["error_message"]
    assert "id" in error_of(nsx.post(SECTIONS, named("x"), params={"operation": "insert_after"}), 400)["error_message"]
    error_of(nsx.post(SECTIONS, named("x"), params={"operation": "insert_after", "id": "missing"}), 400)
    error_of(nsx.post(SECTIONS, named("x"), params={"operation": "sideways"}), 400)
    # LAYER2 sections are listed apart, with their own default section
    nsx.section({"display_name": "l2", "section_type": "LAYER2", "stateful": False})
    assert nsx.section_names("LAYER2") == ["l2", "Default Layer2 Section"]
    assert "l2" not in nsx.section_names()
    error_of(nsx.post(SECTIONS, {"display_name": "l2", "section_type": "LAYER2", "stateful": True}), 400)
    error_of(nsx.get(SECTIONS, params={"type": "LAYER7"}), 400)


def test_section_validation(nsx):
    assert "section_type" in error_of(nsx.post(SECTIONS, {"display_name": "x", "stateful": True}), 400)["error_message"]
    assert "stateful" in error_of(nsx.post(SECTIONS, {"display_name": "x", "section_type": "LAYER3"}), 400)["error_message"]
    error_of(nsx.post(SECTIONS, named("x", applied_tos=[ref("missing")])), 400)
    error_of(nsx.post(SECTIONS, named("x", applied_tos=[ref("x", "Planet")])), 400)
    error_of(nsx.post(SECTIONS, named("x"), params={"action": "create_with_rules"}), 400)  # rules are required there
    assert nsx.section_names() == [DEFAULT_L3_SECTION_NAME]


def test_create_with_rules_and_list_with_rules(nsx):
    web = nsx.nsgroup({"display_name": "web"})
    rules = [
        mp_rule("allow-web", sources=[ref(web["id"])], destinations=[ref("10.0.0.0/24", "IPv4Address")],
                services=[{"service": {"resource_type": "L4PortSetNSService", "l4_protocol": "TCP", "destination_ports": ["443", "8080-8090"]}}]),
        mp_rule("drop-rest", "DROP", logged=True),
    ]
    section = nsx.section(named("app"), rules=rules)
    assert section["rule_count"] == 2 and section["_revision"] == 0
    first, second = section["rules"]
    assert first["display_name"] == "allow-web" and first["section_id"] == section["id"]
    assert first["sources"][0] == {"target_id": web["id"], "target_type": "NSGroup", "target_display_name": "web", "is_valid": True}
    assert first["destinations"][0]["target_display_name"] == "10.0.0.0/24"
    assert (first["direction"], first["ip_protocol"], first["logged"], first["disabled"]) == ("IN_OUT", "IPV4_IPV6", False, False)
    assert second["action"] == "DROP" and second["logged"] is True
    assert int(first["id"]) >= 1000 and first["id"] != second["id"]
    listed = nsx.ok(nsx.post(SECTIONS + "/" + section["id"], params={"action": "list_with_rules"}))
    assert [r["id"] for r in listed["rules"]] == [first["id"], second["id"]]
    assert nsx.ok(nsx.get(MP + "/firewall/rules/" + second["id"]))["display_name"] == "drop-rest"
    plain = nsx.ok(nsx.get(SECTIONS + "/" + section["id"]))
    assert "rules" not in plain and plain["rule_count"] == 2


def test_update_with_rules_replaces_the_rule_list(nsx):
    section = nsx.section(named("app"), rules=[mp_rule("r1"), mp_rule("r2"), mp_rule("r3")])
    sid = section["id"]
    r1, r2, r3 = section["rules"]
    body = dict(section, rules=[dict(r3, action="DROP"), r1, mp_rule("r4")])
    updated = nsx.ok(nsx.post(SECTIONS + "/" + sid, body, params={"action": "update_with_rules"}))
    assert updated["_revision"] == 1
    assert [r["display_name"] for r in updated["rules"]] == ["r3", "r1", "r4"]
    assert [r["id"] for r in updated["rules"][:2]] == [r3["id"], r1["id"]]  # kept rules keep their ids
    assert updated["rules"][0]["action"] == "DROP" and updated["rules"][0]["_revision"] == 1
    assert updated["rules"][1]["_revision"] == 0  # unchanged rule
    error_of(nsx.get(MP + "/firewall/rules/" + r2["id"]), 404)  # left out: removed
    # revision checks
    stale = error_of(nsx.post(SECTIONS + "/" + sid, body, params={"action": "update_with_rules"}), 412)
    assert stale["error_code"] == 206
    no_revision = {k: v for k, v in body.items() if k != "_revision"}
    error_of(nsx.post(SECTIONS + "/" + sid, no_revision, params={"action": "update_with_rules"}), 412)
    without_rules = {k: v for k, v in updated.items() if k != "rules"}
    assert "rules" in error_of(nsx.post(SECTIONS + "/" + sid, without_rules, params={"action": "update_with_rules"}), 400)["error_message"]
    emptied = nsx.ok(nsx.post(SECTIONS + "/" + sid, dict(updated, rules=[]), params={"action": "update_with_rules"}))
    assert emptied["rules"] == [] and emptied["rule_count"] == 0 and emptied["_revision"] == 2
    error_of(nsx.post(SECTIONS + "/missing", body, params={"action": "update_with_rules"}), 404)


def test_section_put_needs_revision_and_keeps_rules(nsx):
    section = nsx.section(named("app"), rules=[mp_rule("r1")])
    sid = section["id"]
    plain = nsx.ok(nsx.get(SECTIONS + "/" + sid))
    error_of(nsx.put(SECTIONS + "/" + sid, {k: v for k, v in plain.items() if k != "_revision"}), 412)
    error_of(nsx.put(SECTIONS + "/" + sid, dict(plain, _revision=9)), 412)
    updated = nsx.ok(nsx.put(SECTIONS + "/" + sid, dict(plain, display_name="renamed")))
    assert updated["display_name"] == "renamed" and updated["_revision"] == 1 and updated["rule_count"] == 1
    error_of(nsx.put(SECTIONS + "/" + sid, dict(updated, section_type="LAYER2", stateful=False)), 400)


def test_rule_changes_bump_the_section_revision(nsx):
    section = nsx.section(named("app"))
    sid = section["id"]
    rules_path = SECTIONS + "/%s/rules" % sid

    def revision():
        return nsx.ok(nsx.get(SECTIONS + "/" + sid))["_revision"]

    first = nsx.ok(nsx.post(rules_path, mp_rule("first")))
    assert revision() == 1
    # a stale section revision in a new rule is refused (what NSXLIB sends since 2.4)
    error_of(nsx.post(rules_path, dict(mp_rule("x"), _revision=0)), 412)
    top = nsx.ok(nsx.post(rules_path, dict(mp_rule("top"), _revision=1)))
    multiple = nsx.ok(nsx.post(rules_path, {"rules": [mp_rule("m1"), mp_rule("m2")]},
                               params={"action": "create_multiple", "operation": "insert_after", "id": top["id"]}))
    assert [r["display_name"] for r in multiple["rules"]] == ["m1", "m2"]
    assert revision() == 3
    names = [r["display_name"] for r in nsx.ok(nsx.get(rules_path))["results"]]
    assert names == ["top", "m1", "m2", "first"]
    # single rule PUT: needs the rule's own revision
    error_of(nsx.put(rules_path + "/" + first["id"], dict(first, action="DROP", _revision=7)), 412)
    error_of(nsx.put(rules_path + "/" + first["id"], {"action": "DROP"}), 412)
    changed = nsx.ok(nsx.put(rules_path + "/" + first["id"], dict(first, action="DROP")))
    assert changed["action"] == "DROP" and changed["_revision"] == 1
    assert revision() == 4
    moved = nsx.ok(nsx.post(rules_path + "/" + first["id"], changed, params={"action": "revise", "operation": "insert_top"}))
    assert moved["_revision"] == 2
    assert [r["display_name"] for r in nsx.ok(nsx.get(rules_path))["results"]][0] == "first"
    assert nsx.delete(rules_path + "/" + top["id"]).status_code == 200
    assert revision() == 6
    error_of(nsx.get(rules_path + "/" + top["id"]), 404)
    other = nsx.section(named("other"))
    error_of(nsx.get(SECTIONS + "/%s/rules/%s" % (other["id"], first["id"])), 404)  # rule of another section


def test_delete_needs_cascade_when_rules_exist(nsx):
    empty = nsx.section(named("empty"))
    assert nsx.delete(SECTIONS + "/" + empty["id"]).status_code == 200
    full = nsx.section(named("full"), rules=[mp_rule("r1")])
    error = error_of(nsx.delete(SECTIONS + "/" + full["id"]), 400)
    assert "cascade=true" in error["error_message"]
    assert nsx.delete(SECTIONS + "/" + full["id"], params={"cascade": "true"}).status_code == 200
    error_of(nsx.get(MP + "/firewall/rules/" + full["rules"][0]["id"]), 404)
    assert nsx.section_names() == [DEFAULT_L3_SECTION_NAME]


def test_default_section_and_rule_are_protected(nsx):
    default = default_section(nsx)
    sid = default["id"]
    assert default["display_name"] == DEFAULT_L3_SECTION_NAME and default["rule_count"] == 1
    error_of(nsx.delete(SECTIONS + "/" + sid, params={"cascade": "true"}), 400)
    error_of(nsx.post(SECTIONS + "/" + sid, default, params={"action": "revise", "operation": "insert_top"}), 400)
    rule = nsx.ok(nsx.get(SECTIONS + "/%s/rules" % sid))["results"][0]
    assert rule["display_name"] == "Default Layer3 Rule" and rule["action"] == "ALLOW" and rule["is_default"] is True
    error_of(nsx.delete(SECTIONS + "/%s/rules/%s" % (sid, rule["id"])), 400)
    # the action can switch to DROP (what VMware's old module did)
    dropped = nsx.ok(nsx.put(SECTIONS + "/%s/rules/%s" % (sid, rule["id"]),
                             {"action": "DROP", "display_name": "Default Layer3 Rule", "_revision": rule["_revision"]}))
    assert dropped["action"] == "DROP" and dropped["is_default"] is True
    error_of(nsx.put(SECTIONS + "/%s/rules/%s" % (sid, rule["id"]),
                     {"action": "ALLOW", "sources": [ref("10.0.0.1", "IPv4Address")], "_revision": dropped["_revision"]}), 400)
    # rules added to the default section stay above the default rule; update_with_rules cannot drop it
    nsx.ok(nsx.post(SECTIONS + "/%s/rules" % sid, mp_rule("extra"), params={"operation": "insert_bottom"}))
    names = [r["display_name"] for r in nsx.ok(nsx.get(SECTIONS + "/%s/rules" % sid))["results"]]
    assert names == ["extra", "Default Layer3 Rule"]
    current = nsx.ok(nsx.get(SECTIONS + "/" + sid))
    updated = nsx.ok(nsx.post(SECTIONS + "/" + sid, dict(current, rules=[]), params={"action": "update_with_rules"}))
    assert [r["display_name"] for r in updated["rules"]] == ["Default Layer3 Rule"]
    # moving another section below the default one is refused; revise moves within the list
    a = nsx.section(named("a"))
    b = nsx.section(named("b"))
    error_of(nsx.post(SECTIONS + "/" + a["id"], a, params={"action": "revise", "operation": "insert_after", "id": sid}), 400)
    revised = nsx.ok(nsx.post(SECTIONS + "/" + b["id"], b, params={"action": "revise", "operation": "insert_bottom"}))
    assert revised["_revision"] == 1
    assert nsx.section_names() == ["a", "b", DEFAULT_L3_SECTION_NAME]


@pytest.mark.parametrize("rule, fragment", [
    ({"display_name": "no-action"}, "action is missing"),
    (mp_rule("x", "PERMIT"), "action"),
    (mp_rule("x", direction="BOTH"), "direction"),
    (mp_rule("x", ip_protocol="IPV5"), "ip_protocol"),
    (mp_rule("x", logged="yes"), "logged must be a boolean"),
    (mp_rule("x", sources=[ref("10.0.0.%d" % (i % 250), "IPv4Address") for i in range(129)]), "sources must have at most 128 items"),
    (mp_rule("x", destinations=[ref("300.1.1.1", "IPv4Address")]), "not a valid IPv4Address"),
    (mp_rule("x", destinations=[ref("10.0.0.0/8", "IPv6Address")]), "not a valid IPv6Address"),
    (mp_rule("x", sources=[{"target_type": "NSGroup"}]), "target_id"),
    (mp_rule("x", sources=[ref("x", "Galaxy")]), "target_type"),
    (mp_rule("x", services=[{"service": {"resource_type": "L4PortSetNSService", "l4_protocol": "SCTP"}}]), "l4_protocol"),
    (mp_rule("x", services=[{"service": {"resource_type": "L4PortSetNSService", "l4_protocol": "TCP", "destination_ports": ["70000"]}}]), "port"),
    (mp_rule("x", rule_tag="t" * 33), "rule_tag"),
    (mp_rule("x", notes="n" * 2049), "notes"),
])
def test_rule_validation(nsx, rule, fragment):
    section = nsx.section(named("app"))
    error = error_of(nsx.post(SECTIONS + "/%s/rules" % section["id"], rule), 400)
    assert fragment in error["error_message"], error["error_message"]
    error = error_of(nsx.post(SECTIONS, dict(named("new"), rules=[rule]), params={"action": "create_with_rules"}), 400)
    assert fragment in error["error_message"]
    assert nsx.section_names() == ["app", DEFAULT_L3_SECTION_NAME]
    assert nsx.ok(nsx.get(SECTIONS + "/" + section["id"]))["_revision"] == 0


def test_rule_references_must_exist(nsx):
    section = nsx.section(named("app"))
    error = error_of(nsx.post(SECTIONS + "/%s/rules" % section["id"], mp_rule("x", sources=[ref("no-such-group")])), 400)
    assert "NSGroup no-such-group" in error["error_message"] and "does not exist" in error["error_message"]
    error_of(nsx.post(SECTIONS + "/%s/rules" % section["id"], mp_rule("x", applied_tos=[ref("no-port", "LogicalPort")])), 400)
    ok = nsx.ok(nsx.post(SECTIONS + "/%s/rules" % section["id"], mp_rule("v6", destinations=[ref("fd00::/64", "IPv6Address")])))
    assert ok["destinations"][0]["is_valid"] is True


def test_rule_pages_and_limits(nsx):
    section = nsx.section(named("big"), rules=[mp_rule("r%04d" % i) for i in range(1000)])
    rules_path = SECTIONS + "/%s/rules" % section["id"]
    full = nsx.ok(nsx.get(rules_path))
    assert len(full["results"]) == 1000 and full["result_count"] == 1000 and "cursor" not in full
    results, pages = nsx.all_pages(rules_path, page_size=300)
    assert pages == 4 and [r["display_name"] for r in results] == ["r%04d" % i for i in range(1000)]
    assert "1000 rules" in error_of(nsx.post(rules_path, mp_rule("one-too-many")), 400)["error_message"]
    error_of(nsx.post(SECTIONS, dict(named("huge"), rules=[mp_rule("r")] * 1001), params={"action": "create_with_rules"}), 400)
    listed = nsx.ok(nsx.get(SECTIONS, params={"page_size": 1}))
    assert listed["result_count"] == 2 and listed["cursor"]


def test_lock_and_unlock(nsx):
    section = nsx.section(named("app"))
    path = SECTIONS + "/" + section["id"]
    error_of(nsx.post(path, {"comments": "x", "section_revision": 0}, params={"action": "lock"}), 400)  # comments: 4..4096 chars
    error_of(nsx.post(path, {"comments": "change window", "section_revision": 3}, params={"action": "lock"}), 412)
    locked = nsx.ok(nsx.post(path, {"comments": "change window", "section_revision": 0}, params={"action": "lock"}))
    assert locked["locked"] is True and locked["lock_modified_by"] == "admin" and locked["_revision"] == 1
    unlocked = nsx.ok(nsx.post(path, {"comments": "done now", "section_revision": 1}, params={"action": "unlock"}))
    assert unlocked["locked"] is False and unlocked["comments"] == "done now"
    error_of(nsx.post(path, {}, params={"action": "explode"}), 400)
