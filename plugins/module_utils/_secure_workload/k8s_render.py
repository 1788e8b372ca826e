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

Every rule is a dict ``{consumer, provider, protocol, port, action, reason}``. ``consumer`` and
``provider`` are ``{label, addresses}`` (address sets derived from the policy's consumer filter
also carry ``filter``). Addresses are canonical and sorted (IPv4, then IPv6, then names); rules
come in service-port order and are de-duplicated. Wrong input raises :class:`K8sRenderError`,
whose ``option`` names the offending value (for example ``service.spec.ports[1].targetPort``).

Only the standard library is used.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
from collections.abc import Mapping


SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer")
ACTIONS = ("ALLOW", "DENY")
DEFAULT_NODE_ADDRESS_TYPES = ("InternalIP", "ExternalIP")

LABEL_CONSUMERS = "consumers"
LABEL_CONSUMER_PODS = "consumer pods"
LABEL_NODES = "nodes"
LABEL_PROVIDER_PODS = "provider pods"
LABEL_CLUSTER_IP = "cluster IP"
LABEL_LOAD_BALANCER = "load balancer"

_PROTOCOLS = {
    "tcp": "TCP",
    "6": "TCP",
    "udp": "UDP",
    "17": "UDP",
    "sctp": "SCTP",
    "132": "SCTP",
}

_SERVICE_NAME_LABEL = "kubernetes.io/service-name"


class K8sRenderError(ValueError):
    """Input the renderer cannot turn into rules.

    ``option`` is the path of the offending value (``policy.port``, ``service.spec.type``,
    ``nodes``, ...), ``message`` says what is wrong; ``str(error)`` is ``"<option>: <message>"``.
    """

    def __init__(self, option, message):
        self.option = option
        self.message = message
        super(K8sRenderError, self).__init__("%s: %s" % (option, message) if option else message)


# ---------------------------------------------------------------------------------------------
# small helpers


def _is_text(value):
    return isinstance(value, str)


def _is_map(value):
    return isinstance(value, Mapping)


def _is_list(value):
    return isinstance(value, (list, tuple))


def _get(mapping, key, default=None):
    if _is_map(mapping):
        value = mapping.get(key)
        if value is not None:
            return value
    return default


def _objects(value, option):
    """A list of API objects from None, one object, a ``*List`` (``items``) or a list."""
    if value is None:
        return []
    if _is_map(value):
        if "items" in value and _is_list(value.get("items")):
            return [(item, "%s.items[%d]" % (option, index)) for index, item in enumerate(value["items"])]
        return [(value, option)]
    if _is_list(value):
        return [(item, "%s[%d]" % (option, index)) for index, item in enumerate(value)]
    raise K8sRenderError(option, "expected an object, a list of objects or a list object with items, got %s" % type(value).__name__)


def _port_number(value, option):
    """An int 1..65535 from an int or a string of digits."""
    if isinstance(value, bool):
        raise K8sRenderError(option, "expected a port number, got %r" % (value,))
    if _is_text(value) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise K8sRenderError(option, "expected a port number, got %r" % (value,))
    if not 1 <= value <= 65535:
        raise K8sRenderError(option, "port %d is outside 1-65535" % value)
    return value


def _protocol(value, option, default="TCP"):
    if value is None:
        return default
    if isinstance(value, bool):
        raise K8sRenderError(option, "expected TCP, UDP or SCTP, got %r" % (value,))
    canon = _PROTOCOLS.get(str(value).strip().lower())
    if canon is None:
        raise K8sRenderError(option, "expected TCP, UDP or SCTP (or 6, 17, 132), got %r" % (value,))
    return canon


def _ip(value, option, allow_network=False):
    """Canonical text of an IP address (or, when allowed, a CIDR network)."""
    if not _is_text(value) or not value.strip():
        raise K8sRenderError(option, "expected an IP address, got %r" % (value,))
    text = value.strip()
    try:
        if allow_network and "/" in text:
            return str(ipaddress.ip_network(text, strict=False))
        return str(ipaddress.ip_address(text))
    except ValueError as exc:
        kind = "an IP address or network" if allow_network else "an IP address"
        raise K8sRenderError(option, "expected %s, got %r" % (kind, value)) from exc


