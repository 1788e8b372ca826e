# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/_k8s (inputs.py and the connection part of client.py) and
the read step of the k8s_service_inputs module."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import ApiError
from ansible_collections.microseg.segmentation.plugins.module_utils._k8s import client as k8s_client
from ansible_collections.microseg.segmentation.plugins.module_utils._k8s.inputs import (
    K8sInputError,
    host_network,
    node_networks,
    node_summary,
    resolve_target_port,
    resolved_ports,
    select_port,
    service_inputs,
    service_ports,
    sorted_addresses,
)
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.k8s_render import K8sRenderError, render_k8s_rules
from ansible_collections.microseg.segmentation.plugins.modules import k8s_service_inputs as module

SERVICE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "web", "namespace": "shop", "managedFields": [{"manager": "kubectl"}]},
    "spec": {
        "type": "LoadBalancer",
        "clusterIP": "10.96.0.27",
        "clusterIPs": ["10.96.0.27", "fd00::27"],
        "selector": {"app": "web"},
        "ports": [
            {"name": "http", "port": 80, "targetPort": "http", "nodePort": 30080, "protocol": "TCP"},
            {"name": "https", "port": 443, "targetPort": 8443, "nodePort": 30443, "protocol": "TCP"},
            {"name": "dns", "port": 53, "targetPort": 5353, "protocol": "UDP"},
            {"name": "dns-tcp", "port": 53, "targetPort": 5353, "protocol": "TCP"},
        ],
    },
    "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.200"}, {"hostname": "Web.LB.example.com"}]}},
}


def slice_(name, addresses, ports):
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": name, "namespace": "shop", "labels": {"kubernetes.io/service-name": "web"}, "managedFields": [{}]},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [address], "conditions": {"ready": True}} for address in addresses],
        "ports": ports,
    }


SLICES = [
    slice_("web-a", ["10.244.1.5", "10.244.0.9"], [{"name": "http", "port": 8080, "protocol": "TCP"}, {"name": "https", "port": 8443, "protocol": "TCP"}]),
    slice_("web-b", ["10.244.2.7"], [{"name": "http", "port": 8081, "protocol": "TCP"}, {"name": "https", "port": 8443, "protocol": "TCP"}]),
]

NODES = [
    {
        "metadata": {"name": "node-1", "labels": {"role": "worker"}, "managedFields": [{}], "annotations": {"a": "b"}},
        "spec": {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"]},
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": "192.0.2.11"},
                {"type": "InternalIP", "address": "2001:db8::11"},
                {"type": "ExternalIP", "address": "198.51.100.11"},
                {"type": "Hostname", "address": "node-1"},
            ],
            "images": [{"names": ["big"]}],
        },
    },
    {"metadata": {"name": "node-0"}, "spec": {}, "status": {"addresses": [{"type": "InternalIP", "address": "192.0.2.10"}]}},
]


# ---------------------------------------------------------------------------------------------
# ports


def test_service_ports_defaults_target_and_protocol():
    service = {"metadata": {"name": "a"}, "spec": {"ports": [{"port": 80}, {"port": 81, "targetPort": "9090"}]}}
    assert service_ports(service) == [
        {"name": "", "port": 80, "target_port": 80, "node_port": None, "protocol": "TCP"},
        {"name": "", "port": 81, "target_port": 9090, "node_port": None, "protocol": "TCP"},
    ]


@pytest.mark.parametrize("wanted, protocol, expected", [
    ("http", None, 80),
    (443, None, 443),
    ("443", None, 443),
    ("dns", None, 53),
    (53, "UDP", 53),
    (53, "tcp", 53),
])
def test_select_port_by_name_or_number(wanted, protocol, expected):
    assert select_port(SERVICE, wanted, protocol).port == expected


def test_select_port_by_number_and_protocol_picks_the_right_one():
    assert select_port(SERVICE, 53, "UDP").name == "dns"
    assert select_port(SERVICE, 53, "TCP").name == "dns-tcp"


