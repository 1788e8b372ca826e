# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secure Workload export (``secure_workload_info`` with ``export: true``).

THE property: every entry of an export, applied with its list-form module to the console it was read
from, writes nothing. It is checked here on a console holding what playbooks/secure_workload_k8s_service.yml
leaves (objects as the lab answers them), plus a workspace with clusters and policies of every port
form, a dirty scope, profiles, intents and orchestrators: each entry goes through the module's own
argument spec, ``declare`` (``Kind.build``), adapter (its canonicalisation) and ``Reconciler`` against
a console that fails on any write; and each item, built, is planned against its object with no change.
"""

import copy
import importlib
from types import SimpleNamespace
from urllib.parse import unquote

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.microseg.segmentation.plugins.module_utils._core.adapter import Task
from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import ApiError, Response
from ansible_collections.microseg.segmentation.plugins.module_utils._core.module import ObjectModule
from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import plan
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.agents import PROFILE_KIND
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.common import SwConnection
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.export import APPLY_ORDER, export, pending_view
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.policies import POLICY_KIND, build_ports, canon_l4, export_ports
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.scopes import INVENTORY_FILTER_KIND, SCOPE_KIND, WORKSPACE_KIND

ROOT_ID = "5e0500000000000000000001"
K8S, PROD, APPS, WEB, DB = ("6b118288895c2fd244642450", "6b118289a7cdd097ad15ebe1", "6b1182a0000000000000a001",
                            "6b1182a0000000000000a002", "6b1182a0000000000000a003")
F_PROD, F_NODES, F_DB, F_DNS, F_DNS_SERVERS = ("6b11828a942920d760dab855", "6b11828a599a903057f3ec25", "6b11828a51810d6c6a73fa6d",
                                               "6b11828a8c0a5023348ea16d", "6b1182a0000000000000f001")
WS_PROD, WS_APPS = "6b11828d2240caf87caa9146", "6b1182a0000000000000b001"
C_WEB, C_DB = "6b1182a0000000000000c001", "6b1182a0000000000000c002"
P_DEFAULT, P_NODES, P_SERVERS = "5e0500000000000000000002", "6b1182869ded2b8696d2790c", "6b1182a0000000000000d001"


def eq(field, value):
    return {"type": "eq", "field": field, "value": value}


def scope(ident, short, parent, query, priority, description=None, dirty_query=None, created=1796309640):
    parent_name = next((s["name"] for s in SCOPES if s["id"] == parent), None) if parent else None
    return {"id": ident, "short_name": short, "name": "%s:%s" % (parent_name, short) if parent_name else short, "description": description,
            "short_query": query, "query": query, "vrf_id": 1, "parent_app_scope_id": parent, "child_app_scope_ids": [],
            "root_app_scope_id": ROOT_ID, "policy_priority": priority, "dirty": dirty_query is not None, "dirty_short_query": dirty_query,
            "created_at": created, "updated_at": created}


SCOPES = []
SCOPES.append(scope(ROOT_ID, "Default", None, eq("vrf_id", 1), None, "Root scope of the Default tenant (VRF 1)", created=1796309634))
SCOPES.append(scope(K8S, "K8s", ROOT_ID, {"type": "subnet", "field": "ip", "value": "10.0.0.0/8"}, 1, "Kubernetes cluster"))
NAMESPACE_PODS = {"type": "and", "filters": [eq("user_orchestrator_system/cluster_name", "lab-cluster"), eq("user_orchestrator_system/namespace", "prod")]}
SCOPES.append(scope(PROD, "prod", K8S, NAMESPACE_PODS, 1, "The application's pods"))
SCOPES.append(scope(APPS, "Apps", ROOT_ID, {"type": "subnet", "field": "ip", "value": "10.20.0.0/16"}, 2))
SCOPES.append(scope(WEB, "web", APPS, {"type": "subnet", "field": "ip", "value": "10.20.1.0/24"}, 2, "web tier"))
PENDING = {"type": "subnet", "field": "ip", "value": "10.20.3.0/24"}  # a changed query waiting for its commit
SCOPES.append(scope(DB, "db", APPS, {"type": "subnet", "field": "ip", "value": "10.20.2.0/24"}, 1, dirty_query=PENDING))


def inventory_filter(ident, name, scope_id, query, primary=False, public=False, created=1796309642):
    return {"id": ident, "name": name, "app_scope_id": scope_id, "short_query": query, "query": query, "primary": primary,
            "public": public, "created_at": created, "updated_at": created}


PRODUCTION = {"type": "or", "filters": [eq("user_environment", "production"), eq("user_orchestrator_environment", "production")]}
NODES = {"type": "and", "filters": [eq("user_orchestrator_system/cluster_name", "lab-cluster"), eq("user_orchestrator_system/workload_type", "node")]}
DB_SERVICE = {"type": "and", "filters": [eq("user_orchestrator_system/service_name", "db"), eq("user_orchestrator_system/namespace", "prod"),
                                         eq("user_orchestrator_system/cluster_name", "lab-cluster")]}
FILTERS = [
    inventory_filter(F_PROD, "production", K8S, PRODUCTION),
    inventory_filter(F_NODES, "k8s-nodes", K8S, NODES),
    inventory_filter(F_DB, "db", K8S, DB_SERVICE),
    inventory_filter(F_DNS, "kube-dns", K8S, eq("user_orchestrator_k8s-app", "kube-dns")),
    inventory_filter(F_DNS_SERVERS, "dns-servers", APPS, {"type": "in", "field": "ip", "values": ["10.20.0.53", "10.20.1.53"]},
                     primary=True, public=True),
]


def workspace(ident, name, scope_id, enforcing, primary=True, description=None):
    return {"id": ident, "name": name, "description": description, "app_scope_id": scope_id, "author": "microseg lab", "primary": primary,
            "alternate_query_mode": True, "created_at": 1796309645, "latest_adm_version": 0, "analysis_enabled": False,
            "analyzed_version": 0, "enforcement_enabled": enforcing, "enforced_version": 1 if enforcing else 0}


def policy(ident, ws, consumer, provider, action, l4, rank="DEFAULT", priority=100):
    return {"id": ident, "application_id": ws, "consumer_filter_id": consumer, "provider_filter_id": provider,
            "consumer_filter": {"id": consumer}, "provider_filter": {"id": provider}, "version": "v0", "rank": rank, "action": action,
            "priority": priority, "l4_params": [dict(p, id="%s%02d" % (ident[:22], n)) for n, p in enumerate(l4)]}


def cluster(ident, name, query, description=None, approved=False):
    return {"id": ident, "name": name, "description": description, "query": query, "approved": approved, "nodes": [],
            "consistent_uuid": ident, "application_id": WS_APPS, "version": "v0"}


WORKSPACES = [workspace(WS_PROD, "k8s-prod", PROD, True),
              workspace(WS_APPS, "apps", APPS, False, primary=False, description="Policies of the applications")]
CLUSTERS = {WS_PROD: [], WS_APPS: [cluster(C_WEB, "web-tier", {"type": "subnet", "field": "ip", "value": "10.20.1.0/24"}, "Web servers", True),
                                   cluster(C_DB, "db-tier", {"type": "or", "filters": [eq("ip", "10.20.2.10"), eq("ip", "10.20.2.11")]})]}
POLICIES = {
    WS_PROD: [policy("6b11828feb055b9ae5701acd", WS_PROD, F_PROD, F_DB, "ALLOW", [{"proto": 6, "port": [27017, 27017]}]),
              policy("6b11828f6e3761696388465d", WS_PROD, PROD, F_DNS, "ALLOW", [{"proto": 17, "port": [53, 53]}, {"proto": 6, "port": [53, 53]}])],
    WS_APPS: [policy("6b1182a1000000000000e001", WS_APPS, C_WEB, C_DB, "ALLOW", [{"proto": 6, "port": [5432, 5432]}, {"proto": 1}]),
              policy("6b1182a1000000000000e002", WS_APPS, ROOT_ID, APPS, "DENY", [{"proto": 6, "port": [1, 1023]}], rank="ABSOLUTE", priority=10),
              policy("6b1182a1000000000000e003", WS_APPS, WEB, F_DNS_SERVERS, "ALLOW",
                     [{"proto": 17, "port": [53, 53]}, {"proto": 6, "port": [0, 65535]}, {"proto": 47}, {"proto": None}], priority=50),
              policy("6b1182a1000000000000e004", WS_APPS, APPS, APPS, "ALLOW", [])],
}
CATCH_ALL = {WS_PROD: "DENY", WS_APPS: "ALLOW"}

PROFILE_DEFAULTS = {
    "allow_broadcast": True, "allow_link_local": True, "allow_multicast": True, "auto_upgrade_opt_out": False, "data_plane_disabled": False,
    "enable_conversation_flows": False, "enable_dns": False, "enable_forensics": False, "enable_meltdown": False, "enable_pid_lookup": False,
    "enforcement_disabled": True, "preserve_existing_rules": False, "cpu_quota_mode": 1, "enforcement_cpu_quota_mode": 1,
    "forensics_cpu_quota_mode": 1, "cpu_quota_pct": 3, "cpu_quota_us": 30000, "enforcement_cpu_quota_pct": 3, "enforcement_cpu_quota_us": 30000,
    "forensics_cpu_quota_pct": 3, "forensics_cpu_quota_us": 30000, "max_rss_limit": 536870912, "max_rss_limit_mb": 512,
    "enforcement_max_rss_limit": 268435456, "enforcement_max_rss_limit_mb": 256, "forensics_mem_quota_bytes": 536870912,
    "forensics_mem_quota_mb": 512,
}


def profile(ident, name, **changed):
    return dict(PROFILE_DEFAULTS, id=ident, name=name, root_app_scope_id=ROOT_ID, created_at=1796309638, updated_at=1796309638, **changed)


PROFILES = [profile(P_DEFAULT, "Default"), profile(P_NODES, "k8s-nodes", enforcement_disabled=False, preserve_existing_rules=True),
            # 35000 us is no whole percentage: the microseconds are exported
            profile(P_SERVERS, "servers", cpu_quota_us=35000, cpu_quota_pct=4, max_rss_limit_mb=1024, max_rss_limit=1073741824)]
INTENTS = [{"id": "6b11828cea7a83d9be2ac120", "inventory_config_profile_id": P_NODES, "inventory_filter_id": F_NODES, "name": None},
           {"id": "6b1182a2000000000000a001", "inventory_config_profile_id": P_SERVERS, "inventory_filter_id": APPS, "name": None}]
ORCHESTRATORS = [
    {"id": "6b1182a3000000000000a001", "name": "prod-k8s", "type": "kubernetes", "description": "the production cluster",
     "hosts_list": [{"host_name": "10.10.0.2", "port_number": 6443}], "username": None, "certificate": None, "ca_certificate": "CA PEM",
     "aws_region": None, "aws_access_key_id": None, "insecure": False, "verbose_tsdb_metrics": False, "use_secureconnector_tunnel": False,
     "enable_enforcement": False, "delta_interval": 60, "full_snapshot_interval": 3600, "kubelet_port": None},
    {"id": "6b1182a3000000000000a002", "name": "edge-k8s", "type": "kubernetes", "description": None,
     "hosts_list": [{"host_name": "edge.example.com", "port_number": 443}, {"host_name": "10.30.0.2", "port_number": 6443}],
     "username": None, "certificate": "CLIENT PEM", "ca_certificate": None, "aws_region": None, "aws_access_key_id": None, "insecure": True,
     "verbose_tsdb_metrics": False, "use_secureconnector_tunnel": False, "enable_enforcement": False, "delta_interval": 120,
     "full_snapshot_interval": 7200, "kubelet_port": 10250},
    {"id": "6b1182a3000000000000a003", "name": "vcenter", "type": "vcenter", "description": None, "hosts_list": [{"host_name": "vc", "port_number": 443}]},
]


class Console(SwConnection):
    """A Secure Workload console holding ``state`` as the lab answers it; reads only (a write fails the test)."""

    def __init__(self, state):
        self.state = copy.deepcopy(state)
        self.reads = []
        self.writes = []

    def workspace(self, ident):
        return next((w for w in self.state["workspaces"] if w["id"] == ident), None)

    def details(self, ident):
        ranks = {"ABSOLUTE": "absolute_policies", "DEFAULT": "default_policies"}
        out = dict(self.workspace(ident), version="v0", clusters=self.state["clusters"].get(ident, []), inventory_filters=[],
                   catch_all_action=self.state["catch_all"][ident], absolute_policies=[], default_policies=[])
        for item in self.state["policies"].get(ident, []):
            out[ranks[item["rank"]]].append(item)
        return out

    def answer(self, path, params):
        parts = [unquote(p) for p in path.strip("/").split("/")]
        lists = {"app_scopes": "scopes", "applications": "workspaces", "filters/inventories": "filters",
                 "inventory_config/profiles": "profiles", "inventory_config/intents": "intents"}
        if "/".join(parts) in lists:
            found = self.state[lists["/".join(parts)]]
            for key, value in (params or {}).items():
                attribute = "name" if key == "exact_name" else key
                if key in ("offset", "limit"):
                    continue
                found = [o for o in found if o.get(attribute) == value]
            return found
        if parts[0] == "orchestrator":
            if parts[1] not in [s["name"] for s in self.state["scopes"] if not s["parent_app_scope_id"]]:
                raise ApiError("GET %s failed with status 404" % path, status=404)
            return self.state["orchestrators"]
        if parts[0] == "applications" and len(parts) == 2:
            return self.workspace(parts[1])
        if parts[0] == "applications" and parts[2] == "details":
            return self.details(parts[1])
        if parts[0] == "applications" and parts[2] == "clusters":
            return self.state["clusters"].get(parts[1], [])
        if parts[0] == "applications" and parts[2] == "catch_all":
            return {"id": "c" * 24, "application_id": parts[1], "version": "v0", "rank": "CATCH_ALL", "action": self.state["catch_all"][parts[1]]}
        if parts[0] == "applications" and parts[2] == "policies":
            details = self.details(parts[1])
            return dict((k, details[k]) for k in ("absolute_policies", "default_policies", "catch_all_action"))
        raise AssertionError("the console does not serve GET %s" % path)

    def send(self, method, path, **kwargs):
        if method != "GET":
            self.writes.append((method, path, kwargs.get("body")))
            raise AssertionError("a write was sent: %s %s %s" % (method, path, kwargs.get("body")))
        self.reads.append(path)
        return Response(200, copy.deepcopy(self.answer(path, kwargs.get("params"))), {})


STATE = {"scopes": SCOPES, "filters": FILTERS, "workspaces": WORKSPACES, "clusters": CLUSTERS, "policies": POLICIES, "catch_all": CATCH_ALL,
         "profiles": PROFILES, "intents": INTENTS, "orchestrators": ORCHESTRATORS}
# what playbooks/secure_workload_k8s_service.yml alone leaves
SCENARIO = {"scopes": SCOPES[:3], "filters": FILTERS[:4], "workspaces": WORKSPACES[:1], "clusters": {WS_PROD: []},
            "policies": {WS_PROD: POLICIES[WS_PROD]}, "catch_all": {WS_PROD: "DENY"}, "profiles": PROFILES[:2], "intents": INTENTS[:1],
            "orchestrators": []}
OBJECTS = {"scope": "scopes", "inventory_filter": "filters", "agent_profile": "profiles", "intent": "intents", "orchestrator": "orchestrators",
           "workspace": "workspaces"}


def export_all(state, include_system=False):
    """The entries of every kind in apply order, what was left out and the warnings (as secure_workload_info gives them)."""
    console = Console(state)
    entries, left_out, warnings = [], [], []
    for kind_name in APPLY_ORDER:
        found = copy.deepcopy(console.state[OBJECTS[kind_name]])
        placed = [("Default", found)] if kind_name == "orchestrator" else None
        more, out, said = export(console, kind_name, found, include_system=include_system, placed=placed)
        entries += more
        left_out += out
        warnings += said
    return entries, left_out, warnings


# ------------------------------------------------------------------ the modules, as their main() runs them

class _Captured(Exception):
    def __init__(self, runner):
        super().__init__("captured")
        self.runner = runner


def _runner(name):
    module = importlib.import_module("ansible_collections.microseg.segmentation.plugins.modules.%s" % name)
    original = ObjectModule.run

    def capture(self):
        raise _Captured(self)

    ObjectModule.run = capture
    try:
        module.main()
    except _Captured as captured:
        return captured.runner
    finally:
        ObjectModule.run = original
    raise AssertionError("%s runs no object module" % name)


OBJECT_MODULES = ("secure_workload_scope", "secure_workload_inventory_filter", "secure_workload_agent_profile", "secure_workload_agent_intent",
                  "secure_workload_orchestrator", "secure_workload_workspace", "secure_workload_policy")
RUNNERS = dict((n, _runner(n)) for n in OBJECT_MODULES)
ENFORCEMENT = importlib.import_module("ansible_collections.microseg.segmentation.plugins.modules.secure_workload_enforcement")
CONNECTION = {"url": "https://console.example.com", "api_key": "k" * 32, "api_secret": "s" * 40}


def validated(spec, params):
    result = ArgumentSpecValidator(spec).validate(params)
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


def apply_entry(console, exported):
    """Run one export entry as its module would (argument spec, declare, adapter, reconciler; not check mode)."""
    name = exported["module"].rsplit(".", 1)[1]
    if name == "secure_workload_enforcement":
        spec = ENFORCEMENT.sw_argument_spec()
        spec.update(ENFORCEMENT.workspace_spec())
        spec.update(state=dict(type="str", choices=["enabled", "disabled"], default="enabled"), version=dict(type="str"))
        assert exported["items"] == []
        params = validated(spec, dict(CONNECTION, **exported["options"]))
        module = SimpleNamespace(params=params, check_mode=False, _diff=True)
        return ENFORCEMENT.execute(module, console, ENFORCEMENT.prepare(params))
    runner = RUNNERS[name]
    params = validated(runner.argument_spec(), dict(CONNECTION, items=exported["items"], **exported["options"]))
    task = Task(params)
    declared = runner.declare(params, task)
    module = SimpleNamespace(params=params, check_mode=False, _diff=True)
    return runner.execute(module, console, (task, declared))


# ------------------------------------------------------------------ THE property


@pytest.mark.parametrize("state", [SCENARIO, STATE], ids=["k8s-service-scenario", "with-clusters-and-more"])
def test_applying_every_entry_to_the_console_it_came_from_writes_nothing(state):
    entries, dummy, dummy2 = export_all(state)
    console = Console(state)
    for exported in entries:
        result = apply_entry(console, exported)
        assert result["changed"] is False, (exported, result)
        assert not result.get("failed_objects"), result
        if "summary" in result:
            assert result["summary"]["created"] == result["summary"]["updated"] == result["summary"]["deleted"] == []
            assert len(result["summary"]["unchanged"]) == len(exported["items"])
    assert console.writes == []
    modules = [e["module"].rsplit("_", 1)[-1] for e in entries]
    assert modules.count("policy") == len([w for w in state["workspaces"] if state["policies"].get(w["id"])])


def _objects_of(kind, state):
    """``(item of the export, object it came from)`` of one kind, the object as the module's adapter reads it."""
    entries, dummy, dummy2 = export_all(state, include_system=True)
    module = {"scope": "secure_workload_scope", "filter": "secure_workload_inventory_filter", "profile": "secure_workload_agent_profile",
              "workspace": "secure_workload_workspace"}[kind]
    items = [i for e in entries if e["module"].endswith(module) for i in e["items"]]
    if kind == "scope":
        return [(i, pending_view(next(s for s in state["scopes"] if s["short_name"] == i["name"]))) for i in items]
    if kind == "filter":
        return [(i, next(f for f in state["filters"] if f["name"] == i["name"])) for i in items]
    if kind == "profile":
        return [(i, next(p for p in state["profiles"] if p["name"] == i["name"])) for i in items]
    if kind == "workspace":
        console = Console(state)
        return [(i, dict(w, catch_all_action=state["catch_all"][w["id"]], clusters=console.details(w["id"])["clusters"]))
                for i in items for w in state["workspaces"] if w["name"] == i["name"]]
    raise AssertionError(kind)


