#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: prisma_flow_info
short_description: Read the flows a Prisma Cloud Microsegmentation namespace observed and propose the rules that allow them
version_added: 1.0.0
description:
  - Reads the flows the enforcers of O(namespace) (and of its children) reported over O(window), from the flow
    statistics (C(POST /statsqueries), measurement C(Flows), grouped by both ends, port, protocol and actions, one page
    of O(page_size) rows per request), together with what names their ends (the namespaces with their tag prefixes,
    the processing units, the external networks; the reads of M(microseg.segmentation.prisma_flow_check)).
  - "Each flow is between two endpoints: a processing unit, named by its namespace and the tags rulesets can select it by
    (its user tags that start with a tag prefix of its namespace or an ancestor), so that the replicas of a deployment
    are one endpoint; an external network the console knows, by its name; or an address."
  - With O(propose=true), also returns a proposal (RV(proposal)) of the external networks and network rulesets that allow
    the accepted flows, as the list forms (C(items)) of M(microseg.segmentation.prisma_external_network) and
    M(microseg.segmentation.prisma_network_ruleset) take them, to review, write to a file and apply before leaving
    discovery mode.
  - "One network ruleset per workload: a processing-unit endpoint of O(namespace) itself with at least one selectable
    tag. It is named O(ruleset_prefix) followed by the value of its C(app=) tag (or, when it has none or another
    workload shares it, its tags joined); its C(subject) is C($identity=processingunit), C($namespace=<namespace>) and
    its tags. Its C(incoming_rules) name each source it was seen receiving from and its C(outgoing_rules) each
    destination it was seen calling, one rule per peer with the protocols and ports of those flows merged and sorted
    (V(tcp/80), V(tcp/8000:8002), V(udp/53), V(icmp))."
  - "A processing-unit peer is the object C([[$identity=processingunit, $namespace=<its namespace>, <its tags>]]). An
    address is named by the external network holding it: an existing one the namespace can use (its own, or one an
    ancestor propagates) first, else one of O(networks); the narrowest entry wins, and an entry holding every address
    (V(0.0.0.0/0), V(::/0)) only takes public addresses. A network of O(networks) is the object
    C([[externalnetwork:name=<name>]]) (the tag M(microseg.segmentation.prisma_external_network) always sets) and is
    proposed when a rule uses it; an existing network is referred to by that tag when it carries it, else by its
    C($identity), C($namespace) and C($name). An existing network of the namespace with the name and entries of one of
    O(networks) (a proposal applied before) is proposed again as declared, so that a run after applying the proposal
    gives the same proposal; another existing network is not proposed, and a network of O(networks) whose name an
    existing network has with other entries is left out, with a warning."
  - "A flow between two processing units of the namespace gets a rule on both sides (the source's outgoing rules and the
    destination's incoming rules must both allow it). A flow with a processing unit of another namespace (a child
    namespace included) gets only this namespace's side, and is listed in RV(partly_proposed) with the reason. A flow no
    rule of the namespace can allow (no processing unit of the namespace at either end, a peer with no selectable tag,
    an address in no network, a flow the enforcers rejected) is listed in RV(not_proposed) with the reason."
  - The proposal is sorted (rulesets and networks by name, rules by object), and holds no count or time, so the same
    flows give the same proposal, whatever their order or number.
  - Nothing is written, in check mode or not.
author: Microseg Segmentation Maintainers (@microseg)
notes:
  - The semantics are those of the project's C(prisma-ruleset-semantics.md) (S1, S2, S5, S8, S10), as for
    M(microseg.segmentation.prisma_flow_check).
  - "The proposal covers every accepted flow of the window, whatever the rulesets the namespace holds already. Review it:
    a flow the application does not need (an SSH session to the Internet, say) is allowed by the proposal unless an
    O(exclude) entry leaves it out."
  - "The ICMP type and code of a flow are not in the statistics: an ICMP flow is proposed as V(icmp) (every type)."
  - "Assumption: the flow statistics API (C(statsqueries)) is the one the reference documents; consoles from 5.0 on
    read flows with PromQL (C(metricsquery)), which this module does not use yet."
  - "Assumption: the documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) are public addresses
    (they stand for Internet hosts in examples and recordings); the private, shared (100.64.0.0/10), loopback,
    link-local, multicast and reserved ranges are not."
extends_documentation_fragment:
  - microseg.segmentation.prisma
  - microseg.segmentation.attributes.info
  - microseg.segmentation.prisma.attributes
