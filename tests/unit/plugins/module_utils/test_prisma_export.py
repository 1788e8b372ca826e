# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prisma export (``_prisma/export.py``): every object the scenarios leave, exported and built again,
plans no change on the object it came from; what an export leaves out, and how it orders and groups."""

import copy
import json
from pathlib import Path

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.microseg.segmentation.plugins.module_utils._core.ownership import Ownership
from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import plan
from ansible_collections.microseg.segmentation.plugins.module_utils._core.adapter import Task
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.common import MANAGED_TAG, OWNER_TAG_PREFIX, PrismaTags
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.export import APPLY_ORDER, export
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.kinds import OBJECTS, external_network_tags

# the objects the namespace guide and the three TCP-service scenarios leave in the lab, as read
SCENARIOS = json.loads((Path(__file__).parent / "fixtures" / "prisma_scenario_objects.json").read_text())


def planned(kind_name, item, existing, owner, adopt):
    """The change applying ``item`` (an exported list-form item) to ``existing`` plans, as the module would."""
    kind = OBJECTS[kind_name][0]
    result = ArgumentSpecValidator(kind.item_spec()).validate(copy.deepcopy(item))
    assert not result.errors.errors, result.errors.errors
    values = dict((k, v) for k, v in result.validated_parameters.items() if v is not None)
    task = Task({}, ownership=Ownership(PrismaTags(), owner=owner, adopt=adopt, reserved_names=kind.reserved_names))
    desired = kind.build(values, "", task)
    name = existing["name"]
    required = external_network_tags(name) if kind_name == "external_network" else []
    desired["associatedTags"] = task.ownership.tags(item["name"], desired.get("associatedTags"), existing, required)
    return plan(kind, item["name"], desired, existing, "present")


def _exported(kind_name, objects):
    entries, skipped = export(kind_name, objects)
    by_key = dict(((o.get("namespace"), o["name"].rsplit("/", 1)[-1] if kind_name == "namespace" else o["name"]), o) for o in objects)
    pairs = []
    for entry in entries:
        for item in entry["items"]:
            parent = entry["options"]["namespace"]
            pairs.append((entry, item, by_key[(parent, item["name"])]))
    return pairs, skipped


@pytest.mark.parametrize("kind_name", [k for k in APPLY_ORDER if SCENARIOS[k]])
def test_the_export_of_what_the_scenarios_leave_writes_nothing_back(kind_name):
    pairs, dummy = _exported(kind_name, SCENARIOS[kind_name])
    assert pairs
    for entry, item, existing in pairs:
        change = planned(kind_name, item, existing, entry["options"].get("owner"), adopt=True)
        assert change.action == "none", (item, change.fields)


@pytest.mark.parametrize("kind_name", [k for k in APPLY_ORDER if SCENARIOS[k]])
def test_objects_made_by_hand_are_taken_over_by_writing_their_tags_only(kind_name):
    unmanaged = copy.deepcopy(SCENARIOS[kind_name])
    for obj in unmanaged:
        obj["associatedTags"] = [t for t in obj.get("associatedTags") or [] if t != MANAGED_TAG and not t.startswith(OWNER_TAG_PREFIX)]
    pairs, dummy = _exported(kind_name, unmanaged)
    for entry, item, existing in pairs:
        assert "owner" not in entry["options"]
        change = planned(kind_name, item, existing, "platform", adopt=True)
        if item["name"] in OBJECTS[kind_name][0].reserved_names:
            # the product's own object is never tagged: nothing to take over
            assert change.action == "none"
            continue
        assert (change.action, change.fields) == ("update", ["associatedTags"]), item
        assert MANAGED_TAG in change.body["associatedTags"] and OWNER_TAG_PREFIX + "platform" in change.body["associatedTags"]


def test_an_export_speaks_option_names_and_leaves_out_defaults_marks_and_read_only_attributes():
    pairs, dummy = _exported("network_ruleset", SCENARIOS["network_ruleset"])
    item = next(i for e, i, o in pairs if i["name"] == "allow-dns")
    assert item == {"name": "allow-dns", "subject": [["$identity=processingunit", "$namespace=/acme/aws-dev/k8s/hipster-shop"]],
                    "outgoing_rules": [{"object": [["externalnetwork:name=dns"]], "protocol_ports": ["udp/53"]}]}
    networks, dummy = _exported("external_network", SCENARIOS["external_network"])
    dns = next(i for e, i, o in networks if i["name"] == "DNS")
    # the tag the guide selects it by stays; the one the module adds by itself goes
    assert dns["tags"] == ["externalnetwork:name=dns"]
    services, dummy = _exported("tcp_service", SCENARIOS["tcp_service"])
    tls = dict((i["name"], i.get("tls_mode")) for e, i, o in services)
    assert tls["web-custom"] == "custom" and tls["web-public-ca"] is None and tls["web-none"] == "none"


def test_a_secret_is_left_out_and_named():
    entries, dummy = export("tcp_service", SCENARIOS["tcp_service"])
    custom = next(e for e in entries if any(i["name"] == "web-custom" for i in e["items"]))
    assert custom["secrets"] == ["web-custom.tls_certificate_key"]
    assert all("tls_certificate_key" not in i for e in entries for i in e["items"])


def test_default_dependency_policies_are_skipped_unless_changed_or_asked_for():
    objects = SCENARIOS["service_dependency_policy"]
    entries, skipped = export("service_dependency_policy", objects)
    defaults = [o for o in objects if o["name"] == "default"]
    changed = [o["namespace"] for o in defaults if o["disabled"]]
    # the TCP-service scenarios disable two of them, which an export must carry to keep their flow tables
    assert sorted(changed) == ["/acme/hosts", "/acme/k8s-nlb"]
    assert sorted(s["name"] for s in skipped) == ["default"] * (len(defaults) - 2)
    exported = [(e["options"]["namespace"], i) for e in entries for i in e["items"] if i["name"] == "default"]
    assert sorted(n for n, i in exported) == sorted(changed) and all(i["disabled"] is True for n, i in exported)
    entries, skipped = export("service_dependency_policy", objects, include_system=True)
    assert not skipped and sum(len(e["items"]) for e in entries) == len(objects)


def test_namespaces_come_before_what_they_hold_and_in_their_parents_list_form():
    entries, dummy = export("namespace", SCENARIOS["namespace"])
    parents = [e["options"]["namespace"] for e in entries]
    assert parents == sorted(parents, key=lambda n: (n.count("/"), n))
    assert all("/" not in i["name"] for e in entries for i in e["items"])


def test_objects_of_two_owners_go_to_two_entries_each_with_its_owner():
    rulesets = copy.deepcopy([o for o in SCENARIOS["network_ruleset"] if o["namespace"] == "/acme/aws-dev/k8s/hipster-shop"])
    rulesets[0]["associatedTags"] = [t for t in rulesets[0]["associatedTags"] if not t.startswith(OWNER_TAG_PREFIX)] + [OWNER_TAG_PREFIX + "shop"]
    entries, dummy = export("network_ruleset", rulesets)
    owners = [e["options"].get("owner") for e in entries]
    assert owners == ["default", "shop"]
    assert [i["name"] for i in entries[1]["items"]] == [rulesets[0]["name"]]


def test_enforcer_profiles_and_their_mappings_export_with_their_defaults_left_out():
    profile = {"ID": "5f0c", "name": "hosts", "namespace": "/acme", "createTime": "2026-12-01T10:00:00Z", "protected": False,
               "propagate": True, "targetNetworks": ["10.0.0.0/8", "!10.9.0.0/16"], "targetUDPNetworks": [], "excludedNetworks": [],
               "excludedInterfaces": ["docker0"], "ignoreExpression": [], "trustedCAs": [], "flowReportInterval": "30m",
               "associatedTags": [MANAGED_TAG, OWNER_TAG_PREFIX + "platform"], "normalizedTags": ["$name=hosts"]}
    mapping = {"ID": "5f0d", "name": "hosts", "namespace": "/acme", "subject": [["$identity=enforcerprofile", "$name=hosts"]],
               "object": [["$identity=enforcer", "role=host"]], "propagate": True, "disabled": False, "fallback": False,
               "protected": False, "associatedTags": []}
    entries, dummy = export("enforcer_profile", [profile])
    assert entries == [{"module": "microseg.segmentation.prisma_enforcer_profile", "options": {"namespace": "/acme", "owner": "platform"},
                        "items": [{"name": "hosts", "propagate": True, "target_networks": ["10.0.0.0/8", "!10.9.0.0/16"],
                                   "excluded_interfaces": ["docker0"]}]}]
    assert planned("enforcer_profile", entries[0]["items"][0], profile, "platform", adopt=True).action == "none"
    entries, dummy = export("enforcer_profile_mapping", [mapping])
    item = entries[0]["items"][0]
    assert "owner" not in entries[0]["options"] and "disabled" not in item and item["propagate"] is True
    change = planned("enforcer_profile_mapping", item, mapping, "default", adopt=True)
    assert (change.action, change.fields) == ("update", ["associatedTags"])
