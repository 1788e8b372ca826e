# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scale benchmark of the Prisma network rulesets: one table of every scenario against the floor.

Rows:
  floor          - one playbook with a single no-op ``ansible.builtin.ping`` task (median of
                   several runs): what any playbook costs before it does anything;
  from files     - one prisma_network_ruleset task with ``src`` naming a directory of YAML files
                   (20 files sharing the N rulesets); the median of three runs of the three
                   operations, each run in a namespace of its own (one run of the others);
  inline         - the same task with the N rulesets written in the playbook (``items``);
  per-item loop  - a ``loop`` with one ruleset per iteration, run over a few items and
                   extrapolated linearly to N (those rows say so);
for the operations create, no change (a re-run) and one-item edit (one rule of one ruleset),
at each size and at each lab latency (a delay the lab adds to every product request, a round
trip across a WAN). The list forms use ``purge`` and ``owner``, each scenario in a namespace of
its own. Columns: lab requests and writes, wall and CPU seconds (ansible-playbook with every
process it started, from wait4; the lab not counted), the peak resident memory of the largest
of those processes (the controller), and the ratio of each to the floor.

A second table sweeps the bounded write concurrency (``parallel``) of the create from files at
the largest size and the highest latency. The issue's targets are then checked (informational).

The run fails (non-zero exit) when a playbook fails or times out, when a create or edit changes
nothing, and when a no-change re-run reports a change or writes.
"""

import argparse
import os
import statistics
import sys
import time

import yaml

from harness import LabBench, markdown
from prisma_bench import prisma_environment, ruleset

FULL = {"sizes": (500, 2000), "loop_items": 50, "floor_runs": 5, "file_runs": 3}
QUICK = {"sizes": (50, 200), "loop_items": 10, "floor_runs": 3, "file_runs": 1}
LATENCIES_MS = (0, 50)
PARALLEL_SWEEP = (4, 8, 16, 32)
FILES = 20
STEP_TIMEOUT = 600
OPERATIONS = ("create", "no change", "one-item edit")
FORMS = ("from files", "inline", "per-item loop")
FORM_OPTIONS = {"files": "from files", "inline": "inline", "loop": "per-item loop"}
MODULE = "microseg.segmentation.prisma_network_ruleset"
HEADER = ("scenario", "N", "latency", "requests", "writes", "wall s", "CPU s", "peak MB", "wall ×", "CPU ×", "memory ×")


class Row:
    """One line of the table: a scenario's figures (those of several runs: the medians, and the largest peak memory)."""

    def __init__(self, scenario, count, latency_ms, requests, writes, wall, cpu, memory_mb, extrapolated_from=None):
        self.scenario = scenario
        self.count = count
        self.latency_ms = latency_ms
        self.requests = requests
        self.writes = writes
        self.wall = wall
        self.cpu = cpu
        self.memory_mb = memory_mb
        self.extrapolated_from = extrapolated_from

    @classmethod
    def of(cls, scenario, count, latency_ms, step):
        return cls(scenario, count, latency_ms, step.requests, step.writes, step.wall, step.cpu, step.maxrss_mb)

    @classmethod
    def median(cls, scenario, steps, count=None, latency_ms=None):
        return cls(scenario, count, latency_ms, statistics.median(s.requests for s in steps), statistics.median(s.writes for s in steps),
                   statistics.median(s.wall for s in steps), statistics.median(s.cpu for s in steps),
                   max(s.maxrss_mb for s in steps))  # a peak is the largest of the runs


def scenario_name(form, operation):
    return "%s: %s" % (form, operation)


def extrapolate(measured, floor, count, operation):
    """The row of a per-item loop over ``count`` objects from ``measured``, a loop over fewer.

    Each iteration costs the same: the part of the wall and CPU seconds above the floor, and the
    reads, scale with the number of items; the floor is paid once. A create writes every object,
    so its writes scale too; an edit writes its one object whatever the size. Peak memory is the
    measured one (the note says so).
    """
    factor = float(count) / measured.count
    writes = measured.writes * factor if operation == "create" else measured.writes
    requests = (measured.requests - measured.writes) * factor + writes
    return Row(measured.scenario, count, measured.latency_ms, int(round(requests)), int(round(writes)),
               floor.wall + max(measured.wall - floor.wall, 0.0) * factor, floor.cpu + max(measured.cpu - floor.cpu, 0.0) * factor,
               measured.memory_mb, extrapolated_from=measured.count)


