"""NSX-T lab, Manager API: the inventory reads (logical switches, ports, routers, router ports,
NSProfiles, the upgrade summary) and the grouping objects rules use (IPSets, NSServices,
NSServiceGroups): CRUD, validation, paging, references from NSGroups and rules, delete protection,
effective members, counters and SQLite persistence."""

from __future__ import annotations

import pytest
from lab_helpers import labctl, read_lab_json
from nsxt_helpers import MP, NsxClient, error_of, mp_rule, nsgroup_member, ref, tag_expr

TCP_8443 = {"resource_type": "L4PortSetNSService", "l4_protocol": "TCP", "destination_ports": ["8443"]}
ETHER_ARP = {"resource_type": "EtherTypeNSService", "ether_type": 2054}


def ipset(nsx, name="office", addresses=("10.10.0.0/24",), **extra) -> dict:
    return nsx.ok(nsx.post(MP + "/ip-sets", dict({"display_name": name, "ip_addresses": list(addresses)}, **extra)), 201)


def service(nsx, name="app-8443", element=None) -> dict:
    return nsx.ok(nsx.post(MP + "/ns-services", {"display_name": name, "nsservice_element": element or TCP_8443}), 201)


def service_group(nsx, name, *service_ids) -> dict:
    members = [ref(s, "NSService") for s in service_ids]
    return nsx.ok(nsx.post(MP + "/ns-service-groups", {"display_name": name, "members": members}), 201)


def ipset_member(ident: str) -> dict:
    return dict(nsgroup_member(ident), target_type="IPSet")


def default_service(nsx, name: str) -> dict:
    found = [s for s in nsx.ok(nsx.get(MP + "/ns-services"))["results"] if s["display_name"] == name]
    assert len(found) == 1, found
    return found[0]


# ---------------------------------------------------------------- IPSets


def test_ipset_crud_revision_and_address_actions(nsx):
    created = ipset(nsx, "office", ["10.10.0.0/24", "192.168.1.5", "10.20.0.1-10.20.0.9"], description="HQ",
                    tags=[{"scope": "owner", "tag": "net"}])
    ident = created["id"]
    assert created["resource_type"] == "IPSet" and created["_revision"] == 0 and created["_create_user"] == "admin"
    assert created["ip_addresses"] == ["10.10.0.0/24", "192.168.1.5", "10.20.0.1-10.20.0.9"]
    assert ipset(nsx, "v6", ["fe80::1/64", "2001:db8::1-2001:db8::9"])["ip_addresses"] == ["fe80::1/64", "2001:db8::1-2001:db8::9"]
    assert nsx.ok(nsx.get(MP + "/ip-sets/" + ident)) == created
    unnamed = ipset(nsx, None, [])
    assert unnamed["display_name"] == unnamed["id"]

    update = {k: v for k, v in created.items() if k != "_revision"}
    update["ip_addresses"] = ["10.10.0.0/24"]
    assert error_of(nsx.put(MP + "/ip-sets/" + ident, update), 412)["error_code"] == 206
    assert error_of(nsx.put(MP + "/ip-sets/" + ident, dict(update, _revision=3)), 412)["error_code"] == 206
    updated = nsx.ok(nsx.put(MP + "/ip-sets/" + ident, dict(update, _revision=0)))
    assert updated["ip_addresses"] == ["10.10.0.0/24"] and updated["_revision"] == 1 and updated["description"] == "HQ"
    assert updated["_create_time"] == created["_create_time"]

    added = nsx.ok(nsx.post(MP + "/ip-sets/" + ident, {"ip_address": "10.30.0.1"}, params={"action": "add_ip"}), 201)
    assert added["ip_address"] == "10.30.0.1"
    nsx.ok(nsx.post(MP + "/ip-sets/" + ident, {"ip_address": "10.10.0.0/24"}, params={"action": "remove_ip"}), 201)
    members = nsx.ok(nsx.get(MP + "/ip-sets/%s/members" % ident))
    assert members["results"] == [{"ip_address": "10.30.0.1"}] and members["result_count"] == 1
    assert nsx.ok(nsx.get(MP + "/ip-sets/" + ident))["_revision"] == 3
    assert "does not hold" in error_of(nsx.post(MP + "/ip-sets/" + ident, {"ip_address": "10.99.0.1"}, params={"action": "remove_ip"}),
                                       400)["error_message"]
    error_of(nsx.post(MP + "/ip-sets/" + ident, {"ip_address": "bad"}, params={"action": "add_ip"}), 400)
    assert "other type" in error_of(nsx.post(MP + "/ip-sets/" + ident, {"ip_address": "fe80::2"}, params={"action": "add_ip"}), 400)["error_message"]
    error_of(nsx.post(MP + "/ip-sets/" + ident, {"ip_address": "10.0.0.1"}, params={"action": "grow"}), 400)
    error_of(nsx.post(MP + "/ip-sets/" + ident, {"ip_address": "10.0.0.1"}), 400)

    assert nsx.delete(MP + "/ip-sets/" + ident).status_code == 200
    error_of(nsx.get(MP + "/ip-sets/" + ident), 404)
    error_of(nsx.delete(MP + "/ip-sets/" + ident), 404)
    error_of(nsx.put(MP + "/ip-sets/" + ident, dict(update, _revision=3)), 404)


