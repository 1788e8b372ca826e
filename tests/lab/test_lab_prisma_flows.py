"""Prisma flow logs: POST /flowreports, POST /statsqueries, the /_lab/prisma/flows admin route and the recorded week."""

from __future__ import annotations

import datetime
import json
import random
import time

from lab_helpers import ROOT, PrismaClient, descriptions, errors_of, labctl, read_lab_json

ROUTE = "/_lab/prisma/flows"
WEEK = {"startRelative": "7d"}
RECORDING = ROOT / "lab" / "microseg_lab" / "prisma" / "recordings" / "hipster-week.json"
WORKLOADS = ROOT / "lab" / "microseg_lab" / "prisma" / "workloads.json"
GUIDE_NETWORKS = {"DNS", "metadata", "googleapis", "internet", "kubelet"}


def flow(**overrides) -> dict:
    body = {"action": "Accept", "sourceType": "ProcessingUnit", "sourceID": "web-1", "destinationType": "ProcessingUnit",
            "destinationID": "db-1", "namespace": "/acme", "policyID": "default", "policyNamespace": "/acme",
            "destinationPort": 5432, "protocol": 6, "value": 1}
    body.update(overrides)
    return body


def query(client: PrismaClient, body: dict | None = None, params: dict | None = None, status: int = 200):
    response = client.post("/statsqueries", body or {}, params=WEEK if params is None else params)
    assert response.status_code == status, response.text
    return response.json()


def rows(answer: dict) -> list[dict]:
    assert len(answer["results"]) == 1, answer
    return answer["results"][0]["rows"]


def table(answer: dict) -> dict:
    """{tuple of tag values: the values of the series' single point, without the time column}."""
    out = {}
    for row in rows(answer):
        assert len(row["values"]) == 1, row
        out[tuple(row["tags"].values())] = row["values"][0][1:]
    return out


def load(client: PrismaClient, flows, method: str = "POST") -> dict:
    response = client.admin(method, ROUTE, flows)
    assert response.status_code == 200, response.text
    return response.json()


def parse_time(text: str) -> float:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# ---------------------------------------------------------------- POST /flowreports


def test_report_and_query_round_trip(api):
    reported = api.post("/flowreports", flow(value=3, encrypted=False, destinationIP="10.0.0.5"))
    assert reported.status_code == 200, reported.text
    stored = reported.json()
    # the stored report: an ID, the defaults, every zero value left out (all @flow attributes are omit_empty)
    assert len(stored["ID"]) == 24 and stored["observedAction"] == "NotApplicable" and stored["serviceType"] == "NotApplicable"
    assert "encrypted" not in stored and stored["destinationIP"] == "10.0.0.5" and stored["value"] == 3
    assert abs(parse_time(stored["timestamp"]) - time.time()) < 60
    # a list of reports is stored at once and answered as a list
    batch = api.post("/flowreports", [flow(value=2, timestamp="2030-01-01T00:00:00Z"), flow(sourceID="web-2", value=4)])
    assert batch.status_code == 200, batch.text
    assert [f["sourceID"] for f in batch.json()] == ["web-1", "web-2"]
    assert batch.json()[0]["timestamp"] == "2030-01-01T00:00:00Z"
    sparse = api.post("/flowreports", flow(value=5), headers={"X-Fields": "ID,value"})
    assert set(sparse.json()) == {"ID", "value"}

    answer = query(api, {"fields": ["sum(value)", "count(*)"]})
    # the 2030 report is outside the window (the window ends now)
    assert answer["measurement"] == "Flows" and answer["limit"] == -1 and answer["offset"] == -1
    assert rows(answer) == [{"name": "Flows", "tags": {}, "columns": ["time", "sum", "count"],
                             "values": [[rows(answer)[0]["values"][0][0], 12, 3]]}]
    # raw points: time first, then the fields asked for, in time order
    raw = rows(query(api, {"fields": ["sourceID", "value"]}))
    assert len(raw) == 1 and raw[0]["columns"] == ["time", "sourceID", "value"]
    assert [point[1:] for point in raw[0]["values"]] == [["web-1", 3], ["web-2", 4], ["web-1", 5]]
    times = [parse_time(point[0]) for point in raw[0]["values"]]
    assert times == sorted(times)
    # no fields: every attribute (zero values included), the time in the time column
    every = rows(query(api, {"filter": "value == 3"}))[0]
    assert every["columns"][0] == "time" and "timestamp" not in every["columns"] and "ID" in every["columns"]
    point = dict(zip(every["columns"], every["values"][0], strict=True))
    assert point["ID"] == stored["ID"] and point["encrypted"] is False and point["destinationIP"] == "10.0.0.5"
    # flow reports are not objects
    assert api.get("/flowreports").status_code == 405
    assert api.get("/flowreports/" + stored["ID"]).status_code == 405
    # stats queries are reads, flow reports writes
    counters = api.counters()
    assert counters["routes"]["POST /statsqueries"] == 3 and counters["writes"] == 3


