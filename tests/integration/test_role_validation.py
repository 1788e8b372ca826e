"""Bad input to the host roles fails in argument validation, before the host is touched.

The target host is an SSH host on a loopback port where nothing listens: if a role tried to
reach it (facts, a module, a file), the run would end UNREACHABLE. Each case must instead fail
with the role's own message naming the variable, on a task of the role that runs on the
controller.
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

PRISMA_GOOD = {
    'prisma_enforcer_api': 'https://api.example.invalid',
    'prisma_enforcer_namespace': '/acme/prod',
    'prisma_enforcer_app_credential': '{"name": "enforcerd"}',
    'prisma_enforcer_repo_url': 'file:///srv/repo',
    'prisma_enforcer_repo_signing_key': 'file:///srv/repo/key.asc',
}
SW_GOOD = {
    'secure_workload_agent_activation_key': 'a' * 40,
    'secure_workload_agent_repo_url': 'file:///srv/repo',
    'secure_workload_agent_repo_signing_key': 'file:///srv/repo/key.asc',
}

CASES = [
    ('prisma: invalid proxy-protocol subnet', 'prisma_enforcer',
     dict(PRISMA_GOOD, prisma_enforcer_proxy_protocol_subnets=['10.0.0.0/8', '10.1.300.0/24']),
     [r"prisma_enforcer_proxy_protocol_subnets\[1\]: '10.1.300.0/24' is not a valid CIDR"]),
    ('prisma: subnet without a prefix length', 'prisma_enforcer',
     dict(PRISMA_GOOD, prisma_enforcer_proxy_protocol_subnets=['192.168.1.10']),
     [r"prisma_enforcer_proxy_protocol_subnets\[0\]: '192.168.1.10' is not a valid CIDR: the prefix length is missing"]),
    ('prisma: unknown log level', 'prisma_enforcer',
     dict(PRISMA_GOOD, prisma_enforcer_log_level='verbose'),
     [r'prisma_enforcer_log_level', r'verbose', r'info, debug, warn, error, trace']),
    ('prisma: missing credentials when installing', 'prisma_enforcer',
     {k: v for k, v in PRISMA_GOOD.items() if k != 'prisma_enforcer_app_credential'},
     [r'prisma_enforcer_app_credential is required when installing']),
    ('prisma: missing API and namespace', 'prisma_enforcer',
     {'prisma_enforcer_app_credential': 'x'},
     [r'prisma_enforcer_api is required', r'prisma_enforcer_namespace is required']),
    ('prisma: wrong type', 'prisma_enforcer',
     dict(PRISMA_GOOD, prisma_enforcer_ipv6='sometimes'),
     [r'prisma_enforcer_ipv6']),
    ('prisma: extra variable the role owns', 'prisma_enforcer',
     dict(PRISMA_GOOD, prisma_enforcer_extra_env={'ENFORCERD_API': 'x', 'PATH': '/tmp'}),
     [r'ENFORCERD_API is set by the role', r'PATH is not an ENFORCERD_\* or CNS_AGENT_\* name']),
    ('secure workload: missing activation key when installing', 'secure_workload_agent',
     {k: v for k, v in SW_GOOD.items() if k != 'secure_workload_agent_activation_key'},
     [r'secure_workload_agent_activation_key is required when installing']),
    ('secure workload: bad proxy', 'secure_workload_agent',
     dict(SW_GOOD, secure_workload_agent_https_proxy='proxy:3128'),
     [r'secure_workload_agent_https_proxy must be a URL']),
    ('secure workload: unknown agent type', 'secure_workload_agent',
     dict(SW_GOOD, secure_workload_agent_type='deep'),
     [r'secure_workload_agent_type', r'enforcer, visibility']),
    ('prisma: line break in an option', 'prisma_enforcer',
     dict(PRISMA_GOOD, prisma_enforcer_extra_options=['--x=1\nENFORCERD_API=evil']),
     [r'must not contain line breaks']),
    ('secure workload: line break in the activation key', 'secure_workload_agent',
     dict(SW_GOOD, secure_workload_agent_activation_key='abc\nHTTPS_PROXY=http://evil:1'),
     [r'must not contain line breaks']),
    ('secure workload: API without its credentials', 'secure_workload_agent',
     dict(SW_GOOD, secure_workload_agent_api_url='https://sw.example.invalid'),
     [r'secure_workload_agent_api_key, secure_workload_agent_api_secret, secure_workload_agent_root_scope']),
    # A list given as one comma-separated string: argument validation converts it for its own check only,
    # so the role must refuse it by name, not with a Python type name.
    ('prisma: subnets as a comma string', 'prisma_enforcer',
     dict(PRISMA_GOOD, prisma_enforcer_proxy_protocol_subnets='10.0.0.0/8,192.168.0.0/16'),
     [r"prisma_enforcer_proxy_protocol_subnets must be a list \(a YAML list such as \[a, b\], or one '- item' per line\), "
      r"got a string \('10\.0\.0\.0/8,192\.168\.0\.0/16'\): write each entry as an item of the list"]),
    ('prisma: options and chains as strings, tags as a string', 'prisma_enforcer',
     dict(PRISMA_GOOD, prisma_enforcer_extra_options='--a=1,--b=2', prisma_enforcer_own_chains='PRISMA-*,TRI-*',
          prisma_enforcer_tags='site=east'),
     [r'prisma_enforcer_extra_options must be a list', r'prisma_enforcer_tags must be a dict', r'prisma_enforcer_own_chains must be a list']),
    ('secure workload: own chains as a comma string', 'secure_workload_agent',
     dict(SW_GOOD, secure_workload_agent_own_chains='TA_*,TA-*'),
     [r'secure_workload_agent_own_chains must be a list \(a YAML list such as \[a, b\], not a comma-separated string\)']),
    ('secure workload: settings and profile options as strings', 'secure_workload_agent',
     dict(SW_GOOD, secure_workload_agent_extra_config='LOG_LEVEL=debug', secure_workload_agent_profile_options='enforcement_enabled=true'),
     [r'secure_workload_agent_extra_config must be a dict', r'secure_workload_agent_profile_options must be a dict']),
    # Rules the Kubernetes role had alone before the two roles shared one check.
    ('prisma: extra variable that is not a variable name', 'prisma_enforcer',
     dict(PRISMA_GOOD, prisma_enforcer_extra_env={'ENFORCERD-LOG': 'x'}),
     [r'prisma_enforcer_extra_env: ENFORCERD-LOG is not a variable name']),
    ('prisma: line break in the API', 'prisma_enforcer',
     dict(PRISMA_GOOD, prisma_enforcer_api='https://api.example.invalid/\nENFORCERD_LOG_LEVEL=trace'),
     [r'prisma_enforcer_api must not contain line breaks']),
]


@pytest.mark.parametrize('case', CASES, ids=[c[0] for c in CASES])
def test_bad_input_fails_before_the_host_is_touched(case, tmp_path: Path) -> None:
    dummy, role, variables, expected = case
    port = closed_loopback_port()
    inventory = tmp_path / 'hosts.ini'
    inventory.write_text('target ansible_host=127.0.0.1 ansible_port=%d ansible_connection=ssh ansible_user=nobody\n' % port)
    playbook = tmp_path / 'play.yml'
    playbook.write_text(json.dumps([{'hosts': 'target', 'gather_facts': False,
                                     'roles': [{'role': 'microseg.segmentation.%s' % role}]}]))
    extra = tmp_path / 'vars.json'
    extra.write_text(json.dumps(variables))
    env = ansible_env(dict(os.environ), {'ANSIBLE_SSH_RETRIES': '0', 'ANSIBLE_TIMEOUT': '5'})
    proc = subprocess.run([str(VENV_BIN / 'ansible-playbook'), '-i', str(inventory), str(playbook), '-e', '@%s' % extra],
                          capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output
    assert 'UNREACHABLE' not in output and 'unreachable=0' in output, output
    assert 'failed=1' in output, output
    for pattern in expected:
        assert re.search(pattern, output), 'no %r in:\n%s' % (pattern, output)
