"""Flow logs (``POST /flowreports``) and the stats queries that read them back (``POST /statsqueries``).

Flows are not objects: they have no GET, no update and no delete. The lab keeps them in memory per
namespace (and in SQLite with ``--sqlite``, as documents of kind ``flowreport``), each with its
time as epoch seconds so that a time window costs one comparison per flow.

A stats query on the ``Flows`` measurement is answered like an InfluxDB query: ``fields`` are the
columns (attribute names, or aggregates such as ``sum(value)``), ``groups`` the attributes whose
values make one series each, ``filter`` (the ``q`` language) selects flows, the time window comes
from the query parameters, ``limit``/``offset`` page through the points of the answer. One pass
over the visible flows, so the cost is linear in their number.

Recordings (``labctl.py start --prisma-flows FILE``, the admin route ``/_lab/prisma/flows``) may
give a flow's ``timestamp`` relative to the moment they are loaded (``"-36h"``), so a recorded week
is always the last week.
"""

from __future__ import annotations

import datetime
import functools
import json
import math
import operator
import re
import threading
import time
from collections.abc import Callable, Iterable

from ..common.persistence import SqlitePersistence
from . import codec, qfilter, schema
from .errors import ApiError, bad_request, error, validation
from .store import is_descendant, new_ids

KIND = "flowreport"
MEASUREMENT = "Flows"
FLOWS_ENV = "MICROSEG_LAB_PRISMA_FLOWS"

_ATTRS = schema.FLOWREPORT.attrs
_REQUIRED = tuple(name for name, attr in _ATTRS.items() if attr.required)
_ENUMS = tuple((name, attr.choices) for name, attr in _ATTRS.items() if attr.choices)
_DEFAULTS = {name: attr.default for name, attr in _ATTRS.items() if attr.default is not None}
_ZEROS = {name: attr.zero() for name, attr in _ATTRS.items()}
# The Python type of each attribute's JSON value (the timestamp is decoded apart).
_PYTHON_TYPES = {name: {"string": str, "enum": str, "integer": int, "boolean": bool}[attr.type]
                 for name, attr in _ATTRS.items() if attr.type != "time"}
_NUMERIC = frozenset(name for name, attr in _ATTRS.items() if attr.type == "integer")
# Attributes that cannot make a series: the measured value and the time (and the report's own ID).
_NOT_GROUPABLE = frozenset({"value", "timestamp", "ID"})
_EPOCH_TEXT = "1970-01-01T00:00:00Z"


# ------------------------------------------------------------------ durations and instants

_RELATIVE = re.compile(r"^[-+]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|\u00b5s|ms|s|m|h|d|w))+$")
_RELATIVE_PART = re.compile(r"([0-9]*\.?[0-9]*)(ns|us|\u00b5s|ms|s|m|h|d|w)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


@functools.lru_cache(maxsize=4096)
def parse_duration(text: str) -> float | None:
    """A Go duration (``168h``, ``30m``, ``-1h30m``) or one using days and weeks (``7d``, ``1w``), in seconds; None if invalid."""
    text = text.strip()
    if text in ("0", "+0", "-0"):
        return 0.0
    if not _RELATIVE.match(text):
        return None
    sign = -1.0 if text.startswith("-") else 1.0
    return sign * sum(float(number) * _UNIT_SECONDS[unit] for number, unit in _RELATIVE_PART.findall(text.lstrip("+-")))


_LOOSE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d")


def parse_instant(text: str) -> float | None:
    """RFC 3339 (``2024-05-01T10:00:00Z``) or the spec's example form (``2018/04/08 10:42``, UTC): epoch seconds, or None."""
    text = text.strip()
    try:
        parsed = codec.parse_time(text)
        return None if parsed is None else parsed.timestamp()
    except ValueError:
        pass
    for fmt in _LOOSE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).replace(tzinfo=datetime.timezone.utc).timestamp()
        except ValueError:
            continue
    return None


