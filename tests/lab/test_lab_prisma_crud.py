"""Prisma emulator: routes, auth, headers, object shapes and CRUD of every identity."""

from __future__ import annotations

import copy
import re

import pytest
from lab_helpers import VALID_BODIES, descriptions, errors_of

ID_RE = re.compile(r"^[0-9a-f]{24}$")
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$")


# ---------------------------------------------------------------- auth, routing, headers


def test_missing_or_bad_token_is_401(api):
    for response in (
        api.get("/externalnetworks", auth=False),
        api.get("/externalnetworks", token="not-a-token"),
        api.get("/externalnetworks", headers={"Authorization": "Basic abc"}),
        api.get("/externalnetworks", token=api.token[:-4] + "AAAA"),
    ):
        assert response.status_code == 401
        err = errors_of(response)[0]
        assert err["code"] == 401 and err["title"] == "Unauthorized"
        assert err["description"] == "You are not authorized to access this resource."


def test_static_token_and_version_prefix(api):
    assert api.get("/externalnetworks").status_code == 200
    assert api.get("/v/1/externalnetworks").status_code == 200
    created = api.create("externalnetworks", VALID_BODIES["externalnetworks"])
    assert api.get("/v/1/externalnetworks/" + created["ID"]).json()["ID"] == created["ID"]


def test_missing_namespace_header_is_400_and_unknown_namespace_403(api):
    response = api.get("/externalnetworks", namespace="")
    assert response.status_code == 400
    assert errors_of(response)[0]["title"] == "Bad Request"
    response = api.get("/externalnetworks", namespace="/nope")
    assert response.status_code == 403
    assert errors_of(response)[0]["description"] == "You are not allowed to access this resource."


