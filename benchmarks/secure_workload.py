# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secure Workload benchmark against the lab: N policies in one workspace, reconciled with the
policy module's list form: create, no-change re-run, and one policy's port edited. The table
gives API requests, writes and seconds per scenario. Bounded by N; loopback only."""

import argparse

from harness import LabBench

SCOPE = "Default:Bench"


def policy(index, port=None):
    return {"consumer": "bench-clients", "provider": "bench-servers", "priority": index + 1, "action": "allow",
            "ports": [{"protocol": "tcp", "port": port or 10000 + index}]}


class SecureWorkloadBench(LabBench):
    product = "secure_workload"

    def __init__(self, count):
        super().__init__()
        self.count = count

    def environment(self, lab):
        return {"SW_URL": lab["url"], "SW_API_KEY": lab["api_key"], "SW_API_SECRET": lab["api_secret"], "SW_CA_PATH": lab["ca_path"]}

    def setup(self):
        self.run("setup", [
            {"name": "Scope", "microseg.segmentation.secure_workload_scope": {
                "parent": "Default", "name": "Bench", "query": {"type": "subnet", "field": "ip", "value": "10.0.0.0/8"}}},
            {"name": "Filters", "microseg.segmentation.secure_workload_inventory_filter": {"scope": SCOPE, "items": [
                {"name": "bench-clients", "query": {"type": "subnet", "field": "ip", "value": "10.1.0.0/16"}},
                {"name": "bench-servers", "query": {"type": "subnet", "field": "ip", "value": "10.2.0.0/16"}}]}},
            {"name": "Workspace", "microseg.segmentation.secure_workload_workspace": {"scope": SCOPE, "name": "bench"}},
        ], record=False)

    def policies(self):
        items = [policy(i) for i in range(self.count)]

        def task():
            return {"name": "Policies", "microseg.segmentation.secure_workload_policy": {"workspace": "bench", "scope": SCOPE, "items": items}}

        self.run("policies, list form: create %d" % self.count, [task()])
        self.run("policies, list form: re-run, no change", [task()])
        items[self.count // 2] = policy(self.count // 2, port=20000)
        self.run("policies, list form: edit one port", [task()])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=300, help="policies in the workspace (1 to 2000)")
    args = parser.parse_args()
    if not 1 <= args.count <= 2000:
        parser.error("--count must be between 1 and 2000")
    bench = SecureWorkloadBench(args.count)
    bench.main([bench.setup, bench.policies])


if __name__ == "__main__":
    main()
