"""NSX error bodies.

Every error answers ``{"httpStatus", "error_code", "module_name", "error_message"}`` (plus
``related_errors`` when several problems were found), the shape real NSX managers send; the one
exception is the bad-credentials answer, which has no ``httpStatus`` (as recorded from a manager).

Error codes the reference documents: 600 (object not found), 206 (stale ``_revision``, 412),
403 (bad credentials), 98 (bad XSRF token), 500012 (invalid policy path). The others are lab
choices, named here once.
"""

from __future__ import annotations

import http

COMMON = "common-services"
FIREWALL = "firewall"
GROUPING = "grouping-objects"
POLICY = "Policy"

NOT_FOUND = 600
STALE_REVISION = 206
BAD_CREDENTIALS = 403
BAD_XSRF = 98
INVALID_PATH = 500012
# Lab choices (codes the reference does not give).
FIELD_VALIDATION = 255
BAD_REQUEST = 254
NOT_ALLOWED = 253
IN_USE = 500030
SECTION_NOT_EMPTY = 10047
DEFAULT_PROTECTED = 10048
TOO_MANY_REQUESTS = 102
SERVICE_UNAVAILABLE = 503
SERVER_ERROR = 99999

CREDENTIALS_MESSAGE = "The credentials were incorrect or the account specified has been locked."


def status_name(status: int) -> str:
    try:
        return http.HTTPStatus(status).name
    except ValueError:
        return "ERROR"


class NsxError(Exception):
    """Raised anywhere while handling a request; rendered as an NSX error body."""

    def __init__(self, status: int, code: int, message: str, module: str = COMMON, related: list[dict] | None = None,
                 headers: list[tuple[str, str]] | None = None, with_status: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.module = module
        self.related = related or []
        self.headers = headers or []
        self.with_status = with_status

    def payload(self) -> dict:
        body = {}
        if self.with_status:
            body["httpStatus"] = status_name(self.status)
        body.update({"error_code": self.code, "module_name": self.module, "error_message": self.message})
        if self.related:
            body["related_errors"] = self.related
        return body


def bad_request(message: str, module: str = COMMON, code: int = BAD_REQUEST) -> NsxError:
    return NsxError(400, code, message, module)


def field_errors(messages: list[str], module: str = COMMON) -> NsxError:
    """400 for body validation: one message listing every problem, and each one in related_errors."""
    related = [{"module_name": module, "error_code": FIELD_VALIDATION, "error_message": m} for m in messages] if len(messages) > 1 else None
    return NsxError(400, FIELD_VALIDATION, "Field level validation errors: {%s}" % ", ".join(messages), module, related)


def not_found(what: str) -> NsxError:
    return NsxError(404, NOT_FOUND, "The requested object : %s could not be found. Object identifiers are case sensitive." % what)


def stale(kind: str, ident: str, missing: bool = False) -> NsxError:
    if missing:
        message = "The object %s/%s cannot be updated without its current _revision. Read it again and retry." % (kind, ident)
    else:
        message = "The object %s/%s was modified by somebody else. Read it again and retry the operation." % (kind, ident)
    return NsxError(412, STALE_REVISION, message)


def invalid_path(path: str) -> NsxError:
    return NsxError(400, INVALID_PATH, "The path=[%s] is invalid" % path, POLICY)


def credentials() -> NsxError:
    return NsxError(403, BAD_CREDENTIALS, CREDENTIALS_MESSAGE, with_status=False)


def bad_xsrf() -> NsxError:
    return NsxError(403, BAD_XSRF, "The request was refused: a session request needs the X-XSRF-TOKEN header of its session.")
