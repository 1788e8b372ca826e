# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTTP client against a scripted server on loopback."""

import base64
import json
import select
import socket
import socketserver
import threading
import zlib

import pytest

from ansible_collections.microseg.segmentation.plugins.module_utils._core import http as http_module
from ansible_collections.microseg.segmentation.plugins.module_utils._core.errors import MicrosegError
from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import ApiError, Connection, HttpClient, Response, redact


def client(url, sleeps, **kwargs):
    return HttpClient(url, sleep=sleeps.append, **kwargs)


def test_get_retries_429_honouring_retry_after(server):
    url, script = server
    script.answers = [(429, {"Retry-After": "3"}, []), (503, {}, []), (200, {}, [{"name": "x"}])]
    sleeps = []
    response = client(url, sleeps).request("GET", "/things")
    assert isinstance(response, Response)
    assert (response.status, response.data) == (200, [{"name": "x"}])
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
    response = client(url, []).request("POST", "/things", body={"a": 1}, retry_write=True)
    assert response.data == {"ID": "1"}
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


def _closed_port():
    import socket
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_endpoint_that_never_answered_fails_after_two_quick_retries_naming_the_url(method):
    url = "https://127.0.0.1:%d" % _closed_port()
    sleeps = []
    http = HttpClient(url, sleep=sleeps.append, retries=5, validate_certs=False)
    with pytest.raises(ApiError) as err:
        http.request(method, "/networkrulesetpolicies", body={"name": "x"} if method == "POST" else None)
    # a refused connection sent nothing: even a create is tried again, but only twice, half a second apart
    assert sleeps == [0.5, 0.5]
    assert http.stats["retries"] == 2
    assert err.value.message.startswith("cannot reach %s/networkrulesetpolicies: connection refused (3 attempts in " % url)
    assert "no answer from %s during this task" % url in err.value.message
    assert err.value.url == url + "/networkrulesetpolicies"


def test_quick_give_up_respects_fewer_retries():
    sleeps = []
    with pytest.raises(ApiError, match=r"connection refused \(1 attempt in "):
        HttpClient("http://127.0.0.1:%d" % _closed_port(), sleep=sleeps.append, retries=0).request("GET", "/x")
    assert sleeps == []


def test_refused_after_the_endpoint_answered_is_a_restart_and_has_every_retry(server):
    url, script = server
    script.answers = [(200, {}, [])]
    sleeps = []
    http = client(url, sleeps, retries=4)
    http.request("GET", "/things")
    assert http.answered
    # the server goes away (a console restarting): the next read uses the whole backoff
    http.base_url = "http://127.0.0.1:%d" % _closed_port()
    with pytest.raises(ApiError, match="cannot reach") as err:
        http.request("GET", "/things")
    assert len(sleeps) == 4
    assert "during this task" not in err.value.message


def test_redact_walks_nested_values():
    assert redact({"a": ["x-secret-y", {"b": "secret"}]}, ["secret"]) == {"a": ["x-********-y", {"b": "********"}]}


def test_response_carries_status_data_and_headers(server):
    url, script = server
    script.answers = [(201, {"X-Count-Total": "7"}, {"ID": "1"})]
    response = client(url, []).request("POST", "/things", body={"a": 1})
    assert response.status == 201 and response.data == {"ID": "1"}
    assert response.headers["x-count-total"] == "7"  # headers are case-insensitive


class Product(Connection):
    """A product connection as the products write them: send() adds what every request needs."""

    def __init__(self, url):
        self.client = HttpClient(url, sleep=lambda s: None)

    def send(self, method, path, **kwargs):
        return self.client.request(method, "/api" + path, **kwargs)


def test_connection_request_returns_the_data_and_send_the_response(server):
    url, script = server
    script.answers = [(200, {"X-Total": "1"}, [{"name": "x"}]), (200, {"X-Total": "1"}, [{"name": "x"}])]
    connection = Product(url)
    assert connection.request("GET", "/things") == [{"name": "x"}]
    response = connection.send("GET", "/things")
    assert response.data == [{"name": "x"}] and response.headers["X-Total"] == "1"
    assert [r[1] for r in script.requests] == ["/api/things", "/api/things"]


