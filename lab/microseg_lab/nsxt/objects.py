"""Manager API (``/api/v1``): the inventory NSX clients read and the grouping objects rules use.

Read-only, derived from the lab inventory (``inventory.py``) so that they always agree with the
NSGroup membership the lab computes:

- ``/logical-switches``: one logical switch per namespace segment (``<cluster>-<namespace>``),
  tagged ``ncp/cluster`` and ``ncp/project`` as NCP tags what it creates;
- ``/logical-ports``: the pods' ports (the ids the NSGroup effective members already use), with
  NCP's tags and the pod address as an address binding, plus on each switch the port that
  attaches it to the router (attachment type ``LOGICALROUTER``, no tags);
- ``/logical-routers`` and ``/logical-router-ports``: one tier-1 router with one downlink port per
  logical switch (the switch's first pod address in a /24, or /64, gives the gateway ``.1``);
- ``/ns-profiles``: a few system profiles (L7 application ids), pages capped at 50 as the API
  documents for NSProfiles;
- ``/upgrade/summary``: the product version.

Read and written, persisted with the other Manager objects: ``/ip-sets`` (with ``?action=add_ip``
/ ``remove_ip`` and ``/members``; "either of type IPv4 or of type IPv6", as the spec describes an
IPSet, so one IPSet never mixes the two), ``/ns-services`` (a few system-owned default services are seeded,
``default_service: true``, neither modifiable nor deletable) and ``/ns-service-groups``. A PUT
needs the current ``_revision`` (412 otherwise). Deleting an object that an NSGroup, a firewall rule
or section, or an NSServiceGroup refers to is refused with 409 (the status the spec lists for these
deletes; the error code is the lab's), unless ``force=true``, which never deletes a system-owned
service. Lab choices, where the spec is silent: modifying or deleting a system-owned service is
400; removing an address an IPSet does not hold is 400.
"""

from __future__ import annotations

import ipaddress
import uuid

from ..common.server import Response
from .common import Ctx, new_uuid, page, stamp_new, stamp_update
from .errors import GROUPING, IN_USE, NOT_ALLOWED, NOT_FOUND, NsxError, bad_request, not_found
from .validate import Checker, ip_element, service_element

_NS = uuid.UUID("8d0c4b6e-2f1a-4c7e-9b3d-6a5e4f3c2b1a")
LAB_EPOCH_MS = 1700000000000

MAX_IP_ADDRESSES = 4000
MAX_SERVICE_GROUP_MEMBERS = 50
MAX_PORT_VALUES = 15
NSPROFILE_PAGE_CAP = 50
SYSTEM_OWNED = 10049  # lab choice: a write to a system-owned object
ETHER = "EtherTypeNSService"
ATTACHMENT_TYPES = ("VIF", "LOGICALROUTER", "BRIDGEENDPOINT", "DHCP_SERVICE", "METADATA_PROXY", "L2VPN_SESSION", "NONE")
ROUTER_TYPES = ("TIER0", "TIER1")
ROUTER_PORT_TYPES = ("LogicalRouterUpLinkPort", "LogicalRouterDownLinkPort", "LogicalRouterLinkPortOnTIER0",
                     "LogicalRouterLinkPortOnTIER1", "LogicalRouterLoopbackPort", "LogicalRouterIPTunnelPort",
                     "LogicalRouterCentralizedServicePort")

# System-owned default services (name, element); ids are derived from the name, so they are the
# same on every lab.
DEFAULT_SERVICES = (
    ("HTTP", {"resource_type": "L4PortSetNSService", "l4_protocol": "TCP", "source_ports": [], "destination_ports": ["80"]}),
    ("HTTPS", {"resource_type": "L4PortSetNSService", "l4_protocol": "TCP", "source_ports": [], "destination_ports": ["443"]}),
    ("SSH", {"resource_type": "L4PortSetNSService", "l4_protocol": "TCP", "source_ports": [], "destination_ports": ["22"]}),
    ("DNS", {"resource_type": "L4PortSetNSService", "l4_protocol": "TCP", "source_ports": [], "destination_ports": ["53"]}),
    ("DNS-UDP", {"resource_type": "L4PortSetNSService", "l4_protocol": "UDP", "source_ports": [], "destination_ports": ["53"]}),
    ("ICMP Echo Request", {"resource_type": "ICMPTypeNSService", "protocol": "ICMPv4", "icmp_type": 8, "icmp_code": 0}),
    ("FTP", {"resource_type": "ALGTypeNSService", "alg": "FTP", "source_ports": [], "destination_ports": ["21"]}),
)
# System NSProfiles: (name, APP_ID values).
DEFAULT_PROFILES = (("SSL", ["SSL"]), ("HTTP", ["HTTP"]), ("DNS", ["DNS"]), ("SSH", ["SSH"]))


