# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NSX-T export (``_nsxt/export.py``, ``nsxt_info`` with ``export: true``): every object the two
workload-isolation scenarios and a set made by hand through the REST API leave in the lab, exported
and built again, plans no change on the object it came from; what an export leaves out and why; how
it orders NSGroups and sections and groups entries by owner."""

import copy
import json
from pathlib import Path

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.microseg.segmentation.plugins.module_utils._core.adapter import Task
from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import ApiError
from ansible_collections.microseg.segmentation.plugins.module_utils._core.ownership import Ownership
from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Declared, Reconciler, plan
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.common import MANAGED_TAG, OWNER_SCOPE, NsxtTags
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.export import (
    APPLY_ORDER,
    Unexportable,
    export,
    group_option,
    ref_option,
    service_option,
)
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.ip_set import IP_SET
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.kinds import FIREWALL_SECTION, NS_GROUP, POLICY_GROUP, SECURITY_POLICY
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.manager import (
    IP_SETS,
    LOGICAL_PORTS,
    LOGICAL_SWITCHES,
    NS_GROUPS,
    SECTIONS,
    NsGroupAdapter,
    SectionAdapter,
)
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.policy import POLICY_BASE, SecurityPolicyAdapter
from ansible_collections.microseg.segmentation.plugins.modules import nsxt_info

# what the two workload-isolation scenarios and tests/integration/test_export_nsxt.py's brownfield()
# (objects made through the REST API, untagged) leave in the lab, as nsxt_info reads them
OBJECTS = json.loads((Path(__file__).parent / "fixtures" / "nsxt_scenario_objects.json").read_text())
KINDS = {"ip_set": IP_SET, "ns_group": NS_GROUP, "firewall_section": FIREWALL_SECTION, "policy_group": POLICY_GROUP,
         "security_policy": SECURITY_POLICY}


class Console:
    """The lists an NSGroup export and nsxt_ns_group read to name static members (the lab's IP sets and
    NSGroups, plus a logical switch and port), each read recorded."""

    def __init__(self, lists=None):
        self.lists = {IP_SETS: OBJECTS["ip_set"], NS_GROUPS: OBJECTS["ns_group"],
                      LOGICAL_SWITCHES: [{"id": "ls-x1", "display_name": "cluster1-x1"}],
                      LOGICAL_PORTS: [{"id": "lp-a", "display_name": "x1/service-a-0"}]}
        self.lists.update(lists or {})
        self.reads = []

    def list_all(self, path, params=None):
        self.reads.append(path)
        return copy.deepcopy(self.lists[path])


def exported(kind_name, objects=None, **kwargs):
    objects = OBJECTS[kind_name] if objects is None else objects
    kwargs.setdefault("connection", Console())
    return export(kind_name, KINDS[kind_name], objects, ordered=kwargs.pop("ordered", objects), **kwargs)


def pairs(kind_name, objects=None, **kwargs):
    """``(entry, item, object it came from)`` for every exported item."""
    objects = OBJECTS[kind_name] if objects is None else objects
    entries, dummy, dummy2 = exported(kind_name, objects, **kwargs)
    by_key = dict((o.get("id") if kind_name in ("policy_group", "security_policy") else o["display_name"], o) for o in objects)
    return [(e, i, by_key[i.get("id") or i["name"]]) for e in entries for i in e["items"]]


def planned_values(kind_name, item):
    """An item as the module sees it: validated, defaults filled."""
    result = ArgumentSpecValidator(KINDS[kind_name].item_spec()).validate(copy.deepcopy(item))
    assert not result.errors.errors, result.errors.errors
    return dict((k, v) for k, v in result.validated_parameters.items() if v is not None)


def planned(kind_name, entry, item, existing, owner=None, adopt=True, console=None):
    """The change applying ``item`` to ``existing`` plans, as the list form with ``entry``'s options would
    (an NSGroup's member names resolved by its adapter, from ``console``)."""
    kind = KINDS[kind_name]
    values = planned_values(kind_name, item)
    options = dict(entry["options"])
    owner = options.pop("owner", owner)
    task = Task(options, ownership=Ownership(NsxtTags(), owner=owner, adopt=adopt))
    desired = kind.build(values, "", task)
    if kind_name == "ns_group":
        desired = NsGroupAdapter(console or Console(), kind, task).complete(item["name"], desired, existing)
    else:
        desired["tags"] = task.ownership.tags(item["name"], desired.get("tags"), existing)
    return plan(kind, item.get("id") or item["name"], desired, existing, "present")


def without_marks(objects):
    plain = copy.deepcopy(objects)
    for obj in plain:
        obj["tags"] = [t for t in obj.get("tags") or [] if t != MANAGED_TAG and t.get("scope") != OWNER_SCOPE]
    return plain


class Listing:
    """A connection that lists the given sections (the order SectionAdapter places by)."""

    def __init__(self, sections):
        self.sections = sections

    def list_all(self, path, params=None):
        assert path == SECTIONS
        return copy.deepcopy(self.sections)


def section_adapter(sections):
    return SectionAdapter(Listing(sections), FIREWALL_SECTION, Task({"section_type": "LAYER3"}))


# ------------------------------------------------------------------ the property: applying an export writes nothing


@pytest.mark.parametrize("kind_name", APPLY_ORDER)
def test_the_export_of_what_the_lab_holds_writes_nothing_back(kind_name):
    found = pairs(kind_name)
    assert found
    for entry, item, existing in found:
        change = planned(kind_name, entry, item, existing, adopt=False)
        assert change.action == "none", (item, change.fields)
        if MANAGED_TAG in existing.get("tags", []):
            # what the collection manages stays with its owner when the export is adopted
            change = planned(kind_name, entry, item, existing, owner="someone-else", adopt=True)
            assert change.action == "none", (item, change.fields)
    # the scenarios' objects are managed, the brownfield ones are not: both are covered
    assert len(set(MANAGED_TAG in o.get("tags", []) for e, i, o in found)) == (1 if kind_name == "ip_set" else 2)


@pytest.mark.parametrize("kind_name", APPLY_ORDER)
def test_objects_made_by_hand_are_taken_over_by_writing_their_tags_only(kind_name):
    for entry, item, existing in pairs(kind_name, without_marks(OBJECTS[kind_name])):
        assert "owner" not in entry["options"]
        change = planned(kind_name, entry, item, existing, owner="platform")
        assert (change.action, change.fields) == ("update", ["tags"]), item
        assert MANAGED_TAG in change.body["tags"] and {"scope": OWNER_SCOPE, "tag": "platform"} in change.body["tags"]
        # and once tagged, the same export writes nothing
        tagged = dict(existing, tags=change.body["tags"])
        assert planned(kind_name, entry, item, tagged, owner="platform").action == "none"


def test_every_exported_section_is_where_its_placement_puts_it():
    sections = OBJECTS["firewall_section"]
    adapter = section_adapter(sections)
    for item, existing in [(i, o) for e, i, o in pairs("firewall_section")]:
        assert adapter._placed(existing, adapter.position(item)), item


def test_applying_the_sections_in_order_to_an_empty_console_recreates_their_order():
    sections = OBJECTS["firewall_section"]
    console = [s for s in sections if s.get("is_default")]
    entries, dummy, dummy2 = exported("firewall_section")
    assert [len(e["items"]) for e in entries] == [1] * len(entries)
    for entry in entries:
        item = entry["items"][0]
        params = section_adapter(console)._operation(SectionAdapter.position(item))
        created = {"id": "new-" + item["name"], "display_name": item["name"], "is_default": False}
        if params["operation"] == "insert_top":
            console.insert(0, created)
        else:
            assert params["operation"] == "insert_after"
            console.insert([s["id"] for s in console].index(params["id"]) + 1, created)
    assert [s["display_name"] for s in console] == [s["display_name"] for s in sections]
    adapter = section_adapter(console)
    for entry in entries:
        item = entry["items"][0]
        assert adapter._placed(next(s for s in console if s["display_name"] == item["name"]), adapter.position(item))


class PolicyListing:
    """Security policies as NSX lists them (without their rules), each one's rules, and the groups."""

    def __init__(self, policies):
        self.base = "%s/infra/domains/default/security-policies" % POLICY_BASE
        self.lists = {self.base: [dict((k, v) for k, v in p.items() if k != "rules") for p in policies],
                      "%s/infra/domains/default/groups" % POLICY_BASE: OBJECTS["policy_group"]}
        for policy in policies:
            self.lists["%s/%s/rules" % (self.base, policy["id"])] = policy["rules"]
        self.reads = []

    def list_all(self, path, params=None):
        self.reads.append(path)
        return copy.deepcopy(self.lists[path])


def test_the_list_form_of_the_exported_policies_reads_their_rules_and_writes_nothing():
    policies = OBJECTS["security_policy"]
    entries, dummy, dummy2 = exported("security_policy")
    connection = PolicyListing(policies)
    for entry in entries:
        options = dict(entry["options"])
        task = Task(dict(options, items=entry["items"]), check_mode=True,
                    ownership=Ownership(NsxtTags(), owner=options.pop("owner", None), adopt=True))
        declared = [Declared(i.get("id") or i["name"], SECURITY_POLICY.build(planned_values("security_policy", i), "", task), "present", i)
                    for i in entry["items"]]
        adapter = SecurityPolicyAdapter(connection, SECURITY_POLICY, task, "security-policies")
        result = Reconciler(SECURITY_POLICY, adapter, check_mode=True).ensure_many(declared)
        unmanaged = [i["name"] for i in entry["items"] if "owner" not in entry["options"]]
        assert result["summary"]["unchanged"] == [i["name"] for i in entry["items"] if i["name"] not in unmanaged], result
        assert result["summary"]["updated"] == unmanaged, result  # their tags
    assert sorted(r for r in connection.reads if r.endswith("/rules")) == sorted(
        "%s/%s/rules" % (connection.base, p["id"]) for p in policies if not p.get("is_default"))


def test_a_section_after_one_left_out_stays_after_it():
    sections = copy.deepcopy(OBJECTS["firewall_section"])
    ncp = dict(copy.deepcopy(sections[1]), id="ncp-1", display_name="ncp-cluster1-isolation", _protection="REQUIRE_OVERRIDE",
               _create_user="ncp-cluster1")
    sections.insert(1, ncp)
    entries, skipped, dummy = exported("firewall_section", sections)
    assert [s["name"] for s in skipped] == ["ncp-cluster1-isolation", "Default Layer3 Section"]
    placed = dict((e["items"][0]["name"], (e["items"][0]["position"], e["items"][0].get("position_anchor"))) for e in entries)
    assert placed == {"PtoPDFW-MicroSegmentation": ("top", None), "bf-legacy": ("after", "ncp-cluster1-isolation"),
                      "bf-edge": ("after", "bf-legacy")}
    adapter = section_adapter(sections)
    for entry in entries:
        item = entry["items"][0]
        assert adapter._placed(next(s for s in sections if s["display_name"] == item["name"]), adapter.position(item))


# ------------------------------------------------------------------ what an item holds


def test_an_export_speaks_option_names_and_names_references():
    items = dict((i["name"], (e, i)) for e, i, o in pairs("firewall_section"))
    entry, legacy = items["bf-legacy"]
    assert entry["options"] == {"section_type": "LAYER3"}
    assert legacy == {
        "name": "bf-legacy", "stateful": True, "position": "after", "position_anchor": "PtoPDFW-MicroSegmentation",
        "rules": [
            {"name": "web-to-db", "action": "allow", "sources": ["bf-web"], "destinations": ["bf-db"], "services": ["service:bf-postgres"]},
            {"name": "office-to-web", "action": "allow", "sources": ["ipset:bf-office", "10.1.0.0/16"], "destinations": ["bf-web"],
             "services": ["tcp/443", "tcp/80"]},
            {"name": "ping", "action": "drop", "services": ["icmp/8"], "direction": "in", "logged": True},
            {"name": "deny-tier", "action": "reject", "applied_to": ["bf-tier"], "notes": "everything else"}]}
    assert items["bf-edge"][1] == {"name": "bf-edge", "stateful": False, "applied_to": ["bf-db"], "position": "after",
                                   "position_anchor": "bf-legacy", "rules": [{"name": "any", "action": "allow", "ip_protocol": "ipv4"}]}
    assert items["PtoPDFW-MicroSegmentation"][1]["position"] == "top"
    groups = dict((i["name"], i) for e, i, o in pairs("policy_group"))
    assert groups["BF all"] == {"name": "BF all", "id": "bf-pall",
                                "paths": ["/infra/domains/default/groups/bf-pweb", "/infra/domains/default/groups/bf-pnet"]}
    assert groups["nsg-service-a"]["criteria"] == [{"conditions": [{"member_type": "SegmentPort", "tag": "app|service-a"},
                                                                   {"member_type": "SegmentPort", "tag": "ncp/project|x1"}]}]
    policies = dict((i["name"], (e, i)) for e, i, o in pairs("security_policy"))
    entry, policy = policies["bf-policy"]
    assert entry["options"] == {"domain": "default"}
    assert policy["applied_to"] == ["bf-pweb"]
    assert policy["rules"] == [{"name": "Allow web", "id": "r-web", "action": "allow", "sources": ["bf-pnet"], "destinations": ["bf-pweb"],
                                "services": ["tcp/443"]}, {"name": "r-drop", "action": "drop"}]


def test_management_and_owner_tags_are_left_out_and_other_tags_kept():
    groups = dict((i["name"], i) for e, i, o in pairs("ns_group"))
    assert groups["bf-db"]["tags"] == [{"scope": "team", "tag": "data"}]
    assert "tags" not in groups["nsg-service-a"]
    assert groups["bf-db"]["criteria"] == [{"target_type": "VirtualMachine", "tag": "db", "tag_op": "contains"}]
    assert groups["nsg-service-a"]["criteria"] == [{"all": [{"target_type": "LogicalPort", "scope": "app", "tag": "service-a"},
                                                            {"target_type": "LogicalPort", "scope": "ncp/project", "tag": "x1"}]}]


def test_a_group_comes_in_an_entry_after_the_groups_it_contains():
    entries, dummy, notes = exported("ns_group")
    position = dict((i["name"], index) for index, e in enumerate(entries) for i in e["items"])
    assert position["bf-tier"] > position["bf-web"]
    assert notes == []  # its members are named: the export applies to another NSX Manager too
    chain = [{"id": "g%d" % n, "display_name": "g%d" % n, "members": [
        {"resource_type": "NSGroupSimpleExpression", "target_type": "NSGroup", "target_property": "id", "op": "EQUALS", "value": "g%d" % (n - 1)}]
        if n else []} for n in range(3, -1, -1)]
    entries, dummy, dummy2 = exported("ns_group", chain)
    assert [[i["name"] for i in e["items"]] for e in entries] == [["g0"], ["g1"], ["g2"], ["g3"]]
    policy_entries, dummy, dummy2 = exported("policy_group")
    position = dict((i["name"], index) for index, e in enumerate(policy_entries) for i in e["items"])
    assert position["BF all"] > max(position["bf-pweb"], position["bf-pnet"])


def _member(target_type, value):
    return {"resource_type": "NSGroupSimpleExpression", "target_type": target_type, "target_property": "id", "op": "EQUALS", "value": value}


def test_static_members_are_exported_by_name_read_once_per_type_and_only_when_a_group_has_them():
    console = Console()
    entries, dummy, notes = exported("ns_group", connection=console)
    tier = next(i for e in entries for i in e["items"] if i["name"] == "bf-tier")
    assert tier["members"] == [{"target_type": "NSGroup", "name": "bf-web"}, {"target_type": "IPSet", "name": "bf-office"}]
    # the NSGroups are the list the export was given; the IP sets one read
    assert console.reads == [IP_SETS] and notes == []
    console = Console()
    entries, dummy, notes = exported("ns_group", [o for o in OBJECTS["ns_group"] if not o.get("members")], connection=console)
    assert entries and console.reads == []


def test_a_member_without_a_unique_name_stays_by_id_with_a_note_and_every_export_writes_nothing_back():
    ipsets = OBJECTS["ip_set"] + [{"id": "ip-t1", "display_name": "twice"}, {"id": "ip-t2", "display_name": "twice"}]
    console = Console({IP_SETS: ipsets})
    group = {"id": "g-mixed", "display_name": "mixed", "members": [
        _member("IPSet", "ip-t1"), _member("MACSet", "mac-1"), _member("LogicalPort", "lp-a"), _member("LogicalSwitch", "ls-x1"),
        _member("IPSet", "9494751e-1f34-4b46-9ef1-b5399fb7d4cb")]}
    entries, skipped, notes = exported("ns_group", [group], ordered=OBJECTS["ns_group"] + [group], connection=console)
    assert not skipped
    item = entries[0]["items"][0]
    assert item["members"] == [{"target_type": "IPSet", "value": "ip-t1"}, {"target_type": "MACSet", "value": "mac-1"},
                               {"target_type": "LogicalPort", "name": "x1/service-a-0"}, {"target_type": "LogicalSwitch", "name": "cluster1-x1"},
                               {"target_type": "IPSet", "name": "bf-office"}]
    assert sorted(console.reads) == sorted([IP_SETS, LOGICAL_PORTS, LOGICAL_SWITCHES])
    assert notes == ["NSGroup 'mixed': its members IPSet ip-t1, MACSet mac-1 are given by id (their type has no display name "
                     "nsxt_ns_group resolves, or it is not unique), so its export applies to this NSX Manager only (objects of another "
                     "one have other ids)"]
    change = planned("ns_group", entries[0], item, group, console=console, adopt=False)
    assert change.action == "none", change.fields


def test_without_a_connection_members_are_exported_by_id_with_a_note():
    entries, dummy, notes = exported("ns_group", connection=None)
    tier = next(i for e in entries for i in e["items"] if i["name"] == "bf-tier")
    assert [m.get("value") for m in tier["members"]] == [m["value"] for m in next(o for o in OBJECTS["ns_group"] if o["display_name"] == "bf-tier")["members"]]
    assert len(notes) == 1 and notes[0].startswith("NSGroup 'bf-tier': its members NSGroup ") and "no display name of theirs was read" in notes[0]


def test_an_exported_group_names_the_members_of_another_console_by_their_ids_there():
    entries, dummy, dummy2 = exported("ns_group")
    entry, item = next((e, i) for e in entries for i in e["items"] if i["name"] == "bf-tier")
    other = Console({IP_SETS: [{"id": "ip-there", "display_name": "bf-office"}], NS_GROUPS: [{"id": "g-there", "display_name": "bf-web"}]})
    change = planned("ns_group", entry, item, None, console=other)
    assert change.action == "create"
    assert sorted((m["target_type"], m["value"]) for m in change.body["members"]) == [("IPSet", "ip-there"), ("NSGroup", "g-there")]


def test_objects_of_two_owners_go_to_two_entries_each_with_its_owner():
    groups = copy.deepcopy([o for o in OBJECTS["ns_group"] if o["display_name"].startswith("nsg-")])
    groups[0]["tags"] = [MANAGED_TAG, {"scope": OWNER_SCOPE, "tag": "team-a"}]
    entries, dummy, dummy2 = exported("ns_group", groups)
    assert [e["options"].get("owner") for e in entries] == ["default", "team-a"]
    assert [i["name"] for i in entries[1]["items"]] == [groups[0]["display_name"]]
    for entry in entries:
        for item in entry["items"]:
            existing = next(g for g in groups if g["display_name"] == item["name"])
            assert planned("ns_group", entry, item, existing, owner="someone-else").action == "none"


# ------------------------------------------------------------------ what is left out


def test_what_the_product_makes_is_skipped_unless_asked_for():
    for kind_name in ("firewall_section", "security_policy"):
        entries, skipped, dummy = exported(kind_name)
        assert [(s["kind"], s["name"]) for s in skipped] == [(kind_name, "Default Layer3 Section")]
        assert "default" in skipped[0]["reason"]
        assert all(i["name"] != "Default Layer3 Section" for e in entries for i in e["items"])
        entries, skipped, dummy = exported(kind_name, include_system=True)
        assert not skipped
        default = [(e, i) for e in entries for i in e["items"] if i["name"] == "Default Layer3 Section"]
        assert len(default) == 1 and "position" not in default[0][1]
    system = [{"id": "s", "display_name": "system", "_system_owned": True},
              {"id": "n", "display_name": "ncp", "_protection": "REQUIRE_OVERRIDE", "_create_user": "ncp-cluster1"},
              {"id": "p", "display_name": "from-policy", "_create_user": "nsx_policy"}]
    entries, skipped, dummy = exported("ns_group", system)
    assert entries == []
    reasons = dict((s["name"], s["reason"]) for s in skipped)
    assert "_system_owned" in reasons["system"] and "ncp-cluster1" in reasons["ncp"] and "Policy API" in reasons["from-policy"]


def _section(rule, **section):
    return dict({"id": "x", "display_name": "odd", "section_type": "LAYER3", "stateful": True, "is_default": False,
                 "rules": [dict({"id": "1", "display_name": "r", "action": "ALLOW"}, **rule)]}, **section)


@pytest.mark.parametrize("section, reason", [
    (_section({"context_profiles": [{"target_type": "NSProfile", "target_id": "p"}]}), "has context_profiles"),
    (_section({"sources": [{"target_type": "LogicalSwitch", "target_id": "ls", "target_display_name": "k8s-x1"}]}),
     "a LogicalSwitch reference (k8s-x1)"),
    (_section({"action": "REDIRECT"}), "acts REDIRECT"),
    (_section({"services": [{"service": {"resource_type": "ALGTypeNSService", "alg": "FTP"}}]}), "ALGTypeNSService service"),
    (_section({"services": [{"service": {"resource_type": "L4PortSetNSService", "l4_protocol": "TCP", "destination_ports": ["80"],
                                         "source_ports": ["1024"]}}]}), "source ports"),
    (_section({}, applied_tos=[{"target_type": "IPSet", "target_id": "i", "target_display_name": "office"}]), "applied_to"),
])
def test_a_section_no_option_can_declare_is_skipped_with_the_reason(section, reason):
    entries, skipped, dummy = exported("firewall_section", [section])
    assert entries == []
    assert len(skipped) == 1 and skipped[0]["name"] == "odd" and reason in skipped[0]["reason"], skipped
    assert skipped[0]["reason"].startswith("cannot be declared with microseg.segmentation.nsxt_firewall_section: ")


@pytest.mark.parametrize("kind_name, obj, reason", [
    ("ns_group", {"id": "g", "display_name": "g", "membership_criteria": [
        {"resource_type": "NSGroupSimpleExpression", "target_type": "VirtualMachine", "target_property": "name", "op": "CONTAINS", "value": "web"}]},
     "NSGroupSimpleExpression"),
    ("ns_group", {"id": "g", "display_name": "g", "members": [
        {"resource_type": "NSGroupSimpleExpression", "target_type": "VirtualMachine", "target_property": "name", "op": "EQUALS", "value": "vm1"}]},
     "matched on name EQUALS"),
    ("policy_group", {"id": "g", "display_name": "g", "parent_path": "/infra/domains/default", "expression": [
        {"resource_type": "Condition", "member_type": "VirtualMachine", "key": "Tag", "operator": "EQUALS", "value": "a|b"},
        {"resource_type": "ConjunctionOperator", "conjunction_operator": "AND"},
        {"resource_type": "Condition", "member_type": "VirtualMachine", "key": "Tag", "operator": "EQUALS", "value": "c|d"},
        {"resource_type": "ConjunctionOperator", "conjunction_operator": "OR"},
        {"resource_type": "IPAddressExpression", "ip_addresses": ["10.0.0.1"]}]}, "mixes AND and OR"),
    ("policy_group", {"id": "g", "display_name": "g", "expression": [{"resource_type": "MACAddressExpression", "mac_addresses": ["aa:bb"]}]},
     "MACAddressExpression"),
    ("security_policy", {"id": "p", "display_name": "p", "parent_path": "/infra/domains/default", "rules": [
        {"id": "r", "display_name": "r", "action": "ALLOW", "services": ["/infra/services/HTTPS"], "sequence_number": 10}]},
     "names services /infra/services/HTTPS"),
    ("security_policy", {"id": "p", "display_name": "p", "rules": [
        {"id": "r", "display_name": "r", "action": "ALLOW", "profiles": ["/infra/context-profiles/SSL"], "sequence_number": 10}]},
     "context profiles"),
    ("security_policy", {"id": "p", "display_name": "p", "rules": [{"id": "r 1", "display_name": "r 1", "action": "ALLOW"}]},
     "the module refuses its export"),
])
def test_an_object_no_option_can_declare_is_skipped_with_the_reason(kind_name, obj, reason):
    entries, skipped, dummy = exported(kind_name, [obj])
    assert entries == [] and len(skipped) == 1 and reason in skipped[0]["reason"], skipped


def test_an_export_the_module_writes_in_its_own_form_is_exported_with_a_note():
    policy = copy.deepcopy(next(o for o in OBJECTS["security_policy"] if o["id"] == "bf-policy"))
    for number, rule in enumerate(policy["rules"], start=1):
        rule["sequence_number"] = number
    entries, skipped, notes = exported("security_policy", [policy])
    assert not skipped and len(entries) == 1
    assert notes == ["security policy 'bf-policy': applying its export writes rules again (the module writes them in its own form: an order, "
                     "sequence numbers or a port list), with the same effect"]


# ------------------------------------------------------------------ references back to names


@pytest.mark.parametrize("ref, option", [
    ({"target_type": "NSGroup", "target_id": "u", "target_display_name": "web"}, "web"),
    ({"target_type": "IPSet", "target_id": "u", "target_display_name": "office"}, "ipset:office"),
    ({"target_type": "IPv6Address", "target_id": "fd00::/64"}, "fd00::/64"),
])
def test_rule_references_back_to_names(ref, option):
    assert ref_option(ref) == option


@pytest.mark.parametrize("ref", [
    {"target_type": "NSGroup", "target_id": "u", "target_display_name": "3tier"},
    {"target_type": "NSGroup", "target_id": "u", "target_display_name": "ipset:x"},
    {"target_type": "NSGroup", "target_id": "u"},
])
def test_a_group_a_rule_cannot_name_is_unexportable(ref):
    with pytest.raises(Unexportable):
        ref_option(ref)


def test_services_back_to_strings():
    assert service_option({"service": {"resource_type": "L4PortSetNSService", "l4_protocol": "UDP", "destination_ports": ["53", "1000-2000"],
                                       "source_ports": []}}) == ["udp/53", "udp/1000:2000"]
    assert service_option({"service": {"resource_type": "ICMPTypeNSService", "protocol": "ICMPv6", "icmp_type": 128, "icmp_code": 0}}) == [
        "icmp6/128/0"]
    assert service_option({"target_type": "NSServiceGroup", "target_id": "g", "target_display_name": "web-ports"}) == ["service:web-ports"]


@pytest.mark.parametrize("value, option", [
    ("/infra/domains/default/groups/web", "web"),
    ("/infra/domains/other/groups/web", "/infra/domains/other/groups/web"),
    ("/infra/domains/default/groups/10-20", "/infra/domains/default/groups/10-20"),
    ("10.0.0.0/8", "10.0.0.0/8"),
    ("ANY", None),
])
def test_policy_group_paths_back_to_ids_of_the_domain(value, option):
    assert group_option(value, "default") == option


# ------------------------------------------------------------------ nsxt_info


class FakeModule:
    def __init__(self, params, check_mode=False):
        self.params = params
        self.check_mode = check_mode


class FakeNsx:
    def __init__(self, lists, version=None):
        self.lists = lists
        self.version = version
        self.calls = []

    def list_all(self, path, params=None):
        self.calls.append(("LIST", path))
        return copy.deepcopy(self.lists.get(path, []))

    def request(self, method, path, **kwargs):
        self.calls.append((method, path))
        assert (method, path) == ("GET", "/api/v1/upgrade/summary")
        if self.version is None:
            raise ApiError("forbidden", status=403, method=method)
        return {"system_version": self.version, "upgrade_status": "NOT_STARTED"}


PARAMS = dict(kind="firewall_section", name=None, domain="default", section_type="LAYER3", members=False, export=True, include_system=False)


def _section_lists():
    sections = copy.deepcopy(OBJECTS["firewall_section"])
    lists = {SECTIONS: [dict((k, v) for k, v in s.items() if k != "rules") for s in sections]}
    for section in sections:
        lists["%s/%s/rules" % (SECTIONS, section["id"])] = section["rules"]
    return lists


def test_nsxt_info_exports_one_named_section_in_its_place_with_the_version():
    connection = FakeNsx(_section_lists(), version="4.1.2.0.0.21761691")
    result = nsxt_info.execute(FakeModule(dict(PARAMS, name="bf-edge")), connection, None)
    assert result["count"] == 1 and result["version"] == "4.1.2.0.0.21761691"
    assert [e["items"][0]["name"] for e in result["exports"]] == ["bf-edge"]
    assert result["exports"][0]["items"][0]["position_anchor"] == "bf-legacy"
    # one list of sections, the rules of the one named, and the version
    assert connection.calls == [("LIST", SECTIONS), ("LIST", "%s/%s/rules" % (SECTIONS, result["objects"][0]["id"])),
                                ("GET", "/api/v1/upgrade/summary")]


def test_nsxt_info_without_export_reads_no_version_and_an_unreadable_version_is_left_out():
    connection = FakeNsx(_section_lists())
    result = nsxt_info.execute(FakeModule(dict(PARAMS, export=False)), connection, None)
    assert "exports" not in result and "version" not in result and ("GET", "/api/v1/upgrade/summary") not in connection.calls
    result = nsxt_info.execute(FakeModule(PARAMS), connection, None)
    assert "version" not in result and len(result["exports"]) == 3 and result["skipped"][0]["name"] == "Default Layer3 Section"


def test_nsxt_info_exports_nsgroup_members_by_name_with_one_read_of_each_other_type():
    groups = copy.deepcopy(OBJECTS["ns_group"])
    connection = FakeNsx({NS_GROUPS: groups, IP_SETS: OBJECTS["ip_set"]})
    result = nsxt_info.execute(FakeModule(dict(PARAMS, kind="ns_group", name="bf-tier")), connection, None)
    assert [i["members"] for e in result["exports"] for i in e["items"]] == [
        [{"target_type": "NSGroup", "name": "bf-web"}, {"target_type": "IPSet", "name": "bf-office"}]]
    assert "warnings" not in result and result["objects"][0]["members"] == groups[2]["members"]
    assert connection.calls == [("LIST", NS_GROUPS), ("LIST", IP_SETS), ("GET", "/api/v1/upgrade/summary")]


def test_nsxt_info_reads_the_manager_inventory_as_plain_lists():
    ports = [{"id": "p%d" % n, "display_name": "x1/service-a-%d" % n, "tags": [{"scope": "app", "tag": "service-a"}]} for n in range(3)]
    connection = FakeNsx({"/api/v1/logical-ports": ports})
    result = nsxt_info.execute(FakeModule(dict(PARAMS, kind="logical_port", export=False, name="x1/service-a-1")), connection, None)
    assert result["objects"] == [ports[1]] and connection.calls == [("LIST", "/api/v1/logical-ports")]


@pytest.mark.parametrize("params, message", [
    (dict(PARAMS, kind="logical_port"), "kind logical_port is read only"),
    (dict(PARAMS, export=False, include_system=True), "only applies with export: true"),
])
def test_nsxt_info_export_options_are_checked(params, message):
    with pytest.raises(ValidationError, match=message):
        nsxt_info.check_options(params)
