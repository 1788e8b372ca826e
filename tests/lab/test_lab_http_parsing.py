"""The lab's request parsing (common/server.py ``parse_request`` and ``read_headers``) against the
standard library's: the same outcome for well-formed and malformed requests, over the reader kinds a
handler meets; then the running lab's answers to malformed and oversized header blocks over TLS."""

from __future__ import annotations

import email.parser
import io
import logging
import re
import socket
import ssl
import types
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

import pytest
from microseg_lab.common import server
from microseg_lab.common.server import LabRequestHandler, header_index

STUB_SERVER = types.SimpleNamespace(logger=logging.getLogger("microseg_lab.test-parsing"))
TOKEN_LIKE = "Bearer " + "a" * 36 + "." + "b" * 120 + "." + "c" * 43


def request(*header_lines: str, line: str = "POST /networkrulesetpolicies HTTP/1.1", body: bytes = b"{}", end: str = "\r\n") -> bytes:
    head = line + end + "".join(h + end for h in header_lines) + end
    return head.encode("latin-1") + body


PLAIN = [
    request("Host: 127.0.0.1:1", "Accept: application/json", "Content-Type: application/json", "Authorization: " + TOKEN_LIKE,
            "X-Namespace: /acme", "Idempotency-Key: 0d6e", "Content-Length: 2"),
    request("Host: x", line="GET /networkrulesetpolicies?page=1&pagesize=1000 HTTP/1.1", body=b""),
    request("X-A:  \t spaced value \t ", "X-Empty:", "X-Colons: a:b::c", "Content-Length: 2"),
    request("X-Fields: ID", "x-fields: name", "X-FIELDS: description", "Content-Length: 2"),
    request("Host: x", "Content-Length: 2", end="\n"),
    b"GET / HTTP/1.1\r\nHost: x\nAccept: */*\r\n\n",
    request(line="GET / HTTP/1.1", body=b""),
    request("Connection: close", line="GET / HTTP/1.1", body=b""),
    request("Connection: Keep-Alive", line="GET / HTTP/1.0", body=b""),
    request("Connection: keep-alive", line="GET / HTTP/1.1", body=b""),
    request("Expect: 100-continue", "Content-Length: 2"),
    request("Expect: 100-continue", "Content-Length: 2", line="POST / HTTP/1.0"),
    request("Host: x", line="GET //evil.example//x HTTP/1.1", body=b""),
    request(*("X-H%d: %d" % (i, i) for i in range(99)), line="GET / HTTP/1.1", body=b""),
    request("X-Long: " + "v" * 65000, line="GET / HTTP/1.1", body=b""),
]
MALFORMED = [
    request("NoColonHere", "Content-Length: 2"),
    request(": no name", "Content-Length: 2"),
    request("Content-Length: 2", " folded onto the previous line"),
    request(" continuation first", "Content-Length: 2"),
    request("From someone", "Content-Length: 2"),
    request("Content-Length: 2", "From someone", "X-After: 1"),
    request("Name : space before the colon", "Content-Length: 2"),
    request("X-Latin: caf\xe9", "Content-Length: 2"),
    request("X-Ctl: a\x01b", "Content-Length: 2"),
    request("X-Vt: a\x0bb", "X-Nel: a\x85b", "Content-Length: 2"),
    request("X-Nul: a\x00b", "Content-Length: 2"),
    request("X-Cr: a\rb", "Content-Length: 2"),
    request("X-Del: a\x7fb", "Content-Length: 2"),
    b"GET / HTTP/1.1\r\nHost: x\r\nX-Cut: no blank line",
    request(*("X-H%d: %d" % (i, i) for i in range(100)), line="GET / HTTP/1.1", body=b""),
    request("X-Long: " + "v" * 65536, line="GET / HTTP/1.1", body=b""),
    b"\r\n",
    b"GET\r\n\r\n",
    b"POST /\r\n\r\n",
    b"GET / HTTP/1.1 extra\r\n\r\n",
    b"GET / HTTP/1\r\n\r\n",
    b"GET / HTTP/1.1.1\r\n\r\n",
    b"GET / HTTP/a.b\r\n\r\n",
    b"GET / HTTP/1.\xb2\r\n\r\n",
    b"GET / HTTPS/1.1\r\n\r\n",
    b"GET / HTTP/2.0\r\n\r\n",
    b"GET / HTTP/12345678901.1\r\n\r\n",
    b"GET / HTTP/1.0\r\n\r\n",
]


def readers(raw: bytes):
    """The readers a handler may get: a socket file (buffered, the whole block in its buffer or not), a plain file."""
    return {
        "buffered": io.BufferedReader(io.BytesIO(raw)),
        "small-buffer": io.BufferedReader(io.BytesIO(raw), buffer_size=16),
        "unbuffered": io.BytesIO(raw),
    }