def test_select_port_lists_the_ports_when_none_matches():
    with pytest.raises(K8sInputError) as error:
        select_port(SERVICE, "grpc")
    assert str(error.value) == (
        "port: service shop/web has no port named 'grpc'; its ports: http (80/TCP), https (443/TCP), dns (53/UDP), dns-tcp (53/TCP)"
    )
    with pytest.raises(K8sInputError, match=r"has no port 8080; its ports: http \(80/TCP\)"):
        select_port(SERVICE, 8080)
    with pytest.raises(K8sInputError, match="has no SCTP port named 'http'"):
        select_port(SERVICE, "http", "SCTP")


def test_select_port_is_required_with_several_ports():
    with pytest.raises(K8sInputError, match=r"^port: service shop/web has 4 ports, set port to the name or number of one of them"):
        select_port(SERVICE)
    with pytest.raises(K8sInputError, match="has 2 ports that match port 53, set protocol to one of TCP, UDP"):
        select_port(SERVICE, 53)
    assert select_port(SERVICE, None, "UDP").name == "dns"


def test_select_port_of_a_single_port_service_and_of_none():
    single = {"metadata": {"name": "db", "namespace": "prod"}, "spec": {"ports": [{"port": 27017}]}}
    assert select_port(single).port == 27017
    assert select_port({"metadata": {"name": "ext"}, "spec": {"type": "ExternalName"}}) is None
    with pytest.raises(K8sInputError, match="has no port 80; its ports: none"):
        select_port({"metadata": {"name": "ext"}, "spec": {}}, 80)


def test_select_port_rejects_other_types():
    with pytest.raises(K8sInputError, match="expected a port name or number"):
        select_port(SERVICE, True)
    with pytest.raises(K8sInputError, match="expected a port name or number"):
        select_port(SERVICE, [80])


# ---------------------------------------------------------------------------------------------
# target ports


def test_named_target_port_resolves_through_the_endpoints_list_when_pods_differ():
    port = select_port(SERVICE, "http")
    assert resolve_target_port(SERVICE, port, SLICES) == ([8080, 8081], ["10.244.0.9", "10.244.1.5", "10.244.2.7"])
    assert resolve_target_port(SERVICE, port, SLICES[:1]) == (8080, ["10.244.0.9", "10.244.1.5"])


def test_numeric_target_port_needs_no_endpoints():
    port = select_port(SERVICE, "https")
    assert resolve_target_port(SERVICE, port, None) == (8443, [])
    assert resolve_target_port(SERVICE, port, SLICES)[0] == 8443


def test_named_target_port_from_endpoints_object_and_by_target_name():
    endpoints = {
        "kind": "Endpoints",
        "metadata": {"name": "web", "namespace": "shop"},
        "subsets": [
            {"addresses": [{"ip": "10.244.1.5"}], "notReadyAddresses": [{"ip": "10.244.3.3"}], "ports": [{"name": "http", "port": 9000, "protocol": "TCP"}]},
        ],
    }
    port = select_port(SERVICE, "http")
    # the not-ready address resolves the number but is no pod address (only ready endpoints count)
    assert resolve_target_port(SERVICE, port, endpoints) == (9000, ["10.244.1.5"])
    renamed = copy.copy(port)
    renamed.name = "web"  # an endpoint port named after the targetPort
    assert resolve_target_port(SERVICE, renamed, endpoints)[0] == 9000


def test_named_target_port_without_endpoints_fails_with_the_reason():
    port = select_port(SERVICE, "http")
    with pytest.raises(K8sInputError) as error:
        resolve_target_port(SERVICE, port, [])
    assert error.value.option == "service.spec.ports[0].targetPort"
    assert str(error.value) == (
        "service.spec.ports[0].targetPort: "
        "port http (80/TCP) of service shop/web has the named target port 'http', which cannot be resolved to a number: "
        "the service has no endpoints (no running pod matches its selector)"
    )
    other = [slice_("web-c", ["10.244.1.5"], [{"name": "metrics", "port": 9100, "protocol": "TCP"}])]
    with pytest.raises(K8sInputError, match="no endpoint defines it"):
        resolve_target_port(SERVICE, port, other)
    empty_slice = [slice_("web-d", [], [])]
    with pytest.raises(K8sInputError, match="the service has no endpoints"):
        resolve_target_port(SERVICE, port, empty_slice)


