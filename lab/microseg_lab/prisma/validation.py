"""Validation rules of the console (the elemental generic checks and the gaia custom validators).

Error texts, attributes and the order in which errors are reported follow the public model
code: for each attribute (in byte order of names) the required check, the sub-objects, the
enum, the allowed-chars pattern, length and value bounds and then the named validators; then
the entity validators. If any *required* error exists, only the required errors are returned.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import operator
import re
from urllib.parse import urlsplit

from cryptography import x509

from . import schema
from .errors import gaia, validation

# ------------------------------------------------------------------ Go-compatible helpers

_ATOI = re.compile(r"^[+-]?[0-9]+$")


def go_atoi(text: str) -> int | None:
    """strconv.Atoi: optional sign and decimal digits only (no spaces, no underscores)."""
    if not _ATOI.match(text):
        return None
    return int(text)


_DURATION = re.compile(r"^[-+]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+$")
_DURATION_PART = re.compile(r"([0-9]*\.?[0-9]*)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "\u03bcs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_go_duration(text: str) -> float | None:
    """time.ParseDuration: returns seconds, or None when the text is not a Go duration."""
    if text in ("0", "+0", "-0"):
        return 0.0
    if not _DURATION.match(text):
        return None
    sign = -1.0 if text.startswith("-") else 1.0
    total = 0.0
    for number, unit in _DURATION_PART.findall(text.lstrip("+-")):
        total += float(number) * _UNIT_SECONDS[unit]
    return sign * total


def parse_ip(text: str):
    """net.ParseIP: an IPv4 or IPv6 address (no zone, no prefix), or None."""
    if not isinstance(text, str) or "%" in text or "/" in text:
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def parse_cidr(text: str):
    """net.ParseCIDR: ``address/prefix`` with a decimal prefix; host bits are masked. None if invalid."""
    if not isinstance(text, str) or "/" not in text or "%" in text:
        return None
    address, prefix = text.split("/", 1)
    if not prefix.isdigit() or not prefix.isascii() or len(prefix) > 3:
        return None
    if parse_ip(address) is None:
        return None
    try:
        return ipaddress.ip_network("%s/%s" % (address, int(prefix)), strict=False)
    except ValueError:
        return None


# ------------------------------------------------------------------ tags


_TAG = re.compile(r"^[^= ]+=.+")


def _validate_tag(attribute: str, tag: str):
    if not _TAG.match(tag):
        return gaia(attribute, "'%s' must contain at least one '=' symbol separating two valid words" % tag)
    if len(tag.encode()) >= 1024:
        return gaia(attribute, "'%s' must be less than 1024 bytes" % tag)
    return None


def _validate_tag_strings(attribute: str, accept_reserved: bool, tags):
    for tag in tags:
        if not accept_reserved and tag[:1] in ("@", "$", "+"):
            return gaia(attribute, "%s starts with an @, a $ or a + that is reserved" % tag)
        err = _validate_tag(attribute, tag)
        if err:
            return err
    return None


def v_tags(attribute, value):
    return _validate_tag_strings(attribute, True, value)


def v_tags_without_reserved_prefixes(attribute, value):
    return _validate_tag_strings(attribute, False, value)


def v_tags_expression(attribute, value):
    for clause in value:
        err = _validate_tag_strings(attribute, True, clause)
        if err:
            return err
    return None


def v_expression_not_empty(attribute, value):
    if not value:
        return gaia(attribute, "Expression must contain at least one sub-expression")
    return None


def v_sub_expressions_not_empty(attribute, value):
    for clause in value:
        if not clause:
            return gaia(attribute, "Sub-expression must not be empty")
    return None


def v_each_sub_expression_has_no_duplicate_tags(attribute, value):
    for clause in value:
        seen = set()
        for tag in clause:
            if tag in seen:
                return gaia(attribute, "Duplicate tag in a sub-expression: '%s'" % tag)
            seen.add(tag)
    return None


def v_no_duplicate_sub_expressions(attribute, value):
    seen = set()
    for clause in value:
        key = tuple(sorted(clause))
        if key in seen:
            return gaia(attribute, "Duplicate equivalent sub-expressions found")
        seen.add(key)
    return None


def v_metadata(attribute, value):
    for item in value:
        if not item.startswith("@"):
            return gaia(attribute, "Metadata %s must start with an @" % item)
        if item.startswith("@auth:"):
            return gaia(attribute, "Metadata %s must not start with the reserved prefix @auth:" % item)
        err = _validate_tag(attribute, item)
        if err:
            return err
    return None


def v_organizational_metadata(attribute, value):
    for item in value:
        if not item.startswith("@org:"):
            return gaia(attribute, "Organizational metadata %s must start with the reserved prefix @org:" % item)
        err = _validate_tag(attribute, item)
        if err:
            return err
    return None


# ------------------------------------------------------------------ protocols and ports

# IANA protocol keywords accepted after upper-casing. Mixed-case entries of the console's table
# (IPv6, IPv6-Route, IPv6-Frag, IPV6-NoNxt, IPV6-Opts, Sprite-RPC) can never match and are left out.
PROTOCOL_NAMES = frozenset("""
HOPOPT ICMP IGMP GGP IPIP ST TCP CBT EGP IGP BBN-RCC-MON NVP-II PUP ARGUS EMCON XNET CHAOS UDP MUX
DCN-MEAS HMP PRM XNS-IDP TRUNK-1 TRUNK-2 LEAF-1 LEAF-2 RDP IRTP ISO-TP4 NETBLT MFE-NSP MERIT-INP DCCP
3PC IDPR XTP DDP IDPR-CMTP TP++ IL SDRP IDRP RSVP GRE DSR BNA ESP AH I-NLSP SWIPE NARP MOBILE TLSP
SKIP IPV6-ICMP ANYLOCALHOST CFTP ANYLOCALNETWORK SAT-EXPAK KRYPTOLAN RVD IPPC SAT-MON VISA IPCU CPNX
CPHB WSN PVP BR-SAT-MON SUN-ND WB-MON WB-EXPAK ISO-IP VMTP SECURE-VMTP VINES TTP NSFNET-IGP DGP TCF
EIGRP OSPF LARP MTP AX.25 OS MICP SCC-SP ETHERIP ENCAP PRIVATEENCRYPTION GMTP IFMP PNNI PIM ARIS SCPS
QNX A/N IPCOMP SNP COMPAQ-PEER IPX-IN-IP VRRP PGM L2TP DDX IATP STP SRP UTI SMP SM PTP ISIS FIRE CRTP
CRUDP SSCOPMCE IPLT SPS PIPE SCTP FC RSVP-E2E-IGNORE MOBILITY-HEADER UDPLITE MPLS-IN-IP MANET HIP
SHIM6 WESP ROHC ICMP6
""".split())
ICMP_PROTOCOLS = ("ICMP", "ICMP6", "IPV6-ICMP")


def validate_port_string(attribute: str, expression: str):
    """A port ``80`` or a range ``1:1024`` (left strictly lower than right)."""
    bounds = expression.split(":")
    if len(bounds) > 2:
        return gaia(attribute, "Attribute '%s' must be a port (xxx) or port range (xxx:yyy)" % attribute)
    numbers = []
    for bound in bounds:
        number = go_atoi(bound)
        if number is None:
            return gaia(attribute, "Attribute '%s' must be a port (xxx) or port range (xxx:yyy)" % attribute)
        if number < 0 or number > 65535:
            return gaia(attribute, "Attribute '%s' must be between 0 and 65535" % attribute)
        numbers.append(number)
    if len(numbers) == 2 and numbers[0] >= numbers[1]:
        return gaia(attribute, "Attribute '%s' left bound is greater than or equal to right bound" % attribute)
    return None


def _number_between(attribute, protocol, text, low, high):
    number = go_atoi(text)
    if number is None:
        return None, gaia(attribute, "Protocol '%s' has invalid type notation: '%s' is not a valid number" % (protocol, text))
    if number < low or number > high:
        return None, gaia(attribute, "Protocol '%s' has invalid type notation: '%d' should be between %d and %d" % (protocol, number, low, high))
    return number, None


def validate_icmp_type_code(attribute: str, protocol: str, type_code: str):
    if type_code == "":
        return gaia(attribute, "Protocol '%s' has missing type/code information" % protocol)
    parts = type_code.split("/", 1)
    err = _number_between(attribute, protocol, parts[0], 0, 255)[1]
    if err:
        return err
    if len(parts) == 2:
        for code in parts[1].split(","):
            if ":" in code:
                left_text, right_text = code.split(":", 1)
                left, err = _number_between(attribute, protocol, left_text, 0, 255)
                if err:
                    return err
                right, err = _number_between(attribute, protocol, right_text, 0, 255)
                if err:
                    return err
                if left >= right:
                    return gaia(attribute, "Protocol '%s' has invalid code range order" % protocol)
            else:
                err = _number_between(attribute, protocol, code, 0, 255)[1]
                if err:
                    return err
    return None


# Service ports already found valid (validate_service_port answers None for them whatever the attribute);
# a ruleset repeats the same few ports, so most are checked once. Bounded: emptied when full.
_VALID_SERVICE_PORTS: set[str] = set()
_VALID_CACHE_SIZE = 65536


def validate_service_port(attribute: str, service_port: str):
    if service_port in _VALID_SERVICE_PORTS:
        return None
    err = _validate_service_port(attribute, service_port)
    if err is None:
        if len(_VALID_SERVICE_PORTS) >= _VALID_CACHE_SIZE:
            _VALID_SERVICE_PORTS.clear()
        _VALID_SERVICE_PORTS.add(service_port)
    return err


def _validate_service_port(attribute: str, service_port: str):
    if service_port.upper() == "ANY":
        return None
    parts = service_port.split("/", 1)
    proto = parts[0].upper()
    if proto not in PROTOCOL_NAMES:
        return gaia(attribute, "'%s' is not a valid protocol" % proto)
    if len(parts) == 1:
        if proto in ("TCP", "UDP"):
            return gaia(attribute, "Protocol '%s' cannot be used without ports" % proto)
        return None
    if proto in ("TCP", "UDP"):
        return validate_port_string(attribute, parts[1])
    if proto in ICMP_PROTOCOLS:
        return validate_icmp_type_code(attribute, proto, parts[1])
    return gaia(attribute, "Protocol '%s' cannot be used with ports" % proto)


def v_service_ports(attribute, value):
    seen = set()
    for service_port in value:
        lowered = service_port.lower()
        if lowered in seen:
            return gaia(attribute, "duplicate port: '%s'" % service_port)
        seen.add(lowered)
        if service_port.upper() == "ANY":
            if len(value) != 1:
                return gaia(attribute, "Protocol '%s' cannot be used with other protocols" % service_port)
            continue
        err = validate_service_port(attribute, service_port)
        if err:
            return err
    return None


def v_no_duplicate_rules(attribute, rules):
    seen: dict[tuple, int] = {}
    for index, rule in enumerate(rules):
        if rule is None:
            continue
        key = (
            rule.get("action", ""),
            tuple(sorted("/".join(sorted(clause)) for clause in rule.get("object", []))),
            tuple(sorted(p.lower() for p in rule.get("protocolPorts", []))),
        )
        if key in seen:
            return gaia(attribute, "Duplicate network rules at the following indexes: [%d, %d]" % (seen[key] + 1, index + 1))
        seen[key] = index
    return None


# ------------------------------------------------------------------ networks


class _Cidr:
    __slots__ = ("text", "network", "exclude")

    def __init__(self, text, network, exclude):
        self.text = text
        self.network = network
        self.exclude = exclude


def _parse_cidr_set(entries):
    """Parse a CIDR set with ``!`` exclusions; returns (list, error message)."""
    parsed: list[_Cidr] = []
    keys = set()
    for text in entries:
        network = parse_cidr(text[1:] if text.startswith("!") else text)
        if network is None:
            return None, "%s is not a valid CIDR" % text
        key = str(network)
        if key in keys:
            return None, "CIDR subnet parsed from %s is duplicated" % text
        keys.add(key)
        parsed.append(_Cidr(text, network, text.startswith("!")))
    for cidr in parsed:
        if cidr.exclude:
            contained = any(
                not other.exclude and other.network.version == cidr.network.version and cidr.network.subnet_of(other.network)
                for other in parsed
            )
            if not contained:
                return None, "%s is not contained in any CIDR" % cidr.text
    return parsed, None


def validate_cidrs(entries) -> str | None:
    """gaia's ValidateCIDRs: valid CIDRs, no duplicate network, each ``!`` CIDR inside an included one."""
    return _parse_cidr_set(entries)[1]


