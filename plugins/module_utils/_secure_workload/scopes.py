# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cisco Secure Workload scopes, inventory filters and workspaces: the filter (query) grammar
checked on the client, the kinds and the adapters of the three object modules."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import ipaddress
import json
import re

from ansible.module_utils.six import string_types

from ansible_collections.microseg.segmentation.plugins.module_utils._core.checkmode import missing_container, unless_check_mode
from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Field, Kind, ReconcileError
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.common import SwAdapter, SwDirectory

COMPARISONS = ("eq", "ne", "lt", "lte", "gt", "gte")
PRIMITIVES = COMPARISONS + ("regex", "subnet", "contains", "range")
LOGICAL = ("and", "or")
QUERY_TYPES = PRIMITIVES + ("in",) + LOGICAL + ("not",)
MAX_DEPTH = 32


def _scalar(value):
    return isinstance(value, (string_types, int, float, bool))


def _range_ok(value):
    if isinstance(value, list) and len(value) == 2 and all(_scalar(v) and not isinstance(v, bool) for v in value):
        return True
    return isinstance(value, string_types) and "-" in value.strip("-")


def _extra(query, where, allowed):
    extra = sorted(set(query) - set(allowed))
    if extra:
        raise ValidationError(where, "unexpected key(s) %s for a '%s' filter" % (", ".join(extra), query["type"]))


def validate_query(query, where="query", depth=0):
    """Check the shape of a filter (the documented grammar); raise ValidationError naming the part at fault.

    Primitives ``{type, field, value}`` with type eq, ne, lt, lte, gt, gte, regex, subnet, contains
    or range; ``in`` with ``values``; ``and``/``or`` with a non-empty ``filters`` list; ``not`` with ``filter``.
    """
    if depth > MAX_DEPTH:
        raise ValidationError(where, "filters are nested more than %d levels deep" % MAX_DEPTH)
    if not isinstance(query, dict):
        raise ValidationError(where, "a filter must be a dict with a type, got %r" % (query,))
    kind = query.get("type")
    if kind not in QUERY_TYPES:
        raise ValidationError(where + ".type", "must be one of %s, got %r" % (", ".join(QUERY_TYPES), kind))
    if kind in LOGICAL:
        filters = query.get("filters")
        if not isinstance(filters, list) or not filters:
            raise ValidationError(where + ".filters", "an '%s' filter needs a non-empty list of filters" % kind)
        for index, item in enumerate(filters):
            validate_query(item, "%s.filters[%d]" % (where, index), depth + 1)
        _extra(query, where, ("type", "filters"))
        return
    if kind == "not":
        if query.get("filter") is None:
            raise ValidationError(where + ".filter", "a 'not' filter needs one filter")
        validate_query(query["filter"], where + ".filter", depth + 1)
        _extra(query, where, ("type", "filter"))
        return
    field = query.get("field")
    if not isinstance(field, string_types) or not field.strip():
        raise ValidationError(where + ".field", "a '%s' filter needs a field (the column name)" % kind)
    if kind == "in":
        values = query.get("values")
        if not isinstance(values, list) or not values:
            raise ValidationError(where + ".values", "an 'in' filter needs a non-empty list of values")
        for index, value in enumerate(values):
            if not _scalar(value):
                raise ValidationError("%s.values[%d]" % (where, index), "must be a string, number or boolean")
        _extra(query, where, ("type", "field", "values"))
        return
    if query.get("value") is None:
        raise ValidationError(where + ".value", "a '%s' filter needs a value" % kind)
    value = query["value"]
    if kind == "range":
        if not _range_ok(value):
            raise ValidationError(where + ".value", "a range is [low, high] or \"low-high\", got %r" % (value,))
    elif not _scalar(value):
        raise ValidationError(where + ".value", "must be a string, number or boolean")
    elif kind == "subnet":
        try:
            ipaddress.ip_network(u"%s" % value, strict=False)
        except ValueError:
            raise ValidationError(where + ".value", "%r is not a subnet (address/prefix)" % (value,)) from None
    elif kind == "regex":
        try:
            re.compile(u"%s" % value)
        except re.error as exc:
            raise ValidationError(where + ".value", "%r is not a valid regular expression (%s)" % (value, exc)) from None
    elif kind == "contains" and not isinstance(value, string_types):
        raise ValidationError(where + ".value", "a 'contains' value must be a string")
    _extra(query, where, ("type", "field", "value"))


