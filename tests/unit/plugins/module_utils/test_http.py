# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTTP client against a scripted server on loopback."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import ApiError, HttpClient, redact


class Script:
    """Answers requests from a list of (status, headers, body), recording what came in."""

    def __init__(self):
        self.answers = []
        self.requests = []


@pytest.fixture()
def server():
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            script.requests.append((self.command, self.path, dict(self.headers), body))
            status, headers, payload = script.answers.pop(0) if script.answers else (200, {}, [])
            data = json.dumps(payload).encode()
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % httpd.server_address[1], script
    httpd.shutdown()
    httpd.server_close()


def client(url, sleeps, **kwargs):
    return HttpClient(url, sleep=sleeps.append, **kwargs)


def test_get_retries_429_honouring_retry_after(server):
    url, script = server
    script.answers = [(429, {"Retry-After": "3"}, []), (503, {}, []), (200, {}, [{"name": "x"}])]
    sleeps = []
    status, data, dummy = client(url, sleeps).request("GET", "/things")
    assert (status, data) == (200, [{"name": "x"}])
    assert len(script.requests) == 3
    assert sleeps[0] == 3.0
    assert 0 < sleeps[1] <= 1.0


def test_write_is_not_retried_unless_safe(server):
    url, script = server
    script.answers = [(503, {}, [{"title": "busy"}])]
    sleeps = []
    with pytest.raises(ApiError) as err:
        client(url, sleeps).request("POST", "/things", body={"a": 1})
    assert err.value.status == 503
    assert len(script.requests) == 1 and sleeps == []


def test_safe_write_is_retried(server):
    url, script = server
    script.answers = [(502, {}, []), (200, {}, {"ID": "1"})]
    status, data, dummy = client(url, []).request("POST", "/things", body={"a": 1}, retry_write=True)
    assert data == {"ID": "1"}
    assert len(script.requests) == 2
    assert script.requests[0][3] == script.requests[1][3] == b'{"a": 1}'


def test_retries_are_bounded(server):
    url, script = server
    script.answers = [(503, {}, [])] * 10
    with pytest.raises(ApiError):
        client(url, [], retries=2).request("GET", "/things")
    assert len(script.requests) == 3


def test_error_carries_status_request_and_redacted_message(server):
    url, script = server
    script.answers = [(422, {}, [{"title": "Validation Error", "description": "token abc123 bad"}])]
    http = client(url, [], secrets=["abc123"], headers={"Authorization": "Bearer abc123"})
    with pytest.raises(ApiError) as err:
        http.request("PUT", "/things/1", body={"secret": "abc123"})
    result = err.value.to_result()
    assert result["status"] == 422
    assert result["request"] == {"method": "PUT", "url": url + "/things/1", "body": {"secret": "********"}}
    assert "abc123" not in json.dumps(result)


def test_connection_error_is_retried_for_reads_then_reported():
    sleeps = []
    with pytest.raises(ApiError, match="cannot reach"):
        HttpClient("http://127.0.0.1:9", sleep=sleeps.append, retries=2, timeout=2).request("GET", "/x")
    assert len(sleeps) == 2


def test_redact_walks_nested_values():
    assert redact({"a": ["x-secret-y", {"b": "secret"}]}, ["secret"]) == {"a": ["x-********-y", {"b": "********"}]}
