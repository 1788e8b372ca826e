"""The lab's shortcuts for CPU (issue 16) answer what the long ways answered: objects decoded with fresh
values, the JSON text kept per stored object, the orders of a list, the verified tokens, the valid
service ports, the request log."""

from __future__ import annotations

import collections
import json
import logging
import os

from lab_helpers import VALID_BODIES
from microseg_lab import daemon
from microseg_lab.prisma import api as prisma_api
from microseg_lab.prisma import auth, codec, schema, validation

RULESET = VALID_BODIES["networkrulesetpolicies"]


# ---------------------------------------------------------------- codec


def test_decoded_objects_share_no_mutable_value():
    identity = schema.NETWORKRULESETPOLICY
    first = codec.decode(identity, {"name": "a", "incomingRules": [{"object": [["a=b"]]}]})
    second = codec.decode(identity, {"name": "b", "incomingRules": [{"object": [["a=b"]]}]})
    first["metadata"].append("@x=y")
    first["annotations"]["k"] = ["v"]
    first["incomingRules"][0]["networks"].append({})
    first["incomingRules"][0]["protocolPorts"].append("tcp/1")
    assert second["metadata"] == [] and second["annotations"] == {}
    assert second["incomingRules"][0]["networks"] == [] and second["incomingRules"][0]["protocolPorts"] == []
    assert codec.new_object(identity)["metadata"] == [] and codec.new_object(identity)["annotations"] == {}
    # the attributes in the order of the identity, whatever the order of the body
    assert list(first) == list(identity.attrs)


def test_decoding_keeps_the_type_errors():
    identity = schema.NETWORKRULESETPOLICY
    for body, message in (
        ({"name": 3}, "cannot unmarshal number into Go struct field networkrulesetpolicy.name of type string"),
        ({"protected": "yes"}, "cannot unmarshal string into Go struct field networkrulesetpolicy.protected of type bool"),
        ({"associatedTags": ["a=b", 1]}, "cannot unmarshal array into Go struct field networkrulesetpolicy.associatedTags of type []string"),
        ({"incomingRules": [{"action": 1}]}, "cannot unmarshal number into Go struct field networkrule.action of type string"),
    ):
        try:
            codec.decode(identity, body)
        except Exception as exc:  # noqa: BLE001 - the ApiError of the lab
            assert message in exc.errors[0]["description"], exc.errors
        else:
            raise AssertionError("decoded %r" % body)


def test_zero_values():
    attr = schema.NETWORKRULESETPOLICY.attrs["name"]
    zero = [None, False, 0, 0.0, -0.0, "", [], {}]
    not_zero = [True, 1, -1, 0.5, float("nan"), "0", " ", [0], [""], {"": ""}, (), set(), b""]
    assert [codec.is_zero(attr, v) for v in zero] == [True] * len(zero)
    assert [codec.is_zero(attr, v) for v in not_zero] == [False] * len(not_zero)


# ---------------------------------------------------------------- validation


def test_service_ports_found_valid_once_stay_valid_and_invalid_ones_stay_invalid():
    assert validation.validate_service_port("protocolPorts", "tcp/8080") is None
    assert "tcp/8080" in validation._VALID_SERVICE_PORTS  # pylint: disable=protected-access
    assert validation.validate_service_port("servicePorts", "tcp/8080") is None
    first = validation.validate_service_port("protocolPorts", "tcp/99999")
    again = validation.validate_service_port("protocolPorts", "tcp/99999")
    assert first["description"] == again["description"] == "Attribute 'protocolPorts' must be between 0 and 65535"
    assert "tcp/99999" not in validation._VALID_SERVICE_PORTS  # pylint: disable=protected-access


def test_validation_reports_in_the_model_order():
    identity = schema.NETWORKRULESETPOLICY
    obj = codec.decode(identity, {"name": "x" * 300, "description": "d" * 2000, "subject": [[]],
                                  "incomingRules": [{"action": "Maybe", "object": [["a=b"]], "protocolPorts": ["tcp/0:0"]}]})
    described = [(e["data"]["attribute"], e["description"]) for e in validation.validate(identity, obj)]
    assert described == [
        ("description", "Data '%s' of attribute 'description' should be less than 1024 chars long" % ("d" * 2000)),
        ("action", "Data 'Maybe' of attribute 'action' is not in list '[Allow Reject]'"),
        ("protocolPorts", "Attribute 'protocolPorts' left bound is greater than or equal to right bound"),
        ("name", "Data '%s' of attribute 'name' should be less than 256 chars long" % ("x" * 300)),
        ("subject", "Sub-expression must not be empty"),
    ]
    required = validation.validate(identity, codec.decode(identity, {"description": "d" * 2000}))
    assert [e["description"] for e in required] == ["Attribute 'name' is required"]


# ---------------------------------------------------------------- the JSON kept per stored object, list orders


