"""Body validation helpers shared by the Manager and Policy APIs.

A ``Checker`` collects every problem of a body (``null`` counts as absent, as NSX clients send
unset options as ``null``) and raises one 400 listing them all. Field helpers return the value to
store (the default when absent) so validation and normalisation happen in one pass.
"""

from __future__ import annotations

import ipaddress
import re

from .errors import COMMON, field_errors

TAG_MAX = 30
TAG_SCOPE_MAX = 128
TAG_VALUE_MAX = 256
DISPLAY_NAME_MAX = 255
DESCRIPTION_MAX = 1024

_MAC = re.compile(r"^[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}$")


class Checker:
    def __init__(self, module: str = COMMON) -> None:
        self.errors: list[str] = []
        self.module = module

    def err(self, message: str) -> None:
        self.errors.append(message)

    def check(self) -> None:
        if self.errors:
            raise field_errors(self.errors, self.module)

    # ------------------------------------------------------------ scalar fields

    def present(self, body: dict, key: str) -> bool:
        return body.get(key) is not None

    def string(self, body: dict, key: str, where: str = "", *, max_len: int | None = None, min_len: int = 0,
               default=None, required: bool = False):
        value = body.get(key)
        if value is None:
            if required:
                self.err("required property %s%s is missing" % (where, key))
            return default
        if not isinstance(value, str):
            self.err("property %s%s must be a string" % (where, key))
            return default
        if max_len is not None and len(value) > max_len:
            self.err("property %s%s must be at most %d characters long" % (where, key, max_len))
        if len(value) < min_len:
            self.err("property %s%s must be at least %d characters long" % (where, key, min_len))
        return value

    def boolean(self, body: dict, key: str, where: str = "", default=None, required: bool = False):
        value = body.get(key)
        if value is None:
            if required:
                self.err("required property %s%s is missing" % (where, key))
            return default
        if not isinstance(value, bool):
            self.err("property %s%s must be a boolean" % (where, key))
            return default
        return value

    def integer(self, body: dict, key: str, where: str = "", *, minimum: int | None = None, maximum: int | None = None,
                default=None, required: bool = False):
        value = body.get(key)
        if value is None:
            if required:
                self.err("required property %s%s is missing" % (where, key))
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.err("property %s%s must be an integer" % (where, key))
            return default
        if minimum is not None and value < minimum:
            self.err("property %s%s must be at least %d" % (where, key, minimum))
        if maximum is not None and value > maximum:
            self.err("property %s%s must be at most %d" % (where, key, maximum))
        return value

    def enum(self, body: dict, key: str, choices, where: str = "", default=None, required: bool = False):
        value = body.get(key)
        if value is None:
            if required:
                self.err("required property %s%s is missing" % (where, key))
            return default
        if not isinstance(value, str) or value not in choices:
            self.err("invalid value '%s' for property %s%s, allowed values are [%s]" % (value, where, key, ", ".join(choices)))
            return default
        return value

    def array(self, body: dict, key: str, where: str = "", *, max_items: int | None = None, min_items: int = 0,
              required: bool = False) -> list | None:
        """The list (items unchecked), or None when absent or not a list."""
        value = body.get(key)
        if value is None:
            if required:
                self.err("required property %s%s is missing" % (where, key))
            return None
        if not isinstance(value, list):
            self.err("property %s%s must be an array" % (where, key))
            return None
        if max_items is not None and len(value) > max_items:
            self.err("property %s%s must have at most %d items, got %d" % (where, key, max_items, len(value)))
        if len(value) < min_items:
            self.err("property %s%s must have at least %d item%s" % (where, key, min_items, "" if min_items == 1 else "s"))
        return value

    def strings(self, body: dict, key: str, where: str = "", *, max_items: int | None = None, min_items: int = 0,
                required: bool = False) -> list[str] | None:
        value = self.array(body, key, where, max_items=max_items, min_items=min_items, required=required)
        if value is None:
            return None
        if not all(isinstance(v, str) for v in value):
            self.err("property %s%s must be an array of strings" % (where, key))
            return None
        return list(value)

    def objects(self, body: dict, key: str, where: str = "", *, max_items: int | None = None, min_items: int = 0,
                required: bool = False) -> list[dict]:
        value = self.array(body, key, where, max_items=max_items, min_items=min_items, required=required)
        if value is None:
            return []
        out = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                self.err("property %s%s[%d] must be an object" % (where, key, index))
            else:
                out.append(item)
        return out

    # ------------------------------------------------------------ common blocks

    def tags(self, body: dict, where: str = "") -> list[dict] | None:
        items = self.array(body, "tags", where, max_items=TAG_MAX)
        if items is None:
            return None
        out = []
        for index, item in enumerate(items):
            here = "%stags[%d]." % (where, index)
            if not isinstance(item, dict):
                self.err("property %stags[%d] must be an object" % (where, index))
                continue
            scope = self.string(item, "scope", here, max_len=TAG_SCOPE_MAX, default="")
            tag = self.string(item, "tag", here, max_len=TAG_VALUE_MAX, default="")
            out.append({"scope": scope, "tag": tag})
        return out

    def common(self, body: dict, where: str = "") -> dict:
        """display_name, description and tags of a managed resource (absent ones are left out)."""
        out = {}
        name = self.string(body, "display_name", where, max_len=DISPLAY_NAME_MAX)
        if name is not None:
            out["display_name"] = name
        description = self.string(body, "description", where, max_len=DESCRIPTION_MAX)
        if description is not None:
            out["description"] = description
        tags = self.tags(body, where)
        if tags is not None:
            out["tags"] = tags
        return out


