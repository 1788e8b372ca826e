"""Secure Workload export round trips (issue 14), against labs of this module's own.

The scenario playbook (playbooks/secure_workload_k8s_service.yml) runs against lab A; everything A then
holds is exported with playbooks/export.yml (``secure_workload_info`` with ``export: true``, one file per
entry), and:

- the export applied to A with the list forms writes nothing (the lab's write counter stays 0);
- applied to an empty lab B it recreates the objects: B's export (file names and contents) equals A's;
- the scenario's flow table (``secure_workload_flow_check`` with the scenario's flows) gives the same
  verdicts on B as on A, all as expected.

And objects made directly through the REST API (not by the collection: a scope, inventory filters, a
workspace with a cluster, policies, the catch-all, enforcement) on a third lab export to entries whose
first apply writes nothing: Secure Workload objects carry no tags, so there is nothing to adopt.

An export is applied with playbooks/adopt.yml. The labs are started as test_concurrency.py starts its own
(``benchmarks/resilience.Lab``); the REST calls use the lab tests' signing client
(``tests/lab/sw_helpers.SwClient``).
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest
import yaml
from playbook_tools import REPO_ROOT, ansible_env, parse_recap, run_playbook

sys.path.insert(0, str(REPO_ROOT / 'benchmarks'))
sys.path.insert(0, str(REPO_ROOT / 'tests' / 'lab'))
from resilience import Lab  # noqa: E402  pylint: disable=import-error,wrong-import-position
from sw_helpers import SwClient, eq, subnet  # noqa: E402  pylint: disable=import-error,wrong-import-position

SCENARIO = 'playbooks/secure_workload_k8s_service.yml'
INVENTORY = 'inventories/lab'
PREFIX = 'microseg.segmentation.'
SW_DEFAULTS = {'group/microseg.segmentation.secure_workload': {
    'url': "{{ lookup('ansible.builtin.env', 'SW_URL') }}",
    'api_key': "{{ lookup('ansible.builtin.env', 'SW_API_KEY') }}",
    'api_secret': "{{ lookup('ansible.builtin.env', 'SW_API_SECRET') }}",
    'ca_path': "{{ lookup('ansible.builtin.env', 'SW_CA_PATH') }}",
}}


class SwLab:
    """One lab of this module: its playbook environment, its signing client and its counters."""

    def __init__(self, workdir: Path, name: str) -> None:
        self.workdir = workdir / name
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.lab = Lab(str(self.workdir))
        self.name = name

    def __enter__(self) -> SwLab:
        self.lab.start()
        env = self.lab.env
        self.client = SwClient({'url': env['SW_URL'], 'api_key': env['SW_API_KEY'], 'api_secret': env['SW_API_SECRET'],
                                'ca_path': env['SW_CA_PATH']})
        return self

    def __exit__(self, *exc) -> None:
        self.lab.stop()

    def env(self) -> dict[str, str]:
        return ansible_env(dict(os.environ), self.lab.env)

    def writes(self) -> dict:
        counters = self.client.counters()
        routes = {r: n for r, n in counters['routes'].items() if r.split(' ', 1)[0] in ('POST', 'PUT', 'PATCH', 'DELETE')}
        return {'writes': counters['writes'], 'routes': routes}

    def reset_counters(self) -> None:
        self.client.admin('POST', '/_lab/counters/reset').raise_for_status()

    def run(self, playbook: Path | str, log: Path, extra: list | None = None) -> tuple[int, str, dict]:
        rc, output = run_playbook(['-i', INVENTORY, str(playbook), *(extra or [])], self.env(), log)
        return rc, output, parse_recap(output).get('localhost', {})


def write_play(path: Path, tasks: list, play_vars: dict | None = None, defaults: dict | None = None) -> Path:
    play = {'name': path.stem, 'hosts': 'localhost', 'gather_facts': False, 'module_defaults': defaults or SW_DEFAULTS,
            'vars': play_vars or {}, 'tasks': tasks}
    path.write_text(json.dumps([play]), encoding='utf-8')
    return path


def tail(output: str, lines: int = 120) -> str:
    return '\n'.join(output.splitlines()[-lines:])


def export(lab: SwLab, tmp: Path, name: str) -> tuple[Path, dict]:
    """playbooks/export.yml (Secure Workload only) into ``tmp/name``: the directory, and its files by name."""
    out = tmp / name
    rc, output, dummy = lab.run('playbooks/export.yml', tmp / ('%s.log' % name),
                                ['-e', json.dumps({'export_dir': str(out), 'export_products': ['secure_workload']})])
    assert rc == 0, tail(output)
    files = {p.name: yaml.safe_load(p.read_text(encoding='utf-8')) for p in sorted((out / 'secure_workload').glob('*.yml'))}
    return out, files


def in_order(files: dict) -> list:
    """The entries in apply order: the order of their file names."""
    return [files[name] for name in sorted(files)]


def apply(lab: SwLab, export_dir: Path, tmp: Path, name: str) -> tuple[dict, str]:
    """Apply an export with playbooks/adopt.yml (Secure Workload files only)."""
    rc, output, recap = lab.run('playbooks/adopt.yml', tmp / ('%s.log' % name),
                                ['-e', json.dumps({'export_dir': str(export_dir), 'adopt_products': ['secure_workload']})])
    assert rc == 0, tail(output)
    assert recap.get('failed', 0) == 0, recap
    return recap, output


def flow_table(lab: SwLab, tmp: Path, name: str) -> dict:
    """The scenario's flow check (its task, its variables) run alone; its flows and agent profiles."""
    play = yaml.safe_load((REPO_ROOT / SCENARIO).read_text(encoding='utf-8'))[0]
    check = next(t for t in play['tasks'] if PREFIX + 'secure_workload_flow_check' in t)
    dest = tmp / ('%s.json' % name)
    tasks = [check, {'name': 'Write the flows', 'ansible.builtin.copy': {
        'dest': str(dest), 'mode': '0600', 'content': "{{ {'flows': k8s_flows.flows, 'agent_profiles': k8s_flows.agent_profiles} | to_json }}"}}]
    rc, output, dummy = lab.run(write_play(tmp / ('%s-play.json' % name), tasks, play['vars'], play['module_defaults']), tmp / ('%s.log' % name))
    assert rc == 0, tail(output)
    return json.loads(dest.read_text(encoding='utf-8'))


