# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The NSX-T evaluator on the shared flow-check contract, with the workload-isolation guide's section
and flow table. Sources: reference/nsxt-api.md (cited per test as §n) and the API specs it quotes."""

import pytest

from ansible_collections.microseg.segmentation.plugins.module_utils._core.flowcheck import FlowCheckError, parse_service
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.flows import (
    AddressSet,
    Endpoint,
    Ref,
    Rule,
    Unknown,
    evaluate,
    manager_rules,
    order_policies,
    policy_rules,
    port_spec,
)

# Two replicas per service, as the guide deploys them.
PODS = {
    "nsg-service-a": ["10.244.1.10", "10.244.1.11"],
    "nsg-service-b": ["10.244.2.10", "10.244.2.11"],
    "nsg-service-c": ["10.244.3.10", "10.244.3.12"],
    "nsg-service-d": ["10.244.3.11", "10.244.3.13"],
}
MEMBERS = dict((name, AddressSet(ips)) for name, ips in PODS.items())
ANY = parse_service("any")


def group(name):
    return Ref("group " + name, key=name, addresses=MEMBERS.get(name, AddressSet()))


def end(name):
    return Endpoint("group " + name, key=name, addresses=MEMBERS.get(name, AddressSet()))


def address(ip, workload=True):
    return Endpoint(ip, addresses=AddressSet([ip]), workload=workload, version=6 if ":" in ip else 4)


SECTION = "PtoPDFW-MicroSegmentation"
APPLIED = [group("nsg-service-b"), group("nsg-service-c"), group("nsg-service-d")]
DEFAULT = Rule("Default Layer3 Rule", "ALLOW", where="Default Layer3 Section", rule_id="2", default=True)


def guide_rules(default=DEFAULT):
    def allow(src, dst, rid):
        name = "service-%sToservice-%s" % (src, dst)
        return Rule(name, "ALLOW", [group("nsg-service-" + src)], [group("nsg-service-" + dst)], applied_to=APPLIED, where=SECTION,
                    rule_id=rid)
    return [allow("c", "d", "r1"), allow("b", "c", "r2"), allow("a", "c", "r3"), allow("a", "b", "r4"),
            Rule("DenyAll", "REJECT", applied_to=APPLIED, where=SECTION, rule_id="r5"), default]


# The guide's table: 4 allowed, 7 denied. The deny rows are decided by DenyAll at the end that
# carries the section (applied to b, c, d): the destination for a flow into b, c or d, the source
# for a flow out of b, c or d into a.
GUIDE_TABLE = [
    ("a", "b", "allow", [("source", "Default Layer3 Rule"), ("destination", "service-aToservice-b")]),
    ("a", "c", "allow", [("source", "Default Layer3 Rule"), ("destination", "service-aToservice-c")]),
    ("b", "c", "allow", [("source", "service-bToservice-c"), ("destination", "service-bToservice-c")]),
    ("c", "d", "allow", [("source", "service-cToservice-d"), ("destination", "service-cToservice-d")]),
    ("a", "d", "deny", [("source", "Default Layer3 Rule"), ("destination", "DenyAll")]),
    ("b", "d", "deny", [("source", "DenyAll")]),
    ("c", "b", "deny", [("source", "DenyAll")]),
    ("d", "c", "deny", [("source", "DenyAll")]),
    ("d", "b", "deny", [("source", "DenyAll")]),
    ("c", "a", "deny", [("source", "DenyAll")]),
    ("b", "a", "deny", [("source", "DenyAll")]),
]


@pytest.mark.parametrize("src, dst, verdict, decided", GUIDE_TABLE)
def test_guide_table(src, dst, verdict, decided):
    """First match per enforcement point (§1.5 applied_tos "where rule will be enforced")."""
    result = evaluate(guide_rules(), end("nsg-service-" + src), end("nsg-service-" + dst), ANY)
    assert result.verdict == verdict
    assert [(d.side, d.rule) for d in result.decisions] == decided


def test_guide_before_the_section_allows_every_row():
    """Before the section: only the default rule, ALLOW out of the box (§1.5 default section)."""
    for src, dst in [row[:2] for row in GUIDE_TABLE]:
        result = evaluate([DEFAULT], end("nsg-service-" + src), end("nsg-service-" + dst), ANY)
        assert result.verdict == "allow"
        assert all(d.default and d.rule == "Default Layer3 Rule" for d in result.decisions)


def test_decision_carries_rule_id_section_and_action():
    result = evaluate(guide_rules(), end("nsg-service-a"), end("nsg-service-d"), ANY)
    deciding = result.decisions[-1].as_dict()
    assert deciding == dict(side="destination", action="REJECT", rule="DenyAll", id="r5", where=SECTION, default=False)
    assert "DenyAll" in result.reason


def test_a_rule_from_a_to_d_is_caught():
    """The defect the scenario guards against: one more allow rule opens a to d."""
    rules = guide_rules()
    rules.insert(0, Rule("service-aToservice-d", "ALLOW", [group("nsg-service-a")], [group("nsg-service-d")], applied_to=APPLIED,
                         where=SECTION))
    assert evaluate(rules, end("nsg-service-a"), end("nsg-service-d"), ANY).decisions[-1].rule == "service-aToservice-d"


def test_a_default_drop_blocks_what_the_section_does_not_cover():
    """With the default rule set to DROP (§1.5), a's own filter drops a to b: the section is not applied to a."""
    drop = Rule("Default Layer3 Rule", "DROP", where="Default Layer3 Section", default=True)
    result = evaluate(guide_rules(drop), end("nsg-service-a"), end("nsg-service-b"), ANY)
    assert (result.verdict, result.decisions[0].side, result.decisions[0].default) == ("deny", "source", True)


