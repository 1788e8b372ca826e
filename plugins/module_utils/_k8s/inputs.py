# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The result of ``k8s_service_inputs``: the policy inputs of a Service, shaped for a playbook.

The objects are read and parsed by :mod:`.service` (the same parser the ``sw_k8s_rules`` filter
uses, so both give the same addresses, ports and pods; its docstring says how addresses are
sorted and which endpoints count). This module only chooses the port the task asks for and
shapes the values: the Service's type, cluster and load balancer addresses; for the selected port,
the service port, the target port, the node port and the protocol; every port with its target
port resolved; the nodes' internal addresses and their host networks; and the objects
themselves, trimmed, in the shapes the ``sw_k8s_rules`` filter takes.

Only the standard library is used.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.microseg.segmentation.plugins.module_utils._k8s.service import (
    K8sInputError,
    get,
    host_network,
    parse_endpoints,
    parse_nodes,
    parse_service,
    pods_by_target_port,
    resolved_target,
    sorted_addresses,
)


# ---------------------------------------------------------------------------------------------
# the port the task asks for


def _port_list(ports):
    return ", ".join(port.label() for port in ports) or "none"


def select_port(service, wanted=None, protocol=None):
    """The :class:`.service.ServicePort` the task means.

    ``wanted`` is a port name or a service port number (an int or a string of digits); ``protocol``
    narrows a number that the Service exposes over two protocols. Without ``wanted`` the Service
    must have exactly one port (of ``protocol``, when given). Returns None for a Service without
    ports when nothing is wanted. Raises :class:`K8sInputError` listing the ports the Service has.
    """
    service = parse_service(service)
    ports = service.ports
    if protocol is not None:
        protocol = protocol.upper()
    candidates = [port for port in ports if protocol is None or port.protocol == protocol]
    if wanted is None or wanted == "":
        if not ports:
            return None
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise K8sInputError("service %s has no %s port; its ports: %s" % (service.id, protocol, _port_list(ports)), "protocol")
        raise K8sInputError(
            "service %s has %d ports, set port to the name or number of one of them: %s" % (service.id, len(candidates), _port_list(candidates)), "port"
        )
    if isinstance(wanted, bool):
        raise K8sInputError("expected a port name or number, got %r" % (wanted,), "port")
    if isinstance(wanted, int) or (isinstance(wanted, str) and wanted.strip().isdigit()):
        number = int(wanted)
        matched = [port for port in candidates if port.port == number]
        what = "port %d" % number
    elif isinstance(wanted, str):
        matched = [port for port in candidates if port.name == wanted.strip()]
        what = "port named %r" % wanted.strip()
    else:
        raise K8sInputError("expected a port name or number, got %r" % (wanted,), "port")
    if protocol is not None:
        what = "%s %s" % (protocol, what)
    if not matched:
        raise K8sInputError("service %s has no %s; its ports: %s" % (service.id, what, _port_list(ports)), "port")
    if len(matched) > 1:
        raise K8sInputError("service %s has %d ports that match %s, set protocol to one of %s" % (
            service.id, len(matched), what, ", ".join(sorted(port.protocol for port in matched))), "port")
    return matched[0]


# ---------------------------------------------------------------------------------------------
# ports


def service_ports(service):
    """The Service's ports as it gives them: ``[{name, port, target_port, node_port, protocol}]``."""
    return [
        {"name": port.name, "port": port.port, "target_port": port.target, "node_port": port.node_port, "protocol": port.protocol}
        for port in parse_service(service).ports
    ]


def _resolve(service, port, groups):
    pods = pods_by_target_port(service, port, groups)
    return resolved_target(port, pods), sorted_addresses(address for addresses in pods.values() for address in addresses)


def resolve_target_port(service, port, endpoints):
    """``(target port, pod addresses)`` of one :class:`.service.ServicePort` (see :mod:`.service`).

    The target port is an int, or a sorted list when pods resolve a named port differently.
    Raises :class:`K8sInputError` for a named target port that no endpoint resolves.
    """
    service = parse_service(service)
    return _resolve(service, port, parse_endpoints(endpoints, service))


