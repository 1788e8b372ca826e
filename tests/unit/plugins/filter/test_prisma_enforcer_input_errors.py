# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The input check shared by the two Prisma enforcer roles (plugins/filter/prisma_enforcer_input_errors.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.microseg.segmentation.plugins.filter.prisma_enforcer_input_errors import FilterModule, prisma_enforcer_input_errors

ROLES = ["prisma_enforcer", "prisma_enforcer_kubernetes"]
OWNED = ["ENFORCERD_API", "ENFORCERD_NAMESPACE"]


def good(role, **changes):
    """The variables of a good install, as the role passes them, with ``changes`` (suffix -> value)."""
    values = {
        "state": "present",
        "api": "https://api.example.invalid",
        "namespace": "/acme/prod",
        "app_credential": '{"name": "enforcerd"}',
        "proxy_protocol_subnets": ["10.0.0.0/8", "2001:db8::/32"],
        "extra_env": {"ENFORCERD_X": "1", "CNS_AGENT_Y": "2"},
        "extra_options" if role == "prisma_enforcer" else "extra_args": ["--opt=1"],
        "tags": {"site": "east"},
        "ipv6_env": "ENFORCERD_ENABLE_IPV6",
        "proxy_protocol_env": "ENFORCERD_PROXY_PROTOCOL_SUBNETS",
    }
    values.update(changes)
    return {"%s_%s" % (role, suffix): value for suffix, value in values.items()}


def check(role, **changes):
    return prisma_enforcer_input_errors(good(role, **changes), role, OWNED)


@pytest.mark.parametrize("role", ROLES)
def test_good_input_has_no_error(role):
    assert check(role) == []


def test_registered_under_its_name():
    assert FilterModule().filters() == {"prisma_enforcer_input_errors": prisma_enforcer_input_errors}


@pytest.mark.parametrize("role", ROLES)
def test_comma_string_for_a_list_names_the_variable_and_what_is_expected(role):
    errors = check(role, proxy_protocol_subnets="10.0.0.0/8,192.168.0.0/16")
    assert errors == [
        "%s_proxy_protocol_subnets must be a list (a YAML list such as [a, b], or one '- item' per line), got a string "
        "('10.0.0.0/8,192.168.0.0/16'): write each entry as an item of the list, not in one comma-separated string" % role
    ]


@pytest.mark.parametrize(
    "suffix, value, expected",
    [
        ("own_chains", "PRISMA-*,TRI-*", "prisma_enforcer_own_chains must be a list"),
        ("extra_options", "--a", "prisma_enforcer_extra_options must be a list"),
        ("extra_options", 5, "prisma_enforcer_extra_options must be a list (a YAML list such as [a, b], or one '- item' per line), got a number"),
        ("proxy_protocol_subnets", None, "got nothing (null)"),
        ("tags", "site=east", "prisma_enforcer_tags must be a dict (a YAML mapping such as {key: value}), got a string"),
        ("extra_env", ["ENFORCERD_X=1"], "prisma_enforcer_extra_env must be a dict (a YAML mapping such as {key: value}), got a list"),
        ("extra_options", ["--a", {"b": 1}], "prisma_enforcer_extra_options[1] must be a string, got a dict"),
    ],
)
def test_wrong_types(suffix, value, expected):
    errors = check("prisma_enforcer", **{suffix: value})
    assert len(errors) == 1 and expected in errors[0], errors
    assert "str'" not in errors[0] and "NoneType" not in errors[0] and "Tagged" not in errors[0]


def test_kubernetes_only_lists_and_dicts_are_checked_too():
    variables = good(
        "prisma_enforcer_kubernetes",
        image_pull_secrets="pull-1,pull-2",
        tolerations=["operator=Exists"],
        node_selector="role=worker",
        resources=[],
    )
    errors = prisma_enforcer_input_errors(variables, "prisma_enforcer_kubernetes", OWNED)
    assert [e.split(" must ")[0] for e in errors] == [
        "prisma_enforcer_kubernetes_image_pull_secrets",
        "prisma_enforcer_kubernetes_tolerations[0]",
        "prisma_enforcer_kubernetes_node_selector",
        "prisma_enforcer_kubernetes_resources",
    ]


def test_a_wrong_type_is_left_out_of_the_other_rules():
    # A string extra_env would otherwise be read name by name, a string of subnets entry by entry.
    errors = check("prisma_enforcer", extra_env="PATH=/tmp\nX", proxy_protocol_subnets="bad")
    assert len(errors) == 2
    assert all(" must be a " in e for e in errors), errors


