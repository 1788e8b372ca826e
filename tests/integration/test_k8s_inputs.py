# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""k8s_service_inputs against the real Kubernetes test control plane (the ``k8s_cluster`` fixture).

The scenario is made with the kubernetes client: a namespace with Deployments (one with two tracks
that give the same named port different numbers), a DaemonSet on every kwok node, ClusterIP,
NodePort and LoadBalancer Services with named and numeric target ports (the load balancer's status
patched to 192.0.2.200, a documentation address never contacted), and service accounts with and
without the right to list Nodes. One generated playbook then runs every case through ansible-playbook
and writes the registered results (and the rules the sw_k8s_rules filter renders from them) to a JSON
file that the tests below check. The rules are compared with what the renderer gives for the same
objects read by hand with kubectl.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import certifi
import pytest
import yaml
from playbook_tools import closed_loopback_port, run_playbook
from k8s_helpers import (
    api_client,
    apply_objects,
    daemonset,
    deployment,
    ensure_collection_root,
    kubectl_json,
    playbook_env,
    service,
    service_account_token,
    set_load_balancer,
    tail,
    wait_for_endpoints,
)

from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.k8s_render import render_k8s_rules

MODULE = 'microseg.segmentation.k8s_service_inputs'
NS = 'inputs'
LB_IP = '192.0.2.200'
LB_HOST = 'web-lb.example.com'
NODE_IPS = ['192.0.2.10', '192.0.2.11', '192.0.2.12']
NODE_PORT = 30081  # fixed node ports are cluster-wide: test_k8s_playbooks.py uses 30080 and 30017
POLICY = {'consumer': {'name': 'environment = production', 'addresses': ['10.20.0.11']}}

READ_RULES = [
    {'apiGroups': [''], 'resources': ['services', 'endpoints'], 'verbs': ['get', 'list']},
    {'apiGroups': ['discovery.k8s.io'], 'resources': ['endpointslices'], 'verbs': ['list']},
]


def scenario_objects() -> list[dict]:
    web = {'app': 'web'}
    return [
        deployment(NS, 'web', web, {'http': 8080, 'https': 8443}, replicas=3),
        deployment(NS, 'mixed-a', {'app': 'mixed', 'track': 'a'}, {'http': 8080}, replicas=1),
        deployment(NS, 'mixed-b', {'app': 'mixed', 'track': 'b'}, {'http': 8081}, replicas=1),
        daemonset(NS, 'agent', {'app': 'agent'}, {'metrics': 9100}),
        service(NS, 'web', web, [{'name': 'http', 'port': 80, 'targetPort': 'http'}, {'name': 'https', 'port': 443, 'targetPort': 8443}]),
        service(NS, 'web-np', web, [{'name': 'http', 'port': 80, 'targetPort': 'http', 'nodePort': NODE_PORT}], 'NodePort'),
        service(NS, 'web-lb', web, [{'name': 'https', 'port': 443, 'targetPort': 'https'}], 'LoadBalancer'),
        service(NS, 'agent', {'app': 'agent'}, [{'name': 'metrics', 'port': 9100, 'targetPort': 'metrics'}]),
        service(NS, 'mixed', {'app': 'mixed'}, [{'name': 'http', 'port': 80, 'targetPort': 'http'}]),
        service(NS, 'dns', {'app': 'dns'}, [{'name': 'dns', 'port': 53, 'targetPort': 5353, 'protocol': 'UDP'},
                                            {'name': 'dns-tcp', 'port': 53, 'targetPort': 5353, 'protocol': 'TCP'}]),
        service(NS, 'idle', {'app': 'nothing'}, [{'name': 'http', 'port': 80, 'targetPort': 'http'}]),
    ]


@pytest.fixture(scope='module')
def scenario(k8s_cluster) -> dict:
    """The objects of the scenario; returns tokens and the endpoint addresses of each service."""
    api = api_client(k8s_cluster.kubeconfig)
    try:
        apply_objects(api, NS, scenario_objects())
        set_load_balancer(api, NS, 'web-lb', [{'ip': LB_IP}, {'hostname': LB_HOST}])
        addresses = wait_for_endpoints(api, NS, {'web': 3, 'web-np': 3, 'web-lb': 3, 'agent': 3, 'mixed': 2})
        reader = service_account_token(api, NS, 'reader', cluster_rules=READ_RULES + [{'apiGroups': [''], 'resources': ['nodes'], 'verbs': ['list']}])
        ns_reader = service_account_token(api, NS, 'ns-reader', namespace_rules=READ_RULES)
    finally:
        api.close()
    return {'addresses': addresses, 'reader': reader, 'ns_reader': ns_reader}


