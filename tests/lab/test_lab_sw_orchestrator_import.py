"""The lab's Kubernetes connector: what it imports into the inventory from a cluster's objects (no cluster needed)."""

from __future__ import annotations

import sys

from lab_helpers import ROOT

sys.path.insert(0, str(ROOT / "lab"))

from microseg_lab.secure_workload.orchestrators import inventory_of  # noqa: E402

FOUND = {
    "nodes": [{"metadata": {"name": "n1"}, "status": {"addresses": [{"type": "InternalIP", "address": "192.0.2.10"}]}}],
    "pods": [
        {"metadata": {"name": "db-0", "namespace": "prod", "labels": {"app": "db", "environment": "production"}},
         "spec": {"nodeName": "n1"}, "status": {"podIP": "10.244.0.5"}},
        {"metadata": {"name": "proxy", "namespace": "kube-system"}, "spec": {"hostNetwork": True}, "status": {"podIP": "192.0.2.10"}},
    ],
    "services": [
        {"metadata": {"name": "db", "namespace": "prod", "labels": {"app": "db"}}, "spec": {"clusterIP": "10.96.0.27", "clusterIPs": ["10.96.0.27"]}},
        {"metadata": {"name": "headless", "namespace": "prod"}, "spec": {"clusterIP": "None"}},
    ],
}


def test_nodes_pods_and_services_are_imported_with_orchestrator_labels():
    items = inventory_of({"name": "c1"}, FOUND, {"vrf_id": 1})
    by_type = {}
    for item in items:
        assert item["user_orchestrator_system/cluster_name"] == "c1" and item["vrf_id"] == 1
        by_type.setdefault(item["user_orchestrator_system/workload_type"], []).append(item)
    assert [n["ip"] for n in by_type["node"]] == ["192.0.2.10"]
    # host-network pods are the node itself; the pod's Kubernetes labels become user_orchestrator_<label>
    assert [(p["user_orchestrator_system/pod_name"], p["user_orchestrator_environment"]) for p in by_type["pod"]] == [("db-0", "production")]
    # one service item per cluster IP (a headless Service has none), as Secure Workload's service abstractions
    assert [(s["user_orchestrator_system/service_name"], s["user_orchestrator_system/namespace"], s["ip"], s["user_orchestrator_app"])
            for s in by_type["service"]] == [("db", "prod", "10.96.0.27", "db")]
