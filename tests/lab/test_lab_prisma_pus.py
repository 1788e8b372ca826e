"""Prisma processing units: the identity, the simulated enforcers (workloads fixture) and the ruleset relations."""

from __future__ import annotations

import json

from lab_helpers import PrismaClient, errors_of, labctl, read_lab_json

ROUTE = "/_lab/prisma/workloads"
APP = "/acme/shop"
FIXTURE = {
    APP: [
        {"name": "web-1", "type": "Docker", "tags": ["app=web", "@app:k8s:namespace=shop"]},
        {"name": "web-2", "type": "Docker", "tags": ["app=web", "env=canary"]},
        {"name": "db-1", "type": "Docker", "tags": ["app=db"], "networkServices": [{"protocol": 6, "targetPorts": ["5432"]}]},
    ],
    "/acme/shop/batch": [{"name": "job-1", "type": "LinuxService", "tags": ["app=job"]}],
}


def put_fixture(api, fixture=None, method="PUT"):
    response = api.admin(method, ROUTE, FIXTURE if fixture is None else fixture)
    assert response.status_code == 200, response.text
    return response.json()


def names(objects):
    return sorted(o["name"] for o in objects)


def make_shop(api):
    put_fixture(api)
    api.create("namespaces", {"name": "shop", "tagPrefixes": ["app="]})
    return api.fresh(APP)


def test_units_appear_when_the_namespace_is_created(api):
    put_fixture(api)
    assert api.get("/processingunits", params={"recursive": "true"}).json() == []
    shop = make_shop_ns(api)
    units = shop.get("/processingunits").json()
    assert names(units) == ["db-1", "web-1", "web-2"]
    web = next(u for u in units if u["name"] == "web-1")
    assert web["namespace"] == APP and web["type"] == "Docker" and web["operationalStatus"] == "Running"
    assert web["associatedTags"] == ["app=web"] and web["metadata"] == ["@app:k8s:namespace=shop"]
    assert web["normalizedTags"] == ["$identity=processingunit", "$name=web-1", "$namespace=%s" % APP, "$id=%s" % web["ID"],
                                     "app=web", "@app:k8s:namespace=shop"]
    db = next(u for u in units if u["name"] == "db-1")
    assert db["networkServices"] == [{"ports": "", "protocol": 6, "targetPorts": ["5432"]}]
    # the child namespace gets its own units when it is created, once
    shop.create("namespaces", {"name": "batch"})
    assert names(api.get("/processingunits", params={"recursive": "true"}).json()) == ["db-1", "job-1", "web-1", "web-2"]
    put_fixture(api, FIXTURE, method="POST")
    assert len(api.get("/processingunits", params={"recursive": "true"}).json()) == 4


def make_shop_ns(api):
    api.create("namespaces", {"name": "shop", "tagPrefixes": ["app="]})
    return api.fresh(APP)


def test_fixture_applies_to_existing_namespaces_and_post_adds(api):
    shop = make_shop_ns(api)
    assert shop.get("/processingunits").json() == []
    got = put_fixture(api, {APP: FIXTURE[APP][:1]})
    assert list(got) == [APP] and got[APP][0]["name"] == "web-1"
    assert names(shop.get("/processingunits").json()) == ["web-1"]
    got = put_fixture(api, {APP: FIXTURE[APP]}, method="POST")
    assert names(shop.get("/processingunits").json()) == ["db-1", "web-1", "web-2"]
    assert api.admin("GET", ROUTE).json() == got
    assert api.counters()["total"] == 4  # one create, three lists: admin routes are not counted


def test_bad_fixture_is_refused(api):
    for body, text in (([], "JSON object"), ({"relative": []}, "absolute namespace"), ({APP: [{"type": "Docker"}]}, "name is required"),
                       ({APP: [{"name": "a", "type": "Pod"}]}, "type must be one of"),
                       ({APP: [{"name": "a", "tags": ["$identity=x"]}]}, "generated"),
                       ({APP: [{"name": "a"}, {"name": "a"}]}, "two processing units"),
                       ({APP: [{"name": "a", "color": "red"}]}, "unknown key")):
        response = api.admin("PUT", ROUTE, body)
        assert response.status_code == 400 and text in response.json()["error"], (body, response.text)
    assert api.admin("DELETE", ROUTE).status_code == 405


