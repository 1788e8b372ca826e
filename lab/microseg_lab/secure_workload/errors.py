"""Secure Workload error answers.

The public sources do not show the server's error envelope. They do show that a scope delete
refused because of dependents answers 422 with a ``details`` key, and a client that looks for the
text ``error:cannot delete scope because it is in use`` in the decoded body (what Go prints for a
JSON object ``{"error": "...", "details": ...}``). The lab therefore answers every error as
``{"error": "<message>"}``, with ``details`` where dependents are listed.
"""

from __future__ import annotations


class SwError(Exception):
    """Raised anywhere while handling a request; rendered as ``{"error": message[, "details"]}``."""

    def __init__(self, status: int, message: str, details: list | None = None, headers: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details
        self.headers = headers or []

    def payload(self) -> dict:
        body = {"error": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


def bad_request(message: str) -> SwError:
    return SwError(400, message)


def invalid(message: str) -> SwError:
    """A body that is well-formed JSON but does not describe a valid object (lab choice: 422)."""
    return SwError(422, message)


def not_found(what: str, ident: str) -> SwError:
    return SwError(404, "%s %s not found" % (what, ident))


def in_use(what: str, details: list) -> SwError:
    return SwError(422, "cannot delete %s because it is in use" % what, details)
