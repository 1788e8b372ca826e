# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Policy inputs from Kubernetes objects: what a Service, its endpoints and the Nodes say.

Pure functions on the objects as the API server returns them (dicts with camelCase keys; see
:mod:`.client`). :func:`service_inputs` gives the values segmentation policies are written with:
the Service's type, cluster and load balancer addresses and, for one of its ports, the service
port, the target port (a named ``targetPort`` resolved through the endpoints, as kube-proxy does),
the node port and the protocol; every port of the Service with its target port resolved; the
nodes' internal addresses and their host networks; and the objects themselves, trimmed, in the
shapes the ``sw_k8s_rules`` filter takes.

Only the standard library is used.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

PROTOCOLS = ("TCP", "UDP", "SCTP")
SERVICE_NAME_LABEL = "kubernetes.io/service-name"


class K8sInputError(ValueError):
    """The objects cannot give what the task asks (a port the Service does not have, ...)."""


def _get(mapping, *keys):
    """``mapping[k1][k2]...``, or None as soon as a level is missing or null."""
    value = mapping
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _address_key(text):
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return (2, 0, 0, text)
    return (0 if address.version == 4 else 1, address.version, int(address), text)


def sorted_addresses(addresses):
    """Unique addresses (canonical text), IPv4 first, then IPv6, then anything else, each in order."""
    canon = set()
    for value in addresses:
        if not value:
            continue
        try:
            canon.add(str(ipaddress.ip_address(value)))
        except ValueError:
            canon.add(value)
    return sorted(canon, key=_address_key)


def host_network(address):
    """``address/32`` for IPv4, ``address/128`` for IPv6."""
    parsed = ipaddress.ip_address(address)
    return "%s/%d" % (parsed, parsed.max_prefixlen)


def service_id(service):
    return "%s/%s" % (_get(service, "metadata", "namespace") or "default", _get(service, "metadata", "name"))


# ---------------------------------------------------------------------------------------------
# the Service


def service_ports(service):
    """The Service's ports: ``[{name, port, target_port, node_port, protocol}]``; ``target_port`` as given."""
    result = []
    for item in _get(service, "spec", "ports") or []:
        target = item.get("targetPort")
        if target is None or target == "":
            target = item.get("port")
        elif isinstance(target, str) and target.isdigit():
            target = int(target)
        result.append(
            {
                "name": item.get("name") or "",
                "port": item.get("port"),
                "target_port": target,
                "node_port": item.get("nodePort") or None,
                "protocol": item.get("protocol") or "TCP",
            }
        )
    return result


def describe_port(port):
    text = "%s/%s" % (port["port"], port["protocol"])
    return "%s (%s)" % (port["name"], text) if port["name"] else text


def _port_list(ports):
    return ", ".join(describe_port(port) for port in ports) or "none"


def select_port(service, wanted=None, protocol=None):
    """The entry of :func:`service_ports` the task means.

    ``wanted`` is a port name or a service port number (an int or a string of digits); ``protocol``
    narrows a number that the Service exposes over two protocols. Without ``wanted`` the Service
    must have exactly one port (of ``protocol``, when given). Returns None for a Service without
    ports when nothing is wanted. Raises :class:`K8sInputError` listing the ports the Service has.
    """
    ports = service_ports(service)
    name = service_id(service)
    if protocol is not None:
        protocol = protocol.upper()
    candidates = [port for port in ports if protocol is None or port["protocol"] == protocol]
    if wanted is None or wanted == "":
        if not ports:
            return None
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise K8sInputError("protocol: service %s has no %s port; its ports: %s" % (name, protocol, _port_list(ports)))
        raise K8sInputError(
            "port: service %s has %d ports, set port to the name or number of one of them: %s" % (name, len(candidates), _port_list(candidates))
        )
    if isinstance(wanted, bool):
        raise K8sInputError("port: expected a port name or number, got %r" % (wanted,))
    if isinstance(wanted, int) or (isinstance(wanted, str) and wanted.strip().isdigit()):
        number = int(wanted)
        matched = [port for port in candidates if port["port"] == number]
        what = "port %d" % number
    elif isinstance(wanted, str):
        matched = [port for port in candidates if port["name"] == wanted.strip()]
        what = "port named %r" % wanted.strip()
    else:
        raise K8sInputError("port: expected a port name or number, got %r" % (wanted,))
    if protocol is not None:
        what = "%s %s" % (protocol, what)
    if not matched:
        raise K8sInputError("port: service %s has no %s; its ports: %s" % (name, what, _port_list(ports)))
    if len(matched) > 1:
        raise K8sInputError("port: service %s has %d ports that match %s, set protocol to one of %s" % (
            name, len(matched), what, ", ".join(sorted(port["protocol"] for port in matched))))
    return matched[0]


