#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: nsxt_security_policy
short_description: Manage VMware NSX-T distributed firewall security policies and their rules
version_added: 1.0.0
description:
  - Create, update and delete security policies of the NSX-T Policy API
    (C(/infra/domains/<domain>/security-policies/<id>)) with their ordered rules.
  - The declared rules are the policy's rules, in the order given (sequence numbers 10, 20, ...). A
    rule removed from the task is removed from NSX, because the policy is written with PUT, which
    replaces its rule list in one request.
  - Groups named in rules and scope must exist; the module checks this before any write.
author: Microseg Segmentation Maintainers (@microseg)
extends_documentation_fragment:
  - microseg.segmentation.nsxt
  - microseg.segmentation.nsxt.object
  - microseg.segmentation.nsxt.policy
  - microseg.segmentation.attributes
  - microseg.segmentation.nsxt.attributes
options:
  name:
    description: Display name of the policy, and its id unless O(id) is set. Required unless O(items) is used.
    type: str
  category:
    description: The distributed firewall category, which orders policies first (Ethernet, then Emergency, ... Application last).
    type: str
    choices: [Ethernet, Emergency, Infrastructure, Environment, Application]
  sequence_number:
    description: Order of the policy inside its category (lower first).
    type: int
  applied_to:
    description:
      - Groups (ids of the domain, or policy paths) the policy is applied to (the API's C(scope)). Leave it
        out to apply the policy everywhere; an empty list is refused, since it is usually a variable that
        came out empty.
    type: list
    elements: str
  stateful:
    description: Track connections (layer 3 policies); the API default is true.
    type: bool
  tcp_strict:
    description: Drop TCP packets that do not belong to a connection begun with a SYN.
    type: bool
  rules:
    description: The rules, in the order NSX evaluates them (first match wins).
    type: list
    elements: dict
    suboptions:
      name:
        description: Rule name, unique in the policy; also its id unless O(rules[].id) is set.
        type: str
        required: true
      id:
        description: Rule id, when it must differ from the name.
        type: str
      action:
        description: What happens to matching traffic.
        type: str
        required: true
        choices: [allow, drop, reject, jump_to_application]
      sources:
        description: Group ids of the domain, policy paths, IP addresses, CIDRs or ranges; leave out for ANY.
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
        description: Groups the rule is applied to; the policy's O(applied_to) takes precedence.
        type: list
        elements: str
      direction:
        description: Traffic direction the rule matches.
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
  - module: microseg.segmentation.nsxt_policy_group
"""

EXAMPLES = r"""
- name: Micro-segment the services of the workload-isolation guide
  microseg.segmentation.nsxt_security_policy:
    host: nsx.example.com
    name: PtoPDFW-MicroSegmentation
    category: Application
    applied_to: [service-b, service-c, service-d]
    rules:
      - {name: c-to-d, action: allow, sources: [service-c], destinations: [service-d]}
      - {name: b-to-c, action: allow, sources: [service-b], destinations: [service-c]}
      - {name: a-to-c, action: allow, sources: [service-a], destinations: [service-c]}
      - {name: a-to-b, action: allow, sources: [service-a], destinations: [service-b]}
      - {name: DenyAll, action: reject}
"""

RETURN = r"""
id:
  description: The policy path of the security policy.
  returned: single object
  type: str
  sample: /infra/domains/default/security-policies/app
action:
  description: What the task did or, in check mode, would do (V(create), V(update), V(delete) or V(none)).
  returned: single object
  type: str
object:
  description: The security policy as NSX returned it, with its rules (predicted in check mode).
  returned: single object
  type: dict
summary:
  description: Ids of the policies created, updated, deleted and left unchanged.
  returned: list form
  type: dict
objects:
  description: One entry per policy with its id, action and path.
  returned: list form
  type: list
  elements: dict
"""

from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Field, Kind
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.module import COMMON_FIELDS, NsxtPolicyModule, build_common, common_spec, rule_spec
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.policy import (
    CATEGORIES,
    SecurityPolicyAdapter,
    build_rules,
    canon_rules,
    check_id,
    group_refs,
)


def _scope(value):
    return tuple(sorted(v for v in value or [] if v.upper() != "ANY"))


KIND = Kind(
    "SecurityPolicy",
    "security policy",
    COMMON_FIELDS + [
        Field("category", "category", empty=""),
        Field("sequence_number", "sequence_number", empty=0),
        Field("applied_to", "scope", compare=_scope, empty=[]),
        Field("stateful", "stateful", empty=True),
        Field("tcp_strict", "tcp_strict", empty=False),
        Field("rules", "rules", compare=canon_rules, empty=[]),
    ],
    identity="id",
)

RULE_SPEC = dict(rule_spec(["allow", "drop", "reject", "jump_to_application"]), id=dict(type="str"))

OBJECT_SPEC = common_spec()
OBJECT_SPEC.update(
    category=dict(type="str", choices=list(CATEGORIES)),
    sequence_number=dict(type="int"),
    applied_to=dict(type="list", elements="str"),
    stateful=dict(type="bool"),
    tcp_strict=dict(type="bool"),
    rules=dict(type="list", elements="dict", options=RULE_SPEC),
)


def build(params, prefix, domain="default"):
    check_id(params.get("id") or params["name"], prefix + ("id" if params.get("id") else "name"))
    desired = build_common(params, prefix)
    for option in ("category", "sequence_number", "stateful", "tcp_strict"):
        if params.get(option) is not None:
            desired[option] = params[option]
    if params.get("sequence_number") is not None and params["sequence_number"] < 0:
        raise ValidationError(prefix + "sequence_number", "must be 0 or more")
    if params.get("applied_to") is not None:
        desired["scope"] = group_refs(params["applied_to"], domain, prefix + "applied_to", allow_empty=False)
    if params.get("rules") is not None:
        for index, rule in enumerate(params["rules"]):
            if rule.get("notes") and len(rule["notes"]) > 2048:
                raise ValidationError("%srules[%d].notes" % (prefix, index), "must be at most 2048 characters long")
        desired["rules"] = build_rules(params["rules"], domain, prefix)
    return desired


class SecurityPolicyModule(NsxtPolicyModule):
    def _declared(self, module):
        # rule and scope group ids resolve in the task's domain
        domain = module.params["domain"]
        self.build = lambda params, prefix: build(params, prefix, domain)
        return super(SecurityPolicyModule, self)._declared(module)


def main():
    SecurityPolicyModule(KIND, "security-policies", OBJECT_SPEC, build, SecurityPolicyAdapter).run()


if __name__ == "__main__":
    main()
