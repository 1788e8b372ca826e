# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NSX-T objects as list-form declarations (``nsxt_info`` with ``export: true``; ``_core/export.py``).

The inverses of the modules' conversions (API value -> option value) are here; ``kinds.py`` hangs
them on its Fields. An object whose API form no option can declare (a rule with a context profile,
an NSGroup criterion on a VM name, a Policy rule naming a service path...) is never exported half:
it is reported in ``skipped`` with the reason (:class:`Unexportable`).

Entries, in the order they must be applied:

- NSGroups (Manager API): one entry per nesting level, a group after the groups it contains (the
  list form writes its items at once); static members by display name where their type has one
  (:func:`member_names`), by id otherwise;
- firewall sections (Manager API): one entry per section, in evaluation order, the first at the
  top and each next one after the previous, so that applying them in order to an empty console
  recreates the order and applying them to the console they came from moves nothing;
- Policy groups: one entry per nesting level of the domain, like NSGroups; security policies and IP sets:
  one entry (a Policy list form is one hierarchical PATCH).

Each of these is split by owner (``_core/export.py``): the objects no owner manages first.

Across kinds: :data:`APPLY_ORDER`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.microseg.segmentation.plugins.module_utils._core.adapter import Task
from ansible_collections.microseg.segmentation.plugins.module_utils._core.errors import MicrosegError
from ansible_collections.microseg.segmentation.plugins.module_utils._core.export import entries_by_owner, export_item, skipped
from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import plan
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.common import NsxtTags, format_service
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.manager import (
    IPSET_PREFIX,
    NAMED_MEMBER_TYPES,
    SERVICE_PREFIX,
    NsGroupAdapter,
)
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.policy import GROUP_PATH, group_ref

# the order in which a whole console is applied: what a later kind names exists by then
APPLY_ORDER = ("ip_set", "ns_group", "firewall_section", "policy_group", "security_policy")
MODULES = {
    "ip_set": "microseg.segmentation.nsxt_ip_set",
    "ns_group": "microseg.segmentation.nsxt_ns_group",
    "firewall_section": "microseg.segmentation.nsxt_firewall_section",
    "policy_group": "microseg.segmentation.nsxt_policy_group",
    "security_policy": "microseg.segmentation.nsxt_security_policy",
}
RULE_DEFAULTS = {"direction": "IN_OUT", "ip_protocol": "IPV4_IPV6"}
RULE_FLAGS = ("logged", "disabled", "sources_excluded", "destinations_excluded")
FOREIGN_PROTECTION = ("PROTECTED", "REQUIRE_OVERRIDE")


class Unexportable(MicrosegError):
    """An object no option of its module can declare as it is (the reason is the message)."""


# ---------------------------------------------------------------- Manager API: NSGroups

def _tag_criterion(expr):
    if expr.get("resource_type") != "NSGroupTagExpression":
        raise Unexportable("a membership criterion of type %s (nsxt_ns_group declares tag criteria only)" % expr.get("resource_type"))
    if (expr.get("scope_op") or "EQUALS") != "EQUALS":
        raise Unexportable("a tag criterion whose scope is compared with %s (nsxt_ns_group compares scopes with EQUALS)" % expr.get("scope_op"))
    if not expr.get("scope") and not expr.get("tag"):
        raise Unexportable("a tag criterion with neither scope nor tag")
    out = {"target_type": expr.get("target_type")}
    for key in ("scope", "tag"):
        if expr.get(key):
            out[key] = expr[key]
    operator = (expr.get("tag_op") or "EQUALS").lower()
    if operator != "equals":
        out["tag_op"] = operator
    return out


def export_criteria(value, obj):
    """``membership_criteria`` back as ``criteria``: a tag expression, or ``all`` for an AND of 2 to 5."""
    criteria = []
    for expr in value or []:
        if expr.get("resource_type") == "NSGroupComplexExpression":
            inner = expr.get("expressions") or []
            if not 2 <= len(inner) <= 5:
                raise Unexportable("an AND of %d tag expressions (nsxt_ns_group takes 2 to 5)" % len(inner))
            criteria.append({"all": [_tag_criterion(e) for e in inner]})
        else:
            criteria.append(_tag_criterion(expr))
    return criteria


