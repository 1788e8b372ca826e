#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: prisma_namespace
short_description: Manage Prisma Cloud Microsegmentation namespaces
version_added: 1.0.0
description:
  - Create, update and delete child namespaces, switch discovery mode on and off, and set the tag
    prefixes used to suggest policies.
  - The namespace is created under O(namespace) (its parent). O(name) may also be the absolute path of
    the namespace, in which case its parent is taken from the path.
  - Deleting a namespace deletes everything in it.
  - With O(items), many child namespaces of O(namespace) are reconciled in one task.
author: Microseg Segmentation Maintainers (@microseg)
extends_documentation_fragment:
  - microseg.segmentation.prisma
  - microseg.segmentation.prisma.object
  - microseg.segmentation.attributes
  - microseg.segmentation.prisma.attributes
  - microseg.segmentation.prisma.common
options:
  name:
    description:
      - Short name of the child namespace (letters, digits, C(-) and C(_)), or its absolute path such as
        C(/acme/prod/web). In the list form, short names only.
      - Required unless O(items) is used.
    type: str
  type:
    description:
      - The kind of namespace. Can only be set when the namespace is created; the API default is V(Default).
    type: str
    choices: [Default, Tenant, CloudAccount, Group, Kubernetes, ECS]
  discovery_mode:
    description:
      - V(true) sets both default traffic actions of the processing units to C(Allow) (discovery mode),
        V(false) sets both to C(Reject).
      - Changing it needs privileges in the parent namespace.
      - Mutually exclusive with O(default_incoming_action) and O(default_outgoing_action).
    type: bool
  default_incoming_action:
    description: What happens to incoming traffic no ruleset matches.
    type: str
    choices: [allow, reject, inherit]
  default_outgoing_action:
    description: What happens to outgoing traffic no ruleset matches.
    type: str
    choices: [allow, reject, inherit]
  tag_prefixes:
    description:
      - Tag prefixes (such as V(app=)) used to suggest policies; only tags with these prefixes are sent on
        the wire. Compared without regard to order.
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: A Kubernetes namespace in discovery mode, suggesting policies by app label
  microseg.segmentation.prisma_namespace:
    namespace: /acme
    name: prod
    type: Kubernetes
    discovery_mode: true
    tag_prefixes: [app=]

- name: Leave discovery mode once the rulesets are in place
  microseg.segmentation.prisma_namespace:
    name: /acme/prod
    discovery_mode: false

- name: Several child namespaces at once
  microseg.segmentation.prisma_namespace:
    namespace: /acme
    items:
      - name: dev
        type: Group
      - name: staging
        type: Group
"""

RETURN = r"""
id:
  description: The API identifier of the namespace.
  returned: single object
  type: str
  sample: 5d2398157ddf1f3519ce6d96
action:
  description: What the task did or, in check mode, would do (V(create), V(update), V(delete) or V(none)).
  returned: single object
  type: str
object:
  description: The namespace as the API returned it (predicted in check mode). Its C(name) is the absolute path.
  returned: single object
  type: dict
summary:
  description: Names of the namespaces created, updated, deleted and left unchanged.
  returned: list form
  type: dict
objects:
  description: One entry per namespace with its name, action and identifier.
  returned: list form
  type: list
  elements: dict
"""

import copy
import posixpath
import re

from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Field, Kind
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.common import PrismaAdapter, PrismaObjectModule
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.fields import build_common, common_fields, common_spec, set_if

ACTIONS = {"allow": "Allow", "reject": "Reject", "inherit": "Inherit"}
SHORT_NAME = re.compile(r"^[a-zA-Z0-9_-]+\Z")

KIND = Kind(
    "namespace",
    "namespace",
    common_fields("protected") + [
        Field("type", "type", create_only=True, empty="Default"),
        Field("default_incoming_action", "defaultPUIncomingTrafficAction", empty="Inherit"),
        Field("default_outgoing_action", "defaultPUOutgoingTrafficAction", empty="Inherit"),
        Field("tag_prefixes", "tagPrefixes", compare="set", empty=[]),
    ],
)

OBJECT_SPEC = common_spec("protected")
OBJECT_SPEC.update(
    type=dict(type="str", choices=["Default", "Tenant", "CloudAccount", "Group", "Kubernetes", "ECS"]),
    discovery_mode=dict(type="bool"),
    default_incoming_action=dict(type="str", choices=list(ACTIONS)),
    default_outgoing_action=dict(type="str", choices=list(ACTIONS)),
    tag_prefixes=dict(type="list", elements="str", no_log=False),
)

EXCLUSIVE = [("discovery_mode", "default_incoming_action"), ("discovery_mode", "default_outgoing_action")]


def build(params, prefix):
    name = params["name"]
    short = posixpath.basename(name) if name.startswith("/") else name
    if prefix and name.startswith("/"):
        raise ValidationError(prefix + "name", "'%s': give the short name in the list form; the parent is the namespace option" % name)
    if not SHORT_NAME.match(short or ""):
        raise ValidationError(prefix + "name", "'%s' is not a valid namespace name: use letters, digits, '-' and '_'" % name)
    desired = build_common(params, prefix, ("protected",))
    set_if(desired, params, "type", "type")
    if params.get("discovery_mode") is not None:
        action = "Allow" if params["discovery_mode"] else "Reject"
        desired["defaultPUIncomingTrafficAction"] = action
        desired["defaultPUOutgoingTrafficAction"] = action
    set_if(desired, params, "default_incoming_action", "defaultPUIncomingTrafficAction", ACTIONS.get)
    set_if(desired, params, "default_outgoing_action", "defaultPUOutgoingTrafficAction", ACTIONS.get)
    if params.get("tag_prefixes") is not None:
        for index, tag_prefix in enumerate(params["tag_prefixes"]):
            if not tag_prefix or " " in tag_prefix:
                raise ValidationError("%stag_prefixes[%d]" % (prefix, index), "'%s' is not a valid tag prefix" % tag_prefix)
        desired["tagPrefixes"] = params["tag_prefixes"]
    return desired


class NamespaceAdapter(PrismaAdapter):
    """Namespaces are stored under their absolute path and listed from their parent."""

    def _split(self, name):
        if name.startswith("/"):
            return posixpath.dirname(name) or "/", posixpath.basename(name)
        return self.namespace, name

    def find(self, name):
        parent, short = self._split(name)
        self.namespace = parent
        return super(NamespaceAdapter, self).find(short)

    def api_name(self, name):
        return posixpath.join(self.namespace, name)

    def name_of(self, obj):
        return posixpath.basename(obj.get("name", ""))

    def create_body(self, name, body):
        body = copy.deepcopy(body)
        body["name"] = self._split(name)[1]
        return body

    def predict_create(self, name, body):
        predicted = self.create_body(name, body)
        predicted["name"] = self.api_name(predicted["name"])
        predicted["namespace"] = self.namespace
        return predicted


def main():
    PrismaObjectModule(KIND, "/namespaces", OBJECT_SPEC, build, adapter_class=NamespaceAdapter, mutually_exclusive=EXCLUSIVE).run()


if __name__ == "__main__":
    main()
