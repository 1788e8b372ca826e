# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Prisma flow evaluator, one or more tests per rule of prisma-ruleset-semantics.md (S1..S10).

Every object below is shaped like the API's JSON (the lab and the console return the same
attributes); nothing here makes a request.
"""

import pytest

from ansible_collections.microseg.segmentation.plugins.module_utils._core.flowcheck import FlowCheckError, parse_service
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.flows import (
    Peer,
    Policy,
    entries_match,
    evaluate_flow,
    expression_matches,
)

NS = "/acme/aws-dev/k8s/hipster-shop"
PARENT = "/acme/aws-dev/k8s"
OTHER = "/acme/aws-dev/k8s/other"


def namespace(name, incoming="Inherit", outgoing="Inherit", prefixes=None):
    return {"name": name, "defaultPUIncomingTrafficAction": incoming, "defaultPUOutgoingTrafficAction": outgoing,
            "tagPrefixes": list(prefixes or [])}


def pu(name, ns=NS, tags=("app=web",)):
    return {"ID": "pu-" + name, "name": name, "namespace": ns, "associatedTags": list(tags), "type": "Docker"}


def network(name, entries, ns=NS, propagate=False, tags=None):
    return {"ID": "en-" + name, "name": name, "namespace": ns, "entries": list(entries), "propagate": propagate,
            "associatedTags": list(tags if tags is not None else ["externalnetwork:name=%s" % name])}


def rule(obj, ports=("any",), action="Allow", **extra):
    return dict({"action": action, "object": obj, "protocolPorts": list(ports)}, **extra)


def ruleset(name, subject, incoming=(), outgoing=(), ns=NS, **extra):
    return dict({"ID": "rs-" + name, "name": name, "namespace": ns, "subject": subject,
                 "incomingRules": list(incoming), "outgoingRules": list(outgoing)}, **extra)


def lockdown_namespaces(**overrides):
    """The guide's tree: the application namespace locked down (Reject both ways, tag prefix app=), its parents Inherit."""
    spaces = {
        "/acme": namespace("/acme"),
        "/acme/aws-dev": namespace("/acme/aws-dev"),
        PARENT: namespace(PARENT),
        NS: namespace(NS, "Reject", "Reject", prefixes=["app=", "tier="]),
        OTHER: namespace(OTHER, "Reject", "Reject", prefixes=["app="]),
    }
    spaces.update(overrides)
    return list(spaces.values())


WEB = {"namespace": NS, "tags": ["app=web"]}
DB = {"namespace": NS, "tags": ["app=db"]}
PODS = [pu("web-1"), pu("db-1", tags=["app=db"])]


def check(policy, source, destination, service, expect=None):
    return evaluate_flow(policy, source, destination, parse_service(service), expect)


def addr(text):
    return {"address": text}


def labels(verdict):
    return [(d.side, d.action, d.rule, d.where, d.default) for d in verdict.decisions]


# ------------------------------------------------------------------ S1 two-sided enforcement


def test_s1_pu_to_pu_needs_both_sides():
    """S1: PU->PU passes only if the source's outgoing AND the destination's incoming rules allow it
    (source: "Network rulesets" concept page, docs.aporeto.com/saas/concepts/network-rulesets/)."""
    only_outgoing = ruleset("web-out", [["app=web"]], outgoing=[rule([["app=db"]], ["tcp/5432"])])
    policy = Policy(lockdown_namespaces(), [only_outgoing], [], PODS)
    verdict = check(policy, WEB, DB, "tcp/5432")
    assert verdict.verdict == "deny"
    assert labels(verdict) == [
        ("source", "Allow", "web-out outgoing[0]", NS, False),
        ("destination", "Reject", "default incoming action", NS, True),
    ]
    both = ruleset("db-in", [["app=db"]], incoming=[rule([["app=web"]], ["tcp/5432"])])
    policy = Policy(lockdown_namespaces(), [only_outgoing, both], [], PODS)
    verdict = check(policy, WEB, DB, "tcp/5432")
    assert verdict.verdict == "allow"
    assert [d.rule for d in verdict.decisions] == ["web-out outgoing[0]", "db-in incoming[0]"]
    assert [d.rule_id for d in verdict.decisions] == ["rs-web-out", "rs-db-in"]


def test_s1_external_peer_is_decided_by_the_pu_side_only():
    """S1: external networks have no enforcer, so external->PU needs only the destination's incoming rules and
    PU->external only the source's outgoing rules (source: "Network rulesets" concept page)."""
    internet = network("internet", ["0.0.0.0/0"])
    rs = ruleset("web", [["app=web"]], incoming=[rule([["externalnetwork:name=internet"]], ["tcp/443"])],
                 outgoing=[rule([["externalnetwork:name=internet"]], ["tcp/443"])])
    policy = Policy(lockdown_namespaces(), [rs], [internet], PODS)
    inbound = check(policy, addr("203.0.113.7"), WEB, "tcp/443")
    assert inbound.verdict == "allow"
    assert [d.side for d in inbound.decisions] == ["destination"]
    outbound = check(policy, WEB, addr("198.51.100.10"), "tcp/443")
    assert outbound.verdict == "allow" and [d.side for d in outbound.decisions] == ["source"]
    assert check(policy, WEB, addr("198.51.100.10"), "tcp/80").verdict == "deny"


def test_s1_two_external_peers_cannot_be_evaluated():
    """S1: a flow with no processing unit at either end is seen by no enforcer (source: concept page)."""
    policy = Policy(lockdown_namespaces(), [], [], PODS)
    with pytest.raises(FlowCheckError, match="no enforcer"):
        check(policy, addr("10.0.0.1"), addr("10.0.0.2"), "tcp/80")


# ------------------------------------------------------------------ S2 peers by tags, external by entries


def test_s2_pu_peer_by_tags_and_external_peer_by_entries():
    """S2: a PU peer is matched by its tags, an external peer by the entries of the external networks the object
    selects (source: trireme-lib controller/pkg/pucontext/pucontext.go searchRules)."""
    dns = network("dns", ["10.96.0.10"])
    rs = ruleset("web", [["app=web"]], outgoing=[rule([["externalnetwork:name=dns"]], ["udp/53"]), rule([["app=db"]], ["tcp/5432"])])
    db_in = ruleset("db", [["app=db"]], incoming=[rule([["app=web"]], ["tcp/5432"])])
    policy = Policy(lockdown_namespaces(), [rs, db_in], [dns], PODS)
    assert check(policy, WEB, addr("10.96.0.10"), "udp/53").verdict == "allow"
    assert check(policy, WEB, addr("10.96.0.11"), "udp/53").verdict == "deny"
    assert check(policy, WEB, DB, "tcp/5432").verdict == "allow"
    # a PU that does not carry the object's tag is not matched
    policy = Policy(lockdown_namespaces(), [rs, db_in], [dns], PODS + [pu("cache-1", tags=["app=cache"])])
    assert check(policy, WEB, {"namespace": NS, "tags": ["app=cache"]}, "tcp/5432").verdict == "deny"


