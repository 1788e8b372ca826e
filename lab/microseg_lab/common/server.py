"""HTTPS server shared by every product emulator.

One ``LabHTTPServer`` serves one product on one loopback port. It speaks HTTP/1.1 with keep-alive
over TLS (handshake done in the worker thread), answers the product-neutral admin routes under
``/_lab`` (never counted, no auth), counts every other request per route, waits the configured
latency, applies the fault rules, then hands the request to the product.
"""

from __future__ import annotations

import email.parser
import email.utils
import http
import http.client
import json
import logging
import re
import socket
import ssl
import threading
import time
import traceback
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from .counters import Counters
from .faults import FaultRuleError, Faults

JSON_TYPE = "application/json; charset=UTF-8"
MAX_BODY = 64 * 1024 * 1024
MAX_LATENCY = 10.0


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes
    client_cert: dict | None = None
    client_address: str = ""
    # lower-cased name -> values in order, built from ``headers`` on first use (see header_index)
    index: dict[str, list[str]] | None = field(default=None, repr=False, compare=False)

    def header(self, name: str, default: str | None = None) -> str | None:
        """The first value of header ``name`` (any case), as ``Message.get`` answers it."""
        if self.index is None:
            self.index = header_index(self.headers)
        values = self.index.get(name.lower())
        return values[0] if values else default

    def header_values(self, name: str) -> list[str]:
        """Every value of header ``name`` in the order sent, as ``Message.get_all`` answers them."""
        if self.index is None:
            self.index = header_index(self.headers)
        return list(self.index.get(name.lower(), ()))


def header_index(headers: Message) -> dict[str, list[str]]:
    """Lower-cased header name -> its values in order (the values ``Message.get``/``get_all`` answer)."""
    index: dict[str, list[str]] = {}
    for name, value in headers.items():
        index.setdefault(name.lower(), []).append(value)
    return index


# The limits of http.client's header reading (a longer line is LineTooLong, more lines HTTPException).
MAX_HEADER_LINE = 65536
MAX_HEADERS = 100
# A header block the email parser reads without any special case: lines of a name (visible ASCII
# characters other than ':', so no leading space: not a continuation, not a "From " envelope line),
# ':', then printable ASCII or tabs, each ended by CRLF or LF; then the blank line. Any other block
# (continuation lines, lines without a name, control or non-ASCII characters, a block cut by the end
# of the stream) goes to the email parser as the standard library sends it.
_PLAIN_BLOCK = re.compile(r"(?:[!-9;-~]+:[ -~\t]*\r?\n)*\r?\n")
_PLAIN_LINE = re.compile(r"([!-9;-~]+):[ \t]*([ -~\t]*)\r?\n")


def read_headers(rfile, message_class=http.client.HTTPMessage) -> tuple[Message, dict[str, list[str]]]:
    """The header block of a request as ``http.client.parse_headers`` reads it (same limits, same
    errors, same message), and its ``header_index``.

    A plain block (nearly every request) is put into the message directly: the name and the value
    of each line as the email parser splits them (the value without the spaces and tabs after the
    colon nor the line end). Any other block goes through the email parser, so that malformed
    requests are read exactly as before.
    """
    block = _buffered_block(rfile)
    if block is None:
        lines = []
        while True:
            line = rfile.readline(MAX_HEADER_LINE + 1)
            if len(line) > MAX_HEADER_LINE:
                raise http.client.LineTooLong("header line")
            lines.append(line)
            if len(lines) > MAX_HEADERS:
                raise http.client.HTTPException("got more than %d headers" % MAX_HEADERS)
            if line in (b"\r\n", b"\n", b""):
                break
        block = b"".join(lines)
    text = block.decode("iso-8859-1")
    if _PLAIN_BLOCK.fullmatch(text) is None:
        message = email.parser.Parser(_class=message_class).parsestr(text)
        return message, header_index(message)
    # the message the email parser makes of these lines: each (name, value) stored with set_raw, as it does
    message = message_class()
    index: dict[str, list[str]] = {}
    for name, value in _PLAIN_LINE.findall(text):
        message.set_raw(name, value)
        key = name.lower()
        if key in index:
            index[key].append(value)
        else:
            index[key] = [value]
    message.set_payload("")
    return message, index


def _buffered_block(rfile) -> bytes | None:
    """The whole header block when the reader already holds it (consumed), else None (nothing consumed).

    Reading it at once consumes exactly the bytes the line-by-line loop of read_headers would: the
    lines up to the first empty one. A block the loop would refuse (too long, too many lines) is
    left to the loop, which raises its errors.
    """
    peek = getattr(rfile, "peek", None)
    if peek is None:
        return None
    buffered = peek(MAX_HEADER_LINE)
    if buffered[:1] == b"\n" or buffered[:2] == b"\r\n":
        end = 1 if buffered[:1] == b"\n" else 2
    else:
        ends = [found + size for found, size in ((buffered.find(b"\n\r\n"), 3), (buffered.find(b"\n\n"), 2)) if found >= 0]
        if not ends:
            return None
        end = min(ends)
    if end > MAX_HEADER_LINE or buffered.count(b"\n", 0, end) > MAX_HEADERS:
        return None
    return rfile.read(end)