@pytest.mark.parametrize("kind_name,kind", [("scope", SCOPE_KIND), ("filter", INVENTORY_FILTER_KIND), ("profile", PROFILE_KIND),
                                            ("workspace", WORKSPACE_KIND)])
def test_each_item_built_and_planned_against_its_object_is_no_change(kind_name, kind):
    pairs = _objects_of(kind_name, STATE)
    assert pairs
    for item, obj in pairs:
        values = dict((f.option, item.get(f.option)) for f in kind.options(task=False))
        desired = kind.build(values, "", Task({}))
        if kind is WORKSPACE_KIND:
            # the adapter compares the clusters a task declares, with the keys it sets (WorkspaceAdapter._project)
            obj = dict(obj, clusters=[dict((k, c.get(k)) for k in d) for d in desired["clusters"] for c in obj["clusters"]
                                      if c["name"] == d["name"]]) if "clusters" in desired else obj
        change = plan(kind, item["name"], desired, obj, "present")
        assert change.action == "none", (item, change.fields)


def test_exported_ports_build_back_to_the_same_l4_params():
    stored = [{"proto": 6, "port": [27017, 27017]}, {"proto": 17, "port": [1000, 2000]}, {"proto": 6, "port": [0, 65535]}, {"proto": 1},
              {"proto": None}, {"proto": 47}, {"proto": 17, "port": [0, 0]}]
    ports = export_ports(stored, {})
    assert ports == [{"protocol": "tcp", "port": 27017}, {"protocol": "udp", "port": "1000-2000"}, {"protocol": "tcp"}, {"protocol": "icmp"},
                     {"protocol": "any"}, {"protocol": 47}, {"protocol": "udp", "port": 0}]
    assert build_ports(ports, "ports") == [{"proto": 6, "port": [27017, 27017]}, {"proto": 17, "port": [1000, 2000]},
                                           {"proto": 6, "port": [0, 65535]}, {"proto": 1}, {"proto": None}, {"proto": 47},
                                           {"proto": 17, "port": [0, 0]}]
    assert canon_l4(build_ports(ports, "ports")) == canon_l4(stored)