def epoch_text(epoch: float) -> str:
    """RFC 3339 in UTC to the millisecond, trailing zeros of the fraction trimmed (as codec.format_time writes times)."""
    seconds, millis = divmod(math.floor(epoch * 1000), 1000)
    text = "%04d-%02d-%02dT%02d:%02d:%02d" % time.gmtime(seconds)[:6]
    if millis:
        text += (".%03d" % millis).rstrip("0")
    return text + "Z"


# ------------------------------------------------------------------ decoding and validation of one flow


def decode(payload, now: float, relative_time: bool = False) -> tuple[float, dict]:
    """Decode and validate one flow report: (epoch seconds, flow with its non-zero attributes, no ID yet).

    Raises ApiError as the API answers (400 for a badly typed value, 422 for a validation error).
    With ``relative_time`` a ``timestamp`` such as ``"-36h"`` is taken from ``now``. Without a
    timestamp the flow is dated ``now``. Written for speed (a recording may hold 100,000 flows):
    the common JSON types are checked inline, codec.decode_value only sees the others.
    """
    if type(payload) is not dict:  # pylint: disable=unidiomatic-typecheck  # bool is no int here
        raise bad_request("unable to decode application/json: a flow report must be a JSON object", "bahamut")
    flow = {}
    epoch = None
    for key, value in payload.items():
        expected = _PYTHON_TYPES.get(key)
        if expected is None:
            if key == "timestamp" and value is not None:
                epoch = _decode_timestamp(value, now, relative_time)
            continue  # unknown keys are ignored, as the console's decoder does
        if type(value) is not expected:  # pylint: disable=unidiomatic-typecheck  # bool is no int here
            if value is None:
                continue
            value = codec.decode_value(KIND, _ATTRS[key], value)  # a 400 unless it is a number the integer can take
        if value or key in _DEFAULTS:  # an empty enum with a default fails its check, as it does in the console
            flow[key] = value
    missing = [name for name in _REQUIRED if name not in flow]
    if missing:
        raise ApiError([validation(name, "Attribute '%s' is required" % name) for name in missing])
    namespace = flow["namespace"]
    if len(namespace) > 1 and namespace.endswith("/"):
        flow["namespace"] = namespace.rstrip("/") or "/"
    for name, default in _DEFAULTS.items():
        if name not in flow:
            flow[name] = default
    problems = [validation(name, "Data '%s' of attribute '%s' is not in list '[%s]'" % (flow[name], name, " ".join(choices)))
                for name, choices in _ENUMS if flow.get(name, choices[0]) not in choices]
    if problems:
        raise ApiError(problems)
    if "ID" in flow:
        raise ApiError(error(422, "Read Only Error", "Field ID is read only. You cannot set its value.", "elemental", "ID"))
    millis = math.floor((now if epoch is None else epoch) * 1000)  # the millisecond precision of the stored text
    flow["timestamp"] = epoch_text(millis / 1000)
    return millis / 1000, flow


def _decode_timestamp(value, now: float, relative_time: bool) -> float | None:
    if relative_time and isinstance(value, str):
        stripped = value.strip()
        if stripped == "now":
            return now
        offset = parse_duration(stripped)
        if offset is not None:
            return now + offset
    text = codec.decode_value(KIND, _ATTRS["timestamp"], value)  # 400 unless RFC 3339
    return None if text is None else codec.parse_time(text).timestamp()


def recording_flows(document) -> list:
    """The flows of a recording: a JSON list of flows, or an object with a ``flows`` list (other keys are notes)."""
    if isinstance(document, dict) and "flows" in document:
        document = document["flows"]
    if not isinstance(document, list):
        raise ValueError("flows must be a JSON list of flow reports, or an object with a 'flows' list")
    return document


def decode_recording(document, now: float | None = None) -> list[tuple[float, dict]]:
    """Decode every flow of a recording (relative timestamps from ``now``); ValueError naming the first bad one."""
    now = time.time() if now is None else now
    out = []
    for index, item in enumerate(recording_flows(document)):
        try:
            out.append(decode(item, now, relative_time=True))
        except ApiError as exc:
            raise ValueError("flows[%d]: %s" % (index, "; ".join(e["description"] for e in exc.errors))) from None
    return out


