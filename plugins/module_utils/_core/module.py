# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runner every object module calls: options, validation of every object before any
request, the single-object and list forms, and one place where errors become results."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import HAS_REQUESTS, REQUESTS_IMPORT_ERROR, ApiError
from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Reconciler, ReconcileError
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import HAS_NETADDR, NETADDR_IMPORT_ERROR, ValidationError


def list_form_argument_spec():
    """``state`` and the list-form options (documented in each product's ``object`` fragment)."""
    return dict(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        items=dict(type="list", elements="dict"),
        purge=dict(type="bool", default=False),
        parallel=dict(type="int", default=8),
    )


class ObjectModule:
    """What a thin object module declares; ``run()`` does the rest.

    A product subclass provides ``connection_spec()``, ``connect(params)`` and
    ``adapter(connection, params)``; ``extra_spec`` holds task-level options that are not
    per object (such as an NSX domain).

    ``build(params, prefix)`` validates the object options of one object and returns the
    API attributes the user set. ``prefix`` is the option path of a list-form item.
    """

    def __init__(self, kind, resource, object_spec, build, adapter_class, mutually_exclusive=(), required_together=(), extra_spec=None):
        self.kind = kind
        self.resource = resource
        self.object_spec = object_spec
        self.build = build
        self.adapter_class = adapter_class
        self.mutually_exclusive = [list(x) for x in mutually_exclusive]
        self.required_together = [list(x) for x in required_together]
        self.extra_spec = extra_spec or {}

    def connection_spec(self):
        raise NotImplementedError

    def connect(self, params):
        raise NotImplementedError

    def adapter(self, connection, params):
        raise NotImplementedError

    # The options that identify an object (all required, per object); most kinds have a name.
    key_options = ("name",)

    @staticmethod
    def identity(values):
        """The key an object is found by (its name; some products use an id derived from it)."""
        return values.get("id") or values["name"]

    def check_task(self, params):
        """Hook: validate task-level options before any request."""

    # A product whose objects carry no tag cannot tell its own objects from others: no purge there.
    supports_purge = True

    def argument_spec(self):
        spec = self.connection_spec()
        spec.update(copy.deepcopy(self.extra_spec))
        spec.update(copy.deepcopy(self.object_spec))
        spec.update(list_form_argument_spec())
        if not self.supports_purge:
            del spec["purge"]
        return spec

    def _item_validator(self):
        spec = copy.deepcopy(self.object_spec)
        spec["state"] = dict(type="str", choices=["present", "absent"])
        return ArgumentSpecValidator(spec, mutually_exclusive=self.mutually_exclusive, required_together=self.required_together)

    def _declared(self, module):
        params = module.params
        self.check_task(params)
        if params.get("items") is None:
            missing = [option for option in self.key_options if params.get(option) is None]
            if missing:
                raise ValidationError(missing[0], "is required unless items is used")
            desired = self.build(params, "") if params["state"] == "present" else {}
            return [(self.identity(params), desired, params["state"])]
        given = [option for option in self.key_options if params.get(option) is not None]
        if given:
            raise ValidationError(given[0], "cannot be used with items (set it in each item)")
        validator = self._item_validator()
        declared = []
        for index, item in enumerate(params["items"]):
            prefix = "items[%d]." % index
            unknown = sorted(set(item) - set(self.object_spec) - set(["state"]))
            if unknown:
                raise ValidationError(prefix.rstrip("."), "unknown option(s) %s" % ", ".join(unknown))
            checked = validator.validate(item)
            if checked.error_messages:
                raise ValidationError(prefix.rstrip("."), "; ".join(checked.error_messages))
            values = checked.validated_parameters
            missing = [option for option in self.key_options if values.get(option) is None]
            if missing:
                raise ValidationError(prefix + missing[0], "is required")
            state = values.get("state") or params["state"]
            desired = self.build(values, prefix) if state == "present" else {}
            declared.append((self.identity(values), desired, state))
        return declared

    def run(self):
        module = AnsibleModule(
            argument_spec=self.argument_spec(),
            supports_check_mode=True,
            mutually_exclusive=self.mutually_exclusive,
            required_together=self.required_together,
        )
        if not HAS_REQUESTS:
            module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
        if not HAS_NETADDR:
            module.fail_json(msg=missing_required_lib("netaddr"), exception=NETADDR_IMPORT_ERROR)
        if module.params["parallel"] < 1 or module.params["parallel"] > 32:
            module.fail_json(msg="parallel: must be between 1 and 32, got %d" % module.params["parallel"])
        try:
            declared = self._declared(module)
        except ValidationError as exc:
            module.fail_json(msg=str(exc))
        connection = None
        try:
            connection = self.connect(module.params)
            adapter = self.adapter(connection, module.params)
            adapter.adopt = module.params.get("items") is not None
            canonical = getattr(adapter, "canonical", None)
            if canonical is not None:
                # keys that name other objects become canonical once the adapter has read them
                declared = [(canonical(key, state), desired, state) for key, desired, state in declared]
            reconciler = Reconciler(self.kind, adapter, check_mode=module.check_mode, parallel=module.params["parallel"])
            if module.params.get("items") is None:
                name, desired, state = declared[0]
                result = reconciler.ensure(name, desired, state, want_diff=module._diff)
            else:
                result = reconciler.ensure_many(declared, purge=module.params.get("purge", False), want_diff=module._diff)
        except (ValidationError, ReconcileError) as exc:
            module.fail_json(msg=str(exc))
        except ApiError as exc:
            module.fail_json(**exc.to_result())
        finally:
            if connection is not None:
                connection.close()
        if result.get("failed_objects"):
            module.fail_json(**result)
        module.exit_json(**result)