def test_connection_get_is_none_on_404_and_raises_otherwise(server):
    url, script = server
    script.answers = [(404, {}, {"error": "gone"}), (403, {}, {"error": "no"})]
    connection = Product(url)
    assert connection.get("/things/1") is None
    with pytest.raises(ApiError) as err:
        connection.get("/things/2")
    assert err.value.status == 403


def test_form_body_is_url_encoded_and_kept_out_of_errors(server):
    url, script = server
    script.answers = [(503, {}, []), (403, {}, {"error_message": "denied"})]
    with pytest.raises(ApiError) as err:
        client(url, [], secrets=["s3cret"]).request("POST", "/login", form={"user": "admin", "password": "s3cret"}, retry_write=True)
    assert len(script.requests) == 2  # retried once, then refused
    method, path, headers, body, dummy = script.requests[0]
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert body == b"user=admin&password=s3cret"
    assert "s3cret" not in json.dumps(err.value.to_result())
    assert "body" not in err.value.to_result()["request"]


def test_client_certificate_for_one_request_only(tls_server, pki):
    url, script, ca = tls_server
    http = HttpClient(url, ca_path=ca, sleep=lambda s: None)
    client_cert = (str(pki["client.pem"]), str(pki["client.key"]))
    http.request("POST", "/issue", body={}, cert=client_cert)
    http.request("GET", "/things")  # the connection kept open is not the one that presented the certificate
    http.request("POST", "/issue", body={}, cert=client_cert)
    http.request("GET", "/things")
    assert [r[4] for r in script.requests] == ["app-credential", None, "app-credential", None]


def test_tls_is_verified_against_the_ca_given(tls_server):
    url, script, ca = tls_server
    with pytest.raises(ApiError, match="TLS error"):
        HttpClient(url, sleep=lambda s: None).request("GET", "/things")
    assert HttpClient(url, ca_path=ca).request("GET", "/things").status == 200


def test_api_error_is_a_microseg_error_whose_text_is_its_message():
    exc = ApiError("GET /x failed with status 500: boom", status=500, method="GET", url="https://h/x")
    assert isinstance(exc, MicrosegError)
    exc.message += " (more)"
    assert str(exc) == exc.to_result()["msg"] == "GET /x failed with status 500: boom (more)"


def test_errors_say_whether_a_retry_may_overcome_them(server):
    url, script = server
    script.answers = [(429, {"Retry-After": "7"}, []), (422, {}, [])]
    http = client(url, [])
    with pytest.raises(ApiError) as busy:
        http.request("POST", "/things", body={})
    assert busy.value.retryable and busy.value.retry_after == 7.0
    with pytest.raises(ApiError) as refused:
        http.request("POST", "/things", body={})
    assert not refused.value.retryable
    with pytest.raises(ApiError) as unreachable:
        HttpClient("http://127.0.0.1:9", retries=0).request("POST", "/things", body={})
    assert unreachable.value.retryable and "cannot reach" in unreachable.value.message


def _tls_server_cutting_first_handshakes(pki, cuts):
    """An HTTPS server that closes its first ``cuts`` connections before the TLS handshake (a server
    restarting), then answers every request with 200 and an empty list."""
    import socket
    import ssl
    import threading

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(pki["server.pem"]), str(pki["server.key"]))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted = []

    def serve():
        while True:
            try:
                conn, dummy = listener.accept()
            except OSError:
                return
            accepted.append(conn)
            if len(accepted) <= cuts:
                conn.close()
                continue
            try:
                tls = context.wrap_socket(conn, server_side=True)
                tls.recv(65536)
                tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]")
                tls.close()
            except (OSError, ssl.SSLError):
                conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return listener, accepted


