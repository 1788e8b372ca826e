# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secure Workload objects as list-form declarations (``secure_workload_info`` with ``export: true``;
``_core/export.py`` has the contract).

Secure Workload objects carry no tags, so there is nothing to adopt: an export applied to the console
it was read from writes nothing. References are names, as the modules take them: a scope by its full
name, an inventory filter, a cluster and a profile by name.

The entries of each kind, in the order they must be applied:

- ``scope``: one ``secure_workload_scope`` entry per parent (the module declares the children of its
  ``parent``), a parent's entry before its children's. The items of an entry are in policy-priority
  order and, when there are several, the entry creates them one at a time (``parallel: 1``) so that a
  console without them gives them the same priorities. Root scopes are made with their tenant and no
  module declares them: they are always in ``skipped``.
- ``inventory_filter``: one ``secure_workload_inventory_filter`` entry per scope.
- ``agent_profile``: one ``secure_workload_agent_profile`` entry per root scope; the built-in
  ``Default`` profile of a root scope only with ``include_system``.
- ``intent``: one ``secure_workload_agent_intent`` entry per root scope (its profile's).
- ``orchestrator``: one ``secure_workload_orchestrator`` entry per root scope; Kubernetes
  orchestrators only (the module's); the API never returns their credentials, which are named in
  ``secrets``.
- ``workspace``: one ``secure_workload_workspace`` entry per scope (with the catch-all action and the
  clusters of the working version), then one ``secure_workload_policy`` entry per workspace with
  policies (its working version's), then, for each workspace that enforces its policies, a
  ``secure_workload_enforcement`` entry. That module has no list form: its entry's ``options`` are
  the whole task and its ``items`` are empty; it enforces the working version the policy entry
  declares.

An intent names a profile and an inventory filter or scope, a workspace its scope, a policy scopes,
inventory filters and its workspace's clusters: ``APPLY_ORDER`` is one order that respects that
(playbooks/export.yml reads scopes, inventory filters, workspaces, profiles, intents, orchestrators).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.microseg.segmentation.plugins.module_utils._core.export import entry, export_item, skipped
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.agents import (
    INTENT_KIND,
    ORCHESTRATOR_KIND,
    PROFILE_KIND,
    PROFILES,
    intent_key,
    unique_name,
)
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.common import SwDirectory
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.policies import POLICY_KIND, policy_key
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.scopes import (
    INVENTORY_FILTER_KIND,
    SCOPE_KIND,
    WORKSPACE_KIND,
)

APPLY_ORDER = ("scope", "inventory_filter", "agent_profile", "intent", "orchestrator", "workspace")
MODULES = {
    "scope": "microseg.segmentation.secure_workload_scope",
    "inventory_filter": "microseg.segmentation.secure_workload_inventory_filter",
    "agent_profile": "microseg.segmentation.secure_workload_agent_profile",
    "intent": "microseg.segmentation.secure_workload_agent_intent",
    "orchestrator": "microseg.segmentation.secure_workload_orchestrator",
    "workspace": "microseg.segmentation.secure_workload_workspace",
    "policy": "microseg.segmentation.secure_workload_policy",
    "enforcement": "microseg.segmentation.secure_workload_enforcement",
}
BUILT_IN_PROFILE = "Default"
ORCHESTRATOR_TYPE = "kubernetes"


def _age(obj):
    """The order of objects sharing a name: the oldest first (the one the list form keeps)."""
    created = obj.get("created_at")
    return (created is None, created if created is not None else 0, str(obj.get("id")))


def _priority_order(scope):
    """Sibling scopes in policy-priority order (then by name)."""
    priority = scope.get("policy_priority")
    return (priority is None, priority or 0, scope.get("short_name") or "")


def pending_view(scope):
    """A scope as ``secure_workload_scope`` compares it: a dirty scope with its pending query."""
    if scope.get("dirty") and scope.get("dirty_short_query") is not None:
        return dict(scope, short_query=scope["dirty_short_query"])
    return scope


class SwExport:
    """The export of one task: the scopes and filters it names read once (``SwDirectory``), and what
    it left out (``skipped``) and warns about."""

    def __init__(self, connection, include_system=False, directory=None):
        self.connection = connection
        self.directory = directory or SwDirectory(connection)
        self.include_system = include_system
        self.skipped = []
        self.warnings = []
        self._details = {}
        self._scopes = None

    # ---------------------------------------------------------------- scopes by id

    def scope(self, ident):
        if self._scopes is None:
            self._scopes = dict((s.get("id"), s) for s in self.directory.scopes())
        return self._scopes.get(ident) if ident else None

    def depth(self, scope):
        depth, seen = 0, set()
        while scope is not None and scope.get("parent_app_scope_id") and scope.get("id") not in seen:
            seen.add(scope.get("id"))
            scope = self.scope(scope["parent_app_scope_id"])
            depth += 1
        return depth

    def _scope_order(self, names):
        """Full scope names, a parent before its children."""
        return sorted(names, key=lambda name: (self.depth(self.directory.scope_named(name)), name))

    def _leave_out(self, kind_name, name, reason, warn=False):
        self.skipped.append(skipped(kind_name, name, reason))
        if warn:
            self.warnings.append("export: %s '%s' left out: %s" % (kind_name.replace("_", " "), name, reason))

    def _unique(self, objects, kind_name, where):
        """The oldest object of each name (what the list form keeps); the others are left out, with a warning."""
        by_name = {}
        for obj in objects:
            by_name.setdefault(obj.get("name"), []).append(obj)
        kept = []
        for name in sorted(by_name, key=lambda n: n or ""):
            found = sorted(by_name[name], key=_age)
            kept.append(found[0])
            for other in found[1:]:
                self._leave_out(kind_name, name, "%s holds another of this name (%s, the oldest, is exported, not %s); applying the "
                                "export keeps the oldest and deletes the others: rename or delete it" % (where, found[0].get("id"), other.get("id")),
                                warn=True)
        return kept

    # ---------------------------------------------------------------- the kinds

    def scopes(self, objects):
        by_parent = {}
        for obj in objects:
            if not obj.get("parent_app_scope_id"):
                self._leave_out("scope", obj.get("name"), "a root scope, made with its tenant (secure_workload_scope declares child scopes)")
                continue
            parent = self.scope(obj["parent_app_scope_id"])
            if parent is None:
                self._leave_out("scope", obj.get("name"), "its parent scope %s was not found" % obj["parent_app_scope_id"], warn=True)
                continue
            by_parent.setdefault(parent.get("name"), []).append(obj)
        entries = []
        for parent in self._scope_order(by_parent):
            children = sorted(by_parent[parent], key=_priority_order)
            items = [export_item(SCOPE_KIND, pending_view(s), keys={"name": s.get("short_name")})[0] for s in children]
            options = {"parent": parent}
            if any(s.get("dirty") for s in children):
                options["commit"] = False  # a query waiting for its commit stays waiting
            if len(items) > 1 and any("policy_priority" in item for item in items):
                options["parallel"] = 1  # created in priority order, each last among its siblings then
            entries.append(entry(MODULES["scope"], options, items))
        return entries

    def inventory_filters(self, objects):
        by_scope = {}
        for obj in objects:
            scope = self.scope(obj.get("app_scope_id"))
            if scope is None:
                self._leave_out("inventory_filter", obj.get("name"), "its scope %s was not found" % obj.get("app_scope_id"), warn=True)
                continue
            by_scope.setdefault(scope.get("name"), []).append(obj)
        entries = []
        for scope in self._scope_order(by_scope):
            kept = self._unique(by_scope[scope], "inventory_filter", "scope %s" % scope)
            entries.append(entry(MODULES["inventory_filter"], {"scope": scope}, [export_item(INVENTORY_FILTER_KIND, o)[0] for o in kept]))
        return entries

    def _by_root(self, objects, kind_name):
        by_root = {}
        for obj in objects:
            root = self.scope(obj.get("root_app_scope_id"))
            if root is None:
                self._leave_out(kind_name, obj.get("name"), "its root scope %s was not found" % obj.get("root_app_scope_id"), warn=True)
                continue
            by_root.setdefault(root.get("name"), []).append(obj)
        return by_root

    def agent_profiles(self, objects):
        chosen = []
        for obj in objects:
            if obj.get("name") == BUILT_IN_PROFILE and not self.include_system:
                root = self.scope(obj.get("root_app_scope_id")) or {}
                self._leave_out("agent_profile", obj.get("name"), "the built-in profile of root scope %s (made with it)"
                                % root.get("name", obj.get("root_app_scope_id")))
                continue
            chosen.append(obj)
        by_root = self._by_root(chosen, "agent_profile")
        entries = []
        for root in sorted(by_root):
            kept = self._unique(by_root[root], "agent_profile", "root scope %s" % root)
            entries.append(entry(MODULES["agent_profile"], {"root_scope": root}, [export_item(PROFILE_KIND, o)[0] for o in kept]))
        return entries

    def intents(self, objects):
        profiles = dict((p.get("id"), p) for p in self.connection.list_all(PROFILES))
        by_root = {}
        for obj in objects:
            profile = profiles.get(obj.get("inventory_config_profile_id"))
            root = self.scope((profile or {}).get("root_app_scope_id"))
            label = str(intent_key((profile or {}).get("name", obj.get("inventory_config_profile_id")), obj.get("inventory_filter_id")))
            if profile is None or root is None:
                self._leave_out("intent", label, "its profile or the profile's root scope was not found", warn=True)
                continue
            root_id = root.get("id")
            # what secure_workload_agent_intent resolves names among (IntentAdapter.profiles and targets)
            profile_pairs = [(p_id, p.get("name")) for p_id, p in profiles.items() if p.get("root_app_scope_id") == root_id]
            targets = [(s.get("id"), s.get("name")) for s in self.directory.scopes() if self.directory.root_of(s) == root_id]
            targets += [(f.get("id"), f.get("name")) for f in self.directory.filters()]
            profile_name = unique_name(profile_pairs, profile.get("id"))
            target = unique_name(targets, obj.get("inventory_filter_id"))
            if target is not None:
                label = str(intent_key(profile.get("name"), target))
            if profile_name is None or target is None:
                self._leave_out("intent", label, "its profile or its inventory filter or scope is not named by one object only "
                                "(the module would take only an id): rename the others", warn=True)
                continue
            by_root.setdefault(root.get("name"), []).append({"profile": profile_name, "inventory_filter": target})
        entries = []
        for root in sorted(by_root):
            keys = sorted(by_root[root], key=lambda k: (k["profile"], k["inventory_filter"]))
            items = [export_item(INTENT_KIND, {}, keys=k)[0] for k in keys]
            entries.append(entry(MODULES["intent"], {"root_scope": root}, items))
        return entries

    def orchestrators(self, placed):
        return [e for root_scope, objects in placed for e in self._orchestrators(objects, root_scope)]

    def _orchestrators(self, objects, root_scope):
        items, secrets = [], []
        kept = []
        for obj in objects:
            if obj.get("type") != ORCHESTRATOR_TYPE:
                self._leave_out("orchestrator", obj.get("name"), "of type %s (secure_workload_orchestrator manages %s orchestrators only)"
                                % (obj.get("type"), ORCHESTRATOR_TYPE))
                continue
            kept.append(obj)
        for obj in self._unique(kept, "orchestrator", "root scope %s" % root_scope):
            item, hidden = export_item(ORCHESTRATOR_KIND, obj)
            # the API never returns a credential: the connector's (a token, or a client certificate's key) is named
            hidden = set(hidden) | {"key" if obj.get("certificate") else "auth_token"}
            items.append(item)
            secrets.extend("%s.%s" % (item["name"], option) for option in sorted(hidden))
        return [entry(MODULES["orchestrator"], {"root_scope": root_scope}, items, secrets)] if items else []

    def details(self, workspace):
        """The workspace's working version (clusters, policies, catch-all): the ``details`` the task read, or one read."""
        if workspace.get("details") is not None:
            return workspace["details"]
        if workspace.get("id") not in self._details:
            self._details[workspace.get("id")] = self.connection.request("GET", "/applications/%s/details" % workspace["id"]) or {}
        return self._details[workspace.get("id")]

    def endpoints(self, workspace, clusters):
        """``(id, name)`` of what a policy of ``workspace`` may name (as ``SwPolicyAdapter.endpoints``)."""
        scope = self.scope(workspace.get("app_scope_id"))
        root = self.directory.root_of(scope) if scope else None
        out = [(s.get("id"), s.get("name")) for s in self.directory.scopes() if root is None or self.directory.root_of(s) == root]
        for item in self.directory.filters():
            owner = self.scope(item.get("app_scope_id"))
            if root is None or owner is None or self.directory.root_of(owner) == root:
                out.append((item.get("id"), item.get("name")))
        out.extend((c.get("id"), c.get("name")) for c in clusters)
        return out

    def policies(self, workspace, scope_name):
        details = self.details(workspace)
        pairs = self.endpoints(workspace, details.get("clusters") or [])
        found = list(details.get("absolute_policies") or []) + list(details.get("default_policies") or [])
        by_key = {}
        for policy in found:
            consumer = unique_name(pairs, policy.get("consumer_filter_id"))
            provider = unique_name(pairs, policy.get("provider_filter_id"))
            rank, priority = policy.get("rank"), int(policy.get("priority") or 0)
            label = "%s: %s" % (workspace.get("name"), policy_key(consumer or policy.get("consumer_filter_id"),
                                                                  provider or policy.get("provider_filter_id"), rank, priority))
            if consumer is None or provider is None:
                self._leave_out("policy", label, "its consumer or provider is not named by one scope, inventory filter or cluster only "
                                "(the module would take only an id): rename the others", warn=True)
                continue
            key = (consumer, provider, rank, priority)
            if key in by_key:
                self._leave_out("policy", label, "workspace %s of scope %s has another policy of this consumer, provider, rank and "
                                "priority (%s, exported); the list form keeps one: delete it" % (workspace.get("name"), scope_name,
                                                                                                 by_key[key][0].get("id")), warn=True)
                continue
            by_key[key] = (policy, {"consumer": consumer, "provider": provider})
        ordered = sorted(by_key, key=lambda k: (k[2] != "ABSOLUTE", k[3], k[0], k[1]))
        items = [export_item(POLICY_KIND, by_key[k][0], keys=by_key[k][1])[0] for k in ordered]
        if not items:
            return []
        return [entry(MODULES["policy"], {"workspace": workspace.get("name"), "scope": scope_name}, items)]

    def workspaces(self, objects):
        by_scope = {}
        for obj in objects:
            scope = self.scope(obj.get("app_scope_id"))
            if scope is None:
                self._leave_out("workspace", obj.get("name"), "its scope %s was not found" % obj.get("app_scope_id"), warn=True)
                continue
            by_scope.setdefault(scope.get("name"), []).append(obj)
        placed = [(scope, self._unique(by_scope[scope], "workspace", "scope %s" % scope)) for scope in self._scope_order(by_scope)]
        workspaces, policies, enforcement = [], [], []
        for scope, kept in placed:
            items = []
            for obj in kept:
                details = self.details(obj)
                view = dict(obj, catch_all_action=details.get("catch_all_action"), clusters=copy.deepcopy(details.get("clusters") or []))
                items.append(export_item(WORKSPACE_KIND, view)[0])
            workspaces.append(entry(MODULES["workspace"], {"scope": scope}, items))
            for obj in kept:
                policies.extend(self.policies(obj, scope))
                if obj.get("enforcement_enabled"):
                    enforcement.append(entry(MODULES["enforcement"], {"workspace": obj.get("name"), "scope": scope, "state": "enabled"}, []))
        return workspaces + policies + enforcement


def export(connection, kind_name, objects, include_system=False, placed=None, directory=None):
    """``(entries, skipped, warnings)`` for ``objects`` of one kind, as ``secure_workload_info`` read them
    (orchestrators: ``placed``, a list of ``(root scope name, its orchestrators)``)."""
    job = SwExport(connection, include_system=include_system, directory=directory)
    if kind_name == "scope":
        entries = job.scopes(objects)
    elif kind_name == "inventory_filter":
        entries = job.inventory_filters(objects)
    elif kind_name == "agent_profile":
        entries = job.agent_profiles(objects)
    elif kind_name == "intent":
        entries = job.intents(objects)
    elif kind_name == "orchestrator":
        entries = job.orchestrators(placed if placed is not None else [])
    elif kind_name == "workspace":
        entries = job.workspaces(objects)
    else:
        raise ValueError("no export for kind %s" % kind_name)
    return entries, job.skipped, job.warnings
