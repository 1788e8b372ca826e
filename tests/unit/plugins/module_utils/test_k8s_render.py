# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/_secure_workload/k8s_render.py and the sw_k8s_rules filter."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.microseg.segmentation.plugins.filter import sw_k8s_rules as filter_plugin
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.k8s_render import K8sRenderError, render_k8s_rules

# ---------------------------------------------------------------------------------------------
# the product guide's example: consumers environment = production, provider service db, TCP 27017

CONSUMER_FILTER = "environment = production"
CONSUMER_IPS = ["10.20.0.11", "10.20.0.12"]
CLUSTER_IP = "10.96.0.20"
NODE_IPS = ["192.168.10.11", "192.168.10.12"]
POD_IPS = ["10.244.1.5", "10.244.2.7"]
LB_IP = "203.0.113.10"


def guide_policy(**overrides):
    policy = {
        "consumer": {"name": CONSUMER_FILTER, "addresses": list(reversed(CONSUMER_IPS))},
        "provider": "db",
        "protocol": "TCP",
        "port": 27017,
        "action": "ALLOW",
    }
    policy.update(overrides)
    return policy


def service(service_type="NodePort", ports=None, cluster_ips=None, ingress=None, name="db"):
    if ports is None:
        ports = [{"name": "mongo", "port": 27017, "targetPort": 27017, "protocol": "TCP"}]
        if service_type in ("NodePort", "LoadBalancer"):
            ports[0]["nodePort"] = 30017
    spec = {"type": service_type, "ports": ports}
    cluster_ips = [CLUSTER_IP] if cluster_ips is None else cluster_ips
    if cluster_ips:
        spec["clusterIP"] = cluster_ips[0]
        spec["clusterIPs"] = cluster_ips
    obj = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "shop"}, "spec": spec}
    if ingress is not None:
        obj["status"] = {"loadBalancer": {"ingress": ingress}}
    return obj


def endpoint_slice(addresses, ports, service_name="db", address_type="IPv4"):
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": service_name + "-abcde", "namespace": "shop", "labels": {"kubernetes.io/service-name": service_name}},
        "addressType": address_type,
        "endpoints": [{"addresses": [address], "conditions": {"ready": True}} for address in addresses],
        "ports": ports,
    }


def endpoints_object(subsets, name="db"):
    return {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name, "namespace": "shop"}, "subsets": subsets}


def guide_endpoints():
    return [endpoint_slice(list(reversed(POD_IPS)), [{"name": "mongo", "port": 27017, "protocol": "TCP"}])]


def node(*addresses):
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"}, "status": {"addresses": list(addresses)}}


def guide_nodes():
    return [
        node({"type": "InternalIP", "address": NODE_IPS[1]}, {"type": "Hostname", "address": "node-2"}),
        node({"type": "InternalIP", "address": NODE_IPS[0]}, {"type": "Hostname", "address": "node-1"}),
    ]


def consumers(label="consumers", addresses=None):
    return {"label": label, "addresses": list(CONSUMER_IPS if addresses is None else addresses), "filter": CONSUMER_FILTER}


def target(label, addresses):
    return {"label": label, "addresses": list(addresses)}


def flows(rules):
    """The rules without their reasons, for exact comparisons."""
    return [dict((key, value) for key, value in rule.items() if key != "reason") for rule in rules]


def rule(consumer, provider, port, protocol="TCP", action="ALLOW"):
    return {"consumer": consumer, "provider": provider, "protocol": protocol, "port": port, "action": action}


NODE_PORT_RULE = rule(consumers(), target("nodes", NODE_IPS), 30017)
CLUSTER_IP_RULE = rule(consumers("consumer pods"), target("cluster IP", [CLUSTER_IP]), 27017)
NODES_TO_PODS_RULE = rule(target("nodes", NODE_IPS), target("provider pods", POD_IPS), 27017)
CONSUMERS_TO_PODS_RULE = rule(consumers(), target("provider pods", POD_IPS), 27017)
LOAD_BALANCER_RULE = rule(consumers(), target("load balancer", [LB_IP]), 27017)


