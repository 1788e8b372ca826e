"""NSX-T export round trips (nsxt_info export=true), both APIs, on labs of this module's own.

- The two workload-isolation scenarios (Manager and Policy API) run against one lab; its export
  (playbooks/export.yml), applied with the list forms and ``adopt: true`` (playbooks/adopt.yml) to the
  same lab, writes nothing; applied to an empty second lab, it recreates the objects: the second
  lab's export equals the first, a second apply writes nothing, and the guide's flow table gets the
  same verdicts, decided by the same rules, through both APIs.
- NSGroups, IP sets, services, sections and Policy groups and policies created directly through the
  REST API (no tags): applying their export with ``adopt: true`` writes only the management and
  owner tags on the first run (every other attribute unchanged, the sections' order too), and
  nothing on the second. The export names an NSGroup's static members (an NSGroup, an IP set), so
  applied to an empty second lab it recreates every NSGroup with the same members, static and
  effective.
"""

from __future__ import annotations

import json
from pathlib import Path

import requests
import yaml
from playbook_tools import run_playbook

HERE = Path(__file__).resolve().parent
PLAYBOOKS = HERE / 'export_nsxt'
SCENARIOS = ['playbooks/nsxt_workload_isolation_manager.yml', 'playbooks/nsxt_workload_isolation_policy.yml']
WRITES = ('POST', 'PUT', 'PATCH', 'DELETE')
MANAGED = {'scope': 'managed-by', 'tag': 'microseg.segmentation'}
OWNER = {'scope': 'managed-scope', 'tag': 'default'}
# what a write changes besides what it was asked: the revision and the modification stamps
STAMPS = ('_revision', '_last_modified_time', '_last_modified_user', 'tags', 'rule_count')


class Nsx:
    """The REST API and the admin routes (counters) of one lab's NSX Manager."""

    def __init__(self, lab) -> None:
        self.lab = lab
        self.base = 'https://' + lab.env['NSXT_HOST']
        self.auth = (lab.env['NSXT_USERNAME'], lab.env['NSXT_PASSWORD'])

    def api(self, method: str, path: str, body=None, params=None):
        response = requests.request(method, self.base + path, json=body, params=params, auth=self.auth, verify=self.lab.env['NSXT_CA_PATH'],
                                    timeout=30)
        assert response.status_code < 300, (method, path, response.status_code, response.text)
        return response.json() if response.content else None

    def results(self, path: str, params=None) -> list:
        return self.api('GET', path, params=dict(params or {}, page_size=1000))['results']

    def reset_counters(self) -> None:
        self.lab.admin('nsxt', 'POST', '/_lab/counters/reset')

    def writes(self) -> dict[str, int]:
        routes = self.lab.admin('nsxt', 'GET', '/_lab/counters')['routes']
        return {route: count for route, count in routes.items() if route.split(' ', 1)[0] in WRITES}


def play(lab, tmp_path: Path, playbook: str, log: str, **extra) -> str:
    args = ['-i', 'inventories/lab', str(playbook)]
    for key, value in extra.items():
        args += ['-e', json.dumps({key: str(value) if isinstance(value, Path) else value})]
    rc, output = run_playbook(args, lab.playbook_env(), tmp_path / log)
    assert rc == 0, '%s failed (rc=%d):\n%s' % (playbook, rc, output[-6000:])
    return output


def export(lab, tmp_path: Path, name: str) -> dict:
    """playbooks/export.yml (NSX only) into ``tmp_path/name``: its directory, its entries in file order, what it left out."""
    directory = tmp_path / name
    play(lab, tmp_path, 'playbooks/export.yml', '%s.log' % name, export_dir=directory, export_products=['nsxt'])
    entries = [yaml.safe_load(path.read_text(encoding='utf-8')) for path in sorted((directory / 'nsxt').glob('*.yml'))]
    return {'dir': directory, 'exports': entries, 'skipped': yaml.safe_load((directory / 'nsxt-skipped.yml').read_text(encoding='utf-8'))}


def apply(lab, tmp_path: Path, exported: dict, name: str) -> str:
    return play(lab, tmp_path, 'playbooks/adopt.yml', '%s-apply.log' % name, export_dir=exported['dir'], adopt_products=['nsxt'])


