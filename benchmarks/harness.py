# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every benchmark shares: a lab of its own on loopback, playbooks run with ansible-playbook
against it, the lab's request counters read around each run, and the table printed at the end.

A product benchmark subclasses ``LabBench``, names the lab product and the environment its
modules read (``product`` and ``environment(lab)``), and calls ``run(label, tasks)``.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
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

    def admin(self, method, path):
        resp = requests.request(method, self.admin_url(self.lab) + path, verify=self.lab["ca_path"], timeout=ADMIN_TIMEOUT)
        resp.raise_for_status()
        return resp.json() if resp.content else None

    def reset(self):
        """The product's objects back to the lab's startup state (counters too)."""
        self.admin("POST", "/_lab/reset")

    def run(self, label, tasks, record=True, module_defaults=None):
        """Run one playbook of ``tasks``; record requests, writes, seconds and changed tasks under ``label``."""
        path = os.path.join(self.workdir, "bench.yml")
        with open(path, "w") as handle:
            yaml.safe_dump(play(tasks, module_defaults), handle, sort_keys=False)
        self.admin("POST", "/_lab/counters/reset")
        started = time.monotonic()
        proc = subprocess.run(["ansible-playbook", path], env=self.env, capture_output=True, text=True, timeout=PLAYBOOK_TIMEOUT,
                              check=False, stdin=subprocess.DEVNULL)
        seconds = time.monotonic() - started
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-2000:])
            raise SystemExit("benchmark step '%s' failed" % label)
        counters = self.admin("GET", "/_lab/counters")
        recaps = [line for line in proc.stdout.splitlines() if "changed=" in line and "ok=" in line]
        recap = dict(x.split("=") for x in (recaps[-1].split(":", 1)[1].split() if recaps else []) if "=" in x)
        if record:
            self.rows.append((label, counters["total"], counters["writes"], seconds, recap.get("changed", "?")))
        return counters

    def table(self):
        header = ("scenario", "requests", "writes", "seconds", "changed tasks")
        rows = [(label, str(total), str(writes), "%.1f" % seconds, str(changed)) for label, total, writes, seconds, changed in self.rows]
        widths = [max(len(r[i]) for r in rows + [header]) for i in range(5)]
        lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(header, widths, strict=True)) + " |"]
        lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        lines.extend("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows)
        return "\n".join(lines)

    def main(self, scenarios):
        """Start the lab, run the scenarios, always stop it and print the table."""
        try:
            self.start_lab()
            for scenario in scenarios:
                scenario()
        finally:
            self.close()
            print(self.table())
