#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: secure_workload_info
short_description: List Cisco Secure Workload objects
version_added: 1.0.0
description:
  - Read the scopes, inventory filters, workspaces (optionally with their details), agent config
    profiles, agent config intents or external orchestrators of a Secure Workload cluster, optionally
    only those of one name or of one scope.
author: Microseg Segmentation Maintainers (@microseg)
extends_documentation_fragment:
  - microseg.segmentation.secure_workload
  - microseg.segmentation.attributes.info
  - microseg.segmentation.secure_workload.attributes
options:
  kind:
    description: The kind of object to list.
    type: str
    required: true
    choices: [scope, inventory_filter, workspace, agent_profile, intent, orchestrator]
  name:
    description:
      - Only the objects of this name (the full name, such as V(Default:Apps), for scopes).
      - Not available for O(kind=intent).
    type: str
  scope:
    description:
      - Full name of a scope. For inventory filters and workspaces, only those of this scope; for
        orchestrators, the root scope whose orchestrators are listed (required then).
    type: str
  details:
    description: With O(kind=workspace), add each workspace's C(details) (clusters, filters, policies, catch-all action; one request per workspace).
    type: bool
    default: false
seealso:
  - module: microseg.segmentation.secure_workload_scope
  - module: microseg.segmentation.secure_workload_workspace
"""

EXAMPLES = r"""
- name: All scopes
  microseg.segmentation.secure_workload_info:
    kind: scope
  register: scopes

- name: The workspaces of a scope, with their policies
  microseg.segmentation.secure_workload_info:
    kind: workspace
    scope: "Default:Apps"
    details: true

- name: The Kubernetes orchestrators of the Default root scope
  microseg.segmentation.secure_workload_info:
    kind: orchestrator
    scope: Default
"""

RETURN = r"""
objects:
  description: The objects found, as the API returns them (secrets are never returned by the API).
  returned: always
  type: list
  elements: dict
count:
  description: How many objects were found.
  returned: always
  type: int
  sample: 3
"""

from ansible.module_utils.six.moves.urllib.parse import quote

from ansible_collections.microseg.segmentation.plugins.module_utils._core.checkmode import Notes, add_warnings, missing_container, warn, warnings_of
from ansible_collections.microseg.segmentation.plugins.module_utils._core.runner import run_module
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.common import SwConnection, sw_argument_spec
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.scopes import find_scope

PATHS = {
    "scope": "/app_scopes",
    "inventory_filter": "/filters/inventories",
    "workspace": "/applications",
    "agent_profile": "/inventory_config/profiles",
    "intent": "/inventory_config/intents",
}


def list_objects(connection, params, notes=None):
    """The objects the task asks for; ``notes`` (check mode) keeps a warning for a scope that does not exist."""
    kind, name, scope_name = params["kind"], params["name"], params["scope"]
    query = {}
    if kind == "orchestrator":
        objects = connection.list_all("/orchestrator/%s" % quote(scope_name, safe=""))
    else:
        if scope_name is not None and kind in ("inventory_filter", "workspace"):
            scope = find_scope(connection, scope_name)
            if scope is None:
                if notes is not None:
                    warn(notes, missing_container("scope %s" % scope_name))
                return []
            query["app_scope_id"] = scope["id"]
        if name is not None and kind in ("scope", "inventory_filter", "workspace"):
            query["exact_name"] = name
        objects = connection.list_all(PATHS[kind], params=query or None)
        if "app_scope_id" in query:
            objects = [o for o in objects if o.get("app_scope_id") == query["app_scope_id"]]
    if name is not None:
        objects = [o for o in objects if o.get("name") == name]
    if kind == "workspace" and params["details"]:
        for obj in objects:
            obj["details"] = connection.request("GET", "/applications/%s/details" % obj["id"])
    return objects


def check_options(params):
    if params["kind"] == "intent" and params["name"] is not None:
        raise ValidationError("name", "intents have no name; list them without it")
    if params["scope"] is not None and params["kind"] not in ("inventory_filter", "workspace", "orchestrator"):
        raise ValidationError("scope", "only for kind inventory_filter, workspace or orchestrator")
    if params["details"] and params["kind"] != "workspace":
        raise ValidationError("details", "only for kind workspace")


def execute(module, connection, prepared):
    notes = Notes() if module.check_mode else None
    objects = list_objects(connection, module.params, notes)
    return add_warnings(dict(objects=objects, count=len(objects)), warnings_of(notes))


def main():
    argument_spec = sw_argument_spec()
    argument_spec.update(
        kind=dict(type="str", required=True, choices=["scope", "inventory_filter", "workspace", "agent_profile", "intent", "orchestrator"]),
        name=dict(type="str"),
        scope=dict(type="str"),
        details=dict(type="bool", default=False),
    )
    run_module(argument_spec, execute, connect=SwConnection, prepare=check_options, required_if=[("kind", "orchestrator", ["scope"])])


if __name__ == "__main__":
    main()
