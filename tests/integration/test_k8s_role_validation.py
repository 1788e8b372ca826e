"""Bad input to prisma_enforcer_kubernetes fails in validation, before the cluster is contacted.

The role is pointed at a kubeconfig whose API server is a loopback port where nothing listens: if
the role tried to reach the cluster (a k8s or k8s_info task), the run would fail with a connection
error from kubernetes.core. Each case must instead fail with the role's own message (or argument
validation's) naming the variable, and no kubernetes.core task may have run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from playbook_tools import ansible_env, closed_loopback_port

VENV_BIN = Path(sys.executable).parent

GOOD = {
    'prisma_enforcer_kubernetes_api': 'https://api.example.invalid',
    'prisma_enforcer_kubernetes_namespace': '/acme/prod/k8s',
    'prisma_enforcer_kubernetes_app_credential': '{"name": "enforcerd"}',
}

CASES = [
    ('unknown cluster type',
     dict(GOOD, prisma_enforcer_kubernetes_cluster_type='openshift3'),
     [r'prisma_enforcer_kubernetes_cluster_type', r'openshift3', r'custom, eks, gke, aks, ocp4, tkgi']),
    ('invalid proxy-protocol subnet',
     dict(GOOD, prisma_enforcer_kubernetes_proxy_protocol_subnets=['10.0.0.0/8', '10.1.300.0/24']),
     [r"prisma_enforcer_kubernetes_proxy_protocol_subnets\[1\]: '10.1.300.0/24' is not a valid CIDR"]),
    ('subnet without a prefix length',
     dict(GOOD, prisma_enforcer_kubernetes_proxy_protocol_subnets=['192.168.1.10']),
     [r"prisma_enforcer_kubernetes_proxy_protocol_subnets\[0\]: '192.168.1.10' is not a valid CIDR: the prefix length is missing"]),
    ('missing credential when installing',
     {k: v for k, v in GOOD.items() if k != 'prisma_enforcer_kubernetes_app_credential'},
     [r'prisma_enforcer_kubernetes_app_credential is required when installing']),
    ('missing API and namespace',
     {'prisma_enforcer_kubernetes_app_credential': 'x'},
     [r'prisma_enforcer_kubernetes_api is required', r'prisma_enforcer_kubernetes_namespace is required']),
    ('API that is not a URL',
     dict(GOOD, prisma_enforcer_kubernetes_api='api.example.invalid'),
     [r'prisma_enforcer_kubernetes_api must be an http\(s\) URL']),
    ('unknown log level',
     dict(GOOD, prisma_enforcer_kubernetes_log_level='verbose'),
     [r'prisma_enforcer_kubernetes_log_level', r'verbose', r'info, debug, warn, error, trace']),
    ('wrong type',
     dict(GOOD, prisma_enforcer_kubernetes_ipv6='sometimes'),
     [r'prisma_enforcer_kubernetes_ipv6']),
    ('extra variable the role owns',
     dict(GOOD, prisma_enforcer_kubernetes_extra_env={'ENFORCERD_API': 'x', 'BAD-NAME': 'y'}),
     [r'ENFORCERD_API is set by the role', r'BAD-NAME is not a variable name']),
    ('system namespace the role would delete',
     dict(GOOD, prisma_enforcer_kubernetes_kube_namespace='kube-system', prisma_enforcer_kubernetes_state='absent'),
     [r'kube_namespace kube-system belongs to Kubernetes']),
    ('Kubernetes names',
     dict(GOOD, prisma_enforcer_kubernetes_kube_namespace='Aporeto', prisma_enforcer_kubernetes_secret_name='creds_1'),
     [r'prisma_enforcer_kubernetes_kube_namespace must be a DNS label', r'not a Kubernetes object name: creds_1']),
    ('clustertype given as a tag',
     dict(GOOD, prisma_enforcer_kubernetes_tags={'clustertype': 'eks'}),
     [r'clustertype comes from prisma_enforcer_kubernetes_cluster_type']),
    # A list given as one comma-separated string: argument validation converts it for its own check only,
    # so the role must refuse it by name, not with a Python type name.
    ('subnets as a comma string',
     dict(GOOD, prisma_enforcer_kubernetes_proxy_protocol_subnets='10.0.0.0/8,192.168.0.0/16'),
     [r"prisma_enforcer_kubernetes_proxy_protocol_subnets must be a list \(a YAML list such as \[a, b\], or one '- item' per line\), "
      r"got a string \('10\.0\.0\.0/8,192\.168\.0\.0/16'\): write each entry as an item of the list"]),
    ('other lists and dicts as strings',
     dict(GOOD, prisma_enforcer_kubernetes_extra_args='--a=1,--b=2', prisma_enforcer_kubernetes_image_pull_secrets='pull-1,pull-2',
          prisma_enforcer_kubernetes_tolerations='operator=Exists', prisma_enforcer_kubernetes_tags='clustertype=eks',
          prisma_enforcer_kubernetes_node_selector='role=worker'),
     [r'prisma_enforcer_kubernetes_extra_args must be a list', r'prisma_enforcer_kubernetes_image_pull_secrets must be a list',
      r'prisma_enforcer_kubernetes_tolerations must be a list', r'prisma_enforcer_kubernetes_tags must be a dict',
      r'prisma_enforcer_kubernetes_node_selector must be a dict']),
    ('toleration written as a string',
     dict(GOOD, prisma_enforcer_kubernetes_tolerations=['operator=Exists']),
     [r'prisma_enforcer_kubernetes_tolerations\[0\] must be a dict']),
    # Rules the host role had alone before the two roles shared one check.
    ('extra variable outside the enforcer names',
     dict(GOOD, prisma_enforcer_kubernetes_extra_env={'PATH': '/tmp'}),
     [r'prisma_enforcer_kubernetes_extra_env: PATH is not an ENFORCERD_\* or CNS_AGENT_\* name']),
    ('line break in an argument',
     dict(GOOD, prisma_enforcer_kubernetes_extra_args=['--x=1\n--y=2']),
     [r'prisma_enforcer_kubernetes_extra_args must not contain line breaks']),
    ('line break in a tag and an extra variable',
     dict(GOOD, prisma_enforcer_kubernetes_tags={'site': 'east\nwest'}, prisma_enforcer_kubernetes_extra_env={'ENFORCERD_X': 'a\rb'}),
     [r'prisma_enforcer_kubernetes_extra_env and prisma_enforcer_kubernetes_tags must not contain line breaks']),
]


def write_kubeconfig(path: Path, port: int) -> None:
    """A kubeconfig whose API server is https://127.0.0.1:<port>, where nothing listens."""
    path.write_text(json.dumps({
        'apiVersion': 'v1',
        'kind': 'Config',
        'clusters': [{'name': 'closed', 'cluster': {'server': 'https://127.0.0.1:%d' % port, 'insecure-skip-tls-verify': True}}],
        'users': [{'name': 'nobody', 'user': {'token': 'not-a-token'}}],
        'contexts': [{'name': 'closed', 'context': {'cluster': 'closed', 'user': 'nobody'}}],
        'current-context': 'closed',
    }))


