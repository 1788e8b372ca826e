#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: nsxt_info
short_description: Read VMware NSX-T groups, their effective members, firewall sections and security policies
version_added: 1.0.0
description:
  - Lists Manager API NSGroups and firewall sections (with their rules), or Policy API groups and
    security policies (with their rules), optionally only the one named.
  - With O(members=true), also reads each group's effective members (IP addresses, and logical ports or
    segment ports), which is how to check that tag criteria select the intended workloads.
author: Microseg Segmentation Maintainers (@microseg)
extends_documentation_fragment:
  - microseg.segmentation.nsxt
  - microseg.segmentation.attributes.info
  - microseg.segmentation.nsxt.attributes
options:
  kind:
    description: What to read.
    type: str
    required: true
    choices: [ns_group, firewall_section, policy_group, security_policy]
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
"""

from ansible_collections.microseg.segmentation.plugins.module_utils._core.checkmode import Notes, add_warnings, missing_container, warn, warnings_of
from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import ApiError
from ansible_collections.microseg.segmentation.plugins.module_utils._core.runner import run_module
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.common import NsxtConnection, nsxt_argument_spec
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.manager import NS_GROUPS, SECTIONS
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.policy import POLICY_BASE


def _names(results):
    return [r.get("display_name") or r.get("target_display_name") or r.get("id") or r.get("target_id") for r in results]


def execute(module, connection, prepared):
    notes = Notes()
    objects = read(connection, module.params, check_mode=module.check_mode, notes=notes)
    return add_warnings(dict(objects=objects, count=len(objects)), warnings_of(notes))


def read(connection, params, check_mode=False, notes=None):
    kind, domain = params["kind"], params["domain"]
    if kind == "ns_group":
        base, query = NS_GROUPS, None
    elif kind == "firewall_section":
        base, query = SECTIONS, {"type": params["section_type"]}
    else:
        collection = "groups" if kind == "policy_group" else "security-policies"
        base, query = "%s/infra/domains/%s/%s" % (POLICY_BASE, domain, collection), None
    try:
        objects = connection.list_all(base, params=query)
    except ApiError as exc:
        # check mode: a domain an earlier task of the play would create is empty (_core/checkmode.py)
        if not (check_mode and exc.status == 404 and base.startswith(POLICY_BASE)):
            raise
        warn(notes, missing_container("domain %s" % domain))
        objects = []
    if params["name"] is not None:
        objects = [o for o in objects if o.get("display_name") == params["name"]]
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


def main():
    argument_spec = nsxt_argument_spec()
    argument_spec.update(
        kind=dict(type="str", required=True, choices=["ns_group", "firewall_section", "policy_group", "security_policy"]),
        name=dict(type="str"),
        domain=dict(type="str", default="default"),
        section_type=dict(type="str", choices=["LAYER3", "LAYER2"], default="LAYER3"),
        members=dict(type="bool", default=False),
    )
    run_module(argument_spec, execute, connect=NsxtConnection)


if __name__ == "__main__":
    main()