# ------------------------------------------------------------------ S3 OR of ANDs


def test_s3_expression_is_an_or_of_ands():
    """S3: [[a, b], [c]] is (a AND b) OR c (source: reference prisma-microseg-api.md section 1.3)."""
    expression = [["app=web", "env=prod"], ["role=admin"]]
    assert expression_matches(expression, ["app=web", "env=prod"])
    assert expression_matches(expression, ["role=admin"])
    assert not expression_matches(expression, ["app=web"])
    assert not expression_matches(expression, ["env=prod", "role=user"])
    assert not expression_matches([], ["app=web"])
    assert not expression_matches([[]], ["app=web"])


def test_s3_trailing_star_matches_by_prefix():
    """S3 assumption: a trailing * matches by prefix (source: semantics file, marked assumption)."""
    assert expression_matches([["$namespace=/acme/aws-dev/*"]], ["$namespace=/acme/aws-dev/k8s"])
    assert not expression_matches([["$namespace=/acme/aws-dev/*"]], ["$namespace=/acme/prod"])
    assert not expression_matches([["app=web"]], ["app=web-2"])


# ------------------------------------------------------------------ S4 which rulesets apply


def test_s4_propagated_ruleset_from_the_parent_decides():
    """S4: a ruleset of an ancestor with propagate: true applies to the PUs of its children (source: gaia
    @propagated.abs; docs "Namespaces" concept page)."""
    parent_reject = ruleset("no-ssh", [["$identity=processingunit"]], ns=PARENT, propagate=True,
                            incoming=[rule([["externalnetwork:name=internet"]], ["tcp/22"], action="Reject")])
    local_allow = ruleset("open", [["app=web"]], incoming=[rule([["externalnetwork:name=internet"]], ["any"])])
    internet = network("internet", ["0.0.0.0/0"], ns=PARENT, propagate=True)
    policy = Policy(lockdown_namespaces(), [parent_reject, local_allow], [internet], PODS)
    verdict = check(policy, addr("203.0.113.7"), WEB, "tcp/22")
    assert verdict.verdict == "deny"
    assert labels(verdict) == [("destination", "Reject", "no-ssh incoming[0]", PARENT, False)]
    assert verdict.decisions[0].rule_id == "rs-no-ssh"
    assert check(policy, addr("203.0.113.7"), WEB, "tcp/443").verdict == "allow"


def test_s4_parent_ruleset_without_propagate_does_not_apply():
    """S4: parent->child only, and only when propagate is true (source: gaia @propagated.abs)."""
    parent_allow = ruleset("parent-open", [["$identity=processingunit"]], ns=PARENT, propagate=False,
                           incoming=[rule([["$identity=processingunit"]], ["any"])], outgoing=[rule([["$identity=processingunit"]], ["any"])])
    policy = Policy(lockdown_namespaces(), [parent_allow], [], PODS)
    assert check(policy, WEB, DB, "tcp/5432").verdict == "deny"
    # a child's ruleset never applies to the parent's PUs, even propagated
    child = ruleset("child-open", [["$identity=processingunit"]], ns=NS, propagate=True,
                    incoming=[rule([["$identity=processingunit"]], ["any"])], outgoing=[rule([["$identity=processingunit"]], ["any"])])
    parent_pods = [pu("p-1", ns=PARENT, tags=["app=p"]), pu("p-2", ns=PARENT, tags=["app=q"])]
    spaces = lockdown_namespaces(**{PARENT: namespace(PARENT, "Reject", "Reject", prefixes=["app="])})
    policy = Policy(spaces, [child], [], parent_pods)
    assert check(policy, {"namespace": PARENT, "tags": ["app=p"]}, {"namespace": PARENT, "tags": ["app=q"]}, "tcp/1").verdict == "deny"


def test_s4_disabled_ruleset_does_not_apply():
    """S4: a disabled ruleset does not apply (source: gaia @disabled.abs)."""
    rs = ruleset("web", [["app=web"]], incoming=[rule([["externalnetwork:name=internet"]], ["tcp/443"])], disabled=True)
    policy = Policy(lockdown_namespaces(), [rs], [network("internet", ["0.0.0.0/0"])], PODS)
    verdict = check(policy, addr("203.0.113.7"), WEB, "tcp/443")
    assert verdict.verdict == "deny" and verdict.decisions[0].default


def test_s4_fallback_counts_only_when_no_other_ruleset_applies():
    """S4: a fallback ruleset counts only when no other ruleset was resolved, decided per PU (gaia @fallback.abs;
    per-PU is the semantics file's assumption)."""
    fallback = ruleset("fallback-open", [["$identity=processingunit"]], fallback=True,
                       incoming=[rule([["externalnetwork:name=internet"]], ["any"])])
    web_only = ruleset("web", [["app=web"]], incoming=[rule([["externalnetwork:name=internet"]], ["tcp/443"])])
    policy = Policy(lockdown_namespaces(), [fallback, web_only], [network("internet", ["0.0.0.0/0"])], PODS)
    # web has its own ruleset: the fallback does not count, tcp/22 falls to the Reject default
    ssh = check(policy, addr("203.0.113.7"), WEB, "tcp/22")
    assert ssh.verdict == "deny" and ssh.decisions[0].default
    # db has no other ruleset: the fallback decides for it
    db = check(policy, addr("203.0.113.7"), DB, "tcp/22")
    assert db.verdict == "allow"
    assert labels(db) == [("destination", "Allow", "fallback-open incoming[0]", NS, False)]


# ------------------------------------------------------------------ S5 normalized tags, external networks included


def test_s5_namespace_only_object_selects_the_internet_external_network():
    """S5: every object carries $namespace=<ns>, external networks included, so the old namespace guide's object
    [["$namespace=<ns>"]] also selects the internet external network: Internet -> pod on any port is allowed
    (source: gaia +networkrule.spec "will identify both processing units as well as external networks")."""
    internet = network("internet", ["0.0.0.0/0"])
    old = ruleset("allow-namespace", [["$namespace=%s" % NS]],
                  incoming=[rule([["$namespace=%s" % NS]])], outgoing=[rule([["$namespace=%s" % NS]])])
    policy = Policy(lockdown_namespaces(), [old], [internet], PODS)
    ssh = check(policy, addr("203.0.113.7"), WEB, "tcp/22", "deny")
    assert ssh.verdict == "allow"
    assert labels(ssh) == [("destination", "Allow", "allow-namespace incoming[0]", NS, False)]
    assert check(policy, WEB, addr("198.51.100.10"), "tcp/25").verdict == "allow"


