"""External orchestrators (``/orchestrator/{rootScopeName}`` and ``/orchestrator/{rootScopeName}/{id}``).

Body fields are the ones the public sources show. The Kubernetes service-account token field is
not public: the lab takes ``auth_token`` (lab choice). Secrets (``password``, ``key``,
``aws_secret_access_key``, ``auth_token``) are write-only: stored, never returned. PUT is partial.

Like the product's connector, a Kubernetes orchestrator with a token is put to use at once: the lab
reads the cluster's nodes, pods and services from the first API server of ``hosts_list`` with the
token (TLS checked against ``ca_certificate`` unless ``insecure``), and imports its nodes, pods and
services (one item per cluster IP, ``workload_type`` ``service``) into the inventory with
``user_orchestrator_system/*`` labels. It only ever contacts a loopback
address. What happened is on the admin route ``GET /_lab/secure_workload/orchestrators``.
"""

from __future__ import annotations

import ipaddress
import json
import ssl
import time
import urllib.error
import urllib.request

from .errors import invalid, not_found
from .fields import Call, boolean, choice, integer, text
from .model import Model
from .store import new_id, now

SUCCESS = {"success": True}
TYPES = ("kubernetes", "vcenter", "aws", "f5", "netscaler", "nsbalancer", "infoblox")
NEEDS_HOSTS = ("kubernetes", "vcenter", "f5", "netscaler", "nsbalancer", "infoblox")
SECRETS = ("password", "key", "aws_secret_access_key", "auth_token")
STRINGS = ("description", "username", "certificate", "ca_certificate", "aws_region", "aws_access_key_id")
BOOLEANS = {"insecure": False, "verbose_tsdb_metrics": False, "use_secureconnector_tunnel": False, "enable_enforcement": False}
INTEGERS = {"delta_interval": (60, 1, 86400), "full_snapshot_interval": (3600, 1, 604800), "kubelet_port": (None, 1, 65535)}
SYNC_TIMEOUT = 5


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def read_cluster(doc: dict) -> dict:
    """Nodes, pods and services of the orchestrator's cluster, read with its token (loopback API servers only)."""
    hosts = doc.get("hosts_list") or []
    token = (doc.get("secrets") or {}).get("auth_token")
    result = {"at": int(time.time()), "ok": False}
    if not hosts or not token:
        result["error"] = "no API server or no auth_token: nothing was read"
        return result
    host, port = hosts[0]["host_name"], hosts[0]["port_number"]
    if not _loopback(host):
        result["error"] = "the lab contacts loopback API servers only, not %s" % host
        return result
    context = ssl.create_default_context()
    if doc.get("insecure"):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif doc.get("ca_certificate"):
        context = ssl.create_default_context(cadata=doc["ca_certificate"])
    base = "https://%s:%d" % (host if ":" not in host.strip("[]") else "[%s]" % host.strip("[]"), port)
    found = {}
    try:
        for kind in ("nodes", "pods", "services"):
            request = urllib.request.Request("%s/api/v1/%s" % (base, kind), headers={"Authorization": "Bearer " + token})
            with urllib.request.urlopen(request, timeout=SYNC_TIMEOUT, context=context) as answer:  # noqa: S310 (loopback only)
                found[kind] = json.loads(answer.read()).get("items") or []
    except urllib.error.HTTPError as exc:
        result["error"] = "%s answered %d to %s" % (base, exc.code, exc.url)
        return result
    except (urllib.error.URLError, OSError, ValueError) as exc:
        result["error"] = "%s: %s" % (base, getattr(exc, "reason", exc))
        return result
    result["ok"] = True
    result["nodes"] = [n["metadata"]["name"] for n in found["nodes"]]
    result["pods"] = len(found["pods"])
    result["services"] = sorted("%s/%s" % (s["metadata"]["namespace"], s["metadata"]["name"]) for s in found["services"])
    result["_items"] = found
    return result


