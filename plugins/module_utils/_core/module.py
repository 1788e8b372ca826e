# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runner every object module calls: options, validation of every object before any
request, the single-object and list forms, and one place where errors become results."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import NoLogError

from ansible_collections.microseg.segmentation.plugins.module_utils._core.adapter import Task
from ansible_collections.microseg.segmentation.plugins.module_utils._core.checkmode import add_warnings, warnings_of
from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import REQUESTS
from ansible_collections.microseg.segmentation.plugins.module_utils._core.ownership import Ownership, check_ownership_options, ownership_argument_spec
from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Declared, Reconciler
from ansible_collections.microseg.segmentation.plugins.module_utils._core.runner import Runner
from ansible_collections.microseg.segmentation.plugins.module_utils._core.sources import read_validated, spec_error_message
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import NETADDR, ValidationError


def list_form_argument_spec(item_spec=None, parallel=8):
    """``state`` and the list-form options (``items`` and ``parallel`` documented in each product's
    ``object`` fragment, ``src`` and ``details`` in the ``list_form`` fragment).

    ``item_spec`` (``Kind.item_spec()``) declares the sub-options of ``items``, so that AnsibleModule
    knows their ``no_log`` values before it validates (or prints) anything.
    """
    items = dict(type="list", elements="dict")
    if item_spec is not None:
        items["options"] = item_spec
    return dict(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        items=items,
        src=dict(type="list", elements="path"),
        details=dict(type="str", default="changed", choices=["changed", "all"]),
        parallel=dict(type="int", default=parallel),
    )


class _ObjectAnsibleModule(AnsibleModule):
    """AnsibleModule that names the list-form item an argument-spec error is in (``items[3]: ...``).

    AnsibleModule validates ``items`` against its sub-options (registering their ``no_log`` values
    first) and reports an error as "... found in items"; the failing item is then found again here
    so that the message names it, as every other list-form error does.
    """

    def __init__(self, item_spec, **kwargs):
        self._item_spec = item_spec
        self._validating = True
        super(_ObjectAnsibleModule, self).__init__(**kwargs)
        self._validating = False

    def _invocation(self, kwargs):
        """The result's ``invocation`` without the declared items (unless ``details: all``): a list
        form of thousands of objects would otherwise carry every one of them back to the controller."""
        params = getattr(self, "params", None) or {}
        if "invocation" in kwargs or params.get("details") == "all" or not isinstance(params.get("items"), list):
            return kwargs
        args = dict(params)
        args["items"] = "%d item(s), not echoed (details: all echoes them)" % len(params["items"])
        return dict(kwargs, invocation={"module_args": args})

    def exit_json(self, **kwargs):
        super(_ObjectAnsibleModule, self).exit_json(**self._invocation(kwargs))

    def fail_json(self, msg=None, **kwargs):
        result = getattr(self, "validation_result", None) if getattr(self, "_validating", False) else None
        if result is not None and result.errors.errors and isinstance(result.errors.errors[0], NoLogError):
            msg = spec_error_message(result.errors.errors)
        if getattr(self, "_validating", False) and isinstance(self.params.get("items"), list):
            validator = ArgumentSpecValidator(self._item_spec)
            for index, item in enumerate(self.params["items"]):
                if not isinstance(item, dict):
                    msg = "items[%d]: must be a mapping of options" % index
                    break
                # the items AnsibleModule validated carry every sub-option, None when unset
                errors = validator.validate(dict((k, copy.deepcopy(v)) for k, v in item.items() if v is not None)).errors.errors
                if errors:
                    msg = "items[%d]: %s" % (index, spec_error_message(errors))
                    break
        super(_ObjectAnsibleModule, self).fail_json(msg=msg, **self._invocation(kwargs))


