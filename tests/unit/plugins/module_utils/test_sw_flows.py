# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/_secure_workload/flows.py (no HTTP).

Sources are cited as in the module: ``ref §N`` is shared/reference/secure-workload-api.md, DESIGN is
shared/DESIGN.md ("What the policy allows"). Assumptions the reference does not settle are named.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.microseg.segmentation.plugins.module_utils._core.flowcheck import FlowCheckError, parse_service
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.flows import (
    WorkspaceFlows,
    l4_specs,
    order_policies,
    query_matches,
)

ROOT = {"id": "root", "name": "Default", "query": {"type": "eq", "field": "vrf_id", "value": 1}}
CLUSTER_Q = {"type": "eq", "field": "user_orchestrator_system/cluster_name", "value": "c1"}
APP_Q = {"type": "and", "filters": [ROOT["query"], CLUSTER_Q, {"type": "eq", "field": "user_orchestrator_system/namespace", "value": "prod"}]}
APP = {"id": "app", "name": "Default:App", "query": APP_Q, "root_app_scope_id": "root", "parent_app_scope_id": "root"}
WHOLE = {"id": "whole", "name": "Default:Whole", "query": {"type": "and", "filters": [ROOT["query"], {"type": "subnet", "field": "ip", "value": "10.0.0.0/8"}]},
         "root_app_scope_id": "root", "parent_app_scope_id": "root"}
POD_Q = {"type": "eq", "field": "user_orchestrator_system/workload_type", "value": "pod"}
PODS = {"id": "pods", "name": "Default:Pods", "query": {"type": "and", "filters": [APP_Q, POD_Q]},
        "root_app_scope_id": "root", "parent_app_scope_id": "root"}
WORKSPACE = {"id": "ws", "name": "apps", "app_scope_id": "app"}

ENV_ONLY = {"type": "eq", "field": "user_environment", "value": "production"}
ENV_OR = {"type": "or", "filters": [ENV_ONLY, {"type": "eq", "field": "user_orchestrator_environment", "value": "production"}]}
FILTERS = [
    {"id": "f-env", "name": "production", "query": ENV_ONLY},
    {"id": "f-env-or", "name": "production-any", "query": ENV_OR},
    {"id": "f-db", "name": "db", "query": {"type": "eq", "field": "user_orchestrator_system/service_name", "value": "db"}},
    {"id": "f-dbpods", "name": "db-pods", "query": {"type": "eq", "field": "user_orchestrator_app", "value": "db"}},
    {"id": "f-staging", "name": "staging", "query": {"type": "eq", "field": "user_orchestrator_environment", "value": "staging"}},
]


def item(ip, **labels):
    base = {"ip": ip, "vrf_id": 1, "user_orchestrator_system/cluster_name": "c1"}
    base.update(dict((k.replace("__", "/"), v) for k, v in labels.items()))
    return base


def pod(ip, name, namespace="prod", **labels):
    return item(ip, user_orchestrator_system__workload_type="pod", user_orchestrator_system__pod_name=name,
                user_orchestrator_system__namespace=namespace, **labels)


INVENTORY = [
    item("10.10.0.11", host_name="node-1", user_orchestrator_system__workload_type="node"),
    item("10.10.0.12", host_name="node-2", user_orchestrator_system__workload_type="node"),
    pod("10.244.3.5", "db-0", user_orchestrator_app="db", user_orchestrator_environment="production"),
    pod("10.244.3.6", "db-1", user_orchestrator_app="db", user_orchestrator_environment="production"),
    pod("10.244.1.20", "web-0", user_orchestrator_app="web", user_orchestrator_environment="production"),
    pod("10.244.1.21", "reports-0", user_orchestrator_app="reports", user_environment="production"),
    pod("10.244.2.30", "web-staging-0", namespace="staging", user_orchestrator_app="web", user_orchestrator_environment="staging"),
    pod("10.244.0.10", "coredns-0", namespace="kube-system", **{"user_orchestrator_k8s-app": "kube-dns"}),
    item("10.96.0.27", user_orchestrator_system__workload_type="service", user_orchestrator_system__service_name="db",
         user_orchestrator_system__namespace="prod"),
    item("10.10.0.2", host_name="apiserver"),
    item("10.20.0.21", host_name="host-1", user_environment="production"),
]

