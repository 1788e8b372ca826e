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

from harness import LabBench


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


class NsxtBench(LabBench):
    product = "nsxt"

    def __init__(self, groups, rules):
        super().__init__()
        self.groups = groups
        self.rules = rules

    def environment(self, lab):
        return {"NSXT_HOST": lab["host"], "NSXT_USERNAME": lab["username"], "NSXT_PASSWORD": lab["password"], "NSXT_CA_PATH": lab["ca_path"]}

    def admin_url(self, lab):
        return "https://%s" % lab["host"]

    # ---------------------------------------------------------------- Manager API

    def ns_groups_list_form(self):
        self.reset()
        items = [ns_group(i) for i in range(self.groups)]
        task = {"name": "NSGroups", "microseg.segmentation.nsxt_ns_group": {"items": items, "purge": True, "purge_scope": "bench"}}
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
        groups = {"name": "Groups", "microseg.segmentation.nsxt_policy_group": {"items": items, "purge": True, "owner": "bench"}}
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
    bench = NsxtBench(args.groups, args.rules)
    scenarios = [bench.ns_groups_list_form] + ([] if args.skip_loop else [bench.ns_groups_loop]) + [bench.firewall_section, bench.policy]
    bench.main(scenarios)


if __name__ == "__main__":
    main()
