"""Pytest harness for the playbook integration targets.

One lab (``lab/labctl.py``) is started per test session in a temporary directory and
stopped at the end.  Every directory ``tests/integration/targets/<name>/`` that has
``tasks/main.yml`` is one test (see ``test_targets.py``): it runs as a role of a generated
playbook on localhost, with the lab's connection settings (``Lab.playbook_env``) in the
environment.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playbook_tools import ansible_env

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
BUILD_DIR = REPO_ROOT / 'build'
LABCTL = REPO_ROOT / 'lab' / 'labctl.py'
VENV_BIN = Path(sys.executable).parent

REQUIRED_LAB_ENV = ('PRISMA_API', 'PRISMA_TOKEN', 'PRISMA_NAMESPACE', 'PRISMA_CA_PATH')
LAB_START_TIMEOUT = 600
LAB_STOP_TIMEOUT = 120


def parse_env_file(path: Path) -> dict[str, str]:
    """Read a KEY=VALUE file (optional ``export`` prefix and quotes) into a dict."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw_line in path.read_text(encoding='utf-8').splitlines():
        line = raw_line.strip()
        if not line or line.startswith('#') or '=' not in line:
            continue
        line = line.removeprefix('export ').strip()
        key, value = line.split('=', 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in '\'"':
            value = value[1:-1]
        values[key.strip()] = value
    return values


def find_env_values(data: object) -> dict[str, str]:
    """Collect string values stored under upper-case keys such as PRISMA_API anywhere in lab.json."""
    found: dict[str, str] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, (dict, list)):
                for sub_key, sub_value in find_env_values(value).items():
                    found.setdefault(sub_key, sub_value)
            elif isinstance(key, str) and key.isupper() and value is not None:
                found.setdefault(key, str(value))
    elif isinstance(data, list):
        for item in data:
            for sub_key, sub_value in find_env_values(item).items():
                found.setdefault(sub_key, sub_value)
    return found


def lab_environment(lab_dir: Path) -> dict[str, str]:
    """The lab's connection settings: every KEY of lab.env, completed by upper-case keys of lab.json."""
    env = parse_env_file(lab_dir / 'lab.env')
    lab_json = lab_dir / 'lab.json'
    if lab_json.is_file():
        for key, value in find_env_values(json.loads(lab_json.read_text(encoding='utf-8'))).items():
            env.setdefault(key, value)
    missing = [key for key in REQUIRED_LAB_ENV if not env.get(key)]
    if missing:
        raise RuntimeError('lab in %s did not publish %s (lab.json / lab.env)' % (lab_dir, ', '.join(missing)))
    env['LAB_ADMIN_URL'] = env['PRISMA_API'].rstrip('/')
    return env


def _interrupt_on_sigterm(signum, frame):
    """Turn SIGTERM (a CI or make time-out) into KeyboardInterrupt so fixture teardown stops the lab."""
    del signum, frame
    raise KeyboardInterrupt('SIGTERM')


def pytest_sessionstart(session: pytest.Session) -> None:
    """Install the SIGTERM handler for the whole session."""
    del session
    signal.signal(signal.SIGTERM, _interrupt_on_sigterm)


class Lab:
    """A running lab and the environment a playbook needs to reach it."""

    def __init__(self, lab_dir: Path, env: dict[str, str]) -> None:
        self.dir = lab_dir
        self.env = env

    def playbook_env(self) -> dict[str, str]:
        """Environment for ansible-playbook: this checkout's collection, the lab, no colour."""
        return ansible_env(dict(os.environ), self.env)

    def admin(self, product: str, method: str, path: str, body=None) -> dict:
        """A call to one product's API or admin routes (``/_lab/...``)."""
        bases = {'prisma': self.env['PRISMA_API'].rstrip('/'), 'nsxt': 'https://' + self.env['NSXT_HOST'],
                 'secure_workload': self.env['SW_URL'].rstrip('/')}
        response = requests.request(method, bases[product] + path, json=body, verify=self.env['PRISMA_CA_PATH'], timeout=30)
        response.raise_for_status()
        return response.json() if response.content else {}

    def writes(self) -> dict[str, int]:
        """The writes each product's API has served so far (the lab's request counters)."""
        return dict((product, self.admin(product, 'GET', '/_lab/counters')['writes']) for product in ('prisma', 'nsxt', 'secure_workload'))