def _host(value, option):
    """Canonical text of an IP address, or a lower-case DNS name."""
    if not _is_text(value) or not value.strip():
        raise K8sRenderError(option, "expected an IP address or a host name, got %r" % (value,))
    text = value.strip()
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text.lower()


def _address_key(text):
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return (1, 0, 0, 0, text)
    return (0, network.version, int(network.network_address), network.prefixlen, text)


def _sorted_addresses(addresses):
    return sorted(set(addresses), key=_address_key)


def _port_text(port, protocol):
    return "%d/%s" % (port, protocol)


# ---------------------------------------------------------------------------------------------
# the policy


def _consumer(policy):
    value = _get(policy, "consumer")
    if value is None:
        raise K8sRenderError("policy.consumer", "required: the consumer filter (its name, optionally with addresses)")
    if _is_text(value):
        if not value.strip():
            raise K8sRenderError("policy.consumer", "must not be empty")
        return value.strip(), []
    if not _is_map(value):
        raise K8sRenderError("policy.consumer", "expected a filter name or a dict with name and addresses")
    name = value.get("name")
    if not _is_text(name) or not name.strip():
        raise K8sRenderError("policy.consumer.name", "required: the name or label query of the consumer filter")
    addresses = value.get("addresses")
    if addresses is None:
        addresses = []
    if not _is_list(addresses):
        raise K8sRenderError("policy.consumer.addresses", "expected a list of IP addresses or networks")
    canon = [_ip(item, "policy.consumer.addresses[%d]" % index, allow_network=True) for index, item in enumerate(addresses)]
    return name.strip(), _sorted_addresses(canon)


def _port_range(value, option):
    """(low, high) from 27017, "27017", "27000-27100" or [27000, 27100]."""
    if _is_list(value):
        if len(value) == 1:
            number = _port_number(value[0], option)
            return number, number
        if len(value) != 2:
            raise K8sRenderError(option, "expected a port or a [first, last] range, got %r" % (value,))
        low, high = _port_number(value[0], option), _port_number(value[1], option)
    elif _is_text(value) and "-" in value:
        first, dummy, last = value.partition("-")
        low, high = _port_number(first, option), _port_number(last, option)
    else:
        number = _port_number(value, option)
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
        if not _is_list(params) or not params:
            raise K8sRenderError("policy.l4_params", "expected a non-empty list of {proto, port}")
        selectors = []
        for index, item in enumerate(params):
            option = "policy.l4_params[%d]" % index
            if not _is_map(item):
                raise K8sRenderError(option, "expected a dict with proto and port")
            proto = item.get("proto")
            protocol = None if proto is None else _protocol(proto, option + ".proto")
            if item.get("port") is None:
                selectors.append((protocol, None, None, option))
            else:
                low, high = _port_range(item["port"], option + ".port")
                selectors.append((protocol, low, high, option + ".port"))
        return selectors
    protocol = _protocol(_get(policy, "protocol"), "policy.protocol")
    if key == "port":
        low, high = _port_range(policy["port"], "policy.port")
        return [(protocol, low, high, "policy.port")]
    ports = policy["ports"]
    if not _is_list(ports) or not ports:
        raise K8sRenderError("policy.ports", "expected a non-empty list of ports or ranges")
    selectors = []
    for index, item in enumerate(ports):
        option = "policy.ports[%d]" % index
        low, high = _port_range(item, option)
        selectors.append((protocol, low, high, option))
    return selectors


def _action(policy):
    value = _get(policy, "action", _get(policy, "policy_action", "ALLOW"))
    if not _is_text(value) or value.strip().upper() not in ACTIONS:
        raise K8sRenderError("policy.action", "expected ALLOW or DENY, got %r" % (value,))
    return value.strip().upper()


