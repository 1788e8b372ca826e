# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The flow report of the flow-check modules: one self-contained HTML page (inline CSS, no script,
no external resource, a Content-Security-Policy that allows none) drawn from a flow-check result.

The page has a header (product, where the check looked, when, the summary), a legend, one matrix per
service (sources as rows, destinations as columns; each flow a link coloured by its verdict, marked
when it is not what the flow expects, its deciding rules in the link's ``title``), then every flow
in a table with its deciding rules written out (the same information without hovering).

Hooks for tests and readers: each matrix is ``table.matrix`` with ``data-service``; each flow in a
matrix is ``a.flow`` with the class ``allow`` or ``deny`` and one of ``mismatch``, ``expected`` or
``unasserted``, and ``data-flow`` (its name); the list below is ``table.flows`` with one
``tr.flow-row`` per flow.

:func:`render` builds the page; :func:`write_report` writes it atomically (a temporary file in the
target directory, then a rename), creating missing directories.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile
from html import escape

from urllib.parse import urlsplit, urlunsplit

from ansible_collections.microseg.segmentation.plugins.module_utils._core.errors import MicrosegError

VERDICT_WORDS = {"allow": "allowed", "deny": "denied"}

# Colours the integration test looks for in the screenshot (keep them in step with tests/integration/test_flow_report.py).
ALLOW_COLOUR = "#a8e0b5"
DENY_COLOUR = "#f2a7a7"
MISMATCH_COLOUR = "#6a1b9a"

CSS = """
:root { color-scheme: light; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; margin: 20px 24px; color: #1b1f23;
       background: #ffffff; font-size: 14px; }
header { border-bottom: 3px solid #34495e; padding-bottom: 10px; margin-bottom: 12px; }
h1 { font-size: 22px; margin: 0 0 8px; }
h2 { font-size: 17px; margin: 18px 0 6px; }
h2 small { font-weight: normal; color: #555; font-size: 13px; }
dl.context { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0 0 10px; }
dl.context dt { font-weight: bold; color: #4a5560; }
dl.context dd { margin: 0; overflow-wrap: anywhere; }
.banner { padding: 8px 12px; font-weight: bold; border-radius: 4px; margin: 6px 0 0; }
.banner.good { background: #e6f4ea; border-left: 6px solid #1e7b34; }
.banner.bad { background: #f9e0ee; border-left: 6px solid MISMATCH; color: #4a0d6b; }
.banner.info { background: #eef1f6; border-left: 6px solid #5b6b7f; }
.legend ul { list-style: none; display: flex; flex-wrap: wrap; gap: 6px 22px; padding: 0; margin: 6px 0 4px; }
.legend li { display: flex; align-items: center; gap: 6px; }
.swatch { display: inline-block; width: 26px; height: 18px; border: 1px solid #7a848e; }
.swatch.mismatch { background: #ffffff; outline: 3px solid MISMATCH; outline-offset: -4px; }
.swatch.empty { background: #f4f5f6; }
.hint { color: #555; font-size: 12px; margin: 2px 0 10px; }
table { border-collapse: collapse; }
table.matrix { margin: 4px 0 18px; }
table.matrix caption { text-align: left; color: #555; font-size: 12px; padding-bottom: 4px; }
table.matrix th, table.matrix td { border: 1px solid #9aa5b1; padding: 5px 7px; }
table.matrix th { background: #eef1f4; text-align: left; font-size: 12px; max-width: 260px; overflow-wrap: anywhere; }
table.matrix th.corner { color: #555; font-weight: normal; font-style: italic; }
td.cell { min-width: 110px; height: 38px; text-align: center; vertical-align: middle; }
td.cell.empty { background: #f4f5f6; color: #8a939b; }
td.cell.mixed { background: linear-gradient(135deg, ALLOW 50%, DENY 50%); }
td.cell.mismatch { outline: 4px solid MISMATCH; outline-offset: -4px; }
.allow { background: ALLOW; }
.deny { background: DENY; }
a.flow { display: block; margin: 2px 0; padding: 2px 4px; border-radius: 3px; text-decoration: none; font-weight: bold;
         color: #1b1f23; }
a.flow:focus, a.flow:hover { outline: 2px solid #1b1f23; }
a.flow .mark { display: block; margin-top: 2px; padding: 1px 4px; border-radius: 3px; font-size: 11px;
               background: MISMATCH; color: #ffffff; }
a.flow .note { display: block; font-size: 11px; font-weight: normal; font-style: italic; }
table.flows th, table.flows td { border: 1px solid #c3cad1; padding: 4px 6px; vertical-align: top; text-align: left; }
table.flows th { background: #eef1f4; }
table.flows td { overflow-wrap: anywhere; max-width: 320px; }
tr.flow-row.mismatch td:first-child { border-left: 6px solid MISMATCH; }
td.expect.mismatch { color: #4a0d6b; font-weight: bold; }
ul.rules { margin: 0; padding-left: 16px; }
footer { margin-top: 18px; color: #6a737d; font-size: 12px; }
""".replace("ALLOW", ALLOW_COLOUR).replace("DENY", DENY_COLOUR).replace("MISMATCH", MISMATCH_COLOUR)

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; form-action 'none'; base-uri 'none'"


class ReportError(MicrosegError):
    """The report cannot be written (the task fails, naming the path)."""


def _e(value):
    """Text (any value) escaped for HTML text and attribute values alike."""
    return escape("" if value is None else u"%s" % (value,), quote=True)


def _heading(value):
    """An endpoint escaped for a row or column heading, with line-break opportunities after commas and spaces."""
    return _e(value).replace(",", ",<wbr>")


def public_url(url):
    """``url`` without user information, query or fragment, for the report's header."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if not parts.netloc:
        return url.split("?", 1)[0].split("#", 1)[0]
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _service_groups(flows):
    """``[(service, [(number, flow), ...]), ...]`` in the order the services first appear."""
    groups, order = {}, []
    for number, flow in enumerate(flows, 1):
        service = flow.get("service") or "any"
        if service not in groups:
            groups[service] = []
            order.append(service)
        groups[service].append((number, flow))
    return [(service, groups[service]) for service in order]


def _unique(values):
    seen, out = set(), []
    for value in values:
        if value not in seen:
            seen.add(value)
            out.append(value)
    return out


def flow_state(flow):
    """``mismatch``, ``expected`` or ``unasserted`` (no expectation)."""
    if flow.get("expect") is None or flow.get("as_expected") is None:
        return "unasserted"
    return "expected" if flow["as_expected"] else "mismatch"


def decision_text(decision):
    """One deciding rule as one line: label, action, id, default."""
    text = "%s: %s" % (decision.get("action") or "?", decision.get("label") or decision.get("rule") or "?")
    extras = []
    if decision.get("id"):
        extras.append("id %s" % decision["id"])
    if decision.get("where") and decision.get("where") not in (decision.get("label") or ""):
        extras.append("in %s" % decision["where"])
    if decision.get("default"):
        extras.append("default action")
    return text + (" (%s)" % ", ".join(extras) if extras else "")


def _expect_text(flow):
    state = flow_state(flow)
    if state == "unasserted":
        return "no expectation"
    if state == "expected":
        return "expected %s: as expected" % flow["expect"]
    return "expected %s: MISMATCH" % flow["expect"]


def flow_tooltip(flow):
    """The hover text of a flow: what it is, its verdict against the expectation, the deciding rules."""
    lines = [
        u"%s" % flow.get("name"),
        u"%s -> %s  %s" % (flow.get("source_text"), flow.get("destination_text"), flow.get("service")),
        u"verdict: %s (%s)" % (flow.get("verdict"), _expect_text(flow)),
    ]
    decisions = flow.get("decided_by") or []
    if decisions:
        lines.append("decided by:")
        lines.extend("  " + decision_text(d) for d in decisions)
    else:
        lines.append("decided by: nothing")
    if flow.get("reason"):
        lines.append(u"reason: %s" % flow["reason"])
    return "\n".join(lines)


def _flow_link(number, flow):
    verdict = flow.get("verdict")
    state = flow_state(flow)
    body = _e(verdict)
    if state == "mismatch":
        body += '<span class="mark">MISMATCH: expected %s</span>' % _e(flow["expect"])
    elif state == "unasserted":
        body += '<span class="note">no expectation</span>'
    return '<a class="flow %s %s" href="#flow-%d" data-flow="%s" title="%s">%s</a>' % (
        _e(verdict), state, number, _e(flow.get("name")), _e(flow_tooltip(flow)), body)


def _cell(items):
    if not items:
        return '<td class="cell empty" title="no flow checked">&#8211;</td>'
    verdicts = set(flow.get("verdict") for dummy, flow in items)
    classes = ["cell", verdicts.pop() if len(verdicts) == 1 else "mixed"]
    if any(flow_state(flow) == "mismatch" for dummy, flow in items):
        classes.append("mismatch")
    return '<td class="%s">%s</td>' % (" ".join(_e(c) for c in classes), "".join(_flow_link(n, f) for n, f in items))


def _matrix(index, service, items):
    sources = _unique(flow.get("source_text") for dummy, flow in items)
    destinations = _unique(flow.get("destination_text") for dummy, flow in items)
    cells = {}
    for number, flow in items:
        cells.setdefault((flow.get("source_text"), flow.get("destination_text")), []).append((number, flow))
    mismatched = sum(1 for dummy, flow in items if flow_state(flow) == "mismatch")
    out = ['<section class="service" id="service-%d">' % index,
           '<h2>Service %s <small>%d flow%s, %d source%s, %d destination%s%s</small></h2>' % (
               _e(service), len(items), "" if len(items) == 1 else "s", len(sources), "" if len(sources) == 1 else "s",
               len(destinations), "" if len(destinations) == 1 else "s",
               ", %d not as expected" % mismatched if mismatched else ""),
           '<table class="matrix" data-service="%s">' % _e(service),
           '<caption>Rows: sources. Columns: destinations. Service %s.</caption>' % _e(service),
           '<thead><tr><th class="corner" scope="col">source \\ destination</th>']
    out.extend('<th class="dst" scope="col">%s</th>' % _heading(d) for d in destinations)
    out.append('</tr></thead><tbody>')
    for source in sources:
        out.append('<tr><th class="src" scope="row">%s</th>' % _heading(source))
        out.extend(_cell(cells.get((source, destination), [])) for destination in destinations)
        out.append('</tr>')
    out.append('</tbody></table></section>')
    return "\n".join(out)


def _flow_rows(flows):
    out = ['<section class="list" id="flows"><h2>Every flow and the rules that decided it</h2>',
           '<table class="flows"><thead><tr><th scope="col">#</th><th scope="col">flow</th><th scope="col">source</th>'
           '<th scope="col">destination</th><th scope="col">service</th><th scope="col">verdict</th>'
           '<th scope="col">expected</th><th scope="col">decided by</th><th scope="col">reason</th></tr></thead><tbody>']
    for number, flow in enumerate(flows, 1):
        state = flow_state(flow)
        decisions = flow.get("decided_by") or []
        rules = ('<ul class="rules">%s</ul>' % "".join("<li>%s</li>" % _e(decision_text(d)) for d in decisions)
                 if decisions else "nothing")
        out.append(
            '<tr class="flow-row %s" id="flow-%d"><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>'
            '<td class="verdict %s">%s</td><td class="expect %s">%s</td><td>%s</td><td>%s</td></tr>' % (
                state, number, number, _e(flow.get("name")), _e(flow.get("source_text")), _e(flow.get("destination_text")),
                _e(flow.get("service")), _e(flow.get("verdict")), _e(flow.get("verdict")), state, _e(_expect_text(flow)),
                rules, _e(flow.get("reason") or "")))
    out.append('</tbody></table></section>')
    return "\n".join(out)


LEGEND = (
    '<section class="legend" aria-label="legend"><ul>'
    '<li><span class="swatch allow"></span>allowed</li>'
    '<li><span class="swatch deny"></span>denied</li>'
    '<li><span class="swatch mismatch"></span>MISMATCH: the verdict is not the one the flow expects</li>'
    '<li><span class="swatch empty"></span>no flow checked for this pair</li>'
    '<li><span><i>no expectation</i>: the flow is reported, not asserted</span></li>'
    '</ul><p class="hint">Hover a verdict (or focus it with the keyboard) for the rules that decided it; '
    'each verdict links to its row in the list below.</p></section>'
)


def render(result, product, context=(), checked_at=None, module=None):
    """The report page (a ``str``) of a flow-check ``result`` (its ``flows`` and ``summary``; a check-mode
    result that was not evaluated has ``skipped`` and ``msg``).

    ``product`` names the product; ``context`` is ``[(label, value), ...]`` saying where the check looked
    (endpoint, namespace, scope...; values of ``None`` are left out); ``checked_at`` an aware
    ``datetime``; ``module`` the module's name for the footer.
    """
    flows = list(result.get("flows") or [])
    context = [(label, value) for label, value in context if value not in (None, "")]
    rows = [("Product", _e(product))] + [(label, _e(value)) for label, value in context]
    if checked_at is not None:
        rows.append(("Checked at", '<time datetime="%s">%s</time>' % (
            _e(checked_at.isoformat()), _e(checked_at.strftime("%Y-%m-%d %H:%M:%S %Z").strip()))))
    allowed = sum(1 for f in flows if f.get("verdict") == "allow")
    checked = sum(1 for f in flows if flow_state(f) != "unasserted")
    mismatched = sum(1 for f in flows if flow_state(f) == "mismatch")
    title = "Flow check: %s" % " / ".join(u"%s" % v for v in [product] + [value for dummy, value in context])

    out = ['<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">',
           '<meta http-equiv="Content-Security-Policy" content="%s">' % _e(CSP),
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           '<meta name="generator" content="%s">' % _e(module or "microseg.segmentation flow check"),
           '<title>%s</title>' % _e(title), '<style>%s</style>' % CSS, '</head>', '<body>',
           '<header>', '<h1>Flow check: %s</h1>' % _e(product), '<dl class="context">']
    out.extend('<dt>%s</dt><dd>%s</dd>' % (_e(label), html) for label, html in rows)
    if result.get("skipped"):
        out.append('<dt>Result</dt><dd>not evaluated</dd></dl>')
        out.append('<p class="banner info" role="status">%s</p>' % _e(result.get("msg") or "not evaluated"))
    else:
        out.append('<dt>Result</dt><dd>%s; %d flow%s: %d allowed, %d denied</dd></dl>' % (
            _e(result.get("summary") or ""), len(flows), "" if len(flows) == 1 else "s", allowed, len(flows) - allowed))
        if mismatched:
            out.append('<p class="banner bad" role="alert">%d flow%s not as expected (marked MISMATCH below)</p>' % (
                mismatched, " is" if mismatched == 1 else "s are"))
        elif checked:
            out.append('<p class="banner good" role="status">Every flow with an expectation got it</p>')
        else:
            out.append('<p class="banner info" role="status">No flow has an expectation: verdicts are reported, not asserted</p>')
    out.append('</header>')
    if not result.get("skipped"):
        out.append(LEGEND)
        out.append('<main>')
        for index, (service, group) in enumerate(_service_groups(flows), 1):
            out.append(_matrix(index, service, group))
        out.append(_flow_rows(flows))
        out.append('</main>')
    out.append('<footer>Written by %s from what the product holds; the page has no script and loads nothing.</footer>' % _e(
        module or "the flow check"))
    out.extend(['</body>', '</html>', ''])
    return "\n".join(out)


def _umask():
    current = os.umask(0o022)
    os.umask(current)
    return current


def write_report(path, text):
    """Write ``text`` to ``path`` atomically (temporary file in the same directory, fsync, rename),
    creating the missing directories; returns the absolute path. Raises :class:`ReportError`."""
    path = os.path.abspath(os.path.expanduser(path))
    if os.path.isdir(path):
        raise ReportError("report: %s is a directory; give the path of the HTML file to write" % path)
    directory = os.path.dirname(path)
    tmp = None
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=directory)
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise ReportError("report: cannot write %s: %s" % (path, exc.strerror or exc)) from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    return path