def load_recording(path: str, now: float | None = None) -> list[tuple[float, dict]]:
    with open(path, encoding="utf-8") as handle:
        try:
            document = json.load(handle)
        except ValueError as exc:
            raise ValueError("%s: not JSON: %s" % (path, exc)) from None
    try:
        return decode_recording(document, now)
    except ValueError as exc:
        raise ValueError("%s: %s" % (path, exc)) from None


# ------------------------------------------------------------------ the flow store


class FlowStore:
    """Flows per namespace as (epoch, flow) pairs, with SQLite write-through (documents of kind ``flowreport``)."""

    def __init__(self, persistence: SqlitePersistence | None = None) -> None:
        self.lock = threading.RLock()
        self.persistence = persistence
        self.by_ns: dict[str, list[tuple[float, dict]]] = {}

    def load(self) -> int:
        if self.persistence is None:
            return 0
        count = 0
        with self.lock:
            for _kind, _ident, _scope, flow in self.persistence.load(kinds=(KIND,)):
                epoch = codec.parse_time(flow["timestamp"]).timestamp()
                self.by_ns.setdefault(flow["namespace"], []).append((epoch, flow))
                count += 1
        return count

    def add(self, items: list[tuple[float, dict]]) -> list[dict]:
        """Give each flow (fresh from ``decode``, owned by the store from now on) an ID and store it; returns the stored flows."""
        stored = []
        with self.lock:
            for ident, item in zip(new_ids(len(items)), items, strict=True):
                flow = item[1]
                flow["ID"] = ident
                bucket = self.by_ns.get(flow["namespace"])
                if bucket is None:
                    bucket = self.by_ns[flow["namespace"]] = []
                bucket.append(item)
                stored.append(flow)
            if self.persistence is not None and stored:
                self.persistence.put_many([(KIND, f["ID"], f["namespace"], f) for f in stored])
        return stored

    def clear(self) -> None:
        with self.lock:
            self.by_ns = {}
            if self.persistence is not None:
                self.persistence.delete_kind(KIND)

    def forget(self) -> None:
        """Drop the flows from memory only (the database was wiped with everything else)."""
        with self.lock:
            self.by_ns = {}

    def counts(self) -> dict:
        with self.lock:
            namespaces = {ns: len(bucket) for ns, bucket in sorted(self.by_ns.items()) if bucket}
        return {"total": sum(namespaces.values()), "namespaces": namespaces}

    def visible(self, namespace: str) -> list[tuple[float, dict]]:
        """The flows of ``namespace`` and of the namespaces below it (a snapshot)."""
        out: list[tuple[float, dict]] = []
        with self.lock:
            for ns, bucket in self.by_ns.items():
                if ns == namespace or is_descendant(ns, namespace):
                    out.extend(bucket)
        return out


# ------------------------------------------------------------------ time window

_WINDOW_COMBINATIONS = "startRelative (with or without endRelative or endAbsolute), endRelative, or startAbsolute with endAbsolute or endRelative"


def time_window(params: dict[str, str | None], now: float) -> tuple[float, float]:
    """(start, end) in epoch seconds from the ``$timewindow`` parameters (400 when they are missing or invalid).

    Relative values are durations whose sign is ignored (``7d`` and ``-7d`` are the same). A relative
    bound counts back from now, except that it is measured from the other bound when that one is
    absolute: ``startAbsolute=T&endRelative=1h`` is the hour after T, ``startRelative=1h&endAbsolute=T``
    the hour before T. ``endRelative`` alone leaves the start open.
    """
    values = {}
    for name in ("startRelative", "endRelative"):
        text = params.get(name)
        if text is not None:
            seconds = parse_duration(text)
            if seconds is None:
                raise bad_request("Parameter `%s` must be a duration such as 168h, 7d or 30m, got '%s'" % (name, text))
            values[name] = abs(seconds)
    for name in ("startAbsolute", "endAbsolute"):
        text = params.get(name)
        if text is not None:
            instant = parse_instant(text)
            if instant is None:
                raise bad_request("Parameter `%s` must be an RFC 3339 time such as 2024-05-01T10:00:00Z, got '%s'" % (name, text))
            values[name] = instant
    start_rel, end_rel = values.get("startRelative"), values.get("endRelative")
    start_abs, end_abs = values.get("startAbsolute"), values.get("endAbsolute")
    if start_rel is None and end_rel is None and (start_abs is None or end_abs is None):
        raise bad_request("Missing time window: set %s" % _WINDOW_COMBINATIONS)
    if start_abs is not None and start_rel is not None:
        raise bad_request("Set only one of startAbsolute and startRelative")
    if end_abs is not None and end_rel is not None:
        raise bad_request("Set only one of endAbsolute and endRelative")
    if start_abs is not None:
        start = start_abs
        end = end_abs if end_abs is not None else start_abs + end_rel
    elif end_abs is not None:
        end = end_abs
        start = end_abs - start_rel
    else:
        end = now - end_rel if end_rel is not None else now
        start = now - start_rel if start_rel is not None else -math.inf
    return start, end


