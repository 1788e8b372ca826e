"""What the integration tests share about running ansible-playbook: its environment for this
checkout and the counters of its PLAY RECAP."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = REPO_ROOT / 'build'
VENV_BIN = Path(sys.executable).parent
PLAYBOOK_TIMEOUT = 900

# "localhost                  : ok=41   changed=30   unreachable=0    failed=0 ..."
RECAP_LINE = re.compile(r'^(?P<host>\S+)\s+:\s+(?P<counters>(?:[a-z]+=\d+\s*)+)$')
COUNTER = re.compile(r'([a-z]+)=(\d+)')


def ansible_env(base: dict[str, str], extra: dict[str, str] | None = None) -> dict[str, str]:
    """ansible-playbook's environment: ``base``, then ``extra``, then this checkout's collection and no colour."""
    env = dict(base)
    env.update(extra or {})
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(BUILD_DIR),
        ANSIBLE_FORCE_COLOR='0',
        ANSIBLE_NOCOLOR='1',
        ANSIBLE_RETRY_FILES_ENABLED='0',
        ANSIBLE_HOST_KEY_CHECKING='0',
        ANSIBLE_LOCALHOST_WARNING='0',
        ANSIBLE_INVENTORY_UNPARSED_WARNING='0',
        PATH=os.pathsep.join([str(VENV_BIN), env.get('PATH', os.defpath)]),
    )
    return env


def parse_recap(output: str) -> dict[str, dict[str, int]]:
    """The counters of each host in the last PLAY RECAP of an ansible-playbook output."""
    lines = output.splitlines()
    starts = [index for index, line in enumerate(lines) if line.startswith('PLAY RECAP')]
    if not starts:
        return {}
    recap: dict[str, dict[str, int]] = {}
    for line in lines[starts[-1] + 1:]:
        match = RECAP_LINE.match(line.strip())
        if match is None:
            if recap:
                break
            continue
        recap[match.group('host')] = {key: int(value) for key, value in COUNTER.findall(match.group('counters'))}
    return recap


def closed_loopback_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def run_playbook(args: list[str], env: dict[str, str], log_path: Path, timeout: int = PLAYBOOK_TIMEOUT) -> tuple[int, str]:
    """Run ansible-playbook ARGS from the repository root; the output goes to LOG_PATH too."""
    command = [str(VENV_BIN / 'ansible-playbook'), *args]
    try:
        result = subprocess.run(command, cwd=str(REPO_ROOT), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, timeout=timeout, check=False)
        returncode, output = result.returncode, result.stdout
    except subprocess.TimeoutExpired as exc:
        partial = exc.stdout or ''
        returncode = -1
        output = (partial.decode('utf-8', 'replace') if isinstance(partial, bytes) else partial) + '\ntimed out after %ds\n' % timeout
    log_path.write_text(output, encoding='utf-8')
    return returncode, output
