# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Diffs a reviewer can read (``_core/diff.py``): the object modules' ``diff`` speaks the module's
options and shows each rule of a rule list whole, on one line; secrets stay masked.

Each product's real Kind runs in the real reconcile engine against an in-memory adapter; the diff is
also rendered with ansible's own callback (``CallbackBase._get_diff``), as ``--diff`` prints it."""

import copy
import difflib
import re

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.callback import CallbackBase

from ansible_collections.microseg.segmentation.plugins.module_utils._core.adapter import Adapter, Task
from ansible_collections.microseg.segmentation.plugins.module_utils._core.diff import CHANGED_SECRET, option_form, readable_diff, render
from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import MASK
from ansible_collections.microseg.segmentation.plugins.module_utils._core.ownership import Ownership
from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Change, Declared, Reconciler
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.common import NsxtTags
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.kinds import FIREWALL_SECTION, SECURITY_POLICY
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.common import PrismaTags
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.kinds import NETWORK_RULESET, TCP_SERVICE
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.agents import ORCHESTRATOR_KIND
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.policies import POLICY_KIND, policy_key

# API attribute names of the kinds below that are no option name (camelCase, or another word)
API_NAMES = ("incomingRules", "outgoingRules", "protocolPorts", "logsDisabled", "observationEnabled", "associatedTags",
             "display_name", "applied_tos", "destination_groups", "source_groups", "service_entries", "target_display_name",
             "destination_ports", "l4_params", "consumer_filter_id", "TLSCertificateKey", "exposedPort")


class MemoryAdapter(Adapter):
    """One kind's objects in memory, found by ``name_attr``; every write recorded."""

    def __init__(self, kind, objects=(), name_attr="name", params=None, scheme=None, owner=None):
        ownership = Ownership(scheme, owner=owner) if scheme is not None else None
        super(MemoryAdapter, self).__init__(None, kind, Task(params or {}, ownership=ownership))
        self.name_attr = name_attr
        self.objects = dict((o[name_attr], copy.deepcopy(o)) for o in objects)
        self.writes = []

    def name_of(self, obj):
        return obj.get(self.name_attr)

    def find(self, name):
        return copy.deepcopy(self.objects.get(name))

    def list(self):
        return [copy.deepcopy(o) for o in self.objects.values()]

    def predict_create(self, change):
        return dict(copy.deepcopy(change.body), **{self.name_attr: str(change.name)})

    def create(self, change):
        self.writes.append(("create", change.name))
        obj = dict(self.predict_create(change), id="id-%s" % change.name)
        self.objects[str(change.name)] = obj
        return copy.deepcopy(obj)

    def update(self, change):
        self.writes.append(("update", change.name))
        self.objects[str(change.name)] = copy.deepcopy(change.body)
        return copy.deepcopy(change.body)

    def delete(self, change):
        self.writes.append(("delete", change.name))
        del self.objects[str(change.name)]


def declared(kind, values, state="present", task=None, key=None):
    """What the object module declares for one object: the options validated (defaults filled) and built."""
    checked = ArgumentSpecValidator(kind.item_spec()).validate(copy.deepcopy(values))
    assert not checked.errors.errors, checked.errors.errors
    values = dict((k, v) for k, v in checked.validated_parameters.items() if v is not None)
    desired = kind.build(values, "", Task(task or {})) if state == "present" else {}
    return Declared(key if key is not None else values["name"], desired, state, values)


def stored(kind, values, task=None, **extra):
    """An object as the product holds it after the module wrote ``values``."""
    return dict(declared(kind, values, task=task).desired, **extra)


def changed_lines(diff):
    """The lines a unified diff of ``before``/``after`` removes and adds (headers left out)."""
    lines = difflib.unified_diff(diff["before"].splitlines(), diff["after"].splitlines(), lineterm="", n=3)
    body = [line for line in lines if not line.startswith(("---", "+++", "@@"))]
    return [line[1:] for line in body if line.startswith("-")], [line[1:] for line in body if line.startswith("+")]


def printed(diff):
    """The diff as ansible-playbook --diff prints it (the default callback's rendering)."""
    return CallbackBase()._get_diff(copy.deepcopy(diff))


