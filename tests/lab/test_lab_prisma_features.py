"""Prisma emulator: idempotency, protection, tokens, import/export, namespace settings, relations."""

from __future__ import annotations

import copy
import json
import time

import requests
from lab_helpers import VALID_BODIES, PrismaClient, descriptions, errors_of

# ---------------------------------------------------------------- Idempotency-Key


def test_idempotent_post_replays_the_first_response(api):
    headers = {"Idempotency-Key": "f2b4c7a0-0000-4000-8000-000000000001"}
    first = api.post("/externalnetworks", VALID_BODIES["externalnetworks"], headers=headers)
    before = api.counters()["writes"]
    second = api.post("/externalnetworks", VALID_BODIES["externalnetworks"], headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert len(api.get("/externalnetworks").json()) == 1
    assert api.counters()["writes"] == before + 1  # the replay is a request, not a second object
    # another key creates another object
    third = api.post("/externalnetworks", VALID_BODIES["externalnetworks"], headers={"Idempotency-Key": "other"})
    assert third.json()["ID"] != first.json()["ID"]
    assert len(api.get("/externalnetworks").json()) == 2


def test_idempotent_namespace_post_avoids_duplicate_key(api):
    headers = {"Idempotency-Key": "abcdef1234"}
    first = api.post("/namespaces", {"name": "test-namespace-2"}, headers=headers)
    second = api.post("/namespaces", {"name": "test-namespace-2"}, headers=headers)
    assert first.status_code == second.status_code == 200 and first.json()["ID"] == second.json()["ID"]
    third = api.post("/namespaces", {"name": "test-namespace-2"})
    assert third.status_code == 422 and errors_of(third)[0]["title"] == "Duplicate Key"


def test_idempotent_put_and_failed_requests_are_not_cached(api):
    created = api.create("externalnetworks", VALID_BODIES["externalnetworks"])
    path = "/externalnetworks/" + created["ID"]
    headers = {"Idempotency-Key": "put-1"}
    first = api.put(path, dict(created, description="one"), headers=headers)
    second = api.put(path, dict(first.json(), description="two"), headers=headers)
    assert second.json()["description"] == "one"
    assert api.get(path).json()["description"] == "one"
    bad = api.post("/externalnetworks", {"name": "x"}, headers={"Idempotency-Key": "k"})
    assert bad.status_code == 422
    good = api.post("/externalnetworks", {"name": "x", "entries": ["1.2.3.0/24"]}, headers={"Idempotency-Key": "k"})
    assert good.status_code == 200


# ---------------------------------------------------------------- protected objects


def test_protected_objects_need_override(api):
    created = api.create("networkrulesetpolicies", dict(VALID_BODIES["networkrulesetpolicies"], protected=True))
    path = "/networkrulesetpolicies/" + created["ID"]
    response = api.put(path, dict(created, description="x"))
    assert response.status_code == 422
    assert errors_of(response)[0]["title"] == "Protected Object"
    assert api.delete(path).status_code == 422
    assert api.put(path, dict(created, description="x"), params={"override": "true"}).status_code == 200
    assert api.delete(path, params={"override": "true"}).status_code == 200


# ---------------------------------------------------------------- tokens


def test_issue_with_app_credential(api, lab_info, appcred_files):
    cred, cert, key = appcred_files
    assert sorted(cred) == ["APIURL", "ID", "certificate", "certificateAuthority", "certificateKey", "name", "namespace"]
    assert cred["APIURL"] == lab_info["url"] and cred["namespace"] == "/acme"
    session = requests.Session()
    session.trust_env = False
    response = session.post(cred["APIURL"] + "/issue", json={"realm": "Certificate", "validity": "24h"}, cert=(cert, key),
                            verify=lab_info["ca_path"], timeout=30)
    assert response.status_code == 200, response.text
    issued = response.json()
    assert issued["realm"] == "Certificate" and issued["validity"] == "24h" and issued["token"]
    assert issued["token"] != lab_info["token"]
    client = PrismaClient(lab_info)
    assert client.get("/externalnetworks", token=issued["token"]).status_code == 200
    # a token for a short validity expires
    short = session.post(cred["APIURL"] + "/issue", json={"realm": "Certificate", "validity": "1s"}, cert=(cert, key),
                         verify=lab_info["ca_path"], timeout=30).json()["token"]
    time.sleep(2.1)
    assert client.get("/externalnetworks", token=short).status_code == 401


def test_issue_errors(api, lab_info):
    session = requests.Session()
    session.trust_env = False
    url = lab_info["url"] + "/issue"
    response = session.post(url, json={"realm": "Certificate"}, verify=lab_info["ca_path"], timeout=30)
    assert response.status_code == 401 and errors_of(response)[0]["code"] == 401
    response = session.post(url, json={}, verify=lab_info["ca_path"], timeout=30)
    assert descriptions(response) == ["Attribute 'realm' is required"]
    response = session.post(url, json={"realm": "Password"}, verify=lab_info["ca_path"], timeout=30)
    assert response.status_code == 422 and "is not in list" in descriptions(response)[0]
    response = session.post(url, json={"realm": "Certificate", "validity": "forever"}, verify=lab_info["ca_path"], timeout=30)
    assert descriptions(response) == ["Attribute 'validity' must be valid duration (examaple: 1h or 30s)"]


def test_meta_config_is_public(api, lab_info):
    response = requests.get(lab_info["url"] + "/_meta/config", verify=lab_info["ca_path"], timeout=30)
    assert response.status_code == 200
    assert set(response.json()) == {"repo", "repo-signing-key", "tuf", "tuf-keys"}


# ---------------------------------------------------------------- namespace settings


def test_putrafficactions(api):
    assert api.get("/putrafficactions").json() == {"Incoming": "Inherit", "Outgoing": "Inherit"}
    response = api.post("/putrafficactions", {"Incoming": "Allow", "Outgoing": "Allow"})
    assert response.status_code == 200 and response.json() == {"Incoming": "Allow", "Outgoing": "Allow"}
    assert api.get("/putrafficactions").json() == {"Incoming": "Allow", "Outgoing": "Allow"}
    acme = api.fresh("/").get("/namespaces").json()[0]
    assert acme["defaultPUIncomingTrafficAction"] == "Allow" and acme["defaultPUOutgoingTrafficAction"] == "Allow"
    assert descriptions(api.post("/putrafficactions", {"Incoming": "Allow"})) == [
        "Data '' of attribute 'Outgoing' is not in list '[Allow Reject Inherit]'"]


def test_tagprefixes(api):
    assert api.get("/tagprefixes").json() == {"prefixes": []}
    assert api.post("/tagprefixes", {"prefixes": ["app=", "env="]}).json() == {"prefixes": ["app=", "env="]}
    assert api.get("/tagprefixes").json() == {"prefixes": ["app=", "env="]}
    assert api.fresh("/").get("/namespaces").json()[0]["tagPrefixes"] == ["app=", "env="]


# ---------------------------------------------------------------- relations


def test_ruleset_relations(api):
    net = api.create("externalnetworks", VALID_BODIES["externalnetworks"])
    api.create("externalnetworks", {"name": "other", "entries": ["1.0.0.0/8"], "associatedTags": ["externalnetwork:name=other"]})
    ruleset = api.create("networkrulesetpolicies", VALID_BODIES["networkrulesetpolicies"])
    related = api.get("/networkrulesetpolicies/%s/externalnetworks" % ruleset["ID"])
    assert related.status_code == 200 and [o["ID"] for o in related.json()] == [net["ID"]]
    assert api.get("/networkrulesetpolicies/%s/externalnetworks" % ruleset["ID"], params={"mode": "subject"}).json() == []
    assert api.get("/networkrulesetpolicies/%s/processingunits" % ruleset["ID"]).json() == []
    bad = api.get("/networkrulesetpolicies/%s/externalnetworks" % ruleset["ID"], params={"mode": "both"})
    assert bad.status_code == 400
    assert api.post("/networkrulesetpolicies/%s/externalnetworks" % ruleset["ID"], {}).status_code == 405


# ---------------------------------------------------------------- export / import


def test_export(api):
    api.create("externalnetworks", VALID_BODIES["externalnetworks"])
    api.create("networkrulesetpolicies", VALID_BODIES["networkrulesetpolicies"])
    response = api.post("/export", {"identities": ["externalnetwork", "networkrulesetpolicies"], "label": "snap"})
    assert response.status_code == 200, response.text
    exported = response.json()
    assert exported["APIVersion"] == 1 and exported["label"] == "snap"
    assert sorted(exported["data"]) == ["externalnetworks", "networkrulesetpolicies"]
    net = exported["data"]["externalnetworks"][0]
    assert net["name"] == "internet" and not {"ID", "namespace", "createTime", "updateTime", "normalizedTags"} & set(net)
    everything = api.post("/export", {}).json()
    assert len(everything["data"]) == 6
    assert descriptions(api.post("/export", {"identities": ["unicorns"]})) == ["Invalid identity 'unicorns': unknown"]


def test_import_label_and_reimport(api):
    bundle = {
        "APIVersion": 1,
        "label": "base-policy",
        "data": {
            "externalnetworks": [VALID_BODIES["externalnetworks"]],
            "networkrulesetpolicies": [VALID_BODIES["networkrulesetpolicies"]],
        },
    }
    response = api.post("/import", {"data": bundle, "mode": "Import"})
    assert response.status_code == 200, response.text
    nets = api.get("/externalnetworks").json()
    assert len(nets) == 1 and "import:label=base-policy" in nets[0]["associatedTags"]
    rulesets = api.get("/networkrulesetpolicies", params={"q": 'associatedTags contains "import:label=base-policy"'}).json()
    assert len(rulesets) == 1
    # the same import again changes nothing
    writes = api.counters()["writes"]
    assert api.post("/import", {"data": bundle}).status_code == 200
    assert [o["ID"] for o in api.get("/externalnetworks").json()] == [nets[0]["ID"]]
    assert api.counters()["writes"] == writes + 1
    # a changed bundle replaces what changed and removes what disappeared
    changed = copy.deepcopy(bundle)
    changed["data"]["externalnetworks"][0]["entries"] = ["0.0.0.0/0", "!10.0.0.0/8"]
    del changed["data"]["networkrulesetpolicies"]
    changed["identities"] = ["networkrulesetpolicy"]
    assert api.post("/import", {"data": changed}).status_code == 200
    nets_after = api.get("/externalnetworks").json()
    assert len(nets_after) == 1 and nets_after[0]["entries"] == ["0.0.0.0/0", "!10.0.0.0/8"]
    assert api.get("/networkrulesetpolicies").json() == []
    # objects without the label are untouched; Remove deletes the labelled ones
    api.create("externalnetworks", {"name": "manual", "entries": ["1.1.1.1/32"]})
    assert api.post("/import", {"data": changed, "mode": "Remove"}).status_code == 200
    assert [o["name"] for o in api.get("/externalnetworks").json()] == ["manual"]


def test_import_is_validated_before_anything_is_written(api):
    bundle = {"label": "x", "data": {"externalnetworks": [VALID_BODIES["externalnetworks"], {"name": "bad", "entries": ["nope/99"]}]}}
    response = api.post("/import", {"data": bundle})
    assert response.status_code == 422
    assert descriptions(response) == ["nope/99 is not a valid CIDR"]
    assert api.get("/externalnetworks").json() == []
    assert descriptions(api.post("/import", {"data": bundle, "mode": "Overwrite"})) == [
        "Data 'Overwrite' of attribute 'mode' is not in list '[ReplacePartial Import Remove]'"]


def test_import_export_roundtrip_between_namespaces(api):
    api.create("externalnetworks", VALID_BODIES["externalnetworks"])
    api.create("services", VALID_BODIES["services"])
    exported = api.post("/export", {"label": "copy"}).json()
    api.create("namespaces", {"name": "copy"})
    target = api.fresh("/acme/copy")
    assert target.post("/import", {"data": json.loads(json.dumps(exported))}).status_code == 200
    assert [o["name"] for o in target.get("/services").json()] == ["web-lb"]
    assert [o["name"] for o in target.get("/externalnetworks").json()] == ["internet"]
