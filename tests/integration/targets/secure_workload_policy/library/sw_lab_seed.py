#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only module: create (or remove) a scope, inventory filters and a workspace in the
Secure Workload lab with signed requests, and return their ids."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: sw_lab_seed
short_description: Seed the Secure Workload lab for an integration target (test only)
description: Creates or removes a child scope of the root scope, inventory filters in it and a workspace on it.
options:
  scope:
    description: Short name of the child scope of O(root).
    type: str
    required: true
  root:
    description: The root scope.
    type: str
    default: Default
  subnet:
    description: The scope's subnet.
    type: str
    default: 10.0.0.0/8
  filters:
    description: Inventory filters (C(name), C(subnet)) in the scope.
    type: list
    elements: dict
    default: []
  workspace:
    description: Name of a (secondary) workspace on the scope.
    type: str
  state:
    description: Create or remove.
    type: str
    choices: [present, absent]
    default: present
author: Microseg Segmentation Maintainers (@microseg)
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402

from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import ApiError  # noqa: E402
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.common import SwConnection, sw_argument_spec  # noqa: E402


def main():
    spec = sw_argument_spec()
    spec.update(
        scope=dict(type="str", required=True),
        root=dict(type="str", default="Default"),
        subnet=dict(type="str", default="10.0.0.0/8"),
        filters=dict(type="list", elements="dict", default=[]),
        workspace=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleModule(argument_spec=spec)
    params = module.params
    conn = SwConnection(params)
    full = "%s:%s" % (params["root"], params["scope"])
    result = dict(changed=False, scope_name=full, filters={})
    try:
        scopes = conn.list_all("/app_scopes")
        root = next(s for s in scopes if s.get("name") == params["root"])
        scope = next((s for s in scopes if s.get("name") == full), None)
        result["root_id"] = root["id"]
        if params["state"] == "absent":
            if scope is not None:
                for workspace in conn.list_all("/applications", params={"app_scope_id": scope["id"]}):
                    if workspace.get("enforcement_enabled"):
                        conn.request("POST", "/applications/%s/disable_enforce" % workspace["id"])
                    if workspace.get("primary"):
                        conn.request("PUT", "/applications/%s" % workspace["id"], body={"primary": False})
                    conn.request("DELETE", "/applications/%s" % workspace["id"])
                for intent in conn.list_all("/inventory_config/intents"):
                    filters = [f["id"] for f in conn.list_all("/filters/inventories") if f.get("app_scope_id") == scope["id"]]
                    if intent.get("inventory_filter_id") in filters + [scope["id"]]:
                        conn.request("DELETE", "/inventory_config/intents/%s" % intent["id"])
                for item in conn.list_all("/filters/inventories"):
                    if item.get("app_scope_id") == scope["id"]:
                        conn.request("DELETE", "/filters/inventories/%s" % item["id"])
                conn.request("DELETE", "/app_scopes/%s" % scope["id"])
                result["changed"] = True
            module.exit_json(**result)
        if scope is None:
            scope = conn.request("POST", "/app_scopes", body={
                "short_name": params["scope"], "parent_app_scope_id": root["id"],
                "short_query": {"type": "subnet", "field": "ip", "value": params["subnet"]}})
            result["changed"] = True
        result["scope_id"] = scope["id"]
        existing = [f for f in conn.list_all("/filters/inventories") if f.get("app_scope_id") == scope["id"]]
        for item in params["filters"]:
            found = next((f for f in existing if f.get("name") == item["name"]), None)
            if found is None:
                found = conn.request("POST", "/filters/inventories", body={
                    "name": item["name"], "app_scope_id": scope["id"], "primary": True,
                    "query": {"type": "subnet", "field": "ip", "value": item.get("subnet") or params["subnet"]}})
                result["changed"] = True
            result["filters"][item["name"]] = found["id"]
        if params.get("workspace"):
            found = next((w for w in conn.list_all("/applications", params={"app_scope_id": scope["id"]})
                          if w.get("name") == params["workspace"]), None)
            if found is None:
                found = conn.request("POST", "/applications", body={
                    "app_scope_id": scope["id"], "name": params["workspace"], "primary": False})
                result["changed"] = True
            result["workspace_id"] = found["id"]
    except ApiError as exc:
        module.fail_json(**exc.to_result())
    finally:
        conn.close()
    module.exit_json(**result)


if __name__ == "__main__":
    main()
