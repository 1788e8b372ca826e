"""Faults, retries, login and secrets, end to end: a module run by ansible-playbook against the lab.

Each test injects faults through the lab's admin API, runs one task, then checks the lab's
request counters and objects: a retried write must never create a duplicate, and no secret may
reach the output, even at -vvv.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests

PLAYBOOK_TIMEOUT = 300


class LabClient:
    def __init__(self, lab):
        self.url = lab.env['PRISMA_API'].rstrip('/')
        self.ca = lab.env['PRISMA_CA_PATH']
        self.token = lab.env['PRISMA_TOKEN']

    def admin(self, method, path, body=None):
        resp = requests.request(method, self.url + path, json=body, verify=self.ca, timeout=30)
        resp.raise_for_status()
        return resp.json() if resp.content else None

    def api(self, method, path, namespace, body=None, params=None):
        headers = {'Authorization': 'Bearer ' + self.token, 'X-Namespace': namespace}
        resp = requests.request(method, self.url + path, json=body, params=params, headers=headers, verify=self.ca, timeout=30)
        resp.raise_for_status()
        return resp.json() if resp.content else None

    def faults(self, *rules):
        self.admin('PUT', '/_lab/faults', {'rules': list(rules)})

    def counters(self):
        return self.admin('GET', '/_lab/counters')


@pytest.fixture()
def client(lab):
    lab_client = LabClient(lab)
    yield lab_client
    lab_client.admin('DELETE', '/_lab/faults')


@pytest.fixture()
def namespace(lab, client):
    """A fresh child namespace of the lab's root for one test."""
    root = lab.env['PRISMA_NAMESPACE']
    name = 'res-' + uuid.uuid4().hex[:8]
    client.api('POST', '/namespaces', root, {'name': name, 'type': 'Group'})
    return '%s/%s' % (root, name)


def run_tasks(lab, tmp_path: Path, tasks, extra_env=None, verbosity=None):
    playbook = [{
        'name': 'Resilience',
        'hosts': 'localhost',
        'gather_facts': False,
        'connection': 'local',
        'vars': {'ansible_python_interpreter': sys.executable},
        'tasks': tasks,
    }]
    path = tmp_path / 'play.yml'
    path.write_text(json.dumps(playbook), encoding='utf-8')
    env = lab.playbook_env()
    env.update(extra_env or {})
    command = [str(Path(sys.executable).parent / 'ansible-playbook'), '-i', 'localhost,', str(path)]
    if verbosity:
        command.append(verbosity)
    result = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, timeout=PLAYBOOK_TIMEOUT, check=False)
    return result.returncode, result.stdout


def ruleset_task(namespace, name='rs', port='tcp/80'):
    return {
        'name': 'Ruleset',
        'microseg.segmentation.prisma_network_ruleset': {
            'namespace': namespace,
            'name': name,
            'subject': [['app=web']],
            'incoming_rules': [{'object': [['app=client']], 'protocol_ports': [port]}],
        },
    }


def rulesets(client, namespace):
    return client.api('GET', '/networkrulesetpolicies', namespace)


def test_read_retried_after_429_with_retry_after(lab, client, namespace, tmp_path):
    client.admin('POST', '/_lab/counters/reset')
    client.faults({'method': 'GET', 'path': '/networkrulesetpolicies', 'status': 429, 'retry_after': 1, 'count': 2})
    rc, out = run_tasks(lab, tmp_path, [ruleset_task(namespace)])
    assert rc == 0, out
    routes = client.counters()['routes']
    assert routes['GET /networkrulesetpolicies'] == 3  # two refused, one answered
    assert routes['POST /networkrulesetpolicies'] == 1
    assert len(rulesets(client, namespace)) == 1


def test_create_retried_after_503_creates_one_object(lab, client, namespace, tmp_path):
    client.faults({'method': 'POST', 'path': '/networkrulesetpolicies', 'status': 503, 'count': 2})
    client.admin('POST', '/_lab/counters/reset')
    rc, out = run_tasks(lab, tmp_path, [ruleset_task(namespace)])
    assert rc == 0, out
    assert client.counters()['routes']['POST /networkrulesetpolicies'] == 3
    assert [r['name'] for r in rulesets(client, namespace)] == ['rs']


def test_dropped_connection_on_create_does_not_duplicate(lab, client, namespace, tmp_path):
    # The lab applies the create, then drops the connection before answering: the module's
    # retry carries the same Idempotency-Key, so the lab replays the first answer.
    client.admin('POST', '/_lab/counters/reset')
    client.faults({'method': 'POST', 'path': '/networkrulesetpolicies', 'drop': True, 'after_handling': True, 'count': 1})
    rc, out = run_tasks(lab, tmp_path, [ruleset_task(namespace)])
    assert rc == 0, out
    assert client.counters()['routes']['POST /networkrulesetpolicies'] == 2  # the lost answer, then the replay
    assert [r['name'] for r in rulesets(client, namespace)] == ['rs']