def test_deleting_the_namespace_deletes_its_units(api):
    make_shop(api)
    api.fresh(APP).create("namespaces", {"name": "batch"})
    assert len(api.get("/processingunits", params={"recursive": "true"}).json()) == 4
    shop_ns = api.get("/namespaces", params={"q": 'name == "%s"' % APP}).json()[0]
    assert api.delete("/namespaces/" + shop_ns["ID"]).status_code == 200
    assert api.get("/processingunits", params={"recursive": "true"}).json() == []
    # created again: the enforcers report the units again
    make_shop_ns(api)
    assert len(api.fresh(APP).get("/processingunits").json()) == 3


def test_list_filters_paging_recursive_get_and_delete(api):
    shop = make_shop(api)
    assert api.get("/processingunits").json() == []  # not recursive: /acme holds none
    found = shop.get("/processingunits", params={"q": 'normalizedTags contains "app=web"'}).json()
    assert names(found) == ["web-1", "web-2"]
    found = shop.get("/processingunits", params={"q": 'type == "Docker" and name == "db-1"'}).json()
    assert names(found) == ["db-1"]
    page = shop.get("/processingunits", params={"page": 2, "pagesize": 2})
    assert names(page.json()) == ["web-2"] and page.headers["X-Count-Total"] == "3"
    head = shop.request("HEAD", "/processingunits")
    assert head.status_code == 204 and head.headers["X-Count-Total"] == "3"
    one = found[0]
    assert shop.get("/processingunits/" + one["ID"]).json()["name"] == "db-1"
    assert api.get("/processingunits/" + one["ID"]).status_code == 404  # not visible from /acme without recursive
    assert shop.delete("/processingunits/" + one["ID"]).status_code == 200
    assert names(shop.get("/processingunits").json()) == ["web-1", "web-2"]


def test_create_through_the_api_is_validated(api):
    shop = make_shop_ns(api)
    created = shop.create("processingunits", {"name": "vm-1", "type": "Host", "associatedTags": ["app=vm"], "metadata": ["@os=linux"]})
    assert created["namespace"] == APP
    assert created["normalizedTags"][:3] == ["$identity=processingunit", "$name=vm-1", "$namespace=%s" % APP]
    assert {"app=vm", "@os=linux"} <= set(created["normalizedTags"])
    bad = shop.post("/processingunits", {"name": "x", "type": "Pod"})
    assert bad.status_code == 422 and "type" in errors_of(bad)[0]["description"]
    bad = shop.post("/processingunits", {"name": "x", "type": "Docker", "associatedTags": ["$identity=processingunit"]})
    assert bad.status_code == 422


def test_units_are_not_policy_objects(api):
    make_shop(api)
    exported = api.post("/export", {"label": "all"}, namespace=APP)
    assert exported.status_code == 200
    assert "processingunits" not in exported.json()["data"]
    refused = api.post("/export", {"identities": ["processingunit"]}, namespace=APP)
    assert refused.status_code == 422
    refused = api.post("/import", {"data": {"label": "x", "data": {"processingunits": [{"name": "a", "type": "Docker"}]}}}, namespace=APP)
    assert refused.status_code == 422


def test_reset_restores_the_fixture_file(api):
    put_fixture(api, {"/acme": [{"name": "tenant-host", "type": "Host"}]})
    assert names(api.get("/processingunits").json()) == ["tenant-host"]
    assert api.admin("POST", "/_lab/reset").status_code == 200
    assert api.admin("GET", ROUTE).json().get("/acme") is None
    assert api.get("/processingunits").json() == []


