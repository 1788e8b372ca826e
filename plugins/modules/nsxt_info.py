#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: nsxt_info
short_description: Read VMware NSX-T groups, their effective members, firewall sections, security policies and the Manager inventory
version_added: 1.0.0
description:
  - Lists Manager API NSGroups and firewall sections (with their rules), or Policy API groups and
    security policies (with their rules), optionally only the one named.
  - Lists the Manager API objects NSX clients name in rules and groups, as NSX holds them (IP sets,
    NSServices and NSService groups, NS profiles, logical ports, switches, routers and router ports).
  - With O(members=true), also reads each group's effective members (IP addresses, and logical ports or
    segment ports), which is how to check that tag criteria select the intended workloads.
  - With O(export=true), also returns the objects as the O(ignore:items) of the list-form module of their
    kind (RV(exports)), for bringing an existing setup under management. Entries come in the order they
    must be applied, one per owner (the objects no owner manages first, without C(owner)). NSGroups and
    Policy groups come one entry per nesting level (a group after the groups it contains), firewall sections
    one entry per section in evaluation order, the first with O(ignore:position=top) and each next one
    with O(ignore:position=after) the one before it (the default section stays last), security policies
    and IP sets one entry. References are by name (NSGroup names, V(ipset:<name>), V(service:<name>),
    Policy group ids of the O(domain)). An object whose API form no option of its module declares (a rule
    with a context profile, a criterion on a VM name...) is not exported; RV(skipped) names it with the
    reason, as it does the objects NSX makes or owns (default sections and policies, system-owned objects,
    objects of another principal identity such as NCP). An object whose export the module would write in
    its own form (rule sequence numbers, a port list as one port per service) is exported with a warning,
    as is an NSGroup with a static member its export gives by id, valid on this NSX Manager only (a member of a
    type without a display name the module resolves, such as a MACSet, or whose name another object of its
    type shares). Other static members (NSGroups, IP sets, logical switches and ports) are given by name.
author: Microseg Segmentation Maintainers (@microseg)
extends_documentation_fragment:
  - microseg.segmentation.nsxt
  - microseg.segmentation.attributes.info
  - microseg.segmentation.nsxt.attributes
  - microseg.segmentation.export
options:
  kind:
    description:
      - What to read. V(ns_group), V(firewall_section), V(policy_group), V(security_policy) and V(ip_set) can
        be exported (O(export)); the other Manager inventory kinds (V(ns_service) to V(logical_router_port))
        are read as NSX returns them.
    type: str
    required: true
    choices: [ns_group, firewall_section, policy_group, security_policy, ip_set, ns_service, ns_service_group, ns_profile,
              logical_port, logical_switch, logical_router, logical_router_port]
  name:
    description: Only the object with this display name.
    type: str
  domain:
    description: The Policy API domain (for V(policy_group) and V(security_policy)).
    type: str
    default: default
  section_type:
    description: The firewall sections to list.
    type: str
    choices: [LAYER3, LAYER2]
    default: LAYER3
  members:
    description: For groups, also read the effective members.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Which pods does each NSGroup select?
  microseg.segmentation.nsxt_info:
    kind: ns_group
    members: true
  register: groups

- name: The rules of one section, in evaluation order
  microseg.segmentation.nsxt_info:
    kind: firewall_section
    name: PtoPDFW-MicroSegmentation

- name: The firewall sections as list-form declarations, in evaluation order
  microseg.segmentation.nsxt_info:
    kind: firewall_section
    export: true
  register: exported

- name: Take them under management as they are (the first run writes only the management tags)
  microseg.segmentation.nsxt_firewall_section:
    items: "{{ item.items }}"
    section_type: "{{ item.options.section_type }}"
    adopt: true
  loop: "{{ exported.exports }}"
  loop_control:
    label: "{{ item.items | map(attribute='name') | join(', ') }}"

- name: The logical ports NCP made for the pods, with their tags
  microseg.segmentation.nsxt_info:
    kind: logical_port
  register: ports
