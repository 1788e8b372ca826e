"""The ``q`` filter language (a subset of elemental's), evaluated against stored objects.

Supported: ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``contains``, ``not contains``, ``in``,
``not in``, ``matches``, ``not matches``, ``exists``, ``not exists``, ``and``/``or`` (``and``
binds tighter) and parentheses. Values are ``"..."`` or ``'...'`` strings (no escapes), bare
words (``true``/``false`` are booleans, numbers are numbers), lists ``[a, "b"]``, ``date("...")``
and ``now("-1h")``. Attribute names are matched case-insensitively, as the storage keys are
lower-case. Semantics follow the storage translation: on a list attribute ``==``/``contains``/
``in`` match when any element matches; ``contains`` and ``in`` both mean "equal to one of".
"""

from __future__ import annotations

import datetime
import re

from . import codec, schema
from .validation import parse_go_duration


class FilterError(ValueError):
    pass


_OPERATORS = ("==", "!=", "<=", ">=", "<", ">")
_SPECIALS = set("()[],\"'")


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "\"'":
            end = text.find(ch, i + 1)
            if end < 0:
                raise FilterError("unterminated string starting at position %d" % i)
            tokens.append(("STR", text[i + 1:end]))
            i = end + 1
            continue
        if ch in "()[],":
            tokens.append((ch, ch))
            i += 1
            continue
        op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
        if op:
            tokens.append(("OP", op))
            i += len(op)
            continue
        start = i
        while i < n and not text[i].isspace() and text[i] not in _SPECIALS:
            if any(text.startswith(o, i) for o in ("==", "!=", "<=", ">=", "<", ">")):
                break
            i += 1
        if i == start:
            raise FilterError("invalid character %r at position %d" % (ch, i))
        tokens.append(("WORD", text[start:i]))
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.tokens = tokenize(text)
        self.pos = 0

    def peek(self, offset=0):
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else (None, None)

    def next(self):
        token = self.peek()
        self.pos += 1
        return token

    def keyword(self, offset=0) -> str | None:
        kind, value = self.peek(offset)
        return value.lower() if kind == "WORD" else None

    def parse(self):
        if not self.tokens:
            raise FilterError("empty filter")
        node = self.parse_or()
        if self.pos != len(self.tokens):
            raise FilterError("unexpected %r" % (self.peek()[1],))
        return node

    def parse_or(self):
        nodes = [self.parse_and()]
        while self.keyword() == "or":
            self.next()
            nodes.append(self.parse_and())
        return nodes[0] if len(nodes) == 1 else ("or", nodes)

    def parse_and(self):
        nodes = [self.parse_term()]
        while self.keyword() == "and":
            self.next()
            nodes.append(self.parse_term())
        return nodes[0] if len(nodes) == 1 else ("and", nodes)

    def parse_term(self):
        kind = self.peek()[0]
        if kind == "(":
            self.next()
            node = self.parse_or()
            if self.next()[0] != ")":
                raise FilterError("missing closing parenthesis")
            return node
        kind, key = self.next()
        if kind not in ("WORD", "STR"):
            raise FilterError("expected an attribute name, got %r" % (key,))
        word = self.keyword()
        kind, value = self.peek()
        if kind == "OP":
            self.next()
            return ("cmp", key, value, self.parse_value())
        if word in ("contains", "in", "matches"):
            self.next()
            return ("cmp", key, word, self.parse_value())
        if word == "exists":
            self.next()
            return ("cmp", key, "exists", None)
        if word == "not":
            nxt = self.keyword(1)
            if nxt in ("contains", "in", "matches", "exists"):
                self.next()
                self.next()
                return ("cmp", key, "not " + nxt, None if nxt == "exists" else self.parse_value())
        raise FilterError("expected an operator after %r" % (key,))

    def parse_value(self):
        kind, value = self.next()
        if kind == "STR":
            return value
        if kind == "[":
            items = []
            if self.peek()[0] == "]":
                self.next()
                return items
            while True:
                items.append(self.parse_value())
                kind, value = self.next()
                if kind == "]":
                    return items
                if kind != ",":
                    raise FilterError("expected , or ] in list")
        if kind == "WORD":
            lowered = value.lower()
            if lowered in ("date", "now") and self.peek()[0] == "(":
                self.next()
                kind, arg = self.next()
                if kind not in ("STR", "WORD") or self.next()[0] != ")":
                    raise FilterError("invalid %s() call" % lowered)
                return _function(lowered, arg)
            if lowered == "true":
                return True
            if lowered == "false":
                return False
            if re.fullmatch(r"[+-]?[0-9]+", value):
                return int(value)
            if re.fullmatch(r"[+-]?([0-9]+\.[0-9]*|\.[0-9]+)", value):
                return float(value)
            return value
        raise FilterError("expected a value, got %r" % (value,))