def _static(member):
    return (member.get("target_property") or "id") == "id" and (member.get("op") or "EQUALS") == "EQUALS"


def export_members(value, obj):
    """Static ``members`` back as the option's: ``{target_type, name}`` for a member whose display name
    the export found (:func:`member_names` puts it in ``target_display_name``), else ``{target_type,
    value}`` (the member's id)."""
    members = []
    for member in value or []:
        if not _static(member):
            raise Unexportable("a member matched on %s %s (nsxt_ns_group gives members by id or name)" % (
                member.get("target_property"), member.get("op")))
        if member.get("target_display_name") and member.get("target_type") in NAMED_MEMBER_TYPES:
            members.append({"target_type": member["target_type"], "name": member["target_display_name"]})
        else:
            members.append({"target_type": member.get("target_type"), "value": member.get("value")})
    return members


def member_names(connection, kind, groups, chosen):
    """``(resolver, named)``: an ``NsGroupAdapter`` that resolves member names as the module does
    (``groups``, every NSGroup listed, are its list: naming an NSGroup reads nothing more), and
    ``chosen`` with each static member of a type that has a display name (``NAMED_MEMBER_TYPES``)
    given ``target_display_name`` when exactly one object of its type has that name. Each other type
    is read once (one list read), only when a group has members of it."""
    resolver = NsGroupAdapter(connection, kind, Task({})).known(groups)
    unique = {}

    def name_of(target_type, ident):
        if target_type not in unique:
            unique[target_type] = dict((ids[0], name) for name, ids in resolver.named(target_type).items() if name and len(ids) == 1)
        return unique[target_type].get(ident)

    named = []
    for obj in chosen:
        members = obj.get("members") or []
        if any(_static(m) and m.get("target_type") in NAMED_MEMBER_TYPES for m in members):
            obj = dict(obj, members=[dict(m, target_display_name=name_of(m["target_type"], m.get("value")))
                                     if _static(m) and m.get("target_type") in NAMED_MEMBER_TYPES and name_of(m["target_type"], m.get("value"))
                                     else m for m in members])
        named.append(obj)
    return resolver, named


def levels(objects, needs):
    """Objects in the order list forms can create them: a list of levels, each object in a level after
    every object of ``needs(obj)`` (ids of others it names, which NSX refuses before they exist); a
    list form writes its items at once, so each level is an entry of its own."""
    ids = set(o.get("id") for o in objects)
    wanted = dict((o.get("id"), set(i for i in needs(o) if i in ids and i != o.get("id"))) for o in objects)
    out, placed = [], set()
    while len(placed) < len(objects):
        level = [o for o in objects if o.get("id") not in placed and wanted[o.get("id")] <= placed]
        if not level:  # a cycle NSX would not have let exist: the rest in one last level
            level = [o for o in objects if o.get("id") not in placed]
        out.append(level)
        placed.update(o.get("id") for o in level)
    return out


def group_members(group):
    """The NSGroups an NSGroup has as static members (their ids)."""
    return [m.get("value") for m in group.get("members") or [] if m.get("target_type") == "NSGroup"]


# ---------------------------------------------------------------- Manager API: firewall sections

def _reads_as_address(text):
    return any(c.isdigit() for c in text[:1]) or ":" in text


def _display_name(ref, what):
    name = ref.get("target_display_name")
    if not name:
        raise Unexportable("%s %s has no name in the reference" % (what, ref.get("target_id")))
    return name


def ref_option(ref):
    """One rule endpoint or applied-to back as the option's string: an NSGroup's name, ``ipset:<name>``
    or an address."""
    target = ref.get("target_type")
    if target == "NSGroup":
        name = _display_name(ref, "NSGroup")
        if _reads_as_address(name.strip()) or name != name.strip() or name.lower().startswith(IPSET_PREFIX):
            raise Unexportable("NSGroup '%s' cannot be named in a rule (the name reads as an address or an IPSet)" % name)
        return name
    if target == "IPSet":
        return IPSET_PREFIX + _display_name(ref, "IPSet")
    if target in ("IPv4Address", "IPv6Address"):
        return ref.get("target_id")
    raise Unexportable("a %s reference (%s): nsxt_firewall_section names NSGroups, IPSets and addresses"
                       % (target, ref.get("target_display_name") or ref.get("target_id")))


