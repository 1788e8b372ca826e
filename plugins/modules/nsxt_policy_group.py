#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: nsxt_policy_group
short_description: Manage VMware NSX-T Policy API groups
version_added: 1.0.0
description:
  - Create, update and delete groups of the NSX-T Policy API (C(/infra/domains/<domain>/groups/<id>)),
    whose members are chosen by tag conditions, IP addresses, paths or external ids.
  - The group's expression is built from O(criteria) (each criterion is an AND of conditions, and the
    criteria are alternatives), then O(ip_addresses), O(paths) and O(external_ids), all combined with OR.
  - A single object is read with one GET by id and written with one PUT; the list form reads the
    domain's groups once and applies every change in one hierarchical PATCH of C(/infra).
author: Microseg Segmentation Maintainers (@microseg)
extends_documentation_fragment:
  - microseg.segmentation.nsxt
  - microseg.segmentation.nsxt.object
  - microseg.segmentation.nsxt.policy
  - microseg.segmentation.attributes
  - microseg.segmentation.nsxt.attributes
options:
  name:
    description: Display name of the group, and its id unless O(id) is set. Required unless O(items) is used.
    type: str
  criteria:
    description:
      - Membership criteria, combined with OR. At most 5 conditions in all.
    type: list
    elements: dict
    suboptions:
      conditions:
        description: Conditions that must all hold (AND); they must share one member type.
        type: list
        elements: dict
        required: true
        suboptions:
          member_type:
            description: The kind of member the condition selects.
            type: str
            required: true
            choices: [IPSet, VirtualMachine, LogicalPort, LogicalSwitch, Segment, SegmentPort, Pod, Service, Namespace, TransportNode,
                      Group, DVPG, DVPort, IPAddress, KubernetesCluster, KubernetesNamespace, KubernetesService, KubernetesNode]
          key:
            description: What the condition looks at.
            type: str
            default: Tag
            choices: [Tag, Name, OSName, ComputerName, NodeType, GroupType, ALL, IPAddress, PodCidr, OSVersion]
          operator:
            description: How the value is compared (NSX compares without regard to case).
            type: str
            default: EQUALS
            choices: [EQUALS, CONTAINS, STARTSWITH, ENDSWITH, NOTEQUALS, IN, NOTIN, MATCHES]
          value:
            description: The value; for O(criteria[].conditions[].key=Tag) written C(scope|tag).
            type: str
          tag:
            description: Shorthand for a tag value, C(scope|tag), or C(tag) alone to match that tag under any scope.
            type: str
  ip_addresses:
    description: IP addresses, CIDRs or ranges (C(10.0.0.1-10.0.0.9)) that are members.
    type: list
    elements: str
  paths:
    description: Policy paths of groups, segments or segment ports that are members.
    type: list
    elements: str
  external_ids:
    description: External ids (for virtual machines, their instance UUID) of members.
    type: list
    elements: str
  external_id_member_type:
    description: The member type of O(external_ids).
    type: str
    default: VirtualMachine
    choices: [VirtualMachine, VirtualNetworkInterface, CloudNativeServiceInstance, PhysicalServer]
seealso:
  - module: microseg.segmentation.nsxt_security_policy
  - module: microseg.segmentation.vsphere_vm_membership
"""

EXAMPLES = r"""
- name: The pods of service-a in Kubernetes namespace x1
  microseg.segmentation.nsxt_policy_group:
    host: nsx.example.com
    name: service-a
    criteria:
      - conditions:
          - {member_type: SegmentPort, tag: "app|service-a"}
          - {member_type: SegmentPort, tag: "ncp/project|x1"}

- name: Every group of the application in one task
  microseg.segmentation.nsxt_policy_group:
    purge: true
    items:
      - name: web
        criteria: [{conditions: [{member_type: VirtualMachine, tag: "app|web"}]}]
      - name: monitoring
        ip_addresses: [10.10.0.0/24]
"""

RETURN = r"""
id:
  description: The policy path of the group.
  returned: single object
  type: str
  sample: /infra/domains/default/groups/web
action:
  description: What the task did or, in check mode, would do (V(create), V(update), V(delete) or V(none)).
  returned: single object
  type: str
object:
  description: The group as NSX returned it (predicted in check mode).
  returned: single object
  type: dict
summary:
  description: Ids of the groups created, updated, deleted and left unchanged.
  returned: list form
  type: dict
objects:
  description: One entry per group with its id, action and path.
  returned: list form
  type: list
  elements: dict
"""

from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Field, Kind
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.module import COMMON_FIELDS, NsxtPolicyModule, build_common, common_spec
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.policy import (
    KEYS,
    MEMBER_TYPES,
    OPERATORS,
    PolicyAdapter,
    build_group_expression,
    canon_expression,
    check_id,
)

KIND = Kind("Group", "group", COMMON_FIELDS + [Field("criteria", "expression", compare=canon_expression, empty=[])], identity="id")

CONDITION_SPEC = dict(
    member_type=dict(type="str", required=True, choices=list(MEMBER_TYPES)),
    key=dict(type="str", default="Tag", choices=list(KEYS)),
    operator=dict(type="str", default="EQUALS", choices=list(OPERATORS)),
    value=dict(type="str"),
    tag=dict(type="str"),
)

OBJECT_SPEC = common_spec()
OBJECT_SPEC.update(
    criteria=dict(type="list", elements="dict", options=dict(conditions=dict(type="list", elements="dict", required=True, options=CONDITION_SPEC))),
    ip_addresses=dict(type="list", elements="str"),
    paths=dict(type="list", elements="str"),
    external_ids=dict(type="list", elements="str"),
    external_id_member_type=dict(type="str", default="VirtualMachine",
                                 choices=["VirtualMachine", "VirtualNetworkInterface", "CloudNativeServiceInstance", "PhysicalServer"]),
)


def build(params, prefix):
    check_id(params.get("id") or params["name"], prefix + ("id" if params.get("id") else "name"))
    desired = build_common(params, prefix)
    criteria = [c["conditions"] for c in params.get("criteria") or []]
    if any(params.get(k) is not None for k in ("criteria", "ip_addresses", "paths", "external_ids")):
        desired["expression"] = build_group_expression(dict(params, criteria=criteria), prefix)
    return desired


def main():
    NsxtPolicyModule(KIND, "groups", OBJECT_SPEC, build, PolicyAdapter).run()


if __name__ == "__main__":
    main()