def _function(name: str, arg: str):
    if name == "now":
        seconds = parse_go_duration(arg)
        if seconds is None:
            raise FilterError("invalid duration %r" % arg)
        return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    for parser in (codec.parse_time, _parse_loose_date):
        try:
            value = parser(arg)
        except ValueError:
            continue
        if value is not None:
            return value
    raise FilterError("invalid date %r" % arg)


def _parse_loose_date(text: str):
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y/%m/%d %H:%M", "%Y/%m/%d"):
        try:
            return datetime.datetime.strptime(text, fmt).replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            continue
    raise ValueError(text)


def parse(text: str):
    return _Parser(text).parse()


# ------------------------------------------------------------------ evaluation


def _coerce(field_value, wanted):
    """Bring ``wanted`` to the type of ``field_value`` when it is unambiguous."""
    if isinstance(field_value, bool):
        if isinstance(wanted, str) and wanted.lower() in ("true", "false"):
            return wanted.lower() == "true"
        return wanted
    if isinstance(field_value, (int, float)) and not isinstance(field_value, bool):
        if isinstance(wanted, str):
            try:
                return float(wanted)
            except ValueError:
                return wanted
        return wanted
    if isinstance(field_value, str):
        if isinstance(wanted, bool):
            return "true" if wanted else "false"
        if isinstance(wanted, (int, float)):
            return str(wanted)
    return wanted


def _equal(field_value, wanted) -> bool:
    if isinstance(field_value, datetime.datetime) or isinstance(wanted, datetime.datetime):
        return isinstance(field_value, datetime.datetime) and isinstance(wanted, datetime.datetime) and field_value == wanted
    if isinstance(field_value, bool) != isinstance(_coerce(field_value, wanted), bool):
        return False
    return field_value == _coerce(field_value, wanted)


def _order(field_value, wanted, op: str) -> bool:
    wanted = _coerce(field_value, wanted)
    try:
        if op == "<":
            return field_value < wanted
        if op == "<=":
            return field_value <= wanted
        if op == ">":
            return field_value > wanted
        return field_value >= wanted
    except TypeError:
        return False


def _field(identity: schema.Identity, obj: dict, key: str):
    attr = identity.attr_ci(key)
    if attr is None:
        return False, None
    value = obj.get(attr.name)
    if attr.type == "time":
        value = codec.parse_time(value) if value else None
    return True, value


def _compare(identity, obj, key, op, wanted) -> bool:
    found, value = _field(identity, obj, key)
    if op == "exists":
        return found
    if op == "not exists":
        return not found
    negative = op in ("!=", "not in", "not contains", "not matches")
    if not found:
        return negative
    elements = value if isinstance(value, list) else [value]
    wanted_list = wanted if isinstance(wanted, list) else [wanted]
    if op in ("==", "!="):
        if isinstance(wanted, list):
            hit = value == wanted or any(e == wanted for e in elements)
        else:
            hit = any(_equal(e, wanted) for e in elements)
        return hit != (op == "!=")
    if op in ("in", "contains", "not in", "not contains"):
        hit = any(_equal(e, w) for e in elements for w in wanted_list)
        return hit != negative
    if op in ("matches", "not matches"):
        hit = False
        for pattern in wanted_list:
            try:
                regex = re.compile(str(pattern))
            except re.error as exc:
                raise FilterError("invalid regular expression %r: %s" % (pattern, exc)) from None
            if any(isinstance(e, str) and regex.search(e) for e in elements):
                hit = True
                break
        return hit != negative
    if op in ("<", "<=", ">", ">="):
        return any(e is not None and _order(e, wanted, op) for e in elements)
    raise FilterError("unsupported operator %r" % op)


def evaluate(node, identity: schema.Identity, obj: dict) -> bool:
    kind = node[0]
    if kind == "and":
        return all(evaluate(n, identity, obj) for n in node[1])
    if kind == "or":
        return any(evaluate(n, identity, obj) for n in node[1])
    key, op, wanted = node[1:]
    return _compare(identity, obj, key, op, wanted)


def validate_regexes(node) -> None:
    """Compile every regular expression of a parsed filter once, so bad ones fail as a 400."""
    kind = node[0]
    if kind in ("and", "or"):
        for child in node[1]:
            validate_regexes(child)
        return
    op, wanted = node[2:]
    if op in ("matches", "not matches"):
        for pattern in wanted if isinstance(wanted, list) else [wanted]:
            try:
                re.compile(str(pattern))
            except re.error as exc:
                raise FilterError("invalid regular expression %r: %s" % (pattern, exc)) from None
