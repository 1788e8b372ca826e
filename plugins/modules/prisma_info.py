#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: prisma_info
short_description: List Prisma Cloud Microsegmentation objects
version_added: 1.0.0
description:
  - Read the objects of one kind in a namespace, optionally with those of its child namespaces
    (O(recursive)) or the ones its ancestors propagate (O(propagated)), filtered by name or by an
    API filter expression.
  - Reads every page; certificate keys are masked in the result.
author: Microseg Segmentation Maintainers (@microseg)
extends_documentation_fragment:
  - microseg.segmentation.prisma
  - microseg.segmentation.attributes.info
  - microseg.segmentation.prisma.attributes
options:
  kind:
    description: The kind of object to list.
    type: str
    required: true
    choices:
      - namespace
      - external_network
      - network_ruleset
      - tcp_service
      - service_dependency_policy
      - enforcer_profile
      - enforcer_profile_mapping
  name:
    description: Only the object with this name (for namespaces, the short name or the absolute path).
    type: str
  filter:
    description:
      - An API filter expression (the C(q) parameter), for example V(propagate == true and disabled == false).
    type: str
  recursive:
    description: Include the objects of every child namespace.
    type: bool
    default: false
  propagated:
    description: Include the objects that ancestor namespaces propagate to this one.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Every ruleset under /acme
  microseg.segmentation.prisma_info:
    namespace: /acme
    kind: network_ruleset
    recursive: true
  register: rulesets

- name: The rulesets that apply in /acme/prod, its own and the inherited ones
  microseg.segmentation.prisma_info:
    namespace: /acme/prod
    kind: network_ruleset
    propagated: true
"""

RETURN = r"""
objects:
  description: The objects found, as the API returns them.
  returned: always
  type: list
  elements: dict
count:
  description: How many objects were found.
  returned: always
  type: int
  sample: 3
"""

import posixpath

from ansible_collections.microseg.segmentation.plugins.module_utils._core.checkmode import Notes, add_warnings, warnings_of
from ansible_collections.microseg.segmentation.plugins.module_utils._core.runner import run_module
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.checkmode import read_or_empty
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.common import PrismaConnection, prisma_argument_spec, quote_filter_value
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.kinds import OBJECTS


def execute(module, connection, prepared):
    params = module.params
    kind, resource, dummy = OBJECTS[params["kind"]]
    filters = []
    if params["name"] is not None:
        name = params["name"]
        if params["kind"] == "namespace" and not name.startswith("/"):
            name = posixpath.join(connection.namespace, name)
        filters.append("name == %s" % quote_filter_value(name))
    if params["filter"]:
        filters.append("(%s)" % params["filter"])
    query = {}
    if filters:
        query["q"] = " and ".join(filters)
    if params["recursive"]:
        query["recursive"] = "true"
    if params["propagated"]:
        query["propagated"] = "true"
    holder = Notes()
    found = read_or_empty(module.check_mode, connection, connection.namespace, lambda: connection.list_all(resource, params=query), [], holder)
    objects = [kind.mask(obj) for obj in found]
    return add_warnings(dict(objects=objects, count=len(objects)), warnings_of(holder))


def main():
    argument_spec = prisma_argument_spec()
    argument_spec.update(
        kind=dict(type="str", required=True, choices=list(OBJECTS)),
        name=dict(type="str"),
        filter=dict(type="str"),
        recursive=dict(type="bool", default=False),
        propagated=dict(type="bool", default=False),
    )
    run_module(argument_spec, execute, connect=PrismaConnection)


if __name__ == "__main__":
    main()
