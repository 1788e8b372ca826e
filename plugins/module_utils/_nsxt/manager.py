# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NSX-T Manager API: NSGroups, IPSets and distributed firewall sections with their rules.

Manager objects get server-chosen ids, so they are found by display name in their list.
A section and its rules are written together (``create_with_rules`` / ``update_with_rules``
/ ``revise_with_rules``), so a partly applied section never exists. Rules name NSGroups, IPSets
(``ipset:<name>``) and NSServices or NSServiceGroups (``service:<name>``) by display name, and
NSGroup static members may name NSGroups, IPSets, logical switches and logical ports; the names are
resolved to ids with one list read per kind named (``ManagerAdapter.named``), before the first write.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json

from ansible_collections.microseg.segmentation.plugins.module_utils._core.adapter import Adapter
from ansible_collections.microseg.segmentation.plugins.module_utils._core.checkmode import missing_reference, warn
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import (
    ValidationError,
    validate_cidr,
    validate_ip_address,
)
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.common import (
    format_service,
    parse_service,
    with_revision_retry,
)

API = "/api/v1"
NS_GROUPS = API + "/ns-groups"
SECTIONS = API + "/firewall/sections"
IP_SETS = API + "/ip-sets"
NS_SERVICES = API + "/ns-services"
NS_SERVICE_GROUPS = API + "/ns-service-groups"
LOGICAL_SWITCHES = API + "/logical-switches"
LOGICAL_PORTS = API + "/logical-ports"
DEFAULT_SECTION = "Default Layer3 Section"
# the prefixes that name an IPSet (rule sources and destinations) and a service object (rule services)
IPSET_PREFIX = "ipset:"
SERVICE_PREFIX = "service:"
# the collections whose objects a task may name by display name, by the type a reference gives them
NAMED_COLLECTIONS = {
    "NSGroup": NS_GROUPS,
    "IPSet": IP_SETS,
    "LogicalSwitch": LOGICAL_SWITCHES,
    "LogicalPort": LOGICAL_PORTS,
    "NSService": NS_SERVICES,
    "NSServiceGroup": NS_SERVICE_GROUPS,
}
# the static member types an NSGroup may name by display name (a MACSet, a VNI, a directory group
# or a transport node is named by id: the collection does not read their lists)
NAMED_MEMBER_TYPES = ("NSGroup", "IPSet", "LogicalSwitch", "LogicalPort")


# ---------------------------------------------------------------- NSGroups

def _tag_expression(raw, option):
    if raw["target_type"] in ("LogicalPort", "LogicalSwitch") and raw["tag_op"] != "equals":
        raise ValidationError(option + ".tag_op", "%s criteria only support the equals operator" % raw["target_type"])
    if len(raw.get("scope") or "") > 128 or len(raw.get("tag") or "") > 256:
        raise ValidationError(option, "scope is at most 128 and tag at most 256 characters")
    if not raw.get("scope") and not raw.get("tag"):
        raise ValidationError(option, "give a scope, a tag or both")
    return {"resource_type": "NSGroupTagExpression", "target_type": raw["target_type"], "scope": raw.get("scope") or "",
            "scope_op": "EQUALS", "tag": raw.get("tag") or "", "tag_op": raw["tag_op"].upper()}


def build_criteria(criteria, prefix):
    """``membership_criteria``: each entry a tag expression, or an AND of 2 to 5 of them."""
    built = []
    for index, criterion in enumerate(criteria):
        option = "%scriteria[%d]" % (prefix, index)
        inner = criterion.get("all")
        if inner:
            if criterion.get("target_type") or criterion.get("scope") or criterion.get("tag"):
                raise ValidationError(option, "give either 'all' or a single tag expression, not both")
            if not 2 <= len(inner) <= 5:
                raise ValidationError(option + ".all", "an AND of tag expressions takes 2 to 5 of them, got %d" % len(inner))
            built.append({"resource_type": "NSGroupComplexExpression",
                          "expressions": [_tag_expression(e, "%s.all[%d]" % (option, i)) for i, e in enumerate(inner)]})
        else:
            if not criterion.get("target_type"):
                raise ValidationError(option + ".target_type", "is required (or use 'all')")
            built.append(_tag_expression(criterion, option))
    if len(built) > 5:
        raise ValidationError(prefix + "criteria", "an NSGroup takes at most 5 membership criteria, got %d" % len(built))
    return built


