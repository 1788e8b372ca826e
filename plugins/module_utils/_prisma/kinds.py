# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Prisma object kinds: each one's Fields, rules, API resource and adapter, declared once.

The object modules run them (``object_module(name).run()``) and ``prisma_info`` reads its
resource paths and secret attributes from them (:data:`OBJECTS`). ``prisma_namespace`` runs the
namespace kind with its lockdown guard (``_prisma/lockdown.py``): the guard decides flows, and the
code that does so stays out of the payload of every other module that imports this file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import posixpath
import re

from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Field, Kind, canon_expression
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import (
    ValidationError,
    validate_cidrs,
    validate_hostname,
    validate_ip_address,
    validate_network_entries,
    validate_port,
    validate_protocol_ports,
)
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.checkmode import CheckModeReads
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.common import PrismaAdapter, PrismaObjectModule
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.fields import common_fields, subject_object_policy, tag_expression


class ObjectAdapter(CheckModeReads, PrismaAdapter):
    """The adapter of every Prisma object module: in check mode, reads in a namespace an earlier task
    would create find nothing (``_prisma/checkmode.py``)."""


# --- namespaces (prisma_namespace)

ACTIONS = {"allow": "Allow", "reject": "Reject", "inherit": "Inherit"}


def _inverse(mapping):
    """The export of an option whose values the module maps to the API's (``convert``'s inverse)."""
    back = dict((api, option) for option, api in mapping.items())
    return lambda value, obj: back.get(value, value)


SHORT_NAME = re.compile(r"^[a-zA-Z0-9_-]+\Z")


def _tag_prefixes(value, path):
    for index, tag_prefix in enumerate(value):
        if not tag_prefix or " " in tag_prefix:
            raise ValidationError("%s[%d]" % (path, index), "'%s' is not a valid tag prefix" % tag_prefix)
    return value


def _namespace_rules(params, prefix, task):
    name = params["name"]
    short = posixpath.basename(name) if name.startswith("/") else name
    if prefix and name.startswith("/"):
        raise ValidationError(prefix + "name", "'%s': give the short name in the list form; the parent is the namespace option" % name)
    if not SHORT_NAME.match(short or ""):
        raise ValidationError(prefix + "name", "'%s' is not a valid namespace name: use letters, digits, '-' and '_'" % name)
    desired = {}
    if params.get("discovery_mode") is not None:
        action = "Allow" if params["discovery_mode"] else "Reject"
        desired["defaultPUIncomingTrafficAction"] = action
        desired["defaultPUOutgoingTrafficAction"] = action
    return desired


NAMESPACE = Kind(
    "namespace",
    "namespace",
    common_fields("protected") + [
        Field("type", "type", create_only=True, empty="Default", choices=["Default", "Tenant", "CloudAccount", "Group", "Kubernetes", "ECS"]),
        Field("discovery_mode", type="bool"),
        Field("default_incoming_action", "defaultPUIncomingTrafficAction", empty="Inherit", convert=lambda v, p: ACTIONS[v], choices=list(ACTIONS),
              export=_inverse(ACTIONS)),
        Field("default_outgoing_action", "defaultPUOutgoingTrafficAction", empty="Inherit", convert=lambda v, p: ACTIONS[v], choices=list(ACTIONS),
              export=_inverse(ACTIONS)),
        Field("tag_prefixes", "tagPrefixes", compare="set", empty=[], convert=_tag_prefixes, type="list", elements="str", no_log=False),
        Field("lockdown_guard", type="dict", options=dict(window=dict(type="str", default="7d"), force=dict(type="bool", default=False),
                                                          expect_blocked=dict(type="list", elements="dict"))),
    ],
    rules=_namespace_rules,
    mutually_exclusive=[("discovery_mode", "default_incoming_action"), ("discovery_mode", "default_outgoing_action")],
)


