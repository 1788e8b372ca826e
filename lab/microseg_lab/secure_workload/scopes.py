"""Scopes (``/app_scopes``) and inventory filters (``/filters/inventories``)."""

from __future__ import annotations

from .errors import in_use, invalid
from .fields import Call, boolean, integer, query, text
from .model import Model
from .query import QueryError, validate
from .store import new_id, now

SUCCESS = {"success": True}


class Scopes:
    def __init__(self, model: Model) -> None:
        self.m = model
        self.store = model.store

    def routes(self) -> list:
        return [
            ("GET", "/app_scopes", self.list_scopes),
            ("POST", "/app_scopes", self.create_scope),
            ("POST", "/app_scopes/commit_dirty", self.commit_dirty),
            ("GET", "/app_scopes/{id}", self.get_scope),
            ("PUT", "/app_scopes/{id}", self.update_scope),
            ("DELETE", "/app_scopes/{id}", self.delete_scope),
            ("GET", "/filters/inventories", self.list_filters),
            ("POST", "/filters/inventories", self.create_filter),
            ("POST", "/filters/inventories/validate_query", self.validate_query),
            ("GET", "/filters/inventories/{id}", self.get_filter),
            ("PUT", "/filters/inventories/{id}", self.update_filter),
            ("DELETE", "/filters/inventories/{id}", self.delete_filter),
        ]

    # ---------------------------------------------------------------- seed

    def seed_root(self, ident: str, name: str, vrf_id: int) -> dict:
        stamp = now()
        return self.store.put("scope", {
            "id": ident, "short_name": name, "description": "Root scope of the %s tenant (VRF %d)" % (name, vrf_id),
            "short_query": {"type": "eq", "field": "vrf_id", "value": vrf_id}, "dirty_short_query": None,
            "parent_app_scope_id": None, "vrf_id": vrf_id, "policy_priority": None, "created_at": stamp, "updated_at": stamp,
        })

    # ---------------------------------------------------------------- scopes

    def list_scopes(self, call: Call):
        vrf_id = call.int_arg("vrf_id")
        root_id = call.arg("root_app_scope_id")
        exact_name = call.arg("exact_name")
        exact_short_name = call.arg("exact_short_name")
        out = []
        for scope in self.store.all("scope"):
            if vrf_id is not None and scope["vrf_id"] != vrf_id:
                continue
            if root_id and self.m.root(scope)["id"] != root_id:
                continue
            if exact_name is not None and self.m.scope_name(scope) != exact_name:
                continue
            if exact_short_name is not None and scope["short_name"] != exact_short_name:
                continue
            out.append(self.m.render_scope(scope))
        return out

    def get_scope(self, call: Call):
        return self.m.render_scope(self.m.scope(call.params["id"]))

    def _parent(self, ident) -> dict:
        parent = self.store.get("scope", ident)
        if parent is None:
            raise invalid("parent_app_scope_id %s is not an existing scope" % ident)
        return parent

    def _unique_name(self, parent: dict, short_name: str, itself: str | None = None) -> None:
        for sibling in self.m.children(parent):
            if sibling["id"] != itself and sibling["short_name"].lower() == short_name.lower():
                raise invalid("a scope named %r already exists under %s" % (sibling["short_name"], self.m.scope_name(parent)))

    def _place(self, parent: dict, scope_id: str, priority: int | None) -> int:
        """The policy priority of a scope among its siblings (1 = first); later siblings move down."""
        siblings = [s for s in self.m.children(parent) if s["id"] != scope_id]
        if priority is None or priority > len(siblings):
            return len(siblings) + 1
        for position, sibling in enumerate(siblings, start=1):
            wanted = position if position < priority else position + 1
            if sibling.get("policy_priority") != wanted:
                moved = self.store.copy(sibling)
                moved["policy_priority"] = wanted
                self.store.put("scope", moved)
        return priority

    def create_scope(self, call: Call):
        body = call.body()
        short_name = text(body, "short_name", required=True)
        parent_id = text(body, "parent_app_scope_id")
        if parent_id is None:
            raise invalid("parent_app_scope_id is required (root scopes come with their tenant and are not created here)")
        parent = self._parent(parent_id)
        short_query = query(body, "short_query", required=True)
        description = text(body, "description", empty=True, maximum=4096)
        priority = integer(body, "policy_priority", minimum=1)
        sub_type = text(body, "sub_type")
        self._unique_name(parent, short_name)
        ident = new_id()
        stamp = now()
        doc = {"id": ident, "short_name": short_name, "description": description, "short_query": short_query,
               "dirty_short_query": None, "parent_app_scope_id": parent["id"], "vrf_id": parent["vrf_id"],
               "policy_priority": self._place(parent, ident, priority), "created_at": stamp, "updated_at": stamp}
        if sub_type is not None:
            doc["sub_type"] = sub_type
        return self.m.render_scope(self.store.put("scope", doc))

    def update_scope(self, call: Call):
        current = self.m.scope(call.params["id"])
        body = call.body()
        scope = self.store.copy(current)
        is_root = not current.get("parent_app_scope_id")
        short_name = text(body, "short_name")
        short_query = query(body, "short_query")
        description = text(body, "description", empty=True, maximum=4096)
        parent_id = text(body, "parent_app_scope_id")
        priority = integer(body, "policy_priority", minimum=1)
        if is_root:
            if (short_name is not None and short_name != current["short_name"]) or parent_id is not None or \
                    (short_query is not None and short_query != current["short_query"]):
                raise invalid("the name, query and parent of the root scope %s cannot be changed" % current["short_name"])
            short_name = short_query = None
        parent = self._parent(parent_id) if parent_id is not None else self.store.get("scope", current.get("parent_app_scope_id"))
        if parent_id is not None and parent_id != current["parent_app_scope_id"]:
            if parent["id"] == current["id"] or any(parent["id"] == d["id"] for d in self.m.descendants(current)):
                raise invalid("parent_app_scope_id %s is the scope itself or one of its descendants" % parent_id)
            if self.m.root(parent)["id"] != self.m.root(current)["id"]:
                raise invalid("a scope cannot move to another root scope")
            scope["parent_app_scope_id"] = parent["id"]
            scope["policy_priority"] = self._place(parent, current["id"], priority)
        elif priority is not None and parent is not None and priority != current.get("policy_priority"):
            scope["policy_priority"] = self._place(parent, current["id"], priority)
        if short_name is not None:
            scope["short_name"] = short_name
        if parent is not None and (short_name is not None or parent_id is not None):
            self._unique_name(parent, scope["short_name"], current["id"])
        if description is not None:
            scope["description"] = description
        if short_query is not None:
            # A query change waits for commit_dirty: the scope is dirty until then.
            scope["dirty_short_query"] = None if short_query == current["short_query"] else short_query
        scope["updated_at"] = now()
        return self.m.render_scope(self.store.put("scope", scope))

    def dependents(self, scope: dict) -> list[dict]:
        ident = scope["id"]
        details = [{"type": "AppScope", "id": c["id"], "name": self.m.scope_name(c)} for c in self.m.children(scope)]
        details += [{"type": "UserInventoryFilter", "id": f["id"], "name": f["name"]} for f in self.store.where("filter", app_scope_id=ident)]
        details += [{"type": "DataSet", "id": w["id"], "name": w["name"]} for w in self.store.where("workspace", app_scope_id=ident)]
        details += self.m.policy_dependents(ident)
        details += self.m.intent_dependents(ident)
        details += [{"type": "InventoryConfigProfile", "id": p["id"], "name": p["name"]}
                    for p in self.store.where("profile", root_app_scope_id=ident)]
        details += [{"type": "ExternalOrchestrator", "id": o["id"], "name": o["name"]}
                    for o in self.store.where("orchestrator", root_app_scope_id=ident)]
        return details

    def delete_scope(self, call: Call):
        scope = self.m.scope(call.params["id"])
        if not scope.get("parent_app_scope_id"):
            raise invalid("the root scope %s cannot be deleted" % scope["short_name"])
        details = self.dependents(scope)
        if details:
            raise in_use("scope", details)
        self.store.delete("scope", scope["id"])
        return SUCCESS

    def commit_dirty(self, call: Call):
        body = call.body()
        root_id = text(body, "root_app_scope_id", required=True)
        boolean(body, "sync", False)
        root = self.store.get("scope", root_id)
        if root is None:
            raise invalid("root_app_scope_id %s is not an existing scope" % root_id)
        if root.get("parent_app_scope_id"):
            raise invalid("root_app_scope_id %s is not a root scope" % root_id)
        stamp = now()
        for scope in [root] + self.m.descendants(root):
            if scope.get("dirty_short_query") is not None:
                committed = self.store.copy(scope)
                committed["short_query"] = committed["dirty_short_query"]
                committed["dirty_short_query"] = None
                committed["updated_at"] = stamp
                self.store.put("scope", committed)
        return SUCCESS

    # ---------------------------------------------------------------- inventory filters

    def list_filters(self, call: Call):
        vrf_id = call.int_arg("vrf_id")
        root_id = call.arg("root_app_scope_id")
        scope_id = call.arg("app_scope_id")
        name = call.arg("name")
        exact_name = call.arg("exact_name")
        out = []
        for doc in self.store.all("filter"):
            scope = self.store.get("scope", doc["app_scope_id"])
            if vrf_id is not None and (scope is None or scope["vrf_id"] != vrf_id):
                continue
            if root_id and (scope is None or self.m.root(scope)["id"] != root_id):
                continue
            if scope_id and doc["app_scope_id"] != scope_id:
                continue
            if name is not None and name.lower() not in doc["name"].lower():
                continue
            if exact_name is not None and doc["name"] != exact_name:
                continue
            out.append(self.m.render_filter(doc))
        return out

    def get_filter(self, call: Call):
        return self.m.render_filter(self.m.inventory_filter(call.params["id"]))

    def _filter_fields(self, body: dict, doc: dict, creating: bool) -> dict:
        name = text(body, "name", required=creating)
        short_query = query(body, "query", required=creating)
        scope_id = text(body, "app_scope_id", required=creating)
        primary = boolean(body, "primary")
        public = boolean(body, "public")
        if scope_id is not None:
            if self.store.get("scope", scope_id) is None:
                raise invalid("app_scope_id %s is not an existing scope" % scope_id)
            doc["app_scope_id"] = scope_id
        for key, value in (("name", name), ("short_query", short_query), ("primary", primary), ("public", public)):
            if value is not None:
                doc[key] = value
        doc.setdefault("primary", False)
        doc.setdefault("public", False)
        if doc["public"] and not doc["primary"]:
            raise invalid("a public inventory filter (a service of its scope) must also be primary")
        return doc

    def create_filter(self, call: Call):
        stamp = now()
        doc = self._filter_fields(call.body(), {"id": new_id(), "created_at": stamp, "updated_at": stamp}, True)
        return self.m.render_filter(self.store.put("filter", doc))

    def update_filter(self, call: Call):
        doc = self.store.copy(self.m.inventory_filter(call.params["id"]))
        doc = self._filter_fields(call.body(), doc, False)
        doc["updated_at"] = now()
        return self.m.render_filter(self.store.put("filter", doc))

    def delete_filter(self, call: Call):
        doc = self.m.inventory_filter(call.params["id"])
        details = self.m.policy_dependents(doc["id"]) + self.m.intent_dependents(doc["id"])
        if details:
            raise in_use("inventory filter", details)
        self.store.delete("filter", doc["id"])
        return SUCCESS

    def validate_query(self, call: Call):
        body = call.body()
        if body.get("query") is None:
            raise invalid("query is required")
        try:
            validate(body["query"], "query")
        except QueryError as exc:
            return {"valid": False, "error": "invalid query: %s" % exc}
        return {"valid": True}
