"""One scenario against three endpoints at once: the inventory form of inventories/endpoints.

Three labs of this test's own stand for three NSX-T Managers. The inventory, written in a temporary
directory, has one host per manager in the group nsxt_managers (a child of microseg_endpoints), each
with ``connection: local`` and its manager's settings in its host_vars (the password from an
environment variable of its own, as the shipped example does). The Policy API workload isolation
runs once with ``-f 3``, then again.

Checked: the return code and every host's recap; each lab holds the scenario's groups and policy and
served writes, and a second run changes nothing and writes nothing; the three hosts really ran at
the same time: each lab holds back its first write (a fault rule that only delays the answer), and
every lab received that write before any of the three answered it. Run one host after the other,
a host's write is answered before the next host's module starts.

And an AWX job slice without NSX endpoints runs the NSX scenario on no host, not on localhost.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timedelta
from pathlib import Path

import shlex

import requests
from playbook_tools import ansible_env, closed_loopback_port, parse_recap, run_playbook
from readme_blocks import parse

PLAYBOOK = 'playbooks/nsxt_workload_isolation_policy.yml'
HOSTS = ('nsx-one', 'nsx-two', 'nsx-three')
GROUPS = {'nsg-service-a', 'nsg-service-b', 'nsg-service-c', 'nsg-service-d'}
POLICY = 'PtoPDFW-MicroSegmentation'
RULES = ['service-cToservice-d', 'service-bToservice-c', 'service-aToservice-c', 'service-aToservice-b', 'DenyAll']
LOCAL = {'ansible_connection': 'local', 'ansible_python_interpreter': '{{ ansible_playbook_python }}'}
# The scenario's first write (its groups, through the hierarchical API), held back on each lab.
HELD_WRITE = ('PATCH', '/policy/api/v1/infra')
HOLD_SECONDS = 3
# "2026-12-03 18:39:18,413 INFO microseg_lab.nsxt: PATCH /policy/api/v1/infra -> 200 fault 4001.2ms"
LOG_LINE = re.compile(r'^(?P<stamp>\S+ \S+) INFO microseg_lab\.nsxt: (?P<method>[A-Z]+) (?P<path>\S+) -> \d+ fault (?P<ms>[\d.]+)ms$')


def closed_loopback_address() -> str:
    return '127.0.0.1:%d' % closed_loopback_port()


def password_variable(host: str) -> str:
    return 'NSX_%s_PASSWORD' % host.split('-', 1)[1].upper()


def write_inventory(directory: Path, labs: dict) -> Path:
    """inventories/endpoints' form: a group of hosts, connection local, each host's settings in host_vars."""
    host_vars = directory / 'host_vars'
    host_vars.mkdir(parents=True)
    endpoints = {'vars': LOCAL, 'children': {'nsxt_managers': {'hosts': {host: None for host in HOSTS}}}}
    (directory / 'hosts.yml').write_text(json.dumps({'all': {'children': {'microseg_endpoints': endpoints}}}, indent=1), encoding='utf-8')
    for host, lab in labs.items():
        settings = {'nsxt_host': lab.env['NSXT_HOST'], 'nsxt_username': lab.env['NSXT_USERNAME'], 'nsxt_ca_path': lab.env['NSXT_CA_PATH'],
                    'nsxt_password': "{{ lookup('ansible.builtin.env', '%s') }}" % password_variable(host)}
        (host_vars / ('%s.yml' % host)).write_text(json.dumps(settings, indent=1), encoding='utf-8')
    return directory


def playbook_env(labs: dict) -> dict[str, str]:
    """No product setting in the environment but the hosts' own passwords: a host without its settings would fail."""
    base = {key: value for key, value in os.environ.items() if not key.startswith(('NSXT_', 'PRISMA_', 'SW_'))}
    return ansible_env(base, {password_variable(host): lab.env['NSXT_PASSWORD'] for host, lab in labs.items()})


def nsx_get(lab, path: str) -> dict:
    response = requests.get('https://%s%s' % (lab.env['NSXT_HOST'], path), auth=(lab.env['NSXT_USERNAME'], lab.env['NSXT_PASSWORD']),
                            verify=lab.env['NSXT_CA_PATH'], timeout=30)
    response.raise_for_status()
    return response.json()