def test_closed_port_gives_a_connection_error(tmp_path: Path) -> None:
    """Control: with good input the role does reach for the API and fails to connect."""
    proc, output = run_role(tmp_path, GOOD)
    assert proc.returncode == 2, output
    assert re.search(r'Connection refused|Max retries exceeded|Failed to get client|NewConnectionError', output), output
    assert re.search(r'TASK \[[^]]*: Apply the namespace\]', output), output


@pytest.mark.parametrize('case', CASES, ids=[c[0] for c in CASES])
def test_bad_input_fails_before_the_cluster_is_contacted(case, tmp_path: Path) -> None:
    dummy, variables, expected = case
    proc, output = run_role(tmp_path, variables)
    assert proc.returncode == 2, output
    assert 'failed=1' in output, output
    assert not re.search(r'Connection refused|Max retries exceeded|NewConnectionError|Failed to get client', output), output
    # No task of the role that talks to the cluster ran (they all apply, read or delete objects).
    assert not re.search(r'TASK \[[^]]*: (Apply|Look up|Delete) ', output), output
    for pattern in expected:
        assert re.search(pattern, output), 'no %r in:\n%s' % (pattern, output)


def run_role(tmp_path: Path, variables: dict) -> tuple[subprocess.CompletedProcess, str]:
    kubeconfig = tmp_path / 'kubeconfig'
    write_kubeconfig(kubeconfig, closed_loopback_port())
    playbook = tmp_path / 'play.yml'
    playbook.write_text(json.dumps([{'hosts': 'localhost', 'gather_facts': False,
                                     'roles': [{'role': 'microseg.segmentation.prisma_enforcer_kubernetes'}]}]))
    extra = tmp_path / 'vars.json'
    extra.write_text(json.dumps(dict(variables, prisma_enforcer_kubernetes_kubeconfig=str(kubeconfig),
                                     prisma_enforcer_kubernetes_wait_timeout=5)))
    env = ansible_env(dict(os.environ))
    for name in [n for n in env if n.startswith('K8S_AUTH_')] + ['KUBECONFIG']:
        env.pop(name, None)
    proc = subprocess.run([str(VENV_BIN / 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
                           '-e', 'ansible_python_interpreter=%s' % sys.executable, str(playbook), '-e', '@%s' % extra],
                          capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path, check=False)
    return proc, proc.stdout + proc.stderr
