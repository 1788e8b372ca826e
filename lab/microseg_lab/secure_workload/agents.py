"""Agent configuration: config profiles (``/inventory_config/profiles``), config intents
(``/inventory_config/intents``), sensors (``/sensors``) and the inventory search
(``POST /inventory/search``), the last two paginated as ``{"results": [...], "offset": ...}``.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json

from .errors import SwError, bad_request, in_use, invalid, not_found
from .fields import Call, boolean, integer, text
from .model import Model
from .query import QueryError, matches, validate
from .store import new_id, now

SUCCESS = {"success": True}
MIB = 1024 * 1024
DEFAULT_PROFILE = "Default"
DEFAULT_PAGE = 100
# The lab's own bound on ``limit`` (GET /sensors, POST /inventory/search), not a documented one: the
# reference documents no maximum page size for Secure Workload (only that the vendor's Ansible modules ask for 100).
MAX_PAGE = 5000

# Switches of a profile and the values of the built-in Default profile (lab choice: the defaults
# other than allow_broadcast/allow_multicast/allow_link_local are not public).
BOOLEANS = {
    "allow_broadcast": True, "allow_link_local": True, "allow_multicast": True, "auto_upgrade_opt_out": False,
    "data_plane_disabled": False, "enable_conversation_flows": False, "enable_dns": False, "enable_forensics": False,
    "enable_meltdown": False, "enable_pid_lookup": False, "enforcement_disabled": True, "preserve_existing_rules": False,
}
# CPU quota modes: 0 disabled, 1 adjusted, 2 top.
MODES = {"cpu_quota_mode": 1, "enforcement_cpu_quota_mode": 1, "forensics_cpu_quota_mode": 1}
# (percent field, microseconds field, default percent); 10000 us = 1 %.
CPU_QUOTAS = (("cpu_quota_pct", "cpu_quota_us", 3), ("enforcement_cpu_quota_pct", "enforcement_cpu_quota_us", 3),
              ("forensics_cpu_quota_pct", "forensics_cpu_quota_us", 3))
# (bytes field, MB field, lowest MB, highest MB, default MB).
MEMORY_LIMITS = (("max_rss_limit", "max_rss_limit_mb", 200, 2048, 512),
                 ("enforcement_max_rss_limit", "enforcement_max_rss_limit_mb", 128, 2048, 256),
                 ("forensics_mem_quota_bytes", "forensics_mem_quota_mb", 128, 2048, 512))


def default_settings() -> dict:
    settings = dict(BOOLEANS)
    settings.update(MODES)
    for pct, micro, value in CPU_QUOTAS:
        settings[pct] = value
        settings[micro] = value * 10000
    for in_bytes, in_mb, _low, _high, value in MEMORY_LIMITS:
        settings[in_bytes] = value * MIB
        settings[in_mb] = value
    return settings


def apply_settings(body: dict, settings: dict) -> dict:
    """Validate the profile switches present in ``body`` and apply them to ``settings`` (a copy)."""
    out = dict(settings)
    for key in BOOLEANS:
        value = boolean(body, key)
        if value is not None:
            out[key] = value
    for key in MODES:
        value = integer(body, key, minimum=0, maximum=2)
        if value is not None:
            out[key] = value
    for pct_key, us_key, _default in CPU_QUOTAS:
        pct = integer(body, pct_key, minimum=1, maximum=100)
        micro = integer(body, us_key, minimum=10000, maximum=1000000)
        if pct is not None and micro is not None and micro != pct * 10000:
            raise invalid("%s %d and %s %d disagree (10000 us = 1 %%); give one of them" % (pct_key, pct, us_key, micro))
        if pct is not None:
            out[pct_key], out[us_key] = pct, pct * 10000
        elif micro is not None:
            out[pct_key], out[us_key] = max(1, micro // 10000), micro
    for bytes_key, mb_key, low, high, _default in MEMORY_LIMITS:
        in_bytes = integer(body, bytes_key, minimum=low * MIB, maximum=high * MIB)
        in_mb = integer(body, mb_key, minimum=low, maximum=high)
        if in_bytes is not None and in_mb is not None and in_bytes != in_mb * MIB:
            raise invalid("%s %d and %s %d disagree; give one of them" % (bytes_key, in_bytes, mb_key, in_mb))
        if in_mb is not None:
            out[bytes_key], out[mb_key] = in_mb * MIB, in_mb
        elif in_bytes is not None:
            out[bytes_key], out[mb_key] = in_bytes, in_bytes // MIB
    return out


# ---------------------------------------------------------------- pagination


def encode_offset(index: int) -> str:
    """An opaque continuation token (clients must send back what they received)."""
    return base64.urlsafe_b64encode(json.dumps({"next": index}).encode()).decode().rstrip("=")


def decode_offset(token) -> int:
    if token is None or token == "":
        return 0
    try:
        raw = str(token)
        decoded = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        index = decoded["next"]
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise ValueError(index)
        return index
    except (ValueError, TypeError, KeyError, binascii.Error):
        raise bad_request("offset %r is not an offset returned by a previous page" % (token,)) from None


def page(items: list, limit, token) -> dict:
    if limit is None:
        limit = DEFAULT_PAGE
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise bad_request("limit must be an integer from 1 to %d" % MAX_PAGE)
    start = decode_offset(token)
    out = {"results": items[start:start + limit]}
    if start + limit < len(items):
        out["offset"] = encode_offset(start + limit)  # absent on the last page
    return out


# ---------------------------------------------------------------- the lab inventory

NODES = (("lab-node-1", "10.10.0.11"), ("lab-node-2", "10.10.0.12"), ("lab-node-3", "10.10.0.13"))
PODS = (("service-a", "x1", "10.244.1.10", "lab-node-1"), ("service-b", "y1", "10.244.2.10", "lab-node-2"),
        ("service-c", "z1", "10.244.3.10", "lab-node-3"), ("service-d", "z1", "10.244.3.11", "lab-node-3"))
HOSTS = (("lab-db-1", "10.20.0.21"), ("lab-web-1", "10.20.0.22"))
CLUSTER = "lab-cluster"
# The Secure Workload Kubernetes guide's cluster (seed 003): the application's pods in namespace prod,
# labelled production either in Kubernetes (imported as user_orchestrator_environment) or by a user
# annotation (user_environment); a staging pod; the cluster DNS in kube-system; the Services the
# connector imports (workload_type service, their cluster IP as address); the API server's address.
# (pod, namespace, ip, node, labels)
GUIDE_PODS = (
    ("db-0", "prod", "10.244.3.5", "lab-node-3", {"user_orchestrator_app": "db", "user_orchestrator_environment": "production"}),
    ("db-1", "prod", "10.244.3.6", "lab-node-3", {"user_orchestrator_app": "db", "user_orchestrator_environment": "production"}),
    ("web-0", "prod", "10.244.1.20", "lab-node-1", {"user_orchestrator_app": "web", "user_orchestrator_environment": "production"}),
    ("web-1", "prod", "10.244.2.20", "lab-node-2", {"user_orchestrator_app": "web", "user_orchestrator_environment": "production"}),
    ("reports-0", "prod", "10.244.1.21", "lab-node-1", {"user_orchestrator_app": "reports", "user_environment": "production"}),
    ("web-staging-0", "staging", "10.244.2.30", "lab-node-2", {"user_orchestrator_app": "web", "user_orchestrator_environment": "staging"}),
    ("coredns-0", "kube-system", "10.244.0.10", "lab-node-1", {"user_orchestrator_k8s-app": "kube-dns"}),
    ("coredns-1", "kube-system", "10.244.0.11", "lab-node-2", {"user_orchestrator_k8s-app": "kube-dns"}),
)
# (service, namespace, cluster IP, labels)
SERVICES = (("db", "prod", "10.96.0.27", {"user_orchestrator_app": "db"}),
            ("kube-dns", "kube-system", "10.96.0.10", {"user_orchestrator_k8s-app": "kube-dns"}),
            ("kubernetes", "default", "10.96.0.1", {"user_orchestrator_component": "apiserver"}))
API_SERVER = ("lab-k8s-apiserver", "10.10.0.2")


def default_inventory(vrf_id: int, vrf_name: str) -> list[dict]:
    """Workloads: three Kubernetes nodes, the pods of the workload-isolation guide and of the Secure
    Workload Kubernetes guide, the cluster's Services and API server, two bare hosts."""
    items = []
    base = {"vrf_id": vrf_id, "vrf_name": vrf_name, "address_type": "IPV4"}
    cluster = {"user_orchestrator_system/orch_type": "kubernetes", "user_orchestrator_system/cluster_name": CLUSTER}
    for name, ip in NODES:
        items.append(dict(base, ip=ip, host_name=name, os="linux", **cluster, **{
            "user_orchestrator_system/workload_type": "node", "user_orchestrator_system/node_name": name}))
    pods = [(pod, namespace, ip, node, {"user_orchestrator_app": pod}) for pod, namespace, ip, node in PODS] + list(GUIDE_PODS)
    for pod, namespace, ip, node, labels in pods:
        items.append(dict(base, ip=ip, host_name=node, os="linux", **cluster, **labels, **{
            "user_orchestrator_system/workload_type": "pod", "user_orchestrator_system/namespace": namespace,
            "user_orchestrator_system/pod_name": pod}))
    for service, namespace, ip, labels in SERVICES:
        items.append(dict(base, ip=ip, **cluster, **labels, **{
            "user_orchestrator_system/workload_type": "service", "user_orchestrator_system/namespace": namespace,
            "user_orchestrator_system/service_name": service}))
    items.append(dict(base, ip=API_SERVER[1], host_name=API_SERVER[0], os="linux"))
    for name, ip in HOSTS:
        items.append(dict(base, ip=ip, host_name=name, os="linux", user_environment="production"))
    return items