def cases(k8s_cluster, scenario: dict, tmp: Path) -> dict[str, dict]:
    """case name -> task keywords (module arguments under ``args``)."""
    kubeconfig = yaml.safe_load(k8s_cluster.kubeconfig.read_text(encoding='utf-8'))
    context = kubeconfig['current-context']
    server = k8s_cluster.env['K8S_API_SERVER']
    ca = k8s_cluster.env['K8S_CA_CERT']
    # A kubeconfig whose current context points nowhere: the context option must pick the right one.
    other = dict(kubeconfig)
    other['clusters'] = kubeconfig['clusters'] + [{'name': 'nowhere', 'cluster': {'server': 'https://127.0.0.1:%d' % closed_loopback_port(),
                                                                                  'insecure-skip-tls-verify': True}}]
    other['contexts'] = kubeconfig['contexts'] + [{'name': 'nowhere', 'context': {'cluster': 'nowhere', 'user': kubeconfig['users'][0]['name']}}]
    other['current-context'] = 'nowhere'
    two_contexts = tmp / 'kubeconfig-two-contexts'
    two_contexts.write_text(yaml.safe_dump(other), encoding='utf-8')
    no_kubeconfig = {'K8S_AUTH_KUBECONFIG': '', 'KUBECONFIG': ''}
    return {
        'clusterip_by_name': {'args': {'namespace': NS, 'name': 'web', 'port': 'http'}},
        'clusterip_by_number': {'args': {'namespace': NS, 'name': 'web', 'port': 443}},
        'check_mode': {'args': {'namespace': NS, 'name': 'web', 'port': 'http'}, 'check_mode': True},
        'nodeport_single_port': {'args': {'namespace': NS, 'name': 'web-np'}},
        'loadbalancer': {'args': {'namespace': NS, 'name': 'web-lb', 'port': 'https'}},
        'daemonset': {'args': {'namespace': NS, 'name': 'agent', 'port': 9100}},
        'pods_differ': {'args': {'namespace': NS, 'name': 'mixed'}},
        'udp_port': {'args': {'namespace': NS, 'name': 'dns', 'port': 53, 'protocol': 'UDP'}},
        'all_ports': {'args': {'namespace': NS, 'name': 'web'}},
        'all_ports_two_protocols': {'args': {'namespace': NS, 'name': 'dns'}},
        'all_ports_nodeport': {'args': {'namespace': NS, 'name': 'web-np', 'port': 'http'}},
        'endpoints_object': {'args': {'namespace': NS, 'name': 'web-np', 'endpoints_source': 'endpoints'}},
        'node_selector': {'args': {'namespace': NS, 'name': 'web-np', 'node_selector': 'kubernetes.io/hostname=kwok-node-1'}},
        'context_option': {'args': {'namespace': NS, 'name': 'web', 'port': 'http', 'kubeconfig': str(two_contexts), 'context': context}},
        'token': {'args': {'namespace': NS, 'name': 'web-np', 'host': server, 'api_key': scenario['reader'], 'ca_cert': ca},
                  'environment': no_kubeconfig},
        'token_from_env': {'args': {'namespace': NS, 'name': 'web-np'},
                           'environment': dict(no_kubeconfig, K8S_AUTH_HOST=server, K8S_AUTH_API_KEY=scenario['reader'], K8S_AUTH_SSL_CA_CERT=ca)},
        'token_without_nodes': {'args': {'namespace': NS, 'name': 'web-np', 'host': server, 'api_key': scenario['ns_reader'], 'ca_cert': ca,
                                         'include_nodes': False}, 'environment': no_kubeconfig},
        # failures
        'missing_service': {'args': {'namespace': NS, 'name': 'ghost'}},
        'missing_namespace': {'args': {'namespace': 'ghost-ns', 'name': 'web'}},
        'missing_port': {'args': {'namespace': NS, 'name': 'web', 'port': 'grpc'}},
        'missing_port_number': {'args': {'namespace': NS, 'name': 'web', 'port': 8080}},
        'ambiguous_number': {'args': {'namespace': NS, 'name': 'dns', 'port': 53}},
        'unresolved_target': {'args': {'namespace': NS, 'name': 'idle'}},
        'nodes_forbidden': {'args': {'namespace': NS, 'name': 'web-np', 'host': server, 'api_key': scenario['ns_reader'], 'ca_cert': ca},
                            'environment': no_kubeconfig},
        'bad_token': {'args': {'namespace': NS, 'name': 'web-np', 'host': server, 'api_key': 'not-a-token', 'ca_cert': ca},
                      'environment': no_kubeconfig},
        'unreachable': {'args': {'namespace': NS, 'name': 'web', 'host': 'https://127.0.0.1:%d' % closed_loopback_port(), 'timeout': 5}},
        'untrusted_ca': {'args': {'namespace': NS, 'name': 'web-np', 'host': server, 'api_key': scenario['reader'], 'ca_cert': certifi.where()},
                         'environment': no_kubeconfig},
        'no_connection': {'args': {'namespace': NS, 'name': 'web'}, 'environment': dict(no_kubeconfig, HOME=str(tmp))},
        'absent_kubeconfig_env': {'args': {'namespace': NS, 'name': 'web'}, 'environment': {'K8S_AUTH_KUBECONFIG': '', 'KUBECONFIG': str(tmp / 'absent')}},
        'bad_kubeconfig': {'args': {'namespace': NS, 'name': 'web', 'kubeconfig': str(tmp / 'nope')}},
        'unknown_context': {'args': {'namespace': NS, 'name': 'web', 'context': 'ghost'}},
        'missing_library': {'args': {'namespace': NS, 'name': 'web'}, 'vars': {'ansible_python_interpreter': str(tmp / 'bare' / 'bin' / 'python')}},
    }