def _normal_query(query):
    """A filter with the operands of and/or in a stable order (their order does not matter)."""
    if not isinstance(query, dict):
        return query
    out = dict(query)
    if isinstance(out.get("filters"), list):
        out["filters"] = sorted((_normal_query(f) for f in out["filters"]), key=lambda f: json.dumps(f, sort_keys=True))
    if isinstance(out.get("filter"), dict):
        out["filter"] = _normal_query(out["filter"])
    return out


def canon_query(query):
    """Comparable form of a filter: and/or operands in any order compare equal."""
    if query is None:
        return None
    return json.dumps(_normal_query(query), sort_keys=True)


def convert_query(query, path):
    """The validated filter of one option."""
    validate_query(query, path)
    return copy.deepcopy(query)


def build_query(params, prefix, option="query"):
    """The validated filter the task set (None if unset)."""
    query = params.get(option)
    if query is None:
        return None
    validate_query(query, prefix + option)
    return copy.deepcopy(query)


def upper_or_none(value):
    return value.upper() if isinstance(value, string_types) else value


def find_scope(connection, name):
    """One scope by its full name (one read, narrowed by ``exact_name``), or None."""
    found = [s for s in connection.list_all("/app_scopes", params={"exact_name": name}) if s.get("name") == name]
    return found[0] if found else None


# ---------------------------------------------------------------------------------------- scopes


class ScopeAdapter(SwAdapter):
    """Child scopes of the task's ``parent``, found by short name in one read of the scope list."""

    reread_after_create = False  # the product refuses a second one ("already exists"): see Adapter.created_meanwhile

    path = "/app_scopes"
    name_key = "short_name"

    def __init__(self, connection, kind, task, resource=None):
        SwAdapter.__init__(self, connection, kind, task, resource)
        self.directory = SwDirectory(connection)
        self.commit = task.get("commit", True)

    def parent(self):
        return self.directory.scope_named(self.params["parent"])

    def read_back(self, obj):
        # A dirty scope's pending query is what a task compares with; the committed one stays visible.
        obj = dict(obj)
        if obj.get("dirty") and obj.get("dirty_short_query") is not None:
            obj["committed_short_query"] = obj.get("short_query")
            obj["short_query"] = obj["dirty_short_query"]
        return obj

    def list(self):
        parent = self.parent()
        if parent is None:
            return []
        return [self.read_back(s) for s in self.directory.scopes() if s.get("parent_app_scope_id") == parent["id"]]

    def forget(self):
        with self.directory._lock:
            self.directory._scopes = None

    def complete(self, name, desired, existing):
        parent = self.parent()
        if parent is None:
            # check mode: an earlier task of the play may create the parent (its children are then none)
            unless_check_mode(self.task.check_mode, self,
                              ReconcileError("parent: no scope is named '%s' (give the full name, such as Default:Apps)" % self.params["parent"]),
                              missing_container("parent scope %s" % self.params["parent"]))
            parent = {"id": None}
        desired = dict(desired)
        if existing is None:
            desired["parent_app_scope_id"] = parent["id"]
        elif self.commit and existing.get("dirty"):
            # The scope waits for a commit (an earlier task used commit=false): commit it now.
            desired["dirty"] = False
        return desired

    def predict_create(self, change):
        name = change.name
        parent = self.parent() or {"name": self.params["parent"]}
        predicted = dict(copy.deepcopy(change.body), short_name=name, name="%s:%s" % (parent.get("name"), name), dirty=False)
        predicted.setdefault("description", None)
        return predicted

    def create_body(self, name, body):
        payload = dict((k, v) for k, v in copy.deepcopy(body).items() if k != "dirty")
        payload["short_name"] = name
        return payload

    def update(self, change):
        existing = change.existing
        payload = dict((api, change.body[api]) for api in change.fields if api not in ("dirty", "committed_short_query"))
        result = dict(existing)
        if payload:
            data = self.connection.request("PUT", "%s/%s" % (self.path, existing["id"]), body=payload)
            result = self.read_back(data) if isinstance(data, dict) and data.get("id") else dict(existing, **payload)
        if self.commit and result.get("dirty"):
            body = {"root_app_scope_id": existing.get("root_app_scope_id"), "sync": True}
            self.connection.request("POST", "%s/commit_dirty" % self.path, body=body)
            result.pop("committed_short_query", None)
            result.update(dirty=False, dirty_short_query=None, query_committed=True)
        return result


# ---------------------------------------------------------------------------------------- inventory filters


