# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.k8s_render import K8sRenderError, render_k8s_rules

DOCUMENTATION = r"""
name: sw_k8s_rules
short_description: Firewall rules a Secure Workload policy implies when its provider is a Kubernetes service
version_added: 1.0.0
author: Microseg Segmentation Maintainers (@microseg)
description:
  - Cisco Secure Workload accepts a Kubernetes service abstraction as the provider of a policy and turns
    the policy into rules for the provider pods and for the nodes they run on, depending on the service
    type. This filter computes that rule set from data, without a live cluster.
  - For every Service port the policy selects, a C(ClusterIP) service gives consumer pods to the cluster
    IPs on the service port, and consumers to the provider pods on the target port.
  - A C(NodePort) service adds consumers to every node on the node port, and nodes to the provider pods on
    the target port.
  - A C(LoadBalancer) service gives the C(NodePort) set (for ports with a node port) plus consumers to the
    load balancer addresses (C(status.loadBalancer.ingress)) on the service port, see O(load_balancer).
  - A named C(targetPort) is resolved from the endpoints, which name each port after the Service port and
    give its number; endpoints that name the port after the C(targetPort) itself are accepted too. When pods
    resolve a named port to different numbers, each number gets its own rules.
  - With O(_input.action=DENY) the rules are the same with C(DENY), except nodes to provider pods, which
    would block the node-port traffic of every other consumer.
  - Fails, naming the offending value, for a policy port the Service does not expose, a named target port
    no endpoint defines, an unknown or unsupported service type (such as C(ExternalName)), and a C(NodePort) or
    C(LoadBalancer) service with node ports but no O(nodes).
positional: _input, service
options:
  _input:
    description: The policy.
    type: dict
    required: true
    suboptions:
      consumer:
        description:
          - The consumer filter, as its name (or label query), or as a dict with C(name) and optionally
            C(addresses), the IP addresses or networks of its members.
        type: raw
        required: true
      provider:
        description:
          - The provider service, as its name or as a dict with C(name) and C(namespace).
          - When given, it must match the C(metadata) of O(service).
        type: raw
      protocol:
        description:
          - Protocol of O(_input.port) and O(_input.ports), V(TCP), V(UDP) or V(SCTP) (any case), or the
            IP protocol number V(6), V(17) or V(132).
        type: str
        default: TCP
      port:
        description:
          - A Service port (C(spec.ports[].port), not the target or node port), or a range V(first-last).
          - Exactly one of O(_input.port), O(_input.ports) and O(_input.l4_params) is required.
        type: raw
      ports:
        description: Several Service ports or ranges.
        type: list
        elements: raw
      l4_params:
        description:
          - The ports in Secure Workload's form, a list of dicts with C(proto) (protocol number; absent or
            null means any protocol) and C(port) (C([first, last]); absent means every port).
        type: list
        elements: dict
      action:
        description: The policy action.
        type: str
        choices: [ALLOW, DENY]
        default: ALLOW
  service:
    description:
      - The Service object as the Kubernetes API returns it, for example one of the C(resources) of
        M(kubernetes.core.k8s_info).
      - Uses C(metadata.name), C(metadata.namespace), C(spec.type), C(spec.clusterIP), C(spec.clusterIPs),
        C(spec.ports) (C(name), C(port), C(targetPort), C(nodePort), C(protocol)) and
        C(status.loadBalancer.ingress).
    type: dict
    required: true
  endpoints:
    description:
      - The Endpoints object or the EndpointSlices of the service (one object, a list, or a list object with
        C(items)). Objects that belong to another service are skipped.
      - The provider pods of a port are its ready endpoints (EndpointSlice condition C(ready) true or unset, as
        the Kubernetes API documents) or, when the port has none, its endpoints that are C(serving) and
        C(terminating), as kube-proxy falls back to them since Kubernetes 1.26. Other not-ready endpoints, and
        the C(notReadyAddresses) of an Endpoints object, are not provider pods.
      - A named target port is resolved by every endpoint of the port, ready or not; a port whose endpoints are
        all not ready gets no rules to the provider pods.
      - Without endpoints there are no rules to the provider pods, and a named target port cannot be resolved.
      - The objects are parsed as M(microseg.segmentation.k8s_service_inputs) parses them, so its
        RV(microseg.segmentation.k8s_service_inputs#module:render_input)
        gives the same rules as the objects read by hand, and its ports and addresses are those of the rules.
    type: raw
  nodes:
    description:
      - The Nodes of the cluster (objects with C(status.addresses), a list object with C(items), or plain
        IP addresses).
      - Required when a selected port of a C(NodePort) or C(LoadBalancer) service has a node port.
    type: raw
  load_balancer:
    description:
      - Whether a C(LoadBalancer) service also gets the rule from the consumers to its load balancer
        addresses. The public sources do not confirm this rule.
      - A load balancer that has no address yet gives no rule.
    type: bool
    default: true
  node_address_types:
    description: Which C(status.addresses) types of a node count as its addresses.
    type: list
    elements: str
    default: [InternalIP, ExternalIP]
notes:
  - The rules are flows from consumer to provider. Each one needs an egress rule on the consumer side
    and an ingress rule on the provider side; the filter does not split them.
  - For C(NodePort) and C(LoadBalancer) services the flows are routed at the node level, so Secure
    Workload needs the policy in the workspace of the scope the nodes belong to.
"""

