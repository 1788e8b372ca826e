# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vSphere: connection options, the vCenter SOAP session (pyvmomi), one-call inventory reads
and the vAPI tagging client (``/rest/com/vmware/cis/...``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import socket
import ssl
import traceback

from ansible.module_utils.basic import env_fallback

from ansible_collections.microseg.segmentation.plugins.module_utils._core.errors import MicrosegError
from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import ApiError, Connection, HttpClient

try:
    from pyVim.connect import Disconnect, SmartConnect
    from pyVmomi import vim, vmodl

    HAS_PYVMOMI = True
    PYVMOMI_IMPORT_ERROR = None
except ImportError:
    HAS_PYVMOMI = False
    PYVMOMI_IMPORT_ERROR = traceback.format_exc()

# (name, importable, import traceback) for _core/runner.py
PYVMOMI = ("pyvmomi", HAS_PYVMOMI, PYVMOMI_IMPORT_ERROR)

# Page size of the property collector reads.
PAGE_SIZE = 1000
VM_PROPERTIES = [
    "name",
    "parent",
    "parentVApp",
    "config.instanceUuid",
    "config.uuid",
    "config.template",
    "runtime.powerState",
    "guest.ipAddress",
    "guest.net",
]
REST_SESSION = "/rest/com/vmware/cis/session"
REST_CATEGORY = "/rest/com/vmware/cis/tagging/category"
REST_TAG = "/rest/com/vmware/cis/tagging/tag"
REST_ASSOCIATION = "/rest/com/vmware/cis/tagging/tag-association"
SESSION_HEADER = "vmware-api-session-id"


class VsphereError(MicrosegError):
    """vCenter could not be reached, refused the login or failed a call."""


def vsphere_argument_spec():
    """The connection options of every vSphere module (documented in the ``vsphere`` fragment)."""
    return dict(
        hostname=dict(type="str", fallback=(env_fallback, ["VMWARE_HOST"])),
        port=dict(type="int", default=443, fallback=(env_fallback, ["VMWARE_PORT"])),
        username=dict(type="str", fallback=(env_fallback, ["VMWARE_USER"])),
        password=dict(type="str", no_log=True, fallback=(env_fallback, ["VMWARE_PASSWORD"])),
        validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["VMWARE_VALIDATE_CERTS"])),
        ca_path=dict(type="path", fallback=(env_fallback, ["VMWARE_CA_PATH"])),
        timeout=dict(type="int", default=60, fallback=(env_fallback, ["VMWARE_TIMEOUT"])),
    )


def check_connection_params(params):
    """Fail before any request when a connection option is missing or out of range."""
    for option, variable in (("hostname", "VMWARE_HOST"), ("username", "VMWARE_USER"), ("password", "VMWARE_PASSWORD")):
        if not params.get(option):
            raise VsphereError("%s is required: set the option or the environment variable %s" % (option, variable))
    if not 0 < params["port"] < 65536:
        raise VsphereError("port: %s is not a TCP port (1 to 65535)" % params["port"])
    if params["timeout"] <= 0:
        raise VsphereError("timeout: give a number of seconds greater than 0, not %s" % params["timeout"])


def ssl_context(validate_certs, ca_path):
    """The TLS context for the SOAP endpoint: verified against ``ca_path`` or the system store."""
    if not validate_certs:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    try:
        return ssl.create_default_context(cafile=ca_path) if ca_path else ssl.create_default_context()
    except (IOError, OSError, ssl.SSLError) as exc:
        raise VsphereError("ca_path: cannot load CA certificates from %s: %s" % (ca_path, exc)) from exc


def _endpoint(params):
    host = params["hostname"]
    if ":" in host and not host.startswith("["):
        host = "[%s]" % host
    return "%s:%s" % (host, params["port"])


def _fault_text(fault):
    text = getattr(fault, "msg", None) or ""
    if not text:
        text = fault.__class__.__name__
    return text


