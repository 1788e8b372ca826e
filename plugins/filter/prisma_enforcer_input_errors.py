# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError

from ansible_collections.microseg.segmentation.plugins.filter.network_errors import network_errors

DOCUMENTATION = r"""
name: prisma_enforcer_input_errors
short_description: What is wrong with the variables of a Prisma enforcer role
version_added: 1.0.0
author: Microseg Segmentation Maintainers (@microseg)
description:
  - The input check that C(microseg.segmentation.prisma_enforcer) and C(microseg.segmentation.prisma_enforcer_kubernetes)
    share, so that both roles apply the same rules. It returns one message per problem, each naming the variable;
    an empty list means the input is good. The roles fail with these messages before a host or a cluster is contacted.
  - "Types: every list variable (C(*_proxy_protocol_subnets), C(*_extra_options), C(*_extra_args), C(*_own_chains),
    C(*_image_pull_secrets), C(*_tolerations)) must be a list and every dict variable (C(*_tags), C(*_extra_env),
    C(*_node_selector), C(*_resources)) a dict. Role argument validation converts a comma-separated string to a list
    only for its own check, so without this rule C(\"10.0.0.0/8,192.168.0.0/16\") would reach the tasks as a string.
    A variable of the wrong type is left out of the other rules."
  - When installing (C(<role>_state=present)), C(<role>_api), C(<role>_namespace) and C(<role>_app_credential) are required.
    C(<role>_api) must be an http(s) URL and C(<role>_namespace) must start with C(/).
  - Every entry of C(<role>_proxy_protocol_subnets) must be an IPv4 or IPv6 network written C(address/length)
    (see P(microseg.segmentation.network_errors#filter)).
  - Each name in C(<role>_extra_env) must be a variable name (letters, digits, C(_), not starting with a digit), must start
    with C(ENFORCERD_) or C(CNS_AGENT_) in capitals, and must not be one the role sets itself (O(owned_env),
    C(<role>_ipv6_env) and C(<role>_proxy_protocol_env)).
  - C(<role>_ipv6_env) and C(<role>_proxy_protocol_env) must be upper-case variable names.
  - C(<role>_api), C(<role>_namespace), the values of C(<role>_extra_env), the entries of C(<role>_extra_options) or
    C(<role>_extra_args), and the keys and values of C(<role>_tags) must not contain line breaks (each becomes one line
    of a configuration file, or one argument).
positional: _input, role, owned_env
options:
  _input:
    description:
      - The role's variables, by their full names (for example C(prisma_enforcer_api)). Each must start with O(role) and C(_),
        and end with one of the names the rules above know.
      - Variables the rules do not need may be left out; a rule whose variable is missing is not applied.
    type: dict
    required: true
  role:
    description: The prefix of the role's variables, which the messages name (V(prisma_enforcer) or V(prisma_enforcer_kubernetes)).
    type: str
    required: true
  owned_env:
    description: The environment variables the role sets itself, which C(<role>_extra_env) must not set.
    type: list
    elements: str
    default: []
requirements:
  - netaddr (Python library, on the controller)
"""

EXAMPLES = r"""
- name: Refuse bad input before the host is touched
  ansible.builtin.fail:
    msg: "prisma_enforcer: {{ errors | join('; ') }}"
  when: errors | length > 0
  vars:
    errors: >-
      {{ {'prisma_enforcer_state': prisma_enforcer_state, 'prisma_enforcer_api': prisma_enforcer_api,
          'prisma_enforcer_proxy_protocol_subnets': prisma_enforcer_proxy_protocol_subnets}
         | microseg.segmentation.prisma_enforcer_input_errors('prisma_enforcer', ['ENFORCERD_API']) }}
"""

RETURN = r"""
_value:
  description: One message per problem, each naming the variable (empty when the input is good).
  type: list
  elements: str
"""

# Variable suffix -> (expected type, expected type of the elements of a list).
LISTS = {
    "proxy_protocol_subnets": str,
    "extra_options": str,
    "extra_args": str,
    "own_chains": str,
    "image_pull_secrets": str,
    "tolerations": dict,
}
DICTS = ("tags", "extra_env", "node_selector", "resources")
SCALARS = ("state", "api", "namespace", "app_credential", "ipv6_env", "proxy_protocol_env")

LIST_EXAMPLE = "a YAML list such as [a, b], or one '- item' per line"
DICT_EXAMPLE = "a YAML mapping such as {key: value}"

URL = re.compile(r"^https?://[^\s/]+")
VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ENFORCER_ENV = re.compile(r"^(ENFORCERD|CNS_AGENT)_[A-Z0-9_]+$")
UPPER_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
LINE_BREAK = re.compile(r"[\n\r]")


