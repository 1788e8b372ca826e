# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The playbooks that read their Kubernetes inputs from a live cluster, against the lab and the
Kubernetes test control plane: each runs twice, must succeed both times, change something the
first time and nothing the second time.

The cluster objects they read are made here with the kubernetes client: the web server of the
namespace guide (the Hipster Shop's frontend-external, NodePort with two ports, a named target
port), the ClusterIP service of the TCP service scenario, and the db service of the Secure Workload
guide (NodePort). After the runs, the objects the playbooks declared are read back from the lab and
compared with the cluster's values; each Prisma playbook ends with its flow check, which fails the
run when a flow is not as its guide intends. The TCP service variant also installs the enforcer
(role prisma_enforcer_kubernetes) with IPv6 on, read back from the DaemonSet.
"""

from __future__ import annotations

import re

import pytest
import requests
from playbook_tools import parse_recap, run_playbook
from k8s_helpers import (
    api_client,
    apply_objects,
    deployment,
    ensure_collection_root,
    playbook_env,
    service,
    tail,
    wait_for_endpoints,
)

INVENTORY = 'inventories/lab'
NODE_NETWORKS = ['192.0.2.10/32', '192.0.2.11/32', '192.0.2.12/32']


@pytest.fixture(scope='module')
def cluster_objects(k8s_cluster) -> dict:
    """The Services the playbooks read, with running pods behind them; returns the cluster IP of my-service."""
    api = api_client(k8s_cluster.kubeconfig)
    try:
        apply_objects(api, 'hipster-shop', [
            deployment('hipster-shop', 'frontend', {'app': 'frontend'}, {'http': 8080, 'https': 8443}),
            service('hipster-shop', 'frontend-external', {'app': 'frontend'},
                    [{'name': 'http', 'port': 80, 'targetPort': 'http', 'nodePort': 30080},
                     {'name': 'https', 'port': 443, 'targetPort': 8443, 'nodePort': 30443}], 'NodePort'),
        ])
        apply_objects(api, 'shop', [
            deployment('shop', 'my-app', {'app': 'my-app'}, {'http': 80}),
            service('shop', 'my-service', {'app': 'my-app'}, [{'name': 'http', 'port': 9376, 'targetPort': 'http'}]),
        ])
        apply_objects(api, 'prod', [
            deployment('prod', 'db', {'app': 'db'}, {'mongo': 27017}),
            service('prod', 'db', {'app': 'db'}, [{'name': 'mongo', 'port': 27017, 'targetPort': 'mongo', 'nodePort': 30017}], 'NodePort'),
        ])
        for namespace, name in (('hipster-shop', 'frontend-external'), ('shop', 'my-service'), ('prod', 'db')):
            wait_for_endpoints(api, namespace, {name: 2})
        from kubernetes import client as k8s
        cluster_ip = k8s.CoreV1Api(api).read_namespaced_service('my-service', 'shop').spec.cluster_ip
    finally:
        api.close()
    return {'my_service_ip': cluster_ip}


def run_twice(lab, k8s_cluster, playbook: str, tmp_path, extra_env: dict[str, str] | None = None) -> None:
    ensure_collection_root()
    env = playbook_env(lab.playbook_env(), k8s_cluster.env)
    env.update(extra_env or {})
    first_rc, first_output = run_playbook(['-i', INVENTORY, playbook], env, tmp_path / 'run1.log')
    if first_rc != 0:
        pytest.fail('first run of %s failed: rc=%d\n%s' % (playbook, first_rc, tail(first_output)), pytrace=False)
    first = parse_recap(first_output)
    assert first, 'no PLAY RECAP in the first run:\n%s' % tail(first_output)
    for host, counters in first.items():
        assert counters.get('failed', 0) == 0 and counters.get('unreachable', 0) == 0, (host, counters)
        assert counters.get('changed', 0) > 0, 'first run changed nothing on %s: %s' % (host, counters)
    second_rc, second_output = run_playbook(['-i', INVENTORY, playbook], env, tmp_path / 'run2.log')
    if second_rc != 0:
        pytest.fail('second run of %s failed: rc=%d\n%s' % (playbook, second_rc, tail(second_output)), pytrace=False)
    second = parse_recap(second_output)
    assert set(second) == set(first), (first, second)
    not_idempotent = {host: counters for host, counters in second.items() if counters.get('changed', 0) != 0}
    if not_idempotent:
        changed = [line for line in second_output.splitlines() if line.startswith('changed:') or line.startswith('TASK [')]
        pytest.fail('second run of %s is not idempotent: %s\n%s' % (playbook, not_idempotent, '\n'.join(changed)), pytrace=False)


class Prisma:
    """Reads from the lab's Prisma API (what the playbooks declared)."""

    def __init__(self, lab) -> None:
        self.base = lab.env['PRISMA_API'].rstrip('/')
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = lab.env['PRISMA_CA_PATH']
        self.session.headers['Authorization'] = 'Bearer %s' % lab.env['PRISMA_TOKEN']

    def one(self, namespace: str, path: str, name: str) -> dict:
        response = self.session.get(self.base + path, headers={'X-Namespace': namespace}, params={'q': 'name == "%s"' % name}, timeout=30)
        assert response.status_code == 200, response.text
        found = [obj for obj in response.json() if obj.get('name') == name]
        assert len(found) == 1, (namespace, path, name, response.json())
        return found[0]


def flow_rows(output: str, table: str) -> list[str]:
    """The rows of a flow table a debug task printed (``"<table>": [ "header", "row", ... ]``)."""
    lines = output.splitlines()
    start = next(index for index, line in enumerate(lines) if line.strip().startswith('"%s": [' % table))
    rows = []
    for line in lines[start + 2:]:
        if line.strip() == ']':
            break
        rows.append(line.strip().strip(',').strip('"'))
    return rows


