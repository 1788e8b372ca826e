"""Checks of the flow reports of ``make demo`` (the flow-check modules' ``report`` option) rendered by
headless Chromium (Debian's package, installed by ``make chromium``); test_demo.py runs them.

The reports come from test_demo.py's ``make demo`` (its second run leaves one report per scenario and
host in the lab directory's reports/). Each report is rendered with ``--dump-dom`` and ``--screenshot``: the DOM must hold one matrix per
service whose rows, columns and flows are those of the module's own result (the flow table the scenario
prints from it, in the same run), with the verdict and mismatch classes that result gives; the
screenshot must be a PNG of the window's size that is not blank and shows the verdict colours.
A page rendered from a hostile result (``<script>`` in names, two mismatches) checks escaping and the
mismatch marking in the browser.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

import yaml
from playbook_tools import REPO_ROOT

from ansible_collections.microseg.segmentation.plugins.module_utils._core.flow_report import (
    ALLOW_COLOUR,
    DENY_COLOUR,
    MISMATCH_COLOUR,
    render,
)

CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
                  '--disable-component-update', '--disable-sync']
WINDOW = (1400, 1000)
CHROMIUM_TIMEOUT = 180
WORKERS = 2
# set to a file path to keep one screenshot (the Secure Workload scenario's) for a reviewer
SCREENSHOT_COPY = os.environ.get('FLOW_REPORT_SCREENSHOT')
HEADER = re.compile(r'^flow +source +destination +service +verdict +expected +decided by$')
PLAY = re.compile(r'^PLAY \[(?P<name>.*)\] \**$')
HOST_RESULT = re.compile(r'^ok: \[(?P<host>[^\]]+)\] => \{$')


# ---------------------------------------------------------------- the module's result, from the demo output

def flow_tables(output: str) -> dict[tuple[str, str], list[list[dict[str, str]]]]:
    """The flow tables each play printed for each host: {(play name, host): [table, ...]}, each table a list
    of rows {flow, source, destination, service, verdict, expected}."""
    tables: dict[tuple[str, str], list[list[dict[str, str]]]] = {}
    play = host = None
    lines = output.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        match = PLAY.match(line)
        if match:
            play = match.group('name')
            continue
        match = HOST_RESULT.match(line)
        if match:
            host = match.group('host')
            continue
        text = line.strip().rstrip(',')
        if not (text.startswith('"flow ') and text.endswith('"')):
            continue
        header = json.loads(text)
        if not HEADER.match(header):
            continue
        starts = [m.start() for m in re.finditer(r'\S+(?: \S+)*', header)]
        names = ['flow', 'source', 'destination', 'service', 'verdict', 'expected']
        rows = []
        while index < len(lines) and lines[index].strip().startswith('"'):
            row = json.loads(lines[index].strip().rstrip(','))
            index += 1
            cells = [row[starts[i]:starts[i + 1]].strip() for i in range(len(names))]
            rows.append(dict(zip(names, cells, strict=True)))
        tables.setdefault((play, host), []).append(rows)
    return tables


def scenario_plays() -> dict[str, str]:
    """{play name: scenario} for every scenario playbook demo.yml imports."""
    plays = {}
    for entry in yaml.safe_load((REPO_ROOT / 'playbooks' / 'demo.yml').read_text(encoding='utf-8')):
        if 'ansible.builtin.import_playbook' in entry:
            path = REPO_ROOT / 'playbooks' / entry['ansible.builtin.import_playbook']
            for play in yaml.safe_load(path.read_text(encoding='utf-8')):
                plays[play['name']] = path.stem
    return plays


# ---------------------------------------------------------------- the rendered page

class ReportDom(HTMLParser):
    """What a rendered report holds: its matrices (service, columns, rows, flows with their cell's row and
    column), the flows listed below them, and any element that should never be there."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.matrices: list[dict] = []
        self.list_rows: list[set[str]] = []
        self.forbidden: list[str] = []
        self.header_terms: list[str] = []
        self.h1 = ''
        self._capture: list[str] | None = None
        self._kind = None
        self._column = -1
        self._source = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = set((attrs.get('class') or '').split())
        if tag in ('script', 'iframe', 'object', 'embed', 'img', 'link'):
            self.forbidden.append(tag)
        if tag == 'table' and 'matrix' in classes:
            self.matrices.append(dict(service=attrs.get('data-service'), columns=[], rows=[], flows=[], cells=[]))
        elif tag == 'th' and classes & {'src', 'dst'}:
            self._capture, self._kind = [], 'src' if 'src' in classes else 'dst'
        elif tag == 'td' and 'cell' in classes:
            self._column += 1
            self.matrices[-1]['cells'].append(classes)
        elif tag == 'a' and 'flow' in classes:
            matrix = self.matrices[-1]
            matrix['flows'].append(dict(name=attrs.get('data-flow'), classes=classes, title=attrs.get('title') or '',
                                        source=self._source, destination=matrix['columns'][self._column]))
        elif tag == 'tr' and 'flow-row' in classes:
            self.list_rows.append(classes)
        elif tag in ('dt', 'h1'):
            self._capture, self._kind = [], tag

    def handle_data(self, data):
        if self._capture is not None:
            self._capture.append(data)

    def handle_endtag(self, tag):
        if self._capture is None or tag not in ('th', 'dt', 'h1'):
            return
        text = ''.join(self._capture)
        if self._kind == 'dst':
            self.matrices[-1]['columns'].append(text)
        elif self._kind == 'src':
            self.matrices[-1]['rows'].append(text)
            self._source, self._column = text, -1
        elif self._kind == 'dt':
            self.header_terms.append(text)
        else:
            self.h1 = text
        self._capture = None


