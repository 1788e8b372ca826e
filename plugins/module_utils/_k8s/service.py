# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one reader and parser of a Kubernetes Service, its endpoints and the Nodes.

Both the ``k8s_service_inputs`` module (through :mod:`.inputs`) and the Secure Workload renderer
(``_secure_workload/k8s_render.py``, behind the ``sw_k8s_rules`` filter) read the objects here, so
a playbook that uses both sees the same types, addresses, ports and pods. The parser works on the
objects as the API server returns them (dicts with camelCase keys, as ``kubectl get -o json``,
kubernetes.core.k8s_info and :mod:`.client` give them) and uses only the standard library: the
filter runs on the controller, where the kubernetes client need not be installed.
:func:`read_objects` takes a client object (:class:`.client.K8sClient` or a test double) and
does not import the library either.

The behaviour both callers share:

* **Addresses** are canonical (``2001:DB8::1`` is ``2001:db8::1``, host names are lower case),
  unique and sorted: IPv4 first, then IPv6, each numerically, then host names. Every address
  list is sorted, ``cluster IPs`` included; the primary cluster IP (``spec.clusterIP``) is kept
  apart. A value that is not an address fails with the path of the value.
* **Endpoints** count as the Service's pods as kube-proxy routes to them. An EndpointSlice
  endpoint counts when its ``ready`` condition is true or unset (the API documents an unset
  condition as ready; ``ready`` is never true for a terminating pod unless the Service publishes
  not-ready addresses). When no endpoint of a Service port is ready, its endpoints that are
  ``serving`` and ``terminating`` count instead: kube-proxy falls back to them since Kubernetes
  1.26. Other not-ready endpoints never count. Of an Endpoints object (deprecated), ``addresses``
  count and ``notReadyAddresses`` do not. EndpointSlices and Endpoints that say they belong to
  another Service (label ``kubernetes.io/service-name``, name, namespace) are skipped.
* **Target ports**: a numeric ``targetPort`` is itself; a named one is the number the endpoints
  give the port (they name it after the Service port, or after the ``targetPort``), as kube-proxy
  resolves it per pod. Every endpoint of the port resolves the number, ready or not, so that a
  Service whose pods are starting still has its target port; the pod addresses are those that
  count (above).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
from collections.abc import Mapping

from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import ApiError

PROTOCOLS = ("TCP", "UDP", "SCTP")
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
IP_ADDRESS_TYPES = ("InternalIP", "ExternalIP")

_PROTOCOL_NAMES = {"tcp": "TCP", "6": "TCP", "udp": "UDP", "17": "UDP", "sctp": "SCTP", "132": "SCTP"}


class K8sInputError(ValueError):
    """Objects that cannot give what is asked (a port the Service does not have, a bad address, ...).

    ``option`` is the path of the offending value (``port``, ``service.spec.ports[1].targetPort``,
    ``nodes[0].status.addresses[0].address``) or None; ``str(error)`` is ``"<option>: <message>"``.
    """

    def __init__(self, message, option=None):
        self.option = option
        self.message = message
        super(K8sInputError, self).__init__("%s: %s" % (option, message) if option else message)


# ---------------------------------------------------------------------------------------------
# values


def is_map(value):
    return isinstance(value, Mapping)


def is_list(value):
    return isinstance(value, (list, tuple))


def get(mapping, *keys):
    """``mapping[k1][k2]...``, or None as soon as a level is missing or null."""
    value = mapping
    for key in keys:
        if not is_map(value):
            return None
        value = value.get(key)
    return value


def objects(value, option):
    """``[(object, option)]`` from None, one object, a ``*List`` (``items``) or a list."""
    if value is None:
        return []
    if is_map(value):
        if is_list(value.get("items")):
            return [(item, "%s.items[%d]" % (option, index)) for index, item in enumerate(value["items"])]
        return [(value, option)]
    if is_list(value):
        return [(item, "%s[%d]" % (option, index)) for index, item in enumerate(value)]
    raise K8sInputError("expected an object, a list of objects or a list object with items, got %s" % type(value).__name__, option)


