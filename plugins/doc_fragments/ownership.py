# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The ownership options of every object module whose objects carry tags (Prisma, NSX-T):
    # one rule, plugins/module_utils/_core/ownership.py.
    DOCUMENTATION = r"""
options:
  owner:
    description:
      - The owner of the objects this task creates or adopts, so that two playbooks (or teams) can share a
        namespace or an NSX domain. Every object the collection creates carries the management tag and an
        owner tag with this value (Prisma C(managed-owner=<owner>), NSX C(managed-scope|<owner>)).
      - When not given, objects are created for the owner V(default). Objects that carry the management tag
        and no owner tag (tagged by pre-release builds) belong to the owner V(default) too.
      - Required with O(purge=true). O(purge_scope) is the NSX name pre-release builds used and means the same.
    type: str
    aliases: [purge_scope]
  adopt:
    description:
      - With O(items), take over the existing objects the list names, for O(owner), by adding the management
        and owner tags. A later purge of that owner may then delete them.
      - Without it, naming an object the collection did not create only updates what the item sets, and the object
        is never tagged, so no purge ever deletes it.
    type: bool
    default: false
  purge:
    description:
      - With O(items), also delete the objects of this kind where the task looks that carry the management tag
        and the owner tag of O(owner), and are not in O(items). Objects of another owner, objects the
        collection did not create or adopt, and objects the product makes itself (the C(default) service
        dependency policy of a Prisma namespace) are never purged.
    type: bool
    default: false
  purge_empty:
    description:
      - Allow O(purge=true) with an empty O(items), which deletes every managed object of O(owner). Without it
        such a task fails before any request, so that an empty variable never empties a namespace or domain.
    type: bool
    default: false
"""
