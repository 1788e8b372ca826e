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
  - With O(export=true), the objects read are also returned as the O(ignore:items) of the list-form modules that
    manage them, with references by name (a scope by its full name, an inventory filter, a cluster and a profile
    by name). Applied to the cluster they were read from, they change nothing.
  - "The entries of each kind: O(kind=scope), one C(secure_workload_scope) entry per parent scope, a parent's before
    its children's (root scopes are made with their tenant and are always in RV(skipped)); O(kind=inventory_filter),
    one C(secure_workload_inventory_filter) entry per scope; O(kind=agent_profile) and O(kind=intent), one entry per
    root scope (the built-in C(Default) profile only with O(include_system=true)); O(kind=orchestrator), one
    C(secure_workload_orchestrator) entry per root scope (Kubernetes orchestrators; their credentials, which the API never returns,
    are named in C(secrets)); O(kind=workspace), one C(secure_workload_workspace) entry per scope (with the catch-all
    action and the clusters), then one C(secure_workload_policy) entry per workspace with policies, then one
    C(secure_workload_enforcement) entry per workspace that enforces its policies (that module has no list form, its
    entry's C(options) are the whole task and its C(items) are empty)."
  - A kind's entries name only what the entries of the kinds it depends on declare; apply scopes first, inventory
    filters next, then workspaces (whose entries are in order, enforcement last), agent profiles, intents and
    orchestrators (C(playbooks/export.yml) and C(playbooks/adopt.yml) keep that order).
  - A scope entry with several children creates them one at a time (C(parallel=1)), in policy-priority order, so that
    a cluster without them gives them the same priorities; a scope whose changed query waits for its commit is
    exported with that query and C(commit=false).
  - An object the module could not tell apart by name (another inventory filter, workspace or profile of that name
    where it looks, a policy whose consumer or provider name is shared, two policies of one key) is left out, in
    RV(skipped), with a warning.
  - An export reads the scopes (and, for workspaces and intents, the inventory filters) once more, and each workspace's
    details unless O(details=true) read them.
author: Microseg Segmentation Maintainers (@microseg)
extends_documentation_fragment:
  - microseg.segmentation.secure_workload
  - microseg.segmentation.attributes.info
  - microseg.segmentation.secure_workload.attributes
  - microseg.segmentation.export
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
        orchestrators, the root scope whose orchestrators are listed (without it, those of every root scope).
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

- name: The workspaces, their policies and their enforcement as list-form declarations
  microseg.segmentation.secure_workload_info:
    kind: workspace
    export: true
  register: exported

- name: Apply the first entry, the workspaces of one scope (nothing changes on the cluster they came from)
  microseg.segmentation.secure_workload_workspace:
    scope: "{{ exported.exports[0].options.scope }}"
    items: "{{ exported.exports[0]['items'] }}"
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
# common results: generated by tests/tools/item_docs.py; do not edit by hand
exports:
  description:
  - 'With O(export=true), the objects as list-form declarations, one entry per module and placement, in the order they must
    be applied: C(module) (the list-form module), C(options) (its task-level options that place the items: a namespace, domain,
    section or workspace), C(items) (the items, with the module''s option names) and, when an object has one, C(secrets) (the
    secret options a read gives back only masked, as C(<name>.<option>): set them before applying the entry to another console).'
  elements: dict
  returned: when O(export=true)
  sample:
  - items:
    - name: allow-dns
      outgoing_rules:
      - object:
        - - externalnetwork:name=dns
        protocol_ports:
        - udp/53
      subject:
      - - app=web
    module: microseg.segmentation.prisma_network_ruleset
    options:
      namespace: /acme/prod
  type: list
skipped:
  description:
  - With O(export=true), the objects left out because the product makes them by itself (O(include_system) exports them), each
    as its C(kind), C(name) and C(reason).
  elements: dict
  returned: when O(export=true)
  sample:
  - kind: service_dependency_policy
    name: default
    reason: made by the product with every namespace
  type: list
# end of common results
"""

from ansible.module_utils.six.moves.urllib.parse import quote

from ansible_collections.microseg.segmentation.plugins.module_utils._core.checkmode import Notes, add_warnings, missing_container, warn, warnings_of
from ansible_collections.microseg.segmentation.plugins.module_utils._core.export import export_argument_spec
from ansible_collections.microseg.segmentation.plugins.module_utils._core.runner import run_module
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.common import SwConnection, SwDirectory, sw_argument_spec
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.export import export
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.scopes import find_scope

PATHS = {
    "scope": "/app_scopes",
    "inventory_filter": "/filters/inventories",
    "workspace": "/applications",
    "agent_profile": "/inventory_config/profiles",
    "intent": "/inventory_config/intents",
}


def orchestrators(connection, scope_name, name):
    """``[(root scope name, its orchestrators)]``: of the root scope given, or of every root scope."""
    if scope_name is not None:
        roots = [scope_name]
    else:
        roots = [s.get("name") for s in connection.list_all("/app_scopes") if not s.get("parent_app_scope_id")]
    placed = [(root, connection.list_all("/orchestrator/%s" % quote(root, safe=""))) for root in roots]
    return [(root, [o for o in found if name is None or o.get("name") == name]) for root, found in placed]


def list_objects(connection, params, notes=None, placed=None):
    """The objects the task asks for; ``notes`` (check mode) keeps a warning for a scope that does not exist;
    ``placed`` (a list) receives the orchestrators by root scope."""
    kind, name, scope_name = params["kind"], params["name"], params["scope"]
    query = {}
    if kind == "orchestrator":
        by_root = orchestrators(connection, scope_name, name)
        if placed is not None:
            placed.extend(by_root)
        objects = [o for dummy, found in by_root for o in found]
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


def export_objects(connection, params, objects, placed):
    """``(exports, skipped, warnings)`` of the objects read (``plugins/module_utils/_secure_workload/export.py``)."""
    directory = SwDirectory(connection)
    if params["kind"] == "scope" and params["name"] is None:
        directory._scopes = objects  # every scope was just read
    return export(connection, params["kind"], objects, include_system=params["include_system"], placed=placed, directory=directory)


def execute(module, connection, prepared):
    notes = Notes() if module.check_mode else None
    placed = []
    objects = list_objects(connection, module.params, notes, placed)
    result = dict(objects=objects, count=len(objects))
    warnings = warnings_of(notes)
    if module.params["export"]:
        result["exports"], result["skipped"], more = export_objects(connection, module.params, objects, placed)
        warnings += more
    return add_warnings(result, warnings)


def main():
    argument_spec = sw_argument_spec()
    argument_spec.update(
        kind=dict(type="str", required=True, choices=["scope", "inventory_filter", "workspace", "agent_profile", "intent", "orchestrator"]),
        name=dict(type="str"),
        scope=dict(type="str"),
        details=dict(type="bool", default=False),
    )
    argument_spec.update(export_argument_spec())
    run_module(argument_spec, execute, connect=SwConnection, prepare=check_options)


if __name__ == "__main__":
    main()
