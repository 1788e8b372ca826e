"""The filter (query) language of scopes, inventory filters and clusters.

Primitive filters are ``{"type": OP, "field": COLUMN, "value": V}`` with OP one of ``eq, ne, lt,
lte, gt, gte, regex, subnet, contains, range``; ``in`` carries ``"values": [...]`` instead of
``value``. Logical filters are ``{"type": "and"|"or", "filters": [...]}`` and ``{"type": "not",
"filter": {...}}``. The Terraform provider also names ``ranges``, ``all`` and ``none``; their
shapes are not public, so the lab accepts ``ranges`` with ``values`` (a list) and ``all``/``none``
without operands.

``validate`` raises ``QueryError`` naming the first problem and where it is
(``query.filters[1].value: ...``). ``matches`` evaluates a valid filter against one inventory item
(a flat dict of columns), for the lab's inventory search.
"""

from __future__ import annotations

import ipaddress
import re

COMPARISONS = frozenset({"eq", "ne", "lt", "lte", "gt", "gte"})
PRIMITIVES = COMPARISONS | {"regex", "subnet", "contains", "range"}
LOGICAL = frozenset({"and", "or"})
ALL_TYPES = PRIMITIVES | LOGICAL | {"not", "in", "ranges", "all", "none"}
SCALARS = (str, int, float, bool)
MAX_DEPTH = 32


class QueryError(ValueError):
    pass


def _scalar(value) -> bool:
    return isinstance(value, SCALARS)


def _fail(where: str, message: str) -> QueryError:
    return QueryError("%s: %s" % (where, message))