def check_error(excinfo, option, fragment):
    err = excinfo.value
    assert isinstance(err, ValueError)
    assert err.option == option, err.option
    assert fragment in err.message, err.message
    assert str(err) == "%s: %s" % (option, err.message)


# ---------------------------------------------------------------------------------------------
# the guide's example for each service type


def test_cluster_ip_guide_example():
    rules = render_k8s_rules(guide_policy(), service("ClusterIP"), guide_endpoints(), guide_nodes())
    assert flows(rules) == [CLUSTER_IP_RULE, CONSUMERS_TO_PODS_RULE]
    assert all(r["reason"] for r in rules)


def test_cluster_ip_needs_no_nodes_and_is_the_default_type():
    svc = service("ClusterIP")
    del svc["spec"]["type"]
    rules = render_k8s_rules(guide_policy(), svc, guide_endpoints())
    assert flows(rules) == [CLUSTER_IP_RULE, CONSUMERS_TO_PODS_RULE]


def test_node_port_guide_example():
    rules = render_k8s_rules(guide_policy(), service("NodePort"), guide_endpoints(), guide_nodes())
    assert flows(rules) == [NODE_PORT_RULE, CLUSTER_IP_RULE, NODES_TO_PODS_RULE, CONSUMERS_TO_PODS_RULE]
    assert "node port 30017" in rules[0]["reason"]
    assert "cluster IP" in rules[1]["reason"]


def test_load_balancer_guide_example():
    rules = render_k8s_rules(guide_policy(), service("LoadBalancer", ingress=[{"ip": LB_IP}]), guide_endpoints(), guide_nodes())
    assert flows(rules) == [NODE_PORT_RULE, LOAD_BALANCER_RULE, CLUSTER_IP_RULE, NODES_TO_PODS_RULE, CONSUMERS_TO_PODS_RULE]
    assert "load balancer" in rules[1]["reason"]


def test_load_balancer_rule_can_be_left_out():
    rules = render_k8s_rules(guide_policy(), service("LoadBalancer", ingress=[{"ip": LB_IP}]), guide_endpoints(), guide_nodes(), load_balancer=False)
    assert flows(rules) == [NODE_PORT_RULE, CLUSTER_IP_RULE, NODES_TO_PODS_RULE, CONSUMERS_TO_PODS_RULE]


def test_load_balancer_host_names_and_pending_address():
    svc = service("LoadBalancer", ingress=[{"hostname": "DB.elb.example.com"}, {"ip": LB_IP}])
    rules = render_k8s_rules(guide_policy(), svc, guide_endpoints(), guide_nodes())
    assert rules[1]["provider"] == target("load balancer", [LB_IP, "db.elb.example.com"])

    pending = render_k8s_rules(guide_policy(), service("LoadBalancer"), guide_endpoints(), guide_nodes())
    assert [r["provider"]["label"] for r in pending] == ["nodes", "cluster IP", "provider pods", "provider pods"]


def test_load_balancer_without_node_ports_needs_no_nodes():
    ports = [{"port": 27017, "targetPort": 27017, "protocol": "TCP"}]
    rules = render_k8s_rules(guide_policy(), service("LoadBalancer", ports=ports, ingress=[{"ip": LB_IP}]), guide_endpoints())
    assert flows(rules) == [LOAD_BALANCER_RULE, CLUSTER_IP_RULE, CONSUMERS_TO_PODS_RULE]


def test_deny_policy_keeps_node_forwarding_open():
    rules = render_k8s_rules(guide_policy(action="deny"), service("NodePort"), guide_endpoints(), guide_nodes())
    expected = [dict(r, action="DENY") for r in (NODE_PORT_RULE, CLUSTER_IP_RULE, CONSUMERS_TO_PODS_RULE)]
    assert flows(rules) == expected


