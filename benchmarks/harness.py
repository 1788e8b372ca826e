# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every benchmark shares: a lab of its own on loopback, playbooks run with ansible-playbook
against it, the lab's request counters read around each run, and the table printed at the end.

A product benchmark subclasses ``LabBench``, names the lab product and the environment its
modules read (``product`` and ``environment(lab)``), and calls ``run(label, tasks)`` (or
``measure(label, tasks)`` for the figures of one run without recording them).
"""

import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import requests
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LABCTL = os.path.join(ROOT, "lab", "labctl.py")
PLAYBOOK_TIMEOUT = 1800
ADMIN_TIMEOUT = 30


def play(tasks, module_defaults=None):
    return [{
        "name": "Benchmark",
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "vars": {"ansible_python_interpreter": sys.executable},
        "module_defaults": module_defaults or {},
        "tasks": tasks,
    }]


# One finished command: its exit code and output, wall seconds, CPU seconds (user + system of
# the process and every descendant it reaped) and the peak resident memory of the largest of them.
Execution = collections.namedtuple("Execution", "returncode stdout stderr wall cpu maxrss_mb timed_out")

# One benchmarked playbook run: the lab's request and write counts, the run's figures, the
# ``changed`` count of its PLAY RECAP and its output.
Measurement = collections.namedtuple("Measurement", "requests writes wall cpu maxrss_mb changed counters stdout")


def markdown(header, rows):
    """A markdown table, columns padded to their widest cell."""
    widths = [max(len(str(r[i])) for r in [header] + list(rows)) for i in range(len(header))]
    lines = ["| " + " | ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=True)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines.extend("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows)
    return "\n".join(lines)


def _kill_group(pgid, fired):
    fired.append(True)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def execute(argv, env, timeout):
    """Run ``argv`` in a process group of its own, killed as a whole after ``timeout`` seconds.

    The CPU time and peak memory come from ``wait4`` on the child: the kernel adds to them those of
    every descendant the child (or a descendant of it) waited for, which is how ansible-playbook
    reaps its workers and their module processes. Processes outside the tree (the lab) are not counted.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)
        fired = []
        timer = threading.Timer(timeout, _kill_group, (proc.pid, fired))
        timer.start()
        try:
            # exited but not reaped yet: until wait4 below, its pid (the group id) cannot be reused
            os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        except BaseException:
            _kill_group(proc.pid, fired)
            raise
        finally:
            timer.cancel()
            timer.join()
        wall = time.monotonic() - started
        dummy, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Execution(proc.returncode, out.read().decode(errors="replace"), err.read().decode(errors="replace"), wall,
                         usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0, bool(fired))


class LabBench:
    product = None

    def __init__(self):
        self.workdir = tempfile.mkdtemp(prefix="microseg-bench-%s-" % self.product)
        self.labdir = os.path.join(self.workdir, "lab")
        self.rows = []
        self.lab = None
        self.env = None

    def environment(self, lab):
        """The variables the product's modules read their connection from."""
        raise NotImplementedError

    def admin_url(self, lab):
        return lab["url"]

    def start_lab(self):
        subprocess.run([sys.executable, LABCTL, "start", "--dir", self.labdir], check=True, stdin=subprocess.DEVNULL)
        with open(os.path.join(self.labdir, "lab.json")) as handle:
            self.lab = json.load(handle)[self.product]
        self.env = dict(os.environ)
        self.env.update(self.environment(self.lab))
        self.env.update(
            ANSIBLE_COLLECTIONS_PATH=self.collections_path(),
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_LOCALHOST_WARNING="0",
            ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
            PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", os.defpath)]),
        )

    def close(self):
        subprocess.run([sys.executable, LABCTL, "stop", "--dir", self.labdir], check=False, stdin=subprocess.DEVNULL)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def collections_path(self):
        path = os.path.join(self.workdir, "collections")
        link = os.path.join(path, "ansible_collections", "microseg", "segmentation")
        os.makedirs(os.path.dirname(link), exist_ok=True)
        if not os.path.exists(link):
            os.symlink(ROOT, link)
        return path

    def admin(self, method, path, body=None):
        resp = requests.request(method, self.admin_url(self.lab) + path, json=body, verify=self.lab["ca_path"], timeout=ADMIN_TIMEOUT)
        resp.raise_for_status()
        return resp.json() if resp.content else None

    def reset(self):
        """The product's objects back to the lab's startup state (counters too)."""
        self.admin("POST", "/_lab/reset")

    def set_latency(self, seconds):
        """Every product request to the lab from now on is answered after ``seconds`` more."""
        self.admin("PUT", "/_lab/latency", {"seconds": seconds})

    def measure(self, label, tasks, module_defaults=None, timeout=PLAYBOOK_TIMEOUT):
        """Run one playbook of ``tasks`` and return its Measurement; exit the benchmark if it fails."""
        path = os.path.join(self.workdir, "bench.yml")
        with open(path, "w") as handle:
            yaml.safe_dump(play(tasks, module_defaults), handle, sort_keys=False)
        self.admin("POST", "/_lab/counters/reset")
        done = execute(["ansible-playbook", path], self.env, timeout)
        if done.returncode != 0:
            sys.stderr.write(done.stdout[-4000:] + done.stderr[-2000:])
            raise SystemExit("benchmark step '%s' %s" % (label, "timed out after %d s" % timeout if done.timed_out else "failed"))
        counters = self.admin("GET", "/_lab/counters")
        recaps = [line for line in done.stdout.splitlines() if "changed=" in line and "ok=" in line]
        recap = dict(x.split("=") for x in (recaps[-1].split(":", 1)[1].split() if recaps else []) if "=" in x)
        changed = int(recap["changed"]) if recap.get("changed", "").isdigit() else None
        return Measurement(counters["total"], counters["writes"], done.wall, done.cpu, done.maxrss_mb, changed, counters, done.stdout)

    def run(self, label, tasks, record=True, module_defaults=None):
        """Run one playbook of ``tasks``; record requests, writes, seconds and changed tasks under ``label``."""
        step = self.measure(label, tasks, module_defaults)
        if record:
            self.rows.append((label, step.requests, step.writes, step.wall, "?" if step.changed is None else step.changed))
        return step.counters

    def table(self):
        header = ("scenario", "requests", "writes", "seconds", "changed tasks")
        return markdown(header, [(label, str(total), str(writes), "%.1f" % seconds, str(changed))
                                 for label, total, writes, seconds, changed in self.rows])

    def main(self, scenarios):
        """Start the lab, run the scenarios, always stop it and print the table."""
        try:
            self.start_lab()
            for scenario in scenarios:
                scenario()
        finally:
            self.close()
            print(self.table())
