# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every object module declares each option once, as a Field, and its documentation agrees.

The modules are found by walking plugins/modules: a module is an object module when its
``main()`` runs an ``ObjectModule``.
"""

import importlib
import json
import os
import pkgutil
import subprocess
import sys

import pytest
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.microseg.segmentation.plugins import modules as modules_package
from ansible_collections.microseg.segmentation.plugins.module_utils._core import module as core_module
from ansible_collections.microseg.segmentation.plugins.module_utils._core.adapter import Task
from ansible_collections.microseg.segmentation.plugins.module_utils._core.module import ObjectModule, list_form_argument_spec
from ansible_collections.microseg.segmentation.plugins.module_utils._core.ownership import ownership_argument_spec
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError


class Captured(Exception):
    def __init__(self, runner):
        super().__init__("captured")
        self.runner = runner


class NotAnObjectModule(Exception):
    pass


def _capture(self):
    raise Captured(self)


def _not_an_object_module(self, *args, **kwargs):
    raise NotAnObjectModule()


def object_modules():
    """``{module name: ObjectModule}`` of every module whose main() runs an ObjectModule."""
    found = {}
    original_run, original_init = ObjectModule.run, AnsibleModule.__init__
    ObjectModule.run = _capture
    AnsibleModule.__init__ = _not_an_object_module
    try:
        for info in pkgutil.iter_modules(modules_package.__path__):
            module = importlib.import_module("%s.%s" % (modules_package.__name__, info.name))
            try:
                module.main()
            except Captured as captured:
                found[info.name] = captured.runner
            except NotAnObjectModule:
                pass
    finally:
        ObjectModule.run, AnsibleModule.__init__ = original_run, original_init
    return found


OBJECT_MODULES = object_modules()
EXPECTED = sorted(
    ["prisma_enforcer_profile", "prisma_enforcer_profile_mapping", "prisma_external_network", "prisma_namespace",
     "prisma_network_ruleset", "prisma_service_dependency_policy", "prisma_tcp_service",
     "nsxt_firewall_section", "nsxt_ip_set", "nsxt_ns_group", "nsxt_policy_group", "nsxt_security_policy",
     "secure_workload_agent_intent", "secure_workload_agent_profile", "secure_workload_inventory_filter",
     "secure_workload_orchestrator", "secure_workload_policy", "secure_workload_scope", "secure_workload_workspace"]
)


def test_every_object_module_is_found():
    assert sorted(OBJECT_MODULES) == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_every_option_is_one_field(name):
    runner = OBJECT_MODULES[name]
    spec = runner.argument_spec()
    aside = set(runner.connection_spec()) | set(list_form_argument_spec()) | (set(ownership_argument_spec()) if runner.supports_purge else set())
    options = [f.option for f in runner.kind.all_fields if f.option is not None]
    assert len(options) == len(set(options)), "an option is declared twice"
    without_field = sorted(set(spec) - aside - set(options))
    without_key = sorted(set(options) - set(spec))
    assert without_field == [], "argument-spec keys without a Field: %s" % without_field
    assert without_key == [], "Fields without an argument-spec key: %s" % without_key
    for field in runner.kind.all_fields:
        if field.option is not None:
            assert spec[field.option] == field.argument_spec()


@pytest.mark.parametrize("name", EXPECTED)
def test_items_declare_every_object_option(name):
    runner = OBJECT_MODULES[name]
    items = runner.argument_spec()["items"]
    assert items["type"] == "list" and items["elements"] == "dict"
    object_options = set(f.option for f in runner.kind.options(task=False))
    assert set(items["options"]) == object_options | {"state"}
    for field in runner.kind.options(task=False):
        sub = items["options"][field.option]
        assert "default" not in sub and "required" not in sub
        assert sub.get("no_log") == field.spec.get("no_log")


def test_secrets_of_items_are_no_log():
    secrets = dict((name, sorted(o for o, s in r.argument_spec()["items"]["options"].items() if s.get("no_log")))
                   for name, r in OBJECT_MODULES.items())
    assert secrets["prisma_tcp_service"] == ["tls_certificate_key"]
    assert secrets["secure_workload_orchestrator"] == ["auth_token", "key"]


def test_no_module_overrides_the_runner():
    for name, runner in OBJECT_MODULES.items():
        for method in ("declare", "run", "argument_spec"):
            assert getattr(type(runner), method) is getattr(ObjectModule, method), "%s overrides %s" % (name, method)
    assert not hasattr(core_module.ObjectModule, "_declared")


def _docs():
    """The merged documentation of every object module (one ansible-doc run)."""
    names = ["microseg.segmentation.%s" % n for n in EXPECTED]
    out = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-doc"), "--json"] + names,
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    return dict((k.rsplit(".", 1)[1], v["doc"]) for k, v in json.loads(out).items())


def _disagreements(spec, doc, path=""):
    """Where an argument spec and its documentation differ (what validate-modules compares)."""
    found = []
    for extra in sorted(set(doc) - set(spec)):
        found.append("%s%s: documented, not in the argument spec" % (path, extra))
    for name, option in sorted(spec.items()):
        where = path + name
        if name not in doc:
            found.append("%s: not documented" % where)
            continue
        entry = doc[name]
        for key, default in (("type", "str"), ("elements", None), ("default", None), ("choices", None)):
            if option.get(key, default) != entry.get(key, default):
                found.append("%s: %s is %r in the spec, %r in the docs" % (where, key, option.get(key, default), entry.get(key, default)))
        if bool(option.get("required")) != bool(entry.get("required")):
            found.append("%s: required differs" % where)
        if sorted(option.get("aliases") or []) != sorted(entry.get("aliases") or []):
            found.append("%s: aliases differ" % where)
        if option.get("options") or entry.get("suboptions"):
            found.extend(_disagreements(option.get("options") or {}, entry.get("suboptions") or {}, where + "."))
    return found


def test_documentation_and_argument_spec_agree_including_items():
    docs = _docs()
    problems = {}
    for name in EXPECTED:
        found = _disagreements(OBJECT_MODULES[name].argument_spec(), docs[name]["options"])
        if found:
            problems[name] = found
    assert problems == {}, "run tests/tools/item_docs.py after changing options:\n%s" % json.dumps(problems, indent=1)


def _params(runner, **given):
    """Module parameters as AnsibleModule would hand them over (every option present)."""
    params = dict((name, spec.get("default")) for name, spec in runner.argument_spec().items())
    params.update(given)
    return params


def _declare(module_name, **given):
    runner = OBJECT_MODULES[module_name]
    params = _params(runner, **given)
    if params.get("items") is not None:
        params["items"] = [dict(dict.fromkeys(runner.kind.item_spec()), **item) for item in params["items"]]
    return runner.declare(params, Task(params))


def test_object_options_next_to_items_are_per_item_defaults():
    declared = _declare("prisma_network_ruleset", description="shared", disabled=True, items=[
        {"name": "a", "subject": [["app=a"]]},
        {"name": "b", "subject": [["app=b"]], "description": "own"},
    ])
    assert [(d.key, d.desired["description"], d.desired["disabled"]) for d in declared] == [("a", "shared", True), ("b", "own", True)]


def test_key_options_next_to_items_are_refused():
    with pytest.raises(ValidationError, match="^name: cannot be used with items"):
        _declare("prisma_network_ruleset", name="x", items=[{"name": "a"}])
    with pytest.raises(ValidationError, match="^id: cannot be used with items"):
        _declare("nsxt_policy_group", id="x", items=[{"name": "a"}])


def test_rules_spanning_options_see_the_merged_item():
    with pytest.raises(ValidationError, match=r"^items\[0\]\.discovery_mode: is mutually exclusive with default_incoming_action"):
        _declare("prisma_namespace", discovery_mode=True, items=[{"name": "a", "default_incoming_action": "allow"}])
    with pytest.raises(ValidationError, match=r"^items\[1\]\.name: is required"):
        _declare("prisma_tcp_service", items=[{"name": "a"}, {"port": 80}])


def test_nsx_section_placement_is_no_body_attribute():
    declared = _declare("nsxt_firewall_section", name="s", stateful=True, position="top")[0]
    assert declared.values["position"] == "top"
    assert not [k for k in declared.desired if "position" in k or k.startswith("_")]
    assert declared.desired["section_type"] == "LAYER3"


def test_task_context_reaches_build():
    declared = _declare("nsxt_security_policy", name="p", domain="blue", applied_to=["web"])[0]
    assert declared.desired["scope"] == ["/infra/domains/blue/groups/web"]
