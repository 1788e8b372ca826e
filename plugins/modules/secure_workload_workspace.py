#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: secure_workload_workspace
short_description: Manage Cisco Secure Workload workspaces
version_added: 1.0.0
description:
  - Create, update and delete the workspaces (applications) of one scope (C(/openapi/v1/applications)),
    and set their catch-all action.
  - A workspace is found by name among the workspaces of O(scope); one read resolves the scope by its
    full name, one lists its workspaces; the catch-all action is read (one more request) only when the
    task sets O(catch_all_action), and the clusters (one more) only when it sets O(clusters). A no-change
    run sends no write.
  - The O(clusters) of the workspace's working version are groups of workloads that its policies can
    name as consumer or provider, like inventory filters that belong to the workspace. A changed cluster
    is updated in place (C(PUT /openapi/v1/clusters/{id})), so policies that use it keep it.
  - Only the options the task sets are compared.
  - Deleting a primary workspace first makes it secondary (the API refuses to delete a primary one);
    a workspace that enforces its policies is not deleted (the task fails before any write).
author: Microseg Segmentation Maintainers (@microseg)
extends_documentation_fragment:
  - microseg.segmentation.secure_workload
  - microseg.segmentation.secure_workload.object
  - microseg.segmentation.attributes
  - microseg.segmentation.secure_workload.attributes
options:
  name:
    description: Name of the workspace. Required unless O(items) is used.
    type: str
  scope:
    description:
      - Full name of the workspace's scope, for example V(Default:Apps).
      - When it does not exist, a task that creates or updates fails after that read and before any write.
    type: str
    required: true
  description:
    description: Description of the workspace.
    type: str
  primary:
    description:
      - Whether the workspace is the primary one of its scope (a scope has at most one). The API creates
        workspaces primary unless told otherwise.
    type: bool
  catch_all_action:
    description: What the workspace does with traffic no policy matches (a new workspace denies it).
    type: str
    choices: [allow, deny]
  clusters:
    description:
      - Clusters of the workspace's working version, by name. Only the keys an entry sets are compared;
        clusters not listed are left alone unless O(purge_clusters=true).
      - Every query is checked on the client before the first request, as for inventory filters.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the cluster, unique in the workspace.
        type: str
        required: true
      description:
        description: Description of the cluster.
        type: str
      query:
        description:
          - The filter that selects the cluster's members, in the API's JSON form (the grammar of inventory
            filters), for example a C(subnet) filter on C(ip); see the examples.
        type: dict
        required: true
      approved:
        description: An approved cluster is not changed by an automatic policy discovery run.
        type: bool
  purge_clusters:
    description:
      - Delete the clusters of the working version that O(clusters) does not list (only when the task
        sets O(clusters)).
      - A cluster that a policy of the workspace uses is not deleted; the task fails before any write.
    type: bool
    default: false
seealso:
  - module: microseg.segmentation.secure_workload_scope
  - module: microseg.segmentation.secure_workload_info
"""

EXAMPLES = r"""
- name: The primary workspace of the Apps scope, allowing what no policy matches while it is built
  microseg.segmentation.secure_workload_workspace:
    scope: "Default:Apps"
    name: apps
    description: Policies of the applications
    catch_all_action: allow

- name: A workspace with two clusters its policies can name; other clusters are deleted
  microseg.segmentation.secure_workload_workspace:
    scope: "Default:Apps"
    name: apps
    clusters:
      - name: web-tier
        description: Web servers
        query: {type: subnet, field: ip, value: 10.1.1.0/24}
        approved: true
      - name: db-tier
        query:
          type: or
          filters:
            - {type: eq, field: ip, value: 10.1.2.10}
            - {type: eq, field: ip, value: 10.1.2.11}
    purge_clusters: true

- name: Delete a workspace (made secondary first if it is primary)
  microseg.segmentation.secure_workload_workspace:
    scope: "Default:Apps"
    name: apps
    state: absent
"""

RETURN = r"""
id:
  description: The workspace's id (absent when it did not exist and O(state=absent)).
  returned: single object
  type: str
  sample: 5f88c996755f023f3bafe163
action:
  description: What the task did or, in check mode, would do (V(create), V(update), V(delete) or V(none)).
  returned: single object
  type: str
object:
  description:
    - The workspace as the API returned it (predicted in check mode); empty after a delete.
    - C(catch_all_action) (V(ALLOW) or V(DENY)) is included when the task sets or creates it.
    - C(clusters) is included when the task sets O(clusters), each with the keys the task sets.
  returned: single object
  type: dict
summary:
  description: Names of the workspaces created, updated, deleted and left unchanged.
  returned: list form
  type: dict
objects:
  description: One entry per workspace with its name, action and id.
  returned: list form
  type: list
  elements: dict
"""

from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Field, Kind
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.common import SwObjectModule
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.scopes import (
    WorkspaceAdapter,
    build_clusters,
    canon_clusters,
    upper_or_none,
)

KIND = Kind(
    "workspace",
    "Workspace",
    [
        Field("description", "description"),
        Field("primary", "primary"),
        Field("catch_all_action", "catch_all_action", compare=upper_or_none),
        Field("clusters", "clusters", compare=canon_clusters),
    ],
)

OBJECT_SPEC = dict(
    name=dict(type="str"),
    description=dict(type="str"),
    primary=dict(type="bool"),
    catch_all_action=dict(type="str", choices=["allow", "deny"]),
    clusters=dict(
        type="list",
        elements="dict",
        options=dict(
            name=dict(type="str", required=True),
            description=dict(type="str"),
            query=dict(type="dict", required=True),
            approved=dict(type="bool"),
        ),
    ),
)
EXTRA_SPEC = dict(scope=dict(type="str", required=True), purge_clusters=dict(type="bool", default=False))


def build(params, prefix):
    desired = {}
    for option in ("description", "primary"):
        if params.get(option) is not None:
            desired[option] = params[option]
    if params.get("catch_all_action") is not None:
        desired["catch_all_action"] = params["catch_all_action"].upper()
    clusters = build_clusters(params, prefix)
    if clusters is not None:
        desired["clusters"] = clusters
    return desired


def main():
    SwObjectModule(KIND, "applications", OBJECT_SPEC, build, WorkspaceAdapter, extra_spec=EXTRA_SPEC).run()


if __name__ == "__main__":
    main()
