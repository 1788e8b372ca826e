"""External orchestrators (``/orchestrator/{rootScopeName}`` and ``/orchestrator/{rootScopeName}/{id}``).

Body fields are the ones the public sources show. The Kubernetes service-account token field is
not public: the lab takes ``auth_token`` (lab choice). Secrets (``password``, ``key``,
``aws_secret_access_key``, ``auth_token``) are write-only: stored, never returned. PUT is partial.
"""

from __future__ import annotations

from .errors import invalid, not_found
from .fields import Call, boolean, choice, integer, text
from .model import Model
from .store import new_id, now

SUCCESS = {"success": True}
TYPES = ("kubernetes", "vcenter", "aws", "f5", "netscaler", "nsbalancer", "infoblox")
NEEDS_HOSTS = ("kubernetes", "vcenter", "f5", "netscaler", "nsbalancer", "infoblox")
SECRETS = ("password", "key", "aws_secret_access_key", "auth_token")
STRINGS = ("description", "username", "certificate", "ca_certificate", "aws_region", "aws_access_key_id")
BOOLEANS = {"insecure": False, "verbose_tsdb_metrics": False, "use_secureconnector_tunnel": False, "enable_enforcement": False}
INTEGERS = {"delta_interval": (60, 1, 86400), "full_snapshot_interval": (3600, 1, 604800), "kubelet_port": (None, 1, 65535)}


class Orchestrators:
    def __init__(self, model: Model) -> None:
        self.m = model
        self.store = model.store

    def routes(self) -> list:
        return [
            ("GET", "/orchestrator/{scope}", self.list_orchestrators),
            ("POST", "/orchestrator/{scope}", self.create_orchestrator),
            ("GET", "/orchestrator/{scope}/{id}", self.get_orchestrator),
            ("PUT", "/orchestrator/{scope}/{id}", self.update_orchestrator),
            ("DELETE", "/orchestrator/{scope}/{id}", self.delete_orchestrator),
        ]

    def _root(self, call: Call) -> dict:
        name = call.params["scope"]
        for scope in self.store.all("scope"):
            if not scope.get("parent_app_scope_id") and scope["short_name"] == name:
                return scope
        raise not_found("root scope", name)

    def _orchestrator(self, call: Call) -> dict:
        root = self._root(call)
        doc = self.store.get("orchestrator", call.params["id"])
        if doc is None or doc["root_app_scope_id"] != root["id"]:
            raise not_found("orchestrator", "%s in root scope %s" % (call.params["id"], root["short_name"]))
        return doc

    @staticmethod
    def render(doc: dict) -> dict:
        out = {"id": doc["id"], "name": doc["name"], "type": doc["type"], "hosts_list": doc.get("hosts_list") or []}
        for key in STRINGS:
            out[key] = doc.get(key)
        for key in BOOLEANS:
            out[key] = doc[key]
        for key in INTEGERS:
            out[key] = doc.get(key)
        if doc.get("services") is not None:
            out["services"] = doc["services"]
        out.update({"created_at": doc["created_at"], "updated_at": doc["updated_at"]})
        return out

    def _fields(self, body: dict, doc: dict, creating: bool) -> dict:
        name = text(body, "name", required=creating)
        kind = choice(body, "type", TYPES, required=creating)
        if kind is not None and not creating and kind != doc["type"]:
            raise invalid("the type of an orchestrator cannot be changed (%s)" % doc["type"])
        if name is not None:
            doc["name"] = name
        if kind is not None:
            doc["type"] = kind
        for key in STRINGS:
            value = text(body, key, empty=True, maximum=65536)
            if value is not None:
                doc[key] = value
        for key in SECRETS:
            value = text(body, key, empty=True, maximum=65536)
            if value is not None:
                doc.setdefault("secrets", {})[key] = value
        for key, default in BOOLEANS.items():
            doc[key] = boolean(body, key, doc.get(key, default))
        for key, (default, low, high) in INTEGERS.items():
            doc[key] = integer(body, key, doc.get(key, default), minimum=low, maximum=high)
        if "hosts_list" in body:
            hosts = body["hosts_list"]
            if not isinstance(hosts, list):
                raise invalid("hosts_list must be a list of {\"host_name\", \"port_number\"} objects")
            checked = []
            for index, host in enumerate(hosts):
                where = "hosts_list[%d]" % index
                if not isinstance(host, dict):
                    raise invalid("%s must be an object" % where)
                host_name = text(host, "host_name", required=True)
                port = integer(host, "port_number", required=True, minimum=1, maximum=65535)
                checked.append({"host_name": host_name, "port_number": port})
            doc["hosts_list"] = checked
        if "services" in body:
            if body["services"] is not None and not isinstance(body["services"], list):
                raise invalid("services must be a list")
            doc["services"] = body["services"]
        if doc["type"] in NEEDS_HOSTS and not doc.get("hosts_list"):
            raise invalid("hosts_list needs at least one {\"host_name\", \"port_number\"} for a %s orchestrator" % doc["type"])
        return doc

    def _unique(self, root: dict, name: str, itself: str | None = None) -> None:
        for other in self.store.where("orchestrator", root_app_scope_id=root["id"]):
            if other["name"] == name and other["id"] != itself:
                raise invalid("an orchestrator named %r already exists in root scope %s" % (name, root["short_name"]))

    def list_orchestrators(self, call: Call):
        root = self._root(call)
        return [self.render(o) for o in self.store.where("orchestrator", root_app_scope_id=root["id"])]

    def get_orchestrator(self, call: Call):
        return self.render(self._orchestrator(call))

    def create_orchestrator(self, call: Call):
        root = self._root(call)
        stamp = now()
        doc = self._fields(call.body(), {"id": new_id(), "root_app_scope_id": root["id"], "created_at": stamp, "updated_at": stamp}, True)
        self._unique(root, doc["name"])
        return self.render(self.store.put("orchestrator", doc))

    def update_orchestrator(self, call: Call):
        current = self._orchestrator(call)
        doc = self._fields(call.body(), self.store.copy(current), False)
        self._unique(self._root(call), doc["name"], doc["id"])
        doc["updated_at"] = now()
        return self.render(self.store.put("orchestrator", doc))

    def delete_orchestrator(self, call: Call):
        self.store.delete("orchestrator", self._orchestrator(call)["id"])
        return SUCCESS