def test_resolved_ports_gives_every_port_with_its_target_resolved():
    assert resolved_ports(SERVICE, SLICES) == [
        {"name": "http", "protocol": "TCP", "port": 80, "target_port": [8080, 8081], "target_port_name": "http", "node_port": 30080,
         "endpoint_addresses": ["10.244.0.9", "10.244.1.5", "10.244.2.7"]},
        {"name": "https", "protocol": "TCP", "port": 443, "target_port": 8443, "target_port_name": None, "node_port": 30443,
         "endpoint_addresses": ["10.244.0.9", "10.244.1.5", "10.244.2.7"]},
        {"name": "dns", "protocol": "UDP", "port": 53, "target_port": 5353, "target_port_name": None, "node_port": None,
         "endpoint_addresses": []},
        {"name": "dns-tcp", "protocol": "TCP", "port": 53, "target_port": 5353, "target_port_name": None, "node_port": None,
         "endpoint_addresses": []},
    ]


def test_resolved_ports_never_fails_on_an_unresolved_named_target_port():
    ports = resolved_ports(SERVICE, [])
    assert (ports[0]["name"], ports[0]["target_port"], ports[0]["target_port_name"], ports[0]["endpoint_addresses"]) == ("http", None, "http", [])
    assert ports[1]["target_port"] == 8443
    unnamed = {"metadata": {"name": "db", "namespace": "prod"}, "spec": {"ports": [{"port": 5432}]}}
    assert resolved_ports(unnamed, None) == [
        {"name": None, "protocol": "TCP", "port": 5432, "target_port": 5432, "target_port_name": None, "node_port": None, "endpoint_addresses": []}
    ]
    assert resolved_ports({"metadata": {"name": "ext"}, "spec": {"type": "ExternalName"}}, None) == []


def test_service_inputs_without_port_gives_every_port_of_a_multi_port_service():
    result = service_inputs(SERVICE, SLICES, NODES)
    assert result["ports"] == resolved_ports(SERVICE, SLICES)
    service = result["service"]
    # no port is selected: the single-port values are null instead of failing
    assert (service["port_name"], service["port"], service["target_port"], service["node_port"], service["protocol"]) == (None, None, None, None, None)
    assert service["endpoint_addresses"] == []
    # a protocol that leaves one port selects it, as before
    udp = service_inputs(SERVICE, SLICES, NODES, protocol="UDP")["service"]
    assert (udp["port_name"], udp["port"], udp["target_port"]) == ("dns", 53, 5353)
    with pytest.raises(K8sInputError, match="protocol: service shop/web has no SCTP port"):
        service_inputs(SERVICE, SLICES, NODES, protocol="SCTP")


def test_service_inputs_with_port_keeps_the_selected_values_and_lists_every_port():
    result = service_inputs(SERVICE, SLICES, NODES, port="https")
    assert (result["service"]["port"], result["service"]["target_port"], result["service"]["node_port"]) == (443, 8443, 30443)
    assert [(p["port"], p["protocol"]) for p in result["ports"]] == [(80, "TCP"), (443, "TCP"), (53, "UDP"), (53, "TCP")]
    # the selected port must resolve; the others need not
    with pytest.raises(K8sInputError, match="named target port 'http'"):
        service_inputs(SERVICE, [], NODES, port="http")
    assert service_inputs(SERVICE, [], NODES, port="https")["ports"][0]["target_port"] is None


# ---------------------------------------------------------------------------------------------
# nodes and addresses


def test_node_summary_and_networks():
    summaries = [node_summary(node) for node in NODES]
    assert summaries[0] == {
        "name": "node-1",
        "internal_addresses": ["192.0.2.11", "2001:db8::11"],
        "external_addresses": ["198.51.100.11"],
        "pod_cidrs": ["10.244.1.0/24"],
    }
    assert summaries[1]["pod_cidrs"] == []
    assert node_networks(summaries) == ["192.0.2.10/32", "192.0.2.11/32", "2001:db8::11/128"]


