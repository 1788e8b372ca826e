# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmarks' shared runner (benchmarks/harness.py ``execute``: the figures of a process tree,
the timeout) and the scale benchmark's report (benchmarks/scale.py: ratios to the floor, the
extrapolation of the per-item loop, the markdown tables and the targets). No benchmark is run here."""

import os
import sys
import time

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "benchmarks")
if BENCHMARKS not in sys.path:
    sys.path.insert(0, BENCHMARKS)

import harness  # noqa: E402  pylint: disable=wrong-import-position,import-error
import scale  # noqa: E402  pylint: disable=wrong-import-position,import-error
from scale import Row  # noqa: E402  pylint: disable=wrong-import-position,import-error

FLOOR = Row("floor: one ping task (median of 5)", None, None, 0, 0, 2.0, 1.0, 50.0)


def files_row(operation, wall, count=2000, latency_ms=0, memory_mb=60.0):
    return Row(scale.scenario_name("from files", operation), count, latency_ms, 4, 0, wall, 1.5, memory_mb)


def cells(line):
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def test_execute_counts_the_descendants_of_the_child():
    # the child is a shell; the memory is its grandchild's, which the shell waits for
    script = "b = b'x' * (64 << 20); print(len(b))"
    done = harness.execute(["sh", "-c", '"$0" -c "$1"; echo done >&2', sys.executable, script], dict(os.environ), timeout=120)
    assert (done.returncode, done.stdout, done.stderr, done.timed_out) == (0, "%d\n" % (64 << 20), "done\n", False)
    assert done.maxrss_mb >= 64
    assert done.cpu > 0


def state(pid):
    """A process's state letter ("Z" for a zombie), None once it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def test_execute_kills_the_whole_group_on_timeout():
    done = harness.execute(["sh", "-c", "sleep 60 & echo $!; wait"], dict(os.environ), timeout=0.5)
    assert done.timed_out
    assert done.returncode == -9
    # SIGKILL is delivered at once, the process leaves the run queue a moment later: look for at most 5 s
    pid, deadline = int(done.stdout), time.monotonic() + 5
    while state(pid) not in (None, "Z") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert state(pid) in (None, "Z")


def test_ratio():
    assert scale.ratio(3.4, 2.0) == "1.7×"
    assert scale.ratio(2.0, 2.0) == "1.0×"
    assert scale.ratio(1500.0, 2.0) == "750×"
    assert scale.ratio(1.0, 0) == "n/a"
    assert scale.ratio(None, 2.0) == "n/a"
    assert scale.ratio(1.0, None) == "n/a"


def test_extrapolate_create_scales_reads_writes_and_the_time_above_the_floor():
    measured = Row("per-item loop: create", 50, 50, 100, 50, 42.0, 31.0, 57.0)
    row = scale.extrapolate(measured, FLOOR, 2000, "create")
    assert (row.count, row.latency_ms, row.requests, row.writes) == (2000, 50, 4000, 2000)
    assert row.wall == 2.0 + 40.0 * 40
    assert row.cpu == 1.0 + 30.0 * 40
    assert row.memory_mb == 57.0
    assert row.extrapolated_from == 50
    assert measured.extrapolated_from is None


def test_extrapolate_edit_writes_one_object_whatever_the_size():
    measured = Row("per-item loop: one-item edit", 50, 0, 51, 1, 12.0, 11.0, 57.0)
    row = scale.extrapolate(measured, FLOOR, 500, "one-item edit")
    assert (row.requests, row.writes) == (501, 1)
    assert row.wall == 2.0 + 10.0 * 10


def test_extrapolate_never_goes_below_the_floor():
    measured = Row("per-item loop: no change", 50, 0, 50, 0, 1.5, 0.5, 57.0)
    row = scale.extrapolate(measured, FLOOR, 2000, "no change")
    assert (row.requests, row.writes, row.wall, row.cpu) == (2000, 0, 2.0, 1.0)


def test_table_has_the_floor_first_and_a_ratio_per_figure():
    loop = scale.extrapolate(Row("per-item loop: create", 50, 0, 100, 50, 42.0, 31.0, 57.0), FLOOR, 2000, "create")
    lines = scale.table([files_row("no change", 3.0), loop], FLOOR).splitlines()
    assert cells(lines[0]) == list(scale.HEADER)
    assert set(lines[1]) == {"|", "-"}
    assert len(lines) == 5
    assert all(len(cells(line)) == len(scale.HEADER) for line in lines)
    floor, files, extrapolated = (cells(line) for line in lines[2:])
    assert floor[0].startswith("floor") and floor[1:3] == ["—", "—"] and floor[8:] == ["1.0×", "1.0×", "1.0×"]
    assert files[1:5] == ["2000", "0 ms", "4", "0"]
    assert files[5:] == ["3.00", "1.50", "60", "1.5×", "1.5×", "1.2×"]
    assert extrapolated[0] == "per-item loop: create (extrapolated from 50)"
    assert extrapolated[3:8] == ["4000", "2000", "1602.00", "1201.00", "57 (at 50)"]
    assert extrapolated[8] == "801×"


