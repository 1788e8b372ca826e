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
  - Reads the distributed firewall back from NSX and evaluates each flow with NSX's first-match
    semantics, reporting V(allow) or V(deny) and the rule that decided on each end.
  - With O(api=manager) it reads every layer 3 firewall section in firewall order (the default section
    last) with its rules; with O(api=policy) the security policies of every domain by category and
    sequence number, with their rules. It also reads the effective IP addresses of every group the
    rules or the flows name. Nothing is written; the task works in check mode and reports no change.
  - An endpoint is a string, the name of a group (the NSGroup display name for the Manager API, the
    group id in O(domain) for the Policy API); or a mapping with either C(group) (the same) or
    C(address) (one IPv4 or IPv6 address), and for an address optionally C(workload) (default true;
    V(false) for an address that no distributed-firewall filter protects, such as an Internet host,
    so only the other end's filter is evaluated).
author: Microseg Segmentation Maintainers (@microseg)
notes:
  - "Enforcement points: a rule is enforced on the workloads its applied-to names (a section's or policy's
    applied-to takes precedence over the rule's; none or ANY means every workload), as the API documents
    C(applied_tos) and C(scope). A packet leaves the source through the source's filter and enters the
    destination through the destination's, so the rule table is evaluated at each end: at the source the
    rules applied to it (direction OUT or IN_OUT), at the destination the rules applied to it (IN or
    IN_OUT). The flow is allowed only when both ends allow; C(decided_by) lists the rule of each end
    (side V(source) or V(destination)), or only the end that denied."
  - "Order: Manager sections as NSX lists them (firewall order), rules in section order; Policy policies
    by category (Emergency, Infrastructure, Environment, Application, then none), sequence number, then
    as listed, the default policy last, rules by sequence number. Layer 2 (Ethernet) policies and
    sections enforced on logical routers are not evaluated. The first rule that matches decides;
    ALLOW allows, DROP and REJECT deny; JUMP_TO_APPLICATION skips to the Application category."
  - "Matching: disabled rules are skipped (NSX never realises them); C(sources_excluded) and
    C(destinations_excluded) negate the match; an empty service list means any service; a rule for
    some services does not match a flow on V(any); rule direction counts for Manager sections only
    when the section is stateless (as the Manager API documents), always for Policy rules; a rule
    for IPV4 or IPV6 only does not match an address of the other family."
  - "Endpoints: a group endpoint stands for every effective member of the group. A rule element
    matches it when it is the same group, or when the element's addresses (another group's effective
    IP addresses, or an address, CIDR or range written in the rule) cover every member's address.
    When they cover only some members, the flow has no single verdict: the task fails and asks for
    those members as address endpoints. An address endpoint matches a group that lists it among its
    effective IP addresses (IP address expressions included) and addresses, CIDRs and ranges in rules."
  - "Manager API IPSets and service objects: an IPSet in a rule stands for its addresses, CIDRs and ranges,
    an NSService for its element and an NSServiceGroup for its members' (an empty one matches no service);
    each kind is read once, only when a rule names one."
  - "Not evaluated (the task fails naming the rule when a flow reaches one): Policy API rules naming
    service paths, services with source ports, ALG services, rule elements that are not groups, IPSets
    or addresses (logical switches or ports), references to objects that no longer exist, and actions
    other than ALLOW, DROP, REJECT and JUMP_TO_APPLICATION. A flow naming a group that does not exist
    fails the task, so a misspelt group cannot pass as denied."
extends_documentation_fragment:
  - microseg.segmentation.nsxt
  - microseg.segmentation.flow_check
  - microseg.segmentation.attributes.info
  - microseg.segmentation.nsxt.attributes
options:
  api:
    description: Which API's firewall to read.
    type: str
    choices: [manager, policy]
    default: manager
  domain:
    description: The Policy API domain whose group ids the flows name (the rules of every domain are evaluated).
    type: str
    default: default