def test_report_validation(api):
    bad_enum = api.post("/flowreports", flow(action="Allow"))
    assert bad_enum.status_code == 422
    assert errors_of(bad_enum)[0]["data"] == {"attribute": "action"}
    assert descriptions(bad_enum) == ["Data 'Allow' of attribute 'action' is not in list '[Accept Reject]'"]
    assert descriptions(api.post("/flowreports", flow(sourceType="Pod", observedAction="Drop"))) == [
        "Data 'Drop' of attribute 'observedAction' is not in list '[Accept Reject NotApplicable]'",
        "Data 'Pod' of attribute 'sourceType' is not in list '[ProcessingUnit ExternalNetwork Claims]'",
    ]
    # required: strings non-empty, value non-zero; only the required errors when there are any
    missing = api.post("/flowreports", {"action": "Nope", "value": 0})
    assert missing.status_code == 422
    assert descriptions(missing) == ["Attribute '%s' is required" % name for name in (
        "destinationID", "destinationType", "namespace", "policyID", "policyNamespace", "sourceID", "sourceType", "value")]
    assert api.post("/flowreports", flow(value="many")).status_code == 400
    assert api.post("/flowreports", flow(timestamp="yesterday")).status_code == 400
    assert api.post("/flowreports", flow(timestamp="-1h")).status_code == 400  # relative times: admin route only
    read_only = api.post("/flowreports", flow(ID="5d2398157ddf1f3519ce6d96"))
    assert read_only.status_code == 422 and errors_of(read_only)[0]["title"] == "Read Only Error"
    # a report for a namespace outside X-Namespace; a list is all or nothing
    outside = api.post("/flowreports", [flow(), flow(namespace="/elsewhere")])
    assert outside.status_code == 422 and errors_of(outside)[0]["data"] == {"attribute": "namespace"}
    assert api.post("/flowreports", [flow(), flow(action="x")]).status_code == 422
    assert api.admin("GET", ROUTE).json()["total"] == 0
    assert api.post("/flowreports", [flow(), flow(namespace="/acme/team")]).status_code == 200


# ---------------------------------------------------------------- POST /statsqueries


def grouped_sample(api):
    load(api, [
        flow(sourceID="web-1", destinationID="db-1", destinationPort=5432, value=3, timestamp="-3h"),
        flow(sourceID="web-1", destinationID="db-1", destinationPort=5432, value=4, timestamp="-1h"),
        flow(sourceID="web-2", destinationID="db-1", destinationPort=5432, value=5, timestamp="-2h"),
        flow(sourceID="web-1", destinationID="cache-1", destinationPort=6379, value=7, timestamp="-30m"),
        flow(sourceID="web-2", destinationType="ExternalNetwork", destinationID="internet", destinationIP="198.51.100.20",
             destinationPort=443, value=1, timestamp="-5h", action="Reject"),
    ])