def test_rule_applied_to_one_end_only_is_not_enforced_at_the_other():
    """An allow applied to the source does not open the destination's filter."""
    rules = [Rule("out-of-a", "ALLOW", [group("nsg-service-a")], [group("nsg-service-b")], applied_to=[group("nsg-service-a")]),
             Rule("deny-b", "DROP", applied_to=[group("nsg-service-b")]), DEFAULT]
    result = evaluate(rules, end("nsg-service-a"), end("nsg-service-b"), ANY)
    assert result.verdict == "deny"
    assert [(d.side, d.rule) for d in result.decisions] == [("source", "out-of-a"), ("destination", "deny-b")]


def test_disabled_rules_are_skipped():
    """§1.5 disabled: "persisted but never provisioned/realized"."""
    rules = [Rule("off", "DROP", [group("nsg-service-a")], disabled=True), DEFAULT]
    assert evaluate(rules, end("nsg-service-a"), end("nsg-service-b"), ANY).verdict == "allow"


def test_excluded_sources_and_destinations_negate():
    """§1.5 sources_excluded / destinations_excluded: negation of the source / destination."""
    rules = [Rule("not-from-a", "DROP", [group("nsg-service-a")], sources_excluded=True), DEFAULT]
    assert evaluate(rules, end("nsg-service-b"), end("nsg-service-c"), ANY).verdict == "deny"
    assert evaluate(rules, end("nsg-service-a"), end("nsg-service-c"), ANY).verdict == "allow"
    rules = [Rule("not-to-a", "DROP", destinations=[group("nsg-service-a")], destinations_excluded=True), DEFAULT]
    assert evaluate(rules, end("nsg-service-b"), end("nsg-service-a"), ANY).verdict == "allow"
    assert evaluate(rules, end("nsg-service-b"), end("nsg-service-c"), ANY).verdict == "deny"


@pytest.mark.parametrize("flow, services, matches", [
    ("tcp/80", [], True),
    ("tcp/80", ["tcp/80"], True),
    ("tcp/8080", ["tcp/8000:8100"], True),
    ("tcp/80", ["udp/80"], False),
    ("tcp/80", ["tcp"], True),
    ("any", ["tcp/80"], False),
    ("icmp/8/0", ["icmp/8"], True),
    ("icmp/8/0", ["icmp"], True),
    ("icmp/0/0", ["icmp/8"], False),
    ("udp/53", ["17"], True),
])
def test_services(flow, services, matches):
    """An empty service list is any (§1.5 "Null will be treated as any"); a flow on any needs a rule for any."""
    rules = [Rule("r", "DROP", services=services), DEFAULT]
    verdict = evaluate(rules, end("nsg-service-a"), end("nsg-service-b"), parse_service(flow)).verdict
    assert verdict == ("deny" if matches else "allow")


def test_address_endpoint_matches_groups_holding_it_and_rule_addresses():
    """Effective IP members (§1.4 effective-ip-address-members, §2.2 members/ip-addresses) and addresses in rules (§1.5, §2.3)."""
    assert evaluate(guide_rules(), address("10.244.1.11"), end("nsg-service-b"), ANY).decisions[-1].rule == "service-aToservice-b"
    assert evaluate(guide_rules(), address("10.244.1.11"), end("nsg-service-d"), ANY).verdict == "deny"
    assert evaluate(guide_rules(), address("10.244.3.13"), address("10.244.3.12"), ANY).decisions[0].rule == "DenyAll"
    by_cidr = [Rule("from-pods", "DROP", [Ref("10.244.0.0/16", addresses=AddressSet(["10.244.0.0/16"]))]),
               Rule("range", "DROP", [Ref("r", addresses=AddressSet(["192.0.2.1-192.0.2.9"]))]), DEFAULT]
    assert evaluate(by_cidr, address("10.244.9.9"), end("nsg-service-a"), ANY).decisions[0].rule == "from-pods"
    assert evaluate(by_cidr, address("192.0.2.5", workload=False), end("nsg-service-a"), ANY).decisions[0].rule == "range"
    # A group endpoint whose every member is inside the CIDR is matched too.
    assert evaluate(by_cidr, end("nsg-service-a"), end("nsg-service-b"), ANY).decisions[0].rule == "from-pods"