def build_members(members, prefix):
    """Static ``members``: each by id (``value``) or by display name (``name``: the member carries
    ``target_display_name`` and no ``value`` until the adapter resolves it, ``NsGroupAdapter.complete``)."""
    built = []
    for index, member in enumerate(members):
        option = "%smembers[%d]" % (prefix, index)
        expression = {"resource_type": "NSGroupSimpleExpression", "target_type": member["target_type"], "target_property": "id", "op": "EQUALS"}
        if member.get("name") is not None:
            if member["target_type"] not in NAMED_MEMBER_TYPES:
                raise ValidationError(option + ".name", "a %s member is given by id (value); names are for %s members"
                                      % (member["target_type"], ", ".join(NAMED_MEMBER_TYPES)))
            if not member["name"].strip() or len(member["name"]) > 255:
                raise ValidationError(option + ".name", "a display name is 1 to 255 characters long")
            expression["target_display_name"] = member["name"]
        else:
            if not (member.get("value") or "").strip():
                raise ValidationError(option + ".value", "must not be empty")
            expression["value"] = member["value"]
        built.append(expression)
    if len(built) > 500:
        raise ValidationError(prefix + "members", "at most 500 static members")
    return built


def member_by_name(member):
    """Is this static member given by display name and not resolved to an id yet?"""
    return member.get("value") is None and bool(member.get("target_display_name"))


def _canon_tag_expression(expr):
    return json.dumps({"target_type": expr.get("target_type"), "scope": expr.get("scope") or "", "tag": expr.get("tag") or "",
                       "scope_op": expr.get("scope_op") or "EQUALS", "tag_op": expr.get("tag_op") or "EQUALS"}, sort_keys=True)


def canon_criteria(value):
    canon = []
    for expr in value or []:
        if expr.get("resource_type") == "NSGroupComplexExpression":
            canon.append("AND" + json.dumps(sorted(_canon_tag_expression(e) for e in expr.get("expressions") or [])))
        else:
            canon.append(_canon_tag_expression(expr))
    return tuple(sorted(canon))


def canon_members(value):
    """Static members by id; one still named (a name the adapter could not resolve) compares by its
    name, so it is never equal to a member by id."""
    return tuple(sorted(json.dumps([m.get("target_type"), m.get("target_property") or "id", m.get("op") or "EQUALS",
                                    {"name": m.get("target_display_name")} if member_by_name(m) else m.get("value")])
                        for m in value or []))


class ManagerAdapter(Adapter):
    """Objects of one Manager API collection, found by display name."""

    base = None
    list_params = None

    def __init__(self, connection, kind, task, resource=None):
        super(ManagerAdapter, self).__init__(connection, kind, task, resource)
        self._listed = None
        self._named = {}

    def list(self):
        if self._listed is None:
            self._listed = self.connection.list_all(self.base, params=self.list_params)
        return self._listed

    def known(self, listed):
        """Take ``listed`` as the collection's list (already read elsewhere, as an export has it); returns the adapter."""
        self._listed = list(listed)
        return self

    def named(self, target_type):
        """Display name -> ids (in list order) of the objects of ``target_type`` (a key of
        ``NAMED_COLLECTIONS``) that other objects name: one list read per type and task, on the first
        name of that type; the adapter's own collection is the list it already read."""
        if target_type not in self._named:
            path = NAMED_COLLECTIONS[target_type]
            listed = self.list() if path == self.base and not self.list_params else self.connection.list_all(path)
            found = {}
            for obj in listed:
                found.setdefault(obj.get("display_name"), []).append(obj["id"])
            self._named[target_type] = found
        return self._named[target_type]

    created_attribute = "_create_time"

    def find_all(self, name):
        return [o for o in self.list() if o.get("display_name") == name]

    def forget(self):
        self._listed = None

    def name_of(self, obj):
        return obj.get("display_name")

    def predict_create(self, change):
        return dict(copy.deepcopy(change.body), display_name=change.name)

    def lookup(self, name):
        """The object named ``name`` as the API holds it now (a fresh list read), or None."""
        found = [o for o in self.connection.list_all(self.base, params=self.list_params) if o.get("display_name") == name]
        return found[0] if found else None

    def settled(self, change, current):
        """Does ``current`` (re-read after a revision conflict) already hold every field the change writes?"""
        return all(not self.kind.by_api[api].differs(change.body.get(api), current.get(api)) if api in self.kind.by_api
                   else change.body.get(api) == current.get(api) for api in change.fields)