def _check_provider(policy, name, namespace):
    value = _get(policy, "provider")
    if value is None:
        return
    if _is_text(value):
        value = {"name": value}
    if not _is_map(value):
        raise K8sRenderError("policy.provider", "expected the service name or a dict with name and namespace")
    wanted = value.get("name")
    if wanted is not None and name is not None and str(wanted) != name:
        raise K8sRenderError("policy.provider.name", "the policy's provider is service %r but the Service given is %r" % (wanted, name))
    wanted = value.get("namespace")
    if wanted is not None and namespace is not None and str(wanted) != namespace:
        raise K8sRenderError("policy.provider.namespace", "the policy's provider is in namespace %r but the Service given is in %r" % (wanted, namespace))


# ---------------------------------------------------------------------------------------------
# the Service


class _ServicePort:
    """One entry of ``spec.ports``."""

    def __init__(self, index, name, port, protocol, target, node_port):
        self.index = index
        self.name = name
        self.port = port
        self.protocol = protocol
        self.target = target
        self.node_port = node_port
        self.option = "service.spec.ports[%d]" % index

    def describe(self):
        return _port_text(self.port, self.protocol)


def _service_ports(spec):
    ports = spec.get("ports")
    if not _is_list(ports) or not ports:
        raise K8sRenderError("service.spec.ports", "the Service exposes no ports")
    result = []
    for index, item in enumerate(ports):
        option = "service.spec.ports[%d]" % index
        if not _is_map(item):
            raise K8sRenderError(option, "expected a ServicePort object")
        if item.get("port") is None:
            raise K8sRenderError(option + ".port", "required")
        port = _port_number(item["port"], option + ".port")
        protocol = _protocol(item.get("protocol"), option + ".protocol")
        target = item.get("targetPort")
        if target is None or target == "":
            target = port
        elif _is_text(target) and not target.strip().isdigit():
            target = target.strip()
        else:
            target = _port_number(target, option + ".targetPort")
        node_port = item.get("nodePort")
        if node_port is not None and node_port != 0:
            node_port = _port_number(node_port, option + ".nodePort")
        else:
            node_port = None
        name = item.get("name") or ""
        result.append(_ServicePort(index, str(name), port, protocol, target, node_port))
    return result


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


def _cluster_ips(spec):
    values = spec.get("clusterIPs")
    option = "service.spec.clusterIPs"
    if values is None:
        single = spec.get("clusterIP")
        values = [] if single is None else [single]
        option = "service.spec.clusterIP"
        options = [option]
    elif _is_list(values):
        options = ["%s[%d]" % (option, index) for index in range(len(values))]
    else:
        raise K8sRenderError(option, "expected a list of IP addresses")
    result = []
    for value, item_option in zip(values, options):
        if value is None or value == "" or value == "None":
            continue  # headless service
        result.append(_ip(value, item_option))
    return _sorted_addresses(result)


def _load_balancer_addresses(service):
    ingress = _get(_get(_get(service, "status"), "loadBalancer"), "ingress", [])
    option = "service.status.loadBalancer.ingress"
    if not _is_list(ingress):
        raise K8sRenderError(option, "expected a list of {ip, hostname}")
    result = []
    for index, item in enumerate(ingress):
        item_option = "%s[%d]" % (option, index)
        if not _is_map(item):
            raise K8sRenderError(item_option, "expected a dict with ip or hostname")
        if item.get("ip"):
            result.append(_ip(item["ip"], item_option + ".ip"))
        elif item.get("hostname"):
            result.append(_host(item["hostname"], item_option + ".hostname"))
    return _sorted_addresses(result)


# ---------------------------------------------------------------------------------------------
# Endpoints, EndpointSlices and Nodes


class _PodGroup:
    """Pod addresses that share one list of ports (an Endpoints subset or an EndpointSlice)."""

    def __init__(self, addresses, ports, option):
        self.addresses = addresses
        self.ports = ports  # list of (name, number, protocol); None when the object lists none
        self.option = option


