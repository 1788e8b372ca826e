"""Prisma emulator: validation rules and their exact messages."""

from __future__ import annotations

import copy

import pytest
from lab_helpers import VALID_BODIES, descriptions, errors_of


def ruleset(incoming_ports=("tcp/80",), **overrides):
    body = copy.deepcopy(VALID_BODIES["networkrulesetpolicies"])
    body["incomingRules"][0]["protocolPorts"] = list(incoming_ports)
    body.update(overrides)
    return body


def service(**overrides):
    body = copy.deepcopy(VALID_BODIES["services"])
    body.update(overrides)
    return body


def only_error(response):
    assert response.status_code == 422, response.text
    errs = errors_of(response)
    assert len(errs) == 1, errs
    return errs[0]


# ---------------------------------------------------------------- protocolPorts grammar


@pytest.mark.parametrize("ports, message", [
    (["tcp/70000"], "Attribute 'protocolPorts' must be between 0 and 65535"),
    (["tcp"], "Protocol 'TCP' cannot be used without ports"),
    (["udp"], "Protocol 'UDP' cannot be used without ports"),
    (["tcp/"], "Attribute 'protocolPorts' must be a port (xxx) or port range (xxx:yyy)"),
    (["tcp/80:80"], "Attribute 'protocolPorts' left bound is greater than or equal to right bound"),
    (["tcp/90:80"], "Attribute 'protocolPorts' left bound is greater than or equal to right bound"),
    (["tcp/1:2:3"], "Attribute 'protocolPorts' must be a port (xxx) or port range (xxx:yyy)"),
    (["tcp/http"], "Attribute 'protocolPorts' must be a port (xxx) or port range (xxx:yyy)"),
    (["tcp/80", "TCP/80"], "duplicate port: 'TCP/80'"),
    (["any", "tcp/80"], "Protocol 'any' cannot be used with other protocols"),
    (["tcp/80", "ANY"], "Protocol 'ANY' cannot be used with other protocols"),
    (["foo/1"], "'FOO' is not a valid protocol"),
    (["6/80"], "'6' is not a valid protocol"),
    (["ipv6-route"], "'IPV6-ROUTE' is not a valid protocol"),
    (["gre/1"], "Protocol 'GRE' cannot be used with ports"),
    (["icmp/"], "Protocol 'ICMP' has missing type/code information"),
    (["icmp/256"], "Protocol 'ICMP' has invalid type notation: '256' should be between 0 and 255"),
    (["icmp/x"], "Protocol 'ICMP' has invalid type notation: 'x' is not a valid number"),
    (["icmp/3/5:1"], "Protocol 'ICMP' has invalid code range order"),
    (["icmp6/1/300"], "Protocol 'ICMP6' has invalid type notation: '300' should be between 0 and 255"),
])
def test_protocol_ports_errors(api, ports, message):
    err = only_error(api.post("/networkrulesetpolicies", ruleset(ports)))
    assert err["description"] == message
    assert err["data"] == {"attribute": "protocolPorts"}
    assert err["subject"] == "gaia"
    assert err["title"] == "Validation Error"


@pytest.mark.parametrize("ports", [
    ["any"], ["ANY"], ["tcp/80"], ["TCP/1:65535"], ["udp/53", "tcp/53"], ["icmp"], ["icmp/8/0"], ["icmp/3/0,1,3:5"],
    ["ipv6-icmp/128"], ["gre"], ["esp"], ["sctp"], ["tcp/0"], [],
])
def test_protocol_ports_valid(api, ports):
    response = api.post("/networkrulesetpolicies", ruleset(ports))
    assert response.status_code == 200, response.text
    assert response.json()["incomingRules"][0]["protocolPorts"] == ports


def test_external_network_service_ports(api):
    err = only_error(api.post("/externalnetworks", {"name": "e", "entries": ["10.0.0.0/8"], "servicePorts": ["udp/65536"]}))
    assert err["description"] == "Attribute 'servicePorts' must be between 0 and 65535"
    assert err["data"] == {"attribute": "servicePorts"}