# json.dumps(value, separators=(",", ":")) without building an encoder for each call
compact_json = json.JSONEncoder(separators=(",", ":")).encode


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def json(cls, status: int, payload, headers: list[tuple[str, str]] | None = None) -> Response:
        return cls.json_body(status, compact_json(payload).encode(), headers)

    @classmethod
    def json_body(cls, status: int, body: bytes, headers: list[tuple[str, str]] | None = None) -> Response:
        """A JSON answer whose body is already serialized (``body``: what ``json.dumps`` writes, encoded)."""
        return cls(status, body, [("Content-Type", JSON_TYPE)] + list(headers or []))


class Product:
    """What a product emulator provides to the server. Subclasses override ``handle``."""

    name = "product"

    base_url = ""

    def start(self, base_url: str, ca) -> None:
        """Called once the server listens and ``base_url`` is known (``ca`` is the lab CA)."""
        self.base_url = base_url

    def handle(self, request: Request) -> Response:  # pragma: no cover - abstract
        raise NotImplementedError

    def reset(self) -> None:
        """Back to the startup state (objects, caches)."""

    def close(self) -> None:
        """Flush and release resources at shutdown."""

    def canonical_path(self, path: str) -> str:
        """The path without product-specific decorations (used for fault matching)."""
        return path

    def route_key(self, method: str, path: str) -> str:
        """The counter key for a path, identifiers replaced by ``:id``."""
        return generic_route_key(path)

    def error_response(self, status: int, retry_after: float | None = None) -> Response:
        """The body a product answers with when a fault rule injects ``status``."""
        try:
            phrase = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        headers = []
        if retry_after is not None:
            headers.append(("Retry-After", format_seconds(retry_after)))
        return Response.json(status, {"error": phrase}, headers)

    def describe(self) -> dict:
        """The product's section of lab.json."""
        return {}

    def env(self) -> dict[str, str]:
        """The product's lines of lab.env."""
        return {}


def format_seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def looks_like_id(segment: str) -> bool:
    if segment.isdigit():
        return True
    stripped = segment.replace("-", "")
    if len(stripped) >= 16 and all(c in "0123456789abcdefABCDEF" for c in stripped):
        return True
    return False


def generic_route_key(path: str) -> str:
    return "/".join(":id" if looks_like_id(s) else s for s in path.split("/")) or "/"


def parse_latency(value) -> float:
    """The seconds of a latency setting: a number from 0 to ``MAX_LATENCY`` (``ValueError`` otherwise)."""
    # NaN fails the range check too; a float or an int of any size compares without overflowing
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= MAX_LATENCY:
        raise ValueError("seconds must be a number from 0 to %s, got %s" % (format_seconds(MAX_LATENCY), json.dumps(value)[:40]))
    return float(value)


