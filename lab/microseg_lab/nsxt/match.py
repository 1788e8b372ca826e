"""String operators of NSGroup expressions and Policy conditions."""

from __future__ import annotations

import re

POSITIVE = {"NOTEQUALS": "EQUALS", "NOTIN": "IN"}


def op_match(op: str, actual: str, expected: str, case_insensitive: bool = False) -> bool:
    """``actual <op> expected`` for EQUALS, NOTEQUALS, CONTAINS, STARTSWITH, ENDSWITH, IN, NOTIN, MATCHES."""
    if op in POSITIVE:
        return not op_match(POSITIVE[op], actual, expected, case_insensitive)
    if op == "MATCHES":
        try:
            return re.fullmatch(expected, actual, re.IGNORECASE if case_insensitive else 0) is not None
        except re.error:
            return False
    if case_insensitive:
        actual, expected = actual.lower(), expected.lower()
    if op == "EQUALS":
        return actual == expected
    if op == "CONTAINS":
        return expected in actual
    if op == "STARTSWITH":
        return actual.startswith(expected)
    if op == "ENDSWITH":
        return actual.endswith(expected)
    if op == "IN":
        return actual in [v.strip() for v in expected.split(",")]
    return False


def tags_match(tags, scope: str | None, tag: str | None, tag_op: str = "EQUALS", scope_op: str = "EQUALS",
               case_insensitive: bool = False) -> bool:
    """True when one tag has the scope (unless None) and a value matching ``tag_op`` (unless None).

    Negative operators (NOTEQUALS, NOTIN) mean "no tag of that scope matches the positive one".
    """
    negative = tag_op in POSITIVE
    positive_op = POSITIVE.get(tag_op, tag_op)
    found = False
    for tag_scope, tag_value in tags:
        if scope is not None:
            same = (tag_scope.lower() == scope.lower()) if case_insensitive else tag_scope == scope
            if same != (scope_op == "EQUALS"):
                continue
        if tag is None or op_match(positive_op, tag_value, tag, case_insensitive):
            found = True
            break
    return not found if negative else found
