# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""First-match evaluation, with the workload-isolation guide's section and flow table."""

import pytest

from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.flows import Rule, evaluate, service_matches

APPLIED = ["service-b", "service-c", "service-d"]
GUIDE = [
    Rule("c-to-d", "ALLOW", ["service-c"], ["service-d"], applied_to=APPLIED, where="PtoPDFW"),
    Rule("b-to-c", "ALLOW", ["service-b"], ["service-c"], applied_to=APPLIED, where="PtoPDFW"),
    Rule("a-to-c", "ALLOW", ["service-a"], ["service-c"], applied_to=APPLIED, where="PtoPDFW"),
    Rule("a-to-b", "ALLOW", ["service-a"], ["service-b"], applied_to=APPLIED, where="PtoPDFW"),
    Rule("DenyAll", "REJECT", applied_to=APPLIED, where="PtoPDFW"),
]


@pytest.mark.parametrize("source, destination, verdict, rule", [
    ("service-a", "service-b", "allow", "a-to-b"),
    ("service-a", "service-c", "allow", "a-to-c"),
    ("service-b", "service-c", "allow", "b-to-c"),
    ("service-c", "service-d", "allow", "c-to-d"),
    ("service-a", "service-d", "deny", "DenyAll"),
    ("service-b", "service-d", "deny", "DenyAll"),
    ("service-c", "service-b", "deny", "DenyAll"),
    ("service-d", "service-c", "deny", "DenyAll"),
    ("service-d", "service-b", "deny", "DenyAll"),
    ("service-c", "service-a", "deny", "DenyAll"),
    ("service-b", "service-a", "deny", "DenyAll"),
])
def test_guide_table(source, destination, verdict, rule):
    assert evaluate(GUIDE, (source, destination, "any"))[:2] == (verdict, rule)


def test_outside_applied_to_falls_to_default_rule():
    assert evaluate(GUIDE, ("service-a", "web", "any"), "DROP", "Default Layer3 Rule") == ("deny", "Default Layer3 Rule", "default")


def test_disabled_and_excluded_rules():
    rules = [Rule("off", "ALLOW", ["a"], ["b"], disabled=True), Rule("not-a", "REJECT", ["a"], ["b"], sources_excluded=True),
             Rule("rest", "ALLOW")]
    assert evaluate(rules, ("a", "b", "any"))[1] == "rest"
    assert evaluate(rules, ("x", "b", "any"))[1] == "not-a"


@pytest.mark.parametrize("flow, services, matches", [
    ("tcp/80", [], True),
    ("tcp/80", ["tcp/80"], True),
    ("tcp/8080", ["tcp/8000:8100"], True),
    ("tcp/80", ["udp/80"], False),
    ("any", ["tcp/80"], False),
    ("icmp/8/0", ["icmp/8"], True),
    ("icmp/8/0", ["icmp"], True),
    ("icmp/0/0", ["icmp/8"], False),
])
def test_service_matching(flow, services, matches):
    assert service_matches(flow, services) is matches