class NamespaceAdapter(ObjectAdapter):
    """Namespaces are stored under their absolute path and listed from their parent."""

    def _split(self, name):
        if name.startswith("/"):
            return posixpath.dirname(name) or "/", posixpath.basename(name)
        return self.namespace, name

    def find_all(self, name):
        parent, short = self._split(name)
        self.namespace = parent
        return super(NamespaceAdapter, self).find_all(short)

    def api_name(self, name):
        return posixpath.join(self.namespace, name)

    def name_of(self, obj):
        return posixpath.basename(obj.get("name", ""))

    def create_body(self, name, body):
        body = dict(body)  # only the name is set: the values are shared, never changed
        body["name"] = self._split(name)[1]
        return body

    def predict_create(self, change):
        predicted = self.create_body(change.name, change.body)
        predicted["name"] = self.api_name(predicted["name"])
        predicted["namespace"] = self.namespace
        return predicted


# --- external networks (prisma_external_network)

EXTERNAL_NETWORK = Kind(
    "externalnetwork",
    "external network",
    common_fields("propagate", "protected") + [
        Field("entries", "entries", compare="set", empty=[], convert=validate_network_entries, type="list", elements="str"),
    ],
    create_requires=[("entries", "entries")],
)


def external_network_tags(name):
    """The tag every external network carries, so that rules can select it by name."""
    return ["externalnetwork:name=%s" % name]


class ExternalNetworkAdapter(ObjectAdapter):
    def required_tags(self, name):
        return external_network_tags(name)


# --- network rulesets (prisma_network_ruleset)

RULE_SPEC = dict(
    action=dict(type="str", choices=["allow", "reject"], default="allow"),
    object=dict(type="raw", required=True),
    protocol_ports=dict(type="list", elements="str", default=["any"]),
    logs_disabled=dict(type="bool", default=False),
    observation_enabled=dict(type="bool", default=False),
    name=dict(type="str"),
)


def canon_rules(rules):
    """Rules compared as a multiset, each with the API defaults filled in."""
    canon = [_canon_rule(rule) for rule in rules or []]
    if len(canon) > 1:
        canon.sort(key=repr)
    return tuple(canon)


def _canon_rule(rule):
    get = rule.get
    ports = get("protocolPorts")
    return (
        get("action") or "Allow",
        canon_expression(get("object")),
        tuple(sorted([p.lower() for p in ports])) if ports else (),
        bool(get("logsDisabled")),
        bool(get("observationEnabled")),
        get("name") or "",
    )


def export_rules(rules, obj):
    """API rules back as the module's rule options, the options' defaults left out."""
    exported = []
    for rule in rules:
        item = {"object": copy.deepcopy(rule.get("object"))}
        if (rule.get("action") or "Allow") != "Allow":
            item["action"] = rule["action"].lower()
        ports = rule.get("protocolPorts") or ["any"]
        if [p.lower() for p in ports] != ["any"]:
            item["protocol_ports"] = list(ports)
        for api, option in (("logsDisabled", "logs_disabled"), ("observationEnabled", "observation_enabled")):
            if rule.get(api):
                item[option] = True
        if rule.get("name"):
            item["name"] = rule["name"]
        exported.append(item)
    return exported


_rule_object = tag_expression(strict=True)
# the canonical protocolPorts of the lists already checked (the same few recur in thousands of rules)
_CHECKED_PORTS = {}


def _protocol_ports(ports, path):
    """``validate_protocol_ports(ports, path)``, remembered for a list of strings that passed."""
    key = tuple(ports) if type(ports) is list and all(type(p) is str for p in ports) else None  # pylint: disable=unidiomatic-typecheck
    if key is not None and key in _CHECKED_PORTS:
        return list(_CHECKED_PORTS[key])
    canonical = validate_protocol_ports(ports, path)
    if key is not None and len(_CHECKED_PORTS) < 10000:
        _CHECKED_PORTS[key] = tuple(canonical)
    return canonical


def build_rules(rules, option):
    built = []
    for index, rule in enumerate(rules):
        path = "%s[%d]." % (option, index)
        api_rule = {
            "action": rule["action"].capitalize(),
            "object": _rule_object(rule["object"], path + "object"),
            "protocolPorts": _protocol_ports(rule["protocol_ports"], path + "protocol_ports"),
            "logsDisabled": rule["logs_disabled"],
            "observationEnabled": rule["observation_enabled"],
        }
        if rule.get("name"):
            if len(rule["name"]) > 16:
                raise ValidationError(path + "name", "must be at most 16 characters long")
            api_rule["name"] = rule["name"]
        built.append(api_rule)
    seen = {}
    for index, api_rule in enumerate(built):
        key = _canon_rule(api_rule)[:-1]  # the name does not tell two rules apart
        if key in seen:
            raise ValidationError(option, "rules %d and %d are duplicates (same action, object and protocol ports)" % (seen[key], index))
        seen[key] = index
    return built