def export_refs(value, obj):
    return [ref_option(ref) for ref in value or []]


def _ports(element):
    if element.get("source_ports"):
        raise Unexportable("a service with source ports (nsxt_firewall_section matches destination ports)")
    ports = element.get("destination_ports") or []
    if not ports:
        raise Unexportable("a %s service on every port" % element.get("l4_protocol"))
    return ports


def service_option(service):
    """One rule service back as the option's strings: ``service:<name>`` for an NSService or NSServiceGroup,
    the protocol/port strings of an element (a port list gives one string each)."""
    element = service.get("service")
    if not element:
        return [SERVICE_PREFIX + _display_name(service, service.get("target_type") or "NSService")]
    kind = element.get("resource_type")
    if kind == "L4PortSetNSService" and element.get("l4_protocol") in ("TCP", "UDP"):
        return [format_service({"l4_protocol": element["l4_protocol"], "ports": [port]}) for port in _ports(element)]
    if kind == "ICMPTypeNSService" and element.get("protocol") in ("ICMPv4", "ICMPv6"):
        return [format_service({"icmp": element["protocol"], "type": element.get("icmp_type"), "code": element.get("icmp_code")})]
    raise Unexportable("a %s service (nsxt_firewall_section writes TCP, UDP and ICMP services)" % kind)


def _rule_common(rule, out):
    """The options both APIs' rules share, defaults left out."""
    for key, default in RULE_DEFAULTS.items():
        value = rule.get(key) or default
        if value != default:
            out[key] = value.lower()
    for flag in RULE_FLAGS:
        if rule.get(flag):
            out[flag] = True
    if rule.get("notes"):
        out["notes"] = rule["notes"]
    return out


def export_section_rule(rule):
    name = rule.get("display_name")
    if not name:
        raise Unexportable("rule %s has no name" % rule.get("id"))
    action = (rule.get("action") or "").lower()
    if action not in ("allow", "drop", "reject"):
        raise Unexportable("rule '%s' acts %s (nsxt_firewall_section writes allow, drop and reject)" % (name, rule.get("action")))
    for key in ("context_profiles", "extended_sources"):
        if rule.get(key):
            raise Unexportable("rule '%s' has %s (nsxt_firewall_section does not write them)" % (name, key))
    out = {"name": name, "action": action}
    for key, option in (("sources", "sources"), ("destinations", "destinations"), ("applied_tos", "applied_to")):
        if rule.get(key):
            out[option] = export_refs(rule[key], None)
    services = []
    for service in rule.get("services") or []:
        services.extend(service_option(service))
    if services:
        out["services"] = services
    return _rule_common(rule, out)


def export_section_rules(value, obj):
    return [export_section_rule(rule) for rule in value or []]


def export_section(obj, item):
    """``stateful`` is written whatever its value: a section cannot be created without it."""
    item["stateful"] = bool(obj.get("stateful"))


def placements(sections):
    """The placement options of each section (``{id: options}``), from every non-default section in
    evaluation order: the first on top, each next one after the section before it (as
    ``SectionAdapter._placed`` checks it). A section right after one the export leaves out (NCP's, say)
    is placed after that one: applying the export never moves a section of the console it came from,
    and on another console the missing anchor fails that section, by name."""
    order = [s for s in sections if not s.get("is_default")]
    placed = {}
    for index, section in enumerate(order):
        if index == 0:
            placed[section.get("id")] = {"position": "top"}
        else:
            placed[section.get("id")] = {"position": "after", "position_anchor": order[index - 1].get("display_name")}
    return placed


# ---------------------------------------------------------------- Policy API

