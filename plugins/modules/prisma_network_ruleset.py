#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: prisma_network_ruleset
short_description: Manage Prisma Cloud Microsegmentation network rulesets
version_added: 1.0.0
description:
  - Create, update and delete network rulesets (API identity C(networkrulesetpolicy)).
  - A ruleset applies to the processing units its O(subject) selects; its incoming rules name the
    sources allowed or rejected, its outgoing rules the destinations.
  - Only the options the task sets are compared. A set rule list is the ruleset's whole list for that
    direction, compared without regard to order.
  - With O(items), many rulesets of one namespace are reconciled in one task.
author: Microseg Segmentation Maintainers (@microseg)
extends_documentation_fragment:
  - microseg.segmentation.prisma
  - microseg.segmentation.prisma.object
  - microseg.segmentation.attributes
  - microseg.segmentation.prisma.attributes
  - microseg.segmentation.prisma.common
  - microseg.segmentation.prisma.propagate
  - microseg.segmentation.prisma.disabled
  - microseg.segmentation.prisma.fallback
options:
  name:
    description: Name of the ruleset, unique in the namespace. Required unless O(items) is used.
    type: str
  subject:
    description:
      - Tag expression selecting the processing units the ruleset applies to.
      - A list of clauses; a clause is a list of tags that must all match (AND), and the clauses are
        alternatives (OR). A clause written as a single string is a one-tag clause.
      - Required to create a ruleset.
    type: raw
  incoming_rules:
    description: The rules for traffic the subject receives. Objects are the sources.
    type: list
    elements: dict
    suboptions: &rule_options
      action:
        description: Allow or reject matching traffic.
        type: str
        choices: [allow, reject]
        default: allow
      object:
        description:
          - Tag expression of the peers, processing units or external networks (for example
            V([["externalnetwork:name=dns"]])).
        type: raw
        required: true
      protocol_ports:
        description:
          - Protocols and ports, for example V(any), V(tcp/80), V(udp/53), V(tcp/1:65535), V(icmp/8/0),
            V(icmp/3/0,1,3:5). V(any) must stand alone.
        type: list
        elements: str
        default: [any]
      logs_disabled:
        description: Do not report flows matched by this rule.
        type: bool
        default: false
      observation_enabled:
        description: Observe the rule (report what it would do) instead of enforcing it.
        type: bool
        default: false
      name:
        description: Optional rule name, at most 16 characters.
        type: str
  outgoing_rules:
    description: The rules for traffic the subject sends. Objects are the destinations.
    type: list
    elements: dict
    suboptions: *rule_options
seealso:
  - module: microseg.segmentation.prisma_external_network
  - module: microseg.segmentation.prisma_info
"""

EXAMPLES = r"""
- name: Allow DNS from the pods of the namespace
  microseg.segmentation.prisma_network_ruleset:
    namespace: /acme/prod
    name: allow-dns
    subject:
      - ["$identity=processingunit"]
    outgoing_rules:
      - object: [["externalnetwork:name=dns"]]
        protocol_ports: [udp/53]

- name: Set the connection once for a whole play
  module_defaults:
    group/microseg.segmentation.prisma:
      api_url: https://api.east-01.network.prismacloud.io
      namespace: /acme/prod
  block:
    - name: Reconcile every ruleset of the namespace in one task, deleting managed ones not listed
      microseg.segmentation.prisma_network_ruleset:
        purge: true
        items:
          - name: web-in
            subject: [["app=web"]]
            incoming_rules:
              - object: [["app=frontend"]]
                protocol_ports: [tcp/80, tcp/443]
          - name: legacy
            state: absent

- name: Delete a ruleset
  microseg.segmentation.prisma_network_ruleset:
    namespace: /acme/prod
    name: allow-dns
    state: absent
"""

RETURN = r"""
id:
  description: The API identifier of the ruleset (absent when it did not exist and O(state=absent)).
  returned: single object
  type: str
  sample: 5d2398157ddf1f3519ce6d96
