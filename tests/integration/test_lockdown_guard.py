"""The lockdown guard of prisma_namespace, against the session's lab.

A namespace in discovery mode whose enforcers saw three flows over the last days; only one of them
is allowed by its rulesets. Leaving discovery mode with ``lockdown_guard`` is refused in check mode
and for real, naming the flows it would block, with no write; once the missing rules are there
it passes and the namespace rejects by default; ``force`` switches anyway and warns.
"""

from __future__ import annotations

import uuid

import pytest
from test_resilience import LabClient, run_capturing

FLOW = {'action': 'Accept', 'observedAction': 'Accept', 'policyID': 'default', 'sourceType': 'ProcessingUnit',
        'destinationType': 'ProcessingUnit', 'protocol': 6}


@pytest.fixture()
def client(lab):
    yield LabClient(lab)


def shop(lab, client):
    """A namespace with three units (frontend, cart, redis) in discovery mode, its tag prefix ``app=``,
    and a week of flows: frontend to cart (allowed by a ruleset), cart to redis and frontend to redis."""
    root = lab.env['PRISMA_NAMESPACE']
    parent = '%s/guard-%s' % (root, uuid.uuid4().hex[:6])
    namespace = parent + '/shop'
    units = [{'name': 'frontend-1', 'type': 'Docker', 'tags': ['app=frontend']},
             {'name': 'cart-1', 'type': 'Docker', 'tags': ['app=cart']},
             {'name': 'redis-1', 'type': 'Docker', 'tags': ['app=redis']}]
    client.admin('POST', '/_lab/prisma/workloads', {namespace: units})
    client.api('POST', '/namespaces', root, {'name': parent.rsplit('/', 1)[1], 'type': 'Group'})
    client.api('POST', '/namespaces', parent, {'name': 'shop', 'type': 'Kubernetes', 'tagPrefixes': ['app=']})
    client.api('POST', '/putrafficactions', namespace, {'Incoming': 'Allow', 'Outgoing': 'Allow'})
    flows = []
    for source, destination, port, ago, count in (('frontend-1', 'cart-1', 7070, '-3d', 120), ('cart-1', 'redis-1', 6379, '-2h', 40),
                                                  ('frontend-1', 'redis-1', 6379, '-5d', 3)):
        flows.append(dict(FLOW, namespace=namespace, policyNamespace=namespace, sourceID=source, destinationID=destination,
                          destinationPort=port, timestamp=ago, value=count))
    client.admin('POST', '/_lab/prisma/flows', flows)
    return namespace


def ruleset_task(namespace, name, subject, incoming=None, outgoing=None):
    args = {'namespace': namespace, 'name': name, 'subject': [subject]}
    if incoming:
        args['incoming_rules'] = [{'object': [incoming[0]], 'protocol_ports': [incoming[1]]}]
    if outgoing:
        args['outgoing_rules'] = [{'object': [outgoing[0]], 'protocol_ports': [outgoing[1]]}]
    return {'name': 'Ruleset ' + name, 'microseg.segmentation.prisma_network_ruleset': args}


def lockdown(namespace, check=False, force=False, register='lockdown', expect_blocked=None):
    guard = {'window': '7d', 'force': force}
    if expect_blocked:
        guard['expect_blocked'] = expect_blocked
    task = {'name': 'Leave discovery mode', 'microseg.segmentation.prisma_namespace': {
        'name': namespace, 'discovery_mode': False, 'lockdown_guard': guard},
        'register': register, 'ignore_errors': True}
    if check:
        task['check_mode'] = True
    return task


def default_actions(client, namespace):
    return client.api('GET', '/putrafficactions', namespace)


def writes(client):
    return {route: n for route, n in client.counters()['routes'].items() if route.split(' ')[0] in ('PUT', 'PATCH', 'DELETE')
            or (route.startswith('POST ') and route not in ('POST /statsqueries',))}