def test_namespace_guide_from_the_cluster(lab, k8s_cluster, cluster_objects, tmp_path):
    del cluster_objects
    run_twice(lab, k8s_cluster, 'playbooks/namespace_guide_k8s.yml', tmp_path)
    prisma = Prisma(lab)
    cluster = '/acme/aws-dev/k8s'
    namespace = cluster + '/hipster-shop-live'
    assert prisma.one(cluster, '/namespaces', namespace)['defaultPUIncomingTrafficAction'] == 'Reject'
    assert sorted(prisma.one(namespace, '/externalnetworks', 'kubelet')['entries']) == NODE_NETWORKS
    pods = [['$identity=processingunit', '$namespace=%s' % namespace]]
    in_namespace = prisma.one(namespace, '/networkrulesetpolicies', 'allow-pods-in-namespace')
    assert in_namespace['incomingRules'][0]['object'] == pods and in_namespace['outgoingRules'][0]['object'] == pods
    web = prisma.one(namespace, '/networkrulesetpolicies', 'allow-web-server')
    assert web['subject'] == [['$identity=processingunit', 'app=frontend']]
    # every port of the Service: service, node and target port of http (80, 30080, named 8080) and https (443, 30443, 8443)
    assert sorted(web['incomingRules'][0]['protocolPorts']) == ['tcp/30080', 'tcp/30443', 'tcp/443', 'tcp/80', 'tcp/8080', 'tcp/8443']
    first = (tmp_path / 'run1.log').read_text(encoding='utf-8')
    second = (tmp_path / 'run2.log').read_text(encoding='utf-8')
    before = flow_rows(first, 'guide_flows_before.table')
    after = flow_rows(second, 'guide_flows_after.table')
    assert len(before) == len(after) == 23, (before, after)
    assert all(re.search(r'\sallow\s+allow ok\s', row) for row in before), before  # discovery mode: everything passes
    assert all(re.search(r'\s(allow|deny)\s+(allow|deny) ok\s', row) and 'MISMATCH' not in row for row in after), after
    denied = [row.split('  ')[0] for row in after if re.search(r'\sdeny\s+deny ok\s', row)]
    assert denied == ['pod to another Internet host', 'pod to another Internet name', 'Internet to the web pods on another port',
                      'Internet to a non-web pod', 'pod to a pod of another namespace', 'pod of another namespace to a pod'], denied
    web_rows = [row for row in after if row.startswith('Internet to the web pods on tcp/')]
    assert sorted(row.split()[6] for row in web_rows) == ['tcp/30080', 'tcp/30443', 'tcp/443', 'tcp/80', 'tcp/8080', 'tcp/8443']
    assert all(' allow ' in row for row in web_rows)
    assert 'guide_flows_before.table' not in second  # the second run finds the namespace enforced


def test_tcp_service_clusterip_from_the_cluster(lab, k8s_cluster, cluster_objects, tmp_path):
    run_twice(lab, k8s_cluster, 'playbooks/tcp_service_clusterip_k8s.yml', tmp_path,
              {'PRISMA_ENFORCER_APP_CREDENTIAL': str(lab.dir / 'prisma-appcred.json')})
    rows = flow_rows((tmp_path / 'run2.log').read_text(encoding='utf-8'), 'clusterip_flows.table')
    assert [row.split('  ')[0] for row in rows] == [
        'client to my-service at its ClusterIP', 'client to my-service at its name', 'client to my-service named',
        'client to the ClusterIP on another port', 'a pod no ruleset names to my-service',
        'client to server on the target port', 'client to server on another port', 'a pod no ruleset names to server', 'server to client']
    assert all(re.search(r'\s(allow|deny)\s+(allow|deny) ok\s', row) for row in rows), rows
    # through the service read from the console: the live cluster IP and DNS name, the namespace's default policy
    live = '/acme/k8s-clusterip-live'
    for row in rows[:3]:
        assert 'destination:%s/service my-service; source:%s/service dependency policy default' % (live, live) in row, row
    assert cluster_objects['my_service_ip'] in rows[0] and 'my-service.shop.svc.cluster.local' in rows[1], rows
    api = api_client(k8s_cluster.kubeconfig)
    try:
        from kubernetes import client as k8s
        daemonset = k8s.AppsV1Api(api).read_namespaced_daemon_set('enforcerd', 'aporeto')
    finally:
        api.close()
    env = {item.name: item.value for item in daemonset.spec.template.spec.containers[0].env}
    assert env['ENFORCERD_ENABLE_IPV6'] == 'true'
    assert env['ENFORCERD_NAMESPACE'] == '/acme/k8s-clusterip-live'
    tcp = Prisma(lab).one('/acme/k8s-clusterip-live', '/services', 'my-service')
    assert tcp['IPs'] == [cluster_objects['my_service_ip']]
    assert tcp['hosts'] == ['my-service.shop.svc.cluster.local']
    assert (tcp['exposedPort'], tcp['port'], tcp['type']) == (9376, 80, 'TCP')
    assert tcp['selectors'] == [['$identity=processingunit', 'app=my-app']]


def test_secure_workload_guide_from_the_cluster(lab, k8s_cluster, cluster_objects, tmp_path):
    del cluster_objects
    run_twice(lab, k8s_cluster, 'playbooks/secure_workload_k8s_service_live.yml', tmp_path)
    output = (tmp_path / 'run2.log').read_text(encoding='utf-8')
    assert 'through node port 30017 on every node' in output
    assert "target port 'mongo' (27017)" in output