def stable_id(*parts: str) -> str:
    return str(uuid.uuid5(_NS, "/".join(parts)))


def _fixed_meta(doc: dict, system: bool = False) -> dict:
    """Metadata of an object the lab derives (same on every read and every lab)."""
    user = "system" if system else "admin"
    doc.update({"_create_time": LAB_EPOCH_MS, "_create_user": user, "_last_modified_time": LAB_EPOCH_MS,
                "_last_modified_user": user, "_system_owned": system, "_protection": "NOT_PROTECTED", "_revision": 0})
    return doc


def _mac(seed: str) -> str:
    digest = uuid.uuid5(_NS, "mac/" + seed).bytes
    return "02:50:56:%02x:%02x:%02x" % (digest[0], digest[1], digest[2])


def _gateway(ip: str) -> tuple[str, int]:
    address = ipaddress.ip_address(ip)
    prefix = 24 if address.version == 4 else 64
    network = ipaddress.ip_network("%s/%d" % (ip, prefix), strict=False)
    return str(network.network_address + 1), prefix


def _ref(target_type: str, doc: dict) -> dict:
    return {"target_id": doc["id"], "target_type": target_type, "target_display_name": doc.get("display_name", doc["id"]), "is_valid": True}


def _not_allowed(ctx: Ctx) -> NsxError:
    return NsxError(405, NOT_ALLOWED, "The method %s is not supported for the URI %s" % (ctx.method, ctx.request.path))


class Topology:
    """Logical switches, ports and the tier-1 router of one inventory (read-only)."""

    def __init__(self, inventory) -> None:
        cluster = inventory.document["cluster"]
        self.router = _fixed_meta({
            "resource_type": "LogicalRouter", "id": stable_id("router", cluster, "t1"), "display_name": "%s-t1" % cluster,
            "router_type": "TIER1", "high_availability_mode": "ACTIVE_STANDBY", "failover_mode": "NON_PREEMPTIVE",
            "edge_cluster_member_indices": [], "firewall_sections": [],
            "advanced_config": {"internal_transit_network": "169.254.0.0/28", "external_transit_networks": ["100.64.0.0/16"]},
            "tags": [{"scope": "ncp/cluster", "tag": cluster}],
        })
        self.switches: list[dict] = []
        self.ports: list[dict] = []
        self.router_ports: list[dict] = []
        self.switch_of_port: dict[str, str] = {}
        self.pods_of_switch: dict[str, set[str]] = {}
        segments = sorted(inventory.segments.values(), key=lambda ports: ports[0].segment_id)
        tag_index = 0
        for index, ports in enumerate(segments):
            segment, namespace = ports[0].segment_id, ports[0].namespace
            ns_tags = [{"scope": "ncp/cluster", "tag": cluster}, {"scope": "ncp/project", "tag": namespace}]
            switch = _fixed_meta({
                "resource_type": "LogicalSwitch", "id": stable_id("switch", segment), "display_name": segment,
                "transport_zone_id": stable_id("transport-zone", "overlay"), "admin_state": "UP", "replication_mode": "MTEP",
                "switch_type": "DEFAULT", "hybrid": False, "vni": 69632 + index, "switching_profile_ids": [],
                "address_bindings": [], "tags": list(ns_tags),
            })
            self.switches.append(switch)
            self.pods_of_switch[switch["id"]] = set()
            for port in ports:
                tag_index += 1
                bindings = [{"ip_address": ip, "mac_address": _mac(port.id), "vlan": tag_index} for ip in port.ips]
                self.ports.append(_fixed_meta({
                    "resource_type": "LogicalPort", "id": port.id, "display_name": port.display_name,
                    "logical_switch_id": switch["id"], "admin_state": "UP", "switching_profile_ids": [],
                    "attachment": {"attachment_type": "VIF", "id": stable_id("vif", port.id),
                                   "context": {"resource_type": "VifAttachmentContext", "vif_type": "CHILD",
                                               "parent_vif_id": stable_id("node-vif", cluster), "traffic_tag": tag_index}},
                    "address_bindings": bindings, "tags": [{"scope": s, "tag": t} for s, t in port.tags],
                }))
                self.switch_of_port[port.id] = switch["id"]
                self.pods_of_switch[switch["id"]].add(port.id)
            downlink_id = stable_id("downlink", segment)
            switch_port = _fixed_meta({
                "resource_type": "LogicalPort", "id": stable_id("router-port", segment), "display_name": "%s-to-router" % segment,
                "logical_switch_id": switch["id"], "admin_state": "UP", "switching_profile_ids": [],
                "attachment": {"attachment_type": "LOGICALROUTER", "id": downlink_id}, "address_bindings": [], "tags": [],
            })
            self.ports.append(switch_port)
            self.switch_of_port[switch_port["id"]] = switch["id"]
            gateway, prefix = _gateway(ports[0].ips[0])
            self.router_ports.append(_fixed_meta({
                "resource_type": "LogicalRouterDownLinkPort", "id": downlink_id, "display_name": "%s-downlink" % segment,
                "logical_router_id": self.router["id"], "linked_logical_switch_port_id": _ref("LogicalPort", switch_port),
                "subnets": [{"ip_addresses": [gateway], "prefix_length": prefix}], "urpf_mode": "STRICT",
                "mac_address": _mac(downlink_id), "service_bindings": [], "tags": list(ns_tags),
            }))
        self.switches_by_id = {s["id"]: s for s in self.switches}
        self.ports_by_id = {p["id"]: p for p in self.ports}
        self.routers_by_id = {self.router["id"]: self.router}
        self.router_ports_by_id = {p["id"]: p for p in self.router_ports}


