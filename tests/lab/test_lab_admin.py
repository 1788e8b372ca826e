"""Lab admin routes: request counters, fault injection, reset."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from lab_helpers import VALID_BODIES, errors_of


def test_counters_per_route(api):
    created = api.create("networkrulesetpolicies", VALID_BODIES["networkrulesetpolicies"])
    api.get("/networkrulesetpolicies")
    api.get("/v/1/networkrulesetpolicies")
    api.get("/networkrulesetpolicies/" + created["ID"])
    api.put("/networkrulesetpolicies/" + created["ID"], created)
    api.delete("/networkrulesetpolicies/" + created["ID"])
    api.get("/networkrulesetpolicies", auth=False)  # a 401 is still a request
    api.post("/issue", {"realm": "Certificate"}, auth=False)
    counters = api.counters()
    assert counters["routes"] == {
        "POST /networkrulesetpolicies": 1,
        "GET /networkrulesetpolicies": 3,
        "GET /networkrulesetpolicies/:id": 1,
        "PUT /networkrulesetpolicies/:id": 1,
        "DELETE /networkrulesetpolicies/:id": 1,
        "POST /issue": 1,
    }
    assert counters["total"] == 8
    assert counters["writes"] == 4
    # admin routes are never counted
    assert api.counters()["total"] == 8
    reset = api.admin("POST", "/_lab/counters/reset")
    assert reset.status_code == 200
    assert api.counters() == {"total": 0, "writes": 0, "routes": {}}


def test_reset_wipes_objects(api):
    api.create("externalnetworks", VALID_BODIES["externalnetworks"])
    api.create("namespaces", {"name": "gone"})
    assert api.admin("POST", "/_lab/reset").status_code == 200
    assert api.get("/externalnetworks").json() == []
    assert api.get("/namespaces").json() == []
    assert [n["name"] for n in api.fresh("/").get("/namespaces").json()] == ["/acme"]
    assert api.counters()["total"] == 3


def set_faults(api, *rules):
    response = api.admin("PUT", "/_lab/faults", {"rules": list(rules)})
    assert response.status_code == 200, response.text
    return response.json()


def test_fault_429_with_retry_after(api):
    set_faults(api, {"method": "POST", "path": "/externalnetworks", "status": 429, "retry_after": 2, "count": 2})
    for _attempt in range(2):
        response = api.post("/externalnetworks", VALID_BODIES["externalnetworks"])
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "2"
        assert errors_of(response)[0]["code"] == 429
    assert api.get("/externalnetworks").json() == []  # nothing was created, GET is not matched
    assert api.post("/externalnetworks", VALID_BODIES["externalnetworks"]).status_code == 200  # expired after 2
    counters = api.counters()
    assert counters["routes"]["POST /externalnetworks"] == 3  # faulted requests are counted
    assert api.admin("GET", "/_lab/faults").json() == {"rules": []}


def test_fault_503_any_method_and_path_prefix(api):
    set_faults(api, {"path": "/services", "status": 503})
    response = api.get("/services")
    assert response.status_code == 503 and "Retry-After" not in response.headers
    assert api.get("/services").status_code == 200
    set_faults(api, {"path": "/services", "status": 503})
    assert api.get("/v/1/services").status_code == 503  # the version prefix is ignored for matching


def test_fault_drop_closes_the_connection(api):
    set_faults(api, {"method": "GET", "path": "/externalnetworks", "drop": True})
    with pytest.raises(requests.ConnectionError):
        api.get("/externalnetworks")
    assert api.get("/externalnetworks").status_code == 200


def test_fault_delay(api):
    set_faults(api, {"path": "/externalnetworks", "delay": 0.5})
    started = time.monotonic()
    response = api.get("/externalnetworks")
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.45
    set_faults(api, {"delay": 0.2, "status": 504})
    assert api.get("/namespaces").status_code == 504


def test_fault_every_nth_request_passes_the_others_on(api):
    set_faults(api, {"method": "GET", "path": "/services", "status": 503, "every": 3, "count": 2},
               {"method": "GET", "path": "/services", "status": 429})
    statuses = [api.get("/services").status_code for dummy in range(7)]
    # the 1st request passes the first rule and meets the second (once); the 3rd and 6th meet the first
    assert statuses == [429, 200, 503, 200, 200, 503, 200]
    assert api.admin("GET", "/_lab/faults").json() == {"rules": []}
    assert api.admin("PUT", "/_lab/faults", {"rules": [{"every": 0}]}).status_code == 400


def test_fault_rules_are_validated_and_cleared(api):
    assert api.admin("PUT", "/_lab/faults", {"rules": [{"status": "bad"}]}).status_code == 400
    assert api.admin("PUT", "/_lab/faults", {"rules": [{"count": 0}]}).status_code == 400
    assert api.admin("PUT", "/_lab/faults", {"rules": [{"colour": "red"}]}).status_code == 400
    set_faults(api, {"status": 503, "count": -1})
    assert api.get("/services").status_code == 503
    assert api.get("/services").status_code == 503
    assert api.admin("DELETE", "/_lab/faults").status_code == 200
    assert api.get("/services").status_code == 200
    assert api.admin("GET", "/_lab/nothing").status_code == 404


def test_many_creates_and_reads(api):
    ids = []
    for index in range(500):
        created = api.create("externalnetworks", {"name": "n%03d" % index, "entries": ["10.%d.%d.0/24" % (index // 250, index % 250)]})
        ids.append(created["ID"])
    for ident in ids:
        assert api.get("/externalnetworks/" + ident).status_code == 200
    listed = api.get("/externalnetworks", params={"page": 5, "pagesize": 100})
    assert listed.headers["X-Count-Total"] == "500"
    assert [o["name"] for o in listed.json()][0] == "n400"
    counters = api.counters()
    assert counters["routes"]["POST /externalnetworks"] == 500
    assert counters["routes"]["GET /externalnetworks/:id"] == 500


def test_concurrent_writes(api):
    from concurrent.futures import ThreadPoolExecutor

    def create(index):
        client = api.fresh()
        return client.post("/externalnetworks", {"name": "c%03d" % index, "entries": ["10.0.%d.0/24" % index]}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(create, range(120)))
    assert statuses == [200] * 120
    assert api.get("/externalnetworks").headers["X-Count-Total"] == "120"


def test_read_only_posts_are_not_writes():
    from microseg_lab.common.counters import Counters, is_write

    assert not is_write("POST", "/openapi/v1/inventory/search")
    assert is_write("POST", "/openapi/v1/policies")
    assert not is_write("GET", "/openapi/v1/policies")
    counters = Counters()
    counters.record("POST", "/openapi/v1/inventory/search")
    counters.record("POST", "/openapi/v1/applications/:id/policies")
    assert counters.snapshot() == {"total": 2, "writes": 1, "routes": {
        "POST /openapi/v1/applications/:id/policies": 1, "POST /openapi/v1/inventory/search": 1}}


# ---------------------------------------------------------------- latency (a fixed round trip per product request)


@pytest.fixture
def latency(api):
    """Sets the server's latency; back to 0 after the test (POST /_lab/reset keeps it)."""

    def put(seconds):
        response = api.admin("PUT", "/_lab/latency", {"seconds": seconds})
        assert response.status_code == 200, response.text
        assert response.json()["seconds"] == seconds
        return response

    yield put
    assert api.admin("PUT", "/_lab/latency", {"seconds": 0}).status_code == 200