def test_addresses_are_canonical_unique_and_sorted():
    assert sorted_addresses(["10.0.0.10", "2001:DB8::1", "10.0.0.9", "10.0.0.10", None, "lb.example.com"]) == [
        "10.0.0.9", "10.0.0.10", "2001:db8::1", "lb.example.com"]
    assert host_network("2001:db8:0::1") == "2001:db8::1/128"


# ---------------------------------------------------------------------------------------------
# the whole result


def test_service_inputs_gives_the_fields_and_the_render_input():
    original = copy.deepcopy(SERVICE)
    result = service_inputs(SERVICE, SLICES[:1], NODES, port="http")
    assert SERVICE == original  # the input is not changed
    service = result["service"]
    assert service["type"] == "LoadBalancer"
    assert service["cluster_ip"] == "10.96.0.27" and service["cluster_ips"] == ["10.96.0.27", "fd00::27"]
    assert service["load_balancer_ips"] == ["192.0.2.200"]
    assert service["load_balancer_hostnames"] == ["web.lb.example.com"]
    assert service["dns_name"] == "web.shop.svc.cluster.local"
    assert service["selector"] == {"app": "web"}
    assert (service["port_name"], service["port"], service["target_port"], service["target_port_name"], service["node_port"], service["protocol"]) == (
        "http", 80, 8080, "http", 30080, "TCP")
    assert service["endpoint_addresses"] == ["10.244.0.9", "10.244.1.5"]
    assert [port["name"] for port in service["ports"]] == ["http", "https", "dns", "dns-tcp"]
    assert result["node_networks"] == ["192.0.2.10/32", "192.0.2.11/32", "2001:db8::11/128"]
    render = result["render_input"]
    assert "managedFields" not in render["service"]["metadata"]
    assert "managedFields" not in render["endpoints"][0]["metadata"]
    assert render["nodes"][0] == {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "node-1", "labels": {"role": "worker"}},
        "spec": {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"]},
        "status": {"addresses": NODES[0]["status"]["addresses"]},
    }


def test_render_input_gives_the_same_rules_as_the_full_objects():
    result = service_inputs(SERVICE, SLICES, NODES, port="http")
    render = result["render_input"]
    policy = {"consumer": {"name": "prod", "addresses": ["10.20.0.11"]}, "provider": "web", "port": 80}
    trimmed = render_k8s_rules(policy, render["service"], endpoints=render["endpoints"], nodes=render["nodes"])
    full = render_k8s_rules(policy, SERVICE, endpoints=SLICES, nodes=NODES)
    assert trimmed == full
    pod_ports = sorted(rule["port"] for rule in full if rule["provider"]["label"] == "provider pods" and rule["consumer"]["label"] == "consumers")
    assert pod_ports == result["service"]["target_port"]


def test_headless_and_external_name_services():
    headless = {"metadata": {"name": "db", "namespace": "prod"}, "spec": {"clusterIP": "None", "clusterIPs": ["None"], "ports": [{"port": 5432}]}}
    result = service_inputs(headless)
    assert result["service"]["cluster_ip"] is None and result["service"]["cluster_ips"] == []
    assert result["service"]["port"] == 5432 and result["service"]["target_port"] == 5432
    assert result["nodes"] == [] and result["node_networks"] == [] and result["render_input"]["endpoints"] == []
    external = {"metadata": {"name": "mail", "namespace": "prod"}, "spec": {"type": "ExternalName", "externalName": "mail.example.com"}}
    result = service_inputs(external, cluster_domain="corp.local")
    assert result["service"]["type"] == "ExternalName" and result["service"]["external_name"] == "mail.example.com"
    assert result["service"]["port"] is None and result["service"]["dns_name"] == "mail.prod.svc.corp.local"


