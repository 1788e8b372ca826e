# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Export: the objects a product holds, given back as the ``items`` of the list-form module that
manages them, so that an existing setup can be put under management (``adopt: true``) without
retyping it.

An exported item speaks the module's option names. It leaves out:

- what the product defaults (an attribute equal to its Field's ``empty``) and what no option sets
  (read-only attributes such as ids, revisions, creation times);
- secrets: a read gives back only a mask, so the option is left out and named in the entry's
  ``secrets`` (set it before applying the export to another console);
- the management and owner tags and the tags the product adds by itself: the task that applies the
  export writes those.

The property every exported kind keeps, and the unit tests check: building the exported item and
planning it against the object it came from gives no change.

Each info module returns ``exports``: a list of entries in the order they must be applied, each
``{module, options, items, secrets}`` where ``module`` is the list-form module, ``options`` the
task-level options that place the items (a namespace, a domain, a workspace...) and, for objects the
collection already manages, their ``owner`` (:func:`export_entries`), and ``skipped``: what was left
out because the product makes it by itself (unless the task asks for it).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.microseg.segmentation.plugins.module_utils._core.ownership import DEFAULT_OWNER


def _is_mark(scheme, tag, dropped):
    if scheme is not None and (scheme.same(tag, scheme.managed) or scheme.owner_of(tag) is not None):
        return True
    return any((scheme.same(tag, other) if scheme is not None else tag == other) for other in dropped)


def export_item(kind, obj, keys=None, scheme=None, dropped_tags=()):
    """One object as a list-form item: ``(item, secret options left out)``.

    ``keys`` are the options that identify the object (default: ``{"name": <its identity>}``);
    ``scheme`` is the product's ``TagScheme`` (its management and owner tags are left out), and
    ``dropped_tags`` the tags the product or the module adds by itself.
    """
    item = dict(keys) if keys is not None else {"name": obj.get(kind.identity)}
    secrets = []
    for field in kind.options(task=False):
        if field.key or field.api is None or field.export is False or field.api not in obj:
            continue
        value = obj[field.api]
        if field.secret:
            if value not in (None, "", []):
                secrets.append(field.option)
            continue
        if scheme is not None and field.api == scheme.key:
            value = [t for t in value or [] if not _is_mark(scheme, t, dropped_tags)]
        if field.canon(value) == field.canon(None):
            continue
        item[field.option] = field.export(value, obj) if callable(field.export) else copy.deepcopy(value)
    if kind.export_rules is not None:
        kind.export_rules(obj, item)
    return item, secrets


def entry(module, options, items, secrets=None):
    """One file of an export: the list-form ``module``, its task-level ``options`` and the ``items``."""
    out = {"module": module, "options": dict(options), "items": list(items)}
    if secrets:
        out["secrets"] = sorted(secrets)
    return out


def owner_of(obj, scheme):
    """The owner of a managed object (``DEFAULT_OWNER`` when it carries no owner tag), or None when the
    collection does not manage it."""
    tags = obj.get(scheme.key) or []
    if not any(scheme.same(t, scheme.managed) for t in tags):
        return None
    owners = sorted(o for o in (scheme.owner_of(t) for t in tags) if o is not None)
    return owners[0] if owners else DEFAULT_OWNER


def entries_by_owner(module, options, exported, scheme):
    """The entries of ``exported`` ``(obj, item, secret options)`` triples of one placement: one per owner,
    so that applying them keeps every object with its owner (its ``options`` carry ``owner``); the
    objects the collection does not manage come first, in an entry without ``owner``, taken over by the
    owner of the task that applies it. Without a tag scheme (Secure Workload) there is one entry."""
    by_owner = {}
    for obj, item, hidden in exported:
        owned = by_owner.setdefault(owner_of(obj, scheme) if scheme is not None else None, ([], []))
        owned[0].append(item)
        owned[1].extend("%s.%s" % (item.get("name") or item.get("id"), option) for option in hidden)
    return [entry(module, dict(options, owner=owner) if owner is not None else dict(options), items, secrets)
            for owner, (items, secrets) in sorted(by_owner.items(), key=lambda pair: (pair[0] is not None, pair[0] or ""))]


def export_entries(module, options, kind, objects, keys=None, scheme=None, dropped_tags=None):
    """The export entries of ``objects`` of one kind and placement (:func:`entries_by_owner`);
    ``keys(obj)`` and ``dropped_tags(obj)`` as in :func:`export_item`."""
    exported = []
    for obj in objects:
        item, hidden = export_item(kind, obj, keys=keys(obj) if keys else None, scheme=scheme,
                                   dropped_tags=dropped_tags(obj) if dropped_tags else ())
        exported.append((obj, item, hidden))
    return entries_by_owner(module, options, exported, scheme)


def skipped(kind_name, name, reason):
    """One object an export left out, and why."""
    return {"kind": kind_name, "name": name, "reason": reason}


# the info modules' export options (documented in the ``export`` doc fragment)
def export_argument_spec():
    return dict(
        export=dict(type="bool", default=False),
        include_system=dict(type="bool", default=False),
    )
