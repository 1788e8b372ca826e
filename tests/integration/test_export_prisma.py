"""Brownfield, Prisma: export what the scenarios (and a user, through the API) leave, take it under
management, and rebuild it on an empty console.

- On the console the export came from, applying it (``playbooks/adopt.yml``) writes only the tags of
  the objects made by hand; a second run writes nothing.
- On an empty console, the export recreates the same objects: exporting that console gives the same
  files, and every scenario playbook then changes nothing and its flow table holds.
"""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import requests
import yaml
from playbook_tools import REPO_ROOT, parse_recap, run_playbook

SCENARIOS = ('namespace_guide', 'tcp_service_clusterip', 'tcp_service_nlb', 'tcp_service_external_lb')
# the private key tcp_service_external_lb generates for its custom certificate (a read never returns it)
CUSTOM_KEY = REPO_ROOT / 'playbooks' / '.demo-tls' / 'k8s-lb' / 'web-custom.key'
HAND_MADE = '/acme/brownfield'


def play(lab, args, log: Path) -> str:
    returncode, output = run_playbook(['-i', 'inventories/lab', *args], lab.playbook_env(), log)
    assert returncode == 0, output[-4000:]
    return output


def changed(output: str) -> int:
    return parse_recap(output)['localhost']['changed']


def prisma_post(lab, namespace: str, resource: str, body: dict) -> dict:
    response = requests.post(lab.env['PRISMA_API'].rstrip('/') + resource, json=body, verify=lab.env['PRISMA_CA_PATH'], timeout=30,
                             headers={'Authorization': 'Bearer ' + lab.env['PRISMA_TOKEN'], 'X-Namespace': namespace})
    assert response.status_code == 200, response.text
    return response.json()


def make_by_hand(lab) -> None:
    """A namespace, an external network and a ruleset created through the API, as a console user would."""
    prisma_post(lab, '/acme', '/namespaces', {'name': 'brownfield', 'description': 'made in the console', 'type': 'Group',
                                              'defaultPUIncomingTrafficAction': 'Reject', 'defaultPUOutgoingTrafficAction': 'Reject'})
    prisma_post(lab, HAND_MADE, '/externalnetworks', {'name': 'partners', 'entries': ['192.0.2.0/24'],
                                                      'associatedTags': ['externalnetwork:name=partners', 'team=b2b']})
    prisma_post(lab, HAND_MADE, '/networkrulesetpolicies', {
        'name': 'api-from-partners', 'subject': [['$identity=processingunit', 'app=api']],
        'incomingRules': [{'action': 'Allow', 'object': [['externalnetwork:name=partners']], 'protocolPorts': ['tcp/443']}]})


def export(lab, directory: Path, log: Path) -> None:
    play(lab, ['playbooks/export.yml', '-e', 'export_dir=%s' % directory, '-e', '{"export_products": ["prisma"]}'], log)


def adopt(lab, directory: Path, log: Path, extra=()) -> str:
    return play(lab, ['playbooks/adopt.yml', '-e', 'export_dir=%s' % directory, '-e', '{"adopt_products": ["prisma"]}', *extra], log)


def entries(directory: Path) -> dict[str, dict]:
    return dict((path.name, yaml.safe_load(path.read_text())) for path in sorted((directory / 'prisma').glob('*.yml')))


def test_an_export_is_taken_over_in_place_and_rebuilt_on_an_empty_console(new_lab, tmp_path: Path) -> None:
    source = new_lab('export-source')
    for scenario in SCENARIOS:
        play(source, ['playbooks/%s.yml' % scenario], tmp_path / ('%s.log' % scenario))
    make_by_hand(source)

    first = tmp_path / 'first'
    export(source, first, tmp_path / 'export-first.log')
    exported = entries(first)
    hand_made = [e for e in exported.values() if e['options']['namespace'] == HAND_MADE
                 or any(i['name'] == 'brownfield' for i in e['items'])]
    # the hand-made objects: their own entries, without an owner (the adopting task's takes them)
    assert sorted(e['module'].rsplit('.', 1)[1] for e in hand_made) == ['prisma_external_network', 'prisma_namespace',
                                                                        'prisma_network_ruleset']
    assert all('owner' not in e['options'] for e in hand_made)
    ruleset = next(e for e in hand_made if e['module'].endswith('network_ruleset'))['items']
    assert ruleset == [{'name': 'api-from-partners', 'subject': [['$identity=processingunit', 'app=api']],
                        'incoming_rules': [{'object': [['externalnetwork:name=partners']], 'protocol_ports': ['tcp/443']}]}]
    network = next(e for e in hand_made if e['module'].endswith('external_network'))['items']
    assert network == [{'name': 'partners', 'entries': ['192.0.2.0/24'], 'tags': ['team=b2b']}]
    # what the product makes (a namespace's default dependency policy) is left out, unless a scenario changed it
    defaults = [(e['options']['namespace'], i) for e in exported.values() for i in e['items'] if i['name'] == 'default'
                and e['module'].endswith('service_dependency_policy')]
    assert sorted(n for n, i in defaults) == ['/acme/hosts', '/acme/k8s-nlb'] and all(i['disabled'] for n, i in defaults)
    assert ['web-custom.tls_certificate_key'] in [e.get('secrets') for e in exported.values()]

    # in place: only the three hand-made objects are written (their tags), then nothing
    before = source.writes()['prisma']
    output = adopt(source, first, tmp_path / 'adopt-in-place.log')
    assert changed(output) == 3 and source.writes()['prisma'] - before == 3, output[-3000:]
    before = source.writes()['prisma']
    assert changed(adopt(source, first, tmp_path / 'adopt-again.log')) == 0
    assert source.writes()['prisma'] == before
    second = tmp_path / 'second'
    export(source, second, tmp_path / 'export-second.log')
    assert all(e['options'].get('owner') == 'default' for e in entries(second).values()
               if e['options']['namespace'] == HAND_MADE or any(i['name'] == 'brownfield' for i in e['items']))

    # on an empty console: the same objects, the same export, and every scenario holds unchanged
    target = new_lab('export-target')
    key = {'adopt_secrets': {'web-custom.tls_certificate_key': CUSTOM_KEY.read_text().rstrip('\n')}}
    adopt(target, second, tmp_path / 'adopt-empty.log', extra=('-e', json.dumps(key)))
    rebuilt = tmp_path / 'rebuilt'
    export(target, rebuilt, tmp_path / 'export-rebuilt.log')
    comparison = filecmp.dircmp(second / 'prisma', rebuilt / 'prisma')
    assert not comparison.left_only and not comparison.right_only and not comparison.diff_files, (
        comparison.left_only, comparison.right_only, comparison.diff_files)
    before = target.writes()['prisma']
    for scenario in SCENARIOS:
        output = play(target, ['playbooks/%s.yml' % scenario], tmp_path / ('%s-rebuilt.log' % scenario))
        assert changed(output) == 0, (scenario, [line for line in output.splitlines() if line.startswith('changed')])
    assert target.writes()['prisma'] == before
