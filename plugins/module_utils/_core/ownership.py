# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which objects the collection owns, and which of them a purge may delete: one rule, every product.

- The management tag goes only on objects the collection creates, or that a list form takes over
  with an explicit ``adopt: true``. Naming an existing object (to update it) never tags it, so a
  purge never deletes something the collection did not make or was not told to take.
- Every object the collection tags also carries an owner tag (the task's ``owner``, or
  ``DEFAULT_OWNER`` when the task names none). ``adopt`` takes an object over for the task's owner.
- ``purge`` deletes only the objects that carry the management tag and the task's owner (an object
  with the management tag and no owner tag, as pre-release builds tagged, belongs to ``DEFAULT_OWNER``), and
  never an object the product makes by itself (``reserved_names``, such as the ``default``
  service dependency policy of a Prisma namespace).

A product describes its tags with a ``TagScheme`` (Prisma: ``key=value`` strings; NSX: scope/tag
mappings); Secure Workload objects carry no tags, so they have no ownership and no purge.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError

DEFAULT_OWNER = "default"
OWNER_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/@-]{0,127}\Z")


def ownership_argument_spec():
    """The ownership options of every product that can purge (documented in each ``object`` fragment)."""
    return dict(
        owner=dict(type="str", aliases=["purge_scope"]),
        adopt=dict(type="bool", default=False),
        purge=dict(type="bool", default=False),
        purge_empty=dict(type="bool", default=False),
    )


def check_ownership_options(params, declared=None):
    """The ownership options of a task, checked before any request. ``declared`` are the list form's
    items (inline and from ``src``); by default ``items``, and None means the single-object form."""
    owner = params.get("owner")
    if owner is not None and not OWNER_PATTERN.match(owner):
        raise ValidationError("owner", "'%s' is not a valid owner: 1 to 128 letters, digits and _ . : / @ -, "
                                       "starting with a letter or digit" % owner)
    if declared is None:
        declared = params.get("items")
    if declared is None:
        for option in ("purge", "adopt", "purge_empty"):
            if params.get(option):
                raise ValidationError(option, "only applies to the list form (items or src)")
        return
    if params.get("purge"):
        if owner is None:
            raise ValidationError("owner", "is required with purge: a purge deletes only the managed objects of its owner "
                                           "(objects with the management tag and no owner tag belong to the owner '%s')" % DEFAULT_OWNER)
        if not declared and not params.get("purge_empty"):
            raise ValidationError("src" if params.get("src") else "items",
                                  "declares no object and purge is true, which would delete every managed object of owner '%s'; "
                                  "set purge_empty: true if that is what the task means" % owner)
    elif params.get("purge_empty"):
        raise ValidationError("purge_empty", "only applies with purge: true")


class TagScheme:
    """How one product writes the management and owner tags (``key`` is the tag attribute)."""

    key = "tags"
    managed = None

    def owner_tag(self, owner):
        raise NotImplementedError

    def owner_of(self, tag):
        """The owner a tag names, or None when it is no owner tag."""
        raise NotImplementedError

    def same(self, tag, other):
        return tag == other


class Ownership:
    """The ownership rule for one task: its ``owner`` and whether its list form ``adopt``s what it names."""

    def __init__(self, scheme, owner=None, adopt=False, reserved_names=()):
        self.scheme = scheme
        self.owner = owner or DEFAULT_OWNER
        self.adopt = adopt
        self.reserved_names = tuple(reserved_names)

    def _has(self, tags, tag):
        return any(self.scheme.same(t, tag) for t in tags)

    def is_managed(self, obj):
        return self._has((obj or {}).get(self.scheme.key) or [], self.scheme.managed)

    def owners(self, obj):
        return set(o for o in (self.scheme.owner_of(t) for t in (obj or {}).get(self.scheme.key) or []) if o is not None)

    def tags(self, name, asked, existing, required=()):
        """The tags to send for one object: the task's (or the existing ones), the product's
        ``required`` tags, and the management and owner tags this rule gives it."""
        existing_tags = list((existing or {}).get(self.scheme.key) or [])
        tags = list(asked if asked is not None else existing_tags)
        marks = list(required)
        if name not in self.reserved_names:
            if existing is None or self.adopt:
                marks += [self.scheme.managed, self.scheme.owner_tag(self.owner)]
                # taking over: the object changes owner
                tags = [t for t in tags if self.scheme.owner_of(t) in (None, self.owner)]
            elif self.is_managed(existing):
                # already ours: keep the tags that say so, whatever the task's tag list
                marks += [t for t in existing_tags if self.scheme.same(t, self.scheme.managed) or self.scheme.owner_of(t) is not None]
        for mark in marks:
            if not self._has(tags, mark):
                tags.append(mark)
        return tags

    def may_purge(self, name, obj):
        """May a purge of this task delete the object."""
        if name in self.reserved_names or not self.is_managed(obj):
            return False
        owners = self.owners(obj)
        if not owners:
            return self.owner == DEFAULT_OWNER
        return self.owner in owners