class Screenshot:
    """A decoded 8-bit RGB or RGBA PNG (non-interlaced, as Chromium writes them): its size and pixel rows."""

    def __init__(self, data: bytes) -> None:
        assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG file'
        pos, idat, header = 8, [], None
        while pos < len(data):
            length, kind = struct.unpack('>I4s', data[pos:pos + 8])
            body = data[pos + 8:pos + 8 + length]
            assert zlib.crc32(kind + body) == struct.unpack('>I', data[pos + 8 + length:pos + 12 + length])[0], kind
            if kind == b'IHDR':
                header = struct.unpack('>IIBBBBB', body)
            elif kind == b'IDAT':
                idat.append(body)
            elif kind == b'IEND':
                break
            pos += 12 + length
        assert header is not None and idat, 'no IHDR or IDAT chunk'
        self.width, self.height, depth, colour_type, dummy, dummy, interlace = header
        assert depth == 8 and colour_type in (2, 6) and interlace == 0, header
        self.bpp = 3 if colour_type == 2 else 4
        self.rows = self._unfilter(zlib.decompress(b''.join(idat)))

    def _unfilter(self, raw: bytes) -> list[bytes]:
        bpp, size = self.bpp, self.width * self.bpp
        assert len(raw) == self.height * (size + 1), 'image data of the wrong length'
        low = int.from_bytes(b'\x7f' * size, 'big')
        high = int.from_bytes(b'\x80' * size, 'big')
        previous = bytearray(size)
        rows = []
        for y in range(self.height):
            kind = raw[y * (size + 1)]
            line = bytearray(raw[y * (size + 1) + 1:(y + 1) * (size + 1)])
            if kind == 1:
                for i in range(bpp, size):
                    line[i] = (line[i] + line[i - bpp]) & 255
            elif kind == 2:
                # byte-wise addition of two rows at once: no carry crosses a byte
                a, b = int.from_bytes(line, 'big'), int.from_bytes(previous, 'big')
                line = bytearray((((a & low) + (b & low)) ^ ((a ^ b) & high)).to_bytes(size, 'big'))
            elif kind == 3:
                for i in range(size):
                    line[i] = (line[i] + (((line[i - bpp] if i >= bpp else 0) + previous[i]) >> 1)) & 255
            elif kind == 4:
                self._paeth(line, previous)
            else:
                assert kind == 0, 'unknown filter %d' % kind
            rows.append(bytes(line))
            previous = line
        return rows

    def _paeth(self, line: bytearray, previous: bytearray, chunk: int = 48) -> None:
        bpp, size = self.bpp, len(line)
        zero = bytes(chunk)
        for i in range(bpp):
            line[i] = (line[i] + previous[i]) & 255
        for start in range(bpp, size, chunk):
            end = min(start + chunk, size)
            # nothing added and the left pixel equal to the one above: the predictor copies the row above
            if line[start:end] == zero[:end - start] and line[start - bpp:start] == previous[start - bpp:start]:
                line[start:end] = previous[start:end]
                continue
            for i in range(start, end):
                a, b, c = line[i - bpp], previous[i], previous[i - bpp]
                pa, pb = abs(b - c), abs(a - c)
                pc = abs(a + b - 2 * c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255

    def channels(self, row: bytes) -> tuple[bytes, bytes, bytes]:
        return row[0::self.bpp], row[1::self.bpp], row[2::self.bpp]

    def count(self, colour: str, step: int = 2) -> int:
        """Pixels of exactly ``colour`` (#rrggbb) in every ``step``-th row."""
        wanted = bytes.fromhex(colour.lstrip('#'))
        tables = [bytes(1 if v == value else 0 for v in range(256)) for value in wanted]
        total = 0
        for row in self.rows[::step]:
            mask = -1
            for channel, table in zip(self.channels(row), tables, strict=True):
                mask &= int.from_bytes(channel.translate(table), 'big')
            total += bin(mask).count('1')
        return total

    def colours(self, step: int = 8) -> dict[tuple[int, int, int], int]:
        """How often each colour occurs in every ``step``-th row."""
        counts: dict[tuple[int, int, int], int] = {}
        for row in self.rows[::step]:
            for pixel in zip(*self.channels(row), strict=True):
                counts[pixel] = counts.get(pixel, 0) + 1
        return counts


def render_in_chromium(page: Path, work: Path) -> tuple[str, bytes]:
    """Chromium's DOM of ``page`` after loading (--dump-dom) and its screenshot (PNG bytes)."""
    profile = Path(tempfile.mkdtemp(prefix='chromium-profile-', dir=str(work)))
    png = work / (page.stem + '.png')
    command = ['chromium', *CHROMIUM_FLAGS, '--user-data-dir=%s' % profile, '--screenshot=%s' % png,
               '--window-size=%d,%d' % WINDOW, '--dump-dom', page.resolve().as_uri()]
    result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT, check=False)
    assert result.returncode == 0 and png.is_file(), 'chromium failed on %s (rc=%d):\n%s' % (page, result.returncode, result.stderr[-3000:])
    shutil.rmtree(profile, ignore_errors=True)
    return result.stdout, png.read_bytes()


