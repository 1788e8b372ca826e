#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: prisma_enforcer_profile_mapping
short_description: Manage Prisma Cloud Microsegmentation enforcer profile mapping policies
version_added: 1.0.0
description:
  - Create, update and delete enforcer profile mapping policies (API identity
    C(enforcerprofilemappingpolicy)), which give the enforcers selected by O(subject) the enforcer
    profile selected by O(object).
  - With O(items), many mappings of one namespace are reconciled in one task.
author: Microseg Segmentation Maintainers (@microseg)
extends_documentation_fragment:
  - microseg.segmentation.prisma
  - microseg.segmentation.prisma.object
  - microseg.segmentation.attributes
  - microseg.segmentation.prisma.attributes
  - microseg.segmentation.prisma.common
  - microseg.segmentation.prisma.propagate
  - microseg.segmentation.prisma.disabled
  - microseg.segmentation.prisma.fallback
options:
  name:
    description: Name of the mapping policy. Required unless O(items) is used.
    type: str
  subject:
    description: Tag expression of the enforcers, for example V([["$identity=enforcer"]]). Required to create a mapping.
    type: raw
  object:
    description: Tag expression of the enforcer profile, for example V([["$name=k8s-nodes"]]). Required to create a mapping.
    type: raw
seealso:
  - module: microseg.segmentation.prisma_enforcer_profile
"""

EXAMPLES = r"""
- name: Every enforcer of the namespace tree uses the k8s-nodes profile
  microseg.segmentation.prisma_enforcer_profile_mapping:
    namespace: /acme
    name: k8s-nodes
    subject: [["$identity=enforcer"]]
    object: [["$name=k8s-nodes"]]
    propagate: true
"""

RETURN = r"""
id:
  description: The API identifier of the mapping policy.
  returned: single object
  type: str
  sample: 5d2398157ddf1f3519ce6d96
action:
  description: What the task did or, in check mode, would do (V(create), V(update), V(delete) or V(none)).
  returned: single object
  type: str
object:
  description: The mapping policy as the API returned it (predicted in check mode).
  returned: single object
  type: dict
summary:
  description: Names of the mappings created, updated, deleted and left unchanged.
  returned: list form
  type: dict
objects:
  description: One entry per mapping with its name, action and identifier.
  returned: list form
  type: list
  elements: dict
"""

from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.common import PrismaObjectModule
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.fields import subject_object_policy

POLICY = subject_object_policy("enforcerprofilemappingpolicy", "enforcer profile mapping")


def main():
    PrismaObjectModule(POLICY.kind, "/enforcerprofilemappingpolicies", POLICY.spec, POLICY.build).run()


if __name__ == "__main__":
    main()
