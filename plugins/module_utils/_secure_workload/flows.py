# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which flows a Cisco Secure Workload workspace allows, from the objects the product holds.

Pure functions and classes (no HTTP): ``secure_workload_flow_check`` reads the scopes, inventory
filters, the workspace's policies and clusters and the inventory once, and :class:`WorkspaceFlows`
evaluates flows on them. Sources are in ``shared/reference/secure-workload-api.md`` (cited as
``ref §N``); where the reference is silent, the assumption is named here and in the module's notes.

Semantics:

* Order. A workspace's policies come as ``absolute_policies``, ``default_policies`` and a
  ``catch_all_action`` (ref §6.1, GET /applications/{id}/policies; ranks ``ABSOLUTE``, ``DEFAULT``,
  ``CATCH_ALL``, ref §6.2 and §14.6). Absolute policies are evaluated first, then default
  policies, then the catch-all (DESIGN "What the policy allows"; the reference lists the ranks but
  does not spell the order out). Within a rank, policies are ordered by ``priority`` ("used to sort
  policy", ref §6.2), lower number first (assumption: the reference does not give the direction;
  the lab lists them that way). At equal rank and priority the order the API lists them decides
  (assumption; the result says when a policy of the other action tied).
* Match. A policy matches a flow when the source is a member of its consumer, the destination a
  member of its provider and the service is covered by one of its ``l4_params`` (``proto`` null =
  any protocol, ``port`` ``[low, high]`` inclusive for TCP and UDP, ref §6.2). A policy without
  l4_params matches nothing (assumption). The first matching policy decides; none: the catch-all.
