# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NSX-T Policy API: groups and security policies, read by id, written with PUT (single
object, full replace) or one hierarchical PATCH on /infra (list form)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import ipaddress
import json
import re

from ansible_collections.microseg.segmentation.plugins.module_utils._core.adapter import Adapter
from ansible_collections.microseg.segmentation.plugins.module_utils._core.checkmode import missing_container, missing_reference, unless_check_mode, warn
from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import ApiError
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError, validate_cidr, validate_ip_address
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.common import (
    format_service,
    parse_services,
    with_revision_retry,
)

POLICY_BASE = "/policy/api/v1"
ID_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{1,255}\Z")
KEYS = ("Tag", "Name", "OSName", "ComputerName", "NodeType", "GroupType", "ALL", "IPAddress", "PodCidr", "OSVersion")
MEMBER_TYPES = ("IPSet", "VirtualMachine", "LogicalPort", "LogicalSwitch", "Segment", "SegmentPort", "Pod", "Service", "Namespace",
                "TransportNode", "Group", "DVPG", "DVPort", "IPAddress", "KubernetesCluster", "KubernetesNamespace", "KubernetesService",
                "KubernetesNode")
OPERATORS = ("EQUALS", "CONTAINS", "STARTSWITH", "ENDSWITH", "NOTEQUALS", "IN", "NOTIN", "MATCHES")
# "At most 500 IP addresses, MAC addresses, external IDs and paths in total" in a group's expression (nsxt-api.md)
MAX_GROUP_MEMBERS = 500
CATEGORIES = ("Ethernet", "Emergency", "Infrastructure", "Environment", "Application")


def check_id(value, option):
    if not ID_PATTERN.match(value or ""):
        raise ValidationError(option, "'%s' is not usable as an NSX id: use letters, digits, '.', '-' and '_'" % value)
    return value


def _strip(element):
    """An expression element without the read-only decorations NSX adds on GET."""
    kind = element.get("resource_type")
    if kind == "Condition":
        return {"resource_type": kind, "member_type": element.get("member_type"), "key": element.get("key"),
                "operator": element.get("operator") or "EQUALS", "value": element.get("value"),
                "scope_operator": element.get("scope_operator") or "EQUALS"}
    if kind == "ConjunctionOperator":
        return {"resource_type": kind, "conjunction_operator": element.get("conjunction_operator")}
    if kind == "NestedExpression":
        return {"resource_type": kind, "expressions": [_strip(e) for e in element.get("expressions") or []]}
    if kind == "IPAddressExpression":
        return {"resource_type": kind, "ip_addresses": sorted(element.get("ip_addresses") or [])}
    if kind == "PathExpression":
        return {"resource_type": kind, "paths": sorted(element.get("paths") or [])}
    if kind == "ExternalIDExpression":
        return {"resource_type": kind, "member_type": element.get("member_type"), "external_ids": sorted(element.get("external_ids") or [])}
    return dict((k, v) for k, v in element.items() if not k.startswith("_") and k not in ("id", "path", "relative_path", "parent_path"))


def canon_expression(value):
    return json.dumps([_strip(e) for e in value or []], sort_keys=True)


def _condition(raw, option):
    value = raw.get("value")
    if raw.get("tag") is not None:
        if value is not None:
            raise ValidationError(option, "give either tag or value, not both")
        value = raw["tag"]
    if not value:
        raise ValidationError(option + ".value", "is required (for a tag, write 'scope|tag')")
    key = raw.get("key") or "Tag"
    if key == "Tag" and "|" not in value:
        value = "|" + value  # a bare tag value matches that value with any scope
    return {"resource_type": "Condition", "member_type": raw["member_type"], "key": key,
            "operator": raw.get("operator") or "EQUALS", "value": value, "scope_operator": "EQUALS"}


