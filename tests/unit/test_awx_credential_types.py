# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX credential types of playbooks/awx/credential_types, the playbook that registers them
(playbooks/awx_credential_types.yml), and the scenario playbooks' use of the connection variables.

- Each definition is in AWX's format, its injectors read only its own inputs (and the files it
  injects), AWX would accept it when saved, and every variable it injects is one that the product's
  modules read, secret inputs where the module hides the option.
- Rendered as AWX renders it for a job, each way to authenticate gives the modules exactly what they
  need: empty inputs give empty variables (which the modules take as not set), injected files are
  private.
- The registration playbook hands each definition to awx.awx.credential_type unchanged: AWX's
  ``{{ input }}`` templates are data, not rendered by Ansible (checked with a stand-in awx.awx
  collection that records what its module receives: no controller is involved).
- No scenario playbook needs a connection variable from the inventory.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment

from awx_injectors import (
    AWX_ENV_REFUSED_PREFIX,
    AWX_ENV_RESERVED,
    DEFINITIONS_DIR,
    FIELD_TYPES,
    REPO_ROOT,
    fields,
    file_labels,
    load_definitions,
    referenced_names,
    render_injectors,
    secret_fields,
    templates,
    validate_as_awx_saves,
)

from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.common import nsxt_argument_spec
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.common import prisma_argument_spec
from ansible_collections.microseg.segmentation.plugins.module_utils._secure_workload.common import sw_argument_spec

DEFINITIONS = load_definitions()
SPECS = {'prisma': prisma_argument_spec(), 'nsxt': nsxt_argument_spec(), 'secure_workload': sw_argument_spec()}
PRODUCTS = sorted(SPECS)
PLAYBOOK = REPO_ROOT / 'playbooks' / 'awx_credential_types.yml'
VENV_BIN = Path(sys.executable).parent
FIELD_ID = re.compile(r'^[a-z][a-z0-9_]*$')
ENV_NAME = re.compile(r'^[A-Z_][A-Z0-9_]*$')
# "{{ token }}": an env injector that passes one input as it is
PLAIN_INPUT = re.compile(r'^\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}$')


def env_options(product: str) -> dict[str, tuple[str, dict]]:
    """The environment variables the product's modules read, each with its option and the option's spec."""
    found = {}
    for option, spec in SPECS[product].items():
        fallback = spec.get('fallback')
        if fallback:
            for name in fallback[1]:
                found[name] = (option, spec)
    return found


def test_there_is_one_definition_per_product() -> None:
    assert sorted(DEFINITIONS) == PRODUCTS
    names = [definition['name'] for definition in DEFINITIONS.values()]
    assert len(set(names)) == len(names), names


@pytest.mark.parametrize('product', PRODUCTS)
def test_a_definition_is_in_the_awx_format(product: str) -> None:
    definition = DEFINITIONS[product]
    assert set(definition) == {'name', 'description', 'kind', 'inputs', 'injectors'}
    assert definition['kind'] == 'cloud'  # the kinds AWX allows for a custom type: cloud, net
    assert set(definition['inputs']) <= {'fields', 'required'}
    ids = [field['id'] for field in definition['inputs']['fields']]
    assert len(set(ids)) == len(ids), ids
    for field in definition['inputs']['fields']:
        assert set(field) <= {'id', 'label', 'type', 'secret', 'multiline', 'help_text'}, field
        assert FIELD_ID.match(field['id']) and field['label'] and field['type'] in FIELD_TYPES, field
        assert isinstance(field.get('secret', False), bool) and isinstance(field.get('multiline', False), bool), field
        assert not (field['type'] == 'boolean' and (field.get('secret') or field.get('multiline'))), field
    assert set(definition['inputs'].get('required', [])) <= set(ids)
    assert set(definition['injectors']) <= {'env', 'file', 'extra_vars'}
    for label in definition['injectors'].get('file') or {}:
        assert re.match(r'^template\.[a-z_]+$', label), label
    for name in definition['injectors'].get('env') or {}:
        assert ENV_NAME.match(name), name
        assert name not in AWX_ENV_RESERVED and not name.startswith(AWX_ENV_REFUSED_PREFIX), name


@pytest.mark.parametrize('product', PRODUCTS)
def test_injectors_read_only_the_definitions_inputs_and_files(product: str) -> None:
    definition = DEFINITIONS[product]
    read = set()
    for where, template in templates(definition).items():
        names, filenames = referenced_names(template)
        assert names <= set(fields(definition)) | {'tower'}, (where, names)
        assert filenames <= set(file_labels(definition)), (where, filenames)
        read |= names - {'tower'}
    # every input reaches the job, and AWX would save the definition
    assert read == set(fields(definition)), set(fields(definition)) - read
    validate_as_awx_saves(definition)


