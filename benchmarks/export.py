# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Export benchmark against the lab: read what a console holds as list-form declarations, then apply
that export back to the same console (``adopt: true``), which must write nothing.

Scenarios, each on a lab of its own (setup not counted): Prisma, R network rulesets in one namespace;
NSX-T Manager, G NSGroups; Secure Workload, P policies in one workspace. For each: the export alone
(``*_info`` with ``export: true``), then the export and its apply in one playbook. The tables give
API requests, writes and seconds per scenario.

Every run is bounded: the sizes are fixed on the command line and each playbook has a time limit.
Traffic goes to the lab on loopback only.
"""

import argparse

from nsxt import NsxtBench, ns_group
from prisma_bench import PrismaBench, ruleset
from secure_workload import SCOPE, SecureWorkloadBench
from secure_workload import policy as sw_policy

EXPORTED = "{{ exported.exports }}"


def apply_task(module, options):
    """The task that applies every entry of the registered export with ``module``'s list form."""
    arguments = dict((option, "{{ item.options.%s | default(omit) }}" % option) for option in options)
    arguments.update({"items": "{{ item['items'] }}"})
    return {"name": "Apply the export", module: arguments, "loop": EXPORTED, "loop_control": {"label": "{{ item.options }}"}}


class PrismaExport(PrismaBench):
    def scenario(self):
        namespace = self.namespace("bench-export")
        items = [ruleset(i) for i in range(self.count)]
        self.in_namespace("setup", namespace, [{"name": "Rulesets", "microseg.segmentation.prisma_network_ruleset": {
            "items": items, "owner": "bench"}}], record=False)
        export = {"name": "Export", "register": "exported", "microseg.segmentation.prisma_info": {
            "kind": "network_ruleset", "export": True}}
        self.in_namespace("Prisma: export %d rulesets" % self.count, namespace, [export])
        apply = apply_task("microseg.segmentation.prisma_network_ruleset", ("owner",))
        apply["microseg.segmentation.prisma_network_ruleset"]["adopt"] = True
        self.in_namespace("Prisma: export, then apply it to the same console", namespace, [export, apply])


class NsxtExport(NsxtBench):
    def scenario(self):
        self.reset()
        items = [ns_group(i) for i in range(self.groups)]
        self.run("setup", [{"name": "NSGroups", "microseg.segmentation.nsxt_ns_group": {"items": items, "owner": "bench"}}], record=False)
        export = {"name": "Export", "register": "exported", "microseg.segmentation.nsxt_info": {"kind": "ns_group", "export": True}}
        self.run("NSX Manager: export %d NSGroups" % self.groups, [export])
        apply = apply_task("microseg.segmentation.nsxt_ns_group", ("owner",))
        apply["microseg.segmentation.nsxt_ns_group"]["adopt"] = True
        self.run("NSX Manager: export, then apply it to the same console", [export, apply])


class SecureWorkloadExport(SecureWorkloadBench):
    def scenario(self):
        self.setup()
        self.run("setup", [{"name": "Policies", "microseg.segmentation.secure_workload_policy": {
            "workspace": "bench", "scope": SCOPE, "items": [sw_policy(i) for i in range(self.count)]}}], record=False)
        export = {"name": "Export", "register": "exported", "microseg.segmentation.secure_workload_info": {
            "kind": "workspace", "scope": SCOPE, "export": True}}
        self.run("Secure Workload: export %d policies" % self.count, [export])
        apply = apply_task("microseg.segmentation.secure_workload_policy", ("workspace", "scope"))
        apply["loop"] = "{{ exported.exports | selectattr('module', 'eq', 'microseg.segmentation.secure_workload_policy') }}"
        self.run("Secure Workload: export, then apply its policies to the same console", [export, apply])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rulesets", type=int, default=2000, help="Prisma network rulesets (1 to 5000)")
    parser.add_argument("--groups", type=int, default=500, help="NSX NSGroups (2 to 2000)")
    parser.add_argument("--policies", type=int, default=1000, help="Secure Workload policies (1 to 2000)")
    parser.add_argument("--products", default="prisma,nsxt,secure_workload", help="which products, comma-separated")
    args = parser.parse_args()
    if not 1 <= args.rulesets <= 5000 or not 2 <= args.groups <= 2000 or not 1 <= args.policies <= 2000:
        parser.error("a size is out of its range")
    benches = {"prisma": lambda: PrismaExport(args.rulesets), "nsxt": lambda: NsxtExport(args.groups, 1),
               "secure_workload": lambda: SecureWorkloadExport(args.policies)}
    for product in args.products.split(","):
        if product not in benches:
            parser.error("unknown product %s" % product)
        bench = benches[product]()
        bench.main([bench.scenario])


if __name__ == "__main__":
    main()