def test_table_without_a_floor_says_so():
    lines = scale.table([files_row("create", 3.0)], None).splitlines()
    assert len(lines) == 3
    assert cells(lines[2])[8:] == ["n/a", "n/a", "n/a"]


def test_sweep_table_and_fastest():
    sweep = [(p, Row("create", 2000, 50, 2001, 2000, wall, 9.0, 60.0)) for p, wall in ((4, 30.0), (8, 15.5), (16, 9.25), (32, 9.25))]
    lines = scale.sweep_table(sweep).splitlines()
    assert cells(lines[0]) == ["parallel", "requests", "writes", "wall s"]
    assert cells(lines[4]) == ["16", "2001", "2000", "9.25"]
    assert scale.fastest(sweep) == 16
    assert scale.fastest([]) is None


def test_targets_pass_and_miss():
    rows = [
        files_row("create", 7.9), files_row("no change", 4.5), files_row("one-item edit", 3.0, memory_mb=120.0),
        files_row("create", 12.0, latency_ms=50),
        Row(scale.scenario_name("per-item loop", "create"), 2000, 0, 4000, 2000, 1600.0, 1000.0, 57.0, extrapolated_from=50),
        Row(scale.scenario_name("per-item loop", "no change"), 2000, 0, 2000, 0, 400.0, 300.0, 57.0, extrapolated_from=50),
    ]
    verdicts = [verdict for verdict, dummy in scale.targets(rows, FLOOR, 2000)]
    # no change 4.5 > 2 x 2.0; create 7.9 <= 4 x 2.0; 12 s < 20 s; 120 MB; loop 1600/7.9 >= 100; 400/4.5 < 100
    assert verdicts == ["MISS", "PASS", "PASS", "MISS", "PASS", "MISS"]
    texts = [text for dummy, text in scale.targets(rows, FLOOR, 2000)]
    assert "4.50 s = 2.2×" in texts[0]
    assert "120 MB (largest of 4 rows)" in texts[3]


def test_targets_not_measured():
    checks = scale.targets([files_row("create", 3.0)], FLOOR, 2000)
    assert [verdict for verdict, dummy in checks] == ["n/a", "PASS", "n/a", "PASS", "n/a", "n/a"]
    assert all(verdict == "n/a" for verdict, dummy in scale.targets([files_row("create", 3.0)], None, 2000))


def test_list_form_rows_are_the_median_of_the_runs_each_in_its_own_namespace(tmp_path):
    bench = scale.ScaleBench((3,), 2, 1, (0,), ("from files",), (), file_runs=3)
    os.rmdir(bench.workdir)  # made by the bench, empty
    bench.workdir = str(tmp_path)
    walls = {"/acme/a": 5.0, "/acme/b": 9.0, "/acme/c": 6.0}
    calls = []

    def checked(label, operation, tasks, namespace):
        calls.append((label, operation, namespace, tasks[0][scale.MODULE]["src"]))
        writes = {"create": 3, "no change": 0, "one-item edit": 1}[operation]
        return harness.Measurement(writes + 1, writes, walls[namespace] + len(calls), 1.0, 60.0 + len(calls), writes and 1, {}, "")

    bench.checked = checked
    bench.list_form("from files", 3, 0, ["/acme/a", "/acme/b", "/acme/c"])
    assert [(c[1], c[2]) for c in calls] == [(o, n) for n in ("/acme/a", "/acme/b", "/acme/c") for o in scale.OPERATIONS]
    assert calls[0][0] == "from files, create 3, 0 ms, run 1/3"
    assert len(set(c[3][0] for c in calls)) == 3  # a directory of files per namespace
    rows = {row.scenario: row for row in bench.results}
    # create walls 5+1, 9+4, 6+7: the median is 13; the edit's 5+3, 9+6, 6+9: 15
    assert (rows["from files: create"].wall, rows["from files: one-item edit"].wall) == (13.0, 15.0)
    assert (rows["from files: create"].count, rows["from files: create"].latency_ms, rows["from files: create"].writes) == (3, 0, 3)
    assert rows["from files: no change"].writes == 0
    assert rows["from files: create"].memory_mb == 67.0  # the peak of the three runs (60 + 1, 4, 7), not their median