def test_unknown_routes_are_404(api):
    for path in ("/nothing", "/", "/v/1/nothing", "/_meta/nothing", "/networkrulesetpolicies/abc/unknownchildren"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert errors_of(response)[0]["title"] == "Not Found"


def test_missing_object_is_404(api):
    for resource in VALID_BODIES:
        response = api.get("/%s/5d2398157ddf1f3519ce6d96" % resource)
        assert response.status_code == 404
        response = api.delete("/%s/5d2398157ddf1f3519ce6d96" % resource)
        assert response.status_code == 404


def test_undeclared_operations_are_405(api):
    cases = [
        ("PUT", "/networkrulesetpolicies", "Update operation not allowed on networkrulesetpolicies"),
        ("DELETE", "/externalnetworks", "Delete operation not allowed on externalnetworks"),
        ("GET", "/issue", "RetrieveMany operation not allowed on issue"),
        ("PUT", "/issue", "Update operation not allowed on issue"),
        ("GET", "/import", "RetrieveMany operation not allowed on import"),
        ("PUT", "/putrafficactions/abc", "Update operation not allowed on putrafficactions"),
        ("PATCH", "/services/abc", "Patch operation not allowed on services"),
        ("POST", "/services/abc", "Create operation not allowed on services"),
    ]
    for method, path, message in cases:
        response = api.request(method, path, json={})
        assert response.status_code == 405, (method, path, response.text)
        err = errors_of(response)[0]
        assert err["title"] == "Not allowed"
        assert err["description"] == message
        assert err["subject"] == "bahamut"


def test_error_shape(api):
    response = api.post("/externalnetworks", {})
    assert response.status_code == 422
    assert response.headers["Content-Type"].startswith("application/json")
    err = errors_of(response)[0]
    assert set(err) >= {"code", "title", "description", "subject", "data", "trace"}
    assert err == {**err, "code": 422, "title": "Validation Error", "description": "Attribute 'name' is required",
                   "subject": "elemental", "data": {"attribute": "name"}}


def test_bad_json_and_wrong_types_are_400(api):
    response = api.request("POST", "/externalnetworks", data=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    response = api.post("/services", {**VALID_BODIES["services"], "exposedPort": "443"})
    assert response.status_code == 400
    assert "exposedPort" in errors_of(response)[0]["description"]
    response = api.post("/externalnetworks", ["not", "an", "object"])
    assert response.status_code == 400


def test_unknown_keys_are_ignored(api):
    body = {**VALID_BODIES["externalnetworks"], "protocols": ["tcp"], "ports": ["80"], "zone": 3, "archived": True}
    created = api.create("externalnetworks", body)
    for key in ("protocols", "ports", "zone", "archived"):
        assert key not in created


# ---------------------------------------------------------------- shapes


EXPECTED_KEYS = {
    "externalnetworks": {"ID", "annotations", "associatedTags", "createTime", "description", "entries", "metadata", "name",
                         "namespace", "normalizedTags", "propagate", "protected", "servicePorts", "type", "updateTime"},
    "servicedependencypolicies": {"ID", "activeDuration", "activeSchedule", "annotations", "associatedTags", "createTime",
                                  "description", "disabled", "fallback", "metadata", "name", "namespace", "normalizedTags",
                                  "object", "propagate", "protected", "subject", "updateTime"},
    "enforcerprofilemappingpolicies": {"ID", "annotations", "associatedTags", "createTime", "description", "disabled", "fallback",
                                       "metadata", "name", "namespace", "normalizedTags", "object", "propagate", "protected",
                                       "subject", "updateTime"},
}


def test_full_objects_with_defaults(api):
    ext = api.create("externalnetworks", {"name": "n", "entries": ["10.0.0.0/8"]})
    assert set(ext) == EXPECTED_KEYS["externalnetworks"]
    assert ext["type"] == "Subnet" and ext["servicePorts"] == [] and ext["annotations"] == {} and ext["propagate"] is False
    svc = api.create("services", VALID_BODIES["services"])
    assert svc["authorizationType"] == "None" and svc["exposedServiceIsTLS"] is False and svc["external"] is False
    assert svc["endpoints"] == [] and svc["claimsToHTTPHeaderMappings"] == [] and svc["OIDCScopes"] == []
    assert svc["TLSCertificateKey"] == "" and svc["proxyProtocolPreserveHeader"] is False
    assert "archived" not in svc and "zone" not in svc and "allAPITags" not in svc
    assert api.create("services", {**VALID_BODIES["services"], "name": "h", "TLSType": "Aporeto"})["type"] == "TCP"
    untyped = {k: v for k, v in VALID_BODIES["services"].items() if k not in ("type", "TLSType")}
    svc2 = api.create("services", untyped)
    assert svc2["type"] == "HTTP" and svc2["TLSType"] == "Aporeto"
    prof = api.create("enforcerprofiles", {"name": "p"})
    assert prof["flowReportInterval"] == "30m" and prof["syslogFacility"] == 1 and prof["syslogFormat"] == "Auto"
    assert prof["kubernetesMetadataExtractor"] == "PodAtomic" and prof["metadataExtractor"] == "Docker"
    sdp = api.create("servicedependencypolicies", VALID_BODIES["servicedependencypolicies"])
    assert set(sdp) == EXPECTED_KEYS["servicedependencypolicies"]
    epm = api.create("enforcerprofilemappingpolicies", VALID_BODIES["enforcerprofilemappingpolicies"])
    assert set(epm) == EXPECTED_KEYS["enforcerprofilemappingpolicies"]


def test_networkrule_omits_empty_name_and_networks(api):
    body = copy.deepcopy(VALID_BODIES["networkrulesetpolicies"])
    body["incomingRules"][0]["name"] = "web-in"
    body["incomingRules"][0]["networks"] = [{"ID": "x", "entries": ["1.2.3.4/32"]}]
    created = api.create("networkrulesetpolicies", body)
    incoming, outgoing = created["incomingRules"][0], created["outgoingRules"][0]
    assert incoming["name"] == "web-in"
    assert "networks" not in incoming
    assert "name" not in outgoing and "networks" not in outgoing
    assert outgoing == {"action": "Allow", "logsDisabled": False, "object": [["externalnetwork:name=internet"]],
                        "observationEnabled": False, "protocolPorts": ["any"]}


def test_rule_action_defaults_to_allow(api):
    body = copy.deepcopy(VALID_BODIES["networkrulesetpolicies"])
    del body["incomingRules"][0]["action"]
    body["outgoingRules"][0]["action"] = ""
    created = api.create("networkrulesetpolicies", body)
    assert created["incomingRules"][0]["action"] == "Allow"
    assert created["outgoingRules"][0]["action"] == "Allow"


def test_autogenerated_fields(api):
    created = api.create("externalnetworks", {**VALID_BODIES["externalnetworks"], "metadata": ["@app:owner=team-a"]})
    assert ID_RE.match(created["ID"])
    assert created["namespace"] == "/acme"
    assert TIME_RE.match(created["createTime"]) and TIME_RE.match(created["updateTime"])
    assert created["normalizedTags"] == [
        "$identity=externalnetwork", "$name=internet", "$namespace=/acme", "$id=" + created["ID"],
        "externalnetwork:name=internet", "@app:owner=team-a",
    ]


@pytest.mark.parametrize("resource", sorted(set(VALID_BODIES) - {"namespaces"}))
def test_crud_per_kind(api, resource):
    body = VALID_BODIES[resource]
    created = api.create(resource, body)
    for key, value in body.items():
        assert created[key] == value or key in ("incomingRules", "outgoingRules"), key
    # read one and list
    fetched = api.get("/%s/%s" % (resource, created["ID"]))
    assert fetched.status_code == 200 and fetched.json() == created
    listed = api.get("/" + resource)
    assert listed.status_code == 200 and listed.headers["X-Count-Total"] == str(len(listed.json()))
    assert created["ID"] in [o["ID"] for o in listed.json()]
    # head = count
    head = api.request("HEAD", "/" + resource)
    assert head.status_code == 204 and head.headers["X-Count-Total"] == listed.headers["X-Count-Total"]
    # full update (GET, change, PUT the whole object back)
    changed = dict(created, description="updated by test", associatedTags=["team=a"])
    updated = api.put("/%s/%s" % (resource, created["ID"]), changed)
    assert updated.status_code == 200, updated.text
    after = updated.json()
    assert after["description"] == "updated by test" and after["associatedTags"] == ["team=a"]
    assert after["createTime"] == created["createTime"] and after["ID"] == created["ID"]
    assert "team=a" in after["normalizedTags"]
    assert api.get("/%s/%s" % (resource, created["ID"])).json() == after
    # delete returns the deleted object
    deleted = api.delete("/%s/%s" % (resource, created["ID"]))
    assert deleted.status_code == 200 and deleted.json()["ID"] == created["ID"]
    assert api.get("/%s/%s" % (resource, created["ID"])).status_code == 404


def test_put_is_a_full_update(api):
    created = api.create("externalnetworks", {**VALID_BODIES["externalnetworks"], "description": "keep?", "servicePorts": ["tcp/80"]})
    body = {k: created[k] for k in ("ID", "namespace", "createTime", "updateTime", "name", "entries")}
    updated = api.put("/externalnetworks/" + created["ID"], body).json()
    assert updated["description"] == "" and updated["servicePorts"] == [] and updated["associatedTags"] == []


def test_objects_are_scoped_to_the_namespace(api):
    child = api.create("namespaces", {"name": "child"})
    created = api.create("externalnetworks", VALID_BODIES["externalnetworks"])
    other = api.fresh(child["name"])
    assert other.get("/externalnetworks/" + created["ID"]).status_code == 404
    assert other.get("/externalnetworks").json() == []
    assert other.delete("/externalnetworks/" + created["ID"]).status_code == 404
    assert other.put("/externalnetworks/" + created["ID"], created).status_code == 404


def test_x_fields(api):
    created = api.create("externalnetworks", VALID_BODIES["externalnetworks"], headers={"X-Fields": "ID"})
    assert list(created) == ["ID"]
    listed = api.get("/externalnetworks", headers={"X-Fields": "name, entries"}).json()
    assert listed == [{"entries": ["0.0.0.0/0"], "name": "internet"}]


# ---------------------------------------------------------------- namespaces


def test_namespace_create_full_path_duplicate_and_lookup(api):
    created = api.create("namespaces", {"name": "prod", "type": "Group", "defaultPUIncomingTrafficAction": "Allow",
                                        "defaultPUOutgoingTrafficAction": "Allow", "tagPrefixes": ["app", "env"]})
    assert created["name"] == "/acme/prod" and created["namespace"] == "/acme"
    assert created["type"] == "Group" and created["tagPrefixes"] == ["app", "env"]
    assert created["normalizedTags"][:3] == ["$identity=namespace", "$name=/acme/prod", "$namespace=/acme"]
    duplicate = api.post("/namespaces", {"name": "prod"})
    assert duplicate.status_code == 422
    assert errors_of(duplicate)[0]["title"] == "Duplicate Key"
    assert errors_of(duplicate)[0]["description"] == "Another object exists with the same key"
    found = api.get("/namespaces", params={"q": 'name == "/acme/prod"'}).json()
    assert [n["ID"] for n in found] == [created["ID"]]
    # grandchild
    grand = api.fresh("/acme/prod").create("namespaces", {"name": "k8s", "type": "Kubernetes"})
    assert grand["name"] == "/acme/prod/k8s" and grand["namespace"] == "/acme/prod"
    # the root tenant is visible from /
    root = api.fresh("/").get("/namespaces").json()
    assert [(n["name"], n["type"]) for n in root] == [("/acme", "Tenant")]


def test_namespace_defaults_and_enums(api):
    created = api.create("namespaces", {"name": "dflt"})
    assert created["type"] == "Default"
    assert created["defaultPUIncomingTrafficAction"] == "Inherit" and created["defaultPUOutgoingTrafficAction"] == "Inherit"
    assert created["serviceCertificateValidity"] == "168h" and created["JWTCertificateType"] == "None"
    bad = api.post("/namespaces", {"name": "x", "defaultPUIncomingTrafficAction": "Discover"})
    assert descriptions(bad) == ["Data 'Discover' of attribute 'defaultPUIncomingTrafficAction' is not in list '[Allow Reject Inherit]'"]
    bad = api.post("/namespaces", {"name": "bad name"})
    assert descriptions(bad) == ["Data 'bad name' of attribute 'name' must only contain alpha numerical characters, '-' or '_'"]


def test_namespace_creation_only_fields(api):
    created = api.create("namespaces", {"name": "co", "type": "Group"})
    for field, value in (("type", "Kubernetes"), ("name", "/acme/other"), ("customZoning", True)):
        response = api.put("/namespaces/" + created["ID"], dict(created, **{field: value}))
        assert response.status_code == 422, field
        err = errors_of(response)[0]
        assert err["title"] == "Creation Only Error"
        assert err["description"] == "Field %s can only be set during creation. You cannot modify its value." % field
        assert err["data"] == {"attribute": field}
    # discovery mode can change
    updated = api.put("/namespaces/" + created["ID"], dict(created, defaultPUIncomingTrafficAction="Allow"))
    assert updated.status_code == 200 and updated.json()["defaultPUIncomingTrafficAction"] == "Allow"


def test_group_and_kubernetes_namespaces_get_a_default_sdp(api):
    group = api.create("namespaces", {"name": "grp", "type": "Group"})
    sdps = api.fresh(group["name"]).get("/servicedependencypolicies").json()
    assert [(s["name"], s["subject"], s["object"]) for s in sdps] == [
        ("default", [["$identity=processingunit", "$namespace=/acme/grp"]], [["$identity=service", "$namespace=/acme/grp"]]),
    ]
    plain = api.create("namespaces", {"name": "plain"})
    assert api.fresh(plain["name"]).get("/servicedependencypolicies").json() == []


def test_namespace_delete_cascades(api):
    team = api.create("namespaces", {"name": "team"})
    inner = api.fresh("/acme/team")
    inner.create("externalnetworks", VALID_BODIES["externalnetworks"])
    sub = inner.create("namespaces", {"name": "sub"})
    api.fresh("/acme/team/sub").create("networkrulesetpolicies", VALID_BODIES["networkrulesetpolicies"])
    deleted = api.delete("/namespaces/" + team["ID"])
    assert deleted.status_code == 200 and deleted.json()["name"] == "/acme/team"
    assert inner.get("/externalnetworks").status_code == 403
    assert api.get("/namespaces/" + sub["ID"], namespace="/acme/team").status_code == 403
    assert api.get("/namespaces", params={"recursive": "true"}).json() == []
    assert api.get("/networkrulesetpolicies", params={"recursive": "true"}).json() == []


def test_media_types(api):
    response = api.request("POST", "/externalnetworks", data=b"name=x", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 415
    assert errors_of(response)[0]["title"] == "Unsupported Media Type"
    response = api.get("/externalnetworks", headers={"Accept": "application/msgpack"})
    assert response.status_code == 415
    assert api.get("/externalnetworks", headers={"Accept": "text/html, application/json"}).status_code == 200
    assert api.post("/externalnetworks", VALID_BODIES["externalnetworks"], headers={"Content-Type": "application/json; charset=utf-8"}).status_code == 200