def domain_of(obj):
    """The domain an object lives in (its parent path ``/infra/domains/<domain>``)."""
    parent = obj.get("parent_path") or (obj.get("path") or "").rsplit("/", 2)[0]
    return parent.rstrip("/").rsplit("/", 1)[-1] if parent.startswith("/infra/domains/") else "default"


def group_option(value, domain):
    """A group path back as the id the modules resolve in the task's domain (a path of another
    domain, an address and a range stay as they are); None for ANY."""
    if value.upper() == "ANY":
        return None
    match = GROUP_PATH.match(value)
    if match and match.group(1) == domain:
        try:
            if group_ref(match.group(2), domain, "") == value:
                return match.group(2)
        except ValidationError:
            pass
    return value


def group_options(values, domain):
    return [v for v in (group_option(value, domain) for value in values or []) if v is not None]


def _condition(element):
    if element.get("resource_type") != "Condition":
        raise Unexportable("a %s inside an AND (nsxt_policy_group ANDs conditions only)" % element.get("resource_type"))
    if (element.get("scope_operator") or "EQUALS") != "EQUALS":
        raise Unexportable("a condition whose scope is compared with %s" % element.get("scope_operator"))
    out = {"member_type": element.get("member_type")}
    key = element.get("key") or "Tag"
    if key != "Tag":
        out["key"] = key
    operator = element.get("operator") or "EQUALS"
    if operator != "EQUALS":
        out["operator"] = operator
    value = element.get("value") or ""
    if key == "Tag":
        # the module writes a bare tag as '|tag' (any scope)
        out["tag"] = value[1:] if value.startswith("|") and "|" not in value[1:] else value
    else:
        out["value"] = value
    return out


def _split(elements, where):
    """Elements and the conjunction operators between them."""
    items, operators = [], set()
    for index, element in enumerate(elements or []):
        conjunction = element.get("resource_type") == "ConjunctionOperator"
        if conjunction != (index % 2 == 1):
            raise Unexportable("%s does not alternate expressions and conjunctions" % where)
        if conjunction:
            operators.add(element.get("conjunction_operator"))
        else:
            items.append(element)
    return items, operators


def export_group_expression(obj, item):
    """A group's ``expression`` back as ``criteria``, ``ip_addresses``, ``paths`` and ``external_ids``."""
    parts, operators = _split(obj.get("expression"), "the expression")
    if operators == {"AND"}:
        parts = [{"resource_type": "NestedExpression", "expressions": obj.get("expression")}]
    elif operators - {"OR"}:
        raise Unexportable("the expression mixes AND and OR at its top level")
    criteria, addresses, paths, external, member_type = [], [], [], [], None
    for part in parts:
        kind = part.get("resource_type")
        if kind == "Condition":
            criteria.append({"conditions": [_condition(part)]})
        elif kind == "NestedExpression":
            conditions, inner = _split(part.get("expressions"), "a nested expression")
            if inner - {"AND"}:
                raise Unexportable("a nested expression joined with OR (nsxt_policy_group nests ANDs of conditions)")
            criteria.append({"conditions": [_condition(c) for c in conditions]})
        elif kind == "IPAddressExpression":
            addresses.extend(part.get("ip_addresses") or [])
        elif kind == "PathExpression":
            paths.extend(part.get("paths") or [])
        elif kind == "ExternalIDExpression":
            if member_type not in (None, part.get("member_type")):
                raise Unexportable("external ids of two member types")
            member_type = part.get("member_type")
            external.extend(part.get("external_ids") or [])
        else:
            raise Unexportable("a %s (nsxt_policy_group writes conditions, addresses, paths and external ids)" % kind)
    for option, values in (("criteria", criteria), ("ip_addresses", addresses), ("paths", paths), ("external_ids", external)):
        if values:
            item[option] = values
    if member_type not in (None, "VirtualMachine"):
        item["external_id_member_type"] = member_type


def group_paths(group):
    """The groups of its own domain a Policy group has as path members (their ids)."""
    domain = domain_of(group)
    found = []
    for element in group.get("expression") or []:
        for path in element.get("paths") or [] if element.get("resource_type") == "PathExpression" else []:
            match = GROUP_PATH.match(path)
            if match and match.group(1) == domain:
                found.append(match.group(2))
    return found


