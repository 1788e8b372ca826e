# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lockdown guard of ``prisma_namespace``: no switch of a namespace's default actions that would
block what its workloads were seen doing.

Before a task changes a namespace's default incoming or outgoing action (leaving discovery mode:
Allow to Reject), the guard reads the flows the namespace's enforcers observed over a window
(``observed.observed_flows``) and decides each one on the rules the namespace would then hold:
what it holds now, with the default actions the task sets (``flows.read_policy`` overrides).
Only the sides of the namespace's own processing units are decided: the other end of a flow is
another namespace's business, or no enforcer's. Any flow that would be rejected stops the task
before its first write, in check mode too, naming each flow; ``force`` writes anyway and says so.
The flows a review decided to block (``expect_blocked``, the selectors of ``prisma_flow_info``'s
``exclude``) are expected to be rejected: they are counted and named in the result, not refused.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.microseg.segmentation.plugins.module_utils._core.checkmode import warn
from ansible_collections.microseg.segmentation.plugins.module_utils._core.flowcheck import parse_service
from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import ReconcileError
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.common import PrismaObjectModule
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.flows import (
    ALLOW,
    DESTINATION,
    SOURCE,
    Peer,
    read_policy,
)
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.kinds import NAMESPACE, OBJECTS, NamespaceAdapter
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.observed import Endpoints, check_window, endpoint_text, observed_flows
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.proposal import check_excludes

DEFAULT_ACTIONS = ("defaultPUIncomingTrafficAction", "defaultPUOutgoingTrafficAction")
SHOWN = 20


class LockdownRefused(ReconcileError):
    """The guard found observed flows the new default actions would block."""

    def __init__(self, message, blocked):
        super(LockdownRefused, self).__init__(message)
        self.blocked = blocked

    def to_result(self):
        return {"msg": str(self), "blocked": self.blocked}


def _inside(namespace, base):
    return namespace == base or (namespace or "").startswith(base.rstrip("/") + "/")


def _end(policy_units, endpoint):
    """The processing unit (or the outside peer) an example end of an observed flow is."""
    if endpoint.get("type") == "processing_unit" and endpoint.get("id") in policy_units:
        return policy_units[endpoint["id"]]
    address = endpoint.get("address")
    return Peer(address=address) if address else None


def blocked_flows(policy, flows, base):
    """The observed flows the policy would reject on a side of a unit of ``base`` (or below)."""
    units = Endpoints(policy).units
    blocked = []
    for flow in flows:
        source = _end(units, flow["examples"]["source"])
        destination = _end(units, flow["examples"]["destination"])
        try:
            service = parse_service(flow["service"])
        except ValidationError:
            service = None
        reasons = []
        sides = []
        if source is not None and hasattr(source, "tags") and _inside(source.namespace, base):
            sides.append((source, destination, SOURCE, "the source's outgoing rules"))
        if destination is not None and hasattr(destination, "tags") and _inside(destination.namespace, base):
            sides.append((destination, source, DESTINATION, "the destination's incoming rules"))
        for unit, peer, side, words in sides:
            if service is None or peer is None:
                reasons.append("%s cannot be evaluated (%s)" % (words, "protocol %s" % flow["protocol"] if service is None else "unknown peer"))
                continue
            action, decisions, dummy = policy.side(unit, peer, service, side)
            if action != ALLOW:
                reasons.append("rejected by %s (%s)" % (words, "; ".join(d.label() for d in decisions) or "default"))
        if reasons:
            blocked.append({
                "source": endpoint_text(flow["source"]), "destination": endpoint_text(flow["destination"]),
                "service": flow["service"], "count": flow["count"], "last_seen": flow["last_seen"], "reason": "; ".join(reasons),
                "flow": flow,
            })
    return blocked


def check_guard(guard, option):
    """The ``lockdown_guard`` option, checked before any request: its window and its ``expect_blocked`` selectors."""
    check_window(guard.get("window") or "7d", option + ".window")
    check_excludes(guard.get("expect_blocked") or [], option + ".expect_blocked")


def check_lockdown(connection, namespace, new_actions, guard):
    """Run the guard (the ``lockdown_guard`` option) for ``namespace`` about to take ``new_actions``
    (its default-action attributes).

    Returns the warnings to give: the flows blocked as the review expects, and those ``force`` let
    through; raises :class:`LockdownRefused` when other flows would be blocked."""
    window = guard.get("window") or "7d"
    expected = check_excludes(guard.get("expect_blocked") or [], "lockdown_guard.expect_blocked")
    policy = read_policy(connection, namespace, overrides={namespace: new_actions})
    flows = observed_flows(connection, namespace, policy, window)
    found = blocked_flows(policy, flows, namespace)
    blocked = [b for b in found if not any(e.matches(b["flow"], None, None) for e in expected)]
    warnings = []
    expected_blocked = [b for b in found if b not in blocked]
    if expected_blocked:
        warnings.append("lockdown_guard: %d observed flow(s) will be blocked as expect_blocked says: %s" % (
            len(expected_blocked), "; ".join("%s -> %s %s" % (b["source"], b["destination"], b["service"]) for b in expected_blocked)))
    for entry in found:
        entry.pop("flow")
    if not blocked:
        return warnings
    lines = ["%s -> %s %s (%d seen, last %s): %s" % (b["source"], b["destination"], b["service"], b["count"], b["last_seen"], b["reason"])
             for b in blocked[:SHOWN]]
    more = " ...and %d more" % (len(blocked) - SHOWN) if len(blocked) > SHOWN else ""
    what = "namespace %s: its new default actions (%s) would block %d of the %d flows observed in the last %s" % (
        namespace, ", ".join("%s %s" % (k.replace("defaultPU", "").replace("TrafficAction", "").lower(), v) for k, v in sorted(new_actions.items())),
        len(blocked), len(flows), window)
    if guard.get("force"):
        return warnings + ["lockdown_guard.force: %s; switched anyway: %s%s" % (what, "; ".join(lines), more)]
    raise LockdownRefused("lockdown_guard: %s, so nothing was changed; allow them (or set lockdown_guard.force): %s%s"
                          % (what, "; ".join(lines), more), blocked)


def _guarded_rules(params, prefix, task):
    """The namespace kind's rules, then the ``lockdown_guard`` option's own checks (before any request)."""
    desired = NAMESPACE.rules(params, prefix, task)
    guard = params.get("lockdown_guard")
    if guard is not None:
        check_guard(guard, prefix + "lockdown_guard")
    return desired


class GuardedNamespaceAdapter(NamespaceAdapter):
    """The namespace adapter of ``prisma_namespace``: the guard runs on every update that changes a
    default action and has one, before the first write and in check mode too."""

    def prepare(self, changes):
        for change in changes:
            guard = change.values.get("lockdown_guard")
            if guard is None or change.action != "update" or not set(change.fields) & set(DEFAULT_ACTIONS):
                continue
            new_actions = dict((k, change.body[k]) for k in DEFAULT_ACTIONS if k in change.fields)
            for warning in check_lockdown(self.connection, change.existing["name"], new_actions, guard):
                warn(self, warning)


GUARDED_NAMESPACE = copy.copy(NAMESPACE)
GUARDED_NAMESPACE.rules = _guarded_rules


def namespace_module():
    """The runner of ``prisma_namespace``: the namespace kind (``_prisma/kinds.py``) with its guard."""
    return PrismaObjectModule(GUARDED_NAMESPACE, OBJECTS["namespace"][1], GuardedNamespaceAdapter)