# ------------------------------------------------------------------ the query

_FUNCTION = re.compile(r"^([A-Za-z_]+)\s*\(\s*([A-Za-z_][A-Za-z0-9_]*|\*)\s*\)(?:\s+[Aa][Ss]\s+([A-Za-z_][A-Za-z0-9_]*))?$")
_PLAIN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\s+[Aa][Ss]\s+([A-Za-z_][A-Za-z0-9_]*))?$")
FUNCTIONS = ("count", "sum", "mean", "min", "max", "first", "last")


def _fields_error(description: str) -> ApiError:
    return ApiError(validation("fields", description))


class _Aggregate:
    """One aggregate column: a function of one attribute over the flows of a series."""

    def __init__(self, function: str, attribute: str | None, column: str) -> None:
        self.function = function
        self.attribute = attribute
        self.column = column

    def compute(self, bucket: list[tuple[float, dict]]):
        function, name = self.function, self.attribute
        if function == "count":
            # stored flows hold their non-zero attributes only: present means set
            return len(bucket) if name is None else sum(1 for item in bucket if name in item[1])
        if name == "timestamp":
            values = [item[0] for item in bucket]
        else:
            zero = _ZEROS[name]
            values = [item[1].get(name, zero) for item in bucket]
        if function == "sum":
            return sum(values)
        if function == "mean":
            return sum(values) / len(values)
        if function == "min":
            result = min(values)
        elif function == "max":
            result = max(values)
        elif function == "first":  # the earliest flow (the earlier report wins a tie)
            result = values[min(range(len(bucket)), key=lambda i: bucket[i][0])]
        else:  # last: the latest flow (the later report wins a tie)
            result = values[max(range(len(bucket)), key=lambda i: (bucket[i][0], i))]
        return epoch_text(result) if name == "timestamp" else result