def test_grouping(api):
    grouped_sample(api)
    answer = query(api, {"fields": ["sum(value)"], "groups": ["sourceID", "destinationID"]})
    assert table(answer) == {("web-1", "cache-1"): [7], ("web-1", "db-1"): [7], ("web-2", "db-1"): [5], ("web-2", "internet"): [1]}
    first = rows(answer)[0]
    assert first["name"] == "Flows" and first["columns"] == ["time", "sum"] and first["tags"] == {"sourceID": "web-1", "destinationID": "cache-1"}
    # the time of an aggregate is the start of the window
    assert abs(parse_time(first["values"][0][0]) - (time.time() - 7 * 86400)) < 60
    # tag values are text; group attributes may be columns too; aliases; several aggregates of one kind
    answer = query(api, {"fields": ["destinationPort", "sum(value) as total", "count(value)", "max(timestamp) as lastSeen",
                                    "min(timestamp)", "max(value)", "mean(value)", "first(sourceID)", "last(sourceID)"],
                         "groups": ["destinationport"]})
    assert rows(answer)[0]["columns"] == ["time", "destinationPort", "total", "count", "lastSeen", "min", "max", "mean", "first", "last"]
    by_port = table(answer)
    assert sorted(by_port) == [("443",), ("5432",), ("6379",)]  # sorted by tag text
    port, total, count, last_seen, first_seen, biggest, mean, first_src, last_src = by_port[("5432",)]
    assert (port, total, count, biggest, mean, first_src, last_src) == (5432, 12, 3, 5, 4, "web-1", "web-1")
    assert parse_time(last_seen) - parse_time(first_seen) == 2 * 3600
    assert abs(parse_time(last_seen) - (time.time() - 3600)) < 60
    # grouping by an enum and a boolean
    assert table(query(api, {"fields": ["count(*)"], "groups": ["action", "encrypted"]})) == {
        ("Accept", "false"): [4], ("Reject", "false"): [1]}


def test_filter_and_q(api):
    grouped_sample(api)
    assert table(query(api, {"fields": ["sum(value)"], "groups": ["destinationID"], "filter": "destinationPort == 5432 and sourceID == web-1"})) == {
        ("db-1",): [7]}
    assert table(query(api, {"fields": ["sum(value)"], "filter": "destinationType == ExternalNetwork or value >= 7"})) == {(): [8]}
    assert table(query(api, {"fields": ["count(*)"], "filter": "sourceID in ['web-2'] and action != Accept"})) == {(): [1]}
    assert table(query(api, {"fields": ["count(*)"], "filter": "destinationIP matches '^198\\.51\\.'"})) == {(): [1]}
    assert table(query(api, {"fields": ["count(*)"], "filter": "timestamp > now('-150m')"})) == {(): [3]}
    assert table(query(api, {"fields": ["count(*)"], "filter": "encrypted == false and observedAction == NotApplicable"})) == {(): [5]}
    # q parameters (OR-ed together) narrow the flows further, as the filter does
    params = dict(WEEK, q=["destinationPort == 6379", "destinationPort == 443"])
    assert table(query(api, {"fields": ["sum(value)"], "groups": ["destinationPort"]}, params=params)) == {("443",): [1], ("6379",): [7]}
    assert table(query(api, {"fields": ["sum(value)"], "filter": "sourceID == web-1"}, params=params)) == {(): [7]}
    bad = api.post("/statsqueries", {"filter": "value = = 3"}, params=WEEK)
    assert bad.status_code == 400 and "filter" in descriptions(bad)[0]
    assert query(api, {"filter": "sourceID == nobody"})["results"] == [{"rows": []}]


