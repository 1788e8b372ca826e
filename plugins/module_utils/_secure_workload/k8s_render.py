# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Expand a Secure Workload policy whose provider is a Kubernetes Service into firewall rules.

Secure Workload lets a Kubernetes service abstraction be the provider of a policy and turns
that policy into rules for the provider pods and for the nodes they run on; which rules depends
on the service type. :func:`render_k8s_rules` computes the same set from data (the policy, the
Service as the API server returns it, its Endpoints or EndpointSlices and the Nodes), so a
playbook can show, review or apply them without a live cluster.

For each Service port the policy selects (``protocol`` and ``port`` match ``spec.ports[]``):

* ClusterIP: consumer pods to every cluster IP on the service port, and consumers to the
  provider pods on the target port (traffic reaches the pods after DNAT, from the consumer).
* NodePort: in addition, consumers to every node on the node port, and nodes to the provider
  pods on the target port (kube-proxy forwards node-port traffic, usually with the node as
  source).
* LoadBalancer: the NodePort set (when the port has a node port), plus consumers to the load
  balancer addresses (``status.loadBalancer.ingress``) on the service port. The public sources
  do not confirm the load-balancer rule, so ``load_balancer=False`` leaves it out.

A ``DENY`` policy gives the same rules with ``DENY``, except the nodes-to-pods rule: that flow
carries every consumer's node-port traffic, so denying it would block other policies.