@pytest.mark.parametrize("role", ROLES)
def test_required_when_installing(role):
    errors = check(role, api="", namespace="", app_credential="")
    assert errors == [
        "%s_api is required when installing (%s_state=present)" % (role, role),
        "%s_namespace is required when installing (%s_state=present)" % (role, role),
        "%s_app_credential is required when installing: the enforcer cannot register without it" % role,
    ]


@pytest.mark.parametrize("role", ROLES)
def test_not_required_when_removing(role):
    assert check(role, state="absent", api="", namespace="", app_credential="") == []


@pytest.mark.parametrize("role", ROLES)
def test_api_and_namespace_forms(role):
    errors = check(role, api="api.example.invalid", namespace="acme")
    assert errors == [
        "%s_api must be an http(s) URL, got api.example.invalid" % role,
        "%s_namespace must start with /, got acme" % role,
    ]


@pytest.mark.parametrize("role", ROLES)
def test_subnets_are_networks(role):
    errors = check(role, proxy_protocol_subnets=["10.0.0.0/8", "10.1.300.0/24", "192.168.1.10"])
    assert len(errors) == 2
    assert errors[0].startswith("%s_proxy_protocol_subnets[1]: '10.1.300.0/24' is not a valid CIDR" % role)
    assert errors[1].startswith("%s_proxy_protocol_subnets[2]: '192.168.1.10' is not a valid CIDR: the prefix length is missing" % role)


@pytest.mark.parametrize("role", ROLES)
def test_extra_env_names_union_of_both_roles_rules(role):
    errors = check(role, extra_env={"ENFORCERD_API": "x", "PATH": "/tmp", "BAD-NAME": "y", "enforcerd_lower": "z", "ENFORCERD_OK": "1"})
    assert errors == [
        "%s_extra_env: ENFORCERD_API is set by the role, use its own variable" % role,
        "%s_extra_env: PATH is not an ENFORCERD_* or CNS_AGENT_* name" % role,
        "%s_extra_env: BAD-NAME is not a variable name" % role,
        "%s_extra_env: enforcerd_lower is not an ENFORCERD_* or CNS_AGENT_* name" % role,
    ]


@pytest.mark.parametrize("role", ROLES)
def test_extra_env_cannot_set_the_renamed_ipv6_and_proxy_variables(role):
    errors = check(role, ipv6_env="ENFORCERD_V6", extra_env={"ENFORCERD_V6": "true", "ENFORCERD_PROXY_PROTOCOL_SUBNETS": "10.0.0.0/8"})
    assert errors == [
        "%s_extra_env: ENFORCERD_V6 is set by the role, use its own variable" % role,
        "%s_extra_env: ENFORCERD_PROXY_PROTOCOL_SUBNETS is set by the role, use its own variable" % role,
    ]


@pytest.mark.parametrize("role", ROLES)
def test_renamed_variables_must_be_upper_case_names(role):
    errors = check(role, ipv6_env="enable-ipv6", proxy_protocol_env="ENFORCERD PROXY")
    assert errors == [
        "%s_ipv6_env must be an upper-case variable name, got enable-ipv6" % role,
        "%s_proxy_protocol_env must be an upper-case variable name, got ENFORCERD PROXY" % role,
    ]


@pytest.mark.parametrize("role, args", [("prisma_enforcer", "extra_options"), ("prisma_enforcer_kubernetes", "extra_args")])
def test_line_breaks_refused_on_both_roles(role, args):
    errors = check(
        role,
        **{
            "api": "https://api.example.invalid/\nENFORCERD_X=1",
            "extra_env": {"ENFORCERD_X": "a\rb"},
            args: ["--x=1\nENFORCERD_API=evil"],
            "tags": {"site\n": "east"},
        }
    )
    assert errors == ["%s_api and %s_extra_env and %s_%s and %s_tags must not contain line breaks" % (role, role, role, args, role)]


def test_line_break_in_a_tag_value():
    assert check("prisma_enforcer", tags={"site": "east\nENFORCERD_API=x"}) == ["prisma_enforcer_tags must not contain line breaks"]


def test_rules_without_their_variable_are_not_applied():
    assert prisma_enforcer_input_errors({"prisma_enforcer_state": "present"}, "prisma_enforcer") == []


def test_unknown_variable_is_a_programming_error():
    with pytest.raises(AnsibleFilterError, match="prisma_enforcer_kubernetes_api is not a variable the checks of prisma_enforcer know"):
        prisma_enforcer_input_errors({"prisma_enforcer_kubernetes_api": "x"}, "prisma_enforcer")


@pytest.mark.parametrize("variables, role", [("prisma_enforcer_api=x", "prisma_enforcer"), ({}, "")])
def test_bad_call(variables, role):
    with pytest.raises(AnsibleFilterError):
        prisma_enforcer_input_errors(variables, role)