def run(kind, adapter_args, items, check_mode, list_form=False):
    adapter = MemoryAdapter(kind, **adapter_args)
    reconciler = Reconciler(kind, adapter, check_mode=check_mode)
    if list_form:
        return reconciler.ensure_many(items, want_diff=True), adapter
    return reconciler.ensure(items[0], want_diff=True), adapter


def both_modes(kind, adapter_args, items, list_form=False):
    """The result of a real run, checked against a check-mode run on the same objects (same diff)."""
    check, check_adapter = run(kind, copy.deepcopy(adapter_args), items, True, list_form)
    real, real_adapter = run(kind, copy.deepcopy(adapter_args), items, False, list_form)
    assert check_adapter.writes == []
    assert real_adapter.writes
    assert check["diff"] == real["diff"]
    return real


def assert_option_names_only(text):
    for api in API_NAMES:
        assert api not in text, "%s in:\n%s" % (api, text)


# ---------------------------------------------------------------- Prisma: a network ruleset

def rule(name, obj, ports, **more):
    return dict(name=name, object=[[obj]], protocol_ports=ports, **more)


RULESET = {
    "name": "web-tier",
    "description": "Traffic of the web tier",
    "subject": [["app=web", "env=prod"]],
    "incoming_rules": [rule("from-lb", "app=lb", ["tcp/443"]), rule("from-monitoring", "app=prometheus", ["tcp/9100"]),
                       rule("ssh-from-bastion", "role=bastion", ["tcp/22"])],
    "outgoing_rules": [rule("to-db", "app=db", ["tcp/5432"]), rule("to-dns", "externalnetwork:name=dns", ["udp/53"])],
}
PRISMA_TAGS = ["team=web", "managed-by=microseg.segmentation", "managed-owner=team-a"]


def prisma_ruleset(values=None):
    obj = stored(NETWORK_RULESET, values or RULESET, name="web-tier", namespace="/acme", ID="5f1", associatedTags=list(PRISMA_TAGS))
    return {"objects": [obj], "scheme": PrismaTags(), "owner": "team-a"}


def test_prisma_one_rule_changed_among_several_is_shown_whole_by_name_in_option_names():
    wanted = copy.deepcopy(RULESET)
    wanted["incoming_rules"][0]["protocol_ports"] = ["tcp/8443"]
    result = both_modes(NETWORK_RULESET, prisma_ruleset(), [declared(NETWORK_RULESET, wanted)])
    diff = result["diff"]
    assert result["action"] == "update"
    removed, added = changed_lines(diff)
    assert removed == ["  - {name: from-lb, object: [[app=lb]], protocol_ports: [tcp/443]}"]
    assert added == ["  - {name: from-lb, object: [[app=lb]], protocol_ports: [tcp/8443]}"]
    assert (diff["before_header"], diff["after_header"]) == ("network ruleset 'web-tier'", "network ruleset 'web-tier' (update)")
    assert_option_names_only(diff["before"] + diff["after"])
    # the text is YAML: the module's options back, the management tags left to the comment that says so
    after = yaml.safe_load(diff["after"])
    assert after["incoming_rules"][0] == {"name": "from-lb", "object": [["app=lb"]], "protocol_ports": ["tcp/8443"]}
    assert after["tags"] == ["team=web"]
    assert diff["after"].endswith("# managed by this collection, owner team-a\n")
    out = printed(diff)
    assert "--- before: network ruleset 'web-tier'\n+++ after: network ruleset 'web-tier' (update)\n" in out
    assert "\n-  - {name: from-lb, object: [[app=lb]], protocol_ports: [tcp/443]}\n" in out
    assert "\n+  - {name: from-lb, object: [[app=lb]], protocol_ports: [tcp/8443]}\n" in out


def test_prisma_rule_added_and_rule_removed_are_one_whole_line_each():
    added_rule = copy.deepcopy(RULESET)
    added_rule["outgoing_rules"].append(rule("to-cache", "app=redis", ["tcp/6379"], action="reject", logs_disabled=True))
    diff = both_modes(NETWORK_RULESET, prisma_ruleset(), [declared(NETWORK_RULESET, added_rule)])["diff"]
    assert changed_lines(diff) == ([], ["  - {name: to-cache, action: reject, object: [[app=redis]], protocol_ports: [tcp/6379], "
                                        "logs_disabled: true}"])
    removed_rule = copy.deepcopy(RULESET)
    del removed_rule["incoming_rules"][1]
    diff = both_modes(NETWORK_RULESET, prisma_ruleset(), [declared(NETWORK_RULESET, removed_rule)])["diff"]
    assert changed_lines(diff) == (["  - {name: from-monitoring, object: [[app=prometheus]], protocol_ports: [tcp/9100]}"], [])


