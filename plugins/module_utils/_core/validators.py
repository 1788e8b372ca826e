# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Client-side checks for the values the Prisma Cloud Microsegmentation API validates.

Each public ``validate_*`` function takes the value and the dotted path of the option it came
from (for example ``incoming_rules[2].protocol_ports[0]``), returns the value in canonical form
and raises :class:`ValidationError` when the value would be refused by the console. Running these
checks before any API call lets a module fail early, with a message that names the option, and
lets the reconcile engine compare canonical values.

Functions that parse networks need the ``netaddr`` library. Modules should check ``HAS_NETADDR``
and report ``NETADDR_IMPORT_ERROR`` with ``missing_required_lib('netaddr')`` when it is absent.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import traceback

try:
    import netaddr

    HAS_NETADDR = True
    NETADDR_IMPORT_ERROR = None
except ImportError:
    HAS_NETADDR = False
    NETADDR_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.microseg.segmentation.plugins.module_utils._core.errors import MicrosegError

# (name, importable, import traceback) for _core/runner.py
NETADDR = ("netaddr", HAS_NETADDR, NETADDR_IMPORT_ERROR)


class ValidationError(MicrosegError, ValueError):
    """A value that breaks one of the console's input rules.

    ``option`` is the dotted path of the offending option, ``message`` says what is wrong.
    ``str(error)`` gives ``"<option>: <message>"``.
    """

    def __init__(self, option, message):
        self.option = option
        self.message = message
        if option:
            text = f"{option}: {message}"
        else:
            text = message
        super().__init__(text)


# ---------------------------------------------------------------------------------------------
# small helpers


def _item(option, index):
    """Path of the element ``index`` of the list option ``option``."""
    return f"{option or ''}[{index}]"


def _require_str(value, option, what):
    if not isinstance(value, str):
        raise ValidationError(option, f"{value!r} is not a valid {what}: a string is expected, got {type(value).__name__}")
    return value


def _require_list(values, option, what):
    if isinstance(values, (list, tuple)):
        return list(values)
    raise ValidationError(option, f"{values!r} is not a valid {what}: a list is expected, got {type(values).__name__}")


def _require_netaddr():
    if not HAS_NETADDR:
        raise ImportError("the Python library netaddr is required to validate IP addresses and networks")


def _digits(text):
    """True when ``text`` is a non-empty run of ASCII decimal digits."""
    return bool(text) and all("0" <= char <= "9" for char in text)


def validate_text(value, option, maximum, minimum=1, control=False):
    """A name or other text option: ``minimum`` to ``maximum`` characters (blank counts as empty) and,
    unless ``control``, no control character (a NUL byte, a line break...), which no console can
    show or look up."""
    _require_str(value, option, "text")
    if minimum and not value.strip():
        raise ValidationError(option, "must not be empty")
    if len(value) < minimum or len(value) > maximum:
        raise ValidationError(option, f"must be {minimum} to {maximum} characters long, got {len(value)}")
    if not control:
        for index, char in enumerate(value):
            if ord(char) < 32 or ord(char) == 127:
                raise ValidationError(option, f"contains the control character {char!r} at position {index}")
    return value


# ---------------------------------------------------------------------------------------------
# tags and tag expressions

# The console's tag pattern: a key without space or '=', an '=', then at least one character.
_TAG_RE = re.compile(r"^[^= ]+=.+")
_TAG_MAX_BYTES = 1024
_RESERVED_TAG_PREFIXES = ("@", "$", "+")


def validate_tag(value, option, allow_reserved=False):
    """Check one tag written ``key=value`` and return it unchanged.

    The key may not contain a space or ``=``, the value may not be empty and the whole tag must
    be shorter than 1024 bytes once UTF-8 encoded. Tags a user sets on an object may not start
    with ``@``, ``$`` or ``+`` (the console reserves them); pass ``allow_reserved=True`` for tag
    expressions, which may select on such tags.
    """
    _require_str(value, option, "tag")
    if not _TAG_RE.match(value):
        raise ValidationError(
            option,
            f"'{value}' is not a valid tag: write it as key=value, where the key is not empty and has no space or '=', and the value is not empty",
        )
    if len(value.encode("utf-8")) >= _TAG_MAX_BYTES:
        shown = value if len(value) <= 60 else value[:60] + "..."
        raise ValidationError(option, f"'{shown}' is too long: a tag must be shorter than {_TAG_MAX_BYTES} bytes (UTF-8 encoded)")
    if not allow_reserved and value.startswith(_RESERVED_TAG_PREFIXES):
        raise ValidationError(
            option,
            f"'{value}' starts with '{value[0]}': tags starting with '@', '$' or '+' are reserved for the console and cannot be set by hand",
        )
    return value