def inventory_of(doc: dict, found: dict, base: dict) -> list[dict]:
    """Inventory entries for a cluster's nodes, pods and services, labelled as the connector labels them."""
    cluster = doc["name"]
    common = dict(base, os="linux", **{"user_orchestrator_system/orch_type": "kubernetes",
                                       "user_orchestrator_system/cluster_name": cluster})
    items = []
    for node in found.get("nodes", []):
        addresses = [a["address"] for a in node.get("status", {}).get("addresses", []) if a.get("type") == "InternalIP"]
        for ip in addresses[:1]:
            items.append(dict(common, ip=ip, host_name=node["metadata"]["name"], **{
                "user_orchestrator_system/workload_type": "node", "user_orchestrator_system/node_name": node["metadata"]["name"]}))
    for pod in found.get("pods", []):
        ip = pod.get("status", {}).get("podIP")
        if not ip or pod.get("spec", {}).get("hostNetwork"):
            continue
        labels = {"user_orchestrator_%s" % key: value for key, value in (pod["metadata"].get("labels") or {}).items()}
        items.append(dict(common, ip=ip, host_name=pod.get("spec", {}).get("nodeName") or "", **dict(labels, **{
            "user_orchestrator_system/workload_type": "pod", "user_orchestrator_system/namespace": pod["metadata"]["namespace"],
            "user_orchestrator_system/pod_name": pod["metadata"]["name"]})))
    # Service abstractions (the providers Secure Workload expands into rules): one item per cluster IP.
    for service in found.get("services", []):
        spec = service.get("spec") or {}
        addresses = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
        labels = {"user_orchestrator_%s" % key: value for key, value in (service["metadata"].get("labels") or {}).items()}
        for ip in addresses:
            if ip and ip != "None":
                items.append(dict(common, ip=ip, **dict(labels, **{
                    "user_orchestrator_system/workload_type": "service", "user_orchestrator_system/namespace": service["metadata"]["namespace"],
                    "user_orchestrator_system/service_name": service["metadata"]["name"]})))
    return items


