# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NSX-T benchmarks against the lab: API requests and seconds per scenario, printed as a table.

Scenarios (the lab's NSX objects are reset before each group of scenarios, so they do not
see each other's objects):
  NSGroups, list form      - one nsxt_ns_group task with ``items`` of N groups: create, then a
                             no-change re-run, then an edit of one group in the list;
  NSGroups, loop           - the same N groups with a per-item Ansible ``loop``: create, no-change re-run;
  firewall section         - one section of R rules (between the N groups): create, no-change
                             re-run, a one-rule edit;
  Policy groups, list form - the N groups with nsxt_policy_group ``items`` (one hierarchical
                             PATCH of /infra): create, no-change re-run, an edit of one group;
  security policy          - one policy of R rules between those groups: create, no-change
                             re-run, a one-rule edit.

Every run is bounded: N and R are fixed on the command line and each playbook has a time
limit. Traffic goes to the lab on loopback only.
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
ADMIN_TIMEOUT = 30


def ns_group(index, tag=None):
    return {
        "name": "bench-nsg-%04d" % index,
        "description": "Benchmark NSGroup %d" % index,
        "criteria": [{"all": [
            {"target_type": "LogicalPort", "scope": "app", "tag": tag or "svc-%d" % index},
            {"target_type": "LogicalPort", "scope": "ncp/project", "tag": "bench"},
        ]}],
    }


def policy_group(index, tag=None):
    return {
        "name": "bench-pg-%04d" % index,
        "description": "Benchmark group %d" % index,
        "criteria": [{"conditions": [
            {"member_type": "SegmentPort", "tag": "app|%s" % (tag or "svc-%d" % index)},
            {"member_type": "SegmentPort", "tag": "ncp/project|bench"},
        ]}],
    }


def rule(index, groups, prefix, port=None):
    """Rule ``index`` of a section or policy: from one group to the next, on its own port."""
    return {
        "name": "rule-%04d" % index,
        "action": "allow",
        "sources": ["%s%04d" % (prefix, index % groups)],
        "destinations": ["%s%04d" % (prefix, (index + 1) % groups)],
        "services": ["tcp/%d" % (port or 10000 + index)],
    }


def play(tasks):
    return [{
        "name": "Benchmark",
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "vars": {"ansible_python_interpreter": sys.executable},
        "tasks": tasks,
    }]


class Bench:
    def __init__(self, workdir, groups, rules):
        self.workdir = workdir
        self.groups = groups
        self.rules = rules
        self.labdir = os.path.join(workdir, "lab")
        self.rows = []

    def start_lab(self):
        subprocess.run([sys.executable, LABCTL, "start", "--dir", self.labdir], check=True, stdin=subprocess.DEVNULL)
        with open(os.path.join(self.labdir, "lab.json")) as handle:
            self.lab = json.load(handle)["nsxt"]
        self.env = dict(os.environ)
        self.env.update(
            NSXT_HOST=self.lab["host"],
            NSXT_USERNAME=self.lab["username"],
            NSXT_PASSWORD=self.lab["password"],
            NSXT_CA_PATH=self.lab["ca_path"],
            ANSIBLE_COLLECTIONS_PATH=self.collections_path(),
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_LOCALHOST_WARNING="0",
            ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
            PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", os.defpath)]),
        )

    def stop_lab(self):
        subprocess.run([sys.executable, LABCTL, "stop", "--dir", self.labdir], check=False, stdin=subprocess.DEVNULL)

    def collections_path(self):
        path = os.path.join(self.workdir, "collections")
        link = os.path.join(path, "ansible_collections", "microseg", "segmentation")
        os.makedirs(os.path.dirname(link), exist_ok=True)
        if not os.path.exists(link):
            os.symlink(ROOT, link)
        return path

    def admin(self, method, path):
        resp = requests.request(method, "https://%s%s" % (self.lab["host"], path), verify=self.lab["ca_path"], timeout=ADMIN_TIMEOUT)
        resp.raise_for_status()
        return resp.json() if resp.content else None

    def reset(self):
        """NSX objects back to the lab's startup state (counters too)."""
        self.admin("POST", "/_lab/reset")

    def run(self, label, tasks, record=True):
        path = os.path.join(self.workdir, "bench.yml")
        with open(path, "w") as handle:
            yaml.safe_dump(play(tasks), handle, sort_keys=False)
        self.admin("POST", "/_lab/counters/reset")
        started = time.monotonic()
        proc = subprocess.run(
            ["ansible-playbook", path], env=self.env, capture_output=True, text=True, timeout=PLAYBOOK_TIMEOUT, check=False,
            stdin=subprocess.DEVNULL,
        )
        seconds = time.monotonic() - started
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-2000:])
            raise SystemExit("benchmark step '%s' failed" % label)
        counters = self.admin("GET", "/_lab/counters")
        changed = [line for line in proc.stdout.splitlines() if "changed=" in line and "ok=" in line]
        recap = changed[-1].split(":", 1)[1].split() if changed else []
        recap = dict(x.split("=") for x in recap if "=" in x)
        if record:
            self.rows.append((label, counters["total"], counters["writes"], seconds, recap.get("changed", "?")))
        return counters

    # ---------------------------------------------------------------- Manager API

    def ns_groups_list_form(self):
        self.reset()
        items = [ns_group(i) for i in range(self.groups)]
        task = {"name": "NSGroups", "microseg.segmentation.nsxt_ns_group": {"items": items, "purge": True}}
        self.run("NSGroups, list form: create %d" % self.groups, [task])
        self.run("NSGroups, list form: re-run, no change", [task])
        items[self.groups // 2] = ns_group(self.groups // 2, tag="edited")
        self.run("NSGroups, list form: edit one group", [task])

    def ns_groups_loop(self):
        self.reset()
        task = {
            "name": "NSGroups",
            "microseg.segmentation.nsxt_ns_group": {
                "name": "{{ item.name }}",
                "description": "{{ item.description }}",
                "criteria": "{{ item.criteria }}",
            },
            "loop": [ns_group(i) for i in range(self.groups)],
            "loop_control": {"label": "{{ item.name }}"},
        }
        self.run("NSGroups, loop: create %d" % self.groups, [task])
        self.run("NSGroups, loop: re-run, no change", [task])

    def firewall_section(self):
        self.reset()
        groups = {"name": "NSGroups", "microseg.segmentation.nsxt_ns_group": {"items": [ns_group(i) for i in range(self.groups)]}}
        self.run("(setup) NSGroups", [groups], record=False)
        rules = [rule(i, self.groups, "bench-nsg-") for i in range(self.rules)]

        def task():
            return {"name": "Section", "microseg.segmentation.nsxt_firewall_section": {
                "name": "bench-section", "stateful": True, "position": "top", "rules": rules}}

        self.run("firewall section: create %d rules" % self.rules, [task()])
        self.run("firewall section: re-run, no change", [task()])
        rules[self.rules // 2] = rule(self.rules // 2, self.groups, "bench-nsg-", port=9999)
        self.run("firewall section: edit one rule", [task()])

    # ---------------------------------------------------------------- Policy API

    def policy(self):
        self.reset()
        items = [policy_group(i) for i in range(self.groups)]
        groups = {"name": "Groups", "microseg.segmentation.nsxt_policy_group": {"items": items, "purge": True}}
        self.run("Policy groups, list form: create %d" % self.groups, [groups])
        self.run("Policy groups, list form: re-run, no change", [groups])
        items[self.groups // 2] = policy_group(self.groups // 2, tag="edited")
        self.run("Policy groups, list form: edit one group", [groups])
        rules = [rule(i, self.groups, "bench-pg-") for i in range(self.rules)]

        def task():
            return {"name": "Policy", "microseg.segmentation.nsxt_security_policy": {
                "name": "bench-policy", "category": "Application", "sequence_number": 10, "rules": rules}}

        self.run("security policy: create %d rules" % self.rules, [task()])
        self.run("security policy: re-run, no change", [task()])
        rules[self.rules // 2] = rule(self.rules // 2, self.groups, "bench-pg-", port=9999)
        self.run("security policy: edit one rule", [task()])

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
    parser.add_argument("--groups", type=int, default=200, help="NSGroups and Policy groups per scenario (2 to 1000)")
    parser.add_argument("--rules", type=int, default=1000, help="rules of the section and of the policy (1 to 1000, NSX's limit)")
    parser.add_argument("--skip-loop", action="store_true", help="leave out the per-item loop scenario")
    args = parser.parse_args()
    if not 2 <= args.groups <= 1000:
        parser.error("--groups must be between 2 and 1000")
    if not 1 <= args.rules <= 1000:
        parser.error("--rules must be between 1 and 1000")
    workdir = tempfile.mkdtemp(prefix="microseg-bench-nsxt-")
    bench = Bench(workdir, args.groups, args.rules)
    try:
        bench.start_lab()
        bench.ns_groups_list_form()
        if not args.skip_loop:
            bench.ns_groups_loop()
        bench.firewall_section()
        bench.policy()
    finally:
        bench.stop_lab()
        print(bench.table())
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
