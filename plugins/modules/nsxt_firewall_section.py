#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: nsxt_firewall_section
short_description: Manage VMware NSX-T Manager API distributed firewall sections and their rules
version_added: 1.0.0
description:
  - Create, update, move and delete distributed firewall sections of the NSX-T Manager API
    (C(/api/v1/firewall/sections)) together with their ordered rules.
  - The declared rules are the section's rules. They are applied in one call (C(create_with_rules),
    C(update_with_rules), or C(revise_with_rules) when the section also moves), so a partly applied
    section never exists. Rules keep their ids when their names stay the same.
  - A revision conflict (another writer changed the section) is re-read and retried, up to three times.
  - Rule endpoints name NSGroups by display name, or give IP addresses and CIDRs; a group that does not
    exist fails the task before any write.
author: Microseg Segmentation Maintainers (@microseg)
extends_documentation_fragment:
  - microseg.segmentation.nsxt
  - microseg.segmentation.nsxt.object
  - microseg.segmentation.attributes
  - microseg.segmentation.nsxt.attributes
options:
  name:
    description: Display name of the section, unique among sections of its type. Required unless O(items) is used.
    type: str
  section_type:
    description: The sections the task works on; a new section gets this type.
    type: str
    choices: [LAYER3, LAYER2]
    default: LAYER3
  stateful:
    description: Track connections. Required to create a section; layer 2 sections are stateless.
    type: bool
  tcp_strict:
    description: Drop TCP packets that do not belong to a connection begun with a SYN.
    type: bool
  applied_to:
    description:
      - NSGroups (by name) the section is applied to; it takes precedence over the rules' own. Leave it out to
        apply the section everywhere; an empty list is refused, since it is usually a variable that came out empty.
    type: list
    elements: str
  position:
    description:
      - Where the section sits in the firewall. V(top) and V(bottom) (just above the default section), or
        V(before) and V(after) the section named in O(position_anchor). A section found elsewhere is moved.
      - Left out, a new section goes on top and an existing one stays where it is.
    type: str
    choices: [top, bottom, before, after]
  position_anchor:
    description: The section that O(position=before) or O(position=after) refers to.
    type: str
  rules:
    description: The rules, in the order NSX evaluates them (first match wins).
    type: list
    elements: dict
    suboptions:
      name:
        description: Rule name, unique in the section.
        type: str
        required: true
      action:
        description: What happens to matching traffic.
        type: str
        required: true
        choices: [allow, drop, reject]
      sources:
        description: NSGroup names, IP addresses or CIDRs; leave out for any.
        type: list
        elements: str
      destinations:
        description: Like O(rules[].sources).
        type: list
        elements: str
      services:
        description: Protocols and ports such as V(tcp/443), V(udp/53), V(tcp/8000:8080), V(icmp/8/0); V(any) for every service.
        type: list
        elements: str
        default: [any]
      applied_to:
        description: NSGroup names the rule is applied to.
        type: list
        elements: str
      direction:
        description: Traffic direction the rule matches (used by stateless sections).
        type: str
        choices: [in, out, in_out]
        default: in_out
      ip_protocol:
        description: IP versions the rule matches.
        type: str
        choices: [ipv4, ipv6, ipv4_ipv6]
        default: ipv4_ipv6
      logged:
        description: Log matching traffic.
        type: bool
        default: false
      disabled:
        description: Keep the rule but do not enforce it.
        type: bool
        default: false
      sources_excluded:
        description: Match everything but the sources.
        type: bool
        default: false
      destinations_excluded:
        description: Match everything but the destinations.
        type: bool
        default: false
      notes:
        description: Free text, at most 2048 characters.
        type: str
seealso:
  - module: microseg.segmentation.nsxt_ns_group