# ---------------------------------------------------------------------------------------------
# one parser for k8s_service_inputs and sw_k8s_rules (_k8s/service.py)


def conditioned_slice(name, endpoints, ports, service="web", namespace="shop", address_type="IPv4"):
    """An EndpointSlice whose endpoints are ``(address, conditions)``; conditions None leaves them unset."""
    items = []
    for address, conditions in endpoints:
        item = {"addresses": [address]}
        if conditions is not None:
            item["conditions"] = conditions
        items.append(item)
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": name, "namespace": namespace, "labels": {"kubernetes.io/service-name": service}},
        "addressType": address_type,
        "endpoints": items,
        "ports": ports,
    }


READY = {"ready": True, "serving": True, "terminating": False}
NOT_READY = {"ready": False, "serving": False, "terminating": False}
DRAINING = {"ready": False, "serving": True, "terminating": True}  # serving while terminating
GONE = {"ready": False, "serving": False, "terminating": True}
HTTP_8080 = [{"name": "http", "port": 8080, "protocol": "TCP"}, {"name": "https", "port": 8443, "protocol": "TCP"}]


def test_only_ready_endpoints_count_and_unset_means_ready():
    slices = [conditioned_slice("web-a", [("10.244.1.5", READY), ("10.244.1.6", None), ("10.244.1.7", NOT_READY),
                                          ("10.244.1.8", DRAINING), ("10.244.1.9", GONE)], HTTP_8080)]
    assert resolve_target_port(SERVICE, select_port(SERVICE, "http"), slices) == (8080, ["10.244.1.5", "10.244.1.6"])


def test_serving_terminating_endpoints_count_when_a_port_has_no_ready_one():
    slices = [conditioned_slice("web-a", [("10.244.1.7", NOT_READY), ("10.244.1.8", DRAINING), ("10.244.1.9", GONE)], HTTP_8080)]
    assert resolve_target_port(SERVICE, select_port(SERVICE, "http"), slices) == (8080, ["10.244.1.8"])
    # a ready endpoint anywhere on the port (another slice, another number) ends the fallback
    slices.append(conditioned_slice("web-b", [("10.244.2.7", READY)], [{"name": "http", "port": 8081, "protocol": "TCP"}]))
    assert resolve_target_port(SERVICE, select_port(SERVICE, "http"), slices) == ([8080, 8081], ["10.244.2.7"])


def test_not_ready_endpoints_resolve_the_named_port_but_give_no_addresses():
    slices = [conditioned_slice("web-a", [("10.244.1.7", NOT_READY)], HTTP_8080)]
    result = service_inputs(SERVICE, slices, NODES, port="http")
    assert (result["service"]["target_port"], result["service"]["endpoint_addresses"]) == (8080, [])
    policy = {"consumer": "prod", "port": 80}
    rules = render_k8s_rules(policy, SERVICE, endpoints=slices, nodes=NODES)
    assert [rule["provider"]["label"] for rule in rules] == ["nodes", "load balancer", "cluster IP"]


def test_objects_of_other_services_are_skipped_by_both():
    slices = SLICES + [conditioned_slice("cache-a", [("10.244.9.9", READY)], HTTP_8080, service="cache")]
    assert resolve_target_port(SERVICE, select_port(SERVICE, "http"), slices) == resolve_target_port(SERVICE, select_port(SERVICE, "http"), SLICES)


def test_cluster_ips_are_sorted_and_the_primary_is_kept():
    ipv6_first = copy.deepcopy(SERVICE)
    ipv6_first["spec"].update(clusterIP="fd00::27", clusterIPs=["fd00::27", "10.96.0.27"])
    service = service_inputs(ipv6_first, SLICES, NODES, port="https")["service"]
    assert service["cluster_ip"] == "fd00::27"
    assert service["cluster_ips"] == ["10.96.0.27", "fd00::27"]