def _port_values(service, port, groups):
    target, addresses = _resolve(service, port, groups) if groups is not None else (None, [])
    return {
        "name": port.name or None,
        "protocol": port.protocol,
        "port": port.port,
        "target_port": target,
        "target_port_name": port.target_name,
        "node_port": port.node_port,
        "endpoint_addresses": addresses,
    }


def resolved_ports(service, endpoints):
    """Every port of the Service with its target port resolved: ``[{name, protocol, port, target_port,
    target_port_name, node_port, endpoint_addresses}]``, in the Service's order.

    ``target_port`` is what :func:`resolve_target_port` gives, or None for a named target port that
    no endpoint resolves (this never fails: a Service whose pods are not running yet still lists its
    ports). ``name`` is None for an unnamed port.
    """
    service = parse_service(service)
    groups = parse_endpoints(endpoints, service)
    result = []
    for port in service.ports:
        try:
            result.append(_port_values(service, port, groups))
        except K8sInputError:
            result.append(_port_values(service, port, None))
    return result


# ---------------------------------------------------------------------------------------------
# nodes


def _summary(node):
    return {
        "name": node.name,
        "internal_addresses": node.of_type("InternalIP"),
        "external_addresses": node.of_type("ExternalIP"),
        "pod_cidrs": list(node.pod_cidrs),
    }


def node_summary(node):
    """``{name, internal_addresses, external_addresses, pod_cidrs}`` of a Node object."""
    return _summary(parse_nodes([node])[0])


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
    metadata = get(node, "metadata") or {}
    spec = get(node, "spec") or {}
    return {
        "apiVersion": node.get("apiVersion", "v1"),
        "kind": node.get("kind", "Node"),
        "metadata": dict((key, metadata[key]) for key in ("name", "uid", "labels") if key in metadata),
        "spec": dict((key, spec[key]) for key in ("podCIDR", "podCIDRs") if key in spec),
        "status": {"addresses": list(get(node, "status", "addresses") or [])},
    }


def service_inputs(service, endpoints=None, nodes=None, port=None, protocol=None, cluster_domain="cluster.local"):
    """The policy inputs of a Service (see the module documentation of k8s_service_inputs)."""
    parsed = parse_service(service)
    groups = parse_endpoints(endpoints, parsed)
    namespace = parsed.namespace or "default"
    result = {
        "name": parsed.name,
        "namespace": namespace,
        "type": parsed.type,
        "cluster_ip": parsed.cluster_ip,
        "cluster_ips": parsed.cluster_ips,
        "external_ips": parsed.external_ips,
        "external_name": parsed.external_name,
        "load_balancer_ips": parsed.load_balancer_ips,
        "load_balancer_hostnames": parsed.load_balancer_hostnames,
        "dns_name": "%s.%s.svc.%s" % (parsed.name, namespace, cluster_domain) if cluster_domain else None,
        "selector": parsed.selector,
        "ports": service_ports(parsed),
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
        candidates = [item for item in parsed.ports if wanted_protocol is None or item.protocol == wanted_protocol]
        # Without `port`, a Service of several ports gives them all in `ports` and no selected one.
        selected = None if len(candidates) > 1 else select_port(parsed, None, protocol)
    else:
        selected = select_port(parsed, port, protocol)
    if selected is not None:
        values = _port_values(parsed, selected, groups)
        result.update(
            port_name=values["name"],
            port=values["port"],
            target_port=values["target_port"],
            target_port_name=values["target_port_name"],
            node_port=values["node_port"],
            protocol=values["protocol"],
            endpoint_addresses=values["endpoint_addresses"],
        )
    summaries = [_summary(node) for node in parse_nodes(nodes)]
    if endpoints is None:
        render_endpoints = []
    elif isinstance(endpoints, list):
        render_endpoints = [trim(obj) for obj in endpoints]
    else:
        render_endpoints = trim(endpoints)
    return {
        "service": result,
        "ports": resolved_ports(parsed, endpoints),
        "nodes": summaries,
        "node_networks": node_networks(summaries),
        "render_input": {
            "service": trim(service),
            "endpoints": render_endpoints,
            "nodes": [trim_node(node) for node in nodes or []],
        },
    }
