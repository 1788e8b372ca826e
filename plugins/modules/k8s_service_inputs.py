#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: k8s_service_inputs
short_description: Read the policy inputs of a Kubernetes Service from a live cluster
version_added: 1.0.0
description:
  - Read one Service, its endpoints (EndpointSlices, or the Endpoints object) and the cluster's Nodes, and
    return the values segmentation policies are written with, so that a playbook takes them from the
    cluster instead of from hand-kept variables.
  - RV(service) gives the Service's type, its cluster IPs, its load balancer addresses and, for the port
    O(port) selects, the service port, the target port, the node port and the protocol. A named
    C(targetPort) is resolved to a number through the endpoints, which name each port after the Service
    port and give the number its pods use (as kube-proxy does); it is a list when pods use different numbers.
  - RV(ports) gives every port of the Service the same way (service port, target port resolved, node port
    and protocol), for a policy that must open all of them.
  - RV(nodes) and RV(node_networks) give the nodes' internal addresses, for example for the kubelets'
    external network of a Prisma Cloud Microsegmentation namespace.
  - RV(render_input) holds the objects themselves in the shapes the P(microseg.segmentation.sw_k8s_rules#filter)
    filter takes.
  - The module only reads; it reports C(changed=false), in check mode too.
author: Microseg Segmentation Maintainers (@microseg)
extends_documentation_fragment:
  - microseg.segmentation.k8s
  - microseg.segmentation.attributes.info
  - microseg.segmentation.k8s.attributes
options:
  namespace:
    description: The Kubernetes namespace of the Service.
    type: str
    default: default
  name:
    description: The name of the Service.
    type: str
    required: true
  port:
    description:
      - The Service port whose values RV(service) gives, by name (C(spec.ports[].name)) or by service port
        number (C(spec.ports[].port), not the target or node port).
      - Without it, a Service of one port (of O(protocol), when set) selects that port; a Service of several
        selects none, so the values of RV(service) that describe the selected port are null and RV(ports)
        gives them all. The module fails and lists the Service's ports when O(port) matches none.
    type: raw
  protocol:
    description:
      - The protocol of O(port), needed only when the Service exposes the same port number over two
        protocols (such as DNS on 53/UDP and 53/TCP).
    type: str
    choices: [TCP, UDP, SCTP]
  endpoints_source:
    description:
      - Where the endpoints are read from. V(auto) reads the EndpointSlices of the Service and, on a cluster
        without the C(discovery.k8s.io/v1) API, its Endpoints object.
      - V(endpointslices) reads the EndpointSlices (label C(kubernetes.io/service-name)); V(endpoints) the
        Endpoints object, deprecated since Kubernetes 1.33.
    type: str
    choices: [auto, endpointslices, endpoints]
    default: auto
  include_nodes:
    description:
      - Read the Nodes. Reading them needs the right to list Nodes, a cluster-wide permission; with V(false),
        RV(nodes) and RV(node_networks) are empty and the node-port rules of C(sw_k8s_rules) cannot be rendered.
    type: bool
    default: true
  node_selector:
    description: Only the Nodes that match this label selector, such as V(node-role.kubernetes.io/worker).
    type: str
  cluster_domain:
    description: The cluster's DNS domain, for RV(service.dns_name).
    type: str
    default: cluster.local
notes:
  - The single-port values of RV(service) are those of the port O(port) selects; RV(ports) always holds
    every port.
  - Requests sent - one read of the Service, one list of its EndpointSlices (or one read of its Endpoints),
    and one list of the Nodes, each by pages of 500.
  - The objects are parsed as the P(microseg.segmentation.sw_k8s_rules#filter) filter parses them, so both give
    the same addresses, ports and pods for the same objects.
  - Which endpoints count as the Service's pods follows kube-proxy and the EndpointSlice conditions the
    Kubernetes API documents. An endpoint counts when its C(ready) condition is true or unset (unset means
    ready; C(ready) is never true for a terminating pod unless the Service publishes not-ready addresses).
    When no endpoint of a port is ready, the endpoints that are C(serving) and C(terminating) count instead,
    as kube-proxy falls back to them since Kubernetes 1.26. Other not-ready endpoints, and the
    C(notReadyAddresses) of an Endpoints object, never count.
  - A named C(targetPort) is resolved by every endpoint of the port, ready or not, so a Service whose pods are
    still starting has its target port and no endpoint addresses.
  - Every list of addresses is canonical, unique and sorted (IPv4 first, then IPv6, then host names).
seealso:
  - plugin: microseg.segmentation.sw_k8s_rules
    plugin_type: filter
  - module: microseg.segmentation.prisma_tcp_service
  - module: microseg.segmentation.prisma_external_network
"""

EXAMPLES = r"""
- name: Read the web service's port http, its endpoints and the nodes
  microseg.segmentation.k8s_service_inputs:
    kubeconfig: ~/.kube/config
    namespace: shop
    name: web
    port: http
  register: web

- name: Declare it as a Prisma TCP service
  microseg.segmentation.prisma_tcp_service:
    namespace: /acme/shop
    name: web
    ips: "{{ web.service.cluster_ips }}"
    hosts: ["{{ web.service.dns_name }}"]
    exposed_port: "{{ web.service.port }}"
    port: "{{ web.service.target_port }}"
    selectors: [["$identity=processingunit", "app={{ web.service.selector.app }}"]]

- name: Read every port of the web service
  microseg.segmentation.k8s_service_inputs:
    namespace: shop
    name: web
  register: web_all

- name: Let the Internet reach the web pods on every service, node and target port
  microseg.segmentation.prisma_network_ruleset:
    namespace: /acme/shop
    name: allow-web-server
    subject: [["$identity=processingunit", "app=web"]]
    incoming_rules:
      - object: [["externalnetwork:name=internet"]]
        protocol_ports: >-
          {{ (web_all.ports | map(attribute='port') | list
              + web_all.ports | map(attribute='node_port') | select | list
              + web_all.ports | map(attribute='target_port') | flatten | list)
             | unique | map('regex_replace', '^', 'tcp/') | list }}

- name: The kubelets, as an external network of host addresses
  microseg.segmentation.prisma_external_network:
    namespace: /acme/shop
    name: kubelets
    entries: "{{ web.node_networks }}"

- name: The rules a Secure Workload policy implies for the live service
  ansible.builtin.debug:
    msg: >-
      {{ {'consumer': 'environment = production', 'port': web.service.port}
         | microseg.segmentation.sw_k8s_rules(web.render_input.service, endpoints=web.render_input.endpoints,
                                              nodes=web.render_input.nodes) }}

- name: A service of a cluster reached with a service account token, DNS over UDP
  microseg.segmentation.k8s_service_inputs:
    host: https://k8s.example.com:6443
    api_key: "{{ k8s_token }}"
    ca_cert: /etc/pki/k8s-ca.pem
    namespace: kube-system
    name: kube-dns
    port: 53
    protocol: UDP
    include_nodes: false
"""

RETURN = r"""
service:
  description: What the Service says, and the values of the port O(port) selects.
  returned: success
  type: dict
  contains:
    name:
      description: The Service's name.
      type: str
      sample: web
    namespace:
      description: The Service's namespace.
      type: str
      sample: shop
    type:
      description: V(ClusterIP), V(NodePort), V(LoadBalancer) or V(ExternalName).
      type: str
      sample: NodePort
    cluster_ip:
      description: The primary cluster IP; null for a headless or an ExternalName service.
      type: str
      sample: 10.96.0.27
    cluster_ips:
      description: Every cluster IP (one per IP family), sorted (IPv4 first); RV(service.cluster_ip) is the primary one.
      type: list
      elements: str
      sample: [10.96.0.27]
    external_ips:
      description: The Service's C(spec.externalIPs), sorted.
      type: list
      elements: str
      sample: []
    external_name:
      description: The DNS name of an ExternalName service, else null.
      type: str
    load_balancer_ips:
      description: The IP addresses of C(status.loadBalancer.ingress), sorted.
      type: list
      elements: str
      sample: [192.0.2.200]
    load_balancer_hostnames:
      description: The host names of C(status.loadBalancer.ingress) that have no IP address, sorted.
      type: list
      elements: str
      sample: [web-0123.elb.us-east-1.amazonaws.com]
    dns_name:
      description: The Service's name in the cluster DNS (C(<name>.<namespace>.svc.<cluster_domain>)).
      type: str
      sample: web.shop.svc.cluster.local
    selector:
      description: The Service's pod selector (empty for a service without one).
      type: dict
      sample: {app: web}
    ports:
      description: Every port of the Service (C(target_port) as the Service gives it, a number or a name).
      type: list
      elements: dict
      sample: [{name: http, port: 80, target_port: http, node_port: 30080, protocol: TCP}]
    port_name:
      description: The name of the selected port (null when unnamed or when no port is selected).
      type: str
      sample: http
    port:
      description: The selected service port; null for a Service without ports, and for a Service of several
        ports when O(port) is not given.
      type: int
      sample: 80
    target_port:
      description:
        - The port the pods serve it on. A named target port resolved through the endpoints; a sorted list
          when pods resolve the name to different numbers.
      type: raw
      sample: 8080
    target_port_name:
      description: The name of the target port when the Service gives one, else null.
      type: str
      sample: http
    node_port:
      description: The node port of the selected port (NodePort and LoadBalancer services), else null.
      type: int
      sample: 30080
    protocol:
      description: The protocol of the selected port.
      type: str
      sample: TCP
    endpoint_addresses:
      description: The pod addresses that serve the selected port (ready endpoints, else serving terminating ones; see the notes), sorted.
      type: list
      elements: str
      sample: [10.244.1.5, 10.244.2.7]
ports:
  description:
    - Every port of the Service, in the Service's order, with its target port resolved as for the selected
      port.
    - Unlike RV(service.target_port), a named target port that no endpoint resolves does not fail the task;
      its C(target_port) is null instead.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The port's name (null when unnamed).
      type: str
    protocol:
      description: V(TCP), V(UDP) or V(SCTP).
      type: str
    port:
      description: The service port.
      type: int
    target_port:
      description: The port the pods serve it on (a sorted list when pods resolve a named target port to
        different numbers; null when a named target port cannot be resolved).
      type: raw
    target_port_name:
      description: The name of the target port when the Service gives one, else null.
      type: str
    node_port:
      description: The node port (NodePort and LoadBalancer services), else null.
      type: int
    endpoint_addresses:
      description: The pod addresses that serve the port (ready endpoints, else serving terminating ones; see the notes), sorted.
      type: list
      elements: str
  sample:
    - {name: http, protocol: TCP, port: 80, target_port: 8080, target_port_name: http, node_port: 30080,
       endpoint_addresses: [10.244.1.5]}
    - {name: https, protocol: TCP, port: 443, target_port: 8443, target_port_name: null, node_port: 30443,
       endpoint_addresses: [10.244.1.5]}
nodes:
  description: The Nodes, sorted by name (empty with O(include_nodes=false)).
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The Node's name.
      type: str
    internal_addresses:
      description: Its C(InternalIP) addresses.
      type: list
      elements: str
    external_addresses:
      description: Its C(ExternalIP) addresses.
      type: list
      elements: str
    pod_cidrs:
      description: Its pod networks (C(spec.podCIDRs)), empty when the cluster does not allocate them per node.
      type: list
      elements: str
  sample: [{name: node-1, internal_addresses: [10.128.0.2], external_addresses: [], pod_cidrs: [10.244.1.0/24]}]
node_networks:
  description: Every internal address of the nodes as a host network (V(/32) or V(/128)), sorted and unique.
  returned: success
  type: list
  elements: str
  sample: [10.128.0.2/32, 10.128.0.3/32]
render_input:
  description:
    - The objects, as the API server returns them without C(metadata.managedFields), in the shapes of the
      P(microseg.segmentation.sw_k8s_rules#filter) filter. Nodes keep only their name, labels, pod networks and
      addresses.
  returned: success
  type: dict
  contains:
    service:
      description: The Service object.
      type: dict
    endpoints:
      description: The list of its EndpointSlices, or its Endpoints object (empty list when it has none).
      type: raw
    nodes:
      description: The Node objects.
      type: list
      elements: dict
"""

from ansible_collections.microseg.segmentation.plugins.module_utils._core.runner import run_module
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._k8s.client import (
    HAS_KUBERNETES,
    KUBERNETES_IMPORT_ERROR,
    K8sClient,
    K8sError,
    k8s_argument_spec,
)
from ansible_collections.microseg.segmentation.plugins.module_utils._k8s.inputs import service_inputs
from ansible_collections.microseg.segmentation.plugins.module_utils._k8s.service import K8sInputError, read_objects


def check_port(params):
    port = params["port"]
    if port is not None and (isinstance(port, bool) or not isinstance(port, (str, int)) or (isinstance(port, int) and not 0 < port < 65536)):
        raise ValidationError("port", "expected a port name or a number from 1 to 65535, got %r" % (port,))


def execute(module, client, prepared):
    params = module.params
    service, endpoints, nodes = read_objects(client, params)
    return service_inputs(service, endpoints, nodes, port=params["port"], protocol=params["protocol"], cluster_domain=params["cluster_domain"])


def main():
    argument_spec = k8s_argument_spec()
    argument_spec.update(
        namespace=dict(type="str", default="default"),
        name=dict(type="str", required=True),
        port=dict(type="raw"),
        protocol=dict(type="str", choices=["TCP", "UDP", "SCTP"]),
        endpoints_source=dict(type="str", default="auto", choices=["auto", "endpointslices", "endpoints"]),
        include_nodes=dict(type="bool", default=True),
        node_selector=dict(type="str"),
        cluster_domain=dict(type="str", default="cluster.local"),
    )
    run_module(argument_spec, execute, connect=K8sClient, prepare=check_port,
               libraries=[("kubernetes", HAS_KUBERNETES, KUBERNETES_IMPORT_ERROR)], mapped_errors=(K8sError, K8sInputError))


if __name__ == "__main__":
    main()