def validate_udp_cidrs(entries) -> str | None:
    """ValidateCIDRs plus: multicast (224.0.0.0/4, ff00::/8) must not be targeted unless excluded."""
    parsed, message = _parse_cidr_set(entries)
    if message:
        return message
    for multicast in (ipaddress.ip_network("224.0.0.0/4"), ipaddress.ip_network("ff00::/8")):
        family = [c for c in parsed if c.network.version == multicast.version]
        covered = [c for c in family if c.network.subnet_of(multicast)]
        wrong = [c.text for c in covered if not c.exclude]
        if wrong:
            return "The CIDR [%s] are multicast subnets, should not be included in UDP target networks" % " ".join(wrong)
        present = any(c.network == multicast for c in covered)
        excluded = sum(c.network.num_addresses for c in covered)
        containing = [c for c in family if c not in covered and multicast.network_address in c.network]
        if containing and not present and excluded != multicast.num_addresses:
            last = max(containing, key=lambda c: c.network.prefixlen)
            if not last.exclude:
                return "The CIDR %s includes multicast subnets, should not be included in UDP target networks" % last.text
    return None


_DNS_NAME = re.compile(r"(\*\.){0,1}([a-zA-Z0-9_]{1}[a-zA-Z0-9_-]{0,62}){1}(\.[a-zA-Z0-9_]{1}[a-zA-Z0-9_-]{0,62})*[\._]?")


