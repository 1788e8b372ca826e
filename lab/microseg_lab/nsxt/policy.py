"""Policy API (``/policy/api/v1``): domains, groups, security policies and rules, hierarchical PATCH.

Every write works on a copy of the state (a ``Tx``; stored documents are never mutated, only
replaced, so the copy is a cheap two-level dict copy), validates the final state (every group
path a rule, policy scope or path expression uses must exist; a deleted group must not be in use
unless forced) and only then replaces the live state. The hierarchical ``PATCH /infra`` is thus
atomic: on any error nothing changes.

PUT and PATCH both replace the writable fields of the object (NSX's default, partial patch off),
except that PATCH of a security policy merges the given rules by id with the existing ones while
PUT replaces the rule list. An object is only written, and its ``_revision`` only bumped, when
its normalised content changes; any change of a rule also bumps its policy's ``_revision``.
"""

from __future__ import annotations

import re

from ..common.server import Response
from .common import Ctx, new_uuid, page, stamp_new, stamp_update
from .errors import (
    DEFAULT_PROTECTED,
    IN_USE,
    NOT_ALLOWED,
    POLICY,
    NsxError,
    bad_request,
    invalid_path,
    not_found,
    stale,
)
from .match import op_match, tags_match
from .validate import Checker, ip_element, mac_address, revision_of, service_element

DEFAULT_DOMAIN = "default"
DEFAULT_POLICY = "default-layer3-section"
DEFAULT_RULE = "default-layer3-rule"
DEFAULT_RULE_ID = 2
FIRST_RULE_ID = 1000
MAX_SEQUENCE = 2147483647

CATEGORIES = ("Ethernet", "Emergency", "Infrastructure", "Environment", "Application")
CONNECTIVITY = ("WHITELIST", "BLACKLIST", "WHITELIST_ENABLE_LOGGING", "BLACKLIST_ENABLE_LOGGING", "NONE")
RULE_ACTIONS = ("ALLOW", "DROP", "REJECT", "JUMP_TO_APPLICATION")
DIRECTIONS = ("IN", "OUT", "IN_OUT")
IP_PROTOCOLS = ("IPV4", "IPV6", "IPV4_IPV6")
OPERATIONS = ("insert_top", "insert_bottom", "insert_after", "insert_before")
EXPRESSION_KINDS = ("Condition", "ConjunctionOperator", "NestedExpression", "IPAddressExpression", "MACAddressExpression",
                    "ExternalIDExpression", "PathExpression", "IdentityGroupExpression")
# Condition enums: NSX-T 3.1 values plus the ones later releases added.
CONDITION_KEYS = ("Tag", "Name", "OSName", "ComputerName", "NodeType", "GroupType", "ALL", "IPAddress", "PodCidr",
                  "ManagementInterface", "OSVersion")
MEMBER_TYPES = ("IPSet", "VirtualMachine", "LogicalPort", "LogicalSwitch", "Segment", "SegmentPort", "Pod", "Service",
                "Namespace", "TransportNode", "Group", "DVPG", "DVPort", "IPAddress", "VpcSubnet", "KubernetesCluster",
                "KubernetesNamespace", "AntreaEgress", "AntreaIPPool", "KubernetesIngress", "KubernetesGateway",
                "KubernetesService", "KubernetesNode", "VpcSubnetPort", "BareMetalServer", "BareMetalServerInterface",
                "Tier0", "Tier1")
CONDITION_OPERATORS = ("EQUALS", "CONTAINS", "STARTSWITH", "ENDSWITH", "NOTEQUALS", "NOTIN", "MATCHES", "IN")
SCOPE_OPERATORS = ("EQUALS", "NOTEQUALS")
EXTERNAL_ID_TYPES = ("VirtualMachine", "VirtualNetworkInterface", "CloudNativeServiceInstance", "PhysicalServer")
GROUP_TYPES = ("IPAddress", "ANTREA")
PORT_MEMBER_TYPES = ("SegmentPort", "LogicalPort", "Pod")
EXPRESSION_SUBPATH = {
    "Condition": "condition-expressions", "ConjunctionOperator": "conjunction-expressions",
    "NestedExpression": "nested-expressions", "IPAddressExpression": "ip-address-expressions",
    "MACAddressExpression": "mac-address-expressions", "ExternalIDExpression": "external-id-expressions",
    "PathExpression": "path-expressions", "IdentityGroupExpression": "identity-group-expressions",
}
MAX_CONDITIONS = 5
MAX_EXPRESSION_MEMBERS = 500
MAX_PATHS = 128

GROUP_PATH = re.compile(r"^/infra/domains/([^/]+)/groups/([^/]+)$")
SERVICE_PATH = re.compile(r"^/(global-)?infra/services/[^/]+$")
PROFILE_PATH = re.compile(r"^/(global-)?infra/context-profiles/[^/]+$")

DOMAIN_CONTENT = ("display_name", "description", "tags")
GROUP_CONTENT = ("display_name", "description", "tags", "expression", "extended_expression", "group_type")
POLICY_CONTENT = ("display_name", "description", "tags", "category", "sequence_number", "scope", "stateful", "tcp_strict",
                  "locked", "comments", "scheduler_path", "logging_enabled", "connectivity_strategy",
                  "application_connectivity_strategy")
RULE_CONTENT = ("display_name", "description", "tags", "action", "source_groups", "destination_groups", "services",
                "service_entries", "profiles", "scope", "sequence_number", "direction", "ip_protocol", "logged", "disabled",
                "sources_excluded", "destinations_excluded", "notes", "tag")
DEFAULT_POLICY_FIXED = ("category", "sequence_number", "scope", "stateful")
DEFAULT_RULE_MUTABLE = ("action", "logged", "disabled", "notes", "tag", "display_name", "description", "tags")
MEMBER_EMPTY = ("segments", "vifs", "logical-switches", "logical-ports")


def _not_allowed(ctx: Ctx) -> NsxError:
    return NsxError(405, NOT_ALLOWED, "The method %s is not supported for the URI %s" % (ctx.method, ctx.request.path), POLICY)


def _strip_ids(value):
    if isinstance(value, list):
        return [_strip_ids(v) for v in value]
    if isinstance(value, dict):
        return {k: _strip_ids(v) for k, v in value.items() if k != "id"}
    return value


def _content(doc: dict, keys) -> dict:
    out = {}
    for key in keys:
        value = doc.get(key)
        if value is None:
            continue
        if key == "tags":
            value = sorted((t.get("scope", ""), t.get("tag", "")) for t in value)
        elif key in ("expression", "extended_expression"):
            value = _strip_ids(value)
        out[key] = value
    return out


def group_path(domain: str, gid: str) -> str:
    return "/infra/domains/%s/groups/%s" % (domain, gid)


def policy_path(domain: str, pid: str) -> str:
    return "/infra/domains/%s/security-policies/%s" % (domain, pid)


def rule_path(domain: str, pid: str, rid: str) -> str:
    return "%s/rules/%s" % (policy_path(domain, pid), rid)


class PolicyState:
    """domains[d], groups[d][g], policies[d][p] (without rules), rules[(d, p)][r]."""

    def __init__(self) -> None:
        self.domains: dict[str, dict] = {}
        self.groups: dict[str, dict[str, dict]] = {}
        self.policies: dict[str, dict[str, dict]] = {}
        self.rules: dict[tuple[str, str], dict[str, dict]] = {}
        self.next_rule_id = FIRST_RULE_ID

    def copy(self) -> PolicyState:
        new = PolicyState()
        new.domains = dict(self.domains)
        new.groups = {d: dict(v) for d, v in self.groups.items()}
        new.policies = {d: dict(v) for d, v in self.policies.items()}
        new.rules = {k: dict(v) for k, v in self.rules.items()}
        new.next_rule_id = self.next_rule_id
        return new

    def group(self, path: str) -> dict | None:
        match = GROUP_PATH.match(path)
        if not match:
            return None
        return self.groups.get(match.group(1), {}).get(match.group(2))


