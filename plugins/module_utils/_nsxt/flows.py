# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Evaluate flows against distributed firewall rules the way NSX does: the first rule that
applies and matches decides; when none does, the default rule does."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

CATEGORY_ORDER = ("Ethernet", "Emergency", "Infrastructure", "Environment", "Application", "")


class Rule:
    """A rule reduced to what matching needs. Endpoints and applied-to are sets of group names
    (empty = any); services are protocol-port strings (empty = any)."""

    def __init__(self, name, action, sources=(), destinations=(), services=(), applied_to=(), disabled=False,
                 sources_excluded=False, destinations_excluded=False, where=""):
        self.name = name
        self.action = action.upper()
        self.sources = frozenset(sources)
        self.destinations = frozenset(destinations)
        self.services = tuple(services)
        self.applied_to = frozenset(applied_to)
        self.disabled = disabled
        self.sources_excluded = sources_excluded
        self.destinations_excluded = destinations_excluded
        self.where = where


def _port_in(port, ports):
    for part in ports.split(","):
        low, dummy, high = part.partition(":")
        if low.isdigit() and int(low) <= port <= int(high or low):
            return True
    return False


def service_matches(flow_service, rule_services):
    """Does a flow's service (``tcp/80``, ``icmp/8/0``, ``any``) fall under the rule's services?"""
    if not rule_services:
        return True
    if flow_service in ("", "any"):
        return False
    proto, dummy, rest = flow_service.partition("/")
    for service in rule_services:
        rproto, dummy, rrest = service.partition("/")
        if rproto != proto:
            continue
        if proto in ("tcp", "udp"):
            if rest.isdigit() and _port_in(int(rest), rrest):
                return True
        elif not rrest or rrest == rest or rest.startswith(rrest + "/"):
            return True
    return False


def _endpoint(member, members, excluded):
    hit = not members or member in members
    return not hit if (excluded and members) else hit


def evaluate(rules, flow, default_action="ALLOW", default_name="default rule"):
    """(verdict, rule name, where) for ``flow = (source, destination, service)``."""
    source, destination, service = flow
    for rule in rules:
        if rule.disabled:
            continue
        if rule.applied_to and source not in rule.applied_to and destination not in rule.applied_to:
            continue
        if not _endpoint(source, rule.sources, rule.sources_excluded):
            continue
        if not _endpoint(destination, rule.destinations, rule.destinations_excluded):
            continue
        if not service_matches(service, rule.services):
            continue
        return ("allow" if rule.action == "ALLOW" else "deny"), rule.name, rule.where
    return ("allow" if default_action.upper() == "ALLOW" else "deny"), default_name, "default"