def test_an_end_outside_the_firewall_is_not_evaluated():
    result = evaluate(guide_rules(), address("198.51.100.7", workload=False), end("nsg-service-b"), ANY)
    assert [(d.side, d.rule) for d in result.decisions] == [("destination", "DenyAll")]


def test_group_partly_covered_has_no_single_verdict():
    z1 = Endpoint("group z1", key="z1", addresses=MEMBERS["nsg-service-c"].union(MEMBERS["nsg-service-d"]))
    with pytest.raises(FlowCheckError, match="only some members of group z1"):
        evaluate(guide_rules(), end("nsg-service-a"), z1, ANY)
    # ... but a rule naming both c and d covers it.
    rules = [Rule("to-z1", "DROP", destinations=[group("nsg-service-c"), group("nsg-service-d")]), DEFAULT]
    assert evaluate(rules, end("nsg-service-a"), z1, ANY).verdict == "deny"


def test_ip_protocol_family():
    """§2.3 ip_protocol IPV4 / IPV6 / IPV4_IPV6."""
    rules = [Rule("v4-only", "DROP", ip_protocol="IPV4"), DEFAULT]
    assert evaluate(rules, address("2001:db8::1"), address("2001:db8::2"), ANY).verdict == "allow"
    assert evaluate(rules, address("192.0.2.1"), address("192.0.2.2"), ANY).verdict == "deny"


def test_direction():
    """§1.5 direction counts in stateless sections; §2.3 Policy rules always carry it."""
    rules = [Rule("in-only", "DROP", direction="IN", applied_to=[group("nsg-service-a")]), DEFAULT]
    assert evaluate(rules, end("nsg-service-a"), end("nsg-service-b"), ANY).verdict == "allow"
    assert evaluate(rules, end("nsg-service-b"), end("nsg-service-a"), ANY).verdict == "deny"
    stateful = [Rule("in-only", "DROP", direction="IN", applied_to=[group("nsg-service-a")], use_direction=False), DEFAULT]
    assert evaluate(stateful, end("nsg-service-a"), end("nsg-service-b"), ANY).verdict == "deny"


def test_what_cannot_be_evaluated_fails_naming_the_rule():
    with pytest.raises(FlowCheckError, match="'web' .* the service HTTP"):
        evaluate([Rule("web", "ALLOW", services=[Unknown("the service HTTP")], where="s"), DEFAULT],
                 end("nsg-service-a"), end("nsg-service-b"), parse_service("tcp/80"))
    with pytest.raises(FlowCheckError, match="IPSet office"):
        evaluate([Rule("ipset", "ALLOW", [Ref("IPSet office")]), DEFAULT], end("nsg-service-a"), end("nsg-service-b"), ANY)
    with pytest.raises(FlowCheckError, match="not even a default rule"):
        evaluate([], end("nsg-service-a"), end("nsg-service-b"), ANY)


def test_jump_to_application():
    """§2.3 JUMP_TO_APPLICATION skips the rest of the Environment category."""
    rules = [Rule("jump", "JUMP_TO_APPLICATION", category="Environment"), Rule("env-deny", "DROP", category="Environment"),
             Rule("app-allow", "ALLOW", category="Application")]
    assert evaluate(rules, end("nsg-service-a"), end("nsg-service-b"), ANY).decisions[0].rule == "app-allow"


def test_manager_sections_become_one_table():
    """§1.5: section applied_tos override the rule's; inline services; the default section last."""
    ref = {"target_type": "NSGroup", "target_id": "id-b", "target_display_name": "nsg-service-b"}
    sections = [
        {"id": "s1", "display_name": SECTION, "stateful": True, "applied_tos": [ref], "rules": [
            {"id": "r1", "display_name": "web", "action": "ALLOW", "sources": [{"target_type": "IPv4Address", "target_id": "10.244.1.0/24"}],
             "destinations": [ref], "applied_tos": [], "services": [{"service": {
                 "resource_type": "L4PortSetNSService", "l4_protocol": "TCP", "destination_ports": ["80", "8000-8100"], "source_ports": []}}]},
            {"id": "r2", "display_name": "DenyAll", "action": "REJECT", "direction": "IN"}]},
        {"id": "default", "display_name": "Default Layer3 Section", "is_default": True, "rules": [
            {"id": "2", "display_name": "Default Layer3 Rule", "action": "ALLOW", "is_default": True}]},
    ]
    members = {"id-b": MEMBERS["nsg-service-b"]}
    table = manager_rules(sections, members)
    assert [(r.name, r.where, r.default) for r in table] == [("web", SECTION, False), ("DenyAll", SECTION, False),
                                                             ("Default Layer3 Rule", "Default Layer3 Section", True)]
    assert table[0].services == ["tcp/80,8000:8100"] and table[0].applied_to[0].key == "id-b"
    b = Endpoint("group nsg-service-b", key="id-b", addresses=MEMBERS["nsg-service-b"])
    assert evaluate(table, address("10.244.1.10"), b, parse_service("tcp/8080")).decisions[-1].rule == "web"
    assert evaluate(table, address("10.244.1.10"), b, parse_service("tcp/22")).decisions[-1].rule == "DenyAll"
    # Stateful section: direction IN does not keep DenyAll out of b's outgoing filter.
    assert evaluate(table, b, address("10.244.1.10"), ANY).decisions[0].rule == "DenyAll"


