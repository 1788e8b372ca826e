# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The product connections keep one contract (request() is the data, send() the Response) and log
in through the HTTP client, with its retries and TLS settings; against a scripted HTTPS server."""

import base64
import json

import pytest

from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import ApiError, Connection
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.common import NsxtConnection
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.common import PAGE_SIZE, PrismaConnection
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.common import SwConnection


@pytest.fixture()
def app_credential(tmp_path, pki, tls_server):
    url, script, ca = tls_server
    credential = {
        "APIURL": url, "namespace": "/acme",
        "certificate": base64.b64encode(pki["client.pem"].read_bytes()).decode(),
        "certificateKey": base64.b64encode(pki["client.key"].read_bytes()).decode(),
        "certificateAuthority": base64.b64encode(pki["ca.pem"].read_bytes()).decode(),
    }
    path = tmp_path / "appcred.json"
    path.write_text(json.dumps(credential))
    return str(path)


def test_every_product_connection_keeps_the_contract():
    for connection in (PrismaConnection, NsxtConnection, SwConnection):
        assert issubclass(connection, Connection)
        assert connection.request is Connection.request and connection.get is Connection.get


def test_prisma_app_credential_login_is_retried_and_uses_the_certificate_once(tls_server, app_credential):
    url, script, ca = tls_server
    script.answers = [(503, {}, []), (200, {}, {"token": "issued-token"}), (200, {}, [{"name": "a"}])]
    connection = PrismaConnection({"app_credential": app_credential})
    try:
        assert connection.request("GET", "/things") == [{"name": "a"}]
    finally:
        connection.close()
    (m1, p1, h1, b1, c1), (m2, p2, h2, b2, c2), (m3, p3, h3, b3, c3) = script.requests
    assert (m1, p1, c1) == (m2, p2, c2) == ("POST", "/issue", "app-credential")  # the CA of the credential, retried
    assert json.loads(b2) == {"realm": "Certificate", "validity": "1h"}
    assert (m3, p3, c3) == ("GET", "/things", None)
    assert h3["Authorization"] == "Bearer issued-token" and h3["X-Namespace"] == "/acme"
    assert "issued-token" in connection.client.secrets


def test_prisma_login_without_a_token_fails(tls_server, app_credential):
    url, script, ca = tls_server
    script.answers = [(200, {}, {})]
    with pytest.raises(ApiError, match="POST /issue returned no token"):
        PrismaConnection({"app_credential": app_credential})


def test_prisma_login_refused_carries_the_api_message(tls_server, app_credential):
    url, script, ca = tls_server
    script.answers = [(403, {}, [{"title": "Forbidden", "description": "certificate revoked"}])]
    with pytest.raises(ApiError) as err:
        PrismaConnection({"app_credential": app_credential})
    result = err.value.to_result()
    assert result["status"] == 403 and "Forbidden: certificate revoked" in result["msg"]
    assert result["request"]["url"] == url + "/issue"


def test_prisma_list_all_follows_the_total_count_header(tls_server):
    url, script, ca = tls_server
    script.answers = [(200, {"X-Count-Total": str(PAGE_SIZE + 1)}, [{"n": i} for i in range(PAGE_SIZE)]),
                      (200, {"X-Count-Total": str(PAGE_SIZE + 1)}, [{"n": PAGE_SIZE}])]
    connection = PrismaConnection({"api_url": url, "namespace": "/acme", "token": "t", "ca_path": ca})
    assert len(connection.list_all("/things", namespace="/acme/prod")) == PAGE_SIZE + 1
    assert [r[1].split("?")[1] for r in script.requests] == ["page=1&pagesize=%d" % PAGE_SIZE, "page=2&pagesize=%d" % PAGE_SIZE]
    assert script.requests[0][2]["X-Namespace"] == "/acme/prod"
    connection.close()


def nsx_params(url, ca, **kwargs):
    return dict(host=url, username="admin", password="pw-secret", ca_path=ca, session=True, **kwargs)


def test_nsx_session_login_is_retried_and_the_xsrf_token_is_echoed(tls_server):
    url, script, ca = tls_server
    script.answers = [(503, {}, {}), (200, {"X-XSRF-TOKEN": "xsrf-1", "Set-Cookie": "JSESSIONID=abc; Path=/"}, {}),
                      (200, {}, {"results": [{"id": "g"}], "cursor": None}), (200, {}, {})]
    connection = NsxtConnection(nsx_params(url, ca))
    assert connection.list_all("/api/v1/ns-groups") == [{"id": "g"}]
    connection.close()
    methods = [(r[0], r[1].split("?")[0]) for r in script.requests]
    assert methods == [("POST", "/api/session/create")] * 2 + [("GET", "/api/v1/ns-groups"), ("POST", "/api/session/destroy")]
    login = script.requests[1]
    assert login[2]["Content-Type"] == "application/x-www-form-urlencoded"
    assert login[3] == b"j_username=admin&j_password=pw-secret"
    assert "Authorization" not in login[2]
    listed = script.requests[2]
    assert listed[2]["X-XSRF-TOKEN"] == "xsrf-1" and "JSESSIONID=abc" in listed[2]["Cookie"]
    assert "xsrf-1" in connection.client.secrets


def test_nsx_session_login_refused_carries_the_api_message_not_the_password(tls_server):
    url, script, ca = tls_server
    script.answers = [(403, {}, {"error_code": 403, "error_message": "The credentials were incorrect."})]
    with pytest.raises(ApiError) as err:
        NsxtConnection(nsx_params(url, ca))
    result = err.value.to_result()
    assert result["status"] == 403
    assert result["msg"] == "POST %s/api/session/create failed with status 403: The credentials were incorrect. (error_code 403)" % url
    assert "pw-secret" not in json.dumps(result)


def test_nsx_session_login_without_xsrf_token_fails(tls_server):
    url, script, ca = tls_server
    script.answers = [(200, {}, {})]
    with pytest.raises(ApiError, match="returned no X-XSRF-TOKEN header"):
        NsxtConnection(nsx_params(url, ca))


def test_nsx_session_login_verifies_tls(tls_server):
    url, script, ca = tls_server
    with pytest.raises(ApiError, match="TLS error"):
        NsxtConnection(nsx_params(url, None))
    assert script.requests == []


def test_secure_workload_request_is_the_data_under_the_api_prefix(tls_server):
    url, script, ca = tls_server
    script.answers = [(200, {}, [{"id": "s"}]), (404, {}, {"error": "not found"})]
    connection = SwConnection({"url": url, "api_key": "k", "api_secret": "s", "ca_path": ca})
    assert connection.request("GET", "/app_scopes") == [{"id": "s"}]
    assert connection.get("/app_scopes/x") is None
    assert [r[1] for r in script.requests] == ["/openapi/v1/app_scopes", "/openapi/v1/app_scopes/x"]
    assert script.requests[0][2]["Id"] == "k"
    connection.close()


def _memory_files():
    import os
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink("/proc/self/fd/" + fd)
        except OSError:
            continue
        if "microseg-" in target:
            found.append(target)
    return found


@pytest.mark.parametrize("answers", [
    [(200, {}, {"token": "issued-token"})],
    [(403, {}, [{"title": "Forbidden", "description": "certificate revoked"}])],
    [(200, {}, {})],
], ids=["issued", "refused", "no-token"])
def test_prisma_credential_key_never_touches_disk(tls_server, app_credential, tmp_path, monkeypatch, answers):
    import tempfile
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    url, script, ca = tls_server
    script.answers = list(answers)
    before = _memory_files()
    try:
        connection = PrismaConnection({"app_credential": app_credential})
    except ApiError:
        connection = None
    else:
        # the key is gone once /issue answered; the credential's CA stays (in memory) until close()
        assert [t for t in _memory_files() if t not in before and "key.pem" in t] == []
        connection.close()
    assert _memory_files() == before
    assert list(temp.iterdir()) == []
    assert script.requests[0][4] == "app-credential"


def test_prisma_credential_without_memfd_removes_its_files_on_every_path(tls_server, app_credential, tmp_path, monkeypatch):
    import os
    import tempfile
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.delattr(os, "memfd_create")
    url, script, ca = tls_server
    script.answers = [(403, {}, [{"title": "Forbidden", "description": "certificate revoked"}])]
    with pytest.raises(ApiError):
        PrismaConnection({"app_credential": app_credential})
    assert list(temp.iterdir()) == []
    script.answers = [(200, {}, {"token": "issued-token"})]
    connection = PrismaConnection({"app_credential": app_credential})
    left = [p.name for p in temp.iterdir()]
    assert len(left) == 1 and left[0].endswith("-ca.pem")  # the CA (no secret) until close(); the key is gone
    connection.close()
    assert list(temp.iterdir()) == []


def test_missing_ca_path_fails_naming_the_option_on_every_product(tmp_path):
    missing = str(tmp_path / "missing-ca.pem")
    for connect in (
        lambda: PrismaConnection({"api_url": "https://127.0.0.1:1", "namespace": "/a", "token": "t", "ca_path": missing}),
        lambda: NsxtConnection({"host": "127.0.0.1:1", "username": "u", "password": "p", "ca_path": missing}),
        lambda: SwConnection({"url": "https://127.0.0.1:1", "api_key": "k", "api_secret": "s", "ca_path": missing}),
    ):
        with pytest.raises(ApiError, match="^ca_path: '%s' does not exist$" % missing):
            connect()


def test_secure_workload_retries_posts_that_create_nothing_and_not_creates(tls_server):
    url, script, ca = tls_server
    connection = SwConnection({"url": url, "api_key": "k", "api_secret": "s", "ca_path": ca})
    connection.client.sleep = lambda s: None
    script.answers = [(503, {}, []), (200, {}, {"results": []})]
    assert connection.request("POST", "/inventory/search", body={}) == {"results": []}
    script.answers = [(503, {}, [])]
    with pytest.raises(ApiError) as err:
        connection.request("POST", "/applications", body={"name": "w"})
    assert err.value.retryable
    assert [r[1] for r in script.requests] == ["/openapi/v1/inventory/search"] * 2 + ["/openapi/v1/applications"]