def verdicts(lab, tmp_path: Path, name: str) -> list:
    """Each API's flow table: flow name, verdict, whether as expected, and the deciding rules' names."""
    path = tmp_path / ('%s-flows.json' % name)
    play(lab, tmp_path, PLAYBOOKS / 'flows.yml', '%s-flows.log' % name, nsxt_flows_file=path)
    tables = json.loads(path.read_text(encoding='utf-8'))
    return [[(f['name'], f['verdict'], f['as_expected'], sorted((d['side'], d['rule'], d['where']) for d in f['decided_by'])) for f in flows]
            for flows in tables]


def test_the_scenarios_export_round_trips_to_the_same_and_to_an_empty_lab(new_lab, tmp_path: Path) -> None:
    first, second = new_lab('nsxt-source'), new_lab('nsxt-target')
    for scenario in SCENARIOS:
        play(first, tmp_path, scenario, Path(scenario).stem + '.log')
    exported = export(first, tmp_path, 'first')
    modules = [e['module'].rsplit('.', 1)[-1] for e in exported['exports']]
    assert modules == ['nsxt_ns_group', 'nsxt_firewall_section', 'nsxt_policy_group', 'nsxt_security_policy'], modules  # no IP set
    assert sorted((s['kind'], s['name']) for s in exported['skipped']) == [
        ('firewall_section', 'Default Layer3 Section'), ('security_policy', 'Default Layer3 Section')]
    section = exported['exports'][1]
    assert section['options'] == {'section_type': 'LAYER3', 'owner': 'default'}
    assert section['items'][0]['position'] == 'top' and section['items'][0]['stateful'] is True
    expected = verdicts(first, tmp_path, 'first')

    # the same lab: nothing to write
    Nsx(first).reset_counters()
    output = apply(first, tmp_path, exported, 'same')
    assert 'changed=0' in output, output[-3000:]
    assert Nsx(first).writes() == {}

    # an empty lab: the same objects, the same flow table
    applied = apply(second, tmp_path, exported, 'empty')
    assert 'changed=0' not in applied, applied[-3000:]
    again = export(second, tmp_path, 'second')
    assert again['exports'] == exported['exports']
    assert again['skipped'] == exported['skipped']
    Nsx(second).reset_counters()
    apply(second, tmp_path, again, 'second')
    assert Nsx(second).writes() == {}
    assert verdicts(second, tmp_path, 'second') == expected
    assert all(as_expected for table in expected for dummy, dummy2, as_expected, dummy3 in table)


# ---------------------------------------------------------------- objects made through the REST API

MP = '/api/v1'
POLICY = '/policy/api/v1/infra/domains/default'


def nsgroup_ref(group: dict) -> dict:
    return {'target_type': 'NSGroup', 'target_id': group['id']}


def tag_expression(target: str, scope: str, tag: str, op: str = 'EQUALS') -> dict:
    return {'resource_type': 'NSGroupTagExpression', 'target_type': target, 'scope': scope, 'scope_op': 'EQUALS', 'tag': tag, 'tag_op': op}


def l4(port: str, protocol: str = 'TCP') -> dict:
    return {'service': {'resource_type': 'L4PortSetNSService', 'l4_protocol': protocol, 'destination_ports': [port], 'source_ports': []}}


