#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: secure_workload_orchestrator
short_description: Manage Cisco Secure Workload Kubernetes external orchestrators
version_added: 1.0.0
description:
  - Create, update and delete Kubernetes external orchestrators (C(/orchestrator/{root scope name})), which
    import the pods, services and labels of a cluster from its API server.
  - Only the options the task sets are compared. The service-account token and the client key are
    write-only (the API never returns them), so they are not compared; O(update_token) says whether they
    are sent to an existing orchestrator.
author: Microseg Segmentation Maintainers (@microseg)
extends_documentation_fragment:
  - microseg.segmentation.secure_workload
  - microseg.segmentation.secure_workload.object
  - microseg.segmentation.attributes
  - microseg.segmentation.secure_workload.attributes
options:
  root_scope:
    description: Name of the root scope (tenant) of the orchestrator.
    type: str
    required: true
  name:
    description: Name of the orchestrator, unique in the root scope. Required unless O(items) is used.
    type: str
  description:
    description: Free text.
    type: str
  hosts_list:
    description: The Kubernetes API servers. Required to create an orchestrator; compared without regard to order.
    type: list
    elements: dict
    suboptions:
      host_name:
        description: Host name or address of the API server.
        type: str
        required: true
      port_number:
        description: Its port.
        type: int
        default: 443
  auth_token:
    description: The token of the read-only service account the connector uses (API field C(auth_token)).
    type: str
  ca_certificate:
    description: PEM CA certificate that validates the API server.
    type: str
  certificate:
    description: PEM client certificate, to authenticate with a certificate instead of a token.
    type: str
  key:
    description: PEM client key of O(certificate).
    type: str
  insecure:
    description: Do not verify the API server's certificate.
    type: bool
  delta_interval:
    description: Seconds between incremental updates (1-86400; the API default is 60).
    type: int
  full_snapshot_interval:
    description: Seconds between full snapshots (1-604800; the API default is 3600).
    type: int
  verbose_tsdb_metrics:
    description: Report detailed connector metrics.
    type: bool
  use_secureconnector_tunnel:
    description: Reach the API server through the root scope's Secure Connector tunnel.
    type: bool
  kubelet_port:
    description: The kubelet port of the nodes (1-65535).
    type: int
  update_token:
    description:
      - V(on_create) sends O(auth_token) and O(key) only when the orchestrator is created, so a run that
        changes nothing else reports no change.
      - V(always) sends them on every run (the API cannot tell whether they changed), which reports a change
        each time.
    type: str
    choices: [always, on_create]
    default: on_create
notes:
  - Only orchestrators of type C(kubernetes) are managed; the type of an orchestrator cannot change.
seealso:
  - module: microseg.segmentation.secure_workload_agent_profile
"""

EXAMPLES = r"""
- name: Import a Kubernetes cluster
  microseg.segmentation.secure_workload_orchestrator:
    root_scope: Default
    name: prod-k8s
    hosts_list:
      - {host_name: k8s-api.example.com, port_number: 6443}
    auth_token: "{{ lookup('ansible.builtin.file', 'csw-reader.token') }}"
    ca_certificate: "{{ lookup('ansible.builtin.file', 'k8s-ca.pem') }}"

- name: Rotate the token
  microseg.segmentation.secure_workload_orchestrator:
    root_scope: Default
    name: prod-k8s
    auth_token: "{{ new_token }}"
    update_token: always

- name: Delete an orchestrator
  microseg.segmentation.secure_workload_orchestrator:
    root_scope: Default
    name: prod-k8s
    state: absent
"""

RETURN = r"""
id:
  description: The id of the orchestrator (absent when it did not exist and O(state=absent)).
  returned: single object
  type: str
  sample: 5f88c996755f023f3bafe163
action:
  description: What the task did or, in check mode, would do.
  returned: single object
  type: str
  sample: create
object:
  description: The orchestrator as the API returned it (predicted in check mode, secrets masked); empty after a delete.
  returned: single object
  type: dict
summary:
  description: Names of the orchestrators created, updated, deleted and left unchanged.
  returned: list form
  type: dict
objects:
  description: One entry per orchestrator with its name, action and id.
  returned: list form
  type: list
  elements: dict
"""

from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Field, Kind
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.agents import OrchestratorAdapter
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.common import SwObjectModule

SECRETS = ("auth_token", "key")
SCALARS = ("description", "ca_certificate", "certificate", "insecure", "delta_interval", "full_snapshot_interval",
           "verbose_tsdb_metrics", "use_secureconnector_tunnel", "kubelet_port")
RANGES = {"delta_interval": (1, 86400), "full_snapshot_interval": (1, 604800), "kubelet_port": (1, 65535)}


def canon_hosts(hosts):
    return tuple(sorted((h.get("host_name"), h.get("port_number")) for h in hosts or []))


KIND = Kind(
    "orchestrator",
    "orchestrator",
    [Field(o, o) for o in SCALARS]
    + [Field("hosts_list", "hosts_list", compare=canon_hosts, empty=[]), Field("type", "type", create_only=True)]
    + [Field(o, o, secret=True) for o in SECRETS],
    create_requires=[("hosts_list", "hosts_list")],
)

HOST_SPEC = dict(host_name=dict(type="str", required=True), port_number=dict(type="int", default=443))

OBJECT_SPEC = dict(
    name=dict(type="str"),
    description=dict(type="str"),
    hosts_list=dict(type="list", elements="dict", options=HOST_SPEC),
    auth_token=dict(type="str", no_log=True),
    ca_certificate=dict(type="str"),
    certificate=dict(type="str"),
    key=dict(type="str", no_log=True),
    insecure=dict(type="bool"),
    delta_interval=dict(type="int"),
    full_snapshot_interval=dict(type="int"),
    verbose_tsdb_metrics=dict(type="bool"),
    use_secureconnector_tunnel=dict(type="bool"),
    kubelet_port=dict(type="int"),
)


def build(params, prefix):
    desired = {}
    for option in SCALARS + SECRETS:
        if params.get(option) is not None:
            desired[option] = params[option]
    for option, (low, high) in RANGES.items():
        value = params.get(option)
        if value is not None and not low <= value <= high:
            raise ValidationError(prefix + option, "must be between %d and %d, got %d" % (low, high, value))
    if params.get("hosts_list") is not None:
        hosts = []
        for index, host in enumerate(params["hosts_list"]):
            path = "%shosts_list[%d]" % (prefix, index)
            if not host.get("host_name") or not host["host_name"].strip():
                raise ValidationError(path + ".host_name", "must not be empty")
            if not 1 <= host["port_number"] <= 65535:
                raise ValidationError(path + ".port_number", "must be a port 1-65535, got %d" % host["port_number"])
            hosts.append({"host_name": host["host_name"], "port_number": host["port_number"]})
        desired["hosts_list"] = hosts
    return desired


class OrchestratorModule(SwObjectModule):
    def _declared(self, module):
        # The secrets of list-form items are not options of their own: mask them in every output.
        for item in module.params.get("items") or []:
            for secret in SECRETS:
                if isinstance(item, dict) and item.get(secret):
                    module.no_log_values.add(str(item[secret]))
        return super(OrchestratorModule, self)._declared(module)


def main():
    OrchestratorModule(KIND, "orchestrator", OBJECT_SPEC, build, OrchestratorAdapter, extra_spec=dict(
        root_scope=dict(type="str", required=True),
        update_token=dict(type="str", choices=["always", "on_create"], default="on_create", no_log=False),
    )).run()


if __name__ == "__main__":
    main()