def test_invalid_values_fail_with_their_path_in_both():
    bad = copy.deepcopy(SERVICE)
    bad["spec"]["clusterIPs"] = ["10.96.0.300"]
    with pytest.raises(K8sInputError) as error:
        service_inputs(bad, SLICES, NODES, port="https")
    assert str(error.value) == "service.spec.clusterIPs[0]: expected an IP address, got '10.96.0.300'"
    with pytest.raises(K8sRenderError) as error:
        render_k8s_rules({"consumer": "prod", "port": 443}, bad, endpoints=SLICES, nodes=NODES)
    assert error.value.option == "service.spec.clusterIPs[0]"


def test_module_and_renderer_give_the_same_ports_and_addresses():
    """The same objects through k8s_service_inputs and through sw_k8s_rules: same pods, target ports and addresses."""
    service = copy.deepcopy(SERVICE)
    service["spec"].update(clusterIP="fd00::27", clusterIPs=["fd00::27", "10.96.0.27"], externalIPs=["198.51.100.7"])
    service["status"]["loadBalancer"]["ingress"].append({"ip": "2001:DB8::200"})
    slices = [
        conditioned_slice("web-a", [("10.244.1.5", READY), ("10.244.0.9", None), ("10.244.1.7", NOT_READY)],
                          HTTP_8080 + [{"name": "dns", "port": 5353, "protocol": "UDP"}, {"name": "dns-tcp", "port": 5353, "protocol": "TCP"}]),
        conditioned_slice("web-b", [("10.244.2.7", READY), ("10.244.2.8", DRAINING)],
                          [{"name": "http", "port": 8081, "protocol": "TCP"}, {"name": "https", "port": 8443, "protocol": "TCP"}]),
        conditioned_slice("web-v6", [("FD00:10:244::5", READY)], HTTP_8080, address_type="IPv6"),
        conditioned_slice("web-dns", [("10.244.3.3", DRAINING)], [{"name": "dns", "port": 5353, "protocol": "UDP"}]),
        conditioned_slice("cache-a", [("10.244.9.9", READY)], HTTP_8080, service="cache"),
    ]
    module_result = service_inputs(service, slices, NODES)
    everything = {"consumer": "prod", "l4_params": [{"proto": None}]}
    rules = render_k8s_rules(everything, service, endpoints=slices, nodes=NODES, node_address_types=["InternalIP"])
    # the render input the module returns gives the same rules as the objects themselves
    render = module_result["render_input"]
    assert render_k8s_rules(everything, render["service"], endpoints=render["endpoints"], nodes=render["nodes"],
                            node_address_types=["InternalIP"]) == rules

    def provider(label, protocol, port):
        found = [rule["provider"]["addresses"] for rule in rules
                 if rule["consumer"]["label"] == "consumers" and rule["provider"]["label"] == label and (rule["protocol"], rule["port"]) == (protocol, port)]
        assert len(found) <= 1
        return found[0] if found else None

    for port in module_result["ports"]:
        numbers = port["target_port"] if isinstance(port["target_port"], list) else [port["target_port"]]
        rendered = sorted(set(address for number in numbers for address in provider("provider pods", port["protocol"], number) or []))
        assert rendered == port["endpoint_addresses"], port
        assert port["endpoint_addresses"]  # every port of this scenario has pods
        if port["node_port"]:
            assert provider("nodes", port["protocol"], port["node_port"]) == sorted(
                address for node in module_result["nodes"] for address in node["internal_addresses"])
    service_values = module_result["service"]
    cluster = [rule for rule in rules if rule["provider"]["label"] == "cluster IP"]
    assert cluster and all(rule["provider"]["addresses"] == service_values["cluster_ips"] for rule in cluster)
    balancer = [rule for rule in rules if rule["provider"]["label"] == "load balancer"]
    assert balancer and all(rule["provider"]["addresses"] == service_values["load_balancer_ips"] + service_values["load_balancer_hostnames"]
                            for rule in balancer)
    # what the scenario means: ready pods, draining pods only where a port has no ready one, canonical and sorted
    assert module_result["ports"][0]["target_port"] == [8080, 8081]
    assert module_result["ports"][0]["endpoint_addresses"] == ["10.244.0.9", "10.244.1.5", "10.244.2.7", "fd00:10:244::5"]
    assert module_result["ports"][2]["endpoint_addresses"] == ["10.244.0.9", "10.244.1.5"]
    assert service_values["cluster_ips"] == ["10.96.0.27", "fd00::27"]
    assert service_values["load_balancer_ips"] == ["192.0.2.200", "2001:db8::200"]
    dns_only_draining = service_inputs(service, slices[3:4], NODES, port="dns")["service"]
    assert dns_only_draining["endpoint_addresses"] == ["10.244.3.3"]