def test_s5_identity_clause_keeps_the_object_to_processing_units():
    """S5: the guides write [["$identity=processingunit", "$namespace=<ns>"]] for "the pods of the namespace"
    (source: reference section 6.8)."""
    internet = network("internet", ["0.0.0.0/0"])
    obj = [["$identity=processingunit", "$namespace=%s" % NS]]
    fixed = ruleset("allow-pods-in-namespace", [["$namespace=%s" % NS]], incoming=[rule(obj)], outgoing=[rule(obj)])
    policy = Policy(lockdown_namespaces(), [fixed], [internet], PODS)
    assert check(policy, addr("203.0.113.7"), WEB, "tcp/22").verdict == "deny"
    assert check(policy, WEB, DB, "tcp/5432").verdict == "allow"
    assert check(policy, WEB, addr("198.51.100.10"), "tcp/443").verdict == "deny"


def test_s5_generated_tags_identify_name_and_id():
    """S5: $name= and $id= are normalized tags of external networks too (source: reference section 1.2)."""
    nets = [network("a", ["10.0.0.0/8"], tags=[]), network("b", ["10.0.0.0/8"], tags=[])]
    rs = ruleset("web", [["app=web"]], outgoing=[rule([["$name=b"]], ["tcp/80"])])
    policy = Policy(lockdown_namespaces(), [rs], nets, PODS)
    assert check(policy, WEB, addr("10.1.1.1"), "tcp/80").verdict == "allow"
    rs = ruleset("web", [["app=web"]], outgoing=[rule([["$id=en-a", "$identity=externalnetwork"]], ["tcp/80"])])
    assert check(Policy(lockdown_namespaces(), [rs], nets, PODS), WEB, addr("10.1.1.1"), "tcp/80").verdict == "allow"


# ------------------------------------------------------------------ S6 Reject beats Allow


def test_s6_reject_shadows_allow_on_the_same_side():
    """S6: if a matching Reject rule exists on a side, the flow is rejected whatever Allow rules match (source:
    trireme-lib pucontext.go searchRules; cns-docs Concepts.adoc "reject always takes precedence over allow")."""
    internet = network("internet", ["0.0.0.0/0"])
    allow = ruleset("a-allow-web", [["app=web"]], incoming=[rule([["externalnetwork:name=internet"]], ["tcp/1:65535"])])
    reject = ruleset("z-block-ssh", [["app=web"]], incoming=[rule([["externalnetwork:name=internet"]], ["tcp/22"], action="Reject",
                                                                  name="no-ssh")])
    policy = Policy(lockdown_namespaces(**{NS: namespace(NS, "Allow", "Allow", prefixes=["app="])}), [allow, reject], [internet], PODS)
    verdict = check(policy, addr("203.0.113.7"), WEB, "tcp/22", "allow")
    assert verdict.verdict == "deny"
    assert labels(verdict) == [("destination", "Reject", "z-block-ssh incoming[0] no-ssh", NS, False)]
    assert check(policy, addr("203.0.113.7"), WEB, "tcp/443").verdict == "allow"


def test_s6_reject_on_one_side_denies_a_pu_flow():
    """S6 with S1: a Reject on the destination side denies even when the source allows (sources as S1 and S6)."""
    out = ruleset("web", [["app=web"]], outgoing=[rule([["app=db"]])])
    inc = ruleset("db", [["app=db"]], incoming=[rule([["app=web"]]), rule([["app=web"]], ["tcp/5432"], action="Reject")])
    policy = Policy(lockdown_namespaces(), [out, inc], [], PODS)
    verdict = check(policy, WEB, DB, "tcp/5432")
    assert verdict.verdict == "deny"
    assert [(d.side, d.action) for d in verdict.decisions] == [("source", "Allow"), ("destination", "Reject")]


# ------------------------------------------------------------------ S7 default actions and Inherit


def test_s7_default_action_when_no_rule_matches():
    """S7: no matching rule -> the namespace's defaultPUIncomingTrafficAction / defaultPUOutgoingTrafficAction
    (source: gaia namespace.spec; release notes 2021-03-05 "Discovery mode available from API")."""
    spaces = lockdown_namespaces(**{NS: namespace(NS, incoming="Reject", outgoing="Allow", prefixes=["app="])})
    policy = Policy(spaces, [], [], PODS)
    verdict = check(policy, WEB, DB, "tcp/80")
    assert verdict.verdict == "deny"
    assert labels(verdict) == [("source", "Allow", "default outgoing action", NS, True),
                               ("destination", "Reject", "default incoming action", NS, True)]
    assert check(policy, WEB, addr("198.51.100.1"), "tcp/80").verdict == "allow"


def test_s7_inherit_walks_to_the_parent():
    """S7: Inherit takes the parent's value (source: gaia namespace.spec; cns-docs Namespaces.adoc)."""
    spaces = lockdown_namespaces(**{NS: namespace(NS, prefixes=["app="]), PARENT: namespace(PARENT, "Inherit", "Inherit"),
                                    "/acme/aws-dev": namespace("/acme/aws-dev", "Reject", "Allow")})
    policy = Policy(spaces, [], [], PODS)
    verdict = check(policy, addr("203.0.113.7"), WEB, "tcp/80")
    assert verdict.verdict == "deny"
    assert labels(verdict) == [("destination", "Reject", "default incoming action", "/acme/aws-dev", True)]


def test_s7_unresolved_inherit_chain_is_allow():
    """S7 assumption: an Inherit chain that never resolves behaves as Allow (release notes 2020-10-30: discovery
    mode on by default)."""
    spaces = [namespace(n, prefixes=["app="]) for n in ("/acme", "/acme/aws-dev", PARENT, NS)]
    verdict = check(Policy(spaces, [], [], PODS), WEB, DB, "tcp/80")
    assert verdict.verdict == "allow"
    assert all(d.default and d.action == "Allow" and "Inherit" in d.rule for d in verdict.decisions)


# ------------------------------------------------------------------ S8 tag prefixes


