# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cisco Secure Workload: agent config profiles and intents, and external orchestrators."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.microseg.segmentation.plugins.module_utils._core.checkmode import missing_reference, unless_check_mode
from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Field, Kind, ReconcileError
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.common import SwAdapter, SwDirectory
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.policies import Key

PROFILES = "/inventory_config/profiles"
INTENTS = "/inventory_config/intents"

PROFILE_SWITCHES = (
    "allow_broadcast", "allow_link_local", "allow_multicast", "auto_upgrade_opt_out", "data_plane_disabled",
    "enable_conversation_flows", "enable_dns", "enable_forensics", "enable_meltdown", "enable_pid_lookup",
    "preserve_existing_rules",
)
PROFILE_MODES = ("cpu_quota_mode", "enforcement_cpu_quota_mode", "forensics_cpu_quota_mode")
# (option, lowest, highest)
PROFILE_RANGES = (
    ("cpu_quota_pct", 1, 100), ("enforcement_cpu_quota_pct", 1, 100), ("forensics_cpu_quota_pct", 1, 100),
    ("cpu_quota_us", 10000, 1000000), ("enforcement_cpu_quota_us", 10000, 1000000), ("forensics_cpu_quota_us", 10000, 1000000),
    ("max_rss_limit_mb", 200, 2048), ("enforcement_max_rss_limit_mb", 128, 2048), ("forensics_mem_quota_mb", 128, 2048),
    ("max_rss_limit", 200 * 1048576, 2048 * 1048576), ("enforcement_max_rss_limit", 128 * 1048576, 2048 * 1048576),
    ("forensics_mem_quota_bytes", 128 * 1048576, 2048 * 1048576),
)
PROFILE_EXCLUSIVE = (
    ("cpu_quota_pct", "cpu_quota_us"), ("enforcement_cpu_quota_pct", "enforcement_cpu_quota_us"),
    ("forensics_cpu_quota_pct", "forensics_cpu_quota_us"), ("max_rss_limit_mb", "max_rss_limit"),
    ("enforcement_max_rss_limit_mb", "enforcement_max_rss_limit"), ("forensics_mem_quota_mb", "forensics_mem_quota_bytes"),
)


def in_range(low, high):
    """The conversion of an integer option that must lie between ``low`` and ``high``."""
    def convert(value, path):
        if not low <= value <= high:
            raise ValidationError(path, "must be between %d and %d, got %d" % (low, high, value))
        return value
    return convert


# what one unit of the first option of each pair of PROFILE_EXCLUSIVE is in the second's
PROFILE_UNITS = (10000, 10000, 10000, 1048576, 1048576, 1048576)


def _export_profile(obj, item):
    """The API gives back both options of each pair it keeps consistent (a percentage and microseconds,
    megabytes and bytes), the module takes one: the first when it says the same exactly, else the second."""
    for (coarse, fine), unit in zip(PROFILE_EXCLUSIVE, PROFILE_UNITS):
        if coarse in item and fine in item:
            del item[fine if item[fine] == item[coarse] * unit else coarse]


PROFILE_KIND = Kind(
    "inventory_config_profile",
    "agent config profile",
    [Field("name", key=True), Field("root_scope", task=True),
     Field("enforcement_enabled", "enforcement_disabled", type="bool", convert=lambda value, path: not value,
           export=lambda value, obj: not value)]
    + [Field(o, o, type="bool") for o in PROFILE_SWITCHES]
    + [Field(o, o, type="int", choices=[0, 1, 2]) for o in PROFILE_MODES]
    + [Field(o, o, type="int", convert=in_range(low, high)) for o, low, high in PROFILE_RANGES],
    create_requires=[("root_app_scope_id", "root_scope")],
    mutually_exclusive=PROFILE_EXCLUSIVE,
    export_rules=_export_profile,
)


def build_profile(params, prefix, task=None):
    """The profile attributes the task sets, in the API's names."""
    return PROFILE_KIND.build(params, prefix, task)


