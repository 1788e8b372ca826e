# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's AWX credential types (playbooks/awx/credential_types/*.yml) and the tests' own
rendering of their injectors as AWX does it for a job, shared by tests/unit/test_awx_credential_types.py
and tests/integration/test_awx_runner.py.

What AWX does with a custom credential type when a job starts, and what ``render_injectors`` does:

- the template namespace holds the credential's inputs: an empty input is left out (so it renders as
  an empty string, and is false in ``{% if %}``), a boolean input that was never set is ``False``;
- every ``file`` injector ``template.<name>`` is rendered into a new file of ``<private data dir>/env``
  (mode 0600) and its path becomes ``tower.filename.<name>``;
- every ``env`` injector is rendered (sandboxed Jinja) into the job's environment, except the names
  AWX reserves for itself.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from types import SimpleNamespace

import yaml
from jinja2 import StrictUndefined, meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFINITIONS_DIR = REPO_ROOT / 'playbooks' / 'awx' / 'credential_types'

# The environment variables AWX never sets from a credential type (it sets them itself), and the
# prefix it refuses because the variable would change Ansible's configuration.
AWX_ENV_RESERVED = frozenset((
    'VIRTUAL_ENV', 'PATH', 'PYTHONPATH', 'JOB_ID', 'INVENTORY_ID', 'INVENTORY_SOURCE_ID', 'INVENTORY_UPDATE_ID',
    'AD_HOC_COMMAND_ID', 'REST_API_URL', 'REST_API_TOKEN', 'MAX_EVENT_RES', 'CALLBACK_QUEUE', 'CALLBACK_CONNECTION',
    'CACHE', 'JOB_CALLBACK_DEBUG', 'INVENTORY_HOSTVARS', 'AWX_HOST', 'PROJECT_REVISION', 'SUPERVISOR_CONFIG_PATH',
))
AWX_ENV_REFUSED_PREFIX = 'ANSIBLE_'
FIELD_TYPES = ('string', 'boolean')


def load_definitions() -> dict[str, dict]:
    """Every credential type definition, by file name (prisma, nsxt, secure_workload)."""
    return dict((path.stem, yaml.safe_load(path.read_text(encoding='utf-8'))) for path in sorted(DEFINITIONS_DIR.glob('*.yml')))


def fields(definition: dict) -> dict[str, dict]:
    """The input fields of a definition, by id."""
    return dict((field['id'], field) for field in definition['inputs']['fields'])


def secret_fields(definition: dict) -> list[str]:
    return [field_id for field_id, field in fields(definition).items() if field.get('secret') is True]


def file_labels(definition: dict) -> list[str]:
    """The names of the file injectors (``template.<name>``), as ``tower.filename.<name>`` gives them."""
    return [label.split('.', 1)[1] for label in (definition['injectors'].get('file') or {})]


def templates(definition: dict) -> dict[str, str]:
    """Every injector template, by where it is (``env.NAME``, ``file.template.NAME``)."""
    found = {}
    for kind in ('env', 'file'):
        for key, template in (definition['injectors'].get(kind) or {}).items():
            found['%s.%s' % (kind, key)] = template
    return found


def referenced_names(template: str) -> tuple[set[str], set[str]]:
    """The top-level names a template reads, and the ``tower.filename.<name>`` it reads."""
    parsed = ImmutableSandboxedEnvironment().parse(template)
    filenames = set()
    for node in parsed.find_all(nodes.Getattr):
        inner = node.node
        if isinstance(inner, nodes.Getattr) and inner.attr == 'filename' and isinstance(inner.node, nodes.Name) and inner.node.name == 'tower':
            filenames.add(node.attr)
    return meta.find_undeclared_variables(parsed), filenames


def validate_as_awx_saves(definition: dict) -> None:
    """Render every injector with every input set (AWX's check when a credential type is saved):
    a template naming anything else than an input or ``tower.filename.<a file injector>`` raises."""
    environment = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    namespace = dict((field_id, True if field['type'] == 'boolean' else 'EXAMPLE') for field_id, field in fields(definition).items())
    namespace['tower'] = SimpleNamespace(filename=SimpleNamespace(**dict((name, '/tmp/example') for name in file_labels(definition))))
    for template in templates(definition).values():
        environment.from_string(template).render(**namespace)


def render_injectors(definition: dict, inputs: dict, private_data_dir: Path) -> tuple[dict[str, str], dict[str, Path]]:
    """The environment a job gets from a credential with these inputs, and the files written for it
    (by file injector name) under ``private_data_dir/env``."""
    unknown = set(inputs) - set(fields(definition))
    if unknown:
        raise ValueError('not inputs of %s: %s' % (definition['name'], sorted(unknown)))
    namespace = {}
    for field_id, field in fields(definition).items():
        value = inputs.get(field_id)
        if field['type'] == 'boolean':
            namespace[field_id] = bool(value)
        elif value:
            namespace[field_id] = value
    sandbox = ImmutableSandboxedEnvironment()
    env_dir = private_data_dir / 'env'
    env_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for label, template in (definition['injectors'].get('file') or {}).items():
        handle, path = tempfile.mkstemp(dir=str(env_dir))
        with os.fdopen(handle, 'w', encoding='utf-8') as stream:
            stream.write(sandbox.from_string(template).render(**namespace))
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        written[label.split('.', 1)[1]] = Path(path)
    tower = SimpleNamespace(filename=SimpleNamespace(**dict((name, str(path)) for name, path in written.items())))
    env = {}
    for name, template in (definition['injectors'].get('env') or {}).items():
        if name in AWX_ENV_RESERVED:
            continue
        env[name] = sandbox.from_string(template).render(tower=tower, **namespace)
    return env, written
