# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cisco Secure Workload: workspaces and their policies.

Policies have no name: a policy is the one whose consumer, provider, rank and priority the task
gives. ``KeyedSwObjectModule`` runs such name-less kinds; the key of an object is a ``Key`` (a
readable string that also carries its parts), made canonical by the adapter once it has read
what the names refer to.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re


from ansible_collections.microseg.segmentation.plugins.module_utils._core.checkmode import missing_reference, unless_check_mode
from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Field, Kind, ReconcileError
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.checkmode import workspace_or_placeholder
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.common import SwAdapter, SwDirectory, SwObjectModule

PROTOCOLS = {"tcp": 6, "udp": 17, "icmp": 1, "any": None}
PORT_PROTOCOLS = (6, 17)
PROTOCOL_NAMES = {6: "tcp", 17: "udp", 1: "icmp", None: "any"}
OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")


class Key(str):
    """The key of a name-less object: a readable string that carries its parts."""

    def __new__(cls, label, parts):
        obj = str.__new__(cls, label)
        obj.parts = tuple(parts)
        return obj


class KeyedSwObjectModule(SwObjectModule):
    """A Secure Workload module whose objects are found by a key made of several options.

    ``key_options`` are the options of the key (all required); ``identity(values)`` builds the
    ``Key``; the adapter's ``canonical(key, state)`` rewrites it once the referenced objects are
    known (and fails for a present object that names something that does not exist).
    """

    key_options = ()


# ---------------------------------------------------------------------------- scopes and workspaces


def workspace_spec():
    """Options naming a workspace: its name and scope, or its id."""
    return dict(
        workspace=dict(type="str"),
        scope=dict(type="str"),
        workspace_id=dict(type="str"),
    )


def check_workspace_options(params):
    if params.get("workspace_id"):
        if params.get("workspace"):
            raise ValidationError("workspace_id", "give either workspace_id or workspace (with scope), not both")
        return
    if not params.get("workspace"):
        raise ValidationError("workspace", "is required (with scope), unless workspace_id is given")
    if not params.get("scope"):
        raise ValidationError("scope", "is required with workspace (the full scope name, for example Default:web)")


# ---------------------------------------------------------------------------- ports


def parse_protocol(value, option):
    if isinstance(value, bool):
        raise ValidationError(option, "must be tcp, udp, icmp, any or an IP protocol number 0-255, got %r" % value)
    text = str(value).strip().lower()
    if text in PROTOCOLS:
        return PROTOCOLS[text]
    if re.match(r"^[0-9]{1,3}\Z", text) and 0 <= int(text) <= 255:
        return int(text)
    raise ValidationError(option, "must be tcp, udp, icmp, any or an IP protocol number 0-255, got %r" % value)


def parse_port(value, option):
    """A port (80) or range ("1000-2000") as ``[low, high]``."""
    if isinstance(value, bool):
        raise ValidationError(option, "must be a port 0-65535 or a range low-high, got %r" % value)
    text = str(value).strip()
    # ASCII digits only: Python's \d and int() also take other scripts' digits ('８０'), which the API does not
    match = re.match(r"^([0-9]+)(?:\s*-\s*([0-9]+))?\Z", text)
    if not match:
        raise ValidationError(option, "must be a port 0-65535 or a range low-high, got %r" % value)
    low = int(match.group(1))
    high = int(match.group(2)) if match.group(2) is not None else low
    for number in (low, high):
        if number > 65535:
            raise ValidationError(option, "port %d is out of range 0-65535" % number)
    if low > high:
        raise ValidationError(option, "the range %s starts above its end" % text)
    return [low, high]


def build_ports(ports, option):
    """The ``ports`` option as API ``l4_params`` (``{proto, port}``)."""
    built = []
    seen = {}
    for index, entry in enumerate(ports):
        path = "%s[%d]" % (option, index)
        proto = parse_protocol(entry.get("protocol"), path + ".protocol")
        param = {"proto": proto}
        if entry.get("port") is not None:
            if proto not in PORT_PROTOCOLS:
                raise ValidationError(path + ".port", "ports are only valid with tcp and udp, not with %s" % PROTOCOL_NAMES.get(proto, proto))
            param["port"] = parse_port(entry["port"], path + ".port")
        elif proto in PORT_PROTOCOLS:
            param["port"] = [0, 65535]
        key = l4_key(param)
        if key in seen:
            raise ValidationError(path, "repeats %s[%d]" % (option, seen[key]))
        seen[key] = index
        built.append(param)
    return built


