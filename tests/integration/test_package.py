"""The collection as a user receives it: the tarball ``make build`` writes, installed offline into an
empty collections path and run from there; its changelog; the execution environment ansible-builder
makes from it.

- The tarball holds only what a user runs (galaxy.yml's ``manifest`` whitelist), everything of those
  kinds that the repository has, the GPL-3 text of this machine as COPYING, and no private-key text;
  the README it carries links only to files it carries.
- ``ansible-galaxy collection install --offline`` puts it into an empty directory. Its dependencies
  (ansible.posix, kubernetes.core) are the ones the ``ansible`` package installed into the venv's
  site-packages, which is on the collections path, so the offline install finds them there and
  installs only this collection (no --no-deps, nothing from Galaxy). A scenario playbook then runs
  from the installed copy against a lab of its own, with a collections path of that directory and the
  venv's site-packages only: neither build/ (the checkout's symlink) nor PYTHONPATH.
- ``ansible-builder create`` on docs/execution-environment.yml (the example the collection ships) with
  the tarball beside it writes a build context; the two steps of the image build that find the
  collection's requirements (the galaxy stage's install from /build, then introspect.py) are run here
  on that context, without a container: the Python and system requirements the image would get are
  the collection's own (from meta/execution-environment.yml) plus the optional extras the example lists.
- The changelog: every module, filter, role and playbook is announced, ``antsibull-changelog lint``
  passes, and CHANGELOG.rst is what ``antsibull-changelog generate`` writes from changelogs/changelog.yaml.
  test_changelog_is_released passes only once ``make changelog-release`` has been run and committed.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
from pathlib import Path
from urllib.parse import unquote

import pytest
import yaml
from playbook_tools import REPO_ROOT, VENV_BIN, ansible_env, parse_recap, run_playbook

GPL3_TEXT = Path('/usr/share/common-licenses/GPL-3')
SITE_PACKAGES = Path(sysconfig.get_paths()['purelib'])  # the venv's: ansible_collections of the ansible package
GALAXY = yaml.safe_load((REPO_ROOT / 'galaxy.yml').read_text(encoding='utf-8'))
VERSION = GALAXY['version']
TARBALL_NAME = '%s-%s-%s.tar.gz' % (GALAXY['namespace'], GALAXY['name'], VERSION)
COMMAND_TIMEOUT = 300

# What a user runs; anything else at the top of the tarball is a mistake.
TOP_LEVEL = {'MANIFEST.json', 'FILES.json', 'COPYING', 'README.md', 'CHANGELOG.rst', 'bindep.txt', 'requirements.txt',
             'meta', 'plugins', 'roles', 'playbooks', 'inventories', 'docs', 'changelogs'}
OPTIONAL_EXTRAS = ('requirements-vsphere.txt', 'requirements-kubernetes.txt')
REQUIRED_MEMBERS = ('MANIFEST.json', 'FILES.json', 'COPYING', 'README.md', 'bindep.txt', 'requirements.txt', *OPTIONAL_EXTRAS,
                    'meta/runtime.yml', 'meta/execution-environment.yml', 'changelogs/changelog.yaml',
                    'docs/execution-environment.yml', 'inventories/lab/hosts.yml', 'inventories/example/hosts.yml',
                    'playbooks/vars/workload_isolation.yml', 'plugins/modules/prisma_network_ruleset.py')
# Every file of these kinds in the repository (tracked or not, unless git-ignored) must be shipped.
SHIPPED_KINDS = (
    (re.compile(r'^plugins/.+\.py$'), 'plugins'),
    (re.compile(r'^roles/(?!.*/\.).+$'), 'roles'),
    (re.compile(r'^playbooks/(?!.*/\.)[^.].*\.ya?ml$'), 'playbooks'),
    (re.compile(r'^inventories/.+\.ya?ml$'), 'inventories'),
    (re.compile(r'^docs/docsite/.+\.(rst|ya?ml)$'), 'docs'),
)
NEVER_SHIPPED = re.compile(r'^(tests|lab|molecule|benchmarks|build|Makefile|galaxy\.yml|ruff\.toml|pyproject\.toml|test-requirements\.txt|'
                           r'CONTRIBUTING\.md)(/|$)|(^|/)(\.[^/]*|__pycache__)(/|$)|\.py[co]$')

# The scenario run from the installed copy: vars_files from playbooks/vars, the lab inventory, two flow checks.
SCENARIO = 'nsxt_workload_isolation_policy.yml'
SCENARIO_FLOWS = 11
FLOW_ROW = re.compile(r'"service-[a-d] to service-[a-d]\s+nsg-service-[a-d]\s+nsg-service-[a-d]\s+any\s+(allow|deny)\s+(allow|deny) ok\s')


def run(args: list[str], env: dict[str, str] | None = None, cwd: Path = REPO_ROOT, timeout: int = COMMAND_TIMEOUT) -> tuple[int, str]:
    """Run a command; return (rc, stdout and stderr)."""
    result = subprocess.run(args, cwd=str(cwd), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, timeout=timeout, check=False)
    return result.returncode, result.stdout


def installed_env(collections_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Ansible's environment for the installed copy: DIR and the venv's site-packages, nothing else."""
    env = ansible_env(dict(os.environ), extra)
    env.pop('PYTHONPATH', None)
    env.update(ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([str(collections_dir), str(SITE_PACKAGES)]),
               ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='false')
    return env