def validate_tags(values, option, allow_reserved=False):
    """Check a list of tags (see :func:`validate_tag`) and that no tag is listed twice.

    ``None`` counts as an empty list. Returns a new list.
    """
    if values is None:
        return []
    values = _require_list(values, option, "list of tags")
    result = []
    seen = {}
    for index, value in enumerate(values):
        path = _item(option, index)
        tag = validate_tag(value, path, allow_reserved=allow_reserved)
        if tag in seen:
            raise ValidationError(path, f"tag '{tag}' is already listed at {_item(option, seen[tag])}; each tag may appear only once")
        seen[tag] = index
        result.append(tag)
    return result


def _expression_clauses(value):
    """Turn the accepted input shapes into a list of ``(clause, is_plain_string)`` pairs."""
    if value is None:
        return []
    if isinstance(value, str):
        return [([value], True)]
    if not isinstance(value, (list, tuple)):
        return None
    clauses = []
    for element in value:
        if isinstance(element, str):
            clauses.append(([element], True))
        elif isinstance(element, (list, tuple)):
            clauses.append((list(element), False))
        else:
            clauses.append((element, None))
    return clauses


def validate_tag_expression(value, option, allow_empty=True, strict=False):
    """Check a tag expression and return it as a list of lists of tags.

    An expression is an OR of AND clauses: ``[["app=web", "env=prod"], ["role=admin"]]`` matches
    objects that have both ``app=web`` and ``env=prod``, or that have ``role=admin``. Accepted
    input shapes:

    * a list of lists of tags (the API form);
    * a list mixing lists and plain strings, where a plain string is a clause of one tag;
    * a single string, which becomes ``[[value]]``;
    * ``None``, which is the empty expression.

    Tags may use the reserved prefixes (``$identity=processingunit``, ``@org:tenant=...``).

    ``allow_empty=False`` refuses an expression without clauses. ``strict=True`` applies the
    rules of a network ruleset's subject and rule objects: at least one clause, no empty clause,
    no tag repeated inside a clause and no two clauses with the same tags in any order.
    """
    clauses = _expression_clauses(value)
    if clauses is None:
        raise ValidationError(
            option, f"{value!r} is not a valid tag expression: give a list of clauses, each clause a list of key=value tags"
        )
    if not clauses and (strict or not allow_empty):
        raise ValidationError(option, "the tag expression is empty: at least one clause of key=value tags is required")

    result = []
    for index, (clause, plain) in enumerate(clauses):
        path = _item(option, index)
        if plain is None:
            raise ValidationError(
                path, f"{clause!r} is not a valid clause: a clause is a list of key=value tags (or a single tag as a string)"
            )
        tags = []
        seen = set()
        for position, tag in enumerate(clause):
            tag_path = path if plain else _item(path, position)
            validate_tag(tag, tag_path, allow_reserved=True)
            if strict and tag in seen:
                raise ValidationError(tag_path, f"tag '{tag}' appears twice in the same clause; list each tag of a clause once")
            seen.add(tag)
            tags.append(tag)
        if strict and not tags:
            raise ValidationError(path, "the clause is empty: every clause must contain at least one key=value tag")
        result.append(tags)

    if strict:
        first_seen = {}
        for index, tags in enumerate(result):
            key = tuple(sorted(tags))
            if key in first_seen:
                raise ValidationError(
                    _item(option, index),
                    f"clause {tags} has the same tags as {_item(option, first_seen[key])} (order does not matter); remove one of them",
                )
            first_seen[key] = index
    return result


# ---------------------------------------------------------------------------------------------
# protocolPorts

