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
import functools
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
    if type(value) is list:  # pylint: disable=unidiomatic-typecheck  # what json.loads makes: checked without a generator
        for item in value:
            if type(item) is not str:  # pylint: disable=unidiomatic-typecheck
                break
        else:
            return list(value)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _type_error(owner, name, expected, value)
    return list(value)


def _decode_string(owner, attr, value):
    if not isinstance(value, str):
        raise _type_error(owner, attr.name, "string", value)
    return value


def _decode_integer(owner, attr, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _type_error(owner, attr.name, "int", value)
    if isinstance(value, float):
        if not value.is_integer():
            raise _type_error(owner, attr.name, "int", value)
        value = int(value)
    return value


def _decode_boolean(owner, attr, value):
    if not isinstance(value, bool):
        raise _type_error(owner, attr.name, "bool", value)
    return value


def _decode_time(owner, attr, value):
    if not isinstance(value, str):
        raise _type_error(owner, attr.name, "time.Time", value)
    try:
        parsed = parse_time(value)
    except ValueError:
        raise bad_request(
            'unable to decode application/json: parsing time "%s" as "2006-01-02T15:04:05Z07:00": cannot parse' % value, "bahamut"
        ) from None
    return None if parsed is None else format_time(parsed)


def _decode_list(owner, attr, value):
    return _string_list(owner, attr.name, value)


def _decode_external(owner, attr, value):
    name = attr.name
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


def _decode_ref_list(owner, attr, value):
    if not isinstance(value, list):
        raise _type_error(owner, attr.name, "[]*" + attr.subtype, value)
    sub_identity = schema.SUB_IDENTITIES[attr.subtype]
    out = []
    for item in value:
        if item is None:
            continue
        if not isinstance(item, dict):
            raise _type_error(owner, attr.name, attr.subtype, item)
        out.append(decode_sub(sub_identity, item))
    return out


def _decode_ref(owner, attr, value):
    if not isinstance(value, dict):
        raise _type_error(owner, attr.name, attr.subtype or "object", value)
    return copy.deepcopy(value)


def _decode_unknown(owner, attr, value):
    raise _type_error(owner, attr.name, attr.type, value)


_DECODERS = {
    "string": _decode_string, "enum": _decode_string, "integer": _decode_integer, "boolean": _decode_boolean,
    "time": _decode_time, "list": _decode_list, "external": _decode_external, "refList": _decode_ref_list, "ref": _decode_ref,
}


def decode_value(owner: str, attr: schema.Attr, value):
    """The value of ``attr`` a JSON ``value`` decodes to (a 400 ``ApiError`` for a value of the wrong type)."""
    return _DECODERS.get(attr.type, _decode_unknown)(owner, attr, value)


# Per-identity tables computed once (an identity's attributes never change once defined): what a fresh
# object holds, which of its values must be fresh per object, what encode walks. They replace walks of
# every attribute with a call of ``Attr.initial`` and a deep copy for each, per object and per request.
_IMMUTABLE = (str, int, float, bool, type(None))


def _fresh_factory(value):
    """A callable making an equal value that no other object shares (``list``/``dict`` for the empty ones)."""
    if isinstance(value, list) and not value:
        return list
    if isinstance(value, dict) and not value:
        return dict
    return functools.partial(copy.deepcopy, value)


# The attribute types whose JSON value decode_value answers unchanged when it has exactly this Python type.
_AS_IS = {"string": str, "enum": str, "boolean": bool, "integer": int}


class _Plan:
    __slots__ = ("template", "fresh", "sub_defaults", "sub_read_only", "steps", "as_is", "decoders")

    def __init__(self, identity: schema.Identity) -> None:
        # a fresh object: the immutable initial values copied from ``template`` (which keeps the
        # attribute order), the mutable ones made by their factory
        self.template = {}
        self.fresh = []
        for name, attr in identity.attrs.items():
            value = attr.initial()
            self.template[name] = value
            if not isinstance(value, _IMMUTABLE):
                self.fresh.append((name, _fresh_factory(value)))
        # decode: attribute -> the Python type its JSON value keeps as it is (no call of decode_value)
        self.as_is = {name: _AS_IS[attr.type] for name, attr in identity.attrs.items() if attr.type in _AS_IS}
        # decode: attribute -> (attr, its decode_value function)
        self.decoders = {name: (attr, _DECODERS.get(attr.type, _decode_unknown)) for name, attr in identity.attrs.items()}
        # decode_sub: the attributes whose zero value takes the default, and the server-computed ones
        self.sub_defaults = [(name, attr) for name, attr in identity.attrs.items() if attr.default is not None]
        self.sub_read_only = [(name, attr) for name, attr in identity.attrs.items() if attr.read_only]
        # encode: (name, attr, omit_empty, 1 for a time / 2 for a list of sub-objects / 0, sub-identity)
        self.steps = []
        for name, attr in identity.attrs.items():
            kind = 1 if attr.type == "time" else 2 if attr.type == "refList" else 0
            sub = schema.SUB_IDENTITIES[attr.subtype] if kind == 2 else None
            self.steps.append((name, attr, attr.omit_empty, kind, sub))


def _plan(identity: schema.Identity) -> _Plan:
    plan = identity.derived.get("codec")
    if plan is None:
        plan = identity.derived["codec"] = _Plan(identity)
    return plan


def new_object(identity: schema.Identity) -> dict:
    """A fresh object of ``identity``: every attribute at its initial value, no mutable value shared."""
    plan = _plan(identity)
    obj = plan.template.copy()
    for name, factory in plan.fresh:
        obj[name] = factory()
    return obj


def decode(identity: schema.Identity, payload) -> dict:
    """Decode a JSON object into a fresh object of ``identity`` (defaults for everything absent)."""
    if not isinstance(payload, dict):
        raise bad_request("unable to decode application/json: the body must be a JSON object", "bahamut")
    plan = _plan(identity)
    template = plan.template
    obj = template.copy()
    owner = identity.name
    as_is = plan.as_is
    decoders = plan.decoders
    for name, value in payload.items():
        if value is None:
            continue
        if type(value) is as_is.get(name):  # pylint: disable=unidiomatic-typecheck  # a str, bool or int attribute given as such
            obj[name] = value
            continue
        entry = decoders.get(name)
        if entry is None:
            continue
        obj[name] = entry[1](owner, entry[0], value)
    # the mutable initial values the body did not replace (a decoded value is never the template's)
    for name, factory in plan.fresh:
        if obj[name] is template[name]:
            obj[name] = factory()
    return obj


def decode_sub(identity: schema.Identity, payload: dict) -> dict:
    """Decode an embedded object; zero values get their defaults and server-computed fields are dropped."""
    obj = decode(identity, payload)
    plan = _plan(identity)
    for name, attr in plan.sub_defaults:
        if is_zero(attr, obj[name]):
            obj[name] = attr.default
    for name, attr in plan.sub_read_only:
        obj[name] = attr.zero()
    return obj


# ------------------------------------------------------------------ comparison


def is_zero(attr: schema.Attr, value) -> bool:
    """True for the zero value of a JSON type: None, false, 0, "", [] and {}."""
    if value:  # no true value is a zero value
        return False
    return value is None or isinstance(value, (bool, int, float, str, list, dict))


def values_equal(attr: schema.Attr, left, right) -> bool:
    """elemental's areFieldValuesEqual: zero equals zero, times compare to the second."""
    if is_zero(attr, left) and is_zero(attr, right):
        return True
    if attr.type == "time":
        return time_seconds(left) == time_seconds(right)
    return left == right


# ------------------------------------------------------------------ encoding


_MISSING = object()


def encode(identity: schema.Identity, obj: dict, fields: list[str] | None = None) -> dict:
    out = {}
    get = obj.get
    for name, attr, omit_empty, kind, sub_identity in _plan(identity).steps:
        if fields is not None and name not in fields:
            continue
        value = get(name, _MISSING)
        if value is _MISSING:
            value = attr.initial()
        if omit_empty or kind:
            if omit_empty and is_zero(attr, value):
                continue
            if kind == 1:
                value = value or ZERO_TIME
            elif kind == 2:
                value = [encode(sub_identity, item) for item in value]
        out[name] = value
    return out