DB_SERVICE = {
    "metadata": {"name": "db", "namespace": "prod"},
    "spec": {"type": "NodePort", "clusterIP": "10.96.0.27",
             "ports": [{"name": "mongo", "port": 27017, "targetPort": 27017, "nodePort": 30017, "protocol": "TCP"}]},
}
DB_ENDPOINTS = {"metadata": {"name": "db", "namespace": "prod"},
                "subsets": [{"addresses": [{"ip": "10.244.3.5"}, {"ip": "10.244.3.6"}], "ports": [{"name": "mongo", "port": 27017, "protocol": "TCP"}]}]}
NODES = ["10.10.0.11", "10.10.0.12"]
DB_INPUT = {"service": DB_SERVICE, "endpoints": DB_ENDPOINTS, "nodes": NODES}
MONGO = [{"proto": 6, "port": [27017, 27017]}]


def policy(ident, consumer, provider, action="ALLOW", rank="DEFAULT", priority=100, l4=None):
    return {"id": ident, "consumer_filter_id": consumer, "provider_filter_id": provider, "action": action, "rank": rank,
            "priority": priority, "l4_params": copy.deepcopy(MONGO if l4 is None else l4)}


def flows(absolute=(), default=(), catch_all="DENY", scope="app", services=None, clusters=None, enforced=True, inventory=None):
    workspace = dict(WORKSPACE, app_scope_id=scope)
    doc = {"absolute_policies": list(absolute), "default_policies": list(default), "catch_all_action": catch_all}
    return WorkspaceFlows(workspace, doc, clusters or [], [ROOT, APP, WHOLE, PODS], FILTERS, inventory or INVENTORY,
                          services if services is not None else [DB_INPUT], enforced)


def verdict(evaluator, source, destination, service="tcp/27017", expect=None):
    def wrap(endpoint):
        return {"address": endpoint} if isinstance(endpoint, str) else endpoint

    return evaluator.evaluate(wrap(source), wrap(destination), parse_service(service), expect)


# ------------------------------------------------------------------ ordering


def test_absolute_policies_come_before_default_policies():
    # ref §6.1: GET /applications/{id}/policies answers absolute_policies, default_policies and
    # catch_all_action; ranks ABSOLUTE, DEFAULT, CATCH_ALL (ref §6.2, §14.6); DESIGN: absolute ->
    # default -> catch-all. A default allow at priority 1 loses to an absolute deny at priority 100.
    deny = policy("abs", "f-staging", "f-dbpods", action="DENY", rank="ABSOLUTE", priority=100)
    allow = policy("def", "f-staging", "f-dbpods", action="ALLOW", rank="DEFAULT", priority=1)
    result = verdict(flows(absolute=[deny], default=[allow], catch_all="ALLOW"), "10.244.2.30", "10.244.3.5")
    assert result.verdict == "deny"
    assert result.decisions[0].rule_id == "abs" and result.decisions[0].rule.startswith("ABSOLUTE staging -> db-pods DENY")
    assert [p["id"] for p in order_policies([deny], [allow])] == ["abs", "def"]


def test_the_catch_all_decides_only_when_no_policy_matches():
    # ref §6.1 catch_all_action; ref §5: a new workspace's catch-all is DENY.
    evaluator = flows(default=[policy("p", "f-env-or", "f-dbpods")])
    assert verdict(evaluator, "10.244.1.20", "10.244.3.5").verdict == "allow"
    result = verdict(evaluator, "10.244.2.30", "10.244.3.5")
    assert result.verdict == "deny" and result.decisions[0].rule == "catch-all" and result.decisions[0].default
    assert verdict(flows(default=[], catch_all="ALLOW"), "10.244.2.30", "10.244.3.5").verdict == "allow"


def test_within_a_rank_a_lower_priority_number_comes_first():
    # ref §6.2: priority is "used to sort policy"; the direction (lower first) is the assumption the
    # module's notes state. Listed in the other order, the priority-10 deny still wins over 20.
    allow = policy("allow20", "f-env-or", "f-dbpods", action="ALLOW", priority=20)
    deny = policy("deny10", "f-env-or", "f-dbpods", action="DENY", priority=10)
    result = verdict(flows(default=[allow, deny], catch_all="ALLOW"), "10.244.1.20", "10.244.3.5")
    assert result.verdict == "deny" and result.decisions[0].rule_id == "deny10"
    assert [p["id"] for p in order_policies([], [allow, deny])] == ["deny10", "allow20"]


def test_rank_beats_priority():
    # ref §6.2 (rank) and DESIGN (absolute -> default): an absolute policy at priority 500 precedes a default at 1.
    ordered = order_policies([{"id": "a", "priority": 500}], [{"id": "d", "priority": 1}])
    assert [p["id"] for p in ordered] == ["a", "d"]


