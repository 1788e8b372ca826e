# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one runner every module's ``main()`` goes through, and the one place errors become results.

A module (or its family: ``ObjectModule``, ``FlowCheck``) is a :class:`Runner`: it declares its
argument spec and the libraries it needs, validates what it can before any request
(``prepare``), opens its connection (``connect``) and does its work (``execute``), which returns
the result. ``run()`` builds the AnsibleModule, fails on a missing library, closes the
connection whatever happens, and turns every :class:`MicrosegError` (``ValidationError``,
``ApiError``, ``ReconcileError``, ``FlowCheckError``, ``VsphereError``), plus the foreign error
classes a module names in ``mapped_errors``, into ``fail_json`` in :func:`failing`.

A result with ``failed: true`` (objects that failed in a list form, flows not as expected) is
reported with ``fail_json``, every other one with ``exit_json``.

Read and action modules with no family use :func:`run_module`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from contextlib import contextmanager

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.microseg.segmentation.plugins.module_utils._core.errors import MicrosegError
from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import REQUESTS


def error_result(exc):
    """The ``fail_json`` keys of an error: the collection's errors say themselves (an API error
    adds its status, request and response); another error is its message."""
    if isinstance(exc, MicrosegError):
        return exc.to_result()
    return {"msg": str(exc)}


@contextmanager
def failing(module, mapped_errors=()):
    """Run the block; a collection error (or one of ``mapped_errors``) fails the task."""
    try:
        yield
    except (MicrosegError,) + tuple(mapped_errors) as exc:
        module.fail_json(**error_result(exc))


def require_libraries(module, libraries):
    """Fail naming the first library of ``(name, importable, import traceback)`` that is missing."""
    for name, present, error in libraries:
        if not present:
            module.fail_json(msg=missing_required_lib(name), exception=error)


INSECURE_WARNING = ("validate_certs is false: the server's TLS certificate is not verified, so anyone on the path can read "
                    "and change this task's requests, credentials included; give the server's CA with ca_path instead")


def warn_insecure(module):
    """Warn (once per task) when the task turns TLS certificate verification off."""
    if module.params.get("validate_certs") is False:
        module.warn(INSECURE_WARNING)


def finish(module, result):
    """``exit_json`` the result, or ``fail_json`` it when it says ``failed``; its ``warnings`` go
    through ``module.warn`` (passing them to exit_json is deprecated)."""
    result = dict(result)
    warnings = result.pop("warnings", None) or []
    for warning in [warnings] if isinstance(warnings, str) else warnings:
        module.warn(warning)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


class Runner:
    """What a module declares; ``run()`` does the rest (see the module docstring)."""

    libraries = (REQUESTS,)
    # error classes of other libraries whose message fails the task as it is
    mapped_errors = ()

    def argument_spec(self):
        raise NotImplementedError

    def module_options(self):
        """Further AnsibleModule arguments (``required_if``, ``mutually_exclusive``, ...)."""
        return {}

    def build_module(self):
        return AnsibleModule(argument_spec=self.argument_spec(), supports_check_mode=True, **self.module_options())

    def prepare(self, module):
        """Hook: validate (and convert) the input before any request; the value goes to ``execute``."""
        return None

    def connect(self, params):
        """Hook: the connection ``execute`` uses (anything with ``close()``), or None."""
        return None

    def execute(self, module, connection, prepared):
        """The module's work; returns the result (``changed`` defaults to false)."""
        raise NotImplementedError

    def run(self):
        module = self.build_module()
        require_libraries(module, self.libraries)
        warn_insecure(module)
        with failing(module, self.mapped_errors):
            prepared = self.prepare(module)
            connection = None
            try:
                connection = self.connect(module.params)
                result = self.execute(module, connection, prepared)
            finally:
                if connection is not None:
                    connection.close()
        result.setdefault("changed", False)
        finish(module, result)


class _FunctionRunner(Runner):

    def __init__(self, argument_spec, execute, connect=None, prepare=None, libraries=(REQUESTS,), mapped_errors=(), **module_options):
        self._argument_spec = argument_spec
        self._execute = execute
        self._connect = connect
        self._prepare = prepare
        self.libraries = tuple(libraries)
        self.mapped_errors = tuple(mapped_errors)
        self._module_options = module_options

    def argument_spec(self):
        return self._argument_spec

    def module_options(self):
        return self._module_options

    def prepare(self, module):
        return self._prepare(module.params) if self._prepare is not None else None

    def connect(self, params):
        return self._connect(params) if self._connect is not None else None

    def execute(self, module, connection, prepared):
        return self._execute(module, connection, prepared)


def run_module(argument_spec, execute, connect=None, prepare=None, libraries=(REQUESTS,), mapped_errors=(), **module_options):
    """Run a read or action module: ``prepare(params)`` checks the input before any request,
    ``connect(params)`` opens the connection, ``execute(module, connection, prepared)`` returns
    the result. ``module_options`` go to AnsibleModule."""
    _FunctionRunner(argument_spec, execute, connect, prepare, libraries, mapped_errors, **module_options).run()
