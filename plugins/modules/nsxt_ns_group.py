#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: nsxt_ns_group
short_description: Manage VMware NSX-T Manager API NSGroups
version_added: 1.0.0
description:
  - Create, update and delete NSGroups of the NSX-T Manager API (C(/api/v1/ns-groups)), with tag
    membership criteria (such as the tags the NSX container plugin copies from pod labels onto logical
    ports) and static members.
  - NSGroups are found by display name. The Manager API has no name filter and pages NSGroups by 50, so
    finding one reads the list (one request per 50 groups); a no-change run sends no write.
author: Microseg Segmentation Maintainers (@microseg)
extends_documentation_fragment:
  - microseg.segmentation.nsxt
  - microseg.segmentation.nsxt.object
  - microseg.segmentation.attributes
  - microseg.segmentation.nsxt.attributes
options:
  name:
    description: Display name of the NSGroup, unique among NSGroups. Required unless O(items) is used.
    type: str
  criteria:
    description:
      - Membership criteria; an object that matches any of them is a member (at most 5). Each is one
        tag expression, or O(criteria[].all), an AND of 2 to 5 tag expressions.
      - Compared without regard to order.
    type: list
    elements: dict
    suboptions:
      target_type:
        description: The kind of object whose tags are matched.
        type: str
        choices: [LogicalPort, LogicalSwitch, VirtualMachine, IPSet]
      scope:
        description: The tag scope to match (for example V(app) or V(ncp/project)).
        type: str
      tag:
        description: The tag value to match.
        type: str
      tag_op:
        description: How the tag is compared; LogicalPort and LogicalSwitch only support V(equals).
        type: str
        choices: [equals, contains, startswith, endswith]
        default: equals
      all:
        description: Tag expressions that must all match (2 to 5), each with target_type, scope, tag and tag_op.
        type: list
        elements: dict
        suboptions:
          target_type:
            description: The kind of object whose tags are matched.
            type: str
            required: true
            choices: [LogicalPort, LogicalSwitch, VirtualMachine, IPSet]
          scope:
            description: The tag scope to match.
            type: str
          tag:
            description: The tag value to match.
            type: str
          tag_op:
            description: How the tag is compared.
            type: str
            choices: [equals, contains, startswith, endswith]
            default: equals
  members:
    description: Static members by id (at most 500; virtual machines only through criteria). Compared without regard to order.
    type: list
    elements: dict
    suboptions:
      target_type:
        description: The kind of member.
        type: str
        required: true
        choices: [NSGroup, IPSet, MACSet, LogicalSwitch, LogicalPort, VirtualNetworkInterface, DirectoryGroup, TransportNode]
      value:
        description: The member's id.
        type: str
        required: true
seealso:
  - module: microseg.segmentation.nsxt_firewall_section
"""

EXAMPLES = r"""
- name: The pods labelled app=service-a in Kubernetes namespace x1
  microseg.segmentation.nsxt_ns_group:
    host: nsx.example.com
    name: service-a
    criteria:
      - all:
          - {target_type: LogicalPort, scope: app, tag: service-a}
          - {target_type: LogicalPort, scope: ncp/project, tag: x1}

- name: VMs whose owner tag starts with team-
  microseg.segmentation.nsxt_ns_group:
    name: team-vms
    criteria:
      - {target_type: VirtualMachine, scope: owner, tag: team-, tag_op: startswith}
"""

RETURN = r"""
id:
  description: The NSGroup's id.
  returned: single object
  type: str
action:
  description: What the task did or, in check mode, would do (V(create), V(update), V(delete) or V(none)).
  returned: single object
  type: str
object:
  description: The NSGroup as NSX returned it (predicted in check mode).
  returned: single object
  type: dict
summary:
  description: Names of the NSGroups created, updated, deleted and left unchanged.
  returned: list form
  type: dict
objects:
  description: One entry per NSGroup with its name, action and id.
  returned: list form
  type: list
  elements: dict
"""

from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Field, Kind
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.manager import (
    NsGroupAdapter,
    build_criteria,
    build_members,
    canon_criteria,
    canon_members,
)
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.module import COMMON_FIELDS, NsxtManagerModule, build_common, common_spec

TARGET_TYPES = ["LogicalPort", "LogicalSwitch", "VirtualMachine", "IPSet"]
TAG_OPS = ["equals", "contains", "startswith", "endswith"]

KIND = Kind(
    "NSGroup",
    "NSGroup",
    COMMON_FIELDS + [
        Field("criteria", "membership_criteria", compare=canon_criteria, empty=[]),
        Field("members", "members", compare=canon_members, empty=[]),
    ],
    identity="display_name",
)

TAG_SPEC = dict(
    target_type=dict(type="str", required=True, choices=TARGET_TYPES),
    scope=dict(type="str"),
    tag=dict(type="str"),
    tag_op=dict(type="str", choices=TAG_OPS, default="equals"),
)
OBJECT_SPEC = common_spec()
OBJECT_SPEC.update(
    criteria=dict(type="list", elements="dict", options=dict(
        target_type=dict(type="str", choices=TARGET_TYPES),
        scope=dict(type="str"),
        tag=dict(type="str"),
        tag_op=dict(type="str", choices=TAG_OPS, default="equals"),
        all=dict(type="list", elements="dict", options=TAG_SPEC),
    )),
    members=dict(type="list", elements="dict", options=dict(
        target_type=dict(type="str", required=True, choices=["NSGroup", "IPSet", "MACSet", "LogicalSwitch", "LogicalPort",
                                                             "VirtualNetworkInterface", "DirectoryGroup", "TransportNode"]),
        value=dict(type="str", required=True),
    )),
)


def build(params, prefix):
    desired = build_common(params, prefix)
    if params.get("criteria") is not None:
        desired["membership_criteria"] = build_criteria(params["criteria"], prefix)
    if params.get("members") is not None:
        desired["members"] = build_members(params["members"], prefix)
    return desired


def main():
    NsxtManagerModule(KIND, "ns-groups", OBJECT_SPEC, build, NsGroupAdapter).run()


if __name__ == "__main__":
    main()
