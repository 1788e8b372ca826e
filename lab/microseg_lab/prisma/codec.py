"""JSON <-> object conversion following the console's model semantics.

A request body is decoded into a *fresh* object holding every exposed attribute at its default
(as the server decodes into ``NewXxx()``); JSON keys that are not exposed attributes are ignored,
``null`` leaves the default in place, a value of the wrong JSON type is a 400. Objects are
serialized with every exposed attribute (zero values included) except ``omit_empty`` ones.
Times are kept as RFC 3339 strings with millisecond precision.
"""

from __future__ import annotations

import copy
import datetime
import re

from . import schema
from .errors import bad_request

ZERO_TIME = "0001-01-01T00:00:00Z"
_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def parse_time(text: str) -> datetime.datetime | None:
    match = _TIME.match(text)
    if not match:
        raise ValueError(text)
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction = match.group(7) or ""
    micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
    zone = match.group(8)
    if zone in ("Z", "z"):
        tz = datetime.timezone.utc
    else:
        sign = 1 if zone[0] == "+" else -1
        tz = datetime.timezone(sign * datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    value = datetime.datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    if value.year == 1 and value.astimezone(datetime.timezone.utc) == datetime.datetime(1, 1, 1, tzinfo=datetime.timezone.utc):
        return None
    return value.astimezone(datetime.timezone.utc)


def format_time(value: datetime.datetime) -> str:
    """RFC 3339 in UTC with trailing zeros of the fraction trimmed (like Go's RFC3339Nano)."""
    value = value.astimezone(datetime.timezone.utc)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    millis = value.microsecond // 1000
    if millis:
        text += (".%03d" % millis).rstrip("0")
    return text + "Z"


def now_text() -> str:
    return format_time(datetime.datetime.now(datetime.timezone.utc))


def time_seconds(text: str | None) -> int | None:
    """Second-precision value of a stored time (None for the zero time)."""
    if text is None:
        return None
    parsed = parse_time(text)
    return None if parsed is None else int(parsed.timestamp())


# ------------------------------------------------------------------ decoding


def _type_error(owner: str, name: str, expected: str, value) -> Exception:
    kind = {dict: "object", list: "array", str: "string", bool: "bool", int: "number", float: "number"}.get(type(value), "value")
    return bad_request(
        "unable to decode application/json: json: cannot unmarshal %s into Go struct field %s.%s of type %s" % (kind, owner, name, expected),
        "bahamut",
    )


def _string_list(owner, name, value, expected="[]string"):
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _type_error(owner, name, expected, value)
    return list(value)


def decode_value(owner: str, attr: schema.Attr, value):
    name = attr.name
    kind = attr.type
    if kind in ("string", "enum"):
        if not isinstance(value, str):
            raise _type_error(owner, name, "string", value)
        return value
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _type_error(owner, name, "int", value)
        if isinstance(value, float):
            if not value.is_integer():
                raise _type_error(owner, name, "int", value)
            value = int(value)
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _type_error(owner, name, "bool", value)
        return value
    if kind == "time":
        if not isinstance(value, str):
            raise _type_error(owner, name, "time.Time", value)
        try:
            parsed = parse_time(value)
        except ValueError:
            raise bad_request(
                'unable to decode application/json: parsing time "%s" as "2006-01-02T15:04:05Z07:00": cannot parse' % value, "bahamut"
            ) from None
        return None if parsed is None else format_time(parsed)
    if kind == "list":
        return _string_list(owner, name, value)
    if kind == "external":
        sub = attr.subtype
        if sub == "[][]string":
            if not isinstance(value, list):
                raise _type_error(owner, name, "[][]string", value)
            return [[] if clause is None else _string_list(owner, name, clause, "[][]string") for clause in value]
        if sub == "map[string][]string":
            if not isinstance(value, dict):
                raise _type_error(owner, name, "map[string][]string", value)
            return {k: ([] if v is None else _string_list(owner, name, v, "map[string][]string")) for k, v in value.items()}
        if sub == "map[string]string":
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                raise _type_error(owner, name, "map[string]string", value)
            return dict(value)
        if not isinstance(value, dict):
            raise _type_error(owner, name, sub or "map", value)
        return copy.deepcopy(value)
    if kind == "refList":
        if not isinstance(value, list):
            raise _type_error(owner, name, "[]*" + attr.subtype, value)
        sub_identity = schema.SUB_IDENTITIES[attr.subtype]
        out = []
        for item in value:
            if item is None:
                continue
            if not isinstance(item, dict):
                raise _type_error(owner, name, attr.subtype, item)
            out.append(decode_sub(sub_identity, item))
        return out
    if kind == "ref":
        if not isinstance(value, dict):
            raise _type_error(owner, name, attr.subtype or "object", value)
        return copy.deepcopy(value)
    raise _type_error(owner, name, kind, value)


def new_object(identity: schema.Identity) -> dict:
    return {name: copy.deepcopy(attr.initial()) for name, attr in identity.attrs.items()}


def decode(identity: schema.Identity, payload) -> dict:
    """Decode a JSON object into a fresh object of ``identity`` (defaults for everything absent)."""
    if not isinstance(payload, dict):
        raise bad_request("unable to decode application/json: the body must be a JSON object", "bahamut")
    obj = new_object(identity)
    owner = identity.name
    for name, value in payload.items():
        attr = identity.attrs.get(name)
        if attr is None or value is None:
            continue
        obj[name] = decode_value(owner, attr, value)
    return obj


def decode_sub(identity: schema.Identity, payload: dict) -> dict:
    """Decode an embedded object; zero values get their defaults and server-computed fields are dropped."""
    obj = decode(identity, payload)
    for name, attr in identity.attrs.items():
        if attr.default is not None and is_zero(attr, obj[name]):
            obj[name] = attr.default
        if attr.read_only:
            obj[name] = attr.zero()
    return obj


# ------------------------------------------------------------------ comparison


def is_zero(attr: schema.Attr, value) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):
        return value is False
    if isinstance(value, (int, float)):
        return value == 0
    if isinstance(value, (str, list, dict)):
        return len(value) == 0
    return False


def values_equal(attr: schema.Attr, left, right) -> bool:
    """elemental's areFieldValuesEqual: zero equals zero, times compare to the second."""
    if is_zero(attr, left) and is_zero(attr, right):
        return True
    if attr.type == "time":
        return time_seconds(left) == time_seconds(right)
    return left == right


# ------------------------------------------------------------------ encoding


def encode(identity: schema.Identity, obj: dict, fields: list[str] | None = None) -> dict:
    out = {}
    for name, attr in identity.attrs.items():
        if fields is not None and name not in fields:
            continue
        value = obj.get(name, attr.initial())
        if attr.omit_empty and is_zero(attr, value):
            continue
        if attr.type == "time":
            value = value or ZERO_TIME
        elif attr.type == "refList":
            sub_identity = schema.SUB_IDENTITIES[attr.subtype]
            value = [encode(sub_identity, item) for item in value]
        out[name] = value
    return out
