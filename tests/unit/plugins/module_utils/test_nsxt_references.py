# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NSX Manager rules naming IPSets (``ipset:<name>``) and service objects (``service:<name>``): parsing,
the canonical compare (by display name, so an unchanged section plans nothing), name resolution
(one list read per kind, before the first write; a missing or ambiguous name writes nothing),
the IPSet kind, and the flow evaluation of IPSet and service references."""

import copy

import pytest

from ansible_collections.microseg.segmentation.plugins.module_utils._core.adapter import Task
from ansible_collections.microseg.segmentation.plugins.module_utils._core.checkmode import warnings_of
from ansible_collections.microseg.segmentation.plugins.module_utils._core.flowcheck import FlowCheckError, parse_service
from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import Connection, HttpClient
from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Change, plan
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.flows import (
    AddressSet,
    Endpoint,
    evaluate,
    load_manager,
    manager_rules,
    service_elements,
)
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.ip_set import IP_SET, build_ip_addresses, canon_ip_addresses
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.kinds import FIREWALL_SECTION
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.manager import (
    IP_SETS,
    NS_GROUPS,
    NS_SERVICE_GROUPS,
    NS_SERVICES,
    SECTIONS,
    SectionAdapter,
    build_section_rules,
    canon_section_rules,
    reference,
    references,
    rule_services,
)

RULE_DEFAULTS = dict(direction="in_out", ip_protocol="ipv4_ipv6", logged=False, disabled=False, sources_excluded=False,
                     destinations_excluded=False, notes=None, applied_to=None)
HTTPS = {"resource_type": "L4PortSetNSService", "l4_protocol": "TCP", "source_ports": [], "destination_ports": ["443"]}
HTTP = {"resource_type": "L4PortSetNSService", "l4_protocol": "TCP", "source_ports": [], "destination_ports": ["80"]}


def rule(**kwargs):
    return dict(RULE_DEFAULTS, **kwargs)


# ---------------------------------------------------------------- parsing


def test_endpoints_name_ipsets_groups_and_addresses():
    assert reference(" ipset:office ", "s") == {"target_type": "IPSet", "target_display_name": "office"}
    assert reference("IPSet:Head Office", "s") == {"target_type": "IPSet", "target_display_name": "Head Office"}
    assert reference("web", "s") == {"target_type": "NSGroup", "target_display_name": "web"}
    assert reference("10.0.0.0/8", "s") == {"target_type": "IPv4Address", "target_id": "10.0.0.0/8"}
    assert reference("2001:db8::1", "s") == {"target_type": "IPv6Address", "target_id": "2001:db8::1"}
    with pytest.raises(ValidationError, match=r"^rules\[0\]\.sources\[1\]: 'ipset:' names no IPSet"):
        references(["web", "ipset: "], "rules[0].sources")
    with pytest.raises(ValidationError, match="at most 255"):
        reference("ipset:" + "x" * 256, "s")


def test_applied_to_takes_group_names_only():
    with pytest.raises(ValidationError, match=r"^applied_to\[0\]: 'ipset:office': applied-to takes NSGroup names only"):
        references(["ipset:office"], "applied_to", allow_empty=False)
    with pytest.raises(ValidationError, match=r"^items\[2\]\.applied_to\[1\]: .* not addresses"):
        references(["web", "10.0.0.1"], "items[2].applied_to")
    with pytest.raises(ValidationError, match=r"rules\[0\]\.applied_to\[0\]"):
        build_section_rules([rule(name="r", action="allow", applied_to=["ipset:office"])], "")
    assert references(["web"], "applied_to") == [{"target_type": "NSGroup", "target_display_name": "web"}]


def test_services_mix_protocol_ports_and_service_objects():
    built = rule_services(["tcp/443", "service:HTTP", " service: Web services "], "rules[0].services")
    assert built == [{"service": HTTPS}, {"target_display_name": "HTTP"}, {"target_display_name": "Web services"}]
    assert rule_services(["any"], "x") == [] and rule_services([], "x") == []
    with pytest.raises(ValidationError, match=r"^rules\[0\]\.services: 'any' must be the only service"):
        rule_services(["service:HTTP", "any"], "rules[0].services")
    with pytest.raises(ValidationError, match=r"^rules\[0\]\.services\[1\]: 'service:' names no NSService or NSServiceGroup"):
        rule_services(["tcp/80", "service:"], "rules[0].services")
    with pytest.raises(ValidationError, match=r"^rules\[0\]\.services\[2\]"):
        rule_services(["service:HTTP", "tcp/80", "tcp/99999"], "rules[0].services")
    with pytest.raises(ValidationError, match="at most 128 services"):
        rule_services(["service:s%d" % i for i in range(129)], "x")


# ---------------------------------------------------------------- canonical compare


def desired_rules():
    return build_section_rules([
        rule(name="office-to-web", action="allow", sources=["ipset:office", "10.9.0.0/16"], destinations=["web"],
             services=["service:HTTPS", "tcp/8080", "service:Web"]),
        rule(name="deny", action="drop"),
    ], "")


def api_rules():
    """The same rules as NSX returns them: ids, decorations, services by reference with their type."""
    def ref(kind, ident, name):
        return {"target_type": kind, "target_id": ident, "target_display_name": name, "is_valid": True}

    return [
        {"id": "1001", "display_name": "office-to-web", "action": "ALLOW", "section_id": "s1", "_revision": 3, "resource_type": "FirewallRule",
         "sources": [{"target_type": "IPv4Address", "target_id": "10.9.0.0/16", "target_display_name": "10.9.0.0/16", "is_valid": True},
                     ref("IPSet", "ip-1", "office")],
         "destinations": [ref("NSGroup", "g-1", "web")],
         "services": [ref("NSServiceGroup", "sg-1", "Web"), {"service": dict(HTTPS, destination_ports=["8080"])},
                      ref("NSService", "svc-1", "HTTPS")],
         "direction": "IN_OUT", "ip_protocol": "IPV4_IPV6", "logged": False, "disabled": False, "is_default": False},
        {"id": "1002", "display_name": "deny", "action": "DROP", "direction": "IN_OUT", "ip_protocol": "IPV4_IPV6"},
    ]


def test_an_unchanged_section_compares_equal_by_display_name():
    assert canon_section_rules(desired_rules()) == canon_section_rules(api_rules())
    change = plan(FIREWALL_SECTION, "s", {"rules": desired_rules()}, {"id": "s1", "display_name": "s", "rules": api_rules()}, "present")
    assert change.action == "none"


@pytest.mark.parametrize("edit", [
    lambda rules: rules[0]["sources"].__setitem__(1, dict(rules[0]["sources"][1], target_display_name="branch")),
    lambda rules: rules[0]["services"].__setitem__(2, dict(rules[0]["services"][2], target_display_name="HTTP")),
    lambda rules: rules[0]["services"].pop(0),
    lambda rules: rules[0]["sources"].__setitem__(1, dict(rules[0]["sources"][1], target_type="NSGroup")),
])
def test_a_renamed_or_removed_reference_is_a_change(edit):
    existing = api_rules()
    edit(existing)
    assert canon_section_rules(desired_rules()) != canon_section_rules(existing)


def test_a_deleted_target_compares_by_its_id_and_is_rewritten():
    existing = api_rules()
    existing[0]["sources"][1].update(is_valid=False, target_display_name="ip-1")
    assert canon_section_rules(desired_rules()) != canon_section_rules(existing)


# ---------------------------------------------------------------- resolution before the first write


class Lists(Connection):
    """Answers list reads from ``data`` (path -> objects) and records them."""

    def __init__(self, data):
        self.client = HttpClient("http://127.0.0.1:1", sleep=lambda s: None, retries=0)
        self.data = data
        self.reads = []

    def list_all(self, path, params=None, page_size=1000):
        self.reads.append(path)
        return copy.deepcopy(self.data.get(path, []))


CONSOLE = {
    NS_GROUPS: [{"id": "g-1", "display_name": "web"}],
    IP_SETS: [{"id": "ip-1", "display_name": "office"}, {"id": "ip-2", "display_name": "twice"}, {"id": "ip-3", "display_name": "twice"}],
    NS_SERVICES: [{"id": "svc-1", "display_name": "HTTPS", "nsservice_element": HTTPS}, {"id": "svc-2", "display_name": "HTTP", "nsservice_element": HTTP},
                  {"id": "svc-3", "display_name": "both"}],
    NS_SERVICE_GROUPS: [
        {"id": "sg-1", "display_name": "Web", "members": [{"target_type": "NSService", "target_id": s} for s in ("svc-1", "svc-2")]},
        {"id": "sg-2", "display_name": "both", "members": []},
    ],
}


def adapter(check_mode=False, console=None):
    connection = Lists(CONSOLE if console is None else console)
    return connection, SectionAdapter(connection, FIREWALL_SECTION, Task({"section_type": "LAYER3"}, check_mode=check_mode))


def creating(rules, name="s"):
    return Change("create", name, body={"display_name": name, "rules": rules})


def test_names_resolve_with_one_read_per_kind_before_the_first_write():
    connection, sections = adapter()
    changes = [creating(desired_rules(), "a"), creating(desired_rules(), "b")]
    sections.prepare(changes)
    assert sorted(connection.reads) == sorted([NS_GROUPS, IP_SETS, NS_SERVICES, NS_SERVICE_GROUPS])
    wired = sections._section_body(changes[0].body)["rules"][0]
    assert wired["sources"] == [{"target_type": "IPSet", "target_id": "ip-1"}, {"target_type": "IPv4Address", "target_id": "10.9.0.0/16"}]
    assert wired["destinations"] == [{"target_type": "NSGroup", "target_id": "g-1"}]
    assert wired["services"] == [{"target_type": "NSService", "target_id": "svc-1"}, {"service": dict(HTTPS, destination_ports=["8080"])},
                                 {"target_type": "NSServiceGroup", "target_id": "sg-1"}]
    assert len(connection.reads) == 4  # wiring used the cached lists


def test_kinds_that_no_rule_names_are_not_read():
    connection, sections = adapter()
    sections.prepare([creating(build_section_rules([rule(name="r", action="allow", sources=["web"], services=["tcp/80"])], ""))])
    assert connection.reads == [NS_GROUPS]
    connection, sections = adapter()
    sections.prepare([creating(build_section_rules([rule(name="r", action="allow", sources=["10.0.0.1"])], ""))])
    assert connection.reads == []


def test_a_missing_name_fails_with_nothing_written_and_check_mode_warns():
    rules = build_section_rules([rule(name="r", action="allow", sources=["ipset:nowhere"], services=["service:Nope"])], "")
    dummy, sections = adapter()
    with pytest.raises(ValidationError) as failed:
        sections.prepare([creating(rules, "sec")])
    message = str(failed.value)
    assert "no such IPSet or NSService or NSServiceGroup; nothing was written" in message
    assert "firewall section 'sec': rules[0].sources names IPSet 'nowhere'" in message
    assert "rules[0].services names NSService or NSServiceGroup 'Nope'" in message
    dummy, sections = adapter(check_mode=True)
    sections.prepare([creating(rules, "sec")])
    assert warnings_of(sections) == [
        "IPSet 'nowhere' does not exist yet: check mode assumes an earlier task of the play creates it (a real run fails if it is still missing)",
        "NSService or NSServiceGroup 'Nope' does not exist yet: check mode assumes an earlier task of the play creates it "
        "(a real run fails if it is still missing)"]


@pytest.mark.parametrize("endpoints, services, fragment", [
    (["ipset:twice"], ["any"], "'twice' names 2 objects (IPSet ip-2, IPSet ip-3)"),
    ([], ["service:both"], "'both' names 2 objects (NSService svc-3, NSServiceGroup sg-2)"),
])
def test_an_ambiguous_name_fails_even_in_check_mode(endpoints, services, fragment):
    rules = build_section_rules([rule(name="r", action="allow", sources=endpoints, services=services)], "")
    for check_mode in (False, True):
        dummy, sections = adapter(check_mode=check_mode)
        with pytest.raises(ValidationError, match="a name is ambiguous; nothing was written") as failed:
            sections.prepare([creating(rules)])
        assert fragment in str(failed.value)


def test_existing_references_are_kept_by_id_without_reads():
    connection, sections = adapter()
    body = sections._section_body({"display_name": "s", "rules": api_rules()}, {"rules": api_rules()})
    assert body["rules"][0]["services"][0] == {"target_type": "NSServiceGroup", "target_id": "sg-1"}
    assert body["rules"][0]["sources"][1] == {"target_type": "IPSet", "target_id": "ip-1"}
    assert body["rules"][0]["id"] == "1001" and connection.reads == []


# ---------------------------------------------------------------- the IPSet kind


def test_ip_addresses_are_canonical_one_family_and_bounded():
    assert build_ip_addresses(["10.0.0.1", "10.1.0.0/16", "10.2.0.1-10.2.0.9"], "ip_addresses") == [
        "10.0.0.1", "10.1.0.0/16", "10.2.0.1-10.2.0.9"]
    assert build_ip_addresses(["2001:DB8::/32"], "ip_addresses") == ["2001:db8::/32"]
    with pytest.raises(ValidationError, match=r"^items\[1\]\.ip_addresses\[2\]: an IPSet holds either IPv4 or IPv6"):
        build_ip_addresses(["10.0.0.1", "10.0.0.2", "fe80::1"], "items[1].ip_addresses")
    with pytest.raises(ValidationError, match=r"ip_addresses\[0\]: '10.0.0.300'"):
        build_ip_addresses(["10.0.0.300"], "ip_addresses")
    with pytest.raises(ValidationError, match="reversed"):
        build_ip_addresses(["10.0.0.9-10.0.0.1"], "ip_addresses")
    with pytest.raises(ValidationError, match="at most 4000"):
        build_ip_addresses(["10.0.%d.%d" % (i // 250, i % 250) for i in range(4001)], "ip_addresses")


def test_ip_addresses_compare_without_order_repeats_or_spelling():
    assert canon_ip_addresses(["10.1.0.0/16", "2001:DB8::1"]) == canon_ip_addresses(["2001:db8::1", "10.1.0.0/16", "10.1.0.0/16"])
    assert canon_ip_addresses(["10.1.0.0/16"]) != canon_ip_addresses(["10.1.0.0/24"])
    assert canon_ip_addresses(None) == canon_ip_addresses([]) == ()
    existing = {"id": "ip-1", "display_name": "office", "ip_addresses": ["10.2.0.1-10.2.0.9", "10.1.0.0/16"], "description": ""}
    desired = IP_SET.build({"name": "office", "ip_addresses": ["10.1.0.0/16", "10.2.0.1-10.2.0.9"]}, "", Task({}))
    assert plan(IP_SET, "office", desired, existing, "present").action == "none"
    desired = IP_SET.build({"name": "office", "ip_addresses": ["10.1.0.0/16"]}, "", Task({}))
    change = plan(IP_SET, "office", desired, existing, "present")
    assert change.action == "update" and change.fields == ["ip_addresses"]
    assert plan(IP_SET, "office", {"ip_addresses": []}, dict(existing, ip_addresses=None), "present").action == "none"


# ---------------------------------------------------------------- flow evaluation of IPSets and services


def test_ipset_and_service_references_are_evaluated():
    web = AddressSet(["10.244.2.10", "10.244.2.11"])
    sections = [
        {"id": "s1", "display_name": "sec", "stateful": True, "rules": [
            {"id": "r1", "display_name": "office-https", "action": "ALLOW",
             "sources": [{"target_type": "IPSet", "target_id": "ip-1", "target_display_name": "office"}],
             "destinations": [{"target_type": "NSGroup", "target_id": "g-1"}],
             "services": [{"target_type": "NSServiceGroup", "target_id": "sg-1", "target_display_name": "Web"}]},
            {"id": "r2", "display_name": "empty-group", "action": "ALLOW",
             "services": [{"target_type": "NSServiceGroup", "target_id": "sg-2", "target_display_name": "both"}]},
            {"id": "r3", "display_name": "deny", "action": "DROP"}]},
    ]
    ipsets = {"ip-1": AddressSet(["10.10.0.0/24"])}
    services = service_elements(CONSOLE[NS_SERVICES], CONSOLE[NS_SERVICE_GROUPS])
    table = manager_rules(sections, {"g-1": web}, ipsets, services)
    assert table[0].services == ["tcp/443", "tcp/80"]
    office = Endpoint("10.10.0.7", addresses=AddressSet(["10.10.0.7"]), workload=False, version=4)
    outside = Endpoint("10.11.0.7", addresses=AddressSet(["10.11.0.7"]), workload=False, version=4)
    target = Endpoint("group web", key="g-1", addresses=web)
    assert evaluate(table, office, target, parse_service("tcp/443")).verdict == "allow"
    assert evaluate(table, office, target, parse_service("tcp/80")).verdict == "allow"
    # an empty service group matches no service (it does not mean "any"): r3 decides
    assert evaluate(table, office, target, parse_service("tcp/22")).decisions[-1].rule == "deny"
    assert evaluate(table, outside, target, parse_service("tcp/443")).decisions[-1].rule == "deny"
    # without the IPSets and services read, they cannot be evaluated
    with pytest.raises(FlowCheckError, match="IPSet office"):
        evaluate(manager_rules(sections, {"g-1": web}), office, target, parse_service("tcp/443"))
    with pytest.raises(FlowCheckError, match="the NSServiceGroup Web"):
        evaluate(manager_rules(sections, {"g-1": web}, ipsets), office, target, parse_service("tcp/443"))


class Firewall(Lists):
    def __init__(self, data, sections):
        super(Firewall, self).__init__(data)
        self.sections = sections

    def list_all(self, path, params=None, page_size=1000):
        if path == SECTIONS:
            self.reads.append(path)
            return copy.deepcopy(self.sections)
        if path.endswith("/effective-ip-address-members"):
            self.reads.append(path)
            return ["10.244.2.10"]
        return super(Firewall, self).list_all(path, params, page_size)


def test_load_manager_reads_ipsets_and_services_only_when_a_rule_names_them():
    first = {"id": "r1", "display_name": "r", "action": "ALLOW", "sources": [{"target_type": "NSGroup", "target_id": "g-1"}]}
    plain = [{"id": "s1", "display_name": "sec", "rules": [first]}]
    connection = Firewall(dict(CONSOLE, **{IP_SETS: [{"id": "ip-1", "display_name": "office", "ip_addresses": ["10.10.0.0/24"]}]}), plain)
    load_manager(connection, [])
    assert connection.reads == [NS_GROUPS, SECTIONS, NS_GROUPS + "/g-1/effective-ip-address-members"]
    named = copy.deepcopy(plain)
    named[0]["rules"][0]["sources"] = [{"target_type": "IPSet", "target_id": "ip-1"}]
    named[0]["rules"][0]["services"] = [{"target_type": "NSService", "target_id": "svc-1"}]
    connection = Firewall(connection.data, named)
    firewall = load_manager(connection, [])
    assert connection.reads == [NS_GROUPS, SECTIONS, IP_SETS, NS_SERVICES]
    assert firewall.rules[0].services == ["tcp/443"] and firewall.rules[0].sources[0].addresses.coverage(AddressSet(["10.10.0.5"])) == "all"