class Orchestrators:
    def __init__(self, model: Model, inventory=None) -> None:
        self.m = model
        self.store = model.store
        # the lab's inventory (agents.Agents) into which a connected cluster's workloads are imported
        self.inventory = inventory
        self.syncs = {}

    def _connect(self, doc: dict) -> None:
        if doc["type"] != "kubernetes":
            return
        result = read_cluster(doc)
        found = result.pop("_items", None)
        self.syncs[doc["id"]] = dict(result, name=doc["name"])
        if found is not None and self.inventory is not None:
            kept = [i for i in self.inventory.inventory if i.get("user_orchestrator_system/cluster_name") != doc["name"]]
            base = {k: v for k, v in (kept[0] if kept else {}).items() if k in ("vrf_id", "vrf_name", "address_type")}
            self.inventory.inventory = kept + inventory_of(doc, found, base)

    def admin_status(self) -> list[dict]:
        return [dict(v, id=k) for k, v in sorted(self.syncs.items())]

    def routes(self) -> list:
        return [
            ("GET", "/orchestrator/{scope}", self.list_orchestrators),
            ("POST", "/orchestrator/{scope}", self.create_orchestrator),
            ("GET", "/orchestrator/{scope}/{id}", self.get_orchestrator),
            ("PUT", "/orchestrator/{scope}/{id}", self.update_orchestrator),
            ("DELETE", "/orchestrator/{scope}/{id}", self.delete_orchestrator),
        ]

    def _root(self, call: Call) -> dict:
        name = call.params["scope"]
        for scope in self.store.all("scope"):
            if not scope.get("parent_app_scope_id") and scope["short_name"] == name:
                return scope
        raise not_found("root scope", name)

    def _orchestrator(self, call: Call) -> dict:
        root = self._root(call)
        doc = self.store.get("orchestrator", call.params["id"])
        if doc is None or doc["root_app_scope_id"] != root["id"]:
            raise not_found("orchestrator", "%s in root scope %s" % (call.params["id"], root["short_name"]))
        return doc

    @staticmethod
    def render(doc: dict) -> dict:
        out = {"id": doc["id"], "name": doc["name"], "type": doc["type"], "hosts_list": doc.get("hosts_list") or []}
        for key in STRINGS:
            out[key] = doc.get(key)
        for key in BOOLEANS:
            out[key] = doc[key]
        for key in INTEGERS:
            out[key] = doc.get(key)
        if doc.get("services") is not None:
            out["services"] = doc["services"]
        out.update({"created_at": doc["created_at"], "updated_at": doc["updated_at"]})
        return out

    def _fields(self, body: dict, doc: dict, creating: bool) -> dict:
        name = text(body, "name", required=creating)
        kind = choice(body, "type", TYPES, required=creating)
        if kind is not None and not creating and kind != doc["type"]:
            raise invalid("the type of an orchestrator cannot be changed (%s)" % doc["type"])
        if name is not None:
            doc["name"] = name
        if kind is not None:
            doc["type"] = kind
        for key in STRINGS:
            value = text(body, key, empty=True, maximum=65536)
            if value is not None:
                doc[key] = value
        for key in SECRETS:
            value = text(body, key, empty=True, maximum=65536)
            if value is not None:
                doc.setdefault("secrets", {})[key] = value
        for key, default in BOOLEANS.items():
            doc[key] = boolean(body, key, doc.get(key, default))
        for key, (default, low, high) in INTEGERS.items():
            doc[key] = integer(body, key, doc.get(key, default), minimum=low, maximum=high)
        if "hosts_list" in body:
            hosts = body["hosts_list"]
            if not isinstance(hosts, list):
                raise invalid("hosts_list must be a list of {\"host_name\", \"port_number\"} objects")
            checked = []
            for index, host in enumerate(hosts):
                where = "hosts_list[%d]" % index
                if not isinstance(host, dict):
                    raise invalid("%s must be an object" % where)
                host_name = text(host, "host_name", required=True)
                port = integer(host, "port_number", required=True, minimum=1, maximum=65535)
                checked.append({"host_name": host_name, "port_number": port})
            doc["hosts_list"] = checked
        if "services" in body:
            if body["services"] is not None and not isinstance(body["services"], list):
                raise invalid("services must be a list")
            doc["services"] = body["services"]
        if doc["type"] in NEEDS_HOSTS and not doc.get("hosts_list"):
            raise invalid("hosts_list needs at least one {\"host_name\", \"port_number\"} for a %s orchestrator" % doc["type"])
        return doc

    def _unique(self, root: dict, name: str, itself: str | None = None) -> None:
        for other in self.store.where("orchestrator", root_app_scope_id=root["id"]):
            if other["name"] == name and other["id"] != itself:
                raise invalid("an orchestrator named %r already exists in root scope %s" % (name, root["short_name"]))

    def list_orchestrators(self, call: Call):
        root = self._root(call)
        return [self.render(o) for o in self.store.where("orchestrator", root_app_scope_id=root["id"])]

    def get_orchestrator(self, call: Call):
        return self.render(self._orchestrator(call))

    def create_orchestrator(self, call: Call):
        root = self._root(call)
        stamp = now()
        doc = self._fields(call.body(), {"id": new_id(), "root_app_scope_id": root["id"], "created_at": stamp, "updated_at": stamp}, True)
        self._unique(root, doc["name"])
        stored = self.store.put("orchestrator", doc)
        self._connect(doc)
        return self.render(stored)

    def update_orchestrator(self, call: Call):
        current = self._orchestrator(call)
        doc = self._fields(call.body(), self.store.copy(current), False)
        self._unique(self._root(call), doc["name"], doc["id"])
        doc["updated_at"] = now()
        stored = self.store.put("orchestrator", doc)
        self._connect(doc)
        return self.render(stored)

    def delete_orchestrator(self, call: Call):
        doc = self._orchestrator(call)
        self.store.delete("orchestrator", doc["id"])
        self.syncs.pop(doc["id"], None)
        if self.inventory is not None and doc["type"] == "kubernetes":
            self.inventory.inventory = [i for i in self.inventory.inventory
                                        if i.get("user_orchestrator_system/cluster_name") != doc["name"]]
        return SUCCESS
