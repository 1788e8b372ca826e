# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which flows Prisma Cloud Microsegmentation network rulesets allow.

Pure functions on the JSON the API returns (namespaces, network rulesets, external networks,
processing units); no HTTP. The rules are those of ``prisma-ruleset-semantics.md`` (S1..S10):

- S1 two-sided enforcement: PU to PU needs the source's outgoing rules AND the destination's
  incoming rules; a flow with an external peer is decided by the PU's side only.
- S2 a PU peer is matched by its tags, an external peer by the ``entries`` of the external
  networks a rule's object selects.
- S3 tag expressions are an OR of ANDs; a trailing ``*`` matches by prefix (assumption).
- S4 a ruleset applies to a PU when it is not disabled, its subject matches and it lives in the
  PU's namespace or is propagated from an ancestor; fallback rulesets count only when no other
  ruleset applies to that PU (assumption: per PU).
- S5 normalized tags (``$identity``, ``$namespace``, ``$name``, ``$id``) on every object,
  external networks included.
- S6 on one side a matching Reject beats any matching Allow.
- S7 no matching rule: the namespace's default action for that direction, ``Inherit`` walks to
  the parent; a chain that never resolves is Allow (assumption).
- S8 a PU's user tags are usable only when they start with a ``tagPrefixes`` entry of its
  namespace or an ancestor.
- S9 protocol ports (empty list matches nothing, observation rules do not decide: assumptions);
  external network entries: CIDR, bare IP, ``!CIDR`` exclusions, host names, ``*.domain``.
- S10 an external network is usable for a PU only from its namespace or propagated from an
  ancestor (assumption).

TCP services (reference ``prisma-microseg-api.md`` section 2.1) and service dependency policies
(section 2.2): a flow to a TCP service's ``IPs``/``hosts`` (or named by the service) on its
``exposedPort`` (an outside client also on its ``publicApplicationPort``) is translated to the
processing units its ``selectors`` select, on its target ``port``. A processing-unit client needs a
service dependency policy that allows it (the namespace's ``default`` policy included unless
disabled) and the network rulesets must allow the translated flow; both are needed (assumption).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.microseg.segmentation.plugins.module_utils._core.flowcheck import Decision, FlowCheckError, Service, Verdict, ports_match
from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import ApiError

ALLOW = "Allow"
REJECT = "Reject"
INHERIT = "Inherit"
MAP = "Map"
TCP = "TCP"
SOURCE = "source"
DESTINATION = "destination"


# ------------------------------------------------------------------ namespaces


def parent_of(namespace):
    if namespace in ("", "/"):
        return None
    head = namespace.rsplit("/", 1)[0]
    return head or "/"


def chain_of(namespace):
    """The namespace and its ancestors, closest first, without ``/``."""
    out = []
    current = namespace
    while current and current != "/":
        out.append(current)
        current = parent_of(current)
    return out


def is_ancestor(ancestor, namespace):
    """Is ``ancestor`` a strict ancestor of ``namespace``?"""
    if ancestor == "/":
        return namespace not in ("", "/")
    return namespace.startswith(ancestor.rstrip("/") + "/")


def in_scope(obj_namespace, pu_namespace, propagate):
    """S4/S10: an object of ``obj_namespace`` reaches a PU of ``pu_namespace``."""
    return obj_namespace == pu_namespace or (bool(propagate) and is_ancestor(obj_namespace, pu_namespace))


# ------------------------------------------------------------------ tags


def object_tags(obj, identity):
    """S5: the object's normalized tags, completed from its own attributes when the API left them out."""
    tags = []
    seen = set()
    generated = ["$identity=%s" % identity]
    if obj.get("name"):
        generated.append("$name=%s" % obj["name"])
    if obj.get("namespace"):
        generated.append("$namespace=%s" % obj["namespace"])
    if obj.get("ID"):
        generated.append("$id=%s" % obj["ID"])
    for tag in list(obj.get("normalizedTags") or []) + generated + list(obj.get("associatedTags") or []) + list(obj.get("metadata") or []):
        if isinstance(tag, str) and tag not in seen:
            seen.add(tag)
            tags.append(tag)
    return tags