def test_prisma_rules_keep_the_order_read_when_the_task_lists_them_in_another():
    # the rules of a ruleset are compared as a multiset: the task's order is no change, and a changed
    # rule is shown where the rule it replaces was
    wanted = copy.deepcopy(RULESET)
    wanted["incoming_rules"].reverse()
    wanted["incoming_rules"][2] = rule("from-lb", "app=lb", ["tcp/443", "tcp/80"])
    wanted["incoming_rules"].append({"object": [["app=batch"]], "protocol_ports": ["tcp/8080"]})
    diff = both_modes(NETWORK_RULESET, prisma_ruleset(), [declared(NETWORK_RULESET, wanted)])["diff"]
    assert changed_lines(diff) == (["  - {name: from-lb, object: [[app=lb]], protocol_ports: [tcp/443]}"],
                                   ["  - {name: from-lb, object: [[app=lb]], protocol_ports: [tcp/443, tcp/80]}"]
                                   + ["  - {object: [[app=batch]], protocol_ports: [tcp/8080]}"])
    names = [r.get("name") for r in yaml.safe_load(diff["after"])["incoming_rules"]]
    assert names == ["from-lb", "from-monitoring", "ssh-from-bastion", None]


def test_prisma_create_and_delete_have_an_empty_side():
    created = both_modes(NETWORK_RULESET, {"scheme": PrismaTags(), "owner": "team-a"}, [declared(NETWORK_RULESET, RULESET)])["diff"]
    assert created["before"] == ""
    assert created["after_header"] == "network ruleset 'web-tier' (create)"
    after = yaml.safe_load(created["after"])
    assert list(after) == ["name", "description", "subject", "incoming_rules", "outgoing_rules"]
    assert "\n# managed by this collection, owner team-a\n" in "\n" + created["after"]
    deleted = both_modes(NETWORK_RULESET, prisma_ruleset(), [declared(NETWORK_RULESET, {"name": "web-tier"}, state="absent")])["diff"]
    assert deleted["after"] == ""
    assert yaml.safe_load(deleted["before"])["outgoing_rules"][1]["name"] == "to-dns"
    assert deleted["after_header"] == "network ruleset 'web-tier' (delete)"


def test_prisma_no_change_gives_the_same_text_twice():
    result, adapter = run(NETWORK_RULESET, prisma_ruleset(), [declared(NETWORK_RULESET, RULESET)], check_mode=False)
    assert result["action"] == "none" and adapter.writes == []
    assert result["diff"]["before"] == result["diff"]["after"] != ""
    assert printed(result["diff"]) == ""


def test_prisma_changed_secret_is_shown_changed_never_its_value():
    cert = "-----BEGIN CERTIFICATE-----\nY2VydA==\n-----END CERTIFICATE-----"
    service = {"name": "web", "hosts": ["web.example.com"], "exposed_port": 443, "port": 8443, "tls_mode": "custom",
               "tls_certificate": cert, "tls_certificate_key": "-----BEGIN PRIVATE KEY-----\nb2xkLWtleQ==\n-----END PRIVATE KEY-----"}
    existing = stored(TCP_SERVICE, service, name="web")
    new_key = "-----BEGIN PRIVATE KEY-----\nbmV3LWtleQ==\n-----END PRIVATE KEY-----"
    result = both_modes(TCP_SERVICE, {"objects": [existing]}, [declared(TCP_SERVICE, dict(service, tls_certificate_key=new_key))])
    diff = result["diff"]
    assert changed_lines(diff) == (['tls_certificate_key: "%s"' % MASK], ['tls_certificate_key: "%s"' % CHANGED_SECRET])
    assert "b2xkLWtleQ" not in repr(result) and "bmV3LWtleQ" not in repr(result)
    assert_option_names_only(diff["before"] + diff["after"])
    # a certificate (no secret) is a literal block: a changed line of it shows as that line
    assert yaml.safe_load(diff["after"])["tls_certificate"] == cert
    # unchanged, the secret is masked on both sides alike
    same = both_modes(TCP_SERVICE, {"objects": [existing]}, [declared(TCP_SERVICE, dict(service, port=9443))])["diff"]
    assert changed_lines(same) == (["port: 8443"], ["port: 9443"])
    assert 'tls_certificate_key: "%s"' % MASK in same["after"]