@pytest.mark.parametrize('product', PRODUCTS)
def test_no_input_is_named_as_a_jinja_global(product: str) -> None:
    # AWX renders with Jinja's globals: an empty input called `namespace` would inject "<class 'jinja2.utils.Namespace'>"
    shadowed = set(fields(DEFINITIONS[product])) & set(ImmutableSandboxedEnvironment().globals)
    assert shadowed == set(), shadowed


@pytest.mark.parametrize('product', PRODUCTS)
def test_every_injected_variable_is_one_the_modules_read(product: str) -> None:
    definition = DEFINITIONS[product]
    read_by_modules = env_options(product)
    for name, template in definition['injectors']['env'].items():
        assert name in read_by_modules, '%s injects %s, which no %s module reads' % (product, name, product)
        option, spec = read_by_modules[name]
        plain = PLAIN_INPUT.match(template)
        if plain and spec.get('no_log'):
            assert plain.group(1) in secret_fields(definition), '%s (option %s) is hidden by the modules: its input must be secret' % (name, option)
    # every option the modules hide has a secret input
    hidden = set(option for option, spec in SPECS[product].items() if spec.get('no_log'))
    injected = set(read_by_modules[name][0] for name in definition['injectors']['env'])
    assert hidden <= injected, hidden - injected


def test_keys_and_credential_files_are_secret() -> None:
    assert {'token', 'app_credential'} <= set(secret_fields(DEFINITIONS['prisma']))
    assert {'password', 'client_key'} <= set(secret_fields(DEFINITIONS['nsxt']))
    assert {'api_secret'} <= set(secret_fields(DEFINITIONS['secure_workload']))


def test_prisma_token(tmp_path: Path) -> None:
    env, written = render_injectors(DEFINITIONS['prisma'], {'api_url': 'https://api.example.com', 'namespace_path': '/acme', 'token': 'tok'}, tmp_path)
    assert env == {'PRISMA_API': 'https://api.example.com', 'PRISMA_NAMESPACE': '/acme', 'PRISMA_TOKEN': 'tok',
                   'PRISMA_APP_CREDENTIAL': '', 'PRISMA_CA_PATH': ''}
    # AWX writes every file injector, empty ones too: only the variables decide what is used
    assert sorted(written) == ['app_credential', 'ca_bundle']


def test_prisma_app_credential_is_a_private_file(tmp_path: Path) -> None:
    content = json.dumps({'APIURL': 'https://api.example.com', 'namespace': '/acme', 'certificateKey': 'a2V5'})
    env, written = render_injectors(DEFINITIONS['prisma'], {'app_credential': content, 'ca_bundle': 'PEM'}, tmp_path)
    assert env['PRISMA_APP_CREDENTIAL'] == str(written['app_credential'])
    assert env['PRISMA_CA_PATH'] == str(written['ca_bundle'])
    assert env['PRISMA_API'] == env['PRISMA_NAMESPACE'] == env['PRISMA_TOKEN'] == ''
    assert written['app_credential'].read_text(encoding='utf-8') == content
    assert written['app_credential'].parent == tmp_path / 'env'
    assert stat.S_IMODE(os.stat(written['app_credential']).st_mode) == 0o600


@pytest.mark.parametrize('session, expected', [(None, 'false'), (False, 'false'), (True, 'true')])
def test_nsxt_basic_and_session(tmp_path: Path, session, expected: str) -> None:
    inputs = {'host': 'nsx.example.com', 'username': 'admin', 'password': 'pw'}
    if session is not None:
        inputs['session'] = session
    env, dummy = render_injectors(DEFINITIONS['nsxt'], inputs, tmp_path)
    assert env == {'NSXT_HOST': 'nsx.example.com', 'NSXT_USERNAME': 'admin', 'NSXT_PASSWORD': 'pw', 'NSXT_SESSION': expected,
                   'NSXT_CLIENT_CERT': '', 'NSXT_CLIENT_KEY': '', 'NSXT_CA_PATH': ''}


def test_nsxt_client_certificate(tmp_path: Path) -> None:
    env, written = render_injectors(DEFINITIONS['nsxt'], {'host': 'nsx.example.com', 'client_cert': 'CERT', 'client_key': 'KEY'}, tmp_path)
    assert env['NSXT_CLIENT_CERT'] == str(written['client_cert']) and written['client_cert'].read_text(encoding='utf-8') == 'CERT'
    assert env['NSXT_CLIENT_KEY'] == str(written['client_key']) and written['client_key'].read_text(encoding='utf-8') == 'KEY'
    assert env['NSXT_USERNAME'] == env['NSXT_PASSWORD'] == '' and env['NSXT_SESSION'] == 'false'
    for path in written.values():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    # a certificate whose PEM holds its key: no key file named
    env, dummy = render_injectors(DEFINITIONS['nsxt'], {'host': 'nsx.example.com', 'client_cert': 'CERT AND KEY'}, tmp_path)
    assert env['NSXT_CLIENT_CERT'] and env['NSXT_CLIENT_KEY'] == ''


