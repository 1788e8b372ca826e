# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""From observed flows to rules: the proposal of ``prisma_flow_info``.

Pure functions on what ``observed.observed_flows`` returns and the ``flows.Policy`` it was read
with; no HTTP. The proposal is what ``prisma_external_network`` and ``prisma_network_ruleset``
take in their list form (``items``):

- one network ruleset per *workload*: a processing-unit endpoint of the task's namespace with
  tags rulesets can select (S8 of the semantics file); its ``subject`` is those tags, with
  ``$identity=processingunit`` and ``$namespace=<namespace>`` so that nothing else matches;
- one rule per peer and direction, its ports merged: ``incoming_rules`` name the sources a
  workload was seen receiving from, ``outgoing_rules`` the destinations it was seen calling;
  a flow between two workloads needs both (S1); a flow with a unit of another namespace gets
  only this namespace's side (the other side is that namespace's to write);
- an address is named by the external network holding it: an existing one in scope (S10)
  first, else one of the ``networks`` given (the guide's by default); an entry that holds every
  address (``0.0.0.0/0``, ``::/0``) only takes public addresses; the networks the rules use and
  that do not exist yet are proposed.

Everything is sorted, so the same flows and policy give the same proposal.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import ipaddress
import json
import re

from ansible_collections.microseg.segmentation.plugins.module_utils._core.flowcheck import parse_service, port_spec_matches
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import (
    ValidationError,
    validate_network_entries,
    validate_protocol_port,
    validate_tag,
    validate_tags,
    validate_text,
)
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.flows import in_scope, parse_entries
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.observed import endpoint_text

# The guide's external networks (playbooks/namespace_guide.yml): the cluster DNS, the cloud
# metadata service, Google APIs (by name, and the private.googleapis.com range the recorded week
# reaches them on), the nodes' subnet the kubelets call from, and the Internet.
DEFAULT_NETWORKS = [
    {"name": "DNS", "entries": ["10.96.0.10/32"], "tags": ["externalnetwork:name=dns"]},
    {"name": "metadata", "entries": ["169.254.169.254/32"]},
    {"name": "googleapis", "entries": ["*.googleapis.com", "199.36.153.8/30"]},
    {"name": "kubelet", "entries": ["10.128.0.0/20"]},
    {"name": "internet", "entries": ["0.0.0.0/0"]},
]

# Addresses that are not on the Internet: an entry holding every address does not take them.
# The documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) are not listed: they
# stand for Internet addresses in examples and recordings.
NOT_PUBLIC = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16",
    "224.0.0.0/4", "240.0.0.0/4", "::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8")]

# IP protocol numbers a rule names by keyword (reference section 3.2: numbers are not accepted).
PROTOCOL_NAMES = {"tcp": "tcp", "udp": "udp", "icmp": "icmp", "icmp6": "icmp6", "47": "gre", "50": "esp", "51": "ah", "132": "sctp"}
PROTOCOL_ORDER = ("tcp", "udp", "icmp", "icmp6")
SELECTOR_KEYS = ("namespace", "tags", "network", "address")
NAME_MAX = 256
SLUG = re.compile(r"[^A-Za-z0-9._-]+")

PROPOSED = "proposed"
PARTLY = "partly proposed"
NOT_PROPOSED = "not proposed"
EXCLUDED = "excluded"


class NotProposable(Exception):
    """One end of a flow that no rule can name (the reason says why)."""


# ------------------------------------------------------------------ options


