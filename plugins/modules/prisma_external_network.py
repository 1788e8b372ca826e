#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: prisma_external_network
short_description: Manage Prisma Cloud Microsegmentation external networks
version_added: 1.0.0
description:
  - Create, update and delete external networks (API identity C(externalnetwork)), the addresses and
    host names outside the processing units that network rulesets refer to.
  - The module always tags the external network with C(externalnetwork:name=<name>), so rulesets can
    select it by name in a rule object such as V([["externalnetwork:name=dns"]]).
  - With O(items), many external networks of one namespace are reconciled in one task.
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
    description: Name of the external network. Required unless O(items) is used.
    type: str
  tags:
    description:
      - Tags (C(key=value)) of the external network, besides C(externalnetwork:name=<name>), which is always
        added, and C(managed-by=microseg.segmentation) on the objects the collection creates.
    type: list
    elements: str
  entries:
    description:
      - The networks, compared without regard to order. Each entry is a CIDR (V(10.0.0.0/8)), a CIDR
        prefixed with V(!) to exclude it from another entry (V(!10.1.0.0/16)), an IPv4 address, a host
        name (V(metadata.google.internal)) or a wildcard (V(*.googleapis.com)).
      - Required to create an external network.
    type: list
    elements: str
seealso:
  - module: microseg.segmentation.prisma_network_ruleset
"""

EXAMPLES = r"""
- name: The cloud metadata service
  microseg.segmentation.prisma_external_network:
    namespace: /acme/prod
    name: metadata
    entries: [169.254.169.254/32]

- name: Everything but the private ranges
  microseg.segmentation.prisma_external_network:
    namespace: /acme/prod
    name: internet
    entries: [0.0.0.0/0, "!10.0.0.0/8", "!172.16.0.0/12", "!192.168.0.0/16"]
    propagate: true

- name: Google APIs by name
  microseg.segmentation.prisma_external_network:
    namespace: /acme/prod
    name: googleapis
    entries: ["*.googleapis.com"]
"""

RETURN = r"""
id:
  description: The API identifier of the external network.
  returned: single object
  type: str
  sample: 5d2398157ddf1f3519ce6d96
action:
  description: What the task did or, in check mode, would do (V(create), V(update), V(delete) or V(none)).
  returned: single object
  type: str
object:
  description: The external network as the API returned it (predicted in check mode).
  returned: single object
  type: dict
summary:
  description: Names of the objects created, updated, deleted and left unchanged.
  returned: list form
  type: dict
objects:
  description: One entry per object with its name, action and identifier.
  returned: list form
  type: list
  elements: dict
"""

from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Field, Kind
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import validate_network_entries
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.common import PrismaAdapter, PrismaObjectModule
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.fields import build_common, common_fields, common_spec

FLAGS = ("propagate", "protected")

KIND = Kind(
    "externalnetwork",
    "external network",
    common_fields(*FLAGS) + [Field("entries", "entries", compare="set", empty=[])],
    create_requires=[("entries", "entries")],
)

OBJECT_SPEC = common_spec(*FLAGS)
OBJECT_SPEC.update(entries=dict(type="list", elements="str"))


def build(params, prefix):
    desired = build_common(params, prefix, FLAGS)
    if params.get("entries") is not None:
        desired["entries"] = validate_network_entries(params["entries"], prefix + "entries")
    return desired


class ExternalNetworkAdapter(PrismaAdapter):
    def required_tags(self, name):
        return ["externalnetwork:name=%s" % name]


def main():
    PrismaObjectModule(KIND, "/externalnetworks", OBJECT_SPEC, build, adapter_class=ExternalNetworkAdapter).run()


if __name__ == "__main__":
    main()