class NsGroupAdapter(ManagerAdapter):
    """NSGroups. Static members given by name are resolved to ids while the task plans (``complete``:
    one list read per type named), so that they compare by id with what the group holds; ``prepare``
    fails the task before the first write when a name matches nothing (check mode warns) or more than
    one object (check mode too)."""

    base = NS_GROUPS

    def complete(self, name, desired, existing):
        if any(member_by_name(m) for m in desired.get("members") or []):
            desired = dict(desired, members=[self._resolved(m) for m in desired["members"]])
        return super(NsGroupAdapter, self).complete(name, desired, existing)

    def _resolved(self, member):
        """A member by name as an id-based one when exactly one object has the name (else as it is)."""
        if not member_by_name(member):
            return member
        ids = self.named(member["target_type"]).get(member["target_display_name"]) or []
        if len(ids) != 1:
            return member
        resolved = dict((k, v) for k, v in member.items() if k != "target_display_name")
        resolved["value"] = ids[0]
        return resolved

    def prepare(self, changes):
        missing, names, ambiguous = [], {}, []
        for change in changes:
            if change.action not in ("create", "update"):
                continue
            prefix = change.declared.prefix if change.declared is not None else ""
            for index, member in enumerate(change.body.get("members") or []):
                if not member_by_name(member):
                    continue
                kind, name = member["target_type"], member["target_display_name"]
                ids = self.named(kind).get(name) or []
                what = "%s '%s': %smembers[%d]" % (self.kind.title, change.name, prefix, index)
                if not ids:
                    missing.append("%s names %s '%s'" % (what, kind, name))
                    names.setdefault(kind, []).append(name)
                else:
                    ambiguous.append("%s: '%s' names %d objects (%s): rename all but one, or give the member's id (value)" % (
                        what, name, len(ids), ", ".join("%s %s" % (kind, ident) for ident in ids)))
        if ambiguous:
            raise ValidationError("members", "a name is ambiguous; nothing was written: " + "; ".join(ambiguous))
        if missing:
            if not self.task.check_mode:
                raise ValidationError("members", "no such %s; nothing was written: %s" % (" or ".join(sorted(names)), "; ".join(missing)))
            for kind in sorted(names):
                warn(self, missing_reference(kind, names[kind]))

    def create(self, change):
        body = dict(copy.deepcopy(change.body), display_name=change.name, resource_type=self.kind.name)
        # NSX Manager has no idempotency key: re-read by name before a retry (Connection.create_once)
        return self.connection.create_once("POST", self.base, lambda: self.lookup(change.name), body=body)

    def update(self, change):
        existing = change.existing
        changed = dict((api, change.body[api]) for api in change.fields)
        path = "%s/%s" % (self.base, existing["id"])

        def write(current):
            sent = copy.deepcopy(current if current is not None else existing)
            sent.update(copy.deepcopy(changed))
            data = self.connection.request("PUT", path, body=sent)
            return data

        return with_revision_retry(self.connection, lambda: self.connection.get(path), write,
                                   applied=lambda current: self.settled(change, current), change=change)

    def delete(self, change):
        self.connection.request("DELETE", "%s/%s" % (self.base, change.existing["id"]))