def tag_matches(wanted, tags):
    """S3: one tag of an expression against a tag set (a trailing ``*`` matches by prefix, assumption)."""
    if wanted.endswith("*"):
        prefix = wanted[:-1]
        return any(tag.startswith(prefix) for tag in tags)
    return wanted in tags


def expression_matches(expression, tags):
    """S3: ``[[a, b], [c]]`` is (a AND b) OR c; an empty clause matches nothing."""
    if not expression:
        return False
    tagset = tags if isinstance(tags, (set, frozenset)) else set(tags)
    for clause in expression:
        if clause and all(tag_matches(t, tagset) if t.endswith("*") else t in tagset for t in clause):
            return True
    return False


# ------------------------------------------------------------------ external network entries


def _network(text):
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _host_matches(pattern, host):
    pattern = pattern.lower().rstrip(".")
    host = host.lower().rstrip(".")
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    return pattern == host


class Peer:
    """An endpoint outside the enforcers: an address, a host name, or both (a name and what it resolves to)."""

    def __init__(self, address=None, host=None):
        self.address = ipaddress.ip_address(address) if address else None
        self.host = host

    def __str__(self):
        if self.address is not None and self.host:
            return "%s (%s)" % (self.host, self.address)
        return str(self.address) if self.address is not None else self.host

    def key(self):
        return (str(self.address) if self.address is not None else None, (self.host or "").lower() or None)


def parse_entries(entries):
    """External network entries as (negative, network or None, text) tuples."""
    parsed = []
    for raw in entries or ():
        entry = (raw or "").strip()
        if not entry:
            continue
        negative = entry.startswith("!")
        text = entry[1:].strip() if negative else entry
        parsed.append((negative, _network(text), text))
    return parsed


def entries_match(entries, peer, parsed=None):
    """S9: is ``peer`` in these external network entries?

    An address matches when an included CIDR or bare IP holds it and no ``!CIDR`` excludes it. A
    host name matches an entry with the same name or a ``*.domain`` covering it (host names are
    never resolved: an address given with the host is matched as an address).
    """
    included = excluded = False
    for negative, network, text in parse_entries(entries) if parsed is None else parsed:
        if network is not None:
            if peer.address is not None and peer.address.version == network.version and peer.address in network:
                if negative:
                    excluded = True
                else:
                    included = True
        elif peer.host and not negative and _host_matches(text, peer.host):
            included = True
    return included and not excluded


# ------------------------------------------------------------------ the model


class Rule:
    __slots__ = ("ruleset", "direction", "index", "action", "object", "ports", "observation", "name")

    def __init__(self, ruleset, direction, index, data):
        self.ruleset = ruleset
        self.direction = direction
        self.index = index
        self.action = data.get("action") or ALLOW
        self.object = data.get("object") or []
        self.ports = data.get("protocolPorts") or []
        self.observation = bool(data.get("observationEnabled"))
        self.name = data.get("name") or ""

    def label(self):
        text = "%s %s[%d]" % (self.ruleset.name, self.direction, self.index)
        if self.name:
            text += " %s" % self.name
        return text

    def decision(self, side):
        return Decision(side, self.action, self.label(), rule_id=self.ruleset.id, where=self.ruleset.namespace)


class _Object:
    """What every console object the check reads carries: its ID, name, namespace and the policy
    switches (absent on kinds that have none, where they read as false)."""

    def __init__(self, data):
        self.id = data.get("ID")
        self.name = data.get("name") or self.id or "?"
        self.namespace = data.get("namespace") or "/"
        self.propagate = bool(data.get("propagate"))
        self.disabled = bool(data.get("disabled"))
        self.fallback = bool(data.get("fallback"))


class Ruleset(_Object):
    def __init__(self, data):
        super(Ruleset, self).__init__(data)
        self.subject = data.get("subject") or []
        self.incoming = [Rule(self, "incoming", i, r) for i, r in enumerate(data.get("incomingRules") or [])]
        self.outgoing = [Rule(self, "outgoing", i, r) for i, r in enumerate(data.get("outgoingRules") or [])]