class Query:
    """A validated stats query on flows: columns, aggregates, groups, filters and paging."""

    def __init__(self, body: dict, filters: list) -> None:
        self.groups = [self._group(g) for g in body["groups"]]
        self.aggregates: list[_Aggregate] = []
        self.plain: list[tuple[str, str]] = []  # (attribute, column)
        self.columns: list[str] = ["time"]
        for text in body["fields"]:
            self._field(text)
        if self.aggregates:
            loose = [name for name, dummy in self.plain if name not in self.groups]
            if loose:
                raise _fields_error("Field '%s' is neither aggregated nor one of the groups: fields of an aggregated query are "
                                    "functions such as sum(value) or attributes listed in groups" % loose[0])
        elif not self.plain:
            self.plain = [(name, name) for name in _ATTRS if name != "timestamp" and name not in self.groups]
            self.columns += [name for name, dummy in self.plain]
        self.filters = [compile_filter(node) for node in filters]
        if body["filter"].strip():
            node = qfilter.parse(body["filter"])
            qfilter.validate_regexes(node)
            self.body_filter = compile_filter(node)
        else:
            self.body_filter = None
        self.limit = body["limit"] if body["limit"] > 0 else None
        self.offset = body["offset"] if body["offset"] > 0 else 0
        self.descending = bool(body["descending"])

    @staticmethod
    def _attribute(name: str) -> str | None:
        attr = schema.FLOWREPORT.attr_ci(name)
        return attr.name if attr is not None else None

    def _group(self, text: str) -> str:
        name = self._attribute(text.strip())
        if name is None:
            raise ApiError(validation("groups", "Unknown flow attribute '%s' in groups" % text))
        if name in _NOT_GROUPABLE:
            raise ApiError(validation("groups", "Flows cannot be grouped by '%s'" % name))
        return name

    def _column(self, wanted: str) -> str:
        column, suffix = wanted, 0
        while column in self.columns:
            suffix += 1
            column = "%s_%d" % (wanted, suffix)
        self.columns.append(column)
        return column

    def _field(self, text: str) -> None:
        stripped = text.strip()
        match = _FUNCTION.match(stripped)
        if match:
            function, argument, alias = match.group(1).lower(), match.group(2), match.group(3)
            if function not in FUNCTIONS:
                raise _fields_error("Unsupported function '%s' in '%s' (supported: %s)" % (match.group(1), text, ", ".join(FUNCTIONS)))
            if argument == "*":
                if function != "count":
                    raise _fields_error("Only count accepts '*' ('%s')" % text)
                name = None
            else:
                name = self._attribute(argument)
                if name is None:
                    raise _fields_error("Unknown flow attribute '%s' in '%s'" % (argument, text))
                if function in ("sum", "mean") and name not in _NUMERIC:
                    raise _fields_error("Function %s needs a numeric attribute (%s), not '%s'" % (function, ", ".join(sorted(_NUMERIC)), name))
                if function in ("min", "max") and name not in _NUMERIC and name != "timestamp":
                    raise _fields_error("Function %s needs a numeric attribute or timestamp, not '%s'" % (function, name))
            self.aggregates.append(_Aggregate(function, name, self._column(alias or function)))
            return
        match = _PLAIN.match(stripped)
        if not match:
            raise _fields_error("Invalid field '%s': an attribute name or a function such as sum(value)" % text)
        name = self._attribute(match.group(1))
        if name is None:
            raise _fields_error("Unknown flow attribute '%s' in fields" % match.group(1))
        self.plain.append((name, self._column(match.group(2) or name)))

    # -------------------------------------------------------------- evaluation

    def matches(self, flow: dict) -> bool:
        """The body's ``filter`` and, when ``q`` parameters are given, one of them."""
        if self.body_filter is not None and not self.body_filter(flow):
            return False
        return not self.filters or any(test(flow) for test in self.filters)

    def run(self, flows: Iterable[tuple[float, dict]], start: float, end: float,
            resolve: Callable[[dict], dict] | None = None, names: frozenset | set | None = None) -> list[dict]:
        """The ``rows`` (series) of the answer, paged.

        One pass sorts the flows of the window that pass the filters into their series; the page is
        then cut, and only its series and points are computed. ``resolve`` rewrites a flow one of
        whose ``sourceID``/``destinationID`` is in ``names`` (see PrismaProduct._flow_resolver).
        """
        groups = self.groups
        single = groups[0] if len(groups) == 1 else None
        filtering = self.body_filter is not None or bool(self.filters)
        matches = self.matches
        buckets: dict = {}
        for item in flows:
            epoch = item[0]
            if epoch < start or epoch > end:
                continue
            flow = item[1]
            if names and (flow.get("sourceID") in names or flow.get("destinationID") in names):
                flow = resolve(flow)
                item = (epoch, flow)
            if filtering and not matches(flow):
                continue
            if single is not None:
                key = (flow.get(single),)
            elif groups:
                key = tuple(map(flow.get, groups))
            else:
                key = ()
            bucket = buckets.get(key)
            if bucket is None:
                buckets[key] = [item]
            else:
                bucket.append(item)
        zeros = [_ZEROS[g] for g in groups]

        def tag_texts(key: tuple) -> tuple:
            return tuple(_tag_text(z if v is None else v) for v, z in zip(key, zeros, strict=True))

        ordered = sorted(buckets.items(), key=lambda pair: tag_texts(pair[0]))
        rows = []
        if self.aggregates:
            # one point per series: the page is a slice of the series
            stop = None if self.limit is None else self.offset + self.limit
            window_start = _EPOCH_TEXT if start == -math.inf else epoch_text(max(start, 0.0))
            for key, bucket in ordered[self.offset:stop]:
                values = {name: (z if v is None else v) for name, v, z in zip(groups, key, zeros, strict=True)}
                by_column = {column: values[name] for name, column in self.plain}
                by_column.update((a.column, a.compute(bucket)) for a in self.aggregates)
                point = [window_start] + [by_column[c] for c in self.columns[1:]]
                rows.append(self._row(groups, tag_texts(key), [point]))
            return rows
        skip, room = self.offset, self.limit
        for key, bucket in ordered:
            if skip >= len(bucket):
                skip -= len(bucket)
                continue
            bucket.sort(key=_epoch_of, reverse=self.descending)  # stable: reports of one instant stay in order
            page = bucket[skip:] if room is None else bucket[skip:skip + room]
            skip = 0
            plain = [(name, _ZEROS[name]) for name, dummy in self.plain]
            points = [[flow["timestamp"]] + [flow.get(name, zero) for name, zero in plain] for _epoch, flow in page]
            rows.append(self._row(groups, tag_texts(key), points))
            if room is not None:
                room -= len(page)
                if room <= 0:
                    break
        return rows

    def _row(self, groups: list[str], texts: tuple, points: list[list]) -> dict:
        return {"name": MEASUREMENT, "tags": dict(zip(groups, texts, strict=True)), "columns": list(self.columns), "values": points}