def held_write_window(lab) -> tuple[datetime, datetime]:
    """When the lab received its held-back write and when it answered it, from its request log."""
    windows = []
    for line in (lab.dir / 'lab.log').read_text(encoding='utf-8').splitlines():
        match = LOG_LINE.match(line)
        if match and (match.group('method'), match.group('path')) == HELD_WRITE:
            answered = datetime.strptime(match.group('stamp'), '%Y-%m-%d %H:%M:%S,%f')
            windows.append((answered - timedelta(milliseconds=float(match.group('ms'))), answered))
    assert len(windows) == 1, windows
    return windows[0]


def test_one_scenario_runs_on_three_endpoints_in_parallel(new_lab, tmp_path: Path) -> None:
    labs = {host: new_lab(host) for host in HOSTS}
    for lab in labs.values():
        rule = {'method': HELD_WRITE[0], 'path': HELD_WRITE[1], 'delay': HOLD_SECONDS, 'count': 1}
        lab.admin('nsxt', 'PUT', '/_lab/faults', {'rules': [rule]})
    inventory = write_inventory(tmp_path / 'endpoints', labs)
    env = playbook_env(labs)

    # the README's command (section "Many endpoints"), with this test's inventory in place of the example's
    readme_args = shlex.split(parse()[0]['forks'].commands[-1].line)
    assert readme_args == ['ansible-playbook', '-i', 'inventories/endpoints', PLAYBOOK, '-f', '3'], readme_args
    rc, output = run_playbook(['-i', str(inventory), PLAYBOOK, '-f', '3'], env, tmp_path / 'run1.log')
    assert rc == 0, output[-6000:]
    recap = parse_recap(output)
    assert sorted(recap) == sorted(HOSTS), recap
    for host in HOSTS:
        assert recap[host]['failed'] == 0 and recap[host]['unreachable'] == 0, recap
        assert recap[host]['changed'] > 0, recap
    for lab in labs.values():
        assert lab.env['NSXT_PASSWORD'] not in output

    # Each manager holds the scenario's objects, written by its own host.
    writes = {}
    for host, lab in labs.items():
        writes[host] = lab.writes()['nsxt']
        assert writes[host] > 0, host
        groups = {group['id'] for group in nsx_get(lab, '/policy/api/v1/infra/domains/default/groups')['results']}
        assert GROUPS <= groups, (host, groups)
        policy = nsx_get(lab, '/policy/api/v1/infra/domains/default/security-policies/%s' % POLICY)
        assert [rule['display_name'] for rule in policy['rules']] == RULES, (host, policy['rules'])
        assert lab.admin('nsxt', 'GET', '/_lab/faults')['rules'] == [], host  # the held write happened

    # In parallel: every lab received its held write before any lab answered one.
    windows = {host: held_write_window(lab) for host, lab in labs.items()}
    last_received = max(received for received, dummy in windows.values())
    first_answered = min(answered for dummy, answered in windows.values())
    assert last_received < first_answered, windows

    rc, output = run_playbook(['-i', str(inventory), PLAYBOOK, '-f', '3'], env, tmp_path / 'run2.log')
    assert rc == 0, output[-6000:]
    recap = parse_recap(output)
    assert sorted(recap) == sorted(HOSTS), recap
    for host, lab in labs.items():
        assert recap[host]['failed'] == 0 and recap[host]['changed'] == 0, recap
        assert lab.writes()['nsxt'] == writes[host], host


def test_a_slice_without_the_products_endpoints_runs_nothing_and_not_localhost(tmp_path: Path) -> None:
    """An AWX job slice holds only some endpoints, and AWX leaves the groups it empties out of it: the NSX
    scenario then has no host to run on, and must not fall back to localhost (where it would reach
    whatever NSX the environment names)."""
    endpoints = {'vars': LOCAL, 'children': {'prisma_tenants': {'hosts': {'prisma-one': None}}}}
    inventory = tmp_path / 'slice.yml'
    inventory.write_text(json.dumps({'all': {'children': {'microseg_endpoints': endpoints}}}), encoding='utf-8')
    env = ansible_env(dict(os.environ), {'NSXT_HOST': closed_loopback_address(), 'NSXT_USERNAME': 'nobody', 'NSXT_PASSWORD': 'unused'})
    rc, output = run_playbook(['-i', str(inventory), PLAYBOOK], env, tmp_path / 'slice.log')
    assert rc == 0, output[-4000:]
    assert 'skipping: no hosts matched' in output, output[-4000:]
    assert parse_recap(output) == {}, output[-4000:]
    assert 'localhost' not in output, output[-4000:]