def default_sensors() -> list[dict]:
    sensors = []
    for index, (name, ip) in enumerate(NODES + HOSTS):
        sensors.append({
            "uuid": "%040x" % (0x5E0500000 + index), "host_name": name, "agent_type": "ENFORCER",
            "agent_type_str": "Deep Visibility with Enforcement", "platform": "Ubuntu-22.04", "current_sw_version": "3.10.1.45",
            "desired_sw_version": "3.10.1.45", "auto_upgrade_opt_out": False, "data_plane_disabled": False,
            "enable_conversation_flows": False, "enable_cache_sidechannel": False, "enable_forensics": False,
            "enable_meltdown": False, "enable_pid_lookup": False, "cpu_quota_mode": 1, "cpu_quota_us": 30000,
            "forensics_cpu_quota_mode": 1, "enforcement_enabled": False,
            "interfaces": [{"ip": ip, "netmask": "255.255.255.0", "name": "eth0", "family_type": "IPV4", "vrf": "Default", "vrf_id": 1}],
        })
    return sensors


class Agents:
    def __init__(self, model: Model) -> None:
        self.m = model
        self.store = model.store
        self.inventory: list[dict] = []

    def routes(self) -> list:
        return [
            ("GET", "/inventory_config/profiles", self.list_profiles),
            ("POST", "/inventory_config/profiles", self.create_profile),
            ("GET", "/inventory_config/profiles/{id}", self.get_profile),
            ("PUT", "/inventory_config/profiles/{id}", self.update_profile),
            ("DELETE", "/inventory_config/profiles/{id}", self.delete_profile),
            ("GET", "/inventory_config/intents", self.list_intents),
            ("POST", "/inventory_config/intents", self.create_intent),
            ("GET", "/inventory_config/intents/{id}", self.get_intent),
            ("DELETE", "/inventory_config/intents/{id}", self.delete_intent),
            ("GET", "/sensors", self.list_sensors),
            ("GET", "/sensors/{id}", self.get_sensor),
            ("DELETE", "/sensors/{id}", self.delete_sensor),
            ("POST", "/inventory/search", self.search_inventory),
        ]

    def seed(self, root: dict, profile_id: str) -> None:
        stamp = now()
        profile = {"id": profile_id, "name": DEFAULT_PROFILE, "root_app_scope_id": root["id"], "created_at": stamp, "updated_at": stamp}
        profile.update(default_settings())
        self.store.put("profile", profile)
        for sensor in default_sensors():
            self.store.put("sensor", dict(sensor, id=sensor["uuid"], created_at=stamp, last_config_fetch_at=stamp))

    # ---------------------------------------------------------------- profiles

    def _profile(self, ident: str) -> dict:
        doc = self.store.get("profile", ident)
        if doc is None:
            raise not_found("agent config profile", ident)
        return doc

    @staticmethod
    def render_profile(doc: dict) -> dict:
        out = {"id": doc["id"], "name": doc["name"], "root_app_scope_id": doc["root_app_scope_id"]}
        out.update({key: doc[key] for key in default_settings()})
        out.update({"created_at": doc["created_at"], "updated_at": doc["updated_at"]})
        return out

    def list_profiles(self, call: Call):
        root_id = call.arg("root_app_scope_id")
        return [self.render_profile(p) for p in self.store.all("profile") if not root_id or p["root_app_scope_id"] == root_id]

    def get_profile(self, call: Call):
        return self.render_profile(self._profile(call.params["id"]))

    def _unique_profile(self, root_id: str, name: str, itself: str | None = None) -> None:
        for other in self.store.where("profile", root_app_scope_id=root_id):
            if other["name"] == name and other["id"] != itself:
                raise invalid("an agent config profile named %r already exists in this root scope" % name)

    def create_profile(self, call: Call):
        body = call.body()
        name = text(body, "name", required=True)
        root_id = text(body, "root_app_scope_id", required=True)
        root = self.store.get("scope", root_id)
        if root is None or root.get("parent_app_scope_id"):
            raise invalid("root_app_scope_id %s is not a root scope" % root_id)
        self._unique_profile(root_id, name)
        # New profiles start from the root scope's built-in Default profile.
        base = next((p for p in self.store.where("profile", root_app_scope_id=root_id) if p["name"] == DEFAULT_PROFILE), None)
        settings = {key: base[key] for key in default_settings()} if base else default_settings()
        stamp = now()
        doc = {"id": new_id(), "name": name, "root_app_scope_id": root_id, "created_at": stamp, "updated_at": stamp}
        doc.update(apply_settings(body, settings))
        return self.render_profile(self.store.put("profile", doc))

    def update_profile(self, call: Call):
        # Partial: only the fields present change.
        doc = self.store.copy(self._profile(call.params["id"]))
        body = call.body()
        name = text(body, "name")
        if name is not None and name != doc["name"]:
            if doc["name"] == DEFAULT_PROFILE:
                raise invalid("the built-in Default profile cannot be renamed")
            self._unique_profile(doc["root_app_scope_id"], name, doc["id"])
            doc["name"] = name
        doc.update(apply_settings(body, {key: doc[key] for key in default_settings()}))
        doc["updated_at"] = now()
        return self.render_profile(self.store.put("profile", doc))

    def delete_profile(self, call: Call):
        doc = self._profile(call.params["id"])
        if doc["name"] == DEFAULT_PROFILE:
            raise invalid("the built-in Default profile cannot be deleted")
        details = [{"type": "InventoryConfigIntent", "id": i["id"], "name": i.get("name")}
                   for i in self.store.where("intent", inventory_config_profile_id=doc["id"])]
        if details:
            raise in_use("agent config profile", details)
        self.store.delete("profile", doc["id"])
        return SUCCESS

    # ---------------------------------------------------------------- intents

    @staticmethod
    def render_intent(doc: dict) -> dict:
        keys = ("id", "inventory_config_profile_id", "inventory_filter_id", "name", "created_at", "updated_at")
        return {key: doc.get(key) for key in keys}

    def list_intents(self, call: Call):
        return [self.render_intent(i) for i in self.store.all("intent")]

    def _intent(self, ident: str) -> dict:
        doc = self.store.get("intent", ident)
        if doc is None:
            raise not_found("agent config intent", ident)
        return doc

    def get_intent(self, call: Call):
        return self.render_intent(self._intent(call.params["id"]))

    def create_intent(self, call: Call):
        body = call.body()
        profile_id = text(body, "inventory_config_profile_id", required=True)
        filter_id = text(body, "inventory_filter_id", required=True)
        name = text(body, "name")
        profile = self.store.get("profile", profile_id)
        if profile is None:
            raise invalid("inventory_config_profile_id %s is not an existing agent config profile" % profile_id)
        scope = self.store.get("scope", filter_id)
        if scope is None:
            found = self.store.get("filter", filter_id)
            if found is None:
                raise invalid("inventory_filter_id %s is not an existing inventory filter or scope" % filter_id)
            scope = self.store.get("scope", found["app_scope_id"])
        if scope is not None and self.m.root(scope)["id"] != profile["root_app_scope_id"]:
            raise invalid("the profile and the inventory filter belong to different root scopes")
        for other in self.store.all("intent"):
            if other["inventory_config_profile_id"] == profile_id and other["inventory_filter_id"] == filter_id:
                raise invalid("an intent of profile %s for inventory filter %s already exists (%s)" % (profile_id, filter_id, other["id"]))
        stamp = now()
        doc = {"id": new_id(), "inventory_config_profile_id": profile_id, "inventory_filter_id": filter_id, "name": name,
               "created_at": stamp, "updated_at": stamp}
        return self.render_intent(self.store.put("intent", doc))

    def delete_intent(self, call: Call):
        doc = self._intent(call.params["id"])
        self.store.delete("intent", doc["id"])
        return SUCCESS

    # ---------------------------------------------------------------- sensors

    @staticmethod
    def render_sensor(doc: dict) -> dict:
        out = copy.deepcopy(doc)
        out.pop("id", None)
        out.pop("_seq", None)
        return out

    def list_sensors(self, call: Call):
        sensors = [self.render_sensor(s) for s in self.store.all("sensor")]
        return page(sensors, call.int_arg("limit", minimum=1), call.arg("offset"))

    def _sensor(self, ident: str) -> dict:
        doc = self.store.get("sensor", ident)
        if doc is None:
            raise not_found("sensor", ident)
        return doc

    def get_sensor(self, call: Call):
        return self.render_sensor(self._sensor(call.params["id"]))

    def delete_sensor(self, call: Call):
        self.store.delete("sensor", self._sensor(call.params["id"])["id"])
        return SUCCESS

    # ---------------------------------------------------------------- inventory search

    def search_inventory(self, call: Call):
        body = call.body()
        query = body.get("filter")
        if query is not None:
            try:
                validate(query, "filter")
            except QueryError as exc:
                raise invalid("invalid query: %s" % exc) from None
        scope_name = text(body, "scopeName")
        items = self.inventory
        if scope_name is not None:
            scope = self.m.scope_by_full_name(scope_name)
            if scope is None:
                raise invalid("scopeName %r is not an existing scope" % scope_name)
            scope_query = self.m.scope_query(scope)
            items = [i for i in items if matches(scope_query, i)]
        if query is not None:
            items = [i for i in items if matches(query, i)]
        dimensions = body.get("dimensions")
        if dimensions is not None:
            if not isinstance(dimensions, list) or not all(isinstance(d, str) for d in dimensions):
                raise invalid("dimensions must be a list of column names")
            items = [{key: i[key] for key in dimensions if key in i} for i in items]
        limit = body.get("limit")
        return page([copy.deepcopy(i) for i in items], limit, body.get("offset"))

    def set_inventory(self, document) -> list[dict]:
        if not isinstance(document, list) or not all(isinstance(i, dict) and isinstance(i.get("ip"), str) for i in document):
            raise SwError(400, "the inventory is a list of objects, each with an ip")
        self.inventory = copy.deepcopy(document)
        return self.inventory
