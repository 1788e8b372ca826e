#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: secure_workload_inventory_filter
short_description: Manage Cisco Secure Workload inventory filters
version_added: 1.0.0
description:
  - Create, update and delete the inventory filters of one scope (C(/openapi/v1/filters/inventories)).
  - A filter is found by name among the filters of O(scope); one read resolves the scope by its full
    name, one lists its filters. A no-change run sends no write.
  - Only the options the task sets are compared. O(query) is compared with the filter's stored query
    (C(short_query)) without regard to the order of the operands of C(and) and C(or).
  - Inventory filter names are not unique in Secure Workload; two filters of the same name in the
    scope make the task fail.
author: Microseg Segmentation Maintainers (@microseg)
extends_documentation_fragment:
  - microseg.segmentation.secure_workload
  - microseg.segmentation.secure_workload.object
  - microseg.segmentation.attributes
  - microseg.segmentation.secure_workload.attributes
options:
  name:
    description: Name of the inventory filter. Required unless O(items) is used.
    type: str
  scope:
    description:
      - Full name of the scope that owns the filter, for example V(Default:Apps).
      - When it does not exist, a task that creates or updates fails after that read and before any write.
    type: str
    required: true
  query:
    description:
      - The filter, in the grammar of M(microseg.segmentation.secure_workload_scope)'s O(microseg.segmentation.secure_workload_scope#module:query).
      - Checked before any request; a filter that does not parse fails naming its part.
      - Required to create an inventory filter.
    type: dict
  primary:
    description: Restrict the filter to its scope's members (its query is then ANDed with the scope's).
    type: bool
  public:
    description: Provide the filter as a service of its scope; needs O(primary).
    type: bool
seealso:
  - module: microseg.segmentation.secure_workload_scope
  - module: microseg.segmentation.secure_workload_info
"""

EXAMPLES = r"""
- name: The DNS servers, as a service of the Apps scope
  microseg.segmentation.secure_workload_inventory_filter:
    scope: "Default:Apps"
    name: dns-servers
    query: {type: in, field: ip, values: [10.0.0.53, 10.0.1.53]}
    primary: true
    public: true

- name: Delete an inventory filter
  microseg.segmentation.secure_workload_inventory_filter:
    scope: "Default:Apps"
    name: dns-servers
    state: absent
"""

RETURN = r"""
id:
  description: The inventory filter's id (absent when it did not exist and O(state=absent)).
  returned: single object
  type: str
  sample: 5f88c996755f023f3bafe163
action:
  description: What the task did or, in check mode, would do (V(create), V(update), V(delete) or V(none)).
  returned: single object
  type: str
object:
  description:
    - The filter as the API returned it (predicted in check mode); empty after a delete.
    - C(short_query) is the query the task sets; C(query) is the effective one (ANDed with the scope's when primary).
  returned: single object
  type: dict
summary:
  description: Names of the filters created, updated, deleted and left unchanged.
  returned: list form
  type: dict
objects:
  description: One entry per filter with its name, action and id.
  returned: list form
  type: list
  elements: dict
"""

from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Field, Kind
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.common import SwObjectModule
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.scopes import InventoryFilterAdapter, build_query, canon_query

KIND = Kind(
    "inventory_filter",
    "Inventory filter",
    [
        Field("query", "short_query", compare=canon_query),
        Field("primary", "primary", empty=False),
        Field("public", "public", empty=False),
    ],
    create_requires=[("short_query", "query")],
)

OBJECT_SPEC = dict(
    name=dict(type="str"),
    query=dict(type="dict"),
    primary=dict(type="bool"),
    public=dict(type="bool"),
)
EXTRA_SPEC = dict(scope=dict(type="str", required=True))


def build(params, prefix):
    desired = {}
    query = build_query(params, prefix)
    if query is not None:
        desired["short_query"] = query
    for option in ("primary", "public"):
        if params.get(option) is not None:
            desired[option] = params[option]
    if params.get("public") and params.get("primary") is False:
        raise ValidationError(prefix + "public", "a public filter must also be primary (primary=false was given)")
    return desired


def main():
    SwObjectModule(KIND, "filters/inventories", OBJECT_SPEC, build, InventoryFilterAdapter, extra_spec=EXTRA_SPEC).run()


if __name__ == "__main__":
    main()