def _and(conditions, option):
    if len(conditions) == 1:
        return conditions[0]
    if len(set(c["member_type"] for c in conditions)) != 1:
        raise ValidationError(option, "conditions combined with AND must all have the same member_type")
    expressions = []
    for condition in conditions:
        if expressions:
            expressions.append({"resource_type": "ConjunctionOperator", "conjunction_operator": "AND"})
        expressions.append(condition)
    return {"resource_type": "NestedExpression", "expressions": expressions}


def build_group_expression(params, prefix):
    """The API ``expression`` list: criteria (OR of AND-ed conditions), then IPs, paths and external ids, all OR-ed."""
    parts = []
    conditions = 0
    for index, criterion in enumerate(params.get("criteria") or []):
        option = "%scriteria[%d]" % (prefix, index)
        if not criterion:
            raise ValidationError(option, "a criterion needs at least one condition")
        built = [_condition(c, "%s[%d]" % (option, i)) for i, c in enumerate(criterion)]
        conditions += len(built)
        parts.append(_and(built, option))
    if conditions > 5:
        raise ValidationError(prefix + "criteria", "NSX allows at most 5 conditions in a group, got %d" % conditions)
    if params.get("ip_addresses"):
        parts.append({"resource_type": "IPAddressExpression", "ip_addresses": _ip_list(params["ip_addresses"], prefix + "ip_addresses")})
    if params.get("paths"):
        for index, path in enumerate(params["paths"]):
            if not path.startswith("/infra/"):
                raise ValidationError("%spaths[%d]" % (prefix, index), "'%s' is not a policy path such as /infra/domains/default/groups/web" % path)
        parts.append({"resource_type": "PathExpression", "paths": list(params["paths"])})
    if params.get("external_ids"):
        parts.append({"resource_type": "ExternalIDExpression", "member_type": params.get("external_id_member_type") or "VirtualMachine",
                      "external_ids": list(params["external_ids"])})
    members = sum(len(params.get(option) or []) for option in ("ip_addresses", "paths", "external_ids"))
    if members > MAX_GROUP_MEMBERS:
        largest = max(("ip_addresses", "paths", "external_ids"), key=lambda option: len(params.get(option) or []))
        raise ValidationError(prefix + largest,
                              "NSX takes at most %d IP addresses, paths and external ids in a group, together; ip_addresses, paths and external_ids give %d"
                              % (MAX_GROUP_MEMBERS, members))
    expression = []
    for part in parts:
        if expression:
            expression.append({"resource_type": "ConjunctionOperator", "conjunction_operator": "OR"})
        expression.append(part)
    return expression


def _ip_value(value, path):
    """One address, CIDR or range (``first-last``, both of one family, first not above last);
    ``path`` is the option named in errors."""
    if "-" in value:
        first, dummy, last = value.partition("-")
        first, last = validate_ip_address(first.strip(), path), validate_ip_address(last.strip(), path)
        low, high = ipaddress.ip_address(first), ipaddress.ip_address(last)
        if low.version != high.version:
            raise ValidationError(path, "'%s' mixes an IPv%d and an IPv%d address: both ends of a range must be of one family"
                                  % (value, low.version, high.version))
        if low > high:
            raise ValidationError(path, "'%s' is reversed: the range starts above its end" % value)
        return "%s-%s" % (first, last)
    if "/" in value:
        return validate_cidr(value, path)
    return validate_ip_address(value, path)


def _ip_version(value):
    text = value.partition("-")[0].partition("/")[0]
    return ipaddress.ip_address(text).version


def _ip_list(values, option):
    checked = [_ip_value(value, "%s[%d]" % (option, index)) for index, value in enumerate(values)]
    families = {}
    for index, value in enumerate(checked):
        families.setdefault(_ip_version(value), index)
    if len(families) > 1:
        raise ValidationError("%s[%d]" % (option, max(families.values())),
                              "NSX takes IPv4 and IPv6 addresses in separate groups; this list mixes them (first IPv4 at [%d], first IPv6 at [%d])"
                              % (families[4], families[6]))
    return checked