def ratio(value, base):
    """``value`` as a multiple of ``base`` ("1.7×"); "n/a" when there is no base."""
    if value is None or not base:
        return "n/a"
    times = float(value) / base
    return ("%.0f×" if times >= 100 else "%.1f×") % times


def table(rows, floor):
    """The scale table: the floor first, then every row with its ratios to the floor."""
    cells = []
    for row in ([floor] if floor else []) + rows:
        label, memory = row.scenario, "%.0f" % row.memory_mb
        if row.extrapolated_from:
            label += " (extrapolated from %d)" % row.extrapolated_from
            memory += " (at %d)" % row.extrapolated_from
        cells.append((
            label, "—" if row.count is None else str(row.count), "—" if row.latency_ms is None else "%d ms" % row.latency_ms,
            "%d" % row.requests, "%d" % row.writes, "%.2f" % row.wall, "%.2f" % row.cpu, memory,
            ratio(row.wall, floor and floor.wall), ratio(row.cpu, floor and floor.cpu), ratio(row.memory_mb, floor and floor.memory_mb),
        ))
    return markdown(HEADER, cells)


def sweep_table(sweep):
    """The write-concurrency sweep: (parallel, Row) pairs."""
    return markdown(("parallel", "requests", "writes", "wall s"), [(str(p), "%d" % r.requests, "%d" % r.writes, "%.2f" % r.wall) for p, r in sweep])


def fastest(sweep):
    """The ``parallel`` of the fastest run of the sweep (the smaller one on a tie)."""
    return min(sweep, key=lambda pair: (pair[1].wall, pair[0]))[0] if sweep else None


def find(rows, form, operation, count, latency_ms):
    for row in rows:
        if row.scenario == scenario_name(form, operation) and row.count == count and row.latency_ms == latency_ms:
            return row
    return None


def targets(rows, floor, size, low=0, high=50):
    """The issue's targets against the rows at ``size`` objects, on loopback (``low`` ms) and across
    a WAN (``high`` ms): (PASS, MISS or n/a, text) pairs."""
    checks = []

    def check(text, needed, test):
        if floor is None or not needed or None in needed:
            checks.append(("n/a", text + ": not measured"))
        else:
            passed, figures = test(*needed)
            checks.append(("PASS" if passed else "MISS", "%s: %s" % (text, figures)))

    def times_floor(row):
        return "%.2f s = %s" % (row.wall, ratio(row.wall, floor.wall))

    check("no change, %d from files, %d ms <= 2x floor wall" % (size, low), [find(rows, "from files", "no change", size, low)],
          lambda r: (r.wall <= 2 * floor.wall, times_floor(r)))
    check("create, %d from files, %d ms <= 4x floor wall" % (size, low), [find(rows, "from files", "create", size, low)],
          lambda r: (r.wall <= 4 * floor.wall, times_floor(r)))
    check("create, %d from files, %d ms < 20 s" % (size, high), [find(rows, "from files", "create", size, high)],
          lambda r: (r.wall < 20, "%.2f s" % r.wall))
    check("peak memory, %d from files < 100 MB" % size, [r for r in rows if r.count == size and r.scenario.startswith("from files")],
          lambda *r: (max(x.memory_mb for x in r) < 100, "%.0f MB (largest of %d rows)" % (max(x.memory_mb for x in r), len(r))))
    for operation in ("create", "no change"):
        check("per-item loop >= 100x slower than from files, %s %d, %d ms" % (operation, size, low),
              [find(rows, "per-item loop", operation, size, low), find(rows, "from files", operation, size, low)],
              lambda loop, files: (loop.wall >= 100 * files.wall, "%.0f s vs %.2f s = %s" % (loop.wall, files.wall, ratio(loop.wall, files.wall))))
    return checks