# IANA protocol keywords the console recognises, in the upper case it compares them in.
# Keywords that the console stores in mixed case (IPv6-Route, IPv6-Frag, ...) can never match an
# upper-cased input and are therefore left out, as are numbers, which are not accepted either.
PROTOCOL_KEYWORDS = frozenset(
    [
        "HOPOPT", "ICMP", "IGMP", "GGP", "IP-IN-IP", "ST", "TCP", "CBT", "EGP", "IGP", "BBN-RCC-MON",
        "NVP-II", "PUP", "ARGUS", "EMCON", "XNET", "CHAOS", "UDP", "MUX", "DCN-MEAS", "HMP", "PRM",
        "XNS-IDP", "TRUNK-1", "TRUNK-2", "LEAF-1", "LEAF-2", "RDP", "IRTP", "ISO-TP4", "NETBLT",
        "MFE-NSP", "MERIT-INP", "DCCP", "3PC", "IDPR", "XTP", "DDP", "IDPR-CMTP", "TP++", "IL",
        "SDRP", "IDRP", "RSVP", "GRE", "DSR", "BNA", "ESP", "AH", "I-NLSP", "NARP", "MOBILE",
        "TLSP", "SKIP", "ICMP6", "IPV6-ICMP", "CFTP", "SAT-EXPAK", "KRYPTOLAN", "RVD", "IPPC",
        "SAT-MON", "VISA", "IPCV", "CPNX", "CPHB", "WSN", "PVP", "BR-SAT-MON", "SUN-ND", "WB-MON",
        "WB-EXPAK", "ISO-IP", "VMTP", "SECURE-VMTP", "VINES", "TTP", "IPTM", "NSFNET-IGP", "DGP",
        "TCF", "EIGRP", "OSPFIGP", "LARP", "MTP", "AX.25", "IPIP", "MICP", "SCC-SP", "ETHERIP",
        "ENCAP", "GMTP", "IFMP", "PNNI", "PIM", "ARIS", "SCPS", "QNX", "IPCOMP", "SNP",
        "COMPAQ-PEER", "IPX-IN-IP", "VRRP", "PGM", "L2TP", "DDX", "IATP", "STP", "SRP", "UTI",
        "SMP", "SM", "PTP", "FIRE", "CRTP", "CRUDP", "SSCOPMCE", "IPLT", "SPS", "PIPE", "SCTP",
        "FC", "RSVP-E2E-IGNORE", "UDPLITE", "MPLS-IN-IP", "MANET", "HIP", "SHIM6", "WESP", "ROHC",
        "ETHERNET",
    ]
)

_PORT_PROTOCOLS = frozenset(["TCP", "UDP"])
_ICMP_PROTOCOLS = frozenset(["ICMP", "ICMP6", "IPV6-ICMP"])
_ANY = "any"


def _port_number(text, entry, what, low, high, option):
    if not _digits(text):
        raise ValidationError(option, f"'{entry}' is not valid: {what} '{text}' is not a number")
    number = int(text)
    if number < low or number > high:
        raise ValidationError(option, f"'{entry}' is not valid: {what} {number} must be between {low} and {high}")
    return number


def _number_or_range(text, entry, what, low, high, option):
    """Parse ``n`` or ``a:b`` (``a < b``) and return its canonical text."""
    if ":" not in text:
        return str(_port_number(text, entry, what, low, high, option))
    left, right = text.split(":", 1)
    first = _port_number(left, entry, what, low, high, option)
    last = _port_number(right, entry, what, low, high, option)
    if first >= last:
        raise ValidationError(
            option, f"'{entry}' is not valid: in the {what} range {text} the first number must be lower than the second"
        )
    return f"{first}:{last}"


