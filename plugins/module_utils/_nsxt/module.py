# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runner of the NSX-T object modules."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.microseg.segmentation.plugins.module_utils._core.module import ObjectModule
from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Field
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError, validate_text
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.common import NsxtConnection, NsxtTags, canon_tags, convert_tags, nsxt_argument_spec


def check_description(value, path):
    if len(value) > 1024:
        raise ValidationError(path, "must be at most 1024 characters long")
    return value


def check_display_name(value, path):
    """A display name: 1 to 255 characters (``display_name`` max 255, nsxt-api.md), no control character."""
    return validate_text(value, path, 255)


def check_given_id(value, path):
    """An ``id`` that is given must not be empty: an empty id is not "no id" (leave it out to use the name)."""
    if not value.strip():
        raise ValidationError(path, "must not be empty (leave id out to use the name as the id)")
    return value


def common_fields():
    """``name`` (the display name), ``description`` and ``tags`` of every NSX object."""
    return [
        Field("name", "display_name", convert=check_display_name),
        Field("description", "description", empty="", convert=check_description),
        Field("tags", "tags", compare=canon_tags, empty=[], convert=convert_tags, type="list", elements="raw"),
    ]


def policy_fields():
    """The options of every Policy API object: its ``id`` and the task's ``domain``."""
    return [Field("id", key=True, convert=check_given_id), Field("domain", task=True, default="default")]


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


class NsxtObjectModule(ObjectModule):
    """An NSX-T object module: NSX connection options and tags."""

    tag_scheme = NsxtTags()

    def connection_spec(self):
        return nsxt_argument_spec()

    def connect(self, params):
        return NsxtConnection(params)


class NsxtPolicyModule(NsxtObjectModule):
    """A Policy API object module: objects of one collection of a domain, addressed by id (default: the name)."""


class NsxtManagerModule(NsxtObjectModule):
    """A Manager API object module: objects found by display name (ids are the server's)."""

    @staticmethod
    def identity(values):
        return values["name"]