def _profile(name: str, values: list[str]) -> dict:
    return _fixed_meta({"resource_type": "NSProfile", "id": stable_id("ns-profile", name), "display_name": name, "is_valid": True,
                        "nsprofile_attribute": [{"attributes_data": {"key": "APP_ID", "value": list(values), "datatype": "STRING"}}]},
                       system=True)


PROFILES = {p["id"]: p for p in (_profile(name, values) for name, values in DEFAULT_PROFILES)}


def _port_values(chk: Checker, element: dict, where: str) -> None:
    """L4 port sets: "Number of values should not exceed 15, ranges count as 2 values"."""
    for key in ("source_ports", "destination_ports"):
        values = element.get(key)
        if isinstance(values, list) and all(isinstance(v, str) for v in values):
            count = sum(2 if "-" in v else 1 for v in values)
            if count > MAX_PORT_VALUES and len(values) <= MAX_PORT_VALUES:
                chk.err("property %s%s counts %d values (a range counts as 2), at most %d" % (where, key, count, MAX_PORT_VALUES))


class ObjectsApi:
    """The routes above; ``manager`` is the ManagerApi (references to and from its NSGroups and rules)."""

    ROOTS = ("ip-sets", "ns-services", "ns-service-groups", "ns-profiles", "logical-switches", "logical-ports",
             "logical-routers", "logical-router-ports", "upgrade")

    def __init__(self, manager) -> None:
        self.manager = manager
        self._topology: tuple[object, Topology] | None = None
        self._init()

    def _init(self) -> None:
        self.ipsets: dict[str, dict] = {}
        self.services: dict[str, dict] = {}
        self.service_groups: dict[str, dict] = {}

    @property
    def journal(self):
        return self.manager.journal

    @property
    def topology(self) -> Topology:
        inventory = self.manager.inventory
        if self._topology is None or self._topology[0] is not inventory:
            self._topology = (inventory, Topology(inventory))
        return self._topology[1]

    @property
    def profiles(self) -> dict[str, dict]:
        return PROFILES

    # ---------------------------------------------------------------- state

    def seed(self) -> None:
        self._init()
        self._ensure_defaults()

    def _ensure_defaults(self) -> None:
        for name, element in DEFAULT_SERVICES:
            sid = stable_id("ns-service", name)
            if sid in self.services:
                continue
            doc = {"id": sid, "resource_type": "NSService", "display_name": name, "description": name,
                   "nsservice_element": dict(element), "default_service": True}
            stamp_new(doc, "system", system=True)
            self.services[sid] = doc
            self.journal.put("mp_nsservice", sid, "", doc)

    def load(self, by_kind: dict) -> None:
        self._init()

        def created(row):
            return row[2].get("_create_time", 0)

        for kind, store in (("mp_ipset", self.ipsets), ("mp_nsservice", self.services), ("mp_nsservice_group", self.service_groups)):
            for key, _scope, doc in sorted(by_kind.get(kind, []), key=created):
                store[key] = doc
        self._ensure_defaults()  # state saved before the default services existed

    # ---------------------------------------------------------------- routing

    def handle(self, ctx: Ctx, segs: list[str]) -> Response:
        root, rest = segs[0], segs[1:]
        if root == "upgrade":
            if rest != ["summary"]:
                raise not_found(ctx.request.path)
            if ctx.method != "GET":
                raise _not_allowed(ctx)
            return Response.json(200, self._upgrade_summary())
        if root == "ip-sets":
            return self._ipsets(ctx, rest)
        if root == "ns-services":
            return self._services(ctx, rest)
        if root == "ns-service-groups":
            return self._service_groups(ctx, rest)
        return self._read_only(ctx, root, rest)

    def _upgrade_summary(self) -> dict:
        version = self.manager.product.VERSION
        return {"system_version": version, "target_version": version, "upgrade_coordinator_version": version,
                "upgrade_coordinator_updated": False, "upgrade_status": "NOT_STARTED",
                "component_target_versions": [{"component_type": c, "target_version": version} for c in ("MP", "HOST", "EDGE")]}

    def _read_only(self, ctx: Ctx, root: str, rest: list[str]) -> Response:
        if ctx.method != "GET":
            raise _not_allowed(ctx)
        topology = self.topology
        if root == "ns-profiles":
            items, by_id, cap = list(self.profiles.values()), self.profiles, NSPROFILE_PAGE_CAP
            attribute = ctx.param("attribute_type")
            if attribute:
                items = [p for p in items if any(a["attributes_data"]["key"] == attribute for a in p["nsprofile_attribute"])]
        elif root == "logical-switches":
            items, by_id, cap = topology.switches, topology.switches_by_id, None
            zone = ctx.param("transport_zone_id")
            if zone:
                items = [s for s in items if s["transport_zone_id"] == zone]
        elif root == "logical-ports":
            items, by_id, cap = topology.ports, topology.ports_by_id, None
            switch = ctx.param("logical_switch_id")
            attachment = ctx.enum_param("attachment_type", ATTACHMENT_TYPES)
            if switch:
                items = [p for p in items if p["logical_switch_id"] == switch]
            if attachment:
                items = [p for p in items if (p.get("attachment") or {}).get("attachment_type", "NONE") == attachment]
        elif root == "logical-routers":
            items, by_id, cap = [topology.router], topology.routers_by_id, None
            router_type = ctx.enum_param("router_type", ROUTER_TYPES)
            if router_type:
                items = [r for r in items if r["router_type"] == router_type]
        else:  # logical-router-ports
            items, by_id, cap = topology.router_ports, topology.router_ports_by_id, None
            router = ctx.param("logical_router_id")
            switch = ctx.param("logical_switch_id")
            kind = ctx.enum_param("resource_type", ROUTER_PORT_TYPES)
            if router:
                items = [p for p in items if p["logical_router_id"] == router]
            if switch:
                items = [p for p in items if topology.switch_of_port.get(p["linked_logical_switch_port_id"]["target_id"]) == switch]
            if kind:
                items = [p for p in items if p["resource_type"] == kind]
        if not rest:
            return Response.json(200, page(ctx, items, dict, cap=cap))
        if len(rest) == 1:
            doc = by_id.get(rest[0])
            if doc is None:
                raise not_found(rest[0])
            return Response.json(200, dict(doc))
        raise not_found(ctx.request.path)

    def _collection(self, ctx: Ctx, rest: list[str], store: dict, kind: str, create, update, delete, render, action=None) -> Response:
        method = ctx.method
        if not rest:
            if method == "GET":
                items = list(store.values())
                default = ctx.bool_param("default_service", None) if kind != "IPSet" else None
                if default is not None:
                    items = [i for i in items if bool(i.get("default_service")) == default]
                return Response.json(200, page(ctx, items, render))
            if method == "POST":
                return create(ctx)
            raise _not_allowed(ctx)
        ident = rest[0]
        doc = store.get(ident)
        if len(rest) == 1:
            if method == "GET":
                if doc is None:
                    raise not_found(ident)
                return Response.json(200, render(doc))
            if doc is None:
                raise not_found(ident)
            if method == "PUT":
                return update(ctx, doc)
            if method == "DELETE":
                return delete(ctx, doc)
            if method == "POST" and action is not None:
                return action(ctx, doc)
            raise _not_allowed(ctx)
        if kind == "IPSet" and rest[1:] == ["members"]:
            if method != "GET":
                raise _not_allowed(ctx)
            if doc is None:
                raise not_found(ident)
            return Response.json(200, page(ctx, [{"ip_address": a} for a in doc.get("ip_addresses", [])]))
        raise not_found(ctx.request.path)

    def _store(self, kind: str, store: dict, doc: dict) -> None:
        store[doc["id"]] = doc
        self.journal.put(kind, doc["id"], "", doc)

    def _require_revision(self, ctx: Ctx, current: dict, kind: str) -> dict:
        body = ctx.body()
        self.manager._require_revision(body, current, kind, current["id"])
        return body

    def _refuse_if_used(self, ctx: Ctx, doc: dict, kind: str) -> None:
        if ctx.bool_param("force"):
            return
        users = self.manager.referrers(kind, doc["id"])
        if users:
            raise NsxError(409, IN_USE, "%s %s (%s) is used by %s and cannot be deleted; pass force=true to delete it anyway"
                           % (kind, doc["id"], doc.get("display_name"), users[0]), GROUPING)

    # ---------------------------------------------------------------- IPSets

    def _ipsets(self, ctx: Ctx, rest: list[str]) -> Response:
        return self._collection(ctx, rest, self.ipsets, "IPSet", self._create_ipset, self._update_ipset, self._delete_ipset,
                                self.render_ipset, self._ipset_action)

    @staticmethod
    def _ipset_fields(chk: Checker, body: dict) -> dict:
        out = chk.common(body)
        addresses = chk.strings(body, "ip_addresses", max_items=MAX_IP_ADDRESSES)
        if addresses is not None:
            versions = set()
            for index, address in enumerate(addresses):
                version = ip_element(address)
                if version is None:
                    chk.err("property ip_addresses[%d]: '%s' is not an IP address, a CIDR or a range first-last" % (index, address))
                versions.add(version)
            if {4, 6} <= versions:
                chk.err("property ip_addresses: an IPSet is either of type IPv4 or of type IPv6, this one mixes both")
            out["ip_addresses"] = addresses
        return out

    def _new(self, ctx: Ctx, check_fields, resource_type: str, kind: str, table: dict, extra=None) -> dict:
        """A created object: its fields checked (``check_fields(chk, body)``), a new id, the display name
        defaulting to it, ``extra(fields)`` added, stamped and stored under ``kind``."""
        chk = Checker(GROUPING)
        fields = check_fields(chk, ctx.body())
        chk.check()
        ident = new_uuid()
        doc = {"id": ident, "resource_type": resource_type}
        doc.update(fields)
        doc.setdefault("display_name", ident)
        doc.update(extra(fields) if extra else {})
        stamp_new(doc, ctx.user)
        self._store(kind, table, doc)
        return doc

    def _create_ipset(self, ctx: Ctx) -> Response:
        return Response.json(201, self.render_ipset(self._new(ctx, self._ipset_fields, "IPSet", "mp_ipset", self.ipsets)))

    def _update_ipset(self, ctx: Ctx, current: dict) -> Response:
        body = self._require_revision(ctx, current, "IPSet")
        chk = Checker(GROUPING)
        fields = self._ipset_fields(chk, body)
        chk.check()
        doc = {"id": current["id"], "resource_type": "IPSet"}
        doc.update(fields)
        doc.setdefault("display_name", current["id"])
        stamp_update(doc, current, ctx.user)
        self._store("mp_ipset", self.ipsets, doc)
        return Response.json(200, self.render_ipset(doc))

    def _ipset_action(self, ctx: Ctx, current: dict) -> Response:
        action = ctx.enum_param("action", ("add_ip", "remove_ip"))
        if action is None:
            raise bad_request("The query parameter action is required (add_ip or remove_ip)", GROUPING)
        chk = Checker(GROUPING)
        address = chk.string(ctx.body(), "ip_address", required=True)
        if address is not None and ip_element(address) is None:
            chk.err("property ip_address: '%s' is not an IP address, a CIDR or a range first-last" % address)
        chk.check()
        addresses = list(current.get("ip_addresses", []))
        if action == "add_ip":
            if addresses and ip_element(addresses[0]) != ip_element(address):
                raise bad_request("IPSet %s holds IPv%d addresses: %s is of the other type" % (current["id"], ip_element(addresses[0]), address),
                                  GROUPING)
            if address not in addresses:
                if len(addresses) >= MAX_IP_ADDRESSES:
                    raise bad_request("An IPSet holds at most %d addresses" % MAX_IP_ADDRESSES, GROUPING)
                addresses.append(address)
        else:
            if address not in addresses:
                raise bad_request("IPSet %s does not hold %s" % (current["id"], address), GROUPING)
            addresses.remove(address)
        doc = dict(current, ip_addresses=addresses)
        stamp_update(doc, current, ctx.user)
        self._store("mp_ipset", self.ipsets, doc)
        return Response.json(201, {"ip_address": address, "_revision": doc["_revision"]})

    def _delete_ipset(self, ctx: Ctx, doc: dict) -> Response:
        self._refuse_if_used(ctx, doc, "IPSet")
        del self.ipsets[doc["id"]]
        self.journal.delete("mp_ipset", doc["id"])
        return Response(200)

    @staticmethod
    def render_ipset(doc: dict) -> dict:
        return dict(doc)

    # ---------------------------------------------------------------- NSServices

    def _services(self, ctx: Ctx, rest: list[str]) -> Response:
        return self._collection(ctx, rest, self.services, "NSService", self._create_service, self._update_service, self._delete_service,
                                dict)

    @staticmethod
    def _service_fields(chk: Checker, body: dict) -> dict:
        out = chk.common(body)
        element = body.get("nsservice_element")
        if element is None:
            chk.err("required property nsservice_element is missing")
        elif not isinstance(element, dict):
            chk.err("property nsservice_element must be an object")
        else:
            out["nsservice_element"] = service_element(chk, element, "nsservice_element.", "NSService")
            _port_values(chk, element, "nsservice_element.")
            if element.get("resource_type") == "ALGTypeNSService" and isinstance(element.get("destination_ports"), list):
                ports = element["destination_ports"]
                if len(ports) != 1 or "-" in str(ports[0]):
                    chk.err("property nsservice_element.destination_ports: an ALG service takes a single destination port")
        return out

    @staticmethod
    def _system(doc: dict, kind: str, verb: str) -> None:
        if doc.get("_system_owned") or doc.get("default_service"):
            raise NsxError(400, SYSTEM_OWNED, "The system defined %s %s (%s) can't be %s" % (kind, doc["id"], doc.get("display_name"), verb),
                           GROUPING)

    def _create_service(self, ctx: Ctx) -> Response:
        doc = self._new(ctx, self._service_fields, "NSService", "mp_nsservice", self.services, lambda fields: {"default_service": False})
        return Response.json(201, dict(doc))

    def _update_service(self, ctx: Ctx, current: dict) -> Response:
        self._system(current, "NSService", "modified")
        body = self._require_revision(ctx, current, "NSService")
        chk = Checker(GROUPING)
        fields = self._service_fields(chk, body)
        chk.check()
        ether = fields["nsservice_element"].get("resource_type") == ETHER
        if ether != (current["nsservice_element"].get("resource_type") == ETHER):
            for group in self.service_groups.values():
                if any(m.get("target_id") == current["id"] for m in group.get("members", [])):
                    raise bad_request("NSService %s is a member of NSServiceGroup %s, which cannot mix ether and non-ether services"
                                      % (current["id"], group["id"]), GROUPING)
        doc = {"id": current["id"], "resource_type": "NSService"}
        doc.update(fields)
        doc.setdefault("display_name", current["id"])
        doc["default_service"] = False
        stamp_update(doc, current, ctx.user)
        self._store("mp_nsservice", self.services, doc)
        return Response.json(200, dict(doc))

    def _delete_service(self, ctx: Ctx, doc: dict) -> Response:
        self._system(doc, "NSService", "deleted")
        self._refuse_if_used(ctx, doc, "NSService")
        del self.services[doc["id"]]
        self.journal.delete("mp_nsservice", doc["id"])
        return Response(200)

    # ---------------------------------------------------------------- NSServiceGroups

    def _service_groups(self, ctx: Ctx, rest: list[str]) -> Response:
        return self._collection(ctx, rest, self.service_groups, "NSServiceGroup", self._create_group, self._update_group,
                                self._delete_group, self.render_service_group)

    def _group_fields(self, chk: Checker, body: dict) -> dict:
        out = chk.common(body)
        members = chk.array(body, "members", max_items=MAX_SERVICE_GROUP_MEMBERS, required=True)
        if members is not None:
            out["members"] = []
            for index, item in enumerate(members):
                here = "members[%d]." % index
                if not isinstance(item, dict):
                    chk.err("property %s must be an object" % here.rstrip("."))
                    continue
                target_type = chk.enum(item, "target_type", ("NSService",), here, required=True)
                target_id = chk.string(item, "target_id", here, max_len=64, required=True)
                out["members"].append({"target_id": target_id, "target_type": target_type})
        return out

    def _group_type(self, members: list[dict]) -> str:
        kinds = set()
        for index, member in enumerate(members):
            service = self.services.get(member["target_id"])
            if service is None:
                raise NsxError(400, NOT_FOUND, "NSService %s given as members[%d] does not exist" % (member["target_id"], index), GROUPING)
            kinds.add(service["nsservice_element"].get("resource_type") == ETHER)
        if len(kinds) > 1:
            raise bad_request("An NSServiceGroup can contain either only ether type or only non-ether type NSServices, not both", GROUPING)
        return "ETHER" if kinds == {True} else "NON_ETHER"

    def _create_group(self, ctx: Ctx) -> Response:
        doc = self._new(ctx, self._group_fields, "NSServiceGroup", "mp_nsservice_group", self.service_groups,
                        lambda fields: {"service_type": self._group_type(fields["members"]), "default_service": False})
        return Response.json(201, self.render_service_group(doc))

    def _update_group(self, ctx: Ctx, current: dict) -> Response:
        self._system(current, "NSServiceGroup", "modified")
        body = self._require_revision(ctx, current, "NSServiceGroup")
        chk = Checker(GROUPING)
        fields = self._group_fields(chk, body)
        chk.check()
        service_type = self._group_type(fields["members"])
        doc = {"id": current["id"], "resource_type": "NSServiceGroup"}
        doc.update(fields)
        doc.setdefault("display_name", current["id"])
        doc.update({"service_type": service_type, "default_service": False})
        stamp_update(doc, current, ctx.user)
        self._store("mp_nsservice_group", self.service_groups, doc)
        return Response.json(200, self.render_service_group(doc))

    def _delete_group(self, ctx: Ctx, doc: dict) -> Response:
        self._system(doc, "NSServiceGroup", "deleted")
        self._refuse_if_used(ctx, doc, "NSServiceGroup")
        del self.service_groups[doc["id"]]
        self.journal.delete("mp_nsservice_group", doc["id"])
        return Response(200)

    def render_service_group(self, doc: dict) -> dict:
        out = dict(doc)
        out["members"] = [self.manager.render_ref(m) for m in doc.get("members", [])]
        return out

    # ---------------------------------------------------------------- references (for the ManagerApi)

    def lookup(self, target_type: str, target_id: str) -> dict | None:
        """The object a ResourceReference of one of these kinds names, or None."""
        topology = self.topology
        store = {"IPSet": self.ipsets, "NSService": self.services, "NSServiceGroup": self.service_groups, "NSProfile": self.profiles,
                 "LogicalSwitch": topology.switches_by_id, "LogicalPort": topology.ports_by_id,
                 "LogicalRouter": topology.routers_by_id, "LogicalRouterPort": topology.router_ports_by_id}.get(target_type)
        return None if store is None else store.get(target_id)

    def service_elements(self, target_type: str, target_id: str) -> list[dict]:
        """The NSServiceElements an NSService or NSServiceGroup stands for."""
        if target_type == "NSService":
            service = self.services.get(target_id)
            return [service["nsservice_element"]] if service else []
        group = self.service_groups.get(target_id)
        return [e for m in (group or {}).get("members", []) for e in self.service_elements("NSService", m["target_id"])]