def _endpoint_ports(value, option):
    if value is None:
        return None
    if not _is_list(value):
        raise K8sRenderError(option, "expected a list of {name, port, protocol}")
    ports = []
    for index, item in enumerate(value):
        item_option = "%s[%d]" % (option, index)
        if not _is_map(item):
            raise K8sRenderError(item_option, "expected a dict with name, port and protocol")
        if item.get("port") is None:
            continue  # an EndpointSlice port without a number means "all ports"; it names nothing
        ports.append(
            (
                str(item.get("name") or ""),
                _port_number(item["port"], item_option + ".port"),
                _protocol(item.get("protocol"), item_option + ".protocol"),
            )
        )
    return ports or None


def _belongs_to(obj, service_name, service_namespace):
    """False when the object says it belongs to another Service (by name or namespace)."""
    metadata = _get(obj, "metadata", {})
    namespace = _get(metadata, "namespace")
    if namespace is not None and service_namespace is not None and namespace != service_namespace:
        return False
    if service_name is None:
        return True
    if "endpoints" in obj or _get(obj, "kind") == "EndpointSlice":
        owner = _get(_get(metadata, "labels", {}), _SERVICE_NAME_LABEL)
    else:
        owner = _get(metadata, "name")
    return owner is None or owner == service_name


def _pod_groups(endpoints, service_name, service_namespace):
    groups = []
    for obj, option in _objects(endpoints, "endpoints"):
        if not _is_map(obj):
            raise K8sRenderError(option, "expected an Endpoints or EndpointSlice object")
        if not _belongs_to(obj, service_name, service_namespace):
            continue
        if "endpoints" in obj or _get(obj, "kind") == "EndpointSlice":
            groups.extend(_slice_group(obj, option))
        else:
            groups.extend(_subset_groups(obj, option))
    return groups


def _slice_group(obj, option):
    items = obj.get("endpoints") or []
    if not _is_list(items):
        raise K8sRenderError(option + ".endpoints", "expected a list of endpoints")
    fqdn = obj.get("addressType") == "FQDN"
    addresses = []
    for index, item in enumerate(items):
        item_option = "%s.endpoints[%d].addresses" % (option, index)
        values = _get(item, "addresses", [])
        if not _is_list(values):
            raise K8sRenderError(item_option, "expected a list of addresses")
        for position, value in enumerate(values):
            value_option = "%s[%d]" % (item_option, position)
            addresses.append(_host(value, value_option) if fqdn else _ip(value, value_option))
    if not addresses:
        return []
    return [_PodGroup(_sorted_addresses(addresses), _endpoint_ports(obj.get("ports"), option + ".ports"), option)]


def _subset_groups(obj, option):
    subsets = obj.get("subsets") or []
    if not _is_list(subsets):
        raise K8sRenderError(option + ".subsets", "expected a list of subsets")
    groups = []
    for index, subset in enumerate(subsets):
        subset_option = "%s.subsets[%d]" % (option, index)
        if not _is_map(subset):
            raise K8sRenderError(subset_option, "expected a dict with addresses and ports")
        addresses = []
        for key in ("addresses", "notReadyAddresses"):
            values = subset.get(key) or []
            if not _is_list(values):
                raise K8sRenderError("%s.%s" % (subset_option, key), "expected a list of {ip}")
            for position, item in enumerate(values):
                addresses.append(_ip(_get(item, "ip"), "%s.%s[%d].ip" % (subset_option, key, position)))
        if addresses:
            groups.append(_PodGroup(_sorted_addresses(addresses), _endpoint_ports(subset.get("ports"), subset_option + ".ports"), subset_option))
    return groups


def _group_port(group, sp):
    """The pod port of service port ``sp`` in ``group``, or None when the group does not serve it."""
    if group.ports is None:
        return sp.target if isinstance(sp.target, int) else None
    # Kubernetes names an endpoint port after the Service port and gives it the resolved number.
    for name, number, protocol in group.ports:
        if name == sp.name and protocol == sp.protocol:
            return number
    for name, number, protocol in group.ports:
        if protocol != sp.protocol:
            continue
        if isinstance(sp.target, int) and number == sp.target:
            return number
        if not isinstance(sp.target, int) and name == sp.target:
            return number
    return None