class InventoryFilterAdapter(SwAdapter):
    """Inventory filters of the task's ``scope``: the scope by its full name, then its filters (two reads)."""

    path = "/filters/inventories"
    _scope = False

    def scope(self):
        if self._scope is False:
            self._scope = find_scope(self.connection, self.params["scope"])
        return self._scope

    def list(self):
        scope = self.scope()
        if scope is None:
            return []
        found = self.connection.list_all(self.path, params={"app_scope_id": scope["id"]})
        return [self.read_back(o) for o in found if o.get("app_scope_id") == scope["id"]]

    def complete(self, name, desired, existing):
        scope = self.scope()
        if scope is None:
            # check mode: an earlier task of the play may create the scope (what it holds is then nothing)
            unless_check_mode(self.task.check_mode, self,
                              ReconcileError("scope: no scope is named '%s' (give the full name, such as Default:Apps)" % self.params["scope"]),
                              missing_container("scope %s" % self.params["scope"]))
            scope = {"id": None}
        desired = dict(desired)
        if existing is None:
            desired["app_scope_id"] = scope["id"]
        return desired

    @staticmethod
    def _wire(body):
        # The API takes the query as "query" and answers with it as "short_query".
        out = dict(body)
        if "short_query" in out:
            out["query"] = out.pop("short_query")
        return out

    def predict_create(self, change):
        predicted = dict(copy.deepcopy(change.body), name=change.name)
        predicted.setdefault("primary", False)
        predicted.setdefault("public", False)
        return predicted

    def create(self, change):
        return self.post_create(self.path, self._wire(self.create_body(change.name, change.body)), change.name)

    def update(self, change):
        payload = self._wire(self.changed_body(change))
        data = self.connection.request("PUT", "%s/%s" % (self.path, change.existing["id"]), body=payload)
        return self.read_back(data) if isinstance(data, dict) and data.get("id") else change.body


# ---------------------------------------------------------------------------------------- workspaces


def build_clusters(params, prefix):
    """The validated ``clusters`` of a workspace task: each with its name and the keys the task set."""
    clusters = params.get("clusters")
    if clusters is None:
        return None
    out = []
    seen = set()
    for index, cluster in enumerate(clusters):
        where = "%sclusters[%d]" % (prefix, index)
        if not cluster.get("name"):
            raise ValidationError(where + ".name", "must be a non-empty string")
        if cluster["name"] in seen:
            raise ValidationError(where + ".name", "cluster '%s' is declared more than once" % cluster["name"])
        seen.add(cluster["name"])
        validate_query(cluster.get("query"), where + ".query")
        entry = {"name": cluster["name"], "query": copy.deepcopy(cluster["query"])}
        for key in ("description", "approved"):
            if cluster.get(key) is not None:
                entry[key] = cluster[key]
        out.append(entry)
    return out


def _cluster_value(key, value):
    """One key of a cluster in comparable form (its query canonical)."""
    return canon_query(value) if key == "query" else value


def canon_clusters(clusters):
    """Comparable form of a list of clusters: by name, each with its query in canonical form."""
    return tuple(sorted(tuple((key, _cluster_value(key, value)) for key, value in sorted(cluster.items()))
                        for cluster in clusters or ()))