def revision_of(body: dict):
    """The ``_revision`` of a body: an int, None when absent, or the string "bad"."""
    value = body.get("_revision")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        return "bad"
    return value


# ---------------------------------------------------------------- addresses and ports


def ip_element(text) -> int | None:
    """The IP version (4 or 6) of an address, CIDR or range ``a-b``; None when invalid."""
    if not isinstance(text, str) or not text or text != text.strip():
        return None
    try:
        if "-" in text:
            first, last = text.split("-", 1)
            start, end = ipaddress.ip_address(first), ipaddress.ip_address(last)
            if start.version != end.version or start > end:
                return None
            return start.version
        if "/" in text:
            return ipaddress.ip_network(text, strict=False).version
        return ipaddress.ip_address(text).version
    except ValueError:
        return None


def ip_or_cidr(text) -> int | None:
    """The IP version of an address or CIDR (no range); None when invalid."""
    if isinstance(text, str) and "-" in text:
        return None
    return ip_element(text)


def single_ip(text) -> bool:
    if not isinstance(text, str):
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def mac_address(text) -> bool:
    return isinstance(text, str) and bool(_MAC.match(text))


def port_or_range(text) -> bool:
    if not isinstance(text, str) or not text:
        return False
    parts = text.split("-")
    if len(parts) > 2 or not all(p.isdigit() for p in parts):
        return False
    numbers = [int(p) for p in parts]
    if any(n > 65535 for n in numbers):
        return False
    return len(numbers) == 1 or numbers[0] <= numbers[1]


# ---------------------------------------------------------------- service elements

ALG_TYPES = ("ORACLE_TNS", "FTP", "SUN_RPC_TCP", "SUN_RPC_UDP", "MS_RPC_TCP", "MS_RPC_UDP", "NBNS_BROADCAST", "NBDG_BROADCAST", "TFTP")
SERVICE_KINDS = ("EtherType", "IPProtocol", "IGMPType", "ICMPType", "ALGType", "L4PortSet")


def service_element(chk: Checker, item: dict, where: str, suffix: str, extra_kinds: tuple[str, ...] = ()) -> dict:
    """Validate an NSServiceElement (suffix ``NSService``) or a ServiceEntry (suffix ``ServiceEntry``)."""
    kinds = tuple(k + suffix for k in SERVICE_KINDS) + extra_kinds
    kind = chk.enum(item, "resource_type", kinds, where, required=True)
    out = {k: v for k, v in item.items() if v is not None}
    if kind is None:
        return out

    def ports(key, min_items=0):
        values = chk.strings(item, key, where, max_items=15, min_items=min_items, required=min_items > 0)
        for value in values or []:
            if not port_or_range(value):
                chk.err("property %s%s: '%s' is not a port or a port range" % (where, key, value))

    if kind.startswith("L4PortSet"):
        chk.enum(item, "l4_protocol", ("TCP", "UDP"), where, required=True)
        ports("source_ports")
        ports("destination_ports")
    elif kind.startswith("ICMPType"):
        chk.enum(item, "protocol", ("ICMPv4", "ICMPv6"), where, required=True)
        chk.integer(item, "icmp_type", where, minimum=0, maximum=255)
        chk.integer(item, "icmp_code", where, minimum=0, maximum=255)
    elif kind.startswith("IPProtocol"):
        chk.integer(item, "protocol_number", where, minimum=0, maximum=255, required=True)
    elif kind.startswith("ALGType"):
        chk.enum(item, "alg", ALG_TYPES, where, required=True)
        ports("destination_ports", 1)
        ports("source_ports")
    elif kind.startswith("EtherType"):
        chk.integer(item, "ether_type", where, minimum=0, required=True)
    return out