# ---------------------------------------------------------------- networks


@pytest.mark.parametrize("entries, message", [
    ([], "Attribute 'entries' must not be empty"),
    (["10.0.0.0/33"], "10.0.0.0/33 is not a valid CIDR"),
    (["10.0.0.0/8", "10.1.2.3/8"], "CIDR subnet parsed from 10.1.2.3/8 is duplicated"),
    (["10.0.0.0/8", "!10.0.0.0/8"], "CIDR subnet parsed from !10.0.0.0/8 is duplicated"),
    (["10.0.0.0/8", "!192.168.0.0/16"], "!192.168.0.0/16 is not contained in any CIDR"),
    (["!10.0.0.0/16"], "!10.0.0.0/16 is not contained in any CIDR"),
    (["bad host name"], "bad host name is not a valid CIDR"),
    (["2001:db8::/129"], "2001:db8::/129 is not a valid CIDR"),
])
def test_external_network_entries_errors(api, entries, message):
    err = only_error(api.post("/externalnetworks", {"name": "e", "entries": entries}))
    assert err["description"] == message
    assert err["data"] == {"attribute": "entries"}


@pytest.mark.parametrize("entries", [
    ["0.0.0.0/0"], ["10.0.0.0/8", "!10.1.0.0/16"], ["google.com"], ["*.google.com"], ["10.1.2.3"], ["2001:db8::/32"],
    ["0.0.0.0/0", "!10.0.0.0/8", "!172.16.0.0/12", "!192.168.0.0/16"], ["my_host.example.com."],
])
def test_external_network_entries_valid(api, entries):
    assert api.post("/externalnetworks", {"name": "e", "entries": entries}).status_code == 200


@pytest.mark.parametrize("field, values, message", [
    ("targetNetworks", ["10.0.0.0/8", "300.0.0.0/8"], "300.0.0.0/8 is not a valid CIDR"),
    ("targetNetworks", ["10.0.0.0/8", "!11.0.0.0/8"], "!11.0.0.0/8 is not contained in any CIDR"),
    ("excludedNetworks", ["127.0.0.1"], "127.0.0.1 is not a valid CIDR"),
    ("targetUDPNetworks", ["224.0.0.0/4"], "The CIDR [224.0.0.0/4] are multicast subnets, should not be included in UDP target networks"),
    ("targetUDPNetworks", ["0.0.0.0/0"], "The CIDR 0.0.0.0/0 includes multicast subnets, should not be included in UDP target networks"),
    ("targetUDPNetworks", ["::/0"], "The CIDR ::/0 includes multicast subnets, should not be included in UDP target networks"),
])
def test_enforcer_profile_networks(api, field, values, message):
    err = only_error(api.post("/enforcerprofiles", {"name": "p", field: values}))
    assert err["description"] == message
    assert err["data"] == {"attribute": field}


