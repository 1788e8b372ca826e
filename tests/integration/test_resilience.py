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


# ---------------------------------------------------------------- issue 12: never twice, never lost, never leaked

SW_SEED_LIBRARY = str(Path(__file__).resolve().parent / 'targets' / 'secure_workload_policy' / 'library')


class ProductAdmin:
    """The admin routes (faults, counters) of one product's lab server."""

    def __init__(self, base, ca):
        self.base = base.rstrip('/')
        self.ca = ca

    def admin(self, method, path, body=None, **kwargs):
        resp = requests.request(method, self.base + path, json=body, verify=self.ca, timeout=30, **kwargs)
        resp.raise_for_status()
        return resp.json() if resp.content else None

    def faults(self, *rules):
        self.admin('PUT', '/_lab/faults', {'rules': list(rules)})

    def clear(self):
        self.admin('DELETE', '/_lab/faults')

    def reset_counters(self):
        self.admin('POST', '/_lab/counters/reset')

    def routes(self):
        return self.admin('GET', '/_lab/counters')['routes']


def run_capturing(lab, tmp_path, tasks, extra_env=None):
    """Run the tasks; each task with ``register`` has its result written to ``<register>.json``
    in tmp_path (read back as a dict). Returns ``(rc, output, results)``."""
    full = []
    names = []
    for task in tasks:
        task = dict(task)
        full.append(task)
        if task.get('register'):
            names.append(task['register'])
            full.append({'name': 'Keep ' + task['register'], 'ansible.builtin.copy': {
                'content': '{{ %s | to_json }}' % task['register'], 'dest': str(tmp_path / ('%s.json' % task['register'])), 'mode': '0600'}})
    rc, out = run_tasks(lab, tmp_path, full, extra_env=extra_env)
    results = {}
    for name in names:
        path = tmp_path / ('%s.json' % name)
        if path.exists():
            results[name] = json.loads(path.read_text())
    return rc, out, results


@pytest.fixture()
def sw(lab):
    admin = ProductAdmin(lab.env['SW_URL'], lab.env['SW_CA_PATH'])
    yield admin
    admin.clear()


@pytest.fixture()
def nsx(lab):
    admin = ProductAdmin('https://' + lab.env['NSXT_HOST'], lab.env['NSXT_CA_PATH'])
    yield admin
    admin.clear()


def sw_workspace(lab, tmp_path, name):
    """A scope ``Default:<name>`` with two inventory filters and a workspace ``<name>`` (the policy target's seed)."""
    seed = {'name': 'Seed', 'sw_lab_seed': {'scope': name, 'subnet': '10.30.0.0/16', 'workspace': name,
                                            'filters': [{'name': name + '-web', 'subnet': '10.30.1.0/24'},
                                                        {'name': name + '-db', 'subnet': '10.30.2.0/24'}]}}
    rc, out = run_tasks(lab, tmp_path, [seed], extra_env={'ANSIBLE_LIBRARY': SW_SEED_LIBRARY})
    assert rc == 0, out
    return {'workspace': name, 'scope': 'Default:' + name}


def sw_policies_of(lab, tmp_path, where):
    task = {'name': 'Read the workspace', 'microseg.segmentation.secure_workload_info': {
        'kind': 'workspace', 'name': where['workspace'], 'scope': where['scope'], 'details': True}, 'register': 'workspace_info'}
    rc, out, results = run_capturing(lab, tmp_path, [task])
    assert rc == 0, out
    details = results['workspace_info']['objects'][0]['details']
    return list(details.get('absolute_policies') or []) + list(details.get('default_policies') or []) \
        if 'policies' not in details else details['policies']