# ---------------------------------------------------------------- NSX: a firewall section and a security policy

SECTION_RULES = [
    {"name": "lb-to-web", "action": "allow", "sources": ["lb"], "destinations": ["web"], "services": ["tcp/443", "tcp/80"]},
    {"name": "web-to-app", "action": "allow", "sources": ["web"], "destinations": ["app"], "services": ["tcp/8080"]},
    {"name": "monitoring", "action": "allow", "sources": ["10.10.0.0/24"], "destinations": ["web", "app"], "services": ["tcp/9100", "icmp/8/0"]},
    {"name": "deny-rest", "action": "drop", "logged": True},
]
SECTION = {"name": "web-tier", "description": "Web tier", "stateful": True, "applied_to": ["web", "app"], "rules": SECTION_RULES}
NSX_TAGS = [{"scope": "managed-by", "tag": "microseg.segmentation"}, {"scope": "managed-scope", "tag": "team-n"}]


def nsx_section(rules=None, **more):
    obj = stored(FIREWALL_SECTION, dict(SECTION, rules=rules or SECTION_RULES), task={"section_type": "LAYER3"},
                 id="s-1", tags=list(NSX_TAGS), _revision=3, **more)
    for index, api_rule in enumerate(obj["rules"]):
        api_rule["id"] = "r-%d" % index
        for ref in api_rule["sources"] + api_rule["destinations"]:
            ref.setdefault("target_id", "g-" + (ref.get("target_display_name") or ref.get("target_id")))
    return {"objects": [obj], "name_attr": "display_name", "params": {"section_type": "LAYER3"}, "scheme": NsxtTags(), "owner": "team-n"}


def test_nsx_section_one_rule_changed_is_shown_whole_in_place():
    rules = copy.deepcopy(SECTION_RULES)
    rules[1]["services"] = ["tcp/8443"]
    result = both_modes(FIREWALL_SECTION, nsx_section(), [declared(FIREWALL_SECTION, dict(SECTION, rules=rules), task={"section_type": "LAYER3"})])
    diff = result["diff"]
    assert changed_lines(diff) == (["  - {name: web-to-app, action: allow, sources: [web], destinations: [app], services: [tcp/8080]}"],
                                   ["  - {name: web-to-app, action: allow, sources: [web], destinations: [app], services: [tcp/8443]}"])
    assert_option_names_only(diff["before"] + diff["after"])
    before = yaml.safe_load(diff["before"])
    assert list(before) == ["name", "description", "stateful", "applied_to", "rules"]
    assert before["rules"][3] == {"name": "deny-rest", "action": "drop", "logged": True}
    assert "tags" not in before and diff["before"].endswith("# managed by this collection, owner team-n\n")
    assert diff["after_header"] == "firewall section 'web-tier' (update)"


def test_nsx_section_rules_added_removed_and_moved():
    rules = copy.deepcopy(SECTION_RULES)
    moved = rules.pop(2)
    rules.insert(0, moved)  # the rules of a section are ordered: a move is a change
    rules.insert(3, {"name": "app-to-db", "action": "allow", "sources": ["app"], "destinations": ["db"], "services": ["tcp/5432"]})
    del rules[2]  # web-to-app
    diff = both_modes(FIREWALL_SECTION, nsx_section(), [declared(FIREWALL_SECTION, dict(SECTION, rules=rules), task={"section_type": "LAYER3"})])["diff"]
    removed, added = changed_lines(diff)
    assert [re.match(r"  - \{name: ([a-z-]+)", line).group(1) for line in removed] == ["web-to-app", "monitoring"]
    assert [re.match(r"  - \{name: ([a-z-]+)", line).group(1) for line in added] == ["monitoring", "app-to-db"]
    assert [r["name"] for r in yaml.safe_load(diff["after"])["rules"]] == ["monitoring", "lb-to-web", "app-to-db", "deny-rest"]


