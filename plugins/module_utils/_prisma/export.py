# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prisma objects as list-form declarations (``prisma_info`` with ``export: true``; ``_core/export.py``).

One entry per namespace and owner, for the kind read, ordered so that a namespace comes before what it holds:
shallower namespaces first. A namespace is exported as a short name in the list form of its parent.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath

from ansible_collections.microseg.segmentation.plugins.module_utils._core.export import export_entries, skipped
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.common import PrismaTags
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.kinds import OBJECTS, external_network_tags

# the order in which a whole namespace tree is applied: what a later kind names exists by then
APPLY_ORDER = ("namespace", "external_network", "enforcer_profile", "enforcer_profile_mapping", "network_ruleset",
               "tcp_service", "service_dependency_policy")


def _parent(obj, kind_name):
    if kind_name == "namespace":
        return posixpath.dirname(obj["name"]) or "/"
    return obj.get("namespace") or "/"


def _short(obj, kind_name):
    return posixpath.basename(obj["name"]) if kind_name == "namespace" else obj["name"]


def _as_made(kind_name, obj):
    """Is this reserved object as the product makes it? A namespace's ``default`` dependency policy
    that a task changed (the TCP-service scenarios disable it, so that only the declared dependencies
    apply) is exported with the change, since a new namespace gets one as made."""
    if kind_name != "service_dependency_policy":
        return True
    namespace = obj.get("namespace")
    made = ([["$identity=processingunit", "$namespace=%s" % namespace]], [["$identity=service", "$namespace=%s" % namespace]])
    return ((obj.get("subject"), obj.get("object")) == made and not obj.get("disabled") and not obj.get("propagate")
            and not obj.get("associatedTags") and not obj.get("fallback"))


def export(kind_name, objects, include_system=False):
    """``(entries, skipped)`` for the objects of one kind (``objects`` as read, unmasked)."""
    kind = OBJECTS[kind_name][0]
    module = "microseg.segmentation.prisma_%s" % kind_name
    by_namespace, left_out = {}, []
    for obj in objects:
        if _short(obj, kind_name) in kind.reserved_names and not include_system and _as_made(kind_name, obj):
            left_out.append(skipped(kind_name, obj["name"], "made by the product in namespace %s" % _parent(obj, kind_name)))
            continue
        by_namespace.setdefault(_parent(obj, kind_name), []).append(obj)
    dropped = (lambda obj: external_network_tags(obj["name"])) if kind_name == "external_network" else None
    entries = []
    for namespace in sorted(by_namespace, key=lambda n: (n.rstrip("/").count("/"), n)):
        found = sorted(by_namespace[namespace], key=lambda o: o["name"])
        entries.extend(export_entries(module, {"namespace": namespace}, kind, found, keys=lambda o: {"name": _short(o, kind_name)},
                                      scheme=PrismaTags(), dropped_tags=dropped))
    return entries, left_out
