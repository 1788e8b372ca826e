# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cisco Secure Workload: connection options, the signed client, listing, and the adapter and
runner the object modules share."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import threading

from ansible.module_utils.basic import env_fallback

from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import ApiError, Connection, HttpClient
from ansible_collections.microseg.segmentation.plugins.module_utils._core.adapter import Adapter
from ansible_collections.microseg.segmentation.plugins.module_utils._core.module import ObjectModule
from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import ReconcileError
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.signing import Signer

API = "/openapi/v1"
# Object lists (scopes, filters, workspaces, policies) answer with the whole array. The paginated
# reads (agents, inventory search) have no documented largest ``limit``; 100 is the page size the
# vendor's own Ansible modules use, the one value known to be accepted.
PAGE_SIZE = 100
# POSTs that create nothing (searches, state switches, a commit): a replay cannot duplicate
SAFE_POSTS = ("/search", "/enable_enforce", "/disable_enforce", "/commit_dirty")


def sw_argument_spec():
    """The connection options of every Secure Workload module (documented in the ``secure_workload`` fragment)."""
    return dict(
        url=dict(type="str", fallback=(env_fallback, ["SW_URL", "TETRATION_URL"])),
        api_key=dict(type="str", no_log=False, fallback=(env_fallback, ["SW_API_KEY", "TETRATION_API_KEY"])),
        api_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["SW_API_SECRET", "TETRATION_API_SECRET"])),
        validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["SW_VALIDATE_CERTS"])),
        ca_path=dict(type="path", fallback=(env_fallback, ["SW_CA_PATH"])),
        timeout=dict(type="int", default=60, fallback=(env_fallback, ["SW_TIMEOUT"])),
        retries=dict(type="int", default=5, fallback=(env_fallback, ["SW_RETRIES"])),
    )


def parse_sw_error(data):
    if isinstance(data, dict):
        text = data.get("error") or data.get("message")
        if data.get("details"):
            text = "%s (details: %s)" % (text or "refused", data["details"])
        return text
    return None


class SwConnection(Connection):
    """A client that signs every request with the API key and secret."""

    def __init__(self, params):
        missing = [name for name in ("url", "api_key", "api_secret") if not params.get(name)]
        if missing:
            raise ApiError("%s required (or set SW_URL, SW_API_KEY and SW_API_SECRET)" % ", ".join(missing))
        self.client = HttpClient(
            params["url"],
            validate_certs=params.get("validate_certs", True),
            ca_path=params.get("ca_path"),
            timeout=params.get("timeout") or 60,
            retries=params.get("retries"),
            error_parser=parse_sw_error,
            secrets=[params["api_secret"]],
            signer=Signer(params["api_key"], params["api_secret"]),
        )

    def send(self, method, path, **kwargs):
        # PUT and DELETE address one object, and some POSTs create nothing: a replay cannot
        # duplicate. A POST that creates goes through ``create_once`` (re-read by name before a retry).
        if method in ("PUT", "DELETE") or (method == "POST" and path.rstrip("/").endswith(SAFE_POSTS)):
            kwargs.setdefault("retry_write", True)
        return self.client.request(method, API + path, **kwargs)

    def list_all(self, path, params=None):
        """A list endpoint's items: a plain array, or ``{results, offset}`` pages followed to the end."""
        query = dict(params or {})
        data = self.request("GET", path, params=query)
        if isinstance(data, list):
            return data
        results = list((data or {}).get("results") or [])
        while (data or {}).get("offset"):
            query.update(offset=data["offset"], limit=PAGE_SIZE)
            data = self.request("GET", path, params=query)
            results.extend((data or {}).get("results") or [])
        return results


