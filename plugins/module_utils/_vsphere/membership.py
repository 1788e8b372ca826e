# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The VM membership read: selectors in, VMs with their ids and addresses out."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.microseg.segmentation.plugins.module_utils._vsphere import selection
from ansible_collections.microseg.segmentation.plugins.module_utils._vsphere.common import (
    TaggingClient,
    VsphereClient,
    VsphereError,
    check_connection_params,
)


def select_options_spec():
    """The selector options of vsphere_vm_membership."""
    return dict(
        names=dict(type="list", elements="str"),
        folder=dict(type="str"),
        recursive=dict(type="bool", default=True),
        tags=dict(type="list", elements="str"),
        tags_match=dict(type="str", default="all", choices=list(selection.TAGS_MATCH)),
        power_state=dict(type="str", choices=list(selection.POWER_STATES)),
        include_tags=dict(type="bool", default=True),
    )


def find_vms(params):
    """Run the selection; return the module result (without ``changed``)."""
    try:
        tag_selectors, folder_path = selection.check_input(params)
    except selection.SelectionError as exc:
        raise VsphereError(str(exc)) from exc
    check_connection_params(params)

    client = VsphereClient(params)
    tagging = None
    try:
        containers, raw_vms = client.inventory()
        paths = selection.inventory_paths(containers)
        vms = []
        for raw in raw_vms:
            if raw["template"]:
                continue
            vms.append({
                "name": raw["name"],
                "moid": raw["moid"],
                "instance_uuid": raw["instance_uuid"],
                "bios_uuid": raw["bios_uuid"],
                "folder": paths.get(raw["parent"], "/"),
                "power_state": raw["power_state"],
                "ip_addresses": selection.usable_addresses(raw["address_candidates"]),
            })
        try:
            missing = selection.missing_names(vms, params.get("names"))
            if missing:
                raise selection.SelectionError("names: no VM named %s in the inventory" % ", ".join(repr(name) for name in missing))
            if folder_path is not None:
                selection.resolve_folder(folder_path, containers, paths)
        except selection.SelectionError as exc:
            raise VsphereError(str(exc)) from exc

        # An empty list selects no VM (a list built from an empty variable must not select them all).
        tagged = set() if params.get("tags") is not None and not tag_selectors else None
        if tag_selectors or params["include_tags"]:
            tagging = TaggingClient(params)
            tagging.login()
        if tag_selectors:
            tag_ids = tagging.resolve(tag_selectors)
            tagged = selection.tagged_ids(tagging.attached_vms(tag_ids), tag_ids, params["tags_match"])

        selected = selection.select_vms(
            vms,
            names=params.get("names"),
            folder_path=folder_path,
            recursive=params["recursive"],
            tagged=tagged,
            power_state=params.get("power_state"),
        )
        if params["include_tags"]:
            tags = tagging.tags_of_vms([vm["moid"] for vm in selected]) if selected else {}
            for vm in selected:
                vm["tags"] = tags.get(vm["moid"], [])
    finally:
        if tagging is not None:
            tagging.close()
        client.close()

    return {
        "vms": selected,
        "external_ids": selection.external_ids(selected),
        "ip_addresses": selection.flatten_addresses(selected),
    }
