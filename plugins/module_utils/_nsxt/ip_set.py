# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Manager API IPSet kind (``nsxt_ip_set``): its Fields, declared once for the module and exports.

An IPSet (``/api/v1/ip-sets``) holds at most 4000 addresses, CIDRs and ranges ``first-last``; the
spec describes it as "a homogeneous group of IP addresses, either of type IPv4 or of type IPv6",
so one IPSet does not mix the two families. Addresses are compared canonically and without regard
to order or repeats.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Field, Kind
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.module import common_fields
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.policy import _ip_value, _ip_version

MAX_IP_ADDRESSES = 4000


def build_ip_addresses(values, option):
    """``ip_addresses``: canonical addresses, CIDRs and ranges, all of one family, at most 4000."""
    if len(values) > MAX_IP_ADDRESSES:
        raise ValidationError(option, "an IPSet holds at most %d addresses, CIDRs and ranges, got %d" % (MAX_IP_ADDRESSES, len(values)))
    checked = [_ip_value(value, "%s[%d]" % (option, index)) for index, value in enumerate(values)]
    first = {}
    for index, value in enumerate(checked):
        first.setdefault(_ip_version(value), index)
    if len(first) > 1:
        raise ValidationError("%s[%d]" % (option, max(first.values())),
                              "an IPSet holds either IPv4 or IPv6 addresses; this list mixes them (first IPv4 at [%d], first IPv6 at [%d])"
                              % (first[4], first[6]))
    return checked


def canon_ip_addresses(value):
    """Addresses as a sorted set of canonical strings (an API value that does not parse stays as it is)."""
    canon = set()
    for entry in value or []:
        try:
            canon.add(_ip_value(entry.strip(), "ip_addresses"))
        except (ValidationError, ValueError, AttributeError):
            canon.add(entry)
    return tuple(sorted(canon, key=str))


IP_SET = Kind(
    "IPSet",
    "IPSet",
    common_fields() + [
        Field("ip_addresses", "ip_addresses", compare=canon_ip_addresses, empty=[], type="list", elements="str",
              convert=build_ip_addresses),
    ],
    identity="display_name",
)