# ---------------------------------------------------------------------------------------------
# connection settings


PARAMS = {"kubeconfig": None, "context": None, "host": None, "api_key": None, "ca_cert": None, "validate_certs": None, "timeout": 60}


def params(**kwargs):
    result = dict(PARAMS)
    result.update(kwargs)
    return result


def test_kubeconfig_source_order():
    def exists_none(path):
        return False

    def exists_all(path):
        return True

    assert k8s_client.kubeconfig_source(params(kubeconfig="/k"), {}, exists_all) == ("kubeconfig", "/k")
    assert k8s_client.kubeconfig_source(params(host="https://h"), {"KUBECONFIG": "/e"}, exists_all) == ("host", None)
    assert k8s_client.kubeconfig_source(params(host="https://h", context="c"), {"KUBECONFIG": "/e"}, exists_all) == ("kubeconfig", "/e")
    assert k8s_client.kubeconfig_source(params(), {"KUBECONFIG": "/e:/f"}, lambda p: p == "/f") == ("kubeconfig", "/e:/f")
    assert k8s_client.kubeconfig_source(params(), {}, exists_all)[0] == "kubeconfig"
    assert k8s_client.kubeconfig_source(params(), {"KUBERNETES_SERVICE_HOST": "10.96.0.1"}, exists_all)[0] == "kubeconfig"
    assert k8s_client.kubeconfig_source(params(), {"KUBERNETES_SERVICE_HOST": "10.96.0.1"}, lambda p: p == k8s_client.IN_CLUSTER_TOKEN) == ("in-cluster", None)


def test_kubeconfig_source_errors():
    with pytest.raises(k8s_client.K8sError, match="kubeconfig: file /nope does not exist"):
        k8s_client.kubeconfig_source(params(kubeconfig="/nope"), {}, lambda p: False)
    with pytest.raises(k8s_client.K8sError, match="context: no kubeconfig to take context 'c' from"):
        k8s_client.kubeconfig_source(params(context="c"), {}, lambda p: False)
    with pytest.raises(k8s_client.K8sError, match="the environment variable KUBECONFIG names no existing file: /e:/f"):
        k8s_client.kubeconfig_source(params(), {"KUBECONFIG": "/e:/f"}, lambda p: False)
    with pytest.raises(k8s_client.K8sError, match="no Kubernetes API to talk to"):
        k8s_client.kubeconfig_source(params(), {}, lambda p: False)


KUBECONFIG = """
apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}
- name: other
  cluster: {server: "https://127.0.0.2:6443"}
users:
- name: admin
  user: {token: kubeconfig-token}
contexts:
- name: lab
  context: {cluster: lab, user: admin}
- name: other
  context: {cluster: other, user: admin}
current-context: lab
"""


@pytest.mark.skipif(not k8s_client.HAS_KUBERNETES, reason="the kubernetes client is not installed")
def test_build_configuration_from_kubeconfig_and_overrides(tmp_path):
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG)
    configuration = k8s_client.build_configuration(params(kubeconfig=str(path)))
    assert configuration.host == "https://127.0.0.1:6443"
    assert configuration.verify_ssl is False
    assert configuration.auth_settings()["BearerToken"]["value"] == "Bearer kubeconfig-token"
    configuration = k8s_client.build_configuration(params(kubeconfig=str(path), context="other"))
    assert configuration.host == "https://127.0.0.2:6443" and configuration.verify_ssl is True
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    configuration = k8s_client.build_configuration(params(kubeconfig=str(path), host="https://k8s.example.com/", api_key="secret-token",
                                                          ca_cert=str(ca), validate_certs=True))
    assert configuration.host == "https://k8s.example.com"
    assert configuration.auth_settings()["BearerToken"]["value"] == "Bearer secret-token"
    assert configuration.ssl_ca_cert == str(ca) and configuration.verify_ssl is True
    assert configuration.retries.total == 3 and 503 in configuration.retries.status_forcelist