def v_network_or_hostname_list(attribute, value):
    if not value:
        return gaia(attribute, "Attribute '%s' must not be empty" % attribute)
    return v_optional_network_or_hostname_list(attribute, value)


def v_optional_network_or_hostname_list(attribute, value):
    candidates = [entry for entry in value if not _DNS_NAME.fullmatch(entry)]
    message = validate_cidrs(candidates)
    if message:
        return gaia(attribute, message)
    return None


def v_optional_ip_address_list(attribute, value):
    for item in value:
        if parse_ip(item) is None:
            return gaia(attribute, "Attribute '%s' must be an IP address" % attribute)
    return None


def v_optional_cidr_list(attribute, value):
    for item in value:
        if parse_cidr(item) is None:
            return gaia(attribute, "Attribute '%s' must be a CIDR" % attribute)
    return None


# ------------------------------------------------------------------ misc string validators


def v_time_duration(attribute, value):
    if parse_go_duration(value) is None:
        return gaia(attribute, "Attribute '%s' must be valid duration (examaple: 1h or 30s)" % attribute)
    return None


def _semver_problem(text: str) -> str | None:
    if text == "":
        return "Version string empty"
    parts = text.split(".", 2)
    if len(parts) != 3:
        return "No Major.Minor.Patch elements found"
    patch = parts[2]
    build = prerelease = None
    if "+" in patch:
        patch, build = patch.split("+", 1)
    if "-" in patch:
        patch, prerelease = patch.split("-", 1)
    for label, number in (("major", parts[0]), ("minor", parts[1]), ("patch", patch)):
        if not number.isdigit() or not number.isascii():
            if number == "":
                return 'strconv.ParseUint: parsing "": invalid syntax'
            return "Invalid character(s) found in %s number %s" % (label, '"%s"' % number)
        if len(number) > 1 and number.startswith("0"):
            return "%s number must not contain leading zeroes %s" % (label.capitalize(), '"%s"' % number)
    if prerelease is not None:
        for item in prerelease.split("."):
            if item == "":
                return "Prerelease is empty"
            if not re.fullmatch(r"[0-9A-Za-z-]+", item):
                return 'Invalid character(s) found in prerelease "%s"' % item
            if item.isdigit() and len(item) > 1 and item.startswith("0"):
                return 'Version contains leading zeroes: "%s"' % item
    if build is not None:
        for item in build.split("."):
            if item == "":
                return "Buildversion is empty"
            if not re.fullmatch(r"[0-9A-Za-z-]+", item):
                return 'Invalid character(s) found in build meta data "%s"' % item
    return None