def port_number(value, option):
    """An int 1..65535 from an int or a string of digits."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise K8sInputError("expected a port number, got %r" % (value,), option)
    if not 1 <= value <= 65535:
        raise K8sInputError("port %d is outside 1-65535" % value, option)
    return value


def protocol_name(value, option, default="TCP"):
    """``TCP``, ``UDP`` or ``SCTP`` from a name in any case or an IP protocol number."""
    if value is None:
        return default
    canon = None if isinstance(value, bool) else _PROTOCOL_NAMES.get(str(value).strip().lower())
    if canon is None:
        raise K8sInputError("expected TCP, UDP or SCTP (or 6, 17, 132), got %r" % (value,), option)
    return canon


def ip_text(value, option, allow_network=False):
    """Canonical text of an IP address (or, when allowed, a CIDR network)."""
    if not isinstance(value, str) or not value.strip():
        raise K8sInputError("expected an IP address, got %r" % (value,), option)
    text = value.strip()
    try:
        if allow_network and "/" in text:
            return str(ipaddress.ip_network(text, strict=False))
        return str(ipaddress.ip_address(text))
    except ValueError as exc:
        kind = "an IP address or network" if allow_network else "an IP address"
        raise K8sInputError("expected %s, got %r" % (kind, value), option) from exc


def host_text(value, option):
    """Canonical text of an IP address, or a lower-case DNS name."""
    if not isinstance(value, str) or not value.strip():
        raise K8sInputError("expected an IP address or a host name, got %r" % (value,), option)
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return value.strip().lower()


def _canonical(text):
    try:
        return str(ipaddress.ip_network(text, strict=False)) if "/" in text else str(ipaddress.ip_address(text))
    except ValueError:
        return text.lower()


def _address_key(text):
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return (1, 0, 0, 0, text)
    return (0, network.version, int(network.network_address), network.prefixlen, text)


def sorted_addresses(addresses):
    """Unique canonical addresses (and networks), IPv4 first, then IPv6, each in order, then host names."""
    return sorted(set(_canonical(value.strip()) for value in addresses if value and value.strip()), key=_address_key)


def host_network(address):
    """``address/32`` for IPv4, ``address/128`` for IPv6."""
    parsed = ipaddress.ip_address(address)
    return "%s/%d" % (parsed, parsed.max_prefixlen)


# ---------------------------------------------------------------------------------------------
# the Service


class ServicePort:
    """One entry of ``spec.ports``: ``target`` is an int, or the name of a named target port."""

    def __init__(self, index, name, port, protocol, target, node_port):
        self.index = index
        self.name = name
        self.port = port
        self.protocol = protocol
        self.target = target
        self.node_port = node_port
        self.option = "service.spec.ports[%d]" % index

    def describe(self):
        """``80/TCP``."""
        return "%d/%s" % (self.port, self.protocol)

    def label(self):
        """``http (80/TCP)``, or ``80/TCP`` for an unnamed port."""
        return "%s (%s)" % (self.name, self.describe()) if self.name else self.describe()

    @property
    def target_name(self):
        return None if isinstance(self.target, int) else self.target


def _service_port(index, item):
    option = "service.spec.ports[%d]" % index
    if not is_map(item):
        raise K8sInputError("expected a ServicePort object", option)
    if item.get("port") is None:
        raise K8sInputError("required", option + ".port")
    port = port_number(item["port"], option + ".port")
    target = item.get("targetPort")
    if target is None or target == "":
        target = port
    elif isinstance(target, str) and not target.strip().isdigit():
        target = target.strip()
    else:
        target = port_number(target, option + ".targetPort")
    node_port = item.get("nodePort")
    node_port = port_number(node_port, option + ".nodePort") if node_port not in (None, 0) else None
    return ServicePort(index, str(item.get("name") or ""), port, protocol_name(item.get("protocol"), option + ".protocol"), target, node_port)


class Service:
    """What a Service object says (see :func:`parse_service`)."""

    def __init__(self, obj):
        if not is_map(obj):
            raise K8sInputError("expected a Service object", "service")
        spec = obj.get("spec")
        if not is_map(spec):
            raise K8sInputError("required: the Service object as the API server returns it", "service.spec")
        self.name = get(obj, "metadata", "name")
        self.namespace = get(obj, "metadata", "namespace")
        self.id = "%s/%s" % (self.namespace or "default", self.name)
        self.type = spec.get("type") or "ClusterIP"
        self.selector = dict(spec.get("selector") or {})
        self.external_name = spec.get("externalName")
        ports = spec.get("ports") or []
        if not is_list(ports):
            raise K8sInputError("expected a list of ServicePort objects", "service.spec.ports")
        self.ports = [_service_port(index, item) for index, item in enumerate(ports)]
        self.cluster_ip, self.cluster_ips = _cluster_ips(spec)
        external = spec.get("externalIPs") or []
        if not is_list(external):
            raise K8sInputError("expected a list of IP addresses", "service.spec.externalIPs")
        self.external_ips = sorted_addresses(ip_text(value, "service.spec.externalIPs[%d]" % index) for index, value in enumerate(external))
        self.load_balancer_ips, self.load_balancer_hostnames = _load_balancer(obj)


def parse_service(obj):
    """A :class:`Service` from the object; raises :class:`K8sInputError` naming the offending value."""
    return obj if isinstance(obj, Service) else Service(obj)


def _cluster_ips(spec):
    """``(primary, sorted list)`` of ``spec.clusterIPs`` (else ``spec.clusterIP``), without the headless ``None``."""
    values, option = spec.get("clusterIPs"), "service.spec.clusterIPs"
    if values is None:
        values, option = ([] if spec.get("clusterIP") is None else [spec["clusterIP"]]), "service.spec.clusterIP"
        options = [option]
    elif is_list(values):
        options = ["%s[%d]" % (option, index) for index in range(len(values))]
    else:
        raise K8sInputError("expected a list of IP addresses", option)
    result = [ip_text(value, item_option) for value, item_option in zip(values, options) if value not in (None, "", "None")]
    primary = spec.get("clusterIP")
    primary = ip_text(primary, "service.spec.clusterIP") if primary not in (None, "", "None") else (result[0] if result else None)
    return primary, sorted_addresses(result)


def _load_balancer(obj):
    """``(ips, hostnames)`` of ``status.loadBalancer.ingress`` (an entry with both counts by its IP)."""
    ingress = get(obj, "status", "loadBalancer", "ingress") or []
    option = "service.status.loadBalancer.ingress"
    if not is_list(ingress):
        raise K8sInputError("expected a list of mappings with ip or hostname", option)
    ips, hostnames = [], []
    for index, item in enumerate(ingress):
        item_option = "%s[%d]" % (option, index)
        if not is_map(item):
            raise K8sInputError("expected a dict with ip or hostname", item_option)
        if item.get("ip"):
            ips.append(ip_text(item["ip"], item_option + ".ip"))
        elif item.get("hostname"):
            hostnames.append(host_text(item["hostname"], item_option + ".hostname"))
    return sorted_addresses(ips), sorted_addresses(hostnames)


# ---------------------------------------------------------------------------------------------
# EndpointSlices and Endpoints


class EndpointGroup:
    """Endpoints that share one list of ports: an EndpointSlice, or a subset of an Endpoints object.

    ``ready``: the addresses of ready endpoints; ``terminating``: those of serving, terminating
    ones (kube-proxy's fallback); ``ports``: ``[(name, number, protocol)]``, or None when the
    object lists no numbered port.
    """

    def __init__(self, ready, terminating, ports, option):
        self.ready = ready
        self.terminating = terminating
        self.ports = ports
        self.option = option


def _endpoint_ports(value, option):
    if value is None:
        return None
    if not is_list(value):
        raise K8sInputError("expected a list of mappings with name, port and protocol", option)
    ports = []
    for index, item in enumerate(value):
        item_option = "%s[%d]" % (option, index)
        if not is_map(item):
            raise K8sInputError("expected a dict with name, port and protocol", item_option)
        if item.get("port") is None:
            continue  # an EndpointSlice port without a number means "all ports"; it names nothing
        number = port_number(item["port"], item_option + ".port")
        ports.append((str(item.get("name") or ""), number, protocol_name(item.get("protocol"), item_option + ".protocol")))
    return ports or None


def _is_slice(obj):
    return obj.get("kind") == "EndpointSlice" or "endpoints" in obj or "addressType" in obj


def _belongs_to(obj, service):
    """False when the object says it belongs to another Service (by name or namespace)."""
    namespace = get(obj, "metadata", "namespace")
    if namespace is not None and service.namespace is not None and namespace != service.namespace:
        return False
    owner = get(obj, "metadata", "labels", SERVICE_NAME_LABEL) if _is_slice(obj) else get(obj, "metadata", "name")
    return service.name is None or owner is None or owner == service.name


def _slice_group(obj, option):
    items = obj.get("endpoints") or []
    if not is_list(items):
        raise K8sInputError("expected a list of endpoints", option + ".endpoints")
    fqdn = obj.get("addressType") == "FQDN"
    ready, terminating, seen = [], [], False
    for index, item in enumerate(items):
        item_option = "%s.endpoints[%d]" % (option, index)
        if not is_map(item):
            raise K8sInputError("expected an Endpoint object", item_option)
        values = item.get("addresses") or []
        if not is_list(values):
            raise K8sInputError("expected a list of addresses", item_option + ".addresses")
        addresses = [(host_text if fqdn else ip_text)(value, "%s.addresses[%d]" % (item_option, position)) for position, value in enumerate(values)]
        seen = seen or bool(addresses)
        conditions = item.get("conditions") or {}
        if conditions.get("ready") is not False:  # unset means ready
            ready.extend(addresses)
        elif conditions.get("serving") is True and conditions.get("terminating") is True:
            terminating.extend(addresses)
    if not seen:
        return []
    return [EndpointGroup(sorted_addresses(ready), sorted_addresses(terminating), _endpoint_ports(obj.get("ports"), option + ".ports"), option)]


def _subset_groups(obj, option):
    subsets = obj.get("subsets") or []
    if not is_list(subsets):
        raise K8sInputError("expected a list of subsets", option + ".subsets")
    groups = []
    for index, subset in enumerate(subsets):
        subset_option = "%s.subsets[%d]" % (option, index)
        if not is_map(subset):
            raise K8sInputError("expected a dict with addresses and ports", subset_option)
        found = {}
        for key in ("addresses", "notReadyAddresses"):
            values = subset.get(key) or []
            if not is_list(values):
                raise K8sInputError("expected a list of mappings with ip", "%s.%s" % (subset_option, key))
            found[key] = [ip_text(get(item, "ip"), "%s.%s[%d].ip" % (subset_option, key, position)) for position, item in enumerate(values)]
        if found["addresses"] or found["notReadyAddresses"]:
            ports = _endpoint_ports(subset.get("ports"), subset_option + ".ports")
            groups.append(EndpointGroup(sorted_addresses(found["addresses"]), [], ports, subset_option))
    return groups


def parse_endpoints(endpoints, service):
    """The :class:`EndpointGroup` list of the Service's EndpointSlices or Endpoints (one, a list or a ``*List``).

    Objects of another Service are skipped; objects without any endpoint give no group.
    """
    service = parse_service(service)
    groups = []
    for obj, option in objects(endpoints, "endpoints"):
        if not is_map(obj):
            raise K8sInputError("expected an Endpoints or EndpointSlice object", option)
        if _belongs_to(obj, service):
            groups.extend(_slice_group(obj, option) if _is_slice(obj) else _subset_groups(obj, option))
    return groups


def _group_port(group, port):
    """The pod port of service ``port`` in ``group``, or None when the group does not serve it."""
    if group.ports is None:
        return port.target if isinstance(port.target, int) else None
    # Kubernetes names an endpoint port after the Service port and gives it the resolved number.
    for name, number, protocol in group.ports:
        if name == port.name and protocol == port.protocol:
            return number
    for name, number, protocol in group.ports:
        if protocol == port.protocol and (number == port.target if isinstance(port.target, int) else name == port.target):
            return number
    return None


def pods_by_target_port(service, port, groups):
    """``{target port number: sorted pod addresses}`` of one :class:`ServicePort`.

    Every group that serves the port gives its number; the addresses are the ready endpoints, or
    when the port has none, the serving terminating ones. Raises :class:`K8sInputError` (option
    ``service.spec.ports[N].targetPort``) for a named target port that no endpoint resolves.
    """
    ready, terminating = {}, {}
    for group in groups:
        number = _group_port(group, port)
        if number is not None:
            ready.setdefault(number, []).extend(group.ready)
            terminating.setdefault(number, []).extend(group.terminating)
    if not ready and not isinstance(port.target, int):
        if not groups:
            detail = "the service has no endpoints (no running pod matches its selector)"
        else:
            names = sorted(set(name for group in groups for name, dummy, dummy2 in group.ports or [] if name))
            detail = "no endpoint defines it (the endpoints define %s)" % (", ".join(names) if names else "no named ports")
        message = "port %s of service %s has the named target port %r, which cannot be resolved to a number: %s" % (
            port.label(), parse_service(service).id, port.target, detail)
        raise K8sInputError(message, port.option + ".targetPort")
    chosen = ready if any(ready.values()) else terminating
    return dict((number, sorted_addresses(chosen[number])) for number in ready)


def resolved_target(port, pods):
    """The target port of ``port`` given :func:`pods_by_target_port`: an int, or a sorted list when pods differ."""
    numbers = sorted(pods) or [port.target]
    return numbers[0] if len(numbers) == 1 else numbers


# ---------------------------------------------------------------------------------------------
# Nodes


class Node:
    """A Node: ``name``, ``addresses`` (``[(type, address, option)]``, IP types canonical) and ``pod_cidrs``.

    A plain address given instead of a Node object is a node whose one address has type None.
    """

    def __init__(self, name, addresses, pod_cidrs):
        self.name = name
        self.addresses = addresses
        self.pod_cidrs = pod_cidrs

    def of_type(self, *types):
        """The sorted addresses of these types (and the untyped address of a plain one)."""
        return sorted_addresses(address for kind, address, dummy in self.addresses if kind is None or kind in types)


def parse_nodes(nodes):
    """The :class:`Node` list of Node objects (one, a list or a ``*List``) or plain IP addresses."""
    result = []
    for obj, option in objects(nodes, "nodes"):
        if isinstance(obj, str):
            result.append(Node(None, [(None, ip_text(obj, option), option)], []))
            continue
        if not is_map(obj):
            raise K8sInputError("expected a Node object or an IP address", option)
        values = get(obj, "status", "addresses") or []
        if not is_list(values):
            raise K8sInputError("expected a list of mappings with type and address", option + ".status.addresses")
        addresses = []
        for index, item in enumerate(values):
            item_option = "%s.status.addresses[%d].address" % (option, index)
            kind, address = get(item, "type"), get(item, "address")
            addresses.append((kind, ip_text(address, item_option) if kind in IP_ADDRESS_TYPES else address, item_option))
        spec = get(obj, "spec") or {}
        pod_cidrs = spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR") else [])
        result.append(Node(get(obj, "metadata", "name"), addresses, list(pod_cidrs)))
    return result


# ---------------------------------------------------------------------------------------------
# reading them from the API


def read_objects(client, params):
    """The Service, its endpoints and the Nodes, as the API returns them, through ``client`` (see :mod:`.client`).

    ``params``: ``namespace``, ``name``, ``endpoints_source`` (``auto`` reads the EndpointSlices
    and, without the ``discovery.k8s.io/v1`` API, the Endpoints object), ``include_nodes`` and
    ``node_selector``. Raises :class:`K8sInputError` when the Service does not exist.
    """
    namespace, name = params["namespace"], params["name"]
    service = client.get_service(namespace, name)
    if service is None:
        raise K8sInputError("service %s/%s not found" % (namespace, name))
    source = params["endpoints_source"]
    endpoints = None
    if source in ("auto", "endpointslices"):
        try:
            endpoints = client.endpoint_slices(namespace, name)
        except ApiError as exc:
            if exc.status != 404 or source != "auto":
                raise
    if endpoints is None:
        endpoints = client.endpoints(namespace, name)
    nodes = []
    if params["include_nodes"]:
        try:
            nodes = client.nodes(params["node_selector"])
        except ApiError as exc:
            if exc.status == 403:
                exc.message += " (set include_nodes: false to read the service without the nodes)"
            raise
    return service, endpoints, nodes