def test_sw_list_form_converges_in_one_run_under_faults_with_no_duplicate(lab, sw, tmp_path):
    where = sw_workspace(lab, tmp_path, 'res-sw-' + uuid.uuid4().hex[:6])
    items = [{'consumer': where['workspace'] + '-web', 'provider': where['workspace'] + '-db', 'priority': 100 + i, 'action': 'allow',
              'ports': [{'protocol': 'tcp', 'port': 5000 + i}]} for i in range(20)]
    task = {'name': 'Twenty policies', 'microseg.segmentation.secure_workload_policy': dict(where, items=items), 'register': 'policies'}
    # about 10 % of the run's requests faulted: each rule answers the next matching request once
    policy_posts = '/openapi/v1/applications/'
    sw.faults(
        {'method': 'GET', 'path': '/openapi/v1/applications', 'status': 503, 'count': 1},
        {'method': 'POST', 'path': policy_posts, 'status': 429, 'retry_after': 1, 'count': 1},
        {'method': 'POST', 'path': policy_posts, 'status': 503, 'count': 1},
        {'method': 'POST', 'path': policy_posts, 'drop': True, 'count': 1},
        {'method': 'POST', 'path': policy_posts, 'drop': True, 'after_handling': True, 'count': 1},
    )
    sw.reset_counters()
    rc, out, results = run_capturing(lab, tmp_path, [task])
    assert rc == 0, out
    assert sw.admin('GET', '/_lab/faults') == {'rules': []}  # every fault was met
    result = results['policies']
    assert result['changed'] is True and 'failed_objects' not in result
    assert len(result['summary']['created']) == 20
    posts = sum(n for route, n in sw.routes().items() if route.startswith('POST ') and route.endswith('/policies'))
    # 20 creates, 3 sent again (after the 429, the 503 and the drop before handling: the re-read found
    # nothing); the one applied before its answer was lost was found by the re-read, never sent again
    assert posts == 23
    sw.reset_counters()
    rc, out, results = run_capturing(lab, tmp_path, [dict(task, name='Again')])
    assert rc == 0, out
    assert results['policies']['changed'] is False and 'duplicates_removed' not in results['policies']
    assert sw.routes().get('POST /openapi/v1/applications/:id/policies', 0) == 0


def test_sw_create_applied_then_dropped_is_changed_with_one_object(lab, sw, tmp_path):
    where = sw_workspace(lab, tmp_path, 'res-swd-' + uuid.uuid4().hex[:6])
    task = {'name': 'One policy', 'microseg.segmentation.secure_workload_policy': dict(
        where, consumer=where['workspace'] + '-web', provider=where['workspace'] + '-db', action='allow',
        ports=[{'protocol': 'tcp', 'port': 5432}]), 'register': 'policy'}
    sw.faults({'method': 'POST', 'path': '/openapi/v1/applications/', 'drop': True, 'after_handling': True, 'count': 1})
    sw.reset_counters()
    rc, out, results = run_capturing(lab, tmp_path, [task])
    assert rc == 0, out
    assert results['policy']['changed'] is True and results['policy']['action'] == 'create'
    assert results['policy']['id']
    posts = sum(n for route, n in sw.routes().items() if route.startswith('POST ') and route.endswith('/policies'))
    assert posts == 1  # found on the re-read: not sent again
    rc, out, results = run_capturing(lab, tmp_path, [dict(task, name='Again')])
    assert rc == 0, out
    assert results['policy']['changed'] is False


def _section_task(name, services, register='section'):
    return {'name': 'Section', 'microseg.segmentation.nsxt_firewall_section': {
        'name': name, 'stateful': True, 'rules': [
            {'name': 'monitoring', 'action': 'allow', 'sources': ['10.10.0.0/24'], 'destinations': ['10.20.0.0/24'], 'services': services},
            {'name': 'deny-rest', 'action': 'drop'},
        ]}, 'register': register}


def _nsx_sections(lab, name):
    auth = (lab.env['NSXT_USERNAME'], lab.env['NSXT_PASSWORD'])
    resp = requests.get('https://%s/api/v1/firewall/sections' % lab.env['NSXT_HOST'], params={'page_size': 1000}, auth=auth,
                        verify=lab.env['NSXT_CA_PATH'], timeout=30)
    resp.raise_for_status()
    return [s for s in resp.json()['results'] if s.get('display_name') == name]


