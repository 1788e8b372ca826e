# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Flow-check benchmark against the lab: requests (reads only) and seconds, printed as a table.

Setup (not timed, straight to the lab's API): a namespace whose enforcers report P processing
units (the lab's workloads admin route), then R network rulesets and E external networks in one
``POST /import``. Scenarios: one ``prisma_flow_check`` task with F flows (pod to pod, Internet to
pod, pod to an address, pod to a host name), the same in check mode, and a task with 10 flows
(the fixed cost of reading the console).

Every run is bounded: the sizes are fixed on the command line and each playbook has a time limit.
Traffic goes to the lab on loopback only.
"""

import argparse

import requests
from harness import ADMIN_TIMEOUT, LabBench

NAMESPACE = "bench-flows"


def external_network(index):
    return {
        "name": "ext-%03d" % index,
        "entries": ["10.%d.0.0/16" % index, "!10.%d.255.0/24" % index, "svc-%d.example.com" % index, "*.svc-%d.example.org" % index],
        "associatedTags": ["externalnetwork:name=ext-%03d" % index, "zone=%d" % (index % 10)],
    }


def ruleset(index, apps, networks):
    """Ruleset ``index``: app N reaches app N+1 on tcp/8000+N, external network ``index`` mod E on tcp/443."""
    app, net = index % apps, index % networks
    after, before = (app + 1) % apps, (app - 1) % apps
    return {
        "name": "rs-%04d" % index,
        "subject": [["$identity=processingunit", "app=svc-%d" % app]],
        "incomingRules": [
            {"action": "Allow", "object": [["app=svc-%d" % before]], "protocolPorts": ["tcp/%d" % (8000 + before)]},
            {"action": "Allow", "object": [["externalnetwork:name=ext-%03d" % net]], "protocolPorts": ["tcp/443"]},
        ],
        "outgoingRules": [
            {"action": "Allow", "object": [["app=svc-%d" % after]], "protocolPorts": ["tcp/%d" % (8000 + app)]},
            {"action": "Allow", "object": [["zone=%d" % (net % 10)]], "protocolPorts": ["tcp/443", "udp/53"]},
            {"action": "Reject", "object": [["externalnetwork:name=ext-%03d" % net]], "protocolPorts": ["tcp/22"]},
        ],
    }


def flows(count, apps, networks, namespace):
    out = []
    for index in range(count):
        app, peer = index % apps, (index + 1) % apps
        pod = {"namespace": namespace, "tags": ["app=svc-%d" % app]}
        kind = index % 8
        if kind in (0, 4):
            port = 8000 + (app if kind == 0 else peer)  # allowed both ways, or not at all
            flow = {"source": pod, "destination": {"namespace": namespace, "tags": ["app=svc-%d" % peer]}, "service": "tcp/%d" % port}
        elif kind in (1, 5):
            flow = {"source": "10.%d.1.%d" % (index % networks, index % 250), "destination": pod, "service": "tcp/443"}
        elif kind == 2:
            flow = {"source": pod, "destination": "10.%d.1.7" % (index % networks), "service": "tcp/22"}  # a Reject rule
        elif kind == 6:
            flow = {"source": pod, "destination": "10.%d.255.7" % (index % networks), "service": "tcp/443"}  # an excluded range
        else:
            flow = {"source": pod, "destination": "api.svc-%d.example.org" % (index % networks), "service": "tcp/443"}
        flow["name"] = "flow-%04d" % index
        out.append(flow)
    return out


class FlowBench(LabBench):
    product = "prisma"

    def __init__(self, rulesets, networks, apps, replicas, flow_count):
        super().__init__()
        self.rulesets = rulesets
        self.networks = networks
        self.apps = apps
        self.replicas = replicas
        self.flow_count = flow_count
        self.namespace = None

    def environment(self, lab):
        return {"PRISMA_API": lab["url"], "PRISMA_TOKEN": lab["token"], "PRISMA_CA_PATH": lab["ca_path"]}

    def api(self, method, path, namespace, body=None):
        headers = {"Authorization": "Bearer " + self.lab["token"], "X-Namespace": namespace}
        resp = requests.request(method, self.lab["url"] + path, json=body, headers=headers, verify=self.lab["ca_path"], timeout=300)
        resp.raise_for_status()
        return resp.json()

    def setup(self):
        self.namespace = "%s/%s" % (self.lab["namespace"], NAMESPACE)
        units = [{"name": "svc-%d-%d" % (a, r), "type": "Docker", "tags": ["app=svc-%d" % a, "@app:k8s:namespace=bench"]}
                 for a in range(self.apps) for r in range(self.replicas)]
        resp = requests.post(self.lab["url"] + "/_lab/prisma/workloads", json={self.namespace: units}, verify=self.lab["ca_path"],
                             timeout=ADMIN_TIMEOUT)
        resp.raise_for_status()
        self.api("POST", "/namespaces", self.lab["namespace"], {
            "name": NAMESPACE, "tagPrefixes": ["app=", "zone="],
            "defaultPUIncomingTrafficAction": "Reject", "defaultPUOutgoingTrafficAction": "Reject"})
        data = {
            "externalnetworks": [external_network(i) for i in range(self.networks)],
            "networkrulesetpolicies": [ruleset(i, self.apps, self.networks) for i in range(self.rulesets)],
        }
        self.api("POST", "/import", self.namespace, {"data": {"label": "bench-flows", "data": data}})

    def check(self, label, count, check_mode=False):
        task = {"name": "Flow check", "microseg.segmentation.prisma_flow_check": {"flows": flows(count, self.apps, self.networks, self.namespace)},
                "register": "checked"}
        if check_mode:
            task["check_mode"] = True
        summary = {"name": "Summary", "ansible.builtin.assert": {"that": ["checked.counts.total == %d" % count], "quiet": True}}
        counters = self.run(label, [task, summary], module_defaults={"group/microseg.segmentation.prisma": {"namespace": self.namespace}})
        if counters["writes"] != 0:
            raise SystemExit("the flow check wrote to the lab: %s" % counters)

    def scenarios(self):
        size = "%d rulesets, %d external networks, %d PUs" % (self.rulesets, self.networks, self.apps * self.replicas)
        return [
            self.setup,
            lambda: self.check("flow check: 10 flows (%s)" % size, 10),
            lambda: self.check("flow check: %d flows (%s)" % (self.flow_count, size), self.flow_count),
            lambda: self.check("flow check: %d flows, check mode" % self.flow_count, self.flow_count, check_mode=True),
        ]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rulesets", type=int, default=500)
    parser.add_argument("--networks", type=int, default=100)
    parser.add_argument("--apps", type=int, default=100, help="distinct app=svc-N tags")
    parser.add_argument("--replicas", type=int, default=2, help="processing units per app")
    parser.add_argument("--flows", type=int, default=1000)
    args = parser.parse_args()
    bench = FlowBench(args.rulesets, args.networks, args.apps, args.replicas, args.flows)
    bench.main(bench.scenarios())


if __name__ == "__main__":
    main()