"""

EXAMPLES = r"""
- name: The workload-isolation section of the NSX container plugin guide
  microseg.segmentation.nsxt_firewall_section:
    host: nsx.example.com
    name: PtoPDFW-MicroSegmentation
    stateful: true
    applied_to: [service-b, service-c, service-d]
    position: top
    rules:
      - {name: c-to-d, action: allow, sources: [service-c], destinations: [service-d]}
      - {name: b-to-c, action: allow, sources: [service-b], destinations: [service-c]}
      - {name: a-to-c, action: allow, sources: [service-a], destinations: [service-c]}
      - {name: a-to-b, action: allow, sources: [service-a], destinations: [service-b]}
      - {name: DenyAll, action: reject}
"""

RETURN = r"""
id:
  description: The section's id.
  returned: single object
  type: str
action:
  description: What the task did or, in check mode, would do (V(create), V(update), V(delete) or V(none)).
  returned: single object
  type: str
object:
  description: The section with its rules as NSX returned them (predicted in check mode).
  returned: single object
  type: dict
summary:
  description: Names of the sections created, updated, deleted and left unchanged.
  returned: list form
  type: dict
objects:
  description: One entry per section with its name, action and id.
  returned: list form
  type: list
  elements: dict
"""

from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Field, Kind
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.manager import (
    SectionAdapter,
    build_section_rules,
    canon_refs,
    canon_section_rules,
    references,
)
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.module import COMMON_FIELDS, NsxtManagerModule, build_common, common_spec, rule_spec

KIND = Kind(
    "FirewallSection",
    "firewall section",
    COMMON_FIELDS + [
        Field("section_type", "section_type", create_only=True, empty="LAYER3"),
        Field("stateful", "stateful", create_only=True, empty=True),
        Field("tcp_strict", "tcp_strict", empty=False),
        Field("applied_to", "applied_tos", compare=canon_refs, empty=[]),
        Field("rules", "rules", compare=canon_section_rules, empty=[]),
    ],
    create_requires=[("stateful", "stateful")],
    identity="display_name",
)

RULE_SPEC = rule_spec(["allow", "drop", "reject"])

OBJECT_SPEC = common_spec()
OBJECT_SPEC.update(
    stateful=dict(type="bool"),
    tcp_strict=dict(type="bool"),
    applied_to=dict(type="list", elements="str"),
    position=dict(type="str", choices=["top", "bottom", "before", "after"]),
    position_anchor=dict(type="str"),
    rules=dict(type="list", elements="dict", options=RULE_SPEC),
)


def build(params, prefix, section_type="LAYER3"):
    desired = build_common(params, prefix)
    for option in ("stateful", "tcp_strict"):
        if params.get(option) is not None:
            desired[option] = params[option]
    if section_type == "LAYER2" and params.get("stateful"):
        raise ValidationError(prefix + "stateful", "layer 2 sections can only be stateless")
    if params.get("applied_to") is not None:
        desired["applied_tos"] = references(params["applied_to"], prefix + "applied_to", allow_empty=False)
    if params.get("rules") is not None:
        desired["rules"] = build_section_rules(params["rules"], prefix)
    position = params.get("position")
    if position in ("before", "after") and not params.get("position_anchor"):
        raise ValidationError(prefix + "position_anchor", "is required when position is '%s'" % position)
    if params.get("position_anchor") and position not in ("before", "after"):
        raise ValidationError(prefix + "position_anchor", "only goes with position before or after")
    if position:
        desired["_position"] = (position, params.get("position_anchor"))
    return desired


class FirewallSectionModule(NsxtManagerModule):
    def __init__(self):
        super(FirewallSectionModule, self).__init__(KIND, "firewall-sections", OBJECT_SPEC, build, SectionAdapter,
                                                    extra_spec=dict(section_type=dict(type="str", choices=["LAYER3", "LAYER2"], default="LAYER3")))

    def _declared(self, module):
        section_type = module.params["section_type"]
        self.build = lambda params, prefix: dict(build(params, prefix, section_type), section_type=section_type)
        return super(FirewallSectionModule, self)._declared(module)

    def adapter(self, connection, params):
        adapter = SectionAdapter(connection, self.kind, section_type=params["section_type"])
        adapter.purge_scope = params.get("purge_scope")
        return adapter


def main():
    FirewallSectionModule().run()


if __name__ == "__main__":
    main()