def test_the_guard_refuses_what_would_be_blocked_then_passes_once_it_is_allowed(lab, client, tmp_path):
    namespace = shop(lab, client)
    rc, out, dummy = run_capturing(lab, tmp_path, [
        ruleset_task(namespace, 'frontend', 'app=frontend', outgoing=('app=cart', 'tcp/7070')),
        ruleset_task(namespace, 'cart', 'app=cart', incoming=('app=frontend', 'tcp/7070'))])
    assert rc == 0, out

    client.admin('POST', '/_lab/counters/reset')
    rc, out, results = run_capturing(lab, tmp_path, [lockdown(namespace, check=True)])
    result = results['lockdown']
    assert result['failed'] is True, out
    assert writes(client) == {}
    blocked = sorted((b['source'], b['destination'], b['service'], b['count']) for b in result['blocked'])
    assert blocked == [('%s app=cart' % namespace, '%s app=redis' % namespace, 'tcp/6379', 40),
                       ('%s app=frontend' % namespace, '%s app=redis' % namespace, 'tcp/6379', 3)]
    assert 'would block 2 of the 3 flows observed in the last 7d' in result['msg'] and 'nothing was changed' in result['msg']
    assert all(b['last_seen'] for b in result['blocked'])

    client.admin('POST', '/_lab/counters/reset')
    rc, out, results = run_capturing(lab, tmp_path, [lockdown(namespace)])
    assert results['lockdown']['failed'] is True, out
    assert writes(client) == {}
    assert default_actions(client, namespace) == {'Incoming': 'Allow', 'Outgoing': 'Allow'}

    # the two rules the week showed are missing (frontend to redis is one nobody should allow: its
    # rule is not added, so the guard still names it), then only that one
    rc, out, dummy = run_capturing(lab, tmp_path, [
        ruleset_task(namespace, 'cart-out', 'app=cart', outgoing=('app=redis', 'tcp/6379')),
        ruleset_task(namespace, 'redis', 'app=redis', incoming=('app=cart', 'tcp/6379'))])
    assert rc == 0, out
    rc, out, results = run_capturing(lab, tmp_path, [lockdown(namespace)])
    assert results['lockdown']['failed'] is True
    assert [b['source'] for b in results['lockdown']['blocked']] == ['%s app=frontend' % namespace]

    # the review decided the frontend's calls to redis go: expected blocked, named in a warning
    unwanted = [{'source': {'tags': ['app=frontend']}, 'destination': {'tags': ['app=redis']}, 'service': 'tcp/6379'}]
    rc, out, results = run_capturing(lab, tmp_path, [lockdown(namespace, expect_blocked=unwanted)])
    assert rc == 0, out
    assert results['lockdown']['changed'] is True
    assert any('will be blocked as expect_blocked says' in w and 'app=frontend' in w for w in results['lockdown']['warnings'])
    assert default_actions(client, namespace) == {'Incoming': 'Reject', 'Outgoing': 'Reject'}


def test_force_switches_anyway_and_names_what_it_blocks(lab, client, tmp_path):
    namespace = shop(lab, client)
    rc, out, results = run_capturing(lab, tmp_path, [lockdown(namespace, force=True)])
    assert rc == 0, out
    assert results['lockdown']['changed'] is True
    warning = [w for w in results['lockdown']['warnings'] if 'switched anyway' in w]
    assert warning and 'would block 3 of the 3 flows' in warning[0]
    assert default_actions(client, namespace) == {'Incoming': 'Reject', 'Outgoing': 'Reject'}


def test_the_guard_passes_when_every_observed_flow_is_allowed(lab, client, tmp_path):
    namespace = shop(lab, client)
    rc, out, dummy = run_capturing(lab, tmp_path, [
        ruleset_task(namespace, 'frontend', 'app=frontend', outgoing=('app=*', 'tcp/1:65535')),
        ruleset_task(namespace, 'cart', 'app=cart', incoming=('app=frontend', 'tcp/7070'), outgoing=('app=redis', 'tcp/6379')),
        ruleset_task(namespace, 'redis', 'app=redis', incoming=('app=*', 'tcp/6379'))])
    assert rc == 0, out
    rc, out, results = run_capturing(lab, tmp_path, [lockdown(namespace, check=True, register='checked'), lockdown(namespace)])
    assert rc == 0, out
    assert results['checked']['changed'] is True and not results['checked'].get('failed')
    assert results['lockdown']['changed'] is True and not results['lockdown'].get('failed')
    assert default_actions(client, namespace) == {'Incoming': 'Reject', 'Outgoing': 'Reject'}