# The rules the filter renders from each result: case -> policy ports
RENDERED = {
    'clusterip_by_name': {'port': 80},
    'nodeport_single_port': {'port': 80},
    'loadbalancer': {'port': 443},
    'daemonset': {'port': 9100},
    'pods_differ': {'port': 80},
    'endpoints_object': {'port': 80},
}


@pytest.fixture(scope='module')
def results(k8s_cluster, scenario, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Run every case in one playbook; return the registered results (and the rendered rules under ``rules``)."""
    ensure_collection_root()
    work = tmp_path_factory.mktemp('k8s-inputs')
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', str(work / 'bare')], check=True, timeout=120)
    all_cases = cases(k8s_cluster, scenario, work)
    out = work / 'results.json'
    tasks = []
    for case, keywords in all_cases.items():
        task = {'name': case, MODULE: keywords['args'], 'register': 'r_' + case, 'ignore_errors': True}
        for key in ('check_mode', 'environment', 'vars'):
            if key in keywords:
                task[key] = keywords[key]
        tasks.append(task)
    for case, ports in RENDERED.items():
        policy = dict(POLICY, provider={'name': all_cases[case]['args']['name'], 'namespace': NS}, **ports)
        tasks.append({
            'name': 'render %s' % case,
            'ansible.builtin.set_fact': {
                'rules_%s' % case: "{{ %s | microseg.segmentation.sw_k8s_rules(r_%s.render_input.service, endpoints=r_%s.render_input.endpoints, "
                                   "nodes=r_%s.render_input.nodes) }}" % (json.dumps(policy), case, case, case),
            },
        })
    collected = '{' + ', '.join("'%s': r_%s" % (case, case) for case in all_cases) + '}'
    rules = '{' + ', '.join("'%s': rules_%s" % (case, case) for case in RENDERED) + '}'
    tasks.append({'name': 'write results', 'ansible.builtin.copy': {
        'dest': str(out), 'content': '{{ %s | combine({"rules": %s}) | to_json }}' % (collected, rules), 'mode': '0600'}})
    playbook = work / 'playbook.yml'
    playbook.write_text(json.dumps([{'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}], indent=1), encoding='utf-8')
    env = playbook_env(dict(os.environ), k8s_cluster.env)
    # The interpreter comes from the inventory, so that a task can set another (an extra var could not be overridden).
    inventory = work / 'hosts.ini'
    inventory.write_text('localhost ansible_connection=local ansible_python_interpreter=%s\n' % sys.executable, encoding='utf-8')
    returncode, output = run_playbook(['-i', str(inventory), str(playbook)], env, work / 'playbook.log')
    if returncode != 0 or not out.is_file():
        pytest.fail('ansible-playbook failed (rc=%d):\n%s' % (returncode, tail(output)))
    for token in (scenario['reader'], scenario['ns_reader']):
        assert token not in output
    data = json.loads(out.read_text(encoding='utf-8'))
    for token in (scenario['reader'], scenario['ns_reader']):
        assert token not in json.dumps(data)
    return data


def ok(result: dict) -> dict:
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] is False
    return result['service']


def failed(result: dict) -> str:
    assert result.get('failed') is True, result
    assert result['changed'] is False
    return result['msg']


def by_hand(k8s_cluster, name: str, endpoints: str = 'endpointslices') -> tuple[dict, dict, dict]:
    """The Service, its endpoints and the Nodes, read with kubectl."""
    kubectl = k8s_cluster.kubectl
    obj = kubectl_json(kubectl, k8s_cluster.kubeconfig, '-n', NS, 'get', 'service', name)
    if endpoints == 'endpointslices':
        eps = kubectl_json(kubectl, k8s_cluster.kubeconfig, '-n', NS, 'get', 'endpointslices', '-l', 'kubernetes.io/service-name=%s' % name)
    else:
        eps = kubectl_json(kubectl, k8s_cluster.kubeconfig, '-n', NS, 'get', 'endpoints', name)
    nodes = kubectl_json(kubectl, k8s_cluster.kubeconfig, 'get', 'nodes')
    return obj, eps, nodes


# ---------------------------------------------------------------------------------------------
# values


def test_clusterip_service_by_port_name(results, scenario, k8s_cluster):
    service = ok(results['clusterip_by_name'])
    obj, dummy, dummy = by_hand(k8s_cluster, 'web')
    assert service['name'] == 'web' and service['namespace'] == NS and service['type'] == 'ClusterIP'
    assert service['cluster_ip'] == obj['spec']['clusterIP'] and service['cluster_ip'].startswith('10.96.')
    assert service['cluster_ips'] == [service['cluster_ip']]
    assert service['dns_name'] == 'web.inputs.svc.cluster.local'
    assert service['selector'] == {'app': 'web'}
    assert (service['port_name'], service['port'], service['target_port'], service['target_port_name'], service['node_port'], service['protocol']) == (
        'http', 80, 8080, 'http', None, 'TCP')
    assert service['endpoint_addresses'] == scenario['addresses']['web']
    assert all(address.startswith('10.244.') for address in service['endpoint_addresses'])
    assert service['ports'] == [
        {'name': 'http', 'port': 80, 'target_port': 'http', 'node_port': None, 'protocol': 'TCP'},
        {'name': 'https', 'port': 443, 'target_port': 8443, 'node_port': None, 'protocol': 'TCP'},
    ]
    assert service['load_balancer_ips'] == [] and service['load_balancer_hostnames'] == []
    result = results['clusterip_by_name']
    assert [node['name'] for node in result['nodes']] == ['kwok-node-0', 'kwok-node-1', 'kwok-node-2']
    assert [node['internal_addresses'] for node in result['nodes']] == [[ip] for ip in NODE_IPS]
    assert [node['pod_cidrs'] for node in result['nodes']] == [['10.244.%d.0/24' % index] for index in range(3)]
    assert result['node_networks'] == ['%s/32' % ip for ip in NODE_IPS]


def test_port_by_number_and_check_mode(results):
    service = ok(results['clusterip_by_number'])
    assert (service['port_name'], service['port'], service['target_port'], service['target_port_name']) == ('https', 443, 8443, None)
    assert ok(results['check_mode']) == ok(results['clusterip_by_name'])


def test_nodeport_service_with_its_only_port(results, scenario):
    service = ok(results['nodeport_single_port'])
    assert service['type'] == 'NodePort'
    assert (service['port'], service['target_port'], service['node_port']) == (80, 8080, NODE_PORT)
    assert service['endpoint_addresses'] == scenario['addresses']['web-np']


def test_loadbalancer_service_addresses(results):
    service = ok(results['loadbalancer'])
    assert service['type'] == 'LoadBalancer'
    assert service['load_balancer_ips'] == [LB_IP]
    assert service['load_balancer_hostnames'] == [LB_HOST]
    assert service['port'] == 443 and service['target_port'] == 8443 and service['target_port_name'] == 'https'
    assert 30000 <= service['node_port'] <= 32767


def test_daemonset_service_has_a_pod_on_every_node(results, scenario):
    service = ok(results['daemonset'])
    assert (service['port'], service['target_port']) == (9100, 9100)
    assert len(service['endpoint_addresses']) == 3
    assert sorted(address.rsplit('.', 2)[1] for address in service['endpoint_addresses']) == ['0', '1', '2']  # 10.244.N.x: one per node


def test_named_target_port_is_a_list_when_pods_differ(results, scenario):
    service = ok(results['pods_differ'])
    assert service['target_port'] == [8080, 8081]
    assert service['endpoint_addresses'] == scenario['addresses']['mixed']


def test_udp_port_and_endpoints_object(results):
    service = ok(results['udp_port'])
    assert (service['port_name'], service['port'], service['target_port'], service['protocol']) == ('dns', 53, 5353, 'UDP')
    assert service['endpoint_addresses'] == []
    result = results['endpoints_object']
    assert ok(result)['target_port'] == 8080
    assert result['render_input']['endpoints']['kind'] == 'Endpoints'
    assert isinstance(results['nodeport_single_port']['render_input']['endpoints'], list)
    assert results['nodeport_single_port']['render_input']['endpoints'][0]['kind'] == 'EndpointSlice'


def test_every_port_of_the_service(results, scenario):
    """Without port, a multi-port Service selects none and gives every port, target ports resolved."""
    result = results['all_ports']
    service = ok(result)
    assert (service['port_name'], service['port'], service['target_port'], service['node_port'], service['protocol']) == (None, None, None, None, None)
    addresses = scenario['addresses']['web']
    assert result['ports'] == [
        {'name': 'http', 'protocol': 'TCP', 'port': 80, 'target_port': 8080, 'target_port_name': 'http', 'node_port': None,
         'endpoint_addresses': addresses},
        {'name': 'https', 'protocol': 'TCP', 'port': 443, 'target_port': 8443, 'target_port_name': None, 'node_port': None,
         'endpoint_addresses': addresses},
    ]
    # the same list when a port is selected, which keeps its single-port values
    assert results['clusterip_by_name']['ports'] == result['ports']
    dns = results['all_ports_two_protocols']
    assert ok(dns)['port'] is None
    assert [(p['name'], p['protocol'], p['port'], p['target_port']) for p in dns['ports']] == [('dns', 'UDP', 53, 5353), ('dns-tcp', 'TCP', 53, 5353)]
    node_port = results['all_ports_nodeport']
    assert ok(node_port)['node_port'] == NODE_PORT
    assert node_port['ports'] == [{'name': 'http', 'protocol': 'TCP', 'port': 80, 'target_port': 8080, 'target_port_name': 'http',
                                   'node_port': NODE_PORT, 'endpoint_addresses': scenario['addresses']['web-np']}]


def test_node_selector(results):
    result = results['node_selector']
    ok(result)
    assert [node['name'] for node in result['nodes']] == ['kwok-node-1']
    assert result['node_networks'] == ['192.0.2.11/32']


def test_connection_by_context_and_by_token(results):
    assert ok(results['context_option']) == ok(results['clusterip_by_name'])
    for case in ('token', 'token_from_env'):
        assert ok(results[case]) == ok(results['nodeport_single_port'])
        assert results[case]['node_networks'] == ['%s/32' % ip for ip in NODE_IPS]
    result = results['token_without_nodes']
    assert ok(result)['target_port'] == 8080
    assert result['nodes'] == [] and result['node_networks'] == [] and result['render_input']['nodes'] == []


# ---------------------------------------------------------------------------------------------
# errors


def test_missing_service_fails_naming_it(results):
    assert failed(results['missing_service']) == 'service inputs/ghost not found'
    assert failed(results['missing_namespace']) == 'service ghost-ns/web not found'


def test_missing_port_fails_listing_the_ports(results):
    assert failed(results['missing_port']) == "port: service inputs/web has no port named 'grpc'; its ports: http (80/TCP), https (443/TCP)"
    assert failed(results['missing_port_number']) == 'port: service inputs/web has no port 8080; its ports: http (80/TCP), https (443/TCP)'
    assert failed(results['ambiguous_number']) == 'port: service inputs/dns has 2 ports that match port 53, set protocol to one of TCP, UDP'


def test_unresolved_named_target_port_fails(results):
    assert failed(results['unresolved_target']) == (
        "service.spec.ports[0].targetPort: port http (80/TCP) of service inputs/idle has the named target port 'http', which cannot be resolved to a number: "
        "the service has no endpoints (no running pod matches its selector)")


def test_permission_and_authentication_errors(results, k8s_cluster):
    result = results['nodes_forbidden']
    msg = failed(result)
    assert result['status'] == 403
    assert msg.startswith('GET %s/api/v1/nodes failed with status 403: nodes is forbidden' % k8s_cluster.env['K8S_API_SERVER'])
    assert msg.endswith('(set include_nodes: false to read the service without the nodes)')
    result = results['bad_token']
    assert result['status'] == 401 and 'failed with status 401: Unauthorized' in failed(result)


def test_connection_errors(results):
    msg = failed(results['unreachable'])
    assert msg.startswith('cannot reach the Kubernetes API at https://127.0.0.1:'), msg
    assert 'Connection refused' in msg
    msg = failed(results['untrusted_ca'])
    assert msg.startswith('cannot reach the Kubernetes API at https://127.0.0.1:') and 'CERTIFICATE_VERIFY_FAILED' in msg, msg
    assert msg.endswith("(set ca_cert to the CA that signed the API server's certificate)")
    assert failed(results['no_connection']).startswith('no Kubernetes API to talk to: set kubeconfig')
    msg = failed(results['absent_kubeconfig_env'])
    assert msg.startswith('the environment variable KUBECONFIG names no existing file: /') and msg.endswith('/absent'), msg
    assert failed(results['bad_kubeconfig']).startswith('kubeconfig: file ') and failed(results['bad_kubeconfig']).endswith('/nope does not exist')
    msg = failed(results['unknown_context'])
    assert msg.startswith('kubeconfig ') and 'ghost' in msg, msg


def test_missing_library(results):
    msg = failed(results['missing_library'])
    assert 'Failed to import the required Python library (kubernetes)' in msg, msg


# ---------------------------------------------------------------------------------------------
# the Secure Workload renderer fed from live data


@pytest.mark.parametrize('case', sorted(RENDERED))
def test_rules_from_live_data_match_the_objects_read_by_hand(results, k8s_cluster, case):
    name = {'clusterip_by_name': 'web', 'nodeport_single_port': 'web-np', 'loadbalancer': 'web-lb', 'daemonset': 'agent',
            'pods_differ': 'mixed', 'endpoints_object': 'web-np'}[case]
    obj, eps, nodes = by_hand(k8s_cluster, name, 'endpoints' if case == 'endpoints_object' else 'endpointslices')
    policy = dict(POLICY, provider={'name': name, 'namespace': NS}, **RENDERED[case])
    expected = render_k8s_rules(policy, obj, endpoints=eps, nodes=nodes)
    assert results['rules'][case] == expected
    assert expected


def test_rendered_nodeport_rules_hold_the_live_values(results, scenario):
    rules = results['rules']['nodeport_single_port']
    service = results['nodeport_single_port']['service']
    summary = [(rule['consumer']['label'], rule['provider']['label'], rule['port'], rule['provider']['addresses']) for rule in rules]
    assert summary == [
        ('consumers', 'nodes', NODE_PORT, NODE_IPS),
        ('consumer pods', 'cluster IP', 80, [service['cluster_ip']]),
        ('nodes', 'provider pods', 8080, scenario['addresses']['web-np']),
        ('consumers', 'provider pods', 8080, scenario['addresses']['web-np']),
    ]
    lb_rules = results['rules']['loadbalancer']
    assert ('consumers', 'load balancer', 443, [LB_IP, LB_HOST]) in [
        (rule['consumer']['label'], rule['provider']['label'], rule['port'], rule['provider']['addresses']) for rule in lb_rules]
    mixed = results['rules']['pods_differ']
    assert sorted(rule['port'] for rule in mixed if rule['provider']['label'] == 'provider pods') == [8080, 8081]