@pytest.mark.parametrize("body, fragment", [
    ({"ip_addresses": ["10.0.0.300"]}, "ip_addresses[0]: '10.0.0.300' is not an IP address"),
    ({"ip_addresses": ["10.0.0.9-10.0.0.1"]}, "ip_addresses[0]"),
    ({"ip_addresses": ["10.0.0.1-fe80::1"]}, "ip_addresses[0]"),
    ({"ip_addresses": [" 10.0.0.1"]}, "ip_addresses[0]"),
    ({"ip_addresses": ["10.0.0.1", "fe80::1"]}, "either of type IPv4 or of type IPv6"),
    ({"ip_addresses": "10.0.0.1"}, "ip_addresses must be an array"),
    ({"ip_addresses": [5]}, "array of strings"),
    ({"ip_addresses": ["10.%d.%d.1" % (i // 250, i % 250) for i in range(4001)]}, "ip_addresses must have at most 4000 items"),
    ({"display_name": "x" * 256}, "display_name must be at most 255"),
    ({"description": "x" * 1025}, "description must be at most 1024"),
    ({"tags": [{"scope": "s", "tag": str(i)} for i in range(31)]}, "tags must have at most 30 items"),
    ({"tags": [{"scope": "s" * 129, "tag": "t"}]}, "at most 128 characters"),
])
def test_ipset_validation(nsx, body, fragment):
    error = error_of(nsx.post(MP + "/ip-sets", body), 400)
    assert error["error_message"].startswith("Field level validation errors: {") and fragment in error["error_message"], error
    assert nsx.ok(nsx.get(MP + "/ip-sets"))["result_count"] == 0


def test_ipset_of_4000_addresses_is_accepted(nsx):
    addresses = ["10.%d.%d.1" % (i // 250, i % 250) for i in range(4000)]
    assert len(ipset(nsx, "big", addresses)["ip_addresses"]) == 4000
    big = nsx.ok(nsx.get(MP + "/ip-sets"))["results"][0]
    full = error_of(nsx.post(MP + "/ip-sets/" + big["id"], {"ip_address": "172.16.0.1"}, params={"action": "add_ip"}), 400)
    assert "at most 4000" in full["error_message"]


def test_every_list_pages_with_a_cursor_only_before_the_last_page(nsx):
    for index in range(5):
        ipset(nsx, "set-%d" % index)
        service(nsx, "svc-%d" % index)
    for path, total in ((MP + "/ip-sets", 5), (MP + "/ns-services", 5 + 7), (MP + "/logical-ports", 11), (MP + "/ns-profiles", 4)):
        first = nsx.ok(nsx.get(path, params={"page_size": 2}))
        assert len(first["results"]) == 2 and first["result_count"] == total and first["cursor"], (path, first)
        results, pages = nsx.all_pages(path, page_size=2)
        assert len(results) == total and pages == (total + 1) // 2, path
        last = nsx.ok(nsx.get(path, params={"page_size": 2, "cursor": str(2 * (pages - 1))}))
        assert "cursor" not in last and last["results"], (path, last)
        whole = nsx.ok(nsx.get(path))
        assert len(whole["results"]) == total and "cursor" not in whole
        error_of(nsx.get(path, params={"page_size": 1001}), 400)
        error_of(nsx.get(path, params={"cursor": "garbage"}), 400)
    for path in ("/ns-service-groups", "/logical-switches", "/logical-routers", "/logical-router-ports"):
        body = nsx.ok(nsx.get(MP + path, params={"page_size": 1}))
        assert body["result_count"] >= 0 and ("cursor" in body) == (body["result_count"] > 1), (path, body)
    names = [s["display_name"] for s in nsx.ok(nsx.get(MP + "/ip-sets", params={"sort_by": "display_name", "sort_ascending": "false"}))["results"]]
    assert names == ["set-4", "set-3", "set-2", "set-1", "set-0"]


# ---------------------------------------------------------------- NSServices and NSServiceGroups


def test_default_services_are_seeded_system_owned_and_protected(nsx):
    defaults = nsx.ok(nsx.get(MP + "/ns-services", params={"default_service": "true"}))["results"]
    names = sorted(s["display_name"] for s in defaults)
    assert names == sorted(["HTTP", "HTTPS", "SSH", "DNS", "DNS-UDP", "ICMP Echo Request", "FTP"])
    assert all(s["_system_owned"] and s["default_service"] for s in defaults)
    https = default_service(nsx, "HTTPS")
    assert https["nsservice_element"] == {"resource_type": "L4PortSetNSService", "l4_protocol": "TCP", "source_ports": [],
                                          "destination_ports": ["443"]}
    assert nsx.ok(nsx.get(MP + "/ns-services", params={"default_service": "false"}))["results"] == []
    changed = dict(https, description="mine")
    assert "can't be modified" in error_of(nsx.put(MP + "/ns-services/" + https["id"], changed), 400)["error_message"]
    assert "can't be deleted" in error_of(nsx.delete(MP + "/ns-services/" + https["id"]), 400)["error_message"]
    error_of(nsx.delete(MP + "/ns-services/" + https["id"], params={"force": "true"}), 400)
    # the same ids after a reset: NSX clients may keep them
    nsx.admin("POST", "/_lab/reset")
    assert default_service(nsx, "HTTPS")["id"] == https["id"]


def test_service_crud_and_revision(nsx):
    created = service(nsx)
    assert created["resource_type"] == "NSService" and created["default_service"] is False and created["_revision"] == 0
    assert nsx.ok(nsx.get(MP + "/ns-services/" + created["id"])) == created
    body = dict(created, nsservice_element={"resource_type": "ICMPTypeNSService", "protocol": "ICMPv4", "icmp_type": 8})
    body.pop("_revision")
    error_of(nsx.put(MP + "/ns-services/" + created["id"], body), 412)
    updated = nsx.ok(nsx.put(MP + "/ns-services/" + created["id"], dict(body, _revision=0)))
    assert updated["nsservice_element"]["resource_type"] == "ICMPTypeNSService" and updated["_revision"] == 1
    assert nsx.delete(MP + "/ns-services/" + created["id"]).status_code == 200
    error_of(nsx.get(MP + "/ns-services/" + created["id"]), 404)


@pytest.mark.parametrize("body, fragment", [
    ({"display_name": "x"}, "required property nsservice_element is missing"),
    ({"nsservice_element": "tcp/80"}, "nsservice_element must be an object"),
    ({"nsservice_element": {"resource_type": "L7NSService"}}, "nsservice_element.resource_type"),
    ({"nsservice_element": {"resource_type": "L4PortSetNSService", "l4_protocol": "SCTP"}}, "l4_protocol"),
    ({"nsservice_element": {"resource_type": "L4PortSetNSService", "l4_protocol": "TCP", "destination_ports": ["99999"]}}, "port"),
    ({"nsservice_element": {"resource_type": "L4PortSetNSService", "l4_protocol": "TCP",
                            "destination_ports": ["%d-%d" % (p, p + 1) for p in range(1000, 1016, 2)]}}, "a range counts as 2"),
    ({"nsservice_element": {"resource_type": "ICMPTypeNSService"}}, "protocol is missing"),
    ({"nsservice_element": {"resource_type": "IPProtocolNSService", "protocol_number": 300}}, "protocol_number must be at most 255"),
    ({"nsservice_element": {"resource_type": "ALGTypeNSService", "alg": "FTP"}}, "destination_ports is missing"),
    ({"nsservice_element": {"resource_type": "ALGTypeNSService", "alg": "FTP", "destination_ports": ["21", "2121"]}}, "single destination port"),
    ({"nsservice_element": {"resource_type": "ALGTypeNSService", "alg": "HTTP", "destination_ports": ["80"]}}, "alg"),
])
def test_service_validation(nsx, body, fragment):
    error = error_of(nsx.post(MP + "/ns-services", body), 400)
    assert fragment in error["error_message"], error
    assert nsx.ok(nsx.get(MP + "/ns-services", params={"default_service": "false"}))["result_count"] == 0


def test_service_groups_hold_existing_services_of_one_kind(nsx):
    mine = service(nsx)
    https = default_service(nsx, "HTTPS")
    group = service_group(nsx, "web", mine["id"], https["id"])
    assert group["service_type"] == "NON_ETHER" and group["default_service"] is False
    assert [(m["target_display_name"], m["is_valid"]) for m in group["members"]] == [("app-8443", True), ("HTTPS", True)]
    arp = service(nsx, "arp", ETHER_ARP)
    assert service_group(nsx, "ether", arp["id"])["service_type"] == "ETHER"
    mixed = error_of(nsx.post(MP + "/ns-service-groups", {"members": [ref(arp["id"], "NSService"), ref(mine["id"], "NSService")]}), 400)
    assert "either only ether" in mixed["error_message"]
    missing = error_of(nsx.post(MP + "/ns-service-groups", {"members": [ref("nope", "NSService")]}), 400)
    assert "NSService nope given as members[0] does not exist" in missing["error_message"]
    error_of(nsx.post(MP + "/ns-service-groups", {"members": [ref(mine["id"], "NSServiceGroup")]}), 400)
    error_of(nsx.post(MP + "/ns-service-groups", {"display_name": "no members"}), 400)
    error_of(nsx.post(MP + "/ns-service-groups", {"members": [ref(mine["id"], "NSService")] * 51}), 400)
    # a member service cannot turn into an ether service, nor be deleted without force
    turned = {k: v for k, v in mine.items() if k != "nsservice_element"}
    assert "cannot mix" in error_of(nsx.put(MP + "/ns-services/" + mine["id"], dict(turned, nsservice_element=ETHER_ARP)), 400)["error_message"]
    in_use = error_of(nsx.delete(MP + "/ns-services/" + mine["id"]), 409)
    assert "NSServiceGroup %s" % group["id"] in in_use["error_message"] and "force=true" in in_use["error_message"]
    # update with the revision, then force-delete a member: the group's reference turns invalid
    body = dict(group, members=[ref(mine["id"], "NSService")])
    updated = nsx.ok(nsx.put(MP + "/ns-service-groups/" + group["id"], body))
    assert updated["_revision"] == 1 and len(updated["members"]) == 1
    error_of(nsx.put(MP + "/ns-service-groups/" + group["id"], body), 412)
    assert nsx.delete(MP + "/ns-services/" + mine["id"], params={"force": "true"}).status_code == 200
    member = nsx.ok(nsx.get(MP + "/ns-service-groups/" + group["id"]))["members"][0]
    assert member["is_valid"] is False and member["target_display_name"] == mine["id"]
    assert nsx.delete(MP + "/ns-service-groups/" + group["id"]).status_code == 200


# ---------------------------------------------------------------- references from rules and NSGroups


def test_rules_refer_to_ipsets_and_services_which_must_exist(nsx):
    office = ipset(nsx, "office")
    mine = service(nsx)
    web = service_group(nsx, "web", default_service(nsx, "HTTPS")["id"], default_service(nsx, "HTTP")["id"])
    rule = mp_rule("from-office", sources=[ref(office["id"], "IPSet")], services=[ref(mine["id"], "NSService"), ref(web["id"], "NSServiceGroup")])
    section = nsx.section(rules=[rule])
    created = section["rules"][0]
    assert (created["sources"][0]["target_display_name"], created["sources"][0]["is_valid"]) == ("office", True)
    assert [(s["target_type"], s["target_display_name"], s["is_valid"]) for s in created["services"]] == [
        ("NSService", "app-8443", True), ("NSServiceGroup", "web", True)]
    for bad, fragment in ((mp_rule("x", destinations=[ref("nope", "IPSet")]), "IPSet nope referenced by rules[0].destinations[0]"),
                          (mp_rule("x", services=[{"service": TCP_8443}, ref("nope", "NSService")]), "NSService nope referenced by rules[0].services[1]"),
                          (mp_rule("x", services=[ref("nope", "NSServiceGroup")]), "NSServiceGroup nope"),
                          (mp_rule("x", context_profiles=[ref("nope", "NSProfile")]), "NSProfile nope"),
                          (mp_rule("x", applied_tos=[ref("nope", "LogicalSwitch")]), "LogicalSwitch nope")):
        error = error_of(nsx.post(MP + "/firewall/sections", {"display_name": "bad", "section_type": "LAYER3", "stateful": True, "rules": [bad]},
                                  params={"action": "create_with_rules"}), 400)
        assert fragment in error["error_message"], error
    # a single-rule add is checked the same way
    error_of(nsx.post(MP + "/firewall/sections/%s/rules" % section["id"], mp_rule("y", sources=[ref("nope", "IPSet")])), 400)

    for path, ident, kind in ((MP + "/ip-sets/", office["id"], "IPSet"), (MP + "/ns-services/", mine["id"], "NSService"),
                              (MP + "/ns-service-groups/", web["id"], "NSServiceGroup")):
        error = error_of(nsx.delete(path + ident), 409)
        assert error["httpStatus"] == "CONFLICT" and "firewall rule %s" % created["id"] in error["error_message"], error
        assert kind in error["error_message"]
    assert nsx.delete(MP + "/ip-sets/" + office["id"], params={"force": "true"}).status_code == 200
    stale = nsx.ok(nsx.get(MP + "/firewall/sections/%s/rules/%s" % (section["id"], created["id"])))
    assert stale["sources"][0]["is_valid"] is False and stale["sources"][0]["target_display_name"] == office["id"]


def test_nsgroup_ipset_members_are_checked_evaluated_and_protected(nsx):
    office = ipset(nsx, "office", ["10.10.0.0/24", "10.20.0.1-10.20.0.9"], tags=[{"scope": "site", "tag": "hq"}])
    error = error_of(nsx.post(MP + "/ns-groups", {"members": [ipset_member("nope")]}), 400)
    assert "IPSet nope given as a member does not exist" in error["error_message"]
    group = nsx.nsgroup({"display_name": "hq", "members": [ipset_member(office["id"])],
                         "membership_criteria": [tag_expr("app", "service-a")]})
    ips = nsx.ok(nsx.get(MP + "/ns-groups/%s/effective-ip-address-members" % group["id"]))["results"]
    assert ips == ["10.10.0.0/24", "10.20.0.1-10.20.0.9", "10.244.1.10", "10.244.1.11"]
    sets = nsx.ok(nsx.get(MP + "/ns-groups/%s/effective-ipset-members" % group["id"]))["results"]
    assert [(s["target_id"], s["target_display_name"]) for s in sets] == [(office["id"], "office")]
    types = nsx.ok(nsx.get(MP + "/ns-groups/%s/member-types" % group["id"]))["results"]
    assert types == ["LogicalPort", "IPSet"]
    populated = nsx.ok(nsx.get(MP + "/ns-groups/" + group["id"], params={"populate_references": "true"}))
    assert populated["members"][0]["target_resource"]["target_display_name"] == "office"
    # an IPSet selected by its tags, and a nested group reaching it
    by_tag = nsx.nsgroup({"membership_criteria": [tag_expr("site", "hq", target_type="IPSet")]})
    parent = nsx.nsgroup({"members": [nsgroup_member(by_tag["id"])]})
    assert nsx.ok(nsx.get(MP + "/ns-groups/%s/effective-ip-address-members" % parent["id"]))["results"] == ["10.10.0.0/24", "10.20.0.1-10.20.0.9"]
    in_use = error_of(nsx.delete(MP + "/ip-sets/" + office["id"]), 409)
    assert "NSGroup %s" % group["id"] in in_use["error_message"]
    # removing the member frees it
    nsx.ok(nsx.post(MP + "/ns-groups/" + group["id"], {"members": [ipset_member(office["id"])]}, params={"action": "REMOVE_MEMBERS"}))
    assert nsx.delete(MP + "/ip-sets/" + office["id"]).status_code == 200
    assert nsx.ok(nsx.get(MP + "/ns-groups/%s/effective-ip-address-members" % parent["id"]))["results"] == []


def test_logical_switch_members_bring_their_pod_ports(nsx):
    switches = nsx.ok(nsx.get(MP + "/logical-switches"))["results"]
    z1 = [s for s in switches if s["display_name"] == "lab-cluster-z1"][0]
    member = dict(nsgroup_member(z1["id"]), target_type="LogicalSwitch")
    group = nsx.nsgroup({"members": [member]})
    ips = nsx.ok(nsx.get(MP + "/ns-groups/%s/effective-ip-address-members" % group["id"]))["results"]
    assert ips == ["10.244.3.10", "10.244.3.11", "10.244.3.12", "10.244.3.13"]
    listed = nsx.ok(nsx.get(MP + "/ns-groups/%s/effective-logical-switch-members" % group["id"]))["results"]
    assert [s["target_display_name"] for s in listed] == ["lab-cluster-z1"]
    by_tag = nsx.nsgroup({"membership_criteria": [tag_expr("ncp/project", "y1", target_type="LogicalSwitch")]})
    ports = nsx.ok(nsx.get(MP + "/ns-groups/%s/effective-logical-port-members" % by_tag["id"]))["results"]
    assert sorted(p["target_display_name"] for p in ports) == ["y1/service-b-7c9d5b8f4-2xkqp", "y1/service-b-7c9d5b8f4-h5v8n"]


# ---------------------------------------------------------------- read-only inventory


def test_logical_switches_and_ports_follow_the_inventory(nsx):
    switches = nsx.ok(nsx.get(MP + "/logical-switches"))
    assert [s["display_name"] for s in switches["results"]] == ["lab-cluster-x1", "lab-cluster-y1", "lab-cluster-z1"]
    x1 = switches["results"][0]
    assert x1["resource_type"] == "LogicalSwitch" and x1["admin_state"] == "UP" and x1["transport_zone_id"]
    assert {"scope": "ncp/project", "tag": "x1"} in x1["tags"] and {"scope": "ncp/cluster", "tag": "lab-cluster"} in x1["tags"]
    assert nsx.ok(nsx.get(MP + "/logical-switches/" + x1["id"])) == x1

    pods = nsx.ok(nsx.get(MP + "/logical-ports", params={"attachment_type": "VIF"}))["results"]
    assert len(pods) == 8
    port = [p for p in pods if p["display_name"] == "x1/service-a-6d5f8c7b9-4kx2p"][0]
    assert port["logical_switch_id"] == x1["id"] and port["attachment"]["attachment_type"] == "VIF"
    assert port["address_bindings"][0]["ip_address"] == "10.244.1.10"
    tags = {(t["scope"], t["tag"]) for t in port["tags"]}
    assert {("ncp/cluster", "lab-cluster"), ("ncp/project", "x1"), ("ncp/pod", "service-a-6d5f8c7b9-4kx2p"), ("app", "service-a"),
            ("pod-template-hash", "6d5f8c7b9")} == tags
    assert nsx.ok(nsx.get(MP + "/logical-ports/" + port["id"])) == port
    on_x1 = nsx.ok(nsx.get(MP + "/logical-ports", params={"logical_switch_id": x1["id"]}))["results"]
    assert sorted(p["attachment"]["attachment_type"] for p in on_x1) == ["LOGICALROUTER", "VIF", "VIF"]
    # the ports are the ones NSGroup effective members name
    group = nsx.nsgroup({"membership_criteria": [tag_expr("ncp/pod", "service-a-6d5f8c7b9-4kx2p")]})
    assert nsx.ok(nsx.get(MP + "/ns-groups/%s/effective-logical-port-members" % group["id"]))["results"][0]["target_id"] == port["id"]

    nsx.set_inventory({"cluster": "c2", "pods": [{"name": "p", "namespace": "n", "labels": {"app": "p"}, "ip": "10.9.0.5"}]})
    assert [s["display_name"] for s in nsx.ok(nsx.get(MP + "/logical-switches"))["results"]] == ["c2-n"]
    error_of(nsx.get(MP + "/logical-ports/" + port["id"]), 404)


def test_router_and_its_downlinks(nsx):
    routers = nsx.ok(nsx.get(MP + "/logical-routers"))["results"]
    assert len(routers) == 1 and routers[0]["router_type"] == "TIER1" and routers[0]["display_name"] == "lab-cluster-t1"
    assert nsx.ok(nsx.get(MP + "/logical-routers", params={"router_type": "TIER0"}))["results"] == []
    error_of(nsx.get(MP + "/logical-routers", params={"router_type": "TIER2"}), 400)
    ports = nsx.ok(nsx.get(MP + "/logical-router-ports", params={"logical_router_id": routers[0]["id"]}))["results"]
    switches = {s["id"]: s for s in nsx.ok(nsx.get(MP + "/logical-switches"))["results"]}
    assert len(ports) == len(switches) == 3
    for port in ports:
        assert port["resource_type"] == "LogicalRouterDownLinkPort" and port["urpf_mode"] == "STRICT"
        linked = nsx.ok(nsx.get(MP + "/logical-ports/" + port["linked_logical_switch_port_id"]["target_id"]))
        assert linked["attachment"] == {"attachment_type": "LOGICALROUTER", "id": port["id"]}
        assert linked["logical_switch_id"] in switches
    x1 = [p for p in ports if p["display_name"] == "lab-cluster-x1-downlink"][0]
    assert x1["subnets"] == [{"ip_addresses": ["10.244.1.1"], "prefix_length": 24}]
    x1_switch = [s for s in switches.values() if s["display_name"] == "lab-cluster-x1"][0]
    assert nsx.ok(nsx.get(MP + "/logical-router-ports", params={"logical_switch_id": x1_switch["id"]}))["results"] == [x1]
    assert nsx.ok(nsx.get(MP + "/logical-router-ports", params={"resource_type": "LogicalRouterUpLinkPort"}))["results"] == []
    assert nsx.ok(nsx.get(MP + "/logical-router-ports/" + x1["id"])) == x1
    # a rule may be applied to the router and reference its port
    section = nsx.section(rules=[mp_rule("r", applied_tos=[ref(routers[0]["id"], "LogicalRouter"), ref(x1["id"], "LogicalRouterPort")])])
    assert [a["target_display_name"] for a in section["rules"][0]["applied_tos"]] == ["lab-cluster-t1", "lab-cluster-x1-downlink"]


def test_profiles_upgrade_summary_and_read_only_methods(nsx, nsxt_info):
    profiles = nsx.ok(nsx.get(MP + "/ns-profiles"))["results"]
    assert sorted(p["display_name"] for p in profiles) == ["DNS", "HTTP", "SSH", "SSL"]
    ssl = [p for p in profiles if p["display_name"] == "SSL"][0]
    assert ssl["nsprofile_attribute"] == [{"attributes_data": {"key": "APP_ID", "value": ["SSL"], "datatype": "STRING"}}]
    assert ssl["_system_owned"] is True and nsx.ok(nsx.get(MP + "/ns-profiles/" + ssl["id"])) == ssl
    assert nsx.ok(nsx.get(MP + "/ns-profiles", params={"attribute_type": "DOMAIN_NAME"}))["results"] == []
    section = nsx.section(rules=[mp_rule("tls", context_profiles=[ref(ssl["id"], "NSProfile")])])
    assert section["rules"][0]["context_profiles"][0]["target_display_name"] == "SSL"
    summary = nsx.ok(nsx.get(MP + "/upgrade/summary"))
    version = nsx.ok(nsx.get(MP + "/node/version"))["product_version"]
    assert summary["system_version"] == version == summary["target_version"] and summary["upgrade_status"] == "NOT_STARTED"
    for path in ("/logical-switches", "/logical-ports", "/logical-routers", "/logical-router-ports", "/ns-profiles", "/upgrade/summary"):
        assert error_of(nsx.post(MP + path, {}), 405)["httpStatus"] == "METHOD_NOT_ALLOWED"
    error_of(nsx.delete(MP + "/ns-profiles/" + ssl["id"]), 405)
    error_of(nsx.get(MP + "/upgrade/nothing"), 404)
    error_of(nsx.get(MP + "/logical-switches/nope"), 404)


def test_counters_count_reads_and_writes_by_route(nsx):
    nsx.admin("POST", "/_lab/counters/reset")
    office = ipset(nsx, "office")
    nsx.get(MP + "/ip-sets")
    nsx.get(MP + "/ip-sets/" + office["id"])
    nsx.post(MP + "/ip-sets/" + office["id"], {"ip_address": "10.0.0.1"}, params={"action": "add_ip"})
    nsx.get(MP + "/ip-sets/%s/members" % office["id"])
    nsx.get(MP + "/logical-ports")
    nsx.get(MP + "/upgrade/summary")
    nsx.delete(MP + "/ip-sets/" + office["id"])
    counters = nsx.counters()
    assert counters["total"] == 8 and counters["writes"] == 3
    assert counters["routes"] == {"POST /api/v1/ip-sets": 1, "GET /api/v1/ip-sets": 1, "GET /api/v1/ip-sets/:id": 1,
                                  "POST /api/v1/ip-sets/:id": 1, "GET /api/v1/ip-sets/:id/members": 1, "GET /api/v1/logical-ports": 1,
                                  "GET /api/v1/upgrade/summary": 1, "DELETE /api/v1/ip-sets/:id": 1}


def test_grouping_objects_survive_a_restart_with_sqlite(tmp_path):
    state = tmp_path / "nsx-objects"
    labctl("start", "--dir", str(state), "--sqlite")
    try:
        client = NsxClient(read_lab_json(state)["nsxt"])
        office = ipset(client, "office", ["10.10.0.0/24"])
        mine = service(client)
        web = service_group(client, "web", mine["id"])
        group = client.nsgroup({"display_name": "hq", "members": [ipset_member(office["id"])]})
        section = client.section(rules=[mp_rule("r", sources=[ref(office["id"], "IPSet")], services=[ref(web["id"], "NSServiceGroup")])])
        client.ok(client.post(MP + "/ip-sets/" + office["id"], {"ip_address": "10.30.0.1"}, params={"action": "add_ip"}), 201)
    finally:
        labctl("stop", "--dir", str(state))
    labctl("start", "--dir", str(state), "--sqlite")
    try:
        client = NsxClient(read_lab_json(state)["nsxt"])
        kept = client.ok(client.get(MP + "/ip-sets/" + office["id"]))
        assert kept["ip_addresses"] == ["10.10.0.0/24", "10.30.0.1"] and kept["_revision"] == 1
        assert client.ok(client.get(MP + "/ns-services/" + mine["id"]))["nsservice_element"]["destination_ports"] == ["8443"]
        assert client.ok(client.get(MP + "/ns-service-groups/" + web["id"]))["members"][0]["target_display_name"] == "app-8443"
        assert len(client.ok(client.get(MP + "/ns-services", params={"default_service": "true"}))["results"]) == 7
        rule = client.ok(client.get(MP + "/firewall/sections/%s/rules" % section["id"]))["results"][0]
        assert rule["sources"][0]["target_display_name"] == "office" and rule["services"][0]["target_display_name"] == "web"
        ips = client.ok(client.get(MP + "/ns-groups/%s/effective-ip-address-members" % group["id"]))["results"]
        assert ips == ["10.10.0.0/24", "10.30.0.1"]
        error_of(client.delete(MP + "/ip-sets/" + office["id"]), 409)
    finally:
        labctl("stop", "--dir", str(state))
