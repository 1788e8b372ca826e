"""From observed flows to rules to lockdown (issue 13), against the session's lab.

The guide's namespace chain is made under a fresh name (``/acme/flows-<hex>/k8s/hipster-shop``
and its sibling ``default``), with the ``app=`` tag prefix and in discovery mode; the processing
units of ``lab/microseg_lab/prisma/workloads.json`` are reported there and the recorded week of
the Hipster Shop (``recordings/hipster-week.json``, its namespaces rewritten) is loaded. Then
``prisma_flow_info`` proposes the rules, with the recording's ``unwanted`` flows excluded; the
proposal is written to a vars file, read back and applied with the list forms of
``prisma_external_network`` and ``prisma_network_ruleset``; the namespace leaves discovery mode;
and ``prisma_flow_check`` finds every wanted flow of the recording allowed and every unwanted one
denied. What the lab holds is compared with the proposal, and a second run proposes the same.
"""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path

import pytest
import yaml
from test_resilience import LabClient, run_capturing

REPO_ROOT = Path(__file__).resolve().parents[2]
RECORDING = REPO_ROOT / 'lab' / 'microseg_lab' / 'prisma' / 'recordings' / 'hipster-week.json'
WORKLOADS = REPO_ROOT / 'lab' / 'microseg_lab' / 'prisma' / 'workloads.json'
RECORDED_CLUSTER = '/acme/aws-dev/k8s'
PROTOCOLS = {6: 'tcp', 17: 'udp'}
NAMESPACE_KEYS = ('namespace', 'policyNamespace', 'observedPolicyNamespace', 'sourceNamespace', 'destinationNamespace', 'remoteNamespace')


@pytest.fixture()
def client(lab):
    yield LabClient(lab)


class Shop:
    """The fresh namespace chain, the recording rewritten into it and the flows derived from it."""

    def __init__(self, root):
        self.account = 'flows-' + uuid.uuid4().hex[:8]
        self.cluster = '%s/%s/k8s' % (root, self.account)
        self.app = self.cluster + '/hipster-shop'
        self.other = self.cluster + '/default'
        self.recording = json.loads(RECORDING.read_text(encoding='utf-8'))
        self.workloads = json.loads(WORKLOADS.read_text(encoding='utf-8'))
        self.tags = {}
        for namespace, units in self.workloads.items():
            for unit in units:
                self.tags[(self.rewrite(namespace), unit['name'])] = sorted(unit['tags'])
        self.flows = [self.rewrite_flow(flow) for flow in self.recording['flows']]
        self.unwanted = sorted(set(i for entry in self.recording['unwanted'] for i in entry['flows']))

    def rewrite(self, namespace):
        if namespace and (namespace == RECORDED_CLUSTER or namespace.startswith(RECORDED_CLUSTER + '/')):
            return self.cluster + namespace[len(RECORDED_CLUSTER):]
        return namespace

    def rewrite_flow(self, flow):
        flow = copy.deepcopy(flow)
        for key in NAMESPACE_KEYS:
            if flow.get(key):
                flow[key] = self.rewrite(flow[key])
        return flow

    def unit_namespace(self, flow, side):
        return flow.get(side + 'Namespace') or flow['namespace']

    def check_end(self, flow, side):
        """The flow-check endpoint of one end: the unit's namespace and tags, or the address."""
        if flow[side + 'Type'] == 'ProcessingUnit':
            namespace = self.unit_namespace(flow, side)
            return {'namespace': namespace, 'tags': self.tags[(namespace, flow[side + 'ID'])]}
        return flow[side + 'IP']

    def exclude_end(self, flow, side):
        """The exclude selector of one end: the unit's tags in the shop, its namespace elsewhere, else the network."""
        if flow[side + 'Type'] == 'ProcessingUnit':
            namespace = self.unit_namespace(flow, side)
            if namespace == self.app:
                return {'namespace': namespace, 'tags': self.tags[(namespace, flow[side + 'ID'])]}
            return {'namespace': namespace}
        return {'network': flow[side + 'ID']}

    @staticmethod
    def service(flow):
        return '%s/%d' % (PROTOCOLS[flow['protocol']], flow['destinationPort'])

    def excludes(self):
        out = []
        for index in self.unwanted:
            flow = self.flows[index]
            entry = {'source': self.exclude_end(flow, 'source'), 'destination': self.exclude_end(flow, 'destination'),
                     'service': self.service(flow)}
            if entry not in out:
                out.append(entry)
        return out

    def check_flows(self):
        """Every distinct flow of the recording: the wanted ones expected allowed, the unwanted denied."""
        out, seen = [], set()
        for index, flow in enumerate(self.flows):
            item = {'source': self.check_end(flow, 'source'), 'destination': self.check_end(flow, 'destination'),
                    'service': self.service(flow), 'expect': 'deny' if index in self.unwanted else 'allow'}
            key = json.dumps(item, sort_keys=True)
            if key not in seen:
                seen.add(key)
                out.append(item)
        return out