class Tarball:
    """The built tarball: its path, its members and the bytes of each file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.raw = gzip.decompress(path.read_bytes())
        self.files: dict[str, bytes] = {}
        self.dirs: set[str] = set()
        with tarfile.open(fileobj=io.BytesIO(self.raw)) as tar:
            for member in tar.getmembers():
                name = member.name.rstrip('/')
                if member.isdir():
                    self.dirs.add(name)
                elif member.isfile():
                    self.files[name] = tar.extractfile(member).read()
                else:
                    raise AssertionError('%s: %s is neither a file nor a directory' % (path.name, member.name))


@pytest.fixture(scope='module')
def tarball() -> Tarball:
    """``make build``: build/microseg-segmentation-<version>.tar.gz."""
    path = REPO_ROOT / 'build' / TARBALL_NAME
    if path.exists():
        path.unlink()
    rc, output = run(['make', '--no-print-directory', 'build'])
    assert rc == 0, output
    assert path.is_file(), 'make build did not write %s:\n%s' % (path, output)
    return Tarball(path)


@pytest.fixture(scope='module')
def installed(tarball: Tarball, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tarball installed offline into an empty collections path; returns that path."""
    collections_dir = tmp_path_factory.mktemp('collections')
    rc, output = run([str(VENV_BIN / 'ansible-galaxy'), 'collection', 'install', str(tarball.path), '-p', str(collections_dir), '--offline'],
                     env=installed_env(collections_dir), cwd=collections_dir)
    assert rc == 0, output
    assert 'microseg.segmentation:%s was installed successfully' % VERSION in output, output
    # ansible.posix and kubernetes.core were found in the venv's site-packages, not installed again.
    assert sorted(path.name for path in (collections_dir / 'ansible_collections').iterdir()) == [GALAXY['namespace']], output
    return collections_dir


def collection_root(collections_dir: Path) -> Path:
    return collections_dir / 'ansible_collections' / GALAXY['namespace'] / GALAXY['name']


# ---------------------------------------------------------------- the tarball


def test_tarball_holds_only_what_a_user_runs(tarball: Tarball) -> None:
    names = set(tarball.files) | tarball.dirs
    top = {name.split('/', 1)[0] for name in names}
    unexpected_top = sorted(name for name in top - TOP_LEVEL if name not in OPTIONAL_EXTRAS)
    assert not unexpected_top, 'not for users: %s' % unexpected_top
    assert sorted(name for name in names if NEVER_SHIPPED.search(name)) == []
    assert [name for name in REQUIRED_MEMBERS if name not in tarball.files] == []
    assert sorted(name for name in tarball.files if name.startswith('changelogs/')) == ['changelogs/changelog.yaml']
    if (REPO_ROOT / 'CHANGELOG.rst').is_file():
        assert tarball.files.get('CHANGELOG.rst') == (REPO_ROOT / 'CHANGELOG.rst').read_bytes()

    listed = run(['git', 'ls-files', '--cached', '--others', '--exclude-standard'])[1].splitlines()
    missing = sorted(name for name in listed if any(pattern.match(name) for pattern, dummy in SHIPPED_KINDS)
                     and (REPO_ROOT / name).is_file() and name not in tarball.files)
    assert missing == [], 'files a user runs, left out of the tarball: %s' % missing

    assert tarball.files['COPYING'] == GPL3_TEXT.read_bytes(), 'COPYING is not the GPL-3 text of %s' % GPL3_TEXT
    assert b'PRIVATE KEY' not in tarball.raw

    manifest = json.loads(tarball.files['MANIFEST.json'])['collection_info']
    assert (manifest['namespace'], manifest['name'], manifest['version']) == (GALAXY['namespace'], GALAXY['name'], VERSION)
    assert manifest['license'] == ['GPL-3.0-or-later']
    files_json = json.loads(tarball.files['FILES.json'])['files']
    assert {entry['name'] for entry in files_json if entry['ftype'] == 'file'} == set(tarball.files) - {'MANIFEST.json', 'FILES.json'}