def verdicts(table: dict) -> list:
    return [(f['name'], f['service'], f['verdict'], f['as_expected']) for f in table['flows']]


def skipped_of(lab: SwLab, tmp: Path, kinds: list) -> list:
    """What ``secure_workload_info`` with ``export: true`` leaves out, for ``kinds``."""
    dest = tmp / 'skipped.json'
    tasks = [{'name': 'Export', PREFIX + 'secure_workload_info': {'kind': '{{ item }}', 'export': True}, 'loop': kinds, 'register': 'sw_export'},
             {'name': 'Write what was left out', 'ansible.builtin.copy': {
                 'dest': str(dest), 'mode': '0600', 'content': "{{ sw_export.results | map(attribute='skipped') | flatten | to_json }}"}}]
    rc, output, dummy = lab.run(write_play(tmp / 'skipped-play.json', tasks), tmp / 'skipped.log')
    assert rc == 0, tail(output)
    return json.loads(dest.read_text(encoding='utf-8'))


@pytest.fixture(scope='module')
def labs(tmp_path_factory):
    workdir = tmp_path_factory.mktemp('sw-export')
    with SwLab(workdir, 'a') as first, SwLab(workdir, 'b') as second:
        yield workdir, first, second


@pytest.fixture(scope='module')
def scenario(labs):
    """Lab A after the scenario playbook: its export (directory, files) and flow table."""
    workdir, first, dummy = labs
    rc, output, recap = first.run(SCENARIO, workdir / 'scenario.log')
    assert rc == 0 and recap.get('changed', 0) > 0, tail(output)
    return export(first, workdir, 'export-a'), flow_table(first, workdir, 'flows-a')


@pytest.fixture(scope='module')
def recreated(labs, scenario):
    """Lab B (empty) after applying lab A's export to it: its export's files and flow table."""
    workdir, dummy, second = labs
    (export_dir, dummy4), dummy2 = scenario
    dummy3, before = export(second, workdir, 'export-b-empty')
    assert before == {}, before  # the second lab holds none of the scenario's objects
    second.reset_counters()
    recap, output = apply(second, export_dir, workdir, 'apply-b')
    assert recap.get('changed', 0) > 0, tail(output)
    assert second.writes()['writes'] > 0
    return export(second, workdir, 'export-b')[1], flow_table(second, workdir, 'flows-b')


def test_the_scenario_exports_every_kind_by_name(labs, scenario):
    workdir, first, dummy = labs
    (dummy2, files), dummy3 = scenario
    assert [e['module'][len(PREFIX):] for e in in_order(files)] == [
        'secure_workload_scope', 'secure_workload_scope', 'secure_workload_inventory_filter', 'secure_workload_workspace', 'secure_workload_policy',
        'secure_workload_enforcement', 'secure_workload_agent_profile', 'secure_workload_agent_intent']
    entries = in_order(files)
    assert [e['options'] for e in entries[:2]] == [{'parent': 'Default'}, {'parent': 'Default:K8s'}]
    assert entries[4]['options'] == {'workspace': 'k8s-prod', 'scope': 'Default:K8s:prod'}
    assert sorted((p['consumer'], p['provider']) for p in entries[4]['items']) == [('Default:K8s:prod', 'kube-dns'), ('production', 'db')]
    enforcement = {'workspace': 'k8s-prod', 'scope': 'Default:K8s:prod', 'state': 'enabled'}
    assert entries[5] == {'module': PREFIX + 'secure_workload_enforcement', 'options': enforcement, 'items': []}
    assert entries[7]['items'] == [{'profile': 'k8s-nodes', 'inventory_filter': 'k8s-nodes'}]
    text = json.dumps(entries)
    assert re.search('[0-9a-f]{24}', text) is None and '"id"' not in text  # references by name, never ids
    left_out = skipped_of(first, workdir, ['scope', 'agent_profile'])
    assert sorted((s['kind'], s['name']) for s in left_out) == [('agent_profile', 'Default'), ('scope', 'Default')]


