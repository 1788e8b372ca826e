#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: secure_workload_scope
short_description: Manage Cisco Secure Workload scopes
version_added: 1.0.0
description:
  - Create, update and delete the child scopes of one parent scope (C(/openapi/v1/app_scopes)).
  - A scope is found by its short name among the children of O(parent); finding it, and resolving
    O(parent), takes one read of the scope list. A no-change run sends no write.
  - Only the options the task sets are compared. O(query) is compared with the scope's query
    without regard to the order of the operands of C(and) and C(or); when the scope is dirty (a
    changed query not yet committed), with its pending query.
  - A changed query makes the scope dirty until it is committed; with O(commit=true) the task commits
    it at once (C(POST /app_scopes/commit_dirty) on the root scope), which commits every pending query
    under that root.
  - A scope cannot be moved to another parent with this module, and root scopes are not managed.
author: Microseg Segmentation Maintainers (@microseg)
extends_documentation_fragment:
  - microseg.segmentation.secure_workload
  - microseg.segmentation.secure_workload.object
  - microseg.segmentation.attributes
  - microseg.segmentation.secure_workload.attributes
options:
  name:
    description: Short name of the scope, unique among the children of O(parent). Required unless O(items) is used.
    type: str
  parent:
    description:
      - Full name of the parent scope, for example V(Default) or V(Default:Apps).
      - When it does not exist, a task that creates or updates fails after reading the scope list and before any write.
    type: str
    required: true
  description:
    description: Description of the scope.
    type: str
  query:
    description:
      - The scope's own filter (C(short_query)); the scope's members are those of its parent that match it.
      - A primitive filter is V({type, field, value}) with type V(eq), V(ne), V(lt), V(lte), V(gt), V(gte),
        V(regex), V(subnet), V(contains) or V(range); V(in) takes V(values), a list. An C(and) or C(or) filter
        (C(filters), a list) combines filters, a C(not) filter (C(filter)) negates one.
      - Checked before any request; a filter that breaks the grammar fails naming its part.
      - Required to create a scope.
    type: dict
  policy_priority:
    description: Position of the scope among its siblings for policy ordering (1 is first).
    type: int
  commit:
    description:
      - Commit a changed (dirty) query right after the change, in the same task; also commits the
        pending query of a scope an earlier task left dirty.
      - With V(false) the scope stays dirty and a later commit applies its query.
    type: bool
    default: true
seealso:
  - module: microseg.segmentation.secure_workload_inventory_filter
  - module: microseg.segmentation.secure_workload_info
"""

EXAMPLES = r"""
- name: A scope for the applications of the Default tenant
  microseg.segmentation.secure_workload_scope:
    parent: Default
    name: Apps
    description: Application workloads
    query: {type: subnet, field: ip, value: 10.0.0.0/8}

- name: Two child scopes in one task
  microseg.segmentation.secure_workload_scope:
    parent: "Default:Apps"
    items:
      - name: web
        query:
          type: and
          filters:
            - {type: eq, field: user_orchestrator_system/namespace, value: x1}
            - {type: in, field: user_orchestrator_system/pod_label_app, values: [web, frontend]}
      - name: legacy
        state: absent

- name: Delete a scope
  microseg.segmentation.secure_workload_scope:
    parent: Default
    name: Apps
    state: absent
"""

RETURN = r"""
id:
  description: The scope's id (absent when it did not exist and O(state=absent)).
  returned: single object
  type: str
  sample: 5f88c996755f023f3bafe163
action:
  description: What the task did or, in check mode, would do (V(create), V(update), V(delete) or V(none)).
  returned: single object
  type: str
object:
  description:
    - The scope as the API returned it (predicted in check mode); empty after a delete.
    - When the scope is dirty, C(short_query) is its pending query and C(committed_short_query) the committed one.
    - C(query_committed) is V(true) when the task committed the scope's query.
  returned: single object
  type: dict
summary:
  description: Short names of the scopes created, updated, deleted and left unchanged.
  returned: list form
  type: dict
objects:
  description: One entry per scope with its name, action and id.
  returned: list form
  type: list
  elements: dict
"""

from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Field, Kind
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.common import SwObjectModule
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.scopes import ScopeAdapter, build_query, canon_query

KIND = Kind(
    "scope",
    "Scope",
    [
        Field("name", "short_name"),
        Field("description", "description"),
        Field("query", "short_query", compare=canon_query),
        Field("policy_priority", "policy_priority"),
        Field("commit", "dirty"),
    ],
    create_requires=[("short_query", "query")],
    identity="name",
)

OBJECT_SPEC = dict(
    name=dict(type="str"),
    description=dict(type="str"),
    query=dict(type="dict"),
    policy_priority=dict(type="int"),
)
EXTRA_SPEC = dict(
    parent=dict(type="str", required=True),
    commit=dict(type="bool", default=True),
)


def build(params, prefix):
    desired = {}
    if params.get("description") is not None:
        desired["description"] = params["description"]
    query = build_query(params, prefix)
    if query is not None:
        desired["short_query"] = query
    if params.get("policy_priority") is not None:
        if params["policy_priority"] < 1:
            raise ValidationError(prefix + "policy_priority", "must be 1 or more, got %d" % params["policy_priority"])
        desired["policy_priority"] = params["policy_priority"]
    if ":" in (params.get("name") or ""):
        raise ValidationError(prefix + "name", "is the short name, without ':' (set the parent with parent)")
    return desired


def main():
    SwObjectModule(KIND, "app_scopes", OBJECT_SPEC, build, ScopeAdapter, extra_spec=EXTRA_SPEC).run()


if __name__ == "__main__":
    main()