def test_s8_user_tag_without_prefix_cannot_match():
    """S8: a user tag is usable in rulesets only when it starts with a tagPrefixes entry of the PU's namespace or an
    ancestor (source: gaia namespace.spec "Only these tags will be transmitted on the wire"; docs migration page)."""
    internet = network("internet", ["0.0.0.0/0"])
    rs = ruleset("web", [["app=web"]], incoming=[rule([["externalnetwork:name=internet"]], ["tcp/443"])])
    no_prefix = lockdown_namespaces(**{NS: namespace(NS, "Reject", "Reject", prefixes=[])})
    assert check(Policy(no_prefix, [rs], [internet], PODS), addr("203.0.113.7"), WEB, "tcp/443").verdict == "deny"
    # the prefix declared on an ancestor is enough
    on_parent = lockdown_namespaces(**{NS: namespace(NS, "Reject", "Reject", prefixes=[]), PARENT: namespace(PARENT, prefixes=["app="])})
    assert check(Policy(on_parent, [rs], [internet], PODS), addr("203.0.113.7"), WEB, "tcp/443").verdict == "allow"


def test_s8_applies_to_peer_tags_and_spares_generated_ones():
    """S8: the peer PU's user tags are filtered the same way; $ and @ tags are always usable (source as S8)."""
    no_prefix = lockdown_namespaces(**{NS: namespace(NS, "Reject", "Reject", prefixes=[])})
    out = ruleset("web", [["$name=web-1"]], outgoing=[rule([["app=db"]])])
    inc = ruleset("db", [["@app:k8s:name=db"]], incoming=[rule([["$name=web-1"]])])
    pods = [pu("web-1"), pu("db-1", tags=["app=db", "@app:k8s:name=db"])]
    assert check(Policy(no_prefix, [out, inc], [], pods), WEB, DB, "tcp/5432").verdict == "deny"
    out = ruleset("web", [["$name=web-1"]], outgoing=[rule([["@app:k8s:name=db"]])])
    assert check(Policy(no_prefix, [out, inc], [], pods), WEB, DB, "tcp/5432").verdict == "allow"


# ------------------------------------------------------------------ S9 protocol ports and entries


@pytest.mark.parametrize("ports, service, allowed", [
    (["any"], "tcp/22", True),
    (["tcp/80"], "tcp/80", True),
    (["tcp/80"], "udp/80", False),
    (["tcp/1:65535"], "tcp/8080", True),
    (["udp/53"], "udp/53", True),
    (["icmp"], "icmp/8/0", True),
    (["icmp/8"], "icmp/8/0", True),
    (["icmp/3/0,1,3:5"], "icmp/3/4", True),
    (["icmp/3/0,1,3:5"], "icmp/3/2", False),
    (["tcp/443"], "any", False),
    ([], "tcp/80", False),
])
def test_s9_protocol_ports(ports, service, allowed):
    """S9: protocolPorts any, tcp/80, udp/53, ranges, icmp/<type>/<codes>; an empty list matches nothing
    (assumption) (source: reference sections 3.2 and 2.4; release notes 2020-09-15)."""
    rs = ruleset("web", [["app=web"]], incoming=[rule([["externalnetwork:name=internet"]], ports)])
    policy = Policy(lockdown_namespaces(), [rs], [network("internet", ["0.0.0.0/0"])], PODS)
    assert check(policy, addr("203.0.113.7"), WEB, service).verdict == ("allow" if allowed else "deny")


def test_s9_observation_rules_do_not_decide():
    """S9 assumption: rules with observationEnabled are reported but do not decide (source: semantics file)."""
    rs = ruleset("web", [["app=web"]], incoming=[rule([["externalnetwork:name=internet"]], ["tcp/22"], action="Reject",
                                                      observationEnabled=True)])
    allow = ruleset("open", [["app=web"]], incoming=[rule([["externalnetwork:name=internet"]], ["any"])])
    policy = Policy(lockdown_namespaces(), [rs, allow], [network("internet", ["0.0.0.0/0"])], PODS)
    verdict = check(policy, addr("203.0.113.7"), WEB, "tcp/22")
    assert verdict.verdict == "allow"
    assert [d.rule for d in verdict.decisions] == ["open incoming[0]"]
    assert "observation" in verdict.reason and "web incoming[0]" in verdict.reason


@pytest.mark.parametrize("entries, peer, inside", [
    (["10.0.0.0/8"], Peer(address="10.1.2.3"), True),
    (["10.0.0.0/8"], Peer(address="11.1.2.3"), False),
    (["169.254.169.254"], Peer(address="169.254.169.254"), True),
    (["169.254.169.254"], Peer(address="169.254.169.253"), False),
    (["0.0.0.0/0", "!10.0.0.0/8"], Peer(address="10.1.2.3"), False),
    (["0.0.0.0/0", "!10.0.0.0/8"], Peer(address="8.8.8.8"), True),
    (["!10.0.0.0/8"], Peer(address="8.8.8.8"), False),
    (["2001:db8::/32"], Peer(address="2001:db8::1"), True),
    (["0.0.0.0/0"], Peer(address="2001:db8::1"), False),
    (["storage.googleapis.com"], Peer(host="storage.googleapis.com"), True),
    (["*.googleapis.com"], Peer(host="storage.googleapis.com"), True),
    (["*.googleapis.com"], Peer(host="googleapis.com"), False),
    (["*.googleapis.com"], Peer(host="evil-googleapis.com"), False),
    (["0.0.0.0/0"], Peer(host="storage.googleapis.com"), False),
    (["0.0.0.0/0"], Peer(host="storage.googleapis.com", address="142.250.1.1"), True),
])
def test_s9_external_network_entries(entries, peer, inside):
    """S9: entries are CIDRs, bare IPs, !CIDR exclusions inside an included CIDR, host names and *.domain (source:
    reference section 2.4; release notes 2020-09-15)."""
    assert entries_match(entries, peer) is inside


def test_s9_googleapis_wildcard_decides_a_host_flow():
    """S9: a PU -> *.googleapis.com flow is decided by the external network holding the wildcard (source as S9)."""
    google = network("googleapis", ["*.googleapis.com"])
    rs = ruleset("egress", [["app=web"]], outgoing=[rule([["externalnetwork:name=googleapis"]], ["tcp/443"])])
    policy = Policy(lockdown_namespaces(), [rs], [google], PODS)
    assert check(policy, WEB, {"host": "storage.googleapis.com"}, "tcp/443").verdict == "allow"
    assert check(policy, WEB, {"host": "example.com"}, "tcp/443").verdict == "deny"


# ------------------------------------------------------------------ S10 external networks in scope


def test_s10_external_network_of_another_namespace_is_not_usable():
    """S10 assumption: an external network is usable for a PU only from its namespace or propagated from an ancestor
    (source: semantics file, consistent with S4)."""
    rs = ruleset("egress", [["app=web"]], outgoing=[rule([["externalnetwork:name=internet"]], ["tcp/443"])])
    elsewhere = network("internet", ["0.0.0.0/0"], ns=OTHER)
    assert check(Policy(lockdown_namespaces(), [rs], [elsewhere], PODS), WEB, addr("8.8.8.8"), "tcp/443").verdict == "deny"
    not_propagated = network("internet", ["0.0.0.0/0"], ns=PARENT, propagate=False)
    assert check(Policy(lockdown_namespaces(), [rs], [not_propagated], PODS), WEB, addr("8.8.8.8"), "tcp/443").verdict == "deny"
    propagated = network("internet", ["0.0.0.0/0"], ns=PARENT, propagate=True)
    assert check(Policy(lockdown_namespaces(), [rs], [propagated], PODS), WEB, addr("8.8.8.8"), "tcp/443").verdict == "allow"