def canon_rules(rules):
    return sorted((json.dumps(sorted(sorted(clause) for clause in rule['object'])), tuple(sorted(rule['protocolPorts'])),
                   rule.get('action') or 'Allow') for rule in rules or [])


def proposed_rules(rules):
    return sorted((json.dumps(sorted(sorted(clause) for clause in rule['object'])), tuple(sorted(rule['protocol_ports'])), 'Allow')
                  for rule in rules)


def short(endpoint):
    """An endpoint of the module's result in a word: its tags, network name, address or namespace."""
    return ','.join(endpoint.get('tags') or []) or endpoint.get('name') or endpoint.get('address') or endpoint.get('namespace')


def flow_info(shop, register, check_mode=False):
    task = {'name': 'Propose the rules the week needs', 'register': register, 'microseg.segmentation.prisma_flow_info': {
        'namespace': shop.app, 'window': '7d', 'propose': True, 'exclude': shop.excludes()}}
    if check_mode:
        task['check_mode'] = True
    return task


def test_observed_flows_to_rules_to_lockdown(lab, client, tmp_path):
    root = lab.env['PRISMA_NAMESPACE']
    shop = Shop(root)
    client.admin('POST', '/_lab/prisma/workloads', {
        shop.app: shop.workloads[RECORDED_CLUSTER + '/hipster-shop'], shop.other: shop.workloads[RECORDED_CLUSTER + '/default']})
    loaded = client.admin('POST', '/_lab/prisma/flows', {'flows': shop.flows})
    assert loaded['added'] == len(shop.flows)
    proposal_file = tmp_path / 'proposal.yml'
    tasks = [
        {'name': 'Cloud account', 'microseg.segmentation.prisma_namespace': {'namespace': root, 'name': shop.account, 'type': 'CloudAccount'}},
        {'name': 'Cluster', 'microseg.segmentation.prisma_namespace': {
            'namespace': '%s/%s' % (root, shop.account), 'name': 'k8s', 'type': 'Kubernetes'}},
        {'name': 'The shop, in discovery mode', 'microseg.segmentation.prisma_namespace': {
            'namespace': shop.cluster, 'name': 'hipster-shop', 'type': 'Kubernetes', 'tag_prefixes': ['app='], 'discovery_mode': True}},
        {'name': 'Another application', 'microseg.segmentation.prisma_namespace': {
            'namespace': shop.cluster, 'name': 'default', 'type': 'Kubernetes'}},
        flow_info(shop, 'checked', check_mode=True),
        flow_info(shop, 'observed'),
        {'name': 'Keep the proposal', 'ansible.builtin.copy': {
            'content': '{{ observed.proposal | to_nice_yaml }}', 'dest': str(proposal_file), 'mode': '0600'}},
        {'name': 'Read it back', 'ansible.builtin.include_vars': {'file': str(proposal_file), 'name': 'proposal'}},
        {'name': 'External networks', 'register': 'networks', 'microseg.segmentation.prisma_external_network': {
            'namespace': shop.app, 'items': '{{ proposal.external_networks }}'}},
        {'name': 'Rulesets', 'register': 'rulesets', 'microseg.segmentation.prisma_network_ruleset': {
            'namespace': shop.app, 'items': '{{ proposal.network_rulesets }}'}},
        # guarded: the review's rejections (the excludes) are the only observed flows it may block
        {'name': 'Leave discovery mode', 'register': 'lockdown', 'microseg.segmentation.prisma_namespace': {
            'namespace': shop.cluster, 'name': 'hipster-shop', 'discovery_mode': False,
            'lockdown_guard': {'window': '7d', 'expect_blocked': shop.excludes()}}},
        {'name': 'The recorded flows after lockdown', 'register': 'checked_flows', 'ignore_errors': True,
         'microseg.segmentation.prisma_flow_check': {'namespace': shop.cluster, 'flows': shop.check_flows()}},
        flow_info(shop, 'again'),
    ]
    rc, out, results = run_capturing(lab, tmp_path, tasks)
    assert rc == 0, out[-6000:]

    observed = results['observed']
    summary = observed['summary']
    proposal = observed['proposal']
    assert observed['changed'] is False and results['checked']['changed'] is False
    assert results['checked']['proposal'] == proposal
    assert yaml.safe_load(proposal_file.read_text(encoding='utf-8')) == proposal

    # every recorded flow is proposed but the unwanted ones, which are excluded
    assert observed['not_proposed'] == [] and observed['partly_proposed'] == [], (observed['not_proposed'], observed['partly_proposed'])
    assert summary['excluded'] == len(observed['excluded']) == 7
    assert summary['proposed'] + summary['excluded'] == summary['flows'] == len(observed['flows'])
    assert set((short(e['source']), short(e['destination']), e['service']) for e in observed['excluded']) == set([
        ('app=frontend', 'app=redis-cart', 'tcp/6379'), ('app=frontend', '198.51.100.20', 'tcp/443'),
        ('app=adservice', '198.51.100.50', 'tcp/22'), ('app=paymentservice', '198.51.100.25', 'tcp/25'),
        ('app=paymentservice', '192.0.2.25', 'tcp/25'), ('203.0.113.7', 'app=frontend', 'tcp/22'),
        (shop.other, 'app=cartservice', 'tcp/7070')])
    assert sorted(n['name'] for n in proposal['external_networks']) == ['DNS', 'googleapis', 'internet', 'kubelet', 'metadata']
    apps = sorted(set(t.split('=', 1)[1] for (namespace, dummy), tags in shop.tags.items() if namespace == shop.app for t in tags))
    assert [r['name'] for r in proposal['network_rulesets']] == ['observed-' + app for app in apps]
    frontend = next(r for r in proposal['network_rulesets'] if r['name'] == 'observed-frontend')
    assert frontend['subject'] == [['$identity=processingunit', '$namespace=' + shop.app, 'app=frontend']]
    incoming = dict((json.dumps(r['object']), r['protocol_ports']) for r in frontend['incoming_rules'])
    assert incoming[json.dumps([['externalnetwork:name=internet']])] == ['tcp/8080']  # tcp/22 from the Internet is excluded
    assert incoming[json.dumps([['$identity=processingunit', '$namespace=' + shop.app, 'app=loadgenerator']])] == ['tcp/8080']
    outgoing = dict((json.dumps(r['object']), r['protocol_ports']) for r in frontend['outgoing_rules'])
    assert json.dumps([['$identity=processingunit', '$namespace=' + shop.app, 'app=redis-cart']]) not in outgoing
    assert outgoing[json.dumps([['externalnetwork:name=DNS']])] == ['udp/53']

    # what the lab holds is the proposal, and the shop is locked down
    assert results['networks']['changed'] is True and results['rulesets']['changed'] is True
    held_networks = dict((n['name'], n) for n in client.api('GET', '/externalnetworks', shop.app))
    assert sorted(held_networks) == sorted(n['name'] for n in proposal['external_networks'])
    for item in proposal['external_networks']:
        assert sorted(held_networks[item['name']]['entries']) == sorted(item['entries'])
        assert 'externalnetwork:name=%s' % item['name'] in held_networks[item['name']]['associatedTags']
    held_rulesets = dict((r['name'], r) for r in client.api('GET', '/networkrulesetpolicies', shop.app))
    assert sorted(held_rulesets) == [r['name'] for r in proposal['network_rulesets']]
    for item in proposal['network_rulesets']:
        held = held_rulesets[item['name']]
        assert [sorted(c) for c in held['subject']] == [sorted(c) for c in item['subject']]
        assert canon_rules(held['incomingRules']) == proposed_rules(item['incoming_rules'])
        assert canon_rules(held['outgoingRules']) == proposed_rules(item['outgoing_rules'])
    assert results['lockdown']['changed'] is True
    # the guard let the switch through: it blocks the excluded flows, and only them (6: now that the
    # internet network exists, paymentservice's mail to its two addresses is one flow to that network)
    assert any(w.startswith('lockdown_guard: 6 observed flow(s) will be blocked as expect_blocked says')
               for w in results['lockdown']['warnings']), results['lockdown']['warnings']
    assert client.api('GET', '/putrafficactions', shop.app) == {'Incoming': 'Reject', 'Outgoing': 'Reject'}

    # every wanted flow of the week allowed, every unwanted one denied
    checked = results['checked_flows']
    mismatches = ['%s -> %s %s: expected %s, got %s (%s)' % (m['source_text'], m['destination_text'], m['service'], m['expect'], m['verdict'],
                                                             m['reason']) for m in checked['mismatches']]
    assert mismatches == [], '\n'.join(mismatches)
    flows = shop.check_flows()
    assert checked['counts']['total'] == len(flows) and checked['counts']['as_expected'] == len(flows)
    assert checked['counts']['allowed'] == sum(1 for f in flows if f['expect'] == 'allow')
    assert sum(1 for f in flows if f['expect'] == 'deny') == 7  # paymentservice's SMTP to two addresses

    # the networks now exist (the recording's ends are answered with their IDs): the same proposal, no warning
    again = results['again']
    assert again['proposal'] == proposal
    assert again['not_proposed'] == [] and again['partly_proposed'] == []
    # the addresses of one network are one end now: paymentservice's two SMTP servers are one flow to the Internet
    assert set((short(e['source']), short(e['destination']), e['service']) for e in again['excluded']) == set([
        ('app=frontend', 'app=redis-cart', 'tcp/6379'), ('app=frontend', 'internet', 'tcp/443'), ('app=adservice', 'internet', 'tcp/22'),
        ('app=paymentservice', 'internet', 'tcp/25'), ('internet', 'app=frontend', 'tcp/22'), (shop.other, 'app=cartservice', 'tcp/7070')])
    assert not again.get('warnings')