class ProfileAdapter(SwAdapter):
    """Agent config profiles, found by name in the task's root scope (or among all when it gives none)."""

    reread_after_create = False  # the product refuses a second one ("already exists"): see Adapter.created_meanwhile

    path = PROFILES

    def __init__(self, connection, kind, task, resource=None):
        super(ProfileAdapter, self).__init__(connection, kind, task, resource)
        self.directory = SwDirectory(connection)
        self._root = None

    def root_id(self):
        if not self.params.get("root_scope"):
            return None
        if self._root is None:
            self._root = self.directory.root_scope(self.params["root_scope"])
        return self._root

    def list_params(self):
        root = self.root_id()
        return {"root_app_scope_id": root} if root else None

    def matches(self, obj):
        root = self.root_id()
        return root is None or obj.get("root_app_scope_id") == root

    def complete(self, name, desired, existing):
        if existing is None and self.root_id():
            desired = dict(desired, root_app_scope_id=self.root_id())
        return desired

    @staticmethod
    def changed_body(change):
        return dict((api, change.body[api]) for api in change.fields if api not in ("id", "root_app_scope_id", "created_at", "updated_at"))


# ---------------------------------------------------------------------------- intents


def intent_key(profile, inventory_filter):
    return Key("%s -> %s" % (profile, inventory_filter), (profile, inventory_filter))


INTENT_KIND = Kind(
    "inventory_config_intent",
    "agent config intent",
    [
        Field("profile", "inventory_config_profile_id", key=True),
        Field("inventory_filter", "inventory_filter_id", key=True),
        Field("root_scope", task=True),
    ],
    identity="key",
)


def unique_name(pairs, ident):
    """The name of ``ident`` among ``(id, name)`` pairs when a module can name it by that (one object has
    the name), else None."""
    name = next((n for i, n in pairs if i == ident), None)
    if name is None or len([1 for dummy, n in pairs if n == name]) > 1:
        return None
    return name


class IntentAdapter(SwAdapter):
    """Agent config intents: the pair (profile, inventory filter or scope); create and delete only."""

    reread_after_create = False  # the product refuses a second one ("already exists"): see Adapter.created_meanwhile

    path = INTENTS

    def __init__(self, connection, kind, task, resource=None):
        super(IntentAdapter, self).__init__(connection, kind, task, resource)
        self.directory = SwDirectory(connection)
        self._profiles = None
        self._intents = None
        self._ids = {}

    def root_id(self):
        given = self.params.get("root_scope")
        return self.directory.root_scope(given) if given else None

    def profiles(self):
        if self._profiles is None:
            root = self.root_id()
            self._profiles = [p for p in self.connection.list_all(PROFILES) if root is None or p.get("root_app_scope_id") == root]
        return self._profiles

    def targets(self):
        """``(id, name)`` of every scope and inventory filter an intent may name."""
        root = self.root_id()
        out = []
        for scope in self.directory.scopes():
            if root is None or self.directory.root_of(scope) == root:
                out.append((scope["id"], scope.get("name")))
        for item in self.directory.filters():
            out.append((item["id"], item.get("name")))
        return out

    @staticmethod
    def _resolve(pairs, given, option, what):
        if any(ident == given for ident, dummy in pairs):
            return given
        found = [ident for ident, name in pairs if name == given]
        if len(found) > 1:
            raise ReconcileError("%s: more than one %s is named '%s' (%s); give its id" % (option, what, given, ", ".join(found)))
        return found[0] if found else None

    @staticmethod
    def _display(pairs, ident):
        return unique_name(pairs, ident) or ident

    def _profile_pairs(self):
        return [(p["id"], p.get("name")) for p in self.profiles()]

    def canonical(self, key, state):
        profile, target = key.parts
        profile_id = self._resolve(self._profile_pairs(), profile, "profile", "agent config profile")
        target_id = self._resolve(self.targets(), target, "inventory_filter", "scope or inventory filter")
        for ident, option, given, what, kind in ((profile_id, "profile", profile, "an agent config profile", "agent config profile"),
                                                 (target_id, "inventory_filter", target, "a scope or an inventory filter", "scope or inventory filter")):
            if ident is None:
                if state != "present":
                    return key
                # check mode: an earlier task of the play may create it (the intent is then a create)
                unless_check_mode(self.task.check_mode, self, ReconcileError("%s: '%s' is not %s; nothing was changed" % (option, given, what)),
                                  missing_reference(kind, [given]))
        if profile_id is None or target_id is None:
            self._ids[key] = (profile_id, target_id)
            return key
        canon = intent_key(self._display(self._profile_pairs(), profile_id), self._display(self.targets(), target_id))
        self._ids[canon] = (profile_id, target_id)
        return canon

    def read_back(self, obj):
        obj = dict(obj)
        obj["key"] = str(intent_key(self._display(self._profile_pairs(), obj.get("inventory_config_profile_id")),
                                    self._display(self.targets(), obj.get("inventory_filter_id"))))
        return obj

    def list(self):
        if self._intents is None:
            profile_ids = set(i for i, dummy in self._profile_pairs())
            self._intents = [self.read_back(o) for o in self.connection.list_all(INTENTS) if o.get("inventory_config_profile_id") in profile_ids]
        return self._intents

    def name_of(self, obj):
        return obj.get("key")

    def forget(self):
        self._intents = None

    def complete(self, name, desired, existing):
        profile_id, target_id = self._ids[name]
        return dict(desired, inventory_config_profile_id=profile_id, inventory_filter_id=target_id)

    def create_body(self, name, body):
        return dict((k, body[k]) for k in ("inventory_config_profile_id", "inventory_filter_id"))

    def predict_create(self, change):
        return dict(self.create_body(change.name, change.body), key=str(change.name))