# ------------------------------------------------------------------ endpoints with several PUs


def test_flow_must_hold_for_every_selected_pu():
    """S1 per PU: an endpoint that selects several PUs is evaluated for each; one denied replica fails an allow."""
    pods = [pu("web-1"), pu("web-2", tags=["app=web", "tier=canary"]), pu("db-1", tags=["app=db"])]
    out = ruleset("web", [["app=web"]], outgoing=[rule([["app=db"]])])
    inc = ruleset("db", [["app=db"]], incoming=[rule([["$name=web-1"]])])
    policy = Policy(lockdown_namespaces(), [out, inc], [], pods)
    verdict = check(policy, WEB, DB, "tcp/5432", "allow")
    assert verdict.verdict == "deny"
    assert "1/2 pairs allowed" in verdict.reason and "web-2" in verdict.reason
    # expecting deny, one allowed pair makes the flow allowed
    assert check(policy, WEB, DB, "tcp/5432", "deny").verdict == "allow"


def test_endpoint_selecting_nothing_fails_naming_it():
    """An endpoint that selects no PU cannot be evaluated (FlowCheckError naming the namespace and tags)."""
    policy = Policy(lockdown_namespaces(), [], [], PODS)
    with pytest.raises(FlowCheckError, match="app=nothing"):
        check(policy, {"namespace": NS, "tags": ["app=nothing"]}, DB, "tcp/80")


# ------------------------------------------------------------------ the module's endpoint forms


def parse_one(source, destination="10.0.0.1", service="tcp/80"):
    from ansible_collections.microseg.segmentation.plugins.modules.prisma_flow_check import PrismaFlowCheck

    return PrismaFlowCheck().parse_flows([{"source": source, "destination": destination, "service": service}])[0]


def test_relative_namespaces_are_resolved_against_the_task_s():
    """``prod`` is a child of the task's namespace, ``.`` or no namespace the task's own: flow files
    kept in a policy repository then name no tenant."""
    from ansible_collections.microseg.segmentation.plugins.modules.prisma_flow_check import _absolute

    assert parse_one({"tags": "app=web"}).source == {"namespace": ".", "tags": ["app=web"]}
    assert parse_one({"namespace": "shop/", "tags": "app=web"}).source == {"namespace": "shop", "tags": ["app=web"]}
    assert [_absolute("/acme", p) for p in (".", "shop", "shop/web", "./shop")] == ["/acme", "/acme/shop", "/acme/shop/web", "/acme/shop"]
    assert _absolute("/", "shop") == "/shop"


def test_endpoint_forms():
    """A string is an address or a host name; a mapping is namespace + tags, address, host, or host + address."""
    assert parse_one("203.0.113.7").source == {"address": "203.0.113.7"}
    assert parse_one("2001:db8::7").source == {"address": "2001:db8::7"}
    assert parse_one("storage.googleapis.com").source == {"host": "storage.googleapis.com"}
    assert parse_one({"namespace": NS + "/", "tags": "app=web"}).source == {"namespace": NS, "tags": ["app=web"]}
    assert parse_one({"host": "a.example.com", "address": "192.0.2.1"}).source == {"host": "a.example.com", "address": "192.0.2.1"}


@pytest.mark.parametrize("source, text", [
    ({"namespace": "../acme", "tags": ["app=web"]}, "a namespace path is expected"),
    ({"namespace": "acme//web", "tags": ["app=web"]}, "a namespace path is expected"),
    ({"namespace": NS, "tags": ["web"]}, "key=value"),
    ({"namespace": NS, "address": "10.0.0.1"}, "do not mix"),
    ({"address": "10.0.0.300"}, "not an IPv4 or IPv6 address"),
    ({"host": "10.0.0.1"}, "not a host name"),
    ("not a host!", "neither an IPv4 or IPv6 address nor a host name"),
    ("10.0.0.300", "neither an IPv4 or IPv6 address nor a host name"),
    ({"label": "x"}, "unknown key"),
])
def test_bad_endpoints_fail_before_any_request(source, text):
    """Every flow is validated before the first request, naming the option."""
    from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError

    with pytest.raises(ValidationError, match=text) as caught:
        parse_one(source)
    assert "flows[0].source" in str(caught.value)


# ------------------------------------------------------------------ TCP services and service dependency policies
# Sources: reference prisma-microseg-api.md section 2.1 (TCP service: IPs/hosts and exposedPort are where clients
# reach it, port where the processing units its selectors select listen, publicApplicationPort the "Public port" for
# external clients, proxyProtocolSubnets) and section 2.2 (service dependency policy: subject = client PUs, object =
# services; the default policy of every Kubernetes/Group namespace); gaia service.spec, servicedependencypolicy.spec.

SVC_NS = "/acme/k8s-clusterip"
HOSTS = "/acme/hosts"
CLIENT = {"namespace": SVC_NS, "tags": ["app=my-client"]}
DEBUG = {"namespace": SVC_NS, "tags": ["app=debug"]}
HOST_CLIENT = {"namespace": HOSTS, "tags": ["role=client"]}
HOST_BACKUP = {"namespace": HOSTS, "tags": ["role=backup"]}
SERVER_PODS = [["$identity=processingunit", "app=my-app"]]
CLIENT_PODS = [["$identity=processingunit", "app=my-client"]]


def tcp_service(name="my-service", ns=SVC_NS, ips=("10.96.12.34",), hosts=("my-service.default.svc.cluster.local",),
                exposed=9376, port=80, selectors=None, tags=None, **extra):
    return dict({"ID": "sv-" + name, "name": name, "namespace": ns, "type": "TCP", "IPs": list(ips), "hosts": list(hosts),
                 "exposedPort": exposed, "port": port, "selectors": selectors or SERVER_PODS,
                 "associatedTags": list(tags if tags is not None else ["service=%s" % name])}, **extra)


def sdp(name, subject, obj, ns=SVC_NS, **extra):
    return dict({"ID": "sd-" + name + ns.replace("/", "-"), "name": name, "namespace": ns, "subject": subject, "object": obj},
                **extra)


