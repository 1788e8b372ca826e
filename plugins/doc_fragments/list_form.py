# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The list-form options every object module shares: the items read from files, and how much the
    # result says (plugins/module_utils/_core/sources.py, _core/reconcile.py).
    DOCUMENTATION = r"""
options:
  src:
    description:
      - The list form, read from files on the host the module runs on (the controller with C(connection=local)).
        Each entry is a YAML or JSON file, a directory (every C(.yml), C(.yaml) and C(.json) file below it, in sorted
        path order, hidden ones left out) or a glob (C(**) included, sorted).
      - Each file holds a list of items, or a mapping of name to item (the key sets the item's name). An item takes
        exactly what an entry of O(items) takes and is checked the same way; every message names the file and the
        item, as C(policy/web.yml[3].subject) or C(policy/web.yml[web-in].subject).
      - The items of every file are one list form, together with O(items) when both are given, and one object may be
        declared only once across them. An object option given next to O(src) is the default of every item.
      - The declarations go from the files to the API without passing through the playbook, which keeps a task
        of thousands of objects about as fast as a task of one. Use O(items) for short lists written in the playbook.
      - A path that matches no file, an empty file (write V([]) for a file that declares nothing) or a file holding
        anything but a list or a mapping fails the task before any request, so a purge never runs on declarations
        that were not read.
      - A relative path is relative to the module's working directory; write C({{ playbook_dir }}/...) to read files
        kept next to the playbook. YAML files need PyYAML where the module runs; JSON files need nothing.
    type: list
    elements: path
  details:
    description:
      - How much a list form returns. RV(summary) (the names and counts of the objects created, updated, deleted and
        unchanged) is always returned.
      - V(changed) returns an RV(objects) entry for each object the task created, updated or deleted, and leaves the
        declared items out of the result's C(invocation), which would otherwise echo every one back.
      - V(all) returns an entry for every object, unchanged ones included, each with the object as the API holds it
        (secrets masked), and the items in C(invocation).
    type: str
    choices: [changed, all]
    default: changed
"""
