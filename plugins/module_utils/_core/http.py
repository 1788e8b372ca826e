# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Product-neutral HTTP client for the collection's REST modules, and the connection contract.

One ``requests`` session per module run, timeouts on every call, TLS verification
on by default, bounded exponential backoff with jitter that honours ``Retry-After``,
and a write-retry policy decided by the caller (a write is retried only when a retry
cannot create a duplicate).

The contract every product connection keeps (:class:`Connection`): ``request()`` returns the
decoded body of a 2xx answer and raises :class:`ApiError` otherwise; ``send()`` takes the same
arguments and returns the whole :class:`Response` (``status``, ``data``, ``headers``) for the
few callers that need headers (paging totals, a login's token). Logins go through the same
client, so they have its retries and TLS settings.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import email.utils
import errno
import json
import os
import random
import socket
import ssl
import threading
import time
import traceback

try:
    import requests
    from requests.adapters import HTTPAdapter

    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.microseg.segmentation.plugins.module_utils._core.errors import MicrosegError


RETRY_STATUSES = frozenset((429, 502, 503, 504))
READ_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))
MASK = "********"
# An endpoint that has not answered once during a task (a wrong address or port, a console that is down)
# is retried this many times only, after FIRST_CONTACT_DELAY seconds each, so that the task fails in a
# second or two instead of after the whole backoff. Once it has answered, a refused connection is a
# server restarting, and has every retry. A TCP connection is given at most CONNECT_TIMEOUT seconds.
FIRST_CONTACT_RETRIES = 2
FIRST_CONTACT_DELAY = 0.5
CONNECT_TIMEOUT = 5
_UNREACHABLE_ERRNOS = frozenset((errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL))


# (name, importable, import traceback) of the library every REST module needs; see _core/runner.py
REQUESTS = ("requests", HAS_REQUESTS, REQUESTS_IMPORT_ERROR)


class ApiError(MicrosegError):
    """An API call failed: carries the status, the request and the server's message."""

    def __init__(self, message, status=None, method=None, url=None, response=None, request_body=None, retryable=False,
                 retry_after=None):
        super(ApiError, self).__init__(message)
        self.message = message
        self.status = status
        self.method = method
        self.url = url
        self.response = response
        self.request_body = request_body
        # True for a failure that a retry may overcome (the server was unreachable, dropped the
        # connection, or answered 429/502/503/504); ``retry_after`` is the server's Retry-After, in seconds
        self.retryable = retryable
        self.retry_after = retry_after

    def __str__(self):
        return self.message

    def to_result(self):
        """The keys a module adds to ``fail_json`` for this error."""
        result = {"msg": self.message}
        if self.status is not None:
            result["status"] = self.status
        if self.method:
            result["request"] = {"method": self.method, "url": self.url}
            if self.request_body is not None:
                result["request"]["body"] = self.request_body
        if self.response is not None:
            result["response"] = self.response
        return result