def test_policy_items_leave_out_the_module_defaults_and_build_to_the_stored_policy():
    stored = POLICIES[WS_APPS][1]
    item = {"consumer": "Default", "provider": "Default:Apps"}
    from ansible_collections.microseg.segmentation.plugins.module_utils._core.export import export_item
    item, secrets = export_item(POLICY_KIND, stored, keys=item)
    assert item == {"consumer": "Default", "provider": "Default:Apps", "rank": "absolute", "priority": 10, "action": "deny",
                    "ports": [{"protocol": "tcp", "port": "1-1023"}]} and secrets == []
    default, dummy = export_item(POLICY_KIND, POLICIES[WS_PROD][0], keys={"consumer": "production", "provider": "db"})
    assert default == {"consumer": "production", "provider": "db", "action": "allow", "ports": [{"protocol": "tcp", "port": 27017}]}
    values = dict((f.option, item.get(f.option)) for f in POLICY_KIND.options(task=False))
    desired = POLICY_KIND.build(values, "", Task({}))
    assert plan(POLICY_KIND, "p", desired, stored, "present").action == "none"


# ------------------------------------------------------------------ the shape


def test_the_export_of_the_k8s_service_scenario():
    entries, left_out, warnings = export_all(SCENARIO)
    assert warnings == []
    assert left_out == [{"kind": "scope", "name": "Default", "reason": "a root scope, made with its tenant (secure_workload_scope declares child scopes)"},
                        {"kind": "agent_profile", "name": "Default", "reason": "the built-in profile of root scope Default (made with it)"}]
    prefix = "microseg.segmentation.secure_workload_"
    assert [(e["module"][len(prefix):], e["options"]) for e in entries] == [
        ("scope", {"parent": "Default"}),
        ("scope", {"parent": "Default:K8s"}),
        ("inventory_filter", {"scope": "Default:K8s"}),
        ("agent_profile", {"root_scope": "Default"}),
        ("agent_intent", {"root_scope": "Default"}),
        ("workspace", {"scope": "Default:K8s:prod"}),
        ("policy", {"workspace": "k8s-prod", "scope": "Default:K8s:prod"}),
        ("enforcement", {"workspace": "k8s-prod", "scope": "Default:K8s:prod", "state": "enabled"}),
    ]
    assert entries[0]["items"] == [{"name": "K8s", "description": "Kubernetes cluster", "query": {"type": "subnet", "field": "ip", "value": "10.0.0.0/8"},
                                    "policy_priority": 1}]
    assert [i["name"] for i in entries[2]["items"]] == ["db", "k8s-nodes", "kube-dns", "production"]
    assert entries[2]["items"][3] == {"name": "production", "query": FILTERS[0]["short_query"]}  # primary/public false: the defaults
    nodes = entries[3]["items"][0]
    assert nodes["name"] == "k8s-nodes" and nodes["enforcement_enabled"] is True and nodes["preserve_existing_rules"] is True
    assert nodes["cpu_quota_pct"] == 3 and "cpu_quota_us" not in nodes and nodes["max_rss_limit_mb"] == 512 and "max_rss_limit" not in nodes
    assert entries[4]["items"] == [{"profile": "k8s-nodes", "inventory_filter": "k8s-nodes"}]
    assert entries[5]["items"] == [{"name": "k8s-prod", "primary": True, "catch_all_action": "deny"}]
    assert entries[6]["items"] == [
        {"consumer": "Default:K8s:prod", "provider": "kube-dns", "action": "allow",
         "ports": [{"protocol": "udp", "port": 53}, {"protocol": "tcp", "port": 53}]},
        {"consumer": "production", "provider": "db", "action": "allow", "ports": [{"protocol": "tcp", "port": 27017}]},
    ]
    assert entries[7]["items"] == []
    assert all("secrets" not in e for e in entries)