def run_labctl(action: str, lab_dir: Path, timeout: int) -> tuple[int, str]:
    """Run lab/labctl.py ACTION --dir LAB_DIR with this interpreter; return (rc, output).

    The output goes to a file, not a pipe: a server that labctl leaves running may inherit
    the descriptors, and reading a pipe would then wait for that server to exit.
    """
    log_path = lab_dir.parent / ('%s-labctl-%s.log' % (lab_dir.name, action))
    with open(log_path, 'w+', encoding='utf-8') as log:
        try:
            returncode = subprocess.run(
                [sys.executable, str(LABCTL), action, '--dir', str(lab_dir)],
                cwd=str(REPO_ROOT), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, timeout=timeout, check=False,
            ).returncode
        except subprocess.TimeoutExpired:
            returncode = -1
            log.write('\nlabctl %s timed out after %ds\n' % (action, timeout))
        log.seek(0)
        return returncode, log.read()


@pytest.fixture(scope='session')
def ensure_collection_root() -> Path:
    """build/ansible_collections/microseg/segmentation -> repository root (as make collection-root does)."""
    link = BUILD_DIR / 'ansible_collections' / 'microseg' / 'segmentation'
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(REPO_ROOT, target_is_directory=True)
    return link


@pytest.fixture()
def new_lab(tmp_path_factory: pytest.TempPathFactory, ensure_collection_root: Path) -> Iterator:
    """``new_lab(name)`` starts a lab of the test's own (free ports, empty); every one is stopped at the end."""
    del ensure_collection_root
    started = []

    def start(name: str = 'own-lab') -> Lab:
        lab_dir = tmp_path_factory.mktemp(name)
        started.append(lab_dir)
        returncode, output = run_labctl('start', lab_dir, LAB_START_TIMEOUT)
        if returncode != 0:
            pytest.fail('lab start failed (rc=%d):\n%s' % (returncode, output))
        return Lab(lab_dir, lab_environment(lab_dir))

    try:
        yield start
    finally:
        for lab_dir in started:
            returncode, output = run_labctl('stop', lab_dir, LAB_STOP_TIMEOUT)
            if returncode != 0:
                sys.stderr.write('lab stop failed (rc=%d):\n%s\n' % (returncode, output))


@pytest.fixture(scope='session')
def lab(tmp_path_factory: pytest.TempPathFactory, ensure_collection_root: Path) -> Iterator[Lab]:
    """Start one lab for the whole session; stop it at the end."""
    del ensure_collection_root
    if not LABCTL.is_file():
        pytest.fail('%s is missing: the integration targets need the lab' % LABCTL)
    lab_dir = tmp_path_factory.mktemp('lab')
    try:
        returncode, output = run_labctl('start', lab_dir, LAB_START_TIMEOUT)
        if returncode != 0:
            pytest.fail('lab start failed (rc=%d):\n%s' % (returncode, output))
        yield Lab(lab_dir, lab_environment(lab_dir))
    finally:
        returncode, output = run_labctl('stop', lab_dir, LAB_STOP_TIMEOUT)
        if returncode != 0:
            sys.stderr.write('lab stop failed (rc=%d):\n%s\n' % (returncode, output))


K8S_CLUSTER = REPO_ROOT / 'tests' / 'k8s' / 'cluster.py'
K8S_START_TIMEOUT = 300


class K8sCluster:
    """A running test control plane (tests/k8s/cluster.py): its directory, kubeconfig and settings."""

    def __init__(self, cluster_dir: Path) -> None:
        self.dir = cluster_dir
        self.kubeconfig = cluster_dir / 'kubeconfig'
        self.info = json.loads((cluster_dir / 'cluster.json').read_text(encoding='utf-8'))
        self.env = parse_env_file(cluster_dir / 'cluster.env')
        self.env['KUBECONFIG'] = str(self.kubeconfig)
        self.kubectl = REPO_ROOT / '.cache' / 'bin' / 'kubectl'


@pytest.fixture(scope='session')
def k8s_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[K8sCluster]:
    """Start the Kubernetes test control plane (built by make k8s) with 3 kwok nodes; stop it at the end."""
    cluster_dir = tmp_path_factory.mktemp('k8s')
    log_path = cluster_dir.parent / 'k8s-start.log'
    try:
        with open(log_path, 'w+', encoding='utf-8') as log:
            returncode = subprocess.run(
                [sys.executable, str(K8S_CLUSTER), 'start', '--dir', str(cluster_dir), '--nodes', '3', '--no-build'],
                cwd=str(REPO_ROOT), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                timeout=K8S_START_TIMEOUT, check=False,
            ).returncode
            log.seek(0)
            output = log.read()
        if returncode != 0:
            pytest.fail('Kubernetes test control plane did not start (rc=%d):\n%s' % (returncode, output))
        yield K8sCluster(cluster_dir)
    finally:
        subprocess.run([sys.executable, str(K8S_CLUSTER), 'stop', '--dir', str(cluster_dir)], cwd=str(REPO_ROOT),
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120, check=False)