def _kind(value):
    """What a value is, in the words of a YAML user (never a Python class name)."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a dict"
    if isinstance(value, (list, tuple)):
        return "a list"
    return "a value of another kind"


def _type_errors(name, suffix, value):
    if suffix in DICTS:
        if isinstance(value, dict):
            return []
        return ["%s must be a dict (%s), got %s" % (name, DICT_EXAMPLE, _kind(value))]
    if not isinstance(value, (list, tuple)):
        got = _kind(value)
        if isinstance(value, str):
            got += " ('%s')" % value if len(value) <= 80 else ""
            if "," in value:
                got += ": write each entry as an item of the list, not in one comma-separated string"
        return ["%s must be a list (%s), got %s" % (name, LIST_EXAMPLE, got)]
    element = LISTS[suffix]
    errors = []
    for index, item in enumerate(value):
        if element is dict and not isinstance(item, dict):
            errors.append("%s[%d] must be a dict (%s), got %s" % (name, index, DICT_EXAMPLE, _kind(item)))
        elif element is str and (isinstance(item, (bool, dict, list, tuple)) or item is None):
            errors.append("%s[%d] must be a string, got %s" % (name, index, _kind(item)))
    return errors


def _one_line(value):
    return not LINE_BREAK.search("%s" % value)


def prisma_enforcer_input_errors(variables, role, owned_env=None):
    if not isinstance(variables, dict):
        raise AnsibleFilterError("prisma_enforcer_input_errors: expected a dict of the role's variables, got %s" % _kind(variables))
    if not isinstance(role, str) or not role:
        raise AnsibleFilterError("prisma_enforcer_input_errors: role must be the prefix of the role's variables")
    prefix = role + "_"
    known = set(LISTS) | set(DICTS) | set(SCALARS)
    errors = []
    good = {}
    for name, value in variables.items():
        suffix = name[len(prefix):] if name.startswith(prefix) else None
        if suffix not in known:
            raise AnsibleFilterError("prisma_enforcer_input_errors: %s is not a variable the checks of %s know" % (name, role))
        problems = _type_errors(name, suffix, value) if suffix in LISTS or suffix in DICTS else []
        errors.extend(problems)
        if not problems:
            good[suffix] = value

    def var(suffix):
        return prefix + suffix

    installing = good.get("state", "present") == "present"
    api = good.get("api")
    namespace = good.get("namespace")
    if installing and "api" in good and not api:
        errors.append("%s is required when installing (%s=present)" % (var("api"), var("state")))
    if api and not URL.match("%s" % api):
        errors.append("%s must be an http(s) URL, got %s" % (var("api"), api))
    if installing and "namespace" in good and not namespace:
        errors.append("%s is required when installing (%s=present)" % (var("namespace"), var("state")))
    if namespace and not ("%s" % namespace).startswith("/"):
        errors.append("%s must start with /, got %s" % (var("namespace"), namespace))
    if installing and "app_credential" in good and not good["app_credential"]:
        errors.append("%s is required when installing: the enforcer cannot register without it" % var("app_credential"))

    if "proxy_protocol_subnets" in good:
        errors.extend(network_errors(good["proxy_protocol_subnets"], var("proxy_protocol_subnets")))

    role_env = [good[s] for s in ("ipv6_env", "proxy_protocol_env") if s in good]
    for suffix in ("ipv6_env", "proxy_protocol_env"):
        if suffix in good and not UPPER_NAME.match("%s" % good[suffix]):
            errors.append("%s must be an upper-case variable name, got %s" % (var(suffix), good[suffix]))
    owned = set(owned_env or []) | set(role_env)
    for env_name in good.get("extra_env", {}):
        env_name = "%s" % env_name
        if not VARIABLE_NAME.match(env_name):
            errors.append("%s: %s is not a variable name" % (var("extra_env"), env_name))
        elif not ENFORCER_ENV.match(env_name):
            errors.append("%s: %s is not an ENFORCERD_* or CNS_AGENT_* name" % (var("extra_env"), env_name))
        elif env_name in owned:
            errors.append("%s: %s is set by the role, use its own variable" % (var("extra_env"), env_name))

    one_line = {
        "api": [good.get("api", "")],
        "namespace": [good.get("namespace", "")],
        "extra_env": list(good.get("extra_env", {}).values()),
        "extra_options": list(good.get("extra_options", [])),
        "extra_args": list(good.get("extra_args", [])),
        "tags": list(good.get("tags", {})) + list(good.get("tags", {}).values()),
    }
    broken = [var(suffix) for suffix, values in one_line.items() if not all(_one_line(v) for v in values)]
    if broken:
        errors.append("%s must not contain line breaks" % " and ".join(broken))
    return errors


class FilterModule(object):
    def filters(self):
        return {"prisma_enforcer_input_errors": prisma_enforcer_input_errors}
