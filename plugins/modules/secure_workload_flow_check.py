#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: secure_workload_flow_check
short_description: Check which flows a Cisco Secure Workload workspace allows, from what the product holds
version_added: 1.0.0
description:
  - Reads a workspace's policies and catch-all (its working version, or the version it enforces), its clusters,
    the scopes, the inventory filters and the inventory from Secure Workload, and evaluates each flow on them.
  - Reports for each flow V(allow) or V(deny), the policy that decided (by rank, consumer, provider, action and
    priority, with its id) or the catch-all, and whether that is what O(flows[].expect) says.
  - >-
    A flow's O(flows[].source) and O(flows[].destination) are a string (an IP address), or a mapping with one of
    the keys C(address) (an IP address), C(labels) (a mapping of inventory attributes such as
    C({user_orchestrator_environment: production, user_orchestrator_app: web}); every inventory workload that has
    all of them), C(scope) (the full name of a scope; every workload of it) or C(filter) (the name of an inventory
    filter; every workload it selects). An address the inventory does not hold is evaluated as a bare address of
    the workspace's VRF (C(ip) and C(vrf_id) only). A C(labels), C(scope) or C(filter) endpoint that selects no
    workload fails the task, naming the flow.
  - When an endpoint stands for several workloads, every pair of workloads must get the verdict; the first pair
    that does not is reported.
  - Policies whose provider selects a Kubernetes Service abstraction are expanded into the rules Secure Workload
    generates for the Service (the same rules as the P(microseg.segmentation.sw_k8s_rules#filter) filter);
    consumers to every node on the node port, consumer pods to the cluster IP on the service port, consumers and
    the nodes to the provider pods on the target port. Give the Service, its endpoints and the nodes in
    O(kubernetes_services).
  - A flow to the cluster IP of a Service given in O(kubernetes_services) must also be allowed, after kube-proxy's
    translation, from the source to every pod of the Service on its target port.
  - Read-only; one read of each kind (scopes, inventory filters, workspaces, policies, clusters) and one
    paginated inventory search.
author: Microseg Segmentation Maintainers (@microseg)
extends_documentation_fragment:
  - microseg.segmentation.secure_workload
  - microseg.segmentation.flow_check
  - microseg.segmentation.attributes.info
  - microseg.segmentation.secure_workload.attributes
options:
  workspace:
    description: The workspace, by name or id.
    type: str
    required: true
  scope:
    description: Full name of the workspace's scope (for example V(Default:K8s)), when the name is not unique.
    type: str
  version:
    description:
      - V(working) evaluates the working version (what the workspace says now); V(enforced) the version the
        workspace enforces (every flow is allowed by the workspace when enforcement is off).
    type: str
    choices: [working, enforced]
    default: working
  kubernetes_services:
    description:
      - Kubernetes Services that policies of the workspace may have as provider, with what Secure Workload
        generates their rules from (as the P(microseg.segmentation.sw_k8s_rules#filter) filter takes them; the
        C(render_input) of M(microseg.segmentation.k8s_service_inputs) has this shape).
      - A Service is matched to the Service abstractions of the inventory by namespace and name (and
        O(kubernetes_services[].cluster) when given); a given Service that the inventory does not hold is
        evaluated with its labels as the connector imports them.
    type: list
    elements: dict
    default: []
    suboptions:
      service:
        description: The Service object as the Kubernetes API returns it.
        type: dict
        required: true
      endpoints:
        description: Its Endpoints or EndpointSlices (one object, a list or a list object).
        type: raw
      nodes:
        description: The cluster's Nodes (or their addresses), needed for a NodePort or LoadBalancer Service.
        type: raw
      cluster:
        description: The cluster name the connector labels its workloads with (C(user_orchestrator_system/cluster_name)).
        type: str
  agent_profiles_of:
    description:
      - Also report which agent config profiles the config intents give the workloads of this endpoint, or of this
        list of endpoints (each written like O(flows[].source), for example the cluster's nodes by their labels or
        their addresses), in RV(agent_profiles).
      - Adds one read of the intents and one of the profiles. An endpoint that selects no workload fails the task.
    type: raw
notes:
  - "Order: absolute policies, then default policies, then the catch-all. Within a rank, by priority, lower
    number first; at equal rank and priority in the order the API lists them (the result says when a policy of
    the other action tied). The reference documents the ranks and that priority sorts policies, not the
    direction nor the tie-break: these are assumptions."
  - "The first policy whose consumer holds the source, whose provider holds the destination and whose
    C(l4_params) cover the service decides (C(proto) null is any protocol, C(port) an inclusive range). A policy
    without C(l4_params) matches nothing. A flow on V(any) is covered only by an any-protocol entry."
  - "Consumers and providers are scopes (their C(query)), inventory filters (their C(query)) or clusters of the
    workspace (their C(query) ANDed with the workspace scope's query: an assumption), evaluated against the
    inventory with the documented filter grammar."
  - "The policies are enforced on the workloads of the workspace's scope. A flow with neither end in that scope is
    reported allowed, decided by C(outside scope); other workspaces are not evaluated."
  - "Kubernetes Service providers: the rules are the ones the renderer derives from the product's worked example
    (NodePort: consumers to the nodes; pods to the cluster IP; consumers and nodes to the pods on the target port).
    A selected Service without its input in O(kubernetes_services) fails the task rather than being guessed."
  - "Agent profiles: an intent gives its profile to every workload its inventory filter or scope selects. The
    product's precedence between intents is not documented; RV(agent_profiles) lists every profile that applies, in
    the order the API lists the intents."
  - "The inventory is read with one C(POST /inventory/search) (paginated) over the workspace's root scope; it is a
    read although its method is POST."
seealso:
  - module: microseg.segmentation.secure_workload_policy
  - module: microseg.segmentation.k8s_service_inputs
"""

EXAMPLES = r"""
- name: The flow table of the Kubernetes service guide
  microseg.segmentation.secure_workload_flow_check:
    workspace: k8s-apps
    scope: Default:K8s
    version: enforced
    kubernetes_services:
      - {service: "{{ db_service }}", endpoints: "{{ db_endpoints }}", nodes: "{{ nodes }}"}
    flows:
      - name: Kubernetes-labelled consumer to db on its target port
        source: {labels: {user_orchestrator_environment: production, user_orchestrator_app: web}}
        destination: {labels: {user_orchestrator_app: db}}
        service: tcp/27017
        expect: allow
      - name: staging to db
        source: {labels: {user_orchestrator_environment: staging}}
        destination: 10.96.0.27
        service: tcp/27017
        expect: deny
  register: sw_flows

- name: Show the table
  ansible.builtin.debug:
    var: sw_flows.table
"""

RETURN = r"""
flows:
  description: One entry per flow.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The flow's name.
      type: str
    source:
      description: The source as given.
      type: raw
    destination:
      description: The destination as given.
      type: raw
    service:
      description: The service, normalised (V(tcp/27017)).
      type: str
    expect:
      description: The expected verdict, or null.
      type: str
    verdict:
      description: V(allow) or V(deny).
      type: str
    reason:
      description: Why (the workloads of a pair that decided, ties at equal priority).
      type: str
    as_expected:
      description: Whether the verdict is O(flows[].expect); null without an expectation.
      type: bool
    decided_by:
      description: >-
        The deciding policy: C(side) (V(policy)), C(action), C(rule) (rank, consumer, provider, action and priority;
        for a generated Kubernetes rule also which one), C(id) (the policy id), C(where) (the workspace), C(default)
        (true for the catch-all and for flows the workspace does not govern) and C(label).
      type: list
      elements: dict
mismatches:
  description: The flows whose verdict is not O(flows[].expect).
  returned: always
  type: list
  elements: dict
table:
  description: The flows as aligned text lines (flow, source, destination, service, verdict, expected, decided by).
  returned: always
  type: list
  elements: str
summary:
  description: How many flows with an expectation got it.
  returned: always
  type: str
  sample: 9/9 flows as expected
agent_profiles:
  description: With O(agent_profiles_of), one entry per workload of that endpoint.
  returned: when O(agent_profiles_of) is set
  type: list
  elements: dict
  contains:
    workload:
      description: The workload (pod, service or host name and address).
      type: str
    ip:
      description: Its address.
      type: str
    profiles:
      description: The names of the profiles the intents give it, in the order the API lists the intents; empty when none does.
      type: list
      elements: str
  sample: [{workload: lab-node-1 (10.10.0.11), ip: 10.10.0.11, profiles: [k8s-nodes]}]
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

import ipaddress

from ansible.module_utils.six import string_types

from ansible_collections.microseg.segmentation.plugins.module_utils._core.flow_report import public_url
from ansible_collections.microseg.segmentation.plugins.module_utils._core.flowcheck import FlowCheck, FlowCheckError, NotThereYet
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.common import PAGE_SIZE, SwConnection, sw_argument_spec
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.flows import ENDPOINT_KINDS, WorkspaceFlows, agent_profiles

# Every address, IPv4 and IPv6: the inventory search is given an explicit filter.
EVERYTHING = {"type": "or", "filters": [{"type": "subnet", "field": "ip", "value": "0.0.0.0/0"},
                                        {"type": "subnet", "field": "ip", "value": "::/0"}]}


def _address(value, option):
    try:
        return str(ipaddress.ip_address(u"%s" % value))
    except ValueError:
        raise ValidationError(option, "%r is not an IP address" % (value,)) from None


def search_inventory(connection, root_name):
    """Every inventory item of the root scope: POST /inventory/search, followed page by page."""
    body = {"filter": EVERYTHING, "scopeName": root_name, "limit": PAGE_SIZE}
    items = []
    while True:
        data = connection.request("POST", "/inventory/search", body=body) or {}
        items.extend(data.get("results") or [])
        if not data.get("offset"):
            return items
        body = dict(body, offset=data["offset"])


class SecureWorkloadFlowCheck(FlowCheck):
    endpoint_keys = ENDPOINT_KINDS
    string_key = "address"
    extra_spec = dict(
        workspace=dict(type="str", required=True),
        scope=dict(type="str"),
        version=dict(type="str", choices=["working", "enforced"], default="working"),
        kubernetes_services=dict(type="list", elements="dict", default=[], options=dict(
            service=dict(type="dict", required=True),
            endpoints=dict(type="raw"),
            nodes=dict(type="raw"),
            cluster=dict(type="str"),
        )),
        agent_profiles_of=dict(type="raw"),
    )
    profiles_report = None
    product = "Cisco Secure Workload"

    def report_context(self, params):
        return [("Cluster", public_url(params["url"])), ("Workspace", params["workspace"]), ("Scope", params["scope"]),
                ("Version", params["version"])]

    def connection_spec(self):
        return sw_argument_spec()

    def connect(self, params):
        return SwConnection(params)

    def validate_endpoint(self, endpoint, option):
        if len(endpoint) != 1:
            raise ValidationError(option, "give one of %s, not %s" % (", ".join(ENDPOINT_KINDS), ", ".join(sorted(endpoint))))
        kind, value = list(endpoint.items())[0]
        if kind == "address":
            endpoint["address"] = _address(value, option + ".address")
        elif kind == "labels":
            if not isinstance(value, dict) or not value:
                raise ValidationError(option + ".labels", "a non-empty mapping of inventory attributes is expected")
            for key, item in value.items():
                if not isinstance(item, (string_types, int, float, bool)):
                    raise ValidationError("%s.labels.%s" % (option, key), "must be a string, number or boolean")
        elif not isinstance(value, string_types) or not value.strip():
            raise ValidationError("%s.%s" % (option, kind), "a name is expected")

    def check_task(self, params):
        if not params["workspace"].strip():
            raise ValidationError("workspace", "must not be empty")
        given = params["agent_profiles_of"]
        if given is not None:
            if isinstance(given, list):
                if not given:
                    raise ValidationError("agent_profiles_of", "an endpoint or a non-empty list of endpoints is expected")
                params["agent_profiles_of"] = [self.parse_endpoint(e, "agent_profiles_of[%d]" % i) for i, e in enumerate(given)]
            else:
                params["agent_profiles_of"] = [self.parse_endpoint(given, "agent_profiles_of")]
        for index, entry in enumerate(params["kubernetes_services"] or []):
            metadata = (entry["service"] or {}).get("metadata") or {}
            if not metadata.get("name") or not metadata.get("namespace"):
                raise ValidationError("kubernetes_services[%d].service" % index, "the Service needs metadata.name and metadata.namespace")

    @staticmethod
    def _workspace(connection, scopes, params):
        given, scope_name = params["workspace"], params["scope"]
        scope = None
        if scope_name:
            scope = next((s for s in scopes if s.get("name") == scope_name), None)
            if scope is None:
                raise NotThereYet("scope: no scope is named %s" % scope_name)
        found = [w for w in connection.list_all("/applications", params={"app_scope_id": scope["id"]} if scope else None)
                 if given in (w.get("id"), w.get("name")) and (scope is None or w.get("app_scope_id") == scope["id"])]
        if not found:
            raise NotThereYet("workspace: no workspace is named %s%s" % (given, " in scope %s" % scope_name if scope_name else ""))
        if len(found) > 1:
            raise FlowCheckError("workspace: %d workspaces are named %s; give scope or the id" % (len(found), given))
        return found[0]

    def load(self, connection, params, flows):
        scopes = connection.list_all("/app_scopes")
        filters = connection.list_all("/filters/inventories")
        workspace = self._workspace(connection, scopes, params)
        query, enforced = {}, True
        if params["version"] == "enforced":
            enforced = bool(workspace.get("enforcement_enabled"))
            query["version"] = "p%s" % workspace.get("enforced_version")
        policies, clusters = {}, []
        if enforced:
            path = "/applications/%s" % workspace["id"]
            policies = connection.request("GET", path + "/policies", params=query or None) or {}
            clusters = connection.list_all(path + "/clusters", params=query or None)
        scope = next((s for s in scopes if s.get("id") == workspace.get("app_scope_id")), {})
        root_id = scope.get("root_app_scope_id") or scope.get("id")
        root = next((s for s in scopes if s.get("id") == root_id), scope)
        inventory = search_inventory(connection, root.get("name"))
        evaluator = WorkspaceFlows(workspace, policies, clusters, scopes, filters, inventory, params["kubernetes_services"], enforced)
        if params["agent_profiles_of"] is not None:
            workloads = []
            for endpoint in params["agent_profiles_of"]:
                try:
                    workloads.extend(evaluator.workloads(endpoint))
                except FlowCheckError as exc:
                    raise FlowCheckError("agent_profiles_of: %s" % exc) from None
            self.profiles_report = agent_profiles(workloads, connection.list_all("/inventory_config/intents"),
                                                  connection.list_all("/inventory_config/profiles"), scopes, filters)

        def evaluate(flow):
            return evaluator.evaluate(flow.source, flow.destination, flow.service, flow.expect)

        return evaluate

    def summarise(self, results):
        summary = FlowCheck.summarise(results)
        if self.profiles_report is not None:
            summary["agent_profiles"] = self.profiles_report
        return summary


def main():
    SecureWorkloadFlowCheck().run()


if __name__ == "__main__":
    main()
