"""Secrets given in list-form items, written in the task or read from a file (``src``), never reach any output.

Every object module whose ``items`` have a ``no_log`` sub-option (found from the modules' own
argument specs) runs against the lab with secrets in its items, once failing validation and once
failing on an API error (the lab's fault injection), at -vvv with the default callback and with
the ansible.posix.json callback; none of the secret values may appear anywhere in the output.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import pytest
import requests
import yaml

from playbook_tools import run_playbook

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'unit' / 'plugins' / 'modules'))
from test_object_modules import OBJECT_MODULES  # noqa: E402  pylint: disable=wrong-import-position,import-error

KEY = '-----BEGIN PRIVATE KEY-----\nSECRET-ITEM-KEY-%s\n-----END PRIVATE KEY-----'
CERT = '-----BEGIN CERTIFICATE-----\nY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----'


def secret_modules():
    return sorted(name for name, runner in OBJECT_MODULES.items()
                  if any(option.get('no_log') for option in runner.argument_spec()['items']['options'].values()))


def test_the_modules_with_item_secrets_are_found():
    assert secret_modules() == ['prisma_tcp_service', 'secure_workload_orchestrator']


class Lab:
    """The product APIs of the session's lab: admin routes and a Prisma namespace per test."""

    def __init__(self, lab):
        self.lab = lab
        self.prisma = lab.env['PRISMA_API'].rstrip('/')
        self.sw = lab.env['SW_URL'].rstrip('/')

    def faults(self, base, ca, rules):
        requests.put(base + '/_lab/faults', json={'rules': rules}, verify=ca, timeout=30).raise_for_status()

    def clear_faults(self):
        self.faults(self.prisma, self.lab.env['PRISMA_CA_PATH'], [])
        self.faults(self.sw, self.lab.env['SW_CA_PATH'], [])

    def namespace(self):
        root = self.lab.env['PRISMA_NAMESPACE']
        name = 'sec-' + uuid.uuid4().hex[:8]
        headers = {'Authorization': 'Bearer ' + self.lab.env['PRISMA_TOKEN'], 'X-Namespace': root}
        requests.post(self.prisma + '/namespaces', json={'name': name, 'type': 'Group'}, headers=headers,
                      verify=self.lab.env['PRISMA_CA_PATH'], timeout=30).raise_for_status()
        return '%s/%s' % (root, name)


@pytest.fixture()
def lab_api(lab):
    api = Lab(lab)
    yield api
    api.clear_faults()


def scenario(module, lab_api, error):
    """``(task, secrets, fault)`` for one module and one kind of error."""
    tag = uuid.uuid4().hex[:12]
    if module == 'prisma_tcp_service':
        key = KEY % tag
        good = {'name': 'svc-a', 'hosts': ['a.example.com'], 'exposed_port': 443, 'port': 8443,
                'tls_mode': 'custom', 'tls_certificate': CERT, 'tls_certificate_key': key}
        args = {'namespace': lab_api.namespace(), 'items': [good, dict(good, name='svc-b')]}
        if error == 'validation':
            args['items'][1]['exposed_port'] = 70000
            expect = 'items[1].exposed_port'
        elif error == 'type':
            args['items'][1]['port'] = 'not-a-port'
            expect = 'port'
        else:
            expect = 'failed_objects'
        fault = (lab_api.prisma, lab_api.lab.env['PRISMA_CA_PATH'],
                 [{'method': 'POST', 'path': '/services', 'status': 422, 'count': -1}])
        return {'microseg.segmentation.prisma_tcp_service': args}, [key, key.split('\n')[1]], fault, expect
    token, key = 'SECRET-TOKEN-%s' % tag, 'SECRET-KEY-%s' % tag
    good = {'name': 'sec-%s' % tag, 'hosts_list': [{'host_name': 'k8s.example.com', 'port_number': 6443}],
            'auth_token': token, 'key': key, 'insecure': True}
    args = {'root_scope': 'Default', 'items': [good]}
    if error == 'validation':
        args['items'].append(dict(good, name='sec-b-%s' % tag, delta_interval=0))
        expect = 'items[1].delta_interval'
    elif error == 'type':
        args['items'].append(dict(good, name='sec-b-%s' % tag, kubelet_port='not-a-port'))
        expect = 'kubelet_port'
    else:
        expect = 'failed_objects'
    fault = (lab_api.sw, lab_api.lab.env['SW_CA_PATH'], [{'method': 'POST', 'path': '/openapi/v1/orchestrator', 'status': 400, 'count': -1}])
    return {'microseg.segmentation.%s' % module: args}, [token, key], fault, expect


OUTPUTS = [('-vvv', 'default'), (None, 'ansible.posix.json'), ('-vvv', 'ansible.posix.json')]


def from_file(task, tmp_path, expect):
    """The task with its items read from a YAML file (``src``) instead of written in it."""
    (module, args), = task.items()
    path = tmp_path / 'policy' / 'items.yml'
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(args.pop('items')), encoding='utf-8')
    return {module: dict(args, src=[str(path)])}, expect.replace('items[', '%s[' % path)


@pytest.mark.parametrize('source', ['items', 'src'])
@pytest.mark.parametrize('error', ['validation', 'type', 'api'])
@pytest.mark.parametrize('module', secret_modules())
def test_item_secrets_never_printed(module, error, source, lab, lab_api, tmp_path):
    task, secrets, fault, expect = scenario(module, lab_api, error)
    if source == 'src':
        task, expect = from_file(task, tmp_path, expect)
    task = dict(task, name='List form with secrets in items', diff=True)
    playbook = [{'name': 'Item secrets', 'hosts': 'localhost', 'gather_facts': False, 'connection': 'local',
                 'vars': {'ansible_python_interpreter': sys.executable}, 'tasks': [task]}]
    path = tmp_path / 'play.yml'
    path.write_text(json.dumps(playbook), encoding='utf-8')
    if error == 'api':
        lab_api.faults(*fault)
    for verbosity, callback in OUTPUTS:
        env = lab.playbook_env()
        env['ANSIBLE_STDOUT_CALLBACK'] = callback
        args = ['-i', 'localhost,', str(path)] + ([verbosity] if verbosity else [])
        rc, out = run_playbook(args, env, tmp_path / ('%s-%s.log' % (callback, verbosity)), timeout=300)
        assert rc != 0, out
        assert expect in out, out
        if callback == 'ansible.posix.json':
            json.loads(out[out.index('{'):])  # the whole output is the callback's JSON document
        for secret in secrets:
            assert secret not in out, '%s printed with %s %s:\n%s' % (secret, callback, verbosity, out)
        if error != 'type' and source == 'items':
            # the invocation shows the items' secret options, masked (and a failed request's body, masked)
            assert 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER' in out, out
        if source == 'src':
            assert 'items.yml' in out, out  # the invocation names the file, not its content