def test_secure_workload(tmp_path: Path) -> None:
    env, written = render_injectors(DEFINITIONS['secure_workload'], {'url': 'https://sw', 'api_key': 'k', 'api_secret': 's', 'ca_bundle': 'PEM'}, tmp_path)
    assert env == {'SW_URL': 'https://sw', 'SW_API_KEY': 'k', 'SW_API_SECRET': 's', 'SW_CA_PATH': str(written['ca_bundle'])}


def test_an_input_the_definition_lacks_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match='not inputs'):
        render_injectors(DEFINITIONS['secure_workload'], {'password': 'x'}, tmp_path)


def playbook_env(collections_path: str) -> dict[str, str]:
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path, ANSIBLE_NOCOLOR='1', ANSIBLE_LOCALHOST_WARNING='0',
               ANSIBLE_INVENTORY_UNPARSED_WARNING='0')
    env['PATH'] = os.pathsep.join([str(VENV_BIN), env.get('PATH', os.defpath)])
    return env


def test_the_registration_playbook_passes_the_syntax_check() -> None:
    result = subprocess.run([str(VENV_BIN / 'ansible-playbook'), '--syntax-check', str(PLAYBOOK)], cwd=str(REPO_ROOT),
                            env=playbook_env(str(REPO_ROOT / 'build')), capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


STAND_IN_MODULE = '''#!/usr/bin/python
# A stand-in for awx.awx.credential_type: it records the options it receives.
import json
import os

from ansible.module_utils.basic import AnsibleModule

module = AnsibleModule(argument_spec=dict(name=dict(), description=dict(), kind=dict(), inputs=dict(type='dict'),
                                          injectors=dict(type='dict'), state=dict()))
with open(os.environ['AWX_STAND_IN_RECORD'], 'a') as stream:
    stream.write(json.dumps(module.params) + '\\n')
module.exit_json(changed=True)
'''


def test_the_registration_playbook_hands_each_definition_over_unchanged(tmp_path: Path) -> None:
    collection = tmp_path / 'ansible_collections' / 'awx' / 'awx'
    (collection / 'plugins' / 'modules').mkdir(parents=True)
    (collection / 'galaxy.yml').write_text('namespace: awx\nname: awx\nversion: 0.0.1\nreadme: README.md\nauthors: [test]\n', encoding='utf-8')
    (collection / 'plugins' / 'modules' / 'credential_type.py').write_text(STAND_IN_MODULE, encoding='utf-8')
    record = tmp_path / 'received.jsonl'
    env = playbook_env(os.pathsep.join([str(tmp_path), str(REPO_ROOT / 'build')]))
    env['AWX_STAND_IN_RECORD'] = str(record)
    # run as a user of the installed collection runs it: by its name
    result = subprocess.run([str(VENV_BIN / 'ansible-playbook'), 'microseg.segmentation.awx_credential_types'], cwd=str(tmp_path),
                            env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    received = [json.loads(line) for line in record.read_text(encoding='utf-8').splitlines()]
    expected = [dict(definition, state='present') for dummy, definition in sorted(DEFINITIONS.items())]
    assert sorted(received, key=lambda item: item['name']) == sorted(expected, key=lambda item: item['name'])


# ------------------------------------------------------------------ scenario playbooks

CONNECTION_VARIABLES = ('prisma_api_url', 'prisma_token', 'prisma_app_credential', 'prisma_ca_path', 'prisma_root_namespace',
                        'nsxt_host', 'nsxt_username', 'nsxt_password', 'nsxt_client_cert', 'nsxt_client_key', 'nsxt_session',
                        'nsxt_ca_path', 'sw_url', 'sw_api_key', 'sw_api_secret', 'sw_ca_path')
WITHOUT_DEFAULT = re.compile(r'\b(%s)\b(?!\s*\|\s*default\()' % '|'.join(CONNECTION_VARIABLES))
PLAYBOOKS = sorted(path.relative_to(REPO_ROOT) for path in (REPO_ROOT / 'playbooks').glob('**/*.yml') if DEFINITIONS_DIR not in path.parents)


@pytest.mark.parametrize('playbook', [str(path) for path in PLAYBOOKS])
def test_no_playbook_needs_a_connection_variable_from_the_inventory(playbook: str) -> None:
    """Each connection variable is read with a default (the modules then read the environment)."""
    needing = []
    for number, line in enumerate((REPO_ROOT / playbook).read_text(encoding='utf-8').splitlines(), 1):
        if line.lstrip().startswith('#'):
            continue
        code = re.sub(r"'[^']*'", "''", line)  # a variable's name in a message is no use of it
        needing.extend('%d: %s' % (number, line.strip()) for dummy in WITHOUT_DEFAULT.finditer(code))
    assert needing == [], 'read without a default: %s' % needing
