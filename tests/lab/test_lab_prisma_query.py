"""Prisma emulator: q filters, pagination, ordering, recursive and propagated listings, parameters."""

from __future__ import annotations

import pytest
from lab_helpers import descriptions, errors_of


@pytest.fixture
def nets(api):
    created = []
    for index, (name, kind, tags, propagate) in enumerate([
        ("alpha", "Subnet", ["env=prod", "tier=web"], False),
        ("bravo", "Subnet", ["env=dev"], True),
        ("charlie", "ENI", ["env=prod", "tier=db"], False),
        ("delta", "SecurityGroup", [], True),
        ("echo", "Subnet", ["env=prod"], False),
    ]):
        created.append(api.create("externalnetworks", {
            "name": name, "type": kind, "associatedTags": tags, "propagate": propagate,
            "entries": ["10.%d.0.0/16" % index], "description": "net %s" % name,
        }))
    return created


def names(response):
    assert response.status_code == 200, response.text
    return [o["name"] for o in response.json()]


@pytest.mark.parametrize("query, expected", [
    ('name == "alpha"', ["alpha"]),
    ("name == 'alpha'", ["alpha"]),
    ("name == alpha", ["alpha"]),
    ('name != "alpha"', ["bravo", "charlie", "delta", "echo"]),
    ('type in ["ENI", "SecurityGroup"]', ["charlie", "delta"]),
    ("type not in ['Subnet']", ["charlie", "delta"]),
    ('associatedTags contains ["env=prod"]', ["alpha", "charlie", "echo"]),
    ('associatedTags contains "tier=db"', ["charlie"]),
    ('associatedTags not contains ["env=prod"]', ["bravo", "delta"]),
    ('associatedTags == "env=dev"', ["bravo"]),
    ('normalizedTags contains ["$name=echo"]', ["echo"]),
    ('name matches "^[a-c]"', ["alpha", "bravo", "charlie"]),
    ('associatedTags contains ["env=prod"] and type == "Subnet"', ["alpha", "echo"]),
    ('name == "alpha" or name == "delta"', ["alpha", "delta"]),
    ('(name == "alpha" or name == "bravo") and propagate == true', ["bravo"]),
    ('type == "Subnet" and (associatedTags contains ["tier=web"] or name == "bravo")', ["alpha", "bravo"]),
    ("propagate == false", ["alpha", "charlie", "echo"]),
    ('NAME == "alpha"', ["alpha"]),
    ('description == "net echo"', ["echo"]),
    ('namespace == "/acme" and name == "delta"', ["delta"]),
    ('name == "zulu"', []),
])
def test_q_filters(api, nets, query, expected):
    assert names(api.get("/externalnetworks", params={"q": query})) == expected


def test_q_by_id_and_multiple_q_are_ored(api, nets):
    assert names(api.get("/externalnetworks", params={"q": 'ID == "%s"' % nets[2]["ID"]})) == ["charlie"]
    assert names(api.get("/externalnetworks", params=[("q", 'name == "alpha"'), ("q", 'name == "echo"')])) == ["alpha", "echo"]


def test_bad_filters_are_400(api, nets):
    for query in ('name == "unterminated', "name ==", "(name == a", 'name matches "("'):
        response = api.get("/externalnetworks", params={"q": query})
        assert response.status_code == 400, query
        assert errors_of(response)[0]["title"] == "Bad Request"


def test_pagination_and_total(api, nets):
    response = api.get("/externalnetworks", params={"page": 2, "pagesize": 2})
    assert names(response) == ["charlie", "delta"]
    assert response.headers["X-Count-Total"] == "5"
    assert names(api.get("/externalnetworks", params={"page": 3, "pagesize": 2})) == ["echo"]
    assert names(api.get("/externalnetworks", params={"page": 4, "pagesize": 2})) == []
    assert names(api.get("/externalnetworks", params={"pagesize": 0})) == ["alpha", "bravo", "charlie", "delta", "echo"]
    assert names(api.get("/externalnetworks", params={"pagesize": 2})) == ["alpha", "bravo"]
    filtered = api.get("/externalnetworks", params={"q": 'type == "Subnet"', "page": 1, "pagesize": 1})
    assert names(filtered) == ["alpha"] and filtered.headers["X-Count-Total"] == "3"
    assert descriptions(api.get("/externalnetworks", params={"page": "x"})) == ["Parameter `page` must be an integer"]
    assert descriptions(api.get("/externalnetworks", params={"pagesize": "x"})) == ["Parameter `pagesize` must be an integer"]


