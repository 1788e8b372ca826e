# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError, validate_cidr

DOCUMENTATION = r"""
name: network_errors
short_description: What is wrong with each entry of a list of networks
version_added: 1.0.0
author: Microseg Segmentation Maintainers (@microseg)
description:
  - Checks every entry of a list as an IPv4 or IPv6 network written C(address/prefix-length), the way the
    collection's modules check the networks they are given, and returns one message per bad entry.
  - An empty result means every entry is valid. The roles use it to refuse bad input before the host is touched.
positional: _input, option
options:
  _input:
    description: The networks.
    type: list
    elements: str
    required: true
  option:
    description: The name the messages give to the list (each message names the entry as C(option[index])).
    type: str
    default: networks
requirements:
  - netaddr (Python library, on the controller)
"""

EXAMPLES = r"""
- name: Refuse invalid load-balancer subnets
  ansible.builtin.assert:
    that: prisma_enforcer_proxy_protocol_subnets | microseg.segmentation.network_errors('prisma_enforcer_proxy_protocol_subnets') == []
    fail_msg: "{{ prisma_enforcer_proxy_protocol_subnets | microseg.segmentation.network_errors('prisma_enforcer_proxy_protocol_subnets') }}"
"""

RETURN = r"""
_value:
  description: One message per invalid entry, naming it (empty when all are valid).
  type: list
  elements: str
"""


def network_errors(networks, option="networks"):
    if networks is None:
        return []
    if isinstance(networks, str) or not isinstance(networks, (list, tuple)):
        raise AnsibleFilterError("network_errors: expected a list of networks, got %s" % type(networks).__name__)
    errors = []
    for index, entry in enumerate(networks):
        try:
            validate_cidr(entry, "%s[%d]" % (option, index))
        except ValidationError as exc:
            errors.append(str(exc))
        except ImportError as exc:
            raise AnsibleFilterError("network_errors: %s" % exc) from exc
    return errors


class FilterModule(object):
    def filters(self):
        return {"network_errors": network_errors}
