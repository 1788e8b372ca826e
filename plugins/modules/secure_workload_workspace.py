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
    task sets O(catch_all_action). A no-change run sends no write.
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
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.scopes import WorkspaceAdapter, upper_or_none

KIND = Kind(
    "workspace",
    "Workspace",
    [
        Field("description", "description"),
        Field("primary", "primary"),
        Field("catch_all_action", "catch_all_action", compare=upper_or_none),
    ],
)

OBJECT_SPEC = dict(
    name=dict(type="str"),
    description=dict(type="str"),
    primary=dict(type="bool"),
    catch_all_action=dict(type="str", choices=["allow", "deny"]),
)
EXTRA_SPEC = dict(scope=dict(type="str", required=True))


def build(params, prefix):
    desired = {}
    for option in ("description", "primary"):
        if params.get(option) is not None:
            desired[option] = params[option]
    if params.get("catch_all_action") is not None:
        desired["catch_all_action"] = params["catch_all_action"].upper()
    return desired


def main():
    SwObjectModule(KIND, "applications", OBJECT_SPEC, build, WorkspaceAdapter, extra_spec=EXTRA_SPEC).run()


if __name__ == "__main__":
    main()