def default_sdp(ns=SVC_NS, **extra):
    """The policy the console creates in a Kubernetes or Group namespace (as the lab writes it)."""
    return sdp("default", [["$identity=processingunit", "$namespace=%s" % ns]], [["$identity=service", "$namespace=%s" % ns]],
               ns=ns, **extra)


def service_namespaces():
    return [namespace("/acme"), namespace(SVC_NS, "Reject", "Reject", prefixes=["app="]),
            namespace(HOSTS, "Reject", "Reject", prefixes=["role="]), namespace("/acme/k8s-nlb", "Reject", "Reject", prefixes=["app="])]


SERVICE_PODS = [pu("my-app-1", SVC_NS, ["app=my-app"]), pu("my-app-2", SVC_NS, ["app=my-app"]),
                pu("my-client-1", SVC_NS, ["app=my-client"]), pu("debug-1", SVC_NS, ["app=debug"]),
                pu("client-1", HOSTS, ["role=client"]), pu("backup-1", HOSTS, ["role=backup"])]
SERVICE_RULESETS = [
    ruleset("my-app-incoming", SERVER_PODS, incoming=[rule(CLIENT_PODS, ["tcp/80"])], ns=SVC_NS),
    ruleset("my-client-outgoing", CLIENT_PODS, outgoing=[rule(SERVER_PODS, ["tcp/80"])], ns=SVC_NS),
]


def service_policy(rulesets=None, networks=(), services=None, sdps=None, units=None):
    return Policy(service_namespaces(), SERVICE_RULESETS if rulesets is None else rulesets, list(networks),
                  SERVICE_PODS if units is None else units, [tcp_service()] if services is None else services,
                  [default_sdp()] if sdps is None else sdps)


def test_service_clusterip_by_address_host_and_name_goes_to_the_selected_pods_on_the_target_port():
    """Reference 2.1: a connection to the service's IP or host on exposedPort reaches the PUs its selectors select on
    port; 2.2: the namespace's default policy lets its PUs use its services. The rulesets decide the translated flow on
    tcp/80 (S1, both sides), and the decisions name the service and the policy."""
    policy = service_policy()
    for destination in (addr("10.96.12.34"), "my-service.default.svc.cluster.local", {"service": "my-service", "namespace": SVC_NS}):
        if isinstance(destination, str):
            destination = {"host": destination}
        verdict = check(policy, CLIENT, destination, "tcp/9376", "allow")
        assert verdict.verdict == "allow", verdict.reason
        assert labels(verdict) == [
            ("destination", "Map", "service my-service", SVC_NS, False),
            ("source", "Allow", "service dependency policy default", SVC_NS, False),
            ("source", "Allow", "my-client-outgoing outgoing[0]", SVC_NS, False),
            ("destination", "Allow", "my-app-incoming incoming[0]", SVC_NS, False),
        ]
        assert "through service %s/my-service (tcp/9376 -> tcp/80)" % SVC_NS in verdict.reason
        assert verdict.reason.startswith("2/2 pairs allowed")  # both server pods were checked


def test_service_client_no_ruleset_names_is_denied_although_the_default_policy_names_it():
    """Assumption (stated in the module): the service dependency policy AND the rulesets are both needed; the debug pod
    has the namespace's default policy but no ruleset, so the server pods' default incoming action rejects it (S7)."""
    verdict = check(service_policy(), DEBUG, addr("10.96.12.34"), "tcp/9376")
    assert verdict.verdict == "deny"
    assert labels(verdict)[:2] == [("destination", "Map", "service my-service", SVC_NS, False),
                                   ("source", "Allow", "service dependency policy default", SVC_NS, False)]
    assert ("source", "Reject", "default outgoing action", SVC_NS, True) in labels(verdict)


def test_service_rulesets_alone_are_not_enough_without_a_dependency_policy():
    """Assumption (stated in the module): without a service dependency policy the flow is denied even though the
    rulesets allow the translated flow (reference 2.2: the policy is what lets client PUs depend on a service)."""
    verdict = check(service_policy(sdps=[]), CLIENT, addr("10.96.12.34"), "tcp/9376")
    assert verdict.verdict == "deny"
    assert labels(verdict) == [("destination", "Map", "service my-service", SVC_NS, False),
                               ("source", "Reject", "no service dependency policy", SVC_NS, True)]
    assert "no service dependency policy lets %s/my-client-1 use service %s/my-service" % (SVC_NS, SVC_NS) in verdict.reason
    # the same pods directly on the target port: the rulesets allow it (no service involved)
    assert check(service_policy(sdps=[]), CLIENT, {"namespace": SVC_NS, "tags": ["app=my-app"]}, "tcp/80").verdict == "allow"


def test_service_disabled_default_policy_and_a_propagated_one_from_the_parent():
    """Reference 2.2 and gaia @disabled/@propagated: a disabled default policy no longer counts (the reason says so); a
    policy of the parent with propagate: true applies to the children's clients (the NLB guide)."""
    nlb = tcp_service("nginx-nlb", ns="/acme/k8s-nlb", ips=(), hosts=("nginx-nlb.elb.example.com",), exposed=8001, port=80,
                      selectors=[["$identity=processingunit", "$namespace=/acme/k8s-nlb", "app=nginx"]])
    host_client = [["$identity=processingunit", "$namespace=%s" % HOSTS, "role=client"]]
    nginx = [["$identity=processingunit", "$namespace=/acme/k8s-nlb", "app=nginx"]]
    units = SERVICE_PODS + [pu("nginx-1", "/acme/k8s-nlb", ["app=nginx"])]
    rulesets = [ruleset("client-out", host_client, outgoing=[rule(nginx, ["tcp/80"])], ns=HOSTS),
                ruleset("nginx-in", nginx, incoming=[rule([["$identity=processingunit", "$namespace=%s" % HOSTS]], ["tcp/80"])],
                        ns="/acme/k8s-nlb")]
    disabled = [default_sdp(HOSTS, disabled=True), default_sdp("/acme/k8s-nlb", disabled=True)]
    # the hosts' default policy, enabled, would not name a service of another namespace anyway
    policy = service_policy(rulesets, services=[nlb], sdps=disabled, units=units)
    verdict = check(policy, HOST_CLIENT, {"host": "nginx-nlb.elb.example.com"}, "tcp/8001")
    assert verdict.verdict == "deny"
    assert ("source", "Reject", "no service dependency policy", HOSTS, True) in labels(verdict)
    custom = sdp("hosts-to-nginx-nlb", host_client, [["service=nginx-nlb"]], ns="/acme", propagate=True)
    policy = service_policy(rulesets, services=[nlb], sdps=disabled + [custom], units=units)
    verdict = check(policy, HOST_CLIENT, {"host": "nginx-nlb.elb.example.com"}, "tcp/8001", "allow")
    assert verdict.verdict == "allow", verdict.reason
    assert ("source", "Allow", "service dependency policy hosts-to-nginx-nlb", "/acme", False) in labels(verdict)
    backup = check(policy, HOST_BACKUP, {"host": "nginx-nlb.elb.example.com"}, "tcp/8001")
    assert backup.verdict == "deny" and ("source", "Reject", "no service dependency policy", HOSTS, True) in labels(backup)
    # not propagated: the parent's policy does not reach the children (S4 applied to the policy)
    unpropagated = sdp("hosts-to-nginx-nlb", host_client, [["service=nginx-nlb"]], ns="/acme")
    policy = service_policy(rulesets, services=[nlb], sdps=disabled + [unpropagated], units=units)
    assert check(policy, HOST_CLIENT, {"host": "nginx-nlb.elb.example.com"}, "tcp/8001").verdict == "deny"
    # the default policy of the service's namespace, disabled, is named in the reason of a client of that namespace
    policy = service_policy(sdps=[default_sdp(disabled=True)])
    verdict = check(policy, CLIENT, addr("10.96.12.34"), "tcp/9376")
    assert verdict.verdict == "deny" and "(disabled: default)" in verdict.reason


