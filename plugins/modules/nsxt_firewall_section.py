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
  - Rule endpoints name NSGroups by display name, IP sets as C(ipset:<name>), or give IP addresses and CIDRs;
    rule services give protocols and ports, or name an NSService or NSServiceGroup as C(service:<name>).
    Every name is resolved with one list read per kind it names, before any write; a name that no object
    has, or that two objects share, fails the task with nothing written.
author: Microseg Segmentation Maintainers (@microseg)
extends_documentation_fragment:
  - microseg.segmentation.nsxt
  - microseg.segmentation.nsxt.object
  - microseg.segmentation.list_form
  - microseg.segmentation.ownership
  - microseg.segmentation.attributes
  - microseg.segmentation.nsxt.attributes
options:
  name:
    description: Display name of the section (1 to 255 characters), unique among sections of its type. Required unless O(items) is used.
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
        description: Rule name, unique in the section (a name listed twice fails before any request).
        type: str
        required: true
      action:
        description: What happens to matching traffic.
        type: str
        required: true
        choices: [allow, drop, reject]
      sources:
        description:
          - NSGroup names, IP sets as V(ipset:<name>), IP addresses or CIDRs; leave out for any.
          - Compared by display name, without regard to order (an NSGroup whose name begins with V(ipset:) cannot be named here).
        type: list
        elements: str
      destinations:
        description: Like O(rules[].sources).
        type: list
        elements: str
      services:
        description:
          - Protocols and ports such as V(tcp/443), V(udp/53), V(tcp/8000:8080), V(icmp/8/0); V(any) (alone) for every service.
          - V(service:<name>) names an NSService or NSServiceGroup by display name (such as the default V(service:HTTPS));
            the task fails when no service object, or more than one, has that name.
        type: list
        elements: str
        default: [any]
      applied_to:
        description: NSGroup names the rule is applied to (not IP sets or addresses).
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
  # items: generated by tests/tools/item_docs.py from the options above; do not edit by hand
  items:
    suboptions:
      applied_to:
        description: As O(applied_to), for this item.
        elements: str
        type: list
      description:
        description: As O(description), for this item.
        type: str
      name:
        description: As O(name), for this item.
        type: str
      position:
        choices:
        - top
        - bottom
        - before
        - after
        description: As O(position), for this item.
        type: str
      position_anchor:
        description: As O(position_anchor), for this item.
        type: str
      rules:
        description: As O(rules), for this item.
        elements: dict
        suboptions:
          action:
            choices:
            - allow
            - drop
            - reject
            description: What happens to matching traffic.
            required: true
            type: str
          applied_to:
            description: NSGroup names the rule is applied to (not IP sets or addresses).
            elements: str
            type: list
          destinations:
            description: Like O(rules[].sources).
            elements: str
            type: list
          destinations_excluded:
            default: false
            description: Match everything but the destinations.
            type: bool
          direction:
            choices:
            - in
            - out
            - in_out
            default: in_out
            description: Traffic direction the rule matches (used by stateless sections).
            type: str
          disabled:
            default: false
            description: Keep the rule but do not enforce it.
            type: bool
          ip_protocol:
            choices:
            - ipv4
            - ipv6
            - ipv4_ipv6
            default: ipv4_ipv6
            description: IP versions the rule matches.
            type: str
          logged:
            default: false
            description: Log matching traffic.
            type: bool
          name:
            description: Rule name, unique in the section (a name listed twice fails before any request).
            required: true
            type: str
          notes:
            description: Free text, at most 2048 characters.
            type: str
          services:
            default:
            - any
            description:
            - Protocols and ports such as V(tcp/443), V(udp/53), V(tcp/8000:8080), V(icmp/8/0); V(any) (alone) for every service.
            - V(service:<name>) names an NSService or NSServiceGroup by display name (such as the default V(service:HTTPS));
              the task fails when no service object, or more than one, has that name.
            elements: str
            type: list
          sources:
            description:
            - NSGroup names, IP sets as V(ipset:<name>), IP addresses or CIDRs; leave out for any.
            - Compared by display name, without regard to order (an NSGroup whose name begins with V(ipset:) cannot be named
              here).
            elements: str
            type: list
          sources_excluded:
            default: false
            description: Match everything but the sources.
            type: bool
        type: list
      state:
        choices:
        - present
        - absent
        description: The state of this item (default O(state)).
        type: str
      stateful:
        description: As O(stateful), for this item.
        type: bool
      tags:
        description: As O(tags), for this item.
        elements: raw
        type: list
      tcp_strict:
        description: As O(tcp_strict), for this item.
        type: bool
  # end of generated items
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

- name: The office reaches the web tier on HTTPS and the default HTTP service
  microseg.segmentation.nsxt_firewall_section:
    name: office-access
    stateful: true
    rules:
      - name: office-to-web
        action: allow
        sources: [ipset:office]
        destinations: [service-b]
        services: [service:HTTPS, service:HTTP, tcp/8443]
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
  description:
    - Names of the sections created, updated, deleted and left unchanged. C(counts) gives how many of each, and C(failed).
  returned: list form
  type: dict
objects:
  description:
    - One entry per section created, updated or deleted (with O(details=all), every one, with C(object)) with its name, action and id.
  returned: list form
  type: list
  elements: dict
# common results: generated by tests/tools/item_docs.py; do not edit by hand
conflict:
  description:
  - 'True when another writer changed an object while the task wrote it (its revision moved): the object was read again and
    the declared state re-applied over the other change; a warning names the object.'
  returned: when a revision conflict happened
  sample: true
  type: bool
duplicates_removed:
  description:
  - 'Objects found more than once under one declared name (two runs created it at once, or a run was cut short between a create
    and its answer), each as its name, the identifier deleted (or, in check mode, that would be), the identifier kept (the
    oldest: every run keeps the same one) and whether the delete failed.'
  - A warning names each one too.
  elements: dict
  returned: when a declared name was found more than once
  sample:
  - failed: false
    id: 5d2398157ddf1f3519ce6d97
    kept: 5d2398157ddf1f3519ce6d96
    name: web
  type: list
failed_objects:
  description:
  - The objects of a list form whose write failed, each with its name, action, message and (for an API error) status, request
    and response; every other object was written and is in RV(objects).
  elements: dict
  returned: list form, when a write failed
  type: list
# end of common results
"""

from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.kinds import FIREWALL_SECTION as KIND
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.manager import SectionAdapter
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.module import NsxtManagerModule


def main():
    NsxtManagerModule(KIND, "firewall-sections", SectionAdapter).run()


if __name__ == "__main__":
    main()