def load_balancer_addresses(service):
    """``(ips, hostnames)`` of ``status.loadBalancer.ingress``."""
    ips, hostnames = [], []
    for item in _get(service, "status", "loadBalancer", "ingress") or []:
        if item.get("ip"):
            ips.append(item["ip"])
        elif item.get("hostname"):
            hostnames.append(item["hostname"].lower())
    return sorted_addresses(ips), sorted(set(hostnames))


def cluster_ips(service):
    """The cluster IPs (``spec.clusterIPs``, else ``spec.clusterIP``), without the headless ``None``."""
    spec = _get(service, "spec") or {}
    values = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    return [value for value in values if value and value != "None"]


# ---------------------------------------------------------------------------------------------
# endpoints


def _endpoint_groups(endpoints):
    """``[(addresses, ports)]`` of the EndpointSlices or Endpoints subsets that hold addresses.

    ``ports`` is ``[(name, number, protocol)]``. Ready and not-ready addresses count alike.
    """
    if endpoints is None:
        return []
    objects = endpoints if isinstance(endpoints, list) else [endpoints]
    groups = []
    for obj in objects:
        if not isinstance(obj, dict):
            continue
        if obj.get("kind") == "EndpointSlice" or "endpoints" in obj or "addressType" in obj:
            addresses = [address for item in obj.get("endpoints") or [] for address in item.get("addresses") or []]
            ports = obj.get("ports") or []
            if addresses:
                groups.append((addresses, ports))
            continue
        for subset in obj.get("subsets") or []:
            addresses = [item.get("ip") for key in ("addresses", "notReadyAddresses") for item in subset.get(key) or []]
            if addresses:
                groups.append((addresses, subset.get("ports") or []))
    result = []
    for addresses, ports in groups:
        numbered = [(item.get("name") or "", item["port"], item.get("protocol") or "TCP") for item in ports if item.get("port") is not None]
        result.append((addresses, numbered))
    return result


def _group_port(ports, port):
    """The pod port that serves service ``port`` in an endpoint group, or None."""
    for name, number, protocol in ports:
        if name == port["name"] and protocol == port["protocol"]:
            return number
    target = port["target_port"]
    for name, number, protocol in ports:
        if protocol != port["protocol"]:
            continue
        if isinstance(target, int) and number == target:
            return number
        if not isinstance(target, int) and name == target:
            return number
    return None


def resolve_target_port(service, port, endpoints):
    """``(target port, pod addresses)`` of one service port.

    A numeric ``targetPort`` is itself; a named one is the number the endpoints give it (kube-proxy
    resolves it per pod): an int, or a sorted list when pods resolve it differently. The pod
    addresses are those that serve the port. Raises :class:`K8sInputError` for a named target port
    that no endpoint resolves.
    """
    numbers = set()
    addresses = []
    for group_addresses, ports in _endpoint_groups(endpoints):
        number = _group_port(ports, port)
        if number is None and not ports and isinstance(port["target_port"], int):
            number = port["target_port"]
        if number is not None:
            numbers.add(number)
            addresses.extend(group_addresses)
    target = port["target_port"]
    if isinstance(target, int):
        return target, sorted_addresses(addresses)
    if not numbers:
        if not _endpoint_groups(endpoints):
            detail = "the service has no endpoints (no running pod matches its selector)"
        else:
            detail = "no endpoint defines it"
        raise K8sInputError(
            "port %s of service %s has the named target port %r, which cannot be resolved to a number: %s"
            % (describe_port(port), service_id(service), target, detail)
        )
    numbers = sorted(numbers)
    return (numbers[0] if len(numbers) == 1 else numbers), sorted_addresses(addresses)


def resolved_ports(service, endpoints):
    """Every port of the Service with its target port resolved: ``[{name, protocol, port, target_port,
    target_port_name, node_port, endpoint_addresses}]``, in the Service's order.

    ``target_port`` is what :func:`resolve_target_port` gives, or None for a named target port that
    no endpoint resolves (this never fails: a Service whose pods are not running yet still lists its
    ports). ``name`` is None for an unnamed port.
    """
    result = []
    for port in service_ports(service):
        try:
            target, addresses = resolve_target_port(service, port, endpoints)
        except K8sInputError:
            target, addresses = None, []
        result.append(
            {
                "name": port["name"] or None,
                "protocol": port["protocol"],
                "port": port["port"],
                "target_port": target,
                "target_port_name": None if isinstance(port["target_port"], int) else port["target_port"],
                "node_port": port["node_port"],
                "endpoint_addresses": addresses,
            }
        )
    return result


