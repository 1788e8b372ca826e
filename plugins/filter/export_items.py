# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: export_items
short_description: The items of an export entry, with the secrets the export could not read
version_added: 1.0.0
author: Microseg Segmentation Maintainers (@microseg)
description:
  - Takes one entry of an export (a file C(playbooks/export.yml) wrote) and returns its C(items), with each secret
    the entry lists in C(secrets) (as C(<name>.<option>)) set from O(secrets) when given there.
  - A secret that O(secrets) does not give stays out of its item, which leaves the secret as it is on a console that
    already has the object; a console that does not have it needs the value.
positional: _input, secrets
options:
  _input:
    description: The export entry (C(module), C(options), C(items) and perhaps C(secrets)).
    type: dict
    required: true
  secrets:
    description: Secret values by C(<name>.<option>), for example from Ansible Vault.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Apply an exported file of TCP services, with the key of the one custom certificate
  microseg.segmentation.prisma_tcp_service:
    namespace: "{{ entry.options.namespace }}"
    items: "{{ entry | microseg.segmentation.export_items({'web-custom.tls_certificate_key': vault_web_custom_key}) }}"
    adopt: true
  vars:
    entry: "{{ lookup('ansible.builtin.file', 'exports/prisma/06-0002-prisma_tcp_service-acme-k8s-lb-default.yml') | from_yaml }}"
"""

RETURN = r"""
_value:
  description: The entry's items, with the secrets given set.
  type: list
  elements: dict
"""


def export_items(entry, secrets=None):
    if not isinstance(entry, dict) or not isinstance(entry.get("items"), list):
        raise AnsibleFilterError("export_items: expected an export entry with items, got %s" % type(entry).__name__)
    secrets = secrets or {}
    items = copy.deepcopy(entry["items"])
    by_name = dict((item.get("name") or item.get("id"), item) for item in items)
    for secret in entry.get("secrets") or []:
        if secret not in secrets:
            continue
        name, option = secret.rsplit(".", 1)
        if name in by_name:
            by_name[name][option] = secrets[secret]
    return items


class FilterModule(object):
    def filters(self):
        return {"export_items": export_items}
