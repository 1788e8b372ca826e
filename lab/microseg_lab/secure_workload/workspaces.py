"""Workspaces (``/applications``), their versions, policies with L4 params, catch-all, clusters and enforcement.

Versions. A workspace has one working version, ``v<latest_adm_version>`` (``v0`` for a new
workspace): policies, clusters and the catch-all are created and changed there. Publishing makes a
read-only copy ``p<N>`` (N = 1, 2, ... per workspace) whose policies and clusters get new ids ("policy
IDs can change from version to version"). ``enable_enforce`` publishes: with ``{"version": "pN"}``
it enforces the existing version N, or publishes the working version as N when N is the next
number; without a version it enforces the newest published version when it has the same content as
the working version, and publishes a new one otherwise. A bare ``N`` means ``pN`` there. Everywhere
else a bare ``N`` means ``vN``.
"""

from __future__ import annotations

from .errors import SwError, in_use, invalid, not_found
from .fields import Call, boolean, choice, integer, query, text
from .model import Model
from .store import new_id, now

SUCCESS = {"success": True}
ACTIONS = ("ALLOW", "DENY")
RANKS = ("DEFAULT", "ABSOLUTE")
PORT_PROTOCOLS = (6, 17)
DEFAULT_PRIORITY = 100
# the API stores a policy priority as a 64-bit integer
MAX_PRIORITY = 2 ** 63 - 1
AUTHOR = "microseg lab"


def version_label(published: int | None, workspace: dict) -> str:
    return "v%d" % workspace["latest_adm_version"] if published is None else "p%d" % published


