# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The flow report of the flow-check modules (plugins/module_utils/_core/flow_report.py and the
``report`` option of FlowCheck): the page's structure, escaping, mismatch marking, the atomic write,
and what ``execute`` returns and writes (check mode included)."""

import datetime
import os
import stat
from html.parser import HTMLParser

import pytest

from ansible_collections.microseg.segmentation.plugins.module_utils._core import flow_report
from ansible_collections.microseg.segmentation.plugins.module_utils._core.flow_report import ReportError, public_url, render, write_report
from ansible_collections.microseg.segmentation.plugins.module_utils._core.flowcheck import (
    Decision,
    FlowCheck,
    NotThereYet,
    Verdict,
    flow_argument_spec,
)

HOSTILE = '<script>alert("x")</script>'
WHEN = datetime.datetime(2025, 3, 4, 5, 6, 7, tzinfo=datetime.timezone.utc)


class Element:
    def __init__(self, tag, attrs, parent):
        self.tag = tag
        self.attrs = dict(attrs)
        self.parent = parent
        self.children = []
        self.text = []

    @property
    def classes(self):
        return set((self.attrs.get("class") or "").split())

    def all_text(self):
        return "".join(self.text + [c.all_text() for c in self.children])

    def iter(self, tag=None, cls=None):
        for child in self.children:
            if (tag is None or child.tag == tag) and (cls is None or cls in child.classes):
                yield child
            yield from child.iter(tag, cls)


class Tree(HTMLParser):
    """A small DOM: elements with attributes, children and text (void elements closed at once)."""

    VOID = {"meta", "br", "wbr", "link", "img", "input", "hr"}

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {}, None)
        self.current = self.root
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        element = Element(tag, attrs, self.current)
        self.current.children.append(element)
        if tag not in self.VOID:
            self.current = element

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        assert node is not self.root, "unbalanced </%s>" % tag
        self.current = node.parent

    def handle_data(self, data):
        self.current.text.append(data)


class _Check(FlowCheck):
    endpoint_keys = ("group",)
    string_key = "group"
    product = "Test product"

    def __init__(self, verdicts=None, missing=None):
        self.verdicts = verdicts or {}
        self.missing = missing

    def report_context(self, params):
        return [("Scope", params.get("scope")), ("Empty", None)]

    def load(self, connection, params, flows):
        if self.missing:
            raise NotThereYet(self.missing)

        def evaluate(flow):
            verdict = self.verdicts.get(flow.name, "deny")
            rule = Decision("policy", "ALLOW" if verdict == "allow" else "DROP", "rule <%s>" % flow.name, rule_id="id-&1", where="sec")
            return Verdict(verdict, [rule], reason="because & so")

        return evaluate


class FakeModule:
    def __init__(self, params, check_mode=False):
        self.params = dict(dict(fail_on_mismatch=True, report=None, scope="/acme"), **params)
        self.check_mode = check_mode
        self._name = "microseg.segmentation.test_flow_check"


FLOWS = [
    dict(name="a to b", source="a", destination="b", service="tcp/80", expect="allow"),
    dict(name="a to c", source="a", destination="c", service="tcp/80", expect="deny"),
    dict(name="b to c", source="b", destination="c", service="tcp/80", expect="allow"),
    dict(name=HOSTILE, source=HOSTILE, destination="c", service="udp/53", expect=None),
    dict(name="c to a", source="c", destination="a", service="tcp/80", expect="deny"),
]
VERDICTS = {"a to b": "allow", "a to c": "allow", "b to c": "deny", HOSTILE: "allow", "c to a": "deny"}


def _result(flows=None, verdicts=None, **params):
    check = _Check(verdicts if verdicts is not None else VERDICTS)
    module = FakeModule(dict(params, flows=flows if flows is not None else FLOWS))
    return check.execute(module, None, check.parse_flows(module.params["flows"]))


def _page(**kw):
    result = _result(fail_on_mismatch=False)
    return render(result, kw.pop("product", "Test product"), kw.pop("context", [("Scope", "/acme")]), WHEN,
                  "microseg.segmentation.test_flow_check")


def test_the_option_is_in_the_shared_argument_spec():
    assert flow_argument_spec()["report"] == dict(type="path")


def test_header_names_product_context_and_time():
    tree = Tree(_page(context=[("Scope", "/acme"), ("Workspace", None)]))
    header = next(tree.root.iter("header"))
    terms = [e.all_text() for e in header.iter("dt")]
    values = [e.all_text() for e in header.iter("dd")]
    assert terms == ["Product", "Scope", "Checked at", "Result"]
    assert values[:3] == ["Test product", "/acme", "2025-03-04 05:06:07 UTC"]
    assert next(header.iter("time")).attrs["datetime"] == "2025-03-04T05:06:07+00:00"
    assert values[3] == "2/4 flows as expected; 5 flows: 3 allowed, 2 denied"
    assert "2 flows are not as expected" in next(header.iter("p", "banner")).all_text()


def test_one_matrix_per_service_with_sources_as_rows_and_destinations_as_columns():
    tree = Tree(_page())
    matrices = list(tree.root.iter("table", "matrix"))
    assert [m.attrs["data-service"] for m in matrices] == ["tcp/80", "udp/53"]
    tcp = matrices[0]
    assert [th.all_text() for th in tcp.iter("th", "dst")] == ["b", "c", "a"]
    assert [th.all_text() for th in tcp.iter("th", "src")] == ["a", "b", "c"]
    rows = [list(tr.iter("td")) for tr in next(tcp.iter("tbody")).iter("tr")]
    assert [len(r) for r in rows] == [3, 3, 3]
    # a -> b allowed as expected; a -> c allowed, expected deny; b -> b no flow
    assert rows[0][0].classes == {"cell", "allow"}
    assert rows[0][1].classes == {"cell", "allow", "mismatch"}
    assert rows[1][0].classes == {"cell", "empty"}
    assert rows[1][1].classes == {"cell", "deny", "mismatch"}
    assert rows[2][2].classes == {"cell", "deny"}
    udp = matrices[1]
    assert [th.all_text() for th in udp.iter("th", "src")] == [HOSTILE]


def test_long_endpoint_headings_may_break_after_commas():
    flows = [dict(name="labels", source="app=web,env=prod", destination="b", service="tcp/80", expect="allow")]
    text = render(_result(flows=flows, verdicts={"labels": "allow"}), "p", [], WHEN)
    assert '<th class="src" scope="row">app=web,<wbr>env=prod</th>' in text
    assert [th.all_text() for th in Tree(text).root.iter("th", "src")] == ["app=web,env=prod"]


def test_flow_classes_count_as_the_result():
    result = _result(fail_on_mismatch=False)
    tree = Tree(render(result, "p", [], WHEN))
    links = list(tree.root.iter("a", "flow"))
    assert len(links) == result["counts"]["total"] == 5
    assert sum("allow" in a.classes for a in links) == result["counts"]["allowed"] == 3
    assert sum("deny" in a.classes for a in links) == 2
    assert sum("mismatch" in a.classes for a in links) == result["counts"]["mismatched"] == 2
    assert sum("unasserted" in a.classes for a in links) == 1
    assert sorted(a.attrs["data-flow"] for a in links if "mismatch" in a.classes) == ["a to c", "b to c"]


def test_a_mismatch_is_marked_in_words_not_only_colour():
    tree = Tree(_page())
    link = next(a for a in tree.root.iter("a", "flow") if a.attrs["data-flow"] == "a to c")
    assert "MISMATCH: expected deny" in link.all_text()
    assert "verdict: allow (expected deny: MISMATCH)" in link.attrs["title"]
    good = next(a for a in tree.root.iter("a", "flow") if a.attrs["data-flow"] == "a to b")
    assert "MISMATCH" not in good.all_text() and "as expected" in good.attrs["title"]
    legend = next(tree.root.iter("section", "legend")).all_text()
    for word in ("allowed", "denied", "MISMATCH", "no flow checked", "no expectation"):
        assert word in legend


def test_deciding_rules_on_hover_and_in_the_list():
    tree = Tree(_page())
    link = next(a for a in tree.root.iter("a", "flow") if a.attrs["data-flow"] == "a to b")
    assert link.attrs["href"] == "#flow-1"
    assert "decided by:\n  ALLOW: sec/rule <a to b> (id id-&1)" in link.attrs["title"]
    assert "reason: because & so" in link.attrs["title"]
    rows = list(tree.root.iter("tr", "flow-row"))
    assert [r.attrs["id"] for r in rows] == ["flow-%d" % n for n in range(1, 6)]
    first = [td.all_text() for td in rows[0].iter("td")]
    assert first[:7] == ["1", "a to b", "a", "b", "tcp/80", "allow", "expected allow: as expected"]
    assert [li.all_text() for li in rows[0].iter("li")] == ["ALLOW: sec/rule <a to b> (id id-&1)"]
    assert {r.attrs["id"] for r in rows if "mismatch" in r.classes} == {"flow-2", "flow-3"}


def test_hostile_names_are_text_never_markup():
    hostile_context = [("Scope", '"><script>alert(2)</script>'), ("Cluster", "x' onmouseover='y")]
    text = render(_result(fail_on_mismatch=False), "<b>product</b>", hostile_context, WHEN)
    assert "<script" not in text
    assert "<b>" not in text
    assert "onmouseover='" not in text
    tree = Tree(text)
    assert not list(tree.root.iter("script")) and not list(tree.root.iter("b"))
    assert HOSTILE in [a.attrs["data-flow"] for a in tree.root.iter("a", "flow")]
    assert tree.root.iter("h1") and next(tree.root.iter("h1")).all_text() == "Flow check: <b>product</b>"
    values = [e.all_text() for e in tree.root.iter("dd")]
    assert '"><script>alert(2)</script>' in values and "x' onmouseover='y" in values


def test_self_contained_no_script_no_external_resource():
    text = _page()
    tree = Tree(text)
    assert not list(tree.root.iter("script")) and not list(tree.root.iter("link")) and not list(tree.root.iter("img"))
    csp = [m for m in tree.root.iter("meta") if m.attrs.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0].attrs["content"]
    assert "http://" not in text and "https://" not in text and "url(" not in text and "@import" not in text
    assert text.startswith("<!DOCTYPE html>")


def test_the_not_evaluated_page_says_so():
    check = _Check(missing="namespace /acme/x does not exist yet")
    module = FakeModule(dict(flows=FLOWS[:1]), check_mode=True)
    result = check.execute(module, None, check.parse_flows(module.params["flows"]))
    tree = Tree(render(result, "p", [], WHEN))
    assert "namespace /acme/x does not exist yet" in next(tree.root.iter("p", "banner")).all_text()
    assert not list(tree.root.iter("table"))


def test_public_url_drops_credentials_and_query():
    assert public_url("https://user:secret@console.example:4443/api?token=x#y") == "https://console.example:4443/api"
    assert public_url("https://console.example") == "https://console.example"
    assert public_url("console.example:443") == "console.example:443"
    assert public_url(None) is None


def test_write_is_atomic_creates_directories_and_returns_the_path(tmp_path, monkeypatch):
    target = tmp_path / "a" / "b" / "report.html"
    assert write_report(str(target), "<p>one</p>") == str(target)
    assert target.read_text(encoding="utf-8") == "<p>one</p>"
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(str(target)).st_mode) == 0o666 & ~umask  # as a plain open() would create it
    calls = []
    real_replace = os.replace

    def replace(src, dst):
        calls.append((src, dst))
        assert os.path.dirname(src) == os.path.dirname(dst) and os.path.exists(src)
        assert target.read_text(encoding="utf-8") == "<p>one</p>"  # the old report stays until the rename
        real_replace(src, dst)

    monkeypatch.setattr(flow_report.os, "replace", replace)
    write_report(str(target), "<p>two</p>")
    assert len(calls) == 1 and target.read_text(encoding="utf-8") == "<p>two</p>"
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.html"]  # no temporary file left


def test_write_failures_name_the_path_and_leave_nothing(tmp_path, monkeypatch):
    with pytest.raises(ReportError) as info:
        write_report(str(tmp_path), "x")
    assert "is a directory" in str(info.value)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ReportError) as info:
        write_report(str(blocker / "report.html"), "x")
    assert str(info.value).startswith("report: cannot write %s" % (blocker / "report.html"))

    def fail(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(flow_report.os, "replace", fail)
    with pytest.raises(ReportError) as info:
        write_report(str(tmp_path / "r.html"), "x")
    assert "No space left on device" in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_execute_writes_the_report_even_when_flows_are_not_as_expected(tmp_path):
    path = tmp_path / "out" / "flows.html"
    result = _result(report=str(path))
    assert result["failed"] is True and "2 not" in result["msg"]
    assert result["report"] == str(path)
    tree = Tree(path.read_text(encoding="utf-8"))
    assert next(tree.root.iter("h1")).all_text() == "Flow check: Test product"
    assert [e.all_text() for e in tree.root.iter("dd")][1] == "/acme"
    assert "Empty" not in [e.all_text() for e in tree.root.iter("dt")]
    assert len(list(tree.root.iter("a", "mismatch"))) == 2


def test_execute_without_the_option_writes_nothing_and_returns_no_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = _result(verdicts={"a to b": "allow", "b to c": "allow", "c to a": "deny"})
    assert "report" not in result and "failed" not in result
    assert list(tmp_path.iterdir()) == []


def test_check_mode_writes_the_report_too(tmp_path):
    check = _Check(VERDICTS)
    path = tmp_path / "check.html"
    module = FakeModule(dict(flows=FLOWS, report=str(path), fail_on_mismatch=False), check_mode=True)
    result = check.execute(module, None, check.parse_flows(module.params["flows"]))
    assert result["report"] == str(path) and path.exists()
    skipped = _Check(missing="scope Default:K8s does not exist yet")
    module = FakeModule(dict(flows=FLOWS, report=str(tmp_path / "skipped.html")), check_mode=True)
    result = skipped.execute(module, None, skipped.parse_flows(module.params["flows"]))
    assert result["skipped"] is True and result["report"] == str(tmp_path / "skipped.html")
    assert "scope Default:K8s does not exist yet" in (tmp_path / "skipped.html").read_text(encoding="utf-8")