def _canonical_protocol_port(value, option):
    """Canonical form of one protocolPorts entry."""
    if value.lower() == _ANY:
        return _ANY
    if value == "":
        raise ValidationError(option, "an empty string is not a valid protocol/port entry; write for example any, tcp/443 or icmp")
    protocol, sep, rest = value.partition("/")
    upper = protocol.upper()
    if protocol == "":
        raise ValidationError(option, f"'{value}' is not valid: the protocol name before the '/' is missing, for example tcp/443")
    if _digits(protocol):
        raise ValidationError(option, f"'{value}' is not valid: use the protocol name (for example tcp, udp, icmp), not its number")
    if upper not in PROTOCOL_KEYWORDS:
        raise ValidationError(
            option, f"'{value}' is not valid: '{protocol}' is not a known IANA protocol name (for example tcp, udp, icmp, gre, esp or any)"
        )
    lower = upper.lower()
    if not sep:
        if upper in _PORT_PROTOCOLS:
            raise ValidationError(
                option, f"'{value}' is not valid: protocol {lower} needs a port or a port range, for example {lower}/443 or {lower}/1024:65535"
            )
        return lower
    if upper in _PORT_PROTOCOLS:
        if rest == "":
            raise ValidationError(option, f"'{value}' is not valid: a port or a port range is missing after the '/'")
        if rest.count(":") > 1:
            raise ValidationError(option, f"'{value}' is not valid: give a single port (443) or one port range (1024:65535)")
        return f"{lower}/{_number_or_range(rest, value, 'port', 0, 65535, option)}"
    if upper in _ICMP_PROTOCOLS:
        if rest == "":
            raise ValidationError(
                option, f"'{value}' is not valid: the ICMP type is missing after the '/' (write {lower}, {lower}/<type> or {lower}/<type>/<codes>)"
            )
        icmp_type, sep, codes = rest.partition("/")
        type_number = _port_number(icmp_type, value, "ICMP type", 0, 255, option)
        if not sep:
            return f"{lower}/{type_number}"
        canonical_codes = []
        for code in codes.split(","):
            if code == "":
                raise ValidationError(
                    option, f"'{value}' is not valid: the ICMP codes must be a comma-separated list of numbers or ranges such as 0,1,3:5"
                )
            canonical_codes.append(_number_or_range(code, value, "ICMP code", 0, 255, option))
        return f"{lower}/{type_number}/{','.join(canonical_codes)}"
    raise ValidationError(option, f"'{value}' is not valid: protocol {lower} cannot be used with ports, write just '{lower}'")


def validate_protocol_port(value, option):
    """Check one protocolPorts entry and return it in canonical lower-case form.

    Accepted forms (case-insensitive):

    * ``any`` - every protocol (see :func:`validate_protocol_ports` for the list rule);
    * ``tcp/<port>`` or ``tcp/<first>:<last>`` (same for ``udp``), ports 0..65535, first < last;
    * ``icmp``, ``icmp/<type>`` or ``icmp/<type>/<codes>`` (same for ``icmp6`` and ``ipv6-icmp``),
      type 0..255, codes a comma-separated list of numbers 0..255 or ``a:b`` ranges (a < b);
    * any other IANA protocol keyword (``gre``, ``esp``, ``sctp``...) on its own.

    ``TCP/080`` is returned as ``tcp/80``.
    """
    _require_str(value, option, "protocol/port entry")
    return _canonical_protocol_port(value, option)


def validate_protocol_ports(values, option):
    """Check a protocolPorts list and return the canonical entries.

    ``any`` must be the only entry when present, and the same entry may not appear twice
    (compared after canonicalisation, so ``TCP/80`` and ``tcp/80`` are the same). ``None`` counts
    as an empty list.
    """
    if values is None:
        return []
    values = _require_list(values, option, "list of protocol/port entries")
    result = []
    seen = {}
    for index, value in enumerate(values):
        path = _item(option, index)
        canonical = validate_protocol_port(value, path)
        if canonical == _ANY and len(values) > 1:
            raise ValidationError(path, f"'{value}' already covers every protocol and port, so it must be the only entry of the list")
        if canonical in seen:
            raise ValidationError(
                path, f"'{value}' is listed twice (it is the same as entry {_item(option, seen[canonical])}; case does not matter)"
            )
        seen[canonical] = index
        result.append(canonical)
    return result


# ---------------------------------------------------------------------------------------------
# addresses and networks


def _parse_ip(text):
    """Return a ``netaddr.IPAddress`` for a plain address written in standard notation, or None."""
    try:
        return netaddr.IPAddress(text, flags=netaddr.INET_PTON)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return None


def _parse_cidr(text):
    """Return a ``netaddr.IPNetwork`` for ``address/prefix`` or ``None`` when it is not one."""
    address, sep, prefix = text.partition("/")
    if not sep or not _digits(prefix) or len(prefix) > 3:
        return None
    ip = _parse_ip(address)
    if ip is None:
        return None
    length = int(prefix)
    if length > (32 if ip.version == 4 else 128):
        return None
    return netaddr.IPNetwork(f"{ip}/{length}")