@pytest.mark.skipif(not k8s_client.HAS_KUBERNETES, reason="the kubernetes client is not installed")
def test_build_configuration_errors(tmp_path):
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG)
    with pytest.raises(k8s_client.K8sError, match="kubeconfig .*: .*ghost"):
        k8s_client.build_configuration(params(kubeconfig=str(path), context="ghost"))
    with pytest.raises(k8s_client.K8sError, match="host: the API server URL must start with https://"):
        k8s_client.build_configuration(params(host="k8s.example.com:6443", api_key="t"))
    with pytest.raises(k8s_client.K8sError, match="ca_cert: file /nope.pem does not exist"):
        k8s_client.build_configuration(params(host="https://k8s.example.com", ca_cert="/nope.pem"))
    with pytest.raises(k8s_client.K8sError, match="timeout: give a number of seconds greater than 0"):
        k8s_client.build_configuration(params(host="https://k8s.example.com", timeout=0))


# ---------------------------------------------------------------------------------------------
# the module's read step


DEFAULT = object()


class FakeClient:
    def __init__(self, service=DEFAULT, slices_error=None, nodes_error=None):
        self.service = SERVICE if service is DEFAULT else service
        self.slices_error = slices_error
        self.nodes_error = nodes_error
        self.calls = []

    def get_service(self, namespace, name):
        self.calls.append(("service", namespace, name))
        return self.service

    def endpoint_slices(self, namespace, name):
        self.calls.append(("slices", namespace, name))
        if self.slices_error:
            raise ApiError("slices", status=self.slices_error)
        return SLICES

    def endpoints(self, namespace, name):
        self.calls.append(("endpoints", namespace, name))
        return {"kind": "Endpoints", "subsets": []}

    def nodes(self, selector):
        self.calls.append(("nodes", selector))
        if self.nodes_error:
            raise ApiError("GET /api/v1/nodes failed with status 403: forbidden", status=self.nodes_error)
        return NODES


def module_params(**kwargs):
    result = {"namespace": "shop", "name": "web", "endpoints_source": "auto", "include_nodes": True, "node_selector": None}
    result.update(kwargs)
    return result


def test_read_objects_reads_slices_and_nodes():
    fake = FakeClient()
    service, endpoints, nodes = module.read_objects(fake, module_params(node_selector="role=worker"))
    assert service is SERVICE and endpoints is SLICES and nodes is NODES
    assert fake.calls == [("service", "shop", "web"), ("slices", "shop", "web"), ("nodes", "role=worker")]


def test_read_objects_falls_back_to_endpoints_without_the_discovery_api():
    fake = FakeClient(slices_error=404)
    dummy, endpoints, dummy = module.read_objects(fake, module_params())
    assert endpoints["kind"] == "Endpoints"
    with pytest.raises(ApiError):
        module.read_objects(FakeClient(slices_error=404), module_params(endpoints_source="endpointslices"))
    with pytest.raises(ApiError):
        module.read_objects(FakeClient(slices_error=500), module_params())
    fake = FakeClient()
    module.read_objects(fake, module_params(endpoints_source="endpoints", include_nodes=False))
    assert [call[0] for call in fake.calls] == ["service", "endpoints"]


def test_read_objects_errors():
    with pytest.raises(K8sInputError, match="^service shop/web not found$"):
        module.read_objects(FakeClient(service=None), module_params())
    with pytest.raises(ApiError) as error:
        module.read_objects(FakeClient(nodes_error=403), module_params())
    assert error.value.to_result()["msg"].endswith("(set include_nodes: false to read the service without the nodes)")
