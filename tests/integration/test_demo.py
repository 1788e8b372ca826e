"""``make demo``, as README.md tells a contributor to run it: it starts a lab, runs
playbooks/demo.yml twice (the flow reports into the lab directory's reports/) and checks that the
second run changed nothing; here it must succeed, change something on every host the first time and
nothing the second time. Its lab is kept (``DEMO_KEEP_LAB=1``) for what follows, then stopped:

- check mode after the two real runs predicts no change and assumes nothing;
- README.md's export and adopt commands, on the demo's state (the listing the README shows).

The demo in check mode (``--check``) also runs on an empty lab of its own: it must run to the end,
report changes, and write nothing (the lab's request counters).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Lab, lab_environment, run_labctl
from flow_report_checks import check_demo_reports, check_hostile_page
from playbook_tools import REPO_ROOT, parse_recap, run_playbook
from readme_blocks import parse, run_block, user_env

INVENTORY = 'inventories/lab'
PLAYBOOK = 'playbooks/demo.yml'
RUN_TIMEOUT = 1800
TAIL_LINES = 200


def run_demo(lab, log_path: Path, report_dir: Path | None = None) -> tuple[int, str]:
    """Run the demo playbook once against the lab; keep its output in LOG_PATH; with REPORT_DIR, the
    scenarios write their flow reports there (flow_report_dir)."""
    extra = ['-e', 'flow_report_dir=%s' % report_dir] if report_dir else []
    return run_playbook(['-i', INVENTORY, PLAYBOOK, *extra], lab.playbook_env(), log_path, RUN_TIMEOUT)


def demo_artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the session's demo runs keep their logs and flow reports (reports/; test_flow_report.py renders them)."""
    path = tmp_path_factory.getbasetemp() / 'demo-runs'
    path.mkdir(exist_ok=True)
    return path


def tail(output: str) -> str:
    return '\n'.join(output.splitlines()[-TAIL_LINES:])


# What README.md tells a contributor to run; the Makefile target starts its own lab, runs the demo twice
# (flow reports into LAB_DIR/reports) and checks the second run's recap itself.
DEMO_COMMAND = ['make', 'demo', 'DEMO_KEEP_LAB=1']


@pytest.fixture(scope='module')
def demo_twice(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Lab]]:
    """``make demo`` with its lab kept: the outputs of both runs (each must succeed) and the lab."""
    artifacts = demo_artifacts(tmp_path_factory)
    env = {key: value for key, value in os.environ.items() if not key.startswith(('PRISMA_', 'NSXT_', 'SW_', 'APOCTL_'))}
    try:
        result = subprocess.run([*DEMO_COMMAND, 'LAB_DIR=%s' % artifacts], cwd=str(REPO_ROOT), env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=2 * RUN_TIMEOUT, check=False)
        (artifacts / 'make-demo.log').write_text(result.stdout, encoding='utf-8')
        first, marker, second = result.stdout.partition('\n=== demo: second run')
        (artifacts / 'demo-run1.log').write_text(first, encoding='utf-8')
        (artifacts / 'demo-run2.log').write_text(marker + second, encoding='utf-8')
        if result.returncode != 0:
            pytest.fail('%s failed: rc=%d\n%s' % (' '.join(DEMO_COMMAND), result.returncode, tail(result.stdout)), pytrace=False)
        assert 'idempotent: changed=0 on 1 host line(s)' in second, tail(second)
        yield first, second, Lab(artifacts, lab_environment(artifacts))
    finally:
        if (artifacts / 'lab.json').exists():
            run_labctl('stop', artifacts, 120)


def test_demo_is_idempotent(demo_twice) -> None:
    """First run: rc 0 and changes on every host; second run: rc 0 and changed=0 on every host."""
    first_output, second_output, dummy = demo_twice
    first = parse_recap(first_output)
    assert first, 'no PLAY RECAP in the first run:\n%s' % tail(first_output)
    for host, counters in first.items():
        assert counters.get('failed', 0) == 0 and counters.get('unreachable', 0) == 0, (host, counters)
        assert counters.get('changed', 0) > 0, 'first run changed nothing on %s: %s' % (host, counters)

    second = parse_recap(second_output)
    assert second, 'no PLAY RECAP in the second run:\n%s' % tail(second_output)
    assert set(second) == set(first), (first, second)
    not_idempotent = {host: counters for host, counters in second.items() if counters.get('changed', 0) != 0}
    if not_idempotent:
        changed_tasks = [line for line in second_output.splitlines() if line.startswith('changed:')]
        pytest.fail(
            'second run is not idempotent: %s\n%s\n--- last %d lines\n%s'
            % (not_idempotent, '\n'.join(changed_tasks), TAIL_LINES, tail(second_output)),
            pytrace=False,
        )


# ---------------------------------------------------------------- check mode on an empty lab

PRODUCTS = ('prisma', 'nsxt', 'secure_workload')


