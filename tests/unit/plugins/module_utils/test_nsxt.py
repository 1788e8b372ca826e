# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NSX-T helpers that need no manager: tags, services, group expressions, rules and their comparison."""

import pytest

from ansible_collections.microseg.segmentation.plugins.module_utils._core.ownership import Ownership
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.common import (
    MANAGED_TAG,
    NsxtTags,
    build_tags,
    canon_tags,
    format_service,
    parse_service,
    parse_services,
)
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.policy import (
    build_group_expression,
    build_rules,
    canon_expression,
    canon_rules,
    group_refs,
)

RULE_DEFAULTS = dict(services=["any"], direction="in_out", ip_protocol="ipv4_ipv6", logged=False, disabled=False,
                     sources_excluded=False, destinations_excluded=False)


def rule(**kwargs):
    return dict(RULE_DEFAULTS, **kwargs)


def test_tags_from_strings_and_mappings():
    tags = build_tags({"tags": ["app|web", "solo", {"scope": "env", "tag": "prod"}]}, "")
    assert tags == [{"scope": "app", "tag": "web"}, {"scope": "", "tag": "solo"}, {"scope": "env", "tag": "prod"}]
    assert canon_tags(tags) == canon_tags(list(reversed(tags)))


def test_more_than_thirty_tags_is_refused():
    with pytest.raises(ValidationError, match="at most 30 tags"):
        build_tags({"tags": ["t|%d" % i for i in range(31)]}, "items[0].")


def test_management_tag_added_on_create_not_on_single_update():
    rule = Ownership(NsxtTags(), owner="team-a")
    assert rule.tags("g", None, None) == [MANAGED_TAG, {"scope": "managed-scope", "tag": "team-a"}]
    assert MANAGED_TAG not in rule.tags("g", None, {"tags": []})
    assert MANAGED_TAG in Ownership(NsxtTags(), adopt=True).tags("g", None, {"tags": []})


@pytest.mark.parametrize("value, parsed, text", [
    ("tcp/443", {"l4_protocol": "TCP", "ports": ["443"]}, "tcp/443"),
    ("UDP/53", {"l4_protocol": "UDP", "ports": ["53"]}, "udp/53"),
    ("tcp/1:1024", {"l4_protocol": "TCP", "ports": ["1-1024"]}, "tcp/1:1024"),
    ("icmp/8/0", {"icmp": "ICMPv4", "type": 8, "code": 0}, "icmp/8/0"),
    ("icmp6", {"icmp": "ICMPv6"}, "icmp6"),
])
def test_services_round_trip(value, parsed, text):
    assert parse_service(value, "s") == parsed
    assert format_service(parsed) == text


@pytest.mark.parametrize("values, message", [
    (["tcp/70000"], "between 0 and 65535"),
    (["icmp/3/0,1"], "one ICMP code per service"),
    (["gre"], "only any, tcp, udp, icmp and icmp6"),
    (["any", "tcp/80"], "must be the only service"),
])
def test_bad_services(values, message):
    with pytest.raises(ValidationError, match=message):
        parse_services(values, "rules[0].services")


def test_any_service_is_an_empty_list():
    assert parse_services(["any"], "s") == []


def test_group_expression_and_or_structure():
    conditions = [{"member_type": "SegmentPort", "tag": "app|a"}, {"member_type": "SegmentPort", "tag": "ncp/project|x1"}]
    expression = build_group_expression({"criteria": [conditions], "ip_addresses": ["10.0.0.0/24"]}, "")
    assert [e["resource_type"] for e in expression] == ["NestedExpression", "ConjunctionOperator", "IPAddressExpression"]
    assert expression[1]["conjunction_operator"] == "OR"
    nested = expression[0]["expressions"]
    assert [e["resource_type"] for e in nested] == ["Condition", "ConjunctionOperator", "Condition"]
    assert nested[0]["value"] == "app|a" and nested[1]["conjunction_operator"] == "AND"


def test_group_expression_rules():
    with pytest.raises(ValidationError, match="same member_type"):
        build_group_expression({"criteria": [[{"member_type": "SegmentPort", "tag": "a|b"}, {"member_type": "VirtualMachine", "tag": "a|b"}]]}, "")
    with pytest.raises(ValidationError, match="at most 5 conditions"):
        build_group_expression({"criteria": [[{"member_type": "VirtualMachine", "tag": "a|%d" % i}] for i in range(6)]}, "")
    with pytest.raises(ValidationError, match="not a valid"):
        build_group_expression({"ip_addresses": ["10.0.0.300"]}, "")


def test_expression_comparison_ignores_server_decorations():
    sent = build_group_expression({"criteria": [[{"member_type": "VirtualMachine", "tag": "app|web"}]]}, "")
    returned = [dict(sent[0], id="c1", path="/infra/domains/default/groups/g/condition-expressions/c1", _protection="NOT_PROTECTED")]
    assert canon_expression(sent) == canon_expression(returned)
    changed = [dict(sent[0], value="app|db")]
    assert canon_expression(sent) != canon_expression(changed)


def test_group_references():
    assert group_refs(["web", "/infra/domains/default/groups/db", "10.0.0.0/8", "10.0.0.1-10.0.0.5"], "default", "s") == [
        "/infra/domains/default/groups/web", "/infra/domains/default/groups/db", "10.0.0.0/8", "10.0.0.1-10.0.0.5"]
    assert group_refs([], "default", "s") == ["ANY"]
    with pytest.raises(ValidationError, match="is empty"):
        group_refs([], "default", "applied_to", allow_empty=False)
    with pytest.raises(ValidationError, match="ANY must be the only entry"):
        group_refs(["ANY", "web"], "default", "s")


def test_rules_are_ordered_and_compared_in_order():
    rules = build_rules([rule(name="a-to-b", action="allow", sources=["a"], destinations=["b"], services=["tcp/80"]),
                         rule(name="deny", action="reject")], "default", "")
    assert [r["sequence_number"] for r in rules] == [10, 20]
    assert rules[0]["service_entries"][0]["destination_ports"] == ["80"] and rules[0]["services"] == []
    assert rules[1]["source_groups"] == ["ANY"] and rules[1]["services"] == ["ANY"]
    swapped = build_rules([rule(name="deny", action="reject"),
                           rule(name="a-to-b", action="allow", sources=["a"], destinations=["b"], services=["tcp/80"])], "default", "")
    assert canon_rules(rules) != canon_rules(swapped)
    # what the server echoes back (decorations, shuffled order, rule_id) compares equal
    echoed = [dict(r, rule_id=1000 + i, path="/x", profiles=["ANY"], is_default=False) for i, r in enumerate(rules)]
    assert canon_rules(rules) == canon_rules(list(reversed(echoed)))


def test_duplicate_rule_names_are_refused():
    with pytest.raises(ValidationError, match="names two rules"):
        build_rules([rule(name="x", action="allow"), rule(name="x", action="drop")], "default", "")