def brownfield(nsx: Nsx) -> None:
    """What a team built by hand, the guide's way: IP set, service, NSGroups (one nesting the others),
    two sections with rules naming all of them, and Policy groups (one by paths) with a policy."""
    office = nsx.api('POST', MP + '/ip-sets', {'display_name': 'bf-office', 'ip_addresses': ['10.9.0.0/16', '192.168.7.1']})
    postgres = nsx.api('POST', MP + '/ns-services', {'display_name': 'bf-postgres', 'nsservice_element': {
        'resource_type': 'L4PortSetNSService', 'l4_protocol': 'TCP', 'destination_ports': ['5432'], 'source_ports': []}})
    web = nsx.api('POST', MP + '/ns-groups', {'display_name': 'bf-web', 'description': 'web pods',
                                              'membership_criteria': [tag_expression('LogicalPort', 'app', 'service-b')]})
    db = nsx.api('POST', MP + '/ns-groups', {'display_name': 'bf-db', 'tags': [{'scope': 'team', 'tag': 'data'}],
                                             'membership_criteria': [tag_expression('VirtualMachine', '', 'db', 'CONTAINS')]})
    tier = nsx.api('POST', MP + '/ns-groups', {'display_name': 'bf-tier', 'members': [
        {'resource_type': 'NSGroupSimpleExpression', 'target_type': 'NSGroup', 'target_property': 'id', 'op': 'EQUALS', 'value': web['id']},
        {'resource_type': 'NSGroupSimpleExpression', 'target_type': 'IPSet', 'target_property': 'id', 'op': 'EQUALS', 'value': office['id']}]})
    legacy = nsx.api('POST', MP + '/firewall/sections', params={'action': 'create_with_rules', 'operation': 'insert_top'}, body={
        'display_name': 'bf-legacy', 'section_type': 'LAYER3', 'stateful': True, 'rules': [
            {'display_name': 'web-to-db', 'action': 'ALLOW', 'sources': [nsgroup_ref(web)], 'destinations': [nsgroup_ref(db)],
             'services': [{'target_type': 'NSService', 'target_id': postgres['id']}]},
            {'display_name': 'office-to-web', 'action': 'ALLOW', 'destinations': [nsgroup_ref(web)],
             'sources': [{'target_type': 'IPSet', 'target_id': office['id']}, {'target_type': 'IPv4Address', 'target_id': '10.1.0.0/16'}],
             'services': [l4('443'), l4('80')]},
            {'display_name': 'ping', 'action': 'DROP', 'direction': 'IN', 'logged': True,
             'services': [{'service': {'resource_type': 'ICMPTypeNSService', 'protocol': 'ICMPv4', 'icmp_type': 8}}]},
            {'display_name': 'deny-tier', 'action': 'REJECT', 'applied_tos': [nsgroup_ref(tier)], 'notes': 'everything else'}]})
    nsx.api('POST', MP + '/firewall/sections', params={'action': 'create_with_rules', 'operation': 'insert_after', 'id': legacy['id']}, body={
        'display_name': 'bf-edge', 'section_type': 'LAYER3', 'stateful': False, 'applied_tos': [nsgroup_ref(db)],
        'rules': [{'display_name': 'any', 'action': 'ALLOW', 'ip_protocol': 'IPV4'}]})
    nsx.api('PATCH', POLICY + '/groups/bf-pweb', {'display_name': 'bf-pweb', 'expression': [
        {'resource_type': 'Condition', 'member_type': 'VirtualMachine', 'key': 'Tag', 'operator': 'EQUALS', 'value': 'app|web'}]})
    nsx.api('PATCH', POLICY + '/groups/bf-pnet', {'display_name': 'bf-pnet', 'expression': [
        {'resource_type': 'IPAddressExpression', 'ip_addresses': ['10.2.0.0/16']}]})
    nsx.api('PATCH', POLICY + '/groups/bf-pall', {'display_name': 'BF all', 'expression': [
        {'resource_type': 'PathExpression', 'paths': ['/infra/domains/default/groups/bf-pweb', '/infra/domains/default/groups/bf-pnet']}]})
    nsx.api('PATCH', POLICY + '/security-policies/bf-policy', {
        'display_name': 'bf-policy', 'category': 'Application', 'sequence_number': 5, 'scope': ['/infra/domains/default/groups/bf-pweb'],
        'rules': [
            {'id': 'r-web', 'display_name': 'Allow web', 'action': 'ALLOW', 'sequence_number': 10,
             'source_groups': ['/infra/domains/default/groups/bf-pnet'], 'destination_groups': ['/infra/domains/default/groups/bf-pweb'],
             'services': [], 'service_entries': [{'resource_type': 'L4PortSetServiceEntry', 'id': 'tcp-443', 'l4_protocol': 'TCP',
                                                  'destination_ports': ['443']}], 'scope': ['ANY'], 'profiles': ['ANY']},
            {'id': 'r-drop', 'display_name': 'r-drop', 'action': 'DROP', 'sequence_number': 20, 'source_groups': ['ANY'],
             'destination_groups': ['ANY'], 'services': ['ANY'], 'scope': ['ANY'], 'profiles': ['ANY']}]})