def _provider_pods(groups, sp, service_name, endpoints_given):
    """{target port number: sorted pod addresses} for service port ``sp``."""
    by_port = {}
    for group in groups:
        number = _group_port(group, sp)
        if number is not None:
            by_port.setdefault(number, []).extend(group.addresses)
    if not by_port and not isinstance(sp.target, int):
        if not endpoints_given:
            detail = "no Endpoints or EndpointSlices were given"
        else:
            names = sorted(set(name for group in groups for name, dummy, dummy2 in (group.ports or []) if name))
            detail = "the endpoints define %s" % (", ".join(names) if names else "no named ports")
        raise K8sRenderError(
            sp.option + ".targetPort",
            "named target port %r of service %s (port %s) is not defined by any endpoint: %s" % (sp.target, service_name, sp.describe(), detail),
        )
    return dict((number, _sorted_addresses(addresses)) for number, addresses in by_port.items())


def _node_addresses(nodes, address_types):
    addresses = []
    for obj, option in _objects(nodes, "nodes"):
        if _is_text(obj):
            addresses.append(_ip(obj, option))
            continue
        if not _is_map(obj):
            raise K8sRenderError(option, "expected a Node object or an IP address")
        values = _get(_get(obj, "status"), "addresses", [])
        if not _is_list(values):
            raise K8sRenderError(option + ".status.addresses", "expected a list of {type, address}")
        for index, item in enumerate(values):
            if _get(item, "type") in address_types:
                addresses.append(_ip(_get(item, "address"), "%s.status.addresses[%d].address" % (option, index)))
    return _sorted_addresses(addresses)


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
    if not _is_map(policy):
        raise K8sRenderError("policy", "expected a dict")
    if not _is_map(service):
        raise K8sRenderError("service", "expected a Service object")
    spec = service.get("spec")
    if not _is_map(spec):
        raise K8sRenderError("service.spec", "required: the Service object as the API server returns it")
    metadata = _get(service, "metadata", {})
    service_name = _get(metadata, "name")
    service_namespace = _get(metadata, "namespace")
    display = repr(str(service_name)) if service_name is not None else "(unnamed)"

    service_type = spec.get("type") or "ClusterIP"
    if service_type == "ExternalName":
        raise K8sRenderError("service.spec.type", "service %s is of type ExternalName: it is a DNS alias without cluster IP, node ports or pods" % display)
    if service_type not in SERVICE_TYPES:
        raise K8sRenderError("service.spec.type", "unknown service type %r; expected one of %s" % (service_type, ", ".join(SERVICE_TYPES)))

    consumer_filter, consumer_addresses = _consumer(policy)
    _check_provider(policy, service_name, service_namespace)
    action = _action(policy)
    selected = _select_ports(_service_ports(spec), _selectors(policy), display)

    if node_address_types is None:
        node_address_types = DEFAULT_NODE_ADDRESS_TYPES
    node_routed = service_type in ("NodePort", "LoadBalancer")
    if service_type == "NodePort":
        for sp in selected:
            if sp.node_port is None:
                raise K8sRenderError(sp.option + ".nodePort", "port %s of NodePort service %s has no node port" % (sp.describe(), display))
    node_addresses = []
    if node_routed and any(sp.node_port is not None for sp in selected):
        if not _objects(nodes, "nodes"):
            raise K8sRenderError("nodes", "service %s is of type %s: the cluster's Nodes are needed for the node-port rules" % (display, service_type))
        node_addresses = _node_addresses(nodes, node_address_types)
        if not node_addresses:
            raise K8sRenderError("nodes", "no node has an address of type %s" % " or ".join(node_address_types))

    cluster_ips = _cluster_ips(spec)
    lb_addresses = _load_balancer_addresses(service) if (service_type == "LoadBalancer" and load_balancer) else []
    groups = _pod_groups(endpoints, service_name, service_namespace)
    endpoints_given = bool(_objects(endpoints, "endpoints"))

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
        pods = _provider_pods(groups, sp, display, endpoints_given)
        for number in sorted(pods):
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
