# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The quicker declaration path of the list forms (``_core/sources.py`` fast check, ``Kind.build``,
the Prisma rules' ``build_rules`` and ``canon_rules``) gives what the plain code it replaced gave.

The plain versions are kept below as the reference; every item the playbooks and integration
targets declare, and generated rules (good, bad and duplicated), go through both.
"""

import copy
import random

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.microseg.segmentation.plugins.module_utils._core.adapter import Task
from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import canon_expression, json_copy
from ansible_collections.microseg.segmentation.plugins.module_utils._core.sources import _fast_item, _Unsure, validate_entries
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError, validate_protocol_ports
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma import kinds
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.fields import tag_expression

from test_list_form_src import declared_items  # pylint: disable=import-error
from test_object_modules import OBJECT_MODULES  # pylint: disable=import-error

# ---------------------------------------------------------------- the reference: the plain code

_EXACT_TYPES = {"str": str, "int": int, "bool": bool, "list": list, "dict": dict}
_SUB_RULES = ("mutually_exclusive", "required_one_of", "required_together", "required_if", "required_by")


def plain_fast_value(option, value):
    kind = option.get("type", "str")
    if kind != "raw":
        if kind not in _EXACT_TYPES or type(value) is not _EXACT_TYPES[kind]:  # pylint: disable=unidiomatic-typecheck
            raise _Unsure()
    choices = option.get("choices")
    if choices is not None and any(v not in choices for v in (value if kind == "list" else [value])):
        raise _Unsure()
    if kind == "list" and option.get("elements") not in (None, "raw"):
        element = dict(type=option["elements"], options=option.get("options"))
        return [plain_fast_value(element, v) for v in value]
    if kind == "dict" and option.get("options") is not None:
        return plain_fast_item(option["options"], value)
    return value


def plain_fast_item(spec, params):
    if any(key not in spec for key in params):
        raise _Unsure()
    validated = {}
    for name, option in spec.items():
        value = params.get(name)
        if value is None:
            if option.get("required"):
                raise _Unsure()
            default = option.get("default")
            validated[name] = copy.deepcopy(default) if isinstance(default, (list, dict)) else default
            continue
        if option.get("no_log") or any(option.get(rule) for rule in _SUB_RULES):
            raise _Unsure()
        validated[name] = plain_fast_value(option, value)
    return validated


def plain_build(kind, values, prefix, task):
    for field in kind.options(task=False):
        if field.key and field.convert and values.get(field.option) is not None:
            field.convert(values[field.option], prefix + field.option)
    desired = dict(kind.rules(values, prefix, task) or {})
    for field in kind.options(task=False):
        if field.api is None or field.key or field.api in desired or values.get(field.option) is None:
            continue
        value = values[field.option]
        desired[field.api] = field.convert(value, prefix + field.option) if field.convert else value
    return desired


def plain_canon_rules(rules):
    canon = []
    for rule in rules or []:
        canon.append((
            rule.get("action") or "Allow",
            canon_expression(rule.get("object")),
            tuple(sorted(p.lower() for p in rule.get("protocolPorts") or [])),
            bool(rule.get("logsDisabled")),
            bool(rule.get("observationEnabled")),
            rule.get("name") or "",
        ))
    return tuple(sorted(canon, key=repr))


def plain_build_rules(rules, option):
    built = []
    for index, rule in enumerate(rules):
        path = "%s[%d]." % (option, index)
        api_rule = {
            "action": rule["action"].capitalize(),
            "object": tag_expression(strict=True)(rule["object"], path + "object"),
            "protocolPorts": validate_protocol_ports(rule["protocol_ports"], path + "protocol_ports"),
            "logsDisabled": rule["logs_disabled"],
            "observationEnabled": rule["observation_enabled"],
        }
        if rule.get("name"):
            if len(rule["name"]) > 16:
                raise ValidationError(path + "name", "must be at most 16 characters long")
            api_rule["name"] = rule["name"]
        built.append(api_rule)
    seen = {}
    for index, api_rule in enumerate(built):
        key = plain_canon_rules([dict(api_rule, name="")])
        if key in seen:
            raise ValidationError(option, "rules %d and %d are duplicates (same action, object and protocol ports)" % (seen[key], index))
        seen[key] = index
    return built


# ---------------------------------------------------------------- helpers


def outcome(function, *args):
    """``("value", value)`` or ``("error", type, message)``."""
    try:
        return ("value", function(*copy.deepcopy(args)))
    except Exception as exc:  # pylint: disable=broad-exception-caught
        return ("error", type(exc), str(exc))


def shape(value):
    """``value`` with the type of everything in it, in order (``True`` is not ``1`` here)."""
    if isinstance(value, dict):
        return (type(value), tuple((shape(k), shape(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return (type(value), tuple(shape(v) for v in value))
    if isinstance(value, (set, frozenset)):
        return (type(value), tuple(sorted(repr(shape(v)) for v in value)))
    return (type(value), repr(value))


def same(left, right):
    """Equal, with the same types all the way down."""
    return left == right and shape(left) == shape(right)


def assert_same_outcome(left, right, context):
    assert left[0] == right[0], (context, left, right)
    if left[0] == "error":
        assert left == right, context
    else:
        assert same(left[1], right[1]), (context, left[1], right[1])


UNSURE_ITEMS = [
    {"name": "x", "subject": [["app=x"]], "disabled": "yes"},
    {"name": 7, "subject": [["app=x"]]},
    {"name": "x", "incoming_rules": [{"object": [["a=b"]], "action": "maybe"}]},
    {"name": "x", "incoming_rules": "tcp/80"},
    {"name": "x", "colour": "red"},
    {"name": "x", "incoming_rules": [{"action": "allow"}]},
    {"name": "x", "incoming_rules": [{"object": [["a=b"]], "protocol_ports": "tcp/80"}]},
    {"name": "x", "incoming_rules": [{"object": [["a=b"]], "logs_disabled": "no"}]},
    {"name": "x", "incoming_rules": [None]},
    {"name": "x", "tags": ["a=b", 3]},
    {"name": "x", "state": "gone"},
    {"name": "x", "state": "absent"},
    {"name": "x", "auth_token": "tok-123456"},
    {1: "x"},
    {},
]


def generated_rulesets(count, seed):
    rng = random.Random(seed)
    items = []
    for index in range(count):
        rules, size = [], rng.randint(0, 4)
        while len(rules) < size:
            rule = {"object": rng.choice([[["app=db"]], [["app=web", "env=prod"]], [["externalnetwork:name=dns"]], ["app=x"], "app=y"])}
            if rng.random() < 0.7:
                rule["protocol_ports"] = rng.choice([["tcp/443"], ["tcp/80", "tcp/443"], ["any"], ["udp/53", "TCP/8080"], ["icmp"]])
            if rng.random() < 0.3:
                rule["action"] = rng.choice(["allow", "reject"])
            if rng.random() < 0.2:
                rule["name"] = rng.choice(["web", "dns-out", ""])
            if rng.random() < 0.2:
                rule["logs_disabled"] = rng.choice([True, False])
            rules.append(rule)
        items.append({"name": "rs-%d" % index, "subject": [["app=svc-%d" % (index % 7)]], "incoming_rules": rules})
    return items


# ---------------------------------------------------------------- the fast check


@pytest.fixture(scope="module", name="declared")
def fixture_declared():
    return declared_items()


def test_the_fast_check_gives_what_the_plain_one_gave_for_every_item(declared):
    names = sorted(OBJECT_MODULES)
    specs = dict((name, OBJECT_MODULES[name].kind.item_spec()) for name in names)
    # each declared item against its module's spec and another module's; the rest against every spec
    cases = list(declared)
    cases += [(names[(names.index(name) + 1) % len(names)], item) for name, item in declared]
    cases += [(name, item) for name in names for item in UNSURE_ITEMS + generated_rulesets(10, 1)]
    unsure = 0
    for name, item in cases:
        expected, found = outcome(plain_fast_item, specs[name], item), outcome(_fast_item, specs[name], item)
        assert_same_outcome(expected, found, (name, item))
        unsure += expected[0] == "error"
    assert len(cases) > 500 and 100 < unsure < len(cases) - 100, (len(cases), unsure)


def test_validated_items_get_their_own_copy_of_each_default():
    spec = OBJECT_MODULES["prisma_network_ruleset"].kind.item_spec()
    entries = [("f.yml[%d]" % i, {"name": "r%d" % i, "incoming_rules": [{"object": [["a=b"]]}, {"object": [["c=d"]]}]}) for i in range(2)]
    validated = validate_entries(entries, spec, set())
    ports = [rule["protocol_ports"] for dummy, item in validated for rule in item["incoming_rules"]]
    assert ports == [["any"]] * 4 and len(set(id(p) for p in ports)) == 4
    ports[0].append("tcp/1")
    assert spec["incoming_rules"]["options"]["protocol_ports"]["default"] == ["any"]
    assert validate_entries(entries, spec, set())[0][1]["incoming_rules"][0]["protocol_ports"] == ["any"]


# ---------------------------------------------------------------- Kind.build


def test_kind_build_gives_what_the_plain_one_gave_for_every_declared_item(declared):
    compared = failed = 0
    for name, item in declared + [("prisma_network_ruleset", item) for item in generated_rulesets(60, 2)]:
        runner = OBJECT_MODULES[name]
        result = ArgumentSpecValidator(runner.kind.item_spec()).validate(copy.deepcopy(item))
        if result.errors.errors:
            continue  # templated, or refused before any build
        values = result.validated_parameters
        task = Task({"items": [item]})
        expected = outcome(plain_build, runner.kind, values, "items[0].", task)
        found = outcome(runner.kind.build, values, "items[0].", task)
        assert_same_outcome(expected, found, (name, item))
        compared += 1
        failed += expected[0] == "error"
    assert compared > 150 and failed > 0, (compared, failed)


# ---------------------------------------------------------------- the Prisma rules


def generated_rules(count, seed):
    """Rule lists as validated (every option present), good and bad, with duplicates."""
    rng = random.Random(seed)
    objects = [[["app=db"]], [["app=web", "env=prod"]], [["env=prod", "app=web"]], ["app=x"], "app=y", [], [[]], [["app=db"], ["app=db"]],
               [["bad tag"]], [["a=b", "a=b"]], None, 5, [["externalnetwork:name=dns"]], [["$identity=processingunit", "app=a"]]]
    ports = [["tcp/443"], ["TCP/443"], ["tcp/80", "tcp/443"], ["tcp/443", "tcp/80"], ["any"], ["ANY"], ["udp/53"], ["icmp/8/0"], [], ["tcp/99999"],
             ["tcp/443", "TCP/443"], ["any", "tcp/1"], ["gre"], ["tcp/1024:65535"], ["tcp"], [5], None]
    lists = []
    while len(lists) < count:
        rules = []
        for position in range(rng.randint(0, 5)):
            rules.append({
                "action": rng.choice(["allow", "reject", "allow"]),
                "object": copy.deepcopy(rng.choice(objects)),
                "protocol_ports": copy.deepcopy(rng.choice(ports)),
                "logs_disabled": rng.choice([False, False, True]),
                "observation_enabled": rng.choice([False, True]),
                "name": rng.choice([None, None, "web", "a-very-long-rule-name", "", "rule-%d" % position]),
            })
        lists.append(rules)
    # the same rule twice, as written or in other words (case, order), with a name or without
    good = {"action": "allow", "object": [["app=web", "env=prod"]], "protocol_ports": ["tcp/80", "tcp/443"], "logs_disabled": False,
            "observation_enabled": False, "name": None}
    for other in ({}, {"name": "web"}, {"protocol_ports": ["TCP/443", "tcp/80"]}, {"object": [["env=prod", "app=web"]]}, {"action": "reject"},
                  {"logs_disabled": True}, {"observation_enabled": True}):
        lists.append([copy.deepcopy(good), dict(copy.deepcopy(good), **other)])
    return lists


def test_build_rules_gives_what_the_plain_one_gave_twice_over():
    lists = generated_rules(400, 3)
    outcomes = {"value": 0, "error": 0}
    for rules in lists + lists:  # the second time, what the first one checked is remembered
        expected = outcome(plain_build_rules, rules, "incoming_rules")
        found = outcome(kinds.build_rules, rules, "incoming_rules")
        assert_same_outcome(expected, found, rules)
        outcomes[expected[0]] += 1
    assert outcomes["value"] > 100 and outcomes["error"] > 100, outcomes
    assert sum("duplicates" in str(outcome(kinds.build_rules, rules, "r")) for rules in lists) >= 4


def test_remembered_protocol_ports_are_a_new_list_each_time():
    rule = {"action": "allow", "object": [["a=b"]], "protocol_ports": ["TCP/0443", "udp/53"], "logs_disabled": False, "observation_enabled": False}
    first = kinds.build_rules([copy.deepcopy(rule)], "incoming_rules")
    first[0]["protocolPorts"].append("icmp")
    second = kinds.build_rules([copy.deepcopy(rule)], "incoming_rules")
    assert second[0]["protocolPorts"] == ["tcp/443", "udp/53"] and second[0]["protocolPorts"] is not first[0]["protocolPorts"]
    # a list refused is refused each time, with its own path
    bad = dict(rule, protocol_ports=["tcp/443", "tcp/0443"])
    for index in (0, 1):
        with pytest.raises(ValidationError, match=r"^r\[%d\]\.protocol_ports\[1\]: 'tcp/0443' is listed twice" % index):
            kinds.build_rules([rule] * index + [bad], "r")


def api_rules(seed, count):
    rng = random.Random(seed)
    lists = []
    while len(lists) < count:
        rules, size = [], rng.randint(0, 4)
        while len(rules) < size:
            rule = {"object": rng.choice([[["app=db"]], [["env=prod", "app=web"], ["app=web"]], "app=x", None, []])}
            for key, choices in (("action", ["Allow", "Reject", "", None]), ("protocolPorts", [["TCP/443"], ["tcp/80", "udp/53"], [], None]),
                                 ("logsDisabled", [True, False, None, 1]), ("observationEnabled", [True, False, 0]), ("name", ["web", "", None])):
                if rng.random() < 0.7:
                    rule[key] = rng.choice(choices)
            rules.append(rule)
        lists.append(rules)
    return lists + [None, []]


def test_canon_rules_gives_what_the_plain_one_gave():
    lists = api_rules(4, 300)
    for rules in lists:
        assert kinds.canon_rules(rules) == plain_canon_rules(rules), rules
        assert repr(kinds.canon_rules(rules)) == repr(plain_canon_rules(rules))
    # a multiset: the order of the rules does not matter, anything else does
    for rules in [r for r in lists if r]:
        assert kinds.canon_rules(list(reversed(rules))) == kinds.canon_rules(rules)
        changed = [dict(rules[0], name="other")] + rules[1:]
        assert kinds.canon_rules(changed) != kinds.canon_rules(rules)


# ---------------------------------------------------------------- json_copy


def plain_json_copy(value):
    if isinstance(value, dict):
        return dict((k, plain_json_copy(v)) for k, v in value.items())
    if isinstance(value, list):
        return [plain_json_copy(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return copy.deepcopy(value)


class Text(str):
    pass


class Mapping(dict):
    pass


def containers(value, found=None):
    found = [] if found is None else found
    if isinstance(value, (dict, list, tuple, set)):
        found.append(value)
        for child in (value.values() if isinstance(value, dict) else value):
            containers(child, found)
    return found


def test_json_copy_gives_what_the_plain_one_gave():
    values = api_rules(5, 50)
    values += [None, "", 0, 1.5, True, Text("t"), [Text("u"), 2], Mapping(a=[1, {"b": Text("c")}]), {"t": (1, [2]), "s": {3}, 1: [None]},
               {"deep": [[[["x"]]]], "empty": {}, "list": []}]
    for value in values:
        copied, expected = json_copy(value), plain_json_copy(value)
        assert copied == expected and same(copied, expected) and type(copied) is type(expected)
        # every container is new, every scalar the same object
        assert not set(map(id, containers(copied))) & set(map(id, containers(value)))
        assert [type(c) for c in containers(copied)] == [type(c) for c in containers(expected)]
    assert json_copy(values[-3])["a"][1]["b"] is values[-3]["a"][1]["b"]
