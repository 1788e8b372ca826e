"""Manager API (``/api/v1``): NSGroups and distributed firewall sections with their rules (the
inventory reads, IPSets and service objects are in ``objects.py``; rules and NSGroups refer to them).

State lives in memory, indexed by id. The firewall is an ordered list of sections per section
type; the default section of a type is always last and holds its default rule, which is always
the last rule of that section. Every change of a section's rules bumps the section's
``_revision``; a PUT without the current ``_revision`` (or with a stale one) is answered 412.
"""

from __future__ import annotations

from ..common.server import Response
from .common import Ctx, new_uuid, now_ms, page, stamp_new, stamp_update
from .errors import (
    DEFAULT_PROTECTED,
    FIREWALL,
    GROUPING,
    IN_USE,
    NOT_ALLOWED,
    SECTION_NOT_EMPTY,
    NsxError,
    bad_request,
    not_found,
    stale,
)
from .match import op_match, tags_match
from .objects import ObjectsApi
from .validate import Checker, ip_or_cidr, revision_of, service_element

SECTION_TYPES = ("LAYER2", "LAYER3", "L3REDIRECT", "IDS")
LIST_TYPES = ("LAYER2", "LAYER3")
OPERATIONS = ("insert_top", "insert_bottom", "insert_after", "insert_before")
RULE_ACTIONS = ("ALLOW", "DROP", "REJECT", "REDIRECT", "DO_NOT_REDIRECT", "DETECT", "ALLOW_CONTINUE", "DETECT_PREVENT")
DEFAULT_RULE_ACTIONS = ("ALLOW", "DROP", "REJECT")
DIRECTIONS = ("IN", "OUT", "IN_OUT")
IP_PROTOCOLS = ("IPV4", "IPV6", "IPV4_IPV6")
EXPRESSION_TYPES = ("NSGroupSimpleExpression", "NSGroupComplexExpression", "NSGroupTagExpression")
TAG_TARGETS = ("LogicalSwitch", "LogicalPort", "VirtualMachine", "IPSet")
TAG_OPS = ("EQUALS", "CONTAINS", "STARTSWITH", "ENDSWITH")
SIMPLE_TARGETS = ("NSGroup", "IPSet", "MACSet", "LogicalSwitch", "LogicalPort", "VirtualMachine", "DirectoryGroup",
                  "VirtualNetworkInterface", "TransportNode", "CloudNativeServiceInstance", "PhysicalServer",
                  "LogicalRouter", "LogicalRouterPort")
SIMPLE_OPS = ("EQUALS", "CONTAINS", "STARTSWITH", "ENDSWITH", "NOTEQUALS")
PEER_TYPES = ("NSGroup", "IPSet", "LogicalPort", "LogicalSwitch", "MACSet", "IPv4Address", "IPv6Address")
APPLIED_TO_TYPES = ("NSGroup", "LogicalSwitch", "LogicalRouter", "LogicalPort", "LogicalRouterPort")
SERVICE_REF_TYPES = ("NSService", "NSServiceGroup")
PROFILE_TYPES = ("NSProfile",)
MAX_MEMBERS = 500
MAX_CRITERIA = 5
MAX_REFS = 128
MAX_RULES = 1000
NSGROUP_PAGE_CAP = 50
FIRST_RULE_ID = 1000

DEFAULT_SECTIONS = {
    # section type: (section id, section name, rule id, rule name)
    "LAYER3": ("00000000-0000-4000-8000-000000000003", "Default Layer3 Section", "2", "Default Layer3 Rule"),
    "LAYER2": ("00000000-0000-4000-8000-000000000002", "Default Layer2 Section", "1", "Default Layer2 Rule"),
}
RULE_REF_FIELDS = {"sources": PEER_TYPES, "destinations": PEER_TYPES, "applied_tos": APPLIED_TO_TYPES,
                   "context_profiles": PROFILE_TYPES, "extended_sources": ("NSGroup",)}
RULE_DEFAULTS = {"direction": "IN_OUT", "ip_protocol": "IPV4_IPV6", "logged": False, "disabled": False,
                 "sources_excluded": False, "destinations_excluded": False}
# Fields of the default rule that may change; everything else must stay "any".
DEFAULT_RULE_MUTABLE = ("action", "logged", "display_name", "description", "notes", "rule_tag", "disabled")
EFFECTIVE_EMPTY = ("effective-vif-members", "effective-transport-node-members", "effective-directory-group-members")
# ResourceReference target types the lab knows (others, such as MACSet, are taken on trust)
CHECKED_REF_TYPES = ("NSGroup", "IPSet", "LogicalPort", "LogicalSwitch", "LogicalRouter", "LogicalRouterPort", "NSProfile",
                     "NSService", "NSServiceGroup")


def _not_allowed(ctx: Ctx) -> NsxError:
    return NsxError(405, NOT_ALLOWED, "The method %s is not supported for the URI %s" % (ctx.method, ctx.request.path))