def test_consumer_by_name_only():
    rules = render_k8s_rules(guide_policy(consumer=CONSUMER_FILTER), service("ClusterIP"), guide_endpoints())
    assert rules[0]["consumer"] == consumers("consumer pods", addresses=[])
    assert rules[1]["consumer"] == consumers(addresses=[])


def test_headless_service_has_no_cluster_ip_rule():
    svc = service("ClusterIP", cluster_ips=["None"])
    assert flows(render_k8s_rules(guide_policy(), svc, guide_endpoints())) == [CONSUMERS_TO_PODS_RULE]


def test_no_endpoints_gives_no_pod_rules():
    rules = render_k8s_rules(guide_policy(), service("NodePort"), None, guide_nodes())
    assert flows(rules) == [NODE_PORT_RULE, CLUSTER_IP_RULE]


# ---------------------------------------------------------------------------------------------
# named ports


def test_named_target_port_from_endpoint_slices():
    ports = [{"name": "db", "port": 27017, "targetPort": "mongo", "nodePort": 30017, "protocol": "TCP"}]
    eps = [endpoint_slice(POD_IPS, [{"name": "db", "port": 27018, "protocol": "TCP"}])]
    rules = render_k8s_rules(guide_policy(), service("NodePort", ports=ports), eps, guide_nodes())
    assert [(r["provider"]["label"], r["port"]) for r in rules] == [("nodes", 30017), ("cluster IP", 27017), ("provider pods", 27018), ("provider pods", 27018)]
    assert "'mongo' (27018)" in rules[3]["reason"]


def test_named_target_port_from_endpoints_named_after_the_target():
    ports = [{"port": 27017, "targetPort": "mongo", "protocol": "TCP"}]
    eps = endpoints_object([{"addresses": [{"ip": POD_IPS[0]}], "notReadyAddresses": [{"ip": POD_IPS[1]}], "ports": [{"name": "mongo", "port": 27017}]}])
    rules = render_k8s_rules(guide_policy(), service("ClusterIP", ports=ports), eps)
    # notReadyAddresses are no provider pods (the shared parser counts ready endpoints only)
    assert flows(rules) == [CLUSTER_IP_RULE, rule(consumers(), target("provider pods", POD_IPS[:1]), 27017)]


def test_named_target_port_with_different_numbers_per_pod():
    ports = [{"name": "db", "port": 27017, "targetPort": "mongo", "protocol": "TCP"}]
    eps = {
        "kind": "EndpointsList",
        "items": [
            endpoints_object(
                [
                    {"addresses": [{"ip": "10.244.3.9"}], "ports": [{"name": "db", "port": 27018, "protocol": "TCP"}]},
                    {"addresses": [{"ip": ip} for ip in POD_IPS], "ports": [{"name": "db", "port": 27017, "protocol": "TCP"}]},
                ]
            )
        ],
    }
    rules = render_k8s_rules(guide_policy(), service("ClusterIP", ports=ports), eps)
    assert flows(rules) == [
        CLUSTER_IP_RULE,
        CONSUMERS_TO_PODS_RULE,
        rule(consumers(), target("provider pods", ["10.244.3.9"]), 27018),
    ]


def test_endpoint_slices_of_other_services_are_skipped():
    ports = [{"name": "db", "port": 27017, "targetPort": "mongo", "protocol": "TCP"}]
    eps = guide_endpoints() + [endpoint_slice(["10.244.9.9"], [{"name": "db", "port": 27017, "protocol": "TCP"}], service_name="cache")]
    eps[0]["ports"][0]["name"] = "db"
    rules = render_k8s_rules(guide_policy(), service("ClusterIP", ports=ports), eps)
    assert flows(rules) == [CLUSTER_IP_RULE, CONSUMERS_TO_PODS_RULE]


