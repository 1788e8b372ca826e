# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # Connection options of every vSphere (vCenter) module.
    DOCUMENTATION = r"""
options:
  hostname:
    description:
      - Host name or address of the vCenter Server (or ESXi host).
      - If not set, the environment variable E(VMWARE_HOST) is used. Required one way or the other.
    type: str
  port:
    description:
      - TCP port of the vCenter Server's HTTPS endpoint (SOAP C(/sdk) and vAPI C(/rest)).
      - If not set, E(VMWARE_PORT) is used.
    type: int
    default: 443
  username:
    description:
      - The vCenter user, for example C(administrator@vsphere.local). Read-only rights are enough.
      - If not set, E(VMWARE_USER) is used. Required one way or the other.
    type: str
  password:
    description:
      - Password of O(username).
      - If not set, E(VMWARE_PASSWORD) is used. Required one way or the other.
    type: str
  validate_certs:
    description:
      - Verify the TLS certificate of vCenter (against O(ca_path), or else the system's trust store)
        and that it names O(hostname). Turn off only for a throwaway test endpoint.
      - If not set, E(VMWARE_VALIDATE_CERTS) is used.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file of the CA certificates to trust for vCenter, such as the VMCA root certificate
        that vCenter offers at C(https://<vcenter>/certs/download.zip).
      - If not set, E(VMWARE_CA_PATH) is used, then the system's trust store.
    type: path
  timeout:
    description:
      - Seconds to wait for each connection and answer from vCenter. vAPI REST calls that fail with a
        connection error or HTTP 429, 502, 503 or 504 are retried with exponential backoff.
      - If not set, E(VMWARE_TIMEOUT) is used.
    type: int
    default: 60
requirements:
  - pyvmomi
  - requests
"""

    # The action group of the product's modules (check and diff support: microseg.segmentation.attributes).
    ATTRIBUTES = r"""
attributes:
  action_group:
    description: Use C(group/microseg.segmentation.vsphere) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - microseg.segmentation.vsphere
"""