"""

RETURN = r"""
objects:
  description:
    - The objects found. Sections carry their C(rules) in evaluation order; with O(members=true) groups
      carry C(effective_ip_addresses) and C(effective_ports) (ports' display names).
  returned: always
  type: list
  elements: dict
count:
  description: How many objects were found.
  returned: always
  type: int
version:
  description: The NSX version (C(system_version) of C(/api/v1/upgrade/summary)), when NSX answers it.
  returned: when O(export=true)
  type: str
  sample: 3.2.3.0.0.21703624
# common results: generated by tests/tools/item_docs.py; do not edit by hand
exports:
  description:
  - 'With O(export=true), the objects as list-form declarations, one entry per module and placement, in the order they must
    be applied: C(module) (the list-form module), C(options) (its task-level options that place the items: a namespace, domain,
    section or workspace), C(items) (the items, with the module''s option names) and, when an object has one, C(secrets) (the
    secret options a read gives back only masked, as C(<name>.<option>): set them before applying the entry to another console).'
  elements: dict
  returned: when O(export=true)
  sample:
  - items:
    - name: allow-dns
      outgoing_rules:
      - object:
        - - externalnetwork:name=dns
        protocol_ports:
        - udp/53
      subject:
      - - app=web
    module: microseg.segmentation.prisma_network_ruleset
    options:
      namespace: /acme/prod
  type: list
skipped:
  description:
  - With O(export=true), the objects left out because the product makes them by itself (O(include_system) exports them), each
    as its C(kind), C(name) and C(reason).
  elements: dict
  returned: when O(export=true)
  sample:
  - kind: service_dependency_policy
    name: default
    reason: made by the product with every namespace
  type: list
# end of common results
"""

from ansible_collections.microseg.segmentation.plugins.module_utils._core.checkmode import Notes, add_warnings, missing_container, warn, warnings_of
from ansible_collections.microseg.segmentation.plugins.module_utils._core.export import export_argument_spec
from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import ApiError
from ansible_collections.microseg.segmentation.plugins.module_utils._core.runner import run_module
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.common import NsxtConnection, nsxt_argument_spec
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.export import export
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.ip_set import IP_SET
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.kinds import FIREWALL_SECTION, NS_GROUP, POLICY_GROUP, SECURITY_POLICY
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.manager import API, NS_GROUPS, SECTIONS
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.policy import POLICY_BASE

# the kinds an export declares, with the Kind of their list-form module
EXPORTS = {"ns_group": NS_GROUP, "firewall_section": FIREWALL_SECTION, "policy_group": POLICY_GROUP, "security_policy": SECURITY_POLICY,
           "ip_set": IP_SET}
# the Manager inventory: plain paged lists
INVENTORY = {
    "ip_set": "/ip-sets",
    "ns_service": "/ns-services",
    "ns_service_group": "/ns-service-groups",
    "ns_profile": "/ns-profiles",
    "logical_port": "/logical-ports",
    "logical_switch": "/logical-switches",
    "logical_router": "/logical-routers",
    "logical_router_port": "/logical-router-ports",
}
KINDS = ["ns_group", "firewall_section", "policy_group", "security_policy"] + list(INVENTORY)
UPGRADE_SUMMARY = API + "/upgrade/summary"


def _names(results):
    return [r.get("display_name") or r.get("target_display_name") or r.get("id") or r.get("target_id") for r in results]


def check_options(params):
    if params["export"] and params["kind"] not in EXPORTS:
        raise ValidationError("export", "exports %s; kind %s is read only" % (", ".join(EXPORTS), params["kind"]))
    if params["include_system"] and not params["export"]:
        raise ValidationError("include_system", "only applies with export: true")


def execute(module, connection, prepared):
    params = module.params
    notes = Notes()
    listed = list_objects(connection, params, check_mode=module.check_mode, notes=notes)
    objects = expand(connection, params, select(listed, params))
    result = dict(objects=objects, count=len(objects))
    if params.get("export"):
        kind = params["kind"]
        result["exports"], result["skipped"], rewritten = export(
            kind, EXPORTS[kind], objects, domain=params["domain"], section_type=params["section_type"], ordered=listed,
            include_system=params.get("include_system", False), connection=connection)
        for note in rewritten:
            warn(notes, note)
        version = read_version(connection)
        if version is not None:
            result["version"] = version
    return add_warnings(result, warnings_of(notes))


def read(connection, params, check_mode=False, notes=None):
    """The objects of the task's kind (and name), expanded (sections and policies with their rules,
    groups with their effective members when asked)."""
    return expand(connection, params, select(list_objects(connection, params, check_mode=check_mode, notes=notes), params))


def _base(params):
    kind, domain = params["kind"], params["domain"]
    if kind == "ns_group":
        return NS_GROUPS, None
    if kind == "firewall_section":
        return SECTIONS, {"type": params["section_type"]}
    if kind in INVENTORY:
        return API + INVENTORY[kind], None
    collection = "groups" if kind == "policy_group" else "security-policies"
    return "%s/infra/domains/%s/%s" % (POLICY_BASE, domain, collection), None


def list_objects(connection, params, check_mode=False, notes=None):
    """Every object of the task's kind, in the order NSX lists them (sections: evaluation order)."""
    base, query = _base(params)
    try:
        return connection.list_all(base, params=query)
    except ApiError as exc:
        # check mode: a domain an earlier task of the play would create is empty (_core/checkmode.py)
        if not (check_mode and exc.status == 404 and base.startswith(POLICY_BASE)):
            raise
        warn(notes, missing_container("domain %s" % params["domain"]))
        return []


def select(objects, params):
    if params["name"] is None:
        return list(objects)
    return [o for o in objects if o.get("display_name") == params["name"]]


def expand(connection, params, objects):
    kind = params["kind"]
    base, dummy = _base(params)
    for obj in objects:
        if kind == "firewall_section":
            obj["rules"] = connection.list_all("%s/%s/rules" % (SECTIONS, obj["id"]))
        elif kind == "security_policy" and "rules" not in obj:
            obj["rules"] = connection.list_all("%s/%s/rules" % (base, obj["id"]))
        elif params["members"] and kind == "ns_group":
            path = "%s/%s" % (NS_GROUPS, obj["id"])
            obj["effective_ip_addresses"] = connection.list_all(path + "/effective-ip-address-members")
            obj["effective_ports"] = _names(connection.list_all(path + "/effective-logical-port-members"))
        elif params["members"] and kind == "policy_group":
            path = "%s/%s/members" % (base, obj["id"])
            obj["effective_ip_addresses"] = connection.list_all(path + "/ip-addresses")
            obj["effective_ports"] = _names(connection.list_all(path + "/segment-ports"))
    return objects


def read_version(connection):
    """The NSX version, or None when the upgrade summary cannot be read (a role without it, an old release)."""
    try:
        summary = connection.request("GET", UPGRADE_SUMMARY) or {}
    except ApiError:
        return None
    return summary.get("system_version")


def main():
    argument_spec = nsxt_argument_spec()
    argument_spec.update(
        kind=dict(type="str", required=True, choices=KINDS),
        name=dict(type="str"),
        domain=dict(type="str", default="default"),
        section_type=dict(type="str", choices=["LAYER3", "LAYER2"], default="LAYER3"),
        members=dict(type="bool", default=False),
    )
    argument_spec.update(export_argument_spec())
    run_module(argument_spec, execute, connect=NsxtConnection, prepare=check_options)


if __name__ == "__main__":
    main()
