"""secure_workload_orchestrator registered against the Kubernetes test control plane.

A read-only service account of the real test cluster (tests/k8s) gets a token (TokenRequest); the
module registers the cluster with it in the lab's Secure Workload, whose connector then reads the
cluster's nodes, pods and services with that token, as the product's connector does, and imports
the workloads into the inventory. A wrong token is refused by the API server (401).
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

MANIFEST = """
apiVersion: v1
kind: Namespace
metadata: {name: csw}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: csw-reader, namespace: csw}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: csw-reader}
rules:
  - apiGroups: [""]
    resources: [pods, services, namespaces, nodes, endpoints]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: csw-reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: csw-reader}
subjects: [{kind: ServiceAccount, name: csw-reader, namespace: csw}]
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db, environment: production}}
    spec:
      containers: [{name: db, image: registry.invalid/db:1, ports: [{containerPort: 27017}]}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec:
  selector: {app: db}
  ports: [{port: 27017, targetPort: 27017}]
"""

PLAYBOOK = """
- name: Register the test cluster in Secure Workload
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/microseg.segmentation.secure_workload:
      ca_path: "{{ lookup('ansible.builtin.env', 'SW_CA_PATH') }}"
  tasks:
    - name: Register the cluster with the service-account token
      microseg.segmentation.secure_workload_orchestrator:
        root_scope: Default
        name: "{{ cluster_name }}"
        description: Kubernetes test control plane
        hosts_list: [{host_name: 127.0.0.1, port_number: "{{ api_port | int }}"}]
        auth_token: "{{ token }}"
        ca_certificate: "{{ lookup('ansible.builtin.file', ca_file) }}"
      register: registered

    - name: Show the result
      ansible.builtin.debug:
        var: registered
"""


def kubectl(cluster, *args: str, stdin: str | None = None) -> str:
    env = dict(os.environ, KUBECONFIG=str(cluster.kubeconfig))
    proc = subprocess.run([str(cluster.kubectl), *args], input=stdin, capture_output=True, text=True, timeout=120, env=env, check=False)
    assert proc.returncode == 0, '%s: %s' % (' '.join(args), proc.stdout + proc.stderr)
    return proc.stdout


def run_playbook(lab, tmp_path: Path, variables: dict) -> tuple[int, str]:
    playbook = tmp_path / 'register.yml'
    playbook.write_text(PLAYBOOK)
    extra = tmp_path / 'vars.json'
    extra.write_text(json.dumps(variables))
    proc = subprocess.run([str(Path(sys.executable).parent / 'ansible-playbook'), str(playbook), '-e', '@%s' % extra],
                          capture_output=True, text=True, timeout=300, env=lab.playbook_env(), cwd=tmp_path, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def lab_sync(lab) -> dict:
    context = ssl.create_default_context(cafile=lab.env['SW_CA_PATH'])
    with urllib.request.urlopen(lab.env['SW_URL'].rstrip('/') + '/_lab/secure_workload/orchestrators', timeout=30, context=context) as answer:
        status = json.loads(answer.read())
    with urllib.request.urlopen(lab.env['SW_URL'].rstrip('/') + '/_lab/secure_workload/inventory', timeout=30, context=context) as answer:
        inventory = json.loads(answer.read())
    return {'status': {s['name']: s for s in status}, 'inventory': inventory}


@pytest.fixture(scope='module')
def registered_cluster(k8s_cluster):
    kubectl(k8s_cluster, 'apply', '-f', '-', stdin=MANIFEST)
    kubectl(k8s_cluster, '-n', 'shop', 'rollout', 'status', 'deployment/db', '--timeout=60s')
    token = kubectl(k8s_cluster, '-n', 'csw', 'create', 'token', 'csw-reader', '--duration=1h').strip()
    port = int(k8s_cluster.info['server'].rsplit(':', 1)[1])
    return {'token': token, 'api_port': port, 'ca_file': k8s_cluster.info['ca']}


def test_orchestrator_registration_reads_the_cluster_with_the_token(lab, k8s_cluster, registered_cluster, tmp_path: Path) -> None:
    variables = dict(registered_cluster, cluster_name='test-cluster')
    rc, output = run_playbook(lab, tmp_path, variables)
    assert rc == 0, output
    assert 'changed=1' in output, output
    assert registered_cluster['token'] not in output, 'the token must never be shown'

    sync = lab_sync(lab)
    status = sync['status']['test-cluster']
    assert status['ok'], status
    assert sorted(status['nodes']) == sorted(k8s_cluster.info['nodes'])
    assert 'shop/db' in status['services']
    assert status['pods'] >= 2
    pods = [i for i in sync['inventory'] if i.get('user_orchestrator_system/cluster_name') == 'test-cluster'
            and i.get('user_orchestrator_system/workload_type') == 'pod' and i.get('user_orchestrator_system/namespace') == 'shop'
            and i.get('user_orchestrator_app') == 'db']
    assert len(pods) == 2, sync['inventory']
    assert all(p['user_orchestrator_environment'] == 'production' and p['user_orchestrator_system/pod_name'].startswith('db-')
               for p in pods)

    rc, output = run_playbook(lab, tmp_path, variables)
    assert rc == 0, output
    assert 'changed=0' in output, 'the second registration must change nothing:\n' + output


def test_a_wrong_token_is_refused_by_the_api_server(lab, registered_cluster, tmp_path: Path) -> None:
    variables = dict(registered_cluster, cluster_name='wrong-token', token='not-a-valid-token')
    rc, output = run_playbook(lab, tmp_path, variables)
    assert rc == 0, output
    status = lab_sync(lab)['status']['wrong-token']
    assert not status['ok']
    assert 'answered 401' in status['error'], status