class ExternalNetwork(_Object):
    def __init__(self, data):
        super(ExternalNetwork, self).__init__(data)
        self.entries = list(data.get("entries") or [])
        self.parsed = parse_entries(self.entries)
        self.tags = frozenset(object_tags(data, "externalnetwork"))


class ProcessingUnit(_Object):
    def __init__(self, data, usable_tags):
        super(ProcessingUnit, self).__init__(data)
        self.all_tags = frozenset(object_tags(data, "processingunit"))
        self.tags = frozenset(usable_tags(self.namespace, self.all_tags))

    def __str__(self):
        return "%s/%s" % (self.namespace, self.name)


def _port(value):
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _host_key(text):
    return (text or "").strip().lower().rstrip(".")


class TcpService(_Object):
    """A ``service`` of type TCP (reference section 2.1): where clients reach it and what implements it."""

    def __init__(self, data):
        super(TcpService, self).__init__(data)
        self.external = bool(data.get("external"))
        self.addresses = set()
        for text in data.get("IPs") or ():
            try:
                self.addresses.add(ipaddress.ip_address(str(text).strip()))
            except ValueError:
                continue
        self.hosts = set(_host_key(h) for h in data.get("hosts") or () if h)
        self.exposed_port = _port(data.get("exposedPort"))
        self.port = _port(data.get("port"))
        self.public_port = _port(data.get("publicApplicationPort"))
        self.selectors = data.get("selectors") or []
        self.proxy_protocol = bool(data.get("proxyProtocolEnabled"))
        self.proxy_subnets = [n for n in (_network(str(c).strip()) for c in data.get("proxyProtocolSubnets") or ()) if n is not None]
        self.tags = frozenset(object_tags(data, "service"))

    def __str__(self):
        return "%s/%s" % (self.namespace.rstrip("/"), self.name)

    def ports(self, outside):
        """The ports the service is reached on: ``exposedPort``; for a client outside the enforcers also
        ``publicApplicationPort`` when set (assumption: the UI's "Public port for external clients")."""
        found = set([self.exposed_port]) if self.exposed_port else set()
        if outside and self.public_port:
            found.add(self.public_port)
        return found

    def holds(self, peer):
        """Is ``peer`` one of the service's ``IPs`` or ``hosts``?"""
        return ((peer.address is not None and peer.address in self.addresses)
                or (bool(peer.host) and _host_key(peer.host) in self.hosts))

    def peers(self):
        """The service's addresses and host names as plain peers (a flow that does not go through it)."""
        return ([Peer(address=str(a)) for a in sorted(self.addresses, key=lambda a: (a.version, a))]
                + [Peer(host=h) for h in sorted(self.hosts)])

    def proxied(self, peer):
        """Is ``peer`` in the service's ``proxyProtocolSubnets`` (with the proxy protocol on)?"""
        return (self.proxy_protocol and peer.address is not None
                and any(peer.address.version == n.version and peer.address in n for n in self.proxy_subnets))

    def decision(self):
        return Decision(DESTINATION, MAP, "service %s" % self.name, rule_id=self.id, where=self.namespace)


class DependencyPolicy(_Object):
    """A service dependency policy (reference section 2.2): ``subject`` clients may use ``object`` services."""

    def __init__(self, data):
        super(DependencyPolicy, self).__init__(data)
        self.subject = data.get("subject") or []
        self.object = data.get("object") or []

    def decision(self):
        return Decision(SOURCE, ALLOW, "service dependency policy %s" % self.name, rule_id=self.id, where=self.namespace)


class Namespaces:
    """Default actions and tag prefixes by namespace path (S7, S8)."""

    def __init__(self, namespaces):
        self.by_name = {}
        for data in namespaces or ():
            name = data.get("name")
            if name:
                self.by_name[name] = data

    def prefixes(self, namespace):
        out = []
        for name in chain_of(namespace):
            out.extend(p for p in (self.by_name.get(name) or {}).get("tagPrefixes") or [] if p)
        return out

    def default_action(self, namespace, direction):
        """S7: (action, namespace that decided or None when the Inherit chain never resolves)."""
        key = "defaultPUIncomingTrafficAction" if direction == "incoming" else "defaultPUOutgoingTrafficAction"
        for name in chain_of(namespace):
            value = (self.by_name.get(name) or {}).get(key) or INHERIT
            if value in (ALLOW, REJECT):
                return value, name
        return ALLOW, None


