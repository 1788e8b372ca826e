"""The command blocks of README.md, as the README test and the demo test run them.

Every ``sh`` or ``console`` block of the README is preceded by ``<!-- readme-test: <id> -->``; a
``yaml`` block preceded by ``<!-- readme-file: <name> -->`` is a file the commands use. In a
``console`` block a line starting with ``$ `` is a command and the lines after it (up to the next
command or comment) are the output it must print; in an ``sh`` block every line is a command.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from playbook_tools import REPO_ROOT, VENV_BIN

README = REPO_ROOT / 'README.md'
FENCE = re.compile(r'^```(?P<lang>[a-z]*)\n(?P<body>.*?)^```$', re.M | re.S)
MARKER = re.compile(r'<!-- readme-(?P<kind>test|file): (?P<name>[\w.-]+) -->\s*$')
COMMAND_TIMEOUT = 1800
DONE = '@@readme-command-done '


@dataclass
class Command:
    line: str
    output: list[str] = field(default_factory=list)


@dataclass
class Block:
    name: str
    lang: str
    body: str
    commands: list[Command]


def _marker_before(text: str, start: int):
    before = text[:start].rstrip('\n').rsplit('\n', 1)[-1]
    return MARKER.search(before)


def _commands(lang: str, body: str) -> list[Command]:
    commands: list[Command] = []
    for line in body.splitlines():
        if lang == 'console':
            if line.startswith('$ '):
                commands.append(Command(line[2:]))
            elif line.strip() and not line.startswith('#') and commands:
                commands[-1].output.append(line)
        elif line.strip() and not line.lstrip().startswith('#'):
            commands.append(Command(line))
    return commands


def parse(text: str | None = None) -> tuple[dict[str, Block], dict[str, str], list[str]]:
    """(command blocks by id, files by name, the start of every command block without a marker)."""
    text = README.read_text(encoding='utf-8') if text is None else text
    blocks: dict[str, Block] = {}
    files: dict[str, str] = {}
    unmarked: list[str] = []
    for match in FENCE.finditer(text):
        lang, body = match.group('lang'), match.group('body')
        marker = _marker_before(text, match.start())
        if lang in ('sh', 'console', 'shell', 'bash'):
            if marker is None or marker.group('kind') != 'test':
                unmarked.append(body.splitlines()[0] if body else '')
                continue
            name = marker.group('name')
            if name in blocks:
                raise ValueError('README: two blocks are named %s' % name)
            blocks[name] = Block(name, lang, body, _commands(lang, body))
        elif marker is not None and marker.group('kind') == 'file':
            files[marker.group('name')] = body
    return blocks, files, unmarked


def user_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """A user's shell: the venv's tools first on PATH, a home of its own, no collection path set."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(('ANSIBLE_', 'PRISMA_', 'NSXT_', 'SW_', 'APOCTL_', 'PYTEST_', 'VIRTUAL_ENV'))
           and key not in ('PYTHONPATH', 'MAKEFLAGS', 'MAKELEVEL', 'MFLAGS')}
    env.update(HOME=str(home), PATH=os.pathsep.join([str(VENV_BIN), os.environ.get('PATH', os.defpath)]),
               ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0', NO_COLOR='1', PY_COLORS='0')
    env.update(extra or {})
    return env


def run_block(block: Block, cwd: Path, env: dict[str, str], log: Path, replace: dict[str, str] | None = None) -> list[str]:
    """Run the block's commands one after the other in one bash (``set -euo pipefail``) in CWD, as a
    user pastes them; return the output of each. Fails (AssertionError) when a command fails or prints
    other lines than the README shows for it. ``replace`` maps a text of the README to what the test
    runs instead (a placeholder such as ``<repository>``)."""
    lines = []
    for command in block.commands:
        line = command.line
        for old, new in (replace or {}).items():
            line = line.replace(old, new)
        lines.append(line)
    script = 'set -euo pipefail\n'
    for index, line in enumerate(lines):
        script += '%s\nprintf "%s%d\\n"\n' % (line, DONE, index)
    result = subprocess.run(['bash', '-c', script], cwd=str(cwd), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, timeout=COMMAND_TIMEOUT, check=False)
    outputs, current = [], []
    for out_line in result.stdout.splitlines():
        if out_line.startswith(DONE):
            outputs.append('\n'.join(current))
            current = []
        else:
            current.append(out_line)
    with open(log, 'a', encoding='utf-8') as out:
        for index, line in enumerate(lines):
            out.write('$ %s\n%s\n' % (line, outputs[index] if index < len(outputs) else '\n'.join(current)))
            if index >= len(outputs):
                break
        out.write('[rc=%d]\n' % result.returncode)
    if result.returncode != 0:
        failed = lines[len(outputs)] if len(outputs) < len(lines) else '(after the last command)'
        raise AssertionError('README block %s: `%s` failed (rc=%d):\n%s' % (block.name, failed, result.returncode, '\n'.join(current)[-6000:]))
    assert len(outputs) == len(lines), (block.name, len(outputs), len(lines))
    for command, line, output in zip(block.commands, lines, outputs, strict=True):
        if command.output:
            assert output.splitlines() == command.output, 'README block %s: `%s` printed\n%s\nnot\n%s' % (
                block.name, line, output, '\n'.join(command.output))
    return outputs
