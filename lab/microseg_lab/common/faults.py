"""Fault injection rules (``PUT /_lab/faults``).

A rule is ``{"method": "POST"|null, "path": "/prefix"|null, "status": 429|503|...|null,
"retry_after": seconds|null, "delay": seconds|null, "drop": bool, "count": N}``. It applies to
the next ``count`` requests (default 1; ``-1`` means until removed) whose method equals ``method``
(null: any) and whose path starts with ``path`` (null: any), then expires. The first matching rule
wins. ``delay`` sleeps before answering; ``drop`` closes the connection without a response;
``status`` answers with that status (and ``Retry-After`` when ``retry_after`` is set); a rule with
neither ``status`` nor ``drop`` only delays the normal answer. ``drop`` with ``"after_handling": true``
handles the request first (a write is applied) and then closes the connection without the answer.
``"every": N`` spreads a rule out: it applies to every N-th matching request only (the others pass on
to the next rules), so that a few rules with different ``every`` fault a steady share of a long run.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass


class FaultRuleError(ValueError):
    pass


@dataclass
class FaultRule:
    method: str | None = None
    path: str | None = None
    status: int | None = None
    retry_after: float | None = None
    delay: float | None = None
    drop: bool = False
    count: int = 1
    after_handling: bool = False
    every: int = 1
    seen: int = 0

    def matches(self, method: str, paths: tuple[str, ...]) -> bool:
        if self.method is not None and self.method != method:
            return False
        if self.path is not None and not any(p.startswith(self.path) for p in paths):
            return False
        return True

    def to_dict(self) -> dict:
        out = asdict(self)
        out.pop("seen")
        return out


def _number(rule: dict, key: str) -> float | None:
    value = rule.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise FaultRuleError("%s must be a non-negative number or null" % key)
    return value


def parse_rule(raw) -> FaultRule:
    if not isinstance(raw, dict):
        raise FaultRuleError("a rule must be an object")
    unknown = set(raw) - {"method", "path", "status", "retry_after", "delay", "drop", "count", "after_handling", "every"}
    if unknown:
        raise FaultRuleError("unknown rule keys: %s" % ", ".join(sorted(unknown)))
    method = raw.get("method")
    if method is not None:
        if not isinstance(method, str) or not method:
            raise FaultRuleError("method must be a string or null")
        method = method.upper()
    path = raw.get("path")
    if path is not None and (not isinstance(path, str) or not path.startswith("/")):
        raise FaultRuleError("path must start with / or be null")
    status = raw.get("status")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599):
        raise FaultRuleError("status must be an HTTP status code or null")
    drop = raw.get("drop", False)
    after_handling = raw.get("after_handling", False)
    if not isinstance(drop, bool) or not isinstance(after_handling, bool):
        raise FaultRuleError("drop and after_handling must be booleans")
    count = raw.get("count", 1)
    if count is None:
        count = 1
    if isinstance(count, bool) or not isinstance(count, int) or (count < 1 and count != -1):
        raise FaultRuleError("count must be a positive integer (or -1 for unlimited)")
    every = raw.get("every", 1)
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise FaultRuleError("every must be a positive integer")
    return FaultRule(
        method=method, path=path, status=status, retry_after=_number(raw, "retry_after"),
        delay=_number(raw, "delay"), drop=drop, count=count, after_handling=after_handling, every=every,
    )


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def set_rules(self, raw_rules) -> list[FaultRule]:
        if not isinstance(raw_rules, list):
            raise FaultRuleError("rules must be a list")
        rules = [parse_rule(r) for r in raw_rules]
        with self._lock:
            self._rules = rules
        return rules

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def snapshot(self) -> list[dict]:
        with self._lock:
            return [r.to_dict() for r in self._rules]

    def take(self, method: str, *paths: str) -> FaultRule | None:
        """Return (and consume one use of) the first rule matching this request, if any."""
        if not self._rules:  # no rule set (the usual case): nothing to match, no lock to take
            return None
        with self._lock:
            for index, rule in enumerate(self._rules):
                if rule.matches(method, paths):
                    rule.seen += 1
                    if rule.seen % rule.every:
                        continue
                    if rule.count != -1:
                        rule.count -= 1
                        if rule.count <= 0:
                            del self._rules[index]
                    return rule
        return None
