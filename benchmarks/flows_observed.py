# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Observed-flows benchmark against the lab: ``prisma_flow_info`` over a week of recorded flow
reports, printed as a table (requests, seconds, reports in, merged flows, rulesets proposed).

Setup (not timed, straight to the lab's admin routes and API): a namespace in discovery mode with
the ``app=`` tag prefix whose enforcers report A apps of R replicas each, and F flow reports over
the last 7 days (``/_lab/prisma/flows``, in chunks): each app calls three others on their port,
the cluster DNS, the metadata service and public addresses on tcp/443; public clients call the
first apps on tcp/8080; the nodes probe every app. Reports repeat the same connections at other
times and from other replicas, as enforcers do. Scenarios: one ``prisma_flow_info`` task reading
the flows (page size 1000), the same proposing the rules, and proposing with pages of 10,000.

Every run is bounded: the sizes are fixed on the command line (F at most 1,000,000) and each
playbook has a time limit. Traffic goes to the lab on loopback only.
"""

import argparse
import json
import os
import random
import time

import requests
from harness import ADMIN_TIMEOUT, LabBench, markdown

NAMESPACE = "bench-observed"
MAX_FLOWS = 1000000
CHUNK = 10000
WEEK_MINUTES = 7 * 24 * 60 - 30


class FlowRecording:
    """The flow reports of one namespace, made from a seed so that two runs load the same week."""

    def __init__(self, namespace, apps, replicas, addresses, clients, nodes, seed=13):
        self.namespace = namespace
        self.apps = apps
        self.replicas = replicas
        self.addresses = ["52.%d.%d.%d" % (1 + i // 62500, (i // 250) % 250, 1 + i % 250) for i in range(addresses)]
        self.clients = ["203.0.113.%d" % (1 + i % 250) if i < 250 else "198.51.100.%d" % (1 + i % 250) if i < 500
                        else "34.%d.%d.%d" % (1 + i // 62500, (i // 250) % 250, 1 + i % 250) for i in range(clients)]
        self.nodes = ["10.128.%d.%d" % (i // 250, 2 + i % 250) for i in range(nodes)]
        self.random = random.Random(seed)

    def units(self):
        return [{"name": self.unit(a, r), "type": "Docker", "tags": ["app=svc-%d" % a, "@app:k8s:namespace=bench"]}
                for a in range(self.apps) for r in range(self.replicas)]

    @staticmethod
    def unit(app, replica):
        return "svc-%d-%d" % (app, replica)

    def report(self, source, destination, port, protocol=6):
        rnd = self.random
        flow = {"namespace": self.namespace, "action": "Accept", "observedAction": "Accept", "policyID": "default",
                "policyNamespace": self.namespace, "destinationPort": port, "protocol": protocol, "value": rnd.randint(1, 50),
                "timestamp": "-%dm" % rnd.randint(1, WEEK_MINUTES)}
        for side, end in (("source", source), ("destination", destination)):
            kind, ident, address = end
            flow[side + "Type"] = kind
            flow[side + "ID"] = ident
            flow[side + "IP"] = address
        return flow

    def pod(self, app):
        replica = self.random.randrange(self.replicas)
        return ("ProcessingUnit", self.unit(app, replica), "10.244.%d.%d" % (app // 250, 1 + app % 250))

    def one(self):
        """One report of a connection the week holds (the kinds weighted as a cluster's traffic is)."""
        rnd = self.random
        app = rnd.randrange(self.apps)
        kind = rnd.randrange(10)
        if kind < 4:
            peer = (app + 1 + rnd.randrange(3)) % self.apps
            return self.report(self.pod(app), self.pod(peer), 8000 + peer % 1000)
        if kind == 4:
            return self.report(self.pod(app), ("ExternalNetwork", "DNS", "10.96.0.10"), 53, protocol=17)
        if kind == 5:
            return self.report(self.pod(app), ("ExternalNetwork", "metadata", "169.254.169.254"), 80)
        if kind == 6:
            # each app reaches its own few public services
            target = self.addresses[(app * 7 + rnd.randrange(5)) % len(self.addresses)]
            return self.report(self.pod(app), ("ExternalNetwork", "internet", target), 443)
        if kind == 7:
            client = rnd.choice(self.clients)
            return self.report(("ExternalNetwork", "internet", client), self.pod(app % 5), 8080)
        node = rnd.choice(self.nodes)
        return self.report(("ExternalNetwork", "kubelet", node), self.pod(app), 8000 + app % 1000)

    def chunks(self, count):
        left = count
        while left > 0:
            size = min(CHUNK, left)
            yield [self.one() for dummy in range(size)]
            left -= size


class ObservedFlowBench(LabBench):
    product = "prisma"

    def __init__(self, flows, apps, replicas, addresses, clients, nodes):
        super().__init__()
        self.flow_count = flows
        self.sizes = (apps, replicas, addresses, clients, nodes)
        self.namespace = None
        self.results = []

    def environment(self, lab):
        return {"PRISMA_API": lab["url"], "PRISMA_TOKEN": lab["token"], "PRISMA_CA_PATH": lab["ca_path"]}

    def post(self, path, body, namespace=None, admin=True):
        headers = {} if admin else {"Authorization": "Bearer " + self.lab["token"], "X-Namespace": namespace}
        resp = requests.post(self.lab["url"] + path, json=body, headers=headers, verify=self.lab["ca_path"],
                             timeout=ADMIN_TIMEOUT if admin else 300)
        resp.raise_for_status()
        return resp.json()

    def setup(self):
        self.namespace = "%s/%s" % (self.lab["namespace"], NAMESPACE)
        recording = FlowRecording(self.namespace, *self.sizes)
        self.post("/_lab/prisma/workloads", {self.namespace: recording.units()})
        self.post("/namespaces", {"name": NAMESPACE, "type": "Kubernetes", "tagPrefixes": ["app="],
                                  "defaultPUIncomingTrafficAction": "Allow", "defaultPUOutgoingTrafficAction": "Allow"},
                  namespace=self.lab["namespace"], admin=False)
        loaded = 0
        for chunk in recording.chunks(self.flow_count):
            loaded = self.post("/_lab/prisma/flows", chunk)["namespaces"].get(self.namespace, 0)
        if loaded != self.flow_count:
            raise SystemExit("the lab holds %d flows of %s, not %d" % (loaded, self.namespace, self.flow_count))

    def info(self, label, propose, page_size):
        out = os.path.join(self.workdir, "summary.json")
        task = {"name": "Observed flows", "microseg.segmentation.prisma_flow_info": {
            "namespace": self.namespace, "window": "7d", "page_size": page_size, "propose": propose}, "register": "observed"}
        keep = {"name": "Keep the summary", "ansible.builtin.copy": {"content": "{{ observed.summary | to_json }}", "dest": out, "mode": "0600"}}
        started = time.monotonic()
        counters = self.run(label, [task, keep], record=False)
        seconds = time.monotonic() - started
        if counters["writes"] != 0:
            raise SystemExit("prisma_flow_info wrote to the lab: %s" % counters)
        with open(out) as handle:
            summary = json.load(handle)
        rulesets = str(summary["rulesets"]) if propose else "-"
        self.results.append((label, str(counters["total"]), "%.1f" % seconds, "{:,}".format(self.flow_count),
                             "{:,}".format(summary["flows"]), rulesets))

    def table(self):
        return markdown(("scenario", "requests", "seconds", "flows in", "merged flows", "rulesets proposed"), self.results)

    def scenarios(self):
        apps, replicas = self.sizes[0], self.sizes[1]
        size = "%d apps x %d replicas" % (apps, replicas)
        return [
            self.setup,
            lambda: self.info("flow info, pages of 1000 (%s)" % size, False, 1000),
            lambda: self.info("flow info + proposal, pages of 1000", True, 1000),
            lambda: self.info("flow info + proposal, pages of 10000", True, 10000),
        ]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flows", type=int, default=100000, help="flow reports loaded (at most %d)" % MAX_FLOWS)
    parser.add_argument("--apps", type=int, default=200, help="distinct app=svc-N tags")
    parser.add_argument("--replicas", type=int, default=2, help="processing units per app")
    parser.add_argument("--addresses", type=int, default=1000, help="public addresses the apps call")
    parser.add_argument("--clients", type=int, default=1000, help="public addresses calling the first five apps")
    parser.add_argument("--nodes", type=int, default=16, help="node addresses probing the apps")
    args = parser.parse_args()
    if not 1 <= args.flows <= MAX_FLOWS or min(args.apps, args.replicas, args.addresses, args.clients, args.nodes) < 1:
        parser.error("--flows must be from 1 to %d and every size at least 1" % MAX_FLOWS)
    bench = ObservedFlowBench(args.flows, args.apps, args.replicas, args.addresses, args.clients, args.nodes)
    bench.main(bench.scenarios())


if __name__ == "__main__":
    main()