def test_tls_cut_during_the_handshake_is_retried(pki):
    listener, accepted = _tls_server_cutting_first_handshakes(pki, cuts=2)
    try:
        sleeps = []
        url = "https://127.0.0.1:%d" % listener.getsockname()[1]
        response = HttpClient(url, ca_path=str(pki["ca.pem"]), sleep=sleeps.append).request("GET", "/things")
        assert response.data == []
        assert len(accepted) == 3 and len(sleeps) == 2
        # a write that may not be replayed is not, and says that a retry may help (the cut surfaces as a
        # TLS EOF or, depending on timing, as a connection reset: either is reported, never replayed)
        listener2, accepted2 = _tls_server_cutting_first_handshakes(pki, cuts=1)
        try:
            url2 = "https://127.0.0.1:%d" % listener2.getsockname()[1]
            with pytest.raises(ApiError, match="TLS error|cannot reach") as err:
                HttpClient(url2, ca_path=str(pki["ca.pem"]), sleep=sleeps.append).request("POST", "/things", body={})
            assert err.value.retryable and len(accepted2) == 1
        finally:
            listener2.close()
    finally:
        listener.close()


def test_certificate_rejected_is_not_retried(tls_server):
    url, script, ca = tls_server
    sleeps = []
    with pytest.raises(ApiError, match="TLS error") as err:
        HttpClient(url, sleep=sleeps.append).request("GET", "/things")
    assert sleeps == [] and not err.value.retryable


def test_missing_or_unreadable_ca_path_names_the_option(tmp_path):
    with pytest.raises(ApiError, match=r"^ca_path: '.*/nowhere.pem' does not exist$"):
        HttpClient("https://127.0.0.1:1", ca_path=str(tmp_path / "nowhere.pem"))
    HttpClient("https://127.0.0.1:1", ca_path=str(tmp_path / "nowhere.pem"), validate_certs=False)  # not used: not checked


class ScriptedConnection(Connection):
    """A connection whose writes fail as scripted (an ApiError, or None for success)."""

    def __init__(self, outcomes):
        self.client = HttpClient("http://127.0.0.1:1", sleep=lambda s: None, retries=3)
        self.outcomes = list(outcomes)
        self.sent = []

    def send(self, method, path, **kwargs):
        self.sent.append((method, path, kwargs.get("retry_write")))
        outcome = self.outcomes.pop(0)
        if outcome is not None:
            raise outcome
        return Response(201, {"id": "new"}, {})


def _dropped():
    return ApiError("cannot reach http://127.0.0.1:1/things: Connection aborted", method="POST", retryable=True)


def test_create_once_returns_what_the_reread_finds_after_a_dropped_create():
    connection = ScriptedConnection([_dropped()])
    lookups = []
    found = {"id": "applied"}
    assert connection.create_once("POST", "/things", lambda: lookups.append(1) or found, body={}) is found
    assert len(connection.sent) == 1 and lookups == [1]  # never sent twice


def test_create_once_resends_only_after_the_reread_finds_nothing():
    busy = ApiError("busy", status=503, retryable=True)
    connection = ScriptedConnection([busy, _dropped(), None])
    lookups = []
    assert connection.create_once("POST", "/things", lambda: lookups.append(1), body={}) == {"id": "new"}
    assert len(connection.sent) == 3 and len(lookups) == 2
    assert all(retry is False for dummy, dummy2, retry in connection.sent)
    assert connection.client.stats["retries"] == 2


def test_create_once_gives_up_on_a_refusal_and_when_retries_run_out():
    connection = ScriptedConnection([ApiError("refused", status=422)])
    with pytest.raises(ApiError, match="refused"):
        connection.create_once("POST", "/things", lambda: pytest.fail("a refusal is not re-read"), body={})
    connection = ScriptedConnection([_dropped()] * 4)
    with pytest.raises(ApiError, match="cannot reach"):
        connection.create_once("POST", "/things", lambda: None, body={})
    assert len(connection.sent) == 4  # the first try and 3 retries


