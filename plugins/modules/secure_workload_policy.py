#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: secure_workload_policy
short_description: Manage Cisco Secure Workload workspace policies
version_added: 1.0.0
description:
  - Create, update and delete the policies of a workspace's working version (C(/applications/{id}/policies)).
  - A policy has no name. It is the one with the O(consumer), O(provider), O(rank) and O(priority) the task
    gives; O(action) and O(ports) are its settings and are changed in place (the policy keeps its id).
  - The consumer and the provider are named by a scope's full name, an inventory filter's name or a
    cluster's name (or by an id). A name that matches nothing fails after the read and before any write.
  - Only the options the task sets are compared; O(ports), when set, is the policy's whole port list,
    compared without regard to order.
  - With O(items), many policies of one workspace are reconciled in one task; each item takes
    O(consumer), O(provider) (both required), O(rank), O(priority), O(action), O(ports) and O(state)
    (there is no V(name)).
author: Microseg Segmentation Maintainers (@microseg)
extends_documentation_fragment:
  - microseg.segmentation.secure_workload
  - microseg.segmentation.secure_workload.object
  - microseg.segmentation.attributes
  - microseg.segmentation.secure_workload.attributes
options:
  workspace:
    description: Name of the workspace. Required with O(scope) unless O(workspace_id) is given.
    type: str
  scope:
    description: Full name of the workspace's scope, for example V(Default:web).
    type: str
  workspace_id:
    description: Id of the workspace, instead of O(workspace) and O(scope).
    type: str
  consumer:
    description: The consumer (source) scope, inventory filter or cluster. Required unless O(items) is used.
    type: str
  provider:
    description: The provider (destination) scope, inventory filter or cluster. Required unless O(items) is used.
    type: str
  rank:
    description: The policy's rank. Absolute policies are evaluated before the default ones.
    type: str
    choices: [default, absolute]
    default: default
  priority:
    description: The policy's priority within its rank (lower first).
    type: int
    default: 100
  action:
    description: Allow or deny the matching traffic. Required to create a policy.
    type: str
    choices: [allow, deny]
  ports:
    description:
      - The protocols and ports of the policy (its L4 parameters). V([]) means no L4 parameter.
    type: list
    elements: dict
    suboptions:
      protocol:
        description: V(tcp), V(udp), V(icmp), V(any), or an IP protocol number 0-255.
        type: raw
        required: true
      port:
        description:
          - A port (V(80)) or an inclusive range (V(1000-2000)); only with tcp and udp.
          - Without it, tcp and udp mean every port (0-65535).
        type: raw
seealso:
  - module: microseg.segmentation.secure_workload_enforcement
"""

EXAMPLES = r"""
- name: Let the web tier reach the database on 5432
  microseg.segmentation.secure_workload_policy:
    workspace: web
    scope: Default:web
    consumer: web-servers
    provider: db-servers
    action: allow
    ports:
      - {protocol: tcp, port: 5432}
      - {protocol: icmp}

- name: Reconcile several policies of a workspace in one task
  microseg.segmentation.secure_workload_policy:
    workspace: web
    scope: Default:web
    items:
      - {consumer: Default:web, provider: db-servers, action: allow, ports: [{protocol: tcp, port: 5432}]}
      - {consumer: Default, provider: Default:web, rank: absolute, priority: 10, action: deny, ports: [{protocol: tcp, port: "1-1023"}]}

- name: Delete a policy
  microseg.segmentation.secure_workload_policy:
    workspace: web
    scope: Default:web
    consumer: web-servers
    provider: db-servers
    state: absent
"""

RETURN = r"""
id:
  description: The id of the policy (absent when it did not exist and O(state=absent)).
  returned: single object
  type: str
  sample: 5f88c996755f023f3bafe163
action:
  description: What the task did or, in check mode, would do.
  returned: single object
  type: str
  sample: update
object:
  description: The policy as the API returned it (predicted in check mode), with its C(key); empty after a delete.
  returned: single object
  type: dict
summary:
  description: Keys (C(consumer -> provider (RANK, priority N))) of the policies created, updated, deleted and left unchanged.
  returned: list form
  type: dict
objects:
  description: One entry per policy with its key (as C(name)), action and id.
  returned: list form
  type: list
  elements: dict
"""

from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Field, Kind
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.policies import (
    KeyedSwObjectModule,
    PolicyAdapter,
    build_ports,
    canon_l4,
    check_workspace_options,
    policy_key,
    workspace_spec,
)

KIND = Kind(
    "policy",
    "policy",
    [
        Field("consumer", "consumer_filter_id"),
        Field("provider", "provider_filter_id"),
        Field("rank", "rank"),
        Field("priority", "priority"),
        Field("action", "action"),
        Field("ports", "l4_params", compare=canon_l4, empty=[]),
    ],
    create_requires=[("action", "action")],
    identity="key",
)

PORT_SPEC = dict(protocol=dict(type="raw", required=True), port=dict(type="raw"))

OBJECT_SPEC = dict(
    consumer=dict(type="str"),
    provider=dict(type="str"),
    rank=dict(type="str", choices=["default", "absolute"], default="default"),
    priority=dict(type="int", default=100),
    action=dict(type="str", choices=["allow", "deny"]),
    ports=dict(type="list", elements="dict", options=PORT_SPEC),
)


def build(params, prefix):
    desired = {}
    if params.get("priority") is not None and params["priority"] < 0:
        raise ValidationError(prefix + "priority", "must be 0 or more, got %d" % params["priority"])
    if params.get("action"):
        desired["action"] = params["action"].upper()
    if params.get("ports") is not None:
        desired["l4_params"] = build_ports(params["ports"], prefix + "ports")
    return desired


class PolicyModule(KeyedSwObjectModule):
    key_options = ("consumer", "provider")

    @staticmethod
    def identity(values):
        return policy_key(values["consumer"], values["provider"], (values.get("rank") or "default").upper(),
                          values["priority"] if values.get("priority") is not None else 100)

    def check_task(self, params):
        check_workspace_options(params)


def main():
    PolicyModule(KIND, "policy", OBJECT_SPEC, build, PolicyAdapter, extra_spec=workspace_spec()).run()


if __name__ == "__main__":
    main()