def test_service_dependency_object_matches_the_service_normalized_tags():
    """Reference 1.2/S5: every object carries $identity, $name, $namespace, $id besides its own tags; a policy's object
    selects services by them ($identity=service, $name=my-service) or by the service's own tags."""
    for obj, expected in (([["$identity=service", "$name=my-service"]], "allow"), ([["service=my-service"]], "allow"),
                          ([["$identity=service", "$name=other"]], "deny"), ([["$identity=processingunit"]], "deny")):
        policy = service_policy(sdps=[sdp("clients", CLIENT_PODS, obj)])
        assert check(policy, CLIENT, addr("10.96.12.34"), "tcp/9376").verdict == expected, obj


def test_service_dependency_fallback_counts_only_when_no_other_policy_applies():
    """gaia @fallback ("only applied if no other policies have been resolved"), decided per client as for rulesets (S4
    assumption): a fallback policy allowing the service is ignored while another policy applies to the client."""
    fallback = sdp("fallback-all", [["$identity=processingunit"]], [["$identity=service"]], ns="/acme", propagate=True, fallback=True)
    other = sdp("other", CLIENT_PODS, [["service=unrelated"]])
    assert check(service_policy(sdps=[fallback]), CLIENT, addr("10.96.12.34"), "tcp/9376").verdict == "allow"
    assert check(service_policy(sdps=[fallback, other]), CLIENT, addr("10.96.12.34"), "tcp/9376").verdict == "deny"


def test_service_another_port_is_a_plain_address_flow():
    """Reference 2.1 (exposedPort: "the port that the service can be accessed on"): any other port does not go through
    the service; the flow is a plain flow to the address, decided by the external networks that hold it."""
    cluster = network("cluster-ips", ["10.96.0.0/12"], ns=SVC_NS)
    rulesets = SERVICE_RULESETS + [ruleset("ssh-out", CLIENT_PODS, outgoing=[rule([["externalnetwork:name=cluster-ips"]], ["tcp/22"])],
                                           ns=SVC_NS)]
    policy = service_policy(rulesets, networks=[cluster])
    verdict = check(policy, CLIENT, addr("10.96.12.34"), "tcp/22")
    assert verdict.verdict == "allow"
    assert labels(verdict) == [("source", "Allow", "ssh-out outgoing[0]", SVC_NS, False)]
    assert check(service_policy(), CLIENT, addr("10.96.12.34"), "tcp/22").verdict == "deny"
    # the target port on the service's address is not the service either
    assert "service" not in " ".join(d.rule for d in check(service_policy(), CLIENT, addr("10.96.12.34"), "tcp/80").decisions)
    # by name: a plain flow to each of its addresses and host names, said in the reason
    named = check(service_policy(), CLIENT, {"service": "my-service", "namespace": SVC_NS}, "tcp/22")
    assert named.verdict == "deny"
    assert named.reason.startswith("tcp/22 is not a port of service %s/my-service (tcp/9376): a plain flow" % SVC_NS)


def test_service_outside_client_on_exposed_and_public_port_destination_side_only():
    """Reference 2.1 UI mapping ("Public port" for external clients = publicApplicationPort); S1: an external client has
    no enforcer, so only the implementing PUs' incoming rules decide and no dependency policy is asked. Assumption (stated):
    an outside client reaches the service on exposedPort and publicApplicationPort; a PU client only on exposedPort."""
    clients = network("lb-clients", ["203.0.113.0/24"], ns=SVC_NS)
    lb = tcp_service("web", ips=(), hosts=("web.lb.example.com",), exposed=443, port=8443, publicApplicationPort=8003,
                     selectors=[["$identity=processingunit", "app=web"]])
    units = SERVICE_PODS + [pu("web-1", SVC_NS, ["app=web"])]
    rulesets = SERVICE_RULESETS + [ruleset("web-in", [["app=web"]], incoming=[rule([["externalnetwork:name=lb-clients"]], ["tcp/8443"])],
                                           ns=SVC_NS)]
    policy = service_policy(rulesets, networks=[clients], services=[lb], sdps=[], units=units)
    for port in ("tcp/443", "tcp/8003"):
        verdict = check(policy, addr("203.0.113.7"), {"host": "web.lb.example.com"}, port)
        assert verdict.verdict == "allow", (port, verdict.reason)
        assert labels(verdict) == [("destination", "Map", "service web", SVC_NS, False),
                                   ("destination", "Allow", "web-in incoming[0]", SVC_NS, False)]
    stranger = check(policy, addr("192.0.2.50"), {"host": "web.lb.example.com"}, "tcp/8003")
    assert stranger.verdict == "deny"
    assert ("destination", "Reject", "default incoming action", SVC_NS, True) in labels(stranger)
    # a PU client on the public port does not go through the service: a plain flow to a host no network holds
    plain = check(service_policy(rulesets, networks=[clients], services=[lb], sdps=[default_sdp()], units=units),
                  CLIENT, {"host": "web.lb.example.com"}, "tcp/8003")
    assert plain.verdict == "deny" and all("service" not in d.rule for d in plain.decisions)
    # and two peers outside the enforcers on a port that is not the service's: nothing to evaluate
    with pytest.raises(FlowCheckError, match="no enforcer"):
        check(policy, addr("203.0.113.7"), {"host": "web.lb.example.com"}, "tcp/22")