class _ConnectProxy(socketserver.ThreadingTCPServer):
    """An HTTP proxy on loopback that tunnels CONNECT requests, recording each request line and its headers."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        self.seen = []
        super().__init__(("127.0.0.1", 0), _TunnelHandler)


class _TunnelHandler(socketserver.BaseRequestHandler):
    def handle(self):
        reader = self.request.makefile("rb")
        line = reader.readline().decode("latin-1").strip()
        headers = {}
        for header in iter(reader.readline, b"\r\n"):
            name, _sep, value = header.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        self.server.seen.append((line, headers))
        host, port = line.split()[1].rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)), timeout=10)
        self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        sockets = [self.request, upstream]
        for _turn in range(10000):  # bounded: a test's few requests need a few dozen turns
            readable = select.select(sockets, [], [], 10)[0]
            if not readable:
                break
            chunks = [(s, s.recv(65536)) for s in readable]
            if any(not data for s, data in chunks):
                break
            for s, data in chunks:
                (upstream if s is self.request else self.request).sendall(data)
        upstream.close()


@pytest.fixture()
def connect_proxy():
    proxy = _ConnectProxy()
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    yield proxy
    proxy.shutdown()
    proxy.server_close()


def test_the_environment_proxy_is_read_once_and_tunnels_the_requests(monkeypatch, tls_server, connect_proxy):
    url, script, ca = tls_server
    monkeypatch.setenv("HTTPS_PROXY", "http://user:proxy-pw@127.0.0.1:%d" % connect_proxy.server_address[1])
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    proxied = HttpClient(url, ca_path=ca, sleep=lambda s: None)
    # read at creation: a later change of the environment does not reach a client already made
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:1")
    assert proxied.request("GET", "/things").status == 200
    line, headers = connect_proxy.seen[0]
    assert line.split()[:2] == ["CONNECT", url.split("//")[1]]
    assert headers["proxy-authorization"] == "Basic " + base64.b64encode(b"user:proxy-pw").decode()
    assert len(script.requests) == 1 and "Proxy-Authorization" not in script.requests[0][2]  # the proxy's credentials stay with it


def test_a_proxy_that_cannot_be_used_is_named_without_its_password(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "ftp://user:proxy-pw@proxy.corp.test:21")
    with pytest.raises(ApiError) as err:
        HttpClient("https://console.example.test", sleep=lambda s: None).request("GET", "/things")
    assert "cannot use the proxy ftp://proxy.corp.test:21 for https://console.example.test/things" in str(err.value)
    assert "proxy-pw" not in str(err.value)


def test_no_proxy_and_the_ca_bundles_of_the_environment(monkeypatch, tmp_path):
    ca = tmp_path / "nsx-ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp.test:3128")
    monkeypatch.setenv("NO_PROXY", "internal.test")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/corp-ca.pem")
    proxied = HttpClient("https://console.example.test", sleep=lambda s: None)
    assert proxied.proxy == "http://proxy.corp.test:3128" and proxied.verify == "/etc/corp-ca.pem"
    direct = HttpClient("https://nsx.internal.test", ca_path=str(ca), sleep=lambda s: None)
    assert direct.proxy is None and direct.verify == str(ca)  # NO_PROXY matches; the CA asked for wins
    assert HttpClient("https://x.test", validate_certs=False, sleep=lambda s: None).verify is False


def test_the_cookies_of_a_login_are_sent_back_until_they_expire(server):
    url, script = server
    script.answers = [(200, {"Set-Cookie": "JSESSIONID=abc123; Path=/; Secure; HttpOnly"}, {}), (200, {}, {}),
                      (200, {"Set-Cookie": "JSESSIONID=; Max-Age=0; Path=/"}, {}), (200, {}, {})]
    http = HttpClient(url, sleep=lambda s: None)
    for _request in range(4):
        http.request("GET", "/things")
    assert [r[2].get("Cookie") for r in script.requests] == [None, "JSESSIONID=abc123", "JSESSIONID=abc123", None]


def test_basic_credentials_go_with_every_request_and_stay_out_of_errors(server):
    url, script = server
    script.answers = [(200, {}, {}), (401, {}, {"message": "bad credentials Basic %s" % base64.b64encode(b"admin:p\xe4ss").decode()})]
    http = HttpClient(url, sleep=lambda s: None)
    http.set_basic_auth("admin", "p\u00e4ss")
    http.request("GET", "/things")
    with pytest.raises(ApiError) as err:
        http.request("GET", "/things")
    assert script.requests[0][2]["Authorization"] == "Basic " + base64.b64encode(b"admin:p\xe4ss").decode()  # Latin-1, as HTTP has it
    assert base64.b64encode(b"admin:p\xe4ss").decode() not in str(err.value)


def test_a_redirect_is_not_followed(server):
    url, script = server
    script.answers = [(302, {"Location": "http://127.0.0.1:1/elsewhere"}, {"message": "moved"})]
    with pytest.raises(ApiError) as err:
        HttpClient(url, sleep=lambda s: None).request("GET", "/things")
    assert err.value.status == 302 and len(script.requests) == 1


def test_query_strings_are_encoded_as_requests_encodes_them(server):
    url, script = server
    http = HttpClient(url, sleep=lambda s: None)
    http.request("GET", "/things", params={"q": "name == a b/c", "tag": ["x", "y"], "skip": None, "~action": "go"})
    http.request("GET", "/things?page=1", params={"size": 2})
    assert [r[1] for r in script.requests] == ["/things?q=name+%3D%3D+a+b%2Fc&tag=x&tag=y&~action=go", "/things?page=1&size=2"]


def test_a_rate_limit_spaces_the_request_starts(server, monkeypatch):
    url, script = server
    script.answers = [(200, {}, [])] * 5
    clock = [1000.0]
    sleeps = []

    def sleep(seconds):
        sleeps.append(round(seconds, 6))
        clock[0] += seconds

    monkeypatch.setattr(http_module.time, "monotonic", lambda: clock[0])
    http = HttpClient(url, sleep=sleep, rate_limit=10)
    responses = [http.request("GET", "/things") for _dummy in range(3)]
    assert [r.status for r in responses] == [200, 200, 200]
    # a burst: each request after the first waits for its slot, a tenth of a second after the one before
    assert sleeps == [0.1, 0.1]
    clock[0] += 5  # a pause longer than a slot: the next request goes at once
    http.request("GET", "/things")
    http.request("GET", "/things")
    assert sleeps == [0.1, 0.1, 0.1] and len(script.requests) == 5
    unlimited = []
    client(url, unlimited).request("GET", "/things")
    assert unlimited == []


class _RawServer:
    """A loopback HTTP/1.1 server that keeps count of the connections it accepts and answers each
    request with the next of ``answers`` (status, headers, body bytes); ``close_after`` closes the
    connection after each answer without saying so (a server's idle timeout); once ``pairs`` is set
    (a barrier of two), requests are answered two at a time, both in flight together."""

    def __init__(self, close_after=False, family=socket.AF_INET):
        self.answers = []
        self.pairs = None
        self.accepted = 0
        self.ended = 0
        self.close_after = close_after
        self.listener = socket.socket(family)
        self.listener.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", 0))
        self.listener.listen(8)
        self.url = ("http://[::1]:%d" if family == socket.AF_INET6 else "http://127.0.0.1:%d") % self.listener.getsockname()[1]
        self.heads = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                sock, dummy = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.accepted += 1
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock):
        stream = sock.makefile("rb")
        try:
            while True:
                head = b""
                while not head.endswith(b"\r\n\r\n"):
                    line = stream.readline()
                    if not line:
                        return
                    head += line
                self.heads.append(head)
                length = [int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length:")]
                stream.read(length[0] if length else 0)
                if self.pairs is not None:
                    try:
                        self.pairs.wait(timeout=10)
                    except threading.BrokenBarrierError:
                        pass
                with self.lock:
                    status, headers, body = self.answers.pop(0) if self.answers else (200, {}, b"{}")
                lines = ["HTTP/1.1 %d X" % status, "Content-Length: %d" % len(body)] + ["%s: %s" % pair for pair in headers.items()]
                sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
                if self.close_after:
                    return
        finally:
            stream.close()
            sock.close()
            with self.lock:
                self.ended += 1

    def stop(self):
        self.listener.close()


@pytest.fixture()
def raw_server():
    servers = []

    def make(**kwargs):
        servers.append(_RawServer(**kwargs))
        return servers[-1]

    yield make
    for made in servers:
        made.stop()


def _wait(condition):
    for _dummy in range(200):
        if condition():
            return True
        threading.Event().wait(0.01)
    return False


def test_requests_reuse_the_connections_kept_open_and_close_ends_them_all(raw_server):
    srv = raw_server()
    http = client(srv.url, [])
    for _dummy in range(5):
        http.request("GET", "/things")
    assert srv.accepted == 1
    # from now on two requests are always in flight together: a second connection, and both are
    # reused by the threads that come later
    srv.pairs = threading.Barrier(2)

    def two_at_once():
        for _dummy in range(3):
            http.request("GET", "/things")

    for _round in range(2):
        workers = [threading.Thread(target=two_at_once) for _dummy in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    assert srv.accepted == 2  # not one per thread: one per request in flight
    http.close()
    assert _wait(lambda: srv.ended == srv.accepted)


def test_a_connection_closed_by_the_server_while_idle_is_replaced_before_a_write(raw_server):
    srv = raw_server(close_after=True)
    http = client(srv.url, [])
    http.request("GET", "/things")
    assert _wait(lambda: srv.ended == 1)
    srv.answers.append((201, {}, b'{"id": "1"}'))
    assert http.request("POST", "/things", body={"name": "a"}).data == {"id": "1"}  # a write is never retried: it went out once
    assert (srv.accepted, http.stats["retries"], http.stats["writes"]) == (2, 0, 1)


@pytest.mark.parametrize("encoding, pack", [
    ("gzip", lambda data: zlib.compress(data, wbits=16 + zlib.MAX_WBITS)),
    ("deflate", zlib.compress),
    ("deflate", lambda data: zlib.compress(data, wbits=-zlib.MAX_WBITS)),
    ("identity", lambda data: data),
])
def test_compressed_answers_are_decoded(raw_server, encoding, pack):
    srv = raw_server()
    srv.answers.append((200, {"Content-Encoding": encoding, "Set-Cookie": "a=1"}, pack(b'{"items": [1, 2]}')))
    http = client(srv.url, [])
    response = http.request("GET", "/things")
    assert response.data == {"items": [1, 2]}
    assert (response.headers.get("content-encoding"), response.headers.getlist("SET-COOKIE")) == (encoding, ["a=1"])


def test_an_answer_in_an_encoding_not_asked_for_is_an_error_naming_it(raw_server):
    srv = raw_server()
    srv.answers.append((200, {"Content-Encoding": "br"}, b"\x0b\x02\x80{}\x03"))
    http = client(srv.url, [])
    with pytest.raises(ApiError, match=r"^the answer to GET http://127\.0\.0\.1:\d+/things cannot be read: it is encoded with br"):
        http.request("GET", "/things")
    assert http.stats["retries"] == 0


def test_an_ipv6_console_is_reached_with_its_address_in_the_host_header(raw_server):
    srv = raw_server(family=socket.AF_INET6)
    srv.answers.append((200, {}, b'{"ok": true}'))
    http = client(srv.url, [])
    assert http.request("GET", "/things").data == {"ok": True}
    assert b"\r\nHost: [::1]:%d\r\n" % int(srv.url.rsplit(":", 1)[1]) in srv.heads[0]


@pytest.mark.parametrize("url", ["https://", "ftp://127.0.0.1:21"])
def test_a_url_without_host_or_with_another_scheme_is_invalid_and_not_retried(url):
    sleeps = []
    with pytest.raises(ApiError, match="^invalid URL %s/things: " % url.rstrip("/")):
        client(url, sleeps).request("GET", "/things")
    assert sleeps == []