def test_equal_rank_and_priority_keep_the_api_order_and_say_so():
    # Not in the reference (assumption in the notes): the order the API lists them decides, and the reason names the tie.
    allow = policy("first", "f-env-or", "f-dbpods", action="ALLOW", priority=50)
    deny = policy("second", "f-env-or", "f-dbpods", action="DENY", priority=50)
    result = verdict(flows(default=[allow, deny]), "10.244.1.20", "10.244.3.5")
    assert result.verdict == "allow" and result.decisions[0].rule_id == "first"
    assert "second" in result.reason and "same rank and priority" in result.reason


# ------------------------------------------------------------------ matching


def test_ports_and_protocol_come_from_l4_params():
    # ref §6.2: l4_params {proto (null = any), port [lo, hi] inclusive, only for 6 and 17}.
    assert l4_specs([{"proto": 6, "port": [1, 1024]}, {"proto": None}, {"proto": 1}]) == ["6/1:1024", "any", "1"]
    ranged = flows(default=[policy("p", "f-env-or", "f-dbpods", l4=[{"proto": 6, "port": [27000, 27100]}])])
    assert verdict(ranged, "10.244.1.20", "10.244.3.5", "tcp/27100").verdict == "allow"
    assert verdict(ranged, "10.244.1.20", "10.244.3.5", "tcp/27101").verdict == "deny"
    assert verdict(ranged, "10.244.1.20", "10.244.3.5", "udp/27017").verdict == "deny"
    anything = flows(default=[policy("p", "f-env-or", "f-dbpods", l4=[{"proto": None}])])
    assert verdict(anything, "10.244.1.20", "10.244.3.5", "any").verdict == "allow"
    icmp = flows(default=[policy("p", "f-env-or", "f-dbpods", l4=[{"proto": 1}])])
    assert verdict(icmp, "10.244.1.20", "10.244.3.5", "icmp/8/0").verdict == "allow"
    assert verdict(icmp, "10.244.1.20", "10.244.3.5", "any").verdict == "deny"
    # assumption (notes): a policy without l4_params matches nothing
    assert verdict(flows(default=[policy("p", "f-env-or", "f-dbpods", l4=[])]), "10.244.1.20", "10.244.3.5").verdict == "deny"


def test_the_consumer_needs_the_or_for_kubernetes_labelled_pods():
    # ref §11 (DOC-92250 worked example): consumer environment = production OR orchestrator_environment = production.
    only_env = flows(default=[policy("p", "f-env", "f-dbpods")])
    with_or = flows(default=[policy("p", "f-env-or", "f-dbpods")])
    assert verdict(only_env, "10.244.1.21", "10.244.3.5").verdict == "allow"  # user_environment
    result = verdict(only_env, "10.244.1.20", "10.244.3.5")  # Kubernetes label only
    assert result.verdict == "deny" and result.decisions[0].rule == "catch-all"
    assert verdict(with_or, "10.244.1.20", "10.244.3.5").verdict == "allow"
    assert verdict(with_or, "10.244.2.30", "10.244.3.5").verdict == "deny"  # staging


def test_scopes_and_clusters_are_consumers_and_providers():
    # ref §8 and DOC-92050: "any cluster, user defined filter or scope can be used"; a scope's query
    # is the conjunction with its parents (ref §3); the cluster's query is ANDed with the workspace
    # scope's query (assumption stated in the notes).
    cluster = {"id": "c-web", "name": "web-cluster", "query": {"type": "eq", "field": "user_orchestrator_app", "value": "web"}}
    evaluator = flows(default=[policy("p", "c-web", "app")], clusters=[cluster])
    assert verdict(evaluator, "10.244.1.20", "10.244.3.5").verdict == "allow"
    result = verdict(evaluator, "10.244.2.30", "10.244.3.5")  # a web pod outside the workspace scope
    assert result.verdict == "deny"
    assert verdict(evaluator, "10.244.1.20", "10.244.3.5").decisions[0].rule == "DEFAULT web-cluster -> Default:App ALLOW (priority 100)"
    with pytest.raises(FlowCheckError, match="not a scope, inventory filter or cluster"):
        flows(default=[policy("p", "gone", "app")])