def group_ref(value, domain, option):
    """A rule or scope member: ANY, a policy path, an address, CIDR or range, or a group id of the domain."""
    if value.upper() == "ANY":
        return "ANY"
    if value.startswith("/"):
        return value
    if any(ch in value for ch in ":/") or value.replace(".", "").replace("-", "").isdigit():
        return _ip_value(value, option)
    return "%s/infra/domains/%s/groups/%s" % ("", domain, check_id(value, option))


def group_refs(values, domain, option, allow_empty=True):
    if values is None:
        return None
    if not values:
        if not allow_empty:
            raise ValidationError(option, "is empty: list at least one group, or leave the option out to mean ANY")
        return ["ANY"]
    refs = [group_ref(v, domain, "%s[%d]" % (option, i)) for i, v in enumerate(values)]
    if "ANY" in refs and len(refs) > 1:
        raise ValidationError(option, "ANY must be the only entry")
    if len(refs) > 128:
        raise ValidationError(option, "at most 128 entries")
    return refs


def service_entries(services):
    entries = []
    for service in services:
        if "l4_protocol" in service:
            entries.append({"resource_type": "L4PortSetServiceEntry", "id": "%s-%s" % (service["l4_protocol"].lower(), service["ports"][0]),
                            "l4_protocol": service["l4_protocol"], "destination_ports": service["ports"]})
        else:
            entry = {"resource_type": "ICMPTypeServiceEntry", "id": format_service(service).replace("/", "-"), "protocol": service["icmp"]}
            if service.get("type") is not None:
                entry["icmp_type"] = service["type"]
            if service.get("code") is not None:
                entry["icmp_code"] = service["code"]
            entries.append(entry)
    return entries


def _entry_text(entry):
    if entry.get("resource_type") == "L4PortSetServiceEntry":
        return format_service({"l4_protocol": entry.get("l4_protocol"), "ports": entry.get("destination_ports")})
    return format_service({"icmp": entry.get("protocol"), "type": entry.get("icmp_type"), "code": entry.get("icmp_code")})


def _refs(values):
    values = [v for v in values or [] if v.upper() != "ANY"]
    return sorted(values)


def canon_rules(rules):
    """Rules in evaluation order (sequence number, then list order), without server decorations."""
    ordered = [pair[1] for pair in sorted(enumerate(rules or []), key=lambda pair: (pair[1].get("sequence_number") or 0, pair[0]))]
    canon = []
    for rule in ordered:
        canon.append((
            rule.get("id"), rule.get("display_name") or rule.get("id"), rule.get("action"),
            _refs(rule.get("source_groups")), _refs(rule.get("destination_groups")),
            _refs(rule.get("services")), sorted(_entry_text(e) for e in rule.get("service_entries") or []),
            _refs(rule.get("scope")), rule.get("direction") or "IN_OUT", rule.get("ip_protocol") or "IPV4_IPV6",
            bool(rule.get("logged")), bool(rule.get("disabled")), rule.get("notes") or "",
            bool(rule.get("sources_excluded")), bool(rule.get("destinations_excluded")), rule.get("sequence_number") or 0,
        ))
    return json.dumps(canon)


def build_rules(rules, domain, prefix):
    built = []
    seen = set()
    for index, rule in enumerate(rules):
        option = "%srules[%d]" % (prefix, index)
        rule_id = check_id(rule.get("id") or rule["name"], option + ".name")
        if rule_id in seen:
            raise ValidationError(option + ".name", "'%s' names two rules of the policy" % rule_id)
        seen.add(rule_id)
        services = parse_services(rule.get("services"), option + ".services")
        built.append({
            "resource_type": "Rule",
            "id": rule_id,
            "display_name": rule["name"],
            "action": rule["action"].upper(),
            "source_groups": group_refs(rule.get("sources"), domain, option + ".sources") or ["ANY"],
            "destination_groups": group_refs(rule.get("destinations"), domain, option + ".destinations") or ["ANY"],
            "services": ["ANY"] if not services else [],
            "service_entries": service_entries(services),
            "scope": group_refs(rule.get("applied_to"), domain, option + ".applied_to", allow_empty=False) or ["ANY"],
            "profiles": ["ANY"],
            "direction": rule["direction"].upper(),
            "ip_protocol": rule["ip_protocol"].upper(),
            "logged": rule["logged"],
            "disabled": rule["disabled"],
            "notes": rule.get("notes") or "",
            "sources_excluded": rule["sources_excluded"],
            "destinations_excluded": rule["destinations_excluded"],
            "sequence_number": (index + 1) * 10,
        })
    return built