class IpSetAdapter(NsGroupAdapter):
    """IPSets: written like NSGroups (a POST, a PUT with the ``_revision``, a DELETE), found by display name."""

    base = IP_SETS


# ---------------------------------------------------------------- firewall sections

def _named(text, prefix, option, what):
    """The display name after ``prefix`` in ``text`` (``ipset:office`` gives ``office``)."""
    name = text[len(prefix):].strip()
    if not name:
        raise ValidationError(option, "'%s' names no %s: write %s<display name>" % (text, what, prefix))
    if len(name) > 255:
        raise ValidationError(option, "a display name is at most 255 characters long")
    return name


def reference(value, option, ipsets=True):
    """A rule endpoint: ``ipset:<name>`` (an IPSet by display name, unless ``ipsets`` is false), an
    NSGroup by display name, or an IPv4/IPv6 address or CIDR."""
    text = value.strip()
    if text.lower().startswith(IPSET_PREFIX):
        if not ipsets:
            raise ValidationError(option, "'%s': applied-to takes NSGroup names only, not IPSets" % text)
        return {"target_type": "IPSet", "target_display_name": _named(text, IPSET_PREFIX, option, "IPSet")}
    if any(c.isdigit() for c in text[:1]) or ":" in text:
        if not ipsets:
            raise ValidationError(option, "'%s': applied-to takes NSGroup names only, not addresses" % text)
        address = validate_cidr(text, option) if "/" in text else validate_ip_address(text, option)
        return {"target_type": "IPv6Address" if ":" in address else "IPv4Address", "target_id": address}
    return {"target_type": "NSGroup", "target_display_name": text}


def references(values, option, allow_empty=True, ipsets=None):
    """Rule endpoints (:func:`reference`). An applied-to (an ``option`` ending in ``applied_to``, or
    ``ipsets=False``) takes NSGroup names only."""
    if values is None:
        return None
    if not values and not allow_empty:
        raise ValidationError(option, "is empty: list at least one group, or leave the option out")
    if len(values) > 128:
        raise ValidationError(option, "at most 128 entries")
    if ipsets is None:
        ipsets = not option.rsplit(".", 1)[-1].startswith("applied_to")
    return [reference(v, "%s[%d]" % (option, i), ipsets) for i, v in enumerate(values)]


def firewall_service(service):
    """A rule service: a service object by name (``{"ref": name}``: its kind and id are resolved by
    the adapter), or a neutral protocol-port dict (``parse_service``) as an NSServiceElement."""
    if "ref" in service:
        return {"target_display_name": service["ref"]}
    if "l4_protocol" in service:
        element = {"resource_type": "L4PortSetNSService", "l4_protocol": service["l4_protocol"],
                   "destination_ports": service["ports"], "source_ports": []}
    else:
        element = {"resource_type": "ICMPTypeNSService", "protocol": service["icmp"]}
        if service.get("type") is not None:
            element["icmp_type"] = service["type"]
        if service.get("code") is not None:
            element["icmp_code"] = service["code"]
    return {"service": element}


def rule_services(values, option):
    """A rule's ``services``: protocol-port strings (``tcp/443``, ``any`` alone for every service) and
    ``service:<name>`` (an NSService or NSServiceGroup by display name), as the API's FirewallServices."""
    built = []
    for index, value in enumerate(values or []):
        here = "%s[%d]" % (option, index)
        text = value.strip()
        if text.lower().startswith(SERVICE_PREFIX):
            built.append(firewall_service({"ref": _named(text, SERVICE_PREFIX, here, "NSService or NSServiceGroup")}))
            continue
        service = parse_service(value, here)
        if service is None:
            if len(values) > 1:
                raise ValidationError(option, "'any' must be the only service")
            return []
        built.append(firewall_service(service))
    if len(built) > 128:
        raise ValidationError(option, "at most 128 services per rule")
    return built


