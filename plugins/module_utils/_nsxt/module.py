# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runner of the NSX-T object modules."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.microseg.segmentation.plugins.module_utils._core.module import ObjectModule
from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Field
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.common import NsxtConnection, build_tags, canon_tags, nsxt_argument_spec

COMMON_FIELDS = [
    Field("name", "display_name"),
    Field("description", "description", empty=""),
    Field("tags", "tags", compare=canon_tags, empty=[]),
]


def rule_spec(actions):
    """Argument spec of a firewall rule; both APIs take the same options but their actions."""
    return dict(
        name=dict(type="str", required=True),
        action=dict(type="str", required=True, choices=list(actions)),
        sources=dict(type="list", elements="str"),
        destinations=dict(type="list", elements="str"),
        services=dict(type="list", elements="str", default=["any"]),
        applied_to=dict(type="list", elements="str"),
        direction=dict(type="str", choices=["in", "out", "in_out"], default="in_out"),
        ip_protocol=dict(type="str", choices=["ipv4", "ipv6", "ipv4_ipv6"], default="ipv4_ipv6"),
        logged=dict(type="bool", default=False),
        disabled=dict(type="bool", default=False),
        sources_excluded=dict(type="bool", default=False),
        destinations_excluded=dict(type="bool", default=False),
        notes=dict(type="str"),
    )


def common_spec():
    return dict(name=dict(type="str"), description=dict(type="str"), tags=dict(type="list", elements="raw"))


def build_common(params, prefix):
    desired = {"display_name": params["name"]}
    if params.get("description") is not None:
        if len(params["description"]) > 1024:
            raise ValidationError(prefix + "description", "must be at most 1024 characters long")
        desired["description"] = params["description"]
    tags = build_tags(params, prefix)
    if tags is not None:
        desired["tags"] = tags
    return desired


class NsxtPolicyModule(ObjectModule):
    """A Policy API object module: objects of one collection of a domain, addressed by id."""

    def __init__(self, kind, collection, object_spec, build, adapter_class, **kwargs):
        spec = dict(object_spec)
        spec["id"] = dict(type="str")
        kwargs["extra_spec"] = dict(dict(kwargs.get("extra_spec") or {}), domain=dict(type="str", default="default"), purge_scope=dict(type="str"))
        super(NsxtPolicyModule, self).__init__(kind, collection, spec, build, adapter_class, **kwargs)

    def connection_spec(self):
        return nsxt_argument_spec()

    def connect(self, params):
        return NsxtConnection(params)

    def adapter(self, connection, params):
        adapter = self.adapter_class(connection, self.kind, self.resource, domain=params["domain"])
        adapter.purge_scope = params.get("purge_scope")
        return adapter


class NsxtManagerModule(ObjectModule):
    """A Manager API object module: objects found by display name (ids are the server's).

    Manager objects are global to the manager, so a purge must name the scope it works in.
    """

    def __init__(self, kind, resource, object_spec, build, adapter_class, **kwargs):
        kwargs["extra_spec"] = dict(dict(kwargs.get("extra_spec") or {}), purge_scope=dict(type="str"))
        super(NsxtManagerModule, self).__init__(kind, resource, object_spec, build, adapter_class, **kwargs)

    def _declared(self, module):
        if module.params.get("purge") and not module.params.get("purge_scope"):
            raise ValidationError("purge_scope", "is required with purge on the Manager API: its objects are global to the manager, "
                                  "so a purge only deletes the objects an earlier list form tagged with the same scope")
        return super(NsxtManagerModule, self)._declared(module)

    @staticmethod
    def identity(values):
        return values["name"]

    def connection_spec(self):
        return nsxt_argument_spec()

    def connect(self, params):
        return NsxtConnection(params)

    def adapter(self, connection, params):
        adapter = self.adapter_class(connection, self.kind)
        adapter.purge_scope = params.get("purge_scope")
        return adapter
