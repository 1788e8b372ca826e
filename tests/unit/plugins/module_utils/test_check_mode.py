# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check mode across tasks: what an earlier check-mode task would create is not there when a later
task reads it. In check mode (only), a container that does not exist (a Prisma namespace, an NSX
domain, a Secure Workload scope or workspace) is read as empty and a reference to an object that does
not exist yet (a group, a filter) is assumed, each with a warning; a flow check that needs a missing
object is skipped. A real run fails as it always did. Fake connections record every request."""

import copy

import pytest

from ansible_collections.microseg.segmentation.plugins.module_utils._core.adapter import Task
from ansible_collections.microseg.segmentation.plugins.module_utils._core.checkmode import (
    Notes,
    add_warnings,
    missing_container,
    missing_reference,
    unless_check_mode,
    warn,
    warnings_of,
)
from ansible_collections.microseg.segmentation.plugins.module_utils._core.flowcheck import FlowCheck, FlowCheckError, NotThereYet
from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import ApiError
from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import (
    Change,
    Declared,
    Field,
    Kind,
    ReconcileError,
    Reconciler,
)
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt import flows as nsxt_flows
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.manager import NS_GROUPS, SectionAdapter
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.policy import POLICY_BASE, SecurityPolicyAdapter
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.checkmode import (
    EXISTS,
    MISSING,
    UNKNOWN,
    namespace_state,
    read_or_empty,
)
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.kinds import OBJECTS, object_module
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.agents import IntentAdapter, intent_key
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.checkmode import workspace_or_placeholder
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.common import SwDirectory
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.policies import SwPolicyAdapter, policy_key
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.scopes import InventoryFilterAdapter, ScopeAdapter
from ansible_collections.microseg.segmentation.plugins.modules import nsxt_info, prisma_info, secure_workload_enforcement
from ansible_collections.microseg.segmentation.plugins.modules.prisma_flow_check import PrismaFlowCheck


class FakeModule:
    def __init__(self, params, check_mode):
        self.params = params
        self.check_mode = check_mode
        self._diff = False


# ------------------------------------------------------------------ the shared helpers

def test_warnings_are_kept_once_and_added_to_a_result():
    holder = Notes()
    warn(holder, "a")
    warn(holder, "a")
    warn(holder, "b")
    assert warnings_of(holder) == ["a", "b"]
    assert warnings_of(None) == []
    assert add_warnings({"warnings": "x"}, warnings_of(holder)) == {"warnings": ["x", "a", "b"]}
    assert add_warnings({}, []) == {}


def test_warning_texts():
    assert missing_container("namespace /acme/x") == (
        "namespace /acme/x does not exist yet: check mode assumes it empty, as an earlier task of the play would create it")
    assert missing_reference("group", ["g"]).startswith("group 'g' does not exist yet: check mode assumes an earlier task")
    assert missing_reference("group", ["b", "a", "b"]).startswith("groups 'a', 'b' do not exist yet")


def test_unless_check_mode_raises_in_a_real_run_and_warns_in_check_mode():
    holder = Notes()
    with pytest.raises(ValidationError, match="x: nope"):
        unless_check_mode(False, holder, ValidationError("x", "nope"), "assumed")
    assert warnings_of(holder) == []
    unless_check_mode(True, holder, ValidationError("x", "nope"), "assumed")
    assert warnings_of(holder) == ["assumed"]


# ------------------------------------------------------------------ Prisma: a namespace an earlier task would create

def forbidden(namespace):
    return ApiError("GET failed with status 403: Forbidden (%s)" % namespace, status=403, method="GET")


class FakePrisma:
    """Namespaces by full path; a read in a namespace that does not exist, or that the credentials may
    not read (``hidden``), answers 403, as the console does."""

    def __init__(self, namespace, namespaces=("/acme",), hidden=(), objects=None):
        self.namespace = namespace
        self.namespaces = set(namespaces)
        self.hidden = set(hidden)
        self.objects = objects or {}
        self.calls = []

    def request(self, method, path, namespace=None, params=None, body=None, **kwargs):
        namespace = namespace or self.namespace
        self.calls.append((method, path, namespace, dict(params or {})))
        if method != "GET":
            raise AssertionError("a write in check mode: %s %s" % (method, path))
        if namespace != "/" and (namespace not in self.namespaces or namespace in self.hidden):
            raise forbidden(namespace)
        if path == "/namespaces":
            query = (params or {}).get("q")
            names = sorted(n for n in self.namespaces if n.rsplit("/", 1)[0] == namespace or (params or {}).get("recursive"))
            if query:
                wanted = query.split("==", 1)[1].strip().strip('"')
                names = [n for n in names if n == wanted]
            return [{"name": n, "namespace": n.rsplit("/", 1)[0] or "/"} for n in names]
        return copy.deepcopy(self.objects.get((path, namespace), []))

    def list_all(self, resource, namespace=None, params=None):
        return self.request("GET", resource, namespace=namespace, params=params)

    def probes(self):
        return [c for c in self.calls if c[1] == "/namespaces" and "q" in c[3]]


def test_namespace_state_asks_the_parent_and_walks_up():
    connection = FakePrisma("/acme", namespaces=("/acme", "/acme/prod"), hidden=("/acme/prod",))
    assert namespace_state(connection, "/acme/prod") == EXISTS
    assert namespace_state(connection, "/acme/new") == MISSING
    # the parent is missing too: so is its child
    assert namespace_state(connection, "/acme/new/child") == MISSING
    assert [c[2] for c in connection.probes()][-2:] == ["/acme/new", "/acme"]
    # a parent these credentials may not read, that exists: nothing tells
    assert namespace_state(connection, "/acme/prod/x") == UNKNOWN
    assert namespace_state(connection, "/") == EXISTS


def test_read_in_a_missing_namespace_is_empty_in_check_mode_only():
    connection = FakePrisma("/acme/new")
    holder = Notes()

    def read():
        return connection.list_all("/networkrulesetpolicies")

    assert read_or_empty(True, connection, "/acme/new", read, [], holder) == []
    assert warnings_of(holder) == [missing_container("namespace /acme/new")]
    connection.calls = []
    with pytest.raises(ApiError) as info:
        read_or_empty(False, connection, "/acme/new", read, [], Notes())
    assert info.value.status == 403
    assert connection.probes() == [], "a real run never looks the namespace up"


def test_check_mode_keeps_the_403_of_a_namespace_that_exists():
    connection = FakePrisma("/acme/prod", namespaces=("/acme", "/acme/prod"), hidden=("/acme/prod",))
    with pytest.raises(ApiError) as info:
        read_or_empty(True, connection, "/acme/prod", lambda: connection.list_all("/services"), [], Notes())
    assert info.value.status == 403


def prisma_adapter(name, connection, check_mode, params=None):
    kind, resource, adapter_class = OBJECTS[name]
    runner = object_module(name)
    params = dict(params or {})
    task = Task(params, check_mode=check_mode, ownership=runner.ownership(dict(params, owner=None, adopt=False)))
    return kind, adapter_class(connection, kind, task, resource)


RULESET = {"subject": [["app=web"]], "incomingRules": []}


def test_object_in_a_missing_namespace_is_a_predicted_create_with_a_warning():
    connection = FakePrisma("/acme/new")
    kind, adapter = prisma_adapter("network_ruleset", connection, check_mode=True)
    result = Reconciler(kind, adapter, check_mode=True).ensure(Declared("web", copy.deepcopy(RULESET), "present"))
    assert result["changed"] is True and result["action"] == "create"
    assert result["object"]["namespace"] == "/acme/new"
    assert warnings_of(adapter) == [missing_container("namespace /acme/new")]


def test_object_in_a_missing_namespace_fails_a_real_run_as_before():
    connection = FakePrisma("/acme/new")
    kind, adapter = prisma_adapter("network_ruleset", connection, check_mode=False)
    with pytest.raises(ApiError) as info:
        Reconciler(kind, adapter).ensure(Declared("web", copy.deepcopy(RULESET), "present"))
    assert info.value.status == 403
    assert connection.probes() == []


def test_list_form_in_a_missing_namespace_creates_every_object():
    connection = FakePrisma("/acme/new")
    kind, adapter = prisma_adapter("network_ruleset", connection, check_mode=True, params={"items": []})
    items = [Declared(name, copy.deepcopy(RULESET), "present") for name in ("a", "b")]
    result = Reconciler(kind, adapter, check_mode=True).ensure_many(items, purge=True)
    assert result["summary"]["created"] == ["a", "b"] and result["summary"]["deleted"] == []


def test_product_made_default_policy_of_a_missing_namespace_is_an_update():
    """A namespace of type Group or Kubernetes comes with its ``default`` service dependency policy:
    check mode assumes it, so that disabling it is reported (not refused for want of subject and object)."""
    connection = FakePrisma("/acme/hosts")
    kind, adapter = prisma_adapter("service_dependency_policy", connection, check_mode=True)
    result = Reconciler(kind, adapter, check_mode=True).ensure(Declared("default", {"disabled": True}, "present"))
    assert result["action"] == "update" and result["object"]["disabled"] is True
    assert any("'default' is made by the product with namespace /acme/hosts" in w for w in warnings_of(adapter))


def test_namespace_under_a_missing_parent_is_a_predicted_create():
    connection = FakePrisma("/acme/aws-dev")
    kind, adapter = prisma_adapter("namespace", connection, check_mode=True)
    result = Reconciler(kind, adapter, check_mode=True).ensure(Declared("k8s", {"type": "Kubernetes"}, "present"))
    assert result["action"] == "create" and result["object"]["name"] == "/acme/aws-dev/k8s"
    assert warnings_of(adapter) == [missing_container("namespace /acme/aws-dev")]


def test_object_module_reports_the_warnings_of_its_adapter():
    runner = object_module("network_ruleset")
    params = dict((option, spec.get("default")) for option, spec in runner.argument_spec().items())
    params.update(name="web", subject=[["app=web"]], namespace="/acme/new")
    module = FakeModule(params, True)
    result = runner.execute(module, FakePrisma("/acme/new"), runner.prepare(module))
    assert result["changed"] is True and result["action"] == "create"
    assert result["warnings"] == [missing_container("namespace /acme/new")]


def info_params(**params):
    base = dict(kind="network_ruleset", name=None, filter=None, recursive=False, propagated=False)
    base.update(params)
    return base


def test_prisma_info_in_a_missing_namespace():
    connection = FakePrisma("/acme/aws-dev/k8s")
    result = prisma_info.execute(FakeModule(info_params(kind="namespace", name="hipster-shop"), True), connection, None)
    assert result["count"] == 0 and result["objects"] == []
    assert result["warnings"] == [missing_container("namespace /acme/aws-dev/k8s")]
    with pytest.raises(ApiError):
        prisma_info.execute(FakeModule(info_params(), False), connection, None)


# ------------------------------------------------------------------ flow checks: skipped in check mode when something is missing

class MissingCheck(FlowCheck):
    endpoint_keys = ("group",)
    string_key = "group"

    def load(self, connection, params, flows):
        raise NotThereYet("no group is named 'web'")


def flow_module(check_mode, **params):
    flows = [dict(name=None, source="web", destination="db", service="tcp/80", expect="allow")]
    return FakeModule(dict(params, flows=flows, fail_on_mismatch=True), check_mode)


def test_flow_check_is_skipped_in_check_mode_when_an_object_does_not_exist_yet():
    check = MissingCheck()
    module = flow_module(True)
    result = check.execute(module, None, check.parse_flows(module.params["flows"]))
    assert result["skipped"] is True
    assert result["flows"] == [] and result["table"] == [] and result["mismatches"] == []
    assert result["counts"]["total"] == 1 and result["counts"]["checked"] == 0
    assert result["warnings"][0].startswith("no group is named 'web': the flows were not evaluated")


def test_flow_check_fails_as_before_in_a_real_run():
    check = MissingCheck()
    module = flow_module(False)
    with pytest.raises(FlowCheckError, match="^no group is named 'web'$"):
        check.execute(module, None, check.parse_flows(module.params["flows"]))


def test_prisma_flow_check_tells_missing_namespaces_in_check_mode():
    check = PrismaFlowCheck()
    flows = check.parse_flows([
        dict(name="a", source={"namespace": "/acme/new", "tags": ["app=web"]}, destination="10.0.0.1", service="tcp/80", expect=None),
        dict(name="b", source={"namespace": "/acme/prod"}, destination={"service": "svc", "namespace": "/acme/other"}, service="tcp/80",
             expect=None),
    ])
    with pytest.raises(NotThereYet, match="^namespaces /acme/new, /acme/other do not exist yet$"):
        check._check_namespaces("/acme", [{"name": "/acme/prod"}], flows)
    check._check_namespaces("/acme", [{"name": "/acme/prod"}, {"name": "/acme/new"}, {"name": "/acme/other"}], flows)


def test_prisma_flow_check_in_a_missing_task_namespace_is_skipped_in_check_mode():
    check = PrismaFlowCheck()
    module = FakeModule(dict(flows=[dict(name="a", source="10.0.0.1", destination="10.0.0.2", service="tcp/80", expect=None)],
                             fail_on_mismatch=True), True)
    result = check.execute(module, FakePrisma("/acme/new"), check.parse_flows(module.params["flows"]))
    assert result["skipped"] is True and "namespace /acme/new does not exist yet" in result["msg"]
    module.check_mode = False
    with pytest.raises(ApiError):
        check.execute(module, FakePrisma("/acme/new"), check.parse_flows(module.params["flows"]))


# ------------------------------------------------------------------ NSX: groups and domains an earlier task would create

class FakeNsx:
    def __init__(self, lists=None, missing=()):
        self.lists = lists or {}
        self.missing = set(missing)
        self.calls = []

    def list_all(self, path, params=None):
        self.calls.append(("LIST", path))
        if path in self.missing:
            raise ApiError("not found", status=404, method="GET")
        return copy.deepcopy(self.lists.get(path, []))

    def get(self, path, **kwargs):
        return None

    def request(self, method, path, **kwargs):
        raise AssertionError("no request expected: %s %s" % (method, path))


SECTION_KIND = Kind("FirewallSection", "firewall section", [Field("rules", "rules")], identity="display_name")


def section_change():
    ref = {"target_type": "NSGroup", "target_display_name": "nsg-b"}
    rule = {"display_name": "aTob", "sources": [{"target_type": "NSGroup", "target_display_name": "nsg-a"}], "destinations": [ref],
            "applied_tos": []}
    return Change("create", "isolation", body={"applied_tos": [ref], "rules": [rule]})


def test_section_naming_groups_that_do_not_exist_yet():
    adapter = SectionAdapter(FakeNsx(), SECTION_KIND, Task({"section_type": "LAYER3"}, check_mode=True))
    adapter.prepare([section_change()])
    assert warnings_of(adapter) == [missing_reference("NSGroup", ["nsg-a", "nsg-b"])]
    adapter = SectionAdapter(FakeNsx(), SECTION_KIND, Task({"section_type": "LAYER3"}))
    with pytest.raises(ValidationError, match="no such NSGroup; nothing was written"):
        adapter.prepare([section_change()])


POLICY_KIND = Kind("SecurityPolicy", "security policy", [Field("rules", "rules")], identity="id")
GROUPS = "%s/infra/domains/default/groups" % POLICY_BASE


def policy_change():
    rule = {"source_groups": ["/infra/domains/default/groups/a"], "destination_groups": ["ANY"], "scope": ["ANY"]}
    return Change("create", "isolation", body={"scope": ["/infra/domains/default/groups/b"], "rules": [rule]})


def test_security_policy_naming_groups_that_do_not_exist_yet():
    adapter = SecurityPolicyAdapter(FakeNsx(), POLICY_KIND, Task({"domain": "default"}, check_mode=True), "security-policies")
    adapter.prepare([policy_change()])
    assert warnings_of(adapter) == [missing_reference("group", ["/infra/domains/default/groups/a", "/infra/domains/default/groups/b"])]
    adapter = SecurityPolicyAdapter(FakeNsx(), POLICY_KIND, Task({"domain": "default"}), "security-policies")
    with pytest.raises(ValidationError, match="these groups do not exist, nothing was written"):
        adapter.prepare([policy_change()])


def test_policy_objects_of_a_missing_domain_are_none_in_check_mode_only():
    base = "%s/infra/domains/lab/security-policies" % POLICY_BASE
    adapter = SecurityPolicyAdapter(FakeNsx(missing=[base]), POLICY_KIND, Task({"domain": "lab"}, check_mode=True), "security-policies")
    assert adapter.list() == []
    assert warnings_of(adapter) == [missing_container("domain lab")]
    adapter = SecurityPolicyAdapter(FakeNsx(missing=[base]), POLICY_KIND, Task({"domain": "lab"}), "security-policies")
    with pytest.raises(ApiError):
        adapter.list()


def test_nsxt_info_of_a_missing_domain():
    params = dict(kind="policy_group", name=None, domain="lab", section_type="LAYER3", members=False)
    connection = FakeNsx(missing=["%s/infra/domains/lab/groups" % POLICY_BASE])
    result = nsxt_info.execute(FakeModule(params, True), connection, None)
    assert result["count"] == 0 and result["warnings"] == [missing_container("domain lab")]
    with pytest.raises(ApiError):
        nsxt_info.execute(FakeModule(params, False), connection, None)


def test_nsxt_flow_loaders_say_what_is_missing():
    flows = MissingCheck().parse_flows([dict(name=None, source="nsg-a", destination="nsg-b", service="any", expect=None)])
    with pytest.raises(NotThereYet, match="^no NSGroup is named 'nsg-a'$"):
        nsxt_flows.load_manager(FakeNsx(lists={NS_GROUPS: []}), flows)
    with pytest.raises(NotThereYet, match="^domain default has no group with id 'nsg-a'$"):
        nsxt_flows.load_policy(FakeNsx(lists={GROUPS: []}), "default", flows)
    missing_domain = FakeNsx(missing=["%s/infra/domains/lab/groups" % POLICY_BASE])
    with pytest.raises(NotThereYet, match="^domain lab does not exist$"):
        nsxt_flows.load_policy(missing_domain, "lab", flows, check_mode=True)
    with pytest.raises(ApiError):
        nsxt_flows.load_policy(missing_domain, "lab", flows)


# ------------------------------------------------------------------ Secure Workload: scopes and workspaces an earlier task would create

ROOT = {"id": "r" * 24, "name": "Default", "short_name": "Default", "parent_app_scope_id": None, "root_app_scope_id": "r" * 24}
K8S = {"id": "k" * 24, "name": "Default:K8s", "short_name": "K8s", "parent_app_scope_id": "r" * 24, "root_app_scope_id": "r" * 24}
PROFILE = {"id": "p" * 24, "name": "k8s-nodes", "root_app_scope_id": "r" * 24}
NODES = {"id": "n" * 24, "name": "k8s-nodes", "app_scope_id": "k" * 24}


class FakeSw:
    def __init__(self, lists=None):
        self.lists = lists or {}
        self.calls = []

    def list_all(self, path, params=None):
        self.calls.append(("LIST", path, params))
        found = copy.deepcopy(self.lists.get(path, []))
        if path == "/app_scopes" and params and params.get("exact_name"):
            found = [s for s in found if s.get("name") == params["exact_name"]]
        return found

    def request(self, method, path, body=None, **kwargs):
        self.calls.append((method, path, body))
        if method != "GET":
            raise AssertionError("a write in check mode: %s %s" % (method, path))
        raise AssertionError("unexpected read %s" % path)

    def get(self, path, **kwargs):
        return None


SCOPE_KIND = Kind("scope", "Scope", [Field("query", "short_query")], identity="name")
QUERY = {"type": "eq", "field": "user_orchestrator_system/namespace", "value": "prod"}


def test_scope_under_a_parent_that_does_not_exist_yet():
    connection = FakeSw({"/app_scopes": [ROOT]})
    adapter = ScopeAdapter(connection, SCOPE_KIND, Task({"parent": "Default:K8s", "commit": True}, check_mode=True))
    result = Reconciler(SCOPE_KIND, adapter, check_mode=True).ensure("prod", {"short_query": QUERY}, "present")
    assert result["action"] == "create" and result["object"]["name"] == "Default:K8s:prod"
    assert warnings_of(adapter) == [missing_container("parent scope Default:K8s")]
    adapter = ScopeAdapter(connection, SCOPE_KIND, Task({"parent": "Default:K8s", "commit": True}))
    with pytest.raises(ReconcileError, match="parent: no scope is named 'Default:K8s'"):
        Reconciler(SCOPE_KIND, adapter).ensure("prod", {"short_query": QUERY}, "present")


def test_inventory_filter_of_a_scope_that_does_not_exist_yet():
    connection = FakeSw({"/app_scopes": [ROOT]})
    adapter = InventoryFilterAdapter(connection, SCOPE_KIND, Task({"scope": "Default:K8s"}, check_mode=True))
    result = Reconciler(SCOPE_KIND, adapter, check_mode=True).ensure("db", {"short_query": QUERY}, "present")
    assert result["action"] == "create"
    assert warnings_of(adapter) == [missing_container("scope Default:K8s")]
    adapter = InventoryFilterAdapter(connection, SCOPE_KIND, Task({"scope": "Default:K8s"}))
    with pytest.raises(ReconcileError, match="scope: no scope is named 'Default:K8s'"):
        Reconciler(SCOPE_KIND, adapter).ensure("db", {"short_query": QUERY}, "present")


WS_PARAMS = {"workspace": "k8s-prod", "scope": "Default:K8s:prod", "workspace_id": None}


def test_workspace_placeholder_only_in_check_mode_and_only_for_a_missing_one():
    apps = {"id": "w" * 24, "name": "apps", "app_scope_id": K8S["id"]}
    connection = FakeSw({"/app_scopes": [ROOT, K8S], "/applications": [apps, dict(apps, id="v" * 24, name="twice"),
                                                                       dict(apps, id="u" * 24, name="twice")]})
    holder = Notes()
    with pytest.raises(ReconcileError, match="scope: no scope is named 'Default:K8s:prod'"):
        workspace_or_placeholder(False, SwDirectory(connection), WS_PARAMS, holder)
    placeholder = workspace_or_placeholder(True, SwDirectory(connection), WS_PARAMS, holder)
    assert placeholder["id"] is None and placeholder["name"] == "k8s-prod" and placeholder["enforcement_enabled"] is False
    assert warnings_of(holder) == [missing_container("scope Default:K8s:prod (of workspace 'k8s-prod')")]
    in_k8s = dict(WS_PARAMS, scope="Default:K8s")
    assert workspace_or_placeholder(True, SwDirectory(connection), in_k8s, Notes())["app_scope_id"] == K8S["id"]
    # one that exists is read as in a real run (one list of the workspaces), and so is an ambiguous name
    connection.calls = []
    assert workspace_or_placeholder(True, SwDirectory(connection), dict(in_k8s, workspace="apps"), Notes()) == apps
    assert [c[1] for c in connection.calls] == ["/app_scopes", "/applications"]
    with pytest.raises(ReconcileError, match="more than one workspace is named 'twice'"):
        workspace_or_placeholder(True, SwDirectory(connection), dict(in_k8s, workspace="twice"), Notes())
    with pytest.raises(ReconcileError, match="no workspace has the id"):
        workspace_or_placeholder(True, SwDirectory(connection), dict(WS_PARAMS, workspace_id="x" * 24), Notes())


POLICY_KIND_SW = Kind("policy", "policy", [Field("action", "action"), Field("ports", "l4_params", empty=[])], identity="key")


def test_policy_of_a_workspace_and_filters_that_do_not_exist_yet():
    connection = FakeSw({"/app_scopes": [ROOT, K8S], "/filters/inventories": [NODES]})
    adapter = SwPolicyAdapter(connection, POLICY_KIND_SW, Task(dict(WS_PARAMS), check_mode=True))
    key = adapter.canonical(policy_key("production", "db", "DEFAULT", 100), "present")
    assert key == "production -> db (DEFAULT, priority 100)"
    result = Reconciler(POLICY_KIND_SW, adapter, check_mode=True).ensure(Declared(key, {"action": "ALLOW"}, "present"))
    assert result["action"] == "create"
    assert result["object"]["consumer_filter_id"] == "production" and result["object"]["application_id"] is None
    warnings = warnings_of(adapter)
    assert warnings[0] == missing_container("scope Default:K8s:prod (of workspace 'k8s-prod')")
    assert missing_reference("scope, inventory filter or cluster", ["production"]) in warnings
    assert all(c[0] == "LIST" for c in connection.calls), "nothing but lists is read for a workspace that does not exist"
    adapter = SwPolicyAdapter(connection, POLICY_KIND_SW, Task(dict(WS_PARAMS)))
    with pytest.raises(ReconcileError, match="scope: no scope is named 'Default:K8s:prod'"):
        adapter.canonical(policy_key("production", "db", "DEFAULT", 100), "present")


INTENT_KIND = Kind("intent", "agent config intent", [], identity="key")


def test_intent_naming_a_profile_and_filter_that_do_not_exist_yet():
    connection = FakeSw({"/app_scopes": [ROOT]})
    adapter = IntentAdapter(connection, INTENT_KIND, Task({"root_scope": None}, check_mode=True))
    key = adapter.canonical(intent_key("k8s-nodes", "k8s-nodes"), "present")
    result = Reconciler(INTENT_KIND, adapter, check_mode=True).ensure(Declared(key, {}, "present"))
    assert result["action"] == "create"
    assert warnings_of(adapter) == [missing_reference("agent config profile", ["k8s-nodes"]),
                                    missing_reference("scope or inventory filter", ["k8s-nodes"])]
    adapter = IntentAdapter(connection, INTENT_KIND, Task({"root_scope": None}))
    with pytest.raises(ReconcileError, match="profile: 'k8s-nodes' is not an agent config profile"):
        adapter.canonical(intent_key("k8s-nodes", "k8s-nodes"), "present")
    # both exist: the key is the canonical one, as before
    connection = FakeSw({"/app_scopes": [ROOT, K8S], "/filters/inventories": [NODES], "/inventory_config/profiles": [PROFILE]})
    adapter = IntentAdapter(connection, INTENT_KIND, Task({"root_scope": None}, check_mode=True))
    assert adapter.canonical(intent_key("k8s-nodes", "k8s-nodes"), "present") == "k8s-nodes -> k8s-nodes"
    assert warnings_of(adapter) == []


def test_enforcing_a_workspace_that_does_not_exist_yet():
    connection = FakeSw({"/app_scopes": [ROOT, K8S]})
    params = dict(WS_PARAMS, state="enabled", version=None)
    result = secure_workload_enforcement.execute(FakeModule(params, True), connection, None)
    assert result["changed"] is True and result["workspace"]["enforcement_enabled"] is True
    assert result["warnings"] == [missing_container("scope Default:K8s:prod (of workspace 'k8s-prod')")]
    with pytest.raises(ReconcileError, match="scope: no scope is named 'Default:K8s:prod'"):
        secure_workload_enforcement.execute(FakeModule(params, False), connection, None)