def test_workspace_with_clusters_scopes_in_priority_order_and_a_dirty_scope():
    entries, dummy, warnings = export_all(STATE)
    assert warnings == []
    by = dict((e["module"].rsplit("secure_workload_", 1)[1] + " " + "/".join(str(v) for v in e["options"].values()), e) for e in entries)
    # the children of Default, then of Default:Apps and Default:K8s; in policy-priority order, created one at a time
    scopes = [e for e in entries if e["module"].endswith("_scope")]
    assert [e["options"]["parent"] for e in scopes] == ["Default", "Default:Apps", "Default:K8s"]
    assert [i["name"] for i in scopes[0]["items"]] == ["K8s", "Apps"] and scopes[0]["options"]["parallel"] == 1
    apps = scopes[1]
    assert apps["options"] == {"parent": "Default:Apps", "commit": False, "parallel": 1}
    assert apps["items"][0] == {"name": "db", "query": {"type": "subnet", "field": "ip", "value": "10.20.3.0/24"}, "policy_priority": 1}
    ws = by["workspace Default:Apps"]["items"]
    assert ws == [{"name": "apps", "description": "Policies of the applications", "primary": False, "catch_all_action": "allow",
                   "clusters": [{"name": "db-tier", "query": CLUSTERS[WS_APPS][1]["query"]},
                                {"name": "web-tier", "query": CLUSTERS[WS_APPS][0]["query"], "description": "Web servers", "approved": True}]}]
    assert by["policy apps/Default:Apps"]["items"] == [
        {"consumer": "Default", "provider": "Default:Apps", "rank": "absolute", "priority": 10, "action": "deny",
         "ports": [{"protocol": "tcp", "port": "1-1023"}]},
        {"consumer": "Default:Apps:web", "provider": "dns-servers", "priority": 50, "action": "allow",
         "ports": [{"protocol": "udp", "port": 53}, {"protocol": "tcp"}, {"protocol": 47}, {"protocol": "any"}]},
        {"consumer": "Default:Apps", "provider": "Default:Apps", "action": "allow"},
        {"consumer": "web-tier", "provider": "db-tier", "action": "allow", "ports": [{"protocol": "tcp", "port": 5432}, {"protocol": "icmp"}]},
    ]
    assert by["inventory_filter Default:Apps"]["items"] == [{"name": "dns-servers", "query": FILTERS[4]["short_query"], "primary": True, "public": True}]
    # the workspace that does not enforce gets no enforcement entry
    assert [e["options"]["workspace"] for e in entries if e["module"].endswith("_enforcement")] == ["k8s-prod"]
    servers = next(i for e in entries if e["module"].endswith("_agent_profile") for i in e["items"] if i["name"] == "servers")
    assert servers["cpu_quota_us"] == 35000 and "cpu_quota_pct" not in servers and servers["max_rss_limit_mb"] == 1024
    assert by["agent_intent Default"]["items"] == [{"profile": "k8s-nodes", "inventory_filter": "k8s-nodes"},
                                                   {"profile": "servers", "inventory_filter": "Default:Apps"}]