HEADING = re.compile(r'^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$')
INLINE_LINK = re.compile(r'!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+(?:"[^"]*"|\'[^\']*\'))?\s*\)')
REFERENCE_LINK = re.compile(r'^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)')
HTML_ANCHOR = re.compile(r'<a\s[^>]*(?:name|id)="([^"]+)"', re.IGNORECASE)


def markdown_links(text: str) -> tuple[list[str], set[str]]:
    """The link targets of a Markdown text (outside code) and the anchors its headings make (GitHub's way)."""
    targets: list[str] = []
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    fence = None
    previous = ''
    for line in text.splitlines():
        stripped = line.strip()
        marker = re.match(r'^(```+|~~~+)', stripped)
        if marker:
            if fence is None:
                fence = marker.group(1)[0]
            elif stripped.startswith(fence * 3):
                fence = None
            previous = ''
            continue
        if fence is not None:
            continue
        heading = HEADING.match(line)
        title = heading.group(2) if heading else (previous if previous and re.match(r'^(=+|-+)\s*$', stripped) else None)
        if title is not None:
            title = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', title)
            slug = re.sub(r'[^\w\- ]', '', title.strip().lower()).replace(' ', '-')
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            anchors.add(slug if count == 0 else '%s-%d' % (slug, count))
        anchors.update(HTML_ANCHOR.findall(line))
        code_free = re.sub(r'`[^`]*`', '', line)
        targets.extend(INLINE_LINK.findall(code_free))
        reference = REFERENCE_LINK.match(code_free)
        if reference:
            targets.append(reference.group(1))
        previous = stripped
    return targets, anchors


def test_shipped_readme_links_resolve_inside_the_tarball(tarball: Tarball) -> None:
    """Relative links of the README the tarball carries name files it carries; #anchors name its headings."""
    targets, anchors = markdown_links(tarball.files['README.md'].decode('utf-8'))
    broken = []
    for target in targets:
        if not target or re.match(r'^[a-zA-Z][a-zA-Z0-9+.-]*:', target) or target.startswith('//'):
            continue
        path, dummy, anchor = target.partition('#')
        if not path:
            if unquote(anchor).lower() not in anchors:
                broken.append('%s (no such heading)' % target)
            continue
        resolved = posixpath.normpath(unquote(path.split('?', 1)[0])).rstrip('/')
        if resolved.startswith('..') or resolved.startswith('/') or (resolved not in tarball.files and resolved not in tarball.dirs):
            broken.append('%s (not in the tarball)' % target)
    assert broken == [], 'README.md in the tarball links to what it does not carry: %s' % broken


# ---------------------------------------------------------------- the installed copy


def test_installed_copy_is_the_one_ansible_sees(installed: Path) -> None:
    env = installed_env(installed)
    rc, output = run([str(VENV_BIN / 'ansible-galaxy'), 'collection', 'list', '%s.%s' % (GALAXY['namespace'], GALAXY['name'])],
                     env=env, cwd=installed)
    assert rc == 0, output
    assert '# %s' % (installed / 'ansible_collections') in output, output
    assert str(REPO_ROOT) not in output, output

    rc, output = run([str(VENV_BIN / 'ansible-doc'), '-t', 'module', 'microseg.segmentation.prisma_network_ruleset'], env=env, cwd=installed)
    assert rc == 0, output
    assert '(%s)' % (collection_root(installed) / 'plugins' / 'modules' / 'prisma_network_ruleset.py') in output, output.splitlines()[:3]
    assert 'OPTIONS' in output and 'rules' in output