def test_the_filter_grammar():
    # ref §2: eq, ne, lt, lte, gt, gte, in, regex, subnet, contains, range; and/or/not.
    one = {"ip": "10.1.2.3", "name": "Web-01", "n": 5}
    assert query_matches({"type": "subnet", "field": "ip", "value": "10.1.0.0/16"}, one)
    assert not query_matches({"type": "subnet", "field": "ip", "value": "fd00::/8"}, one)
    assert query_matches({"type": "ne", "field": "missing", "value": "x"}, one)
    assert query_matches({"type": "in", "field": "n", "values": [4, "5"]}, one)
    assert query_matches({"type": "range", "field": "ip", "value": "10.1.2.0-10.1.2.9"}, one)
    assert query_matches({"type": "range", "field": "n", "value": [1, 5]}, one)
    assert query_matches({"type": "contains", "field": "name", "value": "web"}, one)
    assert query_matches({"type": "regex", "field": "name", "value": "^Web-\\d+$"}, one)
    assert query_matches({"type": "not", "filter": {"type": "gt", "field": "n", "value": 7}}, one)
    assert query_matches({"type": "and", "filters": [{"type": "gte", "field": "n", "value": 5}, {"type": "lt", "field": "n", "value": 6}]}, one)
    assert not query_matches({"type": "eq", "field": "missing", "value": "x"}, one)


# ------------------------------------------------------------------ enforcement scope


def test_a_flow_outside_the_workspace_scope_is_not_governed():
    # DOC-92250 / K8SG (ref §11, §9.1): enforcement on a scope holding the whole cluster breaks it;
    # the policies apply to the workloads of the workspace's scope (assumption in the notes).
    app = flows(default=[policy("p", "f-env-or", "f-dbpods")])
    dns = verdict(app, "10.244.2.30", "10.244.0.10", "udp/53")
    assert dns.verdict == "allow" and dns.decisions[0].rule == "outside scope Default:App"
    api = verdict(app, "10.10.0.11", "10.10.0.2", "tcp/6443")
    assert api.verdict == "allow"
    whole = flows(default=[policy("p", "f-env-or", "f-dbpods")], scope="whole")
    broken = verdict(whole, "10.244.2.30", "10.244.0.10", "udp/53")
    assert broken.verdict == "deny" and broken.decisions[0].rule == "catch-all"
    assert verdict(whole, "10.10.0.11", "10.10.0.2", "tcp/6443").verdict == "deny"


def test_a_workspace_that_enforces_nothing_allows_everything():
    result = verdict(flows(default=[], enforced=False), "10.244.2.30", "10.244.3.5")
    assert result.verdict == "allow" and result.decisions[0].rule == "enforcement off"


# ------------------------------------------------------------------ Kubernetes Service providers


def test_the_four_generated_rules_of_the_guide():
    # ref §11: NodePort service db (27017, node port 30017): consumers -> every node on the node port;
    # consumer pods -> cluster IP on 27017; nodes -> provider pods and consumers -> provider pods on
    # the target port (k8s_render, the renderer this module reuses).
    evaluator = flows(default=[policy("p", "f-env-or", "f-db")])
    labels = [rule.label for rule in evaluator.rules if rule.generated]
    assert len(labels) == 4, labels
    cases = [
        ("10.244.1.20", "10.10.0.11", "tcp/30017", "consumers -> nodes tcp/30017"),
        ("10.244.1.20", "10.96.0.27", "tcp/27017", "consumer pods -> cluster IP tcp/27017"),
        ("10.244.1.20", "10.244.3.5", "tcp/27017", "consumers -> provider pods tcp/27017"),
        ("10.10.0.12", "10.244.3.6", "tcp/27017", "nodes -> provider pods tcp/27017"),
    ]
    for source, destination, service, generated in cases:
        result = verdict(evaluator, source, destination, service)
        assert result.verdict == "allow", (source, destination, result.reason)
        assert generated in result.decisions[0].rule and result.decisions[0].rule_id == "p"
    # a consumer host outside the scope to a node (outside too): not governed by the workspace
    assert verdict(evaluator, "10.20.0.21", "10.10.0.12", "tcp/30017").decisions[0].rule == "outside scope Default:App"
    # the node port is not the service port, and a non-consumer gets none of the rules
    assert verdict(evaluator, "10.244.1.20", "10.96.0.27", "tcp/30017").verdict == "deny"
    assert verdict(evaluator, "10.244.2.30", "10.96.0.27", "tcp/27017").verdict == "deny"
    assert verdict(evaluator, "10.244.2.30", "10.244.3.5", "tcp/27017").verdict == "deny"