def test_the_export_applied_to_the_lab_it_came_from_writes_nothing(labs, scenario):
    workdir, first, dummy = labs
    (export_dir, dummy3), dummy2 = scenario
    first.reset_counters()
    recap, output = apply(first, export_dir, workdir, 'apply-a')
    assert recap.get('changed', 0) == 0, tail(output)
    assert first.writes() == {'writes': 0, 'routes': {}}
    assert first.client.counters()['total'] > 0


def test_the_export_applied_to_an_empty_lab_recreates_the_same_objects(scenario, recreated):
    (dummy, files), dummy2 = scenario
    again, dummy3 = recreated
    assert again == files


def test_the_flow_table_is_the_same_on_the_recreated_lab(scenario, recreated):
    dummy, table = scenario
    dummy2, again = recreated
    assert len(table['flows']) == 14
    assert all(f['as_expected'] for f in table['flows']), verdicts(table)
    assert verdicts(again) == verdicts(table)
    assert again['agent_profiles'] == table['agent_profiles']
    assert all('k8s-nodes' in w['profiles'] for w in again['agent_profiles']) and len(again['agent_profiles']) == 3


def test_objects_made_through_the_api_export_and_the_first_apply_writes_nothing(tmp_path):
    with SwLab(tmp_path, 'api') as lab:
        api = lab.client
        scope = api.scope('api-made', query=subnet('10.50.0.0/16'), description='made through the REST API')
        child = api.scope('front', parent_id=scope['id'], query=eq('user_tier', 'front'))
        web = api.inventory_filter('api-web', scope['id'], query={'type': 'or', 'filters': [eq('host_name', 'web-1'), eq('host_name', 'web-2')]})
        db = api.inventory_filter('api-db', scope['id'], query=subnet('10.50.2.0/24'), primary=True, public=True)
        workspace = api.workspace('api-ws', scope['id'], description='made through the REST API', primary=True)
        cluster = api.ok(api.post('/applications/%s/clusters' % workspace['id'],
                                  {'name': 'api-cluster', 'description': 'cache nodes', 'query': subnet('10.50.3.0/24'), 'approved': True}))
        api.policy(workspace, web['id'], db['id'], l4_params=[{'proto': 6, 'port': [5432, 5432]}, {'proto': 17, 'port': [1000, 2000]}])
        api.policy(workspace, child['id'], cluster['id'], priority=90, l4_params=[{'proto': 6, 'port': [6379, 6379]}, {'proto': 1}])
        api.policy(workspace, scope['id'], db['id'], action='DENY', rank='ABSOLUTE', priority=10, l4_params=[{'proto': None}])
        api.ok(api.put('/applications/%s/catch_all' % workspace['id'], {'version': 'v0', 'policy_action': 'ALLOW'}))
        api.ok(api.post('/applications/%s/enable_enforce' % workspace['id'], {}))

        export_dir, files = export(lab, tmp_path, 'export-api')
        by_module = {}
        for entry in in_order(files):
            by_module.setdefault(entry['module'][len(PREFIX):], []).append(entry)
        assert [e['options'] for e in by_module['secure_workload_scope']] == [{'parent': 'Default'}, {'parent': 'Default:api-made'}]
        assert by_module['secure_workload_inventory_filter'][0]['items'] == [
            {'name': 'api-db', 'query': subnet('10.50.2.0/24'), 'primary': True, 'public': True},
            {'name': 'api-web', 'query': {'type': 'or', 'filters': [eq('host_name', 'web-1'), eq('host_name', 'web-2')]}}]
        assert by_module['secure_workload_workspace'][0]['items'] == [{
            'name': 'api-ws', 'description': 'made through the REST API', 'primary': True, 'catch_all_action': 'allow',
            'clusters': [{'name': 'api-cluster', 'description': 'cache nodes', 'query': subnet('10.50.3.0/24'), 'approved': True}]}]
        assert by_module['secure_workload_policy'][0]['items'] == [
            {'consumer': 'Default:api-made', 'provider': 'api-db', 'rank': 'absolute', 'priority': 10, 'action': 'deny', 'ports': [{'protocol': 'any'}]},
            {'consumer': 'Default:api-made:front', 'provider': 'api-cluster', 'priority': 90, 'action': 'allow',
             'ports': [{'protocol': 'tcp', 'port': 6379}, {'protocol': 'icmp'}]},
            {'consumer': 'api-web', 'provider': 'api-db', 'action': 'allow',
             'ports': [{'protocol': 'tcp', 'port': 5432}, {'protocol': 'udp', 'port': '1000-2000'}]},
        ]
        assert by_module['secure_workload_enforcement'][0]['options'] == {'workspace': 'api-ws', 'scope': 'Default:api-made', 'state': 'enabled'}

        lab.reset_counters()
        recap, output = apply(lab, export_dir, tmp_path, 'apply-api')
        assert recap.get('changed', 0) == 0, tail(output)
        assert lab.writes() == {'writes': 0, 'routes': {}}
        assert export(lab, tmp_path, 'export-api-again')[1] == files