def test_json_texts_kept_are_the_json_dumps_text_and_bounded(monkeypatch):
    identity = schema.NETWORKRULESETPOLICY
    monkeypatch.setattr(prisma_api, "ENCODED_CACHE_SIZE", 3)
    product = prisma_api.PrismaProduct.__new__(prisma_api.PrismaProduct)
    product._encoded = collections.OrderedDict()  # pylint: disable=protected-access
    objects = [codec.decode(identity, dict(RULESET, name="n%d" % i, description="\u00e9\u2028")) for i in range(5)]
    texts = [product._json_of(identity, o) for o in objects]  # pylint: disable=protected-access
    assert texts == [json.dumps(codec.encode(identity, o), separators=(",", ":")).encode() for o in objects]
    kept = product._encoded  # pylint: disable=protected-access
    assert [entry[0] for entry in kept.values()] == objects[2:]  # the oldest made room
    assert product._json_of(identity, objects[4]) is texts[4]  # pylint: disable=protected-access
    assert product._json_of(identity, objects[4], keep=False) is texts[4]  # pylint: disable=protected-access
    assert id(objects[4]) not in kept
    assert product._json_of(identity, objects[0], keep=False) == texts[0]  # pylint: disable=protected-access
    assert len(kept) == 2


def names(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [o["name"] for o in response.json()]


def test_lists_follow_updates_deletes_and_resets(api):
    created = api.create("networkrulesetpolicies", RULESET)
    assert names(api.get("/networkrulesetpolicies")) == ["web"]
    updated = api.put("/networkrulesetpolicies/" + created["ID"], dict(created, description="v2"))
    assert updated.status_code == 200, updated.text
    [listed] = api.get("/networkrulesetpolicies").json()
    assert listed["description"] == "v2" and listed == updated.json()
    assert api.get("/networkrulesetpolicies/" + created["ID"]).json() == listed
    sparse = api.get("/networkrulesetpolicies", headers={"X-Fields": "name,description"}).json()
    assert sparse == [{"description": "v2", "name": "web"}]
    assert api.delete("/networkrulesetpolicies/" + created["ID"]).json() == listed
    assert names(api.get("/networkrulesetpolicies")) == []
    again = api.create("networkrulesetpolicies", RULESET)
    assert api.admin("POST", "/_lab/reset").status_code == 200
    assert names(api.get("/networkrulesetpolicies")) == []
    assert api.get("/networkrulesetpolicies/" + again["ID"]).status_code == 404


def test_orders_by_name_keep_ties_in_id_order(api):
    ids = {}
    for name, description in (("b", "1"), ("a", "2"), ("b", "3"), ("c", "4"), ("a", "5")):
        ids[description] = api.create("networkrulesetpolicies", dict(RULESET, name=name, description=description))["ID"]

    def order(params):
        response = api.get("/networkrulesetpolicies", params=params)
        assert response.status_code == 200, response.text
        return [o["description"] for o in response.json()]

    by_id = sorted(ids, key=ids.get)
    assert order({}) == sorted(by_id, key=lambda d: {"1": "b", "2": "a", "3": "b", "4": "c", "5": "a"}[d])
    assert order({"order": "-name"}) == sorted(by_id, key=lambda d: {"1": "b", "2": "a", "3": "b", "4": "c", "5": "a"}[d], reverse=True)
    assert order({"order": "name"}) == ["2", "5", "1", "3", "4"]
    assert order({"order": "-name"}) == ["4", "1", "3", "2", "5"]
    assert order([("order", "-name"), ("order", "-description")]) == ["4", "3", "1", "5", "2"]


# ---------------------------------------------------------------- tokens


def test_a_verified_token_still_expires_and_a_tampered_one_is_refused(tmp_path, monkeypatch):
    tokens = auth.TokenAuthority(str(tmp_path))
    now = [1_800_000_000.0]
    monkeypatch.setattr(auth.time, "time", lambda: now[0])
    token = tokens.mint("lab", "someone", 60)
    assert tokens.verify(token)["sub"] == "someone"
    assert tokens.verify(token)["sub"] == "someone"  # from what the first check kept
    head, claims, signature = token.split(".")
    assert tokens.verify("%s.%s.%s" % (head, claims, signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB"))) is None
    now[0] += 61
    assert tokens.verify(token) is None
    assert tokens.verify(token) is None
    assert auth.TokenAuthority(str(tmp_path)).verify(token) is None


# ---------------------------------------------------------------- the request log


def test_lab_log_lines_are_what_a_file_handler_writes(tmp_path):
    records = []
    for index, created in enumerate((1_800_000_000.0, 1_800_000_000.9995, 1_800_000_001.25, 1_800_000_059.001)):
        record = logging.LogRecord("microseg_lab.prisma", logging.INFO, __file__, 1, "%s %s -> %d %.1fms", ("POST", "/r\u00e9gle", 200, 1.25), None)
        record.created, record.msecs = created, (created - int(created)) * 1000 // 1 + 0.0
        record.message_index = index
        records.append(record)
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    reference = logging.FileHandler(tmp_path / "reference.log")
    reference.setFormatter(logging.Formatter(fmt))
    lab = daemon.AppendLogHandler(str(tmp_path / "lab.log"))
    lab.setFormatter(daemon.LabLogFormatter(fmt))
    for record in records:
        reference.handle(record)
        lab.handle(record)
        # on disk at once, as a FileHandler flushes every record
        assert os.path.getsize(tmp_path / "lab.log") == os.path.getsize(tmp_path / "reference.log")
    reference.close()
    lab.close()
    assert (tmp_path / "lab.log").read_bytes() == (tmp_path / "reference.log").read_bytes()
    assert len((tmp_path / "lab.log").read_bytes().splitlines()) == 4