# ---------------------------------------------------------------------------------------------
# multi-port services


def multi_port_service():
    return service(
        "NodePort",
        ports=[
            {"name": "http", "port": 80, "targetPort": 8080, "nodePort": 30080, "protocol": "TCP"},
            {"name": "mongo", "port": 27017, "targetPort": 27017, "nodePort": 30017, "protocol": "TCP"},
            {"name": "dns", "port": 53, "targetPort": 5353, "nodePort": 30053, "protocol": "UDP"},
            {"name": "dns-tcp", "port": 53, "targetPort": 5353, "nodePort": 30054, "protocol": "TCP"},
        ],
    )


def multi_port_endpoints():
    return [
        endpoint_slice(
            POD_IPS,
            [
                {"name": "http", "port": 8080, "protocol": "TCP"},
                {"name": "mongo", "port": 27017, "protocol": "TCP"},
                {"name": "dns", "port": 5353, "protocol": "UDP"},
                {"name": "dns-tcp", "port": 5353, "protocol": "TCP"},
            ],
        )
    ]


def test_multi_port_service_policy_for_one_port():
    rules = render_k8s_rules(guide_policy(), multi_port_service(), multi_port_endpoints(), guide_nodes())
    assert flows(rules) == [NODE_PORT_RULE, CLUSTER_IP_RULE, NODES_TO_PODS_RULE, CONSUMERS_TO_PODS_RULE]


def test_multi_port_service_protocol_selects_the_port():
    rules = render_k8s_rules(guide_policy(protocol="udp", port=53), multi_port_service(), multi_port_endpoints(), guide_nodes())
    assert [(r["provider"]["label"], r["protocol"], r["port"]) for r in rules] == [
        ("nodes", "UDP", 30053),
        ("cluster IP", "UDP", 53),
        ("provider pods", "UDP", 5353),
        ("provider pods", "UDP", 5353),
    ]


def test_several_ports_follow_service_order_and_are_deduplicated():
    svc = service(
        "ClusterIP",
        ports=[
            {"name": "a", "port": 8443, "targetPort": 8443, "protocol": "TCP"},
            {"name": "b", "port": 443, "targetPort": 8443, "protocol": "TCP"},
        ],
    )
    eps = [endpoint_slice(POD_IPS, [{"name": "a", "port": 8443, "protocol": "TCP"}, {"name": "b", "port": 8443, "protocol": "TCP"}])]
    rules = render_k8s_rules(guide_policy(port=None, ports=[443, "8000-9000"]), svc, eps)
    assert [(r["provider"]["label"], r["port"]) for r in rules] == [("cluster IP", 8443), ("provider pods", 8443), ("cluster IP", 443)]


def test_l4_params_form():
    policy = guide_policy(protocol=None, port=None, l4_params=[{"proto": 6, "port": [27017, 27017]}])
    rules = render_k8s_rules(policy, multi_port_service(), multi_port_endpoints(), guide_nodes())
    assert flows(rules) == [NODE_PORT_RULE, CLUSTER_IP_RULE, NODES_TO_PODS_RULE, CONSUMERS_TO_PODS_RULE]

    every_udp = guide_policy(protocol=None, port=None, l4_params=[{"proto": 17}])
    assert {r["port"] for r in render_k8s_rules(every_udp, multi_port_service(), multi_port_endpoints(), guide_nodes())} == {30053, 53, 5353}

    everything = guide_policy(protocol=None, port=None, l4_params=[{"proto": None}])
    assert len(render_k8s_rules(everything, multi_port_service(), multi_port_endpoints(), guide_nodes())) == 16


# ---------------------------------------------------------------------------------------------
# dual stack, ordering, copies


