# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""prisma_flow_info: the proposal built from observed flows (grouping, port merging, networks,
exclusions, determinism), the option checks, and the module run end to end on a scripted
connection. Every flow is made by hand in the shape ``observed.observed_flows`` returns; nothing
here reaches a server."""

import contextlib
import io
import json
import random

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import ApiError
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.flows import Policy
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.proposal import (
    EXCLUDED,
    NOT_PROPOSED,
    PARTLY,
    PROPOSED,
    check_excludes,
    check_networks,
    merge_ports,
    propose,
)
from ansible_collections.microseg.segmentation.plugins.modules import prisma_flow_info

NS = "/acme/aws-dev/k8s/hipster-shop"
OTHER = "/acme/aws-dev/k8s/default"
CHILD = NS + "/batch"


def unit(*tags, namespace=NS, **extra):
    return dict({"type": "processing_unit", "namespace": namespace, "tags": list(tags)}, **extra)


def address(text):
    return {"type": "address", "address": text}


def net(name, namespace=NS):
    return {"type": "external_network", "name": name, "namespace": namespace}


def flow(source, destination, service="tcp/80", action="Accept", count=10, last_seen="2024-05-07T09:41:00Z"):
    proto, dummy, port = service.partition("/")
    return {"source": source, "destination": destination, "protocol": proto, "port": int(port) if port else None, "service": service,
            "action": action, "observed_action": "Accept", "count": count, "last_seen": last_seen}


def pods(*tags, namespace=NS):
    return [["$identity=processingunit", "$namespace=%s" % namespace] + list(tags)]


def existing_network(name, entries, namespace=NS, propagate=False, tags=None):
    return {"ID": "en-" + name, "name": name, "namespace": namespace, "entries": list(entries), "propagate": propagate,
            "associatedTags": list(tags if tags is not None else ["externalnetwork:name=%s" % name])}


def policy(networks=()):
    return Policy(external_networks=list(networks))


def run(flows, networks=None, excludes=(), prefix="observed-", existing=(), base=NS):
    return propose(flows, policy(existing), base, networks, excludes, prefix, "7d")


def rulesets(result):
    return dict((r["name"], r) for r in result["proposal"]["network_rulesets"])


def rules(ruleset, direction):
    return dict((json.dumps(r["object"]), r["protocol_ports"]) for r in ruleset["%s_rules" % direction])


FRONTEND = unit("app=frontend")
CART = unit("app=cartservice")
CHECKOUT = unit("app=checkoutservice")
REDIS = unit("app=redis-cart")


# ---------------------------------------------------------------- grouping


def test_one_ruleset_per_workload_and_both_sides_of_a_unit_to_unit_flow():
    statuses, result = run([flow(FRONTEND, CART, "tcp/7070"), flow(FRONTEND, CHECKOUT, "tcp/5050"), flow(CART, REDIS, "tcp/6379"),
                            flow(CHECKOUT, CART, "tcp/7070")])
    assert statuses == [PROPOSED] * 4
    found = rulesets(result)
    assert sorted(found) == ["observed-cartservice", "observed-checkoutservice", "observed-frontend", "observed-redis-cart"]
    frontend = found["observed-frontend"]
    assert frontend["subject"] == pods("app=frontend")
    assert frontend["incoming_rules"] == []
    assert rules(frontend, "outgoing") == {json.dumps(pods("app=cartservice")): ["tcp/7070"],
                                           json.dumps(pods("app=checkoutservice")): ["tcp/5050"]}
    cart = found["observed-cartservice"]
    assert rules(cart, "incoming") == {json.dumps(pods("app=checkoutservice")): ["tcp/7070"],
                                       json.dumps(pods("app=frontend")): ["tcp/7070"]}
    assert rules(cart, "outgoing") == {json.dumps(pods("app=redis-cart")): ["tcp/6379"]}
    assert rules(found["observed-redis-cart"], "incoming") == {json.dumps(pods("app=cartservice")): ["tcp/6379"]}
    assert result["proposal"]["external_networks"] == []
    assert frontend["description"] == "The flows of app=frontend observed over 7d (prisma_flow_info)"


def test_a_unit_talking_to_its_own_replicas_gets_both_rules_on_its_ruleset():
    dummy, result = run([flow(FRONTEND, FRONTEND, "tcp/8080")])
    frontend = rulesets(result)["observed-frontend"]
    assert rules(frontend, "incoming") == rules(frontend, "outgoing") == {json.dumps(pods("app=frontend")): ["tcp/8080"]}


def test_ports_merged_per_peer_sorted_and_runs_as_ranges():
    flows = [flow(FRONTEND, address("10.96.0.10"), "udp/53")] + [flow(FRONTEND, CART, s) for s in (
        "tcp/8002", "tcp/80", "tcp/8000", "udp/53", "tcp/8001", "icmp", "tcp/443", "tcp/80")]
    dummy, result = run(flows)
    frontend = rulesets(result)["observed-frontend"]
    assert rules(frontend, "outgoing") == {json.dumps(pods("app=cartservice")): ["tcp/80", "tcp/443", "tcp/8000:8002", "udp/53", "icmp"],
                                           json.dumps([["externalnetwork:name=DNS"]]): ["udp/53"]}
    assert merge_ports([("udp", 5353), ("gre", None), ("tcp", 1), ("icmp6", None), ("udp", 53), ("tcp", 2), ("tcp", 4)]) == [
        "tcp/1:2", "tcp/4", "udp/53", "udp/5353", "icmp6", "gre"]


def test_naming_by_app_else_by_tags_and_the_prefix():
    flows = [flow(unit("app=api", "tier=web"), unit("app=api", "tier=db"), "tcp/5432"),
             flow(unit("role=worker", "zone=a"), unit("app=queue"), "tcp/5672")]
    dummy, result = run(flows, prefix="obs-")
    assert sorted(rulesets(result)) == ["obs-app-api_tier-db", "obs-app-api_tier-web", "obs-queue", "obs-role-worker_zone-a"]
    dummy, result = run(flows, prefix="")
    assert "queue" in rulesets(result)


# ---------------------------------------------------------------- networks


def test_addresses_named_by_the_guides_networks_and_the_internet_takes_public_addresses_only():
    flows = [flow(FRONTEND, address("10.96.0.10"), "udp/53"), flow(FRONTEND, address("169.254.169.254"), "tcp/80"),
             flow(FRONTEND, address("199.36.153.9"), "tcp/443"), flow(address("10.128.0.3"), FRONTEND, "tcp/8080"),
             flow(address("203.0.113.7"), FRONTEND, "tcp/8080"), flow(FRONTEND, address("10.1.2.3"), "tcp/443")]
    statuses, result = run(flows)
    assert statuses == [PROPOSED] * 5 + [NOT_PROPOSED]
    assert "the peer 10.1.2.3 is in no external network" in result["not_proposed"][0]["reason"]
    assert result["not_proposed"][0]["text"].startswith("%s app=frontend -> 10.1.2.3 tcp/443 Accept" % NS)
    assert [n["name"] for n in result["proposal"]["external_networks"]] == ["DNS", "googleapis", "internet", "kubelet", "metadata"]
    dns = result["proposal"]["external_networks"][0]
    assert dns == {"name": "DNS", "entries": ["10.96.0.10/32"], "tags": ["externalnetwork:name=dns"]}
    frontend = rulesets(result)["observed-frontend"]
    assert rules(frontend, "incoming") == {json.dumps([["externalnetwork:name=internet"]]): ["tcp/8080"],
                                           json.dumps([["externalnetwork:name=kubelet"]]): ["tcp/8080"]}
    assert sorted(rules(frontend, "outgoing")) == sorted(json.dumps([["externalnetwork:name=%s" % n]]) for n in ("DNS", "googleapis", "metadata"))


def test_the_narrowest_entry_wins_and_exclusions_count():
    networks = check_networks([{"name": "corp", "entries": ["10.0.0.0/8", "!10.9.0.0/16"]}, {"name": "db", "entries": ["10.2.0.0/16"]},
                               {"name": "anywhere", "entries": ["0.0.0.0/0"]}])
    statuses, result = run([flow(FRONTEND, address("10.2.3.4"), "tcp/5432"), flow(FRONTEND, address("10.3.3.4"), "tcp/5432"),
                            flow(FRONTEND, address("10.9.0.1"), "tcp/5432"), flow(FRONTEND, address("8.8.8.8"), "udp/53")], networks=networks)
    assert statuses == [PROPOSED, PROPOSED, NOT_PROPOSED, PROPOSED]
    assert [n["name"] for n in result["proposal"]["external_networks"]] == ["anywhere", "corp", "db"]
    assert [f["text"].split(" -> ")[1].split(" tcp")[0].split(" udp")[0] for f in result["not_proposed"]] == ["10.9.0.1"]


def test_existing_networks_come_first_and_are_referred_to_not_proposed():
    existing = [existing_network("corp-dns", ["10.96.0.0/16"], tags=[]),
                existing_network("partners", ["198.51.100.0/24"], namespace="/acme", propagate=True),
                existing_network("elsewhere", ["203.0.113.0/24"], namespace=OTHER)]
    statuses, result = run([flow(FRONTEND, address("10.96.0.10"), "udp/53"), flow(address("198.51.100.7"), FRONTEND, "tcp/443"),
                            flow(address("203.0.113.9"), FRONTEND, "tcp/443"), flow(FRONTEND, net("corp-dns"), "tcp/53")], existing=existing)
    assert statuses == [PROPOSED] * 4
    frontend = rulesets(result)["observed-frontend"]
    corp = json.dumps([["$identity=externalnetwork", "$namespace=%s" % NS, "$name=corp-dns"]])
    assert rules(frontend, "outgoing") == {corp: ["tcp/53", "udp/53"]}
    # the network of another namespace is not usable here: the address goes to the guide's internet
    assert rules(frontend, "incoming") == {json.dumps([["externalnetwork:name=internet"]]): ["tcp/443"],
                                           json.dumps([["externalnetwork:name=partners"]]): ["tcp/443"]}
    assert [n["name"] for n in result["proposal"]["external_networks"]] == ["internet"]


def test_an_existing_network_declared_as_networks_says_is_proposed_again_else_a_warning():
    same = [existing_network("DNS", ["10.96.0.10/32"]), existing_network("internet", ["0.0.0.0/0", "!10.0.0.0/8"]),
            existing_network("metadata", ["169.254.169.254/32"], namespace="/acme", propagate=True)]
    statuses, result = run([flow(FRONTEND, net("DNS"), "udp/53"), flow(FRONTEND, address("10.96.0.10"), "udp/53"),
                            flow(net("internet"), FRONTEND, "tcp/8080"), flow(FRONTEND, address("169.254.169.254"), "tcp/80")], existing=same)
    assert statuses == [PROPOSED] * 4
    assert [n["name"] for n in result["proposal"]["external_networks"]] == ["DNS"]
    assert result["warnings"] == ["networks: metadata is the name of an external network /acme propagates (entries 169.254.169.254/32), "
                                  "which is used instead",
                                  "networks: internet is the name of an existing external network of %s with other entries "
                                  "(0.0.0.0/0, !10.0.0.0/8), which is used instead" % NS]
    frontend = rulesets(result)["observed-frontend"]
    assert rules(frontend, "outgoing") == {json.dumps([["externalnetwork:name=DNS"]]): ["udp/53"],
                                           json.dumps([["externalnetwork:name=metadata"]]): ["tcp/80"]}


# ---------------------------------------------------------------- what cannot be proposed


def test_other_namespaces_unknown_and_tagless_units_rejected_flows_and_outside_flows():
    busybox = unit(namespace=OTHER, unknown=True, unit="6b115db1")
    job = unit("app=job", namespace=CHILD)
    flows = [flow(FRONTEND, job, "tcp/9000"), flow(job, CART, "tcp/7070"), flow(busybox, CART, "tcp/7070"), flow(unit(), CART, "tcp/7070"),
             flow(FRONTEND, CART, "tcp/7071", action="Reject"), flow(address("10.128.0.2"), address("10.96.0.10"), "udp/53"),
             flow(job, address("10.96.0.10"), "udp/53"), flow(FRONTEND, CART, "proto/47"), flow(FRONTEND, CART, "proto/99")]
    flows[7]["protocol"], flows[8]["protocol"] = "47", "99"
    statuses, result = run(flows)
    assert statuses == [PARTLY, PARTLY, NOT_PROPOSED, NOT_PROPOSED, NOT_PROPOSED, NOT_PROPOSED, NOT_PROPOSED, PROPOSED, NOT_PROPOSED]
    partly = [r["reason"] for r in result["partly_proposed"]]
    assert partly == ["destination side (incoming rules): the processing unit is in %s, whose rulesets this task does not write" % CHILD,
                      "source side (outgoing rules): the processing unit is in %s, whose rulesets this task does not write" % CHILD]
    reasons = [r["reason"] for r in result["not_proposed"]]
    assert "the peer 6b115db1 is a processing unit of %s not among those read under %s: its tags are unknown" % (OTHER, NS) in reasons[0]
    assert "has no tag rulesets can select" in reasons[1]
    assert reasons[2].startswith("its enforcers rejected it (action Reject)")
    assert reasons[3] == "no processing unit at either end: no enforcer sees it"
    assert "whose rulesets this task does not write" in reasons[4]
    assert reasons[5] == "protocol 99 has no name a rule takes"
    found = rulesets(result)
    assert rules(found["observed-frontend"], "outgoing") == {json.dumps(pods("app=job", namespace=CHILD)): ["tcp/9000"],
                                                             json.dumps(pods("app=cartservice")): ["gre"]}
    assert rules(found["observed-cartservice"], "incoming") == {json.dumps(pods("app=job", namespace=CHILD)): ["tcp/7070"],
                                                                json.dumps(pods("app=frontend")): ["gre"]}
    assert "observed-job" not in found


# ---------------------------------------------------------------- exclude


def test_exclude_by_units_network_address_and_service():
    excludes = check_excludes([
        {"source": {"tags": ["app=frontend"]}, "destination": {"tags": ["app=redis-cart"]}},
        {"destination": {"network": "internet"}, "service": "tcp/22"},
        {"source": {"address": "203.0.113.0/24"}, "service": "tcp/1:1024"},
        {"source": {"namespace": OTHER}},
        {"service": "tcp/25", "source": None},
    ])
    flows = [flow(FRONTEND, REDIS, "tcp/6379"), flow(CART, REDIS, "tcp/6379"), flow(FRONTEND, address("198.51.100.50"), "tcp/22"),
             flow(FRONTEND, address("198.51.100.50"), "tcp/443"), flow(address("203.0.113.7"), FRONTEND, "tcp/22"),
             flow(address("203.0.113.7"), FRONTEND, "tcp/8080"), flow(unit(namespace=OTHER, unknown=True, unit="x"), CART, "tcp/7070"),
             flow(CHECKOUT, address("192.0.2.25"), "tcp/25"), flow(FRONTEND, net("internet", "/acme"), "tcp/22")]
    statuses, result = run(flows, excludes=excludes)
    assert statuses == [EXCLUDED, PROPOSED, EXCLUDED, PROPOSED, EXCLUDED, PROPOSED, EXCLUDED, EXCLUDED, EXCLUDED]
    assert [e["exclude"] for e in result["excluded"]] == [0, 1, 2, 3, 4, 1]
    frontend = rulesets(result)["observed-frontend"]
    assert rules(frontend, "outgoing") == {json.dumps([["externalnetwork:name=internet"]]): ["tcp/443"]}
    assert "observed-redis-cart" in rulesets(result) and "observed-checkoutservice" not in rulesets(result)


@pytest.mark.parametrize("value, option, message", [
    ([{}], "exclude[0]", "give at least one of source"),
    (["x"], "exclude[0]", "a mapping with source"),
    ([{"source": "frontend"}], "exclude[0].source", "a mapping is expected"),
    ([{"source": {"tags": ["app=a"], "network": "n"}}], "exclude[0].source", "give one of namespace and tags"),
    ([{"destination": {"label": "x"}}], "exclude[0].destination", "unknown key(s) label"),
    ([{"source": {"tags": ["nope"]}}], "exclude[0].source.tags[0]", "'nope' is not a valid tag"),
    ([{"source": {"namespace": "acme"}}], "exclude[0].source.namespace", "an absolute namespace path"),
    ([{"source": {"address": "10.0.0.300"}}], "exclude[0].source.address", "'10.0.0.300' is neither"),
    ([{"service": "tcp"}], "exclude[0].service", "'tcp' is not valid"),
    ([{"source": {"network": ""}}], "exclude[0].source.network", "must not be empty"),
])
def test_exclude_checked_with_option_paths(value, option, message):
    with pytest.raises(ValidationError) as info:
        check_excludes(value)
    assert info.value.option == option
    assert message in info.value.message


@pytest.mark.parametrize("value, option, message", [
    ([{"name": "a", "entries": []}], "networks[0].entries", "is empty"),
    ([{"name": "a", "entries": ["10.0.0.0/33"]}], "networks[0].entries[0]", "not a valid"),
    ([{"name": "a", "entries": ["10.0.0.0/8"]}, {"name": "A", "entries": ["10.0.0.0/16"]}], "networks[1].name", "already the name"),
    ([{"name": "a", "entries": ["10.0.0.0/8"], "tags": ["$x=y"]}], "networks[0].tags[0]", "reserved"),
])
def test_networks_checked_with_option_paths(value, option, message):
    with pytest.raises(ValidationError) as info:
        check_networks(value)
    assert info.value.option == option
    assert message in info.value.message


# ---------------------------------------------------------------- determinism


def week():
    flows = []
    for index, app in enumerate(["frontend", "cartservice", "checkoutservice", "adservice", "redis-cart"]):
        flows.append(flow(unit("app=" + app), address("10.96.0.10"), "udp/53", count=100 + index))
        flows.append(flow(address("10.128.0.%d" % (2 + index % 2)), unit("app=" + app), "tcp/%d" % (8080 + index)))
        flows.append(flow(unit("app=frontend"), unit("app=" + app), "tcp/%d" % (7000 + index)))
    flows.append(flow(address("203.0.113.7"), FRONTEND, "tcp/8080"))
    flows.append(flow(FRONTEND, address("198.51.100.20"), "tcp/443"))
    return flows


def test_the_same_flows_in_any_order_give_the_same_proposal():
    excludes = check_excludes([{"destination": {"address": "198.51.100.20"}}])
    dummy, first = run(week(), excludes=excludes)
    text = json.dumps(first["proposal"], sort_keys=False)
    for seed in range(5):
        flows = week()
        random.Random(seed).shuffle(flows)
        for item in flows:
            item["count"] = random.Random(seed).randint(1, 1000)
        dummy, again = run(flows, excludes=excludes)
        assert json.dumps(again["proposal"], sort_keys=False) == text
    assert [r["name"] for r in first["proposal"]["network_rulesets"]] == sorted(r["name"] for r in first["proposal"]["network_rulesets"])


# ---------------------------------------------------------------- the module


class ScriptedConnection:
    """Answers the reads of read_policy and the flow statistics from tables; fails the test on a write."""

    namespace = NS

    def __init__(self, params=None, rows=(), page_size=None):
        self.rows = list(rows)
        self.calls = []

    def list_all(self, path, namespace=None, params=None):
        self.calls.append(("LIST", path))
        if path == "/namespaces":
            return [{"name": NS, "tagPrefixes": ["app="]}]
        if path == "/processingunits":
            return [{"ID": "pu-%d" % i, "name": "%s-%d" % (app, i), "namespace": NS, "associatedTags": ["app=" + app, "pod=%d" % i]}
                    for i, app in enumerate(["frontend", "frontend", "cartservice"])]
        return []

    def request(self, method, path, namespace=None, params=None, body=None):
        self.calls.append((method, path))
        if path == "/putrafficactions":
            return {"Incoming": "Allow", "Outgoing": "Allow"}
        if path == "/tagprefixes":
            return {"prefixes": ["app="] if namespace == NS else []}
        assert (method, path) == ("POST", "/statsqueries"), "no write expected, got %s %s" % (method, path)
        assert params == {"startRelative": "36h"}
        page = self.rows[body["offset"]:body["offset"] + body["limit"]]
        return {"results": [{"rows": page}]}

    def close(self):
        pass


def row(source, destination, port, count, source_type="ProcessingUnit", destination_type="ProcessingUnit", source_ip="", dest_ip=""):
    tags = {"sourceType": source_type, "sourceID": source, "sourceIP": source_ip, "sourceNamespace": NS, "destinationType": destination_type,
            "destinationID": destination, "destinationIP": dest_ip, "destinationNamespace": NS, "destinationPort": str(port), "protocol": "6",
            "action": "Accept", "observedAction": "Accept"}
    return {"name": "Flows", "tags": tags, "columns": ["time", "count", "lastSeen"], "values": [["2024-05-01T00:00:00Z", count, "2024-05-07T00:00:00Z"]]}


ROWS = (row("pu-0", "pu-2", 7070, 5), row("pu-1", "pu-2", 7070, 7),
        row("internet", "pu-0", 8080, 3, source_type="ExternalNetwork", source_ip="203.0.113.7"),
        row("pu-0", "internet", 22, 2, destination_type="ExternalNetwork", dest_ip="198.51.100.50"))


class MissingNamespace(ScriptedConnection):
    """The namespace does not exist: every read in it is a 403, and its parent lists no such child."""

    def list_all(self, path, namespace=None, params=None):
        raise ApiError("GET %s failed with status 403" % path, status=403)

    def request(self, method, path, namespace=None, params=None, body=None):
        if (method, path) == ("GET", "/namespaces") and namespace != NS:
            return []
        raise ApiError("%s %s failed with status 403" % (method, path), status=403)


def run_module(args, monkeypatch, rows=ROWS, connection=ScriptedConnection):
    connections = []

    def connect(params):
        connections.append(connection(params, rows))
        return connections[-1]

    monkeypatch.setattr(prisma_flow_info, "PrismaConnection", connect)
    out = io.StringIO()
    with patch_module_args(dict(args, token="unit-test-token-0123456789", api_url="https://console.invalid")), contextlib.redirect_stdout(out):
        with pytest.raises(SystemExit):
            prisma_flow_info.main()
    return json.loads(out.getvalue()), connections


def test_the_module_reads_pages_merges_replicas_and_proposes(monkeypatch):
    args = {"namespace": NS, "window": "36h", "page_size": 2, "propose": True,
            "exclude": [{"destination": {"network": "internet"}, "service": "tcp/22"}]}
    result, connections = run_module(args, monkeypatch)
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert [c for c in connections[0].calls if c[1] == "/statsqueries"] == [("POST", "/statsqueries")] * 3  # 2 + 2 + 0 rows
    assert result["summary"] == {"flows": 3, "connections": 17, "accepted": 3, "rejected": 0, "workloads": 2, "proposed": 2,
                                 "partly_proposed": 0, "not_proposed": 0, "excluded": 1, "rulesets": 2, "rules": 3, "external_networks": 1}
    first = result["flows"][0]
    assert "examples" not in first
    assert first["source"] == {"type": "processing_unit", "namespace": NS, "tags": ["app=frontend"]}
    assert first["count"] == 12 and first["service"] == "tcp/7070"
    assert first["text"] == "%s app=frontend -> %s app=cartservice tcp/7070 Accept, 12 connections, last seen 2024-05-07T00:00:00Z" % (NS, NS)
    assert result["table"][0].split() == ["source", "destination", "service", "action", "count", "last", "seen", "proposal"]
    assert result["table"][-1].endswith("excluded")
    assert "203.0.113.7 (internet)" in result["table"][2]
    assert [r["name"] for r in result["proposal"]["network_rulesets"]] == ["observed-cartservice", "observed-frontend"]
    assert result["proposal"]["external_networks"] == [{"name": "internet", "entries": ["0.0.0.0/0"]}]


def test_the_module_without_propose_returns_the_flows_only(monkeypatch):
    result, dummy = run_module({"namespace": NS, "window": "36h"}, monkeypatch)
    assert sorted(result) == sorted(["changed", "flows", "summary", "table", "invocation"])
    assert result["summary"] == {"flows": 3, "connections": 17, "accepted": 3, "rejected": 0, "workloads": 2}


@pytest.mark.parametrize("args, message", [
    ({"window": "7 days"}, "window: '7 days' is not a window"),
    ({"page_size": 0}, "page_size: must be from 1 to 10000"),
    ({"page_size": 10001}, "page_size: must be from 1 to 10000"),
    ({"exclude": [{"source": {"tags": "app"}}]}, "exclude[0].source.tags[0]:"),
    ({"networks": [{"name": "x", "entries": ["nope nope"]}]}, "networks[0].entries[0]:"),
    ({"ruleset_prefix": "a\nb"}, "ruleset_prefix: contains the control character"),
])
def test_bad_options_fail_before_any_request(args, message, monkeypatch):
    result, connections = run_module(dict({"namespace": NS}, **args), monkeypatch)
    assert result["failed"] is True
    assert result["msg"].startswith(message), result["msg"]
    assert connections == []


def test_check_mode_in_a_namespace_an_earlier_task_would_create(monkeypatch, capsys):
    result, dummy = run_module({"namespace": NS, "propose": True, "_ansible_check_mode": True}, monkeypatch, connection=MissingNamespace)
    assert not result.get("failed"), result
    assert result["flows"] == [] and result["proposal"] == {"external_networks": [], "network_rulesets": []}
    assert result["summary"]["flows"] == 0 and result["summary"]["rulesets"] == 0
    # the warning is in the result, or on stderr when an earlier test left Ansible's display set up
    assert "namespace %s does not exist yet: check mode assumes it empty" % NS in json.dumps(result.get("warnings")) + capsys.readouterr().err
    result, dummy = run_module({"namespace": NS, "propose": True}, monkeypatch, connection=MissingNamespace)
    assert result["failed"] is True and result["status"] == 403
