# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # The export options of the info modules (plugins/module_utils/_core/export.py).
    DOCUMENTATION = r"""
options:
  export:
    description:
      - Also return RV(exports), the objects as the O(ignore:items) of the list-form modules that manage them, in
        the order they must be applied, for bringing an existing setup under management (C(playbooks/export.yml)
        writes them to files, C(playbooks/adopt.yml) applies them with O(ignore:adopt=true)).
      - An exported item uses the module's option names; it leaves out what the product defaults, read-only
        attributes, the management and owner tags, and secrets (which a read returns only masked; they are named in
        the entry's C(secrets)).
      - References to other objects are given by name.
    type: bool
    default: false
  include_system:
    description:
      - Export also the objects the product makes by itself, which the collection does not manage (listed in
        RV(skipped) otherwise).
    type: bool
    default: false
"""