def test_demo_check_mode_on_an_empty_lab_runs_to_the_end_and_writes_nothing(new_lab, tmp_path: Path) -> None:
    """``--check`` on an empty lab: a task that reads what an earlier task would create reports what
    it would do (with a warning), not a 403 or a missing-object failure; nothing is written."""
    empty_lab = new_lab('empty-lab')
    for product in PRODUCTS:
        empty_lab.admin(product, 'POST', '/_lab/counters/reset')
    rc, output = run_playbook(['-i', INVENTORY, PLAYBOOK, '--check'], empty_lab.playbook_env(), tmp_path / 'demo-check.log', RUN_TIMEOUT)
    if rc != 0:
        pytest.fail('%s --check on an empty lab failed: rc=%d\n%s' % (PLAYBOOK, rc, tail(output)), pytrace=False)
    recap = parse_recap(output)
    assert recap, 'no PLAY RECAP in the check-mode run:\n%s' % tail(output)
    for host, counters in recap.items():
        assert counters.get('failed', 0) == 0 and counters.get('unreachable', 0) == 0, (host, counters)
        assert counters.get('changed', 0) > 0, 'the check-mode run reports no change on %s: %s' % (host, counters)
    # what check mode assumed is said, for each product
    for said in ('namespace /acme/k8s-clusterip does not exist yet: check mode assumes it empty',
                 "NSGroups 'nsg-service-a', 'nsg-service-b', 'nsg-service-c', 'nsg-service-d' do not exist yet",
                 'scope Default:K8s does not exist yet: check mode assumes it empty',
                 'the flows were not evaluated (check mode'):
        assert said in ' '.join(output.split()), 'no warning %r:\n%s' % (said, tail(output))
    for product in PRODUCTS:
        counters = empty_lab.admin(product, 'GET', '/_lab/counters')
        writes = dict((route, count) for route, count in counters['routes'].items()
                      if route.split(' ', 1)[0] in ('POST', 'PUT', 'PATCH', 'DELETE') and not route.endswith(('/search', '/statsqueries')))
        assert counters['writes'] == 0 and writes == {}, '%s: the check-mode run wrote %s' % (product, writes)
        assert counters['total'] > 0, '%s: the check-mode run read nothing' % product


def test_demo_check_mode_after_a_real_run_predicts_no_change(demo_twice, tmp_path: Path) -> None:
    """Once the demo ran (on the lab make demo started), ``--check`` finds everything: no change, nothing
    assumed, every flow check evaluated."""
    lab = demo_twice[2]
    rc, output = run_playbook(['-i', INVENTORY, PLAYBOOK, '--check'], lab.playbook_env(), tmp_path / 'demo-check.log', RUN_TIMEOUT)
    if rc != 0:
        pytest.fail('%s --check after a run failed: rc=%d\n%s' % (PLAYBOOK, rc, tail(output)), pytrace=False)
    recap = parse_recap(output)
    assert recap and all(counters.get('changed', 0) == 0 for counters in recap.values()), recap
    text = ' '.join(output.split())
    assert 'does not exist yet' not in text and 'the flows were not evaluated' not in text, tail(output)
    # the table of every flow check that runs after the scenarios (3 Prisma scenarios, the guide and its
    # workflow from observed flows, 2 NSX, Secure Workload)
    tables = re.findall(r'"flow +source +destination +service +verdict +expected +decided by"', output)
    assert len(tables) == 8, 'the flow checks were not all evaluated (%d tables):\n%s' % (len(tables), tail(output))


def test_export_and_adopt_as_the_readme_says(demo_twice, tmp_path: Path) -> None:
    """README.md's "Bring an existing setup under management", run as written on the lab holding the
    demo's state: the export lists the files the README shows, and adopting them changes nothing."""
    lab = demo_twice[2]
    for name in ('inventories', 'playbooks'):
        (tmp_path / name).symlink_to(REPO_ROOT / name, target_is_directory=True)
    env = user_env(tmp_path, dict(lab.env, ANSIBLE_COLLECTIONS_PATH=str(REPO_ROOT / 'build')))
    writes = lab.writes()
    outputs = run_block(parse()[0]['export-adopt'], tmp_path, env, tmp_path / 'readme.log')
    export_recap = parse_recap(outputs[0])
    assert export_recap and all(c.get('failed', 0) == 0 for c in export_recap.values()), outputs[0][-4000:]
    for output in (outputs[2], outputs[3]):  # both adopt runs: everything is managed already
        recap = parse_recap(output)
        assert recap and all(c.get('failed', 0) == 0 and c.get('changed', 0) == 0 for c in recap.values()), output[-4000:]
    assert lab.writes() == writes, (writes, lab.writes())


def test_demo_reports_render_in_chromium_with_the_module_results(demo_twice, tmp_path: Path) -> None:
    """The flow report of each scenario of make demo's second run, rendered by headless Chromium: its
    matrices are the module's result as the scenario printed it (flow_report_checks.py)."""
    check_demo_reports(demo_twice[2].dir / 'reports', demo_twice[1], tmp_path)


def test_a_hostile_result_renders_escaped_with_the_mismatches_marked(tmp_path: Path) -> None:
    """Names carrying markup stay text in the browser; mismatches are marked in the DOM and on screen."""
    check_hostile_page(tmp_path)