NETWORK_RULESET = Kind(
    "networkrulesetpolicy",
    "network ruleset",
    common_fields("propagate", "disabled", "fallback", "protected") + [
        Field("subject", "subject", compare="expression", empty=[], convert=tag_expression(strict=True), type="raw"),
        Field("incoming_rules", "incomingRules", compare=canon_rules, empty=[], convert=build_rules, type="list", elements="dict", options=RULE_SPEC,
              export=export_rules),
        Field("outgoing_rules", "outgoingRules", compare=canon_rules, empty=[], convert=build_rules, type="list", elements="dict", options=RULE_SPEC,
              export=export_rules),
    ],
    create_requires=[("subject", "subject")],
)


# --- TCP services (prisma_tcp_service)

TLS_MODES = {"public_ca": "Aporeto", "custom": "External", "letsencrypt": "LetsEncrypt", "none": "None"}


def _hosts(hosts, path):
    return [validate_hostname(h, "%s[%d]" % (path, i)) for i, h in enumerate(hosts)]


def _ips(ips, path):
    ips = [validate_ip_address(ip, "%s[%d]" % (path, i)) for i, ip in enumerate(ips)]
    if len(set(ips)) != len(ips):
        raise ValidationError(path, "lists the same address twice")
    return ips


def _pem(marker):
    def convert(value, path):
        if "-----BEGIN %s" % marker not in value:
            raise ValidationError(path, "must be PEM text containing a '-----BEGIN %s' block" % marker)
        return value
    return convert


def _tcp_service_rules(params, prefix, task):
    desired = {"type": "TCP"}
    if params.get("public_port") is not None and params.get("public_port") == params.get("exposed_port"):
        raise ValidationError(prefix + "public_port", "must differ from exposed_port (%s)" % params["exposed_port"])
    if params.get("external"):
        for option in ("port", "public_port"):
            if params.get(option):
                raise ValidationError(prefix + option, "must not be set for an external service (external=true)")
        desired["port"] = 0
        desired["publicApplicationPort"] = 0
    if params.get("tls_mode") == "custom" and not params.get("tls_certificate"):
        raise ValidationError(prefix + "tls_certificate", "is required when tls_mode is 'custom'")
    if params.get("proxy_protocol") and not params.get("proxy_protocol_subnets"):
        raise ValidationError(prefix + "proxy_protocol_subnets", "is required when proxy_protocol is true: list the load balancers' subnets")
    return desired


TCP_SERVICE = Kind(
    "service",
    "TCP service",
    common_fields("propagate", "disabled", "protected") + [
        Field(None, "type", empty="HTTP"),
        Field("hosts", "hosts", compare="set", empty=[], convert=_hosts, type="list", elements="str"),
        Field("ips", "IPs", compare="set", empty=[], convert=_ips, type="list", elements="str"),
        Field("exposed_port", "exposedPort", empty=0, convert=validate_port, type="int"),
        Field("port", "port", empty=0, convert=validate_port, type="int"),
        Field("public_port", "publicApplicationPort", empty=0, convert=validate_port, type="int"),
        Field("selectors", "selectors", compare="expression", empty=[], convert=tag_expression(), type="raw"),
        Field("tls_mode", "TLSType", empty="Aporeto", convert=lambda v, p: TLS_MODES[v], choices=list(TLS_MODES),
              export=_inverse(TLS_MODES)),
        Field("tls_certificate", "TLSCertificate", empty="", convert=_pem("CERTIFICATE")),
        Field("tls_certificate_key", "TLSCertificateKey", secret=True, empty="", convert=_pem("")),
        Field("tls_only", "exposedServiceIsTLS", empty=False, type="bool", aliases=["exposed_service_is_tls"]),
        Field("proxy_protocol", "proxyProtocolEnabled", empty=False, type="bool"),
        Field("proxy_protocol_subnets", "proxyProtocolSubnets", compare="set", empty=[], convert=validate_cidrs, type="list", elements="str"),
        Field("proxy_protocol_preserve_header", "proxyProtocolPreserveHeader", empty=False, type="bool"),
        Field("external", "external", empty=False, type="bool"),
        Field("trusted_cas", "trustedCertificateAuthorities", empty="", convert=_pem("CERTIFICATE")),
    ],
    create_requires=[("exposedPort", "exposed_port"), ("port", "port"), (("hosts", "IPs"), "hosts or ips")],
    rules=_tcp_service_rules,
    # the OIDC client secret of a service set up elsewhere (no option sets it): masked wherever shown
    secret_attributes=("OIDCClientSecret",),
)