def export_policy_scope(value, obj):
    return group_options(value, domain_of(obj))


def _entry_option(entry):
    kind = entry.get("resource_type")
    if kind == "L4PortSetServiceEntry" and entry.get("l4_protocol") in ("TCP", "UDP"):
        return [format_service({"l4_protocol": entry["l4_protocol"], "ports": [port]}) for port in _ports(entry)]
    if kind == "ICMPTypeServiceEntry" and entry.get("protocol") in ("ICMPv4", "ICMPv6"):
        return [format_service({"icmp": entry["protocol"], "type": entry.get("icmp_type"), "code": entry.get("icmp_code")})]
    raise Unexportable("a %s service entry (nsxt_security_policy writes TCP, UDP and ICMP entries)" % kind)


def export_policy_rule(rule, domain):
    name = rule.get("display_name") or rule.get("id")
    action = (rule.get("action") or "").lower()
    if action not in ("allow", "drop", "reject", "jump_to_application"):
        raise Unexportable("rule '%s' acts %s" % (name, rule.get("action")))
    named = [v for v in rule.get("services") or [] if v.upper() != "ANY"]
    if named:
        raise Unexportable("rule '%s' names services %s (nsxt_security_policy writes protocols and ports)" % (name, ", ".join(named)))
    if [v for v in rule.get("profiles") or [] if v.upper() != "ANY"]:
        raise Unexportable("rule '%s' has context profiles (nsxt_security_policy does not write them)" % name)
    out = {"name": name}
    if rule.get("id") and rule["id"] != name:
        out["id"] = rule["id"]
    out["action"] = action
    for key, option in (("source_groups", "sources"), ("destination_groups", "destinations"), ("scope", "applied_to")):
        values = group_options(rule.get(key), domain)
        if values:
            out[option] = values
    services = []
    for service_entry in rule.get("service_entries") or []:
        services.extend(_entry_option(service_entry))
    if services:
        out["services"] = services
    return _rule_common(rule, out)


def export_policy_rules(value, obj):
    """Rules in evaluation order (sequence number, then list order), as the module's rule options."""
    domain = domain_of(obj)
    ordered = [pair[1] for pair in sorted(enumerate(value or []), key=lambda pair: (pair[1].get("sequence_number") or 0, pair[0]))]
    return [export_policy_rule(rule, domain) for rule in ordered]


# ---------------------------------------------------------------- what is left out

def system_reason(obj):
    """Why an object is the product's rather than the user's (None when it is the user's)."""
    if obj.get("is_default"):
        return "the default the product makes (it is always there, last)"
    if obj.get("_system_owned"):
        return "owned by the system (_system_owned)"
    if obj.get("_protection") in FOREIGN_PROTECTION:
        return "created by principal identity %s (_protection %s): only it, or a write with X-Allow-Overwrite, may change it" % (
            obj.get("_create_user"), obj.get("_protection"))
    if obj.get("_create_user") == "nsx_policy":
        return "realized from the Policy API (export it with kind policy_group or security_policy)"
    return None


# ---------------------------------------------------------------- entries

def item_values(kind, item):
    """An exported item as the module would see it: validated against the item spec, defaults filled."""
    result = ArgumentSpecValidator(kind.item_spec()).validate(copy.deepcopy(item))
    if result.errors.errors:
        raise Unexportable("its export does not pass the module's options: %s" % "; ".join(str(e) for e in result.errors.errors))
    return dict((k, v) for k, v in result.validated_parameters.items() if v is not None)


def rewrites(kind, item, obj, task_params, resolver=None):
    """The API attributes applying ``item`` to the object it came from would write (tags aside), or
    raises :class:`Unexportable` when the module refuses the item. ``resolver`` (an NSGroup export's
    adapter) resolves the names of static members to ids, as the module does before it compares."""
    try:
        desired = kind.build(item_values(kind, item), "", Task(task_params))
    except ValidationError as exc:
        raise Unexportable("the module refuses its export: %s" % exc) from None
    if resolver is not None:
        desired = resolver.complete(item.get("name"), desired, obj)
    desired.pop(NsxtTags.key, None)
    change = plan(kind, item.get("name"), desired, obj, "present")
    return change.fields