class Latency:
    """A fixed delay added to every product request, as a round trip across a WAN would.

    Each request waits in its own handler thread, so concurrent requests overlap their delays. A
    request waits until ``seconds`` have passed since it started waiting, measured against the
    current setting: lowering the setting releases the requests that have waited long enough.
    ``waiting`` counts the requests inside their delay right now.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.seconds = 0.0
        self.waiting = 0

    def snapshot(self) -> dict:
        with self._changed:
            return {"seconds": self.seconds, "waiting": self.waiting}

    def set(self, seconds: float) -> None:
        with self._changed:
            self.seconds = parse_latency(seconds)
            self._changed.notify_all()

    def wait(self) -> None:
        if not self.seconds:
            return
        started = time.monotonic()
        with self._changed:
            self.waiting += 1
            try:
                while True:
                    remaining = started + self.seconds - time.monotonic()
                    if remaining <= 0:
                        return
                    self._changed.wait(remaining)
            finally:
                self.waiting -= 1


class LabHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address, product: Product, ssl_context: ssl.SSLContext | None, logger: logging.Logger):
        self.product = product
        self.ssl_context = ssl_context
        self.logger = logger
        self.counters = Counters()
        self.faults = Faults()
        self.latency = Latency()
        super().__init__(address, LabRequestHandler)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def get_request(self):
        sock, addr = self.socket.accept()
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        if self.ssl_context is not None:
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        self.logger.debug("connection error from %s: %s", client_address, traceback.format_exc(limit=2))

    # ---------------------------------------------------------------- admin routes

    def admin(self, request: Request) -> Response:
        """The product-neutral admin routes.

        ``POST /_lab/reset`` brings back the product's objects, zeroes the counters and clears the
        faults, but keeps the latency (``/_lab/latency``): it is a property of the simulated network,
        set once for a whole benchmark run, not state of a test.
        """
        method, path = request.method, request.path.rstrip("/")
        try:
            if path == "/_lab/counters" and method == "GET":
                return Response.json(200, self.counters.snapshot())
            if path == "/_lab/counters/reset" and method == "POST":
                self.counters.reset()
                return Response.json(200, self.counters.snapshot())
            if path == "/_lab/faults":
                if method == "GET":
                    return Response.json(200, {"rules": self.faults.snapshot()})
                if method == "PUT":
                    payload = json.loads(request.body or b"{}")
                    if not isinstance(payload, dict):
                        raise FaultRuleError("body must be an object with a rules list")
                    self.faults.set_rules(payload.get("rules", []))
                    return Response.json(200, {"rules": self.faults.snapshot()})
                if method == "DELETE":
                    self.faults.clear()
                    return Response.json(200, {"rules": []})
            if path == "/_lab/latency":
                if method == "GET":
                    return Response.json(200, self.latency.snapshot())
                if method == "PUT":
                    try:
                        payload = json.loads(request.body or b"null")
                    except ValueError:
                        payload = None
                    if not isinstance(payload, dict) or set(payload) != {"seconds"}:
                        raise ValueError('body must be {"seconds": N}, N a number from 0 to %s' % format_seconds(MAX_LATENCY))
                    self.latency.set(payload["seconds"])
                    return Response.json(200, self.latency.snapshot())
            if path == "/_lab/reset" and method == "POST":
                self.product.reset()
                self.counters.reset()
                self.faults.clear()
                return Response.json(200, {"reset": True})
            if path in ("/_lab", "/_lab/health") and method == "GET":
                return Response.json(200, {"product": self.product.name, "status": "ok"})
        except (ValueError, FaultRuleError) as exc:
            return Response.json(400, {"error": str(exc)})
        return Response.json(404, {"error": "unknown lab admin route %s %s" % (method, request.path)})


class _Drop(Exception):
    pass


def _first(index: dict[str, list[str]], name: str) -> str | None:
    values = index.get(name)
    return values[0] if values else None


_PHRASES = {status.value: status.phrase for status in http.HTTPStatus}
# (second, Date header of that second): the date only changes once a second, so it is formatted once.
_DATE = [(-1, "")]


def _http_date() -> str:
    """``BaseHTTPRequestHandler.date_time_string()`` for now."""
    now = time.time()
    cached = _DATE[0]
    if cached[0] != int(now):
        cached = _DATE[0] = (int(now), email.utils.formatdate(now, usegmt=True))
    return cached[1]


def _http_version(text: str) -> tuple[int, int] | None:
    """(major, minor) of an ``HTTP/x.y`` protocol word; None when the standard library answers it 400."""
    if not text.startswith("HTTP/"):
        return None
    parts = text.split("/", 1)[1].split(".")
    if len(parts) != 2 or not all(p.isdigit() and len(p) <= 10 for p in parts):
        return None
    try:
        return int(parts[0]), int(parts[1])
    except ValueError:  # a digit int() does not read, such as a superscript
        return None


class LabRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "microseg-lab"
    sys_version = ""
    timeout = 300
    server: LabHTTPServer
    # the header_index of the request being handled (set with ``headers`` by parse_request)
    header_index: dict[str, list[str]]

    def setup(self):
        conn = self.request
        if isinstance(conn, ssl.SSLSocket):
            conn.settimeout(30)
            conn.do_handshake()
        super().setup()

    # Silence the default stderr access log; _handle logs itself.
    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        self.server.logger.debug("%s - %s", self.address_string(), format % args)

    def log_request(self, code="-", size="-"):
        pass

    def parse_request(self):
        """``BaseHTTPRequestHandler.parse_request`` with the header block read by ``read_headers``.

        The request line is checked as the standard library checks it (same answers to a bad
        version, an HTTP/0.9 request or a malformed line), then the header block is read by
        ``read_headers`` (the email parser only for blocks that need it), then ``Connection`` and
        ``Expect: 100-continue`` are honoured. tests/lab/test_lab_http_parsing.py holds the two
        side by side on well-formed and malformed requests.
        """
        self.command = None
        self.request_version = version = self.default_request_version
        self.close_connection = True
        requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        self.requestline = requestline
        words = requestline.split()
        if not words:
            return False
        if len(words) >= 3:
            version = words[-1]
            number = _http_version(version)
            if number is None:
                self.send_error(http.HTTPStatus.BAD_REQUEST, "Bad request version (%r)" % version)
                return False
            if number >= (1, 1) and self.protocol_version >= "HTTP/1.1":
                self.close_connection = False
            if number >= (2, 0):
                self.send_error(http.HTTPStatus.HTTP_VERSION_NOT_SUPPORTED, "Invalid HTTP version (%s)" % version.split("/", 1)[1])
                return False
            self.request_version = version
        if len(words) > 3 or len(words) < 2:
            self.send_error(http.HTTPStatus.BAD_REQUEST, "Bad request syntax (%r)" % requestline)
            return False
        command, path = words[0], words[1]
        if len(words) == 2:
            self.close_connection = True
            if command != "GET":
                self.send_error(http.HTTPStatus.BAD_REQUEST, "Bad HTTP/0.9 request type (%r)" % command)
                return False
        if path.startswith("//"):
            # as the standard library does (gh-87389): "//host/x" must not read as a host
            path = "/" + path.lstrip("/")
        self.command, self.path = command, path
        try:
            self.headers, self.header_index = read_headers(self.rfile, self.MessageClass)
        except http.client.LineTooLong as err:
            self.send_error(http.HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Line too long", str(err))
            return False
        except http.client.HTTPException as err:
            self.send_error(http.HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Too many headers", str(err))
            return False
        connection = (_first(self.header_index, "connection") or "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive" and self.protocol_version >= "HTTP/1.1":
            self.close_connection = False
        if ((_first(self.header_index, "expect") or "").lower() == "100-continue" and self.protocol_version >= "HTTP/1.1"
                and self.request_version >= "HTTP/1.1"):
            if not self.handle_expect_100():
                return False
        return True

    def do_GET(self):
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def _peer_cert(self) -> dict | None:
        conn = self.request
        if isinstance(conn, ssl.SSLSocket):
            try:
                cert = conn.getpeercert()
            except (ValueError, ssl.SSLError):
                return None
            return cert or None
        return None

    def _read_body(self, index: dict[str, list[str]]) -> bytes:
        """The request body (``index``: the request's ``header_index``)."""
        if "chunked" in (_first(index, "transfer-encoding") or "").lower():
            chunks = []
            total = 0
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        length = int(_first(index, "content-length") or 0)
        if length < 0 or length > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(length) if length else b""

    def _handle(self):
        started = time.monotonic()
        srv = self.server
        product = srv.product
        split = urlsplit(self.path)
        path = split.path or "/"
        admin = path == "/_lab" or path.startswith("/_lab/")
        index = self.header_index
        try:
            body = self._read_body(index)
        except ValueError:
            self.close_connection = True
            if not admin:
                srv.latency.wait()
            self._send(Response.json(400, {"error": "unreadable request body"}))
            return
        request = Request(
            method=self.command,
            path=path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers=self.headers,
            body=body,
            client_cert=self._peer_cert(),
            client_address=self.client_address[0] if self.client_address else "",
            index=index,
        )
        note = ""
        try:
            if admin:
                response = srv.admin(request)
                note = " admin"
            else:
                srv.counters.record(request.method, product.route_key(request.method, path))
                # the round trip: counted on arrival, then the latency, then faults (whose delay adds) and the product
                srv.latency.wait()
                rule = srv.faults.take(request.method, path, product.canonical_path(path))
                response = None
                if rule is not None:
                    note = " fault"
                    if rule.delay:
                        time.sleep(rule.delay)
                    if rule.drop and rule.after_handling:
                        # The request takes effect, then the answer is lost: what a client
                        # sees when a connection breaks after the server committed a write.
                        product.handle(request)
                        raise _Drop()
                    if rule.drop:
                        raise _Drop()
                    if rule.status is not None:
                        response = product.error_response(rule.status, rule.retry_after)
                if response is None:
                    response = product.handle(request)
        except _Drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            srv.logger.info("%s %s -> dropped (fault) %.1fms", request.method, path, (time.monotonic() - started) * 1000)
            return
        except Exception:  # noqa: BLE001 - any product bug becomes a 500, the server keeps running
            srv.logger.error("unhandled error on %s %s\n%s", request.method, path, traceback.format_exc())
            response = product.error_response(500)
        self._send(response)
        srv.logger.info(
            "%s %s -> %d%s %.1fms", request.method, path, response.status, note, (time.monotonic() - started) * 1000
        )

    def _send(self, response: Response) -> None:
        status = response.status
        lines = ["%s %d %s" % (self.protocol_version, status, _PHRASES.get(status, ""))]
        lines.append("Date: %s" % _http_date())
        lines.append("Server: %s" % self.server_version)
        for name, value in response.headers:
            lines.append("%s: %s" % (name, value))
        body = response.body
        if status not in (204, 304):
            lines.append("Content-Length: %d" % len(body))
        else:
            body = b""
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        payload = head if self.command == "HEAD" else head + body
        self.wfile.write(payload)


def serve_in_thread(server: LabHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    return thread