def test_a_flow_to_the_cluster_ip_must_also_pass_to_the_pods_after_translation():
    # ref §11 / K8SG: pod -> ClusterIP is consumer egress to the cluster IP, then (after DNAT) the
    # provider pod's ingress from the consumer on the pod address. An absolute deny on the pods wins.
    deny = policy("deny-pods", "f-env-or", "f-dbpods", action="DENY", rank="ABSOLUTE", priority=1)
    evaluator = flows(absolute=[deny], default=[policy("p", "f-env-or", "f-db")])
    result = verdict(evaluator, "10.244.1.20", "10.96.0.27")
    assert result.verdict == "deny" and result.decisions[0].rule_id == "deny-pods"
    assert result.reason.startswith("after translation to pod db-0 (10.244.3.5) on tcp/27017")
    staging = verdict(flows(default=[policy("p", "f-env-or", "f-db")], scope="pods"), "10.244.2.30", "10.96.0.27")
    assert staging.verdict == "deny" and staging.decisions[0].rule == "catch-all" and staging.reason.startswith("after translation to pod db-0")
    allowed = verdict(flows(default=[policy("p", "f-env-or", "f-db")]), "10.244.1.20", "10.96.0.27")
    assert allowed.verdict == "allow" and "every pod of the service after translation" in allowed.reason
    # a cluster IP outside the scope, pods inside: the pods' policy is reported as the deciding one
    result = verdict(flows(default=[policy("p", "f-env-or", "f-db")], scope="pods"), "10.20.0.21", "10.96.0.27")
    assert result.verdict == "allow" and result.decisions[0].rule_id == "p" and "consumers -> provider pods" in result.decisions[0].rule
    assert result.reason.startswith("after translation to pod db-0 (10.244.3.5) on tcp/27017")
    staging = verdict(flows(default=[policy("p", "f-env-or", "f-db")], scope="pods"), "10.244.2.30", "10.96.0.27")
    assert staging.verdict == "deny" and staging.decisions[0].rule == "catch-all" and staging.reason.startswith("after translation to pod db-0")


def test_a_selected_service_without_its_input_is_an_error():
    with pytest.raises(FlowCheckError, match="Kubernetes service prod/db as provider: give its Service, endpoints and nodes in kubernetes_services"):
        flows(default=[policy("p", "f-env-or", "f-db")], services=[])


def test_a_port_the_service_does_not_expose_generates_nothing():
    evaluator = flows(default=[policy("p", "f-env-or", "f-db", l4=[{"proto": 6, "port": [27017, 27017]}, {"proto": 6, "port": [8080, 8080]}])])
    assert len([r for r in evaluator.rules if r.generated]) == 4


# ------------------------------------------------------------------ endpoints


def test_labels_endpoints_need_every_workload_to_get_the_verdict():
    evaluator = flows(default=[policy("p", "f-env", "f-dbpods")])
    production = {"labels": {"user_orchestrator_system/namespace": "prod", "user_orchestrator_system/workload_type": "pod"}}
    db = {"labels": {"user_orchestrator_app": "db"}}
    # reports-0 (user_environment) is allowed, web-0 and the db pods (Kubernetes label only) are not
    expecting_allow = evaluator.evaluate(production, db, parse_service("tcp/27017"), "allow")
    assert expecting_allow.verdict == "deny"
    assert expecting_allow.reason.startswith("6 of 8 workload pairs get deny, e.g. db-0 (10.244.3.5) -> db-0 (10.244.3.5)"), expecting_allow.reason
    expecting_deny = evaluator.evaluate(production, db, parse_service("tcp/27017"), "deny")
    assert expecting_deny.verdict == "allow" and "reports-0" in expecting_deny.reason
    with pytest.raises(FlowCheckError, match="no inventory workload matches the endpoint's labels user_orchestrator_app=nothing"):
        evaluator.evaluate({"labels": {"user_orchestrator_app": "nothing"}}, db, parse_service("tcp/27017"))


def test_scope_and_filter_endpoints_and_unknown_addresses():
    evaluator = flows(default=[policy("p", "f-env-or", "f-dbpods")])
    assert evaluator.evaluate({"filter": "production-any"}, {"scope": "Default:App"}, parse_service("tcp/27017"), "allow").verdict == "deny"
    assert len(evaluator.workloads({"filter": "db-pods"})) == 2
    assert evaluator.workloads({"address": "192.0.2.1"}) == [{"ip": "192.0.2.1"}]
    in_vrf = WorkspaceFlows(WORKSPACE, {}, [], [ROOT, dict(APP, vrf_id=1)], FILTERS, INVENTORY, [], True)
    assert in_vrf.workloads({"address": "192.0.2.1"}) == [{"ip": "192.0.2.1", "vrf_id": 1}]
    with pytest.raises(FlowCheckError, match="no scope is named Default:Nope"):
        evaluator.workloads({"scope": "Default:Nope"})
