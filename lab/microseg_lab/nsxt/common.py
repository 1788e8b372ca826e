"""Request context, query parameters, list pages and managed-resource metadata."""

from __future__ import annotations

import json
import time
import uuid

from ..common.server import Request
from .errors import NsxError, bad_request

DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 1000
READ_ONLY_META = ("_create_time", "_create_user", "_last_modified_time", "_last_modified_user", "_protection",
                  "_system_owned", "_links", "_self", "_schema", "_revision")


def now_ms() -> int:
    return int(time.time() * 1000)


def new_uuid() -> str:
    return str(uuid.uuid4())


class Ctx:
    """One API request: the authenticated user, query parameters and the JSON body."""

    def __init__(self, request: Request, user: str) -> None:
        self.request = request
        self.user = user
        self.method = request.method
        self._body = None

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.request.query.get(name)
        return values[0] if values else default

    def bool_param(self, name: str, default: bool = False) -> bool:
        value = self.param(name)
        if value is None or value == "":
            return default
        lowered = value.lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
        raise bad_request("Invalid value '%s' for the query parameter %s: expected true or false" % (value, name))

    def int_param(self, name: str, default: int, minimum: int | None = None, maximum: int | None = None) -> int:
        value = self.param(name)
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except ValueError:
            raise bad_request("Invalid value '%s' for the query parameter %s: expected an integer" % (value, name)) from None
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise bad_request("The query parameter %s must be between %s and %s, got %d" % (name, minimum, maximum, number))
        return number

    def enum_param(self, name: str, choices, default: str | None = None) -> str | None:
        value = self.param(name)
        if value is None or value == "":
            return default
        if value not in choices:
            raise bad_request("Invalid value '%s' for the query parameter %s, allowed values are [%s]" % (value, name, ", ".join(choices)))
        return value

    def body(self) -> dict:
        """The JSON object of the request body (400 when absent or not an object)."""
        if self._body is None:
            raw = self.request.body
            if not raw or not raw.strip():
                raise bad_request("The request body is missing: this operation needs a JSON object")
            try:
                value = json.loads(raw)
            except (ValueError, UnicodeDecodeError) as exc:
                raise bad_request("The request body is not valid JSON: %s" % exc) from None
            if not isinstance(value, dict):
                raise bad_request("The request body must be a JSON object")
            self._body = value
        return self._body


def _sort_key(field: str):
    def key(obj):
        value = obj.get(field)
        if isinstance(value, bool):
            return (1, int(value), "")
        if isinstance(value, (int, float)):
            return (1, value, "")
        if isinstance(value, str):
            return (2, 0, value.lower())
        return (3, 0, "")
    return key


def page(ctx: Ctx, items: list, render=None, cap: int | None = None, extra: dict | None = None) -> dict:
    """One page of a list: ``cursor`` (an offset) only when more results follow, ``result_count`` always."""
    size = ctx.int_param("page_size", DEFAULT_PAGE_SIZE, 0, MAX_PAGE_SIZE) or DEFAULT_PAGE_SIZE
    if cap:
        size = min(size, cap)
    sort_by = ctx.param("sort_by")
    ascending = ctx.bool_param("sort_ascending", True)
    if sort_by:
        items = sorted(items, key=_sort_key(sort_by), reverse=not ascending)
    cursor = ctx.param("cursor")
    offset = 0
    if cursor:
        if not cursor.isdigit():
            raise NsxError(400, 254, "Invalid cursor '%s': use the cursor of the previous page" % cursor)
        offset = int(cursor)
    chunk = items[offset:offset + size]
    results = [render(item) for item in chunk] if render else list(chunk)
    fields = ctx.param("included_fields")
    if fields:
        wanted = {f.strip() for f in fields.split(",") if f.strip()}
        results = [{k: v for k, v in r.items() if k in wanted} if isinstance(r, dict) else r for r in results]
    out = dict(extra or {})
    out.update({"results": results, "result_count": len(items)})
    if offset + size < len(items):
        out["cursor"] = str(offset + size)
    if sort_by:
        out["sort_by"] = sort_by
        out["sort_ascending"] = ascending
    return out


def stamp_new(doc: dict, user: str, system: bool = False) -> dict:
    now = now_ms()
    doc.update({"_create_time": now, "_create_user": "system" if system else user, "_last_modified_time": now,
                "_last_modified_user": "system" if system else user, "_system_owned": system,
                "_protection": "NOT_PROTECTED", "_revision": 0})
    return doc


def stamp_update(doc: dict, old: dict, user: str, bump: bool = True) -> dict:
    """Carry the creation metadata of ``old`` into ``doc`` and mark the modification."""
    for key in ("_create_time", "_create_user", "_system_owned", "_protection"):
        doc[key] = old.get(key)
    doc["_last_modified_time"] = now_ms()
    doc["_last_modified_user"] = user
    doc["_revision"] = old.get("_revision", 0) + (1 if bump else 0)
    return doc