def test_cursor_pagination(api, nets):
    first = api.get("/externalnetworks", params={"limit": 2})
    assert names(first) == ["alpha", "bravo"]
    second = api.get("/externalnetworks", params={"limit": 2, "after": first.headers["X-Next"]})
    assert names(second) == ["charlie", "delta"]
    assert api.get("/externalnetworks", params={"limit": 2, "pagesize": 2}).status_code == 400


def test_order(api, nets):
    assert names(api.get("/externalnetworks", params={"order": "-name"})) == ["echo", "delta", "charlie", "bravo", "alpha"]
    ordered = names(api.get("/externalnetworks", params=[("order", "type"), ("order", "-name")]))
    assert ordered == ["charlie", "delta", "echo", "bravo", "alpha"]
    assert api.get("/externalnetworks", params={"order": ""}).status_code == 400


def test_unknown_parameters_are_400(api, nets):
    response = api.get("/externalnetworks", params={"filter": "x"})
    assert response.status_code == 400
    assert errors_of(response)[0] | {"trace": ""} == {
        "code": 400, "title": "Bad Request", "description": "Unknown parameter: `filter`", "subject": "elemental", "trace": ""}
    # q is declared for list and delete, not for retrieve/update
    assert descriptions(api.get("/externalnetworks/" + nets[0]["ID"], params={"q": "x == y"})) == ["Unknown parameter: `q`"]
    assert api.put("/externalnetworks/" + nets[0]["ID"], nets[0], params={"archived": "true"}).status_code == 400
    # archived is declared for services/externalnetworks listings only
    assert api.get("/externalnetworks", params={"archived": "true"}).status_code == 200
    assert descriptions(api.get("/networkrulesetpolicies", params={"archived": "true"})) == ["Unknown parameter: `archived`"]
    assert descriptions(api.get("/externalnetworks", params={"archived": "maybe"})) == ["Parameter 'archived' must be a boolean, got 'maybe'"]
    # global parameters are accepted everywhere
    assert api.get("/externalnetworks/" + nets[0]["ID"], params={"recursive": "true", "override": "true"}).status_code == 200


def test_delete_with_q(api, nets):
    target = nets[0]
    assert api.delete("/externalnetworks/" + target["ID"], params={"q": 'name == "nope"'}).status_code == 404
    assert api.delete("/externalnetworks/" + target["ID"], params={"q": 'name == "alpha"'}).status_code == 200


def test_recursive_and_propagated(api, nets):
    api.create("namespaces", {"name": "child"})
    child = api.fresh("/acme/child")
    child.create("namespaces", {"name": "grand"})
    grand = api.fresh("/acme/child/grand")
    local = child.create("externalnetworks", {"name": "local", "entries": ["192.168.0.0/16"], "propagate": True})
    deep = grand.create("externalnetworks", {"name": "deep", "entries": ["192.168.1.0/24"]})

    assert names(child.get("/externalnetworks")) == ["local"]
    # propagated: ancestors' objects with propagate=true (bravo, delta from /acme)
    assert names(child.get("/externalnetworks", params={"propagated": "true"})) == ["bravo", "delta", "local"]
    assert names(grand.get("/externalnetworks", params={"propagated": "true"})) == ["bravo", "deep", "delta", "local"]
    # recursive: descendants
    assert names(child.get("/externalnetworks", params={"recursive": "true"})) == ["deep", "local"]
    assert len(api.get("/externalnetworks", params={"recursive": "true"}).json()) == 7
    # get one
    assert grand.get("/externalnetworks/" + nets[1]["ID"]).status_code == 404
    assert grand.get("/externalnetworks/" + nets[1]["ID"], params={"propagated": "true"}).json()["name"] == "bravo"
    assert grand.get("/externalnetworks/" + nets[0]["ID"], params={"propagated": "true"}).status_code == 404
    assert api.get("/externalnetworks/" + deep["ID"]).status_code == 404
    assert api.get("/externalnetworks/" + deep["ID"], params={"recursive": "true"}).json()["name"] == "deep"
    # an update/delete through recursive
    assert api.delete("/externalnetworks/" + local["ID"], params={"recursive": "true"}).status_code == 200
    # namespaces listing is per parent; recursive shows the whole subtree
    assert [n["name"] for n in api.get("/namespaces").json()] == ["/acme/child"]
    assert [n["name"] for n in api.get("/namespaces", params={"recursive": "true"}).json()] == ["/acme/child", "/acme/child/grand"]


def test_head_count_with_filter(api, nets):
    response = api.request("HEAD", "/externalnetworks", params={"q": 'type == "Subnet"'})
    assert response.status_code == 204
    assert response.headers["X-Count-Total"] == "3"