def test_installed_copy_runs_a_scenario(installed: Path, new_lab, tmp_path: Path) -> None:
    """playbooks/nsxt_workload_isolation_policy.yml of the installed copy, on a lab of its own."""
    lab = new_lab('package-lab')
    writes_before = lab.writes()
    root = collection_root(installed)
    env = installed_env(installed, lab.env)
    rc, output = run_playbook(['-i', str(root / 'inventories' / 'lab'), str(root / 'playbooks' / SCENARIO)], env, tmp_path / 'scenario.log')
    tail = '\n'.join(output.splitlines()[-60:])
    assert rc == 0, tail
    recap = parse_recap(output)
    assert list(recap) == ['localhost'] and recap['localhost']['failed'] == 0 and recap['localhost']['changed'] > 0, tail
    rows = FLOW_ROW.findall(output)
    # On an empty lab both checks run: every flow allowed before the policy, the guide's verdicts after.
    assert len(rows) == 2 * SCENARIO_FLOWS, tail
    before, after = rows[:SCENARIO_FLOWS], rows[SCENARIO_FLOWS:]
    assert before == [('allow', 'allow')] * SCENARIO_FLOWS
    assert (after.count(('allow', 'allow')), after.count(('deny', 'deny'))) == (4, 7)
    writes_after = lab.writes()
    assert writes_after['nsxt'] > writes_before['nsxt']
    assert writes_after['prisma'] == writes_before['prisma'] and writes_after['secure_workload'] == writes_before['secure_workload']


def test_optional_libraries_fail_with_a_clear_message(installed: Path, tmp_path: Path) -> None:
    """Without pyVmomi or the Kubernetes client, the modules that need them name the missing library."""
    blocked = tmp_path / 'blocked'
    for package in ('pyVmomi', 'kubernetes'):
        (blocked / package).mkdir(parents=True)
        (blocked / package / '__init__.py').write_text('raise ImportError("%s is not installed")\n' % package, encoding='utf-8')
    tasks = [
        {'name': 'pyvmomi', 'ignore_errors': True,
         'microseg.segmentation.vsphere_vm_membership': {'hostname': 'vcenter.invalid', 'username': 'user', 'password': 'unused-secret'}},
        {'name': 'kubernetes', 'ignore_errors': True, 'microseg.segmentation.k8s_service_inputs': {'name': 'db', 'namespace': 'prod'}},
    ]
    playbook = tmp_path / 'optional.yml'
    playbook.write_text(yaml.safe_dump([{'name': 'Optional libraries', 'hosts': 'localhost', 'connection': 'local', 'gather_facts': False,
                                         'vars': {'ansible_python_interpreter': sys.executable}, 'tasks': tasks}]), encoding='utf-8')
    env = installed_env(installed)
    env['PYTHONPATH'] = str(blocked)  # first on the module's sys.path
    rc, output = run_playbook([str(playbook)], env, tmp_path / 'optional.log')
    assert rc == 0, output
    assert parse_recap(output)['localhost']['ignored'] == 2, output
    for library in ('pyvmomi', 'kubernetes'):
        assert 'Failed to import the required Python library (%s)' % library in output, output


# ---------------------------------------------------------------- the execution environment


def requirement_lines(text: str) -> list[str]:
    return [line.split('#', 1)[0].strip() for line in text.splitlines() if line.split('#', 1)[0].strip()]


def test_collection_declares_its_requirements_for_ansible_builder(tarball: Tarball) -> None:
    meta = yaml.safe_load(tarball.files['meta/execution-environment.yml'])
    assert meta == {'version': 1, 'dependencies': {'python': 'requirements.txt', 'system': 'bindep.txt'}}
    names = [re.split(r'[<>=!~\[; ]', line, maxsplit=1)[0] for line in requirement_lines(tarball.files['requirements.txt'].decode())]
    assert names == ['requests', 'netaddr', 'cryptography']