def _is_user_tag(tag):
    return not (tag.startswith("$") or tag.startswith("@"))


class Policy:
    """Everything read from the API, indexed for evaluation."""

    def __init__(self, namespaces=(), rulesets=(), external_networks=(), processing_units=(), services=(),
                 dependency_policies=()):
        self.namespaces = Namespaces(namespaces)
        # the spec's default type is HTTP: only services that say TCP are TCP services
        self.services = [TcpService(d) for d in services or () if (d.get("type") or "HTTP") == TCP]
        self.dependency_policies = sorted((DependencyPolicy(d) for d in dependency_policies or ()),
                                          key=lambda p: (-p.namespace.count("/"), p.namespace, p.name, p.id or ""))
        self._targets = {}
        self._dependencies = {}
        self._prefix_cache = {}
        self.rulesets = sorted((Ruleset(r) for r in rulesets or ()),
                               key=lambda r: (-r.namespace.count("/"), r.namespace, r.name, r.id or ""))
        self.external_networks = [ExternalNetwork(e) for e in external_networks or ()]
        self.processing_units = [ProcessingUnit(p, self.usable_tags) for p in processing_units or ()]
        self._applied = {}
        self._peer_networks = {}
        self._by_namespace = {}
        self._selected = {}
        for unit in self.processing_units:
            self._by_namespace.setdefault(unit.namespace, []).append(unit)

    # S8
    def usable_tags(self, namespace, tags):
        prefixes = self._prefix_cache.get(namespace)
        if prefixes is None:
            prefixes = tuple(self.namespaces.prefixes(namespace))
            self._prefix_cache[namespace] = prefixes
        return [t for t in tags if not _is_user_tag(t) or any(t.startswith(p) for p in prefixes)]

    def select(self, namespace, tags=()):
        """The processing units of ``namespace`` carrying every tag of ``tags`` (all their tags count here)."""
        key = (namespace, tuple(tags or ()))
        found = self._selected.get(key)
        if found is None:
            found = [pu for pu in self._by_namespace.get(namespace, ()) if all(tag_matches(t, pu.all_tags) for t in key[1])]
            self._selected[key] = found
        return found

    # S4
    def applied(self, pu):
        cached = self._applied.get(pu.id)
        if cached is not None:
            return cached
        regular, fallback = [], []
        for ruleset in self.rulesets:
            if ruleset.disabled or not in_scope(ruleset.namespace, pu.namespace, ruleset.propagate):
                continue
            if not expression_matches(ruleset.subject, pu.tags):
                continue
            (fallback if ruleset.fallback else regular).append(ruleset)
        result = regular or fallback
        self._applied[pu.id] = result
        return result

    def peer_networks(self, peer):
        key = peer.key()
        found = self._peer_networks.get(key)
        if found is None:
            found = [e for e in self.external_networks if entries_match(e.entries, peer, e.parsed)]
            self._peer_networks[key] = found
        return found

    def _object_matches(self, rule, pu, peer):
        if isinstance(peer, ProcessingUnit):
            return expression_matches(rule.object, peer.tags)
        # S2, S5, S10: an external network the object selects, usable for the PU, holding the peer
        for network in self.peer_networks(peer):
            if in_scope(network.namespace, pu.namespace, network.propagate) and expression_matches(rule.object, network.tags):
                return True
        return False

    def side(self, pu, peer, service, side):
        """One enforcer's decision: (action, [Decision], [observed rule labels])."""
        direction = "outgoing" if side == SOURCE else "incoming"
        rejects, allows, observed = [], [], []
        for ruleset in self.applied(pu):
            for rule in (ruleset.outgoing if side == SOURCE else ruleset.incoming):
                if not ports_match(service, rule.ports) or not self._object_matches(rule, pu, peer):
                    continue
                if rule.observation:
                    observed.append(rule.label())
                elif rule.action == REJECT:
                    rejects.append(rule)
                else:
                    allows.append(rule)
        if rejects:
            return REJECT, [r.decision(side) for r in rejects], observed
        if allows:
            return ALLOW, [r.decision(side) for r in allows], observed
        action, where = self.namespaces.default_action(pu.namespace, direction)
        text = "default %s action" % direction
        if where is None:
            text += " (Inherit to the root: Allow)"
        return action, [Decision(side, action, text, where=where or pu.namespace, default=True)], observed

    # TCP services and service dependency policies

    def service_named(self, namespace, name):
        """The TCP service ``name`` of ``namespace``, else the closest one an ancestor propagates."""
        for where in chain_of(namespace) or ["/"]:
            for svc in self.services:
                if svc.name == name and svc.namespace == where and (where == namespace or svc.propagate):
                    return svc
        raise FlowCheckError("no TCP service named %s in %s (nor propagated to it by an ancestor)" % (name, namespace))

    def services_at(self, peer, port, outside):
        """The enabled TCP services implemented by processing units that ``peer`` on ``port`` goes through."""
        return [svc for svc in self.services
                if not svc.disabled and not svc.external and port in svc.ports(outside) and svc.holds(peer)]

    def targets(self, svc):
        """The processing units the service's selectors select, in its namespace or below (assumption),
        matched on all their tags (assumption: the console, not the wire, resolves selectors)."""
        found = self._targets.get(svc.id or str(svc))
        if found is None:
            found = [pu for pu in self.processing_units
                     if (pu.namespace == svc.namespace or is_ancestor(svc.namespace, pu.namespace))
                     and expression_matches(svc.selectors, pu.all_tags)]
            self._targets[svc.id or str(svc)] = found
        return found

    def dependencies(self, pu):
        """The service dependency policies that apply to a client (as S4 for rulesets: not disabled, subject
        matching all its tags, in its namespace or propagated by an ancestor; fallback only when no other applies)."""
        cached = self._dependencies.get(pu.id)
        if cached is not None:
            return cached
        regular, fallback = [], []
        for sdp in self.dependency_policies:
            if sdp.disabled or not in_scope(sdp.namespace, pu.namespace, sdp.propagate):
                continue
            if expression_matches(sdp.subject, pu.all_tags):
                (fallback if sdp.fallback else regular).append(sdp)
        result = regular or fallback
        self._dependencies[pu.id] = result
        return result

    def dependency(self, pu, svc):
        """(allowed, [Decision], note): may this processing unit use this service?"""
        allowing = [sdp for sdp in self.dependencies(pu) if expression_matches(sdp.object, svc.tags)]
        if allowing:
            return True, [sdp.decision() for sdp in allowing], ""
        disabled = [sdp.name for sdp in self.dependency_policies
                    if sdp.disabled and in_scope(sdp.namespace, pu.namespace, sdp.propagate)
                    and expression_matches(sdp.subject, pu.all_tags) and expression_matches(sdp.object, svc.tags)]
        note = "no service dependency policy lets %s use service %s" % (pu, svc)
        if disabled:
            note += " (disabled: %s)" % ", ".join(disabled)
        return False, [Decision(SOURCE, REJECT, "no service dependency policy", where=pu.namespace, default=True)], note

    def pair(self, source, destination, service):
        """S1: the verdict of one flow between two resolved endpoints."""
        if not isinstance(source, ProcessingUnit) and not isinstance(destination, ProcessingUnit):
            raise FlowCheckError("neither %s nor %s is a processing unit: no enforcer sees this flow" % (source, destination))
        decisions, observed, denied_by = [], [], []
        if isinstance(source, ProcessingUnit):
            action, found, seen = self.side(source, destination, service, SOURCE)
            decisions += found
            observed += seen
            if action != ALLOW:
                denied_by.append("the source's outgoing rules")
        if isinstance(destination, ProcessingUnit):
            action, found, seen = self.side(destination, source, service, DESTINATION)
            decisions += found
            observed += seen
            if action != ALLOW:
                denied_by.append("the destination's incoming rules")
        if denied_by:
            reason = "rejected by %s" % " and ".join(denied_by)
        elif isinstance(source, ProcessingUnit) and isinstance(destination, ProcessingUnit):
            reason = "allowed by both sides"
        else:
            reason = "allowed by the %s (the external network has no enforcer)" % (
                "source's outgoing rules" if isinstance(source, ProcessingUnit) else "destination's incoming rules")
        if observed:
            reason += "; observation rules matched (not deciding): %s" % ", ".join(observed)
        return Verdict("deny" if denied_by else "allow", decisions, reason)