class Network:
    """An external network the proposal may name addresses with (``networks`` or an existing one)."""

    def __init__(self, name, entries, tags=None, existing=None):
        self.name = name
        self.entries = list(entries)
        self.tags = list(tags or [])
        self.parsed = parse_entries(self.entries)
        self.existing = existing
        # what the proposal lists when a rule uses this network: a network of ``networks`` (itself, or
        # the one an existing network of the namespace already is); None for another existing network
        self.config = self if existing is None else None

    def specificity(self, address):
        """The prefix length of the narrowest entry holding ``address`` (-1: none; an exclusion wins)."""
        best = -1
        for entry in self.parsed:
            negative, network = entry[0], entry[1]
            if network is None or network.version != address.version or address not in network:
                continue
            if negative:
                return -1
            best = max(best, network.prefixlen)
        return best

    def reference(self):
        """The rule object that selects this network."""
        existing = self.existing
        if existing is None or "externalnetwork:name=%s" % existing.name in existing.tags:
            return [["externalnetwork:name=%s" % self.name]]
        return [["$identity=externalnetwork", "$namespace=%s" % existing.namespace, "$name=%s" % existing.name]]

    def item(self):
        item = {"name": self.name, "entries": list(self.entries)}
        if self.tags:
            item["tags"] = list(self.tags)
        return item


def check_networks(value, option="networks"):
    """The ``networks`` option: ``[{name, entries, tags}]`` (the guide's when None), names unique."""
    if value is None:
        value = DEFAULT_NETWORKS
    if not isinstance(value, list):
        raise ValidationError(option, "a list of {name, entries} is expected")
    networks, names = [], {}
    for index, raw in enumerate(value):
        path = "%s[%d]" % (option, index)
        if not isinstance(raw, dict):
            raise ValidationError(path, "a mapping with name and entries is expected, got %r" % (raw,))
        name = validate_text(raw.get("name"), path + ".name", NAME_MAX)
        if name.lower() in names:
            raise ValidationError(path + ".name", "%r is already the name of %s[%d]" % (name, option, names[name.lower()]))
        names[name.lower()] = index
        entries = validate_network_entries(raw.get("entries"), path + ".entries")
        tags = validate_tags(raw.get("tags"), path + ".tags")
        networks.append(Network(name, entries, tags))
    return networks


class Selector:
    """One end of an ``exclude`` entry: units (``namespace``, ``tags``), a ``network`` or an ``address`` range."""

    def __init__(self, namespace=None, tags=None, network=None, address=None):
        self.namespace = namespace
        self.tags = tags
        self.network = network
        self.address = address

    def matches(self, endpoint, network):
        """Does the selector take ``endpoint`` (``network``: the name the proposal gives its address)?"""
        kind = endpoint.get("type")
        if self.network is not None:
            if kind == "external_network":
                return endpoint.get("name") == self.network
            return kind == "address" and network == self.network
        if self.address is not None:
            if kind != "address":
                return False
            address = _address(endpoint.get("address"))
            return address is not None and address.version == self.address.version and address in self.address
        if kind != "processing_unit":
            return False
        if self.namespace is not None and endpoint.get("namespace") != self.namespace:
            return False
        return set(self.tags or ()) <= set(endpoint.get("tags") or ())


def check_selector(value, option):
    if not isinstance(value, dict):
        raise ValidationError(option, "a mapping is expected: namespace and tags (processing units), network, or address; got %r" % (value,))
    given = dict((k, v) for k, v in value.items() if v is not None)
    unknown = sorted(set(given) - set(SELECTOR_KEYS))
    if unknown:
        raise ValidationError(option, "unknown key(s) %s; a selector takes %s" % (", ".join(unknown), ", ".join(SELECTOR_KEYS)))
    kinds = [k for k in (("namespace" in given or "tags" in given) and "namespace/tags", "network" in given and "network",
                         "address" in given and "address") if k]
    if len(kinds) != 1:
        raise ValidationError(option, "give one of namespace and tags (processing units), network or address%s" % (
            "" if not kinds else ", not %s together" % " and ".join(kinds)))
    if "network" in given:
        return Selector(network=validate_text(given["network"], option + ".network", NAME_MAX))
    if "address" in given:
        text = given["address"]
        try:
            network = ipaddress.ip_network(text.strip(), strict=False) if isinstance(text, str) else None
        except ValueError:
            network = None
        if network is None:
            raise ValidationError(option + ".address", "%r is neither an IP address nor a CIDR such as 198.51.100.0/24" % (text,))
        return Selector(address=network)
    namespace = given.get("namespace")
    if namespace is not None:
        if not isinstance(namespace, str) or not namespace.startswith("/"):
            raise ValidationError(option + ".namespace", "an absolute namespace path such as /acme/prod is expected, got %r" % (namespace,))
        namespace = namespace.rstrip("/") or "/"
    tags = given.get("tags")
    if isinstance(tags, str):
        tags = [tags]
    if tags is not None:
        if not isinstance(tags, list):
            raise ValidationError(option + ".tags", "a list of key=value tags is expected, got %r" % (tags,))
        tags = [validate_tag(t, "%s.tags[%d]" % (option, i), allow_reserved=True) for i, t in enumerate(tags)]
    return Selector(namespace=namespace, tags=tags)


