# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The 99 bad-input cases of ../shared/reference/bad-inputs.md (issue 12), one test case each,
named by its row number.

Every case runs the module as Ansible would, in process: the real AnsibleModule (its argument
spec), then the object module's validation (``prepare``: every object validated and built), and,
for the rows whose refusal needs the product's read, the adapter against a connection that
answers reads from a small table and fails the test on any write. A refused row asserts the
message names the option path; an accepted row says why the product accepts it (a cited rule of
the reference). Row 69 (a path to a missing group) is also run against the lab, with its write
counter, in tests/integration/targets/nsxt_policy_group.
"""

import contextlib
import io
import json
import re
import types

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.microseg.segmentation.plugins.module_utils._core.errors import MicrosegError

from test_object_modules import OBJECT_MODULES

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
SW_TASK = {"workspace_id": "ws1"}


class Refused(object):
    """Refused before any write, with a message that starts with ``message`` (a regex)."""

    def __init__(self, message):
        self.message = message


class Accepted(object):
    """Accepted: the product takes this input; ``reason`` says where the reference says so."""

    def __init__(self, reason):
        self.reason = reason


def ruleset(**extra):
    values = {"name": "rs", "subject": [["app=web"]]}
    values.update(extra)
    return values


def rule(*ports):
    return [{"action": "allow", "object": [["app=db"]], "protocol_ports": list(ports)}]


def tcp_service(**extra):
    values = {"name": "ts", "hosts": ["web.example.com"], "exposed_port": 443, "port": 8443}
    values.update(extra)
    return values


def section(**extra):
    values = {"name": "sec", "stateful": True}
    values.update(extra)
    return values


def nsx_rule(**extra):
    values = {"name": "r1", "action": "allow"}
    values.update(extra)
    return values


def sw_policy(**extra):
    values = dict(SW_TASK, consumer="production", provider="db", action="allow")
    values.update(extra)
    return values


def scope(**extra):
    values = {"name": "apps", "parent": "Default", "query": {"type": "eq", "field": "host_name", "value": "web"}}
    values.update(extra)
    return values


def nested_query(depth):
    query = {"type": "eq", "field": "host_name", "value": "web"}
    for _level in range(depth):
        query = {"type": "not", "filter": query}
    return query


UNICODE_RTL = "r\u00e9gle-\u65e5\u672c-\u202eevil"

CASES = [
    # ---------------------------------------------------------------- prisma_network_ruleset
    (0, "prisma_network_ruleset", ruleset(name=""), Refused(r"name: must be 1 to 256 characters long")),
    (1, "prisma_network_ruleset", ruleset(subject=[]), Refused(r"subject: the tag expression is empty")),
    (
        2,
        "prisma_network_ruleset",
        ruleset(incoming_rules=rule("tcp/70000")),
        Refused(r"incoming_rules\[0\]\.protocol_ports\[0\]: 'tcp/70000' is not valid: port 70000 must be between 0 and 65535"),
    ),
    (3, "prisma_network_ruleset", ruleset(subject=[[{"a": 1}]]), Refused(r"subject\[0\]\[0\]: \{'a': 1\} is not a valid tag")),
    (4, "prisma_network_ruleset", ruleset(subject=5), Refused(r"subject: 5 is not a valid tag expression")),
    (5, "prisma_network_ruleset", {"items": [ruleset(name="d"), ruleset(name="d")]}, Refused(r"network ruleset 'd' is declared more than once")),
    (
        6,
        "prisma_network_ruleset",
        {"items": [ruleset(name="rs%d" % i, incoming_rules=rule("tcp/80")) for i in range(9999)] + [ruleset(name="rs9999", incoming_rules=rule("tcp/99999"))]},
        Refused(r"items\[9999\]\.incoming_rules\[0\]\.protocol_ports\[0\]: 'tcp/99999' is not valid"),
    ),
    (
        7,
        "prisma_network_ruleset",
        ruleset(name=UNICODE_RTL, subject=[["app=\u00e9t\u00e9"]], description="\u202e\u00fcber"),
        Accepted(
            "a Prisma name is any string of at most 256 characters and a description any string of at most 1024 "
            "(prisma-microseg-api.md, the name/description attribute table: 'required, max 256 chars', 'max 1024'); "
            "tags only exclude spaces in the key and '='; Unicode letters and format characters such as the "
            "right-to-left override are stored and found again as given, unlike the control characters of row 8"
        ),
    ),
    (8, "prisma_network_ruleset", ruleset(name="bad\x00name"), Refused(r"name: contains the control character '\\x00' at position 3")),
    (9, "prisma_network_ruleset", ruleset(tags=["$identity=x"]), Refused(r"tags\[0\]: '\$identity=x' starts with '\$'")),
    (
        10,
        "prisma_network_ruleset",
        ruleset(incoming_rules=rule("tcp/80", "TCP/80")),
        Refused(r"incoming_rules\[0\]\.protocol_ports\[1\]: 'TCP/80' is listed twice"),
    ),
    (
        11,
        "prisma_network_ruleset",
        ruleset(incoming_rules=rule("tcp/80-90")),
        Refused(r"incoming_rules\[0\]\.protocol_ports\[0\]: 'tcp/80-90' is not valid: port '80-90' is not a number"),
    ),
    (12, "prisma_network_ruleset", {"name": "x", "items": [ruleset()]}, Refused(r"name: cannot be used with items")),
    (13, "prisma_network_ruleset", ruleset(parallel=0), Refused(r"parallel: must be between 1 and 32, got 0")),
    (14, "prisma_network_ruleset", {"items": ["not-a-dict"]}, Refused(r"Elements value for option 'items' is of type str")),
    (
        15,
        "prisma_network_ruleset",
        ruleset(incoming_rules=rule("tcp/80", "any")),
        Refused(r"incoming_rules\[0\]\.protocol_ports\[1\]: 'any' already covers every protocol and port"),
    ),
    (16, "prisma_network_ruleset", ruleset(subject=[["a=b", "a=b"]]), Refused(r"subject\[0\]\[1\]: tag 'a=b' appears twice")),
    (
        17,
        "prisma_network_ruleset",
        ruleset(incoming_rules=rule(*["tcp/%d" % p for p in range(1, 10001)])),
        Accepted(
            "protocolPorts is a list of service ports with no maximum length (prisma-microseg-api.md: "
            "'protocolPorts | list<string> | $serviceports', §3.2 ValidateServicePorts checks each entry and "
            "duplicates, not the count); 10000 distinct valid ports are one valid rule"
        ),
    ),
    (18, "prisma_network_ruleset", ruleset(name="n" * 257), Refused(r"name: must be 1 to 256 characters long")),
    (19, "prisma_network_ruleset", ruleset(name="a'b\"c"), Refused(r"name: 'a'b\"c' contains both kinds of quotes")),
    # ---------------------------------------------------------------- prisma_tcp_service
    (20, "prisma_tcp_service", tcp_service(exposed_port=70000), Refused(r"exposed_port: port 70000 is out of range")),
    (21, "prisma_tcp_service", tcp_service(public_port=443), Refused(r"public_port: must differ from exposed_port \(443\)")),
    (22, "prisma_tcp_service", tcp_service(hosts=None, ips=["10.0.0.0/24"]), Refused(r"ips\[0\]: '10\.0\.0\.0/24' is not a valid IP address")),
    (23, "prisma_tcp_service", tcp_service(tls_mode="custom"), Refused(r"tls_certificate: is required when tls_mode is 'custom'")),
    (24, "prisma_tcp_service", tcp_service(proxy_protocol=True), Refused(r"proxy_protocol_subnets: is required when proxy_protocol is true")),
    (25, "prisma_tcp_service", tcp_service(hosts=["bad host!"]), Refused(r"hosts\[0\]: 'bad host!' is not a valid host name")),
    (26, "prisma_tcp_service", tcp_service(external=True), Refused(r"port: must not be set for an external service")),
    (27, "prisma_tcp_service", tcp_service(port=-1), Refused(r"port: port -1 is out of range")),
    (28, "prisma_tcp_service", tcp_service(hosts=["b\u00fccher.example"]), Refused("hosts\\[0\\]: 'b\u00fccher\\.example' is not a valid host name")),
    (
        29,
        "prisma_tcp_service",
        tcp_service(tls_mode="custom", tls_certificate="not pem", tls_certificate_key="k"),
        Refused(r"tls_certificate: must be PEM text"),
    ),
    (30, "prisma_tcp_service", tcp_service(hosts=None, ips=["10.0.0.1", "10.0.0.1"]), Refused(r"ips: lists the same address twice")),
    (31, "prisma_tcp_service", tcp_service(exposed_port="80abc"), Refused(r"argument 'exposed_port' is of type str and we were unable to convert to int")),
    (32, "prisma_tcp_service", tcp_service(name="ts13", hosts=None), Refused(r"TCP service 'ts13' does not exist; hosts or ips is required to create it")),
    # ---------------------------------------------------------------- prisma_external_network
    (33, "prisma_external_network", {"name": "en", "entries": ["10.0.0.300/24"]}, Refused(r"entries\[0\]: '10\.0\.0\.300/24' is not a valid CIDR")),
    (
        34,
        "prisma_external_network",
        {"name": "en", "entries": ["10.0.0.0/16", "!10.1.0.0/16"]},
        Refused(r"entries\[1\]: '!10\.1\.0\.0/16' excludes a network that is not inside any included CIDR"),
    ),
    (
        35,
        "prisma_external_network",
        {"name": "en", "entries": ["10.0.0.0/8", "10.0.0.0/8"]},
        Refused(r"entries\[1\]: '10\.0\.0\.0/8' is the same network as entry entries\[0\]"),
    ),
    (36, "prisma_external_network", {"name": "en", "entries": [""]}, Refused(r"entries\[0\]: '' is not a valid network entry")),
    (37, "prisma_external_network", {"name": "en", "entries": ["10.0.0.0/33"]}, Refused(r"entries\[0\]: '10\.0\.0\.0/33' is not a valid CIDR")),
    (
        38,
        "prisma_external_network",
        {"name": "en", "entries": ["10.%d.%d.%d/32" % (i // 65536, i // 256 % 256, i % 256) for i in range(10000)]},
        Accepted(
            "entries is a list of networks or host names with no maximum length (prisma-microseg-api.md §2.4 and "
            "the external network table: 'entries | list<string> | $networksorhostnames'; ValidateNetworkOrHostnameList "
            "requires it non-empty and checks each entry); 10000 distinct /32 networks are valid"
        ),
    ),
    (39, "prisma_external_network", {"name": "en", "entries": ["*"]}, Refused(r"entries\[0\]: '\*' is not a valid network entry")),
    (40, "prisma_external_network", {"name": "en", "entries": [["10.0.0.0/8"]]}, Refused(r"entries\[0\]: ")),
    (
        41,
        "prisma_external_network",
        {"name": "en", "entries": ["*.b\u00fccher.de"]},
        Refused("entries\\[0\\]: '\\*\\.b\u00fccher\\.de' is not a valid network entry"),
    ),
    (42, "prisma_external_network", {"name": "en", "entries": []}, Refused(r"entries: the list of network entries is empty")),
    # ---------------------------------------------------------------- nsxt_firewall_section
    (43, "nsxt_firewall_section", section(rules=[nsx_rule(services=["tcp/70000"])]), Refused(r"rules\[0\]\.services\[0\]: 'tcp/70000' is not valid")),
    (
        44,
        "nsxt_firewall_section",
        section(rules=[nsx_rule(sources=["10.0.0.1/40"])]),
        Refused(r"rules\[0\]\.sources\[0\]: '10\.0\.0\.1/40' is not a valid CIDR"),
    ),
    (45, "nsxt_firewall_section", section(applied_to=[]), Refused(r"applied_to: is empty")),
    (46, "nsxt_firewall_section", section(position="before"), Refused(r"position_anchor: is required when position is 'before'")),
    (47, "nsxt_firewall_section", section(rules=[nsx_rule(), nsx_rule(action="drop")]), Refused(r"rules\[1\]\.name: 'r1' is already the name of rules\[0\]")),
    (48, "nsxt_firewall_section", section(rules=[nsx_rule(name="r%d" % i) for i in range(1001)]), Refused(r"rules: a section holds at most 1000 rules")),
    (
        49,
        "nsxt_firewall_section",
        section(rules=[nsx_rule(sources=["10.0.%d.%d" % (i // 256, i % 256) for i in range(129)])]),
        Refused(r"rules\[0\]\.sources: at most 128 entries"),
    ),
    (
        50,
        "nsxt_firewall_section",
        section(rules=[nsx_rule(services=["icmp/3/0,1"])]),
        Refused(r"rules\[0\]\.services\[0\]: 'icmp/3/0,1': NSX takes one ICMP code"),
    ),
    (
        51,
        "nsxt_firewall_section",
        section(name="fz-sec", rules=[nsx_rule(sources=["no-such-group"])]),
        Refused(r"rules: no such NSGroup; nothing was written: .*rules\[0\]\.sources names NSGroup 'no-such-group'"),
    ),
    (
        52,
        "nsxt_firewall_section",
        section(name="fz-nostate", stateful=None),
        Refused(r"firewall section 'fz-nostate' does not exist; stateful is required to create it"),
    ),
    (53, "nsxt_firewall_section", section(name=""), Refused(r"name: must not be empty")),
    (54, "nsxt_firewall_section", section(rules=[nsx_rule(notes="n" * 3000)]), Refused(r"rules\[0\]\.notes: must be at most 2048 characters long")),
    (
        55,
        "nsxt_firewall_section",
        section(rules=[nsx_rule(sources=["fe80::1%eth0"])]),
        Refused(r"rules\[0\]\.sources\[0\]: 'fe80::1%eth0' is not a valid IP address"),
    ),
    (56, "nsxt_firewall_section", section(rules=[nsx_rule(name="r%d" % i) for i in range(10000)]), Refused(r"rules: a section holds at most 1000 rules")),
    # ---------------------------------------------------------------- nsxt_policy_group
    (57, "nsxt_policy_group", {"name": "bad name/x"}, Refused(r"name: 'bad name/x' is not usable as an NSX id")),
    (
        58,
        "nsxt_policy_group",
        {"name": "g", "criteria": [{"conditions": [{"member_type": "VirtualMachine", "value": "t%d" % i}]} for i in range(6)]},
        Refused(r"criteria: NSX allows at most 5 conditions in a group, got 6"),
    ),
    (59, "nsxt_policy_group", {"name": "g", "ip_addresses": ["10.0.0.300"]}, Refused(r"ip_addresses\[0\]: '10\.0\.0\.300' is not a valid IP address")),
    (60, "nsxt_policy_group", {"name": "fz-grp", "ip_addresses": ["10.0.0.9-10.0.0.1"]}, Refused(r"ip_addresses\[0\]: '10\.0\.0\.9-10\.0\.0\.1' is reversed")),
    (
        61,
        "nsxt_policy_group",
        {"name": "fz-grp", "ip_addresses": ["10.0.0.1-2001:db8::1"]},
        Refused(r"ip_addresses\[0\]: '10\.0\.0\.1-2001:db8::1' mixes an IPv4 and an IPv6 address"),
    ),
    (62, "nsxt_policy_group", {"name": "g", "paths": ["not-a-path"]}, Refused(r"paths\[0\]: 'not-a-path' is not a policy path")),
    (63, "nsxt_policy_group", {"name": "g", "tags": ["t%d" % i for i in range(31)]}, Refused(r"tags: NSX takes at most 30 tags per object, got 31")),
    (
        64,
        "nsxt_policy_group",
        {"name": "g", "criteria": [{"conditions": [{"member_type": "VirtualMachine", "value": "a"}, {"member_type": "Segment", "value": "b"}]}]},
        Refused(r"criteria\[0\]: conditions combined with AND must all have the same member_type"),
    ),
    (
        65,
        "nsxt_policy_group",
        {"name": "fz-grp", "ip_addresses": ["10.0.%d.%d" % (i // 256, i % 256) for i in range(600)]},
        Refused(r"ip_addresses: NSX takes at most 500 IP addresses, paths and external ids in a group, together; .* give 600"),
    ),
    (66, "nsxt_policy_group", {"items": [{"name": "d1"}, {"name": "d1"}]}, Refused(r"group 'd1' is declared more than once")),
    (67, "nsxt_policy_group", {"name": "gr\u00fcppe"}, Refused("name: 'gr\u00fcppe' is not usable as an NSX id")),
    (
        68,
        "nsxt_policy_group",
        {"name": "g", "criteria": [{"conditions": [{"member_type": "VirtualMachine", "value": "a", "tag": "b"}]}]},
        Refused(r"criteria\[0\]\[0\]: give either tag or value, not both"),
    ),
    (
        69,
        "nsxt_policy_group",
        {"name": "fz-path", "paths": ["/infra/domains/default/groups/no-such-group"]},
        Refused(r"paths\[0\]: no group has the path /infra/domains/default/groups/no-such-group; nothing was written"),
    ),
    (70, "nsxt_policy_group", {"name": "g", "id": ""}, Refused(r"id: must not be empty")),
    # ---------------------------------------------------------------- secure_workload_policy
    (71, "secure_workload_policy", sw_policy(ports=[{"protocol": "tcp", "port": 70000}]), Refused(r"ports\[0\]\.port: port 70000 is out of range 0-65535")),
    (
        72,
        "secure_workload_policy",
        sw_policy(ports=[{"protocol": "icmp", "port": 80}]),
        Refused(r"ports\[0\]\.port: ports are only valid with tcp and udp, not with icmp"),
    ),
    (
        73,
        "secure_workload_policy",
        sw_policy(ports=[{"protocol": "tcp/80"}]),
        Refused(r"ports\[0\]\.protocol: must be tcp, udp, icmp, any or an IP protocol number 0-255, got 'tcp/80'"),
    ),
    (74, "secure_workload_policy", sw_policy(priority=-1), Refused(r"priority: must be 0 or more, got -1")),
    (
        75,
        "secure_workload_policy",
        sw_policy(consumer="no-such-filter"),
        Refused(r"consumer: 'no-such-filter' is not a scope, inventory filter or cluster of workspace"),
    ),
    (
        76,
        "secure_workload_policy",
        sw_policy(action=None, priority=51),
        Refused(r"policy 'production -> db \(DEFAULT, priority 51\)' does not exist; action is required to create it"),
    ),
    (
        77,
        "secure_workload_policy",
        sw_policy(workspace="w", scope="Default"),
        Refused(r"workspace_id: give either workspace_id or workspace \(with scope\), not both"),
    ),
    (
        78,
        "secure_workload_policy",
        sw_policy(ports=[{"protocol": "tcp", "port": "100-50"}]),
        Refused(r"ports\[0\]\.port: the range 100-50 starts above its end"),
    ),
    (
        79,
        "secure_workload_policy",
        sw_policy(ports=[{"protocol": "tcp", "port": 80}, {"protocol": "tcp", "port": 80}]),
        Refused(r"ports\[1\]: repeats ports\[0\]"),
    ),
    (
        80,
        "secure_workload_policy",
        sw_policy(ports=[{"protocol": 256}]),
        Refused(r"ports\[0\]\.protocol: must be tcp, udp, icmp, any or an IP protocol number 0-255, got 256"),
    ),
    (
        81,
        "secure_workload_policy",
        dict(SW_TASK, items=[{"consumer": "production", "provider": "db", "action": "allow"}, {"consumer": "production", "provider": "db", "action": "deny"}]),
        Refused(r"policy 'production -> db \(DEFAULT, priority 100\)' is declared more than once"),
    ),
    (
        82,
        "secure_workload_policy",
        sw_policy(ports=[{"protocol": "tcp", "port": True}]),
        Refused(r"ports\[0\]\.port: must be a port 0-65535 or a range low-high, got True"),
    ),
    (
        83,
        "secure_workload_policy",
        sw_policy(priority=2**63),
        Refused(r"priority: must be at most 9223372036854775807 \(a 64-bit integer\), got 9223372036854775808"),
    ),
    (
        84,
        "secure_workload_policy",
        sw_policy(ports=[{"protocol": "tcp", "port": "\uff18\uff10"}]),
        Refused("ports\\[0\\]\\.port: must be a port 0-65535 or a range low-high, got '\uff18\uff10'"),
    ),
    (
        85,
        "secure_workload_policy",
        sw_policy(ports="tcp/80"),
        Refused(r"Elements value for option 'ports' is of type str and we were unable to convert to dict"),
    ),
    # ---------------------------------------------------------------- secure_workload_scope
    (86, "secure_workload_scope", scope(name=""), Refused(r"name: must not be empty \(the API refuses it: short_name must not be empty\)")),
    (87, "secure_workload_scope", scope(name="a:b"), Refused(r"name: is the short name, without ':'")),
    (
        88,
        "secure_workload_scope",
        scope(query={"type": "regex", "field": "host_name", "value": "(a"}),
        Refused(r"query\.value: '\(a' is not a valid regular expression"),
    ),
    (
        89,
        "secure_workload_scope",
        scope(query={"type": "subnet", "field": "ip", "value": "10.0.0.300/8"}),
        Refused(r"query\.value: '10\.0\.0\.300/8' is not a subnet"),
    ),
    (90, "secure_workload_scope", scope(query={"type": "and", "filters": []}), Refused(r"query\.filters: an 'and' filter needs a non-empty list of filters")),
    (91, "secure_workload_scope", scope(parent="Nope"), Refused(r"parent: no scope is named 'Nope'")),
    (92, "secure_workload_scope", scope(query=nested_query(60)), Refused(r"query\.filter\.filter\.filter")),
    (
        93,
        "secure_workload_scope",
        scope(query={"type": "in", "field": "host_name", "values": ["h%d" % i for i in range(10000)]}),
        Accepted(
            "an 'in' filter takes a list of values and the API documents no maximum (secure-workload-api.md: "
            "POST /openapi/v1/app_scopes takes 'short_query (JSON filter)' with no size limit); the lab stores it"
        ),
    ),
    (
        94,
        "secure_workload_scope",
        scope(name="n" * 1000),
        Refused(r"name: is 1000 characters long; the API takes at most 256 \(short_name is longer than 256 characters\)"),
    ),
    (
        95,
        "secure_workload_scope",
        scope(name="applications-\u00e9t\u00e9-\u65e5\u672c"),
        Accepted(
            "short_name is a string of at most 256 characters (secure-workload-api.md: POST /openapi/v1/app_scopes body "
            "'short_name (str)'; the API's checks are 'must not be empty' and 'is longer than 256 characters', rows 86 and 94); "
            "names are compared case-insensitively (#46) but not restricted to ASCII"
        ),
    ),
    (96, "secure_workload_scope", scope(policy_priority=0), Refused(r"policy_priority: must be 1 or more, got 0")),
    (
        97,
        "secure_workload_scope",
        scope(query={"type": "eq", "field": "host_name", "value": ["a"]}),
        Refused(r"query\.value: must be a string, number or boolean"),
    ),
    (98, "secure_workload_scope", scope(query="web"), Refused(r"argument 'query' is of type str and we were unable to convert to dict")),
]


# ---------------------------------------------------------------- the product's reads


class WriteAttempted(AssertionError):
    pass


class ReadOnlyConnection(object):
    """Answers GETs from ``reads`` (path regex -> body; lists empty otherwise), fails on any write."""

    def __init__(self, reads=None, empty=None):
        self.reads = list((reads or {}).items())
        self.empty = [] if empty is None else empty
        self.writes = []
        self.gets = []

    def _answer(self, path):
        for pattern, body in self.reads:
            if re.search(pattern, path):
                return body
        return None

    def request(self, method, path, **kwargs):
        if method != "GET":
            self.writes.append((method, path))
            raise WriteAttempted("%s %s was sent" % (method, path))
        self.gets.append(path)
        answer = self._answer(path)
        return answer if answer is not None else self.empty

    def get(self, path, **kwargs):
        self.gets.append(path)
        return self._answer(path)

    def list_all(self, path, *args, **kwargs):
        self.gets.append(path)
        answer = self._answer(path)
        if isinstance(answer, dict):
            return answer.get("results") or []
        return answer or []

    def __getattr__(self, name):
        # any other connection call (create_once, a bulk write...) is a write: the case fails
        def write(*args, **kwargs):
            self.writes.append((name, args))
            raise WriteAttempted("%s was called" % name)

        return write


SW_SCOPES = [
    {"id": "s-root", "short_name": "Default", "name": "Default", "parent_app_scope_id": None},
    {"id": "s-prod", "short_name": "production", "name": "Default:production", "parent_app_scope_id": "s-root"},
]
SW_FILTERS = [{"id": "f-db", "name": "db", "app_scope_id": "s-prod"}, {"id": "f-prod", "name": "production", "app_scope_id": "s-prod"}]
SW_WORKSPACE = {"id": "ws1", "name": "k8s-apps", "app_scope_id": "s-prod", "latest_adm_version": 1}

READS = {
    "prisma": (None, []),
    "nsxt": (None, {"results": []}),
    "secure_workload": (
        {
            r"/app_scopes/?$": SW_SCOPES,
            r"/filters/inventories/?$": SW_FILTERS,
            r"/applications/ws1/?$": SW_WORKSPACE,
            r"/applications/?$": [SW_WORKSPACE],
            r"/applications/ws1/(policies|default_policies|absolute_policies|clusters)": [],
        },
        [],
    ),
}


def product_of(module_name):
    return next(p for p in READS if module_name.startswith(p))


# ---------------------------------------------------------------- running one case


def run_case(module_name, args):
    """``(outcome, message, connection)``: how far the task got ('spec', 'validation', 'read' or
    'accepted') and the message it stopped with."""
    runner = OBJECT_MODULES[module_name]
    args = dict((k, v) for k, v in args.items() if v is not None)  # None: the option is left out
    out = io.StringIO()
    with patch_module_args(args), contextlib.redirect_stdout(out):
        try:
            module = runner.build_module()
        except SystemExit:
            return "spec", json.loads(out.getvalue())["msg"], None
    try:
        prepared = runner.prepare(module)
    except MicrosegError as exc:
        return "validation", str(exc), None
    reads, empty = READS[product_of(module_name)]
    connection = ReadOnlyConnection(reads, empty)
    fake = types.SimpleNamespace(params=module.params, check_mode=False, _diff=False)
    try:
        result = runner.execute(fake, connection, prepared)
    except WriteAttempted:
        return "written", "; ".join("%s %s" % w for w in connection.writes), connection
    except MicrosegError as exc:
        return "read", str(exc), connection
    failures = [r.get("msg") for r in result.get("failed_objects") or []] if isinstance(result.get("failed_objects"), list) else []
    if result.get("failed") or failures:
        return "read", "; ".join(str(f) for f in failures) or str(result.get("msg")), connection
    return "accepted", None, connection


@pytest.mark.parametrize("row, module_name, args, expected", CASES, ids=["row%02d-%s" % (c[0], c[1]) for c in CASES])
def test_bad_input(row, module_name, args, expected):
    stage, message, connection = run_case(module_name, args)
    if isinstance(expected, Refused):
        assert stage in ("spec", "validation", "read"), "row %d was not refused (%s): %s" % (row, stage, message)
        assert re.match(expected.message, message), "row %d: %r does not start with %r" % (row, message, expected.message)
        if connection is not None:
            assert connection.writes == [], "row %d wrote before refusing: %s" % (row, connection.writes)
    else:
        assert expected.reason
        # accepted: validation passes; the object is then written (the read-only connection stops it there)
        assert stage in ("accepted", "written"), "row %d should be accepted (%s) but was refused: %s" % (row, expected.reason, message)


def test_every_row_is_a_case():
    assert [c[0] for c in CASES] == list(range(99))
