"""Each integration target (tests/integration/targets/<name>/tasks/main.yml) is one test.

The target runs as a role of a generated playbook on localhost, with ``ansible-playbook``
from the test interpreter's environment, this checkout's collection on
``ANSIBLE_COLLECTIONS_PATH`` and the session's lab in PRISMA_* / LAB_ADMIN_URL.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

TARGETS_DIR = Path(__file__).resolve().parent / 'targets'
VENV_BIN = Path(sys.executable).parent
TARGET_TIMEOUT = 1800
TAIL_LINES = 200


def discover_targets() -> list[str]:
    """Names of the integration targets: directories holding tasks/main.yml."""
    if not TARGETS_DIR.is_dir():
        return []
    return sorted(path.name for path in TARGETS_DIR.iterdir() if (path / 'tasks' / 'main.yml').is_file())


def write_playbook(directory: Path, target: str) -> Path:
    """A playbook that applies the target as a role to localhost (JSON is valid YAML)."""
    playbook = [
        {
            'name': 'Integration target %s' % target,
            'hosts': 'localhost',
            'gather_facts': False,
            'connection': 'local',
            'vars': {'ansible_python_interpreter': sys.executable},
            'roles': [{'role': str(TARGETS_DIR / target)}],
        }
    ]
    path = directory / ('%s.yml' % target)
    path.write_text(json.dumps(playbook, indent=2) + '\n', encoding='utf-8')
    return path


@pytest.mark.parametrize('target', discover_targets())
def test_target(target: str, lab, tmp_path: Path) -> None:
    """Run one target against the lab (the session fixture from conftest.py); it passes when ansible-playbook exits 0."""
    playbook = write_playbook(tmp_path, target)
    inventory = tmp_path / 'inventory.ini'
    inventory.write_text('localhost ansible_connection=local ansible_python_interpreter=%s\n' % sys.executable, encoding='utf-8')
    command = [str(VENV_BIN / 'ansible-playbook'), '-i', str(inventory), str(playbook)]
    try:
        result = subprocess.run(
            command, cwd=str(tmp_path), env=lab.playbook_env(), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=TARGET_TIMEOUT, check=False,
        )
        returncode, output = result.returncode, result.stdout
    except subprocess.TimeoutExpired as timeout:
        partial = timeout.stdout or ''
        returncode = -1
        output = (partial.decode('utf-8', 'replace') if isinstance(partial, bytes) else partial) + '\ntimed out after %ds\n' % TARGET_TIMEOUT
    (tmp_path / 'ansible-playbook.log').write_text(output, encoding='utf-8')
    if returncode != 0:
        tail = '\n'.join(output.splitlines()[-TAIL_LINES:])
        pytest.fail('target %s failed: ansible-playbook rc=%d\n--- last %d lines\n%s' % (target, returncode, TAIL_LINES, tail), pytrace=False)
