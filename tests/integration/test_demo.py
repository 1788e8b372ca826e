"""The demo playbook (playbooks/demo.yml) against the lab, twice: it must succeed both
times, change something the first time and nothing the second time (idempotency).

It uses the session's lab (the ``lab`` fixture of conftest.py) and runs
``ansible-playbook -i inventories/lab playbooks/demo.yml`` from the repository root with
the lab's settings and this checkout's collection (``Lab.playbook_env``).

The demo in check mode (``--check``) runs on an empty lab of its own (the demo's NSX and Secure
Workload objects are global, so the session's lab may already hold them): it must run to the end,
report changes, and write nothing (the lab's request counters). After the two real runs on the
session's lab, check mode predicts no change and assumes nothing.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playbook_tools import REPO_ROOT, ansible_env, parse_recap, run_playbook

INVENTORY = 'inventories/lab'
PLAYBOOK = 'playbooks/demo.yml'
RUN_TIMEOUT = 1800
TAIL_LINES = 200


def run_demo(lab, log_path: Path) -> tuple[int, str]:
    """Run the demo playbook once against the lab; keep its output in LOG_PATH."""
    return run_playbook(['-i', INVENTORY, PLAYBOOK], lab.playbook_env(), log_path, RUN_TIMEOUT)


def tail(output: str) -> str:
    return '\n'.join(output.splitlines()[-TAIL_LINES:])


@pytest.fixture(scope='module')
def demo_twice(lab, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """The demo run twice on the session's lab: the outputs of both runs (each must succeed)."""
    logs = tmp_path_factory.mktemp('demo')
    outputs = []
    for run in (1, 2):
        rc, output = run_demo(lab, logs / ('demo-run%d.log' % run))
        if rc != 0:
            pytest.fail('run %d of %s failed: rc=%d\n%s' % (run, PLAYBOOK, rc, tail(output)), pytrace=False)
        outputs.append(output)
    return outputs[0], outputs[1]


def test_demo_is_idempotent(demo_twice) -> None:
    """First run: rc 0 and changes on every host; second run: rc 0 and changed=0 on every host."""
    first_output, second_output = demo_twice
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

LABCTL = REPO_ROOT / 'lab' / 'labctl.py'
LAB_TIMEOUT = 600


class EmptyLab:
    """A lab started for one test: its settings (lab.env) and the admin URL of each product."""

    def __init__(self, lab_dir: Path) -> None:
        self.dir = lab_dir
        self.env = {}
        for line in (lab_dir / 'lab.env').read_text(encoding='utf-8').splitlines():
            if '=' in line and not line.lstrip().startswith('#'):
                key, value = line.split('=', 1)
                self.env[key.strip()] = value.strip()
        self.ca = self.env['PRISMA_CA_PATH']
        self.products = {
            'prisma': self.env['PRISMA_API'].rstrip('/'),
            'nsxt': 'https://' + self.env['NSXT_HOST'],
            'secure_workload': self.env['SW_URL'].rstrip('/'),
        }

    def playbook_env(self) -> dict[str, str]:
        return ansible_env(dict(os.environ), self.env)

    def admin(self, product: str, method: str, path: str) -> dict:
        response = requests.request(method, self.products[product] + path, verify=self.ca, timeout=30)
        response.raise_for_status()
        return response.json()


def labctl(action: str, lab_dir: Path) -> tuple[int, str]:
    log_path = lab_dir.parent / ('%s-labctl-%s.log' % (lab_dir.name, action))
    with open(log_path, 'w+', encoding='utf-8') as log:
        returncode = subprocess.run([sys.executable, str(LABCTL), action, '--dir', str(lab_dir)], cwd=str(REPO_ROOT),
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, timeout=LAB_TIMEOUT,
                                    check=False).returncode
        log.seek(0)
        return returncode, log.read()


@pytest.fixture()
def empty_lab(tmp_path_factory: pytest.TempPathFactory, ensure_collection_root: Path) -> Iterator[EmptyLab]:
    """A freshly started lab (free ports) of one test; stopped at its end."""
    del ensure_collection_root
    lab_dir = tmp_path_factory.mktemp('empty-lab')
    try:
        returncode, output = labctl('start', lab_dir)
        if returncode != 0:
            pytest.fail('lab start failed (rc=%d):\n%s' % (returncode, output))
        yield EmptyLab(lab_dir)
    finally:
        returncode, output = labctl('stop', lab_dir)
        if returncode != 0:
            sys.stderr.write('lab stop failed (rc=%d):\n%s\n' % (returncode, output))


def test_demo_check_mode_on_an_empty_lab_runs_to_the_end_and_writes_nothing(empty_lab, tmp_path: Path) -> None:
    """``--check`` on an empty lab: a task that reads what an earlier task would create reports what
    it would do (with a warning), not a 403 or a missing-object failure; nothing is written."""
    for product in empty_lab.products:
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
    for product in empty_lab.products:
        counters = empty_lab.admin(product, 'GET', '/_lab/counters')
        writes = dict((route, count) for route, count in counters['routes'].items()
                      if route.split(' ', 1)[0] in ('POST', 'PUT', 'PATCH', 'DELETE') and not route.endswith(('/search', '/statsqueries')))
        assert counters['writes'] == 0 and writes == {}, '%s: the check-mode run wrote %s' % (product, writes)
        assert counters['total'] > 0, '%s: the check-mode run read nothing' % product


def test_demo_check_mode_after_a_real_run_predicts_no_change(lab, demo_twice, tmp_path: Path) -> None:
    """Once the demo ran (on the session's lab), ``--check`` finds everything: no change, nothing assumed,
    every flow check evaluated."""
    del demo_twice
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
