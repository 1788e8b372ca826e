"""Lookups and renderings shared by the Secure Workload resources.

Derived fields are computed when an object is read, never stored: a scope's ``name``
(``Root:Child:Leaf``), ``query`` (its committed ``short_query`` ANDed with its parents' queries),
``child_app_scope_ids`` and ``root_app_scope_id``; an inventory filter's ``query`` (``short_query``,
ANDed with its scope's query when the filter is ``primary``). A rename or a committed query change
is therefore visible at once on every descendant.
"""

from __future__ import annotations

from .errors import not_found
from .query import conjunction
from .store import Store

# What a policy's consumer_filter/provider_filter says an id is (lab choice: the names are not public).
FILTER_TYPES = {"scope": "AppScope", "filter": "UserInventoryFilter", "cluster": "Cluster"}


class Model:
    def __init__(self, store: Store) -> None:
        self.store = store

    # ---------------------------------------------------------------- scopes

    def scope(self, ident: str) -> dict:
        doc = self.store.get("scope", ident)
        if doc is None:
            raise not_found("scope", ident)
        return doc

    def chain(self, scope: dict) -> list[dict]:
        """Root first, ``scope`` last."""
        out = [scope]
        seen = {scope["id"]}
        while out[-1].get("parent_app_scope_id"):
            parent = self.store.get("scope", out[-1]["parent_app_scope_id"])
            if parent is None or parent["id"] in seen:
                break
            seen.add(parent["id"])
            out.append(parent)
        out.reverse()
        return out

    def root(self, scope: dict) -> dict:
        return self.chain(scope)[0]

    def scope_name(self, scope: dict) -> str:
        return ":".join(s["short_name"] for s in self.chain(scope))

    def scope_query(self, scope: dict) -> dict:
        query = None
        for item in self.chain(scope):
            query = item["short_query"] if query is None else conjunction(query, item["short_query"])
        return query

    def children(self, scope: dict) -> list[dict]:
        kids = self.store.where("scope", parent_app_scope_id=scope["id"])
        return sorted(kids, key=lambda s: (s.get("policy_priority") or 0, s["_seq"]))

    def descendants(self, scope: dict) -> list[dict]:
        out = []
        for child in self.children(scope):
            out.append(child)
            out.extend(self.descendants(child))
        return out

    def scope_by_full_name(self, name: str) -> dict | None:
        for scope in self.store.all("scope"):
            if self.scope_name(scope) == name:
                return scope
        return None

    def render_scope(self, scope: dict) -> dict:
        return {
            "id": scope["id"],
            "short_name": scope["short_name"],
            "name": self.scope_name(scope),
            "description": scope.get("description"),
            "short_query": scope["short_query"],
            "query": self.scope_query(scope),
            "vrf_id": scope["vrf_id"],
            "parent_app_scope_id": scope.get("parent_app_scope_id"),
            "child_app_scope_ids": [child["id"] for child in self.children(scope)],
            "root_app_scope_id": self.root(scope)["id"],
            "policy_priority": scope.get("policy_priority"),
            "dirty": scope.get("dirty_short_query") is not None,
            "dirty_short_query": scope.get("dirty_short_query"),
            "created_at": scope["created_at"],
            "updated_at": scope["updated_at"],
        }

    # ---------------------------------------------------------------- inventory filters

    def inventory_filter(self, ident: str) -> dict:
        doc = self.store.get("filter", ident)
        if doc is None:
            raise not_found("inventory filter", ident)
        return doc

    def filter_query(self, doc: dict) -> dict:
        if doc.get("primary"):
            scope = self.store.get("scope", doc["app_scope_id"])
            if scope is not None:
                return conjunction(self.scope_query(scope), doc["short_query"])
        return doc["short_query"]

    def render_filter(self, doc: dict) -> dict:
        return {
            "id": doc["id"],
            "name": doc["name"],
            "app_scope_id": doc["app_scope_id"],
            "short_query": doc["short_query"],
            "query": self.filter_query(doc),
            "primary": doc["primary"],
            "public": doc["public"],
            "created_at": doc["created_at"],
            "updated_at": doc["updated_at"],
        }

    # ---------------------------------------------------------------- policy endpoints

    def endpoint(self, ident, application_id: str | None = None, version=None) -> tuple[str, dict] | None:
        """What a consumer/provider id names: a scope, an inventory filter or a cluster of the workspace version."""
        if not isinstance(ident, str):
            return None
        for kind in ("scope", "filter"):
            doc = self.store.get(kind, ident)
            if doc is not None:
                return kind, doc
        cluster = self.store.get("cluster", ident)
        if cluster is not None and (application_id is None or
                                    (cluster["application_id"] == application_id and cluster.get("published") == version)):
            return "cluster", cluster
        return None

    def endpoint_summary(self, ident: str) -> dict:
        found = self.endpoint(ident)
        if found is None:
            return {"id": ident, "name": None, "filter_type": None}
        kind, doc = found
        name = self.scope_name(doc) if kind == "scope" else doc["name"]
        return {"id": ident, "name": name, "filter_type": FILTER_TYPES[kind]}

    def policies_using(self, ident: str) -> list[dict]:
        """Policies of a working (draft) or enforced version whose consumer or provider is ``ident``."""
        out = []
        for policy in self.store.all("policy"):
            if ident not in (policy["consumer_filter_id"], policy["provider_filter_id"]):
                continue
            published = policy.get("published")
            if published is not None:
                workspace = self.store.get("workspace", policy["application_id"])
                if workspace is None or not workspace.get("enforcement_enabled") or workspace.get("enforced_version") != published:
                    continue
            out.append(policy)
        return out

    def policy_dependents(self, ident: str) -> list[dict]:
        details = []
        for policy in self.policies_using(ident):
            workspace = self.store.get("workspace", policy["application_id"]) or {}
            details.append({"type": "ClusterEdge", "id": policy["id"], "application_id": policy["application_id"],
                            "name": workspace.get("name")})
        return details

    def intent_dependents(self, ident: str) -> list[dict]:
        return [{"type": "InventoryConfigIntent", "id": intent["id"], "name": intent.get("name")}
                for intent in self.store.where("intent", inventory_filter_id=ident)]