def test_nsx_rule_no_option_can_declare_is_shown_as_read_and_the_others_as_options():
    section = nsx_section()
    section["objects"][0]["rules"][0]["context_profiles"] = [{"target_id": "p-1", "target_type": "NSProfile"}]
    diff = run(FIREWALL_SECTION, section, [declared(FIREWALL_SECTION, dict(SECTION, description="Web"), task={"section_type": "LAYER3"})],
               check_mode=True)[0]["diff"]
    assert changed_lines(diff) == (["description: Web tier"], ["description: Web"])
    rules = yaml.safe_load(diff["before"])["rules"]
    assert rules[0]["display_name"] == "lb-to-web" and rules[0]["context_profiles"]
    assert rules[1] == {"name": "web-to-app", "action": "allow", "sources": ["web"], "destinations": ["app"], "services": ["tcp/8080"]}


POLICY_RULES = [
    {"name": "web-to-app", "action": "allow", "sources": ["web"], "destinations": ["app"], "services": ["tcp/8080"]},
    {"name": "app-to-db", "action": "allow", "sources": ["app"], "destinations": ["db"], "services": ["tcp/5432"]},
    {"name": "deny-rest", "action": "drop", "logged": True},
]
POLICY = {"name": "web-tier", "category": "Application", "rules": POLICY_RULES}


def test_nsx_security_policy_one_rule_changed_and_one_added():
    existing = stored(SECURITY_POLICY, POLICY, task={"domain": "default"}, id="web-tier", path="/infra/domains/default/security-policies/web-tier",
                      parent_path="/infra/domains/default", tags=list(NSX_TAGS))
    rules = copy.deepcopy(POLICY_RULES)
    rules[1]["services"] = ["tcp/5432", "tcp/5433"]
    rules.insert(2, {"name": "app-to-cache", "action": "reject", "sources": ["app"], "destinations": ["cache"], "direction": "out"})
    adapter_args = {"objects": [existing], "name_attr": "id", "params": {"domain": "default"}, "scheme": NsxtTags(), "owner": "team-n"}
    diff = both_modes(SECURITY_POLICY, adapter_args, [declared(SECURITY_POLICY, dict(POLICY, rules=rules), task={"domain": "default"})])["diff"]
    assert changed_lines(diff) == (
        ["  - {name: app-to-db, action: allow, sources: [app], destinations: [db], services: [tcp/5432]}"],
        ["  - {name: app-to-db, action: allow, sources: [app], destinations: [db], services: [tcp/5432, tcp/5433]}",
         "  - {name: app-to-cache, action: reject, sources: [app], destinations: [cache], direction: out}"])
    assert_option_names_only(diff["before"] + diff["after"])
    assert diff["before_header"] == "security policy 'web-tier'"


# ---------------------------------------------------------------- Secure Workload: policies of a workspace (list form)

def sw_policy(consumer, provider, action, ports=None):
    values = {"consumer": consumer, "provider": provider, "action": action}
    if ports is not None:
        values["ports"] = ports
    return values


SW_POLICIES = [sw_policy("web", "db", "allow", [{"protocol": "tcp", "port": 5432}, {"protocol": "icmp"}]),
               sw_policy("lb", "web", "allow", [{"protocol": "tcp", "port": 443}]),
               sw_policy("lb", "db", "deny")]


def sw_declared(values, state="present"):
    key = policy_key(values["consumer"], values["provider"], "DEFAULT", 100)
    return declared(POLICY_KIND, values, state=state, key=key)


def sw_stored(values):
    item = sw_declared(values)
    return dict(item.desired, key=str(item.key), id="p-%s-%s" % (values["consumer"], values["provider"]),
                consumer_filter_id="f-" + values["consumer"], provider_filter_id="f-" + values["provider"])


def test_sw_list_form_gives_one_diff_per_changed_policy_in_option_names():
    wanted = copy.deepcopy(SW_POLICIES)
    wanted[0]["ports"][0]["port"] = 5433
    wanted[2]["action"] = "allow"
    adapter_args = {"objects": [sw_stored(p) for p in SW_POLICIES], "name_attr": "key"}
    result = both_modes(POLICY_KIND, adapter_args, [sw_declared(p) for p in wanted], list_form=True)
    assert result["summary"]["updated"] == ["web -> db (DEFAULT, priority 100)", "lb -> db (DEFAULT, priority 100)"]
    first, second = result["diff"]
    assert first["before_header"] == "policy 'web -> db (DEFAULT, priority 100)'"
    assert changed_lines(first) == (["  - {protocol: tcp, port: 5432}"], ["  - {protocol: tcp, port: 5433}"])
    assert changed_lines(second) == (["action: deny"], ["action: allow"])
    assert yaml.safe_load(second["after"]) == {"consumer": "lb", "provider": "db", "action": "allow"}
    for diff in result["diff"]:
        assert_option_names_only(diff["before"] + diff["after"])
    # the callback prints one diff per object
    out = printed(result["diff"])
    assert out.count("--- before: policy ") == 2 and "+++ after: policy 'lb -> db (DEFAULT, priority 100)' (update)" in out