class WorkspaceAdapter(InventoryFilterAdapter):
    """Workspaces (``/applications``) of the task's ``scope``.

    The catch-all action is read only when the task sets it, and the clusters of the working
    version (``/applications/{id}/clusters``) only when the task sets ``clusters``.
    """

    path = "/applications"

    def __init__(self, connection, kind, task, resource=None):
        super(WorkspaceAdapter, self).__init__(connection, kind, task, resource)
        self._stored_clusters = {}

    def stored_clusters(self, workspace_id):
        if workspace_id not in self._stored_clusters:
            self._stored_clusters[workspace_id] = self.connection.list_all("%s/%s/clusters" % (self.path, workspace_id))
        return self._stored_clusters[workspace_id]

    def complete(self, name, desired, existing):
        desired = InventoryFilterAdapter.complete(self, name, desired, existing)
        if existing is not None and "catch_all_action" in desired and "catch_all_action" not in existing:
            data = self.connection.request("GET", "%s/%s/catch_all" % (self.path, existing["id"])) or {}
            existing["catch_all_action"] = data.get("action")
        if existing is not None and "clusters" in desired:
            existing["clusters"] = self._project(desired["clusters"], self.stored_clusters(existing["id"]))
        return desired

    def _project(self, declared, stored):
        """The stored clusters as the task sees them: the declared ones with the keys it sets, and,
        with ``purge_clusters``, every other one by name (so that it shows as a difference)."""
        by_name = dict((c.get("name"), c) for c in stored)
        out = []
        for cluster in declared:
            found = by_name.get(cluster["name"])
            if found is not None:
                out.append(dict((key, found.get(key)) for key in cluster))
        if self.params.get("purge_clusters"):
            names = set(c["name"] for c in declared)
            out.extend({"name": c.get("name")} for c in stored if c.get("name") not in names)
        return out

    def _cluster_writes(self, workspace_id, declared):
        """``(creates, updates, deletes)`` turning the stored clusters into the declared ones."""
        stored = self.stored_clusters(workspace_id)
        by_name = dict((c.get("name"), c) for c in stored)
        creates, updates = [], []
        for cluster in declared:
            found = by_name.get(cluster["name"])
            if found is None:
                creates.append(cluster)
                continue
            changed = dict((key, value) for key, value in cluster.items()
                           if _cluster_value(key, value) != _cluster_value(key, found.get(key)))
            if changed:
                updates.append((found, changed))
        deletes = []
        if self.params.get("purge_clusters"):
            names = set(c["name"] for c in declared)
            deletes = [c for c in stored if c.get("name") not in names]
        return creates, updates, deletes

    def prepare(self, changes):
        for change in changes:
            if change.action == "delete" and (change.existing or {}).get("enforcement_enabled"):
                raise ReconcileError("workspace '%s' enforces its policies: disable enforcement before deleting it" % change.name)
            if change.action == "update" and "clusters" in change.fields:
                dummy, dummy2, deletes = self._cluster_writes(change.existing["id"], change.body["clusters"])
                if deletes:
                    self._check_unused(change.existing, deletes)

    def _check_unused(self, workspace, deletes):
        """Refuse (before any write) to purge clusters that a policy of the workspace uses."""
        data = self.connection.request("GET", "%s/%s/policies" % (self.path, workspace["id"])) or {}
        policies = list(data.get("absolute_policies") or []) + list(data.get("default_policies") or [])
        used = []
        for cluster in deletes:
            if any(cluster.get("id") in (p.get("consumer_filter_id"), p.get("provider_filter_id")) for p in policies):
                used.append(cluster.get("name"))
        if used:
            raise ReconcileError("purge_clusters: cluster(s) %s of workspace '%s' are used by policies; delete those "
                                 "policies first (nothing was changed)" % (", ".join(sorted(used)), workspace.get("name")))

    def _apply_clusters(self, workspace_id, declared):
        creates, updates, deletes = self._cluster_writes(workspace_id, declared)
        # Deletes first: the API refuses one in use, and nothing else has been written then.
        for cluster in deletes:
            self.connection.request("DELETE", "/clusters/%s" % cluster["id"])
        deleted = set(c.get("id") for c in deletes)
        stored = dict((c.get("name"), c) for c in self.stored_clusters(workspace_id) if c.get("id") not in deleted)
        for cluster, changed in updates:
            data = self.connection.request("PUT", "/clusters/%s" % cluster["id"], body=changed)
            stored[cluster["name"]] = data if isinstance(data, dict) and data.get("id") else dict(cluster, **changed)
        for cluster in creates:
            path = "%s/%s/clusters" % (self.path, workspace_id)
            data = self.connection.create_once("POST", path, lambda name=cluster["name"], path=path: next(
                (c for c in self.connection.list_all(path) if c.get("name") == name), None), body=cluster)
            stored[cluster["name"]] = data if isinstance(data, dict) else dict(cluster)
        self._stored_clusters[workspace_id] = list(stored.values())
        return self._project(declared, self._stored_clusters[workspace_id])

    def predict_create(self, change):
        predicted = dict(copy.deepcopy(change.body), name=change.name)
        predicted.setdefault("primary", True)
        predicted.setdefault("catch_all_action", "DENY")
        predicted.setdefault("enforcement_enabled", False)
        return predicted

    def create(self, change):
        body = dict(change.body)
        clusters = body.pop("clusters", None)
        data = dict(self.post_create(self.path, self.create_body(change.name, body), change.name) or {})
        data["catch_all_action"] = body.get("catch_all_action", "DENY")
        if clusters is not None:
            self._stored_clusters[data["id"]] = []
            data["clusters"] = self._apply_clusters(data["id"], clusters)
        return data

    def update(self, change):
        existing = change.existing
        changed = self.changed_body(change)
        result = dict(existing)
        clusters = changed.pop("clusters", None)
        if clusters is not None:
            result["clusters"] = self._apply_clusters(existing["id"], change.body["clusters"])
        catch_all = changed.pop("catch_all_action", None)
        if changed:
            data = self.connection.request("PUT", "%s/%s" % (self.path, existing["id"]), body=changed)
            result.update(data if isinstance(data, dict) and data.get("id") else changed)
        if catch_all is not None:
            version = "v%s" % (result.get("latest_adm_version") or 0)
            data = self.connection.request("PUT", "%s/%s/catch_all" % (self.path, existing["id"]),
                                           body={"version": version, "policy_action": catch_all})
            result["catch_all_action"] = (data or {}).get("action", catch_all)
        return result

    def delete(self, change):
        existing = change.existing
        if existing.get("primary"):
            # The API refuses to delete a primary workspace: make it secondary first.
            self.connection.request("PUT", "%s/%s" % (self.path, existing["id"]), body={"primary": False})
        self.connection.request("DELETE", "%s/%s" % (self.path, existing["id"]))


