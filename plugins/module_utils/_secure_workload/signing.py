# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cisco Secure Workload request signing (HMAC-SHA256 over method, path, checksum, content type
and timestamp), as the product's own API clients do it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import hmac
import time

CHECKSUM_METHODS = ("POST", "PUT", "DELETE")


def timestamp(now=None):
    """The ``Timestamp`` header: UTC, with a literal ``+0000``."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(now))


def checksum(method, body):
    """``X-Tetration-Cksum``: hex SHA-256 of the body, for a non-empty body of POST, PUT or DELETE; else empty."""
    if not body or method.upper() not in CHECKSUM_METHODS:
        return ""
    if isinstance(body, str):
        body = body.encode("utf-8")
    return hashlib.sha256(body).hexdigest()


def string_to_sign(method, path_url, body_checksum, content_type, stamp):
    return "%s\n%s\n%s\n%s\n%s\n" % (method.upper(), path_url, body_checksum, content_type or "", stamp)


def signature(secret, method, path_url, body_checksum, content_type, stamp):
    """The ``Authorization`` value: base64 of HMAC-SHA256 keyed with the API secret's bytes."""
    digest = hmac.new(secret.encode("ascii"), string_to_sign(method, path_url, body_checksum, content_type, stamp).encode("utf-8"),
                      hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


class Signer:
    """Signs a request in place: the HTTP client's signer hook, given its method, path_url, body and headers."""

    def __init__(self, api_key, api_secret, clock=time.time):
        self.api_key = api_key
        self.api_secret = api_secret
        self.clock = clock

    def __call__(self, prepared):
        stamp = timestamp(self.clock())
        content_type = prepared.headers.get("Content-Type", "application/json")
        prepared.headers["Content-Type"] = content_type
        body_checksum = checksum(prepared.method, prepared.body)
        if body_checksum:
            prepared.headers["X-Tetration-Cksum"] = body_checksum
        prepared.headers["Timestamp"] = stamp
        prepared.headers["Id"] = self.api_key
        prepared.headers["Authorization"] = signature(self.api_secret, prepared.method, prepared.path_url, body_checksum, content_type, stamp)