class Workspaces:
    def __init__(self, model: Model) -> None:
        self.m = model
        self.store = model.store

    def routes(self) -> list:
        return [
            ("GET", "/applications", self.list_workspaces),
            ("POST", "/applications", self.create_workspace),
            ("GET", "/applications/{id}", self.get_workspace),
            ("PUT", "/applications/{id}", self.update_workspace),
            ("DELETE", "/applications/{id}", self.delete_workspace),
            ("GET", "/applications/{id}/details", self.details),
            ("GET", "/applications/{id}/versions", self.list_versions),
            ("GET", "/applications/{id}/versions/{version}", self.get_version),
            ("DELETE", "/applications/{id}/versions/{version}", self.delete_version),
            ("GET", "/applications/{id}/policies", self.list_policies),
            ("POST", "/applications/{id}/policies", self.create_policy),
            ("GET", "/applications/{id}/default_policies", self.default_policies),
            ("GET", "/applications/{id}/absolute_policies", self.absolute_policies),
            ("GET", "/applications/{id}/catch_all", self.get_catch_all),
            ("PUT", "/applications/{id}/catch_all", self.update_catch_all),
            ("POST", "/applications/{id}/enable_enforce", self.enable_enforce),
            ("POST", "/applications/{id}/disable_enforce", self.disable_enforce),
            ("GET", "/applications/{id}/clusters", self.list_clusters),
            ("POST", "/applications/{id}/clusters", self.create_cluster),
            ("GET", "/clusters/{id}", self.get_cluster),
            ("PUT", "/clusters/{id}", self.update_cluster),
            ("DELETE", "/clusters/{id}", self.delete_cluster),
            ("GET", "/policies/{id}", self.get_policy),
            ("PUT", "/policies/{id}", self.update_policy),
            ("DELETE", "/policies/{id}", self.delete_policy),
            ("POST", "/policies/{id}/l4_params", self.add_l4_param),
            ("PUT", "/policies/{id}/l4_params/{l4}", self.update_l4_param),
            ("DELETE", "/policies/{id}/l4_params/{l4}", self.delete_l4_param),
        ]

    # ---------------------------------------------------------------- lookups

    def workspace(self, ident: str) -> dict:
        doc = self.store.get("workspace", ident)
        if doc is None:
            raise not_found("workspace", ident)
        return doc

    def version_of(self, workspace: dict, raw, *, bare: str = "v", writing: bool = False) -> int | None:
        """None for the working version, N for the published version pN."""
        if raw is None or raw == "":
            return None
        if isinstance(raw, bool) or not isinstance(raw, (str, int)):
            raise invalid("version must be a string such as \"v0\" or \"p1\"")
        label = str(raw).strip().lower()
        prefix = label[0] if label[:1] in ("v", "p") else bare
        number = label[1:] if label[:1] in ("v", "p") else label
        if not number.isdigit():
            raise invalid("version %r is not of the form vN or pN" % raw)
        number = int(number)
        latest = workspace["latest_adm_version"]
        if prefix == "v":
            if number != latest:
                raise SwError(422 if writing else 404, "version v%d of workspace %s does not exist (the working version is v%d)"
                              % (number, workspace["name"], latest))
            return None
        if writing:
            raise invalid("version p%d is published and read-only: change the working version v%d" % (number, latest))
        if not any(v["version"] == number for v in workspace["versions"]):
            raise not_found("version", "p%d of workspace %s" % (number, workspace["name"]))
        return number

    def policies_of(self, workspace: dict, published: int | None) -> list[dict]:
        found = [p for p in self.store.where("policy", application_id=workspace["id"]) if p.get("published") == published]
        return sorted(found, key=lambda p: (p["priority"], p["_seq"]))

    def clusters_of(self, workspace: dict, published: int | None) -> list[dict]:
        return [c for c in self.store.where("cluster", application_id=workspace["id"]) if c.get("published") == published]

    def catch_all_of(self, workspace: dict, published: int | None) -> dict:
        if published is None:
            return workspace["catch_all"]
        return next(v["catch_all"] for v in workspace["versions"] if v["version"] == published)

    # ---------------------------------------------------------------- renderings

    def render_workspace(self, doc: dict) -> dict:
        keys = ("id", "name", "description", "app_scope_id", "author", "primary", "alternate_query_mode", "created_at",
                "latest_adm_version", "analysis_enabled", "analyzed_version", "enforcement_enabled", "enforced_version")
        return {key: doc.get(key) for key in keys}

    @staticmethod
    def render_l4(param: dict) -> dict:
        # Lab rule from the observed answers: "port" only for TCP and UDP, "approved" only when true.
        out = {"id": param["id"], "proto": param["proto"]}
        if param["proto"] in PORT_PROTOCOLS:
            out["port"] = list(param["port"])
        if param.get("description"):
            out["description"] = param["description"]
        if param.get("approved"):
            out["approved"] = True
        return out

    def render_policy(self, policy: dict) -> dict:
        workspace = self.store.get("workspace", policy["application_id"]) or {"latest_adm_version": 0}
        return {
            "id": policy["id"],
            "application_id": policy["application_id"],
            "consumer_filter_id": policy["consumer_filter_id"],
            "provider_filter_id": policy["provider_filter_id"],
            "consumer_filter": self.m.endpoint_summary(policy["consumer_filter_id"]),
            "provider_filter": self.m.endpoint_summary(policy["provider_filter_id"]),
            "version": version_label(policy.get("published"), workspace),
            "rank": policy["rank"],
            "action": policy["action"],
            "priority": policy["priority"],
            "l4_params": [self.render_l4(p) for p in policy["l4_params"]],
        }

    def render_catch_all(self, workspace: dict, published: int | None) -> dict:
        catch_all = self.catch_all_of(workspace, published)
        return {"id": catch_all["id"], "application_id": workspace["id"], "version": version_label(published, workspace),
                "rank": "CATCH_ALL", "action": catch_all["action"]}

    def render_cluster(self, cluster: dict) -> dict:
        workspace = self.store.get("workspace", cluster["application_id"]) or {"latest_adm_version": 0}
        return {"id": cluster["id"], "name": cluster["name"], "description": cluster.get("description"), "query": cluster["query"],
                "approved": cluster.get("approved", False), "nodes": cluster.get("nodes") or [],
                "consistent_uuid": cluster["consistent_uuid"], "application_id": cluster["application_id"],
                "version": version_label(cluster.get("published"), workspace)}

    # ---------------------------------------------------------------- workspaces

    def list_workspaces(self, call: Call):
        scope_id = call.arg("app_scope_id")
        exact_name = call.arg("exact_name")
        out = []
        for doc in self.store.all("workspace"):
            if scope_id and doc["app_scope_id"] != scope_id:
                continue
            if exact_name is not None and doc["name"] != exact_name:
                continue
            out.append(self.render_workspace(doc))
        return out

    def get_workspace(self, call: Call):
        return self.render_workspace(self.workspace(call.params["id"]))

    def _primary_of(self, scope_id: str, other_than: str | None = None) -> dict | None:
        for doc in self.store.where("workspace", app_scope_id=scope_id):
            if doc["primary"] and doc["id"] != other_than:
                return doc
        return None

    CREATE_KEYS = frozenset({"app_scope_id", "name", "description", "alternate_query_mode", "strict_validation", "primary", "clusters",
                             "inventory_filters", "absolute_policies", "default_policies", "catch_all_action"})

    def create_workspace(self, call: Call):
        body = call.body()
        if boolean(body, "strict_validation", False):
            extra = sorted(set(body) - self.CREATE_KEYS)
            if extra:
                raise invalid("strict_validation: unknown field(s) %s" % ", ".join(extra))
        scope_id = text(body, "app_scope_id", required=True)
        scope = self.store.get("scope", scope_id)
        if scope is None:
            raise invalid("app_scope_id %s is not an existing scope" % scope_id)
        name = text(body, "name", required=True)
        description = text(body, "description", empty=True, maximum=4096)
        alternate = boolean(body, "alternate_query_mode", True)
        primary = boolean(body, "primary", True, strings=True)
        catch_all = choice(body, "catch_all_action", ACTIONS, "DENY")
        has_policies = any(body.get(key) for key in ("clusters", "inventory_filters", "absolute_policies", "default_policies"))
        existing = self._primary_of(scope_id) if primary else None
        if existing is not None:
            if not has_policies:
                raise invalid("scope %s already has a primary workspace (%s %s)" % (self.m.scope_name(scope), existing["id"], existing["name"]))
            # "If a primary workspace exists for the same scope and new policies are provided, the
            # policies will be added as a new version to the existing workspace."
            workspace = self.store.copy(existing)
            workspace["latest_adm_version"] += 1
            workspace["catch_all"] = {"id": new_id(), "action": catch_all}
            self._drop_working_version(workspace)
            self.store.put("workspace", workspace)
            self._import_payload(workspace, body)
            return self.render_workspace(workspace)
        stamp = now()
        workspace = {"id": new_id(), "name": name, "description": description, "app_scope_id": scope_id, "author": AUTHOR,
                     "primary": primary, "alternate_query_mode": alternate, "created_at": stamp, "updated_at": stamp,
                     "latest_adm_version": 0, "analysis_enabled": False, "analyzed_version": 0, "enforcement_enabled": False,
                     "enforced_version": 0, "catch_all": {"id": new_id(), "action": catch_all}, "versions": [], "published_counter": 0}
        self.store.put("workspace", workspace)
        self._import_payload(workspace, body)
        return self.render_workspace(workspace)

    def _drop_working_version(self, workspace: dict) -> None:
        for policy in self.policies_of(workspace, None):
            self.store.delete("policy", policy["id"])
        for cluster in self.clusters_of(workspace, None):
            self.store.delete("cluster", cluster["id"])

    def _import_payload(self, workspace: dict, body: dict) -> None:
        """Clusters, inventory filters and policies given with a new workspace; their ``id``s may be local references."""
        local: dict[str, str] = {}
        clusters = body.get("clusters") or []
        filters = body.get("inventory_filters") or []
        for key, items in (("clusters", clusters), ("inventory_filters", filters)):
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise invalid("%s must be a list of objects" % key)
        for index, item in enumerate(clusters):
            cluster = self._cluster_fields(item, "clusters[%d]" % index, creating=True)
            cluster.update({"id": new_id(), "application_id": workspace["id"], "published": None, "created_at": now()})
            if isinstance(item.get("id"), str):
                local[item["id"]] = cluster["id"]
            self.store.put("cluster", cluster)
        for index, item in enumerate(filters):
            where = "inventory_filters[%d]" % index
            ident = item.get("id")
            if isinstance(ident, str) and self.m.endpoint(ident) is not None:
                local[ident] = ident
                continue
            name = text(item, "name", required=True)
            short_query = query(item, "query", required=True)
            stamp = now()
            created = self.store.put("filter", {"id": new_id(), "name": name, "app_scope_id": workspace["app_scope_id"],
                                                "short_query": short_query, "primary": False, "public": False,
                                                "created_at": stamp, "updated_at": stamp})
            if isinstance(ident, str):
                local[ident] = created["id"]
            elif ident is not None:
                raise invalid("%s.id must be a string" % where)
        for rank, key in (("ABSOLUTE", "absolute_policies"), ("DEFAULT", "default_policies")):
            items = body.get(key) or []
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise invalid("%s must be a list of objects" % key)
            for index, item in enumerate(items):
                item = dict(item, rank=rank)
                for side in ("consumer_filter_id", "provider_filter_id"):
                    if isinstance(item.get(side), str):
                        item[side] = local.get(item[side], item[side])
                self._new_policy(workspace, item, "%s[%d]" % (key, index))

    def update_workspace(self, call: Call):
        workspace = self.store.copy(self.workspace(call.params["id"]))
        body = call.body()
        # Only name, description and primary can be changed; other fields are ignored.
        name = text(body, "name")
        description = text(body, "description", empty=True, maximum=4096)
        primary = boolean(body, "primary", strings=True)
        if name is not None:
            workspace["name"] = name
        if description is not None:
            workspace["description"] = description
        if primary is not None and primary != workspace["primary"]:
            other = self._primary_of(workspace["app_scope_id"], workspace["id"]) if primary else None
            if other is not None:
                raise invalid("scope %s already has a primary workspace (%s %s)"
                              % (self.m.scope_name(self.m.scope(workspace["app_scope_id"])), other["id"], other["name"]))
            workspace["primary"] = primary
        workspace["updated_at"] = now()
        return self.render_workspace(self.store.put("workspace", workspace))

    def delete_workspace(self, call: Call):
        workspace = self.workspace(call.params["id"])
        if workspace["enforcement_enabled"]:
            raise invalid("Disable enforcement before deleting workspace %s" % workspace["name"])
        if workspace["primary"]:
            raise invalid("Workspace %s is primary: make it secondary (primary: false) before deleting it" % workspace["name"])
        for policy in self.store.where("policy", application_id=workspace["id"]):
            self.store.delete("policy", policy["id"])
        for cluster in self.store.where("cluster", application_id=workspace["id"]):
            self.store.delete("cluster", cluster["id"])
        self.store.delete("workspace", workspace["id"])
        return SUCCESS

    # ---------------------------------------------------------------- versions and details

    def _version_entry(self, workspace: dict, published: int | None) -> dict:
        if published is None:
            return {"version": version_label(None, workspace), "created_at": workspace["created_at"], "name": None,
                    "description": None, "last_enforcement_event_at": None}
        entry = next(v for v in workspace["versions"] if v["version"] == published)
        return {"version": "p%d" % published, "created_at": entry["created_at"], "name": entry.get("name"),
                "description": entry.get("description"), "last_enforcement_event_at": entry.get("last_enforcement_event_at")}

    def list_versions(self, call: Call):
        workspace = self.workspace(call.params["id"])
        published = sorted((v["version"] for v in workspace["versions"]), reverse=True)
        return [self._version_entry(workspace, None)] + [self._version_entry(workspace, n) for n in published]

    def _details(self, workspace: dict, published: int | None) -> dict:
        policies = self.policies_of(workspace, published)
        referenced = []
        for policy in policies:
            for ident in (policy["consumer_filter_id"], policy["provider_filter_id"]):
                found = self.m.endpoint(ident)
                if found is None or found[0] == "cluster" or any(r["id"] == ident for r in referenced):
                    continue
                kind, doc = found
                if kind == "scope":
                    referenced.append({"id": ident, "name": self.m.scope_name(doc), "query": self.m.scope_query(doc)})
                else:
                    referenced.append({"id": ident, "name": doc["name"], "query": self.m.filter_query(doc)})
        out = self.render_workspace(workspace)
        out.update({
            "version": version_label(published, workspace),
            "clusters": [self.render_cluster(c) for c in self.clusters_of(workspace, published)],
            "inventory_filters": referenced,
            "absolute_policies": [self.render_policy(p) for p in policies if p["rank"] == "ABSOLUTE"],
            "default_policies": [self.render_policy(p) for p in policies if p["rank"] == "DEFAULT"],
            "catch_all_action": self.catch_all_of(workspace, published)["action"],
        })
        return out

    def details(self, call: Call):
        workspace = self.workspace(call.params["id"])
        return self._details(workspace, self.version_of(workspace, call.arg("version")))

    def get_version(self, call: Call):
        workspace = self.workspace(call.params["id"])
        return self._details(workspace, self.version_of(workspace, call.params["version"]))

    def delete_version(self, call: Call):
        workspace = self.workspace(call.params["id"])
        published = self.version_of(workspace, call.params["version"])
        if published is None:
            raise invalid("the working version v%d cannot be deleted" % workspace["latest_adm_version"])
        if workspace["enforcement_enabled"] and workspace["enforced_version"] == published:
            raise invalid("version p%d is enforced: enforce another version or disable enforcement first" % published)
        updated = self.store.copy(workspace)
        updated["versions"] = [v for v in updated["versions"] if v["version"] != published]
        self.store.put("workspace", updated)
        for policy in self.policies_of(workspace, published):
            self.store.delete("policy", policy["id"])
        for cluster in self.clusters_of(workspace, published):
            self.store.delete("cluster", cluster["id"])
        return SUCCESS

    # ---------------------------------------------------------------- policies

    def _selected(self, call: Call, workspace: dict, rank: str | None) -> list[dict]:
        published = self.version_of(workspace, call.arg("version"))
        consumer = call.arg("consumer_filter_id")
        provider = call.arg("provider_filter_id")
        out = []
        for policy in self.policies_of(workspace, published):
            if rank is not None and policy["rank"] != rank:
                continue
            if consumer and policy["consumer_filter_id"] != consumer:
                continue
            if provider and policy["provider_filter_id"] != provider:
                continue
            out.append(self.render_policy(policy))
        return out

    def list_policies(self, call: Call):
        workspace = self.workspace(call.params["id"])
        policies = self._selected(call, workspace, None)
        published = self.version_of(workspace, call.arg("version"))
        return {"absolute_policies": [p for p in policies if p["rank"] == "ABSOLUTE"],
                "default_policies": [p for p in policies if p["rank"] == "DEFAULT"],
                "catch_all_action": self.catch_all_of(workspace, published)["action"]}

    def _ranked(self, call: Call, rank: str):
        # A plain list; ``offset`` (a number of policies to skip) is used with ``limit``.
        policies = self._selected(call, self.workspace(call.params["id"]), rank)
        offset = call.int_arg("offset") or 0
        limit = call.int_arg("limit", minimum=1)
        return policies[offset:offset + limit] if limit is not None else policies[offset:]

    def default_policies(self, call: Call):
        return self._ranked(call, "DEFAULT")

    def absolute_policies(self, call: Call):
        return self._ranked(call, "ABSOLUTE")

    def _endpoint(self, workspace: dict, body: dict, key: str, where: str, required: bool = True) -> str | None:
        ident = text(body, key, required=required)
        if ident is None:
            return None
        found = self.m.endpoint(ident, workspace["id"], None)
        if found is None:
            raise invalid("%s%s %s is not an existing scope, inventory filter or cluster of this workspace" % (where, key, ident))
        kind, doc = found
        if kind != "cluster":
            scope = doc if kind == "scope" else self.store.get("scope", doc["app_scope_id"])
            workspace_scope = self.store.get("scope", workspace["app_scope_id"])
            if scope is not None and workspace_scope is not None and self.m.root(scope)["id"] != self.m.root(workspace_scope)["id"]:
                raise invalid("%s%s %s belongs to another root scope than the workspace" % (where, key, ident))
        return ident

    @staticmethod
    def _action(body: dict, where: str, required: bool) -> str | None:
        """``policy_action`` on input (``action``, the output name, is accepted too)."""
        action = choice(body, "policy_action", ACTIONS)
        other = choice(body, "action", ACTIONS)
        if action is not None and other is not None and action != other:
            raise invalid("%spolicy_action %s and action %s disagree" % (where, action, other))
        action = action or other
        if action is None and required:
            raise invalid("%spolicy_action is required (ALLOW or DENY)" % where)
        return action

    def _l4_param(self, item, where: str) -> dict:
        if not isinstance(item, dict):
            raise invalid("%s must be an object" % where)
        proto = item.get("proto")
        if proto is not None and (isinstance(proto, bool) or not isinstance(proto, int) or not 0 <= proto <= 255):
            raise invalid("%s.proto must be an IP protocol number 0-255, or null for any protocol" % where)
        port = item.get("port")
        start, end = item.get("start_port"), item.get("end_port")
        for key, value in (("start_port", start), ("end_port", end)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535):
                raise invalid("%s.%s must be a port number 0-65535" % (where, key))
        if port is not None:
            if not isinstance(port, list) or len(port) != 2 or any(isinstance(p, bool) or not isinstance(p, int) for p in port):
                raise invalid("%s.port must be [low, high]" % where)
            if start is not None or end is not None:
                raise invalid("%s: give either port or start_port/end_port" % where)
            start, end = port
        elif start is not None and end is None:
            end = 65535 if start == 0 else start
        elif end is not None and start is None:
            start = end
        if proto in PORT_PROTOCOLS:
            low, high = (0, 65535) if start is None else (start, end)
            if not 0 <= low <= high <= 65535:
                raise invalid("%s: the port range %s-%s is not within 0-65535 with low <= high" % (where, low, high))
            ports = [low, high]
        else:
            if start is not None:
                raise invalid("%s: ports are only valid for TCP (6) and UDP (17), not for protocol %s" % (where, "any" if proto is None else proto))
            ports = None
        description = text(item, "description", empty=True, maximum=4096)
        approved = boolean(item, "approved", False)
        return {"id": new_id(), "proto": proto, "port": ports, "description": description, "approved": approved}

    @staticmethod
    def _same_l4(left: dict, right: dict) -> bool:
        return left["proto"] == right["proto"] and left["port"] == right["port"]

    def _l4_list(self, items, where: str, previous: list[dict] | None = None) -> list[dict]:
        if not isinstance(items, list):
            raise invalid("%sl4_params must be a list" % where)
        out: list[dict] = []
        for index, item in enumerate(items):
            param = self._l4_param(item, "%sl4_params[%d]" % (where, index))
            if any(self._same_l4(param, other) for other in out):
                raise invalid("%sl4_params[%d] repeats protocol %s ports %s" % (where, index, param["proto"], param["port"]))
            kept = next((p for p in previous or [] if self._same_l4(p, param)), None)
            param["id"] = kept["id"] if kept is not None else new_id()
            out.append(param)
        return out

    def _new_policy(self, workspace: dict, body: dict, where: str = "") -> dict:
        prefix = where + "." if where else ""
        if "version" in body:
            self.version_of(workspace, body["version"], writing=True)
        stamp = now()
        policy = {
            "id": new_id(), "application_id": workspace["id"], "published": None,
            "rank": choice(body, "rank", RANKS, "DEFAULT"),
            "action": self._action(body, prefix, True),
            "priority": integer(body, "priority", DEFAULT_PRIORITY, minimum=0, maximum=MAX_PRIORITY),
            "consumer_filter_id": self._endpoint(workspace, body, "consumer_filter_id", prefix),
            "provider_filter_id": self._endpoint(workspace, body, "provider_filter_id", prefix),
            "l4_params": self._l4_list(body.get("l4_params") or [], prefix),
            "created_at": stamp, "updated_at": stamp,
        }
        return self.store.put("policy", policy)

    def create_policy(self, call: Call):
        workspace = self.workspace(call.params["id"])
        return self.render_policy(self._new_policy(workspace, call.body()))

    def policy(self, ident: str, writing: bool = False) -> dict:
        doc = self.store.get("policy", ident)
        if doc is None:
            raise not_found("policy", ident)
        if writing and doc.get("published") is not None:
            workspace = self.store.get("workspace", doc["application_id"]) or {"name": doc["application_id"]}
            raise invalid("policy %s belongs to the published version p%d of workspace %s and is read-only"
                          % (ident, doc["published"], workspace["name"]))
        return doc

    def get_policy(self, call: Call):
        return self.render_policy(self.policy(call.params["id"]))

    def update_policy(self, call: Call):
        # The update body is not public: the lab takes the create fields, each optional, and
        # changes the policy in place (same id). l4_params, when given, replace the list.
        policy = self.store.copy(self.policy(call.params["id"], writing=True))
        workspace = self.workspace(policy["application_id"])
        body = call.body()
        if "version" in body:
            self.version_of(workspace, body["version"], writing=True)
        rank = choice(body, "rank", RANKS)
        action = self._action(body, "", False)
        priority = integer(body, "priority", minimum=0, maximum=MAX_PRIORITY)
        consumer = self._endpoint(workspace, body, "consumer_filter_id", "", required=False)
        provider = self._endpoint(workspace, body, "provider_filter_id", "", required=False)
        for key, value in (("rank", rank), ("action", action), ("priority", priority), ("consumer_filter_id", consumer),
                           ("provider_filter_id", provider)):
            if value is not None:
                policy[key] = value
        if body.get("l4_params") is not None:
            policy["l4_params"] = self._l4_list(body["l4_params"], "", policy["l4_params"])
        policy["updated_at"] = now()
        return self.render_policy(self.store.put("policy", policy))

    def delete_policy(self, call: Call):
        policy = self.policy(call.params["id"], writing=True)
        self.store.delete("policy", policy["id"])
        return SUCCESS

    def add_l4_param(self, call: Call):
        policy = self.store.copy(self.policy(call.params["id"], writing=True))
        body = dict(call.body())
        body.pop("id", None)
        param = self._l4_param(body, "l4 param")
        param["id"] = new_id()
        if any(self._same_l4(param, other) for other in policy["l4_params"]):
            raise invalid("the policy already has an l4 param for protocol %s ports %s" % (param["proto"], param["port"]))
        policy["l4_params"].append(param)
        policy["updated_at"] = now()
        return self.render_policy(self.store.put("policy", policy))

    def _l4_index(self, policy: dict, ident: str) -> int:
        for index, param in enumerate(policy["l4_params"]):
            if param["id"] == ident:
                return index
        raise not_found("l4 param", "%s of policy %s" % (ident, policy["id"]))

    def update_l4_param(self, call: Call):
        policy = self.store.copy(self.policy(call.params["id"], writing=True))
        index = self._l4_index(policy, call.params["l4"])
        body = call.body()
        approved = boolean(body, "approved")
        description = text(body, "description", empty=True, maximum=4096)
        if approved is not None:
            policy["l4_params"][index]["approved"] = approved
        if description is not None:
            policy["l4_params"][index]["description"] = description
        policy["updated_at"] = now()
        return self.render_policy(self.store.put("policy", policy))

    def delete_l4_param(self, call: Call):
        policy = self.store.copy(self.policy(call.params["id"], writing=True))
        index = self._l4_index(policy, call.params["l4"])
        boolean(call.body(), "create_exclusion_filter", False)  # accepted; the lab keeps no exclusion filters
        del policy["l4_params"][index]
        policy["updated_at"] = now()
        self.store.put("policy", policy)
        return SUCCESS

    # ---------------------------------------------------------------- catch-all

    def get_catch_all(self, call: Call):
        workspace = self.workspace(call.params["id"])
        return self.render_catch_all(workspace, self.version_of(workspace, call.arg("version")))

    def update_catch_all(self, call: Call):
        workspace = self.store.copy(self.workspace(call.params["id"]))
        body = call.body()
        if "version" in body:
            self.version_of(workspace, body["version"], writing=True)
        workspace["catch_all"]["action"] = self._action(body, "", True)
        workspace["updated_at"] = now()
        self.store.put("workspace", workspace)
        return self.render_catch_all(workspace, None)

    # ---------------------------------------------------------------- enforcement

    def _content(self, workspace: dict, published: int | None) -> tuple:
        """What a version says, without ids (to know whether the working version was published already)."""
        clusters = self.clusters_of(workspace, published)
        names = {c["id"]: "cluster:" + c["consistent_uuid"] for c in clusters}
        policies = sorted(
            (p["rank"], p["action"], p["priority"], names.get(p["consumer_filter_id"], p["consumer_filter_id"]),
             names.get(p["provider_filter_id"], p["provider_filter_id"]),
             tuple(sorted((str(l4["proto"]), tuple(l4["port"] or ()), bool(l4.get("approved"))) for l4 in p["l4_params"])))
            for p in self.policies_of(workspace, published))
        cluster_content = sorted((c["consistent_uuid"], c["name"], repr(c["query"])) for c in clusters)
        return self.catch_all_of(workspace, published)["action"], tuple(policies), tuple(cluster_content)

    def publish(self, workspace: dict) -> int:
        """Copy the working version to a new published version (new ids); return its number."""
        number = workspace["published_counter"] + 1
        workspace["published_counter"] = number
        stamp = now()
        renamed = {}
        for cluster in self.clusters_of(workspace, None):
            copy = self.store.copy(cluster)
            copy.pop("_seq", None)
            copy.update({"id": new_id(), "published": number, "created_at": stamp})
            renamed[cluster["id"]] = copy["id"]
            self.store.put("cluster", copy)
        for policy in self.policies_of(workspace, None):
            copy = self.store.copy(policy)
            copy.pop("_seq", None)
            copy.update({"id": new_id(), "published": number, "created_at": stamp, "updated_at": stamp})
            copy["consumer_filter_id"] = renamed.get(copy["consumer_filter_id"], copy["consumer_filter_id"])
            copy["provider_filter_id"] = renamed.get(copy["provider_filter_id"], copy["provider_filter_id"])
            for param in copy["l4_params"]:
                param["id"] = new_id()
            self.store.put("policy", copy)
        workspace["versions"].append({"version": number, "created_at": stamp, "name": "p%d" % number,
                                      "description": None, "last_enforcement_event_at": None,
                                      "catch_all": {"id": new_id(), "action": workspace["catch_all"]["action"]}})
        return number

    def enable_enforce(self, call: Call):
        workspace = self.store.copy(self.workspace(call.params["id"]))
        raw = call.body().get("version")
        published_numbers = [v["version"] for v in workspace["versions"]]
        if raw is None or raw == "":
            newest = max(published_numbers, default=None)
            if newest is not None and self._content(workspace, newest) == self._content(workspace, None):
                number = newest
            else:
                number = self.publish(workspace)
        else:
            label = str(raw).strip().lower() if isinstance(raw, (str, int)) and not isinstance(raw, bool) else ""
            if label.startswith("v"):
                self.version_of(workspace, label, writing=True)  # must be the working version
                number = self.publish(workspace)
            else:
                digits = label[1:] if label.startswith("p") else label
                if not digits.isdigit():
                    raise invalid("version %r is not of the form pN" % (raw,))
                number = int(digits)
                if number not in published_numbers:
                    if number != workspace["published_counter"] + 1:
                        raise invalid("version p%d does not exist (published: %s; p%d publishes the working version)"
                                      % (number, ", ".join("p%d" % n for n in published_numbers) or "none",
                                         workspace["published_counter"] + 1))
                    self.publish(workspace)
        stamp = now()
        for entry in workspace["versions"]:
            if entry["version"] == number:
                entry["last_enforcement_event_at"] = stamp
        workspace.update({"enforcement_enabled": True, "enforced_version": number, "enforcement_epoch": new_id(), "updated_at": stamp})
        self.store.put("workspace", workspace)
        return {"epoch": workspace["enforcement_epoch"]}

    def disable_enforce(self, call: Call):
        workspace = self.store.copy(self.workspace(call.params["id"]))
        workspace.update({"enforcement_enabled": False, "enforced_version": 0, "updated_at": now()})
        self.store.put("workspace", workspace)
        return SUCCESS

    # ---------------------------------------------------------------- clusters

    def _cluster_fields(self, body: dict, where: str, creating: bool, cluster: dict | None = None) -> dict:
        cluster = cluster if cluster is not None else {}
        prefix = where + "." if where else ""
        name = text(body, "name", required=creating)
        description = text(body, "description", empty=True, maximum=4096)
        cluster_query = query(body, "query")
        approved = boolean(body, "approved")
        nodes = body.get("nodes")
        if nodes is not None:
            if not isinstance(nodes, list) or not all(isinstance(n, dict) and isinstance(n.get("ip"), str) and n["ip"] for n in nodes):
                raise invalid("%snodes must be a list of {\"ip\", \"name\"} objects" % prefix)
            nodes = [{"ip": n["ip"], "name": n.get("name") or n["ip"]} for n in nodes]
            cluster["nodes"] = nodes
        if cluster_query is None and nodes and creating:
            members = [{"type": "eq", "field": "ip", "value": n["ip"]} for n in nodes]
            cluster_query = members[0] if len(members) == 1 else {"type": "or", "filters": members}
        if cluster_query is None and creating:
            raise invalid("%squery is required (or nodes)" % prefix)
        for key, value in (("name", name), ("description", description), ("query", cluster_query), ("approved", approved)):
            if value is not None:
                cluster[key] = value
        cluster.setdefault("approved", False)
        cluster.setdefault("consistent_uuid", body.get("consistent_uuid") if isinstance(body.get("consistent_uuid"), str) else new_id())
        return cluster

    def list_clusters(self, call: Call):
        workspace = self.workspace(call.params["id"])
        published = self.version_of(workspace, call.arg("version"))
        return [self.render_cluster(c) for c in self.clusters_of(workspace, published)]

    def create_cluster(self, call: Call):
        workspace = self.workspace(call.params["id"])
        body = call.body()
        if "version" in body:
            self.version_of(workspace, body["version"], writing=True)
        cluster = self._cluster_fields(body, "", True)
        cluster.update({"id": new_id(), "application_id": workspace["id"], "published": None, "created_at": now()})
        return self.render_cluster(self.store.put("cluster", cluster))

    def cluster(self, ident: str, writing: bool = False) -> dict:
        doc = self.store.get("cluster", ident)
        if doc is None:
            raise not_found("cluster", ident)
        if writing and doc.get("published") is not None:
            raise invalid("cluster %s belongs to the published version p%d and is read-only" % (ident, doc["published"]))
        return doc

    def get_cluster(self, call: Call):
        return self.render_cluster(self.cluster(call.params["id"]))

    def update_cluster(self, call: Call):
        # Not in the public sources (the Terraform provider re-creates clusters); the lab takes the
        # create fields, each optional.
        cluster = self.store.copy(self.cluster(call.params["id"], writing=True))
        cluster = self._cluster_fields(call.body(), "", False, cluster)
        return self.render_cluster(self.store.put("cluster", cluster))

    def delete_cluster(self, call: Call):
        cluster = self.cluster(call.params["id"], writing=True)
        details = self.m.policy_dependents(cluster["id"])
        if details:
            raise in_use("cluster", details)
        self.store.delete("cluster", cluster["id"])
        return SUCCESS