def test_dual_stack_cluster_ips_and_pods():
    svc = service("NodePort", cluster_ips=["fd00:10:96::20", CLUSTER_IP])
    eps = guide_endpoints() + [endpoint_slice(["fd00:10:244:1:0:0:0:5"], [{"name": "mongo", "port": 27017, "protocol": "TCP"}], address_type="IPv6")]
    nodes = [
        node(
            {"type": "InternalIP", "address": NODE_IPS[0]},
            {"type": "InternalIP", "address": "FD00:192:168::11"},
            {"type": "ExternalIP", "address": "198.51.100.11"},
        )
    ]
    rules = render_k8s_rules(guide_policy(), svc, eps, nodes)
    node_set = target("nodes", ["192.168.10.11", "198.51.100.11", "fd00:192:168::11"])
    pods = target("provider pods", POD_IPS + ["fd00:10:244:1::5"])
    assert flows(rules) == [
        rule(consumers(), node_set, 30017),
        rule(consumers("consumer pods"), target("cluster IP", [CLUSTER_IP, "fd00:10:96::20"]), 27017),
        rule(node_set, pods, 27017),
        rule(consumers(), pods, 27017),
    ]


def test_node_address_types_and_plain_addresses():
    nodes = [node({"type": "InternalIP", "address": NODE_IPS[0]}, {"type": "ExternalIP", "address": "198.51.100.11"})]
    rules = render_k8s_rules(guide_policy(), service("NodePort"), guide_endpoints(), nodes, node_address_types=("ExternalIP",))
    assert rules[0]["provider"]["addresses"] == ["198.51.100.11"]
    rules = render_k8s_rules(guide_policy(), service("NodePort"), guide_endpoints(), {"items": list(reversed(NODE_IPS))})
    assert rules[0]["provider"]["addresses"] == NODE_IPS


def test_order_does_not_depend_on_input_order():
    first = render_k8s_rules(guide_policy(), service("NodePort"), guide_endpoints(), guide_nodes())
    eps = guide_endpoints()
    eps[0]["endpoints"].reverse()
    second = render_k8s_rules(guide_policy(), service("NodePort"), eps, list(reversed(guide_nodes())))
    assert first == second


def test_rules_do_not_share_objects_and_inputs_are_untouched():
    policy, svc, eps, nodes = guide_policy(), service("NodePort"), guide_endpoints(), guide_nodes()
    before = copy.deepcopy((policy, svc, eps, nodes))
    rules = render_k8s_rules(policy, svc, eps, nodes)
    assert (policy, svc, eps, nodes) == before
    rules[0]["consumer"]["addresses"].append("10.0.0.1")
    assert rules[3]["consumer"]["addresses"] == CONSUMER_IPS


def test_consumer_networks_are_canonical():
    policy = guide_policy(consumer={"name": CONSUMER_FILTER, "addresses": ["10.20.0.0/255.255.0.0", "10.20.0.11", "10.20.0.0/16"]})
    rules = render_k8s_rules(policy, service("ClusterIP"), guide_endpoints())
    assert rules[0]["consumer"]["addresses"] == ["10.20.0.0/16", "10.20.0.11"]


# ---------------------------------------------------------------------------------------------
# errors


def test_error_port_not_exposed():
    with pytest.raises(K8sRenderError) as excinfo:
        render_k8s_rules(guide_policy(port=27018), service("NodePort"), guide_endpoints(), guide_nodes())
    check_error(excinfo, "policy.port", "does not expose TCP port 27018; it exposes 27017/TCP")


def test_error_port_not_exposed_for_that_protocol():
    with pytest.raises(K8sRenderError) as excinfo:
        render_k8s_rules(guide_policy(protocol=17), service("ClusterIP"), guide_endpoints())
    check_error(excinfo, "policy.port", "does not expose UDP port 27017")


def test_error_one_of_several_ports_not_exposed():
    with pytest.raises(K8sRenderError) as excinfo:
        render_k8s_rules(guide_policy(port=None, ports=[27017, "1-100"]), service("ClusterIP"), guide_endpoints())
    check_error(excinfo, "policy.ports[1]", "TCP ports 1-100")