def redact(value, secrets):
    """Return ``value`` with every secret string replaced by a mask, recursively."""
    secrets = [s for s in secrets if s]
    if not secrets:
        return value
    if isinstance(value, dict):
        return dict((k, redact(v, secrets)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [redact(v, secrets) for v in value]
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, MASK)
    return value


def _chain(exc):
    """``exc`` and every exception linked to it (its arguments, ``reason``, cause and context), once each:
    requests wraps urllib3's errors, which wrap the socket's."""
    seen = set()
    todo = [exc]
    while todo:
        error = todo.pop()
        if id(error) in seen:
            continue
        seen.add(id(error))
        yield error
        linked = list(getattr(error, "args", ())) + [getattr(error, "reason", None), error.__cause__, error.__context__]
        todo.extend(e for e in linked if isinstance(e, BaseException))


def _certificate_rejected(exc):
    """Is this TLS error a verification failure (a wrong CA, a wrong host name), which no retry
    can overcome, rather than a connection cut during the handshake (a server restarting)?"""
    if any(isinstance(error, ssl.SSLCertVerificationError) for error in _chain(exc)):
        return True
    text = str(exc)
    return "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text or "doesn't match" in text


def check_ca_path(ca_path, option="ca_path"):
    """Fail naming the option when a CA bundle is missing or unreadable (requests would raise a bare OSError later)."""
    if not ca_path:
        return
    if not os.path.exists(ca_path):
        raise ApiError("%s: '%s' does not exist" % (option, ca_path))
    if not os.access(ca_path, os.R_OK):
        raise ApiError("%s: '%s' cannot be read" % (option, ca_path))


def _unreachable_reason(exc):
    """Why a connection could not be set up at all (refused, no route, an unknown host name, no answer
    to the connection attempt), or None for a failure after it was set up (a dropped connection, a
    read timeout)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "no answer to the connection attempt within %d s" % CONNECT_TIMEOUT
    if isinstance(exc, requests.exceptions.Timeout):
        return None
    for cause in _chain(exc):
        if isinstance(cause, socket.gaierror):
            return "the host name does not resolve (%s)" % (cause.strerror or cause)
        if isinstance(cause, OSError) and cause.errno in _UNREACHABLE_ERRNOS:
            return os.strerror(cause.errno).lower()
    return None


def _retry_after_seconds(header_value):
    if not header_value:
        return None
    header_value = header_value.strip()
    if header_value.isdigit():
        return float(header_value)
    try:
        parsed = email.utils.parsedate_to_datetime(header_value)
    except (TypeError, ValueError):
        return None
    if parsed is None:
        return None
    return max(0.0, parsed.timestamp() - time.time())


class Response:
    """A 2xx answer: ``status`` (int), ``data`` (the decoded JSON body, the text when it is not
    JSON, None when empty) and ``headers`` (case-insensitive mapping)."""

    __slots__ = ("status", "data", "headers")

    def __init__(self, status, data, headers):
        self.status = status
        self.data = data
        self.headers = headers

    def __repr__(self):
        return "Response(%r, %r)" % (self.status, self.data)


class HttpClient:
    """A small JSON-over-HTTPS client with retries and request accounting."""

    def __init__(self, base_url, headers=None, validate_certs=True, ca_path=None, timeout=30,
                 retries=5, backoff=0.5, max_backoff=20.0, max_retry_time=120.0, client_cert=None,
                 secrets=(), pool_size=32, error_parser=None, sleep=time.sleep, signer=None, rate_limit=None):
        if not HAS_REQUESTS:
            raise ApiError("the python 'requests' library is required")
        if validate_certs:
            check_ca_path(ca_path)
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        # None (an option left unset) is the default; a negative count means no retry
        self.retries = 5 if retries is None else max(0, retries)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_time = max_retry_time
        self.secrets = list(secrets)
        self.error_parser = error_parser
        self.sleep = sleep
        # signer(prepared_request) adds authentication headers computed from the exact request
        # (method, path and query, body); it runs again for every attempt.
        self.signer = signer
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=max(pool_size, 2))
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers.update({"Accept": "application/json", "Content-Type": "application/json"})
        self.session.headers.update(headers or {})
        # What requests would take from the environment for each request (HTTPS_PROXY and NO_PROXY,
        # a CA bundle from REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE) is read once here, for this endpoint:
        # reading it costs about a millisecond a request (two walks of the environment), a second
        # and more over a few thousand writes. A .netrc file is never read: credentials are options.
        # Passed on every request, the CA asked for (ca_path) wins over the environment's bundle.
        self.session.trust_env = False
        self.proxies = requests.utils.get_environ_proxies(self.base_url + "/")
        self.verify = ca_path if (validate_certs and ca_path) else bool(validate_certs)
        if self.verify is True:
            self.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        if client_cert:
            self.session.cert = client_cert
        self._lock = threading.Lock()
        # at most ``rate_limit`` requests start per second (None: no limit): each request takes the
        # next free slot, so that the concurrent writes of a list form stay under a product's limit
        self.rate_limit = rate_limit
        self._next_slot = 0.0
        self.stats = {"reads": 0, "writes": 0, "retries": 0}
        # True once the endpoint has answered (any status): a refused connection after that is a restart
        self.answered = False

    def add_secret(self, secret):
        if secret:
            self.secrets.append(secret)

    def set_header(self, name, value):
        self.session.headers[name] = value

    def _count(self, key):
        with self._lock:
            self.stats[key] += 1

    def _pace(self):
        """Wait for this request's slot when the client has a rate limit."""
        if not self.rate_limit:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + 1.0 / self.rate_limit
        if slot > now:
            self.sleep(slot - now)

    def _delay(self, attempt, retry_after):
        if retry_after is not None:
            return min(retry_after, self.max_backoff)
        base = min(self.max_backoff, self.backoff * (2 ** attempt))
        return base * (0.5 + random.random() / 2)

    def request(self, method, path, params=None, body=None, headers=None, retry_write=False, form=None, cert=None):
        """Send one request; return its :class:`Response` (ApiError unless the status is 2xx).

        ``body`` is sent as JSON, ``form`` (a dict) as ``application/x-www-form-urlencoded``
        (a login form: its values stay out of every error). ``cert`` is a client certificate
        for this request only (``(cert_path, key_path)``).
        Reads are always retried on connection errors (TLS connections cut during the handshake
        included, as when the server restarts) and on 429/502/503/504.
        Writes are retried only when ``retry_write`` is true (the caller knows a
        replay cannot create a duplicate); a create that has no such guarantee goes through
        :meth:`Connection.create_once`. An error a retry may overcome says so (``retryable``).
        """
        method = method.upper()
        url = self.base_url + path
        retryable = method in READ_METHODS or retry_write
        payload = None if body is None else json.dumps(body)
        if form is not None:
            payload = form
            headers = dict(headers or {}, **{"Content-Type": "application/x-www-form-urlencoded"})
        cert = cert or self.session.cert
        started = time.time()
        attempt = 0
        while True:
            self._pace()
            self._count("reads" if method in READ_METHODS else "writes")
            try:
                prepared = self.session.prepare_request(requests.Request(method, url, params=params, data=payload, headers=headers))
                if self.signer is not None:
                    self.signer(prepared)
                resp = self.session.send(prepared, timeout=(min(self.timeout, CONNECT_TIMEOUT), self.timeout), proxies=self.proxies,
                                         verify=self.verify, cert=cert, stream=False)
            except requests.exceptions.SSLError as exc:
                if _certificate_rejected(exc):
                    raise ApiError(redact("TLS error talking to %s: %s" % (url, exc), self.secrets), method=method, url=url) from exc
                # a TLS connection cut before it was set up (EOF in the handshake while the server restarts)
                if retryable and self._may_retry(attempt, started):
                    self.sleep(self._delay(attempt, None))
                    attempt += 1
                    self._count("retries")
                    continue
                raise ApiError(redact("TLS error talking to %s: %s" % (url, exc), self.secrets), method=method, url=url,
                               retryable=True) from exc
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                unreachable = None if self.answered else _unreachable_reason(exc)
                if unreachable is None and retryable and self._may_retry(attempt, started):
                    self.sleep(self._delay(attempt, None))
                    attempt += 1
                    self._count("retries")
                    continue
                if unreachable is not None and attempt < min(self.retries, FIRST_CONTACT_RETRIES):
                    self.sleep(FIRST_CONTACT_DELAY)
                    attempt += 1
                    self._count("retries")
                    continue
                if unreachable is not None:
                    message = "cannot reach %s: %s (%d attempt%s in %.1f s, no answer from %s during this task)" % (
                        url, unreachable, attempt + 1, "s" if attempt else "", time.time() - started, self.base_url)
                else:
                    message = "cannot reach %s: %s" % (url, exc)
                raise ApiError(redact(message, self.secrets), method=method, url=url, retryable=True) from exc
            self.answered = True
            if resp.status_code in RETRY_STATUSES and retryable and self._may_retry(attempt, started):
                self.sleep(self._delay(attempt, _retry_after_seconds(resp.headers.get("Retry-After"))))
                attempt += 1
                self._count("retries")
                continue
            data = self._decode(resp)
            if not 200 <= resp.status_code < 300:
                raise self._error(resp, data, method, url, body)
            return Response(resp.status_code, data, resp.headers)

    def _may_retry(self, attempt, started):
        return attempt < self.retries and (time.time() - started) < self.max_retry_time

    def backoff_after(self, exc, attempt, started):
        """Before retry ``attempt`` of a call that failed with ``exc``: False when no retry is
        left (or the error cannot be retried), else sleep as :meth:`request` does and return True."""
        if not getattr(exc, "retryable", False) or not self._may_retry(attempt, started):
            return False
        self.sleep(self._delay(attempt, getattr(exc, "retry_after", None)))
        self._count("retries")
        return True

    @staticmethod
    def _decode(resp):
        if not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            return resp.text

    def _error(self, resp, data, method, url, body):
        detail = None
        if self.error_parser is not None:
            detail = self.error_parser(data)
        if not detail:
            detail = data if isinstance(data, str) else json.dumps(data) if data is not None else resp.reason
        message = "%s %s failed with status %s: %s" % (method, url, resp.status_code, detail)
        return ApiError(
            redact(message, self.secrets),
            status=resp.status_code,
            method=method,
            url=url,
            response=redact(data, self.secrets),
            request_body=redact(body, self.secrets),
            retryable=resp.status_code in RETRY_STATUSES,
            retry_after=_retry_after_seconds(resp.headers.get("Retry-After")) if resp.status_code in RETRY_STATUSES else None,
        )


class Connection:
    """The base of every product connection: one :class:`HttpClient` (``self.client``), set up by
    the product's ``__init__`` (which logs in through ``self.client`` when the product needs it).

    A product overrides ``send()`` to add what its API needs on every request (a header, a path
    prefix, which writes are safe to retry) and keeps its signature; everything else is shared.
    """

    client = None

    def send(self, method, path, **kwargs):
        """One request; the whole :class:`Response`."""
        return self.client.request(method, path, **kwargs)

    def request(self, method, path, **kwargs):
        """One request; the decoded body of the answer."""
        return self.send(method, path, **kwargs).data

    def create_once(self, method, path, lookup, **kwargs):
        """A create the API has no idempotency mechanism for (a Secure Workload or NSX Manager POST).

        It is sent once per attempt. After a failure a retry may overcome (the connection dropped,
        TLS cut, 429/502/503/504), ``lookup()`` re-reads the object by name: when it finds it, the
        create was applied before the answer was lost and the object found is returned (a
        change, not a failure); otherwise the create is sent again, with the client's backoff and
        bounds. So a create is never sent twice for an object that exists.
        """
        kwargs.pop("retry_write", None)
        started = time.time()
        attempt = 0
        while True:
            try:
                return self.request(method, path, retry_write=False, **kwargs)
            except ApiError as exc:
                if not exc.retryable or not self.client._may_retry(attempt, started):
                    raise
                found = lookup()
                if found is not None:
                    return found
                if not self.client.backoff_after(exc, attempt, started):
                    raise
                attempt += 1

    def get(self, path, **kwargs):
        """One object, or None when the API answers 404."""
        try:
            return self.request("GET", path, **kwargs)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def close(self):
        """Log out where the product has a session, and release the connections."""
        if self.client is not None:
            self.client.session.close()