def message_state(message) -> dict:
    """The message's attributes, its defects by kind (defect objects compare by identity)."""
    state = dict(vars(message))
    state["defects"] = [type(defect).__name__ for defect in message.defects]
    return state


def parse(raw: bytes, reader, reference: bool) -> dict:
    """What parsing ``raw`` leaves: the result, the request attributes, the headers, what was answered and what is left to read."""
    handler = LabRequestHandler.__new__(LabRequestHandler)
    handler.server = STUB_SERVER
    handler.client_address = ("127.0.0.1", 40000)
    handler.rfile = reader
    handler.wfile = io.BytesIO()
    handler.raw_requestline = reader.readline(65537)
    result = BaseHTTPRequestHandler.parse_request(handler) if reference else handler.parse_request()
    headers = handler.__dict__.get("headers")
    out = {
        "result": result,
        "request": (handler.command, handler.__dict__.get("path"), handler.request_version, handler.close_connection, handler.requestline),
        "headers": None if headers is None else (message_state(headers), headers.items()),
        "answer": re.sub(rb"Date: [^\r]*", b"Date: -", handler.wfile.getvalue()),
        "left": reader.read(),
    }
    if headers is not None and not reference:
        assert handler.header_index == header_index(headers)
    return out


@pytest.mark.parametrize("raw", PLAIN + MALFORMED, ids=lambda raw: raw[:60].decode("latin-1"))
def test_parse_request_as_the_standard_library(raw):
    for kind in ("buffered", "small-buffer", "unbuffered"):
        expected = parse(raw, readers(raw)[kind], reference=True)
        assert parse(raw, readers(raw)[kind], reference=False) == expected, kind


def test_plain_blocks_skip_the_email_parser_and_others_use_it(monkeypatch):
    calls = []
    real = email.parser.Parser

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(server.email.parser, "Parser", counting)
    for raw in PLAIN:
        for reader in readers(raw).values():
            parse(raw, reader, reference=False)
    assert calls == []
    for raw in MALFORMED[:13]:  # the malformed header blocks (the others fail before or at the limits)
        parse(raw, io.BufferedReader(io.BytesIO(raw)), reference=False)
    assert len(calls) == 13


def test_the_limits_are_http_client_ones():
    import http.client

    assert (server.MAX_HEADER_LINE, server.MAX_HEADERS) == (http.client._MAXLINE, http.client._MAXHEADERS)  # pylint: disable=protected-access


# ---------------------------------------------------------------- the running lab, over TLS


def exchange(lab_info: dict, raw: bytes) -> bytes:
    """Send ``raw`` on a new TLS connection to the Prisma emulator and read until it closes (bounded by a timeout)."""
    url = urlsplit(lab_info["url"])
    context = ssl.create_default_context(cafile=lab_info["ca_path"])
    with socket.create_connection((url.hostname, url.port), timeout=30) as plain:
        with context.wrap_socket(plain, server_hostname=url.hostname) as conn:
            conn.sendall(raw)
            chunks = []
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
    return b"".join(chunks)


def lab_request(lab_info: dict, *extra: str, namespace_line: str | None = None) -> bytes:
    lines = ["Host: 127.0.0.1", "Authorization: Bearer " + lab_info["token"], "Connection: close",
             namespace_line or "X-Namespace: " + lab_info["namespace"], *extra]
    return request(*lines, line="GET /networkrulesetpolicies HTTP/1.1", body=b"")


def test_lab_reads_a_folded_header_line(api, lab_info):
    answer = exchange(lab_info, lab_request(lab_info, namespace_line="X-Namespace:\r\n " + lab_info["namespace"]))
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n"), answer[:300]
    assert answer.endswith(b"\r\n\r\n[]"), answer[-300:]


def test_lab_reads_latin1_and_control_characters_in_a_header_value(api, lab_info):
    answer = exchange(lab_info, lab_request(lab_info, "X-Note: caf\xe9 \x01"))
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n"), answer[:300]


def test_lab_refuses_an_oversized_header_line(api, lab_info):
    answer = exchange(lab_info, lab_request(lab_info, "X-Long: " + "v" * 65536))
    assert answer.startswith(b"HTTP/1.1 431 Line too long\r\n"), answer[:300]
    assert b"header line" in answer


def test_lab_refuses_too_many_headers(api, lab_info):
    answer = exchange(lab_info, lab_request(lab_info, *("X-H%d: %d" % (i, i) for i in range(100))))
    assert answer.startswith(b"HTTP/1.1 431 Too many headers\r\n"), answer[:300]
    assert b"got more than 100 headers" in answer


def test_lab_answers_a_line_without_colon_as_before(api, lab_info):
    # the email parser ends the header block at such a line: the headers after it are not read (here X-Namespace)
    answer = exchange(lab_info, lab_request(lab_info, namespace_line="NoColonHere\r\nX-Namespace: " + lab_info["namespace"]))
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n"), answer[:300]
    assert b"Missing X-Namespace header" in answer