def l4_key(param):
    proto = param.get("proto")
    if proto in PORT_PROTOCOLS:
        port = param.get("port") or [0, 65535]
        return (proto, int(port[0]), int(port[1]))
    return (proto, None, None)


def canon_l4(params):
    """``l4_params`` compared as a set of (protocol, low, high)."""
    return tuple(sorted((l4_key(p) for p in params or []), key=repr))


# ---------------------------------------------------------------------------- policies


def policy_key(consumer, provider, rank, priority):
    return Key("%s -> %s (%s, priority %d)" % (consumer, provider, rank, priority), (consumer, provider, rank, priority))


def export_ports(params, obj):
    """``l4_params`` as ``ports`` gives them (the inverse of ``build_ports``): the protocol by name, a
    port as a number, a range as "low-high", every port (0-65535) without ``port``."""
    out = []
    for param in params or []:
        proto = param.get("proto")
        entry = {"protocol": PROTOCOL_NAMES.get(proto, proto)}
        if proto in PORT_PROTOCOLS:
            low, high = [int(p) for p in (param.get("port") or [0, 65535])]
            if (low, high) != (0, 65535):
                entry["port"] = low if low == high else "%d-%d" % (low, high)
        out.append(entry)
    return out


# The API's priority is a 64-bit integer: a larger one cannot be stored (the lab refuses it too).
MAX_PRIORITY = 2 ** 63 - 1
DEFAULT_PRIORITY = 100


def _priority(value, path):
    if value < 0:
        raise ValidationError(path, "must be 0 or more, got %d" % value)
    if value > MAX_PRIORITY:
        raise ValidationError(path, "must be at most %d (a 64-bit integer), got %d" % (MAX_PRIORITY, value))
    return value


def _export_policy(obj, item):
    # the module's defaults say the same as the read
    if item.get("rank") == "default":
        del item["rank"]
    if item.get("priority") == DEFAULT_PRIORITY:
        del item["priority"]


POLICY_KIND = Kind(
    "policy",
    "policy",
    [
        Field("workspace", task=True),
        Field("scope", task=True),
        Field("workspace_id", task=True),
        Field("consumer", "consumer_filter_id", key=True),
        Field("provider", "provider_filter_id", key=True),
        Field("rank", "rank", convert=lambda value, path: value.upper(), choices=["default", "absolute"], default="default",
              export=lambda value, obj: value.lower()),
        Field("priority", "priority", convert=_priority, type="int", default=DEFAULT_PRIORITY),
        Field("action", "action", convert=lambda value, path: value.upper(), choices=["allow", "deny"], export=lambda value, obj: value.lower()),
        Field("ports", "l4_params", compare=canon_l4, empty=[], convert=build_ports, type="list", elements="dict",
              options=dict(protocol=dict(type="raw", required=True), port=dict(type="raw")), export=export_ports),
    ],
    create_requires=[("action", "action")],
    identity="key",
    export_rules=_export_policy,
)