def _cleanup_section(lab, tmp_path, name):
    run_tasks(lab, tmp_path, [{'name': 'Remove', 'microseg.segmentation.nsxt_firewall_section': {'name': name, 'state': 'absent'}}])


def test_nsx_section_writes_survive_a_503_and_a_dropped_connection(lab, nsx, tmp_path):
    name = 'res-fws-' + uuid.uuid4().hex[:6]
    try:
        faults = ({'method': 'POST', 'path': '/api/v1/firewall/sections', 'status': 503, 'count': 1},
                  {'method': 'POST', 'path': '/api/v1/firewall/sections', 'drop': True, 'after_handling': True, 'count': 1})
        nsx.faults(*faults)
        rc, out, results = run_capturing(lab, tmp_path, [_section_task(name, ['tcp/9100'])])
        assert rc == 0, out
        assert results['section']['changed'] is True and results['section']['action'] == 'create'
        assert len(_nsx_sections(lab, name)) == 1
        nsx.faults(*faults)  # the update: refused once, then applied and its answer lost
        rc, out, results = run_capturing(lab, tmp_path, [_section_task(name, ['tcp/9200'])])
        assert rc == 0, out
        assert results['section']['changed'] is True and results['section']['action'] == 'update'
        assert not results['section'].get('conflict')  # the replay's 412 was our own write, not another writer's
        assert len(_nsx_sections(lab, name)) == 1
        rc, out, results = run_capturing(lab, tmp_path, [_section_task(name, ['tcp/9200'])])
        assert rc == 0, out
        assert results['section']['changed'] is False
    finally:
        nsx.clear()
        _cleanup_section(lab, tmp_path, name)


