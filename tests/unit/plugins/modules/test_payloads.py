# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each module's payload carries: ansible-core packs every module_utils file a module imports
(at any depth, inside functions too) and compiles it on every run, so the object modules must not
pull in the code that decides flows, which only the flow modules and the namespace guard use."""

import ast
import os

import pytest

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
PREFIX = "ansible_collections.microseg.segmentation.plugins."
FLOW_CODE = {
    "module_utils/_prisma/flows.py", "module_utils/_prisma/observed.py", "module_utils/_prisma/proposal.py",
    "module_utils/_prisma/lockdown.py", "module_utils/_core/flowcheck.py", "module_utils/_core/flow_report.py",
}


def payload(module):
    """The collection files a module imports, directly or through other module_utils (as ansible-core's finder does)."""
    seen = set()
    todo = ["modules/%s.py" % module]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        with open(os.path.join(ROOT, "plugins", path)) as handle:
            tree = ast.parse(handle.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PREFIX):
                todo.append(node.module[len(PREFIX):].replace(".", "/") + ".py")
    return seen


def test_the_finder_sees_imports_inside_functions_too():
    assert "module_utils/_prisma/flows.py" in payload("prisma_flow_check")
    assert "module_utils/_prisma/lockdown.py" in payload("prisma_namespace")
    assert FLOW_CODE - {"module_utils/_prisma/lockdown.py"} <= payload("prisma_namespace")


@pytest.mark.parametrize("module", [
    "prisma_network_ruleset", "prisma_external_network", "prisma_tcp_service", "prisma_service_dependency_policy",
    "prisma_enforcer_profile", "prisma_enforcer_profile_mapping", "prisma_info",
    "nsxt_firewall_section", "nsxt_ns_group", "nsxt_policy_group", "nsxt_security_policy", "nsxt_ip_set",
])
def test_object_modules_carry_no_flow_code(module):
    assert payload(module) & FLOW_CODE == set()
