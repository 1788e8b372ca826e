# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The NSX-T object kinds of both APIs: each one's Fields and rules, declared once.

The object modules run them (``nsxt_ns_group``, ``nsxt_firewall_section``, ``nsxt_policy_group``,
``nsxt_security_policy``) and ``nsxt_info`` exports objects with them (``export.py``: each Field's
``export`` turns an API value back into the option's).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Field, Kind
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.export import (
    export_criteria,
    export_group_expression,
    export_members,
    export_policy_rules,
    export_policy_scope,
    export_refs,
    export_section,
    export_section_rules,
)
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.manager import (
    build_criteria,
    build_members,
    build_section_rules,
    canon_criteria,
    canon_members,
    canon_refs,
    canon_section_rules,
    references,
)
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.module import common_fields, policy_fields, rule_spec
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.policy import (
    CATEGORIES,
    KEYS,
    MEMBER_TYPES,
    OPERATORS,
    build_group_expression,
    build_rules,
    canon_expression,
    canon_rules,
    check_id,
    group_refs,
)

# ---------------------------------------------------------------- Manager API: NSGroups (nsxt_ns_group)

TARGET_TYPES = ["LogicalPort", "LogicalSwitch", "VirtualMachine", "IPSet"]
TAG_OPS = ["equals", "contains", "startswith", "endswith"]

TAG_SPEC = dict(
    target_type=dict(type="str", required=True, choices=TARGET_TYPES),
    scope=dict(type="str"),
    tag=dict(type="str"),
    tag_op=dict(type="str", choices=TAG_OPS, default="equals"),
)
CRITERIA_SPEC = dict(
    target_type=dict(type="str", choices=TARGET_TYPES),
    scope=dict(type="str"),
    tag=dict(type="str"),
    tag_op=dict(type="str", choices=TAG_OPS, default="equals"),
    all=dict(type="list", elements="dict", options=TAG_SPEC),
)
MEMBER_SPEC = dict(
    target_type=dict(type="str", required=True, choices=["NSGroup", "IPSet", "MACSet", "LogicalSwitch", "LogicalPort",
                                                         "VirtualNetworkInterface", "DirectoryGroup", "TransportNode"]),
    value=dict(type="str"),
    name=dict(type="str"),
)
# a member is given by id or by display name (manager.build_members, NsGroupAdapter)
MEMBER_CHOICE = [["value", "name"]]

NS_GROUP = Kind(
    "NSGroup",
    "NSGroup",
    common_fields() + [
        Field("criteria", "membership_criteria", compare=canon_criteria, empty=[], type="list", elements="dict", options=CRITERIA_SPEC,
              convert=lambda value, path: build_criteria(value, path[:-len("criteria")]), export=export_criteria),
        Field("members", "members", compare=canon_members, empty=[], type="list", elements="dict", options=MEMBER_SPEC,
              mutually_exclusive=MEMBER_CHOICE, required_one_of=MEMBER_CHOICE,
              convert=lambda value, path: build_members(value, path[:-len("members")]), export=export_members),
    ],
    identity="display_name",
)


# ---------------------------------------------------------------- Manager API: firewall sections (nsxt_firewall_section)

def section_rules(params, prefix, task):
    """The section type is the task's; placement is checked here and carried out by the adapter."""
    section_type = task.get("section_type", "LAYER3")
    if section_type == "LAYER2" and params.get("stateful"):
        raise ValidationError(prefix + "stateful", "layer 2 sections can only be stateless")
    position = params.get("position")
    if position in ("before", "after") and not params.get("position_anchor"):
        raise ValidationError(prefix + "position_anchor", "is required when position is '%s'" % position)
    if params.get("position_anchor") and position not in ("before", "after"):
        raise ValidationError(prefix + "position_anchor", "only goes with position before or after")
    seen = {}
    for index, rule in enumerate(params.get("rules") or []):
        # the rules of a section are matched to the section's by name: a name listed twice would
        # send one rule id twice, which NSX refuses on every later update ("Rule <id> is listed twice")
        name = rule.get("name")
        if name in seen:
            raise ValidationError("%srules[%d].name" % (prefix, index),
                                  "'%s' is already the name of rules[%d]; each rule of a section needs its own name" % (name, seen[name]))
        seen[name] = index
    return {"section_type": section_type}


FIREWALL_SECTION = Kind(
    "FirewallSection",
    "firewall section",
    common_fields() + [
        Field("section_type", "section_type", create_only=True, empty="LAYER3", task=True, choices=["LAYER3", "LAYER2"], default="LAYER3"),
        # written by the export whatever its value: a create needs it (export_section)
        Field("stateful", "stateful", create_only=True, empty=True, type="bool", export=False),
        Field("tcp_strict", "tcp_strict", empty=False, type="bool"),
        Field("applied_to", "applied_tos", compare=canon_refs, empty=[], type="list", elements="str",
              convert=lambda value, path: references(value, path, allow_empty=False), export=export_refs),
        Field("position", choices=["top", "bottom", "before", "after"]),
        Field("position_anchor"),
        Field("rules", "rules", compare=canon_section_rules, empty=[], type="list", elements="dict", options=rule_spec(["allow", "drop", "reject"]),
              convert=lambda value, path: build_section_rules(value, path[:-len("rules")]), export=export_section_rules),
    ],
    create_requires=[("stateful", "stateful")],
    identity="display_name",
    rules=section_rules,
    export_rules=export_section,
)


# ---------------------------------------------------------------- Policy API: groups (nsxt_policy_group)

CONDITION_SPEC = dict(
    member_type=dict(type="str", required=True, choices=list(MEMBER_TYPES)),
    key=dict(type="str", default="Tag", choices=list(KEYS)),
    operator=dict(type="str", default="EQUALS", choices=list(OPERATORS)),
    value=dict(type="str"),
    tag=dict(type="str"),
)


def group_rules(params, prefix, task):
    """The group expression is made of four options."""
    check_id(params.get("id") or params["name"], prefix + ("id" if params.get("id") else "name"))
    desired = {}
    criteria = [c["conditions"] for c in params.get("criteria") or []]
    if any(params.get(k) is not None for k in ("criteria", "ip_addresses", "paths", "external_ids")):
        desired["expression"] = build_group_expression(dict(params, criteria=criteria), prefix)
    return desired


POLICY_GROUP = Kind(
    "Group",
    "group",
    common_fields() + policy_fields() + [
        # the expression is four options: export_group_expression writes them
        Field("criteria", "expression", compare=canon_expression, empty=[], type="list", elements="dict",
              options=dict(conditions=dict(type="list", elements="dict", required=True, options=CONDITION_SPEC)), export=False),
        Field("ip_addresses", type="list", elements="str"),
        Field("paths", type="list", elements="str"),
        Field("external_ids", type="list", elements="str"),
        Field("external_id_member_type", default="VirtualMachine",
              choices=["VirtualMachine", "VirtualNetworkInterface", "CloudNativeServiceInstance", "PhysicalServer"]),
    ],
    identity="id",
    rules=group_rules,
    export_rules=export_group_expression,
)


# ---------------------------------------------------------------- Policy API: security policies (nsxt_security_policy)

def _scope(value):
    return tuple(sorted(v for v in value or [] if v.upper() != "ANY"))


def policy_rules(params, prefix, task):
    """Group ids of the scope and of the rules resolve in the task's domain."""
    domain = task.get("domain", "default")
    check_id(params.get("id") or params["name"], prefix + ("id" if params.get("id") else "name"))
    desired = {}
    if params.get("sequence_number") is not None and params["sequence_number"] < 0:
        raise ValidationError(prefix + "sequence_number", "must be 0 or more")
    if params.get("applied_to") is not None:
        desired["scope"] = group_refs(params["applied_to"], domain, prefix + "applied_to", allow_empty=False)
    if params.get("rules") is not None:
        for index, rule in enumerate(params["rules"]):
            if rule.get("notes") and len(rule["notes"]) > 2048:
                raise ValidationError("%srules[%d].notes" % (prefix, index), "must be at most 2048 characters long")
        desired["rules"] = build_rules(params["rules"], domain, prefix)
    return desired


SECURITY_POLICY = Kind(
    "SecurityPolicy",
    "security policy",
    common_fields() + policy_fields() + [
        Field("category", "category", empty="", choices=list(CATEGORIES)),
        Field("sequence_number", "sequence_number", empty=0, type="int"),
        Field("applied_to", "scope", compare=_scope, empty=[], type="list", elements="str", export=export_policy_scope),
        Field("stateful", "stateful", empty=True, type="bool"),
        Field("tcp_strict", "tcp_strict", empty=False, type="bool"),
        Field("rules", "rules", compare=canon_rules, empty=[], type="list", elements="dict",
              options=dict(rule_spec(["allow", "drop", "reject", "jump_to_application"]), id=dict(type="str")), export=export_policy_rules),
    ],
    identity="id",
    rules=policy_rules,
)