class ManagerApi:
    def __init__(self, product) -> None:
        self.product = product
        self.objects = ObjectsApi(self)
        self._init()

    def _init(self) -> None:
        self.nsgroups: dict[str, dict] = {}
        self.sections: dict[str, dict] = {}
        self.section_rules: dict[str, list[str]] = {}
        self.rules: dict[str, dict] = {}
        self.order: dict[str, list[str]] = {t: [] for t in SECTION_TYPES}
        self.next_rule_id = FIRST_RULE_ID

    @property
    def journal(self):
        return self.product.journal

    @property
    def inventory(self):
        return self.product.inventory

    # ---------------------------------------------------------------- state: seed, load, persist

    def seed(self) -> None:
        self._init()
        for stype, (sid, sname, rid, rname) in DEFAULT_SECTIONS.items():
            section = {"id": sid, "resource_type": "FirewallSection", "display_name": sname, "section_type": stype,
                       "stateful": stype == "LAYER3", "tcp_strict": False, "is_default": True, "enforced_on": "VIF",
                       "locked": False, "autoplumbed": False}
            stamp_new(section, "system", system=True)
            rule = {"id": rid, "display_name": rname, "action": "ALLOW", "is_default": True, "_revision": 0}
            rule.update(RULE_DEFAULTS)
            self.sections[sid] = section
            self.section_rules[sid] = [rid]
            self.rules[rid] = self._with_section(rule, sid)
            self.order[stype].append(sid)
            self._persist_section(sid)
            self.journal.put("mp_rule", rid, sid, self.rules[rid])
        self.objects.seed()
        self._persist_meta()

    def load(self, by_kind: dict, meta: dict) -> None:
        self._init()
        for key, _scope, doc in by_kind.get("mp_nsgroup", []):
            self.nsgroups[key] = doc
        for key, _scope, doc in by_kind.get("mp_rule", []):
            self.rules[key] = doc
        for key, _scope, record in by_kind.get("mp_section", []):
            self.sections[key] = record["doc"]
            self.section_rules[key] = [r for r in record["rules"] if r in self.rules]
        order = meta.get("order") or {}
        for stype in SECTION_TYPES:
            self.order[stype] = [s for s in order.get(stype, []) if s in self.sections]
        self.next_rule_id = int(meta.get("next_rule_id", FIRST_RULE_ID))
        self.objects.load(by_kind)

    def _persist_meta(self) -> None:
        self.journal.meta("mp", {"order": self.order, "next_rule_id": self.next_rule_id})

    def _persist_section(self, sid: str) -> None:
        self.journal.put("mp_section", sid, "", {"doc": self.sections[sid], "rules": self.section_rules[sid]})

    @staticmethod
    def _with_section(rule: dict, sid: str) -> dict:
        rule["section_id"] = sid
        rule["resource_type"] = "FirewallRule"
        return rule

    # ---------------------------------------------------------------- routing

    def handle(self, ctx: Ctx, segs: list[str]) -> Response:
        n = len(segs)
        if segs[:2] == ["node", "version"] and n == 2:
            if ctx.method != "GET":
                raise _not_allowed(ctx)
            return Response.json(200, {"node_version": self.product.VERSION, "product_version": self.product.VERSION})
        if segs and segs[0] == "ns-groups":
            return self._nsgroups(ctx, segs[1:])
        if segs and segs[0] in ObjectsApi.ROOTS:
            return self.objects.handle(ctx, segs)
        if n >= 2 and segs[0] == "firewall" and segs[1] == "sections":
            return self._sections(ctx, segs[2:])
        if n in (3, 4) and segs[0] == "firewall" and segs[1] == "rules":
            rule = self.rules.get(segs[2])
            if ctx.method != "GET":
                raise _not_allowed(ctx)
            if rule is None:
                raise not_found(segs[2])
            if n == 4:
                if segs[3] != "state":
                    raise not_found(ctx.request.path)
                return Response.json(200, self._state(rule, self.sections[rule["section_id"]]))
            return Response.json(200, self._render_rule(rule))
        raise not_found(ctx.request.path)

    # ---------------------------------------------------------------- NSGroups

    def _nsgroups(self, ctx: Ctx, rest: list[str]) -> Response:
        method = ctx.method
        if not rest:
            if method == "GET":
                populate = ctx.bool_param("populate_references")
                return Response.json(200, page(ctx, list(self.nsgroups.values()), lambda g: self._render_group(g, populate),
                                               cap=NSGROUP_PAGE_CAP))
            if method == "POST":
                return self._create_group(ctx)
            raise _not_allowed(ctx)
        if rest == ["unassociated-virtual-machines"]:
            if method != "GET":
                raise _not_allowed(ctx)
            return Response.json(200, page(ctx, self._unassociated_vms(), self.inventory.manager_vm))
        gid = rest[0]
        group = self.nsgroups.get(gid)
        if len(rest) == 1:
            if method == "GET":
                if group is None:
                    raise not_found(gid)
                return Response.json(200, self._render_group(group, ctx.bool_param("populate_references")))
            if method == "PUT":
                return self._update_group(ctx, gid, group)
            if method == "POST":
                return self._group_action(ctx, gid, group)
            if method == "DELETE":
                return self._delete_group(ctx, gid, group)
            raise _not_allowed(ctx)
        if len(rest) == 2:
            if method != "GET":
                raise _not_allowed(ctx)
            if group is None:
                raise not_found(gid)
            kind = rest[1]
            ports, vms, ipsets, switches = self.members(gid)
            inventory = self.inventory
            if kind == "effective-logical-port-members":
                items = [p for p in inventory.ports if p.id in ports]
                return Response.json(200, page(ctx, items, inventory.port_reference))
            if kind == "effective-ip-address-members":
                return Response.json(200, page(ctx, self._ips(ports, vms, ipsets)))
            if kind == "effective-virtual-machine-members":
                items = [v for v in inventory.vms if v.external_id in vms]
                return Response.json(200, page(ctx, items, inventory.manager_vm))
            if kind == "effective-ipset-members":
                items = [i for i in self.objects.ipsets.values() if i["id"] in ipsets]
                return Response.json(200, page(ctx, items, lambda i: self.render_ref({"target_type": "IPSet", "target_id": i["id"]})))
            if kind == "effective-logical-switch-members":
                items = [s for s in self.objects.topology.switches if s["id"] in switches]
                return Response.json(200, page(ctx, items, lambda s: self.render_ref({"target_type": "LogicalSwitch", "target_id": s["id"]})))
            if kind in EFFECTIVE_EMPTY:
                return Response.json(200, page(ctx, []))
            if kind == "member-types":
                types = [name for name, found in (("LogicalPort", ports), ("VirtualMachine", vms), ("IPSet", ipsets),
                                                  ("LogicalSwitch", switches)) if found]
                return Response.json(200, page(ctx, types))
        raise not_found(ctx.request.path)

    def _group_fields(self, chk: Checker, body: dict, gid: str | None) -> dict:
        out = chk.common(body)
        members = chk.array(body, "members", max_items=MAX_MEMBERS)
        if members is not None:
            out["members"] = [self._static_member(chk, m, "members[%d]." % i) for i, m in enumerate(members)]
        criteria = chk.array(body, "membership_criteria", max_items=MAX_CRITERIA)
        if criteria is not None:
            out["membership_criteria"] = [self._criterion(chk, c, "membership_criteria[%d]." % i) for i, c in enumerate(criteria)]
        return out

    def _static_member(self, chk: Checker, item, where: str) -> dict:
        if not isinstance(item, dict):
            chk.err("property %s must be an object" % where.rstrip("."))
            return {}
        kind = chk.enum(item, "resource_type", EXPRESSION_TYPES, where, required=True)
        if kind is not None and kind != "NSGroupSimpleExpression":
            chk.err("%sresource_type: members can only hold NSGroupSimpleExpression (ID based) expressions" % where)
            return {}
        return self._simple(chk, item, where, static=True)

    @staticmethod
    def _simple(chk: Checker, item: dict, where: str, static: bool) -> dict:
        target_type = chk.enum(item, "target_type", SIMPLE_TARGETS, where, required=True)
        prop = chk.string(item, "target_property", where, required=True)
        op = chk.enum(item, "op", SIMPLE_OPS, where, required=True)
        value = chk.string(item, "value", where, required=True)
        if static and target_type == "VirtualMachine":
            chk.err("%starget_type: VirtualMachine cannot be added as a static member" % where)
        return {"resource_type": "NSGroupSimpleExpression", "target_type": target_type, "target_property": prop,
                "op": op, "value": value}

    def _criterion(self, chk: Checker, item, where: str, nested: bool = False) -> dict:
        if not isinstance(item, dict):
            chk.err("property %s must be an object" % where.rstrip("."))
            return {}
        kind = chk.enum(item, "resource_type", EXPRESSION_TYPES, where, required=True)
        if kind == "NSGroupSimpleExpression":
            return self._simple(chk, item, where, static=False)
        if kind == "NSGroupTagExpression":
            target_type = chk.enum(item, "target_type", TAG_TARGETS, where, required=True)
            out = {"resource_type": kind, "target_type": target_type}
            scope = chk.string(item, "scope", where, max_len=128)
            tag = chk.string(item, "tag", where, max_len=256)
            out["scope_op"] = chk.enum(item, "scope_op", ("EQUALS",), where, default="EQUALS")
            out["tag_op"] = chk.enum(item, "tag_op", TAG_OPS, where, default="EQUALS")
            if target_type in ("LogicalPort", "LogicalSwitch") and out["tag_op"] != "EQUALS":
                chk.err("%stag_op: target_type %s supports only the EQUALS operator" % (where, target_type))
            if scope is not None:
                out["scope"] = scope
            if tag is not None:
                out["tag"] = tag
            return out
        if kind == "NSGroupComplexExpression":
            if nested:
                chk.err("%sresource_type: an NSGroupComplexExpression cannot contain another NSGroupComplexExpression" % where)
                return {}
            items = chk.array(item, "expressions", where, max_items=5, min_items=2, required=True) or []
            return {"resource_type": kind,
                    "expressions": [self._criterion(chk, e, "%sexpressions[%d]." % (where, i), nested=True) for i, e in enumerate(items)]}
        return {}

    def _check_group_refs(self, fields: dict, gid: str | None) -> None:
        for member in fields.get("members", []):
            if member.get("target_property") != "id" or member.get("op") != "EQUALS":
                continue
            if member.get("target_type") == "IPSet" and member["value"] not in self.objects.ipsets:
                raise bad_request("IPSet %s given as a member does not exist" % member["value"], GROUPING)
            if member.get("target_type") != "NSGroup":
                continue
            target = member["value"]
            if target == gid:
                raise bad_request("NSGroup %s cannot be a member of itself" % gid, GROUPING)
            if target not in self.nsgroups:
                raise bad_request("NSGroup %s given as a member does not exist" % target, GROUPING)
            if gid is not None and gid in self._nested_groups(target):
                raise bad_request("Adding NSGroup %s to NSGroup %s would create a circular membership" % (target, gid), GROUPING)

    def _nested_groups(self, gid: str, seen: set | None = None) -> set:
        """Every NSGroup reachable from ``gid`` through static NSGroup members (``gid`` included)."""
        seen = set() if seen is None else seen
        if gid in seen:
            return seen
        seen.add(gid)
        for member in self.nsgroups.get(gid, {}).get("members", []):
            if member.get("target_type") == "NSGroup" and member.get("target_property") == "id":
                self._nested_groups(member.get("value"), seen)
        return seen

    def _create_group(self, ctx: Ctx) -> Response:
        body = ctx.body()
        chk = Checker(GROUPING)
        fields = self._group_fields(chk, body, None)
        chk.check()
        self._check_group_refs(fields, None)
        gid = new_uuid()
        doc = {"id": gid, "resource_type": "NSGroup"}
        doc.update(fields)
        doc.setdefault("display_name", gid)
        stamp_new(doc, ctx.user)
        self.nsgroups[gid] = doc
        self.journal.put("mp_nsgroup", gid, "", doc)
        return Response.json(201, self._render_group(doc))

    def _update_group(self, ctx: Ctx, gid: str, group: dict | None) -> Response:
        if group is None:
            raise not_found(gid)
        body = ctx.body()
        self._require_revision(body, group, "NSGroup", gid)
        chk = Checker(GROUPING)
        fields = self._group_fields(chk, body, gid)
        chk.check()
        self._check_group_refs(fields, gid)
        doc = {"id": gid, "resource_type": "NSGroup"}
        doc.update(fields)
        doc.setdefault("display_name", gid)
        stamp_update(doc, group, ctx.user)
        self.nsgroups[gid] = doc
        self.journal.put("mp_nsgroup", gid, "", doc)
        return Response.json(200, self._render_group(doc))

    def _group_action(self, ctx: Ctx, gid: str, group: dict | None) -> Response:
        action = ctx.enum_param("action", ("ADD_MEMBERS", "REMOVE_MEMBERS"))
        if action is None:
            raise bad_request("The query parameter action is required (ADD_MEMBERS or REMOVE_MEMBERS)", GROUPING)
        if group is None:
            raise not_found(gid)
        body = ctx.body()
        chk = Checker(GROUPING)
        items = chk.array(body, "members", max_items=MAX_MEMBERS, required=True) or []
        given = [self._static_member(chk, m, "members[%d]." % i) for i, m in enumerate(items)]
        chk.check()
        current = list(group.get("members", []))
        if action == "ADD_MEMBERS":
            self._check_group_refs({"members": given}, gid)
            for member in given:
                if member not in current:
                    current.append(member)
            if len(current) > MAX_MEMBERS:
                raise bad_request("An NSGroup can have at most %d static members, this would make %d" % (MAX_MEMBERS, len(current)), GROUPING)
        else:
            current = [m for m in current if m not in given]
        if current == group.get("members", []):
            return Response.json(200, self._render_group(group))
        doc = dict(group, members=current)
        stamp_update(doc, group, ctx.user)
        self.nsgroups[gid] = doc
        self.journal.put("mp_nsgroup", gid, "", doc)
        return Response.json(200, self._render_group(doc))

    def _delete_group(self, ctx: Ctx, gid: str, group: dict | None) -> Response:
        force = ctx.bool_param("force")
        if group is None:
            raise not_found(gid)
        if not force:
            for other in self.nsgroups.values():
                if other["id"] != gid and any(m.get("target_type") == "NSGroup" and m.get("value") == gid for m in other.get("members", [])):
                    raise NsxError(400, IN_USE, "NSGroup %s is a member of NSGroup %s (%s) and cannot be deleted; pass force=true to delete it anyway"
                                   % (gid, other["id"], other.get("display_name")), GROUPING)
            for section in self.sections.values():
                if any(r.get("target_id") == gid and r.get("target_type") == "NSGroup" for r in section.get("applied_tos", [])):
                    raise NsxError(400, IN_USE, "NSGroup %s is used by firewall section %s and cannot be deleted; pass force=true to delete it anyway"
                                   % (gid, section["id"]), GROUPING)
            for rule in self.rules.values():
                for field in RULE_REF_FIELDS:
                    if any(r.get("target_id") == gid and r.get("target_type") == "NSGroup" for r in rule.get(field, [])):
                        raise NsxError(400, IN_USE, "NSGroup %s is used by firewall rule %s of section %s and cannot be deleted; "
                                       "pass force=true to delete it anyway" % (gid, rule["id"], rule["section_id"]), GROUPING)
        del self.nsgroups[gid]
        self.journal.delete("mp_nsgroup", gid)
        return Response(200)

    def _render_group(self, group: dict, populate: bool = False) -> dict:
        out = dict(group)
        out["member_count"] = len(group.get("members", []))
        if populate and group.get("members"):
            members = []
            for member in group["members"]:
                member = dict(member)
                if member.get("target_property") == "id" and member.get("op") == "EQUALS":
                    member["target_resource"] = self._render_ref({"target_id": member["value"], "target_type": member["target_type"]})
                members.append(member)
            out["members"] = members
        return out

    # ------------------------------------------------------------ effective members

    def members(self, gid: str, seen: frozenset = frozenset()) -> tuple[set, set, set, set]:
        """(logical port ids, VM external ids, IPSet ids, logical switch ids) that are effective
        members of an NSGroup; the ports of a member switch are member ports too."""
        group = self.nsgroups.get(gid)
        if group is None or gid in seen:
            return set(), set(), set(), set()
        seen = seen | {gid}
        found = (set(), set(), set(), set())
        for expression in group.get("members", []) + group.get("membership_criteria", []):
            for mine, more in zip(found, self._evaluate(expression, seen), strict=True):
                mine |= more
        pods_of_switch = self.objects.topology.pods_of_switch
        for switch in found[3]:
            found[0].update(pods_of_switch.get(switch, ()))
        return found

    def _evaluate(self, expression: dict, seen: frozenset) -> tuple[set, set, set, set]:
        kind = expression.get("resource_type")
        inventory = self.inventory
        nothing = (set(), set(), set(), set())
        if kind == "NSGroupComplexExpression":
            results = [self._evaluate(e, seen) for e in expression.get("expressions", [])]
            if not results:
                return nothing
            return tuple(set.intersection(*[r[i] for r in results]) for i in range(4))
        target = expression.get("target_type")
        if kind == "NSGroupTagExpression":
            scope = expression.get("scope") or None
            tag = expression.get("tag") or None
            op = expression.get("tag_op", "EQUALS")

            def tagged(docs):
                return {d["id"] for d in docs if tags_match([(t.get("scope", ""), t.get("tag", "")) for t in d.get("tags", [])], scope, tag, op)}

            if target == "LogicalPort":
                return {p.id for p in inventory.ports if tags_match(p.tags, scope, tag, op)}, set(), set(), set()
            if target == "VirtualMachine":
                return set(), {v.external_id for v in inventory.vms if tags_match(v.tags, scope, tag, op)}, set(), set()
            if target == "IPSet":
                return set(), set(), tagged(self.objects.ipsets.values()), set()
            if target == "LogicalSwitch":
                return set(), set(), set(), tagged(self.objects.topology.switches)
            return nothing
        if kind == "NSGroupSimpleExpression":
            prop, op, value = expression.get("target_property"), expression.get("op"), expression.get("value", "")

            def pick(ident, name):
                actual = ident if prop == "id" or prop == "external_id" else name
                return op_match(op, actual, value)

            if target == "NSGroup":
                found = (set(), set(), set(), set())
                for other in list(self.nsgroups.values()):
                    if pick(other["id"], other.get("display_name", "")):
                        for mine, more in zip(found, self.members(other["id"], seen), strict=True):
                            mine |= more
                return found
            if target == "LogicalPort":
                return {p.id for p in inventory.ports if pick(p.id, p.display_name)}, set(), set(), set()
            if target == "VirtualMachine":
                return set(), {v.external_id for v in inventory.vms if pick(v.external_id, v.display_name)}, set(), set()
            if target == "IPSet":
                return set(), set(), {i["id"] for i in self.objects.ipsets.values() if pick(i["id"], i.get("display_name", ""))}, set()
            if target == "LogicalSwitch":
                return set(), set(), set(), {s["id"] for s in self.objects.topology.switches if pick(s["id"], s["display_name"])}
        return nothing

    def _ips(self, ports: set, vms: set, ipsets: set = frozenset()) -> list[str]:
        """Effective IP address members: the ports' and VMs' addresses, and the IPSets' addresses,
        CIDRs and ranges as written."""
        inventory = self.inventory
        ips = [ip for p in inventory.ports if p.id in ports for ip in p.ips]
        ips += [ip for v in inventory.vms if v.external_id in vms for ip in v.ips]
        ips += [a for i in self.objects.ipsets.values() if i["id"] in ipsets for a in i.get("ip_addresses", [])]
        return sorted(set(ips), key=lambda a: (":" in a, a))

    def _unassociated_vms(self) -> list:
        member_vms = set()
        for gid in self.nsgroups:
            member_vms |= self.members(gid)[1]
        return [v for v in self.inventory.vms if v.external_id not in member_vms]

    # ---------------------------------------------------------------- references

    def _refs(self, chk: Checker, body: dict, key: str, where: str, allowed) -> list[dict] | None:
        items = chk.array(body, key, where, max_items=MAX_REFS)
        if items is None:
            return None
        out = []
        for index, item in enumerate(items):
            here = "%s%s[%d]." % (where, key, index)
            if not isinstance(item, dict):
                chk.err("property %s must be an object" % here.rstrip("."))
                continue
            target_type = chk.enum(item, "target_type", allowed, here, required=True)
            target_id = chk.string(item, "target_id", here, max_len=64, required=True)
            if target_type in ("IPv4Address", "IPv6Address") and target_id is not None:
                version = ip_or_cidr(target_id)
                if version != (4 if target_type == "IPv4Address" else 6):
                    chk.err("%starget_id: '%s' is not a valid %s (an address or a CIDR)" % (here, target_id, target_type))
            out.append({"target_id": target_id, "target_type": target_type})
        return out

    def _target(self, target_type: str, target_id: str) -> dict | None:
        if target_type == "NSGroup":
            return self.nsgroups.get(target_id)
        return self.objects.lookup(target_type, target_id)

    def _check_refs(self, refs: list[dict], where: str) -> None:
        for index, ref in enumerate(refs):
            target_type, target_id = ref.get("target_type"), ref.get("target_id")
            if target_type in CHECKED_REF_TYPES and self._target(target_type, target_id) is None:
                raise NsxError(400, 600, "%s %s referenced by %s[%d] does not exist" % (target_type, target_id, where, index), FIREWALL)

    def _render_ref(self, ref: dict) -> dict:
        """A ResourceReference as NSX returns it: with the target's display name, and ``is_valid``
        false once the target is gone (deleted with force)."""
        out = dict(ref)
        target_type, target_id = ref.get("target_type"), ref.get("target_id")
        if target_type in CHECKED_REF_TYPES:
            target = self._target(target_type, target_id)
            out["target_display_name"] = target.get("display_name", target_id) if target else target_id
            out["is_valid"] = target is not None
        else:
            out["target_display_name"] = target_id
            out["is_valid"] = True
        return out

    render_ref = _render_ref

    def referrers(self, target_type: str, target_id: str) -> list[str]:
        """What refers to an object: NSGroup static members, section applied-tos, rule references
        (services included) and NSServiceGroup members, each described in a few words."""
        def names(refs):
            return any(r.get("target_type") == target_type and r.get("target_id") == target_id for r in refs or [])

        found = []
        for group in self.nsgroups.values():
            if any(m.get("target_type") == target_type and m.get("target_property") == "id" and m.get("op") == "EQUALS"
                   and m.get("value") == target_id for m in group.get("members", [])):
                found.append("NSGroup %s (%s)" % (group["id"], group.get("display_name")))
        for section in self.sections.values():
            if names(section.get("applied_tos")):
                found.append("firewall section %s (%s)" % (section["id"], section.get("display_name")))
        for rule in self.rules.values():
            if any(names(rule.get(key)) for key in list(RULE_REF_FIELDS) + ["services"]):
                found.append("firewall rule %s of section %s" % (rule["id"], rule["section_id"]))
        for group in self.objects.service_groups.values():
            if names(group.get("members")):
                found.append("NSServiceGroup %s (%s)" % (group["id"], group.get("display_name")))
        return found

    # ---------------------------------------------------------------- sections

    def _sections(self, ctx: Ctx, rest: list[str]) -> Response:
        method = ctx.method
        if not rest:
            if method == "GET":
                stype = ctx.enum_param("type", LIST_TYPES, "LAYER3")
                items = [self.sections[s] for s in self.order[stype]]
                return Response.json(200, page(ctx, items, self._render_section))
            if method == "POST":
                action = ctx.param("action")
                if action in (None, ""):
                    return self._create_section(ctx, with_rules=False)
                if action == "create_with_rules":
                    return self._create_section(ctx, with_rules=True)
                raise bad_request("Invalid value '%s' for the query parameter action" % action, FIREWALL)
            raise _not_allowed(ctx)
        if rest == ["summary"]:
            if method != "GET":
                raise _not_allowed(ctx)
            summary = [{"section_type": t, "section_count": len(self.order[t]),
                        "rule_count": sum(len(self.section_rules[s]) for s in self.order[t])} for t in LIST_TYPES]
            return Response.json(200, {"results": summary, "result_count": len(summary)})
        sid = rest[0]
        section = self.sections.get(sid)
        if len(rest) == 1:
            if method == "GET":
                if section is None:
                    raise not_found(sid)
                return Response.json(200, self._render_section(section))
            if section is None:
                raise not_found(sid)
            if method == "PUT":
                return self._update_section(ctx, section)
            if method == "DELETE":
                return self._delete_section(ctx, section)
            if method == "POST":
                return self._section_action(ctx, section)
            raise _not_allowed(ctx)
        if section is None:
            raise not_found(sid)
        if rest[1:] == ["state"]:
            if method != "GET":
                raise _not_allowed(ctx)
            return Response.json(200, self._state(section, section))
        if rest[1] == "rules":
            return self._rules(ctx, section, rest[2:])
        raise not_found(ctx.request.path)

    def _section_fields(self, chk: Checker, body: dict, old: dict | None) -> dict:
        out = chk.common(body)
        stype = chk.enum(body, "section_type", SECTION_TYPES, required=True)
        stateful = chk.boolean(body, "stateful", required=True)
        out["section_type"] = stype
        out["stateful"] = stateful
        out["tcp_strict"] = chk.boolean(body, "tcp_strict", default=False)
        applied = self._refs(chk, body, "applied_tos", "", APPLIED_TO_TYPES)
        if applied is not None:
            out["applied_tos"] = applied
        category = chk.string(body, "category")
        if category is not None:
            out["category"] = category
        if stype == "LAYER2" and stateful:
            chk.err("stateful: Layer2 sections can only be stateless")
        if old is not None and stype is not None and stype != old["section_type"]:
            chk.err("section_type: the type of an existing section cannot change (it is %s)" % old["section_type"])
        return out

    def _rule_fields(self, chk: Checker, body, where: str) -> dict:
        if not isinstance(body, dict):
            chk.err("property %s must be an object" % (where.rstrip(".") or "rule"))
            return {}
        out = {"action": chk.enum(body, "action", RULE_ACTIONS, where, required=True)}
        out["direction"] = chk.enum(body, "direction", DIRECTIONS, where, default="IN_OUT")
        out["ip_protocol"] = chk.enum(body, "ip_protocol", IP_PROTOCOLS, where, default="IPV4_IPV6")
        for flag in ("logged", "disabled", "sources_excluded", "destinations_excluded"):
            out[flag] = chk.boolean(body, flag, where, default=False)
        for key, max_len in (("display_name", 255), ("description", 1024), ("notes", 2048), ("rule_tag", 32)):
            value = chk.string(body, key, where, max_len=max_len)
            if value is not None:
                out[key] = value
        for key, allowed in RULE_REF_FIELDS.items():
            refs = self._refs(chk, body, key, where, allowed)
            if refs is not None:
                out[key] = refs
        services = chk.array(body, "services", where, max_items=MAX_REFS)
        if services is not None:
            out["services"] = []
            for index, item in enumerate(services):
                here = "%sservices[%d]." % (where, index)
                if not isinstance(item, dict):
                    chk.err("property %s must be an object" % here.rstrip("."))
                elif item.get("service") is not None:
                    if not isinstance(item["service"], dict):
                        chk.err("property %sservice must be an object" % here)
                    else:
                        out["services"].append({"service": service_element(chk, item["service"], here + "service.", "NSService")})
                else:
                    target_type = chk.enum(item, "target_type", SERVICE_REF_TYPES, here, required=True)
                    target_id = chk.string(item, "target_id", here, max_len=64, required=True)
                    out["services"].append({"target_id": target_id, "target_type": target_type})
        return out

    def _check_rule_refs(self, rule: dict, where: str) -> None:
        for key in RULE_REF_FIELDS:
            self._check_refs(rule.get(key, []), where + key)
        self._check_refs([{} if "service" in s else s for s in rule.get("services", [])], where + "services")

    def _position(self, ctx: Ctx, items: list[str], default_id: str | None, moving: str | None, kind: str) -> int:
        """Index at which to insert into ``items`` (``moving`` already removed) per operation/id."""
        operation = ctx.enum_param("operation", OPERATIONS, "insert_top")
        anchor = ctx.param("id")
        bottom = items.index(default_id) if default_id in items else len(items)
        if operation == "insert_top":
            return 0
        if operation == "insert_bottom":
            return bottom
        if not anchor:
            raise bad_request("The query parameter id (the anchor %s) is required for operation %s" % (kind, operation), FIREWALL)
        if anchor == moving:
            raise bad_request("A %s cannot be placed relative to itself" % kind, FIREWALL)
        if anchor not in items:
            raise bad_request("The anchor %s %s does not exist here" % (kind, anchor), FIREWALL)
        if anchor == default_id and operation == "insert_after":
            raise bad_request("Nothing can be placed after the default %s: it is always last" % kind, FIREWALL)
        return items.index(anchor) + (1 if operation == "insert_after" else 0)

    def _default_of(self, stype: str) -> tuple[str | None, str | None]:
        default = DEFAULT_SECTIONS.get(stype)
        return (default[0], default[2]) if default else (None, None)

    def _new_rule(self, fields: dict, sid: str) -> dict:
        rid = str(self.next_rule_id)
        self.next_rule_id += 1
        rule = {"id": rid}
        rule.update(fields)
        rule["is_default"] = False
        rule["_revision"] = 0
        return self._with_section(rule, sid)

    def _create_section(self, ctx: Ctx, with_rules: bool) -> Response:
        body = ctx.body()
        chk = Checker(FIREWALL)
        fields = self._section_fields(chk, body, None)
        rules_in = chk.array(body, "rules", max_items=MAX_RULES, required=True) if with_rules else []
        rules = [self._rule_fields(chk, r, "rules[%d]." % i) for i, r in enumerate(rules_in or [])]
        chk.check()
        self._check_refs(fields.get("applied_tos", []), "applied_tos")
        for index, rule in enumerate(rules):
            self._check_rule_refs(rule, "rules[%d]." % index)
        stype = fields["section_type"]
        default_id, _default_rule = self._default_of(stype)
        position = self._position(ctx, self.order[stype], default_id, None, "section")
        sid = new_uuid()
        section = {"id": sid, "resource_type": "FirewallSection"}
        section.update(fields)
        section.setdefault("display_name", sid)
        section.update({"is_default": False, "enforced_on": "VIF", "locked": False, "autoplumbed": False})
        stamp_new(section, ctx.user)
        self.sections[sid] = section
        self.section_rules[sid] = []
        for fields_of_rule in rules:
            rule = self._new_rule(fields_of_rule, sid)
            self.rules[rule["id"]] = rule
            self.section_rules[sid].append(rule["id"])
            self.journal.put("mp_rule", rule["id"], sid, rule)
        self.order[stype].insert(position, sid)
        self._persist_section(sid)
        self._persist_meta()
        out = self._render_section(section)
        if with_rules:
            out["rules"] = [self._render_rule(self.rules[r]) for r in self.section_rules[sid]]
        return Response.json(201, out)

    def _require_revision(self, body: dict, current: dict, kind: str, ident: str) -> None:
        revision = revision_of(body)
        if revision == "bad":
            raise bad_request("_revision must be an integer")
        if revision is None:
            raise stale(kind, ident, missing=True)
        if revision != current.get("_revision", 0):
            raise stale(kind, ident)

    def _update_section(self, ctx: Ctx, section: dict, move: bool = False, rules_in: list | None = None) -> Response:
        body = ctx.body()
        sid = section["id"]
        self._require_revision(body, section, "FirewallSection", sid)
        chk = Checker(FIREWALL)
        fields = self._section_fields(chk, body, section)
        rules = [self._rule_fields(chk, r, "rules[%d]." % i) for i, r in enumerate(rules_in or [])]
        chk.check()
        self._check_refs(fields.get("applied_tos", []), "applied_tos")
        for index, rule in enumerate(rules):
            self._check_rule_refs(rule, "rules[%d]." % index)
        stype = section["section_type"]
        default_id, default_rule = self._default_of(stype)
        position = None
        if move:
            if section.get("is_default"):
                raise NsxError(400, DEFAULT_PROTECTED, "The default section %s cannot be moved: it is always last" % sid, FIREWALL)
            others = [s for s in self.order[stype] if s != sid]
            position = self._position(ctx, others, default_id, sid, "section")
        new_ids = None
        if rules_in is not None:
            new_ids = self._plan_rules(sid, rules_in, rules, section.get("is_default"), default_rule)
        doc = {k: section[k] for k in ("id", "resource_type", "is_default", "enforced_on", "locked", "autoplumbed")}
        for key in ("comments", "lock_modified_by", "lock_modified_time"):
            if key in section:
                doc[key] = section[key]
        doc.update(fields)
        doc.setdefault("display_name", sid)
        stamp_update(doc, section, ctx.user)
        self.sections[sid] = doc
        if position is not None:
            self.order[stype] = [s for s in self.order[stype] if s != sid]
            self.order[stype].insert(position, sid)
            self._persist_meta()
        if new_ids is not None:
            self._apply_rules(sid, new_ids)
        self._persist_section(sid)
        out = self._render_section(doc)
        if rules_in is not None:
            out["rules"] = [self._render_rule(self.rules[r]) for r in self.section_rules[sid]]
        return Response.json(200, out)

    def _plan_rules(self, sid: str, rules_in: list, rules: list[dict], is_default: bool, default_rule: str | None) -> list:
        """The new rule list of a section as (id or None, fields) pairs, default rule kept last."""
        current = set(self.section_rules[sid])
        plan, seen = [], set()
        default_fields = None
        for raw, fields in zip(rules_in, rules, strict=True):
            rid = raw.get("id") if isinstance(raw.get("id"), str) else None
            if rid is not None and rid in seen:
                raise bad_request("Rule %s is listed twice" % rid, FIREWALL)
            if rid is not None and rid not in current:
                rid = None  # ids are read-only: an unknown id means a new rule
            if rid is not None:
                seen.add(rid)
            if rid is not None and rid == default_rule and is_default:
                default_fields = self._default_rule_fields(self.rules[rid], fields)
                continue
            plan.append((rid, fields))
        if is_default and default_rule in current:
            plan.append((default_rule, default_fields or {}))
        if len(plan) > MAX_RULES:
            raise bad_request("A section can hold at most %d rules" % MAX_RULES, FIREWALL)
        return plan

    def _apply_rules(self, sid: str, plan: list) -> None:
        kept = set()
        new_order = []
        for rid, fields in plan:
            if rid is None:
                rule = self._new_rule(fields, sid)
            else:
                old = self.rules[rid]
                rule = {"id": rid}
                if old.get("is_default"):
                    rule.update({k: v for k, v in old.items() if k not in ("id",)})
                    rule.update(fields)
                else:
                    rule.update(fields)
                    rule["is_default"] = False
                rule = self._with_section(rule, sid)
                rule["_revision"] = old.get("_revision", 0) + (0 if self._same_rule(old, rule) else 1)
            self.rules[rule["id"]] = rule
            kept.add(rule["id"])
            new_order.append(rule["id"])
            self.journal.put("mp_rule", rule["id"], sid, rule)
        for rid in self.section_rules[sid]:
            if rid not in kept:
                self.rules.pop(rid, None)
                self.journal.delete("mp_rule", rid)
        self.section_rules[sid] = new_order
        self._persist_meta()

    @staticmethod
    def _same_rule(old: dict, new: dict) -> bool:
        ignore = ("_revision",)
        return {k: v for k, v in old.items() if k not in ignore} == {k: v for k, v in new.items() if k not in ignore}

    @staticmethod
    def _default_rule_fields(old: dict, fields: dict) -> dict:
        for key in ("sources", "destinations", "services", "applied_tos", "context_profiles", "extended_sources"):
            if fields.get(key):
                raise NsxError(400, DEFAULT_PROTECTED, "The default rule %s matches any traffic: only its action, logging, name, notes and tag can change"
                               % old["id"], FIREWALL)
        if fields.get("action") is not None and fields["action"] not in DEFAULT_RULE_ACTIONS:
            raise NsxError(400, DEFAULT_PROTECTED, "The action of the default rule must be one of %s" % ", ".join(DEFAULT_RULE_ACTIONS), FIREWALL)
        return {k: fields[k] for k in DEFAULT_RULE_MUTABLE if fields.get(k) is not None}

    def _delete_section(self, ctx: Ctx, section: dict) -> Response:
        sid = section["id"]
        cascade = ctx.bool_param("cascade")
        if section.get("is_default"):
            raise NsxError(400, DEFAULT_PROTECTED, "The default section %s (%s) cannot be deleted" % (sid, section.get("display_name")), FIREWALL)
        rule_ids = self.section_rules[sid]
        if rule_ids and not cascade:
            raise NsxError(400, SECTION_NOT_EMPTY, "Firewall section %s has %d rule(s): it can only be deleted with cascade=true"
                           % (sid, len(rule_ids)), FIREWALL)
        for rid in rule_ids:
            self.rules.pop(rid, None)
            self.journal.delete("mp_rule", rid)
        del self.sections[sid]
        del self.section_rules[sid]
        self.order[section["section_type"]].remove(sid)
        self.journal.delete("mp_section", sid)
        self._persist_meta()
        return Response(200)

    def _section_action(self, ctx: Ctx, section: dict) -> Response:
        action = ctx.param("action")
        if action == "update_with_rules":
            return self._update_section(ctx, section, rules_in=self._rules_of_body(ctx))
        if action == "revise":
            return self._update_section(ctx, section, move=True)
        if action == "revise_with_rules":
            return self._update_section(ctx, section, move=True, rules_in=self._rules_of_body(ctx))
        if action == "list_with_rules":
            out = self._render_section(section)
            out["rules"] = [self._render_rule(self.rules[r]) for r in self.section_rules[section["id"]]]
            return Response.json(200, out)
        if action in ("lock", "unlock"):
            return self._lock(ctx, section, action == "lock")
        if not action:
            raise _not_allowed(ctx)
        raise bad_request("Invalid value '%s' for the query parameter action" % action, FIREWALL)

    @staticmethod
    def _rules_of_body(ctx: Ctx) -> list:
        body = ctx.body()
        chk = Checker(FIREWALL)
        rules = chk.array(body, "rules", max_items=MAX_RULES, required=True)
        chk.check()
        return rules

    def _lock(self, ctx: Ctx, section: dict, lock: bool) -> Response:
        body = ctx.body()
        chk = Checker(FIREWALL)
        comments = chk.string(body, "comments", max_len=4096, min_len=4, required=True)
        revision = chk.integer(body, "section_revision", required=True)
        chk.check()
        if revision != section["_revision"]:
            raise stale("FirewallSection", section["id"])
        doc = dict(section, locked=lock, comments=comments, lock_modified_by=ctx.user, lock_modified_time=now_ms())
        stamp_update(doc, section, ctx.user)
        self.sections[section["id"]] = doc
        self._persist_section(section["id"])
        return Response.json(200, self._render_section(doc))

    def _render_section(self, section: dict) -> dict:
        out = dict(section)
        out["rule_count"] = len(self.section_rules.get(section["id"], ()))
        if "applied_tos" in section:
            out["applied_tos"] = [self._render_ref(r) for r in section["applied_tos"]]
        return out

    @staticmethod
    def _state(obj: dict, section: dict) -> dict:
        return {"id": obj["id"], "state": "success", "revision_desired": obj.get("_revision", 0), "details": [],
                "section_revision": section.get("_revision", 0)}

    # ---------------------------------------------------------------- rules

    def _rules(self, ctx: Ctx, section: dict, rest: list[str]) -> Response:
        method = ctx.method
        sid = section["id"]
        if not rest:
            if method == "GET":
                items = [self.rules[r] for r in self.section_rules[sid]]
                return Response.json(200, page(ctx, items, self._render_rule))
            if method == "POST":
                action = ctx.param("action")
                if action == "create_multiple":
                    return self._add_rules(ctx, section, multiple=True)
                if action in (None, ""):
                    return self._add_rules(ctx, section, multiple=False)
                raise bad_request("Invalid value '%s' for the query parameter action" % action, FIREWALL)
            raise _not_allowed(ctx)
        rid = rest[0]
        rule = self.rules.get(rid)
        if rule is None or rule["section_id"] != sid:
            raise not_found(rid)
        if len(rest) == 2 and rest[1] == "state" and method == "GET":
            return Response.json(200, self._state(rule, section))
        if len(rest) != 1:
            raise not_found(ctx.request.path)
        if method == "GET":
            return Response.json(200, self._render_rule(rule))
        if method == "PUT":
            return self._update_rule(ctx, section, rule, move=False)
        if method == "POST":
            action = ctx.param("action")
            if action == "revise":
                return self._update_rule(ctx, section, rule, move=True)
            if not action:
                raise _not_allowed(ctx)
            raise bad_request("Invalid value '%s' for the query parameter action" % action, FIREWALL)
        if method == "DELETE":
            if rule.get("is_default"):
                raise NsxError(400, DEFAULT_PROTECTED, "The default rule %s cannot be deleted" % rid, FIREWALL)
            self.section_rules[sid].remove(rid)
            del self.rules[rid]
            self.journal.delete("mp_rule", rid)
            self._touch_section(ctx, section)
            return Response(200)
        raise _not_allowed(ctx)

    def _touch_section(self, ctx: Ctx, section: dict) -> None:
        doc = dict(section)
        stamp_update(doc, section, ctx.user)
        self.sections[section["id"]] = doc
        self._persist_section(section["id"])
        self._persist_meta()

    def _add_rules(self, ctx: Ctx, section: dict, multiple: bool) -> Response:
        body = ctx.body()
        sid = section["id"]
        chk = Checker(FIREWALL)
        if multiple:
            raws = chk.array(body, "rules", max_items=MAX_RULES, required=True) or []
            rules = [self._rule_fields(chk, r, "rules[%d]." % i) for i, r in enumerate(raws)]
        else:
            raws = [body]
            rules = [self._rule_fields(chk, body, "")]
        chk.check()
        for index, (raw, rule) in enumerate(zip(raws, rules, strict=True)):
            revision = revision_of(raw)
            if revision == "bad":
                raise bad_request("_revision must be an integer")
            if revision is not None and revision != section["_revision"]:
                raise stale("FirewallSection", sid)
            self._check_rule_refs(rule, "rules[%d]." % index if multiple else "")
        current = self.section_rules[sid]
        if len(current) + len(rules) > MAX_RULES:
            raise bad_request("A section can hold at most %d rules: it has %d, %d more were given" % (MAX_RULES, len(current), len(rules)), FIREWALL)
        _default_section, default_rule = self._default_of(section["section_type"])
        position = self._position(ctx, current, default_rule if section.get("is_default") else None, None, "rule")
        created = []
        for fields in rules:
            rule = self._new_rule(fields, sid)
            self.rules[rule["id"]] = rule
            created.append(rule["id"])
            self.journal.put("mp_rule", rule["id"], sid, rule)
        self.section_rules[sid] = current[:position] + created + current[position:]
        self._touch_section(ctx, section)
        if multiple:
            return Response.json(200, {"rules": [self._render_rule(self.rules[r]) for r in created]})
        return Response.json(200, self._render_rule(self.rules[created[0]]))

    def _update_rule(self, ctx: Ctx, section: dict, rule: dict, move: bool) -> Response:
        body = ctx.body()
        sid, rid = section["id"], rule["id"]
        self._require_revision(body, rule, "FirewallRule", rid)
        chk = Checker(FIREWALL)
        fields = self._rule_fields(chk, body, "")
        chk.check()
        self._check_rule_refs(fields, "")
        current = self.section_rules[sid]
        position = None
        if move:
            if rule.get("is_default"):
                raise NsxError(400, DEFAULT_PROTECTED, "The default rule %s cannot be moved: it is always last" % rid, FIREWALL)
            _default_section, default_rule = self._default_of(section["section_type"])
            others = [r for r in current if r != rid]
            position = self._position(ctx, others, default_rule if section.get("is_default") else None, rid, "rule")
        if rule.get("is_default"):
            doc = dict(rule)
            doc.update(self._default_rule_fields(rule, fields))
        else:
            doc = {"id": rid}
            doc.update(fields)
            doc["is_default"] = False
        doc = self._with_section(doc, sid)
        doc["_revision"] = rule["_revision"] + 1
        self.rules[rid] = doc
        self.journal.put("mp_rule", rid, sid, doc)
        if position is not None:
            others = [r for r in current if r != rid]
            self.section_rules[sid] = others[:position] + [rid] + others[position:]
        self._touch_section(ctx, section)
        return Response.json(200, self._render_rule(doc))

    def _render_rule(self, rule: dict) -> dict:
        out = dict(rule)
        out.setdefault("display_name", rule["id"])
        for key in RULE_REF_FIELDS:
            if key in rule:
                out[key] = [self._render_ref(r) for r in rule[key]]
        if "services" in rule:
            out["services"] = [s if "service" in s else self._render_ref(s) for s in rule["services"]]
        return out
