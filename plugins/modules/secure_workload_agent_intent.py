#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: secure_workload_agent_intent
short_description: Manage Cisco Secure Workload agent config intents
version_added: 1.0.0
description:
  - Create and delete agent config intents (C(/inventory_config/intents)), which apply an agent config
    profile to the hosts of an inventory filter or a scope.
  - An intent has no name and nothing to update; it is the pair (O(profile), O(inventory_filter)).
  - The profile and the filter are named by name (a scope by its full name) or by id; a name that matches
    nothing fails after the read and before any write.
  - With O(items), many intents are reconciled in one task; each item takes O(profile) and
    O(inventory_filter) (both required) and O(state) (there is no V(name)).
author: Microseg Segmentation Maintainers (@microseg)
extends_documentation_fragment:
  - microseg.segmentation.secure_workload
  - microseg.segmentation.secure_workload.object
  - microseg.segmentation.attributes
  - microseg.segmentation.secure_workload.attributes
options:
  root_scope:
    description: Name (or id) of the root scope whose profiles and scopes are meant (needed when names repeat across root scopes).
    type: str
  profile:
    description: The agent config profile. Required unless O(items) is used.
    type: str
  inventory_filter:
    description: The inventory filter, or a scope's full name (for example V(Default:web)). Required unless O(items) is used.
    type: str
seealso:
  - module: microseg.segmentation.secure_workload_agent_profile
"""

EXAMPLES = r"""
- name: Apply the k8s-nodes profile to the Kubernetes nodes
  microseg.segmentation.secure_workload_agent_intent:
    profile: k8s-nodes
    inventory_filter: k8s-nodes

- name: Apply a profile to a whole scope
  microseg.segmentation.secure_workload_agent_intent:
    profile: servers
    inventory_filter: Default:datacenter

- name: Remove an intent
  microseg.segmentation.secure_workload_agent_intent:
    profile: k8s-nodes
    inventory_filter: k8s-nodes
    state: absent
"""

RETURN = r"""
id:
  description: The id of the intent (absent when it did not exist and O(state=absent)).
  returned: single object
  type: str
  sample: 5f88c996755f023f3bafe163
action:
  description: What the task did or, in check mode, would do.
  returned: single object
  type: str
  sample: create
object:
  description: The intent as the API returned it (predicted in check mode), with its C(key); empty after a delete.
  returned: single object
  type: dict
summary:
  description: Keys (C(profile -> filter)) of the intents created, deleted and left unchanged.
  returned: list form
  type: dict
objects:
  description: One entry per intent with its key (as C(name)), action and id.
  returned: list form
  type: list
  elements: dict
"""

from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Field, Kind
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.agents import IntentAdapter, intent_key
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.policies import KeyedSwObjectModule

KIND = Kind(
    "inventory_config_intent",
    "agent config intent",
    [Field("profile", "inventory_config_profile_id"), Field("inventory_filter", "inventory_filter_id")],
    identity="key",
)

OBJECT_SPEC = dict(profile=dict(type="str"), inventory_filter=dict(type="str"))


def build(params, prefix):
    return {}


class IntentModule(KeyedSwObjectModule):
    key_options = ("profile", "inventory_filter")

    @staticmethod
    def identity(values):
        return intent_key(values["profile"], values["inventory_filter"])


def main():
    IntentModule(KIND, "intent", OBJECT_SPEC, build, IntentAdapter, extra_spec=dict(root_scope=dict(type="str"))).run()


if __name__ == "__main__":
    main()