def test_service_proxy_protocol_client_address_and_the_balancer_itself():
    """Reference 2.1 (proxyProtocolEnabled, proxyProtocolSubnets: "add the LB subnet"). Assumption (stated): the enforcer
    evaluates the client address the header carries, so the flow's source is the client; a source inside the proxy
    subnets is evaluated with its own address and the reason says so."""
    clients = network("lb-clients", ["203.0.113.0/24"], ns=SVC_NS)
    lb = tcp_service("web", ips=("10.20.0.100",), hosts=(), exposed=443, port=443, selectors=[["$identity=processingunit", "app=web"]],
                     proxyProtocolEnabled=True, proxyProtocolSubnets=["10.20.0.0/16"])
    units = SERVICE_PODS + [pu("web-1", SVC_NS, ["app=web"])]
    rulesets = [ruleset("web-in", [["app=web"]], incoming=[rule([["externalnetwork:name=lb-clients"]], ["tcp/443"])], ns=SVC_NS)]
    policy = service_policy(rulesets, networks=[clients], services=[lb], sdps=[], units=units)
    client = check(policy, addr("203.0.113.7"), addr("10.20.0.100"), "tcp/443")
    assert client.verdict == "allow" and "proxy protocol" not in client.reason
    balancer = check(policy, addr("10.20.0.5"), addr("10.20.0.100"), "tcp/443")
    assert balancer.verdict == "deny"  # its own address is in no network the rule names
    assert "10.20.0.5 is in the proxy protocol subnets of service %s/web" % SVC_NS in balancer.reason


def test_service_only_enabled_tcp_services_map_and_bad_references_fail():
    """gaia service.spec: type defaults to HTTP (only TCP services are TCP services), @disabled; reference 2.1 rule 6
    (external services have no implementing PUs). A disabled or HTTP service does not map its address; naming a
    disabled, external or unknown service, a service that selects nothing, an ambiguous address, or a service as a
    source fails the check."""
    http = tcp_service(type="HTTP")
    assert all("service" not in d.rule for d in check(service_policy(services=[http]), CLIENT, addr("10.96.12.34"), "tcp/9376").decisions)
    off = tcp_service(disabled=True)
    assert all("service" not in d.rule for d in check(service_policy(services=[off]), CLIENT, addr("10.96.12.34"), "tcp/9376").decisions)
    by_name = {"service": "my-service", "namespace": SVC_NS}
    with pytest.raises(FlowCheckError, match="is disabled"):
        check(service_policy(services=[off]), CLIENT, by_name, "tcp/9376")
    with pytest.raises(FlowCheckError, match="external"):
        check(service_policy(services=[tcp_service(external=True, port=0)]), CLIENT, by_name, "tcp/9376")
    with pytest.raises(FlowCheckError, match="no TCP service named nope"):
        check(service_policy(), CLIENT, {"service": "nope", "namespace": SVC_NS}, "tcp/9376")
    with pytest.raises(FlowCheckError, match="selects no processing unit"):
        check(service_policy(services=[tcp_service(selectors=[["app=nobody"]])]), CLIENT, by_name, "tcp/9376")
    twins = [tcp_service(), tcp_service("my-twin")]
    with pytest.raises(FlowCheckError, match="several TCP services"):
        check(service_policy(services=twins), CLIENT, addr("10.96.12.34"), "tcp/9376")
    with pytest.raises(FlowCheckError, match="is a destination"):
        check(service_policy(), by_name, CLIENT, "tcp/9376")


def test_service_selectors_stay_in_the_service_namespace_and_below_and_name_a_propagated_service():
    """Assumption (stated): selectors select PUs of the service's namespace and its children, so a pod of another
    namespace with the same label is not a target; gaia @propagated: a service propagated by an ancestor is found by
    name from a child namespace."""
    stray = pu("my-app-elsewhere", "/acme/k8s-other", ["app=my-app"])
    policy = service_policy(units=SERVICE_PODS + [stray])
    assert policy.targets(policy.services[0]) == [u for u in policy.processing_units if u.name in ("my-app-1", "my-app-2")]
    parent = tcp_service(ns="/acme", propagate=True)
    policy = service_policy(services=[parent], sdps=[sdp("all", CLIENT_PODS, [["service=my-service"]])])
    verdict = check(policy, CLIENT, {"service": "my-service", "namespace": SVC_NS}, "tcp/9376", "allow")
    assert verdict.verdict == "allow" and ("destination", "Map", "service my-service", "/acme", False) in labels(verdict)
    with pytest.raises(FlowCheckError, match="no TCP service named"):
        check(service_policy(services=[tcp_service(ns="/acme")]), CLIENT, {"service": "my-service", "namespace": SVC_NS}, "tcp/9376")


def test_service_every_implementing_pod_must_allow_an_expected_allow():
    """S1 with the contract's pair rule: an allow expectation needs every (client, implementing pod) pair allowed; a pod
    whose incoming rules reject the client makes the verdict deny and the reason names that pair."""
    odd = pu("my-app-odd", SVC_NS, ["app=my-app", "tier=odd"])
    rulesets = SERVICE_RULESETS + [ruleset("odd-in", [["$name=my-app-odd"]], incoming=[rule(CLIENT_PODS, ["tcp/80"], action="Reject")],
                                           ns=SVC_NS)]
    policy = service_policy(rulesets, units=SERVICE_PODS + [odd])
    verdict = check(policy, CLIENT, addr("10.96.12.34"), "tcp/9376", "allow")
    assert verdict.verdict == "deny"
    assert verdict.reason.startswith("2/3 pairs allowed; %s/my-client-1 -> %s/my-app-odd" % (SVC_NS, SVC_NS))
    assert ("destination", "Reject", "odd-in incoming[0]", SVC_NS, False) in labels(verdict)


def test_service_endpoint_validation_before_any_request():
    """The contract (flowcheck.py): every flow is validated before any request. A ``service`` endpoint is a destination
    with an absolute ``namespace`` and nothing else (the module's description)."""
    from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
    from ansible_collections.microseg.segmentation.plugins.modules.prisma_flow_check import PrismaFlowCheck

    module = PrismaFlowCheck()
    ok = module.parse_endpoint({"service": " my-service ", "namespace": SVC_NS + "/"}, "flows[0].destination")
    assert ok == {"service": "my-service", "namespace": SVC_NS}
    for value, option, message in (
            ({"service": "my-service", "namespace": SVC_NS}, "flows[0].source", "is a destination"),
            ({"service": "my-service", "namespace": 7}, "flows[0].destination", "a namespace path is expected"),
            ({"service": "my-service", "namespace": SVC_NS, "tags": ["app=x"]}, "flows[0].destination", "do not mix it with tags"),
            ({"service": "", "namespace": SVC_NS}, "flows[0].destination", "name of a TCP service")):
        with pytest.raises(ValidationError, match=message):
            module.parse_endpoint(value, option)
