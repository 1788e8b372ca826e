#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: iptables_preserve
short_description: Keep a host's own iptables and ip6tables rules through an agent install or removal
version_added: 1.0.0
description:
  - Installing, reconfiguring, upgrading or removing a host firewall agent (the Prisma Cloud
    Microsegmentation enforcer, the Cisco Secure Workload agent) must not lose the rules the host
    already has, such as those of Kubernetes on its nodes.
  - With O(state=snapshot) the module reads the rules of every table (C(iptables-save) and
    C(ip6tables-save)) and returns them; it changes nothing.
  - With O(state=restored) it compares the current rules with a snapshot taken earlier in the same
    run and puts back only what is missing, each rule at its place relative to the snapshot's other
    rules of its chain, and the policy of a built-in chain that was changed. It uses
    C(iptables-restore --noflush) with C(-I) lines; it never flushes a table or a chain, and rules
    added since the snapshot stay.
  - Chains that belong to the agent (O(exclude_chains)) and the rules that jump to them are left out
    of the snapshot, so the agent's own rules are never put back after it removed them.
author: Microseg Segmentation Maintainers (@microseg)
extends_documentation_fragment:
  - microseg.segmentation.attributes
attributes:
  check_mode:
    support: full
    details: In check mode O(state=restored) reports what it would put back and writes nothing.
  diff_mode:
    support: full
    details: The diff lists the rules that are (or would be) put back.
options:
  state:
    description:
      - V(snapshot) reads the rules; V(restored) puts back what is missing from O(snapshot).
    type: str
    choices: [snapshot, restored]
    default: snapshot
  snapshot:
    description:
      - The RV(rules) of an earlier O(state=snapshot) run on the same host. Required with O(state=restored).
    type: dict
  families:
    description: The address families to read (C(iptables-save)) and restore (C(ip6tables-save)).
    type: list
    elements: str
    choices: [ipv4, ipv6]
    default: [ipv4, ipv6]
  exclude_chains:
    description:
      - Shell-style patterns (C(fnmatch)) of chains that the module ignores, for example V(PRISMA-*).
        A rule in such a chain, or jumping to one, is neither recorded nor put back.
    type: list
    elements: str
    default: []
notes:
  - A family whose tools are missing or fail (an IPv6-less kernel, say) is reported in RV(unavailable)
    and skipped; a snapshot of it is empty.
  - Rules are compared as C(iptables-save) prints them (counters are not read).
requirements:
  - iptables (C(iptables-save), C(iptables-restore)); ip6tables for V(ipv6)
seealso:
  - module: microseg.segmentation.secure_workload_agent_profile
"""

EXAMPLES = r"""
- name: Read the host's rules before the enforcer is installed
  microseg.segmentation.iptables_preserve:
    state: snapshot
    exclude_chains: ["PRISMA-*"]
  register: host_rules

- name: Install the enforcer
  ansible.builtin.apt:
    name: prisma-enforcer

- name: Put back any host rule that the install lost
  microseg.segmentation.iptables_preserve:
    state: restored
    snapshot: "{{ host_rules.rules }}"
    exclude_chains: ["PRISMA-*"]
"""

RETURN = r"""
rules:
  description:
    - The snapshot, by family then table; each table has C(policies) (built-in chain to policy),
      C(chains) (user chains) and C(rules) (chain to its rules, in order, as C(iptables-save) prints
      them after C(-A <chain>)).
  returned: O(state=snapshot)
  type: dict
  sample: {"ipv4": {"filter": {"policies": {"INPUT": "ACCEPT"}, "chains": ["KUBE-FIREWALL"],
                               "rules": {"INPUT": ["-j KUBE-FIREWALL"], "KUBE-FIREWALL": ["-p tcp --dport 10250 -j ACCEPT"]}}}}
count:
  description: Number of rules in the snapshot.
  returned: O(state=snapshot)
  type: int
restored:
  description: What was (or, in check mode, would be) put back, one line per chain, policy or rule.
  returned: O(state=restored)
  type: list
  elements: str
  sample: ["ipv4 filter: -I INPUT 1 -s 10.0.0.0/8 -j ACCEPT"]
unavailable:
  description: The families that were skipped because their tools are missing or failed.
  returned: always
  type: list
  elements: str