The Service, its endpoints and the Nodes are read by ``_k8s/service.py``, the parser the
``k8s_service_inputs`` module uses too, so both give the same addresses, ports and pods: the
provider pods are the ready endpoints of each port (ready true or unset) or, when a port has
none, its serving terminating endpoints (kube-proxy's fallback); not-ready endpoints and the
``notReadyAddresses`` of an Endpoints object are not provider pods.

Every rule is a dict ``{consumer, provider, protocol, port, action, reason}``. ``consumer`` and
``provider`` are ``{label, addresses}`` (address sets derived from the policy's consumer filter
also carry ``filter``). Addresses are canonical, unique and sorted (IPv4, then IPv6, then host
names); rules come in service-port order and are de-duplicated. Wrong input raises
:class:`K8sRenderError`, whose ``option`` names the offending value (for example
``service.spec.ports[1].targetPort``).

Only the standard library is used (the kubernetes client is not needed).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.microseg.segmentation.plugins.module_utils._k8s.service import (
    IP_ADDRESS_TYPES,
    K8sInputError,
    ip_text,
    is_list,
    is_map,
    objects,
    parse_endpoints,
    parse_nodes,
    parse_service,
    pods_by_target_port,
    port_number,
    protocol_name,
    sorted_addresses,
)


SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer")
ACTIONS = ("ALLOW", "DENY")
DEFAULT_NODE_ADDRESS_TYPES = IP_ADDRESS_TYPES

LABEL_CONSUMERS = "consumers"
LABEL_CONSUMER_PODS = "consumer pods"
LABEL_NODES = "nodes"
LABEL_PROVIDER_PODS = "provider pods"
LABEL_CLUSTER_IP = "cluster IP"
LABEL_LOAD_BALANCER = "load balancer"


class K8sRenderError(K8sInputError):
    """Input the renderer cannot turn into rules.

    ``option`` is the path of the offending value (``policy.port``, ``service.spec.type``,
    ``nodes``, ...), ``message`` says what is wrong; ``str(error)`` is ``"<option>: <message>"``.
    """

    def __init__(self, option, message):
        super(K8sRenderError, self).__init__(message, option)


def _get(mapping, key, default=None):
    if is_map(mapping):
        value = mapping.get(key)
        if value is not None:
            return value
    return default


# ---------------------------------------------------------------------------------------------
# the policy


def _consumer(policy):
    value = _get(policy, "consumer")
    if value is None:
        raise K8sRenderError("policy.consumer", "required: the consumer filter (its name, optionally with addresses)")
    if isinstance(value, str):
        if not value.strip():
            raise K8sRenderError("policy.consumer", "must not be empty")
        return value.strip(), []
    if not is_map(value):
        raise K8sRenderError("policy.consumer", "expected a filter name or a dict with name and addresses")
    name = value.get("name")
    if not isinstance(name, str) or not name.strip():
        raise K8sRenderError("policy.consumer.name", "required: the name or label query of the consumer filter")
    addresses = value.get("addresses")
    if addresses is None:
        addresses = []
    if not is_list(addresses):
        raise K8sRenderError("policy.consumer.addresses", "expected a list of IP addresses or networks")
    canon = [ip_text(item, "policy.consumer.addresses[%d]" % index, allow_network=True) for index, item in enumerate(addresses)]
    return name.strip(), sorted_addresses(canon)


def _port_range(value, option):
    """(low, high) from 27017, "27017", "27000-27100" or [27000, 27100]."""
    if is_list(value):
        if len(value) == 1:
            number = port_number(value[0], option)
            return number, number
        if len(value) != 2:
            raise K8sRenderError(option, "expected a port or a [first, last] range, got %r" % (value,))
        low, high = port_number(value[0], option), port_number(value[1], option)
    elif isinstance(value, str) and "-" in value:
        first, dummy, last = value.partition("-")
        low, high = port_number(first, option), port_number(last, option)
    else:
        number = port_number(value, option)
        return number, number
    if low > high:
        raise K8sRenderError(option, "range %d-%d is empty" % (low, high))
    return low, high


def _selectors(policy):
    """What the policy allows: a list of (protocol or None, low or None, high or None, option)."""
    given = [key for key in ("port", "ports", "l4_params") if _get(policy, key) is not None]
    if not given:
        raise K8sRenderError("policy", "one of port, ports or l4_params is required")
    if len(given) > 1:
        raise K8sRenderError("policy", "port, ports and l4_params are mutually exclusive, got %s" % ", ".join(given))
    key = given[0]
    if key == "l4_params":
        params = policy["l4_params"]
        if not is_list(params) or not params:
            raise K8sRenderError("policy.l4_params", "expected a non-empty list of {proto, port}")
        selectors = []
        for index, item in enumerate(params):
            option = "policy.l4_params[%d]" % index
            if not is_map(item):
                raise K8sRenderError(option, "expected a dict with proto and port")
            proto = item.get("proto")
            protocol = None if proto is None else protocol_name(proto, option + ".proto")
            if item.get("port") is None:
                selectors.append((protocol, None, None, option))
            else:
                low, high = _port_range(item["port"], option + ".port")
                selectors.append((protocol, low, high, option + ".port"))
        return selectors
    protocol = protocol_name(_get(policy, "protocol"), "policy.protocol")
    if key == "port":
        low, high = _port_range(policy["port"], "policy.port")
        return [(protocol, low, high, "policy.port")]
    ports = policy["ports"]
    if not is_list(ports) or not ports:
        raise K8sRenderError("policy.ports", "expected a non-empty list of ports or ranges")
    selectors = []
    for index, item in enumerate(ports):
        option = "policy.ports[%d]" % index
        low, high = _port_range(item, option)
        selectors.append((protocol, low, high, option))
    return selectors


def _action(policy):
    value = _get(policy, "action", _get(policy, "policy_action", "ALLOW"))
    if not isinstance(value, str) or value.strip().upper() not in ACTIONS:
        raise K8sRenderError("policy.action", "expected ALLOW or DENY, got %r" % (value,))
    return value.strip().upper()


def _check_provider(policy, name, namespace):
    value = _get(policy, "provider")
    if value is None:
        return
    if isinstance(value, str):
        value = {"name": value}
    if not is_map(value):
        raise K8sRenderError("policy.provider", "expected the service name or a dict with name and namespace")
    wanted = value.get("name")
    if wanted is not None and name is not None and str(wanted) != name:
        raise K8sRenderError("policy.provider.name", "the policy's provider is service %r but the Service given is %r" % (wanted, name))
    wanted = value.get("namespace")
    if wanted is not None and namespace is not None and str(wanted) != namespace:
        raise K8sRenderError("policy.provider.namespace", "the policy's provider is in namespace %r but the Service given is in %r" % (wanted, namespace))


# ---------------------------------------------------------------------------------------------
# the Service's ports, pods and nodes (parsed by _k8s/service.py)


def _select_ports(service_ports, selectors, service_name):
    selected = []
    for protocol, low, high, option in selectors:
        matched = [sp for sp in service_ports if (protocol is None or sp.protocol == protocol) and (low is None or low <= sp.port <= high)]
        if not matched:
            proto = protocol + " " if protocol else ""
            if low is None:
                wanted = "any %sport" % proto
            elif low == high:
                wanted = "%sport %d" % (proto, low)
            else:
                wanted = "%sports %d-%d" % (proto, low, high)
            raise K8sRenderError(
                option,
                "service %s does not expose %s; it exposes %s" % (service_name, wanted, ", ".join(sp.describe() for sp in service_ports)),
            )
        for sp in matched:
            if sp not in selected:
                selected.append(sp)
    return sorted(selected, key=lambda sp: sp.index)


def _node_addresses(nodes, address_types):
    """The sorted addresses of the given types of the nodes; each must be an IP address."""
    addresses = []
    for node in parse_nodes(nodes):
        for kind, address, option in node.addresses:
            if kind is None or kind in address_types:
                addresses.append(ip_text(address, option))
    return sorted_addresses(addresses)


# ---------------------------------------------------------------------------------------------
# the renderer


def _endpoint(label, addresses, consumer_filter=None):
    result = {"label": label, "addresses": list(addresses)}
    if consumer_filter is not None:
        result["filter"] = consumer_filter
    return result


def _rule_key(rule):
    return (
        rule["consumer"]["label"],
        tuple(rule["consumer"]["addresses"]),
        rule["provider"]["label"],
        tuple(rule["provider"]["addresses"]),
        rule["protocol"],
        rule["port"],
        rule["action"],
    )


def render_k8s_rules(policy, service, endpoints=None, nodes=None, load_balancer=True, node_address_types=None):
    """The firewall rules a Secure Workload policy with a Kubernetes Service as provider implies.

    ``policy``: ``consumer`` (a filter name, or ``{name, addresses}``), optional ``provider``
    (the service name or ``{name, namespace}``, checked against the Service), the ports as
    ``protocol`` (default TCP) with ``port`` or ``ports`` (numbers or ``first-last`` ranges),
    or as Secure Workload ``l4_params`` (``[{proto, port: [first, last]}]``; no ``proto`` means
    any protocol, no ``port`` every port), and ``action`` (``ALLOW``, the default, or ``DENY``).

    ``service``: the Service object; ``endpoints``: its Endpoints or EndpointSlices (one, a list
    or a ``*List``; objects of other services are skipped); ``nodes``: the cluster's Nodes (or
    plain addresses), needed when a selected port has a node port. ``load_balancer`` adds the
    rules to the load balancer addresses of a LoadBalancer service. ``node_address_types`` is
    which ``status.addresses`` types count (default InternalIP and ExternalIP).

    Returns a list of rule dicts (see the module docstring). Raises :class:`K8sRenderError`.
    """
    try:
        return _render(policy, service, endpoints, nodes, load_balancer, node_address_types)
    except K8sRenderError:
        raise
    except K8sInputError as exc:  # from the shared parser: the same option and message
        raise K8sRenderError(exc.option, exc.message) from exc


def _render(policy, service, endpoints, nodes, load_balancer, node_address_types):
    if not is_map(policy):
        raise K8sRenderError("policy", "expected a dict")
    parsed = parse_service(service)
    display = repr(str(parsed.name)) if parsed.name is not None else "(unnamed)"

    service_type = parsed.type
    if service_type == "ExternalName":
        raise K8sRenderError("service.spec.type", "service %s is of type ExternalName: it is a DNS alias without cluster IP, node ports or pods" % display)
    if service_type not in SERVICE_TYPES:
        raise K8sRenderError("service.spec.type", "unknown service type %r; expected one of %s" % (service_type, ", ".join(SERVICE_TYPES)))
    if not parsed.ports:
        raise K8sRenderError("service.spec.ports", "the Service exposes no ports")

    consumer_filter, consumer_addresses = _consumer(policy)
    _check_provider(policy, parsed.name, parsed.namespace)
    action = _action(policy)
    selected = _select_ports(parsed.ports, _selectors(policy), display)

    if node_address_types is None:
        node_address_types = DEFAULT_NODE_ADDRESS_TYPES
    node_routed = service_type in ("NodePort", "LoadBalancer")
    if service_type == "NodePort":
        for sp in selected:
            if sp.node_port is None:
                raise K8sRenderError(sp.option + ".nodePort", "port %s of NodePort service %s has no node port" % (sp.describe(), display))
    node_addresses = []
    if node_routed and any(sp.node_port is not None for sp in selected):
        if not objects(nodes, "nodes"):
            raise K8sRenderError("nodes", "service %s is of type %s: the cluster's Nodes are needed for the node-port rules" % (display, service_type))
        node_addresses = _node_addresses(nodes, node_address_types)
        if not node_addresses:
            raise K8sRenderError("nodes", "no node has an address of type %s" % " or ".join(node_address_types))

    cluster_ips = parsed.cluster_ips
    lb_addresses = parsed.load_balancer_ips + parsed.load_balancer_hostnames if (service_type == "LoadBalancer" and load_balancer) else []
    groups = parse_endpoints(endpoints, parsed)

    consumers = _endpoint(LABEL_CONSUMERS, consumer_addresses, consumer_filter)
    consumer_pods = _endpoint(LABEL_CONSUMER_PODS, consumer_addresses, consumer_filter)
    node_set = _endpoint(LABEL_NODES, node_addresses)

    rules = []
    seen = set()

    def add(consumer, provider, protocol, port, reason):
        rule = {
            "consumer": dict(consumer, addresses=list(consumer["addresses"])),
            "provider": dict(provider, addresses=list(provider["addresses"])),
            "protocol": protocol,
            "port": port,
            "action": action,
            "reason": reason,
        }
        key = _rule_key(rule)
        if key not in seen:
            seen.add(key)
            rules.append(rule)

    for sp in selected:
        what = "port %s of service %s" % (sp.describe(), display)
        if node_routed and sp.node_port is not None:
            add(
                consumers,
                node_set,
                sp.protocol,
                sp.node_port,
                "%s service: consumers reach %s through node port %d on every node" % (service_type, what, sp.node_port),
            )
        if lb_addresses:
            add(
                consumers,
                _endpoint(LABEL_LOAD_BALANCER, lb_addresses),
                sp.protocol,
                sp.port,
                "LoadBalancer service: consumers reach %s at its load balancer address" % what,
            )
        if cluster_ips:
            add(
                consumer_pods,
                _endpoint(LABEL_CLUSTER_IP, cluster_ips),
                sp.protocol,
                sp.port,
                "consumer pods reach %s at its cluster IP" % what,
            )
        pods = pods_by_target_port(parsed, sp, groups)
        for number in sorted(number for number in pods if pods[number]):
            target = "target port %d" % number if isinstance(sp.target, int) else "target port %r (%d)" % (sp.target, number)
            providers = _endpoint(LABEL_PROVIDER_PODS, pods[number])
            if node_routed and sp.node_port is not None and action == "ALLOW":
                add(
                    node_set,
                    providers,
                    sp.protocol,
                    number,
                    "the nodes forward node-port traffic for %s to the provider pods on %s" % (what, target),
                )
            add(
                consumers,
                providers,
                sp.protocol,
                number,
                "the provider pods accept consumers on %s once %s is translated to the pod address" % (target, what),
            )
    return rules
