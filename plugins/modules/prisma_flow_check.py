#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: prisma_flow_check
short_description: Check which flows Prisma Cloud Microsegmentation network rulesets and TCP services allow
version_added: 1.0.0
description:
  - Reads what the Microsegmentation Console holds under O(namespace) (its namespaces, the network rulesets
    and external networks of the namespace, of its children and the ones its ancestors propagate, and the
    processing units its enforcers report, the TCP services and the service dependency policies) and evaluates each
    flow with the enforcers' semantics.
  - "An endpoint is a string: an IPv4 or IPv6 address, or a host name, for a peer outside the enforcers
    (matched against the C(entries) of external networks)."
  - "Or a mapping: C(namespace) and C(tags) for the processing units of that namespace
    carrying every tag listed (all of them when C(tags) is left out; none found fails the task naming the endpoint);
    or C(address); or C(host); or C(host) with the C(address) it resolves to (the peer then matches entries of either form);
    or, as a destination only, C(service) (the name of a TCP service) with C(namespace) (where the service lives, or a
    child namespace an ancestor propagates it to)."
  - An endpoint's C(namespace) is absolute (C(/acme/prod)) or relative to O(namespace) (C(prod), or C(.) for
    O(namespace) itself); left out, it is O(namespace). Relative paths keep flow files (O(src)) independent of the tenant.
  - "A flow goes through a TCP service when its destination names the service, or is an address in the service's C(IPs)
    or a host in its C(hosts), and its service is C(tcp/<port>) with the service's C(exposedPort) (for a source outside
    the enforcers, also its C(publicApplicationPort) when set). The destination is then the processing units the
    service's C(selectors) select, on the service's target C(port). The flow is allowed only if, for a processing-unit
    source, a service dependency policy lets the source use the service (subject matching the source, object matching
    the service's tags C($identity=service), C($name), C($namespace), C($id) and its own tags; not disabled; in the
    source's namespace or propagated by an ancestor; the C(default) policy a namespace of type Kubernetes or Group gets
    counts like any other unless it is disabled), and the network rulesets allow the source to reach each of those
    processing units on the target port (both sides for a processing-unit source, the destination side alone for a
    source outside the enforcers)."
  - "Any other port to a service's address or host is a plain flow to that address (a destination that names the
    service is then its C(IPs) and C(hosts)); a flow between two peers outside the enforcers cannot be evaluated and
    fails the task. A disabled or external (C(external=true)) service named by C(service) fails the task; one matched
    by address is not used. Services of another type than C(TCP) (the spec's default is C(HTTP)) are not read as TCP
    services. An address or host that several TCP services share on the same port fails the task: name the service."
  - The flow is evaluated for every processing unit an endpoint selects and must hold for each. A flow expected to be
    allowed gets V(allow) only when every pair is allowed; any other flow gets V(allow) as soon as one pair is allowed,
    and the reason names the pair that decided.
  - Reports, for each flow, V(allow) or V(deny) and the deciding rule(s) on each side, named
    C(<ruleset> incoming[<index>]) or C(<ruleset> outgoing[<index>]) (followed by the rule's name when it has one),
    with the ruleset ID and namespace; or the namespace's default action. A flow through a TCP service also lists
    C(service <name>) (action V(Map)) and C(service dependency policy <name>) for each policy that allows it, or
    C(no service dependency policy) (action V(Reject)) when none does.
  - The console is read with one paginated list per kind (namespaces, network rulesets, external networks,
    processing units, services, service dependency policies) plus the default actions and tag prefixes of O(namespace) and of each ancestor the
    credentials may read. Nothing is written.
author: Microseg Segmentation Maintainers (@microseg)
notes:
  - "The semantics are those of the project's C(prisma-ruleset-semantics.md): a flow between two processing units
    passes only if the source's outgoing rules and the destination's incoming rules both allow it; a flow to or
    from an external network is decided by the processing unit's side alone (external networks have no enforcer)."
  - A Reject rule that matches on a side beats every Allow rule of that side. A ruleset applies to a processing unit
    when it is not disabled, its subject matches and it lives in the unit's namespace or is propagated by an ancestor.
  - Every object carries the normalized tags C($identity), C($namespace), C($name) and C($id), external networks
    included, so an object C([["$namespace=/ns"]]) also selects the external networks of C(/ns).
  - A user tag of a processing unit (one not starting with C($) or C(@)) is usable by rulesets only when it starts
    with a C(tagPrefixes) entry of the unit's namespace or of an ancestor.
  - When no rule matches on a side, the namespace's C(defaultPUIncomingTrafficAction) or
    C(defaultPUOutgoingTrafficAction) decides; C(Inherit) takes the parent's value.
  - "Assumption: a trailing C(*) in a tag expression matches by prefix."
  - "Assumption: a C(fallback) ruleset counts only when no other ruleset applies to that processing unit."
  - "Assumption: an C(Inherit) chain that never resolves (up to the root) behaves as Allow (discovery mode)."
  - "Assumption: a rule with an empty C(protocolPorts) list matches nothing; a rule with C(observationEnabled) is
    reported in the reason but does not decide."
  - "Assumption: an external network is usable by a rule of a processing unit only when it lives in the unit's
    namespace or is propagated by an ancestor."
  - "Assumption: host names are never resolved; a host matches a host-name or C(*.domain) entry, and matches address
    entries only through the C(address) given with it. The C(servicePorts) of external networks are not evaluated."
  - "Assumption: ancestors whose default actions or tag prefixes the credentials cannot read count as C(Inherit) with
    no tag prefix."
  - "TCP services and service dependency policies: reference C(prisma-microseg-api.md) sections 2.1 and 2.2 (gaia
    C(service.spec), C(servicedependencypolicy.spec)): C(exposedPort) is where clients reach the service, C(port) where
    its processing units listen, C(selectors) the processing units that implement it; a service dependency policy's
    C(subject) are client processing units and its C(object) the services they may depend on; a namespace of type
    Kubernetes or Group gets a C(default) policy giving all its processing units access to all its services."
  - "Assumption: a flow through a TCP service needs both a service dependency policy (for a processing-unit source) and
    the network rulesets on the translated flow (source to each implementing processing unit on the target port); either
    alone does not allow it."
  - "Assumption: a source outside the enforcers reaches a service on its C(exposedPort) and on its
    C(publicApplicationPort) when set (the UI's \"Public port for external clients\"); a processing-unit source only on
    C(exposedPort)."
  - "Assumption: with the proxy protocol on, the enforcer evaluates the client address the proxy protocol header carries,
    not the load balancer's, so a flow names the client as its source. A source inside the service's
    C(proxyProtocolSubnets) (the load balancer itself) is evaluated with its own address and the reason says so."
  - "Assumption: a service's C(selectors) select processing units of its namespace and of its children; selectors and a
    service dependency policy's C(subject) match all of a processing unit's tags (the console resolves them; tag prefixes
    govern what rulesets see on the wire). A service dependency policy's C(object) selects services by their tags,
    wherever they live. A C(fallback) service dependency policy counts only when no other one applies to the client;
    C(activeSchedule) and C(activeDuration) are not evaluated (a scheduled policy counts as always active)."
  - "Assumption: the TLS mode (C(TLSType), C(exposedServiceIsTLS)) and the authorization type of a TCP service do not
    change whether a flow is allowed."
extends_documentation_fragment:
  - microseg.segmentation.prisma
  - microseg.segmentation.flow_check
  - microseg.segmentation.attributes.info
  - microseg.segmentation.prisma.attributes
"""

EXAMPLES = r"""
- name: The Hipster Shop flow table after lockdown
  microseg.segmentation.prisma_flow_check:
    namespace: /acme/aws-dev/k8s
    flows:
      - name: frontend to cart
        source: {namespace: /acme/aws-dev/k8s/hipster-shop, tags: [app=frontend]}
        destination: {namespace: /acme/aws-dev/k8s/hipster-shop, tags: [app=cartservice]}
        service: tcp/7070
        expect: allow
      - name: internet to frontend
        source: 203.0.113.7
        destination: {namespace: /acme/aws-dev/k8s/hipster-shop, tags: [app=frontend]}
        service: tcp/8080
        expect: allow
      - name: internet to frontend on ssh
        source: 203.0.113.7
        destination: {namespace: /acme/aws-dev/k8s/hipster-shop, tags: [app=frontend]}
        service: tcp/22
        expect: deny
      - name: to googleapis
        source: {namespace: /acme/aws-dev/k8s/hipster-shop, tags: [app=frontend]}
        destination: storage.googleapis.com
        service: tcp/443
        expect: allow
  register: hipster_flows

- name: A client pod through a ClusterIP service, by its address and by its name
  microseg.segmentation.prisma_flow_check:
    namespace: /acme
    flows:
      - name: client to my-service
        source: {namespace: /acme/k8s-clusterip, tags: [app=my-client]}
        destination: 10.96.12.34
        service: tcp/9376
        expect: allow
      - name: client to my-service by name
        source: {namespace: /acme/k8s-clusterip, tags: [app=my-client]}
        destination: {service: my-service, namespace: /acme/k8s-clusterip}
        service: tcp/9376
        expect: allow

- name: Print the flow table
  ansible.builtin.debug:
    var: hipster_flows.table
"""

RETURN = r"""
flows:
  description:
    - One entry per flow with C(name), C(source), C(destination), C(service), C(expect), C(verdict), C(reason),
      C(as_expected) and C(decided_by).
    - C(decided_by) lists the deciding rules, each with C(side) (V(source) or V(destination)), C(action)
      (V(Allow) or V(Reject); V(Map) for the TCP service a flow goes through), C(rule), C(id) (the ruleset,
      service or service dependency policy ID), C(where) (its namespace), C(default) (true for a namespace's
      default action and for C(no service dependency policy)) and C(label).
  returned: always
  type: list
  elements: dict
mismatches:
  description: The flows whose verdict differs from O(flows[].expect).
  returned: always
  type: list
  elements: dict
table:
  description: The flows as aligned text lines (flow, endpoints, service, verdict, expectation, deciding rules).
  returned: always
  type: list
  elements: str
summary:
  description: How many of the flows with an expectation got it.
  returned: always
  type: str
  sample: 12/12 flows as expected
counts:
  description: C(total), C(checked), C(as_expected), C(mismatched) and C(allowed) flows.
  returned: always
  type: dict
report:
  description: The absolute path of the HTML flow report, when O(report) is given.
  returned: when O(report) is given
  type: str
  sample: /srv/reports/flows.html
"""

import ipaddress
import re

from ansible_collections.microseg.segmentation.plugins.module_utils._core.flow_report import public_url
from ansible_collections.microseg.segmentation.plugins.module_utils._core.flowcheck import FlowCheck, FlowCheckError, NotThereYet
from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import ApiError
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.checkmode import is_missing_namespace
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.common import PrismaConnection, prisma_argument_spec
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.flows import evaluate_flow, read_policy

HOST_RE = re.compile(r"^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.?$", re.IGNORECASE)


def _is_address(text):
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_host(text):
    """A DNS name or a ``*.domain`` wildcard whose last label is not a number (so 10.0.0.300 is no host)."""
    if not isinstance(text, str):
        return False
    text = text.strip().rstrip(".")
    return bool(HOST_RE.match(text)) and not _is_address(text) and not text.rsplit(".", 1)[-1].isdigit()


def _namespace_path(value, option):
    """An endpoint's namespace: absolute (``/acme/prod``), or relative to the task's O(namespace)
    (``prod``, ``.`` for the task's own), resolved once the connection knows it."""
    if not isinstance(value, str) or not value.strip() or "//" in value.strip().rstrip("/") \
            or ".." in value.strip().strip("/").split("/"):
        raise ValidationError(option, "a namespace path is expected (absolute such as /acme/prod, or relative to the task's "
                                      "namespace such as prod, or . for the task's own), got %r" % (value,))
    value = value.strip()
    return (value.rstrip("/") or "/") if value.startswith("/") else value.strip("/") or "."


def _absolute(base, relative):
    parts = [p for p in relative.split("/") if p not in ("", ".")]
    return "/".join([base.rstrip("/")] + parts) if parts else base


class PrismaFlowCheck(FlowCheck):
    endpoint_keys = ("namespace", "tags", "address", "host", "service")
    # a plain string: an address or a host name, told apart in validate_endpoint
    string_key = "peer"
    product = "Prisma Cloud Microsegmentation"

    def report_context(self, params):
        return [("Console", public_url(params["api_url"])), ("Namespace", params["namespace"])]

    def connection_spec(self):
        return prisma_argument_spec()

    def connect(self, params):
        return PrismaConnection(params)

    def validate_endpoint(self, endpoint, option):
        from_string = "peer" in endpoint
        if from_string:
            text = endpoint.pop("peer")
            endpoint["address" if _is_address(text) else "host"] = text
        address = endpoint.get("address")
        host = endpoint.get("host")
        if "service" in endpoint:
            if option.endswith(".source"):
                raise ValidationError(option + ".service", "a TCP service is a destination, not a source")
            extra = sorted(set(endpoint) - set(["service", "namespace"]))
            if extra:
                raise ValidationError(option, "service takes namespace only; do not mix it with %s" % ", ".join(extra))
            name = endpoint["service"]
            if not isinstance(name, str) or not name.strip():
                raise ValidationError(option + ".service", "the name of a TCP service is expected, got %r" % (name,))
            endpoint["service"] = name.strip()
            endpoint["namespace"] = _namespace_path(endpoint.get("namespace", "."), option + ".namespace")
            return
        if "namespace" in endpoint or "tags" in endpoint:
            if address is not None or host is not None:
                raise ValidationError(option, "namespace and tags name processing units; do not mix them with address or host")
            namespace = _namespace_path(endpoint.get("namespace", "."), option + ".namespace")
            tags = endpoint.get("tags", [])
            if isinstance(tags, str):
                tags = [tags]
            if not isinstance(tags, list) or not all(isinstance(t, str) and "=" in t for t in tags):
                raise ValidationError(option + ".tags", "a list of key=value tags is expected, got %r" % (endpoint.get("tags"),))
            endpoint["namespace"] = namespace
            endpoint["tags"] = list(tags)
            return
        if address is not None:
            if not isinstance(address, str):
                raise ValidationError(option + ".address", "an IPv4 or IPv6 address is expected")
            if not _is_address(address.strip()):
                raise ValidationError(option + ".address", "%r is not an IPv4 or IPv6 address" % (address,))
            endpoint["address"] = address.strip()
        if host is not None:
            if not _is_host(host):
                if from_string:
                    raise ValidationError(option, "%r is neither an IPv4 or IPv6 address nor a host name" % (host,))
                raise ValidationError(option + ".host", "%r is not a host name" % (host,))
            endpoint["host"] = host.strip()

    def load(self, connection, params, flows):
        base = connection.namespace.rstrip("/") or "/"
        for flow in flows:
            for endpoint in (flow.source, flow.destination):
                if endpoint.get("namespace") is not None and not endpoint["namespace"].startswith("/"):
                    endpoint["namespace"] = _absolute(base, endpoint["namespace"])
        try:
            namespaces = connection.list_all("/namespaces", namespace=base, params={"recursive": "true"})
        except ApiError as exc:
            if self.check_mode and is_missing_namespace(connection, base, exc):
                raise NotThereYet("namespace %s does not exist yet" % base) from None
            raise
        if self.check_mode:
            self._check_namespaces(base, namespaces, flows)
        policy = read_policy(connection, base, namespaces)

        def evaluate(flow):
            for endpoint in (flow.source, flow.destination):
                namespace = endpoint.get("namespace")
                if namespace and namespace != base and not namespace.startswith(base.rstrip("/") + "/"):
                    raise FlowCheckError("%s is not under the task's namespace %s: its processing units were not read" % (namespace, base))
            return evaluate_flow(policy, flow.source, flow.destination, flow.service, flow.expect)

        return evaluate

    @staticmethod
    def _check_namespaces(base, namespaces, flows):
        """Check mode: every namespace the flows name under ``base`` exists (an earlier task of the play
        may be about to create it; NotThereYet then). A real run goes on and evaluates what is there."""
        known = set(n.get("name") for n in namespaces) | set([base])
        under = base.rstrip("/") + "/"
        missing = []
        for flow in flows:
            for endpoint in (flow.source, flow.destination):
                namespace = endpoint.get("namespace")
                if namespace and namespace.startswith(under) and namespace not in known and namespace not in missing:
                    missing.append(namespace)
        if len(missing) == 1:
            raise NotThereYet("namespace %s does not exist yet" % missing[0])
        if missing:
            raise NotThereYet("namespaces %s do not exist yet" % ", ".join(missing))


def main():
    PrismaFlowCheck().run()


if __name__ == "__main__":
    main()