# ---------------------------------------------------------------------------------------------
# nodes


def node_summary(node):
    """``{name, internal_addresses, external_addresses, pod_cidrs}`` of a Node."""
    addresses = _get(node, "status", "addresses") or []
    spec = _get(node, "spec") or {}
    pod_cidrs = spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR") else [])
    return {
        "name": _get(node, "metadata", "name"),
        "internal_addresses": sorted_addresses(item.get("address") for item in addresses if item.get("type") == "InternalIP"),
        "external_addresses": sorted_addresses(item.get("address") for item in addresses if item.get("type") == "ExternalIP"),
        "pod_cidrs": list(pod_cidrs),
    }


def node_networks(summaries):
    """Every internal address of the nodes as a host network (``/32``, ``/128``), sorted, unique."""
    addresses = sorted_addresses(address for summary in summaries for address in summary["internal_addresses"])
    return [host_network(address) for address in addresses]


# ---------------------------------------------------------------------------------------------
# the render input


def trim(obj):
    """A copy of an API object without ``metadata.managedFields`` (bulky, and no input of any policy)."""
    result = dict(obj)
    if isinstance(result.get("metadata"), dict):
        result["metadata"] = dict((key, value) for key, value in result["metadata"].items() if key != "managedFields")
    return result


def trim_node(node):
    """The part of a Node the renderers read: identity, labels, pod CIDRs and addresses."""
    metadata = _get(node, "metadata") or {}
    spec = _get(node, "spec") or {}
    trimmed = {
        "apiVersion": node.get("apiVersion", "v1"),
        "kind": node.get("kind", "Node"),
        "metadata": dict((key, metadata[key]) for key in ("name", "uid", "labels") if key in metadata),
        "spec": dict((key, spec[key]) for key in ("podCIDR", "podCIDRs") if key in spec),
        "status": {"addresses": list(_get(node, "status", "addresses") or [])},
    }
    return trimmed


def service_inputs(service, endpoints=None, nodes=None, port=None, protocol=None, cluster_domain="cluster.local"):
    """The policy inputs of a Service (see the module documentation of k8s_service_inputs)."""
    spec = _get(service, "spec") or {}
    namespace = _get(service, "metadata", "namespace") or "default"
    name = _get(service, "metadata", "name")
    ips = cluster_ips(service)
    lb_ips, lb_hostnames = load_balancer_addresses(service)
    result = {
        "name": name,
        "namespace": namespace,
        "type": spec.get("type") or "ClusterIP",
        "cluster_ip": ips[0] if ips else None,
        "cluster_ips": ips,
        "external_ips": sorted_addresses(spec.get("externalIPs") or []),
        "external_name": spec.get("externalName"),
        "load_balancer_ips": lb_ips,
        "load_balancer_hostnames": lb_hostnames,
        "dns_name": "%s.%s.svc.%s" % (name, namespace, cluster_domain) if cluster_domain else None,
        "selector": dict(spec.get("selector") or {}),
        "ports": service_ports(service),
        "port_name": None,
        "port": None,
        "target_port": None,
        "target_port_name": None,
        "node_port": None,
        "protocol": None,
        "endpoint_addresses": [],
    }
    if port is None or port == "":
        wanted_protocol = protocol.upper() if protocol else None
        candidates = [item for item in service_ports(service) if wanted_protocol is None or item["protocol"] == wanted_protocol]
        # Without `port`, a Service of several ports gives them all in `ports` and no selected one.
        selected = None if len(candidates) > 1 else select_port(service, None, protocol)
    else:
        selected = select_port(service, port, protocol)
    if selected is not None:
        target, addresses = resolve_target_port(service, selected, endpoints)
        result.update(
            port_name=selected["name"] or None,
            port=selected["port"],
            target_port=target,
            target_port_name=None if isinstance(selected["target_port"], int) else selected["target_port"],
            node_port=selected["node_port"],
            protocol=selected["protocol"],
            endpoint_addresses=addresses,
        )
    summaries = [node_summary(node) for node in nodes or []]
    if endpoints is None:
        render_endpoints = []
    elif isinstance(endpoints, list):
        render_endpoints = [trim(obj) for obj in endpoints]
    else:
        render_endpoints = trim(endpoints)
    return {
        "service": result,
        "ports": resolved_ports(service, endpoints),
        "nodes": summaries,
        "node_networks": node_networks(summaries),
        "render_input": {
            "service": trim(service),
            "endpoints": render_endpoints,
            "nodes": [trim_node(node) for node in nodes or []],
        },
    }