def render_all(pages: list[Path], work: Path) -> dict[Path, tuple[ReportDom, Screenshot, bytes]]:
    """Every page rendered (a few Chromiums at a time), its DOM parsed and its screenshot decoded."""
    def one(page: Path):
        dom, png = render_in_chromium(page, work)
        return page, (ReportDom(dom), Screenshot(png), png)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return dict(pool.map(one, pages))


def assert_not_blank(shot: Screenshot, name: str) -> None:
    assert (shot.width, shot.height) == WINDOW, (name, shot.width, shot.height)
    colours = shot.colours()
    total = sum(colours.values())
    assert len(colours) >= 8, '%s: only %d colours in the screenshot' % (name, len(colours))
    assert max(colours.values()) < 0.97 * total, '%s: the screenshot is one colour' % name


# ---------------------------------------------------------------- fixtures

# ---------------------------------------------------------------- checks

def check_demo_reports(reports: Path, output: str, tmp_path: Path) -> None:
    """One report per scenario and host; each renders, and its matrices are the module's result (the
    tables OUTPUT, the demo's second run, printed)."""
    plays = scenario_plays()
    tables = flow_tables(output)
    # the last table each scenario prints for a host is its final flow check, the one with the report
    expected = {}
    for (play, host), printed in tables.items():
        if play in plays:
            expected['%s-%s.html' % (plays[play], host)] = printed[-1]
    scenarios = set(plays[play] for play, dummy in tables if play in plays)
    assert scenarios == set(plays.values()) and len(scenarios) == 8, (sorted(scenarios), sorted(plays.values()))
    assert sorted(p.name for p in reports.iterdir()) == sorted(expected)

    rendered = render_all(sorted(reports.iterdir()), tmp_path)
    for page, rendering in rendered.items():
        dom, shot = rendering[:2]
        table = expected[page.name]
        name = page.name
        assert not dom.forbidden, (name, dom.forbidden)
        assert dom.h1.startswith('Flow check: ') and 'Checked at' in dom.header_terms, (name, dom.h1, dom.header_terms)
        # one matrix per service, in the order the services first appear; rows and columns as in the result
        services = list(dict.fromkeys(row['service'] for row in table))
        assert [m['service'] for m in dom.matrices] == services, name
        flows = {}
        for matrix in dom.matrices:
            rows = [r for r in table if r['service'] == matrix['service']]
            assert matrix['rows'] == list(dict.fromkeys(r['source'] for r in rows)), (name, matrix['service'])
            assert matrix['columns'] == list(dict.fromkeys(r['destination'] for r in rows)), (name, matrix['service'])
            assert len(matrix['cells']) == len(matrix['rows']) * len(matrix['columns']), name
            for flow in matrix['flows']:
                flows[flow['name']] = dict(flow, service=matrix['service'])
        assert sorted(flows) == sorted(r['flow'] for r in table), name
        for row in table:
            flow = flows[row['flow']]
            assert (flow['service'], flow['source'], flow['destination']) == (row['service'], row['source'], row['destination']), (name, row)
            assert row['verdict'] in flow['classes'], (name, row, flow['classes'])
            state = 'unasserted' if row['expected'] == '-' else 'mismatch' if row['expected'].endswith('MISMATCH') else 'expected'
            assert state in flow['classes'], (name, row, flow['classes'])
            assert 'decided by:' in flow['title'], (name, flow['title'])
        links = list(flows.values())
        allowed = sum(1 for r in table if r['verdict'] == 'allow')
        assert sum('allow' in f['classes'] for f in links) == allowed, name
        assert sum('deny' in f['classes'] for f in links) == len(table) - allowed, name
        assert sum('mismatch' in f['classes'] for f in links) == sum(r['expected'].endswith('MISMATCH') for r in table), name
        assert len(dom.list_rows) == len(table), name
        # the screenshot: the window's size, not blank, the first matrix's verdict colours well beyond the legend's swatches
        assert_not_blank(shot, name)
        first = set(r['verdict'] for r in table if r['service'] == services[0])
        for verdict, colour in (('allow', ALLOW_COLOUR), ('deny', DENY_COLOUR)):
            if verdict in first:
                assert shot.count(colour) > 1000, '%s: too few %s pixels for its %s cells' % (name, colour, verdict)
    if SCREENSHOT_COPY:
        keep = next(page for page in rendered if page.name.startswith('secure_workload_k8s_service-'))
        Path(SCREENSHOT_COPY).write_bytes(rendered[keep][2])