def _export_one(kind, kind_name, obj, keys, task_params, left_out, notes, resolver=None):
    name = obj.get("display_name") or obj.get("id")
    try:
        item, dummy = export_item(kind, obj, keys=keys, scheme=NsxtTags())
        fields = rewrites(kind, item, obj, task_params, resolver)
    except Unexportable as exc:
        left_out.append(skipped(kind_name, name, "cannot be declared with %s: %s" % (MODULES[kind_name], exc)))
        return None
    if fields:
        notes.append("%s '%s': applying its export writes %s again (the module writes them in its own form: an order, sequence "
                     "numbers or a port list), with the same effect" % (kind.title, name, ", ".join(sorted(fields))))
    return item


def _keys(kind_name, obj):
    if kind_name not in ("policy_group", "security_policy"):
        return None
    keys = {"name": obj.get("display_name") or obj.get("id")}
    if obj.get("id") != keys["name"]:
        keys["id"] = obj.get("id")
    return keys


def _by_owner(module, options, exported):
    """The entries of ``(obj, item)`` pairs of one placement, one per owner (``_core/export.py``)."""
    return entries_by_owner(module, options, [(obj, item, ()) for obj, item in exported], NsxtTags())


def export(kind_name, kind, objects, domain="default", section_type="LAYER3", ordered=None, include_system=False, connection=None):
    """``(entries, skipped, notes)`` for the objects of one kind, as read (sections with their rules).

    ``ordered`` is every object of the kind as listed (sections: in evaluation order; the placement of
    ``objects``, which may be some of them, is relative to it); ``notes`` name the objects whose export,
    applied to the console they came from, would still write something (the same rules in the module's
    own form), and the NSGroups whose export gives members by id. ``connection`` reads the lists that
    give NSGroup members their names (:func:`member_names`); without it members are exported by id.
    """
    left_out, notes, chosen = [], [], []
    for obj in objects:
        reason = system_reason(obj)
        if reason is not None and not include_system:
            left_out.append(skipped(kind_name, obj.get("display_name") or obj.get("id"), reason))
        else:
            chosen.append(obj)
    module = MODULES[kind_name]
    options = {"section_type": section_type} if kind_name == "firewall_section" else {"domain": domain} if kind_name in (
        "policy_group", "security_policy") else {}

    resolver = None
    if kind_name == "ns_group" and connection is not None:
        resolver, chosen = member_names(connection, kind, ordered if ordered is not None else objects, chosen)

    def exported(objs):
        pairs = [(o, _export_one(kind, kind_name, o, _keys(kind_name, o), options, left_out, notes, resolver)) for o in objs]
        for item in [i for o, i in pairs if i is not None]:
            by_id = ["%s %s" % (m["target_type"], m["value"]) for m in item.get("members") or [] if "value" in m]
            if by_id:
                notes.append("NSGroup '%s': its members %s are given by id (%s), so its export applies to this NSX Manager only "
                             "(objects of another one have other ids)" % (
                                 item["name"], ", ".join(by_id),
                                 "no display name of theirs was read" if resolver is None else
                                 "their type has no display name nsxt_ns_group resolves, or it is not unique"))
        return [(o, i) for o, i in pairs if i is not None]

    entries = []
    if kind_name == "firewall_section":
        placed = placements(ordered if ordered is not None else objects)
        for section, item in exported(chosen):
            item.update(placed.get(section.get("id")) or {})
            entries.extend(_by_owner(module, options, [(section, item)]))
        return entries, left_out, notes
    needs = {"ns_group": group_members, "policy_group": group_paths}.get(kind_name, lambda obj: [])
    for level in levels(sorted(chosen, key=lambda o: o.get("display_name") or o.get("id") or ""), needs):
        entries.extend(_by_owner(module, options, exported(level)))
    return entries, left_out, notes