def test_error_l4_params_port_not_exposed():
    policy = guide_policy(port=None, l4_params=[{"proto": 6, "port": [80, 80]}])
    with pytest.raises(K8sRenderError) as excinfo:
        render_k8s_rules(policy, service("ClusterIP"), guide_endpoints())
    check_error(excinfo, "policy.l4_params[0].port", "TCP port 80")


def test_error_named_target_port_not_defined():
    ports = [{"name": "db", "port": 27017, "targetPort": "mongo", "protocol": "TCP"}]
    eps = [endpoint_slice(POD_IPS, [{"name": "metrics", "port": 9216, "protocol": "TCP"}])]
    with pytest.raises(K8sRenderError) as excinfo:
        render_k8s_rules(guide_policy(), service("ClusterIP", ports=ports), eps)
    check_error(excinfo, "service.spec.ports[0].targetPort", "named target port 'mongo'")
    assert "the endpoints define metrics" in excinfo.value.message


def test_error_named_target_port_without_endpoints():
    ports = [{"port": 27017, "targetPort": "mongo", "protocol": "TCP"}]
    with pytest.raises(K8sRenderError) as excinfo:
        render_k8s_rules(guide_policy(), service("ClusterIP", ports=ports), [])
    check_error(excinfo, "service.spec.ports[0].targetPort", "the service has no endpoints")


def test_error_unknown_service_type():
    with pytest.raises(K8sRenderError) as excinfo:
        render_k8s_rules(guide_policy(), service("Ingress"), guide_endpoints())
    check_error(excinfo, "service.spec.type", "unknown service type 'Ingress'")


def test_error_external_name_service():
    with pytest.raises(K8sRenderError) as excinfo:
        render_k8s_rules(guide_policy(), service("ExternalName"), guide_endpoints())
    check_error(excinfo, "service.spec.type", "ExternalName")


@pytest.mark.parametrize("nodes", [None, [], {"items": []}])
def test_error_node_port_without_nodes(nodes):
    with pytest.raises(K8sRenderError) as excinfo:
        render_k8s_rules(guide_policy(), service("NodePort"), guide_endpoints(), nodes)
    check_error(excinfo, "nodes", "type NodePort")


def test_error_load_balancer_without_nodes():
    with pytest.raises(K8sRenderError) as excinfo:
        render_k8s_rules(guide_policy(), service("LoadBalancer", ingress=[{"ip": LB_IP}]), guide_endpoints())
    check_error(excinfo, "nodes", "type LoadBalancer")


def test_error_nodes_without_usable_addresses():
    with pytest.raises(K8sRenderError) as excinfo:
        render_k8s_rules(guide_policy(), service("NodePort"), guide_endpoints(), [node({"type": "Hostname", "address": "node-1"})])
    check_error(excinfo, "nodes", "no node has an address of type InternalIP or ExternalIP")


def test_error_node_port_service_port_without_node_port():
    ports = [{"port": 27017, "protocol": "TCP"}]
    with pytest.raises(K8sRenderError) as excinfo:
        render_k8s_rules(guide_policy(), service("NodePort", ports=ports), guide_endpoints(), guide_nodes())
    check_error(excinfo, "service.spec.ports[0].nodePort", "has no node port")