def test_enforcer_profile_valid_udp_and_other_fields(api):
    ok = api.post("/enforcerprofiles", {"name": "p", "targetUDPNetworks": ["0.0.0.0/0", "!224.0.0.0/4"],
                                        "targetNetworks": ["10.0.0.0/8", "127.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]})
    assert ok.status_code == 200, ok.text
    bad = api.post("/enforcerprofiles", {"name": "p", "syslogFacility": 24, "syslogEndpoint": "http://x", "flowReportInterval": "1d"})
    assert descriptions(bad) == [
        "Attribute 'flowReportInterval' must be valid duration (examaple: 1h or 30s)",
        "Attribute 'syslogEndpoint' is not a valid syslog endpoint",
        "Data '24' of attribute 'syslogFacility' should be less than 23",
    ]
    bad = api.post("/enforcerprofiles", {"name": "p", "syslogFacility": 0})
    assert descriptions(bad) == ["Data '0' of attribute 'syslogFacility' should be greater than 1"]
    bad = api.post("/enforcerprofiles", {"name": "p", "trustedCAs": ["not a pem"]})
    assert descriptions(bad) == ["The CA 0 is not a valid CA"]


# ---------------------------------------------------------------- services (section 2.1)


def test_service_proxy_protocol_without_subnets(api):
    err = only_error(api.post("/services", service(proxyProtocolEnabled=True)))
    assert err["description"] == "When proxyProtocolEnabled is true, you must set at least one proxyProtocolSubnets"
    assert err["data"] == {"attribute": "proxyProtocolSubnets"}
    ok = api.post("/services", service(proxyProtocolEnabled=True, proxyProtocolSubnets=["10.0.0.0/16"], proxyProtocolPreserveHeader=True))
    assert ok.status_code == 200
    err = only_error(api.post("/services", service(proxyProtocolEnabled=True, proxyProtocolSubnets=["10.0.0.1"])))
    assert err["description"] == "Attribute 'proxyProtocolSubnets' must be a CIDR"


def test_service_tls_modes(api):
    err = only_error(api.post("/services", service(TLSType="External")))
    assert err["description"] == "`TLSCertificate` is required when `TLSType` is set to `External`"
    assert err["data"] == {"attribute": "TLSCertificate"}
    assert api.post("/services", service(TLSType="External", TLSCertificate="-----BEGIN CERTIFICATE-----")).status_code == 200
    err = only_error(api.post("/services", service(TLSType="Custom")))
    assert err["description"] == "Data 'Custom' of attribute 'TLSType' is not in list '[Aporeto LetsEncrypt External None]'"
    assert err["subject"] == "elemental"
    for mode in ("Aporeto", "LetsEncrypt", "None"):
        assert api.post("/services", service(TLSType=mode)).status_code == 200


def test_service_type_enum(api):
    err = only_error(api.post("/services", service(type="UDP")))
    assert err["description"] == "Data 'UDP' of attribute 'type' is not in list '[HTTP TCP KubernetesSecrets VaultSecrets]'"


def test_service_required_errors_short_circuit(api):
    response = api.post("/services", {"type": "TCP", "TLSType": "Bogus", "proxyProtocolEnabled": True})
    assert response.status_code == 422
    assert [(e["description"], e["data"]["attribute"]) for e in errors_of(response)] == [
        ("Attribute 'exposedPort' is required", "exposedPort"),
        ("Attribute 'name' is required", "name"),
    ]


def test_service_hosts_and_ips(api):
    response = api.post("/services", service(hosts=[], IPs=[]))
    assert [(e["description"], e["data"]["attribute"]) for e in errors_of(response)] == [
        ("You must set at least one value in `hosts` or `IPs`", "IPs"),
        ("You must set at least one value in `hosts` or `IPs`", "hosts"),
    ]
    response = api.post("/services", service(IPs=["10.0.0.0/24"]))
    assert descriptions(response) == ["Attribute 'IPs' must be an IP address"]
    response = api.post("/services", service(IPs=["nope"]))
    assert descriptions(response) == ["Attribute 'IPs' must be an IP address", "`IPs` must be a list of valid IPv4 address or CIDR notation"]
    # the overlap quirk: plain IPs get the mask 0x0f0f0f0f
    assert descriptions(api.post("/services", service(IPs=["10.0.0.1", "10.0.0.17"]))) == ["Subnets cannot overlap"]
    assert descriptions(api.post("/services", service(IPs=["10.0.0.1", "10.0.0.1"]))) == ["Subnets cannot overlap"]
    assert api.post("/services", service(IPs=["10.0.0.1", "10.0.0.2"])).status_code == 200
    assert api.post("/services", service(IPs=["2001:db8::1", "2001:db8::1"])).status_code == 200
    assert descriptions(api.post("/services", service(hosts=["a"]))) == ["`Hosts` must be a valid hostname or FQDN, compliant with RF952"]
    assert descriptions(api.post("/services", service(hosts=["web_1.example.com"]))) == [
        "`Hosts` must be a valid hostname or FQDN, compliant with RF952"]
    assert descriptions(api.post("/services", service(hosts=["web.example.com", "web.example.com"]))) == ["`Hosts` must be unique"]
    assert api.post("/services", service(hosts=["web.example.com."])).status_code == 200


def test_service_port_rules(api):
    assert descriptions(api.post("/services", service(port=0))) == ["Port is mandatory for services implemented by processing units"]
    assert descriptions(api.post("/services", service(publicApplicationPort=443))) == ["Public port cannot be the same as the exposed port"]
    assert descriptions(api.post("/services", service(external=True))) == ["Port is not needed for third-party services"]
    assert descriptions(api.post("/services", service(external=True, port=0, publicApplicationPort=9443))) == [
        "Public port is not needed for third-party services"]
    assert api.post("/services", service(external=True, port=0)).status_code == 200
    assert api.post("/services", service(publicApplicationPort=9443)).status_code == 200
    assert descriptions(api.post("/services", service(exposedPort=70000))) == ["Data '70000' of attribute 'exposedPort' should be less than 65535"]
    assert descriptions(api.post("/services", service(port=65536))) == ["Data '65536' of attribute 'port' should be less than 65535"]


def test_service_authorization(api):
    response = api.post("/services", service(authorizationType="OIDC", OIDCProviderURL="http://idp"))
    assert [(e["description"], e["data"]["attribute"]) for e in errors_of(response)] == [
        ("`OIDCProviderURL` must be a valid HTTPS URL: example https://xxx.yyy", "OIDCProviderURL"),
        ("`OIDCClientID` is required when `authorizationType` is set to `OIDC`", "OIDCClientID"),
        ("`OIDCClientSecret` is required when `authorizationType` is set to `OIDC`", "OIDCClientSecret"),
    ]
    assert descriptions(api.post("/services", service(authorizationType="JWT"))) == [
        "`JWTSigningCertificate` is required when `authorizationType` is set to `JWT`"]
    assert api.post("/services", service(authorizationType="MTLS")).status_code == 200


# ---------------------------------------------------------------- tags and expressions


def test_reserved_prefixes_in_associated_tags(api):
    for tag in ("$identity=x", "@app=x", "+x=y"):
        err = only_error(api.post("/externalnetworks", {**VALID_BODIES["externalnetworks"], "associatedTags": [tag]}))
        assert err["description"] == "%s starts with an @, a $ or a + that is reserved" % tag
        assert err["data"] == {"attribute": "associatedTags"}
    err = only_error(api.post("/externalnetworks", {**VALID_BODIES["externalnetworks"], "associatedTags": ["novalue"]}))
    assert err["description"] == "'novalue' must contain at least one '=' symbol separating two valid words"
    err = only_error(api.post("/externalnetworks", {**VALID_BODIES["externalnetworks"], "associatedTags": ["k=" + "v" * 1100]}))
    assert err["description"].endswith("must be less than 1024 bytes")


def test_metadata_rules(api):
    base = VALID_BODIES["externalnetworks"]
    assert descriptions(api.post("/externalnetworks", {**base, "metadata": ["app=x"]})) == ["Metadata app=x must start with an @"]
    assert descriptions(api.post("/externalnetworks", {**base, "metadata": ["@auth:role=x"]})) == [
        "Metadata @auth:role=x must not start with the reserved prefix @auth:"]
    assert api.post("/externalnetworks", {**base, "metadata": ["@app:k8s=x"]}).status_code == 200


def test_ruleset_subject_rules(api):
    cases = [
        ([], "Expression must contain at least one sub-expression"),
        ([[]], "Sub-expression must not be empty"),
        ([["a=b", "a=b"]], "Duplicate tag in a sub-expression: 'a=b'"),
        ([["a=b", "c=d"], ["c=d", "a=b"]], "Duplicate equivalent sub-expressions found"),
        ([["novalue"]], "'novalue' must contain at least one '=' symbol separating two valid words"),
    ]
    for subject, message in cases:
        err = only_error(api.post("/networkrulesetpolicies", ruleset(subject=subject)))
        assert err["description"] == message
        assert err["data"] == {"attribute": "subject"}
    # the same rules apply to a rule's object; reserved prefixes are fine in expressions
    body = ruleset()
    body["incomingRules"][0]["object"] = []
    assert descriptions(api.post("/networkrulesetpolicies", body)) == ["Expression must contain at least one sub-expression"]
    assert api.post("/networkrulesetpolicies", ruleset(subject=[["@org:group=x", "$namespace=/acme/*"]])).status_code == 200


def test_no_duplicate_rules(api):
    body = ruleset()
    rule = body["incomingRules"][0]
    twin = dict(rule, object=[list(reversed(rule["object"][0]))], protocolPorts=[p.upper() for p in rule["protocolPorts"]])
    body["incomingRules"] = [rule, dict(rule, action="Reject"), twin]
    err = only_error(api.post("/networkrulesetpolicies", body))
    assert err["description"] == "Duplicate network rules at the following indexes: [1, 3]"
    assert err["data"] == {"attribute": "incomingRules"}


def test_rule_name_length_and_action_enum(api):
    body = ruleset()
    body["incomingRules"][0]["name"] = "x" * 17
    body["incomingRules"][0]["action"] = "Deny"
    assert descriptions(api.post("/networkrulesetpolicies", body)) == [
        "Data 'Deny' of attribute 'action' is not in list '[Allow Reject]'",
        "Data '%s' of attribute 'name' should be less than 16 chars long" % ("x" * 17),
    ]


def test_sdp_active_duration_pattern_and_name_length(api):
    body = dict(VALID_BODIES["servicedependencypolicies"], activeDuration="1d", name="n" * 257)
    assert descriptions(api.post("/servicedependencypolicies", body)) == [
        "Data '1d' of attribute 'activeDuration' must be a valid duration like <n>s or <n>s or <n>h",
        "Data '%s' of attribute 'name' should be less than 256 chars long" % ("n" * 257),
    ]


# ---------------------------------------------------------------- read-only / creation-only


def test_read_only_on_create(api):
    body = dict(VALID_BODIES["externalnetworks"], ID="5d2398157ddf1f3519ce6d96", namespace="/acme",
                createTime="2020-01-01T00:00:00Z", normalizedTags=["x=y"])
    response = api.post("/externalnetworks", body)
    assert response.status_code == 422
    assert [(e["title"], e["description"]) for e in errors_of(response)] == [
        ("Read Only Error", "Field ID is read only. You cannot set its value."),
        ("Read Only Error", "Field createTime is read only. You cannot set its value."),
        ("Read Only Error", "Field namespace is read only. You cannot set its value."),
    ]
    # zero values of read-only fields are fine
    assert api.post("/externalnetworks", dict(VALID_BODIES["externalnetworks"], ID="", namespace="")).status_code == 200


def test_read_only_and_creation_only_on_update(api):
    created = api.create("externalnetworks", dict(VALID_BODIES["externalnetworks"], metadata=["@app:x=y"]))
    path = "/externalnetworks/" + created["ID"]
    response = api.put(path, dict(created, updateTime="2001-01-01T00:00:00Z"))
    err = only_error(response)
    assert (err["title"], err["description"], err["data"]) == (
        "Read Only Error", "Field updateTime is read only. You cannot modify its value.", {"attribute": "updateTime"})
    # absent read-only fields are zero values and differ from the stored ones
    partial = {k: v for k, v in created.items() if k not in ("namespace", "createTime")}
    assert [e["data"]["attribute"] for e in errors_of(api.put(path, partial))] == ["createTime", "namespace"]
    err = only_error(api.put(path, dict(created, metadata=["@app:x=z"])))
    assert err["title"] == "Creation Only Error"
    assert err["description"] == "Field metadata can only be set during creation. You cannot modify its value."
    # same second, other representation: equal
    same = dict(created, createTime=created["createTime"].split(".")[0].rstrip("Z") + "+00:00")
    assert api.put(path, same).status_code == 200
    # normalizedTags is transient: ignored on update
    assert api.put(path, dict(api.get(path).json(), normalizedTags=["a=b"])).status_code == 200
    # the ID of the body does not matter, the URL's does
    assert api.put(path, dict(api.get(path).json(), ID="ffffffffffffffffffffffff")).json()["ID"] == created["ID"]