# ---------------------------------------------------------------------------- orchestrators


def canon_hosts(hosts):
    return tuple(sorted((h.get("host_name"), h.get("port_number")) for h in hosts or []))


def _hosts(value, path):
    hosts = []
    for index, host in enumerate(value):
        where = "%s[%d]" % (path, index)
        if not host.get("host_name") or not host["host_name"].strip():
            raise ValidationError(where + ".host_name", "must not be empty")
        if not 1 <= host["port_number"] <= 65535:
            raise ValidationError(where + ".port_number", "must be a port 1-65535, got %d" % host["port_number"])
        hosts.append({"host_name": host["host_name"], "port_number": host["port_number"]})
    return hosts


def _export_hosts(hosts, obj):
    return [{"host_name": h.get("host_name"), "port_number": h.get("port_number")} for h in hosts or []]


ORCHESTRATOR_KIND = Kind(
    "orchestrator",
    "orchestrator",
    [
        Field("name", key=True),
        Field("root_scope", task=True, required=True),
        Field("update_token", task=True, choices=["always", "on_create"], default="on_create", no_log=False),
        Field("description", "description"),
        Field("hosts_list", "hosts_list", compare=canon_hosts, empty=[], convert=_hosts, type="list", elements="dict",
              options=dict(host_name=dict(type="str", required=True), port_number=dict(type="int", default=443)), export=_export_hosts),
        Field("auth_token", "auth_token", secret=True),
        Field("ca_certificate", "ca_certificate"),
        Field("certificate", "certificate"),
        Field("key", "key", secret=True),
        Field("insecure", "insecure", type="bool"),
        Field("delta_interval", "delta_interval", convert=in_range(1, 86400), type="int"),
        Field("full_snapshot_interval", "full_snapshot_interval", convert=in_range(1, 604800), type="int"),
        Field("verbose_tsdb_metrics", "verbose_tsdb_metrics", type="bool"),
        Field("use_secureconnector_tunnel", "use_secureconnector_tunnel", type="bool"),
        Field("kubelet_port", "kubelet_port", convert=in_range(1, 65535), type="int"),
        Field(None, "type", create_only=True),
    ],
    create_requires=[("hosts_list", "hosts_list")],
)


class OrchestratorAdapter(SwAdapter):
    """External orchestrators of one root scope (``/orchestrator/{root scope name}``), found by name.

    Secrets are write-only: the API never returns them, so they are not compared; with
    ``update_token: always`` a task that gives one sends it (and reports a change) every run.
    """

    reread_after_create = False  # the product refuses a second one ("already exists"): see Adapter.created_meanwhile

    secrets = ("auth_token", "key")

    def __init__(self, connection, kind, task, resource=None):
        super(OrchestratorAdapter, self).__init__(connection, kind, task, resource)
        self.path = "/orchestrator/%s" % task.params["root_scope"]

    def list(self):
        data = self.connection.get(self.path)
        if data is None:
            raise ReconcileError("root_scope: no root scope is named '%s'" % self.params["root_scope"])
        return [self.read_back(o) for o in data if self.matches(o)]

    def matches(self, obj):
        return obj.get("type") == "kubernetes"

    def complete(self, name, desired, existing):
        desired = dict(desired)
        if existing is None:
            desired["type"] = "kubernetes"
            return desired
        if self.params.get("update_token") != "always":
            for secret in self.secrets:
                desired.pop(secret, None)
        return desired

    @staticmethod
    def changed_body(change):
        return dict((api, change.body[api]) for api in change.fields if api not in ("id", "created_at", "updated_at", "type"))