EXAMPLES = r"""
- name: Read the service, its endpoint slices and the nodes
  kubernetes.core.k8s_info:
    kind: "{{ item.kind }}"
    api_version: "{{ item.api_version }}"
    namespace: "{{ item.namespace | default(omit) }}"
    name: "{{ item.name | default(omit) }}"
    label_selectors: "{{ item.selectors | default(omit) }}"
  loop:
    - {kind: Service, api_version: v1, namespace: shop, name: db}
    - {kind: EndpointSlice, api_version: discovery.k8s.io/v1, namespace: shop, selectors: ["kubernetes.io/service-name=db"]}
    - {kind: Node, api_version: v1}
  register: cluster

- name: Expand the policy "environment = production" to db on TCP 27017
  ansible.builtin.set_fact:
    db_rules: >-
      {{ policy | microseg.segmentation.sw_k8s_rules(cluster.results[0].resources[0],
                                                      endpoints=cluster.results[1].resources,
                                                      nodes=cluster.results[2].resources) }}
  vars:
    policy:
      consumer:
        name: environment = production
        addresses: [10.20.0.11, 10.20.0.12]
      provider: db
      protocol: TCP
      port: 27017
      action: ALLOW

# For a NodePort service db (cluster IP 10.96.0.20, node port 30017, pods 10.244.1.5 and 10.244.2.7,
# nodes 192.168.10.11 and 192.168.10.12), db_rules holds four rules:
#   consumers     -> nodes          TCP 30017
#   consumer pods -> cluster IP     TCP 27017
#   nodes         -> provider pods  TCP 27017
#   consumers     -> provider pods  TCP 27017

- name: The same policy given in Secure Workload's form, without the load balancer rule
  ansible.builtin.debug:
    msg: >-
      {{ {'consumer': 'environment = production', 'l4_params': [{'proto': 6, 'port': [27017, 27017]}]}
         | microseg.segmentation.sw_k8s_rules(db_service, endpoints=db_endpoints, nodes=['192.168.10.11'],
                                              load_balancer=false) }}
"""

RETURN = r"""
_value:
  description:
    - The rules, in the order of the Service's ports, without duplicates.
    - For each port, the order is consumers to nodes, consumers to load balancer, consumer pods to
      cluster IP, nodes to provider pods, consumers to provider pods.
  type: list
  elements: dict
  contains:
    consumer:
      description:
        - The source of the flow. C(label) is V(consumers), V(consumer pods) or V(nodes); C(addresses)
          is the sorted list of its addresses (empty when the policy gives only the consumer filter's
          name); C(filter) is the consumer filter's name, present when the source is that filter.
      type: dict
    provider:
      description:
        - The destination of the flow. C(label) is V(nodes), V(load balancer), V(cluster IP) or
          V(provider pods); C(addresses) is the sorted list of its addresses (host names for load
          balancers known only by name).
        - Every address list is canonical, unique and sorted the same way as in
          M(microseg.segmentation.k8s_service_inputs) (IPv4 first, then IPv6, then host names).
      type: dict
    protocol:
      description: V(TCP), V(UDP) or V(SCTP).
      type: str
    port:
      description: The destination port (node port, service port or pod target port).
      type: int
    action:
      description: V(ALLOW) or V(DENY), from the policy.
      type: str
    reason:
      description: Why the rule is needed, in one sentence.
      type: str
"""


def sw_k8s_rules(policy, service, endpoints=None, nodes=None, load_balancer=True, node_address_types=None):
    """The firewall rules ``policy`` implies for the Kubernetes ``service`` (see DOCUMENTATION)."""
    if not isinstance(load_balancer, bool):
        raise AnsibleFilterError("sw_k8s_rules: load_balancer must be a boolean, got %r" % (load_balancer,))
    if node_address_types is not None:
        if not isinstance(node_address_types, (list, tuple)) or not all(isinstance(item, str) for item in node_address_types):
            raise AnsibleFilterError("sw_k8s_rules: node_address_types must be a list of strings")
        node_address_types = tuple(node_address_types)
    try:
        return render_k8s_rules(
            policy,
            service,
            endpoints=endpoints,
            nodes=nodes,
            load_balancer=load_balancer,
            node_address_types=node_address_types,
        )
    except K8sRenderError as exc:
        raise AnsibleFilterError("sw_k8s_rules: %s" % exc, orig_exc=exc) from exc


class FilterModule:
    """Secure Workload filters."""

    def filters(self):
        return {"sw_k8s_rules": sw_k8s_rules}