def referenced_groups(body):
    """Group paths a policy refers to (rules and scope)."""
    paths = set()
    for value in body.get("scope") or []:
        paths.add(value)
    for rule in body.get("rules") or []:
        for key in ("source_groups", "destination_groups", "scope"):
            paths.update(rule.get(key) or [])
    return sorted(p for p in paths if p.startswith("/infra/domains/") and "/groups/" in p)


class PolicyApiAdapter(Adapter):
    """Objects of one Policy API collection of the task's domain, addressed by their id; a list form
    is written in one hierarchical PATCH of /infra."""

    bulk = True

    def __init__(self, connection, kind, task, resource=None):
        super(PolicyApiAdapter, self).__init__(connection, kind, task, resource)
        self.domain = task.get("domain", "default")
        self.base = "%s/infra/domains/%s/%s" % (POLICY_BASE, self.domain, resource)

    def path(self, object_id):
        return "%s/%s" % (self.base, object_id)

    # objects are written with PATCH at their declared id: two runs write the same one
    reread_after_create = False

    def find(self, name):
        return self.connection.get(self.path(name))

    def list(self):
        return self.list_in_domain(self.base)

    def list_in_domain(self, path):
        """Every object of a collection of the task's domain. In check mode a domain that does not
        exist (404) is empty, with a warning: an earlier task of the play may create it."""
        try:
            return self.connection.list_all(path)
        except ApiError as exc:
            if not (self.task.check_mode and exc.status == 404):
                raise
        warn(self, missing_container("domain %s" % self.domain))
        return []

    def name_of(self, obj):
        return obj.get("id")

    def object_id(self, obj):
        return (obj or {}).get("path") or ((obj or {}).get("id") and self.path(obj["id"]).replace(POLICY_BASE, ""))

    def _body(self, name, body):
        body = copy.deepcopy(body)
        body["id"] = name
        body["resource_type"] = self.kind.name
        return body

    def predict_create(self, change):
        predicted = self._body(change.name, change.body)
        predicted["path"] = self.path(change.name).replace(POLICY_BASE, "")
        return predicted

    def create(self, change):
        data = self.connection.request("PUT", self.path(change.name), body=self._body(change.name, change.body))
        return data

    def update(self, change):
        existing = change.existing
        changed = dict((api, change.body[api]) for api in change.fields)

        def write(current):
            sent = copy.deepcopy(current if current is not None else existing)
            sent.update(copy.deepcopy(changed))
            data = self.connection.request("PUT", self.path(existing["id"]), body=sent)
            return data

        return with_revision_retry(self.connection, lambda: self.find(existing["id"]), write)

    def delete(self, change):
        self.connection.request("DELETE", self.path(change.existing["id"]))

    def apply_bulk(self, changes):
        """All changes of a list form in one hierarchical PATCH of /infra (NSX applies it as a whole)."""
        wrapper = "Child" + self.kind.name
        children = []
        for change in changes:
            if change.action == "delete":
                children.append({"resource_type": wrapper, "marked_for_delete": True,
                                 self.kind.name: {"resource_type": self.kind.name, "id": change.name}})
            else:
                body = self._body(change.name, change.body)
                # the server's read-only fields (_create_time, _system_owned...) stay out of the patch
                for key in [k for k in body if k.startswith("_") and k != "_revision"] + ["path", "parent_path", "relative_path"]:
                    body.pop(key, None)
                children.append({"resource_type": wrapper, self.kind.name: body})
        infra = {"resource_type": "Infra", "children": [
            {"resource_type": "ChildResourceReference", "target_type": "Domain", "id": self.domain, "children": children}]}
        self.connection.request("PATCH", POLICY_BASE + "/infra", body=infra)
        for change in changes:
            change.result = None if change.action == "delete" else self.predict_create(change)
            change.applied = True


