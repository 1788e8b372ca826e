#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: secure_workload_enforcement
short_description: Enable or disable policy enforcement of a Cisco Secure Workload workspace
version_added: 1.0.0
description:
  - Enforces a workspace's policies (C(enable_enforce)) or stops enforcing them (C(disable_enforce)).
  - Idempotent on the workspace's C(enforcement_enabled) and C(enforced_version); check mode predicts
    the result and sends no write.
author: Microseg Segmentation Maintainers (@microseg)
extends_documentation_fragment:
  - microseg.segmentation.secure_workload
  - microseg.segmentation.attributes
  - microseg.segmentation.secure_workload.attributes
options:
  workspace:
    description: Name of the workspace. Required with O(scope) unless O(workspace_id) is given.
    type: str
  scope:
    description: Full name of the workspace's scope, for example V(Default:web).
    type: str
  workspace_id:
    description: Id of the workspace, instead of O(workspace) and O(scope).
    type: str
  state:
    description: V(enabled) enforces the workspace's policies; V(disabled) stops enforcing them.
    type: str
    choices: [enabled, disabled]
    default: enabled
  version:
    description:
      - The published policy version to enforce, V(p<N>) (or V(N)); the next number publishes the working version.
      - Without it, V(enabled) is satisfied by any enforced version; a workspace that is not enforcing
        then enforces its working version (published as a new version when it changed).
      - Only with O(state=enabled).
    type: str
notes:
  - Disabling enforcement takes effect asynchronously on a real cluster.
seealso:
  - module: microseg.segmentation.secure_workload_policy
"""

EXAMPLES = r"""
- name: Enforce the working policies of a workspace
  microseg.segmentation.secure_workload_enforcement:
    workspace: web
    scope: Default:web

- name: Enforce published version p3
  microseg.segmentation.secure_workload_enforcement:
    workspace: web
    scope: Default:web
    version: p3

- name: Stop enforcing
  microseg.segmentation.secure_workload_enforcement:
    workspace: web
    scope: Default:web
    state: disabled
"""

RETURN = r"""
workspace:
  description: The workspace after the task (predicted in check mode; C(enforced_version) is null when it cannot be predicted).
  returned: always
  type: dict
  sample: {"id": "5f88c996755f023f3bafe163", "name": "web", "enforcement_enabled": true, "enforced_version": 3}
epoch:
  description: The id of the enforcement profile that the enable answered with.
  returned: when enforcement was enabled (not in check mode)
  type: str
"""

import re

from ansible_collections.microseg.segmentation.plugins.module_utils._core.checkmode import Notes, add_warnings, warnings_of
from ansible_collections.microseg.segmentation.plugins.module_utils._core.runner import run_module
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.common import SwConnection, sw_argument_spec
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.checkmode import workspace_or_placeholder
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.common import SwDirectory
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.policies import check_workspace_options, workspace_spec

VIEW = ("enforcement_enabled", "enforced_version")


def parse_version(params):
    version = params.get("version")
    if version is None:
        return None
    if params["state"] == "disabled":
        raise ValidationError("version", "is only valid with state=enabled")
    match = re.match(r"^[pP]?(\d+)$", version.strip())
    if not match:
        raise ValidationError("version", "must be p<N> (a published version, for example p3), got %r" % version)
    return int(match.group(1))


def plan(workspace, state, number):
    enabled = bool(workspace.get("enforcement_enabled"))
    if state == "disabled":
        return enabled, dict(workspace, enforcement_enabled=False, enforced_version=0)
    if not enabled:
        return True, dict(workspace, enforcement_enabled=True, enforced_version=number)
    if number is not None and workspace.get("enforced_version") != number:
        return True, dict(workspace, enforced_version=number)
    return False, workspace


def prepare(params):
    check_workspace_options(params)
    return parse_version(params)


def execute(module, connection, number):
    params = module.params
    directory = SwDirectory(connection)
    notes = Notes()
    # check mode: a workspace an earlier task of the play would create is a placeholder, enforcement off
    before = workspace_or_placeholder(module.check_mode, directory, params, notes)
    changed, after = plan(before, params["state"], number)
    result = add_warnings(dict(changed=changed), warnings_of(notes))
    if changed and not module.check_mode:
        path = "/applications/%s" % before["id"]
        if params["state"] == "enabled":
            body = {"version": "p%d" % number} if number is not None else {}
            answer = connection.request("POST", path + "/enable_enforce", body=body) or {}
            result["epoch"] = answer.get("epoch")
        else:
            connection.request("POST", path + "/disable_enforce")
        after = connection.get(path) or after
    result["workspace"] = after
    if module._diff:
        result["diff"] = dict(before=dict((k, before.get(k)) for k in VIEW), after=dict((k, after.get(k)) for k in VIEW),
                              before_header=before.get("name"), after_header=before.get("name"))
    return result


def main():
    spec = sw_argument_spec()
    spec.update(workspace_spec())
    spec.update(state=dict(type="str", choices=["enabled", "disabled"], default="enabled"), version=dict(type="str"))
    run_module(spec, execute, connect=SwConnection, prepare=prepare)


if __name__ == "__main__":
    main()