def test_relations_select_what_the_expressions_select(api):
    """The object selects the internet network through $namespace (S5); user tags need a tag prefix (S8)."""
    shop = make_shop(api)
    internet = shop.create("externalnetworks", {"name": "internet", "entries": ["0.0.0.0/0"], "associatedTags": ["net=internet"]})
    ruleset = shop.create("networkrulesetpolicies", {
        "name": "allow-namespace", "subject": [["$namespace=%s" % APP]],
        "incomingRules": [{"action": "Allow", "object": [["$namespace=%s" % APP]], "protocolPorts": ["any"]}],
    })
    base = "/networkrulesetpolicies/%s/" % ruleset["ID"]
    assert [n["ID"] for n in shop.get(base + "externalnetworks", params={"mode": "object"}).json()] == [internet["ID"]]
    assert names(shop.get(base + "processingunits", params={"mode": "object"}).json()) == ["db-1", "web-1", "web-2"]
    assert names(shop.get(base + "processingunits", params={"mode": "subject"}).json()) == ["db-1", "web-1", "web-2"]
    fixed = shop.create("networkrulesetpolicies", {
        "name": "pods-only", "subject": [["app=web"]],
        "incomingRules": [{"action": "Allow", "object": [["$identity=processingunit", "$namespace=%s" % APP]], "protocolPorts": ["any"]},
                          {"action": "Allow", "object": [["env=canary"]], "protocolPorts": ["any"]}],
    })
    base = "/networkrulesetpolicies/%s/" % fixed["ID"]
    assert shop.get(base + "externalnetworks", params={"mode": "object"}).json() == []
    assert names(shop.get(base + "processingunits", params={"mode": "subject"}).json()) == ["web-1", "web-2"]
    # env= has no tag prefix in /acme/shop or above: the second rule selects nobody
    assert names(shop.get(base + "processingunits", params={"mode": "object"}).json()) == ["db-1", "web-1", "web-2"]
    only_canary = shop.create("networkrulesetpolicies", {
        "name": "canary", "subject": [["app=web"]], "outgoingRules": [{"action": "Allow", "object": [["env=canary"]], "protocolPorts": ["any"]}]})
    assert shop.get("/networkrulesetpolicies/%s/processingunits" % only_canary["ID"]).json() == []
    assert api.post("/tagprefixes", {"prefixes": ["app=", "env="]}, namespace=APP).status_code == 200
    assert names(shop.get("/networkrulesetpolicies/%s/processingunits" % only_canary["ID"]).json()) == ["web-2"]
    counted = shop.request("HEAD", "/networkrulesetpolicies/%s/processingunits" % only_canary["ID"])
    assert counted.status_code == 204 and counted.headers["X-Count-Total"] == "1"


def test_fixture_option_and_sqlite_restart(tmp_path):
    fixture = tmp_path / "workloads.json"
    fixture.write_text(json.dumps({"/acme": [{"name": "bastion", "type": "Host", "tags": ["role=bastion"]}]}))
    state = tmp_path / "lab"
    labctl("start", "--dir", str(state), "--sqlite", "--prisma-workloads", str(fixture))
    try:
        client = PrismaClient(read_lab_json(state)["prisma"])
        first = client.get("/processingunits").json()
        assert names(first) == ["bastion"]
        assert client.admin("POST", ROUTE, {"/acme/extra": [{"name": "x-1"}]}).status_code == 200
        client.create("namespaces", {"name": "extra"})
    finally:
        labctl("stop", "--dir", str(state))
    labctl("start", "--dir", str(state), "--sqlite", "--prisma-workloads", str(fixture))
    try:
        client = PrismaClient(read_lab_json(state)["prisma"])
        again = client.get("/processingunits", params={"recursive": "true"}).json()
        # kept across the restart, not reported twice, the admin route's addition kept too
        assert names(again) == ["bastion", "x-1"]
        assert next(u["ID"] for u in again if u["name"] == "bastion") == first[0]["ID"]
        assert set(client.admin("GET", ROUTE).json()) == {"/acme", "/acme/extra"}
    finally:
        labctl("stop", "--dir", str(state))