action:
  description: What the task did or, in check mode, would do.
  returned: single object
  type: str
  sample: update
object:
  description: The ruleset as the API returned it (predicted in check mode); empty after a delete.
  returned: single object
  type: dict
summary:
  description: Names of the objects created, updated, deleted and left unchanged.
  returned: list form
  type: dict
  sample: {"created": ["web-in"], "updated": [], "deleted": ["legacy"], "unchanged": []}
objects:
  description: One entry per object with its name, action and identifier.
  returned: list form
  type: list
  elements: dict
"""

from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Field, Kind, canon_expression
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError, validate_protocol_ports
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.common import PrismaObjectModule
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.fields import build_common, common_fields, common_spec, expression

FLAGS = ("propagate", "disabled", "fallback", "protected")

RULE_SPEC = dict(
    action=dict(type="str", choices=["allow", "reject"], default="allow"),
    object=dict(type="raw", required=True),
    protocol_ports=dict(type="list", elements="str", default=["any"]),
    logs_disabled=dict(type="bool", default=False),
    observation_enabled=dict(type="bool", default=False),
    name=dict(type="str"),
)


def canon_rules(rules):
    """Rules compared as a multiset, each with the API defaults filled in."""
    canon = []
    for rule in rules or []:
        canon.append((
            rule.get("action") or "Allow",
            canon_expression(rule.get("object")),
            tuple(sorted(p.lower() for p in rule.get("protocolPorts") or [])),
            bool(rule.get("logsDisabled")),
            bool(rule.get("observationEnabled")),
            rule.get("name") or "",
        ))
    return tuple(sorted(canon, key=repr))


KIND = Kind(
    "networkrulesetpolicy",
    "network ruleset",
    common_fields(*FLAGS) + [
        Field("subject", "subject", compare="expression", empty=[]),
        Field("incoming_rules", "incomingRules", compare=canon_rules, empty=[]),
        Field("outgoing_rules", "outgoingRules", compare=canon_rules, empty=[]),
    ],
    create_requires=[("subject", "subject")],
)

OBJECT_SPEC = common_spec(*FLAGS)
OBJECT_SPEC.update(
    subject=dict(type="raw"),
    incoming_rules=dict(type="list", elements="dict", options=RULE_SPEC),
    outgoing_rules=dict(type="list", elements="dict", options=RULE_SPEC),
)


def build_rules(rules, option):
    built = []
    for index, rule in enumerate(rules):
        path = "%s[%d]." % (option, index)
        api_rule = {
            "action": rule["action"].capitalize(),
            "object": expression(rule, path, "object", strict=True),
            "protocolPorts": validate_protocol_ports(rule["protocol_ports"], path + "protocol_ports"),
            "logsDisabled": rule["logs_disabled"],
            "observationEnabled": rule["observation_enabled"],
        }
        if rule.get("name"):
            if len(rule["name"]) > 16:
                raise ValidationError(path + "name", "must be at most 16 characters long")
            api_rule["name"] = rule["name"]
        built.append(api_rule)
    seen = {}
    for index, api_rule in enumerate(built):
        key = canon_rules([dict(api_rule, name="")])
        if key in seen:
            raise ValidationError(option, "rules %d and %d are duplicates (same action, object and protocol ports)" % (seen[key], index))
        seen[key] = index
    return built


def build(params, prefix):
    desired = build_common(params, prefix, FLAGS)
    subject = expression(params, prefix, "subject", strict=True)
    if subject is not None:
        desired["subject"] = subject
    for option, api in (("incoming_rules", "incomingRules"), ("outgoing_rules", "outgoingRules")):
        if params.get(option) is not None:
            desired[api] = build_rules(params[option], prefix + option)
    return desired


def main():
    PrismaObjectModule(KIND, "/networkrulesetpolicies", OBJECT_SPEC, build).run()


if __name__ == "__main__":
    main()
