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

from harness import LabBench


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


class PrismaBench(LabBench):
    product = "prisma"

    def __init__(self, count):
        super().__init__()
        self.count = count

    def environment(self, lab):
        return {"PRISMA_API": lab["url"], "PRISMA_TOKEN": lab["token"], "PRISMA_CA_PATH": lab["ca_path"]}

    def in_namespace(self, label, namespace, tasks, record=True):
        return self.run(label, tasks, record=record, module_defaults={"group/microseg.segmentation.prisma": {"namespace": namespace}})

    def namespace(self, name):
        self.in_namespace("setup", self.lab["namespace"], [{
            "name": "Namespace",
            "microseg.segmentation.prisma_namespace": {"name": name, "type": "Group"},
        }], record=False)
        return "%s/%s" % (self.lab["namespace"], name)

    def list_form(self):
        namespace = self.namespace("bench-list")
        items = [ruleset(i) for i in range(self.count)]
        task = {"name": "Rulesets", "microseg.segmentation.prisma_network_ruleset": {"items": items, "purge": True, "owner": "bench"}}
        self.in_namespace("list form: create %d" % self.count, namespace, [task])
        self.in_namespace("list form: re-run, no change", namespace, [task])
        items[self.count // 2] = ruleset(self.count // 2, port=8081)
        self.in_namespace("list form: edit one rule", namespace, [task])

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
        self.in_namespace("loop: create %d" % self.count, namespace, [task])
        self.in_namespace("loop: re-run, no change", namespace, [task])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=500, help="rulesets per scenario (1 to 2000)")
    parser.add_argument("--skip-loop", action="store_true", help="leave out the per-item loop scenario")
    args = parser.parse_args()
    if not 1 <= args.count <= 2000:
        parser.error("--count must be between 1 and 2000")
    bench = PrismaBench(args.count)
    bench.main([bench.list_form] + ([] if args.skip_loop else [bench.loop]))


if __name__ == "__main__":
    main()