def test_nsx_section_revision_changed_under_us_is_a_reported_conflict(lab, nsx, tmp_path):
    import time
    name = 'res-fwc-' + uuid.uuid4().hex[:6]
    auth = (lab.env['NSXT_USERNAME'], lab.env['NSXT_PASSWORD'])
    base = 'https://%s/api/v1/firewall/sections' % lab.env['NSXT_HOST']
    try:
        rc, out = run_tasks(lab, tmp_path, [_section_task(name, ['tcp/9100'])])
        assert rc == 0, out
        section_id = _nsx_sections(lab, name)[0]['id']
        # the task reads the section, then its rules (held 4 s): another writer changes the section meanwhile
        nsx.faults({'method': 'GET', 'path': '/api/v1/firewall/sections/%s/rules' % section_id, 'delay': 4, 'count': 1})
        nsx.reset_counters()
        playbook_dir = tmp_path / 'racing'
        playbook_dir.mkdir()
        task = _section_task(name, ['tcp/9300'])
        task['microseg.segmentation.nsxt_firewall_section']['rules'][0]['notes'] = 'declared'
        env = lab.playbook_env()
        keep = {'content': '{{ section | to_json }}', 'dest': str(playbook_dir / 'section.json'), 'mode': '0600'}
        full = [task, {'name': 'Keep', 'ansible.builtin.copy': keep}]
        playbook = [{'name': 'Race', 'hosts': 'localhost', 'gather_facts': False, 'connection': 'local',
                     'vars': {'ansible_python_interpreter': sys.executable}, 'tasks': full}]
        (playbook_dir / 'play.yml').write_text(json.dumps(playbook))
        proc = subprocess.Popen([str(Path(sys.executable).parent / 'ansible-playbook'), '-i', 'localhost,', str(playbook_dir / 'play.yml')],
                                env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.time() + 60
            while time.time() < deadline and not any(r.startswith('GET ') and r.endswith('/rules') for r in nsx.routes()):
                time.sleep(0.1)
            current = requests.post('%s/%s' % (base, section_id), params={'action': 'list_with_rules'}, auth=auth,
                                    verify=lab.env['NSXT_CA_PATH'], timeout=30).json()
            current['rules'][0]['notes'] = 'the other writer'
            requests.post('%s/%s' % (base, section_id), params={'action': 'update_with_rules'}, json=current, auth=auth,
                          verify=lab.env['NSXT_CA_PATH'], timeout=30).raise_for_status()
            out, dummy = proc.communicate(timeout=PLAYBOOK_TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
        assert proc.returncode == 0, out
        result = json.loads((playbook_dir / 'section.json').read_text())
        assert result['changed'] is True and result['conflict'] is True
        assert any("'%s' was changed by another writer" % name in w for w in result['warnings']), result
        assert '[WARNING]' in out and name in out
        rules = requests.get('%s/%s/rules' % (base, section_id), auth=auth, verify=lab.env['NSXT_CA_PATH'], timeout=30).json()['results']
        assert rules[0]['notes'] == 'declared'  # the declared state won
        assert len(_nsx_sections(lab, name)) == 1
    finally:
        nsx.clear()
        _cleanup_section(lab, tmp_path, name)


def _state(pid):
    try:
        return open('/proc/%d/stat' % pid).read().rsplit(')', 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _descendants(root):
    """Every live process whose chain of parents leads to ``root`` (read from /proc)."""
    import os
    parents = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                parents[int(entry)] = int(open('/proc/%s/stat' % entry).read().rsplit(')', 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, todo = [], [root]
    while todo:
        parent = todo.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found.extend(children)
        todo.extend(children)
    return found


def test_killed_app_credential_login_leaves_no_key_file(lab, client, namespace, tmp_path):
    import os
    import signal
    import time
    lab_json = json.loads((lab.dir / 'lab.json').read_text())
    temp = tmp_path / 'tmp'
    temp.mkdir()
    env = lab.playbook_env()
    env.update({'PRISMA_TOKEN': '', 'PRISMA_APP_CREDENTIAL': lab_json['prisma']['app_credential'], 'PRISMA_CA_PATH': '',
                'TMPDIR': str(temp), 'ANSIBLE_LOCAL_TEMP': str(temp / 'local'), 'ANSIBLE_REMOTE_TMP': str(temp / 'remote')})
    before = set(p for p in os.listdir('/tmp') if p.startswith('microseg-'))
    playbook = tmp_path / 'play.yml'
    playbook.write_text(json.dumps([{'name': 'Login', 'hosts': 'localhost', 'gather_facts': False, 'connection': 'local',
                                     'vars': {'ansible_python_interpreter': sys.executable}, 'tasks': [ruleset_task(namespace)]}]))
    client.admin('POST', '/_lab/counters/reset')
    client.faults({'method': 'POST', 'path': '/issue', 'delay': 20, 'count': 1})
    proc = subprocess.Popen([str(Path(sys.executable).parent / 'ansible-playbook'), '-i', 'localhost,', str(playbook)], env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    memory_files = []
    started = []
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not client.counters()['routes'].get('POST /issue'):
            time.sleep(0.1)
        assert client.counters()['routes'].get('POST /issue') == 1
        started = _descendants(proc.pid)
        # the module, mid-login, holds its key in an anonymous memory file, not in a file on disk
        for pid in started:
            try:
                memory_files.extend(os.readlink('/proc/%d/fd/%s' % (pid, fd)) for fd in os.listdir('/proc/%d/fd' % pid))
            except OSError:
                continue
    finally:
        # SIGKILL the processes this test started (ansible-playbook and its workers and module), by pid
        for pid in [proc.pid] + _descendants(proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait(timeout=30)
        for pid in started:
            deadline = time.time() + 30
            while os.path.exists('/proc/%d' % pid) and _state(pid) not in ('Z', 'X', None) and time.time() < deadline:
                time.sleep(0.1)
    assert any('memfd:microseg-key.pem' in f for f in memory_files), memory_files
    assert not [f for f in memory_files if 'microseg-' in f and 'memfd:' not in f]
    left = [str(p) for p in temp.rglob('microseg-*')]
    left += [p for p in os.listdir('/tmp') if p.startswith('microseg-') and p not in before]
    assert left == []


def test_missing_ca_path_is_a_message_naming_the_option(lab, client, namespace, tmp_path):
    missing = str(tmp_path / 'no-such-ca.pem')
    task = dict(ruleset_task(namespace), register='result', ignore_errors=True)
    task['microseg.segmentation.prisma_network_ruleset']['ca_path'] = missing
    rc, out, results = run_capturing(lab, tmp_path, [task])
    assert rc == 0, out
    assert results['result']['failed'] is True
    assert results['result']['msg'] == "ca_path: '%s' does not exist" % missing
    assert 'Traceback' not in out, out
    assert results['result'].get('exception') in (None, '(traceback unavailable)')  # ansible-core adds the key to every failure


def test_validate_certs_false_warns_once_on_every_product(lab, client, namespace, tmp_path):
    tasks = [
        dict(ruleset_task(namespace), register='prisma'),
        {'name': 'NSX', 'microseg.segmentation.nsxt_info': {'kind': 'ns_group'}, 'register': 'nsx'},
        {'name': 'SW', 'microseg.segmentation.secure_workload_info': {'kind': 'scope'}, 'register': 'sw'},
    ]
    tasks[0]['microseg.segmentation.prisma_network_ruleset']['validate_certs'] = False
    tasks[1]['microseg.segmentation.nsxt_info']['validate_certs'] = False
    tasks[2]['microseg.segmentation.secure_workload_info']['validate_certs'] = False
    rc, out, results = run_capturing(lab, tmp_path, tasks + [dict(ruleset_task(namespace, name='verified'), register='verified')])
    assert rc == 0, out
    for name in ('prisma', 'nsx', 'sw'):
        warnings = [w for w in results[name].get('warnings') or [] if 'validate_certs is false' in w]
        assert len(warnings) == 1, results[name]
    assert not [w for w in results['verified'].get('warnings') or [] if 'validate_certs' in w]


def test_refused_endpoint_fails_fast_naming_the_url_for_every_product(lab, tmp_path):
    """A wrong port: each product's task fails after two quick retries, naming the URL it tried."""
    import socket
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    tasks = [
        {'name': 'Prisma', 'ignore_errors': True, 'register': 'prisma',
         'microseg.segmentation.prisma_info': {'api_url': 'https://127.0.0.1:%d' % port, 'namespace': '/acme', 'kind': 'namespace'}},
        {'name': 'NSX', 'ignore_errors': True, 'register': 'nsxt',
         'microseg.segmentation.nsxt_info': {'host': '127.0.0.1:%d' % port, 'kind': 'ns_group'}},
        {'name': 'Secure Workload', 'ignore_errors': True, 'register': 'sw',
         'microseg.segmentation.secure_workload_info': {'url': 'https://127.0.0.1:%d' % port, 'kind': 'scope'}},
        {'name': 'Keep', 'ansible.builtin.copy': {'content': '{{ [prisma, nsxt, sw] | to_json }}', 'dest': str(tmp_path / 'r.json'),
                                                  'mode': '0600'}},
    ]
    rc, out = run_tasks(lab, tmp_path, tasks)
    assert rc == 0, out
    results = json.loads((tmp_path / 'r.json').read_text())
    for result, path in zip(results, ['/namespaces', '/api/v1/ns-groups', '/openapi/v1/app_scopes'], strict=True):
        assert result['failed'], result
        assert result['msg'].startswith('cannot reach https://127.0.0.1:%d%s' % (port, path)), result['msg']
        assert ': connection refused (3 attempts in ' in result['msg'], result['msg']
