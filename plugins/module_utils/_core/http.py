# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Product-neutral HTTP client for the collection's REST modules, and the connection contract.

One pool of keep-alive connections per endpoint and module run, timeouts on every call, TLS
verification on by default, bounded exponential backoff with jitter that honours ``Retry-After``,
and a write-retry policy decided by the caller (a write is retried only when a retry cannot
create a duplicate).

Requests go out through ``urllib3`` directly (it comes with ``requests``, the collection's
documented requirement). The ``requests`` session layer cost about 0.7 ms of CPU per request
(merging settings, cookie jars, hooks, building its response), more than half of what a write
costs the module: over the 2,000 writes of a list form, a second and a half. What that layer did
for these APIs is done here: JSON bodies, query strings encoded the same way, the environment's
proxy and CA bundle (read once, with ``requests``' own rules), basic authentication, and the
cookies of a session login.

The contract every product connection keeps (:class:`Connection`): ``request()`` returns the
decoded body of a 2xx answer and raises :class:`ApiError` otherwise; ``send()`` takes the same
arguments and returns the whole :class:`Response` (``status``, ``data``, ``headers``) for the
few callers that need headers (paging totals, a login's token). Logins go through the same
client, so they have its retries and TLS settings.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import email.utils
import errno
import http.client
import json
import os
import random
import socket
import ssl
import threading
import time
import traceback
import zlib

from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlencode

try:
    import urllib3
    from urllib3._collections import HTTPHeaderDict
    from urllib3.exceptions import (
        ConnectTimeoutError, HTTPError as Urllib3Error, LocationValueError, NewConnectionError, ProxySchemeUnknown, SSLError,
        URLSchemeUnknown,
    )
    from urllib3.util import parse_url
    from urllib3.util.wait import wait_for_read
    import requests.utils

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
    urllib3's errors wrap the socket's and the ssl module's."""
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
    """Fail naming the option when a CA bundle is missing or unreadable (the TLS layer would raise a bare OSError later)."""
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
    # urllib3's NewConnectionError (refused, no route, no such host) is a ConnectTimeoutError too
    if isinstance(exc, (ConnectTimeoutError, _ConnectTimeout)) and not isinstance(exc, NewConnectionError):
        return "no answer to the connection attempt within %d s" % CONNECT_TIMEOUT
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


class PreparedCall:
    """One request as it goes out: what a ``signer`` reads and completes (``method``, ``url``,
    ``path_url``: the path and query string, ``body``: bytes or None, ``headers``: case-insensitive)."""

    __slots__ = ("method", "url", "path_url", "body", "headers")

    def __init__(self, method, url, path_url, body, headers):
        self.method = method
        self.url = url
        self.path_url = path_url
        self.body = body
        self.headers = headers


def _query(params):
    """A query string as ``requests`` encodes ``params``: a list value repeats its key, a None value is left out."""
    if not params:
        return ""
    pairs = params.items() if isinstance(params, dict) else params
    return urlencode([(k, v) for k, v in pairs if v is not None], doseq=True)


def _basic_credentials(username, password):
    """The value of an ``Authorization: Basic`` header (Latin-1 as HTTP has it, UTF-8 when a character is not Latin-1)."""
    text = "%s:%s" % (username, password)
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:
        raw = text.encode("utf-8")
    return "Basic " + base64.b64encode(raw).decode("ascii")


class _ConnectTimeout(OSError):
    """No answer to a connection attempt of a direct connection within its connect timeout."""


class _DirectMixin:
    """What a direct connection adds to ``http.client``'s: the TCP connection (and the TLS handshake)
    get the short connect timeout, every later read the read timeout; no Nagle delay."""

    def __init__(self, host, port, connect_timeout, read_timeout, **kwargs):
        super(_DirectMixin, self).__init__(host, port, timeout=read_timeout, **kwargs)
        self.connect_timeout = connect_timeout

    def _tcp(self):
        try:
            sock = socket.create_connection((self.host, self.port), self.connect_timeout)
        except socket.timeout as exc:
            raise _ConnectTimeout("no answer from %s:%s within %s s" % (self.host, self.port, self.connect_timeout)) from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock


class _DirectHTTP(_DirectMixin, http.client.HTTPConnection):
    def connect(self):
        self.sock = self._tcp()
        self.sock.settimeout(self.timeout)


class _DirectHTTPS(_DirectMixin, http.client.HTTPSConnection):
    def __init__(self, host, port, connect_timeout, read_timeout, context):
        super(_DirectHTTPS, self).__init__(host, port, connect_timeout, read_timeout, context=context)
        self.tls_context = context

    def connect(self):
        sock = self._tcp()
        try:
            self.sock = self.tls_context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        self.sock.settimeout(self.timeout)


class _Answer:
    """A direct connection's answer, read whole: what :meth:`HttpClient.request` reads of urllib3's."""

    __slots__ = ("status", "reason", "headers", "data")

    def __init__(self, status, reason, headers, data):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.data = data


def _decoded(data, encoding):
    """A body as sent with ``Content-Encoding`` ``encoding`` (gzip or deflate, as the client accepts), decoded."""
    encoding = (encoding or "").strip().lower()
    if not data or encoding in ("", "identity"):
        return data
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompress(data, 16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        try:
            return zlib.decompress(data)
        except zlib.error:  # a raw deflate stream, as some servers send it
            return zlib.decompress(data, -zlib.MAX_WBITS)
    raise ValueError("it is encoded with %s, which this client did not ask for" % encoding)


class HttpClient:
    """A small JSON-over-HTTPS client with retries and request accounting.

    Without a proxy, requests go out on ``http.client`` connections kept open (one per request in
    flight, per client certificate): a direct connection costs about 60% of the CPU of urllib3's
    pool for each request, which counts when a list form writes thousands of objects. Through a
    proxy (HTTP CONNECT or SOCKS), urllib3's proxy managers carry them.
    """

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
        # signer(call) adds authentication headers computed from the exact request (a PreparedCall:
        # method, path and query, body); it runs again for every attempt.
        self.signer = signer
        self.headers = HTTPHeaderDict({
            "Accept": "application/json", "Content-Type": "application/json", "Accept-Encoding": "gzip, deflate",
            "User-Agent": "microseg.segmentation",
        })
        self.headers.update(headers or {})
        # What the environment says for this endpoint (HTTPS_PROXY and NO_PROXY, a CA bundle from
        # REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE) is read once, with the rules of ``requests``. A .netrc
        # file is never read: credentials are options. The CA asked for (ca_path) wins over the
        # environment's bundle; without either, the bundle ``requests`` uses (certifi's).
        self.proxy = requests.utils.select_proxy(self.base_url + "/", requests.utils.get_environ_proxies(self.base_url + "/"))
        # the proxy as messages name it: without the user and password its URL may carry
        self.proxy_shown = requests.utils.urldefragauth(self.proxy) if self.proxy else None
        self.verify = ca_path if (validate_certs and ca_path) else bool(validate_certs)
        if self.verify is True:
            self.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        self.client_cert = client_cert
        self.pool_size = max(pool_size, 2)
        self._timeout = urllib3.Timeout(connect=min(self.timeout, CONNECT_TIMEOUT), read=self.timeout)
        # one connection pool per client certificate presented (None: the usual one), through a proxy
        self._pools = {}
        # without a proxy: the direct connections not in use ({(base URL, cert): [connection]}), every
        # one of them (to close them all) and a TLS context per client certificate
        self._idle = {}
        self._direct = []
        self._contexts = {}
        # the cookies of a session login (name -> value), sent back on every later request
        self.cookies = {}
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
        self.headers[name] = value

    def set_basic_auth(self, username, password):
        """Send HTTP basic credentials with every request."""
        value = _basic_credentials(username, password)
        self.add_secret(value.split(" ", 1)[1])
        self.set_header("Authorization", value)

    def close(self):
        """Release every connection."""
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
            direct, self._direct = self._direct, []
            self._idle = {}
        for pool in pools:
            pool.clear()
        for conn in direct:
            conn.close()

    def _tls_context(self, cert):
        """The TLS context of the direct connections that present ``cert``: the CA bundle (or no
        verification) as the proxy managers have it."""
        context = self._contexts.get(cert)
        if context is not None:
            return context
        if self.verify is False:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        else:
            bundle = requests.utils.DEFAULT_CA_BUNDLE_PATH if self.verify is True else self.verify
            context = ssl.create_default_context(**{"capath" if os.path.isdir(bundle) else "cafile": bundle})
        if cert:
            cert_file, key_file = (cert, None) if isinstance(cert, str) else cert
            context.load_cert_chain(cert_file, key_file)
        with self._lock:
            return self._contexts.setdefault(cert, context)

    def _checkout(self, key):
        """A direct connection for ``key`` ((base URL, cert)) no other request uses: the one used
        last, unless the server closed it since; a new one when none is free."""
        with self._lock:
            idle = self._idle.get(key)
            conn = idle.pop() if idle else None
        if conn is not None:
            if conn.sock is not None and wait_for_read(conn.sock, timeout=0.0):
                conn.close()  # closed by the server while idle (or it sent what nobody asked for): reopened by the request
            return conn
        url = parse_url(key[0])
        if not url.host:
            raise LocationValueError("No host specified.")
        if (url.scheme or "http") not in ("http", "https"):
            raise URLSchemeUnknown(url.scheme)
        host = url.host[1:-1] if url.host.startswith("[") else url.host  # an IPv6 address without its brackets
        if url.scheme == "https":
            conn = _DirectHTTPS(host, url.port or 443, min(self.timeout, CONNECT_TIMEOUT), self.timeout, self._tls_context(key[1]))
        else:
            conn = _DirectHTTP(host, url.port or 80, min(self.timeout, CONNECT_TIMEOUT), self.timeout)
        with self._lock:
            self._direct.append(conn)
        return conn

    def _send_direct(self, call, cert):
        """One request on a direct connection, the answer read whole. A connection that failed is
        closed (its next request opens it again)."""
        key = (self.base_url, cert)
        conn = self._checkout(key)
        try:
            conn.request(call.method, call.path_url, body=call.body, headers=call.headers)
            resp = conn.getresponse()
            data = resp.read()
            if resp.will_close:
                conn.close()
        except BaseException:
            conn.close()
            raise
        finally:
            with self._lock:
                self._idle.setdefault(key, []).append(conn)
        try:
            data = _decoded(data, resp.msg.get("Content-Encoding"))
        except (ValueError, zlib.error) as exc:
            raise ApiError(redact("the answer to %s %s cannot be read: %s" % (call.method, call.url, exc), self.secrets),
                           status=resp.status, method=call.method, url=call.url) from exc
        headers = HTTPHeaderDict()  # the same headers as through urllib3 (case-insensitive, getlist)
        for name, value in resp.msg.items():
            headers.add(name, value)
        return _Answer(resp.status, resp.reason, headers, data)

    def _pool(self, cert):
        """The pool manager for requests that present ``cert`` (a path, or a (certificate, key) pair)."""
        pool = self._pools.get(cert)
        if pool is not None:
            return pool
        options = {"maxsize": self.pool_size, "num_pools": 2}
        if self.verify is False:
            options["cert_reqs"] = "CERT_NONE"
        else:
            bundle = requests.utils.DEFAULT_CA_BUNDLE_PATH if self.verify is True else self.verify
            options["cert_reqs"] = "CERT_REQUIRED"
            options["ca_cert_dir" if os.path.isdir(bundle) else "ca_certs"] = bundle
        if cert:
            options["cert_file"], options["key_file"] = (cert, None) if isinstance(cert, str) else cert
        if self.proxy:
            username, password = requests.utils.get_auth_from_url(self.proxy)
            if username:
                options["proxy_headers"] = {"Proxy-Authorization": _basic_credentials(username, password)}
            if self.proxy.lower().startswith("socks"):
                try:
                    from urllib3.contrib.socks import SOCKSProxyManager
                except ImportError:
                    raise ApiError("the proxy %s for %s needs the python 'PySocks' library" % (self.proxy_shown, self.base_url)) from None
                options.pop("proxy_headers", None)
                pool = SOCKSProxyManager(self.proxy, **options)
            else:
                pool = urllib3.ProxyManager(self.proxy, **options)
        else:
            pool = urllib3.PoolManager(**options)
        with self._lock:
            return self._pools.setdefault(cert, pool)

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

    def _prepare(self, method, path, params, payload, headers):
        query = _query(params)
        path_url = requests.utils.requote_uri(path)
        if query:
            path_url += ("&" if "?" in path_url else "?") + query
        if headers or self.cookies or self.signer is not None:
            merged = self.headers.copy()
            merged.update(headers or {})
            if self.cookies:
                with self._lock:
                    merged["Cookie"] = "; ".join("%s=%s" % pair for pair in self.cookies.items())
        else:
            merged = self.headers  # not changed by anyone: no copy needed
        call = PreparedCall(method, self.base_url + path_url, path_url, payload, merged)
        if self.signer is not None:
            self.signer(call)
        return call

    def _keep_cookies(self, resp):
        """Keep what a ``Set-Cookie`` answer sets (a session login's cookie); a cookie set to expire is dropped."""
        values = resp.headers.getlist("Set-Cookie")
        if not values:
            return
        with self._lock:
            for value in values:
                jar = SimpleCookie()
                try:
                    jar.load(value)
                except CookieError:
                    continue
                for name, morsel in jar.items():
                    if morsel["max-age"] in ("0", "-1") or not morsel.value:
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value

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
        A redirect is not followed: it is an answer like any other that is not 2xx.
        """
        method = method.upper()
        url = self.base_url + path
        retryable = method in READ_METHODS or retry_write
        payload = None if body is None else json.dumps(body).encode("utf-8")
        if form is not None:
            payload = urlencode(form, doseq=True).encode("utf-8")
            headers = dict(headers or {}, **{"Content-Type": "application/x-www-form-urlencoded"})
        pool = None
        if self.proxy:
            try:
                pool = self._pool(cert or self.client_cert)
            except (LocationValueError, ProxySchemeUnknown) as exc:
                raise ApiError(redact("cannot use the proxy %s for %s: %s" % (self.proxy_shown, url, exc), self.secrets),
                               method=method, url=url) from exc
        started = time.time()
        attempt = 0
        while True:
            self._pace()
            self._count("reads" if method in READ_METHODS else "writes")
            call = self._prepare(method, path, params, payload, headers)
            try:
                if pool is None:
                    resp = self._send_direct(call, cert or self.client_cert)
                else:
                    # urllib3's request(): no fields to encode, so the body and headers go out as given
                    resp = pool.request(method, call.url, body=call.body, headers=call.headers, timeout=self._timeout, retries=False,
                                        redirect=False)
            except (SSLError, ssl.SSLError) as exc:
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
            except LocationValueError as exc:
                raise ApiError(redact("invalid URL %s: %s" % (url, exc), self.secrets), method=method, url=url) from exc
            except (Urllib3Error, OSError, http.client.HTTPException) as exc:
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
            self._keep_cookies(resp)
            if resp.status in RETRY_STATUSES and retryable and self._may_retry(attempt, started):
                self.sleep(self._delay(attempt, _retry_after_seconds(resp.headers.get("Retry-After"))))
                attempt += 1
                self._count("retries")
                continue
            data = self._decode(resp)
            if not 200 <= resp.status < 300:
                raise self._error(resp, data, method, url, body)
            return Response(resp.status, data, resp.headers)

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
        """The JSON body of an answer; its text when it is not JSON; None when it is empty."""
        raw = resp.data
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode("utf-8", "replace")

    def _error(self, resp, data, method, url, body):
        detail = None
        if self.error_parser is not None:
            detail = self.error_parser(data)
        if not detail:
            detail = data if isinstance(data, str) else json.dumps(data) if data is not None else resp.reason
        message = "%s %s failed with status %s: %s" % (method, url, resp.status, detail)
        return ApiError(
            redact(message, self.secrets),
            status=resp.status,
            method=method,
            url=url,
            response=redact(data, self.secrets),
            request_body=redact(body, self.secrets),
            retryable=resp.status in RETRY_STATUSES,
            retry_after=_retry_after_seconds(resp.headers.get("Retry-After")) if resp.status in RETRY_STATUSES else None,
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
            self.client.close()