class Exclude:
    def __init__(self, index, source, destination, service):
        self.index = index
        self.source = source
        self.destination = destination
        self.service = service

    def matches(self, flow, source_network, destination_network):
        if self.source is not None and not self.source.matches(flow["source"], source_network):
            return False
        if self.destination is not None and not self.destination.matches(flow["destination"], destination_network):
            return False
        if self.service is not None and self.service != "any":
            try:
                service = parse_service(flow["service"])
            except ValidationError:
                return False
            return port_spec_matches(service, self.service)
        return True


def check_excludes(value, option="exclude"):
    """The ``exclude`` option: ``[{source, destination, service}]``, each key optional, one at least."""
    excludes = []
    for index, raw in enumerate(value or []):
        path = "%s[%d]" % (option, index)
        if not isinstance(raw, dict):
            raise ValidationError(path, "a mapping with source, destination and service is expected, got %r" % (raw,))
        given = dict((k, v) for k, v in raw.items() if v is not None)
        unknown = sorted(set(given) - set(["source", "destination", "service"]))
        if unknown:
            raise ValidationError(path, "unknown key(s) %s; an entry takes source, destination and service" % ", ".join(unknown))
        if not given:
            raise ValidationError(path, "give at least one of source, destination and service (an empty entry would exclude every flow)")
        source = check_selector(given["source"], path + ".source") if "source" in given else None
        destination = check_selector(given["destination"], path + ".destination") if "destination" in given else None
        service = validate_protocol_port(given["service"], path + ".service") if "service" in given else None
        excludes.append(Exclude(index, source, destination, service))
    return excludes


def check_prefix(value, option="ruleset_prefix"):
    if value is None or value == "":
        return ""
    return validate_text(value, option, 128)


# ------------------------------------------------------------------ helpers


def _address(text):
    try:
        return ipaddress.ip_address(str(text).strip())
    except ValueError:
        return None


def _same_entries(left, right):
    return set(e.strip().lower() for e in left) == set(e.strip().lower() for e in right)


def is_public(address):
    return not any(address.version == n.version and address in n for n in NOT_PUBLIC)


def _expression_key(expression):
    return json.dumps(expression, sort_keys=True)


def merge_ports(specs):
    """Protocol ports sorted (tcp, udp, icmp, icmp6, then by name), each port once, runs of ports as ranges."""
    numbered, named = {}, set()
    for proto, port in specs:
        if port is None:
            named.add(proto)
        else:
            numbered.setdefault(proto, set()).add(port)
    out = []
    for proto in sorted(set(numbered) | named, key=lambda p: (PROTOCOL_ORDER.index(p) if p in PROTOCOL_ORDER else len(PROTOCOL_ORDER), p)):
        if proto in named:
            out.append(proto)
            continue
        ports = sorted(numbered[proto])
        start = previous = ports[0]
        for port in ports[1:] + [None]:
            if port is not None and port == previous + 1:
                previous = port
                continue
            out.append("%s/%d" % (proto, start) if start == previous else "%s/%d:%d" % (proto, start, previous))
            if port is not None:
                start = previous = port
    return out