class Tx:
    """A write in progress on a copy of the state."""

    def __init__(self, ctx: Ctx, state: PolicyState, enforce_revision: bool = True) -> None:
        self.ctx = ctx
        self.user = ctx.user
        self.state = state.copy()
        self.enforce_revision = enforce_revision
        self.dirty: set[tuple] = set()
        self.removed: set[tuple] = set()
        self.rules_touched: set[tuple] = set()
        self.policies_touched: set[tuple] = set()
        self.groups_touched: set[tuple] = set()
        self.deleted_groups: dict[str, bool] = {}
        self.bumped: set[tuple] = set()

    def mark(self, key: tuple) -> None:
        self.removed.discard(key)
        self.dirty.add(key)

    def unmark(self, key: tuple) -> None:
        self.dirty.discard(key)
        self.removed.add(key)


class PolicyApi:
    def __init__(self, product) -> None:
        self.product = product
        self.state = PolicyState()

    @property
    def journal(self):
        return self.product.journal

    @property
    def inventory(self):
        return self.product.inventory

    # ---------------------------------------------------------------- seed, load, persist

    def seed(self) -> None:
        state = PolicyState()
        domain = {"id": DEFAULT_DOMAIN, "unique_id": new_uuid(), "display_name": DEFAULT_DOMAIN}
        stamp_new(domain, "system", system=True)
        state.domains[DEFAULT_DOMAIN] = domain
        state.groups[DEFAULT_DOMAIN] = {}
        policy = {"id": DEFAULT_POLICY, "unique_id": new_uuid(), "display_name": "Default Layer3 Section", "category": "Application",
                  "sequence_number": MAX_SEQUENCE, "scope": ["ANY"], "stateful": True, "tcp_strict": False, "locked": False,
                  "logging_enabled": False, "is_default": True}
        stamp_new(policy, "system", system=True)
        state.policies[DEFAULT_DOMAIN] = {DEFAULT_POLICY: policy}
        rule = {"id": DEFAULT_RULE, "unique_id": new_uuid(), "display_name": "Default Layer3 Rule", "rule_id": DEFAULT_RULE_ID,
                "is_default": True, "action": "ALLOW", "source_groups": ["ANY"], "destination_groups": ["ANY"], "services": ["ANY"],
                "profiles": ["ANY"], "scope": ["ANY"], "sequence_number": MAX_SEQUENCE, "direction": "IN_OUT",
                "ip_protocol": "IPV4_IPV6", "logged": False, "disabled": False, "sources_excluded": False,
                "destinations_excluded": False}
        stamp_new(rule, "system", system=True)
        state.rules[(DEFAULT_DOMAIN, DEFAULT_POLICY)] = {DEFAULT_RULE: rule}
        self.state = state
        self.journal.put("pol_domain", DEFAULT_DOMAIN, "", domain)
        self.journal.put("pol_policy", "%s/%s" % (DEFAULT_DOMAIN, DEFAULT_POLICY), DEFAULT_DOMAIN, policy)
        self.journal.put("pol_rule", "%s/%s/%s" % (DEFAULT_DOMAIN, DEFAULT_POLICY, DEFAULT_RULE), "%s/%s" % (DEFAULT_DOMAIN, DEFAULT_POLICY), rule)
        self.journal.meta("pol", {"next_rule_id": state.next_rule_id})

    def load(self, by_kind: dict, meta: dict) -> None:
        state = PolicyState()

        def created(row):
            return (row[2].get("_create_time", 0), row[0])

        for key, _scope, doc in sorted(by_kind.get("pol_domain", []), key=created):
            state.domains[key] = doc
            state.groups.setdefault(key, {})
            state.policies.setdefault(key, {})
        for key, _scope, doc in sorted(by_kind.get("pol_group", []), key=created):
            domain, gid = key.split("/", 1)
            state.groups.setdefault(domain, {})[gid] = doc
        for key, _scope, doc in sorted(by_kind.get("pol_policy", []), key=created):
            domain, pid = key.split("/", 1)
            state.policies.setdefault(domain, {})[pid] = doc
            state.rules.setdefault((domain, pid), {})
        for key, _scope, doc in sorted(by_kind.get("pol_rule", []), key=created):
            domain, pid, rid = key.split("/", 2)
            state.rules.setdefault((domain, pid), {})[rid] = doc
        state.next_rule_id = int(meta.get("next_rule_id", FIRST_RULE_ID))
        self.state = state

    def _persist(self, tx: Tx) -> None:
        state = tx.state
        for key in tx.removed:
            self.journal.delete("pol_" + key[0], "/".join(key[1:]))
        for key in tx.dirty:
            kind = key[0]
            if kind == "domain":
                self.journal.put("pol_domain", key[1], "", state.domains[key[1]])
            elif kind == "group":
                self.journal.put("pol_group", "%s/%s" % key[1:], key[1], state.groups[key[1]][key[2]])
            elif kind == "policy":
                self.journal.put("pol_policy", "%s/%s" % key[1:], key[1], state.policies[key[1]][key[2]])
            elif kind == "rule":
                self.journal.put("pol_rule", "%s/%s/%s" % key[1:], "%s/%s" % key[1:3], state.rules[key[1:3]][key[3]])
        self.journal.meta("pol", {"next_rule_id": state.next_rule_id})

    def commit(self, tx: Tx) -> None:
        self._validate_final(tx)
        self.state = tx.state
        self._persist(tx)

    # ---------------------------------------------------------------- routing

    def handle(self, ctx: Ctx, segs: list[str]) -> Response:
        if not segs or segs[0] != "infra":
            raise not_found(ctx.request.path)
        rest = segs[1:]
        method = ctx.method
        if not rest:
            if method == "GET":
                return Response.json(200, self._infra(ctx))
            if method == "PATCH":
                return self._hapi(ctx)
            raise _not_allowed(ctx)
        if rest[:2] == ["realized-state", "status"] and len(rest) == 2:
            if method != "GET":
                raise _not_allowed(ctx)
            return Response.json(200, self._realized_status(ctx))
        if rest[0] != "domains":
            raise not_found(ctx.request.path)
        if len(rest) == 1:
            if method != "GET":
                raise _not_allowed(ctx)
            return Response.json(200, page(ctx, list(self.state.domains.values()), self._render_domain))
        did = rest[1]
        if len(rest) == 2:
            return self._domain(ctx, did)
        if did not in self.state.domains:
            raise not_found("/infra/domains/" + did)
        if rest[2] == "groups":
            return self._groups(ctx, did, rest[3:])
        if rest[2] == "security-policies":
            return self._policies(ctx, did, rest[3:])
        raise not_found(ctx.request.path)

    def _write(self, ctx: Ctx, operation, enforce_revision: bool = True):
        tx = Tx(ctx, self.state, enforce_revision)
        result = operation(tx)
        self.commit(tx)
        return result

    # ---------------------------------------------------------------- domains

    def _domain(self, ctx: Ctx, did: str) -> Response:
        method = ctx.method
        if method == "GET":
            domain = self.state.domains.get(did)
            if domain is None:
                raise not_found("/infra/domains/" + did)
            return Response.json(200, self._render_domain(domain))
        if method in ("PUT", "PATCH"):
            body = ctx.body()
            self._write(ctx, lambda tx: self.upsert_domain(tx, did, body, method == "PUT"))
            if method == "PUT":
                return Response.json(200, self._render_domain(self.state.domains[did]))
            return Response(200)
        if method == "DELETE":
            if did not in self.state.domains:
                return Response(200)
            self._write(ctx, lambda tx: self.delete_domain(tx, did))
            return Response(200)
        raise _not_allowed(ctx)

    def upsert_domain(self, tx: Tx, did: str, body: dict, revision_required: bool) -> bool:
        state = tx.state
        old = state.domains.get(did)
        self._check_revision(tx, body, old, "Domain", did, revision_required)
        chk = Checker(POLICY)
        content = chk.common(body)
        chk.check()
        content.setdefault("display_name", did)
        if old is not None and _content(old, DOMAIN_CONTENT) == _content(content, DOMAIN_CONTENT):
            return False
        doc = {"id": did, "unique_id": old["unique_id"] if old else new_uuid()}
        doc.update(content)
        if old is None:
            stamp_new(doc, tx.user)
            state.groups.setdefault(did, {})
            state.policies.setdefault(did, {})
        else:
            stamp_update(doc, old, tx.user)
        state.domains[did] = doc
        tx.mark(("domain", did))
        return True

    def delete_domain(self, tx: Tx, did: str) -> None:
        if did == DEFAULT_DOMAIN:
            raise NsxError(400, DEFAULT_PROTECTED, "The default domain cannot be deleted", POLICY)
        state = tx.state
        if did not in state.domains:
            return
        for gid in list(state.groups.get(did, {})):
            self.delete_group(tx, did, gid, force=False)
        for pid in list(state.policies.get(did, {})):
            self.delete_policy(tx, did, pid)
        state.groups.pop(did, None)
        state.policies.pop(did, None)
        del state.domains[did]
        tx.unmark(("domain", did))

    def _render_domain(self, domain: dict) -> dict:
        out = dict(domain)
        out.update(self._paths("Domain", "/infra/domains/" + domain["id"], "/infra", domain))
        return out

    @staticmethod
    def _paths(resource_type: str, path: str, parent: str, doc: dict) -> dict:
        return {"resource_type": resource_type, "path": path, "relative_path": doc["id"], "parent_path": parent,
                "remote_path": "", "realization_id": doc.get("unique_id"), "marked_for_delete": False, "overridden": False}

    # ---------------------------------------------------------------- revision

    @staticmethod
    def _check_revision(tx: Tx, body: dict, old: dict | None, kind: str, ident: str, required: bool) -> None:
        revision = revision_of(body)
        if revision == "bad":
            raise bad_request("_revision must be an integer", POLICY)
        if old is None:
            return
        if revision is None:
            if required:
                raise stale(kind, ident, missing=True)
            return
        if tx.enforce_revision and revision != old.get("_revision", 0):
            raise stale(kind, ident)

    # ---------------------------------------------------------------- groups

    def _groups(self, ctx: Ctx, did: str, rest: list[str]) -> Response:
        method = ctx.method
        if not rest:
            if method != "GET":
                raise _not_allowed(ctx)
            return Response.json(200, page(ctx, list(self.state.groups[did].values()), lambda g: self._render_group(did, g)))
        gid = rest[0]
        if len(rest) == 1:
            if method == "GET":
                group = self.state.groups[did].get(gid)
                if group is None:
                    raise not_found(group_path(did, gid))
                return Response.json(200, self._render_group(did, group))
            if method in ("PUT", "PATCH"):
                body = ctx.body()
                self._write(ctx, lambda tx: self.upsert_group(tx, did, gid, body, method == "PUT"))
                if method == "PUT":
                    return Response.json(200, self._render_group(did, self.state.groups[did][gid]))
                return Response(200)
            if method == "DELETE":
                force = ctx.bool_param("force")
                ctx.bool_param("fail_if_subtree_exists")
                if gid in self.state.groups[did]:
                    self._write(ctx, lambda tx: self.delete_group(tx, did, gid, force))
                return Response(200)
            raise _not_allowed(ctx)
        if len(rest) == 3 and rest[1] == "members":
            if method != "GET":
                raise _not_allowed(ctx)
            if gid not in self.state.groups[did]:
                raise not_found(group_path(did, gid))
            return self._members(ctx, did, gid, rest[2])
        raise not_found(ctx.request.path)

    def upsert_group(self, tx: Tx, did: str, gid: str, body: dict, revision_required: bool) -> bool:
        state = tx.state
        if did not in state.domains:
            raise not_found("/infra/domains/" + did)
        old = state.groups[did].get(gid)
        self._check_revision(tx, body, old, "Group", gid, revision_required)
        chk = Checker(POLICY)
        content = chk.common(body)
        content.setdefault("display_name", gid)
        expression = self._expressions(chk, body, "expression", nested=False)
        content["expression"] = expression
        extended = chk.array(body, "extended_expression", max_items=1)
        if extended:
            content["extended_expression"] = self._expressions(chk, body, "extended_expression", nested=False)
            if any(e.get("resource_type") != "IdentityGroupExpression" for e in content["extended_expression"]):
                chk.err("extended_expression: only one IdentityGroupExpression is supported")
        group_type = chk.strings(body, "group_type", max_items=1)
        if group_type:
            for value in group_type:
                if value not in GROUP_TYPES:
                    chk.err("invalid value '%s' for property group_type, allowed values are [%s]" % (value, ", ".join(GROUP_TYPES)))
            content["group_type"] = group_type
        chk.check()
        if old is not None and _content(old, GROUP_CONTENT) == _content(content, GROUP_CONTENT):
            return False
        self._assign_ids(content["expression"])
        self._assign_ids(content.get("extended_expression", []))
        doc = {"id": gid, "unique_id": old["unique_id"] if old else new_uuid()}
        doc.update(content)
        if old is None:
            stamp_new(doc, tx.user)
        else:
            stamp_update(doc, old, tx.user)
        state.groups[did][gid] = doc
        tx.mark(("group", did, gid))
        tx.groups_touched.add((did, gid))
        tx.deleted_groups.pop(group_path(did, gid), None)
        return True

    def _assign_ids(self, expressions: list) -> None:
        for expression in expressions:
            if not expression.get("id"):
                expression["id"] = new_uuid()
            if expression.get("resource_type") == "NestedExpression":
                self._assign_ids(expression.get("expressions", []))

    def _expressions(self, chk: Checker, body: dict, key: str, nested: bool, where: str = "") -> list[dict]:
        items = chk.array(body, key, where, min_items=1 if nested else 0, required=nested)
        if not items:
            return []
        here_list = where + key
        if len(items) % 2 == 0:
            chk.err("%s: a non-empty expression list must have an odd number of elements, expressions at even indices "
                    "separated by ConjunctionOperator at odd indices" % here_list)
        out = []
        conditions = 0
        member_total = 0
        member_types = set()
        for index, item in enumerate(items):
            here = "%s[%d]." % (here_list, index)
            if not isinstance(item, dict):
                chk.err("property %s[%d] must be an object" % (here_list, index))
                continue
            kind = chk.enum(item, "resource_type", EXPRESSION_KINDS, here, required=True)
            if kind is None:
                continue
            normalised = {"resource_type": kind}
            if isinstance(item.get("id"), str) and item["id"]:
                normalised["id"] = item["id"]
            if index % 2 == 1 and kind != "ConjunctionOperator":
                chk.err("%s[%d]: odd positions must hold a ConjunctionOperator, not %s" % (here_list, index, kind))
            if index % 2 == 0 and kind == "ConjunctionOperator":
                chk.err("%s[%d]: a ConjunctionOperator must sit between two expressions (at an odd index)" % (here_list, index))
            if nested and kind not in ("Condition", "ConjunctionOperator"):
                chk.err("%s[%d]: a NestedExpression can only hold Condition and ConjunctionOperator expressions" % (here_list, index))
                continue
            if kind == "ConjunctionOperator":
                operator = chk.enum(item, "conjunction_operator", ("OR", "AND"), here, required=True)
                if nested and operator == "OR":
                    chk.err("%s[%d]: only the AND conjunction is allowed inside a NestedExpression" % (here_list, index))
                normalised["conjunction_operator"] = operator
            elif kind == "Condition":
                conditions += 1
                normalised.update(self._condition(chk, item, here))
                member_types.add(normalised.get("member_type"))
            elif kind == "NestedExpression":
                conditions += 1
                inner = self._expressions(chk, item, "expressions", nested=True, where=here)
                types = {e.get("member_type") for e in inner if e.get("resource_type") == "Condition"}
                if len(types) > 1:
                    chk.err("%sexpressions: all conditions of a NestedExpression must have the same member_type, got %s"
                            % (here, ", ".join(sorted(str(t) for t in types))))
                normalised["expressions"] = inner
            elif kind == "IPAddressExpression":
                ips = chk.strings(item, "ip_addresses", here, max_items=4000, min_items=1, required=True) or []
                versions = set()
                for value in ips:
                    version = ip_element(value)
                    if version is None:
                        chk.err("%sip_addresses: '%s' is not an IP address, range or CIDR" % (here, value))
                    versions.add(version)
                if {4, 6} <= versions:
                    chk.err("%sip_addresses: IPv4 and IPv6 addresses cannot be mixed in one IPAddressExpression" % here)
                member_total += len(ips)
                normalised["ip_addresses"] = ips
            elif kind == "MACAddressExpression":
                macs = chk.strings(item, "mac_addresses", here, max_items=4000, min_items=1, required=True) or []
                for value in macs:
                    if not mac_address(value):
                        chk.err("%smac_addresses: '%s' is not a MAC address" % (here, value))
                member_total += len(macs)
                normalised["mac_addresses"] = macs
            elif kind == "ExternalIDExpression":
                normalised["member_type"] = chk.enum(item, "member_type", EXTERNAL_ID_TYPES, here, required=True)
                ids = chk.strings(item, "external_ids", here, min_items=1, required=True) or []
                member_total += len(ids)
                normalised["external_ids"] = ids
            elif kind == "PathExpression":
                paths = chk.strings(item, "paths", here, min_items=1, required=True) or []
                for value in paths:
                    if not value.startswith("/"):
                        chk.err("%spaths: '%s' is not a policy path" % (here, value))
                member_total += len(paths)
                normalised["paths"] = paths
            elif kind == "IdentityGroupExpression":
                groups = chk.objects(item, "identity_groups", here, max_items=500, min_items=1, required=True)
                normalised["identity_groups"] = [{k: v for k, v in g.items() if v is not None} for g in groups]
            out.append(normalised)
        if conditions > MAX_CONDITIONS:
            chk.err("%s: at most %d Condition and NestedExpression are allowed in a list, got %d" % (here_list, MAX_CONDITIONS, conditions))
        if member_total > MAX_EXPRESSION_MEMBERS:
            chk.err("%s: at most %d IP addresses, MAC addresses, external IDs and paths are allowed in total, got %d"
                    % (here_list, MAX_EXPRESSION_MEMBERS, member_total))
        return out

    @staticmethod
    def _condition(chk: Checker, item: dict, here: str) -> dict:
        out = {
            "member_type": chk.enum(item, "member_type", MEMBER_TYPES, here, required=True),
            "key": chk.enum(item, "key", CONDITION_KEYS, here, required=True),
            "operator": chk.enum(item, "operator", CONDITION_OPERATORS, here, default="EQUALS"),
            "scope_operator": chk.enum(item, "scope_operator", SCOPE_OPERATORS, here, default="EQUALS"),
            "value": chk.string(item, "value", here, min_len=1, required=True),
        }
        if out["operator"] == "MATCHES" and out["value"]:
            try:
                re.compile(out["value"])
            except re.error as exc:
                chk.err("%svalue: '%s' is not a valid regular expression (%s)" % (here, out["value"], exc))
        return out

    def delete_group(self, tx: Tx, did: str, gid: str, force: bool) -> None:
        state = tx.state
        if gid not in state.groups.get(did, {}):
            return
        del state.groups[did][gid]
        tx.unmark(("group", did, gid))
        tx.groups_touched.discard((did, gid))
        tx.deleted_groups[group_path(did, gid)] = force

    def _render_group(self, did: str, group: dict) -> dict:
        path = group_path(did, group["id"])
        out = dict(group)
        out.update(self._paths("Group", path, "/infra/domains/" + did, group))
        out["reference"] = False
        out["expression"] = self._decorate(group.get("expression", []), path)
        if "extended_expression" in group:
            out["extended_expression"] = self._decorate(group["extended_expression"], path)
        return out

    def _decorate(self, expressions: list, parent: str) -> list:
        out = []
        for expression in expressions:
            item = dict(expression)
            path = "%s/%s/%s" % (parent, EXPRESSION_SUBPATH[expression["resource_type"]], expression["id"])
            item.update({"path": path, "relative_path": expression["id"], "parent_path": parent, "remote_path": "",
                         "marked_for_delete": False, "overridden": False, "_protection": "NOT_PROTECTED"})
            if expression["resource_type"] == "NestedExpression":
                item["expressions"] = self._decorate(expression.get("expressions", []), path)
            out.append(item)
        return out

    # ------------------------------------------------------------ group members

    def _members(self, ctx: Ctx, did: str, gid: str, kind: str) -> Response:
        ports, vms, ips = self.group_members(self.state, group_path(did, gid))
        inventory = self.inventory
        if kind in ("ip-addresses", "consolidated-effective-ip-addresses"):
            addresses = set(ips)
            addresses.update(ip for p in inventory.ports if p.id in ports for ip in p.ips)
            addresses.update(ip for v in inventory.vms if v.external_id in vms for ip in v.ips)
            return Response.json(200, page(ctx, sorted(addresses, key=lambda a: (":" in a, a))))
        if kind == "segment-ports":
            return Response.json(200, page(ctx, [p for p in inventory.ports if p.id in ports], inventory.port_member))
        if kind == "virtual-machines":
            return Response.json(200, page(ctx, [v for v in inventory.vms if v.external_id in vms], inventory.realized_vm))
        if kind in MEMBER_EMPTY:
            return Response.json(200, page(ctx, []))
        raise not_found(ctx.request.path)

    def group_members(self, state: PolicyState, path: str, seen: frozenset = frozenset()) -> tuple[set, set, set]:
        """(segment port ids, VM external ids, literal IP elements) of a group."""
        group = state.group(path)
        if group is None or path in seen:
            return set(), set(), set()
        return self._evaluate_list(state, group.get("expression", []), seen | {path})

    def _evaluate_list(self, state: PolicyState, expressions: list, seen: frozenset) -> tuple[set, set, set]:
        """Conditions joined by AND bind tighter than OR."""
        result = (set(), set(), set())
        chunk = None
        for index, expression in enumerate(expressions):
            if index % 2 == 1:
                if expression.get("conjunction_operator") == "OR" and chunk is not None:
                    result = (result[0] | chunk[0], result[1] | chunk[1], result[2] | chunk[2])
                    chunk = None
                continue
            value = self._evaluate(state, expression, seen)
            chunk = value if chunk is None else (chunk[0] & value[0], chunk[1] & value[1], chunk[2] & value[2])
        if chunk is not None:
            result = (result[0] | chunk[0], result[1] | chunk[1], result[2] | chunk[2])
        return result

    def _evaluate(self, state: PolicyState, expression: dict, seen: frozenset) -> tuple[set, set, set]:
        kind = expression.get("resource_type")
        inventory = self.inventory
        if kind == "Condition":
            member_type = expression.get("member_type")
            if member_type in PORT_MEMBER_TYPES:
                return {p.id for p in inventory.ports if self._condition_match(expression, p.tags, p.display_name)}, set(), set()
            if member_type == "VirtualMachine":
                return set(), {v.external_id for v in inventory.vms if self._condition_match(expression, v.tags, v.display_name)}, set()
            return set(), set(), set()
        if kind == "NestedExpression":
            return self._evaluate_list(state, expression.get("expressions", []), seen)
        if kind == "IPAddressExpression":
            return set(), set(), set(expression.get("ip_addresses", []))
        if kind == "ExternalIDExpression" and expression.get("member_type") == "VirtualMachine":
            wanted = set(expression.get("external_ids", []))
            return set(), {v.external_id for v in inventory.vms if v.external_id in wanted}, set()
        if kind == "PathExpression":
            ports, vms, ips = set(), set(), set()
            for path in expression.get("paths", []):
                if GROUP_PATH.match(path):
                    more = self.group_members(state, path, seen)
                    ports |= more[0]
                    vms |= more[1]
                    ips |= more[2]
                elif path in inventory.ports_by_path:
                    ports.add(inventory.ports_by_path[path].id)
                elif path in inventory.segments:
                    ports.update(p.id for p in inventory.segments[path])
            return ports, vms, ips
        return set(), set(), set()

    @staticmethod
    def _condition_match(condition: dict, tags, name: str) -> bool:
        key, operator, value = condition.get("key"), condition.get("operator", "EQUALS"), condition.get("value", "")
        if key == "Tag":
            if "|" in value:
                scope, tag = value.split("|", 1)
            else:
                scope, tag = None, value
            return tags_match(tags, scope or None, tag or None, operator, condition.get("scope_operator", "EQUALS"), case_insensitive=True)
        if key == "Name":
            return op_match(operator, name, value, case_insensitive=True)
        return False

    # ---------------------------------------------------------------- security policies

    def _ordered_policies(self, did: str) -> list[dict]:
        ranks = {c: i for i, c in enumerate(CATEGORIES)}

        def key(p):
            return (bool(p.get("is_default")), ranks.get(p.get("category"), len(CATEGORIES)), p.get("sequence_number", 0),
                    p.get("_create_time", 0))

        return sorted(self.state.policies[did].values(), key=key)

    @staticmethod
    def _ordered_rules(rules: dict) -> list[dict]:
        return sorted(rules.values(), key=lambda r: (r.get("sequence_number", 0), r.get("rule_id", 0)))

    def _policies(self, ctx: Ctx, did: str, rest: list[str]) -> Response:
        method = ctx.method
        if not rest:
            if method != "GET":
                raise _not_allowed(ctx)
            ctx.bool_param("include_rule_count")
            return Response.json(200, page(ctx, self._ordered_policies(did), lambda p: self._render_policy(did, p, False)))
        pid = rest[0]
        if len(rest) == 1:
            if method == "GET":
                policy = self.state.policies[did].get(pid)
                if policy is None:
                    raise not_found(policy_path(did, pid))
                return Response.json(200, self._render_policy(did, policy, True))
            if method in ("PUT", "PATCH"):
                body = ctx.body()
                mode = "put" if method == "PUT" else "patch"
                self._write(ctx, lambda tx: self.upsert_policy(tx, did, pid, body, mode))
                if method == "PUT":
                    return Response.json(200, self._render_policy(did, self.state.policies[did][pid], True))
                return Response(200)
            if method == "DELETE":
                if pid in self.state.policies[did]:
                    self._write(ctx, lambda tx: self.delete_policy(tx, did, pid))
                return Response(200)
            if method == "POST":
                return self._revise_policy(ctx, did, pid)
            raise _not_allowed(ctx)
        if rest[1] != "rules" or len(rest) > 3:
            raise not_found(ctx.request.path)
        if pid not in self.state.policies[did]:
            raise not_found(policy_path(did, pid))
        if len(rest) == 2:
            if method != "GET":
                raise _not_allowed(ctx)
            rules = self._ordered_rules(self.state.rules[(did, pid)])
            return Response.json(200, page(ctx, rules, lambda r: self._render_rule(did, pid, r)))
        rid = rest[2]
        if method == "GET":
            rule = self.state.rules[(did, pid)].get(rid)
            if rule is None:
                raise not_found(rule_path(did, pid, rid))
            return Response.json(200, self._render_rule(did, pid, rule))
        if method in ("PUT", "PATCH"):
            body = ctx.body()

            def operation(tx):
                changed = self.upsert_rule(tx, did, pid, rid, body, method == "PUT")
                if changed:
                    self._bump_policy(tx, did, pid)

            self._write(ctx, operation)
            if method == "PUT":
                return Response.json(200, self._render_rule(did, pid, self.state.rules[(did, pid)][rid]))
            return Response(200)
        if method == "DELETE":
            if rid in self.state.rules[(did, pid)]:
                self._write(ctx, lambda tx: self.delete_rule(tx, did, pid, rid))
            return Response(200)
        if method == "POST":
            return self._revise_rule(ctx, did, pid, rid)
        raise _not_allowed(ctx)

    def _path_list(self, chk: Checker, body: dict, key: str, where: str, kind: str) -> list[str]:
        """source_groups/destination_groups ("groups"), services, profiles or scope: ["ANY"] when absent."""
        values = chk.strings(body, key, where, max_items=MAX_PATHS)
        if not values:
            return ["ANY"]
        if any(v.upper() == "ANY" for v in values):
            if len(values) > 1:
                chk.err("%s%s: ANY must be the only element when it is used" % (where, key))
            return ["ANY"]
        for value in values:
            if kind == "groups":
                if value.startswith("/"):
                    if not GROUP_PATH.match(value):
                        chk.err("%s%s: '%s' is not a group path (/infra/domains/<domain>/groups/<group>)" % (where, key, value))
                elif ip_element(value) is None:
                    chk.err("%s%s: '%s' is neither ANY, a group path nor an IP address, range or CIDR" % (where, key, value))
            elif kind == "services" and not SERVICE_PATH.match(value):
                chk.err("%s%s: '%s' is neither ANY nor a service path (/infra/services/<service>)" % (where, key, value))
            elif kind == "profiles" and not PROFILE_PATH.match(value):
                chk.err("%s%s: '%s' is neither ANY nor a context profile path" % (where, key, value))
            elif kind == "scope" and not value.startswith("/"):
                chk.err("%s%s: '%s' is neither ANY nor a policy path" % (where, key, value))
        return list(values)

    def _policy_content(self, chk: Checker, body: dict, pid: str) -> dict:
        content = chk.common(body)
        content.setdefault("display_name", pid)
        category = body.get("category")
        if category is not None and category != "":
            content["category"] = chk.enum(body, "category", CATEGORIES)
        content["sequence_number"] = chk.integer(body, "sequence_number", minimum=0, maximum=MAX_SEQUENCE, default=0)
        content["scope"] = self._path_list(chk, body, "scope", "", "scope")
        ethernet = content.get("category") == "Ethernet"
        content["stateful"] = chk.boolean(body, "stateful", default=not ethernet)
        content["tcp_strict"] = chk.boolean(body, "tcp_strict", default=bool(content["stateful"]))
        content["locked"] = chk.boolean(body, "locked", default=False)
        content["logging_enabled"] = chk.boolean(body, "logging_enabled", default=False)
        for key in ("comments", "scheduler_path"):
            value = chk.string(body, key)
            if value is not None:
                content[key] = value
        strategy = chk.enum(body, "connectivity_strategy", CONNECTIVITY)
        if strategy is not None:
            content["connectivity_strategy"] = strategy
            if strategy != "NONE" and content["scope"] == ["ANY"]:
                chk.err("connectivity_strategy: %s needs a scope (the groups the default rule applies to)" % strategy)
        app_strategy = chk.objects(body, "application_connectivity_strategy", max_items=2)
        if app_strategy:
            content["application_connectivity_strategy"] = app_strategy
        if ethernet and content["stateful"]:
            chk.err("stateful: Ethernet (layer 2) security policies can only be stateless")
        if content["tcp_strict"] and not content["stateful"]:
            chk.err("tcp_strict: tcp_strict=true is supported only for stateful security policies")
        return content

    def _rule_content(self, chk: Checker, body: dict, where: str, rid: str, category: str | None) -> dict:
        content = chk.common(body, where)
        content.setdefault("display_name", rid)
        action = chk.enum(body, "action", RULE_ACTIONS, where, default="ALLOW")
        if action == "JUMP_TO_APPLICATION" and category != "Environment":
            chk.err("%saction: JUMP_TO_APPLICATION is only supported for rules of the Environment category" % where)
        content["action"] = action
        content["source_groups"] = self._path_list(chk, body, "source_groups", where, "groups")
        content["destination_groups"] = self._path_list(chk, body, "destination_groups", where, "groups")
        content["services"] = self._path_list(chk, body, "services", where, "services")
        content["profiles"] = self._path_list(chk, body, "profiles", where, "profiles")
        content["scope"] = self._path_list(chk, body, "scope", where, "scope")
        entries = chk.objects(body, "service_entries", where, max_items=MAX_PATHS)
        if entries:
            content["service_entries"] = [service_element(chk, e, "%sservice_entries[%d]." % (where, i), "ServiceEntry",
                                                          ("NestedServiceServiceEntry",)) for i, e in enumerate(entries)]
        content["sequence_number"] = chk.integer(body, "sequence_number", where, minimum=0, maximum=MAX_SEQUENCE, default=0)
        content["direction"] = chk.enum(body, "direction", DIRECTIONS, where, default="IN_OUT")
        if category == "Ethernet":
            if body.get("ip_protocol") is not None:
                chk.err("%sip_protocol: must be null for a layer 2 (Ethernet) rule" % where)
        else:
            content["ip_protocol"] = chk.enum(body, "ip_protocol", IP_PROTOCOLS, where, default="IPV4_IPV6")
        for flag in ("logged", "disabled", "sources_excluded", "destinations_excluded"):
            content[flag] = chk.boolean(body, flag, where, default=False)
        notes = chk.string(body, "notes", where, max_len=2048)
        if notes is not None:
            content["notes"] = notes
        tag = chk.string(body, "tag", where, max_len=32)
        if tag is not None:
            content["tag"] = tag
        return content

    def upsert_policy(self, tx: Tx, did: str, pid: str, body: dict, mode: str) -> None:
        """mode: ``put`` (rules replaced, _revision required on update), ``patch`` or ``hapi`` (rules merged)."""
        state = tx.state
        if did not in state.domains:
            raise not_found("/infra/domains/" + did)
        old = state.policies[did].get(pid)
        self._check_revision(tx, body, old, "SecurityPolicy", pid, mode == "put")
        chk = Checker(POLICY)
        content = self._policy_content(chk, body, pid)
        if old is not None and old.get("is_default"):
            for key in DEFAULT_POLICY_FIXED:
                if body.get(key) is None:
                    content[key] = old.get(key)
                elif content.get(key) != old.get(key):
                    chk.err("%s: this field of the default security policy cannot change" % key)
        raw_rules = chk.array(body, "rules")
        given = []
        seen = set()
        for index, raw in enumerate(raw_rules or []):
            where = "rules[%d]." % index
            if not isinstance(raw, dict):
                chk.err("property rules[%d] must be an object" % index)
                continue
            rid = chk.string(raw, "id", where, required=True)
            if rid is None:
                continue
            if "/" in rid:
                chk.err("%sid: '%s' cannot contain /" % (where, rid))
            if rid in seen:
                chk.err("%sid: rule %s is listed twice" % (where, rid))
            seen.add(rid)
            given.append((rid, raw, self._rule_content(chk, raw, where, rid, content.get("category"))))
        chk.check()
        changed = old is None or _content(old, POLICY_CONTENT) != _content(content, POLICY_CONTENT)
        if changed:
            doc = {"id": pid, "unique_id": old["unique_id"] if old else new_uuid(), "is_default": bool(old and old.get("is_default"))}
            doc.update(content)
            if old is None:
                stamp_new(doc, tx.user)
                state.rules[(did, pid)] = {}
            else:
                stamp_update(doc, old, tx.user)
            tx.bumped.add((did, pid))
            state.policies[did][pid] = doc
            tx.mark(("policy", did, pid))
            tx.policies_touched.add((did, pid))
        rules_changed = False
        for rid, raw, fields in given:
            rules_changed |= self._write_rule(tx, did, pid, rid, raw, fields)
        if mode == "put":
            keep = {rid for rid, _raw, _fields in given}
            for rid in list(state.rules[(did, pid)]):
                if rid not in keep and not state.rules[(did, pid)][rid].get("is_default"):
                    self.delete_rule(tx, did, pid, rid, bump=False)
                    rules_changed = True
        if rules_changed:
            self._bump_policy(tx, did, pid)

    def _bump_policy(self, tx: Tx, did: str, pid: str) -> None:
        if (did, pid) in tx.bumped:
            return
        old = tx.state.policies[did][pid]
        doc = dict(old)
        stamp_update(doc, old, tx.user)
        tx.state.policies[did][pid] = doc
        tx.mark(("policy", did, pid))
        tx.bumped.add((did, pid))

    def upsert_rule(self, tx: Tx, did: str, pid: str, rid: str, body: dict, revision_required: bool) -> bool:
        state = tx.state
        policy = state.policies[did].get(pid)
        if policy is None:
            raise not_found(policy_path(did, pid))
        old = state.rules[(did, pid)].get(rid)
        self._check_revision(tx, body, old, "Rule", rid, revision_required)
        chk = Checker(POLICY)
        fields = self._rule_content(chk, body, "", rid, policy.get("category"))
        chk.check()
        return self._write_rule(tx, did, pid, rid, body, fields)

    def _write_rule(self, tx: Tx, did: str, pid: str, rid: str, raw: dict, fields: dict) -> bool:
        state = tx.state
        rules = state.rules[(did, pid)]
        old = rules.get(rid)
        policy = state.policies[did][pid]
        if old is not None and raw.get("_revision") is not None:
            self._check_revision(tx, raw, old, "Rule", rid, False)
        if policy.get("is_default") and (old is None or not old.get("is_default")):
            raise NsxError(400, DEFAULT_PROTECTED, "Rules cannot be added to the default security policy %s" % policy_path(did, pid), POLICY)
        if old is not None and old.get("is_default"):
            fixed = {k: v for k, v in old.items() if k in RULE_CONTENT and k not in DEFAULT_RULE_MUTABLE}
            for key, value in fields.items():
                if key not in DEFAULT_RULE_MUTABLE and raw.get(key) is not None and value != old.get(key):
                    raise NsxError(400, DEFAULT_PROTECTED, "Only the action, logging, disabled flag, notes, tag and names of the "
                                   "default rule can change, not %s" % key, POLICY)
            fields = dict({k: v for k, v in fields.items() if k in DEFAULT_RULE_MUTABLE}, **fixed)
            if fields.get("action") == "JUMP_TO_APPLICATION":
                raise NsxError(400, DEFAULT_PROTECTED, "The default rule action must be ALLOW, DROP or REJECT", POLICY)
        if old is not None and _content(old, RULE_CONTENT) == _content(fields, RULE_CONTENT):
            return False
        doc = {"id": rid, "unique_id": old["unique_id"] if old else new_uuid(),
               "is_default": bool(old and old.get("is_default"))}
        if old is None:
            doc["rule_id"] = state.next_rule_id
            state.next_rule_id += 1
        else:
            doc["rule_id"] = old["rule_id"]
        doc.update(fields)
        if old is None:
            stamp_new(doc, tx.user)
        else:
            stamp_update(doc, old, tx.user)
        rules[rid] = doc
        tx.mark(("rule", did, pid, rid))
        tx.rules_touched.add((did, pid, rid))
        return True

    def delete_rule(self, tx: Tx, did: str, pid: str, rid: str, bump: bool = True) -> None:
        rules = tx.state.rules.get((did, pid), {})
        rule = rules.get(rid)
        if rule is None:
            return
        if rule.get("is_default"):
            raise NsxError(400, DEFAULT_PROTECTED, "The default rule %s cannot be deleted" % rule_path(did, pid, rid), POLICY)
        del rules[rid]
        tx.unmark(("rule", did, pid, rid))
        tx.rules_touched.discard((did, pid, rid))
        if bump:
            self._bump_policy(tx, did, pid)

    def delete_policy(self, tx: Tx, did: str, pid: str) -> None:
        state = tx.state
        policy = state.policies.get(did, {}).get(pid)
        if policy is None:
            return
        if policy.get("is_default"):
            raise NsxError(400, DEFAULT_PROTECTED, "The default security policy %s cannot be deleted" % policy_path(did, pid), POLICY)
        for rid in list(state.rules.get((did, pid), {})):
            tx.unmark(("rule", did, pid, rid))
            tx.rules_touched.discard((did, pid, rid))
        state.rules.pop((did, pid), None)
        del state.policies[did][pid]
        tx.unmark(("policy", did, pid))
        tx.policies_touched.discard((did, pid))

    def _render_policy(self, did: str, policy: dict, with_rules: bool) -> dict:
        path = policy_path(did, policy["id"])
        out = dict(policy)
        out.update(self._paths("SecurityPolicy", path, "/infra/domains/" + did, policy))
        rules = self.state.rules.get((did, policy["id"]), {})
        out["rule_count"] = len(rules)
        if with_rules:
            out["rules"] = [self._render_rule(did, policy["id"], r) for r in self._ordered_rules(rules)]
        return out

    def _render_rule(self, did: str, pid: str, rule: dict) -> dict:
        out = dict(rule)
        out.update(self._paths("Rule", rule_path(did, pid, rule["id"]), policy_path(did, pid), rule))
        return out

    # ------------------------------------------------------------ revise (ordering)

    def _revise_policy(self, ctx: Ctx, did: str, pid: str) -> Response:
        if ctx.param("action") != "revise":
            raise bad_request("Invalid value '%s' for the query parameter action" % ctx.param("action"), POLICY)
        policy = self.state.policies[did].get(pid)
        if policy is None:
            raise not_found(policy_path(did, pid))
        if policy.get("is_default"):
            raise NsxError(400, DEFAULT_PROTECTED, "The default security policy cannot be moved", POLICY)
        category = policy.get("category")
        siblings = [p for p in self._ordered_policies(did) if not p.get("is_default") and p.get("category") == category]
        anchors = {policy_path(did, p["id"]): p["id"] for p in siblings}
        order = self._revised_order([p["id"] for p in siblings], pid, anchors, ctx, "security policy")

        def operation(tx):
            for index, ident in enumerate(order):
                old = tx.state.policies[did][ident]
                if old.get("sequence_number") != (index + 1) * 10:
                    doc = dict(old, sequence_number=(index + 1) * 10)
                    stamp_update(doc, old, tx.user)
                    tx.state.policies[did][ident] = doc
                    tx.mark(("policy", did, ident))

        self._write(ctx, operation)
        return Response.json(200, self._render_policy(did, self.state.policies[did][pid], True))

    def _revise_rule(self, ctx: Ctx, did: str, pid: str, rid: str) -> Response:
        if ctx.param("action") != "revise":
            raise bad_request("Invalid value '%s' for the query parameter action" % ctx.param("action"), POLICY)
        rules = self.state.rules[(did, pid)]
        rule = rules.get(rid)
        if rule is None:
            raise not_found(rule_path(did, pid, rid))
        if rule.get("is_default"):
            raise NsxError(400, DEFAULT_PROTECTED, "The default rule cannot be moved", POLICY)
        siblings = [r for r in self._ordered_rules(rules) if not r.get("is_default")]
        anchors = {rule_path(did, pid, r["id"]): r["id"] for r in siblings}
        order = self._revised_order([r["id"] for r in siblings], rid, anchors, ctx, "rule")

        def operation(tx):
            changed = False
            for index, ident in enumerate(order):
                old = tx.state.rules[(did, pid)][ident]
                if old.get("sequence_number") != (index + 1) * 10:
                    doc = dict(old, sequence_number=(index + 1) * 10)
                    stamp_update(doc, old, tx.user)
                    tx.state.rules[(did, pid)][ident] = doc
                    tx.mark(("rule", did, pid, ident))
                    changed = True
            if changed:
                self._bump_policy(tx, did, pid)

        self._write(ctx, operation)
        return Response.json(200, self._render_rule(did, pid, self.state.rules[(did, pid)][rid]))

    @staticmethod
    def _revised_order(ids: list[str], moving: str, anchors: dict, ctx: Ctx, kind: str) -> list[str]:
        operation = ctx.enum_param("operation", OPERATIONS, "insert_top")
        others = [i for i in ids if i != moving]
        if operation == "insert_top":
            return [moving] + others
        if operation == "insert_bottom":
            return others + [moving]
        anchor_path = ctx.param("anchor_path")
        if not anchor_path:
            raise bad_request("The query parameter anchor_path is required for operation %s" % operation, POLICY)
        anchor = anchors.get(anchor_path)
        if anchor is None or anchor == moving:
            raise bad_request("anchor_path %s is not another %s of the same list" % (anchor_path, kind), POLICY)
        index = others.index(anchor) + (1 if operation == "insert_after" else 0)
        return others[:index] + [moving] + others[index:]

    # ---------------------------------------------------------------- final-state checks

    def _validate_final(self, tx: Tx) -> None:
        state = tx.state

        def check_group_refs(paths):
            for value in paths:
                if GROUP_PATH.match(value) and state.group(value) is None:
                    raise invalid_path(value)

        for did, pid, rid in sorted(tx.rules_touched):
            rule = state.rules.get((did, pid), {}).get(rid)
            if rule is not None:
                for key in ("source_groups", "destination_groups", "scope"):
                    check_group_refs(rule.get(key, []))
        for did, pid in sorted(tx.policies_touched):
            policy = state.policies.get(did, {}).get(pid)
            if policy is not None:
                check_group_refs(policy.get("scope", []))
        inventory = self.inventory
        for did, gid in sorted(tx.groups_touched):
            group = state.groups.get(did, {}).get(gid)
            if group is None:
                continue
            own = group_path(did, gid)
            for path in self._group_paths(group):
                if GROUP_PATH.match(path):
                    if state.group(path) is None:
                        raise invalid_path(path)
                    if own in self._reachable(state, path):
                        raise bad_request("Group %s cannot contain %s: the membership would be circular" % (own, path), POLICY)
                elif path not in inventory.ports_by_path and path not in inventory.segments:
                    raise invalid_path(path)
        pending = {p for p, force in tx.deleted_groups.items() if not force and state.group(p) is None}
        if pending:
            self._check_unused(state, pending)

    @staticmethod
    def _group_paths(group: dict) -> list[str]:
        out = []

        def walk(expressions):
            for expression in expressions:
                if expression.get("resource_type") == "PathExpression":
                    out.extend(expression.get("paths", []))
                elif expression.get("resource_type") == "NestedExpression":
                    walk(expression.get("expressions", []))

        walk(group.get("expression", []))
        return out

    def _reachable(self, state: PolicyState, path: str, seen: set | None = None) -> set:
        seen = set() if seen is None else seen
        if path in seen:
            return seen
        seen.add(path)
        group = state.group(path)
        if group is not None:
            for inner in self._group_paths(group):
                if GROUP_PATH.match(inner):
                    self._reachable(state, inner, seen)
        return seen

    def _check_unused(self, state: PolicyState, deleted: set) -> None:
        def refuse(path, user):
            raise NsxError(400, IN_USE, "Group %s cannot be deleted: it is used by %s. Delete with force=true to delete it anyway."
                           % (path, user), POLICY)

        for (did, pid), rules in state.rules.items():
            for rid, rule in rules.items():
                for key in ("source_groups", "destination_groups", "scope"):
                    for value in rule.get(key, []):
                        if value in deleted:
                            refuse(value, rule_path(did, pid, rid))
        for did, policies in state.policies.items():
            for pid, policy in policies.items():
                for value in policy.get("scope", []):
                    if value in deleted:
                        refuse(value, policy_path(did, pid))
        for did, groups in state.groups.items():
            for gid, group in groups.items():
                for value in self._group_paths(group):
                    if value in deleted:
                        refuse(value, group_path(did, gid))

    # ---------------------------------------------------------------- hierarchical API

    def _hapi(self, ctx: Ctx) -> Response:
        body = ctx.body()
        enforce = ctx.bool_param("enforce_revision_check")
        resource_type = body.get("resource_type")
        if resource_type not in (None, "Infra"):
            raise bad_request("The body of PATCH /infra must be an Infra object, got resource_type %s" % resource_type, POLICY)
        children = body.get("children") or []
        if not isinstance(children, list):
            raise bad_request("children must be an array", POLICY)

        def operation(tx):
            for index, child in enumerate(children):
                self._hapi_infra_child(tx, child, "children[%d]" % index)

        self._write(ctx, operation, enforce_revision=enforce)
        return Response(200)

    @staticmethod
    def _wrapped(child, where: str, wrapper: str, key: str) -> tuple[dict, bool]:
        if not isinstance(child.get(key), dict):
            raise bad_request("%s: %s needs the object in %s" % (where, wrapper, key), POLICY)
        obj = child[key]
        ident = obj.get("id")
        if not isinstance(ident, str) or not ident or "/" in ident:
            raise bad_request("%s.%s.id: every object of a hierarchical request needs an id (without /)" % (where, key), POLICY)
        return obj, bool(child.get("marked_for_delete"))

    @staticmethod
    def _reference(child: dict, where: str, target: str) -> str:
        if child.get("target_type") != target:
            raise bad_request("%s: a ChildResourceReference here must have target_type %s, got %s" % (where, target, child.get("target_type")), POLICY)
        ident = child.get("id")
        if not isinstance(ident, str) or not ident:
            raise bad_request("%s: a ChildResourceReference needs an id" % where, POLICY)
        if child.get("marked_for_delete"):
            raise bad_request("%s: a ChildResourceReference cannot be marked for delete; use the Child%s wrapper" % (where, target), POLICY)
        return ident

    @staticmethod
    def _children(obj: dict, where: str) -> list:
        children = obj.get("children") or []
        if not isinstance(children, list):
            raise bad_request("%s.children must be an array" % where, POLICY)
        return children

    def _hapi_infra_child(self, tx: Tx, child, where: str) -> None:
        if not isinstance(child, dict):
            raise bad_request("%s must be an object" % where, POLICY)
        kind = child.get("resource_type")
        if kind == "ChildResourceReference":
            did = self._reference(child, where, "Domain")
            if did not in tx.state.domains:
                raise invalid_path("/infra/domains/" + did)
            children = self._children(child, where)
        elif kind == "ChildDomain":
            domain, delete = self._wrapped(child, where, kind, "Domain")
            did = domain["id"]
            if delete:
                self.delete_domain(tx, did)
                return
            self.upsert_domain(tx, did, {k: v for k, v in domain.items() if k != "children"}, False)
            children = self._children(domain, where + ".Domain")
        else:
            raise bad_request("%s: unsupported child type %s under Infra (ChildDomain or ChildResourceReference)" % (where, kind), POLICY)
        for index, grandchild in enumerate(children):
            self._hapi_domain_child(tx, did, grandchild, "%s.children[%d]" % (where, index))

    def _hapi_domain_child(self, tx: Tx, did: str, child, where: str) -> None:
        if not isinstance(child, dict):
            raise bad_request("%s must be an object" % where, POLICY)
        kind = child.get("resource_type")
        if kind == "ChildGroup":
            group, delete = self._wrapped(child, where, kind, "Group")
            if delete:
                self.delete_group(tx, did, group["id"], force=False)
            else:
                self.upsert_group(tx, did, group["id"], group, False)
            return
        if kind == "ChildSecurityPolicy":
            policy, delete = self._wrapped(child, where, kind, "SecurityPolicy")
            pid = policy["id"]
            if delete:
                self.delete_policy(tx, did, pid)
                return
            self.upsert_policy(tx, did, pid, {k: v for k, v in policy.items() if k != "children"}, "hapi")
            children = self._children(policy, where + ".SecurityPolicy")
        elif kind == "ChildResourceReference":
            target = child.get("target_type")
            if target == "Group":
                ident = self._reference(child, where, "Group")
                if ident not in tx.state.groups[did]:
                    raise invalid_path(group_path(did, ident))
                return
            pid = self._reference(child, where, "SecurityPolicy")
            if pid not in tx.state.policies[did]:
                raise invalid_path(policy_path(did, pid))
            children = self._children(child, where)
        else:
            raise bad_request("%s: unsupported child type %s under a Domain (ChildGroup, ChildSecurityPolicy or ChildResourceReference)"
                              % (where, kind), POLICY)
        for index, grandchild in enumerate(children):
            here = "%s.children[%d]" % (where, index)
            if not isinstance(grandchild, dict) or grandchild.get("resource_type") != "ChildRule":
                raise bad_request("%s: only ChildRule is supported under a SecurityPolicy" % here, POLICY)
            rule, delete = self._wrapped(grandchild, here, "ChildRule", "Rule")
            if delete:
                self.delete_rule(tx, did, pid, rule["id"])
            elif self.upsert_rule(tx, did, pid, rule["id"], rule, False):
                self._bump_policy(tx, did, pid)

    # ---------------------------------------------------------------- GET /infra, realized state

    def _infra(self, ctx: Ctx) -> dict:
        out = {"resource_type": "Infra", "id": "infra", "display_name": "infra", "path": "/infra", "relative_path": "infra",
               "marked_for_delete": False, "overridden": False, "_revision": 0, "_system_owned": True, "_protection": "NOT_PROTECTED"}
        text, types, base = ctx.param("filter"), ctx.param("type_filter"), ctx.param("base_path")
        if not text and not types:
            return out
        try:
            pattern = re.compile(text) if text else None
        except re.error as exc:
            raise bad_request("Invalid filter '%s': %s" % (text, exc), POLICY) from None
        wanted_types = {t.strip() for t in types.split(",")} if types else None

        def wanted(resource_type):
            if wanted_types is not None and resource_type not in wanted_types:
                return False
            return pattern is None or pattern.search("Type-" + resource_type) is not None

        def in_base(path):
            return not base or path.startswith(base) or base.startswith(path + "/") or base == path

        children = []
        for did, domain in self.state.domains.items():
            if not in_base("/infra/domains/" + did):
                continue
            domain_children = []
            if wanted("Group"):
                domain_children += [{"resource_type": "ChildGroup", "marked_for_delete": False, "Group": self._render_group(did, g)}
                                    for g in self.state.groups[did].values() if in_base(group_path(did, g["id"]))]
            for policy in self._ordered_policies(did):
                pid = policy["id"]
                if not in_base(policy_path(did, pid)):
                    continue
                rules = []
                if wanted("Rule"):
                    rules = [{"resource_type": "ChildRule", "marked_for_delete": False, "Rule": self._render_rule(did, pid, r)}
                             for r in self._ordered_rules(self.state.rules[(did, pid)]) if in_base(rule_path(did, pid, r["id"]))]
                if wanted("SecurityPolicy"):
                    rendered = self._render_policy(did, policy, False)
                    rendered["children"] = rules
                    domain_children.append({"resource_type": "ChildSecurityPolicy", "marked_for_delete": False, "SecurityPolicy": rendered})
                elif rules:
                    domain_children.append({"resource_type": "ChildResourceReference", "target_type": "SecurityPolicy", "id": pid,
                                            "children": rules})
            if wanted("Domain"):
                rendered = self._render_domain(domain)
                rendered["children"] = domain_children
                children.append({"resource_type": "ChildDomain", "marked_for_delete": False, "Domain": rendered})
            elif domain_children:
                children.append({"resource_type": "ChildResourceReference", "target_type": "Domain", "id": did, "children": domain_children})
        out["children"] = children
        return out

    def _realized_status(self, ctx: Ctx) -> dict:
        intent = ctx.param("intent_path")
        if not intent:
            raise bad_request("The query parameter intent_path is required", POLICY)
        obj = self._lookup(intent)
        if obj is None:
            raise not_found(intent)
        return {"publish_status": "REALIZED", "intent_path": intent, "intent_version": str(obj.get("_revision", 0)),
                "consolidated_status": {"consolidated_status": "SUCCESS"}, "consolidated_status_per_enforcement_point": []}

    def _lookup(self, path: str) -> dict | None:
        parts = path.strip("/").split("/")
        state = self.state
        if len(parts) == 3 and parts[:2] == ["infra", "domains"]:
            return state.domains.get(parts[2])
        if len(parts) == 5 and parts[3] == "groups":
            return state.groups.get(parts[2], {}).get(parts[4])
        if len(parts) >= 5 and parts[3] == "security-policies":
            if len(parts) == 5:
                return state.policies.get(parts[2], {}).get(parts[4])
            if len(parts) == 7 and parts[5] == "rules":
                return state.rules.get((parts[2], parts[4]), {}).get(parts[6])
        return None
