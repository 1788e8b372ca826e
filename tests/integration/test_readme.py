"""Every command of README.md, run as written (see readme_blocks.py for how blocks are read).

- ``contributor``: ``make test`` is what CI runs (``.ci/run``), and ``make demo`` is what
  test_demo.py's fixture runs, with the demo's own idempotence check; this test checks both.
- ``install-git``, ``install-tarball``, ``ee``, ``first-installed``, ``first-clone``: from a fresh git
  repository holding this checkout's files, ``git clone`` it, ``make build``, install the tarball into
  an empty home, make an execution environment's build context from the example, run the README's
  first playbook from the installed collection against a lab of its own, then from the clone against
  the lab the clone starts itself. The clone gets this machine's ``.venv`` (a symlink, as ``make
  venv`` left it) instead of installing one again.
- ``phases``: the namespace guide's phases, in the shell the ``first-clone`` block sets up (the
  venv, this checkout as the collection, a lab's settings), against a lab of its own.
- ``export-adopt``: run by test_demo.py on the lab holding the demo's state, which its listing shows.
- ``forks``: ``--list-hosts`` here, on the example inventory as shipped; the run with ``-f 3`` by
  test_forks.py, on an inventory of that form whose three hosts are three labs.

Placeholders: ``<repository>`` is the fresh repository; the NSX Manager settings of
``first-installed`` are the lab's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from playbook_tools import REPO_ROOT, parse_recap
from readme_blocks import parse, run_block, user_env

RUN_ELSEWHERE = {'export-adopt': 'tests/integration/test_demo.py', 'forks': 'tests/integration/test_forks.py'}
RUN_HERE = {'contributor', 'install-git', 'install-tarball', 'first-installed', 'first-clone', 'phases', 'ee'}
TARBALL = 'microseg-segmentation-1.0.0.tar.gz'


def test_every_command_block_is_run_by_a_test():
    blocks, files, unmarked = parse()
    assert unmarked == [], 'README command blocks without a readme-test marker: %s' % unmarked
    assert set(blocks) == RUN_HERE | set(RUN_ELSEWHERE), sorted(blocks)
    for name, path in RUN_ELSEWHERE.items():
        assert "parse()[0]['%s']" % name in (REPO_ROOT / path).read_text(encoding='utf-8'), (name, path)
    assert 'first.yml' in files


def test_contributor_commands_are_what_ci_and_the_demo_test_run():
    commands = [command.line.split('#')[0].strip() for command in parse()[0]['contributor'].commands]
    assert commands == ['make demo', 'make test']
    ci_lines = [line.strip() for line in (REPO_ROOT / '.ci' / 'run').read_text(encoding='utf-8').splitlines()]
    assert 'exec make test </dev/null' in ci_lines
    assert "DEMO_COMMAND = ['make', 'demo'" in (REPO_ROOT / 'tests' / 'integration' / 'test_demo.py').read_text(encoding='utf-8')


def _fresh_repository(path: Path) -> Path:
    """A git repository holding this checkout's files (tracked and new, as the next commit would)."""
    listed = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], cwd=str(REPO_ROOT),
                            stdout=subprocess.PIPE, check=True).stdout.decode().split('\0')
    for name in filter(None, listed):
        source = REPO_ROOT / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the working tree
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    git_env = dict(os.environ, GIT_AUTHOR_NAME='readme test', GIT_AUTHOR_EMAIL='readme@test.invalid',
                   GIT_COMMITTER_NAME='readme test', GIT_COMMITTER_EMAIL='readme@test.invalid')
    for command in (['git', 'init', '-q', '-b', 'main'], ['git', 'add', '-A'], ['git', 'commit', '-q', '-m', 'snapshot']):
        subprocess.run(command, cwd=str(path), env=git_env, check=True, stdin=subprocess.DEVNULL)
    return path


def _provision_venv(clone: Path) -> None:
    """The machine's .venv for the clone, up to date as make venv leaves it (no second install)."""
    venv = Path(os.environ.get('VIRTUAL_ENV') or (REPO_ROOT / '.venv'))
    (clone / '.venv').symlink_to(venv.resolve(), target_is_directory=True)
    stamp = (venv / '.requirements.stamp').stat().st_mtime
    for requirements in clone.glob('*requirements*.txt'):
        os.utime(requirements, (stamp - 60, stamp - 60))


def _lab_exports(lab) -> str:
    names = ('NSXT_HOST', 'NSXT_USERNAME', 'NSXT_PASSWORD', 'NSXT_CA_PATH')
    return 'export ' + ' '.join("%s='%s'" % (name, lab.env[name]) for name in names)


