# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the tests that run against the Kubernetes test control plane (tests/k8s/):
objects made with the kubernetes client, bounded waits, and ansible-playbook runs."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.rest import ApiException
from playbook_tools import ansible_env

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = REPO_ROOT / 'build'
WAIT_TIMEOUT = 120


def api_client(kubeconfig: Path) -> k8s.ApiClient:
    configuration = k8s.Configuration()
    k8s_config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration, persist_config=False)
    return k8s.ApiClient(configuration)


def ensure_collection_root() -> None:
    link = BUILD_DIR / 'ansible_collections' / 'microseg' / 'segmentation'
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(REPO_ROOT, target_is_directory=True)


def create(call, *args, **kwargs):
    """Create an object; an object that already exists is kept (a second setup in the same cluster)."""
    try:
        return call(*args, **kwargs)
    except ApiException as exc:
        if exc.status != 409:
            raise
        return None


def container(name: str, ports: dict[str, int]) -> dict:
    return {'name': name, 'image': 'registry.invalid/%s:1' % name,
            'ports': [{'name': port_name, 'containerPort': number} for port_name, number in ports.items()]}


def deployment(namespace: str, name: str, labels: dict[str, str], ports: dict[str, int], replicas: int = 2) -> dict:
    return {
        'apiVersion': 'apps/v1', 'kind': 'Deployment',
        'metadata': {'name': name, 'namespace': namespace, 'labels': labels},
        'spec': {'replicas': replicas, 'selector': {'matchLabels': labels},
                 'template': {'metadata': {'labels': labels}, 'spec': {'containers': [container(name, ports)]}}},
    }


def daemonset(namespace: str, name: str, labels: dict[str, str], ports: dict[str, int]) -> dict:
    return {
        'apiVersion': 'apps/v1', 'kind': 'DaemonSet',
        'metadata': {'name': name, 'namespace': namespace, 'labels': labels},
        'spec': {'selector': {'matchLabels': labels},
                 'template': {'metadata': {'labels': labels}, 'spec': {'containers': [container(name, ports)]}}},
    }


def service(namespace: str, name: str, selector: dict[str, str] | None, ports: list[dict], service_type: str = 'ClusterIP',
            cluster_ip: str | None = None) -> dict:
    spec: dict = {'type': service_type, 'ports': ports}
    if selector is not None:
        spec['selector'] = selector
    if cluster_ip:
        spec['clusterIP'] = cluster_ip
    return {'apiVersion': 'v1', 'kind': 'Service', 'metadata': {'name': name, 'namespace': namespace}, 'spec': spec}


def apply_objects(api: k8s.ApiClient, namespace: str, objects: list[dict]) -> None:
    """Create the namespace and the Deployments, DaemonSets and Services."""
    core, apps = k8s.CoreV1Api(api), k8s.AppsV1Api(api)
    create(core.create_namespace, {'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': namespace}})
    for obj in objects:
        ns = obj['metadata']['namespace']
        if obj['kind'] == 'Deployment':
            create(apps.create_namespaced_deployment, ns, obj)
        elif obj['kind'] == 'DaemonSet':
            create(apps.create_namespaced_daemon_set, ns, obj)
        elif obj['kind'] == 'Service':
            create(core.create_namespaced_service, ns, obj)
        else:
            raise ValueError(obj['kind'])


def set_load_balancer(api: k8s.ApiClient, namespace: str, name: str, ingress: list[dict]) -> None:
    """What a cloud controller would write: the load balancer's addresses (documentation ranges, never contacted)."""
    k8s.CoreV1Api(api).patch_namespaced_service_status(name, namespace, {'status': {'loadBalancer': {'ingress': ingress}}})


def slice_addresses(api: k8s.ApiClient, namespace: str, service_name: str) -> list[str]:
    slices = k8s.DiscoveryV1Api(api).list_namespaced_endpoint_slice(namespace, label_selector='kubernetes.io/service-name=%s' % service_name)
    return sorted(address for item in slices.items for endpoint in item.endpoints or [] for address in endpoint.addresses or [])


def wait_for_endpoints(api: k8s.ApiClient, namespace: str, expected: dict[str, int], timeout: float = WAIT_TIMEOUT) -> dict[str, list[str]]:
    """Wait until each Service has the expected number of endpoint addresses; return them."""
    deadline = time.monotonic() + timeout
    while True:
        found = {name: slice_addresses(api, namespace, name) for name in expected}
        if all(len(found[name]) == count for name, count in expected.items()):
            return found
        if time.monotonic() > deadline:
            raise TimeoutError('endpoints of %s after %ss: %s (expected %s)' % (namespace, timeout, found, expected))
        time.sleep(0.5)


def service_account_token(api: k8s.ApiClient, namespace: str, name: str, cluster_rules: list[dict] | None = None,
                          namespace_rules: list[dict] | None = None) -> str:
    """A service account with the given RBAC rules, and a token of it (TokenRequest, 1 hour)."""
    core, rbac = k8s.CoreV1Api(api), k8s.RbacAuthorizationV1Api(api)
    create(core.create_namespaced_service_account, namespace, {'metadata': {'name': name}})
    subject = [{'kind': 'ServiceAccount', 'name': name, 'namespace': namespace}]
    role_name = 'microseg-%s-%s' % (namespace, name)
    if cluster_rules:
        create(rbac.create_cluster_role, {'metadata': {'name': role_name}, 'rules': cluster_rules})
        create(rbac.create_cluster_role_binding, {'metadata': {'name': role_name}, 'subjects': subject,
                                                  'roleRef': {'apiGroup': 'rbac.authorization.k8s.io', 'kind': 'ClusterRole', 'name': role_name}})
    if namespace_rules:
        create(rbac.create_namespaced_role, namespace, {'metadata': {'name': role_name}, 'rules': namespace_rules})
        create(rbac.create_namespaced_role_binding, namespace, {'metadata': {'name': role_name}, 'subjects': subject,
                                                                'roleRef': {'apiGroup': 'rbac.authorization.k8s.io', 'kind': 'Role', 'name': role_name}})
    request = core.create_namespaced_service_account_token(name, namespace, {'spec': {'expirationSeconds': 3600}})
    return request.status.token


def kubectl_json(kubectl: Path, kubeconfig: Path, *args: str) -> dict:
    """``kubectl ... -o json``, parsed: the objects as a user would read them by hand."""
    result = subprocess.run([str(kubectl), '--kubeconfig', str(kubeconfig), *args, '-o', 'json'], capture_output=True, text=True,
                            timeout=60, check=False)
    if result.returncode != 0:
        raise AssertionError('kubectl %s failed: %s' % (' '.join(args), result.stderr))
    return json.loads(result.stdout)


def playbook_env(base: dict[str, str], cluster_env: dict[str, str]) -> dict[str, str]:
    """ansible-playbook's environment: ``base`` (os.environ or Lab.playbook_env()), the cluster's settings, this checkout."""
    return ansible_env(base, cluster_env)


def tail(output: str, lines: int = 150) -> str:
    return '\n'.join(output.splitlines()[-lines:])
