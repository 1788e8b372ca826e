# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: export_files
short_description: Name the files of an export, in the order they must be applied
version_added: 1.0.0
author: Microseg Segmentation Maintainers (@microseg)
description:
  - Takes the registered results of an info module run with C(export=true) (a single result, or the result of a
    loop over kinds, in the order the kinds must be applied) and returns one file per export entry.
  - A file name starts with the kind's and the entry's position, so that sorting the names gives the order in which
    the entries must be applied; the rest names the module and where the entry places its objects.
  - C(playbooks/export.yml) writes the files, C(playbooks/adopt.yml) applies them.
  - A result its task skipped gives no file.
positional: _input, first
options:
  _input:
    description: The registered result (with RV(microseg.segmentation.prisma_info#module:exports)), or a loop's result.
    type: dict
    required: true
  first:
    description: The position of the first kind (when one playbook writes several products' files to one directory).
    type: int
    default: 1
"""

EXAMPLES = r"""
- name: Write each entry of an export to its file
  ansible.builtin.copy:
    dest: "exports/prisma/{{ item.file }}"
    content: "{{ item.entry | ansible.builtin.to_nice_yaml(indent=2) }}"
    mode: "0644"
  loop: "{{ prisma_export | microseg.segmentation.export_files }}"
  loop_control:
    label: "{{ item.file }}"
"""

RETURN = r"""
_value:
  description: One C(file) name and its C(entry) per export entry, in apply order.
  type: list
  elements: dict
  sample:
    - file: 05-0001-prisma_network_ruleset-acme-aws-dev-k8s-hipster-shop.yml
      entry:
        module: microseg.segmentation.prisma_network_ruleset
        options: {namespace: /acme/aws-dev/k8s/hipster-shop}
        items: [{name: allow-dns, subject: [[app=web]]}]
"""

MAX_SLUG = 80


def _slug(options):
    text = "-".join(str(options[key]) for key in sorted(options) if options[key] not in (None, ""))
    text = re.sub(r"[^A-Za-z0-9_.]+", "-", text).strip("-.")
    return text[:MAX_SLUG].rstrip("-.")


def export_files(result, first=1):
    if not isinstance(result, dict):
        raise AnsibleFilterError("export_files: expected a registered result, got %s" % type(result).__name__)
    results = result["results"] if "results" in result else [result]
    files = []
    for kind_index, one in enumerate(results, start=first):
        if isinstance(one, dict) and one.get("skipped") is True:
            continue  # a task its condition skipped (a product not exported)
        if not isinstance(one, dict) or "exports" not in one:
            raise AnsibleFilterError("export_files: result %d has no exports (run the info module with export: true)" % kind_index)
        for entry_index, entry in enumerate(one["exports"], start=1):
            module = entry["module"].rsplit(".", 1)[-1]
            slug = _slug(entry.get("options") or {})
            name = "%02d-%04d-%s%s.yml" % (kind_index, entry_index, module, "-" + slug if slug else "")
            files.append({"file": name, "entry": entry})
    return files


class FilterModule(object):
    def filters(self):
        return {"export_files": export_files}