def test_orchestrators_kubernetes_only_and_their_credentials_named_as_secrets():
    entries, left_out, dummy = export_all(STATE)
    orchestrators = [e for e in entries if e["module"].endswith("_orchestrator")]
    assert len(orchestrators) == 1
    entry = orchestrators[0]
    assert entry["options"] == {"root_scope": "Default"}
    assert entry["secrets"] == ["edge-k8s.key", "prod-k8s.auth_token"]
    assert [i["name"] for i in entry["items"]] == ["edge-k8s", "prod-k8s"]
    prod = entry["items"][1]
    assert prod == {"name": "prod-k8s", "description": "the production cluster", "hosts_list": [{"host_name": "10.10.0.2", "port_number": 6443}],
                    "ca_certificate": "CA PEM", "insecure": False, "delta_interval": 60, "full_snapshot_interval": 3600,
                    "verbose_tsdb_metrics": False, "use_secureconnector_tunnel": False}
    assert "auth_token" not in prod and "key" not in entry["items"][0]
    assert {"kind": "orchestrator", "name": "vcenter",
            "reason": "of type vcenter (secure_workload_orchestrator manages kubernetes orchestrators only)"} in left_out


def test_include_system_exports_the_built_in_profile_never_a_root_scope():
    entries, left_out, dummy = export_all(STATE, include_system=True)
    profiles = [i["name"] for e in entries if e["module"].endswith("_agent_profile") for i in e["items"]]
    assert profiles == ["Default", "k8s-nodes", "servers"]
    assert [s["name"] for s in left_out if s["kind"] == "scope"] == ["Default"]
    assert "agent_profile" not in [s["kind"] for s in left_out]
    console = Console(STATE)
    for exported in entries:
        assert apply_entry(console, exported)["changed"] is False


