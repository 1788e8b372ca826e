# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secure Workload in check mode: a scope or workspace an earlier task of the play would create.

A task that names a workspace by name and scope (a policy, the enforcement) finds neither when an
earlier check-mode task would have created them. In check mode only, such a workspace is a
placeholder (no id, no policies, enforcement off) and the task reports what it would do, with a
warning; a real run fails as before (``SwDirectory.workspace``), and a workspace that exists is read
as before.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.microseg.segmentation.plugins.module_utils._core.checkmode import missing_container, warn
from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import ReconcileError


def workspace_or_placeholder(check_mode, directory, params, holder):
    """The workspace ``params`` names (``SwDirectory.workspace``: same reads, same failures). In check
    mode, when a workspace named by ``workspace`` and ``scope`` does not exist, or its scope does not,
    a placeholder (no id, no policy, enforcement off) instead, with a warning kept on ``holder``."""
    try:
        return directory.workspace(params)
    except ReconcileError:
        if not check_mode or params.get("workspace_id") or not params.get("workspace") or not params.get("scope"):
            raise
        name, scope_name = params["workspace"], params["scope"]
        scope = directory.scope_named(scope_name)
        if scope is None:
            what = "scope %s (of workspace '%s')" % (scope_name, name)
        else:
            listed = directory.connection.list_all("/applications", params={"app_scope_id": scope["id"]})
            if any(w.get("name") == name and w.get("app_scope_id") == scope["id"] for w in listed):
                raise  # it exists: the failure is another one (more than one of the name)
            what = "workspace '%s' of scope %s" % (name, scope_name)
    warn(holder, missing_container(what))
    return {"id": None, "name": name, "app_scope_id": (scope or {}).get("id"), "primary": True, "enforcement_enabled": False,
            "enforced_version": 0, "latest_adm_version": 0}