class SwPolicyAdapter(SwAdapter):
    """The policies of one workspace's working version."""

    def __init__(self, connection, kind, task, resource=None):
        super(SwPolicyAdapter, self).__init__(connection, kind, task, resource)
        self.directory = SwDirectory(connection)
        self._workspace = None
        self._clusters = None
        self._policies = None
        self._ids = {}

    def workspace(self):
        if self._workspace is None:
            # check mode: a placeholder (id None) for a workspace an earlier task would create
            self._workspace = workspace_or_placeholder(self.task.check_mode, self.directory, self.params, self)
        return self._workspace

    def endpoints(self):
        """``(id, display name, kind)`` of every scope, filter and cluster a policy of the workspace may name."""
        workspace = self.workspace()
        scope = next((s for s in self.directory.scopes() if s.get("id") == workspace.get("app_scope_id")), None)
        root = self.directory.root_of(scope) if scope else None
        if self._clusters is None:
            self._clusters = self.connection.list_all("/applications/%s/clusters" % workspace["id"]) if workspace["id"] is not None else []
        out = []
        for item in self.directory.scopes():
            if root is None or self.directory.root_of(item) == root:
                out.append((item["id"], item.get("name"), "scope"))
        for item in self.directory.filters():
            owner = next((s for s in self.directory.scopes() if s.get("id") == item.get("app_scope_id")), None)
            if root is None or owner is None or self.directory.root_of(owner) == root:
                out.append((item["id"], item.get("name"), "inventory filter"))
        for item in self._clusters:
            out.append((item["id"], item.get("name"), "cluster"))
        return out

    def display(self, ident):
        """How an endpoint is shown in keys: its name, or its id when the name is ambiguous."""
        endpoints = self.endpoints()
        name = next((n for i, n, dummy in endpoints if i == ident), None)
        if name is None or len([e for e in endpoints if e[1] == name]) > 1:
            return ident
        return name

    def resolve(self, given, option):
        """The id of the endpoint ``given`` (a name or an id), or None when there is none."""
        endpoints = self.endpoints()
        by_id = [e for e in endpoints if e[0] == given]
        if by_id:
            return given
        by_name = [e for e in endpoints if e[1] == given]
        if len(by_name) > 1:
            raise ReconcileError("%s: '%s' names more than one scope, inventory filter or cluster (%s); give its id"
                                 % (option, given, ", ".join("%s %s" % (kind, ident) for ident, dummy, kind in by_name)))
        return by_name[0][0] if by_name else None

    def canonical(self, key, state):
        consumer, provider, rank, priority = key.parts
        ids = []
        for given, option in ((consumer, "consumer"), (provider, "provider")):
            ident = self.resolve(given, option)
            if ident is None:
                if state != "present":
                    return key
                # check mode: an earlier task of the play may create it; the policy is then a create naming it
                unless_check_mode(self.task.check_mode, self,
                                  ReconcileError("%s: '%s' is not a scope, inventory filter or cluster of workspace '%s'; nothing was changed"
                                                 % (option, given, self.workspace().get("name"))),
                                  missing_reference("scope, inventory filter or cluster", [given]))
                ident = given
            ids.append(ident)
        canon = policy_key(self.display(ids[0]), self.display(ids[1]), rank, priority)
        self._ids[canon] = (ids[0], ids[1], rank, priority)
        return canon

    def read_back(self, obj):
        obj = dict(obj)
        obj["key"] = str(policy_key(self.display(obj.get("consumer_filter_id")), self.display(obj.get("provider_filter_id")),
                                    obj.get("rank"), int(obj.get("priority") or 0)))
        return obj

    def list(self):
        if self._policies is None and self.workspace()["id"] is None:
            self._policies = []  # check mode: the placeholder of a workspace an earlier task would create
        if self._policies is None:
            data = self.connection.request("GET", "/applications/%s/policies" % self.workspace()["id"]) or {}
            raw = list(data.get("absolute_policies") or []) + list(data.get("default_policies") or [])
            self._policies = [self.read_back(p) for p in raw]
        return self._policies

    def name_of(self, obj):
        return obj.get("key")

    def complete(self, name, desired, existing):
        consumer, provider, rank, priority = self._ids[name]
        desired = dict(desired, consumer_filter_id=consumer, provider_filter_id=provider, rank=rank, priority=priority)
        return desired

    def create_body(self, name, body):
        out = {"version": "v%s" % (self.workspace().get("latest_adm_version") or 0)}
        for key in ("consumer_filter_id", "provider_filter_id", "rank", "priority"):
            out[key] = body[key]
        out["policy_action"] = body["action"]
        out["l4_params"] = [dict(p) for p in body.get("l4_params") or []]
        return out

    def predict_create(self, change):
        predicted = dict(copy.deepcopy(change.body), application_id=self.workspace()["id"], key=str(change.name))
        predicted["l4_params"] = [dict(p) for p in change.body.get("l4_params") or []]
        return predicted

    def create(self, change):
        body = self.create_body(change.name, change.body)
        return self.post_create("/applications/%s/policies" % self.workspace()["id"], body, change.name)

    def forget(self):
        self._policies = None

    def update(self, change):
        """PUT /policies/{id} with what changed: the policy keeps its id."""
        existing, body = change.existing, change.body
        out = {}
        if "action" in change.fields:
            out["policy_action"] = body["action"]
        if "l4_params" in change.fields:
            kept = dict((l4_key(p), p) for p in existing.get("l4_params") or [])
            params = []
            for param in body.get("l4_params") or []:
                sent = dict((k, v) for k, v in param.items() if k in ("proto", "port"))
                old = kept.get(l4_key(param))
                if old is not None:
                    for extra in ("description", "approved"):
                        if old.get(extra):
                            sent[extra] = old[extra]
                params.append(sent)
            out["l4_params"] = params
        data = self.connection.request("PUT", "/policies/%s" % existing["id"], body=out)
        return self.read_back(data) if isinstance(data, dict) and data.get("id") else body

    def delete(self, change):
        self.connection.request("DELETE", "/policies/%s" % change.existing["id"])
