#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vsphere_vm_membership
short_description: Select vCenter VMs by name, folder and tag for NSX-T group membership
version_added: 1.0.0
description:
  - Read the virtual machines of a vCenter Server that match the selectors, and return their
    identities and guest addresses in the forms NSX-T group membership takes.
  - Selectors are combined with AND. O(names) matches any of the names given, O(folder) a VM folder (or
    vApp) and, by default, what is below it, and O(tags) the vSphere tags the VM carries. With no selector
    at all, every VM of the inventory is returned.
  - The result's RV(external_ids) are the VMs' instance UUIDs, which NSX-T uses as the C(external_id) of a
    vCenter VM (Policy API C(ExternalIDExpression) with C(member_type=VirtualMachine)); RV(ip_addresses)
    fit an C(IPAddressExpression) or a Manager API C(IPSet).
  - VM properties are read in one paged property-collector call, whatever the size of the inventory. Tags
    are read from the vAPI REST endpoint (C(/rest/com/vmware/cis/tagging)) with a session of their own,
    which the module closes when done.
  - Templates are not VMs for this module and are never returned.
  - The module only reads; it never changes vCenter and reports C(changed=false).
author: Microseg Segmentation Maintainers (@microseg)
extends_documentation_fragment:
  - microseg.segmentation.vsphere
  - microseg.segmentation.attributes.info
  - microseg.segmentation.vsphere.attributes
options:
  names:
    description:
      - Exact VM names (case-sensitive). A VM is selected when its name is one of them.
      - Every name must belong to at least one VM of the inventory, or the module fails and lists the
        names it did not find. VMs of the same name in different folders are all returned.
      - An empty list selects no VM.
    type: list
    elements: str
  folder:
    description:
      - Inventory path of a VM folder or vApp, such as V(/DC0/vm/web) (the datacenter, its C(vm) folder,
        then the folders below it). Names with C(/) or C(%) in them are written as vSphere escapes them,
        C(%2f) and C(%25).
      - The module fails when the path is not a VM folder, and lists the VM folders next to it.
    type: str
  recursive:
    description:
      - With O(folder), also select the VMs in the folders and vApps below it. With V(false), only the VMs
        directly in O(folder).
    type: bool
    default: true
  tags:
    description:
      - vSphere tags, each as V(category:tag) (the category is what precedes the first colon).
      - The module fails when a category or a tag does not exist, and lists the ones that do.
      - An empty list selects no VM.
    type: list
    elements: str
  tags_match:
    description:
      - With V(all), a VM must carry every tag of O(tags); with V(any), one of them is enough.
    type: str
    choices: [all, any]
    default: all
  power_state:
    description:
      - Only the VMs in this power state.
    type: str
    choices: [poweredOn, poweredOff, suspended]
  include_tags:
    description:
      - Return the tags of each selected VM (RV(vms[].tags)). This needs the vAPI endpoint of vCenter;
        set V(false) for an ESXi host, which has none (O(tags) then cannot be used either).
    type: bool
    default: true
notes:
  - Guest addresses come from VMware Tools (C(guest.net) and C(guest.ipAddress)), so a VM whose tools are
    not running has none. Link-local, loopback and unspecified addresses are left out.
  - Requests sent - the SOAP login, one property-collector read per 1000 objects and the logout; with
    O(tags) or O(include_tags), the vAPI login, one read per tag category, one per tag of the categories
    O(tags) names, one per tag the selected VMs carry, two association reads and the logout.
"""

EXAMPLES = r"""
- name: The web VMs of the production folder that run
  microseg.segmentation.vsphere_vm_membership:
    hostname: vcenter.example.com
    username: readonly@vsphere.local
    password: "{{ vcenter_password }}"
    ca_path: /etc/pki/vmca-root.pem
    folder: /DC0/vm/prod
    tags:
      - app:web
    power_state: poweredOn
  register: web

- name: An NSX-T Policy group of exactly those VMs (by instance UUID)
  ansible.builtin.debug:
    msg:
      resource_type: ExternalIDExpression
      member_type: VirtualMachine
      external_ids: "{{ web.external_ids }}"

- name: Two named VMs, connection settings from VMWARE_HOST, VMWARE_USER and VMWARE_PASSWORD
  microseg.segmentation.vsphere_vm_membership:
    names:
      - db-01
      - db-02
    include_tags: false
  register: db

- name: Their addresses, for an IPAddressExpression or an IPSet
  ansible.builtin.debug:
    var: db.ip_addresses

- name: VMs carrying either tag, only directly in the folder
  microseg.segmentation.vsphere_vm_membership:
    folder: /DC0/vm/shared
    recursive: false
    tags:
      - env:prod
      - env:staging
    tags_match: any
"""

RETURN = r"""
vms:
  description: The selected VMs, sorted by folder then name.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The VM's name.
      type: str
      returned: always
      sample: web-01
    moid:
      description: The managed object id of the VM in vCenter.
      type: str
      returned: always
      sample: vm-1042
    instance_uuid:
      description: The vCenter instance UUID (C(config.instanceUuid)); NSX-T's C(external_id) of the VM.
      type: str
      returned: always
      sample: 5012c7c4-4a0e-2f71-8f36-9f31e2a7e1b0
    bios_uuid:
      description: The BIOS UUID (C(config.uuid)), which the guest sees as its SMBIOS UUID.
      type: str
      returned: always
      sample: 4212ab9d-7c1f-36a0-8a53-b2c0f96f3c11
    folder:
      description: Inventory path of the folder (or vApp) that holds the VM.
      type: str
      returned: always
      sample: /DC0/vm/prod/web
    power_state:
      description: The power state, V(poweredOn), V(poweredOff) or V(suspended).
      type: str
      returned: always
      sample: poweredOn
    ip_addresses:
      description: The guest's addresses as VMware Tools reports them, unique and sorted, IPv4 first.
      type: list
      elements: str
      returned: always
      sample: [10.10.1.11, "2001:db8::11"]
    tags:
      description: The vSphere tags of the VM, as V(category:tag), sorted.
      type: list
      elements: str
      returned: when O(include_tags=true)
      sample: ["app:web", "env:prod"]
external_ids:
  description: The instance UUIDs of the selected VMs, in the order of RV(vms).
  returned: success
  type: list
  elements: str
  sample: [5012c7c4-4a0e-2f71-8f36-9f31e2a7e1b0]
ip_addresses:
  description: The guest addresses of all selected VMs in one list, unique and sorted, IPv4 first.
  returned: success
  type: list
  elements: str
  sample: [10.10.1.11, 10.10.1.12]
"""

from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import REQUESTS
from ansible_collections.microseg.segmentation.plugins.module_utils._core.runner import run_module
from ansible_collections.microseg.segmentation.plugins.module_utils._vsphere.common import PYVMOMI, vsphere_argument_spec
from ansible_collections.microseg.segmentation.plugins.module_utils._vsphere.membership import find_vms, select_options_spec


def main():
    argument_spec = vsphere_argument_spec()
    argument_spec.update(select_options_spec())
    run_module(argument_spec, lambda module, connection, prepared: find_vms(module.params), libraries=(PYVMOMI, REQUESTS))


if __name__ == "__main__":
    main()
