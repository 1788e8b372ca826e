"""The workloads NSX knows about: Kubernetes pods (as NCP plugs them) and virtual machines.

Group membership is computed from this inventory. Each pod becomes a Manager logical port and a
Policy segment port tagged the way NCP tags pod ports: ``ncp/cluster``, ``ncp/project`` (the
namespace name), ``ncp/pod`` and one ``{"scope": <label key>, "tag": <label value>}`` per pod
label. Ports of one namespace sit on the segment ``<cluster>-<namespace>``. VMs carry their own tags
and addresses. ``PUT /_lab/nsxt/inventory`` replaces the document, ``GET`` returns it.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass

from .validate import TAG_MAX, TAG_SCOPE_MAX, TAG_VALUE_MAX, single_ip

DEFAULT_CLUSTER = "lab-cluster"
HOST_ID = "6c3f5b9e-0d7e-4d8a-9a51-2f0c1e7b4a10"
_NS = uuid.UUID("3a1d7c52-6f0e-4b8e-9c2d-5e4f3a2b1c0d")

# The workload-isolation guide's cluster: each service is a Deployment of two replicas, so two pods
# per service, labelled app=<service> (and pod-template-hash, as a Deployment labels its pods).
# The first replica of each keeps the address the one-pod inventory had.
_REPLICAS = (
    ("service-a", "x1", "6d5f8c7b9", (("4kx2p", "10.244.1.10"), ("9wq7m", "10.244.1.11"))),
    ("service-b", "y1", "7c9d5b8f4", (("2xkqp", "10.244.2.10"), ("h5v8n", "10.244.2.11"))),
    ("service-c", "z1", "5b7f9d6c8", (("m2j4t", "10.244.3.10"), ("r7c3w", "10.244.3.12"))),
    ("service-d", "z1", "8f6c4d9b7", (("t9n6x", "10.244.3.11"), ("z3p8k", "10.244.3.13"))),
)
DEFAULT_DOCUMENT = {
    "cluster": DEFAULT_CLUSTER,
    "pods": [{"name": "%s-%s-%s" % (service, template, suffix), "namespace": namespace,
              "labels": {"app": service, "pod-template-hash": template}, "ip": ip}
             for service, namespace, template, pods in _REPLICAS for suffix, ip in pods],
    "vms": [],
}
MAX_POD_LABELS = 25


class InventoryError(ValueError):
    pass


@dataclass(frozen=True)
class Port:
    id: str
    display_name: str
    namespace: str
    pod: str
    tags: tuple
    ips: tuple
    segment_id: str

    @property
    def segment_path(self) -> str:
        return "/infra/segments/" + self.segment_id

    @property
    def path(self) -> str:
        return "%s/ports/%s" % (self.segment_path, self.id)


@dataclass(frozen=True)
class Vm:
    external_id: str
    display_name: str
    tags: tuple
    ips: tuple
    local_id: str


def _text(value, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise InventoryError("%s must be a non-empty string" % what)
    return value


def _keys(item: dict, allowed: set, what: str) -> None:
    unknown = set(item) - allowed
    if unknown:
        raise InventoryError("%s: unknown keys %s" % (what, ", ".join(sorted(unknown))))


class Inventory:
    def __init__(self, document: dict | None = None) -> None:
        self.document = self._normalise(DEFAULT_DOCUMENT if document is None else document)
        cluster = self.document["cluster"]
        self.ports: list[Port] = []
        for pod in self.document["pods"]:
            tags = [("ncp/cluster", cluster), ("ncp/project", pod["namespace"]), ("ncp/pod", pod["name"])]
            tags += list(pod["labels"].items())
            ident = str(uuid.uuid5(_NS, "port/%s/%s/%s" % (cluster, pod["namespace"], pod["name"])))
            self.ports.append(Port(ident, "%s/%s" % (pod["namespace"], pod["name"]), pod["namespace"], pod["name"],
                                   tuple(tags), (pod["ip"],), "%s-%s" % (cluster, pod["namespace"])))
        self.vms: list[Vm] = []
        for index, vm in enumerate(self.document["vms"]):
            tags = tuple((t["scope"], t["tag"]) for t in vm["tags"])
            self.vms.append(Vm(vm["external_id"], vm["name"], tags, tuple(vm["ips"]), str(index + 1)))
        self.ports_by_id = {p.id: p for p in self.ports}
        self.ports_by_path = {p.path: p for p in self.ports}
        self.segments: dict[str, list[Port]] = {}
        for port in self.ports:
            self.segments.setdefault(port.segment_path, []).append(port)
        self.vms_by_id = {v.external_id: v for v in self.vms}

    @staticmethod
    def _normalise(document) -> dict:
        if not isinstance(document, dict):
            raise InventoryError("the inventory must be an object with pods and vms")
        _keys(document, {"cluster", "pods", "vms"}, "inventory")
        cluster = _text(document.get("cluster", DEFAULT_CLUSTER), "cluster")
        pods, vms = document.get("pods", []), document.get("vms", [])
        if not isinstance(pods, list) or not isinstance(vms, list):
            raise InventoryError("pods and vms must be lists")
        out_pods, seen = [], set()
        for index, pod in enumerate(pods):
            what = "pods[%d]" % index
            if not isinstance(pod, dict):
                raise InventoryError("%s must be an object" % what)
            _keys(pod, {"name", "namespace", "labels", "ip"}, what)
            name, namespace = _text(pod.get("name"), what + ".name"), _text(pod.get("namespace"), what + ".namespace")
            if (namespace, name) in seen:
                raise InventoryError("%s: pod %s/%s is listed twice" % (what, namespace, name))
            seen.add((namespace, name))
            labels = pod.get("labels") or {}
            if not isinstance(labels, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
                raise InventoryError("%s.labels must map strings to strings" % what)
            if len(labels) > MAX_POD_LABELS:
                raise InventoryError("%s: a pod can have no more than %d labels" % (what, MAX_POD_LABELS))
            if any(len(k) > TAG_SCOPE_MAX or len(v) > TAG_VALUE_MAX for k, v in labels.items()):
                raise InventoryError("%s: label keys are limited to %d and values to %d characters" % (what, TAG_SCOPE_MAX, TAG_VALUE_MAX))
            if not single_ip(pod.get("ip")):
                raise InventoryError("%s.ip must be an IP address" % what)
            out_pods.append({"name": name, "namespace": namespace, "labels": dict(labels), "ip": pod["ip"]})
        out_vms, seen_ids = [], set()
        for index, vm in enumerate(vms):
            what = "vms[%d]" % index
            if not isinstance(vm, dict):
                raise InventoryError("%s must be an object" % what)
            _keys(vm, {"name", "external_id", "tags", "ips"}, what)
            name = _text(vm.get("name"), what + ".name")
            external_id = vm.get("external_id") or str(uuid.uuid5(_NS, "vm/" + name))
            _text(external_id, what + ".external_id")
            if external_id in seen_ids:
                raise InventoryError("%s: external_id %s is used twice" % (what, external_id))
            seen_ids.add(external_id)
            tags = vm.get("tags") or []
            if not isinstance(tags, list) or len(tags) > TAG_MAX:
                raise InventoryError("%s.tags must be a list of at most %d tags" % (what, TAG_MAX))
            out_tags = []
            for tag in tags:
                if not isinstance(tag, dict) or set(tag) - {"scope", "tag"}:
                    raise InventoryError("%s.tags items are {scope, tag} objects" % what)
                scope, value = tag.get("scope", ""), tag.get("tag", "")
                if not isinstance(scope, str) or not isinstance(value, str):
                    raise InventoryError("%s.tags: scope and tag must be strings" % what)
                out_tags.append({"scope": scope, "tag": value})
            ips = vm.get("ips") or []
            if not isinstance(ips, list) or not all(single_ip(ip) for ip in ips):
                raise InventoryError("%s.ips must be a list of IP addresses" % what)
            out_vms.append({"name": name, "external_id": external_id, "tags": out_tags, "ips": list(ips)})
        return {"cluster": cluster, "pods": out_pods, "vms": out_vms}

    def to_document(self) -> dict:
        return copy.deepcopy(self.document)

    # ------------------------------------------------------------ wire renderings

    @staticmethod
    def port_reference(port: Port) -> dict:
        return {"target_id": port.id, "target_type": "LogicalPort", "target_display_name": port.display_name, "is_valid": True}

    @staticmethod
    def port_member(port: Port) -> dict:
        return {"id": port.id, "display_name": port.display_name, "path": port.path}

    @staticmethod
    def _compute_ids(vm: Vm) -> list[str]:
        return ["moIdOnHost:vm-%s" % vm.local_id, "instanceUuid:%s" % vm.external_id,
                "biosUuid:%s" % uuid.uuid5(_NS, "bios/" + vm.external_id)]

    def manager_vm(self, vm: Vm) -> dict:
        return {
            "resource_type": "VirtualMachine", "id": vm.external_id, "external_id": vm.external_id,
            "display_name": vm.display_name, "tags": [{"scope": s, "tag": t} for s, t in vm.tags],
            "power_state": "VM_RUNNING", "local_id_on_host": vm.local_id, "host_id": HOST_ID, "type": "REGULAR",
            "compute_ids": self._compute_ids(vm),
            "source": {"target_id": HOST_ID, "target_type": "HostNode", "target_display_name": "lab-esx-01", "is_valid": True},
        }

    def realized_vm(self, vm: Vm) -> dict:
        return {
            "resource_type": "RealizedVirtualMachine", "id": vm.external_id, "display_name": vm.display_name,
            "path": "/infra/realized-state/enforcement-points/default/virtual-machines/" + vm.external_id,
            "state": "REALIZED", "power_state": "VM_RUNNING", "local_id_on_host": vm.local_id, "host_id": HOST_ID,
            "compute_ids": self._compute_ids(vm), "tags": [{"scope": s, "tag": t} for s, t in vm.tags],
        }
