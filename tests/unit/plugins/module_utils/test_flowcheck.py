# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The flow-check contract shared by the three products: services, protocol-port matching,
endpoint and flow validation, results, summary and the printed table."""

import pytest

from ansible_collections.microseg.segmentation.plugins.module_utils._core.flowcheck import (
    Decision,
    FlowCheck,
    FlowCheckError,
    Service,
    Verdict,
    parse_service,
    port_spec_matches,
    ports_match,
)
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError


@pytest.mark.parametrize("text, proto, port, icmp_type, icmp_code, shown", [
    ("any", "any", None, None, None, "any"),
    ("ANY", "any", None, None, None, "any"),
    ("tcp/80", "tcp", 80, None, None, "tcp/80"),
    (" UDP/53 ", "udp", 53, None, None, "udp/53"),
    ("icmp", "icmp", None, None, None, "icmp"),
    ("icmp/8", "icmp", None, 8, None, "icmp/8"),
    ("icmp/3/4", "icmp", None, 3, 4, "icmp/3/4"),
    ("icmp6/128/0", "icmp6", None, 128, 0, "icmp6/128/0"),
])
def test_parse_service(text, proto, port, icmp_type, icmp_code, shown):
    service = parse_service(text)
    assert (service.proto, service.port, service.icmp_type, service.icmp_code) == (proto, port, icmp_type, icmp_code)
    assert str(service) == shown


@pytest.mark.parametrize("text, words", [
    ("tcp/70000", "from 1 to 65535"),
    ("tcp/0", "from 1 to 65535"),
    ("tcp", "names one port"),
    ("tcp/80:90", "from 1 to 65535"),
    ("sctp/80", "tcp, udp, icmp"),
    ("icmp/300", "ICMP type"),
    ("icmp/3/4/5", "icmp/<type>/<code>"),
    ("", "a service such as"),
    (80, "a service such as"),
])
def test_parse_service_rejects(text, words):
    with pytest.raises(ValidationError) as info:
        parse_service(text, "flows[2].service")
    assert str(info.value).startswith("flows[2].service: ")
    assert words in str(info.value)


@pytest.mark.parametrize("service, spec, covered", [
    ("tcp/80", "any", True),
    ("any", "any", True),
    ("any", "tcp/1:65535", False),
    ("tcp/80", "tcp/80", True),
    ("tcp/81", "tcp/80", False),
    ("tcp/443", "tcp/1:1024", True),
    ("tcp/8080", "tcp/1:1024", False),
    ("udp/53", "udp/53,5353", True),
    ("udp/5353", "udp/53,5353", True),
    ("tcp/53", "udp/53", False),
    ("tcp/22", "6/22", True),
    ("udp/22", "6/22", False),
    ("tcp/22", "TCP/22", True),
    ("icmp/8/0", "icmp", True),
    ("icmp/8/0", "icmp/8", True),
    ("icmp/8/0", "icmp/8/0", True),
    ("icmp/3/4", "icmp/3/0,1,3:5", True),
    ("icmp/3/2", "icmp/3/0,1,3:5", False),
    ("icmp/0/0", "icmp/8/0", False),
    ("icmp", "icmp/8", False),
    ("icmp/8", "icmp/8/0", False),
    ("icmp6/128/0", "icmp/128", False),
    ("icmp6/128/0", "ipv6-icmp/128", True),
])
def test_port_spec_matches(service, spec, covered):
    assert port_spec_matches(parse_service(service), spec) is covered


def test_ports_match_empty_list_covers_nothing():
    assert not ports_match(parse_service("tcp/80"), [])
    assert ports_match(parse_service("tcp/80"), ["udp/53", "tcp/80"])


class _Check(FlowCheck):
    endpoint_keys = ("group", "address")
    string_key = "group"

    def validate_endpoint(self, endpoint, option):
        if "address" in endpoint and "." not in endpoint["address"]:
            raise ValidationError(option + ".address", "not an address")


def _raw(**kw):
    flow = dict(name=None, source="a", destination="b", service="any", expect=None)
    flow.update(kw)
    return flow


def test_parse_flows_endpoints_and_default_names():
    flows = _Check().parse_flows([
        _raw(source="web", destination={"address": "10.0.0.1"}, service="tcp/443", expect="allow"),
        _raw(name="db", source={"group": "app", "address": None}, destination="db"),
    ])
    assert flows[0].source == {"group": "web"}
    assert flows[0].destination == {"address": "10.0.0.1"}
    assert flows[0].name == "web -> 10.0.0.1 tcp/443"
    assert flows[1].source == {"group": "app"}
    assert flows[1].name == "db"
    assert str(flows[1].service) == "any"


@pytest.mark.parametrize("flow, message", [
    (_raw(source={"tags": ["x"]}), "flows[0].source: unknown key(s) tags; an endpoint takes group, address"),
    (_raw(destination={}), "flows[0].destination: an endpoint needs one of group, address"),
    (_raw(source=" "), "flows[0].source: must not be empty"),
    (_raw(source=["a"]), "flows[0].source: a string or a mapping is expected, got list"),
    (_raw(destination={"address": "nowhere"}), "flows[0].destination.address: not an address"),
    (_raw(service="tcp/99999"), "flows[0].service: "),
])
def test_parse_flows_rejects_with_option_path(flow, message):
    with pytest.raises(ValidationError) as info:
        _Check().parse_flows([flow])
    assert str(info.value).startswith(message)


def test_parse_flows_rejects_duplicate_names():
    with pytest.raises(ValidationError) as info:
        _Check().parse_flows([_raw(name="x"), _raw(name="y"), _raw(name="x")])
    assert str(info.value) == "flows[2].name: 'x' names two flows"


def _evaluate(flow):
    if flow.destination.get("group") == "missing":
        raise FlowCheckError("no workload is in group missing")
    if flow.source["group"] == "a":
        return Verdict("allow", [Decision("source", "allow", "a-out", "r1", "rs-a"),
                                 Decision("destination", "allow", "b-in", "r2", "rs-b")], "both sides allow")
    return Verdict("deny", [Decision("policy", "deny", "default", where="default", default=True)], "default rule")


def test_results_summary_and_table():
    check = _Check()
    flows = check.parse_flows([
        _raw(name="a to b", expect="allow"),
        _raw(name="c to b", source="c", expect="allow"),
        _raw(name="c to d", source="c", destination="d"),
    ])
    summary = check.summarise(check.evaluate_all(_evaluate, flows))
    assert summary["summary"] == "1/2 flows as expected"
    assert summary["counts"] == dict(total=3, checked=2, as_expected=1, mismatched=1, allowed=1)
    first = summary["flows"][0]
    assert first["verdict"] == "allow" and first["as_expected"] is True
    assert [d["label"] for d in first["decided_by"]] == ["source:rs-a/a-out", "destination:rs-b/b-in"]
    assert first["decided_by"][0]["id"] == "r1"
    assert summary["flows"][2]["as_expected"] is None
    assert [m["name"] for m in summary["mismatches"]] == ["c to b"]
    table = summary["table"]
    assert table[0].split() == ["flow", "source", "destination", "service", "verdict", "expected", "decided", "by"]
    assert "allow MISMATCH" in table[2] and table[2].rstrip().endswith("default")
    assert "allow ok" in table[1]
    message = check.mismatch_message(summary)
    assert message == "1/2 flows as expected; 1 not: c to b: expected allow, got deny (decided by default)"


def test_evaluation_error_names_the_flow():
    check = _Check()
    flows = check.parse_flows([_raw(name="ok"), _raw(name="lost", destination="missing")])
    with pytest.raises(FlowCheckError) as info:
        check.evaluate_all(_evaluate, flows)
    assert str(info.value) == "flows[1] (lost): no workload is in group missing"


def test_verdict_refuses_unknown_words():
    with pytest.raises(ValueError):
        Verdict("maybe", [])


def test_service_equality():
    assert parse_service("TCP/80") == Service("tcp", port=80)
    assert len({parse_service("icmp/8/0"), parse_service("icmp/8/0")}) == 1


class _LabelCheck(FlowCheck):
    endpoint_keys = ("labels", "namespace", "tags", "address")
    string_key = "address"


def test_default_names_flatten_mappings_and_lists():
    flows = _LabelCheck().parse_flows([
        _raw(source={"labels": {"user_environment": "production", "app": "web"}},
             destination={"namespace": "/acme/shop", "tags": ["app=db", "tier=data"]}, service="tcp/5432"),
    ])
    assert flows[0].name == "app=web,user_environment=production -> namespace=/acme/shop tags=app=db,tier=data tcp/5432"