def test_install_and_first_playbook_as_the_readme_says(tmp_path, new_lab):
    blocks, files, dummy = parse()
    source = _fresh_repository(tmp_path / 'repository')
    log = tmp_path / 'readme.log'

    # install from git: clone, make build, install into an empty home
    work, home_git = tmp_path / 'work', tmp_path / 'home-git'
    work.mkdir()
    home_git.mkdir()
    clone = work / 'microseg-segmentation'
    blocks_git = blocks['install-git']
    clone_command, rest = blocks_git.commands[0], blocks_git.commands[1:]
    run_block(type(blocks_git)('install-git-clone', blocks_git.lang, '', [clone_command]), work, user_env(home_git), log,
              {'<repository>': str(source)})
    _provision_venv(clone)
    run_block(type(blocks_git)('install-git', blocks_git.lang, '', rest), clone, user_env(home_git), log)
    installed = home_git / '.ansible' / 'collections' / 'ansible_collections' / 'microseg' / 'segmentation'
    assert (installed / 'MANIFEST.json').is_file() and (installed / 'plugins' / 'modules' / 'nsxt_flow_check.py').is_file()

    # install from the tarball (as downloaded), its requirements, and the first playbook from there
    download, home = tmp_path / 'download', tmp_path / 'home'
    download.mkdir()
    home.mkdir()
    shutil.copy2(clone / 'build' / TARBALL, download / TARBALL)
    run_block(blocks['install-tarball'], download, user_env(home), log)
    run_block(blocks['ee'], download, user_env(home), log)
    # a Containerfile where ansible-builder finds podman, a Dockerfile where it finds docker alone
    written = [path for path in (download / 'ee' / 'context' / name for name in ('Containerfile', 'Dockerfile')) if path.is_file()]
    assert len(written) == 1, written
    containerfile = written[0].read_text(encoding='utf-8')
    assert 'ansible-galaxy collection install' in containerfile and TARBALL in ' '.join(
        path.name for path in (download / 'ee' / 'context' / '_build').rglob('*.tar.gz')), containerfile
    (download / 'first.yml').write_text(files['first.yml'], encoding='utf-8')
    lab = new_lab('readme-first')
    first = blocks['first-installed']
    outputs = run_block(first, download, user_env(home), log, {first.commands[0].line: _lab_exports(lab)})
    recap = parse_recap(outputs[-1])
    assert recap['localhost']['failed'] == 0 and recap['localhost']['changed'] == 2, outputs[-1]
    assert 'a to b on 8080  first-service-a' in outputs[-1] and 'destination:first-section/a-to-b' in outputs[-1]
    assert lab.writes()['nsxt'] >= 3, lab.writes()

    # from the clone, against the lab it starts itself
    (clone / 'first.yml').write_text(files['first.yml'], encoding='utf-8')
    try:
        outputs = run_block(blocks['first-clone'], clone, user_env(home_git), log)
    finally:
        if (clone / '.lab' / 'lab.json').exists():
            subprocess.run([str(clone / '.venv' / 'bin' / 'python'), 'lab/labctl.py', 'stop', '--dir', '.lab'], cwd=str(clone),
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, timeout=120, check=False)
    first_run, second_run, check_run = (parse_recap(output)['localhost'] for output in outputs[3:6])
    assert first_run['failed'] == 0 and first_run['changed'] == 2, outputs[3]
    assert second_run == dict(first_run, changed=0), outputs[4]
    assert check_run == dict(first_run, changed=0), outputs[5]


def test_phases_as_the_readme_says(tmp_path, new_lab):
    lab = new_lab('readme-phases')
    env = user_env(tmp_path, dict(lab.env, ANSIBLE_COLLECTIONS_PATH=str(REPO_ROOT / 'build')))
    outputs = run_block(parse()[0]['phases'], REPO_ROOT, env, tmp_path / 'readme.log')
    discovery, propose, proposal, allow, lockdown = outputs
    for output in (discovery, propose, allow, lockdown):
        assert parse_recap(output)['localhost']['failed'] == 0, output
    assert proposal.splitlines()[0] == 'external_networks:' and 'network_rulesets:' in proposal.splitlines(), proposal
    assert parse_recap(lockdown)['localhost']['changed'] > 0, lockdown


def test_endpoints_inventory_lists_its_managers_as_the_readme_says(tmp_path):
    block = parse()[0]['forks']
    listing = type(block)('forks-list', block.lang, '', block.commands[:1])
    output = run_block(listing, REPO_ROOT, user_env(tmp_path, {'ANSIBLE_COLLECTIONS_PATH': str(REPO_ROOT / 'build')}), tmp_path / 'log')[0]
    assert 'pattern: [\'nsxt_managers\']' in output, output
    assert sorted(line.strip() for line in output.splitlines() if line.startswith('      ')) == ['nsx-dc1', 'nsx-dc2'], output


@pytest.fixture(autouse=True)
def _collection_root(ensure_collection_root):
    return ensure_collection_root