def validate_cidr(value, option):
    """Check an IPv4 or IPv6 network written ``address/prefix-length`` and return it canonically.

    Host bits may be set (``10.0.0.1/24`` is accepted, as the console does); the address is
    written in its canonical form (``2001:DB8:0::/32`` becomes ``2001:db8::/32``). A plain
    address without ``/`` is refused.
    """
    _require_str(value, option, "CIDR")
    _require_netaddr()
    if "/" not in value:
        raise ValidationError(option, f"'{value}' is not a valid CIDR: the prefix length is missing, write it as address/length, for example 10.0.0.0/8")
    network = _parse_cidr(value)
    if network is None:
        raise ValidationError(
            option, f"'{value}' is not a valid CIDR: expected an IPv4 or IPv6 address followed by /length, for example 10.0.0.0/8 or 2001:db8::/32"
        )
    return str(network)


def _check_cidr_set(entries, option):
    """List-level rules for ``(index, canonical, network, excluded)`` tuples.

    No network may appear twice (whether included or excluded, host bits ignored) and each
    excluded network must lie inside an included one.
    """
    seen = {}
    for index, canonical, network, _excluded in entries:
        key = str(network.cidr)
        if key in seen:
            raise ValidationError(
                _item(option, index), f"'{canonical}' is the same network as entry {_item(option, seen[key])} ({key}); list each network once"
            )
        seen[key] = index
    included = [entry[2] for entry in entries if not entry[3]]
    for index, canonical, network, excluded in entries:
        if not excluded:
            continue
        if not any(network.version == parent.version and network.cidr in parent.cidr for parent in included):
            raise ValidationError(
                _item(option, index),
                f"'{canonical}' excludes a network that is not inside any included CIDR of the list; an excluded ('!') CIDR must lie within an included one",
            )


def validate_cidrs(values, option, allow_exclusions=False):
    """Check a list of CIDRs and return their canonical forms.

    With ``allow_exclusions`` an entry may start with ``!`` to exclude a part of an included
    network; every excluded network must then lie inside an included one. No network may be
    listed twice. ``None`` counts as an empty list.
    """
    if values is None:
        return []
    values = _require_list(values, option, "list of CIDRs")
    result = []
    entries = []
    for index, value in enumerate(values):
        path = _item(option, index)
        _require_str(value, path, "CIDR")
        excluded = value.startswith("!")
        if excluded and not allow_exclusions:
            raise ValidationError(path, f"'{value}' starts with '!', but exclusions are not allowed in this list")
        canonical = validate_cidr(value[1:] if excluded else value, path)
        if excluded:
            canonical = "!" + canonical
        entries.append((index, canonical, netaddr.IPNetwork(canonical.lstrip("!")), excluded))
        result.append(canonical)
    _check_cidr_set(entries, option)
    return result


def validate_ip_address(value, option):
    """Check a single IPv4 or IPv6 address (no prefix length) and return it canonically."""
    _require_str(value, option, "IP address")
    _require_netaddr()
    if "/" in value:
        raise ValidationError(option, f"'{value}' is not a valid IP address: give a single address without a /prefix-length")
    ip = _parse_ip(value)
    if ip is None:
        raise ValidationError(option, f"'{value}' is not a valid IP address: expected an IPv4 address such as 10.1.2.3 or an IPv6 address such as 2001:db8::1")
    return str(ip)


# Host names and wildcards accepted in external network entries (same pattern as the console).
_DNS_NAME_RE = re.compile(r"^(\*\.)?[a-zA-Z0-9_][a-zA-Z0-9_-]{0,62}(\.[a-zA-Z0-9_][a-zA-Z0-9_-]{0,62})*[._]?\Z")
_DOTTED_NUMBERS_RE = re.compile(r"^[0-9.]+\Z")


