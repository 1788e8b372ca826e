"""Request context and body field checks shared by the Secure Workload resources.

Field errors answer 422 ``{"error": "<field>: <problem>"}``: the public sources give no status for
a body that is valid JSON but not a valid object, 422 is the lab's choice (the status the API is
known to use for a refused scope delete).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..common.server import Request
from .errors import SwError, bad_request, invalid
from .query import QueryError, validate


@dataclass
class Call:
    """One routed request: the HTTP request, the path parameters and the decoded JSON body."""

    request: Request
    params: dict[str, str] = field(default_factory=dict)
    payload: object = None

    def arg(self, name: str) -> str | None:
        values = self.request.query.get(name)
        return values[0] if values else None

    def int_arg(self, name: str, minimum: int = 0) -> int | None:
        raw = self.arg(name)
        if raw is None or raw == "":
            return None
        try:
            value = int(raw)
        except ValueError:
            raise bad_request("the query parameter %s must be an integer, not %r" % (name, raw)) from None
        if value < minimum:
            raise bad_request("the query parameter %s must be at least %d" % (name, minimum))
        return value

    def body(self) -> dict:
        """The body as a JSON object (``{}`` when there is none)."""
        if self.payload is None:
            return {}
        if not isinstance(self.payload, dict):
            raise bad_request("the request body must be a JSON object")
        return self.payload


def text(body: dict, key: str, *, required: bool = False, empty: bool = False, default=None, maximum: int = 256):
    if key not in body or body[key] is None:
        if required:
            raise invalid("%s is required" % key)
        return default
    value = body[key]
    if not isinstance(value, str):
        raise invalid("%s must be a string" % key)
    if not empty and not value.strip():
        raise invalid("%s must not be empty" % key)
    if len(value) > maximum:
        raise invalid("%s is longer than %d characters" % (key, maximum))
    return value


def boolean(body: dict, key: str, default=None, *, strings: bool = False):
    """A JSON boolean (with ``strings``, also the strings "true"/"false" some clients send)."""
    if key not in body or body[key] is None:
        return default
    value = body[key]
    if isinstance(value, bool):
        return value
    if strings and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise invalid("%s must be a boolean" % key)


def integer(body: dict, key: str, default=None, *, minimum: int | None = None, maximum: int | None = None, required: bool = False):
    if key not in body or body[key] is None:
        if required:
            raise invalid("%s is required" % key)
        return default
    value = body[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid("%s must be an integer" % key)
    if minimum is not None and value < minimum:
        raise invalid("%s must be at least %d (got %d)" % (key, minimum, value))
    if maximum is not None and value > maximum:
        raise invalid("%s must be at most %d (got %d)" % (key, maximum, value))
    return value


def choice(body: dict, key: str, choices, default=None, *, required: bool = False):
    if key not in body or body[key] is None:
        if required:
            raise invalid("%s is required (one of %s)" % (key, ", ".join(choices)))
        return default
    value = body[key]
    if value not in choices:
        raise invalid("%s must be one of %s, not %r" % (key, ", ".join(choices), value))
    return value


def query(body: dict, key: str, *, required: bool = False):
    if key not in body or body[key] is None:
        if required:
            raise invalid("%s is required (a filter such as {\"type\": \"subnet\", \"field\": \"ip\", \"value\": \"10.0.0.0/8\"})" % key)
        return None
    try:
        validate(body[key], key)
    except QueryError as exc:
        raise invalid("invalid query: %s" % exc) from None
    return body[key]


def unknown_keys(body: dict, allowed, what: str) -> None:
    extra = sorted(set(body) - set(allowed))
    if extra:
        raise invalid("unknown field(s) for %s: %s" % (what, ", ".join(extra)))


def method_not_allowed(method: str, path: str, allowed: list[str]) -> SwError:
    return SwError(405, "method %s is not allowed on %s" % (method, path), headers=[("Allow", ", ".join(allowed))])