def _flow(name, source, destination, service, expect, verdict):
    decided = [dict(side='policy', action='ALLOW' if verdict == 'allow' else 'DROP', rule='r<1>', id='1', where='s', default=False,
                    label='s/r<1>')]
    return dict(name=name, source=source, destination=destination, service=service, source_text=source, destination_text=destination,
                expect=expect, verdict=verdict, reason='', as_expected=None if expect is None else expect == verdict, decided_by=decided)


def check_hostile_page(tmp_path: Path) -> None:
    """Names carrying markup stay text in the browser; mismatches are marked in the DOM and on screen."""
    hostile = '<script>document.title="owned"</script><img src=x onerror=alert(1)>'
    flows = [
        _flow('a to b', 'web', 'db', 'tcp/5432', 'allow', 'allow'),
        _flow('a to c', 'web', hostile, 'tcp/5432', 'deny', 'allow'),
        _flow(hostile, hostile, 'db', 'tcp/5432', 'allow', 'deny'),
        _flow('c to a', 'db', 'web', 'tcp/22', None, 'deny'),
    ]
    result = dict(flows=flows, summary='1/3 flows as expected')
    page = tmp_path / 'hostile.html'
    when = datetime.datetime.now(datetime.timezone.utc)
    page.write_text(render(result, 'Test <b>product</b>', [('Scope', hostile)], when), encoding='utf-8')
    dom, shot, dummy = render_all([page], tmp_path)[page]
    assert not dom.forbidden, dom.forbidden
    assert dom.h1 == 'Flow check: Test <b>product</b>'
    assert [m['service'] for m in dom.matrices] == ['tcp/5432', 'tcp/22']
    assert dom.matrices[0]['rows'] == ['web', hostile] and dom.matrices[0]['columns'] == ['db', hostile]
    links = [f for m in dom.matrices for f in m['flows']]
    assert sorted(f['name'] for f in links if 'mismatch' in f['classes']) == sorted(['a to c', hostile])
    assert sum('mismatch' in c for m in dom.matrices for c in m['cells']) == 2
    assert sum('mismatch' in r for r in dom.list_rows) == 2
    assert_not_blank(shot, page.name)
    assert shot.count(MISMATCH_COLOUR) > 600, 'the mismatches are not marked on screen'
    assert shot.count(ALLOW_COLOUR) > 1000 and shot.count(DENY_COLOUR) > 1000