options:
  window:
    description:
      - How far back to read, up to now, as the statistics API takes it (V(7d), V(36h), V(90m), V(1w), V(1w2d)).
    type: str
    default: 7d
  page_size:
    description: How many rows of the flow statistics each request reads (1 to 10000).
    type: int
    default: 1000
  propose:
    description: Also return RV(proposal), RV(excluded), RV(not_proposed) and RV(partly_proposed).
    type: bool
    default: false
  exclude:
    description:
      - Flows to leave out of the proposal (listed in RV(excluded) instead), such as the ones nobody should allow.
      - A flow is left out when it matches every key an entry gives (at least one).
      - "A selector (O(exclude[].source), O(exclude[].destination)) is one of: C(namespace) and/or C(tags) for
        processing units (those of that namespace, any when left out, carrying every tag listed, among the selectable
        tags the flows show); C(network) for an external network the console knows or the one the proposal names an
        address with; C(address), an IP address or a CIDR, for the addresses it holds (not the ends already named by an
        external network the console knows: name those with C(network))."
      - Checked before any request; a bad entry fails the task naming it, such as C(exclude[2].source.tags[0]).
    type: list
    elements: dict
    default: []
    suboptions:
      source:
        description: The selector of the source.
        type: raw
      destination:
        description: The selector of the destination.
        type: raw
      service:
        description:
          - A protocol-ports entry the flow's service must fall in, as rules write them (V(tcp/22), V(tcp/1:1024),
            V(udp/53), V(icmp), V(any)).
        type: str
  ruleset_prefix:
    description: The start of the name of every ruleset proposed.
    type: str
    default: observed-
  networks:
    description:
      - The external networks the proposal may name addresses with, narrowest entry first. Giving the option replaces
        the default list.
      - "The default is the guide's (C(playbooks/namespace_guide.yml)): V(DNS) C([10.96.0.10/32]) (tagged
        C(externalnetwork:name=dns) as the guide does), V(metadata) C([169.254.169.254/32]), V(googleapis)
        C([*.googleapis.com, 199.36.153.8/30]), V(kubelet) C([10.128.0.0/20]) (the nodes' subnet) and V(internet)
        C([0.0.0.0/0]) (public addresses only)."
      - An existing external network of the same name with other entries is used instead of one of these (with a warning).
    type: list
    elements: dict
    suboptions:
      name:
        description: The name of the external network.
        type: str
        required: true
      entries:
        description: Its entries, as M(microseg.segmentation.prisma_external_network) takes them (CIDRs, addresses, host names).
        type: list
        elements: str
        required: true
      tags:
        description: Tags to give it in the proposal, besides the C(externalnetwork:name=<name>) the module always sets.
        type: list
        elements: str
seealso:
  - module: microseg.segmentation.prisma_flow_check
  - module: microseg.segmentation.prisma_network_ruleset
  - module: microseg.segmentation.prisma_external_network
  - module: microseg.segmentation.prisma_namespace
"""

EXAMPLES = r"""
- name: The flows of the Hipster Shop over the last week
  microseg.segmentation.prisma_flow_info:
    namespace: /acme/aws-dev/k8s/hipster-shop
  register: observed

- name: Print them
  ansible.builtin.debug:
    var: observed.table

- name: Propose the rules, leaving out what nobody should allow
  microseg.segmentation.prisma_flow_info:
    namespace: /acme/aws-dev/k8s/hipster-shop
    window: 7d
    propose: true
    exclude:
      - source: {tags: [app=frontend]}
        destination: {tags: [app=redis-cart]}
      - destination: {network: internet}
        service: tcp/22
      - source: {tags: [app=paymentservice]}
        service: tcp/25
      - source: {namespace: /acme/aws-dev/k8s/default}
  register: observed

- name: Keep the proposal for review
  ansible.builtin.copy:
    content: "{{ observed.proposal | to_nice_yaml }}"
    dest: /tmp/hipster-shop-proposal.yml
    mode: "0644"

- name: Declare the external networks it names
  microseg.segmentation.prisma_external_network:
    namespace: /acme/aws-dev/k8s/hipster-shop
    items: "{{ observed.proposal.external_networks }}"

- name: Declare the rulesets
  microseg.segmentation.prisma_network_ruleset:
    namespace: /acme/aws-dev/k8s/hipster-shop
    items: "{{ observed.proposal.network_rulesets }}"
"""

RETURN = r"""
flows:
  description:
    - The flows observed, merged by endpoints, protocol, port and actions, the busiest first.
    - Each has C(source) and C(destination) (C(type) V(processing_unit) with C(namespace) and C(tags), plus
      C(unknown=true) and C(unit) (its ID) for a unit not among those read; V(external_network) with C(name) and C(namespace); or
      V(address) with C(address)), C(protocol) (V(tcp), V(udp), V(icmp), V(icmp6) or a number), C(port) (null for
      ICMP), C(service) (as M(microseg.segmentation.prisma_flow_check) writes it), C(action) and C(observed_action)
      (V(Accept), V(Reject) or V(NotApplicable)), C(count) (connections), C(last_seen) and C(text) (one line; an
      address is followed by the name of the external network the proposal names it with).
  returned: always
  type: list
  elements: dict
  sample:
    - source: {type: processing_unit, namespace: /acme/aws-dev/k8s/hipster-shop, tags: [app=frontend]}
      destination: {type: processing_unit, namespace: /acme/aws-dev/k8s/hipster-shop, tags: [app=cartservice]}
      protocol: tcp
      port: 7070
      service: tcp/7070
      action: Accept
      observed_action: Accept
      count: 1842
      last_seen: "2024-05-07T09:41:00Z"
      text: >-
        /acme/aws-dev/k8s/hipster-shop app=frontend -> /acme/aws-dev/k8s/hipster-shop app=cartservice tcp/7070 Accept,
        1842 connections, last seen 2024-05-07T09:41:00Z
summary:
  description:
    - Counts. C(flows) (merged), C(connections) (their counts added up), C(accepted), C(rejected) and C(workloads)
      (processing-unit endpoints of the namespace); with O(propose=true) also C(proposed), C(partly_proposed),
      C(not_proposed), C(excluded), C(rulesets), C(rules) and C(external_networks).
  returned: always
  type: dict
  sample: {flows: 68, connections: 149963, accepted: 68, rejected: 0, workloads: 12, proposed: 61, partly_proposed: 0,
           not_proposed: 0, excluded: 7, rulesets: 12, rules: 65, external_networks: 5}
table:
  description:
    - The flows as aligned text lines (source, destination, service, action, count, last seen; with O(propose=true),
      what the proposal does with each).
  returned: always
  type: list
  elements: str
proposal:
  description:
    - C(external_networks), items for M(microseg.segmentation.prisma_external_network) (C(name), C(entries), C(tags)
      when there are), and C(network_rulesets), items for M(microseg.segmentation.prisma_network_ruleset) (C(name),
      C(description), C(subject), C(incoming_rules) and C(outgoing_rules), each rule with C(object) and
      C(protocol_ports)).
  returned: when O(propose=true)
  type: dict
  sample:
    external_networks:
      - {name: DNS, entries: [10.96.0.10/32], tags: ["externalnetwork:name=dns"]}
    network_rulesets:
      - name: observed-cartservice
        description: The flows of app=cartservice observed over 7d (prisma_flow_info)
        subject: [["$identity=processingunit", "$namespace=/acme/aws-dev/k8s/hipster-shop", "app=cartservice"]]
        incoming_rules:
          - object: [["$identity=processingunit", "$namespace=/acme/aws-dev/k8s/hipster-shop", "app=checkoutservice"]]
            protocol_ports: [tcp/7070]
          - object: [["$identity=processingunit", "$namespace=/acme/aws-dev/k8s/hipster-shop", "app=frontend"]]
            protocol_ports: [tcp/7070]
          - object: [["externalnetwork:name=kubelet"]]
            protocol_ports: [tcp/7070]
        outgoing_rules:
          - object: [["$identity=processingunit", "$namespace=/acme/aws-dev/k8s/hipster-shop", "app=redis-cart"]]
            protocol_ports: [tcp/6379]
          - object: [["externalnetwork:name=DNS"]]
            protocol_ports: [udp/53]
excluded:
  description:
    - The flows O(exclude) left out, each with C(text), C(source), C(destination), C(service), C(count), C(last_seen)
      and C(exclude) (the index of the first entry that matched).
  returned: when O(propose=true)
  type: list
  elements: dict
not_proposed:
  description:
    - The flows no rule of the proposal allows, each with C(text), C(source), C(destination), C(service), C(count),
      C(last_seen) and C(reason).
  returned: when O(propose=true)
  type: list
  elements: dict
partly_proposed:
  description:
    - The flows the proposal allows on one side only (the other side belongs to another namespace, or cannot be named),
      each with C(text), C(source), C(destination), C(service), C(count), C(last_seen) and C(reason) (what is missing).
  returned: when O(propose=true)
  type: list
  elements: dict
"""

from ansible_collections.microseg.segmentation.plugins.module_utils._core.checkmode import Notes, add_warnings, warnings_of
from ansible_collections.microseg.segmentation.plugins.module_utils._core.runner import run_module
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.checkmode import read_or_empty
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.common import PrismaConnection, prisma_argument_spec
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.flows import Policy, read_policy
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.observed import check_window, observed_flows
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.proposal import (
    EXCLUDED,
    NOT_PROPOSED,
    PARTLY,
    PROPOSED,
    Proposer,
    check_excludes,
    check_networks,
    check_prefix,
    flow_text,
)

MAX_PAGE_SIZE = 10000
STATUS_WORDS = {PROPOSED: "proposed", PARTLY: "partly proposed", NOT_PROPOSED: "not proposed", EXCLUDED: "excluded"}


def prepare(params):
    """Every option checked before any request."""
    window = check_window(params["window"])
    page_size = params["page_size"]
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationError("page_size", "must be from 1 to %d, got %d" % (MAX_PAGE_SIZE, page_size))
    return dict(window=window, page_size=page_size, networks=check_networks(params["networks"]),
                excludes=check_excludes(params["exclude"]), prefix=check_prefix(params["ruleset_prefix"]))


def table(flows, statuses=None):
    header = ("source", "destination", "service", "action", "count", "last seen")
    if statuses is not None:
        header += ("proposal",)
    rows = [header]
    for index, flow in enumerate(flows):
        row = (flow["source_text"], flow["destination_text"], flow["service"], flow.get("action") or "-", str(flow["count"]),
               flow.get("last_seen") or "-")
        if statuses is not None:
            row += (STATUS_WORDS[statuses[index]],)
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return ["  ".join(value.ljust(widths[i]) for i, value in enumerate(row)).rstrip() for row in rows]


def execute(module, connection, prepared):
    base = connection.namespace.rstrip("/") or "/"
    holder = Notes()

    def read():
        policy = read_policy(connection, base)
        return policy, observed_flows(connection, base, policy, prepared["window"], prepared["page_size"])

    # check mode: a namespace an earlier task would create holds no flow yet
    policy, observed = read_or_empty(module.check_mode, connection, base, read, (Policy(), []), holder)
    proposer = Proposer(policy, base, prepared["networks"], prepared["excludes"], prepared["prefix"])
    result = {}
    statuses = None
    if module.params["propose"]:
        statuses, found = proposer.run(observed, prepared["window"])
        add_warnings(result, found.pop("warnings"))
        result.update(found)
    flows, shown = [], []
    for flow in observed:
        item = dict((k, v) for k, v in flow.items() if k != "examples")
        item["text"] = flow_text(flow, proposer)
        flows.append(item)
        shown.append(dict(item, source_text=proposer.text(flow["source"]), destination_text=proposer.text(flow["destination"])))
    workloads = set(tuple(end["tags"]) for f in flows for end in (f["source"], f["destination"]) if proposer.is_workload(end))
    summary = dict(
        flows=len(flows), connections=sum(f["count"] for f in flows), workloads=len(workloads),
        accepted=sum(1 for f in flows if f.get("action") == "Accept"), rejected=sum(1 for f in flows if f.get("action") == "Reject"),
    )
    if statuses is not None:
        proposal = result["proposal"]
        summary.update(
            proposed=statuses.count(PROPOSED), partly_proposed=len(result["partly_proposed"]),
            not_proposed=len(result["not_proposed"]), excluded=len(result["excluded"]),
            rulesets=len(proposal["network_rulesets"]), external_networks=len(proposal["external_networks"]),
            rules=sum(len(r["incoming_rules"]) + len(r["outgoing_rules"]) for r in proposal["network_rulesets"]),
        )
    result.update(flows=flows, summary=summary, table=table(shown, statuses))
    return add_warnings(result, warnings_of(holder))


def main():
    argument_spec = prisma_argument_spec()
    argument_spec.update(
        window=dict(type="str", default="7d"),
        page_size=dict(type="int", default=1000),
        propose=dict(type="bool", default=False),
        exclude=dict(type="list", elements="dict", default=[], options=dict(
            source=dict(type="raw"),
            destination=dict(type="raw"),
            service=dict(type="str"),
        )),
        ruleset_prefix=dict(type="str", default="observed-"),
        networks=dict(type="list", elements="dict", options=dict(
            name=dict(type="str", required=True),
            entries=dict(type="list", elements="str", required=True),
            tags=dict(type="list", elements="str"),
        )),
    )
    run_module(argument_spec, execute, connect=PrismaConnection, prepare=prepare)


if __name__ == "__main__":
    main()