def _service_text(service):
    """A rule service as a comparable string: ``service:<name>`` for a service object (whichever of
    NSService or NSServiceGroup it is), the protocol-port string for an element."""
    element = service.get("service")
    if not element:
        return "service:%s" % (service.get("target_display_name") or service.get("target_id"))
    kind = element.get("resource_type")
    if kind == "L4PortSetNSService" and not element.get("source_ports"):
        return format_service({"l4_protocol": element.get("l4_protocol"), "ports": element.get("destination_ports")})
    if kind == "ICMPTypeNSService":
        return format_service({"icmp": element.get("protocol"), "type": element.get("icmp_type"), "code": element.get("icmp_code")})
    # an element the module never writes (ALG, IP protocol, source ports): compared as it is
    return json.dumps(dict((k, v) for k, v in element.items() if v not in (None, [])), sort_keys=True)


def _ref_text(ref):
    """A rule endpoint as a comparable string: the type and display name (NSGroup, IPSet) or address."""
    if ref.get("target_type") in ("IPv4Address", "IPv6Address"):
        return "%s:%s" % (ref["target_type"], ref.get("target_id"))
    return "%s:%s" % (ref.get("target_type"), ref.get("target_display_name") or ref.get("target_id"))


def canon_refs(value):
    return tuple(sorted(_ref_text(r) for r in value or []))


def canon_section_rules(rules):
    canon = []
    for rule in rules or []:
        canon.append((
            rule.get("display_name") or "", rule.get("action"), canon_refs(rule.get("sources")), canon_refs(rule.get("destinations")),
            tuple(sorted(_service_text(s) for s in rule.get("services") or [])), rule.get("direction") or "IN_OUT",
            rule.get("ip_protocol") or "IPV4_IPV6", bool(rule.get("logged")), bool(rule.get("disabled")), rule.get("notes") or "",
            canon_refs(rule.get("applied_tos")), bool(rule.get("sources_excluded")), bool(rule.get("destinations_excluded")),
        ))
    return json.dumps(canon)


def build_section_rules(rules, prefix):
    built = []
    for index, rule in enumerate(rules):
        option = "%srules[%d]" % (prefix, index)
        if rule.get("notes") and len(rule["notes"]) > 2048:
            raise ValidationError(option + ".notes", "must be at most 2048 characters long")
        built.append({
            "resource_type": "FirewallRule",
            "display_name": rule["name"],
            "action": rule["action"].upper(),
            "sources": references(rule.get("sources"), option + ".sources") or [],
            "destinations": references(rule.get("destinations"), option + ".destinations") or [],
            "services": rule_services(rule.get("services"), option + ".services"),
            "applied_tos": references(rule.get("applied_to"), option + ".applied_to", allow_empty=False, ipsets=False) or [],
            "direction": rule["direction"].upper(),
            "ip_protocol": rule["ip_protocol"].upper(),
            "logged": rule["logged"],
            "disabled": rule["disabled"],
            "notes": rule.get("notes") or "",
            "sources_excluded": rule["sources_excluded"],
            "destinations_excluded": rule["destinations_excluded"],
        })
    if len(built) > 1000:
        raise ValidationError(prefix + "rules", "a section holds at most 1000 rules")
    return built