def _epoch_of(item: tuple[float, dict]) -> float:
    return item[0]


class _View:
    """A flow as the filter language sees it: absent attributes have their zero value."""

    __slots__ = ("flow",)

    def __init__(self, flow: dict) -> None:
        self.flow = flow

    def get(self, name, default=None):
        value = self.flow.get(name)
        if value is None:
            return _ZEROS.get(name, default)
        return value


# ------------------------------------------------------------------ filters


_ORDER_OPERATORS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def compile_filter(node) -> Callable[[dict], bool]:
    """A test of stored flows equivalent to ``qfilter.evaluate`` on them (absent attributes read as their zero value).

    Comparisons of a non-time attribute with ``==``, ``!=``, ``in``, ``not in``, ``contains``,
    ``not contains``, ``<``, ``<=``, ``>`` and ``>=`` are compiled with the value already converted
    the way qfilter converts it for the attribute's type; anything else is handed to qfilter.
    """
    kind = node[0]
    if kind in ("and", "or"):
        parts = [compile_filter(child) for child in node[1]]
        if kind == "and":
            return lambda flow: all(part(flow) for part in parts)
        return lambda flow: any(part(flow) for part in parts)
    key, op, wanted = node[1:]
    attr = schema.FLOWREPORT.attr_ci(key)
    generic = op not in ("==", "!=", "in", "not in", "contains", "not contains") and op not in _ORDER_OPERATORS
    if attr is None or attr.type == "time" or generic or (op in ("==", "!=") and isinstance(wanted, list)):
        return lambda flow: qfilter.evaluate(node, schema.FLOWREPORT, _View(flow))
    name, zero = attr.name, _ZEROS[attr.name]
    if op in _ORDER_OPERATORS:
        compare, bound = _ORDER_OPERATORS[op], qfilter._coerce(zero, wanted)

        def ordered(flow: dict) -> bool:
            try:
                return compare(flow.get(name, zero), bound)
            except TypeError:
                return False

        return ordered
    # equality as qfilter._equal decides it: the value converted to the attribute's type, booleans
    # only equal to booleans, dates to nothing but times
    is_bool = isinstance(zero, bool)
    accepted = set()
    for item in wanted if isinstance(wanted, list) else [wanted]:
        if isinstance(item, (list, dict, datetime.datetime)):
            continue
        converted = qfilter._coerce(zero, item)
        if isinstance(converted, bool) == is_bool:
            accepted.add(converted)
    if op in ("==", "in", "contains"):
        return lambda flow: flow.get(name, zero) in accepted
    return lambda flow: flow.get(name, zero) not in accepted


def _tag_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
