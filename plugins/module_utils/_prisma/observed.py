# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The flows a Prisma namespace's enforcers observed, read from the flow statistics.

``observed_flows`` asks ``POST /statsqueries`` (measurement ``Flows``) for the flow reports of a
namespace over a time window, grouped by both ends, port, protocol and actions, one page of
rows per request, and turns each row into a flow between two *endpoints*:

- a processing unit, named by the tags rulesets can select it by (its ``$`` tags and the user
  tags the namespace's tag prefixes allow, S8 of the semantics file) and its namespace; units
  with the same tags in the same namespace are one endpoint (the replicas of a deployment);
- an external network, by its name;
- an address, when the report names no object the collection can read.

Flows that differ only by the replica or the address inside an external network are merged:
their counts add up and the latest ``last_seen`` is kept.

The statistics API (``statsqueries``) is the one the reference documents; Prisma consoles from
5.0 on read flows with PromQL (``metricsquery``) instead, which this collection does not use yet.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError

PROTOCOLS = {1: "icmp", 6: "tcp", 17: "udp", 58: "icmp6"}
GROUPS = ["sourceType", "sourceID", "sourceIP", "sourceNamespace", "destinationType", "destinationID", "destinationIP",
          "destinationNamespace", "destinationPort", "protocol", "action", "observedAction"]
FIELDS = ["sum(value) as count", "max(timestamp) as lastSeen"]
WINDOW = re.compile(r"^(\d+(w|d|h|m|s))+$")
DEFAULT_PAGE_SIZE = 1000


def check_window(value, option="window"):
    """A relative window such as ``7d``, ``36h`` or ``1w2d`` (what the statistics API takes)."""
    text = str(value).strip()
    if not WINDOW.match(text):
        raise ValidationError(option, "%r is not a window such as 7d, 36h, 90m or 1w" % (value,))
    return text


def _stats_rows(connection, namespace, window, page_size):
    """Every row of the grouped flow query, one page per request."""
    rows = []
    offset = 0
    while True:
        body = {"measurement": "Flows", "fields": FIELDS, "groups": GROUPS, "limit": page_size, "offset": offset}
        data = connection.request("POST", "/statsqueries", namespace=namespace, params={"startRelative": window}, body=body) or {}
        page = []
        for result in data.get("results") or []:
            page.extend(result.get("rows") or [])
        rows.extend(page)
        if len(page) < page_size:
            return rows
        offset += page_size


class Endpoints:
    """Turns the (type, ID, IP, namespace) of a flow report's end into an endpoint mapping."""

    def __init__(self, policy):
        self.policy = policy
        self.units = dict((pu.id, pu) for pu in policy.processing_units)
        self.networks = dict((net.id, net) for net in policy.external_networks)

    def endpoint(self, kind, ident, address, namespace):
        if kind == "ProcessingUnit":
            unit = self.units.get(ident)
            if unit is not None:
                return {"type": "processing_unit", "namespace": unit.namespace, "tags": sorted(t for t in unit.tags if not t.startswith("$")),
                        "unit": unit.name, "id": unit.id, "address": address or None}
            return {"type": "processing_unit", "namespace": namespace or None, "tags": [], "unit": ident, "id": ident,
                    "address": address or None, "unknown": True}
        if kind == "ExternalNetwork":
            network = self.networks.get(ident)
            if network is not None:
                return {"type": "external_network", "name": network.name, "namespace": network.namespace, "id": network.id,
                        "address": address or None}
        return {"type": "address", "address": address or ident}

    @staticmethod
    def key(endpoint):
        """What makes two ends the same endpoint (replicas merge; addresses of one network merge)."""
        if endpoint["type"] == "processing_unit":
            if endpoint.get("unknown"):
                return ("pu", endpoint["namespace"], endpoint["unit"])
            return ("pu", endpoint["namespace"], tuple(endpoint["tags"]))
        if endpoint["type"] == "external_network":
            return ("net", endpoint["namespace"], endpoint["name"])
        return ("address", endpoint["address"])


def _shown(endpoint):
    """An endpoint as a merged flow shows it: what selects it, not one replica's identifier or address."""
    if endpoint["type"] == "address":
        return dict(endpoint)
    return dict((k, v) for k, v in endpoint.items() if k not in ("id", "address", "unit") or endpoint.get("unknown") and k == "unit")


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def observed_flows(connection, namespace, policy, window="7d", page_size=DEFAULT_PAGE_SIZE):
    """The flows observed in ``namespace`` (and below) over ``window``, merged by endpoint, protocol,
    port and actions; ``policy`` (``flows.read_policy``) names the processing units and networks.

    Each flow: ``source`` and ``destination`` endpoints, ``protocol`` (tcp, udp, icmp or a number),
    ``port`` (None for ICMP), ``service`` (the flow-check form, such as tcp/443), ``action``,
    ``observed_action``, ``count``, ``last_seen`` and ``examples`` (one concrete pair of units or
    addresses, to evaluate the flow on)."""
    resolver = Endpoints(policy)
    merged = {}
    for row in _stats_rows(connection, namespace, window, page_size):
        tags = row.get("tags") or {}
        columns = row.get("columns") or []
        values = (row.get("values") or [[]])[0]
        cells = dict(zip(columns, values))
        source = resolver.endpoint(tags.get("sourceType"), tags.get("sourceID"), tags.get("sourceIP"), tags.get("sourceNamespace"))
        destination = resolver.endpoint(tags.get("destinationType"), tags.get("destinationID"), tags.get("destinationIP"),
                                        tags.get("destinationNamespace"))
        number = _int(tags.get("protocol"))
        protocol = PROTOCOLS.get(number, str(tags.get("protocol")))
        port = _int(tags.get("destinationPort")) if protocol in ("tcp", "udp") else None
        service = "%s/%s" % (protocol, port) if port is not None else protocol if protocol in ("icmp", "icmp6") else "proto/%s" % protocol
        key = (Endpoints.key(source), Endpoints.key(destination), protocol, port, tags.get("action"), tags.get("observedAction"))
        count = _int(cells.get("count")) or 0
        last_seen = cells.get("lastSeen")
        flow = merged.get(key)
        if flow is None:
            flow = merged[key] = {
                "source": _shown(source),
                "destination": _shown(destination),
                "protocol": protocol, "port": port, "service": service,
                "action": tags.get("action"), "observed_action": tags.get("observedAction"),
                "count": 0, "last_seen": last_seen,
                "examples": {"source": source, "destination": destination},
            }
        flow["count"] += count
        if last_seen and (flow["last_seen"] is None or str(last_seen) > str(flow["last_seen"])):
            flow["last_seen"] = last_seen
    return sorted(merged.values(), key=lambda f: (-f["count"], str(Endpoints.key(f["source"])), str(Endpoints.key(f["destination"])),
                                                  f["service"]))


def endpoint_text(endpoint):
    """One line for an endpoint (tables and messages)."""
    if endpoint["type"] == "processing_unit":
        return "%s %s" % (endpoint.get("namespace"), ",".join(endpoint.get("tags") or []) or endpoint.get("unit") or "(no tags)")
    if endpoint["type"] == "external_network":
        return "external network %s" % endpoint["name"]
    return str(endpoint.get("address"))
