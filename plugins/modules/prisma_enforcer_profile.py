#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: prisma_enforcer_profile
short_description: Manage Prisma Cloud Microsegmentation enforcer profiles
version_added: 1.0.0
description:
  - Create, update and delete enforcer profiles (API identity C(enforcerprofile)), which set the networks an
    enforcer protects or ignores, the processing units it leaves alone and the CAs it trusts.
  - Enforcers get a profile through a mapping policy, see M(microseg.segmentation.prisma_enforcer_profile_mapping).
  - With O(items), many profiles of one namespace are reconciled in one task.
author: Microseg Segmentation Maintainers (@microseg)
extends_documentation_fragment:
  - microseg.segmentation.prisma
  - microseg.segmentation.prisma.object
  - microseg.segmentation.attributes
  - microseg.segmentation.prisma.attributes
  - microseg.segmentation.prisma.common
  - microseg.segmentation.prisma.propagate
options:
  name:
    description: Name of the profile. Required unless O(items) is used.
    type: str
  target_networks:
    description:
      - TCP networks (CIDRs) where the enforcer adds identity; a CIDR prefixed with V(!) excludes part of
        another one. Empty means auto-discovery. Compared without regard to order.
    type: list
    elements: str
  target_udp_networks:
    description:
      - UDP networks the enforcer enforces, with the same syntax. Multicast (C(224.0.0.0/4), C(ff00::/8))
        may not be included.
    type: list
    elements: str
  excluded_networks:
    description: Networks (CIDRs) whose traffic the enforcer ignores and does not report.
    type: list
    elements: str
  excluded_interfaces:
    description: Network interfaces whose traffic the enforcer ignores.
    type: list
    elements: str
  ignore_expression:
    description: Tag expression of the processing units to ignore, for example V([["@app:k8s:namespace=kube-system"]]).
    type: raw
  trusted_cas:
    description: PEM CA certificates the enforcers trust; empty means the console's chain of trust.
    type: list
    elements: str
  flow_report_interval:
    description: How often flow counts are reported, as a duration such as V(30m) or V(1h30m) (API default C(30m)).
    type: str
seealso:
  - module: microseg.segmentation.prisma_enforcer_profile_mapping
"""

EXAMPLES = r"""
- name: A profile for Kubernetes nodes
  microseg.segmentation.prisma_enforcer_profile:
    namespace: /acme
    name: k8s-nodes
    target_networks: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16]
    excluded_networks: [127.0.0.0/8]
    ignore_expression: [["@app:k8s:namespace=kube-system"]]
    propagate: true
"""

RETURN = r"""
id:
  description: The API identifier of the profile.
  returned: single object
  type: str
  sample: 5d2398157ddf1f3519ce6d96
action:
  description: What the task did or, in check mode, would do (V(create), V(update), V(delete) or V(none)).
  returned: single object
  type: str
object:
  description: The profile as the API returned it (predicted in check mode).
  returned: single object
  type: dict
summary:
  description: Names of the profiles created, updated, deleted and left unchanged.
  returned: list form
  type: dict
objects:
  description: One entry per profile with its name, action and identifier.
  returned: list form
  type: list
  elements: dict
"""

import re

from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Field, Kind
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError, validate_cidrs
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.common import PrismaObjectModule
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.fields import build_common, common_fields, common_spec, expression

FLAGS = ("propagate", "protected")
DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+\Z")
MULTICAST = ("224.0.0.0/4", "ff00::/8")
NETWORK_OPTIONS = (("target_networks", "targetNetworks"), ("target_udp_networks", "targetUDPNetworks"), ("excluded_networks", "excludedNetworks"))

KIND = Kind(
    "enforcerprofile",
    "enforcer profile",
    common_fields(*FLAGS) + [Field(option, api, compare="set", empty=[]) for option, api in NETWORK_OPTIONS] + [
        Field("excluded_interfaces", "excludedInterfaces", compare="set", empty=[]),
        Field("ignore_expression", "ignoreExpression", compare="expression", empty=[]),
        Field("trusted_cas", "trustedCAs", compare="set", empty=[]),
        Field("flow_report_interval", "flowReportInterval", empty="30m"),
    ],
)

OBJECT_SPEC = common_spec(*FLAGS)
OBJECT_SPEC.update(
    target_networks=dict(type="list", elements="str"),
    target_udp_networks=dict(type="list", elements="str"),
    excluded_networks=dict(type="list", elements="str"),
    excluded_interfaces=dict(type="list", elements="str"),
    ignore_expression=dict(type="raw"),
    trusted_cas=dict(type="list", elements="str"),
    flow_report_interval=dict(type="str"),
)


def build(params, prefix):
    desired = build_common(params, prefix, FLAGS)
    for option, api in NETWORK_OPTIONS:
        if params.get(option) is not None:
            desired[api] = validate_cidrs(params[option], prefix + option, allow_exclusions=True)
    for index, network in enumerate(desired.get("targetUDPNetworks", [])):
        if network in MULTICAST:
            raise ValidationError("%starget_udp_networks[%d]" % (prefix, index), "multicast network %s may not be a UDP target network" % network)
    if params.get("excluded_interfaces") is not None:
        desired["excludedInterfaces"] = params["excluded_interfaces"]
    ignore = expression(params, prefix, "ignore_expression")
    if ignore is not None:
        desired["ignoreExpression"] = ignore
    if params.get("trusted_cas") is not None:
        for index, pem in enumerate(params["trusted_cas"]):
            if "-----BEGIN CERTIFICATE-----" not in pem:
                raise ValidationError("%strusted_cas[%d]" % (prefix, index), "must be a PEM certificate")
        desired["trustedCAs"] = params["trusted_cas"]
    if params.get("flow_report_interval") is not None:
        if not DURATION.match(params["flow_report_interval"]):
            raise ValidationError(prefix + "flow_report_interval", "'%s' is not a duration such as 30m or 1h30m" % params["flow_report_interval"])
        desired["flowReportInterval"] = params["flow_report_interval"]
    return desired


def main():
    PrismaObjectModule(KIND, "/enforcerprofiles", OBJECT_SPEC, build).run()


if __name__ == "__main__":
    main()
