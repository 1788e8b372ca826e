# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vSphere VM selection without any client library: input checks, inventory paths, guest
addresses and the combination of the selectors (names AND folder AND tags AND power state)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

POWER_STATES = ("poweredOn", "poweredOff", "suspended")
TAGS_MATCH = ("all", "any")
# How many candidates an error message lists before it says "and N more".
MAX_LISTED = 20


class SelectionError(Exception):
    """Bad selector input, or a selector that names something the inventory does not have."""


def _listing(values):
    values = sorted(values)
    text = ", ".join(values[:MAX_LISTED])
    if len(values) > MAX_LISTED:
        text += " and %d more" % (len(values) - MAX_LISTED)
    return text or "none"


def parse_tag_selectors(values):
    """``['category:tag', ...]`` -> ``[(category, tag), ...]`` without duplicates, order kept.

    The category is what precedes the first colon: a tag name may contain colons, a category
    name used here may not.
    """
    selectors = []
    for value in values or ():
        category, sep, tag = value.partition(":")
        category, tag = category.strip(), tag.strip()
        if not sep or not category or not tag:
            raise SelectionError("tags: %r is not of the form category:tag (for example app:web)" % value)
        if (category, tag) not in selectors:
            selectors.append((category, tag))
    return selectors


def normalize_folder(path):
    """An inventory path as ``/DC/vm/a/b``: leading slash added, repeated and trailing ones removed."""
    parts = [part for part in (path or "").strip().split("/") if part]
    if not parts:
        raise SelectionError("folder: %r is not an inventory path; give the path of a VM folder, such as /DC0/vm/web" % path)
    return "/" + "/".join(parts)


def check_input(params):
    """Check the selector options before any request; return ``(tag_selectors, folder_path)``."""
    names = params.get("names")
    if names is not None:
        blank = [name for name in names if not name]
        if blank:
            raise SelectionError("names: a VM name may not be empty")
    tag_selectors = parse_tag_selectors(params.get("tags"))
    folder = params.get("folder")
    folder_path = normalize_folder(folder) if folder is not None else None
    if params.get("power_state") is not None and params["power_state"] not in POWER_STATES:
        raise SelectionError("power_state: %r is not one of %s" % (params["power_state"], ", ".join(POWER_STATES)))
    return tag_selectors, folder_path


def inventory_paths(entities):
    """Inventory paths of every entity.

    ``entities`` maps an id to ``{"name": str, "parent": id or None}``. An entity whose parent
    is ``None`` or unknown (the root folder, which is not part of a path) is at the top. Returns
    ``{id: "/name/of/each/ancestor/and/itself"}``.
    """
    paths = {}

    def path_of(entity_id, seen):
        if entity_id in paths:
            return paths[entity_id]
        entity = entities.get(entity_id)
        if entity is None or entity_id in seen:
            return ""
        seen.add(entity_id)
        parent = entity.get("parent")
        prefix = path_of(parent, seen) if parent in entities else ""
        paths[entity_id] = prefix + "/" + entity["name"]
        return paths[entity_id]

    for entity_id in entities:
        path_of(entity_id, set())
    return paths


def resolve_folder(folder_path, containers, paths):
    """The id of the VM container (VM folder or vApp) at ``folder_path``; fail with the closest ones."""
    found = [cid for cid, path in paths.items() if path == folder_path and cid in containers]
    vm_containers = [cid for cid in found if containers[cid].get("holds_vms")]
    if vm_containers:
        return vm_containers[0]
    if found:
        raise SelectionError("folder: %s is not a VM folder (VM folders are under /<datacenter>/vm)" % folder_path)
    parent = folder_path.rsplit("/", 1)[0]
    siblings = [path for cid, path in paths.items() if cid in containers and containers[cid].get("holds_vms") and path.rsplit("/", 1)[0] == parent]
    if siblings:
        hint = "VM folders in %s: %s" % (parent or "/", _listing(siblings))
    else:
        hint = "VM folders: %s" % _listing(path for cid, path in paths.items() if cid in containers and containers[cid].get("holds_vms"))
    raise SelectionError("folder: no VM folder %s in the inventory (%s)" % (folder_path, hint))


def in_folder(vm_folder, folder_path, recursive):
    """Whether a VM whose parent folder is ``vm_folder`` is in ``folder_path``."""
    if vm_folder == folder_path:
        return True
    return bool(recursive) and (vm_folder or "").startswith(folder_path + "/")


def tagged_ids(attached, tag_ids, match="all"):
    """Ids of the objects that carry all (or any) of ``tag_ids``; ``attached`` maps a tag id to object ids."""
    sets = [set(attached.get(tag_id, ())) for tag_id in tag_ids]
    if not sets:
        return set()
    if match == "any":
        return set().union(*sets)
    return set.intersection(*sets)


def select_vms(vms, names=None, folder_path=None, recursive=True, tagged=None, power_state=None):
    """The VMs that pass every selector given (AND); ``None`` means "no such selector".

    ``vms`` are dicts with at least ``name``, ``moid``, ``folder`` and ``power_state``;
    ``tagged`` is the set of VM ids that the tag selector matched.
    """
    wanted_names = set(names) if names is not None else None
    selected = []
    for vm in vms:
        if wanted_names is not None and vm["name"] not in wanted_names:
            continue
        if folder_path is not None and not in_folder(vm["folder"], folder_path, recursive):
            continue
        if tagged is not None and vm["moid"] not in tagged:
            continue
        if power_state is not None and vm["power_state"] != power_state:
            continue
        selected.append(vm)
    return sorted(selected, key=lambda vm: (vm["folder"] or "", vm["name"], vm["moid"]))


def missing_names(vms, names):
    """The names in ``names`` that no VM of the inventory has."""
    known = set(vm["name"] for vm in vms)
    return [name for name in (names or ()) if name not in known]


def _ip_key(address):
    return (address.version, int(address))


def usable_addresses(candidates):
    """Unique guest addresses, sorted (IPv4 first), without link-local, loopback or unspecified ones.

    Invalid strings (such as an empty address a guest reports) are dropped; ``fe80::1%eth0`` zone
    suffixes make an address link-local anyway.
    """
    found = {}
    for candidate in candidates:
        if not candidate:
            continue
        text = str(candidate).strip().split("%", 1)[0].split("/", 1)[0]
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            continue
        if address.is_link_local or address.is_loopback or address.is_unspecified:
            continue
        found[str(address)] = address
    return [str(address) for address in sorted(found.values(), key=_ip_key)]


def flatten_addresses(vms):
    """Every VM's addresses in one unique, sorted list."""
    return usable_addresses(address for vm in vms for address in vm.get("ip_addresses") or ())


def external_ids(vms):
    """The instance UUIDs (NSX's external_id of a vCenter VM), unique, in VM order."""
    ids = []
    for vm in vms:
        uuid = vm.get("instance_uuid")
        if uuid and uuid not in ids:
            ids.append(uuid)
    return ids