class SwDirectory:
    """The scopes, inventory filters and workspaces of a task, each read once."""

    def __init__(self, connection):
        self.connection = connection
        self._scopes = None
        self._filters = None
        # list-form writes run in threads and may ask at the same time
        self._lock = threading.Lock()

    def scopes(self):
        with self._lock:
            if self._scopes is None:
                self._scopes = self.connection.list_all("/app_scopes")
            return self._scopes

    def filters(self):
        with self._lock:
            if self._filters is None:
                self._filters = self.connection.list_all("/filters/inventories")
            return self._filters

    def scope_named(self, name):
        """The scope with this full name (``Default:Apps``), or None."""
        return next((s for s in self.scopes() if s.get("name") == name), None)

    def scope_by_name(self, name, option="scope"):
        found = [s for s in self.scopes() if s.get("name") == name or s.get("id") == name]
        if not found:
            raise ReconcileError("%s: no scope is named '%s' (give the full name, for example Default:web)" % (option, name))
        return found[0]

    def root_scope(self, given):
        """The id of the root scope named (or with the id) ``given``; ReconcileError when there is none."""
        roots = [s for s in self.scopes() if not s.get("parent_app_scope_id") and given in (s.get("name"), s.get("id"))]
        if not roots:
            raise ReconcileError("root_scope: no root scope is named '%s'" % given)
        return roots[0]["id"]

    def root_of(self, scope):
        return scope.get("root_app_scope_id") or scope.get("id")

    def workspace(self, params):
        """The workspace the task names (ReconcileError when it does not exist)."""
        if params.get("workspace_id"):
            data = self.connection.get("/applications/%s" % params["workspace_id"])
            if not data:
                raise ReconcileError("workspace_id: no workspace has the id %s" % params["workspace_id"])
            return data
        scope = self.scope_by_name(params["scope"])
        found = [w for w in self.connection.list_all("/applications", params={"app_scope_id": scope["id"]})
                 if w.get("name") == params["workspace"] and w.get("app_scope_id") == scope["id"]]
        if not found:
            raise ReconcileError("workspace: no workspace '%s' in scope %s" % (params["workspace"], params["scope"]))
        if len(found) > 1:
            raise ReconcileError("workspace: more than one workspace is named '%s' in scope %s; use workspace_id" % (params["workspace"], params["scope"]))
        return found[0]


class SwAdapter(Adapter):
    """Objects of one collection, found by name among those the list call returns.

    ``list_params(self)`` narrows the list (for example to one scope); ``matches(obj)`` keeps
    only the objects of the task's scope; ``read_back(obj)`` turns a stored object into the
    shape the fields compare (the API answers with other names than it takes in places).
    Secure Workload objects carry no tags: the task has no ownership rule, so nothing is purged.
    """

    path = None
    name_key = "name"

    def list_params(self):
        return None

    def matches(self, obj):
        return True

    def read_back(self, obj):
        return obj

    def list(self):
        return [self.read_back(o) for o in self.connection.list_all(self.path, params=self.list_params()) if self.matches(o)]

    created_attribute = "created_at"

    def find_all(self, name):
        return [o for o in self.list() if self.name_of(o) == name]

    def find(self, name):
        """The oldest object named ``name`` (the one the duplicate rule keeps), or None."""
        return self.oldest(name)

    def forget(self):
        """Drop what the adapter keeps of an earlier list read (a subclass that caches one)."""

    def lookup(self, name):
        """The object as the API holds it now (a fresh read), or None."""
        self.forget()
        return self.find(name)

    def post_create(self, path, body, name):
        """POST a create; after a failure a retry may overcome, the object is re-read by name and the
        create is sent again only when it was not applied (``Connection.create_once``). Returns the
        object, as ``read_back`` shapes it."""
        found = []

        def lookup():
            obj = self.lookup(name)
            if obj is not None:
                found.append(obj)
            return obj

        data = self.connection.create_once("POST", path, lookup, body=body)
        if found and data is found[-1]:
            return data
        return self.read_back(data)

    def name_of(self, obj):
        return obj.get(self.name_key)

    def create_body(self, name, body):
        return dict(copy.deepcopy(body), **{self.name_key: name})

    def predict_create(self, change):
        return self.create_body(change.name, change.body)

    def create(self, change):
        return self.post_create(self.path, self.create_body(change.name, change.body), change.name)

    @staticmethod
    def changed_body(change):
        """Only what changed is sent (the API takes partial updates)."""
        return dict((api, change.body[api]) for api in change.fields)

    def update(self, change):
        data = self.connection.request("PUT", "%s/%s" % (self.path, change.existing["id"]), body=self.changed_body(change))
        return self.read_back(data) if isinstance(data, dict) and data.get("id") else change.body

    def delete(self, change):
        self.connection.request("DELETE", "%s/%s" % (self.path, change.existing["id"]))


class SwObjectModule(ObjectModule):
    """A Secure Workload object module (its objects carry no tags, so there is no ownership and no purge)."""

    tag_scheme = None

    @staticmethod
    def identity(values):
        return values["name"]

    def connection_spec(self):
        return sw_argument_spec()

    def connect(self, params):
        return SwConnection(params)