def resolve_endpoint(policy, endpoint):
    """The processing units (or the one external peer) an endpoint mapping names."""
    if endpoint.get("service"):
        raise FlowCheckError("a TCP service (%s) is a destination, not a source" % endpoint["service"])
    if endpoint.get("namespace"):
        tags = endpoint.get("tags") or []
        if isinstance(tags, str):
            tags = [tags]
        found = policy.select(endpoint["namespace"], tags)
        if not found:
            raise FlowCheckError("no processing unit in %s carries %s" % (
                endpoint["namespace"], ", ".join(tags) if tags else "any tag (the namespace holds none)"))
        return found
    return [Peer(address=endpoint.get("address"), host=endpoint.get("host"))]


def _service_port(service):
    return service.port if service.proto == "tcp" else None


def resolve_destination(policy, endpoint, service, outside):
    """(TcpService or None, destinations, note) for a destination mapping.

    A destination goes through a TCP service when it names the service (``service`` with ``namespace``) or
    one of its ``IPs``/``hosts``, and the flow is TCP on one of the service's ports (``exposedPort``; for a
    client outside the enforcers also ``publicApplicationPort``). Otherwise it is a plain flow: to the
    processing units or the peer named, or to the named service's own addresses and host names.
    """
    port = _service_port(service)
    if endpoint.get("service"):
        svc = policy.service_named(endpoint["namespace"], endpoint["service"])
        if svc.disabled:
            raise FlowCheckError("service %s is disabled: no enforcer maps it; name its address to check a plain flow" % svc)
        if svc.external:
            raise FlowCheckError("service %s is external (a third party's): no processing unit implements it" % svc)
        if port is not None and port in svc.ports(outside):
            return svc, policy.targets(svc), ""
        peers = svc.peers()
        if not peers:
            raise FlowCheckError("service %s has neither IPs nor hosts" % svc)
        ports = "/".join("tcp/%d" % p for p in sorted(svc.ports(outside))) or "none"
        return None, peers, "%s is not a port of service %s (%s): a plain flow to its addresses; " % (service, svc, ports)
    if endpoint.get("namespace"):
        return None, resolve_endpoint(policy, endpoint), ""
    peer = Peer(address=endpoint.get("address"), host=endpoint.get("host"))
    if port is not None:
        found = policy.services_at(peer, port, outside)
        if len(found) > 1:
            raise FlowCheckError("%s on %s is reached through several TCP services (%s): name one with service and namespace"
                                 % (peer, service, ", ".join(str(f) for f in found)))
        if found:
            return found[0], policy.targets(found[0]), ""
    return None, [peer], ""


