# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The flow-check contract shared by ``prisma_flow_check``, ``nsxt_flow_check`` and
``secure_workload_flow_check``.

Input: ``flows``, each ``{name, source, destination, service, expect}``, and
``fail_on_mismatch``. An endpoint is a string (the product's usual way of naming a peer) or a
mapping whose keys the product lists. A service is ``any``, ``tcp/<port>``, ``udp/<port>``,
``icmp``, ``icmp/<type>`` or ``icmp/<type>/<code>``.

A product provides a :class:`FlowCheck` subclass: which endpoint keys it takes, how to connect,
and ``load()``, which reads what the product holds (one paginated read per kind) and returns a
function that evaluates one flow into a :class:`Verdict`. Everything else lives here: the
argument spec, validation of every flow before any request, the per-flow results, the summary,
the printable table and the failure when a flow is not as expected.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.microseg.segmentation.plugins.module_utils._core.errors import MicrosegError
from ansible_collections.microseg.segmentation.plugins.module_utils._core.flow_report import render as render_report, write_report
from ansible_collections.microseg.segmentation.plugins.module_utils._core.runner import Runner
from ansible_collections.microseg.segmentation.plugins.module_utils._core.sources import read_validated
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError

VERDICTS = ("allow", "deny")
IP_PROTOCOLS = {"tcp": 6, "udp": 17, "icmp": 1, "icmp6": 58}


class FlowCheckError(MicrosegError):
    """Something the check cannot evaluate (an endpoint that selects no workload, say)."""


class NotThereYet(FlowCheckError):
    """What the flows need does not exist (a namespace, a group, a workspace). A real run fails with
    it, as with any FlowCheckError; in check mode an earlier task of the play may be about to create
    it, so the flows are not evaluated and the task is skipped with a warning."""


class Service:
    """A flow's service: ``proto`` is ``any``, ``tcp``, ``udp``, ``icmp`` or ``icmp6``; ``port`` for
    TCP/UDP; ``icmp_type`` and ``icmp_code`` (``None`` when not given) for ICMP."""

    __slots__ = ("proto", "port", "icmp_type", "icmp_code")

    def __init__(self, proto, port=None, icmp_type=None, icmp_code=None):
        self.proto = proto
        self.port = port
        self.icmp_type = icmp_type
        self.icmp_code = icmp_code

    @property
    def is_any(self):
        return self.proto == "any"

    def __str__(self):
        if self.proto in ("tcp", "udp"):
            return "%s/%d" % (self.proto, self.port)
        if self.proto.startswith("icmp"):
            parts = [self.proto] + [str(v) for v in (self.icmp_type, self.icmp_code) if v is not None]
            return "/".join(parts)
        return "any"

    def __eq__(self, other):
        return isinstance(other, Service) and str(self) == str(other)

    def __hash__(self):
        return hash(str(self))


def _number(text, low, high, option, what):
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValidationError(option, "%r: the %s must be a number from %d to %d" % (text, what, low, high))
    return int(text)


def parse_service(value, option="service"):
    """A :class:`Service` from ``any``, ``tcp/80``, ``udp/53``, ``icmp``, ``icmp/8`` or ``icmp/8/0``."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(option, "a service such as tcp/80, udp/53, icmp/8/0 or any is expected, got %r" % (value,))
    text = value.strip().lower()
    if text == "any":
        return Service("any")
    parts = text.split("/")
    proto = parts[0]
    if proto in ("tcp", "udp"):
        if len(parts) != 2:
            raise ValidationError(option, "%r: a %s flow names one port, such as %s/443" % (value, proto, proto))
        return Service(proto, port=_number(parts[1], 1, 65535, option, "port"))
    if proto in ("icmp", "icmp6"):
        if len(parts) > 3:
            raise ValidationError(option, "%r: write icmp, icmp/<type> or icmp/<type>/<code>" % value)
        icmp_type = _number(parts[1], 0, 255, option, "ICMP type") if len(parts) > 1 else None
        icmp_code = _number(parts[2], 0, 255, option, "ICMP code") if len(parts) > 2 else None
        return Service(proto, icmp_type=icmp_type, icmp_code=icmp_code)
    raise ValidationError(option, "%r: the protocol must be tcp, udp, icmp, icmp6 or the word any" % value)


def _codes_include(spec, code):
    """Does ``0,1,3:5`` include ``code``?"""
    for part in spec.split(","):
        low, dummy, high = part.partition(":")
        if low.isdigit() and int(low) <= code <= int(high or low):
            return True
    return False


def port_spec_matches(service, spec):
    """Does one protocol-port entry (``any``, ``tcp/80``, ``tcp/1:1024``, ``udp/53,5353``,
    ``icmp``, ``icmp/3``, ``icmp/3/0,1,3:5``, ``6/80`` for a protocol number) cover ``service``?

    A flow whose service is ``any`` is covered only by an entry for every protocol, so a flow
    written without a service proves what a rule allows for all traffic, not for some of it.
    """
    spec = spec.strip().lower()
    if spec == "any":
        return True
    if service.is_any:
        return False
    proto, dummy, rest = spec.partition("/")
    if proto.isdigit():
        if int(proto) != IP_PROTOCOLS.get(service.proto):
            return False
    elif proto == "icmpv6" or proto == "ipv6-icmp":
        if service.proto != "icmp6":
            return False
    elif proto != service.proto:
        return False
    if service.proto in ("tcp", "udp"):
        return not rest or _codes_include(rest, service.port)
    # ICMP: no type in the rule covers every type; a type without codes covers every code.
    if not rest:
        return True
    rule_type, dummy, rule_codes = rest.partition("/")
    if service.icmp_type is None or not rule_type.isdigit() or int(rule_type) != service.icmp_type:
        return False
    if not rule_codes:
        return True
    return service.icmp_code is not None and _codes_include(rule_codes, service.icmp_code)


def ports_match(service, specs):
    """Does any entry of ``specs`` cover ``service``? An empty list covers nothing."""
    return any(port_spec_matches(service, spec) for spec in specs or ())


class Decision:
    """One rule that took part in a verdict: ``side`` is ``source`` or ``destination`` (products
    that enforce on both ends), or ``policy`` (products with one rule table); ``rule`` is the
    product's own name for it, ``id`` its identifier, ``where`` what holds it (a ruleset, a
    section, a workspace), ``action`` what it does, ``default`` true for a default action."""

    def __init__(self, side, action, rule, rule_id=None, where=None, default=False):
        self.side = side
        self.action = action
        self.rule = rule
        self.rule_id = rule_id
        self.where = where
        self.default = default

    def as_dict(self):
        return dict(side=self.side, action=self.action, rule=self.rule, id=self.rule_id, where=self.where, default=self.default)

    def label(self):
        text = self.rule if not self.where or self.where == self.rule else "%s/%s" % (self.where, self.rule)
        return "%s:%s" % (self.side, text) if self.side != "policy" else text


class Verdict:
    """The outcome of one flow: ``verdict`` (``allow`` or ``deny``), the :class:`Decision` list
    that decided it and a short ``reason``."""

    def __init__(self, verdict, decisions, reason=""):
        if verdict not in VERDICTS:
            raise ValueError("verdict must be allow or deny, got %r" % (verdict,))
        self.verdict = verdict
        self.decisions = list(decisions)
        self.reason = reason


class Flow:
    """A validated flow: ``source`` and ``destination`` are dicts of the product's endpoint keys;
    ``location`` is where it was declared (``flows[3]``, or ``<file>[3]`` from ``src``)."""

    def __init__(self, index, name, source, destination, service, expect, raw, location=None):
        self.index = index
        self.location = location or "flows[%d]" % index
        self.name = name
        self.source = source
        self.destination = destination
        self.service = service
        self.expect = expect
        self.raw = raw


def flow_spec():
    """The options of one flow (an entry of ``flows``, or of a file ``src`` names)."""
    return dict(
        name=dict(type="str"),
        source=dict(type="raw", required=True),
        destination=dict(type="raw", required=True),
        service=dict(type="str", default="any"),
        expect=dict(type="str", choices=list(VERDICTS)),
    )


def flow_argument_spec():
    """The ``flows``, ``src``, ``fail_on_mismatch`` and ``report`` options (documented in the ``flow_check`` fragment)."""
    return dict(
        flows=dict(type="list", elements="dict", options=flow_spec()),
        src=dict(type="list", elements="path"),
        fail_on_mismatch=dict(type="bool", default=True),
        report=dict(type="path"),
    )


def _value_text(value):
    if isinstance(value, dict):
        return ",".join("%s=%s" % (k, _value_text(value[k])) for k in sorted(value))
    if isinstance(value, (list, tuple)):
        return ",".join(_value_text(v) for v in value)
    return str(value)


def _endpoint_text(endpoint):
    """An endpoint as one short string: its only value, else ``key=value`` pairs (nested mappings and
    lists flattened the same way), for default flow names and the table."""
    if len(endpoint) == 1:
        return _value_text(list(endpoint.values())[0])
    return " ".join("%s=%s" % (k, _value_text(endpoint[k])) for k in sorted(endpoint))


def format_table(results):
    """Aligned text lines, one per flow, for ``debug`` output and reports."""
    header = ("flow", "source", "destination", "service", "verdict", "expected", "decided by")
    rows = [header]
    for r in results:
        mark = "-" if r["expect"] is None else (r["expect"] + (" ok" if r["as_expected"] else " MISMATCH"))
        rows.append((r["name"], r["source_text"], r["destination_text"], r["service"], r["verdict"], mark,
                     "; ".join(d["label"] for d in r["decided_by"]) or "-"))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header) - 1)]
    lines = []
    for row in rows:
        lines.append("  ".join(str(v).ljust(widths[i]) for i, v in enumerate(row[:-1])) + "  " + str(row[-1]))
    return lines


class FlowCheck(Runner):
    """What a product's flow-check module declares; ``run()`` (the shared :class:`Runner`) does the rest.

    Subclasses set ``endpoint_keys`` (the keys an endpoint mapping may have), ``string_key`` (what
    a plain string endpoint means), and implement ``connection_spec()``, ``connect(params)`` and
    ``load(connection, params, flows)``. ``load`` reads the product once and returns a callable
    ``evaluate(flow) -> Verdict``; it raises :class:`FlowCheckError` for what it cannot evaluate.
    ``validate_endpoint(endpoint, option)`` may check an endpoint further before any request.
    """

    endpoint_keys = ()
    string_key = None
    extra_spec = {}
    # set by ``execute`` before ``load``: a loader raises NotThereYet for missing objects it can only
    # tell apart with extra reads (a Prisma namespace) when this is true
    check_mode = False
    # the flow report's header: the product's name and report_context(params)
    product = None

    def report_context(self, params):
        """Hook: ``[(label, value), ...]`` saying where the check looked, for the report's header."""
        return []

    def with_report(self, module, result, checked_at):
        """With ``report``, write the HTML report (in check mode too: it is a local file, the product is
        only read) and return its path in the result."""
        if not module.params.get("report"):
            return result
        name = getattr(module, "_name", None)
        text = render_report(result, self.product or name, self.report_context(module.params), checked_at, name)
        return dict(result, report=write_report(module.params["report"], text))

    def connection_spec(self):
        raise NotImplementedError

    def connect(self, params):
        raise NotImplementedError

    def load(self, connection, params, flows):
        raise NotImplementedError

    def validate_endpoint(self, endpoint, option):
        """Hook: check one endpoint mapping; raise ValidationError naming ``option``."""

    def check_task(self, params):
        """Hook: validate task-level options before any request."""

    def argument_spec(self):
        spec = self.connection_spec()
        spec.update(dict(self.extra_spec))
        spec.update(flow_argument_spec())
        return spec

    def parse_endpoint(self, value, option):
        if isinstance(value, str):
            if not value.strip():
                raise ValidationError(option, "must not be empty")
            endpoint = {self.string_key: value.strip()}
        elif isinstance(value, dict):
            unknown = sorted(set(value) - set(self.endpoint_keys))
            if unknown:
                raise ValidationError(option, "unknown key(s) %s; an endpoint takes %s" % (
                    ", ".join(unknown), ", ".join(self.endpoint_keys)))
            endpoint = dict((k, v) for k, v in value.items() if v is not None)
            if not endpoint:
                raise ValidationError(option, "an endpoint needs one of %s" % ", ".join(self.endpoint_keys))
        else:
            raise ValidationError(option, "a string or a mapping is expected, got %s" % type(value).__name__)
        self.validate_endpoint(endpoint, option)
        return endpoint

    def parse_flows(self, values, located=()):
        """The :class:`Flow` of each inline flow (``values``), then of each ``(location, flow)`` read from ``src``."""
        flows, names = [], set()
        entries = [("flows[%d]" % index, raw) for index, raw in enumerate(values or [])] + list(located)
        for index, (path, raw) in enumerate(entries):
            source = self.parse_endpoint(raw["source"], path + ".source")
            destination = self.parse_endpoint(raw["destination"], path + ".destination")
            service = parse_service(raw.get("service") or "any", path + ".service")
            name = raw.get("name") or "%s -> %s %s" % (_endpoint_text(source), _endpoint_text(destination), service)
            if raw.get("name"):
                if name in names:
                    raise ValidationError(path + ".name", "%r names two flows" % name)
                names.add(name)
            flows.append(Flow(index, name, source, destination, service, raw.get("expect"), raw, path))
        return flows

    @staticmethod
    def result_of(flow, verdict):
        decided = []
        for decision in verdict.decisions:
            item = decision.as_dict()
            item["label"] = decision.label()
            decided.append(item)
        return dict(
            name=flow.name, source=flow.raw["source"], destination=flow.raw["destination"], service=str(flow.service),
            source_text=_endpoint_text(flow.source), destination_text=_endpoint_text(flow.destination),
            expect=flow.expect, verdict=verdict.verdict, reason=verdict.reason,
            as_expected=None if flow.expect is None else flow.expect == verdict.verdict, decided_by=decided,
        )

    def evaluate_all(self, evaluate, flows):
        results = []
        for flow in flows:
            try:
                verdict = evaluate(flow)
            except FlowCheckError as exc:
                raise FlowCheckError("%s (%s): %s" % (flow.location, flow.name, exc)) from None
            results.append(self.result_of(flow, verdict))
        return results

    @staticmethod
    def summarise(results):
        checked = [r for r in results if r["as_expected"] is not None]
        mismatches = [r for r in checked if not r["as_expected"]]
        good = len(checked) - len(mismatches)
        return dict(
            flows=results, mismatches=mismatches, table=format_table(results),
            summary="%d/%d flows as expected" % (good, len(checked)),
            counts=dict(total=len(results), checked=len(checked), as_expected=good, mismatched=len(mismatches),
                        allowed=sum(1 for r in results if r["verdict"] == "allow")),
        )

    @staticmethod
    def mismatch_message(summary):
        parts = []
        for r in summary["mismatches"]:
            parts.append("%s: expected %s, got %s (decided by %s)" % (
                r["name"], r["expect"], r["verdict"], "; ".join(d["label"] for d in r["decided_by"]) or "nothing"))
        return "%s; %d not: %s" % (summary["summary"], len(parts), " | ".join(parts))

    def prepare(self, module):
        """Every flow validated before any request: those of ``flows``, then those of the files ``src`` names."""
        self.check_task(module.params)
        if module.params["flows"] is None and module.params["src"] is None:
            raise ValidationError("flows", "give the flows to check, in flows or in files named by src")
        return self.parse_flows(module.params["flows"], read_validated(module, "name", flow_spec()))

    def not_evaluated(self, flows, reason):
        """The result of a check-mode run that cannot evaluate the flows (:class:`NotThereYet`):
        skipped, with a warning, and every key the module returns, empty."""
        warning = "%s: the flows were not evaluated (check mode: an earlier task of the play would create what is missing)" % reason
        return dict(
            skipped=True, msg="not evaluated in check mode: %s" % reason, warnings=[warning],
            flows=[], mismatches=[], table=[], summary="not evaluated in check mode",
            counts=dict(total=len(flows), checked=0, as_expected=0, mismatched=0, allowed=0),
        )

    def execute(self, module, connection, prepared):
        # ``load`` may tell missing objects apart (NotThereYet) only where it is asked to
        self.check_mode = module.check_mode
        checked_at = datetime.datetime.now(datetime.timezone.utc)
        try:
            evaluate = self.load(connection, module.params, prepared)
        except NotThereYet as exc:
            if not module.check_mode:
                raise
            return self.with_report(module, self.not_evaluated(prepared, str(exc)), checked_at)
        summary = self.with_report(module, self.summarise(self.evaluate_all(evaluate, prepared)), checked_at)
        if summary["mismatches"] and module.params["fail_on_mismatch"]:
            return dict(summary, failed=True, msg=self.mismatch_message(summary))
        return summary
