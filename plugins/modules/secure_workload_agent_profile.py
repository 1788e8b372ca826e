#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: secure_workload_agent_profile
short_description: Manage Cisco Secure Workload agent config profiles
version_added: 1.0.0
description:
  - Create, update and delete agent config profiles (C(/inventory_config/profiles)), which set what the agents
    of the hosts an intent selects do (enforcement, preserving the host's own firewall rules, flow
    reporting, forensics, CPU and memory quotas).
  - A new profile starts from the root scope's built-in C(Default) profile; only the options the task
    sets are compared and sent (the API takes partial updates).
  - Options other than O(name), O(root_scope) and O(enforcement_enabled) carry the API's field names.
author: Microseg Segmentation Maintainers (@microseg)
extends_documentation_fragment:
  - microseg.segmentation.secure_workload
  - microseg.segmentation.secure_workload.object
  - microseg.segmentation.attributes
  - microseg.segmentation.secure_workload.attributes
options:
  name:
    description: Name of the profile, unique in its root scope. Required unless O(items) is used.
    type: str
  root_scope:
    description:
      - Name (or id) of the root scope (tenant) of the profile. Required to create a profile.
      - Without it, the profile is looked up by name among the profiles of every root scope.
    type: str
  enforcement_enabled:
    description: Let the agents enforce policies (the API's C(enforcement_disabled), inverted).
    type: bool
  preserve_existing_rules:
    description:
      - Keep the host's own firewall rules when enforcing (required for Kubernetes and OpenShift nodes,
        whose kube-proxy rules must survive).
    type: bool
  allow_broadcast:
    description: Allow broadcast traffic when enforcing.
    type: bool
  allow_multicast:
    description: Allow multicast traffic when enforcing.
    type: bool
  allow_link_local:
    description: Allow link-local traffic when enforcing.
    type: bool
  auto_upgrade_opt_out:
    description: Do not upgrade the agents automatically.
    type: bool
  data_plane_disabled:
    description: The agents stop reporting flows.
    type: bool
  enable_conversation_flows:
    description: Report conversations instead of every flow.
    type: bool
  enable_dns:
    description: Report DNS lookups.
    type: bool
  enable_forensics:
    description: Collect forensic events.
    type: bool
  enable_meltdown:
    description: Detect Meltdown exploits.
    type: bool
  enable_pid_lookup:
    description: Look up the process of each flow.
    type: bool
  cpu_quota_mode:
    description: The agent's CPU quota mode, V(0) disabled, V(1) adjusted, V(2) top.
    type: int
    choices: [0, 1, 2]
  enforcement_cpu_quota_mode:
    description: The enforcement CPU quota mode, V(0) disabled, V(1) adjusted, V(2) top.
    type: int
    choices: [0, 1, 2]
  forensics_cpu_quota_mode:
    description: The forensics CPU quota mode, V(0) disabled, V(1) adjusted, V(2) top.
    type: int
    choices: [0, 1, 2]
  cpu_quota_pct:
    description: The agent's CPU quota in percent (1-100). Mutually exclusive with O(cpu_quota_us).
    type: int
  enforcement_cpu_quota_pct:
    description: The enforcement CPU quota in percent (1-100). Mutually exclusive with O(enforcement_cpu_quota_us).
    type: int
  forensics_cpu_quota_pct:
    description: The forensics CPU quota in percent (1-100). Mutually exclusive with O(forensics_cpu_quota_us).
    type: int
  cpu_quota_us:
    description: The agent's CPU quota in microseconds per second (10000-1000000; 10000 is 1 %).
    type: int
  enforcement_cpu_quota_us:
    description: The enforcement CPU quota in microseconds per second (10000-1000000).
    type: int
  forensics_cpu_quota_us:
    description: The forensics CPU quota in microseconds per second (10000-1000000).
    type: int
  max_rss_limit_mb:
    description: The agent's memory limit in MB (200-2048). Mutually exclusive with O(max_rss_limit).
    type: int
  enforcement_max_rss_limit_mb:
    description: The enforcement memory limit in MB (128-2048). Mutually exclusive with O(enforcement_max_rss_limit).
    type: int
  forensics_mem_quota_mb:
    description: The forensics memory limit in MB (128-2048). Mutually exclusive with O(forensics_mem_quota_bytes).
    type: int
  max_rss_limit:
    description: The agent's memory limit in bytes (209715200-2147483648).
    type: int
  enforcement_max_rss_limit:
    description: The enforcement memory limit in bytes (134217728-2147483648).
    type: int
  forensics_mem_quota_bytes:
    description: The forensics memory limit in bytes (134217728-2147483648).
    type: int
notes:
  - The built-in C(Default) profile can be changed but not renamed or deleted.
seealso:
  - module: microseg.segmentation.secure_workload_agent_intent
"""

EXAMPLES = r"""
- name: A profile for Kubernetes nodes (enforcing, keeping kube-proxy's rules)
  microseg.segmentation.secure_workload_agent_profile:
    name: k8s-nodes
    root_scope: Default
    enforcement_enabled: true
    preserve_existing_rules: true
    cpu_quota_pct: 5
    max_rss_limit_mb: 1024

- name: Delete a profile
  microseg.segmentation.secure_workload_agent_profile:
    name: k8s-nodes
    root_scope: Default
    state: absent
"""

RETURN = r"""
id:
  description: The id of the profile (absent when it did not exist and O(state=absent)).
  returned: single object
  type: str
  sample: 5f88c996755f023f3bafe163
action:
  description: What the task did or, in check mode, would do.
  returned: single object
  type: str
  sample: update
object:
  description: The profile as the API returned it (predicted in check mode); empty after a delete.
  returned: single object
  type: dict
summary:
  description: Names of the profiles created, updated, deleted and left unchanged.
  returned: list form
  type: dict
objects:
  description: One entry per profile with its name, action and id.
  returned: list form
  type: list
  elements: dict
"""

from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Field, Kind
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.agents import (
    PROFILE_EXCLUSIVE,
    PROFILE_MODES,
    PROFILE_RANGES,
    PROFILE_SWITCHES,
    ProfileAdapter,
    build_profile,
    profile_spec,
)
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.common import SwObjectModule

KIND = Kind(
    "inventory_config_profile",
    "agent config profile",
    [Field("enforcement_enabled", "enforcement_disabled")]
    + [Field(o, o) for o in PROFILE_SWITCHES + PROFILE_MODES]
    + [Field(o, o) for o, dummy, dummy2 in PROFILE_RANGES],
    create_requires=[("root_app_scope_id", "root_scope")],
)


def main():
    spec = profile_spec()
    root = spec.pop("root_scope")
    SwObjectModule(KIND, "profile", spec, build_profile, ProfileAdapter, mutually_exclusive=PROFILE_EXCLUSIVE,
                   extra_spec=dict(root_scope=root)).run()


if __name__ == "__main__":
    main()