def test_api_error_reports_status_message_and_request(lab, client, namespace, tmp_path):
    client.faults({'method': 'POST', 'path': '/networkrulesetpolicies', 'status': 500, 'count': 1})
    tasks = [
        dict(ruleset_task(namespace), register='result', ignore_errors=True),
        {'name': 'Show', 'ansible.builtin.debug': {'var': 'result'}},
    ]
    rc, out = run_tasks(lab, tmp_path, tasks)
    assert rc == 0, out
    assert '"status": 500' in out
    assert 'POST https://' in out and '/networkrulesetpolicies failed with status 500' in out
    assert lab.env['PRISMA_TOKEN'] not in out


def test_retries_give_up_and_fail_cleanly(lab, client, namespace, tmp_path):
    client.faults({'method': 'GET', 'path': '/networkrulesetpolicies', 'status': 503, 'count': 50})
    rc, out = run_tasks(lab, tmp_path, [ruleset_task(namespace)], extra_env={'PRISMA_TIMEOUT': '5'})
    assert rc != 0
    assert 'failed with status 503' in out
    client.admin('DELETE', '/_lab/faults')
    assert rulesets(client, namespace) == []


def test_app_credential_login_and_no_token_in_output(lab, client, namespace, tmp_path):
    lab_json = json.loads((lab.dir / 'lab.json').read_text())
    credential = lab_json['prisma']['app_credential']
    env = {'PRISMA_TOKEN': '', 'PRISMA_APP_CREDENTIAL': credential, 'PRISMA_CA_PATH': ''}
    client.admin('POST', '/_lab/counters/reset')
    rc, out = run_tasks(lab, tmp_path, [ruleset_task(namespace)], extra_env=env, verbosity='-vvv')
    assert rc == 0, out
    routes = client.counters()['routes']
    assert routes.get('POST /issue') == 1
    key = json.loads(Path(credential).read_text())['certificateKey']
    assert key not in out
    assert 'eyJ' not in out  # no JWT, issued or static, is printed


def test_app_credential_login_is_retried(lab, client, namespace, tmp_path):
    lab_json = json.loads((lab.dir / 'lab.json').read_text())
    env = {'PRISMA_TOKEN': '', 'PRISMA_APP_CREDENTIAL': lab_json['prisma']['app_credential'], 'PRISMA_CA_PATH': ''}
    client.admin('POST', '/_lab/counters/reset')
    client.faults({'method': 'POST', 'path': '/issue', 'status': 503, 'count': 1})
    rc, out = run_tasks(lab, tmp_path, [ruleset_task(namespace)], extra_env=env)
    assert rc == 0, out
    routes = client.counters()['routes']
    assert routes.get('POST /issue') == 2  # refused once, then the token
    assert routes['POST /networkrulesetpolicies'] == 1


def test_nsx_session_login_is_retried_and_logs_out(lab, tmp_path):
    nsx = 'https://' + lab.env['NSXT_HOST']
    ca = lab.env['NSXT_CA_PATH']

    def admin(method, path, body=None):
        resp = requests.request(method, nsx + path, json=body, verify=ca, timeout=30)
        resp.raise_for_status()
        return resp.json() if resp.content else None

    admin('POST', '/_lab/counters/reset')
    admin('PUT', '/_lab/faults', {'rules': [{'method': 'POST', 'path': '/api/session/create', 'status': 503, 'count': 1}]})
    try:
        task = {'name': 'Read with a session', 'microseg.segmentation.nsxt_info': {'kind': 'ns_group', 'session': True},
                'register': 'nsx_groups'}
        check = {'name': 'Check', 'ansible.builtin.assert': {'that': ['nsx_groups.count == nsx_groups.objects | length', 'nsx_groups is not changed']}}
        rc, out = run_tasks(lab, tmp_path, [task, check], verbosity='-vvv')
    finally:
        admin('DELETE', '/_lab/faults')
    assert rc == 0, out
    routes = admin('GET', '/_lab/counters')['routes']
    assert routes.get('POST /api/session/create') == 2  # refused once, then the session
    assert routes.get('GET /api/v1/ns-groups') == 1  # the XSRF token and the cookie were accepted
    assert routes.get('POST /api/session/destroy') == 1
    assert lab.env['NSXT_PASSWORD'] not in out


def test_certificate_key_never_printed(lab, client, namespace, tmp_path):
    key = '-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbC0xMjM0NTY3ODkw\n-----END PRIVATE KEY-----'
    cert = '-----BEGIN CERTIFICATE-----\nY2VydGlmaWNhdGUtbWF0ZXJpYWw=\n-----END CERTIFICATE-----'
    task = {
        'name': 'Service with a custom certificate',
        'microseg.segmentation.prisma_tcp_service': {
            'namespace': namespace, 'name': 'web', 'hosts': ['web.example.com'], 'exposed_port': 443, 'port': 8443,
            'tls_mode': 'custom', 'tls_certificate': cert, 'tls_certificate_key': key,
        },
        'diff': True,
    }
    rc, out = run_tasks(lab, tmp_path, [task, dict(task, name='Again')], verbosity='-vvv')
    assert rc == 0, out
    assert 'c2VjcmV0LWtleS1tYXRlcmlhbC0xMjM0NTY3ODkw' not in out
    assert '"TLSCertificateKey": "********"' in out