class ScaleBench(LabBench):
    product = "prisma"

    def __init__(self, sizes, loop_items, floor_runs, latencies, forms, sweep, file_runs=1):
        super().__init__()
        self.sizes = sizes
        self.loop_items = loop_items
        self.floor_runs = floor_runs
        self.file_runs = file_runs
        self.latencies = latencies
        self.forms = forms
        self.sweep_values = sweep
        self.floor = None
        self.results = []
        self.loops = []
        self.sweep = []
        self.started = time.monotonic()

    def environment(self, lab):
        return prisma_environment(lab)

    # ---------------------------------------------------------------- steps

    def step(self, label, tasks, namespace=None):
        defaults = {"group/microseg.segmentation.prisma": {"namespace": namespace}} if namespace else None
        sys.stderr.write("[%6.0f s] %s\n" % (time.monotonic() - self.started, label))
        return self.measure(label, tasks, module_defaults=defaults, timeout=STEP_TIMEOUT)

    def checked(self, label, operation, tasks, namespace):
        """Run a step and check its outcome: a create or edit changes something, a re-run nothing."""
        step = self.step(label, tasks, namespace)
        if operation == "no change" and (step.changed != 0 or step.writes != 0):
            raise SystemExit("benchmark step '%s': a no-change re-run reported changed=%s and %d write(s)" % (label, step.changed, step.writes))
        if operation != "no change" and (not step.changed or not step.writes):
            raise SystemExit("benchmark step '%s': expected a change, got changed=%s and %d write(s)" % (label, step.changed, step.writes))
        return step

    def namespaces(self, names):
        """Create the child namespaces of the lab's namespace the scenarios run in (one playbook)."""
        self.step("setup: %d namespaces" % len(names), [{
            "name": "Namespaces",
            "microseg.segmentation.prisma_namespace": {"items": [{"name": name, "type": "Group"} for name in names]},
        }], self.lab["namespace"])

    def write_files(self, directory, items):
        """``items`` as FILES YAML files in ``directory`` (rewritten whole: a one-item edit changes one file's content)."""
        os.makedirs(directory, exist_ok=True)
        per_file = -(-len(items) // FILES)
        for number in range(FILES):
            with open(os.path.join(directory, "team-%02d.yml" % number), "w") as handle:
                yaml.dump(items[number * per_file:(number + 1) * per_file], handle, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
                          sort_keys=False)
        return directory

    # ---------------------------------------------------------------- scenarios

    def run_floor(self):
        steps = [self.step("floor %d/%d" % (n + 1, self.floor_runs), [{"name": "Ping", "ansible.builtin.ping": {}}])
                 for n in range(self.floor_runs)]
        self.floor = Row.median("floor: one ping task (median of %d)" % self.floor_runs, steps)

    def list_task(self, form, items, directory):
        """The one task of a list-form step: the rulesets from files written in ``directory``, or inline."""
        if form == "from files":
            options = {"src": [self.write_files(directory, items)]}
        else:
            options = {"items": items}
        return [{"name": "Rulesets", MODULE: dict(options, purge=True, owner="bench")}]

    def list_form(self, form, count, latency_ms, namespaces):
        """Create, re-run and edit ``count`` rulesets once in each of ``namespaces``; a row per operation (the median of the runs)."""
        steps = dict((operation, []) for operation in OPERATIONS)
        for run, namespace in enumerate(namespaces):
            items = [ruleset(i) for i in range(count)]
            directory = os.path.join(self.workdir, "src-%s" % namespace.rsplit("/", 1)[-1])
            for operation in OPERATIONS:
                if operation == "one-item edit":
                    items[count // 2] = ruleset(count // 2, port=8081)
                label = "%s, %s %d, %d ms" % (form, operation, count, latency_ms)
                if len(namespaces) > 1:
                    label += ", run %d/%d" % (run + 1, len(namespaces))
                steps[operation].append(self.checked(label, operation, self.list_task(form, items, directory), namespace))
        for operation in OPERATIONS:
            self.results.append(Row.median(scenario_name(form, operation), steps[operation], count, latency_ms))

    def loop(self, latency_ms, namespace):
        items = [ruleset(i) for i in range(self.loop_items)]
        for operation in OPERATIONS:
            if operation == "one-item edit":
                items[self.loop_items // 2] = ruleset(self.loop_items // 2, port=8081)
            task = {
                "name": "Rulesets",
                MODULE: {name: "{{ item.%s }}" % name for name in ("name", "subject", "incoming_rules", "outgoing_rules")},
                "loop": items,
                "loop_control": {"label": "{{ item.name }}"},
            }
            label = "per-item loop, %s %d, %d ms" % (operation, self.loop_items, latency_ms)
            step = self.checked(label, operation, [task], namespace)
            self.loops.append(Row.of(scenario_name("per-item loop", operation), self.loop_items, latency_ms, step))

    def run_sweep(self, namespaces):
        count, latency_ms = max(self.sizes), max(self.latencies)
        self.set_latency(latency_ms / 1000.0)
        directory = self.write_files(os.path.join(self.workdir, "src-sweep"), [ruleset(i) for i in range(count)])
        for parallel in self.sweep_values:
            label = "sweep: from files, create %d, %d ms, parallel %d" % (count, latency_ms, parallel)
            task = {"name": "Rulesets", MODULE: {"src": [directory], "purge": True, "owner": "bench", "parallel": parallel}}
            self.sweep.append((parallel, Row.of("create", count, latency_ms, self.checked(label, "create", [task], namespaces[parallel]))))

    def scenarios(self):
        root = self.lab["namespace"]
        plan = {}
        for latency_ms in self.latencies:
            for form in self.forms:
                for count in ([self.loop_items] if form == "per-item loop" else self.sizes):
                    name = "bench-%s-%d-%dms" % (form.split()[-1], count, latency_ms)
                    runs = self.file_runs if form == "from files" else 1
                    plan[(form, count, latency_ms)] = [name] if runs == 1 else ["%s-r%d" % (name, n + 1) for n in range(runs)]
        sweep = {p: "bench-sweep-p%d" % p for p in self.sweep_values}
        self.namespaces([name for names in plan.values() for name in names] + list(sweep.values()))
        self.run_floor()
        for latency_ms in self.latencies:
            self.set_latency(latency_ms / 1000.0)
            for (form, count, at), names in plan.items():
                if at != latency_ms:
                    continue
                if form == "per-item loop":
                    self.loop(latency_ms, "%s/%s" % (root, names[0]))
                else:
                    self.list_form(form, count, latency_ms, ["%s/%s" % (root, name) for name in names])
        if self.sweep_values:
            self.run_sweep({p: "%s/%s" % (root, name) for p, name in sweep.items()})

    # ---------------------------------------------------------------- the report

    def rows_in_order(self):
        """The measured list-form rows and the extrapolated loop rows, by latency, size, form, operation."""
        rows = list(self.results)
        if self.floor is not None:
            rows.extend(extrapolate(loop, self.floor, count, loop.scenario.split(": ", 1)[1]) for loop in self.loops for count in self.sizes)
        order = {scenario_name(f, o): (FORMS.index(f), OPERATIONS.index(o)) for f in FORMS for o in OPERATIONS}
        return sorted(rows, key=lambda r: (r.latency_ms, r.count, order[r.scenario]))

    def table(self):
        rows = self.rows_in_order()
        out = [table(rows, self.floor)]
        if self.file_runs > 1 and "from files" in self.forms:
            out.append("\nFrom-files rows: the median of %d runs, each in a namespace of its own (peak memory: the largest of them); "
                       "the other list-form rows: one run." % self.file_runs)
        if self.loops:
            out.append("\nPer-item loop rows: requests, writes, wall and CPU extrapolated linearly from a loop over %d items "
                       "(the floor paid once); peak memory as measured over those %d." % (self.loop_items, self.loop_items))
        if self.sweep:
            out.append("\nWrite concurrency, create %d from files at %d ms:\n" % (self.sweep[0][1].count, self.sweep[0][1].latency_ms))
            out.append(sweep_table(self.sweep))
            out.append("\nfastest: parallel %d" % fastest(self.sweep))
        out.append("\nTargets (informational):")
        out.extend("%s  %s" % pair for pair in targets(rows, self.floor, max(self.sizes)))
        out.append("\ntotal bench time: %.0f s" % (time.monotonic() - self.started))
        return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke run: sizes %s, loop over %d items" % (QUICK["sizes"], QUICK["loop_items"]))
    parser.add_argument("--latency-ms", type=int, nargs="+", default=list(LATENCIES_MS), help="lab latencies to run at (default: 0 50)")
    parser.add_argument("--forms", nargs="+", default=list(FORM_OPTIONS), choices=list(FORM_OPTIONS), help="forms to run (default: all)")
    parser.add_argument("--no-sweep", action="store_true", help="leave out the write-concurrency sweep")
    args = parser.parse_args()
    if any(not 0 <= ms <= 1000 for ms in args.latency_ms):
        parser.error("--latency-ms: from 0 to 1000")
    profile = QUICK if args.quick else FULL
    forms = [FORM_OPTIONS[f] for f in FORM_OPTIONS if f in args.forms]
    sweep = () if args.no_sweep or "files" not in args.forms else PARALLEL_SWEEP
    bench = ScaleBench(profile["sizes"], profile["loop_items"], profile["floor_runs"], sorted(set(args.latency_ms)), forms, sweep,
                       profile["file_runs"])
    bench.main([bench.scenarios])


if __name__ == "__main__":
    main()