def _through_service(policy, svc, src, targets):
    """The (source, destination, Verdict) pairs of a client going through a TCP service."""
    mapping = "through service %s (tcp/%d -> tcp/%d)" % (svc, svc.exposed_port, svc.port)
    decisions = [svc.decision()]
    notes = []
    if isinstance(src, ProcessingUnit):
        allowed, found, note = policy.dependency(src, svc)
        decisions += found
        if not allowed:
            return [(src, svc, Verdict("deny", decisions, "%s: rejected, %s" % (mapping, note)))]
    elif svc.proxied(src):
        notes.append("%s is in the proxy protocol subnets of service %s: the enforcer evaluates the address the proxy "
                     "protocol header carries, so a client's flow names the client as its source" % (src, svc))
    if not targets:
        raise FlowCheckError("service %s selects no processing unit (selectors %s)" % (svc, svc.selectors))
    pairs = []
    target_service = Service("tcp", port=svc.port)
    for target in targets:
        if src is target:
            continue
        verdict = policy.pair(src, target, target_service)
        reason = "%s: %s" % (mapping, verdict.reason)
        if notes:
            reason += "; " + "; ".join(notes)
        pairs.append((src, target, Verdict(verdict.verdict, decisions + verdict.decisions, reason)))
    return pairs


def evaluate_flow(policy, source, destination, service, expect=None):
    """A flow between endpoint mappings: every (source, destination) pair of processing units must hold.

    The verdict is V(allow) only when every pair is allowed if the flow expects allow, and V(deny)
    only when every pair is denied otherwise; the decisions are those of the first pair that
    gave the verdict. A destination that goes through a TCP service (see :func:`resolve_destination`)
    is replaced by the processing units that implement it, on its target port.
    """
    sources = resolve_endpoint(policy, source)
    outside = not isinstance(sources[0], ProcessingUnit)
    svc, destinations, note = resolve_destination(policy, destination, service, outside)
    results = []
    for src in sources:
        if svc is not None:
            results.extend(_through_service(policy, svc, src, destinations))
            continue
        for dst in destinations:
            if src is dst:
                continue
            results.append((src, dst, policy.pair(src, dst, service)))
    if not results:
        raise FlowCheckError("the source and the destination are the same single processing unit")
    allowed = [r for r in results if r[2].verdict == "allow"]
    denied = [r for r in results if r[2].verdict == "deny"]
    if expect == "allow":
        verdict = "allow" if not denied else "deny"
    else:
        verdict = "deny" if not allowed else "allow"
    deciding = denied if verdict == "deny" else allowed
    src, dst, first = deciding[0]
    reason = first.reason
    if len(results) > 1:
        reason = "%d/%d pairs allowed; %s -> %s: %s" % (len(allowed), len(results), src, dst, first.reason)
    return Verdict(verdict, first.decisions, note + reason)