# ---------------------------------------------------------------------------------------- the kinds


def _short_name(value, path):
    # the API's own checks: "short_name must not be empty", "short_name is longer than 256 characters"
    if not value.strip():
        raise ValidationError(path, "must not be empty (the API refuses it: short_name must not be empty)")
    if len(value) > 256:
        raise ValidationError(path, "is %d characters long; the API takes at most 256 (short_name is longer than 256 characters)" % len(value))
    if ":" in value:
        raise ValidationError(path, "is the short name, without ':' (set the parent with parent)")
    return value


def _policy_priority(value, path):
    if value < 1:
        raise ValidationError(path, "must be 1 or more, got %d" % value)
    return value


SCOPE_KIND = Kind(
    "scope",
    "Scope",
    [
        Field("name", "short_name", key=True, convert=_short_name),
        Field("parent", task=True, required=True),
        Field("commit", "dirty", task=True, type="bool", default=True),
        Field("description", "description"),
        Field("query", "short_query", compare=canon_query, convert=convert_query, type="dict"),
        Field("policy_priority", "policy_priority", convert=_policy_priority, type="int"),
    ],
    create_requires=[("short_query", "query")],
    identity="name",
)


def filter_rules(params, prefix, task):
    if params.get("public") and params.get("primary") is False:
        raise ValidationError(prefix + "public", "a public filter must also be primary (primary=false was given)")
    return {}


INVENTORY_FILTER_KIND = Kind(
    "inventory_filter",
    "Inventory filter",
    [
        Field("name", key=True),
        Field("scope", task=True, required=True),
        Field("query", "short_query", compare=canon_query, convert=convert_query, type="dict"),
        Field("primary", "primary", empty=False, type="bool"),
        Field("public", "public", empty=False, type="bool"),
    ],
    create_requires=[("short_query", "query")],
    rules=filter_rules,
)

CLUSTER_SPEC = dict(
    name=dict(type="str", required=True),
    description=dict(type="str"),
    query=dict(type="dict", required=True),
    approved=dict(type="bool"),
)


def export_clusters(clusters, obj):
    """The clusters a read gives back, as ``clusters`` declares them: by name, each with its query and
    what differs from a new cluster's (a description, approved)."""
    out = []
    for cluster in sorted(clusters or [], key=lambda c: c.get("name") or ""):
        entry = {"name": cluster.get("name"), "query": copy.deepcopy(cluster.get("query"))}
        if cluster.get("description"):
            entry["description"] = cluster["description"]
        if cluster.get("approved"):
            entry["approved"] = True
        out.append(entry)
    return out


WORKSPACE_KIND = Kind(
    "workspace",
    "Workspace",
    [
        Field("name", key=True),
        Field("scope", task=True, required=True),
        Field("purge_clusters", task=True, type="bool", default=False),
        Field("description", "description"),
        Field("primary", "primary", type="bool"),
        Field("catch_all_action", "catch_all_action", compare=upper_or_none, convert=lambda value, path: value.upper(), choices=["allow", "deny"],
              export=lambda value, obj: value.lower()),
        Field("clusters", "clusters", compare=canon_clusters, type="list", elements="dict", options=CLUSTER_SPEC,
              convert=lambda value, path: build_clusters({"clusters": value}, path[:-len("clusters")]), export=export_clusters),
    ],
)