"""

EXAMPLES = r"""
- name: The flows of the workload-isolation guide, after its section is applied
  microseg.segmentation.nsxt_flow_check:
    flows:
      - {name: a to b, source: nsg-service-a, destination: nsg-service-b, expect: allow}
      - {name: a to d, source: nsg-service-a, destination: nsg-service-d, expect: deny}
      - {name: one pod of a to d on tcp/8080, source: {address: 10.244.1.10}, destination: nsg-service-d, service: tcp/8080, expect: deny}
  register: verdicts

- name: Print the table
  ansible.builtin.debug:
    var: verdicts.table

- name: The same with the Policy API
  microseg.segmentation.nsxt_flow_check:
    api: policy
    domain: default
    flows:
      - {source: nsg-service-a, destination: nsg-service-b, expect: allow}
"""

RETURN = r"""
flows:
  description:
    - One entry per flow with C(name), C(source), C(destination), C(service), C(expect), C(verdict), C(reason),
      C(as_expected) and C(decided_by).
    - C(decided_by) lists the deciding rules, each with C(side) (V(source) or V(destination)), C(action)
      (V(ALLOW), V(DROP) or V(REJECT)), C(rule) (the rule's display name), C(id) (the rule's id), C(where)
      (its section or policy), C(default) (true for the default rule) and C(label).
  returned: always
  type: list
  elements: dict
mismatches:
  description: The flows whose verdict differs from O(flows[].expect).
  returned: always
  type: list
  elements: dict
table:
  description: The flows as aligned text lines (flow, endpoints, service, verdict, expectation, deciding rules).
  returned: always
  type: list
  elements: str
summary:
  description: How many of the flows with an expectation got it.
  returned: always
  type: str
  sample: 11/11 flows as expected
counts:
  description: C(total), C(checked), C(as_expected), C(mismatched) and C(allowed) flows.
  returned: always
  type: dict
report:
  description: The absolute path of the HTML flow report, when O(report) is given.
  returned: when O(report) is given
  type: str
  sample: /srv/reports/flows.html
"""

from ansible_collections.microseg.segmentation.plugins.module_utils._core.flowcheck import FlowCheck
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError, validate_ip_address
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.common import NsxtConnection, nsxt_argument_spec
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.flows import load_manager, load_policy


class NsxtFlowCheck(FlowCheck):
    endpoint_keys = ("group", "address", "workload")
    string_key = "group"
    extra_spec = dict(
        api=dict(type="str", choices=["manager", "policy"], default="manager"),
        domain=dict(type="str", default="default"),
    )
    product = "VMware NSX-T distributed firewall"

    def report_context(self, params):
        return [("NSX Manager", params["host"]), ("API", params["api"]),
                ("Domain", params["domain"] if params["api"] == "policy" else None)]

    def connection_spec(self):
        return nsxt_argument_spec()

    def connect(self, params):
        return NsxtConnection(params)

    def validate_endpoint(self, endpoint, option):
        if ("group" in endpoint) == ("address" in endpoint):
            raise ValidationError(option, "give either group or address")
        if "group" in endpoint:
            if not isinstance(endpoint["group"], str) or not endpoint["group"].strip():
                raise ValidationError(option + ".group", "must be a group name")
            if "workload" in endpoint:
                raise ValidationError(option + ".workload", "applies to an address; a group's members are workloads")
            endpoint["group"] = endpoint["group"].strip()
            return
        endpoint["address"] = validate_ip_address(endpoint["address"], option + ".address")
        if "workload" in endpoint and not isinstance(endpoint["workload"], bool):
            raise ValidationError(option + ".workload", "must be true or false")

    def load(self, connection, params, flows):
        if params["api"] == "manager":
            return load_manager(connection, flows).evaluate
        return load_policy(connection, params["domain"], flows, check_mode=self.check_mode).evaluate


def main():
    NsxtFlowCheck().run()


if __name__ == "__main__":
    main()