class SectionAdapter(ManagerAdapter):
    """Firewall sections, read with their rules and written with them in one call.

    Those calls are heavy: the API asks for ``create_with_rules`` at most 4-5 times a minute and
    ``update_with_rules`` at most twice (seconds of work for a thousand rules), so a list form
    writes its sections one at a time, whatever ``parallel`` says; an unchanged section is not written.
    """

    base = SECTIONS
    max_parallel = 1

    def __init__(self, connection, kind, task, resource=None):
        super(SectionAdapter, self).__init__(connection, kind, task, resource)
        self.list_params = {"type": task.get("section_type", "LAYER3")}

    def expand(self, obj):
        """A section with its rules (one read, for the section the task works on)."""
        if obj is not None and "rules" not in obj:
            obj = dict(obj, rules=self.connection.list_all("%s/%s/rules" % (self.base, obj["id"])))
        return obj

    @staticmethod
    def position(values):
        """The placement a task asks for, ``(operation, anchor name)``, or None."""
        if not values.get("position"):
            return None
        return (values["position"], values.get("position_anchor"))

    def refine(self, change):
        """A section that is not where the task places it needs a move (an update, even when no
        field differs); the move is the change's ``placement``, never part of the body."""
        position = self.position(change.values)
        if position is None or change.existing is None or change.action == "delete":
            return
        if not self._placed(change.existing, position):
            if change.action == "none":
                change.action = "update"
                change.body = copy.deepcopy(change.existing)
            change.placement = position

    def _order(self):
        return [s for s in self.list() if not s.get("is_default")]

    def _anchor(self, position):
        operation, anchor = position
        if anchor is None:
            return None
        for section in self.list():
            if section.get("display_name") == anchor:
                return section
        raise ValidationError("position_anchor", "there is no section named '%s' to place the section %s it" % (anchor, operation))

    def _placed(self, existing, position):
        operation = position[0]
        order = [s.get("id") for s in self._order()]
        index = order.index(existing["id"]) if existing["id"] in order else -1
        if operation == "top":
            return index == 0
        if operation == "bottom":
            return index == len(order) - 1
        anchor = self._anchor(position)["id"]
        neighbour = index + 1 if operation == "before" else index - 1
        return 0 <= neighbour < len(order) and order[neighbour] == anchor

    def _services_by_name(self, name):
        """``(kind, id)`` of the NSServices and NSServiceGroups named ``name`` (one list read of each per
        task, on the first ``service:`` name)."""
        return [(kind, ident) for kind in ("NSService", "NSServiceGroup") for ident in self.named(kind).get(name) or []]

    @staticmethod
    def _by_name(ref):
        """Is ``ref`` a reference by display name (a group, an IPSet, a service object) still to resolve?"""
        return not ref.get("target_id") and "service" not in ref and bool(ref.get("target_display_name"))

    def _find(self, ref):
        """``(kind, problem, resolved)`` for a reference by name: the kind named, a problem (``None``,
        ``"missing"`` or the text of an ambiguity) and the id-based reference (None unless found).
        An NSGroup name two groups share resolves to the first listed, as it always did."""
        name, kind = ref.get("target_display_name"), ref.get("target_type")
        if kind == "NSGroup":
            found = [("NSGroup", ident) for ident in (self.named("NSGroup").get(name) or [])[:1]]
        elif kind == "IPSet":
            found = [("IPSet", ident) for ident in self.named("IPSet").get(name) or []]
        else:
            kind = "NSService or NSServiceGroup"
            found = self._services_by_name(name)
        if not found:
            return kind, "missing", None
        if len(found) > 1:
            return kind, "'%s' names %d objects (%s): rename all but one" % (
                name, len(found), ", ".join("%s %s" % pair for pair in found)), None
        return kind, None, {"target_type": found[0][0], "target_id": found[0][1]}

    def _resolve(self, refs, option):
        """References as NSX takes them: by-name ones resolved to ids, decorations left out; a
        service element (``{"service": ...}``) stays as it is."""
        resolved = []
        for index, ref in enumerate(refs or []):
            if "service" in ref:
                ref = {"service": copy.deepcopy(ref["service"])}
            elif self._by_name(ref):
                kind, problem, ref = self._find(ref)
                if problem is not None:
                    name = refs[index].get("target_display_name")
                    raise ValidationError(option, "there is no %s named '%s'" % (kind, name) if problem == "missing" else problem)
            else:
                ref = dict((k, v) for k, v in ref.items() if k in ("target_type", "target_id"))
            resolved.append(ref)
        return resolved

    def prepare(self, changes):
        """Resolve every group, IPSet and service every pending write names, before the first write
        (one list read per kind named): an unknown name fails the task with nothing written, and so
        does a name two objects share. Check mode warns about an unknown name instead (an earlier task
        of the play may create it: ``_core/checkmode.py``)."""
        missing, names, ambiguous = [], {}, []
        for change in changes:
            if change.action not in ("create", "update"):
                continue
            body = change.body
            named = [("applied_to", r) for r in body.get("applied_tos") or []]
            for index, rule in enumerate(body.get("rules") or []):
                for key in ("sources", "destinations", "applied_tos", "services"):
                    named.extend(("rules[%d].%s" % (index, key), r) for r in rule.get(key) or [])
            for option, ref in named:
                if not self._by_name(ref):
                    continue
                kind, problem, dummy = self._find(ref)
                what = "%s '%s': %s" % (self.kind.title, change.name, option)
                if problem == "missing":
                    missing.append("%s names %s '%s'" % (what, kind, ref.get("target_display_name")))
                    names.setdefault(kind, []).append(ref.get("target_display_name"))
                elif problem is not None:
                    ambiguous.append("%s: %s" % (what, problem))
        if ambiguous:
            raise ValidationError("rules", "a name is ambiguous; nothing was written: " + "; ".join(ambiguous))
        if missing:
            if not self.task.check_mode:
                raise ValidationError("rules", "no such %s; nothing was written: %s" % (" or ".join(sorted(names)), "; ".join(missing)))
            for kind in sorted(names):
                warn(self, missing_reference(kind, names[kind]))

    def _wire_rules(self, rules, existing_rules):
        ids = dict((r.get("display_name"), r.get("id")) for r in existing_rules or [])
        wired = []
        for index, rule in enumerate(rules):
            option = "rules[%d]" % index
            rule = copy.deepcopy(rule)
            for key in ("sources", "destinations", "applied_tos", "services"):
                rule[key] = self._resolve(rule.get(key), "%s.%s" % (option, key))
            if ids.get(rule["display_name"]):
                rule["id"] = ids[rule["display_name"]]
            wired.append(rule)
        return wired

    def _section_body(self, body, existing=None):
        sent = dict((k, copy.deepcopy(v)) for k, v in body.items() if k != "rules")
        if "applied_tos" in sent:
            sent["applied_tos"] = self._resolve(sent["applied_tos"], "applied_to")
        sent["resource_type"] = "FirewallSectionRuleList"
        sent["rules"] = self._wire_rules(body.get("rules") or [], (existing or {}).get("rules"))
        return sent

    def _operation(self, position):
        position = position or ("top", None)
        params = {"operation": "insert_%s" % position[0]}
        anchor = self._anchor(position)
        if anchor is not None:
            params["id"] = anchor["id"]
        return params

    def create(self, change):
        sent = self._section_body(dict(change.body, display_name=change.name))
        params = dict(self._operation(self.position(change.values)), action="create_with_rules")
        # NSX Manager has no idempotency key: re-read by name before a retry (Connection.create_once)
        return self.connection.create_once("POST", self.base, lambda: self.expand(self.lookup(change.name)), params=params, body=sent)

    def settled(self, change, current):
        if change.placement is not None:
            self._listed = None  # the order is read again: a move may be what the lost answer applied
            if not self._placed(current, change.placement):
                return False
        return super(SectionAdapter, self).settled(change, current)

    def update(self, change):
        """``update_with_rules`` (``revise_with_rules`` with a move) carries the section's ``_revision``:
        a replay of a write that was applied is refused (412), never applied twice, so it is retried
        like a read. On a revision conflict the section is re-read: when it already holds the change,
        that was our own lost answer; otherwise another writer changed it, the declared state is
        re-applied over it and the change is marked ``conflict``."""
        existing = change.existing
        path = "%s/%s" % (self.base, existing["id"])
        move = change.placement

        def write(current):
            base = current if current is not None else existing
            sent = self._section_body(dict(change.body, _revision=base.get("_revision")), base)
            params = dict(self._operation(move), action="revise_with_rules") if move else {"action": "update_with_rules"}
            return self.connection.request("POST", path, params=params, body=sent, retry_write=True)

        return with_revision_retry(self.connection, lambda: self.expand(self.connection.get(path)), write,
                                   applied=lambda current: self.settled(change, current), change=change)

    def delete(self, change):
        existing = change.existing
        if existing.get("is_default"):
            raise ValidationError("name", "the default section cannot be deleted")
        self.connection.request("DELETE", "%s/%s" % (self.base, existing["id"]), params={"cascade": "true"})
