"""Verification of Secure Workload request signatures.

A client signs every request with its API key (the ``Id`` header) and API secret. The string to
sign is five lines, each ending with a newline::

    <METHOD>
    <path with its query string, as sent on the request line>
    <X-Tetration-Cksum header value, or empty>
    <Content-Type header value, or empty>
    <Timestamp header value>

``Authorization`` carries the bare base64 of HMAC-SHA256 over that string, keyed with the ASCII
bytes of the secret (not hex-decoded). ``X-Tetration-Cksum`` is the lowercase hex SHA-256 of the
raw body; the official Python client sends it for a non-empty body of POST, PUT and DELETE only,
the Go client for any request with a body. ``Timestamp`` is UTC, ``%Y-%m-%dT%H:%M:%S+0000``.

What the server answers to a bad signature is not public. The lab refuses with 401 (switchable
to 403 through ``/_lab/secure_workload/auth_failure_status``) and ``{"error": "<reason>"}``.
Whether the server bounds the clock skew is not public either; the lab allows 300 seconds by
default (``/_lab/secure_workload/clock_skew``).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import time

from .errors import SwError

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
CHECKSUM_METHODS = frozenset({"POST", "PUT", "DELETE"})
DEFAULT_CLOCK_SKEW = 300
DEFAULT_FAILURE_STATUS = 401


def body_checksum(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def string_to_sign(method: str, target: str, checksum: str, content_type: str, stamp: str) -> str:
    return "%s\n%s\n%s\n%s\n%s\n" % (method.upper(), target, checksum, content_type, stamp)


def sign(secret: str, method: str, target: str, checksum: str, content_type: str, stamp: str) -> str:
    message = string_to_sign(method, target, checksum, content_type, stamp).encode("utf-8")
    return base64.b64encode(hmac.new(secret.encode("ascii"), message, hashlib.sha256).digest()).decode("ascii")


def parse_timestamp(stamp: str) -> float:
    """Seconds since the epoch of a ``Timestamp`` header (ValueError when malformed)."""
    parsed = datetime.datetime.strptime(stamp, TIMESTAMP_FORMAT)
    if parsed.tzinfo is None:  # pragma: no cover - %z always yields an aware value
        raise ValueError("no UTC offset")
    return parsed.timestamp()


class Verifier:
    """Checks the signing headers of one request against the lab's single API key."""

    def __init__(self, api_key: str, api_secret: str) -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.clock_skew = DEFAULT_CLOCK_SKEW
        self.failure_status = DEFAULT_FAILURE_STATUS
        self.clock = time.time

    def reset(self) -> None:
        self.clock_skew = DEFAULT_CLOCK_SKEW
        self.failure_status = DEFAULT_FAILURE_STATUS

    def _refuse(self, message: str) -> SwError:
        return SwError(self.failure_status, message)

    def verify(self, method: str, target: str, headers, body: bytes) -> None:
        """Raise ``SwError`` unless the request is signed with the lab key (``headers`` has ``get``)."""
        key = headers.get("Id")
        signature = headers.get("Authorization")
        stamp = headers.get("Timestamp")
        missing = [name for name, value in (("Id", key), ("Timestamp", stamp), ("Authorization", signature)) if not value]
        if missing:
            raise self._refuse("missing request signing header(s): %s" % ", ".join(missing))
        if not hmac.compare_digest(key.strip().encode(), self.api_key.encode()):
            raise self._refuse("unknown API key in the Id header")
        try:
            when = parse_timestamp(stamp)
        except ValueError:
            raise self._refuse("the Timestamp header %r is not of the form YYYY-MM-DDTHH:MM:SS+0000" % stamp) from None
        skew = abs(self.clock() - when)
        if self.clock_skew is not None and skew > self.clock_skew:
            raise self._refuse("the Timestamp %s is %d seconds away from the server clock (allowed: %s)"
                               % (stamp, skew, _seconds(self.clock_skew)))
        checksum = headers.get("X-Tetration-Cksum")
        if checksum is None:
            if body and method.upper() in CHECKSUM_METHODS:
                raise self._refuse("the X-Tetration-Cksum header (SHA-256 of the body) is required for a %s with a body" % method.upper())
            checksum = ""
        elif not hmac.compare_digest(checksum.strip().lower().encode(), body_checksum(body).encode()):
            raise self._refuse("the X-Tetration-Cksum header does not match the SHA-256 of the request body")
        content_type = headers.get("Content-Type") or ""
        expected = sign(self.api_secret, method, target, checksum, content_type, stamp)
        try:
            given = base64.b64decode(signature.strip(), validate=True)
        except (binascii.Error, ValueError):
            given = b""
        if not hmac.compare_digest(given, base64.b64decode(expected)):
            raise self._refuse("the Authorization signature does not match; the server signed %r"
                               % string_to_sign(method, target, checksum, content_type, stamp))


def _seconds(value: float) -> str:
    return "%d seconds" % value if float(value).is_integer() else "%s seconds" % value