def _slug(text):
    return SLUG.sub("-", text).strip("-") or "unit"


def _bounded(name):
    if len(name) <= NAME_MAX:
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:12]
    return name[:NAME_MAX - 13] + "-" + digest


# ------------------------------------------------------------------ the proposal


class Proposer:
    """Classifies observed flows for the namespace ``base`` and builds the proposal."""

    def __init__(self, policy, base, networks=None, excludes=(), prefix="observed-"):
        self.policy = policy
        self.base = base
        self.excludes = list(excludes)
        self.prefix = prefix
        self.warnings = []
        self.existing = []
        self._existing_by_key = {}
        names = {}
        for net in sorted(policy.external_networks, key=lambda n: (-n.namespace.count("/"), n.namespace, n.name, n.id or "")):
            if in_scope(net.namespace, base, net.propagate):
                network = Network(net.name, net.entries, existing=net)
                self.existing.append(network)
                self._existing_by_key.setdefault((net.namespace, net.name), network)
                names.setdefault(net.name, network)
        self.networks = []
        for network in networks if networks is not None else check_networks(None):
            existing = names.get(network.name)
            if existing is None:
                self.networks.append(network)
            elif existing.existing.namespace == base and _same_entries(existing.entries, network.entries):
                existing.config = network  # declared as networks says (an earlier proposal applied, say): listed again
            elif existing.existing.namespace == base:
                self.warnings.append("networks: %s is the name of an existing external network of %s with other entries (%s), "
                                     "which is used instead" % (network.name, base, ", ".join(existing.entries)))
            else:
                self.warnings.append("networks: %s is the name of an external network %s propagates (entries %s), which is used "
                                     "instead" % (network.name, existing.existing.namespace, ", ".join(existing.entries)))
        self._named = {}
        self.rulesets = {}
        self.used = {}

    # ---- naming the ends

    @staticmethod
    def _best(candidates, address):
        best, found = -1, None
        for network in candidates:
            length = network.specificity(address)
            if length == 0 and not is_public(address):
                continue  # an entry holding every address only takes public ones
            if length > best:
                best, found = length, network
        return found

    def network_for(self, text):
        """The Network that names an address (existing first, then ``networks``), or None."""
        if text in self._named:
            return self._named[text]
        address = _address(text)
        found = None
        if address is not None:
            found = self._best(self.existing, address) or self._best(self.networks, address)
        self._named[text] = found
        return found

    def network_name(self, endpoint):
        if endpoint.get("type") == "external_network":
            return endpoint.get("name")
        if endpoint.get("type") == "address":
            network = self.network_for(endpoint.get("address"))
            return network.name if network is not None else None
        return None

    def text(self, endpoint):
        text = endpoint_text(endpoint)
        name = self.network_name(endpoint) if endpoint.get("type") == "address" else None
        return "%s (%s)" % (text, name) if name else text

    def is_workload(self, endpoint):
        return (endpoint.get("type") == "processing_unit" and endpoint.get("namespace") == self.base and not endpoint.get("unknown")
                and bool(endpoint.get("tags")))

    def peer(self, endpoint):
        """(key, rule object, Network to propose or None) for the peer a rule names; NotProposable when none can."""
        kind = endpoint.get("type")
        if kind == "processing_unit":
            namespace = endpoint.get("namespace")
            if endpoint.get("unknown"):
                raise NotProposable("the peer %s is a processing unit of %s not among those read under %s: its tags are unknown"
                                    % (endpoint.get("unit") or "", namespace, self.base))
            if not endpoint.get("tags"):
                raise NotProposable("the peer %s has no tag rulesets can select (no tag prefix of %s takes its tags)"
                                    % (endpoint_text(endpoint), namespace))
            expression = [["$identity=processingunit", "$namespace=%s" % namespace] + list(endpoint["tags"])]
            return _expression_key(expression), expression, None
        if kind == "external_network":
            network = self._existing_by_key.get((endpoint.get("namespace"), endpoint.get("name")))
            if network is None:
                raise NotProposable("the peer, external network %s of %s, is not usable from %s (it lives neither there nor in an ancestor "
                                    "that propagates it)" % (endpoint.get("name"), endpoint.get("namespace"), self.base))
            expression = network.reference()
            return _expression_key(expression), expression, network.config
        address = endpoint.get("address")
        network = self.network_for(address)
        if network is None:
            if _address(address) is None:
                raise NotProposable("the peer %s is neither an address nor an external network of the namespace" % (address,))
            raise NotProposable("the peer %s is in no external network: name its range in networks (an entry holding every address, such "
                                "as 0.0.0.0/0, only takes public ones)" % address)
        expression = network.reference()
        return _expression_key(expression), expression, network.config

    @staticmethod
    def port_spec(flow):
        proto = PROTOCOL_NAMES.get(str(flow.get("protocol")))
        if proto is None:
            raise NotProposable("protocol %s has no name a rule takes" % flow.get("protocol"))
        if proto in ("tcp", "udp"):
            if flow.get("port") is None:
                raise NotProposable("no destination port was reported")
            return proto, int(flow["port"])
        return proto, None

    # ---- the flows

    def _add_rule(self, workload, direction, peer, spec):
        key = tuple(workload["tags"])
        ruleset = self.rulesets.setdefault(key, {"tags": list(workload["tags"]), "incoming": {}, "outgoing": {}})
        peer_key, expression, network = peer
        entry = ruleset[direction].setdefault(peer_key, {"object": expression, "ports": set()})
        entry["ports"].add(spec)
        if network is not None:
            self.used[network.name] = network

    def classify(self, flow):
        """(status, reason, excluded-by index): what the proposal does with one flow (and its rules added)."""
        source, destination = flow["source"], flow["destination"]
        source_network, destination_network = self.network_name(source), self.network_name(destination)
        for exclude in self.excludes:
            if exclude.matches(flow, source_network, destination_network):
                return EXCLUDED, "exclude[%d]" % exclude.index, exclude.index
        if flow.get("action") not in (None, "Accept"):
            return NOT_PROPOSED, "its enforcers rejected it (action %s): only accepted flows are proposed" % flow.get("action"), None
        units = [end for end in (source, destination) if end.get("type") == "processing_unit"]
        if not units:
            return NOT_PROPOSED, "no processing unit at either end: no enforcer sees it", None
        try:
            spec = self.port_spec(flow)
        except NotProposable as exc:
            return NOT_PROPOSED, str(exc), None
        sides = ((source, destination, "outgoing", "source side (outgoing rules)"),
                 (destination, source, "incoming", "destination side (incoming rules)"))
        done, missing = 0, []
        for unit, other, direction, words in sides:
            if unit.get("type") != "processing_unit":
                continue
            if not self.is_workload(unit):
                missing.append("%s: %s" % (words, self._not_workload(unit)))
                continue
            try:
                peer = self.peer(other)
            except NotProposable as exc:
                missing.append("%s: %s" % (words, exc))
                continue
            self._add_rule(unit, direction, peer, spec)
            done += 1
        if not missing:
            return PROPOSED, "", None
        return (PARTLY if done else NOT_PROPOSED), "; ".join(missing), None

    def _not_workload(self, unit):
        namespace = unit.get("namespace")
        if namespace != self.base:
            return "the processing unit is in %s, whose rulesets this task does not write" % namespace
        if unit.get("unknown"):
            return "the processing unit %s is not among those read under %s" % (unit.get("unit") or "", self.base)
        return "%s has no tag rulesets can select (no tag prefix of %s takes its tags)" % (endpoint_text(unit), namespace)

    # ---- the proposal

    def _description(self, tags, window):
        text = "The flows of %s observed over %s (prisma_flow_info)" % (", ".join(tags), window)
        return text if len(text) <= 1024 else text[:1021] + "..."

    def _names(self):
        """A ruleset name per workload: the prefix and its app (when no other workload has the same), else its tags."""
        apps = {}
        for key in self.rulesets:
            values = [t.split("=", 1)[1] for t in key if t.startswith("app=")]
            apps[key] = values[0] if len(values) == 1 else None
        counts = {}
        for value in apps.values():
            if value is not None:
                counts[value] = counts.get(value, 0) + 1
        names, taken = {}, set()
        for key in sorted(self.rulesets):
            app = apps[key]
            base = _slug(app) if app is not None and counts[app] == 1 else "_".join(_slug(t.replace("=", "-")) for t in key)
            name = _bounded(self.prefix + base)
            number = 2
            while name in taken:
                name = _bounded("%s%s-%d" % (self.prefix, base, number))
                number += 1
            taken.add(name)
            names[key] = name
        return names

    def proposal(self, window):
        names = self._names()
        rulesets = []
        for key in sorted(self.rulesets, key=lambda k: names[k]):
            ruleset = self.rulesets[key]
            item = {
                "name": names[key],
                "description": self._description(ruleset["tags"], window),
                "subject": [["$identity=processingunit", "$namespace=%s" % self.base] + list(ruleset["tags"])],
            }
            for direction in ("incoming", "outgoing"):
                rules = []
                for peer_key in sorted(ruleset[direction]):
                    entry = ruleset[direction][peer_key]
                    rules.append({"object": entry["object"], "protocol_ports": merge_ports(entry["ports"])})
                item["%s_rules" % direction] = rules
            rulesets.append(item)
        networks = [self.used[name].item() for name in sorted(self.used)]
        return {"external_networks": networks, "network_rulesets": rulesets}

    def run(self, flows, window="7d"):
        """Classify ``flows`` and build the proposal. Returns ``(statuses, result)``: the status of each
        flow in order (``proposed``, ``partly proposed``, ``not proposed`` or ``excluded``) and
        ``{proposal, excluded, not_proposed, partly_proposed, warnings}``."""
        statuses = []
        excluded, not_proposed, partly = [], [], []
        for flow in flows:
            status, reason, index = self.classify(flow)
            statuses.append(status)
            if status == PROPOSED:
                continue
            record = flow_record(flow, flow_text(flow, self), None if status == EXCLUDED else reason)
            if status == EXCLUDED:
                record["exclude"] = index
                excluded.append(record)
            elif status == NOT_PROPOSED:
                not_proposed.append(record)
            else:
                partly.append(record)
        return statuses, {"proposal": self.proposal(window), "excluded": excluded, "not_proposed": not_proposed,
                          "partly_proposed": partly, "warnings": list(self.warnings)}


def flow_record(flow, text, reason=None):
    """A flow as the result lists it (``excluded``, ``not_proposed``, ``partly_proposed``)."""
    record = {"text": text, "source": flow["source"], "destination": flow["destination"], "service": flow["service"],
              "count": flow["count"], "last_seen": flow["last_seen"]}
    if reason is not None:
        record["reason"] = reason
    return record


def propose(flows, policy, base, networks=None, excludes=(), prefix="observed-", window="7d"):
    """Classify ``flows`` (observed flows) and build the proposal for ``base`` (see :meth:`Proposer.run`)."""
    return Proposer(policy, base, networks, excludes, prefix).run(flows, window)


def flow_text(flow, proposer):
    """One line: ends, service, action, how many connections and when last seen."""
    return "%s -> %s %s %s, %d connection%s, last seen %s" % (
        proposer.text(flow["source"]), proposer.text(flow["destination"]), flow["service"], flow.get("action") or "-",
        flow["count"], "" if flow["count"] == 1 else "s", flow.get("last_seen") or "-")