def test_ansible_builder_create(tarball: Tarball, installed: Path, tmp_path: Path) -> None:
    """ansible-builder create on the shipped example with the tarball beside it, then the image build's
    galaxy install and introspection run on the context it wrote."""
    example = collection_root(installed) / 'docs' / 'execution-environment.yml'
    shutil.copy(example, tmp_path / 'execution-environment.yml')
    shutil.copy(tarball.path, tmp_path / tarball.path.name)
    # the file's name is set: by default it follows the container runtime found on the machine (Dockerfile for docker)
    rc, output = run([str(VENV_BIN / 'ansible-builder'), 'create', '--file', 'execution-environment.yml', '--context', 'context',
                      '--output-filename', 'Containerfile'], cwd=tmp_path)
    assert rc == 0, output
    context = tmp_path / 'context'
    build = context / '_build'

    containerfile = (context / 'Containerfile').read_text(encoding='utf-8')
    galaxy_stage = containerfile[containerfile.index('FROM base AS galaxy'):containerfile.index('FROM base AS builder')]
    assert galaxy_stage.index('COPY _build /build') < galaxy_stage.index('WORKDIR /build') < galaxy_stage.index('-r requirements.yml')
    assert 'introspect.py introspect --user-pip=requirements.txt' in containerfile
    assert (build / 'collections' / TARBALL_NAME).read_bytes() == tarball.path.read_bytes()
    galaxy = yaml.safe_load((build / 'requirements.yml').read_text(encoding='utf-8'))
    assert {'name': 'collections/%s' % TARBALL_NAME, 'type': 'file'} in galaxy['collections']
    extras = sorted(line for name in OPTIONAL_EXTRAS for line in requirement_lines(tarball.files[name].decode()))
    assert sorted(requirement_lines((build / 'requirements.txt').read_text(encoding='utf-8'))) == extras

    # The galaxy stage: ansible-galaxy collection install -r requirements.yml from /build (here: _build).
    image_collections = tmp_path / 'usr-share-ansible-collections'
    rc, output = run([str(VENV_BIN / 'ansible-galaxy'), 'collection', 'install', '-r', 'requirements.yml', '--collections-path',
                      str(image_collections), '--offline'], env=installed_env(image_collections), cwd=build)
    assert rc == 0, output
    assert (collection_root(image_collections) / 'MANIFEST.json').is_file(), output

    # The builder stage: introspect.py finds the collections' requirements and adds the user's.
    written = tmp_path / 'introspected'
    rc, output = run([sys.executable, 'scripts/introspect.py', 'introspect', '--user-pip=requirements.txt', '--write-bindep=%s/bindep.txt' % written,
                      '--write-pip=%s/requirements.txt' % written, str(image_collections)], cwd=build)
    assert rc == 0, output
    python = (written / 'requirements.txt').read_text(encoding='utf-8').splitlines()
    system = (written / 'bindep.txt').read_text(encoding='utf-8').splitlines()
    from_collection = '  # from collection microseg.segmentation'
    assert [line for line in python if line.endswith(from_collection)] == [
        line + from_collection for line in requirement_lines(tarball.files['requirements.txt'].decode())]
    assert sorted(line for line in python if line.endswith('  # from collection user')) == [line + '  # from collection user' for line in extras]
    assert system == [line + from_collection for line in requirement_lines(tarball.files['bindep.txt'].decode())]

    # What bindep makes of those system requirements on this Debian machine (the image would be rpm-based).
    rc, output = run([str(VENV_BIN / 'bindep'), '--file', str(written / 'bindep.txt'), '--list_all', 'newline', 'compile'])
    assert rc == 0, output
    assert {'gcc', 'python3-dev', 'libffi-dev', 'libssl-dev', 'ca-certificates'} <= set(output.split()), output


# ---------------------------------------------------------------- the changelog


def released_and_pending() -> tuple[dict, list[dict]]:
    changelog = yaml.safe_load((REPO_ROOT / 'changelogs' / 'changelog.yaml').read_text(encoding='utf-8'))
    fragments = [yaml.safe_load(path.read_text(encoding='utf-8')) or {}
                 for path in sorted((REPO_ROOT / 'changelogs' / 'fragments').glob('*.y*ml'))]
    return changelog, fragments


