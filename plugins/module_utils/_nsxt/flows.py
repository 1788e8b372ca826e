# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which flows the NSX-T distributed firewall allows, evaluated on the rules NSX holds.

The model (every point is stated in the ``nsxt_flow_check`` documentation, with its source in
``reference/nsxt-api.md``):

- The rules form one ordered table: Manager API layer 3 sections in firewall order (the default
  section last), or Policy API security policies by category (Emergency, Infrastructure,
  Environment, Application, then none) and sequence number, and the rules of each in order.
- A rule is enforced where its applied-to says ("List of object where rule will be enforced";
  a section's or policy's applied-to takes precedence over the rule's; none = everywhere). A
  packet leaves the source workload through its filter and enters the destination workload
  through its own, so the table is evaluated twice: at the source (rules applied to the
  source, direction OUT or IN_OUT) and at the destination (applied to the destination, IN or
  IN_OUT). In each, the first rule that matches decides; the flow is allowed only when both
  allow. An end that is not a firewall workload (an Internet host) is not evaluated.
- Disabled rules are never realised and are skipped; ``sources_excluded`` and
  ``destinations_excluded`` negate the match; an empty service list is any service; a rule
  for some services does not match a flow on ``any``.
- A group endpoint stands for every effective member of the group: a rule element matches it
  when it is the same group, or when the element's addresses cover every member's address.
  When they cover only some members the flow has no single verdict and the check says so.
  An address endpoint matches a group that holds it as an effective member (IP address
  expressions included) or an address, CIDR or range written in the rule.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.microseg.segmentation.plugins.module_utils._core.flowcheck import (
    Decision,
    FlowCheckError,
    NotThereYet,
    Verdict,
    port_spec_matches,
)
from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import ApiError
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.manager import (
    IP_SETS,
    NS_GROUPS,
    NS_SERVICE_GROUPS,
    NS_SERVICES,
    SECTIONS,
)
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.policy import POLICY_BASE

CATEGORY_ORDER = ("Emergency", "Infrastructure", "Environment", "Application", "")
APPLICATION = CATEGORY_ORDER.index("Application")
VERDICT_OF = {"ALLOW": "allow", "DROP": "deny", "REJECT": "deny"}
JUMP = "JUMP_TO_APPLICATION"


# ---------------------------------------------------------------------------- addresses

def _interval(text):
    """(version, first, last) of an address, a CIDR or a range ``first-last``."""
    text = text.strip()
    if "-" in text:
        first, dummy, last = text.partition("-")
        low, high = ipaddress.ip_address(first.strip()), ipaddress.ip_address(last.strip())
        if low.version != high.version:
            raise ValueError("%s mixes IPv4 and IPv6" % text)
        return low.version, int(low), int(high)
    network = ipaddress.ip_network(text, strict=False)
    return network.version, int(network.network_address), int(network.broadcast_address)


class AddressSet:
    """A set of addresses written as NSX writes them: addresses, CIDRs and ranges."""

    def __init__(self, entries=()):
        intervals = []
        for entry in entries:
            try:
                intervals.append(_interval(entry))
            except ValueError:
                continue  # not an address (NSX lists only addresses here); nothing to cover
        intervals.sort()
        merged = []
        for version, low, high in intervals:
            if merged and merged[-1][0] == version and low <= merged[-1][2] + 1:
                merged[-1][2] = max(merged[-1][2], high)
            else:
                merged.append([version, low, high])
        self.intervals = [tuple(i) for i in merged]

    def __bool__(self):
        return bool(self.intervals)

    __nonzero__ = __bool__

    def union(self, other):
        result = AddressSet()
        result.intervals = AddressSet._merge(self.intervals + other.intervals)
        return result

    @staticmethod
    def _merge(intervals):
        merged = []
        for version, low, high in sorted(intervals):
            if merged and merged[-1][0] == version and low <= merged[-1][2] + 1:
                merged[-1] = (version, merged[-1][1], max(merged[-1][2], high))
            else:
                merged.append((version, low, high))
        return merged

    def coverage(self, members):
        """``all`` when this set holds every interval of ``members``, ``some`` when it overlaps
        only part of them, ``none`` otherwise (and for an empty ``members``)."""
        whole = part = 0
        for version, low, high in members.intervals:
            inside = any(v == version and a <= low and high <= b for v, a, b in self.intervals)
            touches = inside or any(v == version and a <= high and low <= b for v, a, b in self.intervals)
            whole += inside
            part += touches and not inside
        if not members.intervals or (whole == 0 and part == 0):
            return "none"
        return "all" if whole == len(members.intervals) else "some"


# ---------------------------------------------------------------------------- model

class Ref:
    """One element of a rule's sources, destinations or applied-to.

    ``key`` identifies a group (an NSGroup id, a Policy group path), ``addresses`` is what it
    covers (an :class:`AddressSet`; ``None`` when this check cannot know: a logical switch or
    port, an IPSet or a group that was not read or no longer exists)."""

    def __init__(self, label, key=None, addresses=None):
        self.label = label
        self.key = key
        self.addresses = addresses


class Endpoint:
    """One end of a flow: a group (``key`` and its members' ``addresses``) or one address.
    ``workload`` is false for an end that no distributed-firewall filter protects."""

    def __init__(self, label, key=None, addresses=None, workload=True, version=None):
        self.label = label
        self.key = key
        self.addresses = addresses if addresses is not None else AddressSet()
        self.workload = workload
        self.version = version


class Rule:
    """A rule reduced to what matching needs. ``sources``, ``destinations`` and ``applied_to``
    are lists of :class:`Ref` (empty = any); ``services`` are protocol-port specs for
    :func:`port_spec_matches` (empty = any), or :class:`Unknown` for what cannot be evaluated."""

    def __init__(self, name, action, sources=(), destinations=(), services=(), applied_to=(), disabled=False,
                 sources_excluded=False, destinations_excluded=False, where="", rule_id=None, direction="IN_OUT",
                 ip_protocol="IPV4_IPV6", default=False, category=None, use_direction=True):
        self.name = name
        self.action = (action or "").upper()
        self.sources = list(sources or ())
        self.destinations = list(destinations or ())
        self.services = list(services or ())
        self.applied_to = list(applied_to or ())
        self.disabled = bool(disabled)
        self.sources_excluded = bool(sources_excluded)
        self.destinations_excluded = bool(destinations_excluded)
        self.where = where
        self.rule_id = rule_id
        self.direction = (direction or "IN_OUT").upper()
        self.ip_protocol = (ip_protocol or "IPV4_IPV6").upper()
        self.default = bool(default)
        self.category = category
        self.use_direction = use_direction

    def decision(self, side):
        return Decision(side, self.action, self.name, self.rule_id, self.where, self.default)


class Unknown:
    """A service this check cannot evaluate (an ALG service, source ports, a service object that
    no longer exists)."""

    def __init__(self, text):
        self.text = text


class Nothing:
    """A service reference that stands for no service at all (an NSServiceGroup without members):
    it matches no flow, and keeps the rule from meaning "any service"."""

    def __init__(self, text):
        self.text = text


# ---------------------------------------------------------------------------- matching

def _refs_match(endpoint, refs, rule, what):
    """Does ``endpoint`` fall under ``refs`` (empty = any)?"""
    if not refs:
        return True
    if endpoint.key is not None and any(ref.key == endpoint.key for ref in refs):
        return True
    unknown = [ref.label for ref in refs if ref.addresses is None]
    covered = AddressSet()
    for ref in refs:
        if ref.addresses is not None:
            covered = covered.union(ref.addresses)
    how = covered.coverage(endpoint.addresses)
    if how == "all":
        return True
    if how == "some":
        raise FlowCheckError("%s covers only some members of %s in rule %r (%s): check those members by address" % (
            what, endpoint.label, rule.name, rule.where))
    if unknown:
        raise FlowCheckError("rule %r (%s) names %s in its %s, which this check cannot resolve to addresses" % (
            rule.name, rule.where, ", ".join(unknown), what))
    return False


def _ends_match(refs, excluded, endpoint, rule, what):
    hit = _refs_match(endpoint, refs, rule, what)
    return (not hit) if (excluded and refs) else hit


def _service_matches(rule, service):
    if not rule.services:
        return True
    unknown = []
    for spec in rule.services:
        if isinstance(spec, Unknown):
            unknown.append(spec.text)
        elif isinstance(spec, Nothing):
            continue
        elif port_spec_matches(service, spec):
            return True
    if unknown:
        raise FlowCheckError("rule %r (%s) uses %s, which this check cannot evaluate" % (rule.name, rule.where, ", ".join(unknown)))
    return False


def _family_matches(rule, source, destination):
    versions = {e.version for e in (source, destination) if e.version}
    if rule.ip_protocol == "IPV4":
        return 6 not in versions
    if rule.ip_protocol == "IPV6":
        return 4 not in versions
    return True


def first_match(rules, source, destination, service, at):
    """The rule that decides ``source -> destination`` in the filter of ``at`` (``source`` or
    ``destination``), or ``None`` when none does."""
    where = source if at == "source" else destination
    direction = "OUT" if at == "source" else "IN"
    index = 0
    while index < len(rules):
        rule = rules[index]
        index += 1
        if rule.disabled:
            continue
        if rule.use_direction and rule.direction not in ("IN_OUT", direction):
            continue
        if not _refs_match(where, rule.applied_to, rule, "applied-to"):
            continue
        if not _ends_match(rule.sources, rule.sources_excluded, source, rule, "source"):
            continue
        if not _ends_match(rule.destinations, rule.destinations_excluded, destination, rule, "destination"):
            continue
        if not _family_matches(rule, source, destination):
            continue
        if not _service_matches(rule, service):
            continue
        if rule.action == JUMP:
            # Policy API: skip the rest of the Environment category, go on with Application.
            while index < len(rules) and _rank(rules[index].category) < APPLICATION:
                index += 1
            continue
        if rule.action not in VERDICT_OF:
            raise FlowCheckError("rule %r (%s) has action %s, which this check cannot evaluate" % (rule.name, rule.where, rule.action))
        return rule
    return None


def _rank(category):
    return CATEGORY_ORDER.index(category) if category in CATEGORY_ORDER else len(CATEGORY_ORDER)


def evaluate(rules, source, destination, service):
    """The :class:`Verdict` of one flow: the source's filter first, then the destination's."""
    decisions = []
    for side, endpoint in (("source", source), ("destination", destination)):
        if not endpoint.workload:
            continue
        rule = first_match(rules, source, destination, service, side)
        if rule is None:
            raise FlowCheckError("no rule, not even a default rule, matches at the %s %s" % (side, endpoint.label))
        decisions.append(rule.decision(side))
        if VERDICT_OF[rule.action] == "deny":
            return Verdict("deny", decisions, "%s at the %s by %s%s/%s" % (
                rule.action, side, "the default rule " if rule.default else "", rule.where, rule.name))
    if not decisions:
        raise FlowCheckError("neither end is a workload of the distributed firewall")
    return Verdict("allow", decisions, "allowed " + " and ".join("at the %s by %s/%s" % (d.side, d.where, d.rule) for d in decisions))


# ---------------------------------------------------------------------------- wire forms

def port_spec(entry):
    """A Manager ``NSServiceElement`` or a Policy ``ServiceEntry`` as a protocol-port spec."""
    kind = entry.get("resource_type") or ""
    if kind in ("L4PortSetNSService", "L4PortSetServiceEntry"):
        if entry.get("source_ports"):
            return Unknown("source ports %s" % ",".join(entry["source_ports"]))
        ports = ",".join(str(p).replace("-", ":") for p in entry.get("destination_ports") or [])
        proto = (entry.get("l4_protocol") or "").lower()
        return "%s/%s" % (proto, ports) if ports else proto
    if kind in ("ICMPTypeNSService", "ICMPTypeServiceEntry"):
        text = "icmp" if entry.get("protocol") == "ICMPv4" else "icmp6"
        if entry.get("icmp_type") is not None:
            text += "/%s" % entry["icmp_type"]
            if entry.get("icmp_code") is not None:
                text += "/%s" % entry["icmp_code"]
        return text
    if kind in ("IPProtocolNSService", "IPProtocolServiceEntry") and entry.get("protocol_number") is not None:
        return str(entry["protocol_number"])
    return Unknown("a %s service" % (kind or "typeless"))


def address_ref(text):
    return Ref(text, addresses=AddressSet([text]))


def manager_ref(ref, members, ipsets=None):
    """A Manager ``ResourceReference``; ``members`` maps NSGroup ids to their AddressSet, ``ipsets``
    IPSet ids to the AddressSet of their addresses, CIDRs and ranges."""
    kind = ref.get("target_type")
    if kind in ("IPv4Address", "IPv6Address"):
        return address_ref(ref.get("target_id") or "")
    label = "%s %s" % (kind, ref.get("target_display_name") or ref.get("target_id"))
    if kind == "NSGroup":
        return Ref(label, key=ref.get("target_id"), addresses=members.get(ref.get("target_id")))
    if kind == "IPSet":
        return Ref(label, addresses=(ipsets or {}).get(ref.get("target_id")))
    return Ref(label, addresses=None)


def manager_services(rule, services=None):
    """A Manager rule's services as protocol-port specs: an NSService reference stands for its
    element, an NSServiceGroup reference for its members' (``services`` maps ``(target_type, id)``
    to the elements, as :func:`service_elements` reads them)."""
    specs = []
    for entry in rule.get("services") or []:
        if entry.get("service"):
            specs.append(port_spec(entry["service"]))
            continue
        label = "the %s %s" % (entry.get("target_type") or "service", entry.get("target_display_name") or entry.get("target_id"))
        elements = (services or {}).get((entry.get("target_type"), entry.get("target_id")))
        if elements is None:
            specs.append(Unknown(label))
        elif not elements:
            specs.append(Nothing(label))
        else:
            specs.extend(port_spec(element) for element in elements)
    return specs


def manager_rules(sections, members, ipsets=None, services=None):
    """The ordered table from Manager sections (each with ``rules``), firewall order as listed;
    ``ipsets`` and ``services`` resolve IPSet and service references (else they cannot be evaluated)."""
    table = []
    for section in sections:
        if section.get("enforced_on") not in (None, "VIF"):
            continue  # a gateway (logical router) section, not the distributed firewall
        section_applied = [manager_ref(r, members, ipsets) for r in section.get("applied_tos") or []]
        stateless = section.get("stateful") is False
        for rule in section.get("rules") or []:
            table.append(Rule(
                rule.get("display_name") or rule.get("id"), rule.get("action"),
                [manager_ref(r, members, ipsets) for r in rule.get("sources") or []],
                [manager_ref(r, members, ipsets) for r in rule.get("destinations") or []],
                manager_services(rule, services),
                section_applied or [manager_ref(r, members, ipsets) for r in rule.get("applied_tos") or []],
                rule.get("disabled"), rule.get("sources_excluded"), rule.get("destinations_excluded"),
                section.get("display_name") or section.get("id"), rule.get("id"), rule.get("direction"),
                rule.get("ip_protocol"), bool(rule.get("is_default") or section.get("is_default")),
                use_direction=stateless))
    return table


def _is_any(values):
    return not values or any(str(v).upper() == "ANY" for v in values)


def policy_ref(value, members):
    """A Policy rule element: a group path or an address, CIDR or range."""
    if value.startswith("/"):
        return Ref("group %s" % value.rsplit("/", 1)[-1], key=value, addresses=members.get(value))
    return address_ref(value)


def policy_refs(values, members):
    return [] if _is_any(values) else [policy_ref(v, members) for v in values]


def order_policies(policies):
    """Policies in enforcement order: category, then sequence number (ties as listed), the default last."""
    ranked = sorted(enumerate(policies), key=lambda pair: (bool(pair[1].get("is_default")), _rank(pair[1].get("category") or ""),
                                                           pair[1].get("sequence_number") or 0, pair[0]))
    return [pair[1] for pair in ranked]


def policy_rules(policies, members):
    """The ordered table from Policy security policies (each with ``rules``). Layer 2 (Ethernet)
    policies are not part of it."""
    table = []
    for policy in order_policies([p for p in policies if p.get("category") != "Ethernet"]):
        scope = policy_refs(policy.get("scope"), members)
        category = policy.get("category") or ""
        ordered = sorted(enumerate(policy.get("rules") or []), key=lambda pair: (pair[1].get("sequence_number") or 0, pair[0]))
        for rule in [pair[1] for pair in ordered]:
            services = [] if _is_any(rule.get("services")) and not rule.get("service_entries") else [
                Unknown("the service %s" % s) for s in rule.get("services") or [] if str(s).upper() != "ANY"]
            services += [port_spec(e) for e in rule.get("service_entries") or []]
            table.append(Rule(
                rule.get("display_name") or rule.get("id"), rule.get("action"),
                policy_refs(rule.get("source_groups"), members), policy_refs(rule.get("destination_groups"), members),
                services, scope or policy_refs(rule.get("scope"), members),
                rule.get("disabled"), rule.get("sources_excluded"), rule.get("destinations_excluded"),
                policy.get("display_name") or policy.get("id"), rule.get("id"), rule.get("direction"), rule.get("ip_protocol"),
                bool(rule.get("is_default") or policy.get("is_default")), category))
    return table


def referenced_keys(rules):
    """The group keys (NSGroup ids, Policy group paths) the rules name."""
    keys = set()
    for rule in rules:
        for ref in rule.sources + rule.destinations + rule.applied_to:
            if ref.key is not None:
                keys.add(ref.key)
    return keys


# ---------------------------------------------------------------------------- reading NSX

def _endpoint(raw, key_of, members_of):
    """An :class:`Endpoint` from a validated flow endpoint (``group`` or ``address``)."""
    if "address" in raw:
        address = ipaddress.ip_address(raw["address"])
        return Endpoint(str(address), addresses=AddressSet([str(address)]), workload=raw.get("workload", True),
                        version=address.version)
    key = key_of(raw["group"])
    return Endpoint("group %s" % raw["group"], key=key, addresses=members_of(key))


class Firewall:
    """What one read of NSX gives: the ordered rule table and the flows' endpoints, resolved."""

    def __init__(self, rules, key_of, members):
        self.rules = rules
        self.key_of = key_of
        self.members = members

    def endpoint(self, raw):
        return _endpoint(raw, self.key_of, lambda key: self.members.get(key) or AddressSet())

    def evaluate(self, flow):
        return evaluate(self.rules, self.endpoint(flow.source), self.endpoint(flow.destination), flow.service)


def _members(connection, path):
    """A group's effective IP addresses, or ``None`` when the group is gone (a stale reference)."""
    try:
        return AddressSet(connection.list_all(path))
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise


def _named_groups(flows):
    return sorted({end["group"] for flow in flows for end in (flow.source, flow.destination) if "group" in end})


def _referenced(sections, keys, *target_types):
    """Whether the sections' rules name an object of one of ``target_types`` under ``keys``."""
    for section in sections:
        for rule in section.get("rules") or []:
            for key in keys:
                if any(r.get("target_type") in target_types for r in rule.get(key) or []):
                    return True
    return False


def service_elements(service_list, group_list):
    """``(target_type, id)`` -> the NSServiceElements an NSService or NSServiceGroup stands for
    (a group member that no longer exists is left out)."""
    elements = dict((("NSService", s["id"]), [s["nsservice_element"]]) for s in service_list if s.get("nsservice_element"))
    for group in group_list:
        members = [m.get("target_id") for m in group.get("members") or []]
        elements[("NSServiceGroup", group["id"])] = [e for member in members for e in elements.get(("NSService", member), [])]
    return elements


def load_manager(connection, flows):
    """Read the Manager API firewall: NSGroups (one list), layer 3 sections and their rules, the
    effective IP addresses of every NSGroup the rules or the flows name, and (one list each, only
    when a rule names one) the IPSets, NSServices and NSServiceGroups."""
    by_name = {}
    for group in connection.list_all(NS_GROUPS):
        by_name.setdefault(group.get("display_name") or group["id"], []).append(group["id"])
    for name in _named_groups(flows):
        if name not in by_name:
            raise NotThereYet("no NSGroup is named %r" % name)
        if len(by_name[name]) > 1:
            raise FlowCheckError("%d NSGroups are named %r: rename one" % (len(by_name[name]), name))
    sections = connection.list_all(SECTIONS, params={"type": "LAYER3"})
    for section in sections:
        if "rules" not in section:
            section["rules"] = connection.list_all("%s/%s/rules" % (SECTIONS, section["id"]))
    keys = referenced_keys(manager_rules(sections, {})) | {by_name[n][0] for n in _named_groups(flows)}
    members = dict((key, _members(connection, "%s/%s/effective-ip-address-members" % (NS_GROUPS, key))) for key in sorted(keys))
    ipsets = None
    if _referenced(sections, ("sources", "destinations", "applied_tos"), "IPSet"):
        ipsets = dict((i["id"], AddressSet(i.get("ip_addresses") or [])) for i in connection.list_all(IP_SETS))
    services = None
    if _referenced(sections, ("services",), "NSService", "NSServiceGroup"):
        groups = connection.list_all(NS_SERVICE_GROUPS) if _referenced(sections, ("services",), "NSServiceGroup") else []
        services = service_elements(connection.list_all(NS_SERVICES), groups)
    return Firewall(manager_rules(sections, members, ipsets, services), lambda name: by_name[name][0], members)


def load_policy(connection, domain, flows, check_mode=False):
    """Read the Policy API firewall: the security policies of every domain (NSX enforces them as
    one table) with their rules, the groups of ``domain`` (where flows name groups by id), and the
    effective IP addresses of every group the rules or the flows name. In check mode a domain that
    does not exist (404) is NotThereYet (an earlier task may create it)."""
    base = "%s/infra/domains" % POLICY_BASE
    try:
        known = set(g["id"] for g in connection.list_all("%s/%s/groups" % (base, domain)))
    except ApiError as exc:
        if check_mode and exc.status == 404:
            raise NotThereYet("domain %s does not exist" % domain) from None
        raise
    for name in _named_groups(flows):
        if name not in known:
            raise NotThereYet("domain %s has no group with id %r" % (domain, name))
    policies = []
    for each in connection.list_all(base):
        for policy in connection.list_all("%s/%s/security-policies" % (base, each["id"])):
            if "rules" not in policy:
                policy["rules"] = connection.list_all("%s/%s/security-policies/%s/rules" % (base, each["id"], policy["id"]))
            policies.append(policy)

    def key_of(name):
        return "/infra/domains/%s/groups/%s" % (domain, name)

    keys = referenced_keys(policy_rules(policies, {})) | {key_of(n) for n in _named_groups(flows)}
    members = dict((key, _members(connection, POLICY_BASE + key + "/members/ip-addresses")) for key in sorted(keys))
    return Firewall(policy_rules(policies, members), key_of, members)