# --- enforcer profiles (prisma_enforcer_profile)

DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+\Z")
MULTICAST = ("224.0.0.0/4", "ff00::/8")
NETWORK_OPTIONS = (("target_networks", "targetNetworks"), ("target_udp_networks", "targetUDPNetworks"), ("excluded_networks", "excludedNetworks"))


def _networks(value, path):
    return validate_cidrs(value, path, allow_exclusions=True)


def _udp_networks(value, path):
    networks = _networks(value, path)
    for index, network in enumerate(networks):
        if network in MULTICAST:
            raise ValidationError("%s[%d]" % (path, index), "multicast network %s may not be a UDP target network" % network)
    return networks


def _pems(value, path):
    for index, pem in enumerate(value):
        if "-----BEGIN CERTIFICATE-----" not in pem:
            raise ValidationError("%s[%d]" % (path, index), "must be a PEM certificate")
    return value


def _duration(value, path):
    if not DURATION.match(value):
        raise ValidationError(path, "'%s' is not a duration such as 30m or 1h30m" % value)
    return value


ENFORCER_PROFILE = Kind(
    "enforcerprofile",
    "enforcer profile",
    common_fields("propagate", "protected") + [
        Field("target_networks", "targetNetworks", compare="set", empty=[], convert=_networks, type="list", elements="str"),
        Field("target_udp_networks", "targetUDPNetworks", compare="set", empty=[], convert=_udp_networks, type="list", elements="str"),
        Field("excluded_networks", "excludedNetworks", compare="set", empty=[], convert=_networks, type="list", elements="str"),
        Field("excluded_interfaces", "excludedInterfaces", compare="set", empty=[], type="list", elements="str"),
        Field("ignore_expression", "ignoreExpression", compare="expression", empty=[], convert=tag_expression(), type="raw"),
        Field("trusted_cas", "trustedCAs", compare="set", empty=[], convert=_pems, type="list", elements="str"),
        Field("flow_report_interval", "flowReportInterval", empty="30m", convert=_duration),
    ],
)


# --- policies that map a subject to an object

# every group and Kubernetes namespace comes with a policy named default: never tagged, never purged
SERVICE_DEPENDENCY_POLICY = subject_object_policy("servicedependencypolicy", "service dependency policy", reserved_names=("default",))
ENFORCER_PROFILE_MAPPING = subject_object_policy("enforcerprofilemappingpolicy", "enforcer profile mapping")


# ``prisma_info``'s kinds and the object modules: {name: (Kind, API resource, adapter class)}
OBJECTS = {
    "namespace": (NAMESPACE, "/namespaces", NamespaceAdapter),
    "external_network": (EXTERNAL_NETWORK, "/externalnetworks", ExternalNetworkAdapter),
    "network_ruleset": (NETWORK_RULESET, "/networkrulesetpolicies", ObjectAdapter),
    "tcp_service": (TCP_SERVICE, "/services", ObjectAdapter),
    "service_dependency_policy": (SERVICE_DEPENDENCY_POLICY, "/servicedependencypolicies", ObjectAdapter),
    "enforcer_profile": (ENFORCER_PROFILE, "/enforcerprofiles", ObjectAdapter),
    "enforcer_profile_mapping": (ENFORCER_PROFILE_MAPPING, "/enforcerprofilemappingpolicies", ObjectAdapter),
}


def object_module(name):
    """The runner of the object module of kind ``name`` (a key of :data:`OBJECTS`)."""
    return PrismaObjectModule(*OBJECTS[name])
