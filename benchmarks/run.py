# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmarks against the lab: API requests and seconds per scenario, printed as a table.

Scenarios (each in a namespace of its own, so they do not see each other's objects):
  list form  - one task with ``items`` of N rulesets: create, then a no-change re-run,
               then a one-rule edit of a single ruleset in the list;
  loop       - the same N rulesets with a per-item Ansible ``loop``: create, no-change re-run.

Every run is bounded: N is fixed on the command line and each playbook has a time limit.
Traffic goes to the lab on loopback only.
"""

import argparse
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


def ruleset(index, port=8080):
    return {
        "name": "rs-%04d" % index,
        "subject": [["app=svc-%d" % index, "$identity=processingunit"]],
        "incoming_rules": [
            {"object": [["app=client-%d" % index]], "protocol_ports": ["tcp/%d" % port, "tcp/443"]},
            {"object": [["externalnetwork:name=monitoring"]], "protocol_ports": ["tcp/9100"]},
        ],
        "outgoing_rules": [
            {"object": [["app=db-%d" % index]], "protocol_ports": ["tcp/5432"]},
            {"object": [["externalnetwork:name=dns"]], "protocol_ports": ["udp/53"]},
        ],
    }


def play(namespace, tasks):
    return [{
        "name": "Benchmark",
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "vars": {"ansible_python_interpreter": sys.executable},
        "module_defaults": {"group/microseg.segmentation.prisma": {"namespace": namespace}},
        "tasks": tasks,
    }]


class Bench:
    def __init__(self, workdir, count):
        self.workdir = workdir
        self.count = count
        self.labdir = os.path.join(workdir, "lab")
        self.rows = []

    def start_lab(self):
        subprocess.run([sys.executable, LABCTL, "start", "--dir", self.labdir], check=True)
        with open(os.path.join(self.labdir, "lab.json")) as handle:
            self.lab = json.load(handle)["prisma"]
        self.env = dict(os.environ)
        self.env.update(
            PRISMA_API=self.lab["url"],
            PRISMA_TOKEN=self.lab["token"],
            PRISMA_CA_PATH=self.lab["ca_path"],
            ANSIBLE_COLLECTIONS_PATH=self.collections_path(),
            ANSIBLE_NOCOLOR="1",
        )

    def stop_lab(self):
        subprocess.run([sys.executable, LABCTL, "stop", "--dir", self.labdir], check=False)

    def collections_path(self):
        path = os.path.join(self.workdir, "collections")
        link = os.path.join(path, "ansible_collections", "microseg", "segmentation")
        os.makedirs(os.path.dirname(link), exist_ok=True)
        if not os.path.exists(link):
            os.symlink(ROOT, link)
        return path

    def admin(self, method, path):
        resp = requests.request(method, self.lab["url"] + path, verify=self.lab["ca_path"], timeout=30)
        resp.raise_for_status()
        return resp.json() if resp.content else None

    def run(self, label, namespace, tasks):
        path = os.path.join(self.workdir, "bench.yml")
        with open(path, "w") as handle:
            yaml.safe_dump(play(namespace, tasks), handle, sort_keys=False)
        self.admin("POST", "/_lab/counters/reset")
        started = time.monotonic()
        proc = subprocess.run(
            ["ansible-playbook", path], env=self.env, capture_output=True, text=True, timeout=PLAYBOOK_TIMEOUT, check=False
        )
        seconds = time.monotonic() - started
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-2000:])
            raise SystemExit("benchmark step '%s' failed" % label)
        counters = self.admin("GET", "/_lab/counters")
        changed = [line for line in proc.stdout.splitlines() if "changed=" in line and "ok=" in line]
        recap = changed[-1].split(":", 1)[1].split() if changed else []
        recap = dict(x.split("=") for x in recap if "=" in x)
        self.rows.append((label, counters["total"], counters["writes"], seconds, recap.get("changed", "?")))

    def namespace(self, name):
        self.run("(setup) namespace %s" % name, self.lab["namespace"], [{
            "name": "Namespace",
            "microseg.segmentation.prisma_namespace": {"name": name, "type": "Group"},
        }])
        self.rows.pop()
        return "%s/%s" % (self.lab["namespace"], name)

    def list_form(self):
        namespace = self.namespace("bench-list")
        items = [ruleset(i) for i in range(self.count)]
        task = {"name": "Rulesets", "microseg.segmentation.prisma_network_ruleset": {"items": items, "purge": True}}
        self.run("list form: create %d" % self.count, namespace, [task])
        self.run("list form: re-run, no change", namespace, [task])
        items[self.count // 2] = ruleset(self.count // 2, port=8081)
        self.run("list form: edit one rule", namespace, [task])

    def loop(self):
        namespace = self.namespace("bench-loop")
        task = {
            "name": "Rulesets",
            "microseg.segmentation.prisma_network_ruleset": {
                "name": "{{ item.name }}",
                "subject": "{{ item.subject }}",
                "incoming_rules": "{{ item.incoming_rules }}",
                "outgoing_rules": "{{ item.outgoing_rules }}",
            },
            "loop": [ruleset(i) for i in range(self.count)],
            "loop_control": {"label": "{{ item.name }}"},
        }
        self.run("loop: create %d" % self.count, namespace, [task])
        self.run("loop: re-run, no change", namespace, [task])

    def table(self):
        header = ("scenario", "requests", "writes", "seconds", "changed tasks")
        widths = [max(len(str(r[i])) if i != 3 else 8 for r in self.rows + [header]) for i in range(5)]
        lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"]
        lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        for label, total, writes, seconds, changed in self.rows:
            cells = (label, str(total), str(writes), "%.1f" % seconds, str(changed))
            lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |")
        return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=500, help="rulesets per scenario (1 to 2000)")
    parser.add_argument("--skip-loop", action="store_true", help="leave out the per-item loop scenario")
    args = parser.parse_args()
    if not 1 <= args.count <= 2000:
        parser.error("--count must be between 1 and 2000")
    workdir = tempfile.mkdtemp(prefix="microseg-bench-")
    bench = Bench(workdir, args.count)
    try:
        bench.start_lab()
        bench.list_form()
        if not args.skip_loop:
            bench.loop()
    finally:
        bench.stop_lab()
        print(bench.table())
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
