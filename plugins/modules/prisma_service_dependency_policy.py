#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: prisma_service_dependency_policy
short_description: Manage Prisma Cloud Microsegmentation service dependency policies
version_added: 1.0.0
description:
  - Create, update and delete service dependency policies (API identity C(servicedependencypolicy)),
    which client processing units (O(subject)) may depend on which services (O(object)).
  - Group and Kubernetes namespaces come with a default policy that lets every processing unit use
    every service of the namespace. To narrow access, declare your own policy and disable the default
    one by name with O(disabled=true) (a task that only sets O(disabled) changes nothing else).
  - With O(items), many policies of one namespace are reconciled in one task.
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
    description: Name of the policy. Required unless O(items) is used.
    type: str
  subject:
    description: Tag expression of the client processing units. Required to create a policy.
    type: raw
  object:
    description: Tag expression of the services they may use (tags of the services). Required to create a policy.
    type: raw
seealso:
  - module: microseg.segmentation.prisma_tcp_service
"""

EXAMPLES = r"""
- name: Hosts of /acme/hosts may use the NLB service of /acme/k8s, in every child namespace
  microseg.segmentation.prisma_service_dependency_policy:
    namespace: /acme
    name: hosts-to-nlb
    subject: [["$identity=processingunit", "role=client"]]
    object: [["service=nginx-nlb"]]
    propagate: true

- name: Disable the namespace's default policy
  microseg.segmentation.prisma_service_dependency_policy:
    namespace: /acme/k8s
    name: default
    disabled: true
"""

RETURN = r"""
id:
  description: The API identifier of the policy.
  returned: single object
  type: str
  sample: 5d2398157ddf1f3519ce6d96
action:
  description: What the task did or, in check mode, would do (V(create), V(update), V(delete) or V(none)).
  returned: single object
  type: str
object:
  description: The policy as the API returned it (predicted in check mode).
  returned: single object
  type: dict
summary:
  description: Names of the policies created, updated, deleted and left unchanged.
  returned: list form
  type: dict
objects:
  description: One entry per policy with its name, action and identifier.
  returned: list form
  type: list
  elements: dict
"""

from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.common import PrismaObjectModule
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.fields import subject_object_policy

POLICY = subject_object_policy("servicedependencypolicy", "service dependency policy")


def main():
    PrismaObjectModule(POLICY.kind, "/servicedependencypolicies", POLICY.spec, POLICY.build).run()


if __name__ == "__main__":
    main()