GROUP_PATH = re.compile(r"^/infra/domains/([^/]+)/groups/([^/]+)\Z")


class GroupAdapter(PolicyApiAdapter):
    """Groups: a path member that names a group must name one that exists (or that the task creates)."""

    def prepare(self, changes):
        """Every group a pending write names in ``paths`` must exist, checked before the first write:
        NSX refuses the write otherwise ("The path=[...] is invalid"). Check mode warns instead (an
        earlier task of the play may create the group)."""
        wanted = []
        for change in changes:
            if change.action not in ("create", "update"):
                continue
            prefix = getattr(change.declared, "prefix", "") or ""
            for element in (change.body or {}).get("expression") or []:
                if element.get("resource_type") == "PathExpression":
                    wanted.extend(("%spaths[%d]" % (prefix, index), path) for index, path in enumerate(element.get("paths") or [])
                                  if GROUP_PATH.match(path))
        if not wanted:
            return
        own = "/infra/domains/%s/groups/" % self.domain
        # the groups this task writes are there when the PATCH (or the writes before) lands; only others are read
        known = set(own + change.name for change in changes)
        if any(path.startswith(own) and path not in known for dummy, path in wanted):
            known.update(own + g["id"] for g in self.list_in_domain(self.base) if g.get("id"))
        for path in sorted(set(p for dummy, p in wanted)):
            if path not in known and not path.startswith(own):
                if self.connection.get(POLICY_BASE + path) is not None:
                    known.add(path)
        missing = [(option, path) for option, path in wanted if path not in known]
        if missing:
            # check mode: an earlier task of the play may create the groups (_core/checkmode.py)
            unless_check_mode(self.task.check_mode, self, ValidationError(missing[0][0], "no group has the path %s; nothing was written%s" % (
                missing[0][1], "" if len(missing) == 1 else " (also missing: %s)" % ", ".join("%s %s" % m for m in missing[1:]))),
                missing_reference("group", [path for dummy, path in missing]))


class SecurityPolicyAdapter(PolicyApiAdapter):
    """Security policies: a rule a task no longer lists is removed (PUT replaces the rule list)."""

    def expand(self, obj):
        """A policy with its rules: a list of policies carries none (a list form reads each declared
        policy's rules, one request per page of rules)."""
        if obj is not None and "rules" not in obj:
            obj = dict(obj, rules=self.connection.list_all(self.path(obj["id"]) + "/rules"))
        return obj

    def prepare(self, changes):
        """Every group every pending write names must exist, checked before the first write (check mode
        warns instead: an earlier task of the play may create the group)."""
        wanted = {}
        for change in changes:
            if change.action in ("create", "update"):
                for path in referenced_groups(change.body):
                    wanted.setdefault(path, []).append(change.name)
        if not wanted:
            return
        known = set(g.get("path") or "/infra/domains/%s/groups/%s" % (self.domain, g.get("id"))
                    for g in self.list_in_domain("%s/infra/domains/%s/groups" % (POLICY_BASE, self.domain)))
        missing = sorted(p for p in wanted if p not in known and p.startswith("/infra/domains/%s/" % self.domain))
        if missing:
            # check mode: an earlier task of the play may create the groups (_core/checkmode.py)
            unless_check_mode(self.task.check_mode, self, ValidationError("rules", "these groups do not exist, nothing was written: %s" % "; ".join(
                "%s (named by %s)" % (p, ", ".join(sorted(set(wanted[p])))) for p in missing)), missing_reference("group", missing))
