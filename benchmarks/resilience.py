# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Never twice, never lost: concurrent runs, an API killed mid-run, and faulted responses.

Against a lab of its own (loopback only, SQLite persistence so that a killed lab keeps what it
committed), each scenario runs the collection's list forms with ``ansible-playbook`` and then
counts, through the API, the objects the product holds:

  concurrent   - two runs of one 100-object declaration started at once (Prisma rulesets,
                 NSX Policy groups, NSX Manager NSGroups, Secure Workload policies and scopes)
  killed       - a 500-ruleset run whose lab is SIGKILLed mid-run and restarted (5 trials)
  faulted      - one run with about 10 % of the product's requests faulted (429 with
                 Retry-After, 503, 502, connections dropped before and after the write)

After each scenario, runs of the same declaration follow until one reports no change (at
most 3): "runs needed" counts the scenario's run(s) plus those that still changed something
(1 means the scenario's own run converged). The table gives runs, faults injected, objects
expected and found, duplicates (objects beyond one per name) and seconds.

``tests/integration/test_concurrency.py`` runs these scenarios and asserts each row. Every
load is bounded (object count, trials, timeouts); only the lab this script started is killed,
by the pid its state directory records.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LABCTL = os.path.join(ROOT, "lab", "labctl.py")
PLAYBOOK_TIMEOUT = 900
WAIT_TIMEOUT = 120
FOLLOW_UP_RUNS = 3

sys.path.insert(0, HERE)
from nsxt import ns_group, policy_group  # noqa: E402  pylint: disable=wrong-import-position
from harness import markdown  # noqa: E402  pylint: disable=wrong-import-position
from prisma_bench import ruleset  # noqa: E402  pylint: disable=wrong-import-position
from secure_workload import policy  # noqa: E402  pylint: disable=wrong-import-position

# The share of requests faulted: each rule takes every N-th request the rules before it let pass.
# The NSX Policy API writes a whole list form in one hierarchical PATCH (three requests in all), so
# its run has every other request faulted, the write's answer lost after it was applied included.
DENSE_FAULT_RULES = [
    {"method": "PATCH", "drop": True, "after_handling": True, "count": 1},
    {"status": 503, "every": 2, "count": 10000},
    {"status": 429, "retry_after": 1, "every": 2, "count": 10000},
]
FAULT_RULES = [
    {"status": 429, "retry_after": 1, "every": 29, "count": 10000},
    {"status": 503, "every": 31, "count": 10000},
    {"status": 502, "every": 37, "count": 10000},
    {"drop": True, "every": 41, "count": 10000},
    {"drop": True, "after_handling": True, "every": 43, "count": 10000},
]


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def parse_env(path):
    values = {}
    with open(path) as handle:
        for line in handle:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.removeprefix("export ").split("=", 1)
                values[key.strip()] = value.strip().strip("'\"")
    return values


class Lab:
    """A lab of this script's own, with SQLite persistence and fixed ports, that can be killed and restarted."""

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "lab")
        self.ports = {"--prisma-port": free_port(), "--nsxt-port": free_port(), "--sw-port": free_port()}
        self.env = None

    def start(self):
        command = [sys.executable, LABCTL, "start", "--dir", self.dir, "--sqlite"]
        for flag, port in self.ports.items():
            command += [flag, str(port)]
        subprocess.run(command, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, timeout=WAIT_TIMEOUT)
        self.env = parse_env(os.path.join(self.dir, "lab.env"))

    def stop(self):
        subprocess.run([sys.executable, LABCTL, "stop", "--dir", self.dir], check=False, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, timeout=WAIT_TIMEOUT)

    def kill(self):
        """SIGKILL the lab server this lab started (the pid its state directory records), and wait until it is gone."""
        with open(os.path.join(self.dir, "lab.pid")) as handle:
            pid = int(handle.read().strip())
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + WAIT_TIMEOUT
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        raise RuntimeError("the killed lab (pid %d) did not exit" % pid)