def waiting_soon(api, count: int) -> bool:
    """Polls the (never delayed) admin route until ``count`` product requests wait their latency; bounded to ~5 s."""
    for _attempt in range(500):
        if api.admin("GET", "/_lab/latency").json()["waiting"] == count:
            return True
        time.sleep(0.01)
    return False


def test_latency_delays_product_requests_and_not_admin_routes(api, latency):
    assert api.admin("GET", "/_lab/latency").json() == {"seconds": 0, "waiting": 0}
    latency(0.3)
    started = time.monotonic()
    assert api.get("/externalnetworks").status_code == 200
    assert time.monotonic() - started >= 0.3
    # With the largest latency, a product request is still waiting while admin routes answer.
    latency(10)
    with ThreadPoolExecutor(max_workers=1) as pool:
        try:
            pending = pool.submit(lambda: api.fresh().get("/services").status_code)
            assert waiting_soon(api, 1)
            assert api.counters()["routes"] == {"GET /externalnetworks": 1, "GET /services": 1}
            assert api.admin("GET", "/_lab/faults").json() == {"rules": []}
            assert not pending.done()
        finally:
            latency(0)  # lowering the latency releases the waiting request
        assert pending.result(timeout=30) == 200
    assert api.counters()["routes"] == {"GET /externalnetworks": 1, "GET /services": 1}


def test_concurrent_requests_overlap_their_latency(api, latency):
    latency(10)
    with ThreadPoolExecutor(max_workers=4) as pool:
        try:
            futures = [pool.submit(lambda: api.fresh().get("/externalnetworks").status_code) for dummy in range(4)]
            # all four are inside their delay at the same time: they wait side by side, not one after the other
            assert waiting_soon(api, 4)
            assert not any(f.done() for f in futures)
        finally:
            latency(0)
        assert [f.result(timeout=30) for f in futures] == [200] * 4
    assert api.admin("GET", "/_lab/latency").json() == {"seconds": 0, "waiting": 0}


def test_latency_adds_to_a_fault(api, latency):
    latency(0.2)
    set_faults(api, {"path": "/services", "delay": 0.2, "status": 503})
    started = time.monotonic()
    assert api.get("/services").status_code == 503
    assert time.monotonic() - started >= 0.4
    set_faults(api, {"path": "/services", "drop": True})
    started = time.monotonic()
    with pytest.raises(requests.ConnectionError):
        api.get("/services")
    assert time.monotonic() - started >= 0.2


@pytest.mark.parametrize("body", [{"seconds": -0.1}, {"seconds": "0.05"}, {"seconds": True}, {"seconds": None}, {"seconds": 10.5},
                                  {}, {"seconds": 1, "jitter": 1}, [0.05], "not json"])
def test_latency_values_are_validated(api, latency, body):
    latency(0.05)
    if body == "not json":
        response = api.session.put(api.url + "/_lab/latency", data=b"{seconds", timeout=30)
    else:
        response = api.admin("PUT", "/_lab/latency", body)
    assert response.status_code == 400
    assert "seconds" in response.json()["error"] and "from 0 to 10" in response.json()["error"]
    assert api.admin("GET", "/_lab/latency").json()["seconds"] == 0.05  # unchanged


def test_reset_keeps_the_latency(api, latency):
    latency(0.05)
    set_faults(api, {"path": "/services", "status": 503})
    api.get("/externalnetworks")
    assert api.admin("POST", "/_lab/reset").status_code == 200
    assert api.admin("POST", "/_lab/counters/reset").status_code == 200
    assert api.admin("GET", "/_lab/latency").json()["seconds"] == 0.05
    assert api.admin("GET", "/_lab/faults").json() == {"rules": []}  # faults and counters are reset as before
    assert api.counters()["total"] == 0