class VsphereClient:
    """One pyvmomi session to vCenter (or ESXi) for the module run."""

    def __init__(self, params):
        self.params = params
        self.endpoint = _endpoint(params)
        context = ssl_context(params["validate_certs"], params.get("ca_path"))
        try:
            self.si = SmartConnect(
                host=params["hostname"],
                port=params["port"],
                user=params["username"],
                pwd=params["password"],
                sslContext=context,
                httpConnectionTimeout=params["timeout"],
            )
        except vim.fault.InvalidLogin as exc:
            raise VsphereError("%s refused the login of user %s: %s" % (self.endpoint, params["username"], _fault_text(exc))) from exc
        except ssl.SSLError as exc:
            raise VsphereError("TLS error talking to %s: %s (set ca_path to the CA that signed its certificate)" % (self.endpoint, exc)) from exc
        except vmodl.MethodFault as exc:
            raise VsphereError("%s failed the login: %s" % (self.endpoint, _fault_text(exc))) from exc
        except (socket.error, IOError, OSError) as exc:
            raise VsphereError("cannot reach vCenter at %s: %s" % (self.endpoint, exc)) from exc
        self.content = self.si.RetrieveContent()

    def close(self):
        try:
            Disconnect(self.si)
        except Exception:  # pylint: disable=broad-except
            pass  # a failed logout must not hide the module's result

    def retrieve(self, types_and_properties):
        """Properties of every inventory object of the given types, in one paged property-collector read.

        ``types_and_properties`` maps a managed object type (such as ``vim.VirtualMachine``) to property
        paths. Returns ``[(type, moid, {path: value})]``.
        """
        content = self.content
        view = content.viewManager.CreateContainerView(content.rootFolder, list(types_and_properties), True)
        try:
            collector = vmodl.query.PropertyCollector
            traversal = collector.TraversalSpec(name="traverseEntities", path="view", skip=False, type=vim.view.ContainerView)
            obj_spec = collector.ObjectSpec(obj=view, skip=True, selectSet=[traversal])
            prop_specs = [collector.PropertySpec(type=kind, pathSet=list(paths), all=False) for kind, paths in types_and_properties.items()]
            filter_spec = collector.FilterSpec(objectSet=[obj_spec], propSet=prop_specs)
            pc = content.propertyCollector
            found = []
            page = pc.RetrievePropertiesEx([filter_spec], collector.RetrieveOptions(maxObjects=PAGE_SIZE))
            while page is not None:
                for obj in page.objects or ():
                    props = dict((prop.name, prop.val) for prop in obj.propSet or ())
                    found.append((type(obj.obj), obj.obj._moId, props))
                if not page.token:
                    break
                page = pc.ContinueRetrievePropertiesEx(page.token)
            return found
        except vmodl.MethodFault as exc:
            raise VsphereError("reading the inventory of %s failed: %s" % (self.endpoint, _fault_text(exc))) from exc
        finally:
            view.Destroy()

    def inventory(self):
        """``(containers, vms)``: the folders, datacenters and vApps by id, and the raw VM records."""
        found = self.retrieve({
            vim.Folder: ["name", "parent", "childType"],
            vim.Datacenter: ["name", "parent"],
            vim.VirtualApp: ["name", "parentFolder", "parentVApp"],
            vim.VirtualMachine: VM_PROPERTIES,
        })
        containers = {}
        vms = []
        for kind, moid, props in found:
            if issubclass(kind, vim.VirtualMachine):
                vms.append(_vm_record(moid, props))
            elif issubclass(kind, vim.VirtualApp):
                parent = props.get("parentFolder") or props.get("parentVApp")
                containers[moid] = {"name": props.get("name"), "parent": _moid(parent), "holds_vms": True}
            elif issubclass(kind, vim.Folder):
                containers[moid] = {"name": props.get("name"), "parent": _moid(props.get("parent")),
                                    "holds_vms": "VirtualMachine" in (props.get("childType") or ())}
            else:
                containers[moid] = {"name": props.get("name"), "parent": _moid(props.get("parent")), "holds_vms": False}
        return containers, vms


def _moid(ref):
    return ref._moId if ref is not None else None


def _vm_record(moid, props):
    candidates = []
    for nic in props.get("guest.net") or ():
        candidates.extend(nic.ipAddress or ())
        ip_config = getattr(nic, "ipConfig", None)
        for entry in (ip_config.ipAddress if ip_config is not None else None) or ():
            candidates.append(entry.ipAddress)
    if props.get("guest.ipAddress"):
        candidates.append(props["guest.ipAddress"])
    return {
        "moid": moid,
        "name": props.get("name"),
        "parent": _moid(props.get("parent") or props.get("parentVApp")),
        "instance_uuid": props.get("config.instanceUuid"),
        "bios_uuid": props.get("config.uuid"),
        "template": bool(props.get("config.template")),
        "power_state": str(props.get("runtime.powerState")) if props.get("runtime.powerState") is not None else None,
        "address_candidates": candidates,
    }


def parse_vapi_error(data):
    """The readable part of a vAPI REST error (``/rest`` and ``/api`` forms)."""
    if not isinstance(data, dict):
        return None
    kind = data.get("type") or data.get("error_type")
    value = data.get("value") if isinstance(data.get("value"), dict) else data
    messages = [m.get("default_message") for m in value.get("messages") or () if isinstance(m, dict) and m.get("default_message")]
    text = "; ".join(messages)
    if kind:
        text = "%s%s" % (kind, (": " + text) if text else "")
    return text or None