def announced_objects(kind: str) -> set[str]:
    changelog, fragments = released_and_pending()
    names = {entry['name'] for release in (changelog.get('releases') or {}).values()
             for entry in (release.get('objects') or {}).get(kind, [])}
    names.update(entry['name'] for fragment in fragments for entry in fragment.get('add object.%s' % kind, []))
    return names


def test_changelog_announces_every_module_filter_role_and_playbook() -> None:
    changelog = released_and_pending()[0]
    versions = set(changelog.get('releases') or {}) | {VERSION}
    plugins = sorted((REPO_ROOT / 'plugins' / 'modules').glob('*.py')) + sorted((REPO_ROOT / 'plugins' / 'filter').glob('*.py'))
    without = []
    for path in plugins:
        match = re.search(r'^version_added:\s*["\']?([0-9][^"\'\s]*)', path.read_text(encoding='utf-8'), re.MULTILINE)
        if match is None or match.group(1) not in versions:
            without.append('%s (%s)' % (path.relative_to(REPO_ROOT), match.group(1) if match else 'no version_added'))
    assert without == [], 'antsibull-changelog announces a plugin from its version_added (one of %s): %s' % (sorted(versions), without)

    roles = set()
    for specs in (REPO_ROOT / 'roles').glob('*/meta/argument_specs.yml'):
        main = (yaml.safe_load(specs.read_text(encoding='utf-8'))['argument_specs'] or {}).get('main') or {}
        if not str(main.get('short_description', '')).startswith('Private'):
            roles.add(specs.parents[1].name)
    assert sorted(roles - announced_objects('role')) == []
    playbooks = {path.stem for path in (REPO_ROOT / 'playbooks').glob('*.yml')}
    assert sorted(playbooks - announced_objects('playbook')) == []


ANSIBLE_MARKUP = re.compile(r'(?<![\w`])(?:RV|[COEVMPIBU])\((?=\S)')


def test_changelog_entries_are_rst() -> None:
    """CHANGELOG.rst is reStructuredText: ``code`` reads as code there, C(code) would be printed as it is."""
    changelog, fragments = released_and_pending()
    entries = [entry for fragment in fragments for key, value in fragment.items() if not key.startswith('add ')
               for entry in (value if isinstance(value, list) else [value])]
    for release in (changelog.get('releases') or {}).values():
        changes = release.get('changes') or {}
        entries.extend(entry for value in changes.values() for entry in (value if isinstance(value, list) else [value]))
    assert [entry[:120] for entry in entries if ANSIBLE_MARKUP.search(str(entry))] == []


def test_changelog_is_released() -> None:
    """Passes once ``make changelog-release`` has been run: the fragments are in changelog.yaml, and
    CHANGELOG.rst is exactly what antsibull-changelog generates from it."""
    antsibull_changelog = str(VENV_BIN / 'antsibull-changelog')
    rc, output = run([antsibull_changelog, 'lint'])
    assert rc == 0, output
    rc, output = run([antsibull_changelog, 'lint-changelog-yaml', 'changelogs/changelog.yaml'])
    assert rc == 0, output
    assert VERSION in (released_and_pending()[0].get('releases') or {}), 'release %s is not in changelogs/changelog.yaml' % VERSION
    assert (REPO_ROOT / 'CHANGELOG.rst').is_file(), 'CHANGELOG.rst is missing: run make changelog-release'


def test_changelog_rst_is_generated(tmp_path: Path) -> None:
    """CHANGELOG.rst cannot go stale: it equals a fresh ``antsibull-changelog generate`` (in a copy)."""
    assert (REPO_ROOT / 'CHANGELOG.rst').is_file(), 'CHANGELOG.rst is missing: run make changelog-release'
    (tmp_path / 'changelogs').mkdir()
    shutil.copy(REPO_ROOT / 'galaxy.yml', tmp_path / 'galaxy.yml')
    for name in ('config.yaml', 'changelog.yaml'):
        shutil.copy(REPO_ROOT / 'changelogs' / name, tmp_path / 'changelogs' / name)
    rc, output = run([str(VENV_BIN / 'antsibull-changelog'), 'generate'], cwd=tmp_path)
    assert rc == 0, output
    assert (tmp_path / 'CHANGELOG.rst').read_text(encoding='utf-8') == (REPO_ROOT / 'CHANGELOG.rst').read_text(encoding='utf-8')
