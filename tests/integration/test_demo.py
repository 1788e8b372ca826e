"""The demo playbook (playbooks/demo.yml) against the lab, twice: it must succeed both
times, change something the first time and nothing the second time (idempotency).

It uses the session's lab (the ``lab`` fixture of conftest.py) and runs
``ansible-playbook -i inventories/lab playbooks/demo.yml`` from the repository root with
the lab's settings and this checkout's collection (``Lab.playbook_env``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playbook_tools import parse_recap, run_playbook

INVENTORY = 'inventories/lab'
PLAYBOOK = 'playbooks/demo.yml'
RUN_TIMEOUT = 1800
TAIL_LINES = 200


def run_demo(lab, log_path: Path) -> tuple[int, str]:
    """Run the demo playbook once against the lab; keep its output in LOG_PATH."""
    return run_playbook(['-i', INVENTORY, PLAYBOOK], lab.playbook_env(), log_path, RUN_TIMEOUT)


def tail(output: str) -> str:
    return '\n'.join(output.splitlines()[-TAIL_LINES:])


def test_demo_is_idempotent(lab, tmp_path: Path) -> None:
    """First run: rc 0 and changes on every host; second run: rc 0 and changed=0 on every host."""
    first_rc, first_output = run_demo(lab, tmp_path / 'demo-run1.log')
    if first_rc != 0:
        pytest.fail('first run of %s failed: rc=%d\n%s' % (PLAYBOOK, first_rc, tail(first_output)), pytrace=False)
    first = parse_recap(first_output)
    assert first, 'no PLAY RECAP in the first run:\n%s' % tail(first_output)
    for host, counters in first.items():
        assert counters.get('failed', 0) == 0 and counters.get('unreachable', 0) == 0, (host, counters)
        assert counters.get('changed', 0) > 0, 'first run changed nothing on %s: %s' % (host, counters)

    second_rc, second_output = run_demo(lab, tmp_path / 'demo-run2.log')
    if second_rc != 0:
        pytest.fail('second run of %s failed: rc=%d\n%s' % (PLAYBOOK, second_rc, tail(second_output)), pytrace=False)
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