def validate(query, where: str = "query", depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise _fail(where, "filters are nested more than %d levels deep" % MAX_DEPTH)
    if not isinstance(query, dict):
        raise _fail(where, "a filter must be a JSON object with a type")
    kind = query.get("type")
    if not isinstance(kind, str) or not kind:
        raise _fail(where, "the filter type is missing")
    if kind not in ALL_TYPES:
        raise _fail(where, "unknown filter type %r (expected one of %s)" % (kind, ", ".join(sorted(ALL_TYPES))))
    if kind in LOGICAL:
        filters = query.get("filters")
        if not isinstance(filters, list) or not filters:
            raise _fail(where, "an %r filter needs a non-empty filters list" % kind)
        for index, item in enumerate(filters):
            validate(item, "%s.filters[%d]" % (where, index), depth + 1)
        _unexpected(query, where, {"type", "filters"})
        return
    if kind == "not":
        if "filter" not in query:
            raise _fail(where, "a 'not' filter needs a filter object")
        validate(query["filter"], where + ".filter", depth + 1)
        _unexpected(query, where, {"type", "filter"})
        return
    if kind in ("all", "none"):
        _unexpected(query, where, {"type", "field"})
        return
    field = query.get("field")
    if not isinstance(field, str) or not field.strip():
        raise _fail(where, "a %r filter needs a field (the column name)" % kind)
    if kind in ("in", "ranges"):
        values = query.get("values")
        if not isinstance(values, list) or not values:
            raise _fail(where, "an %r filter needs a non-empty values list" % kind)
        for index, value in enumerate(values):
            if kind == "in" and not _scalar(value):
                raise _fail("%s.values[%d]" % (where, index), "must be a string, number or boolean")
            if kind == "ranges":
                _range_value(value, "%s.values[%d]" % (where, index))
        _unexpected(query, where, {"type", "field", "values"})
        return
    if "value" not in query or query["value"] is None:
        raise _fail(where, "a %r filter needs a value" % kind)
    value = query["value"]
    if kind == "range":
        _range_value(value, where + ".value")
    elif not _scalar(value):
        raise _fail(where + ".value", "must be a string, number or boolean")
    elif kind == "subnet":
        try:
            ipaddress.ip_network(str(value), strict=False)
        except ValueError:
            raise _fail(where + ".value", "%r is not a subnet (address/prefix)" % value) from None
    elif kind == "regex":
        try:
            re.compile(str(value))
        except re.error as exc:
            raise _fail(where + ".value", "%r is not a valid regular expression (%s)" % (value, exc)) from None
    elif kind == "contains" and not isinstance(value, str):
        raise _fail(where + ".value", "a 'contains' value must be a string")
    _unexpected(query, where, {"type", "field", "value"})


def _range_value(value, where: str) -> None:
    """A range is ``[low, high]`` or ``"low-high"`` (the public sources do not show its shape)."""
    if isinstance(value, list) and len(value) == 2 and all(_scalar(v) and not isinstance(v, bool) for v in value):
        return
    if isinstance(value, str) and "-" in value.strip("-"):
        return
    raise _fail(where, "a range is [low, high] or \"low-high\"")


def _unexpected(query: dict, where: str, allowed: set) -> None:
    extra = sorted(set(query) - allowed)
    if extra:
        raise _fail(where, "unexpected key(s) %s for a %r filter" % (", ".join(extra), query["type"]))


def conjunction(*queries) -> dict:
    """``and`` of the given filters (nested ``and``s of the first ones flattened), as the scope tree composes them."""
    filters: list = []
    for index, query in enumerate(queries):
        if query is None:
            continue
        if index < len(queries) - 1 and isinstance(query, dict) and query.get("type") == "and":
            filters.extend(query.get("filters") or [])
        else:
            filters.append(query)
    if len(filters) == 1:
        return filters[0]
    return {"type": "and", "filters": filters}


# ---------------------------------------------------------------- evaluation


def _number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _address(value):
    try:
        return ipaddress.ip_address(str(value))
    except ValueError:
        return None


def _compare(op: str, actual, expected) -> bool:
    left, right = _number(actual), _number(expected)
    if left is None or right is None:
        left_ip, right_ip = _address(actual), _address(expected)
        if left_ip is not None and right_ip is not None and left_ip.version == right_ip.version:
            left, right = int(left_ip), int(right_ip)
        else:
            left, right = str(actual), str(expected)
    if op == "lt":
        return left < right
    if op == "lte":
        return left <= right
    if op == "gt":
        return left > right
    return left >= right


def _equal(actual, expected) -> bool:
    if actual is None:
        return False
    if isinstance(actual, bool) or isinstance(expected, bool):
        return str(actual).lower() == str(expected).lower()
    left, right = _number(actual), _number(expected)
    if left is not None and right is not None:
        return left == right
    return str(actual) == str(expected)


def _in_range(actual, value) -> bool:
    if isinstance(value, str):
        low, _sep, high = value.strip().partition("-")
    else:
        low, high = value
    try:
        return not _compare("lt", actual, low) and not _compare("gt", actual, high)
    except TypeError:
        return False


def matches(query: dict, item: dict) -> bool:
    kind = query["type"]
    if kind == "and":
        return all(matches(f, item) for f in query["filters"])
    if kind == "or":
        return any(matches(f, item) for f in query["filters"])
    if kind == "not":
        return not matches(query["filter"], item)
    if kind == "all":
        return True
    if kind == "none":
        return False
    actual = item.get(query["field"])
    if kind == "ne":
        return actual is None or not _equal(actual, query["value"])
    if actual is None:
        return False
    if kind == "eq":
        return _equal(actual, query["value"])
    if kind == "in":
        return any(_equal(actual, value) for value in query["values"])
    if kind in COMPARISONS:
        try:
            return _compare(kind, actual, query["value"])
        except TypeError:
            return False
    if kind == "contains":
        return str(query["value"]).lower() in str(actual).lower()
    if kind == "regex":
        return re.search(str(query["value"]), str(actual)) is not None
    if kind == "subnet":
        address = _address(actual)
        network = ipaddress.ip_network(str(query["value"]), strict=False)
        return address is not None and address.version == network.version and address in network
    if kind == "range":
        return _in_range(actual, query["value"])
    if kind == "ranges":
        return any(_in_range(actual, value) for value in query["values"])
    return False  # pragma: no cover - validate() refuses other types
