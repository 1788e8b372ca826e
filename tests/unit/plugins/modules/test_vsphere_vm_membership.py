# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vsphere_vm_membership: selector checks and combination, inventory paths, guest addresses
(no vCenter needed; tests/integration/test_vsphere.py runs the module against vcsim)."""

from types import SimpleNamespace

import pytest

from ansible_collections.microseg.segmentation.plugins.module_utils._vsphere import selection
from ansible_collections.microseg.segmentation.plugins.module_utils._vsphere.common import (
    VsphereError,
    _vm_record,
    check_connection_params,
    parse_vapi_error,
    vsphere_argument_spec,
)
from ansible_collections.microseg.segmentation.plugins.module_utils._vsphere.membership import select_options_spec
from ansible_collections.microseg.segmentation.plugins.modules import vsphere_vm_membership

# root folder (not in paths) > DC0 > vm > web > frontend ; DC0 > host ; vm > app1 (a vApp)
CONTAINERS = {
    "group-d1": {"name": "Datacenters", "parent": None, "holds_vms": False},
    "datacenter-2": {"name": "DC0", "parent": "group-d1", "holds_vms": False},
    "group-v3": {"name": "vm", "parent": "datacenter-2", "holds_vms": True},
    "group-h4": {"name": "host", "parent": "datacenter-2", "holds_vms": False},
    "group-v5": {"name": "web", "parent": "group-v3", "holds_vms": True},
    "group-v6": {"name": "frontend", "parent": "group-v5", "holds_vms": True},
    "group-v7": {"name": "db", "parent": "group-v3", "holds_vms": True},
    "resgroup-v8": {"name": "app1", "parent": "group-v3", "holds_vms": True},
}
# The property collector does not return the root folder when reading from a view on it.
VIEW_CONTAINERS = dict((k, v) for k, v in CONTAINERS.items() if k != "group-d1")


def vm(name, moid, folder, power_state="poweredOn", uuid=None):
    return {"name": name, "moid": moid, "folder": folder, "power_state": power_state, "instance_uuid": uuid, "ip_addresses": []}


VMS = [
    vm("web-01", "vm-1", "/DC0/vm/web", uuid="u1"),
    vm("web-02", "vm-2", "/DC0/vm/web", "poweredOff", uuid="u2"),
    vm("web-03", "vm-3", "/DC0/vm/web/frontend", uuid="u3"),
    vm("db-01", "vm-4", "/DC0/vm/db", uuid="u4"),
    vm("web-01", "vm-5", "/DC0/vm/db", uuid="u5"),
    vm("web-ish", "vm-6", "/DC0/vm/webfarm", uuid="u6"),
]


def names(vms):
    return [(v["folder"], v["name"]) for v in vms]


class TestInput:
    def test_tag_selectors_split_on_the_first_colon(self):
        assert selection.parse_tag_selectors(["app:web", " env : prod ", "owner:team:blue", "app:web"]) == [
            ("app", "web"), ("env", "prod"), ("owner", "team:blue"),
        ]

    @pytest.mark.parametrize("value", ["web", ":web", "app:", " : "])
    def test_malformed_tag_is_refused(self, value):
        with pytest.raises(selection.SelectionError, match=r"tags: .* is not of the form category:tag"):
            selection.parse_tag_selectors([value])

    @pytest.mark.parametrize("path, expected", [
        ("/DC0/vm/web", "/DC0/vm/web"),
        ("DC0/vm/web/", "/DC0/vm/web"),
        ("//DC0//vm/web", "/DC0/vm/web"),
    ])
    def test_folder_paths_are_normalised(self, path, expected):
        assert selection.normalize_folder(path) == expected

    @pytest.mark.parametrize("path", ["", "/", " // "])
    def test_empty_folder_is_refused(self, path):
        with pytest.raises(selection.SelectionError, match="folder: .* is not an inventory path"):
            selection.normalize_folder(path)

    def test_check_input(self):
        params = {"names": ["a"], "tags": ["app:web"], "folder": "DC0/vm", "power_state": "poweredOn"}
        assert selection.check_input(params) == ([("app", "web")], "/DC0/vm")
        assert selection.check_input({"names": None, "tags": None, "folder": None, "power_state": None}) == ([], None)
        with pytest.raises(selection.SelectionError, match="names: a VM name may not be empty"):
            selection.check_input({"names": ["a", ""]})

    def test_connection_options_are_required(self):
        params = {"hostname": "vc", "port": 443, "username": "u", "password": None, "timeout": 60}
        with pytest.raises(VsphereError, match="password is required: set the option or the environment variable VMWARE_PASSWORD"):
            check_connection_params(params)
        params.update(password="p", port=70000)
        with pytest.raises(VsphereError, match="port: 70000 is not a TCP port"):
            check_connection_params(params)
        params.update(port=443)
        check_connection_params(params)


class TestPaths:
    def test_paths_leave_out_the_root_folder(self):
        paths = selection.inventory_paths(VIEW_CONTAINERS)
        assert paths["group-v3"] == "/DC0/vm"
        assert paths["group-v6"] == "/DC0/vm/web/frontend"
        assert paths["resgroup-v8"] == "/DC0/vm/app1"
        assert selection.inventory_paths(CONTAINERS)["group-v5"] == "/Datacenters/DC0/vm/web"

    def test_a_parent_cycle_does_not_loop(self):
        paths = selection.inventory_paths({"a": {"name": "a", "parent": "b"}, "b": {"name": "b", "parent": "a"}})
        assert set(paths) == {"a", "b"}

    def test_resolve_folder(self):
        paths = selection.inventory_paths(VIEW_CONTAINERS)
        assert selection.resolve_folder("/DC0/vm/web", VIEW_CONTAINERS, paths) == "group-v5"
        assert selection.resolve_folder("/DC0/vm/app1", VIEW_CONTAINERS, paths) == "resgroup-v8"

    def test_unknown_folder_lists_its_siblings(self):
        paths = selection.inventory_paths(VIEW_CONTAINERS)
        with pytest.raises(selection.SelectionError) as err:
            selection.resolve_folder("/DC0/vm/wbe", VIEW_CONTAINERS, paths)
        assert str(err.value) == "folder: no VM folder /DC0/vm/wbe in the inventory (VM folders in /DC0/vm: /DC0/vm/app1, /DC0/vm/db, /DC0/vm/web)"
        with pytest.raises(selection.SelectionError, match=r"no VM folder /DC9/vm in the inventory \(VM folders: /DC0/vm, "):
            selection.resolve_folder("/DC9/vm", VIEW_CONTAINERS, paths)

    def test_host_folder_is_not_a_vm_folder(self):
        paths = selection.inventory_paths(VIEW_CONTAINERS)
        with pytest.raises(selection.SelectionError, match="folder: /DC0/host is not a VM folder"):
            selection.resolve_folder("/DC0/host", VIEW_CONTAINERS, paths)


class TestSelection:
    def test_no_selector_selects_everything_sorted(self):
        assert names(selection.select_vms(VMS)) == [
            ("/DC0/vm/db", "db-01"), ("/DC0/vm/db", "web-01"), ("/DC0/vm/web", "web-01"), ("/DC0/vm/web", "web-02"),
            ("/DC0/vm/web/frontend", "web-03"), ("/DC0/vm/webfarm", "web-ish"),
        ]

    def test_names_match_exactly_and_every_vm_of_that_name(self):
        assert names(selection.select_vms(VMS, names=["web-01", "db-01"])) == [
            ("/DC0/vm/db", "db-01"), ("/DC0/vm/db", "web-01"), ("/DC0/vm/web", "web-01"),
        ]
        assert selection.missing_names(VMS, ["web-01", "WEB-02", "ghost"]) == ["WEB-02", "ghost"]

    def test_folder_is_recursive_by_default_and_does_not_match_a_prefix(self):
        assert names(selection.select_vms(VMS, folder_path="/DC0/vm/web")) == [
            ("/DC0/vm/web", "web-01"), ("/DC0/vm/web", "web-02"), ("/DC0/vm/web/frontend", "web-03"),
        ]
        assert names(selection.select_vms(VMS, folder_path="/DC0/vm/web", recursive=False)) == [
            ("/DC0/vm/web", "web-01"), ("/DC0/vm/web", "web-02"),
        ]

    def test_tags_all_or_any(self):
        attached = {"t-web": {"vm-1", "vm-2", "vm-3", "vm-9"}, "t-prod": {"vm-1", "vm-3", "vm-4"}}
        assert selection.tagged_ids(attached, ["t-web", "t-prod"]) == {"vm-1", "vm-3"}
        assert selection.tagged_ids(attached, ["t-web", "t-prod"], "any") == {"vm-1", "vm-2", "vm-3", "vm-4", "vm-9"}
        assert selection.tagged_ids(attached, ["t-none"]) == set()

    def test_selectors_combine_with_and(self):
        tagged = {"vm-1", "vm-2", "vm-4", "vm-5"}
        assert names(selection.select_vms(VMS, names=["web-01", "web-02", "web-03"], folder_path="/DC0/vm/web", tagged=tagged)) == [
            ("/DC0/vm/web", "web-01"), ("/DC0/vm/web", "web-02"),
        ]
        assert names(selection.select_vms(VMS, folder_path="/DC0/vm/web", tagged=tagged, power_state="poweredOn")) == [("/DC0/vm/web", "web-01")]
        assert selection.select_vms(VMS, tagged=set()) == []

    def test_external_ids_are_unique_and_skip_vms_without_one(self):
        vms = [{"instance_uuid": "a"}, {"instance_uuid": None}, {"instance_uuid": "b"}, {"instance_uuid": "a"}]
        assert selection.external_ids(vms) == ["a", "b"]


class TestAddresses:
    def test_usable_addresses(self):
        assert selection.usable_addresses([
            "10.0.0.2", "fe80::1%eth0", "2001:db8::1", "10.0.0.2", "", None, "169.254.1.1", "127.0.0.1",
            "0.0.0.0", "not-an-ip", "10.0.0.10", "192.168.1.5/24", "::1",
        ]) == ["10.0.0.2", "10.0.0.10", "192.168.1.5", "2001:db8::1"]

    def test_flatten(self):
        vms = [{"ip_addresses": ["10.0.0.2", "10.0.0.1"]}, {"ip_addresses": ["10.0.0.1"]}, {"ip_addresses": []}]
        assert selection.flatten_addresses(vms) == ["10.0.0.1", "10.0.0.2"]

    def test_vm_record_reads_guest_net_and_primary_address(self):
        nic1 = SimpleNamespace(ipAddress=["10.1.0.5", "fe80::5"], ipConfig=SimpleNamespace(ipAddress=[SimpleNamespace(ipAddress="10.1.0.6")]))
        nic2 = SimpleNamespace(ipAddress=None, ipConfig=None)
        props = {
            "name": "web-01", "parent": SimpleNamespace(_moId="group-v5"), "config.instanceUuid": "iu", "config.uuid": "bu",
            "runtime.powerState": "poweredOn", "guest.ipAddress": "10.1.0.7", "guest.net": [nic1, nic2],
        }
        record = _vm_record("vm-1", props)
        assert record["parent"] == "group-v5"
        assert record["template"] is False
        assert selection.usable_addresses(record["address_candidates"]) == ["10.1.0.5", "10.1.0.6", "10.1.0.7"]
        assert _vm_record("vm-2", {"name": "x", "parentVApp": SimpleNamespace(_moId="resgroup-v8")})["parent"] == "resgroup-v8"


def test_vapi_error_text():
    rest = {"type": "com.vmware.vapi.std.errors.not_found", "value": {"messages": [{"default_message": "Tag x not found.", "id": "m"}]}}
    assert parse_vapi_error(rest) == "com.vmware.vapi.std.errors.not_found: Tag x not found."
    api = {"error_type": "UNAUTHENTICATED", "messages": [{"default_message": "Authentication required."}]}
    assert parse_vapi_error(api) == "UNAUTHENTICATED: Authentication required."
    assert parse_vapi_error("plain text") is None


def test_argument_spec_matches_the_documentation():
    import yaml

    from ansible_collections.microseg.segmentation.plugins.doc_fragments.vsphere import ModuleDocFragment

    documented = dict(yaml.safe_load(vsphere_vm_membership.DOCUMENTATION)["options"])
    documented.update(yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"])
    spec = vsphere_argument_spec()
    spec.update(select_options_spec())
    assert set(documented) == set(spec)
    for option, definition in spec.items():
        assert documented[option].get("type", "str") == definition.get("type", "str"), option
        assert documented[option].get("default") == definition.get("default"), option
        assert documented[option].get("choices") == definition.get("choices"), option
    assert spec["password"]["no_log"] is True