def _network_entry(value, option):
    """Return ``(canonical, network_or_None, excluded)`` for one external network entry."""
    _require_str(value, option, "network entry")
    if _DNS_NAME_RE.match(value):
        if _DOTTED_NUMBERS_RE.match(value):
            _require_netaddr()
            ip = _parse_ip(value)
            if ip is None:
                raise ValidationError(option, f"'{value}' looks like an IPv4 address but is not a valid one (four numbers 0..255 separated by dots)")
            return str(ip), None, False
        return value, None, False
    excluded = value.startswith("!")
    text = value[1:] if excluded else value
    if "/" not in text:
        _require_netaddr()
        if not excluded and ":" in text and _parse_ip(text) is not None:
            raise ValidationError(option, f"'{value}' is a plain IPv6 address, which is not accepted here: write it as a CIDR, for example {text}/128")
        raise ValidationError(
            option,
            f"'{value}' is not a valid network entry: use a CIDR (optionally prefixed with '!'), an IPv4 address, a host name or a *.domain wildcard",
        )
    canonical = validate_cidr(text, option)
    if excluded:
        canonical = "!" + canonical
    return canonical, netaddr.IPNetwork(canonical.lstrip("!")), excluded


def validate_network_entry(value, option):
    """Check one external network entry and return it canonically.

    An entry is a CIDR (``10.0.0.0/8``; with a leading ``!`` it excludes part of another entry of
    the list), a plain IPv4 address, a host name (``api.example.com``) or a wildcard
    (``*.example.com``). A plain IPv6 address is refused: the console only takes it as a CIDR
    (``2001:db8::1/128``). CIDRs and IPv4 addresses come back canonical, names unchanged.
    """
    return _network_entry(value, option)[0]


def validate_network_entries(values, option):
    """Check the ``entries`` of an external network and return them canonically.

    The list must not be empty. On top of the per-entry rules, the CIDR entries follow the list
    rules of :func:`validate_cidrs` with exclusions allowed (no network twice, every ``!``
    network inside an included CIDR), and no name or address may be listed twice (case does not
    matter).
    """
    if values is None:
        values = []
    values = _require_list(values, option, "list of network entries")
    if not values:
        raise ValidationError(option, "the list of network entries is empty: give at least one CIDR, IP address or host name")
    result = []
    cidrs = []
    names = {}
    for index, value in enumerate(values):
        path = _item(option, index)
        canonical, network, excluded = _network_entry(value, path)
        if network is None:
            key = canonical.lower().rstrip(".")
            if key in names:
                raise ValidationError(path, f"'{value}' is already listed at {_item(option, names[key])}; list each name or address once")
            names[key] = index
        else:
            cidrs.append((index, canonical, network, excluded))
        result.append(canonical)
    _check_cidr_set(cidrs, option)
    return result


# The console's rule for service host names, applied after dropping one trailing dot. Its last
# character class is written [a-z-Az0-9] upstream, which allows a-z, '-', 'A', 'z' and 0-9.
_SERVICE_HOST_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9.-]+[a-z0-9Az-]\Z")


def validate_hostname(value, option):
    """Check one entry of a service's ``hosts`` and return it unchanged.

    After dropping one trailing dot the name must be at least three characters long, start with
    a letter or digit, continue with letters, digits, '-' or '.', and end with a lower-case
    letter, a digit or '-' (the console also lets a final 'A' through).
    """
    _require_str(value, option, "host name")
    name = value[:-1] if value[-1:] == "." else value
    if len(name) < 3:
        raise ValidationError(option, f"'{value}' is not a valid host name: it must be at least 3 characters long")
    if not _SERVICE_HOST_RE.match(name):
        raise ValidationError(
            option,
            f"'{value}' is not a valid host name: use letters, digits, '-' and '.', start with a letter or digit and end with a lower-case letter or a digit",
        )
    return value


def validate_port(value, option, allow_zero=False):
    """Check a TCP/UDP port number and return it as an int.

    The value may be an int or a string of decimal digits; it must be between 1 and 65535, or
    between 0 and 65535 with ``allow_zero``.
    """
    low = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValidationError(option, f"{value!r} is not a valid port: a whole number between {low} and 65535 is expected")
    if isinstance(value, str):
        if not _digits(value.strip()):
            raise ValidationError(option, f"'{value}' is not a valid port: a whole number between {low} and 65535 is expected")
        value = int(value.strip())
    if value < low or value > 65535:
        raise ValidationError(option, f"port {value} is out of range: it must be between {low} and 65535")
    return value
