#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: nsxt_flow_check
short_description: Check which flows the NSX-T distributed firewall allows, from the rules it holds
version_added: 1.0.0
description:
  - Reads the distributed firewall back from NSX (every layer 3 section of the Manager API in order, or
    every security policy of a Policy API domain by category and sequence number) and evaluates each flow
    (source group, destination group, service) with NSX's first-match semantics, applied-to included.
  - Reports, for each flow, V(allow) or V(deny) and the rule that decided (or the default rule).
  - Flows with O(flows[].expect) are assertions; the task fails when one does not hold, listing them all.
  - It evaluates group to group; a rule whose endpoints are addresses only matches flows written with those addresses.
author: Microseg Segmentation Maintainers (@microseg)
extends_documentation_fragment:
  - microseg.segmentation.nsxt
  - microseg.segmentation.attributes.info
  - microseg.segmentation.nsxt.attributes
options:
  api:
    description: Which API's firewall to read.
    type: str
    choices: [manager, policy]
    default: manager
  domain:
    description: The Policy API domain.
    type: str
    default: default
  flows:
    description: The flows to evaluate.
    type: list
    elements: dict
    required: true
    suboptions:
      source:
        description: Source group (NSGroup display name, or Policy group id).
        type: str
        required: true
      destination:
        description: Destination group.
        type: str
        required: true
      service:
        description: The service, such as V(tcp/80) or V(icmp/8/0); V(any) matches only rules for every service.
        type: str
        default: any
      expect:
        description: The verdict the flow must get.
        type: str
        choices: [allow, deny]
"""

EXAMPLES = r"""
- name: The flows of the workload-isolation guide
  microseg.segmentation.nsxt_flow_check:
    flows:
      - {source: service-a, destination: service-b, expect: allow}
      - {source: service-a, destination: service-d, expect: deny}
"""

RETURN = r"""
flows:
  description: One entry per flow with C(source), C(destination), C(service), C(verdict), C(rule) (the deciding rule) and C(where) (its section or policy).
  returned: always
  type: list
  elements: dict
mismatches:
  description: The flows whose verdict differs from O(flows[].expect).
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import HAS_REQUESTS, REQUESTS_IMPORT_ERROR, ApiError
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.common import NsxtConnection, format_service, nsxt_argument_spec
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.flows import CATEGORY_ORDER, Rule, evaluate
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.manager import SECTIONS, _service_text
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.policy import POLICY_BASE


def _manager_names(refs):
    return [r.get("target_display_name") or r.get("target_id") for r in refs or []]


def manager_rules(connection):
    rules, default = [], ("ALLOW", "default rule")
    for section in connection.list_all(SECTIONS, params={"type": "LAYER3"}):
        section_rules = connection.list_all("%s/%s/rules" % (SECTIONS, section["id"]))
        applied = _manager_names(section.get("applied_tos"))
        for rule in section_rules:
            if rule.get("is_default") or section.get("is_default"):
                default = (rule.get("action") or "ALLOW", rule.get("display_name") or "default rule")
                continue
            rules.append(Rule(rule.get("display_name"), rule.get("action"), _manager_names(rule.get("sources")),
                              _manager_names(rule.get("destinations")), [_service_text(s) for s in rule.get("services") or []],
                              applied or _manager_names(rule.get("applied_tos")), rule.get("disabled"),
                              rule.get("sources_excluded"), rule.get("destinations_excluded"), section.get("display_name")))
    return rules, default


def _policy_names(paths):
    return [p.rsplit("/", 1)[-1] for p in paths or [] if p.upper() != "ANY"]


def _entry(entry):
    if entry.get("resource_type") == "L4PortSetServiceEntry":
        return format_service({"l4_protocol": entry.get("l4_protocol"), "ports": entry.get("destination_ports")})
    return format_service({"icmp": entry.get("protocol"), "type": entry.get("icmp_type"), "code": entry.get("icmp_code")})


def policy_rules(connection, domain):
    base = "%s/infra/domains/%s/security-policies" % (POLICY_BASE, domain)
    policies = connection.list_all(base)
    policies.sort(key=lambda p: (CATEGORY_ORDER.index(p.get("category") or "") if (p.get("category") or "") in CATEGORY_ORDER else 99,
                                 p.get("sequence_number") or 0))
    rules, default = [], ("ALLOW", "default rule")
    for policy in policies:
        policy_rules_ = policy.get("rules")
        if policy_rules_ is None:
            policy_rules_ = connection.list_all("%s/%s/rules" % (base, policy["id"]))
        applied = _policy_names(policy.get("scope"))
        for rule in sorted(policy_rules_, key=lambda r: r.get("sequence_number") or 0):
            if rule.get("is_default") or policy.get("is_default"):
                default = (rule.get("action") or "ALLOW", rule.get("display_name") or "default rule")
                continue
            services = [] if any(s.upper() == "ANY" for s in rule.get("services") or ["ANY"]) else list(rule.get("services"))
            services += [_entry(e) for e in rule.get("service_entries") or []]
            rules.append(Rule(rule.get("display_name") or rule.get("id"), rule.get("action"), _policy_names(rule.get("source_groups")),
                              _policy_names(rule.get("destination_groups")), services, applied or _policy_names(rule.get("scope")),
                              rule.get("disabled"), rule.get("sources_excluded"), rule.get("destinations_excluded"),
                              policy.get("display_name") or policy.get("id")))
    return rules, default


def main():
    argument_spec = nsxt_argument_spec()
    argument_spec.update(
        api=dict(type="str", choices=["manager", "policy"], default="manager"),
        domain=dict(type="str", default="default"),
        flows=dict(type="list", elements="dict", required=True, options=dict(
            source=dict(type="str", required=True),
            destination=dict(type="str", required=True),
            service=dict(type="str", default="any"),
            expect=dict(type="str", choices=["allow", "deny"]),
        )),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
    connection = None
    try:
        connection = NsxtConnection(module.params)
        if module.params["api"] == "manager":
            rules, default = manager_rules(connection)
        else:
            rules, default = policy_rules(connection, module.params["domain"])
    except ApiError as exc:
        module.fail_json(**exc.to_result())
    finally:
        if connection is not None:
            connection.close()
    results, mismatches = [], []
    for flow in module.params["flows"]:
        verdict, rule, where = evaluate(rules, (flow["source"], flow["destination"], flow["service"].lower()), default[0], default[1])
        result = dict(source=flow["source"], destination=flow["destination"], service=flow["service"], verdict=verdict, rule=rule, where=where)
        results.append(result)
        if flow.get("expect") and flow["expect"] != verdict:
            mismatches.append(dict(result, expected=flow["expect"]))
    if mismatches:
        module.fail_json(msg="%d of %d flows did not get the expected verdict" % (len(mismatches), len(results)), flows=results, mismatches=mismatches)
    module.exit_json(changed=False, flows=results, mismatches=[])


if __name__ == "__main__":
    main()