def test_time_window(api):
    load(api, [flow(value=1, timestamp="-2h"), flow(value=10, timestamp="-2d"), flow(value=100, timestamp="-10d"),
               flow(value=1000, timestamp="+1h")])

    def total(**params):
        answer = query(api, {"fields": ["sum(value)"]}, params=params)
        return table(answer).get((), [0])[0]

    assert total(startRelative="7d") == 11
    assert total(startRelative="-7d") == 11  # the sign does not matter
    assert total(startRelative="168h") == 11
    assert total(startRelative="1w") == 11
    assert total(startRelative="30m") == 0
    assert total(startRelative="3h") == 1
    assert total(startRelative="1d12h") == 1
    assert total(startRelative="30d") == 111
    assert total(startRelative="30d", endRelative="1d") == 110
    assert total(endRelative="1d") == 110  # the start is open
    now = time.time()

    def iso(seconds_ago):
        return datetime.datetime.fromtimestamp(now - seconds_ago, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    assert total(startAbsolute=iso(3 * 86400), endAbsolute=iso(3600)) == 11
    assert total(startAbsolute=iso(3 * 86400), endAbsolute=iso(86400)) == 10
    assert total(startAbsolute=iso(20 * 86400), endAbsolute=iso(-7200)) == 1111
    assert total(startRelative="36h", endAbsolute=iso(86400)) == 10  # the 36 hours before endAbsolute
    assert total(startAbsolute=iso(3 * 86400), endRelative="2d") == 10  # the two days after startAbsolute
    spec_form = datetime.datetime.fromtimestamp(now - 3 * 86400, datetime.timezone.utc).strftime("%Y/%m/%d %H:%M")
    assert total(startAbsolute=spec_form, endRelative="3d") == 11
    # the aggregate's time is the start of the window
    answer = query(api, {"fields": ["count(*)"]}, params={"startAbsolute": iso(3 * 86400), "endAbsolute": iso(0)})
    assert rows(answer)[0]["values"][0][0] == iso(3 * 86400)
    # a time window is required ($timewindow), and well formed
    for params in ({}, {"startAbsolute": iso(3600)}, {"endAbsolute": iso(0)}, {"startRelative": "7 days"},
                   {"startRelative": "1y"}, {"startAbsolute": "last week", "endRelative": "1h"},
                   {"startRelative": "1h", "startAbsolute": iso(7200), "endAbsolute": iso(0)}):
        response = api.post("/statsqueries", {}, params=params)
        assert response.status_code == 400, (params, response.text)
    assert "Missing time window" in descriptions(api.post("/statsqueries", {}))[0]
    assert api.post("/statsqueries", {}, params={"startrelative": "1h"}).status_code == 400  # unknown parameter


def test_namespace_scoping(api):
    api.create("namespaces", {"name": "shop"})
    shop = api.fresh("/acme/shop")
    shop.create("namespaces", {"name": "batch"})
    api.create("namespaces", {"name": "other"})
    batch = api.fresh("/acme/shop/batch")
    other = api.fresh("/acme/other")
    assert shop.post("/flowreports", flow(namespace="/acme/shop", value=1)).status_code == 200
    assert shop.post("/flowreports", flow(namespace="/acme/shop/batch", value=10)).status_code == 200  # a child of X-Namespace
    assert other.post("/flowreports", flow(namespace="/acme/other", value=100)).status_code == 200
    assert batch.post("/flowreports", flow(namespace="/acme/shop", value=1)).status_code == 422  # the parent: not from here

    def total(client):
        return table(query(client, {"fields": ["sum(value)"]})).get((), [0])[0]

    assert total(api) == 111
    assert total(shop) == 11  # the child's flows are visible from the parent
    assert total(batch) == 10
    assert total(other) == 100  # and no other namespace's
    assert table(query(shop, {"fields": ["sum(value)"], "groups": ["namespace"]})) == {("/acme/shop",): [1], ("/acme/shop/batch",): [10]}
    assert load(api, [])["namespaces"] == {"/acme/other": 1, "/acme/shop": 1, "/acme/shop/batch": 1}
    # an X-Namespace that does not exist
    assert api.fresh("/acme/nowhere").post("/statsqueries", {}, params=WEEK).status_code == 403


def test_limit_offset_and_descending(api):
    load(api, [flow(sourceID="pu-%d" % i, value=i + 1, timestamp="-%dm" % (10 * (i + 1))) for i in range(5)])
    # aggregated: one point per series, the page is a run of series (in tag order)
    pages = []
    for offset in (0, 2, 4, 6):
        answer = query(api, {"fields": ["sum(value)"], "groups": ["sourceID"], "limit": 2, "offset": offset})
        assert answer["limit"] == 2 and answer["offset"] == offset
        pages.append([row["tags"]["sourceID"] for row in rows(answer)])
    assert pages == [["pu-0", "pu-1"], ["pu-2", "pu-3"], ["pu-4"], []]
    assert len(rows(query(api, {"fields": ["sum(value)"], "groups": ["sourceID"], "limit": -1, "offset": -1}))) == 5
    assert len(rows(query(api, {"fields": ["sum(value)"], "groups": ["sourceID"], "limit": 0, "offset": 0}))) == 5
    # raw points: ascending time by default, descending on demand, paged across the answer's points
    raw = rows(query(api, {"fields": ["sourceID"]}))[0]["values"]
    assert [p[1] for p in raw] == ["pu-4", "pu-3", "pu-2", "pu-1", "pu-0"]
    raw = rows(query(api, {"fields": ["sourceID"], "descending": True, "limit": 2, "offset": 1}))[0]["values"]
    assert [p[1] for p in raw] == ["pu-1", "pu-2"]
    # grouped raw points: the page may span series
    answer = query(api, {"fields": ["value"], "groups": ["sourceID"], "limit": 3, "offset": 1})
    assert [(row["tags"]["sourceID"], [p[1] for p in row["values"]]) for row in rows(answer)] == [
        ("pu-1", [2]), ("pu-2", [3]), ("pu-3", [4])]


def test_query_validation_and_other_measurements(api):
    load(api, [flow()])
    # the other measurements of the enum hold nothing in the lab
    for measurement in ("Audit", "Enforcers", "DNSLookups"):
        answer = query(api, {"measurement": measurement, "fields": ["sum(value)"]})
        assert answer["measurement"] == measurement and answer["results"] == [{"rows": []}]
    bad = api.post("/statsqueries", {"measurement": "Flow"}, params=WEEK)
    assert bad.status_code == 422 and errors_of(bad)[0]["data"] == {"attribute": "measurement"}
    assert descriptions(bad)[0].startswith("Data 'Flow' of attribute 'measurement' is not in list '[Flows Audit")
    for body, attribute in (({"fields": ["bytes"]}, "fields"), ({"fields": ["median(value)"]}, "fields"),
                            ({"fields": ["sum(action)"]}, "fields"), ({"fields": ["sum(*)"]}, "fields"),
                            ({"fields": ["sum(value)", "sourceID"]}, "fields"), ({"fields": ["sum(value"]}, "fields"),
                            ({"groups": ["value"]}, "groups"), ({"groups": ["timestamp"]}, "groups"), ({"groups": ["nope"]}, "groups"),
                            ({"results": [{"rows": []}]}, "results")):
        response = api.post("/statsqueries", body, params=WEEK)
        assert response.status_code == 422, (body, response.text)
        assert errors_of(response)[0]["data"] == {"attribute": attribute}, response.text
    assert api.post("/statsqueries", {"fields": "sum(value)"}, params=WEEK).status_code == 400
    assert api.post("/statsqueries", {"results": []}, params=WEEK).status_code == 200  # the zero value of a read-only attribute
    assert api.get("/statsqueries").status_code == 405


# ---------------------------------------------------------------- names of recordings


def test_named_ends_are_answered_with_ids(api):
    workloads = {"/acme/shop": [{"name": "web-1", "tags": ["app=web"]}, {"name": "db-1", "tags": ["app=db"]}],
                 "/acme/elsewhere": [{"name": "client-1"}]}
    api.admin("PUT", "/_lab/prisma/workloads", workloads)
    load(api, [flow(namespace="/acme/shop", value=2),
               flow(namespace="/acme/shop", sourceID="client-1", sourceNamespace="/acme/elsewhere", value=3),
               flow(namespace="/acme/shop", destinationType="ExternalNetwork", destinationID="internet", value=5)])
    answer = query(api, {"fields": ["sum(value)"], "groups": ["sourceID", "destinationID"]})
    assert table(answer) == {("client-1", "db-1"): [3], ("web-1", "db-1"): [2], ("web-1", "internet"): [5]}  # nothing to resolve yet
    api.create("namespaces", {"name": "shop"})
    api.create("namespaces", {"name": "elsewhere"})
    shop = api.fresh("/acme/shop")
    internet = api.create("externalnetworks", {"name": "internet", "entries": ["0.0.0.0/0"]})  # in an ancestor
    units = {u["name"]: u["ID"] for u in api.get("/processingunits", params={"recursive": "true"}).json()}
    answer = query(shop, {"fields": ["sum(value)"], "groups": ["sourceID", "destinationID"]})
    assert table(answer) == {(units["client-1"], units["db-1"]): [3], (units["web-1"], units["db-1"]): [2],
                             (units["web-1"], internet["ID"]): [5]}
    # filters see the IDs too
    assert table(query(shop, {"fields": ["sum(value)"], "filter": "sourceID == %s" % units["web-1"]})) == {(): [7]}
    # a network of the flow's own namespace wins over the ancestor's
    closer = shop.create("externalnetworks", {"name": "internet", "entries": ["0.0.0.0/0"]})
    assert table(query(shop, {"fields": ["sum(value)"], "groups": ["destinationID"], "filter": "destinationType == ExternalNetwork"})) == {
        (closer["ID"],): [5]}


# ---------------------------------------------------------------- admin route and reset


def test_admin_route_relative_timestamps_and_reset(api):
    assert api.admin("GET", ROUTE).json() == {"total": 0, "namespaces": {}}
    added = load(api, [flow(timestamp="-36h"), flow(namespace="/acme/team", timestamp="-6d23h"), flow(timestamp="now"), flow()])
    assert added == {"total": 4, "namespaces": {"/acme": 3, "/acme/team": 1}, "added": 4}
    raw = rows(query(api, {"fields": ["namespace"]}))[0]["values"]
    ages = sorted(time.time() - parse_time(point[0]) for point in raw)
    assert abs(ages[-1] - (6 * 86400 + 23 * 3600)) < 60 and abs(ages[-2] - 36 * 3600) < 60 and ages[0] < 60
    # a recording object ({"flows": [...], other keys are notes}) is accepted too; PUT replaces
    assert load(api, {"description": "x", "unwanted": [], "flows": [flow(value=9)]})["total"] == 5
    assert load(api, [flow(value=2)], method="PUT") == {"total": 1, "namespaces": {"/acme": 1}, "added": 1}
    # bad flows: nothing added, the first bad one named
    for body in ([flow(), flow(action="Drop")], [flow(timestamp="a while ago")], {"nope": 1}, "flows"):
        response = api.admin("POST", ROUTE, body)
        assert response.status_code == 400, response.text
    assert "flows[1]" in api.admin("POST", ROUTE, [flow(), flow(action="Drop")]).json()["error"]
    assert api.admin("GET", ROUTE).json()["total"] == 1
    assert api.admin("PATCH", ROUTE, []).status_code == 405
    # admin requests are not counted
    assert "routes" in api.counters() and not any("_lab" in route for route in api.counters()["routes"])
    assert api.admin("DELETE", ROUTE).json() == {"total": 0, "namespaces": {}}
    load(api, [flow()])
    assert api.post("/flowreports", flow()).status_code == 200
    assert api.admin("POST", "/_lab/reset").status_code == 200
    assert api.admin("GET", ROUTE).json()["total"] == 0
    assert query(api, {"fields": ["count(*)"]})["results"] == [{"rows": []}]


def test_hundred_thousand_flows(api):
    """A hundred thousand flows load, group, filter and page correctly (how fast is measured by benchmarks/flows_observed.py over the API)."""
    rng = random.Random(7)
    flows = [flow(sourceID="src-%d" % rng.randrange(60), destinationID="dst-%d" % rng.randrange(40), destinationPort=rng.choice([80, 443, 8080]),
                  namespace=rng.choice(["/acme", "/acme/a", "/acme/a/b"]), value=rng.randint(1, 9), timestamp="-%dm" % rng.randint(1, 9000))
             for dummy in range(100_000)]
    response = api.session.post(api.url + ROUTE, data=json.dumps(flows), timeout=120)
    assert response.status_code == 200 and response.json()["total"] == 100_000, response.text[:300]
    answer = query(api, {"fields": ["sum(value)"], "groups": ["sourceID", "destinationID"]})
    assert sum(values[0] for values in table(answer).values()) == sum(f["value"] for f in flows)
    assert len(rows(answer)) == len({(f["sourceID"], f["destinationID"]) for f in flows})
    answer = query(api, {"fields": ["sum(value)", "max(timestamp)"], "groups": ["destinationPort"], "filter": "destinationPort != 80"})
    assert sorted(table(answer)) == [("443",), ("8080",)]
    page = query(api, {"fields": ["sourceID", "value"], "limit": 100, "offset": 50_000, "descending": True})
    assert len(rows(page)[0]["values"]) == 100


# ---------------------------------------------------------------- the recorded week of the Hipster Shop


def test_hipster_recording(api):
    with open(RECORDING) as handle:
        document = json.load(handle)
    with open(WORKLOADS) as handle:
        workloads = json.load(handle)
    namespace = document["namespace"]
    assert namespace == "/acme/aws-dev/k8s/hipster-shop"
    recorded = document["flows"]
    assert 200 <= len(recorded) <= 500
    units = {u["name"] for u in workloads[namespace]}
    other = {u["name"] for u in workloads["/acme/aws-dev/k8s/default"]}
    for item in recorded:
        assert item["namespace"] == namespace and item["action"] == "Accept" and item["observedAction"] == "Accept"
        assert item["timestamp"].startswith("-")
        for side in ("source", "destination"):
            if item[side + "Type"] == "ProcessingUnit":
                assert item[side + "ID"] in (units | other if side == "source" else units), item
            else:
                assert item[side + "Type"] == "ExternalNetwork" and item[side + "ID"] in GUIDE_NETWORKS, item
    # every application flow of the guide's table is there
    services = {(f["sourceID"].rsplit("-", 2)[0] if f["sourceType"] == "ProcessingUnit" else f["sourceID"],
                 f["destinationID"].rsplit("-", 2)[0] if f["destinationType"] == "ProcessingUnit" else f["destinationID"],
                 f["destinationPort"], f["protocol"]) for f in recorded}
    for wanted in (("frontend", "cartservice", 7070, 6), ("checkoutservice", "paymentservice", 50051, 6), ("frontend", "DNS", 53, 17),
                   ("frontend", "metadata", 80, 6), ("productcatalogservice", "googleapis", 443, 6), ("internet", "frontend", 8080, 6),
                   ("kubelet", "cartservice", 7070, 6), ("cartservice", "redis-cart", 6379, 6)):
        assert wanted in services, wanted
    # the unwanted flows: indexes into flows, each entry's flows share one service
    unwanted = document["unwanted"]
    assert len(unwanted) >= 3
    indexes = [i for entry in unwanted for i in entry["flows"]]
    assert len(indexes) == len(set(indexes)) and all(0 <= i < len(recorded) for i in indexes)
    for entry in unwanted:
        assert {"name", "source", "destination", "service", "flows"} <= set(entry)
        protocol, port = entry["service"].split("/")
        assert all(recorded[i]["destinationPort"] == int(port) and recorded[i]["protocol"] == 6 for i in entry["flows"]), entry
    assert ("frontend", "redis-cart", 6379, 6) in {services_of(recorded[i]) for i in indexes}
    assert any(recorded[i]["destinationPort"] == 25 and recorded[i]["sourceID"].startswith("paymentservice-") for i in indexes)
    assert any(recorded[i]["destinationPort"] == 22 and recorded[i]["destinationType"] == "ExternalNetwork" for i in indexes)

    # loaded as it is through the admin route: all within the last 7 days
    assert load(api, document)["namespaces"] == {namespace: len(recorded)}
    everything = table(query(api, {"fields": ["count(*)", "sum(value)", "min(timestamp)", "max(timestamp)"]}, params={"startRelative": "30d"}))
    count, total, oldest, newest = everything[()]
    assert count == len(recorded) and total == sum(f["value"] for f in recorded)
    assert time.time() - parse_time(oldest) < 7 * 86400 and parse_time(newest) < time.time()
    assert table(query(api, {"fields": ["count(*)"]}))[()] == [len(recorded)]
    # visible from the guide's namespace once the guide created it, pods answered with their IDs
    api.create("namespaces", {"name": "aws-dev"})
    api.fresh("/acme/aws-dev").create("namespaces", {"name": "k8s", "type": "Kubernetes"})
    api.fresh("/acme/aws-dev/k8s").create("namespaces", {"name": "hipster-shop", "type": "Kubernetes"})
    shop = api.fresh(namespace)
    ids = {u["ID"]: u["name"] for u in shop.get("/processingunits").json()}
    answer = query(shop, {"fields": ["sum(value)"], "groups": ["sourceID", "destinationID"], "filter": "destinationPort == 6379"})
    pairs = {(ids.get(src, src), ids.get(dst, dst)) for src, dst in table(answer)}
    assert ("frontend-7d9f6c4b8-q9z7m", "redis-cart-5b9c8d7f6-pl3ty") in pairs
    assert ("cartservice-5c6f8d7b9-4hkdw", "redis-cart-5b9c8d7f6-pl3ty") in pairs


def services_of(item: dict) -> tuple:
    def end(side):
        return item[side + "ID"].rsplit("-", 2)[0] if item[side + "Type"] == "ProcessingUnit" else item[side + "ID"]

    return end("source"), end("destination"), item["destinationPort"], item["protocol"]


# ---------------------------------------------------------------- labctl --prisma-flows and SQLite


def test_recording_option_and_sqlite_restart(tmp_path):
    with open(RECORDING) as handle:
        recorded = len(json.load(handle)["flows"])
    assert labctl("start", "--dir", str(tmp_path / "none"), "--prisma-flows", "no-such-recording", check=False).returncode == 2
    state = tmp_path / "lab"
    labctl("start", "--dir", str(state), "--sqlite", "--prisma-flows", "hipster-week")
    try:
        client = PrismaClient(read_lab_json(state)["prisma"])
        assert client.admin("GET", ROUTE).json()["total"] == recorded
        assert client.post("/flowreports", flow(value=1000)).status_code == 200
        load(client, [flow(namespace="/acme/team", value=5, timestamp="-1h")])
    finally:
        labctl("stop", "--dir", str(state))
    # restarted on the same database: the flows are kept, the recording is not loaded twice
    labctl("start", "--dir", str(state), "--sqlite", "--prisma-flows", str(RECORDING))
    try:
        client = PrismaClient(read_lab_json(state)["prisma"])
        counts = client.admin("GET", ROUTE).json()
        assert counts["namespaces"] == {"/acme": 1, "/acme/aws-dev/k8s/hipster-shop": recorded, "/acme/team": 1}
        assert table(query(client, {"fields": ["sum(value)"], "filter": "namespace != /acme/aws-dev/k8s/hipster-shop"})) == {(): [1005]}
        # reset: the flows dropped, the recording loaded again (the startup state)
        assert client.admin("POST", "/_lab/reset").status_code == 200
        assert client.admin("GET", ROUTE).json()["namespaces"] == {"/acme/aws-dev/k8s/hipster-shop": recorded}
        assert client.admin("DELETE", ROUTE).json()["total"] == 0
    finally:
        labctl("stop", "--dir", str(state))
    labctl("start", "--dir", str(state), "--sqlite", "--prisma-flows", "hipster-week")
    try:
        client = PrismaClient(read_lab_json(state)["prisma"])
        assert client.admin("GET", ROUTE).json()["total"] == 0  # deleted flows stay deleted
    finally:
        labctl("stop", "--dir", str(state))
    # without SQLite the recording is loaded at every start
    labctl("start", "--dir", str(tmp_path / "memory"), "--prisma-flows", str(RECORDING))
    try:
        client = PrismaClient(read_lab_json(tmp_path / "memory")["prisma"])
        assert client.admin("GET", ROUTE).json()["total"] == recorded
    finally:
        labctl("stop", "--dir", str(tmp_path / "memory"))