def test_policy_order_and_rules():
    """§2.3: category order, sequence numbers, scope over rule scope, ANY, service entries, the default policy last."""
    path = "/infra/domains/default/groups/nsg-service-b"
    policies = [
        {"id": "default-layer3-section", "display_name": "Default Layer3 Section", "category": "Application", "is_default": True,
         "sequence_number": 2147483647, "rules": [{"id": "default-layer3-rule", "display_name": "Default Layer3 Rule", "action": "ALLOW",
                                                   "is_default": True, "source_groups": ["ANY"], "destination_groups": ["ANY"], "services": ["ANY"]}]},
        {"id": "app", "category": "Application", "sequence_number": 1, "scope": [path], "rules": [
            {"id": "late", "action": "DROP", "sequence_number": 20, "services": ["ANY"]},
            {"id": "early", "action": "ALLOW", "sequence_number": 10, "source_groups": ["10.244.1.10-10.244.1.11"],
             "destination_groups": [path], "services": [], "service_entries": [
                 {"resource_type": "ICMPTypeServiceEntry", "protocol": "ICMPv4", "icmp_type": 8}]}]},
        {"id": "emergency", "category": "Emergency", "sequence_number": 5, "rules": []},
        {"id": "l2", "category": "Ethernet", "rules": [{"id": "l2-drop", "action": "DROP"}]},
    ]
    assert [p["id"] for p in order_policies(policies[:3])] == ["emergency", "app", "default-layer3-section"]
    table = policy_rules(policies, {path: MEMBERS["nsg-service-b"]})
    assert [r.name for r in table] == ["early", "late", "Default Layer3 Rule"]  # the Ethernet (layer 2) policy is left out
    assert table[0].services == ["icmp/8"] and table[1].services == [] and table[0].applied_to[0].key == path
    b = Endpoint("group nsg-service-b", key=path, addresses=MEMBERS["nsg-service-b"])
    assert evaluate(table, address("10.244.1.10"), b, parse_service("icmp/8/0")).verdict == "allow"
    assert evaluate(table, address("10.244.1.10"), b, parse_service("tcp/80")).decisions[-1].rule == "late"


def test_port_spec_of_wire_entries():
    assert port_spec({"resource_type": "L4PortSetServiceEntry", "l4_protocol": "UDP", "destination_ports": ["53"]}) == "udp/53"
    assert port_spec({"resource_type": "L4PortSetNSService", "l4_protocol": "TCP", "destination_ports": []}) == "tcp"
    assert port_spec({"resource_type": "ICMPTypeNSService", "protocol": "ICMPv6", "icmp_type": 128, "icmp_code": 0}) == "icmp6/128/0"
    assert port_spec({"resource_type": "IPProtocolNSService", "protocol_number": 6}) == "6"
    assert isinstance(port_spec({"resource_type": "L4PortSetNSService", "l4_protocol": "TCP", "source_ports": ["1024"]}), Unknown)
    assert isinstance(port_spec({"resource_type": "ALGTypeNSService", "alg": "FTP"}), Unknown)


def test_address_set_coverage():
    cidr = AddressSet(["10.244.0.0/16"])
    assert cidr.coverage(AddressSet(["10.244.1.10", "10.244.2.10"])) == "all"
    assert cidr.coverage(AddressSet(["10.244.1.10", "10.245.0.1"])) == "some"
    assert cidr.coverage(AddressSet(["10.245.0.1"])) == "none"
    assert cidr.coverage(AddressSet()) == "none"
    assert AddressSet(["10.0.0.1-10.0.0.5", "10.0.0.6"]).coverage(AddressSet(["10.0.0.0/29"])) == "some"
    assert AddressSet(["10.0.0.0-10.0.0.5", "10.0.0.6-10.0.0.7"]).coverage(AddressSet(["10.0.0.0/29"])) == "all"