* Consumer and provider. An id of a scope (its ``query``, the conjunction with its parents, ref
  §3), an inventory filter (its ``query``, ref §4) or a cluster of the workspace (ref §8; its
  ``query``, ANDed with the workspace scope's query: assumption) evaluated against the inventory
  with the documented filter grammar (ref §2).
* Enforcement. The workspace's policies and catch-all are enforced on the workloads of its scope
  (the agents of those workloads). A flow with neither end in the scope is not governed by the
  workspace: it is reported allowed, decided by "outside the scope" (assumption: other
  workspaces are not evaluated).
* Kubernetes services (ref §11). A provider that selects a Kubernetes Service abstraction
  (an inventory item with ``user_orchestrator_system/workload_type`` ``service``, or a Service
  given to the check) is expanded into the rules ``k8s_render.render_k8s_rules`` generates
  (consumers to the nodes on the node port, consumer pods to the cluster IP, consumers and
  nodes to the provider pods on the target port), at the position of the policy. The Service,
  its endpoints and the nodes must be given; a selected Service without them is an error.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.microseg.segmentation.plugins.module_utils._core.flowcheck import Decision, FlowCheckError, Service, Verdict, ports_match
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.k8s_render import K8sRenderError, render_k8s_rules

RANK_ORDER = {"ABSOLUTE": 0, "DEFAULT": 1}
PROTOCOL_NUMBERS = {"TCP": 6, "UDP": 17, "SCTP": 132}
WORKLOAD_TYPE = "user_orchestrator_system/workload_type"
NAMESPACE = "user_orchestrator_system/namespace"
SERVICE_NAME = "user_orchestrator_system/service_name"
CLUSTER_NAME = "user_orchestrator_system/cluster_name"
ENDPOINT_KINDS = ("address", "labels", "scope", "filter")


# ---------------------------------------------------------------------------------------------
# the filter grammar, evaluated on one inventory item (ref §2)


def _number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _address(value):
    try:
        return ipaddress.ip_address(u"%s" % value)
    except ValueError:
        return None


def _ordered(actual, expected):
    """Comparable forms of two values: numbers, then addresses of one family, else text."""
    left, right = _number(actual), _number(expected)
    if left is not None and right is not None:
        return left, right
    left_ip, right_ip = _address(actual), _address(expected)
    if left_ip is not None and right_ip is not None and left_ip.version == right_ip.version:
        return int(left_ip), int(right_ip)
    return u"%s" % actual, u"%s" % expected


def _equal(actual, expected):
    if isinstance(actual, bool) or isinstance(expected, bool):
        return (u"%s" % actual).lower() == (u"%s" % expected).lower()
    left, right = _number(actual), _number(expected)
    if left is not None and right is not None:
        return left == right
    left_ip, right_ip = _address(actual), _address(expected)
    if left_ip is not None and right_ip is not None:
        return left_ip == right_ip
    return u"%s" % actual == u"%s" % expected


def _in_range(actual, value):
    if isinstance(value, list):
        low, high = value
    else:
        low, dummy, high = (u"%s" % value).strip().partition("-")
    left, low_value = _ordered(actual, low)
    left2, high_value = _ordered(actual, high)
    return type(left) is type(low_value) and type(left2) is type(high_value) and low_value <= left and left2 <= high_value


def query_matches(query, item):
    """Does inventory ``item`` (a flat dict of columns) satisfy filter ``query``?"""
    if query is None:
        return False
    kind = query.get("type")
    if kind == "and":
        return all(query_matches(f, item) for f in query.get("filters") or [])
    if kind == "or":
        return any(query_matches(f, item) for f in query.get("filters") or [])
    if kind == "not":
        return not query_matches(query.get("filter"), item)
    if kind == "all":
        return True
    if kind == "none":
        return False
    actual = item.get(query.get("field"))
    if kind == "ne":
        return actual is None or not _equal(actual, query.get("value"))
    if actual is None:
        return False
    if kind == "eq":
        return _equal(actual, query.get("value"))
    if kind == "in":
        return any(_equal(actual, v) for v in query.get("values") or [])
    if kind in ("lt", "lte", "gt", "gte"):
        left, right = _ordered(actual, query.get("value"))
        if type(left) is not type(right):
            return False
        return {"lt": left < right, "lte": left <= right, "gt": left > right, "gte": left >= right}[kind]
    if kind == "contains":
        return (u"%s" % query.get("value")).lower() in (u"%s" % actual).lower()
    if kind == "regex":
        return re.search(u"%s" % query.get("value"), u"%s" % actual) is not None
    if kind == "subnet":
        address = _address(actual)
        try:
            network = ipaddress.ip_network(u"%s" % query.get("value"), strict=False)
        except ValueError:
            return False
        return address is not None and address.version == network.version and address in network
    if kind == "range":
        return _in_range(actual, query.get("value"))
    if kind == "ranges":
        return any(_in_range(actual, v) for v in query.get("values") or [])
    raise FlowCheckError("unknown filter type %r in %r" % (kind, query))


# ---------------------------------------------------------------------------------------------
# workloads


def canonical_ip(value):
    address = _address(value)
    return str(address) if address is not None else None


def describe(item):
    """A short name for an inventory item: pod, service or host name, with its address."""
    name = item.get("user_orchestrator_system/pod_name") or item.get(SERVICE_NAME) or item.get("host_name")
    if item.get(WORKLOAD_TYPE) == "service" and item.get(SERVICE_NAME):
        name = "service %s/%s" % (item.get(NAMESPACE), item.get(SERVICE_NAME))
    return "%s (%s)" % (name, item.get("ip")) if name else u"%s" % item.get("ip")


def l4_specs(params):
    """Protocol-port entries (the flowcheck grammar) of a policy's ``l4_params``."""
    specs = []
    for param in params or []:
        proto = param.get("proto")
        if proto is None or proto == -1:
            specs.append("any")
            continue
        port = param.get("port")
        if proto in (6, 17) and port:
            specs.append("%d/%d:%d" % (proto, port[0], port[1]))
        else:
            specs.append("%d" % proto)
    return specs


def order_policies(absolute, default):
    """Absolute, then default policies; within each by priority, lower first, then as listed."""
    ranked = [(0, p) for p in absolute or []] + [(1, p) for p in default or []]
    indexed = [(rank, int(p.get("priority") or 0), index, p) for index, (rank, p) in enumerate(ranked)]
    return [p for dummy, dummy2, dummy3, p in sorted(indexed, key=lambda t: t[:3])]


class _Rule:
    """One entry of the ordered table: a policy, or a rule generated from it for a Kubernetes Service."""

    def __init__(self, policy, label, consumer, provider, specs, generated=None):
        self.policy = policy
        self.label = label
        self.consumer = consumer  # item -> bool
        self.provider = provider
        self.specs = specs
        self.generated = generated
        self.action = (policy.get("action") or policy.get("policy_action") or "").upper()
        self.rank = (policy.get("rank") or "DEFAULT").upper()
        self.priority = int(policy.get("priority") or 0)

    def matches(self, source, destination, service):
        return ports_match(service, self.specs) and self.consumer(source) and self.provider(destination)


class WorkspaceFlows:
    """The flows a workspace allows.

    ``workspace``: the workspace (``id``, ``name``, ``app_scope_id``); ``policies``: the answer of
    ``GET /applications/{id}/policies``; ``clusters``, ``scopes``, ``filters``: the lists the API
    returns; ``inventory``: the items of the inventory search; ``services``: Kubernetes Services as
    ``{service, endpoints, nodes, cluster}`` (the renderer's input); ``enforced``: False when the
    workspace enforces nothing (every flow is then allowed by it).
    """

    def __init__(self, workspace, policies, clusters, scopes, filters, inventory, services=None, enforced=True):
        self.workspace = workspace
        self.where = workspace.get("name") or workspace.get("id")
        self.scopes = list(scopes or [])
        self.filters = list(filters or [])
        self.clusters = list(clusters or [])
        self.inventory = list(inventory or [])
        self.enforced = enforced
        self.catch_all = ((policies or {}).get("catch_all_action") or "DENY").upper()
        self.scope = next((s for s in self.scopes if s.get("id") == workspace.get("app_scope_id")), None)
        if self.scope is None:
            raise FlowCheckError("the scope %s of workspace %s is not among the scopes read" % (workspace.get("app_scope_id"), self.where))
        self.scope_query = self.scope.get("query") or self.scope.get("short_query")
        self.by_ip = {}
        for item in self.inventory:
            self.by_ip.setdefault(canonical_ip(item.get("ip")), []).append(item)
        self.services = [self._service_entry(s, index) for index, s in enumerate(services or [])]
        self.dnat = {}
        for entry in self.services:
            self._add_dnat(entry)
        policies = policies or {}
        self.ordered = order_policies(policies.get("absolute_policies"), policies.get("default_policies"))
        self.rules = []
        for policy in self.ordered:
            self.rules.extend(self._rules_of(policy))

    # ------------------------------------------------------------------ objects

    def _service_entry(self, given, index):
        service = given.get("service") or {}
        metadata = service.get("metadata") or {}
        name, namespace = metadata.get("name"), metadata.get("namespace")
        if not name or not namespace:
            raise FlowCheckError("kubernetes_services[%d].service: the Service needs metadata.name and metadata.namespace" % index)
        spec = service.get("spec") or {}
        address = spec.get("clusterIP") if spec.get("clusterIP") not in (None, "", "None") else None
        item = {"ip": address, WORKLOAD_TYPE: "service", NAMESPACE: namespace, SERVICE_NAME: name}
        for key, value in (metadata.get("labels") or {}).items():
            item["user_orchestrator_%s" % key] = value
        if given.get("cluster"):
            item[CLUSTER_NAME] = given["cluster"]
        return dict(given, item=item, key=(namespace, name), index=index)

    def _add_dnat(self, entry):
        """(cluster IP, proto, port) -> [(pod address, pod port)]: where kube-proxy sends a flow to the cluster IP."""
        spec = (entry.get("service") or {}).get("spec") or {}
        addresses = spec.get("clusterIPs") or [spec.get("clusterIP")]
        for port in spec.get("ports") or []:
            protocol = (port.get("protocol") or "TCP").upper()
            request = {"consumer": {"name": "any"}, "l4_params": [{"proto": PROTOCOL_NUMBERS.get(protocol), "port": [port.get("port"), port.get("port")]}]}
            try:
                rules = render_k8s_rules(request, entry.get("service"), endpoints=entry.get("endpoints"), nodes=entry.get("nodes"))
            except K8sRenderError as exc:
                raise FlowCheckError("kubernetes_services[%d]: %s" % (entry["index"], exc)) from exc
            pods = [(address, rule["port"]) for rule in rules if rule["provider"]["label"] == "provider pods"
                    and rule["consumer"]["label"] == "consumers" for address in rule["provider"]["addresses"]]
            for address in addresses:
                if canonical_ip(address):
                    self.dnat[(canonical_ip(address), protocol.lower(), int(port.get("port")))] = pods

    def endpoint_query(self, ident, policy, side):
        for scope in self.scopes:
            if scope.get("id") == ident:
                return scope.get("name"), scope.get("query") or scope.get("short_query")
        for flt in self.filters:
            if flt.get("id") == ident:
                return flt.get("name"), flt.get("query") or flt.get("short_query")
        for cluster in self.clusters:
            if cluster.get("id") == ident:
                return cluster.get("name"), {"type": "and", "filters": [self.scope_query, cluster.get("query") or {"type": "none"}]}
        raise FlowCheckError("policy %s of workspace %s: its %s %s is not a scope, inventory filter or cluster the check read"
                             % (policy.get("id"), self.where, side, ident))

    def _name_of(self, policy, side):
        summary = policy.get("%s_filter" % side) or {}
        ident = policy.get("%s_filter_id" % side)
        if summary.get("name"):
            return summary["name"]
        return self.endpoint_query(ident, policy, side)[0] or ident

    def _matching_services(self, provider_query):
        """Kubernetes Services the provider selects: (service entry or None, inventory item)."""
        found = []
        seen = set()
        for item in self.inventory:
            if item.get(WORKLOAD_TYPE) == "service" and query_matches(provider_query, item):
                key = (item.get(NAMESPACE), item.get(SERVICE_NAME))
                entry = next((s for s in self.services if s["key"] == key and
                              (not s.get("cluster") or s.get("cluster") == item.get(CLUSTER_NAME))), None)
                if key not in seen:
                    seen.add(key)
                    found.append((entry, item))
        for entry in self.services:
            if entry["key"] not in seen and query_matches(provider_query, entry["item"]):
                seen.add(entry["key"])
                found.append((entry, entry["item"]))
        return found

    def _rules_of(self, policy):
        rank = (policy.get("rank") or "DEFAULT").upper()
        action = (policy.get("action") or policy.get("policy_action") or "").upper()
        consumer_name, consumer_query = self.endpoint_query(policy.get("consumer_filter_id"), policy, "consumer")
        provider_name, provider_query = self.endpoint_query(policy.get("provider_filter_id"), policy, "provider")
        consumer_name = self._name_of(policy, "consumer") or consumer_name
        provider_name = self._name_of(policy, "provider") or provider_name
        label = "%s %s -> %s %s (priority %s)" % (rank, consumer_name, provider_name, action, policy.get("priority"))
        services = self._matching_services(provider_query)

        def consumer(item):
            return query_matches(consumer_query, item)

        def provider(item):
            # a Service abstraction is reached through the rules generated for it, not as an address
            return item.get(WORKLOAD_TYPE) != "service" and query_matches(provider_query, item)

        rules = [_Rule(policy, label, consumer, provider, l4_specs(policy.get("l4_params")))]
        if not services:
            return rules
        consumer_items = [i for i in self.inventory if consumer(i)]
        addresses = sorted(set(canonical_ip(i.get("ip")) for i in consumer_items if canonical_ip(i.get("ip"))))
        for entry, item in services:
            if entry is None:
                raise FlowCheckError(
                    "policy %s (%s) selects the Kubernetes service %s/%s as provider: give its Service, endpoints and nodes in "
                    "kubernetes_services so the rules Secure Workload generates for it can be evaluated"
                    % (policy.get("id"), label, item.get(NAMESPACE), item.get(SERVICE_NAME)))
            rules.extend(self._generated(policy, label, consumer_name, addresses, entry))
        return rules

    def _generated(self, policy, label, consumer_name, addresses, entry):
        rules = []
        namespace, name = entry["key"]
        for param in policy.get("l4_params") or []:
            proto = param.get("proto")
            if proto is not None and proto not in (6, 17, 132):
                continue  # Services carry TCP, UDP and SCTP ports only
            l4 = {"port": param["port"]} if param.get("port") else {}
            if proto is not None:
                l4["proto"] = proto
            request = {"consumer": {"name": consumer_name, "addresses": addresses}, "provider": {"name": name, "namespace": namespace},
                       "l4_params": [l4], "action": policy.get("action") or policy.get("policy_action")}
            try:
                generated = render_k8s_rules(request, entry.get("service"), endpoints=entry.get("endpoints"), nodes=entry.get("nodes"))
            except K8sRenderError as exc:
                if exc.option.startswith("policy.l4_params") and "does not expose" in exc.message:
                    continue  # this port of the policy is not a port of the Service: nothing is generated for it
                raise FlowCheckError("kubernetes_services[%d] (%s/%s), for policy %s: %s" % (entry["index"], namespace, name, policy.get("id"), exc)) from exc
            for rule in generated:
                spec = "%d/%d" % (PROTOCOL_NUMBERS[rule["protocol"]], rule["port"])
                text = "%s (generated for service %s/%s: %s -> %s %s/%d)" % (
                    label, namespace, name, rule["consumer"]["label"], rule["provider"]["label"], rule["protocol"].lower(), rule["port"])
                rules.append(_Rule(policy, text, _address_set(rule["consumer"]["addresses"]), _address_set(rule["provider"]["addresses"]),
                                   [spec], generated=rule))
        return rules

    # ------------------------------------------------------------------ endpoints

    def workloads(self, endpoint):
        """The inventory items an endpoint (a dict with one of address, labels, scope, filter) stands for."""
        if "address" in endpoint:
            address = canonical_ip(endpoint["address"])
            bare = {"ip": address}
            if self.scope.get("vrf_id") is not None:
                bare["vrf_id"] = self.scope["vrf_id"]  # an address the inventory does not hold is one of the workspace's VRF
            return self.by_ip.get(address) or [bare]
        if "labels" in endpoint:
            wanted = endpoint["labels"]
            found = [i for i in self.inventory if all(k in i and _equal(i[k], v) for k, v in wanted.items())]
            what = "labels %s" % ", ".join("%s=%s" % (k, wanted[k]) for k in sorted(wanted))
        elif "scope" in endpoint:
            scope = next((s for s in self.scopes if endpoint["scope"] in (s.get("name"), s.get("id"))), None)
            if scope is None:
                raise FlowCheckError("no scope is named %s" % endpoint["scope"])
            found = [i for i in self.inventory if query_matches(scope.get("query") or scope.get("short_query"), i)]
            what = "scope %s" % endpoint["scope"]
        else:
            flt = [f for f in self.filters if endpoint["filter"] in (f.get("name"), f.get("id"))]
            if len(flt) != 1:
                raise FlowCheckError("%s inventory filter is named %s" % ("no" if not flt else "more than one", endpoint["filter"]))
            found = [i for i in self.inventory if query_matches(flt[0].get("query") or flt[0].get("short_query"), i)]
            what = "inventory filter %s" % endpoint["filter"]
        if not found:
            raise FlowCheckError("no inventory workload matches the endpoint's %s" % what)
        return found

    # ------------------------------------------------------------------ evaluation

    def in_scope(self, item):
        return query_matches(self.scope_query, item)

    def decide(self, source, destination, service):
        """(action, Decision, reason) for one pair of workloads; a flow to a Service's cluster IP must also
        pass, after kube-proxy's translation, from the source to every pod of the Service (ref §11, K8SG)."""
        action, decision, reason = self._decide(source, destination, service)
        legs = self.dnat.get((canonical_ip(destination.get("ip")), service.proto, service.port)) if service.proto in ("tcp", "udp") else None
        if action != "ALLOW" or not legs:
            return action, decision, reason
        deciding = None
        for address, port in legs:
            pod = self.workloads({"address": address})[0]
            translated = Service(service.proto, port=port)
            leg_action, leg_decision, leg_reason = self._decide(source, pod, translated)
            leg = (leg_action, leg_decision, "after translation to pod %s on %s: %s" % (describe(pod), translated, leg_reason))
            if leg_action != "ALLOW":
                return leg
            if deciding is None and not leg_decision.default:
                deciding = leg
        if decision.default and deciding is not None:
            # the cluster IP is not governed by the workspace, the pods are: their policy is the one that decided
            return deciding[0], deciding[1], deciding[2] + "; " + reason + " for the cluster IP itself"
        return action, decision, reason + "; and to every pod of the service after translation"

    def _decide(self, source, destination, service):
        if not self.enforced:
            return "ALLOW", Decision("policy", "ALLOW", "enforcement off", where=self.where, default=True), \
                "workspace %s enforces nothing" % self.where
        if not (self.in_scope(source) or self.in_scope(destination)):
            return "ALLOW", Decision("policy", "ALLOW", "outside scope %s" % self.scope.get("name"), where=self.where, default=True), \
                "neither end is in scope %s: the workspace's policies are not enforced on this flow" % self.scope.get("name")
        for index, rule in enumerate(self.rules):
            if rule.matches(source, destination, service):
                reason = "first matching policy"
                for other in self.rules[index + 1:]:
                    if (other.rank, other.priority) != (rule.rank, rule.priority):
                        continue
                    if other.action != rule.action and other.matches(source, destination, service):
                        reason += ("; policy %s (%s) has the same rank and priority and would %s: the order the API lists them decided"
                                   % (other.policy.get("id"), other.label, other.action.lower()))
                        break
                return rule.action, Decision("policy", rule.action, rule.label, rule.policy.get("id"), self.where), reason
        return self.catch_all, Decision("policy", self.catch_all, "catch-all", where=self.where, default=True), "no policy matches"

    def evaluate(self, source, destination, service, expect=None):
        """The :class:`Verdict` of a flow between two endpoints (each standing for one or more workloads).

        Every pair must get the same verdict: with ``expect``, the verdict is ``expect`` only when
        every pair gets it (else the first pair that does not decides); without, ``allow`` only when
        every pair is allowed.
        """
        sources, destinations = self.workloads(source), self.workloads(destination)
        outcomes = []
        for src in sources:
            for dst in destinations:
                action, decision, reason = self.decide(src, dst, service)
                outcomes.append(("allow" if action == "ALLOW" else "deny", decision, reason, src, dst))
        wanted = expect or "allow"
        odd = [o for o in outcomes if o[0] != wanted]
        chosen = odd[0] if odd else outcomes[0]
        verdict = chosen[0]
        if len(outcomes) == 1:
            reason = chosen[2]
        elif not odd:
            reason = "all %d workload pairs: %s" % (len(outcomes), wanted)
        else:
            reason = "%d of %d workload pairs get %s, e.g. %s -> %s: %s" % (
                len(odd), len(outcomes), verdict, describe(chosen[3]), describe(chosen[4]), chosen[2])
        if len(outcomes) == 1 and (len(sources) > 1 or len(destinations) > 1 or "address" not in source or "address" not in destination):
            reason = "%s -> %s: %s" % (describe(chosen[3]), describe(chosen[4]), reason)
        return Verdict(verdict, [chosen[1]], reason)


def _address_set(addresses):
    wanted = set()
    networks = []
    for text in addresses:
        if "/" in text:
            networks.append(ipaddress.ip_network(text, strict=False))
        else:
            wanted.add(canonical_ip(text) or text)

    def member(item):
        ip = canonical_ip(item.get("ip"))
        if ip is None:
            return False
        if ip in wanted:
            return True
        address = ipaddress.ip_address(ip)
        return any(address.version == n.version and address in n for n in networks)
    return member


def agent_profiles(workloads, intents, profiles, scopes, filters):
    """Which agent config profiles the intents give each workload (ref §9.2: an intent pairs a profile
    with an inventory filter or a scope). Returns ``[{workload, ip, profiles}]`` with the profile names
    of every intent that selects the workload, in the order the API lists the intents (the product's
    intent precedence is not documented: ``profiles[0]`` is the first of them, an assumption)."""
    names = dict((p.get("id"), p.get("name")) for p in profiles or [])
    queries = {}
    for obj in list(scopes or []) + list(filters or []):
        queries[obj.get("id")] = obj.get("query") or obj.get("short_query")
    out = []
    for item in workloads:
        chosen = []
        for intent in intents or []:
            query = queries.get(intent.get("inventory_filter_id"))
            if query is not None and query_matches(query, item):
                chosen.append(names.get(intent.get("inventory_config_profile_id"), intent.get("inventory_config_profile_id")))
        out.append({"workload": describe(item), "ip": item.get("ip"), "profiles": chosen})
    return out