@pytest.mark.parametrize(
    "overrides, option, fragment",
    [
        ({"consumer": None}, "policy.consumer", "required"),
        ({"consumer": {"addresses": CONSUMER_IPS}}, "policy.consumer.name", "required"),
        ({"consumer": {"name": "x", "addresses": ["10.0.0.300"]}}, "policy.consumer.addresses[0]", "expected an IP address or network"),
        ({"provider": "cache"}, "policy.provider.name", "'cache'"),
        ({"provider": {"name": "db", "namespace": "other"}}, "policy.provider.namespace", "'other'"),
        ({"action": "REJECT"}, "policy.action", "ALLOW or DENY"),
        ({"protocol": "ICMP"}, "policy.protocol", "TCP, UDP or SCTP"),
        ({"port": 0}, "policy.port", "outside 1-65535"),
        ({"port": "30-20"}, "policy.port", "empty"),
        ({"port": None}, "policy", "one of port, ports or l4_params"),
        ({"ports": [80]}, "policy", "mutually exclusive"),
    ],
)
def test_error_policy_values(overrides, option, fragment):
    with pytest.raises(K8sRenderError) as excinfo:
        render_k8s_rules(guide_policy(**overrides), service("ClusterIP"), guide_endpoints())
    check_error(excinfo, option, fragment)


def test_error_bad_endpoint_and_node_addresses():
    eps = [endpoint_slice(["10.244.1.300"], [{"name": "mongo", "port": 27017, "protocol": "TCP"}])]
    with pytest.raises(K8sRenderError) as excinfo:
        render_k8s_rules(guide_policy(), service("ClusterIP"), eps)
    check_error(excinfo, "endpoints[0].endpoints[0].addresses[0]", "expected an IP address")

    with pytest.raises(K8sRenderError) as excinfo:
        render_k8s_rules(guide_policy(), service("NodePort"), guide_endpoints(), [node({"type": "InternalIP", "address": "node-1"})])
    check_error(excinfo, "nodes[0].status.addresses[0].address", "expected an IP address")


def test_error_service_without_spec_or_ports():
    with pytest.raises(K8sRenderError) as excinfo:
        render_k8s_rules(guide_policy(), {"metadata": {"name": "db"}})
    check_error(excinfo, "service.spec", "required")
    with pytest.raises(K8sRenderError) as excinfo:
        render_k8s_rules(guide_policy(), service("ClusterIP", ports=[]))
    check_error(excinfo, "service.spec.ports", "no ports")


# ---------------------------------------------------------------------------------------------
# the filter plugin


def test_filter_plugin_is_registered_and_renders():
    filters = filter_plugin.FilterModule().filters()
    assert filters == {"sw_k8s_rules": filter_plugin.sw_k8s_rules}
    rules = filters["sw_k8s_rules"](guide_policy(), service("NodePort"), endpoints=guide_endpoints(), nodes=guide_nodes(), load_balancer=False)
    assert flows(rules) == [NODE_PORT_RULE, CLUSTER_IP_RULE, NODES_TO_PODS_RULE, CONSUMERS_TO_PODS_RULE]


def test_filter_plugin_reports_errors_with_the_option():
    with pytest.raises(AnsibleFilterError, match=r"sw_k8s_rules: nodes: service 'db' is of type NodePort"):
        filter_plugin.sw_k8s_rules(guide_policy(), service("NodePort"), endpoints=guide_endpoints())
    with pytest.raises(AnsibleFilterError, match="load_balancer must be a boolean"):
        filter_plugin.sw_k8s_rules(guide_policy(), service("ClusterIP"), load_balancer="yes")
    with pytest.raises(AnsibleFilterError, match="node_address_types must be a list of strings"):
        filter_plugin.sw_k8s_rules(guide_policy(), service("ClusterIP"), node_address_types="InternalIP")


def test_renderer_and_filter_import_without_the_kubernetes_client():
    """The filter runs on the controller: the shared parser (_k8s/service.py) must not need kubernetes, urllib3 or requests."""
    import os
    import subprocess
    import sys

    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('kubernetes', 'urllib3', 'requests'):\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from ansible_collections.microseg.segmentation.plugins.filter.sw_k8s_rules import sw_k8s_rules\n"
        "from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.flows import render_k8s_rules\n"
        "print(len(sw_k8s_rules({'consumer': 'c', 'port': 80}, {'metadata': {'name': 's'}, 'spec': {'clusterIP': '10.0.0.1', 'ports': [{'port': 80}]}})))\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path for path in sys.path if path))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1"