def test_a_name_the_module_cannot_take_leaves_the_object_out_with_a_warning():
    state = copy.deepcopy(STATE)
    # a second 'db-tier': a filter in the workspace's root, so the cluster's name no longer names one object
    state["filters"].append(inventory_filter("6b1182a0000000000000f0aa", "db-tier", APPS, eq("ip", "10.20.2.12")))
    # two filters 'monitoring' in one scope, the second made later
    state["filters"].append(inventory_filter("6b1182a0000000000000f0bb", "monitoring", K8S, eq("ip", "10.0.0.9"), created=1796309999))
    state["filters"].append(inventory_filter("6b1182a0000000000000f0b0", "monitoring", K8S, eq("ip", "10.0.0.8"), created=1796309990))
    # two policies of one key
    state["policies"][WS_PROD].append(dict(POLICIES[WS_PROD][0], id="6b11828feb055b9ae5701acf"))
    entries, left_out, warnings = export_all(state)
    reasons = dict(((s["kind"], s["name"]), s["reason"]) for s in left_out)
    assert "the oldest, is exported" in reasons[("inventory_filter", "monitoring")]
    assert "6b1182a0000000000000f0b0, the oldest" in reasons[("inventory_filter", "monitoring")]
    assert "not named by one scope, inventory filter or cluster only" in reasons[("policy", "apps: web-tier -> %s (DEFAULT, priority 100)" % C_DB)]
    assert "has another policy of this consumer, provider, rank and priority" in reasons[("policy", "k8s-prod: production -> db (DEFAULT, priority 100)")]
    assert len(warnings) == 3 and all(w.startswith("export: ") for w in warnings)
    policies = dict((e["options"]["workspace"], e["items"]) for e in entries if e["module"].endswith("_policy"))
    assert len(policies["k8s-prod"]) == 2 and len(policies["apps"]) == 3
    filters = [i for e in entries if e["module"].endswith("_inventory_filter") for i in e["items"] if i["name"] == "monitoring"]
    assert filters == [{"name": "monitoring", "query": eq("ip", "10.0.0.8")}]
    # an intent whose filter name is shared is left out too
    state["filters"].append(inventory_filter("6b1182a0000000000000f0cc", "k8s-nodes", APPS, eq("ip", "10.20.9.9")))
    dummy, left_out, dummy2 = export_all(state)
    assert ("intent", "k8s-nodes -> %s" % F_NODES) in [(s["kind"], s["name"]) for s in left_out]


def test_export_reads_each_workspace_details_once_and_writes_nothing():
    console = Console(STATE)
    entries, dummy, dummy2 = export(console, "workspace", copy.deepcopy(STATE["workspaces"]))
    assert sorted(console.reads) == sorted(["/app_scopes", "/filters/inventories", "/applications/%s/details" % WS_PROD,
                                            "/applications/%s/details" % WS_APPS])
    assert console.writes == []
    # details the task read already are used as they are
    console = Console(STATE)
    found = copy.deepcopy(STATE["workspaces"])
    for obj in found:
        obj["details"] = Console(STATE).details(obj["id"])
    assert export(console, "workspace", found)[0] == entries
    assert "/applications/%s/details" % WS_PROD not in console.reads


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        export(Console(STATE), "sensor", [])