"""

import fnmatch
import re

from ansible_collections.microseg.segmentation.plugins.module_utils._core.runner import run_module

TOOLS = {"ipv4": ("iptables-save", "iptables-restore"), "ipv6": ("ip6tables-save", "ip6tables-restore")}
BUILTIN = frozenset(["INPUT", "OUTPUT", "FORWARD", "PREROUTING", "POSTROUTING"])
JUMP = re.compile(r"(?:^|\s)-[jg]\s+(\S+)")


def _excluded(chain, patterns):
    return any(fnmatch.fnmatchcase(chain, p) for p in patterns)


def parse_save(text, exclude=()):
    """``{table: {policies, chains, rules}}`` from the output of iptables-save."""
    tables = {}
    table = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("*"):
            table = {"policies": {}, "chains": [], "rules": {}}
            tables[line[1:]] = table
        elif table is None or line == "COMMIT":
            continue
        elif line.startswith(":"):
            parts = line[1:].split()
            chain = parts[0]
            if _excluded(chain, exclude):
                continue
            if chain in BUILTIN:
                table["policies"][chain] = parts[1] if len(parts) > 1 else "ACCEPT"
            else:
                table["chains"].append(chain)
        elif line.startswith("-A "):
            parts = line.split(None, 2)
            chain = parts[1]
            rule = parts[2] if len(parts) > 2 else ""
            target = JUMP.search(rule)
            if _excluded(chain, exclude) or (target and _excluded(target.group(1), exclude)):
                continue
            table["rules"].setdefault(chain, []).append(rule)
    return tables


def plan_restore(snapshot, current):
    """``(restore_input, lines)`` putting back into ``current`` what ``snapshot`` has and it lacks.

    Only chains that do not exist are declared (a declared user chain would be flushed by
    iptables-restore even with --noflush); a built-in chain's policy line is written only when it
    changed. A missing rule is inserted right after the nearest earlier snapshot rule of its chain
    that is present, so the snapshot's order is kept.
    """
    blocks = []
    lines = []
    for name in sorted(snapshot):
        want = snapshot[name]
        have = current.get(name) or {"policies": {}, "chains": [], "rules": {}}
        block = []
        for chain in want.get("chains", []):
            if chain not in have.get("chains", []):
                block.append(":%s - [0:0]" % chain)
                lines.append("%s: new chain %s" % (name, chain))
        for chain, policy in sorted(want.get("policies", {}).items()):
            if chain in have.get("policies", {}) and have["policies"][chain] != policy:
                block.append(":%s %s [0:0]" % (chain, policy))
                lines.append("%s: policy %s %s" % (name, chain, policy))
        for chain in want.get("rules", {}):
            present = list(have.get("rules", {}).get(chain, []))
            wanted = want["rules"][chain]
            placed = []  # positions in ``present`` of the snapshot rules, in snapshot order
            for rule in wanted:
                used = set(placed)
                index = next((i for i, r in enumerate(present) if r == rule and i not in used
                              and (not placed or i > max(placed))), None)
                if index is None:
                    index = (max(placed) + 1) if placed else 0
                    present.insert(index, rule)
                    placed = [p + 1 if p >= index else p for p in placed]
                    text = "-I %s %d %s" % (chain, index + 1, rule)
                    block.append(text.rstrip())
                    lines.append(("%s: %s" % (name, text)).rstrip())
                placed.append(index)
        if block:
            blocks.append("*%s\n%s\nCOMMIT\n" % (name, "\n".join(block)))
    return "".join(blocks), lines


def execute(module, connection, prepared):
    params = module.params
    exclude = params["exclude_chains"]
    result = dict(changed=False, unavailable=[])
    current = {}
    for family in params["families"]:
        save = module.get_bin_path(TOOLS[family][0])
        rc, out, err = module.run_command([save]) if save else (127, "", "%s not found" % TOOLS[family][0])
        if rc != 0:
            result["unavailable"].append(family)
            module.warn("%s: %s is not usable (%s); its rules are not preserved" % (family, TOOLS[family][0], (err or out).strip()))
            continue
        current[family] = parse_save(out, exclude)

    if params["state"] == "snapshot":
        result["rules"] = current
        result["count"] = sum(len(r) for t in current.values() for v in t.values() for r in v["rules"].values())
        return result

    restored = []
    for family in params["families"]:
        if family not in current:
            continue
        snapshot = (params["snapshot"] or {}).get(family) or {}
        text, lines = plan_restore(snapshot, current[family])
        if not text:
            continue
        restored.extend("%s %s" % (family, line) for line in lines)
        if not module.check_mode:
            restore = module.get_bin_path(TOOLS[family][1], required=True)
            rc, out, err = module.run_command([restore, "--noflush"], data=text, binary_data=True)
            if rc != 0:
                return dict(result, failed=True, msg="%s --noflush failed: %s" % (TOOLS[family][1], (err or out).strip()),
                            restored=restored, input=text)
    result["restored"] = restored
    result["changed"] = bool(restored)
    if module._diff and restored:
        result["diff"] = dict(before="", after="\n".join(restored) + "\n", after_header="rules put back")
    return result


def main():
    run_module(
        dict(
            state=dict(type="str", choices=["snapshot", "restored"], default="snapshot"),
            snapshot=dict(type="dict"),
            families=dict(type="list", elements="str", choices=["ipv4", "ipv6"], default=["ipv4", "ipv6"]),
            exclude_chains=dict(type="list", elements="str", default=[]),
        ),
        execute,
        libraries=(),
        required_if=[("state", "restored", ["snapshot"])],
    )


if __name__ == "__main__":
    main()
