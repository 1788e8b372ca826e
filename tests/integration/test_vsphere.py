# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vsphere_vm_membership against VMware's vCenter simulator (vcsim).

tests/vcsim/build.sh builds vcsim (once; cached in .cache/bin), tests/vcsim/start.sh starts it
on 127.0.0.1 in a temporary directory, and it is stopped at the end whatever happens. The
scenario is made here through the real APIs (pyvmomi for folders, VMs, guest customization and
power; the vAPI REST endpoint for tag categories, tags and their attachment). One generated
playbook then runs every selection case through ansible-playbook and writes the registered
results to a JSON file that the tests below check.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import certifi
import pytest
from playbook_tools import ansible_env
import requests

try:
    from pyVim.connect import Disconnect, SmartConnect
    from pyVmomi import vim

    HAS_PYVMOMI = True
except ImportError:
    HAS_PYVMOMI = False

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
BUILD_DIR = REPO_ROOT / 'build'
VCSIM_SCRIPTS = REPO_ROOT / 'tests' / 'vcsim'
VENV_BIN = Path(sys.executable).parent
MODULE = 'microseg.segmentation.vsphere_vm_membership'

BUILD_TIMEOUT = 1200  # a cold build downloads govmomi and compiles it: about 90 s on 2 cores
START_TIMEOUT = 180
PLAYBOOK_TIMEOUT = 600

# name -> folder (under /DC0/vm), addresses given by guest customization (one per NIC; none:
# never customized), power state after setup, tags (category:tag)
SCENARIO_VMS = {
    ('web', 'web-01'): (['10.20.1.11', '10.20.9.11'], 'poweredOn', ['app:web', 'env:prod']),
    ('web', 'web-02'): (['10.20.1.12'], 'poweredOn', ['app:web', 'env:staging']),
    ('web/frontend', 'web-03'): (['10.20.1.13'], 'poweredOn', ['app:web', 'env:prod', 'owner:team:blue']),
    ('web', 'shared-01'): (['10.20.1.21'], 'poweredOn', []),
    ('db', 'db-01'): (['10.20.2.11'], 'poweredOn', ['app:db', 'env:prod']),
    ('db', 'db-02'): ([], 'poweredOff', ['app:db']),
    ('db', 'shared-01'): ([], 'poweredOn', []),
}
SCENARIO_FOLDERS = ['web', 'web/frontend', 'db', 'empty']
SCENARIO_TAGS = {'app': ['web', 'db'], 'env': ['prod', 'staging'], 'owner': ['team:blue']}
TEMPLATE = ('web', 'web-template', ['app:web', 'env:prod'])
MODEL_VMS = ['DC0_C0_RP0_VM0', 'DC0_C0_RP0_VM1']  # what start.sh's model creates in /DC0/vm


