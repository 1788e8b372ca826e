# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one runner: one exception hierarchy, one place where errors become results, the
connection closed whatever happens, a failed result reported as a failure."""

import pytest

from ansible_collections.microseg.segmentation.plugins.module_utils._core import runner as runner_module
from ansible_collections.microseg.segmentation.plugins.module_utils._core.errors import MicrosegError
from ansible_collections.microseg.segmentation.plugins.module_utils._core.flowcheck import FlowCheck, FlowCheckError
from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import ApiError
from ansible_collections.microseg.segmentation.plugins.module_utils._core.module import ObjectModule
from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import ReconcileError
from ansible_collections.microseg.segmentation.plugins.module_utils._core.runner import Runner, error_result, run_module
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._vsphere.common import VsphereError


class Exit(Exception):
    def __init__(self, failed, result):
        super().__init__("exit")
        self.failed = failed
        self.result = result


class FakeModule:
    """Stands in for AnsibleModule: records how the run ended."""

    def __init__(self, argument_spec=None, supports_check_mode=False, **kwargs):
        self.argument_spec = argument_spec
        self.options = kwargs
        self.params = {"name": "x"}
        self.check_mode = False
        self._diff = False

    def fail_json(self, msg=None, **kwargs):
        raise Exit(True, dict(kwargs, msg=msg))

    def exit_json(self, **kwargs):
        raise Exit(False, kwargs)


@pytest.fixture(autouse=True)
def fake_module(monkeypatch):
    monkeypatch.setattr(runner_module, "AnsibleModule", FakeModule)


class Closing:
    def __init__(self):
        self.closed = 0

    def close(self):
        self.closed += 1


def run(execute, **kwargs):
    with pytest.raises(Exit) as ended:
        run_module({"name": {"type": "str"}}, execute, **kwargs)
    return ended.value


def test_every_error_of_the_collection_is_one_kind():
    for error in (ValidationError, ApiError, ReconcileError, FlowCheckError, VsphereError):
        assert issubclass(error, MicrosegError)
    assert issubclass(ValidationError, ValueError)  # filters still catch it as a bad value


def test_object_and_flow_check_modules_run_on_the_same_runner():
    assert issubclass(ObjectModule, Runner) and issubclass(FlowCheck, Runner)
    assert ObjectModule.run is Runner.run and FlowCheck.run is Runner.run


@pytest.mark.parametrize("error, expected", [
    (ValidationError("items[2].port", "must be 1 to 65535"), {"msg": "items[2].port: must be 1 to 65535"}),
    (ReconcileError("scope: no scope is named 'x'"), {"msg": "scope: no scope is named 'x'"}),
    (FlowCheckError("flows[0]: nothing selected"), {"msg": "flows[0]: nothing selected"}),
    (ApiError("PUT https://h/x failed with status 422: bad", status=422, method="PUT", url="https://h/x", request_body={"a": 1},
              response={"error": "bad"}),
     {"msg": "PUT https://h/x failed with status 422: bad", "status": 422,
      "request": {"method": "PUT", "url": "https://h/x", "body": {"a": 1}}, "response": {"error": "bad"}}),
    (KeyError("other"), {"msg": "'other'"}),
])
def test_error_result(error, expected):
    assert error_result(error) == expected


def test_success_is_exit_json_with_changed_false_and_the_connection_closed():
    connection = Closing()
    ended = run(lambda module, conn, prepared: {"objects": [], "seen": conn is connection}, connect=lambda params: connection)
    assert (ended.failed, ended.result) == (False, {"objects": [], "seen": True, "changed": False})
    assert connection.closed == 1


def test_api_error_fails_with_status_and_request_and_closes_the_connection():
    connection = Closing()

    def execute(module, conn, prepared):
        raise ApiError("GET https://h/x failed with status 500: boom", status=500, method="GET", url="https://h/x")

    ended = run(execute, connect=lambda params: connection)
    assert ended.failed and ended.result["status"] == 500 and ended.result["request"] == {"method": "GET", "url": "https://h/x"}
    assert connection.closed == 1


def test_validation_in_prepare_fails_before_any_connection():
    connects = []

    def prepare(params):
        raise ValidationError("port", "expected a port")

    ended = run(lambda *a: {}, connect=connects.append, prepare=prepare)
    assert ended.failed and ended.result["msg"] == "port: expected a port"
    assert connects == []


def test_prepared_value_reaches_execute():
    ended = run(lambda module, conn, prepared: {"got": prepared}, prepare=lambda params: params["name"] + "!")
    assert ended.result["got"] == "x!"


def test_mapped_foreign_errors_fail_with_their_message_others_propagate():
    class ForeignError(Exception):
        pass

    def execute(module, conn, prepared):
        raise ForeignError("the cluster said no")

    assert run(execute, mapped_errors=(ForeignError,)).result["msg"] == "the cluster said no"
    with pytest.raises(ForeignError):
        run_module({}, execute)


def test_a_failed_result_is_reported_with_fail_json():
    ended = run(lambda *a: {"failed": True, "msg": "2 of 3 writes failed", "failed_objects": [{"name": "a"}]})
    assert ended.failed and ended.result == {"msg": "2 of 3 writes failed", "failed_objects": [{"name": "a"}], "changed": False}


def test_a_missing_library_fails_naming_it():
    ended = run(lambda *a: {}, libraries=[("kubernetes", False, "Traceback ...")])
    assert ended.failed and "kubernetes" in ended.result["msg"] and ended.result["exception"] == "Traceback ..."


def test_module_options_reach_the_module():
    seen = []

    def execute(module, conn, prepared):
        seen.append(module.options)
        return {}

    run(execute, required_if=[("kind", "orchestrator", ["scope"])])
    assert seen == [{"required_if": [("kind", "orchestrator", ["scope"])]}]


class WarningModule(FakeModule):
    warned = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        WarningModule.warned = []

    def warn(self, warning):
        WarningModule.warned.append(warning)


def test_validate_certs_false_warns_once_and_result_warnings_go_through_warn(monkeypatch):
    monkeypatch.setattr(runner_module, "AnsibleModule", WarningModule)

    def insecure_init(self, *args, **kwargs):
        FakeModule.__init__(self, *args, **kwargs)
        self.params.update(validate_certs=False)

    monkeypatch.setattr(WarningModule, "__init__", insecure_init)
    ended = run(lambda *a: {"changed": True, "conflict": True, "warnings": ["section 'a' was changed by another writer"]})
    assert not ended.failed and "warnings" not in ended.result and ended.result["conflict"] is True
    assert WarningModule.warned == [runner_module.INSECURE_WARNING, "section 'a' was changed by another writer"]
    WarningModule.warned = []
    monkeypatch.setattr(WarningModule, "__init__", FakeModule.__init__)
    run(lambda *a: {})
    assert WarningModule.warned == []