def snapshot(nsx: Nsx) -> dict:
    """Every object brownfield() makes, as read, without what a tag write changes besides the tags (an
    empty list or text the write spells out where the API left the attribute out is the same)."""
    def plain(obj):
        return dict((k, v) for k, v in obj.items() if k not in STAMPS and v not in ([], '', None))

    state = {'ip_set': [plain(o) for o in nsx.results(MP + '/ip-sets')],
             'ns_group': [plain(o) for o in nsx.results(MP + '/ns-groups')],
             'policy_group': [plain(o) for o in nsx.results(POLICY + '/groups')]}
    state['section'] = [dict(plain(s), rules=[plain(r) for r in nsx.results(MP + '/firewall/sections/%s/rules' % s['id'])])
                        for s in nsx.results(MP + '/firewall/sections')]
    state['policy'] = [dict(plain(p), rules=[plain(r) for r in nsx.results(POLICY + '/security-policies/%s/rules' % p['id'])])
                       for p in nsx.results(POLICY + '/security-policies')]
    tags = dict((o.get('display_name'), o.get('tags') or []) for kind in ('ip-sets', 'ns-groups', 'firewall/sections')
                for o in nsx.results(MP + '/' + kind))
    tags.update((o.get('display_name'), o.get('tags') or []) for kind in ('groups', 'security-policies') for o in nsx.results(POLICY + '/' + kind))
    return {'objects': state, 'tags': tags}


def memberships(nsx: Nsx) -> dict:
    """Each NSGroup's static members (type and display name) and effective members (IP addresses, logical ports)."""
    names = dict((o['id'], o['display_name']) for kind in ('ns-groups', 'ip-sets') for o in nsx.results(MP + '/' + kind))
    found = {}
    for group in nsx.results(MP + '/ns-groups'):
        path = MP + '/ns-groups/%s' % group['id']
        found[group['display_name']] = {
            'static': sorted((m['target_type'], names.get(m['value'], m['value'])) for m in group.get('members') or []),
            'ip_addresses': sorted(nsx.results(path + '/effective-ip-address-members')),
            'ports': sorted(p.get('target_display_name') or p.get('display_name') for p in nsx.results(path + '/effective-logical-port-members')),
        }
    return found


def test_objects_made_through_the_api_are_taken_over_by_writing_only_their_tags(new_lab, tmp_path: Path) -> None:
    lab = new_lab('nsxt-brownfield')
    nsx = Nsx(lab)
    brownfield(nsx)
    before = snapshot(nsx)
    exported = export(lab, tmp_path, 'brownfield')
    assert all('owner' not in e['options'] for e in exported['exports'])
    names = [i['name'] for e in exported['exports'] for i in e['items']]
    assert names == ['bf-office', 'bf-db', 'bf-web', 'bf-tier', 'bf-legacy', 'bf-edge', 'bf-pnet', 'bf-pweb', 'BF all', 'bf-policy'], names
    tier = next(i for e in exported['exports'] for i in e['items'] if i['name'] == 'bf-tier')
    assert tier['members'] == [{'target_type': 'NSGroup', 'name': 'bf-web'}, {'target_type': 'IPSet', 'name': 'bf-office'}]

    nsx.reset_counters()
    output = apply(lab, tmp_path, exported, 'adopt')
    writes = nsx.writes()
    assert set(route.split(' ', 1)[0] for route in writes) <= {'PUT', 'POST', 'PATCH'} and writes, writes
    after = snapshot(nsx)
    assert after['objects'] == before['objects']
    for name in names:
        tags = after['tags'][name]
        assert MANAGED in tags and OWNER in tags, (name, tags)
        assert [t for t in tags if t not in (MANAGED, OWNER)] == before['tags'][name]
    assert 'changed=0' not in output

    nsx.reset_counters()
    output = apply(lab, tmp_path, exported, 'adopt-again')
    assert nsx.writes() == {} and 'changed=0' in output

    # an empty lab: the NSGroups come back with the same members, named there by that lab's ids
    expected = memberships(nsx)
    assert expected['bf-tier']['static'] == [('IPSet', 'bf-office'), ('NSGroup', 'bf-web')]
    assert {'10.9.0.0/16', '10.244.2.10'} <= set(expected['bf-tier']['ip_addresses']), expected['bf-tier']
    assert expected['bf-tier']['ports'] == expected['bf-web']['ports'] and len(expected['bf-web']['ports']) == 2, expected
    empty = Nsx(new_lab('nsxt-brownfield-empty'))
    # no module of the collection makes NSServices (an export names them, as rules do): made by hand there too
    empty.api('POST', MP + '/ns-services', {'display_name': 'bf-postgres', 'nsservice_element': {
        'resource_type': 'L4PortSetNSService', 'l4_protocol': 'TCP', 'destination_ports': ['5432'], 'source_ports': []}})
    apply(empty.lab, tmp_path, exported, 'empty')
    assert memberships(empty) == expected
    assert dict((o['display_name'], o['id']) for o in empty.results(MP + '/ns-groups')) != dict(
        (o['display_name'], o['id']) for o in nsx.results(MP + '/ns-groups'))