def test_sw_secret_given_again_shows_as_changed_never_its_value():
    orchestrator = {"name": "k8s", "hosts_list": [{"host_name": "k8s.example.com", "port_number": 6443}], "insecure": True}
    existing = dict(stored(ORCHESTRATOR_KIND, orchestrator, task={"root_scope": "Default"}), name="k8s", id="o-1", type="kubernetes")
    token = "SECRET-TOKEN-6a1f"
    result = both_modes(ORCHESTRATOR_KIND, {"objects": [existing], "params": {"root_scope": "Default"}},
                        [declared(ORCHESTRATOR_KIND, dict(orchestrator, auth_token=token), task={"root_scope": "Default"})])
    assert changed_lines(result["diff"]) == ([], ['auth_token: "%s"' % CHANGED_SECRET])
    assert token not in repr(result)
    assert "  - {host_name: k8s.example.com, port_number: 6443}\n" in result["diff"]["before"]


# ---------------------------------------------------------------- the text itself

@pytest.mark.parametrize("value", [
    "app=web", "tcp/80", "10.0.0.0/8", "2001:db8::/32", "1.2.3.4", "80", "yes", "Off", "null", "~", MASK, "!10.1.0.0/16",
    "$identity=processingunit", "@app:k8s:namespace=kube-system", "ipset:web", "a, b", "x: y", "it's", "web tier ", "", "  lead",
    "tab\tx", "é-ü", "1:20", ".inf", "-1", "0x1F", "2024-01-01", "a #b", "[x]", "{y}", "*alias", "&anchor", "|", ">", "%t", "`b`", "? q",
])
def test_every_string_reads_back_as_itself(value):
    text = render({"name": value, "rules": [{"name": value, "object": [[value]]}], "block": {"text": value}})
    assert yaml.safe_load(text) == {"name": value, "rules": [{"name": value, "object": [[value]]}], "block": {"text": value}}
    assert len(text.splitlines()) == 5


def test_multi_line_text_and_comments():
    text = render({"notes": "one\ntwo\n", "pem": "-----BEGIN X-----\nabc\n-----END X-----", "odd": " lead\nx", "n": 1.5, "on": True,
                   "none": None, "empty": []}, ["managed by this collection, owner a"])
    assert text.splitlines()[:6] == ["notes: |", "  one", "  two", "pem: |-", "  -----BEGIN X-----", "  abc"]
    assert yaml.safe_load(text) == {"notes": "one\ntwo\n", "pem": "-----BEGIN X-----\nabc\n-----END X-----", "odd": " lead\nx", "n": 1.5,
                                    "on": True, "none": None, "empty": []}
    assert text.endswith("\n# managed by this collection, owner a\n")


def test_a_move_and_an_attribute_no_option_shows_are_said():
    section = nsx_section()["objects"][0]
    change = Change("update", "web-tier", existing=section, body=copy.deepcopy(section), fields=[], declared=None)
    change.placement = ("after", "other-section")
    diff = readable_diff(FIREWALL_SECTION, change)
    assert changed_lines(diff) == ([], ["# moved: after other-section"])
    body = dict(section, section_type="LAYER2")
    diff = readable_diff(FIREWALL_SECTION, Change("update", "web-tier", existing=section, body=body, fields=["section_type"]))
    assert changed_lines(diff) == ([], ["# written again: section_type"])


def test_option_form_leaves_secrets_out_and_names_them():
    item, secrets = option_form(TCP_SERVICE, {"name": "web", "TLSCertificateKey": "k", "exposedPort": 443, "OIDCClientSecret": "s"})
    assert item == {"name": "web", "exposed_port": 443}
    assert secrets == ["tls_certificate_key"]