def v_semver(attribute, value):
    if value == "":
        return None
    problem = _semver_problem(value[1:] if value.startswith("v") else value)
    if problem:
        return gaia(attribute, "invalid semver %s: %s" % (value, problem))
    return None


def v_syslog_endpoint(attribute, value):
    if value == "" or value.startswith(("udp://", "tcp://", "tls://")):
        return None
    return gaia(attribute, "Attribute '%s' is not a valid syslog endpoint" % attribute)


_PEM_BLOCK = re.compile(
    r"-----BEGIN (?P<type>[^\n-]*)-----[ \t]*\r?\n(?P<body>.*?)\r?\n-----END (?P=type)-----[ \t]*(?:\r?\n|$)", re.S
)


def pem_decode(data: str):
    """Decode the first PEM block (like encoding/pem.Decode). Returns (type, der bytes, rest) or None."""
    start = 0 if data.startswith("-----BEGIN ") else data.find("\n-----BEGIN ")
    if start < 0:
        return None
    if data[start] == "\n":
        start += 1
    match = _PEM_BLOCK.match(data, start)
    if not match:
        return None
    body = "".join(line for line in match.group("body").splitlines() if ":" not in line)
    try:
        der = base64.b64decode("".join(body.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    return match.group("type"), der, data[match.end():]


def v_pem(attribute, value):
    if value == "":
        return None
    rest = value
    index = 0
    while True:
        block = pem_decode(rest)
        if block is None:
            return gaia(attribute, "Unable to decode PEM number %d" % index)
        rest = block[2]
        if rest == "":
            return None
        index += 1


def v_ca(attribute, value):
    if value == "":
        return None
    rest = value
    last = None
    while True:
        block = pem_decode(rest)
        if block is None:
            return gaia(attribute, "Unable to decode PEM")
        last, rest = block, block[2]
        if rest == "":
            break
    try:
        cert = x509.load_der_x509_certificate(last[1])
    except ValueError as exc:
        return gaia(attribute, "Unable to parse x509 certificate: %s" % exc)
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        return gaia(attribute, "Given x509 certificate is not a CA")
    return None


def v_http_methods(attribute, value):
    for method in value:
        if method.upper() not in ("POST", "GET", "DELETE", "PUT", "HEAD", "PATCH"):
            return gaia(attribute, "Invalid HTTP method %s" % method)
    return None


ATTRIBUTE_VALIDATORS = {
    "tags": v_tags,
    "tagsWithoutReservedPrefixes": v_tags_without_reserved_prefixes,
    "tagsExpression": v_tags_expression,
    "expressionNotEmpty": v_expression_not_empty,
    "subExpressionsNotEmpty": v_sub_expressions_not_empty,
    "eachSubExpressionHasNoDuplicateTags": v_each_sub_expression_has_no_duplicate_tags,
    "noDuplicateSubExpressions": v_no_duplicate_sub_expressions,
    "metadata": v_metadata,
    "organizationalMetadata": v_organizational_metadata,
    "servicePorts": v_service_ports,
    "noDuplicateRules": v_no_duplicate_rules,
    "networkOrHostnameList": v_network_or_hostname_list,
    "optionalIPAddressList": v_optional_ip_address_list,
    "optionalCIDRList": v_optional_cidr_list,
    "timeDuration": v_time_duration,
    "semver": v_semver,
    "syslogEndpoint": v_syslog_endpoint,
    "pem": v_pem,
    "ca": v_ca,
    "httpMethods": v_http_methods,
}

# ------------------------------------------------------------------ entity validators

_HOSTNAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9\-\.]+[a-z\-Az0-9]")


def _is_fqdn(name: str) -> bool:
    if name == "":
        return False
    if name.endswith("."):
        name = name[:-1]
    return bool(_HOSTNAME.fullmatch(name))


class _IPNet:
    """The console's view of a service IP: a CIDR, or a plain address with the mask 0x0f0f0f0f."""

    def __init__(self, text):
        network = parse_cidr(text)
        if network is not None:
            self.ip = network.network_address.packed
            self.mask = network.netmask.packed
            return
        address = parse_ip(text)
        if address is None:
            raise ValueError(text)
        self.ip = _to4(address.packed)
        self.mask = b"\x0f\x0f\x0f\x0f"

    def contains(self, ip: bytes) -> bool:
        # net.IPNet.Contains: a 4-byte mask only applies to an IPv4 network (so a plain IPv6
        # address never contains anything), a 16-byte mask on an IPv4 network uses its tail.
        own = _to4(self.ip)
        mask = self.mask
        if len(mask) == 4 and len(own) != 4:
            return False
        if len(mask) == 16 and len(own) == 4:
            mask = mask[12:]
        ip = _to4(ip)
        if len(ip) != len(own):
            return False
        return all((a & m) == (b & m) for a, b, m in zip(own, ip, mask, strict=True))


def _to4(packed: bytes) -> bytes:
    if len(packed) == 16 and packed[:12] == b"\x00" * 10 + b"\xff\xff":
        return packed[12:]
    return packed


def e_service(obj) -> list[dict]:
    errs = []
    authz = obj["authorizationType"]
    if authz == "OIDC":
        if obj["OIDCProviderURL"] == "":
            errs.append(gaia("OIDCProviderURL", "`OIDCProviderURL` is required when `authorizationType` is set to `OIDC`"))
        if urlsplit(obj["OIDCProviderURL"]).scheme.lower() != "https":
            errs.append(gaia("OIDCProviderURL", "`OIDCProviderURL` must be a valid HTTPS URL: example https://xxx.yyy"))
        if obj["OIDCClientID"] == "":
            errs.append(gaia("OIDCClientID", "`OIDCClientID` is required when `authorizationType` is set to `OIDC`"))
        if obj["OIDCClientSecret"] == "":
            errs.append(gaia("OIDCClientSecret", "`OIDCClientSecret` is required when `authorizationType` is set to `OIDC`"))
    elif authz == "JWT":
        if obj["JWTSigningCertificate"] == "":
            errs.append(gaia("JWTSigningCertificate", "`JWTSigningCertificate` is required when `authorizationType` is set to `JWT`"))

    if obj["TLSType"] == "External" and obj["TLSCertificate"] == "":
        errs.append(gaia("TLSCertificate", "`TLSCertificate` is required when `TLSType` is set to `External`"))

    if not obj["hosts"] and not obj["IPs"]:
        errs.append(gaia("IPs", "You must set at least one value in `hosts` or `IPs`"))
        errs.append(gaia("hosts", "You must set at least one value in `hosts` or `IPs`"))

    subnets: list[_IPNet] = []
    for text in obj["IPs"]:
        try:
            current = _IPNet(text)
        except ValueError:
            errs.append(gaia("IPs", "`IPs` must be a list of valid IPv4 address or CIDR notation"))
            continue
        for other in subnets:
            if other.contains(current.ip) or current.contains(other.ip):
                errs.append(gaia("IPs", "Subnets cannot overlap"))
        subnets.append(current)

    seen_hosts = set()
    for host in obj["hosts"]:
        if not _is_fqdn(host):
            errs.append(gaia("hosts", "`Hosts` must be a valid hostname or FQDN, compliant with RF952"))
        if host in seen_hosts:
            errs.append(gaia("hosts", "`Hosts` must be unique"))
        seen_hosts.add(host)

    if obj["external"]:
        if obj["port"] > 0:
            errs.append(gaia("port", "Port is not needed for third-party services"))
        if obj["publicApplicationPort"] > 0:
            errs.append(gaia("publicApplicationPort", "Public port is not needed for third-party services"))
    else:
        if obj["port"] == 0:
            errs.append(gaia("port", "Port is mandatory for services implemented by processing units"))
        if obj["publicApplicationPort"] == obj["exposedPort"]:
            errs.append(gaia("publicApplicationPort", "Public port cannot be the same as the exposed port"))

    if obj["proxyProtocolEnabled"] and not obj["proxyProtocolSubnets"]:
        errs.append(gaia("proxyProtocolSubnets", "When proxyProtocolEnabled is true, you must set at least one proxyProtocolSubnets"))
    return errs


def e_enforcer_profile(obj) -> list[dict]:
    message = validate_cidrs(obj["targetNetworks"])
    if message:
        return [gaia("targetNetworks", message)]
    message = validate_udp_cidrs(obj["targetUDPNetworks"])
    if message:
        return [gaia("targetUDPNetworks", message)]
    message = validate_cidrs(obj["excludedNetworks"])
    if message:
        return [gaia("excludedNetworks", message)]
    for index, chain in enumerate(obj["trustedCAs"]):
        rest = chain
        while True:
            block = pem_decode(rest)
            if block is None or block[0] != "CERTIFICATE":
                return [gaia("trustedCAs", "The CA %d is not a valid CA" % index)]
            try:
                x509.load_der_x509_certificate(block[1])
            except ValueError as exc:
                return [gaia("trustedCAs", "x509: %s" % exc)]
            rest = block[2]
            if rest == "":
                break
    return []


ENTITY_VALIDATORS = {"serviceEntity": e_service, "enforcerProfile": e_enforcer_profile}

# ------------------------------------------------------------------ the generic model validation


_REGEX_CACHE: dict[str, re.Pattern] = {}


def _go_regex(pattern: str) -> re.Pattern:
    """Compile a Go (RE2) pattern: ``$`` must only match at the very end of the text."""
    compiled = _REGEX_CACHE.get(pattern)
    if compiled is None:
        translated = pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern
        compiled = _REGEX_CACHE[pattern] = re.compile(translated)
    return compiled


def _go_list(choices) -> str:
    return "[%s]" % " ".join(choices)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MISSING = object()


def _empty_string(value):
    return value == ""


def _zero(value):
    return value == 0


def _no_time(value):
    return value is None


def _attr_checks(name: str, attr: schema.Attr) -> tuple:
    """The checks ``validate`` runs on attribute ``name``, in its order, each ``check(value, errors, required)``.

    Built once per attribute (see ``_checks``) so that ``validate`` only runs the checks an
    attribute has; each appends what the generic code of ``validate`` appended before.
    """
    checks = []
    if attr.required:
        kind = attr.type
        if kind in ("string", "enum"):
            missing = _empty_string
        elif kind in ("list", "external", "refList"):
            missing = operator.not_
        elif kind == "integer":
            missing = _zero
        elif kind == "time":
            missing = _no_time
        else:
            missing = None
        if missing is not None:
            def required_check(value, errors, required, missing=missing):
                if missing(value):
                    required.append(validation(name, "Attribute '%s' is required" % name))
            checks.append(required_check)
    if attr.type == "refList":
        sub_identity = schema.SUB_IDENTITIES[attr.subtype]

        def sub_objects(value, errors, required):
            for sub in value:
                if sub is not None:
                    errors.extend(validate(sub_identity, sub))
        checks.append(sub_objects)
    if attr.choices:
        choices, listed, autogenerated = attr.choices, _go_list(attr.choices), attr.autogenerated

        def in_choices(value, errors, required):
            if not (autogenerated and value == "") and value not in choices:
                errors.append(validation(name, "Data '%s' of attribute '%s' is not in list '%s'" % (value, name, listed)))
        checks.append(in_choices)
    if attr.pattern:
        search, always, message = _go_regex(attr.pattern).search, attr.required, attr.pattern_msg

        def pattern(value, errors, required):
            if (always or value != "") and not search(value):
                errors.append(validation(name, "Data '%s' of attribute '%s' %s" % (value, name, message)))
        checks.append(pattern)
    if attr.max_length is not None:
        max_length = attr.max_length

        def not_too_long(value, errors, required):
            if len(value) > max_length:
                errors.append(validation(name, "Data '%s' of attribute '%s' should be less than %d chars long" % (value, name, max_length)))
        checks.append(not_too_long)
    if name == "name":
        def no_control(value, errors, required):
            if isinstance(value, str) and _CONTROL.search(value):
                # lab rule (the reference documents no message): a control character such as NUL would be
                # stored but could never be matched by a filter or shown
                shown = value.encode("unicode_escape").decode("ascii")
                errors.append(validation(name, "Data '%s' of attribute '%s' must not contain control characters" % (shown, name)))
        checks.append(no_control)
    if attr.min_length is not None:
        min_length = attr.min_length

        def not_too_short(value, errors, required):
            if len(value) < min_length:
                errors.append(validation(name, "Data '%s' of attribute '%s' should be greater than %d chars long" % (value, name, min_length)))
        checks.append(not_too_short)
    if attr.max_value is not None:
        max_value = attr.max_value

        def not_too_big(value, errors, required):
            if value > max_value:
                errors.append(validation(name, "Data '%d' of attribute '%s' should be less than %d" % (value, name, max_value)))
        checks.append(not_too_big)
    if attr.min_value is not None:
        min_value = attr.min_value

        def not_too_small(value, errors, required):
            if value < min_value:
                errors.append(validation(name, "Data '%d' of attribute '%s' should be greater than %d" % (value, name, min_value)))
        checks.append(not_too_small)
    if attr.validators:
        validators = tuple(ATTRIBUTE_VALIDATORS[v] for v in attr.validators)

        def named_validators(value, errors, required):
            for validator in validators:
                err = validator(name, value)
                if err:
                    errors.append(err)
        checks.append(named_validators)
    return tuple(checks)


def _checks(identity: schema.Identity) -> list:
    """[(name, attr, checks)] of the attributes ``validate`` has something to check on (computed once per identity)."""
    checks = identity.derived.get("validation")
    if checks is None:
        checks = []
        for name, attr in identity.attrs.items():
            if not attr.transient:
                attr_checks = _attr_checks(name, attr)
                if attr_checks:
                    checks.append((name, attr, attr_checks))
        identity.derived["validation"] = checks
    return checks


def validate(identity: schema.Identity, obj: dict) -> list[dict]:
    """Validate a decoded object the way the generated ``Validate()`` does; [] when valid.

    For each attribute in byte order of names: the required check, the sub-objects, the enum,
    the pattern, the length and value bounds and the named validators (see ``_attr_checks``);
    then the entity validators. Only the required errors are answered when there are any.
    """
    errors: list[dict] = []
    required: list[dict] = []
    get = obj.get
    for name, attr, checks in _checks(identity):
        value = get(name, _MISSING)
        if value is _MISSING:
            value = attr.initial()
        for check in checks:
            check(value, errors, required)
    for validator in identity.entity_validators:
        errors.extend(ENTITY_VALIDATORS[validator](obj))
    return required or errors