class Resilience:
    """The scenarios; ``env`` is the lab's connection environment (lab.env), ``admin`` its admin calls."""

    def __init__(self, env, workdir):
        self.lab_env = dict(env)
        self.workdir = workdir
        self.rows = []
        collections = os.path.join(workdir, "collections")
        link = os.path.join(collections, "ansible_collections", "microseg", "segmentation")
        os.makedirs(os.path.dirname(link), exist_ok=True)
        if not os.path.exists(link):
            os.symlink(ROOT, link)
        if collections not in sys.path:
            sys.path.insert(0, collections)
        self.env = dict(os.environ)
        self.env.update(self.lab_env)
        self.env.update(ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0",
                        ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_RETRY_FILES_ENABLED="0",
                        PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", os.defpath)]))
        self.env.pop("PYTHONPATH", None)
        self.seq = 0

    # ---- ansible-playbook

    def _write(self, tasks):
        self.seq += 1
        path = os.path.join(self.workdir, "play-%03d.yml" % self.seq)
        play = [{"name": "Resilience", "hosts": "localhost", "connection": "local", "gather_facts": False,
                 "vars": {"ansible_python_interpreter": sys.executable}, "tasks": tasks}]
        with open(path, "w") as handle:
            yaml.safe_dump(play, handle, sort_keys=False)
        return path

    def start(self, tasks, verbosity=None):
        """Start one playbook in the background; returns ``(process, log path)``."""
        path = self._write(tasks)
        log = path[:-4] + ".log"
        command = ["ansible-playbook", "-i", "localhost,", path] + ([verbosity] if verbosity else [])
        with open(log, "w") as out:
            proc = subprocess.Popen(command, env=self.env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        return proc, log

    @staticmethod
    def finish(started):
        """Wait for a playbook started with ``start``; returns ``(rc, output, changed tasks)``."""
        proc, log = started
        try:
            rc = proc.wait(timeout=PLAYBOOK_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=WAIT_TIMEOUT)
            rc = -1
        with open(log) as handle:
            output = handle.read()
        recaps = [line for line in output.splitlines() if "changed=" in line and "ok=" in line]
        recap = dict(x.split("=") for x in (recaps[-1].split(":", 1)[1].split() if recaps else []) if "=" in x)
        return rc, output, int(recap.get("changed", -1))

    def run(self, tasks):
        return self.finish(self.start(tasks))

    # ---- the lab's admin routes

    def admin(self, base, ca, method, path, body=None):
        import requests  # pylint: disable=import-outside-toplevel

        resp = requests.request(method, base.rstrip("/") + path, json=body, verify=ca, timeout=30)
        resp.raise_for_status()
        return resp.json() if resp.content else None

    def product_admin(self, product):
        env = self.lab_env
        if product == "prisma":
            return env["PRISMA_API"], env["PRISMA_CA_PATH"]
        if product == "nsxt":
            return "https://" + env["NSXT_HOST"], env["NSXT_CA_PATH"]
        return env["SW_URL"], env["SW_CA_PATH"]

    # ---- what the product holds, read through the collection's own connections

    def _params(self, product):
        env = self.lab_env
        if product == "prisma":
            return {"api_url": env["PRISMA_API"], "token": env["PRISMA_TOKEN"], "namespace": env["PRISMA_NAMESPACE"],
                    "ca_path": env["PRISMA_CA_PATH"], "validate_certs": True, "timeout": 30}
        if product == "nsxt":
            return {"host": env["NSXT_HOST"], "username": env["NSXT_USERNAME"], "password": env["NSXT_PASSWORD"],
                    "ca_path": env["NSXT_CA_PATH"], "validate_certs": True, "timeout": 30, "session": False}
        return {"url": env["SW_URL"], "api_key": env["SW_API_KEY"], "api_secret": env["SW_API_SECRET"], "ca_path": env["SW_CA_PATH"],
                "validate_certs": True, "timeout": 60}

    def names(self, product, where):
        """The names (keys) of the objects ``where`` designates, one entry per object."""
        # pylint: disable=import-outside-toplevel
        if product == "prisma":
            from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.common import PrismaConnection

            connection = PrismaConnection(self._params("prisma"))
            try:
                return [o["name"] for o in connection.list_all("/networkrulesetpolicies", namespace=where) if o.get("namespace") == where]
            finally:
                connection.close()
        if product == "nsxt":
            from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.common import NsxtConnection

            connection = NsxtConnection(self._params("nsxt"))
            try:
                kind, prefix = where
                path = "/policy/api/v1/infra/domains/default/groups" if kind == "policy" else "/api/v1/ns-groups"
                key = "id" if kind == "policy" else "display_name"
                return [o[key] for o in connection.list_all(path) if str(o.get(key, "")).startswith(prefix)]
            finally:
                connection.close()
        from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.common import SwConnection

        connection = SwConnection(self._params("sw"))
        try:
            if isinstance(where, tuple):  # scopes: ("scopes", name prefix)
                return [s["short_name"] for s in connection.request("GET", "/app_scopes") or [] if s.get("short_name", "").startswith(where[1])]
            workspaces = [w for w in connection.request("GET", "/applications") or [] if w.get("name") == where]
            policies = []
            for workspace in workspaces:
                data = connection.request("GET", "/applications/%s/policies" % workspace["id"]) or {}
                for item in list(data.get("absolute_policies") or []) + list(data.get("default_policies") or []):
                    policies.append("%s>%s:%s:%s" % (item.get("consumer_filter_id"), item.get("provider_filter_id"),
                                                     item.get("rank"), item.get("priority")))
            return policies
        finally:
            connection.close()

    # ---- the declarations

    def prisma_namespace(self):
        """A fresh child namespace of the lab's root, made with the namespace module."""
        short = "res-" + uuid.uuid4().hex[:8]
        rc, output, dummy = self.run([{"name": "Namespace", "microseg.segmentation.prisma_namespace": {"name": short, "type": "Group"}}])
        if rc != 0:
            raise RuntimeError("namespace setup failed:\n" + output[-3000:])
        return "%s/%s" % (self.lab_env["PRISMA_NAMESPACE"], short)

    def sw_setup(self, workspace):
        """A scope ``Default:<workspace>`` with the policies' two filters and its workspace; returns the scope."""
        scope = "Default:" + workspace
        rc, output, dummy = self.run([
            {"name": "Scope", "microseg.segmentation.secure_workload_scope": {
                "parent": "Default", "name": workspace, "query": {"type": "subnet", "field": "ip", "value": "10.0.0.0/8"}}},
            {"name": "Filters", "microseg.segmentation.secure_workload_inventory_filter": {"scope": scope, "items": [
                {"name": workspace + "-clients", "query": {"type": "subnet", "field": "ip", "value": "10.1.0.0/16"}},
                {"name": workspace + "-servers", "query": {"type": "subnet", "field": "ip", "value": "10.2.0.0/16"}}]}},
            {"name": "Workspace", "microseg.segmentation.secure_workload_workspace": {"scope": scope, "name": workspace}},
        ])
        if rc != 0:
            raise RuntimeError("Secure Workload setup failed:\n" + output[-3000:])
        return scope

    def declaration(self, product, count):
        """``(task, where, expected names)`` for ``count`` objects of ``product`` in a place of their own."""
        tag = uuid.uuid4().hex[:6]
        if product == "prisma":
            namespace = self.prisma_namespace()
            items = [ruleset(i) for i in range(count)]
            task = {"name": "Rulesets", "microseg.segmentation.prisma_network_ruleset": {"namespace": namespace, "items": items}}
            return task, namespace, [i["name"] for i in items]
        if product == "nsxt_policy":
            items = [dict(policy_group(i), name="r%s-pg-%04d" % (tag, i)) for i in range(count)]
            task = {"name": "Groups", "microseg.segmentation.nsxt_policy_group": {"items": items}}
            return task, ("policy", "r%s-" % tag), [i["name"] for i in items]
        if product == "nsxt_manager":
            items = [dict(ns_group(i), name="r%s-nsg-%04d" % (tag, i)) for i in range(count)]
            task = {"name": "NSGroups", "microseg.segmentation.nsxt_ns_group": {"items": items}}
            return task, ("manager", "r%s-" % tag), [i["name"] for i in items]
        if product == "secure_workload_scopes":
            items = [{"name": "r%s-s-%03d" % (tag, i), "query": {"type": "subnet", "field": "ip", "value": "10.%d.%d.0/24" % (40 + i // 250, i % 250)}}
                     for i in range(count)]
            task = {"name": "Scopes", "microseg.segmentation.secure_workload_scope": {"parent": "Default", "items": items}}
            return task, ("scopes", "r%s-" % tag), [i["name"] for i in items]
        workspace = "res-" + tag
        scope = self.sw_setup(workspace)
        # filter names of this workspace's own: the policy module resolves them across the root scope
        items = [dict(policy(i), consumer=workspace + "-clients", provider=workspace + "-servers") for i in range(count)]
        task = {"name": "Policies", "microseg.segmentation.secure_workload_policy": {"workspace": workspace, "scope": scope, "items": items}}
        return task, workspace, ["policy %d" % i for i in range(count)]

    @staticmethod
    def lab_product(product):
        return "nsxt" if product.startswith("nsxt") else "secure_workload" if product.startswith("secure_workload") else product

    # ---- scenarios

    def converge(self, task, runs):
        """Runs of ``task`` until one changes nothing (at most FOLLOW_UP_RUNS); returns the runs needed."""
        for extra in range(FOLLOW_UP_RUNS):
            rc, output, changed = self.run([task])
            if rc != 0:
                raise RuntimeError("follow-up run failed:\n" + output[-3000:])
            if changed == 0:
                return runs + extra
        return runs + FOLLOW_UP_RUNS

    def record(self, scenario, runs, faults, expected, found, started, rcs, needed):
        row = {"scenario": scenario, "runs": runs, "faults": faults, "expected": len(expected), "objects": len(found),
               "distinct": len(set(found)), "duplicates": len(found) - len(set(found)), "rcs": rcs, "runs_needed": needed,
               "seconds": round(time.monotonic() - started, 1)}
        self.rows.append(row)
        return row

    def concurrent(self, product, count=100):
        """Two runs of one declaration started at once; then the runs needed to converge."""
        task, where, expected = self.declaration(product, count)
        started = time.monotonic()
        first, second = self.start([task]), self.start([task])
        results = [self.finish(first), self.finish(second)]
        found = self.names(self.lab_product(product), where)
        needed = self.converge(task, 1)
        return self.record("%s: 2 concurrent runs x %d" % (product, count), 2, 0, expected, found, started,
                           [r[0] for r in results], needed), results

    def faulted(self, product, count):
        """One run with about 10 % of the product's requests faulted."""
        task, where, expected = self.declaration(product, count)
        base, ca = self.product_admin(self.lab_product(product))
        rules = DENSE_FAULT_RULES if product == "nsxt_policy" else FAULT_RULES
        self.admin(base, ca, "PUT", "/_lab/faults", {"rules": rules})
        started = time.monotonic()
        try:
            rc, output, dummy = self.run([task])
        finally:
            left = self.admin(base, ca, "GET", "/_lab/faults")["rules"]
            self.admin(base, ca, "DELETE", "/_lab/faults")
        injected = sum(r["count"] for r in rules) - sum(r["count"] for r in left)
        found = self.names(self.lab_product(product), where)
        needed = self.converge(task, 1) if rc == 0 else self.converge(task, 2)
        share = "every other request" if rules is DENSE_FAULT_RULES else "~10 %"
        return self.record("%s: %d objects, %s faulted" % (product, count, share), 1, injected, expected, found, started, [rc], needed), output

    def killed(self, lab, trials=5, count=500):
        """``trials`` runs of ``count`` rulesets, each with the lab SIGKILLed and restarted mid-run (the
        first at ``-vvv``). Returns the rows and the output of each killed run."""
        rows = []
        outputs = []
        base, ca = self.product_admin("prisma")
        for trial in range(trials):
            task, where, expected = self.declaration("prisma", count)
            target = int(count * (0.1 + 0.8 * trial / max(1, trials - 1)))
            started = time.monotonic()
            self.admin(base, ca, "POST", "/_lab/counters/reset")
            running = self.start([task], verbosity="-vvv" if trial == 0 else None)
            deadline = time.monotonic() + WAIT_TIMEOUT
            while time.monotonic() < deadline and running[0].poll() is None:
                routes = self.admin(base, ca, "GET", "/_lab/counters")["routes"]
                if routes.get("POST /networkrulesetpolicies", 0) >= target:
                    break
                time.sleep(0.05)
            lab.kill()
            time.sleep(0.5)
            lab.start()
            rc, output, dummy = self.finish(running)
            outputs.append(output)
            found = self.names("prisma", where)
            needed = self.converge(task, 1 if rc == 0 else 2)
            rows.append(self.record("prisma: %d rulesets, lab killed after ~%d creates (trial %d)" % (count, target, trial + 1),
                                    1, 1, expected, found, started, [rc], needed))
        return rows, outputs

    def table(self):
        header = ("scenario", "runs", "faults injected", "objects (expected)", "duplicates", "runs needed", "seconds")
        rows = [(r["scenario"], str(r["runs"]), str(r["faults"]), "%d (%d)" % (r["objects"], r["expected"]), str(r["duplicates"]),
                 str(r["runs_needed"]), "%.1f" % r["seconds"]) for r in self.rows]
        return markdown(header, rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100, help="objects per concurrent or faulted scenario (1 to 1000)")
    parser.add_argument("--rulesets", type=int, default=500, help="rulesets per killed-lab trial (1 to 2000)")
    parser.add_argument("--trials", type=int, default=5, help="killed-lab trials (0 to 10)")
    args = parser.parse_args()
    if not 1 <= args.count <= 1000 or not 1 <= args.rulesets <= 2000 or not 0 <= args.trials <= 10:
        parser.error("--count, --rulesets or --trials out of bounds")
    workdir = tempfile.mkdtemp(prefix="microseg-bench-resilience-")
    lab = Lab(workdir)
    bench = None
    try:
        lab.start()
        bench = Resilience(lab.env, workdir)
        for product in ("prisma", "nsxt_policy", "nsxt_manager", "secure_workload", "secure_workload_scopes"):
            bench.concurrent(product, args.count)
        for product, count in (("prisma", 3 * args.count), ("nsxt_policy", args.count), ("nsxt_manager", args.count),
                               ("secure_workload", args.count)):
            bench.faulted(product, count)
        bench.killed(lab, args.trials, args.rulesets)
    finally:
        lab.stop()
        if bench is not None:
            print(bench.table())
            print(json.dumps(bench.rows))
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