def run_logged(args: list[str], log_path: Path, timeout: int, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run a command with its output in a file (a server it starts must not hold a pipe open)."""
    with open(log_path, 'w+', encoding='utf-8') as log:
        try:
            returncode = subprocess.run(args, cwd=str(REPO_ROOT), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                        timeout=timeout, env=env, check=False).returncode
        except subprocess.TimeoutExpired:
            returncode = -1
            log.write('\n%s timed out after %ds\n' % (args[0], timeout))
        log.seek(0)
        return returncode, log.read()


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding='utf-8').splitlines():
        if '=' in line and not line.startswith('#'):
            key, value = line.split('=', 1)
            values[key.strip()] = value.strip()
    return values


@pytest.fixture(scope='module')
def vcsim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Build vcsim if needed, start it on loopback, stop it at the end."""
    if not HAS_PYVMOMI:
        pytest.fail('pyvmomi is needed by vsphere_vm_membership and by this test: pip install pyvmomi (requirements.txt)')
    sim_dir = tmp_path_factory.mktemp('vcsim')
    returncode, output = run_logged([str(VCSIM_SCRIPTS / 'build.sh')], sim_dir.parent / 'vcsim-build.log', BUILD_TIMEOUT)
    if returncode != 0:
        pytest.fail('tests/vcsim/build.sh failed (rc=%d):\n%s' % (returncode, output))
    try:
        returncode, output = run_logged([str(VCSIM_SCRIPTS / 'start.sh'), str(sim_dir)], sim_dir.parent / 'vcsim-start.log', START_TIMEOUT)
        if returncode != 0:
            pytest.fail('tests/vcsim/start.sh failed (rc=%d):\n%s' % (returncode, output))
        env = read_env_file(sim_dir / 'vcsim.env')
        env['VCSIM_DIR'] = str(sim_dir)
        yield env
    finally:
        returncode, output = run_logged([str(VCSIM_SCRIPTS / 'stop.sh'), str(sim_dir)], sim_dir.parent / 'vcsim-stop.log', 60)
        if returncode != 0:
            sys.stderr.write('tests/vcsim/stop.sh failed (rc=%d):\n%s\n' % (returncode, output))


def wait_task(task, timeout: float = 60) -> object:
    """Wait for a vSphere task (pyVim.task.WaitForTask trips over vcsim's task names)."""
    deadline = time.monotonic() + timeout
    while task.info.state in ('queued', 'running'):
        if time.monotonic() > deadline:
            raise TimeoutError('task %s still %s after %ss' % (task, task.info.state, timeout))
        time.sleep(0.05)
    if task.info.state != 'success':
        raise RuntimeError('task %s failed: %s' % (task, task.info.error))
    return task.info.result


class VapiTagging:
    """Tag categories, tags and attachments through vcsim's vAPI REST endpoint (test setup only)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.base = 'https://%s:%s/rest/com/vmware/cis' % (env['VCENTER_HOSTNAME'], env['VCENTER_PORT'])
        self.verify = env['VCENTER_CA_PATH']
        self.http = requests.Session()
        resp = self.http.post(self.base + '/session', auth=(env['VCENTER_USERNAME'], env['VCENTER_PASSWORD']), verify=self.verify, timeout=30)
        resp.raise_for_status()
        self.http.headers['vmware-api-session-id'] = resp.json()['value']

    def post(self, path: str, body: dict | None = None, action: str | None = None) -> object:
        params = {'~action': action} if action else None
        resp = self.http.post(self.base + path, json=body, params=params, verify=self.verify, timeout=30)
        assert resp.status_code == 200, (path, resp.status_code, resp.text)
        return resp.json().get('value') if resp.content else None

    def create(self, tags: dict[str, list[str]]) -> dict[str, str]:
        ids = {}
        for category, names in tags.items():
            category_id = self.post('/tagging/category', {'create_spec': {
                'name': category, 'description': 'microseg test', 'cardinality': 'MULTIPLE', 'associable_types': ['VirtualMachine'],
            }})
            for name in names:
                ids['%s:%s' % (category, name)] = self.post('/tagging/tag', {'create_spec': {
                    'name': name, 'description': 'microseg test', 'category_id': category_id,
                }})
        return ids

    def attach(self, tag_id: str, vm_moid: str) -> None:
        self.post('/tagging/tag-association/id:%s' % tag_id, {'object_id': {'id': vm_moid, 'type': 'VirtualMachine'}}, action='attach')

    def close(self) -> None:
        self.http.delete(self.base + '/session', verify=self.verify, timeout=30)


def customization(addresses: list[str]) -> object:
    return vim.vm.customization.Specification(
        identity=vim.vm.customization.LinuxPrep(hostName=vim.vm.customization.VirtualMachineNameGenerator(), domain='microseg.test'),
        globalIPSettings=vim.vm.customization.GlobalIPSettings(),
        nicSettingMap=[
            vim.vm.customization.AdapterMapping(adapter=vim.vm.customization.IPSettings(
                ip=vim.vm.customization.FixedIp(ipAddress=address), subnetMask='255.255.255.0'))
            for address in addresses
        ],
    )


@pytest.fixture(scope='module')
def scenario(vcsim: dict[str, str]) -> dict[tuple[str, str], dict]:
    """Folders, VMs (with guest addresses and power states), a template, tag categories and tags.

    Returns what vCenter itself says of each VM: ``{(folder path, name): {moid, instance_uuid, bios_uuid}}``.
    """
    context = ssl.create_default_context(cafile=vcsim['VCENTER_CA_PATH'])
    si = SmartConnect(host=vcsim['VCENTER_HOSTNAME'], port=int(vcsim['VCENTER_PORT']), user=vcsim['VCENTER_USERNAME'],
                      pwd=vcsim['VCENTER_PASSWORD'], sslContext=context)
    tagging = VapiTagging(vcsim)
    try:
        content = si.RetrieveContent()
        datacenter = content.rootFolder.childEntity[0]
        assert datacenter.name == 'DC0'
        source = next(e for e in datacenter.vmFolder.childEntity if isinstance(e, vim.VirtualMachine) and e.name == MODEL_VMS[0])
        network = next(n for n in datacenter.network if n.name == 'VM Network')

        folders = {'': datacenter.vmFolder}
        for path in SCENARIO_FOLDERS:
            parent, dummy, name = path.rpartition('/')
            folders[path] = folders[parent].CreateFolder(name)

        tag_ids = tagging.create(SCENARIO_TAGS)
        found = {}

        def clone(folder: str, name: str, template: bool = False) -> object:
            spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(), powerOn=False, template=template)
            return wait_task(source.CloneVM_Task(folder=folders[folder], name=name, spec=spec))

        for (folder, name), (addresses, power_state, tags) in SCENARIO_VMS.items():
            vm = clone(folder, name)
            if len(addresses) > 1:  # the clone has one NIC; add one per extra address
                nics = [
                    vim.vm.device.VirtualDeviceSpec(operation='add', device=vim.vm.device.VirtualVmxnet3(
                        key=-1 - index, backing=vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(deviceName=network.name, network=network)))
                    for index in range(len(addresses) - 1)
                ]
                wait_task(vm.ReconfigVM_Task(vim.vm.ConfigSpec(deviceChange=nics)))
            if addresses:
                wait_task(vm.CustomizeVM_Task(spec=customization(addresses)))
            if power_state == 'poweredOn':
                wait_task(vm.PowerOnVM_Task())
            for tag in tags:
                tagging.attach(tag_ids[tag], vm._moId)
            found[('/DC0/vm/' + folder, name)] = {'moid': vm._moId, 'instance_uuid': vm.config.instanceUuid, 'bios_uuid': vm.config.uuid}

        folder, name, tags = TEMPLATE
        template = clone(folder, name, template=True)
        assert template.config.template
        for tag in tags:
            tagging.attach(tag_ids[tag], template._moId)

        # The guest addresses must be in place (customization runs at power-on).
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
        for vm in view.view:
            path = folder_path(vm, content.rootFolder)
            if (path, vm.name) in found:
                expected = SCENARIO_VMS[(path.removeprefix('/DC0/vm/'), vm.name)][0]
                reported = sorted(ip for nic in vm.guest.net or () for ip in nic.ipAddress or ())
                assert reported == sorted(expected), (vm.name, reported)
        view.Destroy()
        return found
    finally:
        tagging.close()
        Disconnect(si)


def folder_path(entity: object, root: object) -> str:
    """Inventory path of the folder that holds ``entity`` (the root folder is not part of it)."""
    parts = []
    parent = entity.parent
    while parent is not None and parent._moId != root._moId:
        parts.append(parent.name)
        parent = parent.parent
    return '/' + '/'.join(reversed(parts))


# case name -> (module arguments, check mode)
CASES = {
    'by_names': ({'names': ['web-01', 'db-01']}, False),
    'by_name_in_two_folders': ({'names': ['shared-01']}, False),
    'by_folder': ({'folder': '/DC0/vm/web'}, False),
    'by_folder_not_recursive': ({'folder': 'DC0/vm/web/', 'recursive': False}, False),
    'by_empty_folder': ({'folder': '/DC0/vm/empty'}, False),
    'by_tag': ({'tags': ['app:web']}, False),
    'by_tags_all': ({'tags': ['app:web', 'env:prod']}, False),
    'by_tags_any': ({'tags': ['env:staging', 'app:db'], 'tags_match': 'any'}, False),
    'by_tag_with_colon': ({'tags': ['owner:team:blue']}, False),
    'folder_tag_power': ({'folder': '/DC0/vm/web', 'tags': ['env:prod'], 'power_state': 'poweredOn'}, False),
    'names_and_tag': ({'names': ['web-01', 'web-02', 'db-01'], 'tags': ['env:prod']}, False),
    'powered_off': ({'folder': '/DC0/vm/db', 'power_state': 'poweredOff'}, False),
    'everything': ({}, False),
    'empty_names': ({'names': []}, False),
    'empty_tags': ({'tags': [], 'folder': '/DC0/vm/web'}, False),
    'check_mode': ({'tags': ['app:web', 'env:prod']}, True),
    'without_tags': ({'names': ['web-01'], 'include_tags': False}, False),
    'bad_folder': ({'folder': '/DC0/vm/nope'}, False),
    'host_folder': ({'folder': '/DC0/host'}, False),
    'bad_tag': ({'tags': ['app:nope']}, False),
    'bad_category': ({'tags': ['color:red']}, False),
    'malformed_tag': ({'tags': ['web']}, False),
    'missing_name': ({'names': ['web-01', 'ghost']}, False),
    'wrong_password': ({'names': ['web-01'], 'password': 'not-the-password'}, False),
    'untrusted_ca': ({'names': ['web-01'], 'ca_path': '@CERTIFI@'}, False),
}


@pytest.fixture(scope='module')
def results(vcsim: dict[str, str], scenario: dict, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Run every case in one playbook (connection settings from VMWARE_* variables); return the registered results."""
    del scenario
    link = BUILD_DIR / 'ansible_collections' / 'microseg' / 'segmentation'
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(REPO_ROOT, target_is_directory=True)
    work = tmp_path_factory.mktemp('vsphere-playbook')
    out = work / 'results.json'
    tasks = []
    for case, (args, check_mode) in CASES.items():
        # '@CERTIFI@': a CA bundle that did not sign vcsim's certificate
        args = dict((k, certifi.where() if v == '@CERTIFI@' else v) for k, v in args.items())
        tasks.append({'name': case, MODULE: args, 'register': 'r_' + case, 'ignore_errors': True, 'check_mode': check_mode})
    collected = '{' + ', '.join("'%s': r_%s" % (case, case) for case in CASES) + '}'
    tasks.append({'name': 'write results', 'ansible.builtin.copy': {'dest': str(out), 'content': '{{ %s | to_json }}' % collected, 'mode': '0600'}})
    playbook = work / 'playbook.yml'
    playbook.write_text(json.dumps([{'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}], indent=1), encoding='utf-8')

    env = dict(os.environ)
    for key in ('VMWARE_HOST', 'VMWARE_PORT', 'VMWARE_USER', 'VMWARE_PASSWORD', 'VMWARE_CA_PATH'):
        env[key] = vcsim[key]
    env = ansible_env(env)
    returncode, output = run_logged(
        [str(VENV_BIN / 'ansible-playbook'), '-i', 'localhost,', '-c', 'local', '-e', 'ansible_python_interpreter=%s' % sys.executable, str(playbook)],
        work / 'playbook.log', PLAYBOOK_TIMEOUT, env=env,
    )
    if returncode != 0 or not out.is_file():
        pytest.fail('ansible-playbook failed (rc=%d):\n%s' % (returncode, output))
    assert vcsim['VMWARE_PASSWORD'] not in output
    data = json.loads(out.read_text(encoding='utf-8'))
    assert vcsim['VMWARE_PASSWORD'] not in json.dumps(data)
    return data


def selected(result: dict) -> list[tuple[str, str]]:
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] is False
    return [(vm['folder'], vm['name']) for vm in result['vms']]


def addresses(*names: tuple[str, str]) -> list[str]:
    found = set()
    for folder, name in names:
        found.update(SCENARIO_VMS[(folder.removeprefix('/DC0/vm/'), name)][0])
    return sorted(found, key=lambda ip: tuple(int(part) for part in ip.split('.')))


WEB01 = ('/DC0/vm/web', 'web-01')
WEB02 = ('/DC0/vm/web', 'web-02')
WEB03 = ('/DC0/vm/web/frontend', 'web-03')
SHARED_WEB = ('/DC0/vm/web', 'shared-01')
DB01 = ('/DC0/vm/db', 'db-01')
DB02 = ('/DC0/vm/db', 'db-02')
SHARED_DB = ('/DC0/vm/db', 'shared-01')


def test_names_select_those_vms_with_their_ids_and_addresses(results, scenario):
    result = results['by_names']
    assert selected(result) == [DB01, WEB01]
    for vm in result['vms']:
        key = (vm['folder'], vm['name'])
        assert vm['moid'] == scenario[key]['moid']
        assert vm['instance_uuid'] == scenario[key]['instance_uuid']
        assert vm['bios_uuid'] == scenario[key]['bios_uuid']
        assert vm['power_state'] == 'poweredOn'
        assert vm['ip_addresses'] == addresses(key)
    assert result['vms'][1]['ip_addresses'] == ['10.20.1.11', '10.20.9.11']
    assert result['vms'][1]['tags'] == ['app:web', 'env:prod']
    assert result['external_ids'] == [scenario[DB01]['instance_uuid'], scenario[WEB01]['instance_uuid']]
    assert result['ip_addresses'] == ['10.20.1.11', '10.20.2.11', '10.20.9.11']


def test_a_name_in_two_folders_selects_both(results, scenario):
    result = results['by_name_in_two_folders']
    assert selected(result) == [SHARED_DB, SHARED_WEB]
    assert len(set(result['external_ids'])) == 2
    assert result['ip_addresses'] == ['10.20.1.21']


def test_folder_selects_its_vms_and_those_below_never_templates(results, scenario):
    result = results['by_folder']
    assert selected(result) == [SHARED_WEB, WEB01, WEB02, WEB03]
    assert result['external_ids'] == [scenario[key]['instance_uuid'] for key in (SHARED_WEB, WEB01, WEB02, WEB03)]
    assert result['ip_addresses'] == addresses(SHARED_WEB, WEB01, WEB02, WEB03)
    assert selected(results['by_folder_not_recursive']) == [SHARED_WEB, WEB01, WEB02]
    assert selected(results['by_empty_folder']) == []
    assert results['by_empty_folder']['external_ids'] == [] and results['by_empty_folder']['ip_addresses'] == []


def test_tags_select_by_category_and_tag(results, scenario):
    assert selected(results['by_tag']) == [WEB01, WEB02, WEB03]
    assert selected(results['by_tags_all']) == [WEB01, WEB03]
    assert selected(results['by_tags_any']) == [DB01, DB02, WEB02]
    assert selected(results['by_tag_with_colon']) == [WEB03]
    web03 = results['by_tag_with_colon']['vms'][0]
    assert web03['tags'] == ['app:web', 'env:prod', 'owner:team:blue']
    assert web03['instance_uuid'] == scenario[WEB03]['instance_uuid']


def test_selectors_combine_with_and(results):
    assert selected(results['folder_tag_power']) == [WEB01, WEB03]
    assert selected(results['names_and_tag']) == [DB01, WEB01]
    result = results['powered_off']
    assert selected(result) == [DB02]
    assert result['vms'][0]['power_state'] == 'poweredOff' and result['vms'][0]['ip_addresses'] == []


def test_no_selector_selects_every_vm_but_templates(results):
    names = selected(results['everything'])
    assert sorted(names) == sorted([('/DC0/vm', name) for name in MODEL_VMS] + [('/DC0/vm/' + f, n) for f, n in SCENARIO_VMS])
    assert TEMPLATE[1] not in [name for folder, name in names]


def test_an_empty_list_selects_no_vm(results):
    for case in ('empty_names', 'empty_tags'):
        assert selected(results[case]) == []
        assert results[case]['external_ids'] == [] and results[case]['ip_addresses'] == []


def test_check_mode_reads_the_same(results):
    assert results['check_mode']['vms'] == results['by_tags_all']['vms']
    assert results['check_mode']['changed'] is False


def test_include_tags_false_returns_no_tags(results):
    result = results['without_tags']
    assert selected(result) == [WEB01]
    assert 'tags' not in result['vms'][0]


BAD_SELECTORS = [
    ('bad_folder', 'folder: no VM folder /DC0/vm/nope in the inventory (VM folders in /DC0/vm: /DC0/vm/db, /DC0/vm/empty, /DC0/vm/web)'),
    ('host_folder', 'folder: /DC0/host is not a VM folder (VM folders are under /<datacenter>/vm)'),
    ('bad_tag', "tags: no tag 'nope' in category 'app' (its tags: db, web)"),
    ('bad_category', "tags: no tag category 'color' in vCenter (categories: app, env, owner)"),
    ('malformed_tag', "tags: 'web' is not of the form category:tag (for example app:web)"),
    ('missing_name', "names: no VM named 'ghost' in the inventory"),
]


@pytest.mark.parametrize('case, message', BAD_SELECTORS, ids=[case for case, message in BAD_SELECTORS])
def test_bad_selectors_fail_with_a_clear_message(results, case, message):
    result = results[case]
    assert result['failed'] is True
    assert result['msg'] == message


def test_connection_errors_are_reported(results, vcsim):
    assert results['wrong_password']['failed'] is True
    assert results['wrong_password']['msg'] == '127.0.0.1:%s refused the login of user %s: Login failure' % (vcsim['VMWARE_PORT'], vcsim['VMWARE_USER'])
    assert results['untrusted_ca']['failed'] is True
    assert results['untrusted_ca']['msg'].startswith('TLS error talking to 127.0.0.1:%s: ' % vcsim['VMWARE_PORT'])
    assert 'CERTIFICATE_VERIFY_FAILED' in results['untrusted_ca']['msg']