class ObjectModule(Runner):
    """What a thin object module declares (its ``Kind``, API resource and adapter); ``run()`` (the
    shared :class:`Runner`) does the rest.

    A product subclass provides ``connection_spec()``, ``connect(params)`` and ``tag_scheme`` (how its
    objects carry the management and owner tags; None when they carry none, and then there is no purge).

    Options: the Kind's Fields (object options and task options), the connection options, the
    list-form options and, where there is a tag scheme, the ownership options. In the list form an
    object option given next to ``items`` is the default of every item that does not set it; the
    options that identify an object (``key_options`` and ``Field(key=True)``) cannot be given there.
    """

    tag_scheme = None
    libraries = (REQUESTS, NETADDR)
    # how many writes a list form sends at once unless the task says (its option ``parallel``)
    default_parallel = 8

    # The options that identify an object (all required, per object); most kinds have a name.
    key_options = ("name",)

    def __init__(self, kind, resource, adapter_class):
        self.kind = kind
        self.resource = resource
        self.adapter_class = adapter_class

    def connection_spec(self):
        raise NotImplementedError

    def connect(self, params):
        raise NotImplementedError

    @staticmethod
    def identity(values):
        """The key an object is found by (its name; some products use an id derived from it)."""
        return values.get("id") or values["name"]

    def check_task(self, params):
        """Hook: validate task-level options before any request."""

    @property
    def supports_purge(self):
        return self.tag_scheme is not None

    def argument_spec(self):
        spec = self.connection_spec()
        spec.update(self.kind.argument_spec())
        spec.update(list_form_argument_spec(self.kind.item_spec(), self.default_parallel))
        if self.supports_purge:
            spec.update(ownership_argument_spec())
        return spec

    def ownership(self, params):
        if not self.supports_purge:
            return None
        return Ownership(self.tag_scheme, owner=params.get("owner"), adopt=params.get("adopt"), reserved_names=self.kind.reserved_names)

    def _check_object(self, values, prefix):
        for option in self.key_options:
            if values.get(option) is None:
                raise ValidationError(prefix + option, "is required" if prefix else "is required unless items is used")
        for group in self.kind.mutually_exclusive:
            given = [option for option in group if values.get(option) is not None]
            if len(given) > 1:
                raise ValidationError((prefix + given[0]) if prefix else given[0], "is mutually exclusive with %s" % ", ".join(given[1:]))
        for group in self.kind.required_together:
            given = [option for option in group if values.get(option) is not None]
            if given and len(given) != len(group):
                missing = [option for option in group if option not in given]
                raise ValidationError(prefix + missing[0], "is required together with %s" % ", ".join(given))

    def declare(self, params, task, entries=None):
        """Every object the task declares, validated and built, before any request.

        ``entries`` are the list form's ``(prefix, item)``: the inline ``items`` and those read from
        ``src`` (see :meth:`entries`); by default the inline ones.
        """
        self.check_task(params)
        if entries is None and not task.list_form:
            if self.supports_purge:
                check_ownership_options(params)
            self._check_object(params, "")
            desired = self.kind.build(params, "", task) if params["state"] == "present" else {}
            return [Declared(self.identity(params), desired, params["state"], params, "")]
        if entries is None:
            entries = self.entries(params)
        if self.supports_purge:
            check_ownership_options(params, [item for dummy, item in entries])
        object_options = self.kind.options(task=False)
        keys = [f.option for f in object_options if f.key or f.option in self.key_options]
        given = [option for option in keys if params.get(option) is not None]
        if given:
            raise ValidationError(given[0], "cannot be used with items or src (set it in each item)")
        defaults = dict((f.option, params[f.option]) for f in object_options if f.option not in keys and params.get(f.option) is not None)
        declared = []
        for prefix, item in entries:
            values = dict(item)
            for option, value in defaults.items():
                if values.get(option) is None:
                    values[option] = copy.deepcopy(value)
            self._check_object(values, prefix)
            state = values.get("state") or params["state"]
            desired = self.kind.build(values, prefix, task) if state == "present" else {}
            declared.append(Declared(self.identity(values), desired, state, values, prefix))
        return declared

    @staticmethod
    def entries(params, sourced=()):
        """The list form's ``(prefix, item)``: ``items[N].`` for the inline items, then
        ``<file>[N].`` for those read from ``src`` (``sourced``, already validated)."""
        inline = [("items[%d]." % index, item) for index, item in enumerate(params.get("items") or [])]
        return inline + [(location + ".", item) for location, item in sourced]

    def build_module(self):
        return _ObjectAnsibleModule(
            self.kind.item_spec(),
            argument_spec=self.argument_spec(),
            supports_check_mode=True,
            mutually_exclusive=self.kind.mutually_exclusive,
            required_together=self.kind.required_together,
        )

    def prepare(self, module):
        """Every object validated and built before any request: ``(task, declared)``."""
        params = module.params
        if params["parallel"] < 1 or params["parallel"] > 32:
            raise ValidationError("parallel", "must be between 1 and 32, got %d" % params["parallel"])
        task = Task(params, check_mode=module.check_mode, diff=module._diff, ownership=self.ownership(params))
        if not task.list_form:
            return task, self.declare(params, task)
        key_option = self.key_options[0] if len(self.key_options) == 1 else None
        sourced = read_validated(module, key_option, self.kind.item_spec())
        return task, self.declare(params, task, self.entries(params, sourced))

    def execute(self, module, connection, prepared):
        task, declared = prepared
        params = module.params
        adapter = self.adapter_class(connection, self.kind, task, self.resource)
        for item in declared:
            # keys that name other objects become canonical once the adapter has read them
            item.key = adapter.canonical(item.key, item.state)
        reconciler = Reconciler(self.kind, adapter, check_mode=module.check_mode, parallel=params["parallel"])
        if not task.list_form:
            result = reconciler.ensure(declared[0], want_diff=module._diff)
        else:
            result = reconciler.ensure_many(declared, purge=params.get("purge", False), want_diff=module._diff, details=params["details"])
        if result.get("failed_objects"):
            result["failed"] = True
        # what check mode assumed about objects an earlier task would create (_core/checkmode.py)
        return add_warnings(result, warnings_of(adapter))
