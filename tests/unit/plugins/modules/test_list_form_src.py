# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``src`` option: declarations read from files (``_core/sources.py``), and how an object
module turns them into its list form (``_core/module.py``): validation with the file and item in
every message, secrets registered before anything is printed, the result's invocation without the
items."""

import contextlib
import copy
import glob
import io
import json
import os
import re

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.testing import patch_module_args

from ansible_collections.microseg.segmentation.plugins.module_utils._core.adapter import Task
from ansible_collections.microseg.segmentation.plugins.module_utils._core.errors import MicrosegError
from ansible_collections.microseg.segmentation.plugins.module_utils._core.flowcheck import FlowCheck, Verdict
from ansible_collections.microseg.segmentation.plugins.module_utils._core.sources import _fast_item, _Unsure, expand, read_entries, validate_entries
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError

from test_bad_inputs import ReadOnlyConnection  # pylint: disable=import-error
from test_object_modules import OBJECT_MODULES  # pylint: disable=import-error

RULESET = OBJECT_MODULES["prisma_network_ruleset"]
CONNECTION = {"api_url": "https://127.0.0.1:1", "token": "unit-test-token", "namespace": "/acme"}


def write(path, content):
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    with open(str(path), "w") as handle:
        handle.write(content if isinstance(content, str) else yaml.safe_dump(content))
    return str(path)


def ruleset(name, port=443):
    return {"name": name, "subject": [["app=%s" % name]], "incoming_rules": [{"object": [["app=lb"]], "protocol_ports": ["tcp/%d" % port]}]}


# ---------------------------------------------------------------- which files


def test_a_directory_is_read_recursively_in_path_order_without_hidden_or_foreign_files(tmp_path):
    for rel in ("b.yml", "a/z.json", "a/y.yaml", ".hidden.yml", ".git/x.yml", "notes.txt", "a/README.md"):
        write(tmp_path / rel, "[]")
    assert expand([str(tmp_path)]) == [str(tmp_path / p) for p in ("a/y.yaml", "a/z.json", "b.yml")]


def test_globs_are_expanded_sorted_and_a_file_named_twice_is_read_once(tmp_path):
    for rel in ("web/b.yml", "web/a.yml", "db/c.yml"):
        write(tmp_path / rel, "[]")
    files = expand([str(tmp_path / "**" / "*.yml"), str(tmp_path / "web" / "a.yml")])
    assert files == [str(tmp_path / p) for p in ("db/c.yml", "web/a.yml", "web/b.yml")]


@pytest.mark.parametrize("paths, message", [
    (["missing.yml"], "src: 'DIR/missing.yml': no such file or directory"),
    (["empty"], "src: directory 'DIR/empty' holds no .yml, .yaml or .json file"),
    (["*.nothing"], "src: 'DIR/*.nothing' matches no .yml, .yaml or .json file"),
])
def test_a_path_that_names_no_file_fails(tmp_path, paths, message):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValidationError) as err:
        expand([str(tmp_path / p) for p in paths])
    assert str(err.value) == message.replace("DIR", str(tmp_path))


# ---------------------------------------------------------------- what a file holds


def test_a_list_file_and_a_mapping_file_give_located_items(tmp_path):
    write(tmp_path / "a.yml", [ruleset("one"), ruleset("two")])
    write(tmp_path / "b.json", json.dumps({"three": {"subject": [["app=x"]]}, "four": None}))
    entries = read_entries([str(tmp_path)], key_option="name")
    assert [location.replace(str(tmp_path), "") for location, dummy in entries] == ["/a.yml[0]", "/a.yml[1]", "/b.json[three]", "/b.json[four]"]
    assert entries[2][1] == {"name": "three", "subject": [["app=x"]]} and entries[3][1] == {"name": "four"}


@pytest.mark.parametrize("content, key_option, message", [
    ("", "name", "F: is empty; write [] for a file that declares nothing"),
    ("# only a comment\n", "name", "F: is empty; write [] for a file that declares nothing"),
    ("just text", "name", "F: must hold a list of items or a mapping of name to item, not a str"),
    ("- name: a\n- 3\n", "name", "F[1]: must be a mapping of options"),
    ("web: [1, 2]\n", "name", "F[web]: must be a mapping of options"),
    ("web: {name: db}\n", "name", "F[web].name: 'db' differs from the key the file gives it"),
    ("web: {}\n", None, "F: must hold a list of items (these items have no single name a mapping key could give)"),
    ("- {name: a\n", "name", "F: is not valid YAML: "),
])
def test_a_file_that_does_not_hold_items_fails_naming_it(tmp_path, content, key_option, message):
    path = write(tmp_path / "f.yml", content)
    with pytest.raises(ValidationError) as err:
        read_entries([path], key_option)
    assert str(err.value).startswith(message.replace("F", path, 1))


def test_broken_json_is_named(tmp_path):
    path = write(tmp_path / "f.json", '[{"name": "a",]')
    with pytest.raises(ValidationError, match=r"f\.json: is not valid JSON"):
        read_entries([path], "name")


# ---------------------------------------------------------------- the module's list form from files


def prepared(args, module_runner=RULESET):
    """``(module, task, declared)`` as the module has them before its first request."""
    out = io.StringIO()
    with patch_module_args(dict(CONNECTION, **args)), contextlib.redirect_stdout(out):
        try:
            module = module_runner.build_module()
        except SystemExit:
            raise AssertionError(json.loads(out.getvalue())["msg"]) from None
    task, declared = module_runner.prepare(module)
    return module, task, declared


def test_items_from_files_are_declared_exactly_as_inline_items(tmp_path):
    write(tmp_path / "team-a.yml", [ruleset("a1"), ruleset("a2", port=8443)])
    write(tmp_path / "team-b.yml", {"b1": {"subject": [["app=b1"]]}})
    dummy, task, from_files = prepared({"src": [str(tmp_path)], "description": "default for all"})
    inline = [ruleset("a1"), ruleset("a2", port=8443), {"name": "b1", "subject": [["app=b1"]]}]
    dummy, dummy2, from_items = prepared({"items": inline, "description": "default for all"})
    assert task.list_form
    assert [(d.key, d.state, d.desired) for d in from_files] == [(d.key, d.state, d.desired) for d in from_items]
    assert from_files[0].desired["description"] == "default for all"
    assert [d.prefix.replace(str(tmp_path), "") for d in from_files] == ["/team-a.yml[0].", "/team-a.yml[1].", "/team-b.yml[b1]."]


@pytest.mark.parametrize("item, message", [
    ({"name": "x", "subject": "app=x", "colour": "red"}, r"\[1\]: unsupported option\(s\) colour"),
    ({"name": "x", "subject": [["app=x"]], "incoming_rules": "tcp/80"}, r"\[1\]: .*incoming_rules"),
    ({"name": "x", "subject": [["app=x"]], "incoming_rules": [{"object": [["app=y"]], "protocol_ports": ["tcp/99999"]}]},
     r"\[1\]\.incoming_rules\[0\]\.protocol_ports"),
    ({"subject": [["app=x"]]}, r"\[1\]\.name: is required"),
])
def test_a_bad_item_in_a_file_is_refused_naming_the_file_and_index(tmp_path, item, message):
    path = write(tmp_path / "policy" / "web.yml", [ruleset("fine"), item])
    with pytest.raises(MicrosegError) as err:
        prepared({"src": [path]})
    text = str(err.value)
    assert text.startswith(path + "["), text
    assert re.search(message, text), text


def test_one_name_in_two_places_is_refused_naming_both(tmp_path):
    path = write(tmp_path / "web.yml", [ruleset("dup")])
    with pytest.raises(MicrosegError, match=r"'dup' is declared more than once \(items\[0\] and %s\[0\]\)" % path.replace(".", r"\.")):
        module, task, declared = prepared({"src": [path], "items": [ruleset("dup")]})
        RULESET.execute(module, ReadOnlyConnection(None, []), (task, declared))


def test_purge_over_files_that_declare_nothing_needs_purge_empty(tmp_path):
    path = write(tmp_path / "retired.yml", "[]\n")
    with pytest.raises(ValidationError, match=r"^src: declares no object and purge is true"):
        prepared({"src": [path], "purge": True, "owner": "team-a"})
    dummy, task, declared = prepared({"src": [path], "purge": True, "owner": "team-a", "purge_empty": True})
    assert task.list_form and declared == []


def test_a_secret_read_from_a_file_is_registered_before_any_message(tmp_path):
    runner = OBJECT_MODULES["secure_workload_orchestrator"]
    path = write(tmp_path / "orch.yml", [{"name": "k8s", "auth_token": "s3cr3t-t0ken", "hosts_list": [{"host_name": "k"}]},
                                         {"name": "bad", "auth_token": "an0ther-s3cret", "delta_interval": "often"}])
    out = io.StringIO()
    args = {"url": "https://127.0.0.1:1", "api_key": "unit-test-key", "api_secret": "unit-test-secret", "root_scope": "Default", "src": [path]}
    with patch_module_args(args), contextlib.redirect_stdout(out):
        module = runner.build_module()
        with pytest.raises(ValidationError) as err:
            runner.prepare(module)
        assert {"s3cr3t-t0ken", "an0ther-s3cret"} <= module.no_log_values
        with pytest.raises(SystemExit):
            module.fail_json(msg=str(err.value), echo=path)
    result = json.loads(out.getvalue())
    assert result["msg"].startswith(path + "[1]: ") and "delta_interval" in result["msg"]
    assert "s3cr3t" not in out.getvalue() and "an0ther" not in out.getvalue()


# ---------------------------------------------------------------- the result's invocation


def exit_output(args):
    out = io.StringIO()
    with patch_module_args(dict(CONNECTION, **args)), contextlib.redirect_stdout(out):
        module = RULESET.build_module()
        with pytest.raises(SystemExit):
            module.exit_json(changed=False)
    return json.loads(out.getvalue())


def test_the_invocation_leaves_the_items_out_unless_details_all():
    items = [ruleset("r%d" % i) for i in range(3)]
    trimmed = exit_output({"items": items})["invocation"]["module_args"]
    assert trimmed["items"] == "3 item(s), not echoed (details: all echoes them)"
    assert trimmed["namespace"] == "/acme" and trimmed["token"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    full = exit_output({"items": items, "details": "all"})["invocation"]["module_args"]
    assert [i["name"] for i in full["items"]] == ["r0", "r1", "r2"]
    single = exit_output(ruleset("one"))["invocation"]["module_args"]
    assert single["name"] == "one" and single["items"] is None


def test_task_list_form_follows_items_or_src():
    assert not Task({"items": None, "src": None}).list_form
    assert Task({"items": None, "src": ["x"]}).list_form and Task({"items": [], "src": None}).list_form


# ---------------------------------------------------------------- flow checks read flows the same way


class GroupCheck(FlowCheck):
    """A flow check whose endpoints are group names, and where every flow to ``db`` is allowed."""

    endpoint_keys = ("group",)
    string_key = "group"

    def connection_spec(self):
        return {}

    def load(self, connection, params, flows):
        return lambda flow: Verdict("allow" if flow.destination["group"] == "db" else "deny", [])


def flow_check(args):
    check = GroupCheck()
    out = io.StringIO()
    with patch_module_args(args), contextlib.redirect_stdout(out):
        module = check.build_module()
    return check, module


def test_flows_from_files_are_checked_with_the_inline_ones(tmp_path):
    write(tmp_path / "flows" / "a.yml", [{"source": "web", "destination": "db", "service": "tcp/5432", "expect": "allow"}])
    write(tmp_path / "flows" / "b.yml", {"web to cache": {"source": "web", "destination": "cache", "expect": "allow"}})
    check, module = flow_check({"flows": [{"name": "inline", "source": "lb", "destination": "db", "expect": "allow"}],
                                "src": [str(tmp_path / "flows")]})
    flows = check.prepare(module)
    assert [(f.name, f.location.replace(str(tmp_path), "")) for f in flows] == [
        ("inline", "flows[0]"), ("web -> db tcp/5432", "/flows/a.yml[0]"), ("web to cache", "/flows/b.yml[web to cache]")]
    result = check.execute(module, None, flows)
    assert result["summary"] == "2/3 flows as expected" and [m["name"] for m in result["mismatches"]] == ["web to cache"]


@pytest.mark.parametrize("content, message", [
    ([{"source": "web"}], r"\[0\]: missing required arguments: destination"),
    ([{"source": "web", "destination": "db", "service": "tcp/http"}], r"\[0\]\.service: 'http': the port must be a number"),
    ([{"source": "web", "destination": "db", "expect": "maybe"}], r"\[0\]: value of expect must be one of"),
])
def test_a_bad_flow_in_a_file_is_refused_naming_the_file_and_index(tmp_path, content, message):
    path = write(tmp_path / "flows.yml", content)
    check, module = flow_check({"src": [path]})
    with pytest.raises(ValidationError) as err:
        check.prepare(module)
    assert str(err.value).startswith(path + "[") and re.search(message, str(err.value)), str(err.value)


def test_a_flow_check_needs_flows_or_src():
    check, module = flow_check({})
    with pytest.raises(ValidationError, match="^flows: give the flows to check, in flows or in files named by src$"):
        check.prepare(module)


# ---------------------------------------------------------------- the fast check gives what ArgumentSpecValidator gives


def declared_items():
    """``(module, item)`` for every inline list-form item in the playbooks and the integration targets."""
    root = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..")
    found = []

    def visit(node):
        if isinstance(node, dict):
            for key, value in node.items():
                name = key.rsplit(".", 1)[-1]
                if name in OBJECT_MODULES and isinstance(value, dict) and isinstance(value.get("items"), list):
                    found.extend((name, item) for item in value["items"] if isinstance(item, dict))
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    for pattern in ("playbooks/*.yml", "tests/integration/targets/*/tasks/*.yml"):
        for path in sorted(glob.glob(os.path.join(root, pattern))):
            with open(path) as handle:
                visit(yaml.load(handle, Loader=yaml.CSafeLoader))  # nosec: the safe loader (libyaml's)
    return found


def test_the_fast_check_agrees_with_argument_spec_validator_on_every_declared_item():
    items = declared_items()
    fast = 0
    for name, item in items:
        spec = OBJECT_MODULES[name].kind.item_spec()
        if "{{" in json.dumps(item):
            continue  # templated: its values are known only when Ansible renders them
        full = ArgumentSpecValidator(spec).validate(copy.deepcopy(item))
        try:
            quick = _fast_item(spec, copy.deepcopy(item))
        except _Unsure:
            continue
        fast += 1
        assert not full.errors.errors, (name, item, full.errors.errors)
        assert quick == full.validated_parameters, (name, item)
    assert len(items) > 100 and fast > len(items) // 2, (len(items), fast)


@pytest.mark.parametrize("item", [
    {"name": "x", "subject": [["app=x"]], "disabled": "yes"},                     # a bool to convert
    {"name": 7, "subject": [["app=x"]]},                                           # an int for a str
    {"name": "x", "incoming_rules": [{"object": [["a=b"]], "action": "maybe"}]},  # a bad choice
    {"name": "x", "incoming_rules": "tcp/80"},                                     # a string for a list
    {"name": "x", "colour": "red"},                                                # unsupported
])
def test_values_the_fast_check_is_unsure_of_go_to_argument_spec_validator(item):
    with pytest.raises(_Unsure):
        _fast_item(RULESET.kind.item_spec(), item)


def test_a_secret_always_takes_the_full_path_and_is_registered():
    spec = OBJECT_MODULES["secure_workload_orchestrator"].kind.item_spec()
    with pytest.raises(_Unsure):
        _fast_item(spec, {"name": "k8s", "auth_token": "tok-123456"})
    registered = set()
    validated = validate_entries([("f.yml[0]", {"name": "k8s", "auth_token": "tok-123456"})], spec, registered)
    assert registered == {"tok-123456"} and validated[0][1]["auth_token"] == "tok-123456"
