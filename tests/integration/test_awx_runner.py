# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scenarios run as AWX runs a job: through ansible-runner, with the credentials of the
collection's AWX credential types (playbooks/awx/credential_types) as the only connection settings.

Each credential type's injectors are rendered as AWX renders them for a job (tests/unit/awx_injectors.py):
environment templates into the job's environment, file templates into private files whose paths the
environment names. The inputs are the credentials of a lab of this test's own. Each job's private data
directory has an ``env/envvars`` with only those variables (and PATH and ANSIBLE_COLLECTIONS_PATH to find
ansible-playbook and the collection; the test process's own environment is emptied for the run), and an
inventory of its own with only localhost, not inventories/lab. The playbooks are run by their names in
the collection, as an AWX project that uses the installed collection runs them.

- Prisma, with an app credential and nothing else (API URL, namespace and CA come from it): the TCP
  service scenario (tcp_service_clusterip).
- NSX, with a client certificate and its key: the Policy API workload isolation.
- Secure Workload, with an API key and secret: the Kubernetes service guide.
- Then the other forms, each with an info module run ad hoc: Prisma with a token reads the namespace
  the first job made; NSX with a user, password and a session reads the groups the second job made.

Each job must end with rc 0 and status successful, with no failed or unreachable event, the scenario's
flow check reported ok with every flow as expected; and no secret value (token, password, API secret,
private key, app credential key) may appear in any file of the artifacts, except ansible-runner's own
``command`` dump of the job's command line and environment, which must hold no other connection
variable than the injected ones.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
from pathlib import Path

import ansible_runner
import pytest
import yaml

from playbook_tools import PLAYBOOK_TIMEOUT, REPO_ROOT, VENV_BIN

sys.path.insert(0, str(REPO_ROOT / 'tests' / 'unit'))
from awx_injectors import load_definitions, render_injectors  # noqa: E402  pylint: disable=wrong-import-position,import-error

DEFINITIONS = load_definitions()
CONNECTION_PREFIXES = ('PRISMA_', 'APOCTL_', 'NSXT_', 'NSX_', 'SW_', 'TETRATION_')
# what the test process keeps of its own environment while the jobs run (PATH is set anew)
KEPT_ENVIRONMENT = ('HOME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TMPDIR', 'USER')
EVENT_FAILURES = ('runner_on_failed', 'runner_on_unreachable', 'runner_item_on_failed', 'runner_on_async_failed')


class Job:
    """One AWX-style job: a credential of one type, and a scenario playbook or an ad hoc module."""

    def __init__(self, name: str, product: str, inputs: dict, playbook: str = '', module: str = '', module_args: str = '',
                 flow_check: str = '') -> None:
        self.name = name
        self.product = product
        self.inputs = inputs
        self.playbook = playbook
        self.module = module
        self.module_args = module_args
        self.flow_check = flow_check
        self.dir = None
        self.env = {}
        self.runner = None

    def prepare(self, base: Path) -> None:
        """The private data directory: the injected credential, the job's own inventory."""
        self.dir = base / self.name
        self.env, dummy = render_injectors(DEFINITIONS[self.product], self.inputs, self.dir)
        envvars = dict(self.env, PATH=os.pathsep.join([str(VENV_BIN), os.defpath]), ANSIBLE_COLLECTIONS_PATH=str(REPO_ROOT / 'build'))
        envvars_file = self.dir / 'env' / 'envvars'
        envvars_file.touch(mode=0o600)
        envvars_file.write_text(yaml.safe_dump(envvars), encoding='utf-8')
        (self.dir / 'inventory').mkdir()
        inventory = {'all': {'hosts': {'localhost': {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}}}}
        (self.dir / 'inventory' / 'hosts.yml').write_text(yaml.safe_dump(inventory), encoding='utf-8')
        (self.dir / 'project').mkdir()

    def start(self):
        kwargs = dict(private_data_dir=str(self.dir), ident=self.name, quiet=True, timeout=PLAYBOOK_TIMEOUT,
                      cancel_callback=lambda: False)  # leaves the session's signal handlers alone
        if self.playbook:
            kwargs['playbook'] = self.playbook
        else:
            kwargs.update(host_pattern='localhost', module=self.module, module_args=self.module_args)
        thread, self.runner = ansible_runner.run_async(**kwargs)
        return thread

    @property
    def artifacts(self) -> Path:
        return self.dir / 'artifacts' / self.name

    def events(self) -> list[dict]:
        return list(self.runner.events)

    def ok_results(self, action: str) -> list[dict]:
        return [event['event_data']['res'] for event in self.events()
                if event['event'] == 'runner_on_ok' and event['event_data'].get('task_action') == action]

    def summary(self) -> str:
        stdout = self.artifacts / 'stdout'
        text = stdout.read_text(encoding='utf-8', errors='replace') if stdout.is_file() else ''
        return '%s: rc=%s status=%s\n%s' % (self.name, self.runner.rc, self.runner.status, text[-6000:])


def run_jobs(jobs: list[Job], base: Path) -> None:
    """Run the jobs at once and wait for all of them (bounded by the runner's own job timeout)."""
    threads = []
    for job in jobs:
        job.prepare(base)
        threads.append(job.start())
    for thread in threads:
        thread.join(PLAYBOOK_TIMEOUT + 60)
        assert not thread.is_alive(), 'a job outlived its timeout'


def lab_secrets(lab, lab_json: dict) -> list[str]:
    """Every secret of the lab's credentials: the values, and each line of the private keys."""
    secrets = [lab.env['PRISMA_TOKEN'], lab.env['NSXT_PASSWORD'], lab.env['SW_API_SECRET']]
    app_credential = json.loads(Path(lab_json['prisma']['app_credential']).read_text(encoding='utf-8'))
    secrets.append(app_credential['certificateKey'])
    keys = [base64.b64decode(app_credential['certificateKey']).decode('ascii'),
            Path(lab_json['nsxt']['client_key']).read_text(encoding='ascii')]
    for key in keys:
        secrets.extend(line for line in key.splitlines() if line.strip() and not line.startswith('-----'))
    assert all(len(secret) >= 16 for secret in secrets), 'a lab secret is too short to look for'
    return secrets


def holding_secrets(files: list[Path], secrets: list[str]) -> list[str]:
    """The files that hold a secret, as written or JSON-escaped (each with the secret's index, never its value)."""
    found = []
    for path in files:
        data = path.read_bytes()
        for index, secret in enumerate(secrets):
            if secret.encode('utf-8') in data or json.dumps(secret)[1:-1].encode('utf-8') in data:
                found.append('%s (secret %d)' % (path, index))
    return found


def test_scenarios_run_with_only_the_injected_credentials(new_lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lab = new_lab('awx-lab')
    lab_json = json.loads((lab.dir / 'lab.json').read_text(encoding='utf-8'))

    def pem(path: str) -> str:
        return Path(path).read_text(encoding='ascii')

    prisma_ca, nsxt_ca, sw_ca = pem(lab.env['PRISMA_CA_PATH']), pem(lab.env['NSXT_CA_PATH']), pem(lab.env['SW_CA_PATH'])
    scenarios = [
        Job('prisma-app-credential', 'prisma', {'app_credential': Path(lab_json['prisma']['app_credential']).read_text(encoding='utf-8')},
            playbook='microseg.segmentation.tcp_service_clusterip', flow_check='microseg.segmentation.prisma_flow_check'),
        Job('nsxt-client-certificate', 'nsxt', {'host': lab.env['NSXT_HOST'], 'client_cert': pem(lab_json['nsxt']['client_cert']),
                                                'client_key': pem(lab_json['nsxt']['client_key']), 'ca_bundle': nsxt_ca},
            playbook='microseg.segmentation.nsxt_workload_isolation_policy', flow_check='microseg.segmentation.nsxt_flow_check'),
        Job('secure-workload', 'secure_workload', {'url': lab.env['SW_URL'], 'api_key': lab.env['SW_API_KEY'],
                                                   'api_secret': lab.env['SW_API_SECRET'], 'ca_bundle': sw_ca},
            playbook='microseg.segmentation.secure_workload_k8s_service', flow_check='microseg.segmentation.secure_workload_flow_check'),
    ]
    other_forms = [
        Job('prisma-token', 'prisma', {'api_url': lab.env['PRISMA_API'], 'namespace_path': lab.env['PRISMA_NAMESPACE'],
                                       'token': lab.env['PRISMA_TOKEN'], 'ca_bundle': prisma_ca},
            module='microseg.segmentation.prisma_info', module_args='kind=namespace name=k8s-clusterip'),
        Job('nsxt-session', 'nsxt', {'host': lab.env['NSXT_HOST'], 'username': lab.env['NSXT_USERNAME'], 'password': lab.env['NSXT_PASSWORD'],
                                     'session': True, 'ca_bundle': nsxt_ca},
            module='microseg.segmentation.nsxt_info', module_args='kind=policy_group'),
    ]

    # the jobs see nothing of this process's environment but what AWX would give them
    for key in list(os.environ):
        if key not in KEPT_ENVIRONMENT:
            monkeypatch.delenv(key)
    monkeypatch.setenv('PATH', os.pathsep.join([str(VENV_BIN), os.defpath]))

    started = time.monotonic()
    run_jobs(scenarios, tmp_path)
    run_jobs(other_forms, tmp_path)
    sys.stderr.write('awx runner jobs: %.1f s\n' % (time.monotonic() - started))

    for job in scenarios + other_forms:
        assert job.runner.rc == 0 and job.runner.status == 'successful', job.summary()
        failures = [event['event'] for event in job.events() if event['event'] in EVENT_FAILURES]
        assert failures == [], job.summary()
        stats = [event['event_data'] for event in job.events() if event['event'] == 'playbook_on_stats']
        if job.playbook:
            assert len(stats) == 1 and stats[0]['ok'].get('localhost') and not stats[0]['failures'], job.summary()

    for job in scenarios:
        checks = job.ok_results(job.flow_check)
        assert checks, '%s: no ok event of %s\n%s' % (job.name, job.flow_check, job.summary())
        for result in checks:
            assert result['counts']['checked'] > 0 and result['counts']['mismatched'] == 0 and result['mismatches'] == [], result['summary']

    # the other forms read what the scenarios made
    namespaces = job_ok_result(other_forms[0], 'microseg.segmentation.prisma_info')
    assert [item['name'] for item in namespaces['objects']] == ['%s/k8s-clusterip' % lab.env['PRISMA_NAMESPACE']], namespaces['objects']
    groups = job_ok_result(other_forms[1], 'microseg.segmentation.nsxt_info')
    assert {'nsg-service-a', 'nsg-service-b', 'nsg-service-c', 'nsg-service-d'} <= set(item['id'] for item in groups['objects'])

    secrets = lab_secrets(lab, lab_json)
    for job in scenarios + other_forms:
        files = sorted(path for path in job.artifacts.rglob('*') if path.is_file())
        assert len(files) > 3, 'no artifacts in %s' % job.artifacts
        assert holding_secrets([path for path in files if path != job.artifacts / 'command'], secrets) == []
        # the look finds a secret where one is: the environment in the command dump (token, password, API secret)
        if set(job.inputs) & {'token', 'password', 'api_secret'}:
            assert holding_secrets([job.artifacts / 'command'], secrets), job.name
        # ansible-runner's dump of the command holds the job's environment: the injected variables, no other
        command = json.loads((job.artifacts / 'command').read_text(encoding='utf-8'))
        connection = sorted(key for key in command['env'] if key.startswith(CONNECTION_PREFIXES))
        assert connection == sorted(job.env), connection


def job_ok_result(job: Job, action: str) -> dict:
    results = job.ok_results(action)
    assert len(results) == 1, job.summary()
    return results[0]