def read_policy(connection, base, namespaces=None, overrides=None):
    """Read everything a flow under ``base`` is decided by: the namespaces (``namespaces`` when the
    caller listed them, recursively from ``base``) and the chain above it with their default actions
    and tag prefixes, and the rulesets, external networks, processing units, TCP services and service
    dependency policies in scope. ``overrides`` maps a namespace to the attributes to take instead of
    what it holds (the default actions a task is about to set). One paginated read per kind."""
    if namespaces is None:
        namespaces = connection.list_all("/namespaces", namespace=base, params={"recursive": "true"})
    namespaces = list(namespaces)
    for name in chain_of(base):
        record = {"name": name}
        try:
            actions = connection.request("GET", "/putrafficactions", namespace=name)
            prefixes = connection.request("GET", "/tagprefixes", namespace=name)
        except ApiError as exc:
            if name != base and exc.status in (401, 403):
                break  # an ancestor these credentials may not read: Inherit, no tag prefixes
            raise
        actions = actions or {}
        record["defaultPUIncomingTrafficAction"] = actions.get("Incoming") or "Inherit"
        record["defaultPUOutgoingTrafficAction"] = actions.get("Outgoing") or "Inherit"
        record["tagPrefixes"] = list((prefixes or {}).get("prefixes") or [])
        namespaces.append(record)
    for record in namespaces:
        record.update((overrides or {}).get(record.get("name")) or {})
    scoped = {"recursive": "true", "propagated": "true"}
    rulesets = connection.list_all("/networkrulesetpolicies", namespace=base, params=scoped)
    networks = connection.list_all("/externalnetworks", namespace=base, params=scoped)
    units = connection.list_all("/processingunits", namespace=base, params={"recursive": "true"})
    services = connection.list_all("/services", namespace=base, params=scoped)
    dependencies = connection.list_all("/servicedependencypolicies", namespace=base, params=scoped)
    return Policy(namespaces, rulesets, networks, units, services, dependencies)