class TaggingClient(Connection):
    """vSphere tags through the vAPI REST endpoint, with a session of its own."""

    def __init__(self, params):
        self.params = params
        self.client = HttpClient(
            "https://%s" % _endpoint(params),
            validate_certs=params["validate_certs"],
            ca_path=params.get("ca_path"),
            timeout=params["timeout"],
            secrets=[params["password"]],
            error_parser=parse_vapi_error,
        )
        self.logged_in = False
        self._categories = None
        self._category_names = {}
        self._tags = {}
        self._tag_info = {}

    def login(self):
        token = base64.b64encode(("%s:%s" % (self.params["username"], self.params["password"])).encode("utf-8")).decode("ascii")
        try:
            data = self.request("POST", REST_SESSION, headers={"Authorization": "Basic %s" % token}, retry_write=True)
        except ApiError as exc:
            if exc.status == 401:
                exc.message = "%s refused the vAPI login of user %s (POST %s, status 401)" % (_endpoint(self.params), self.params["username"], REST_SESSION)
            raise
        session_id = data.get("value") if isinstance(data, dict) else None
        if not session_id:
            raise ApiError("POST %s returned no session id" % REST_SESSION, method="POST", url=self.client.base_url + REST_SESSION)
        self.client.add_secret(session_id)
        self.client.set_header(SESSION_HEADER, session_id)
        self.logged_in = True

    def close(self):
        if self.logged_in:
            try:
                self.client.request("DELETE", REST_SESSION)
            except ApiError:
                pass  # the session expires on its own
            self.logged_in = False
        super(TaggingClient, self).close()

    def _get(self, path):
        return (self.request("GET", path) or {}).get("value")

    def _action(self, path, action, body=None):
        return (self.request("POST", path, params={"~action": action}, body=body, retry_write=True) or {}).get("value")

    def categories(self):
        """``{name: id}`` of every tag category."""
        if self._categories is None:
            self._categories = {}
            for category_id in self._get(REST_CATEGORY) or ():
                info = self._get("%s/id:%s" % (REST_CATEGORY, category_id)) or {}
                self._categories[info.get("name")] = category_id
                self._category_names[category_id] = info.get("name")
        return self._categories

    def tags_of_category(self, category_id):
        """``{name: id}`` of the tags of one category."""
        if category_id not in self._tags:
            tags = {}
            for tag_id in self._action("%s/id:%s" % (REST_TAG, category_id), "list-tags-for-category") or ():
                info = self._get("%s/id:%s" % (REST_TAG, tag_id)) or {}
                tags[info.get("name")] = tag_id
                self._tag_info[tag_id] = (category_id, info.get("name"))
            self._tags[category_id] = tags
        return self._tags[category_id]

    def resolve(self, selectors):
        """Tag ids of ``[(category, tag)]``; fail naming what does not exist."""
        categories = self.categories()
        tag_ids = []
        for category, tag in selectors:
            if category not in categories:
                raise VsphereError("tags: no tag category %r in vCenter (categories: %s)" % (category, ", ".join(sorted(n for n in categories if n)) or "none"))
            tags = self.tags_of_category(categories[category])
            if tag not in tags:
                raise VsphereError("tags: no tag %r in category %r (its tags: %s)" % (tag, category, ", ".join(sorted(n for n in tags if n)) or "none"))
            tag_ids.append(tags[tag])
        return tag_ids

    def attached_vms(self, tag_ids):
        """``{tag id: set of VM ids}``."""
        attached = dict((tag_id, set()) for tag_id in tag_ids)
        if not tag_ids:
            return attached
        for entry in self._action(REST_ASSOCIATION, "list-attached-objects-on-tags", {"tag_ids": list(tag_ids)}) or ():
            objects = attached.setdefault(entry.get("tag_id"), set())
            for obj in entry.get("object_ids") or ():
                if obj.get("type") == "VirtualMachine":
                    objects.add(obj.get("id"))
        return attached

    def tag_names(self, tag_id):
        """``category:tag`` of a tag id."""
        if tag_id not in self._tag_info:
            info = self._get("%s/id:%s" % (REST_TAG, tag_id)) or {}
            self._tag_info[tag_id] = (info.get("category_id"), info.get("name"))
        category_id, name = self._tag_info[tag_id]
        if category_id not in self._category_names:
            info = self._get("%s/id:%s" % (REST_CATEGORY, category_id)) or {}
            self._category_names[category_id] = info.get("name")
        return "%s:%s" % (self._category_names[category_id], name)

    def tags_of_vms(self, vm_ids, chunk=500):
        """``{VM id: sorted list of 'category:tag'}``."""
        result = dict((vm_id, []) for vm_id in vm_ids)
        vm_ids = list(vm_ids)
        for start in range(0, len(vm_ids), chunk):
            objects = [{"type": "VirtualMachine", "id": vm_id} for vm_id in vm_ids[start:start + chunk]]
            for entry in self._action(REST_ASSOCIATION, "list-attached-tags-on-objects", {"object_ids": objects}) or ():
                vm_id = (entry.get("object_id") or {}).get("id")
                if vm_id in result:
                    result[vm_id] = sorted(set(result[vm_id]) | set(self.tag_names(tag_id) for tag_id in entry.get("tag_ids") or ()))
        return result
