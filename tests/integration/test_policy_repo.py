# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/policy_repo.yml against the session's lab: a policy repository (playbooks/policy/, a file
per application and team) applied with the list forms reading the files (src), then its flow table
proved by prisma_flow_check reading policy/flows/.

- The first run creates the namespace, the external networks and the rulesets, and every flow of the
  table gets its expected verdict; a second run changes nothing and writes nothing.
- In a copy of the repository (the playbook's policy_dir):
  (a) one application's files deleted (its rulesets and its flows): the run purges exactly that
      application's rulesets, and the flow check of the other teams still holds;
  (b) an item that does not validate: the run fails before any request, its message starting with
      the file and the item's index, and writes nothing (not even the valid change of another file);
  (c) an empty file: the run fails naming the file and writes nothing (a purge would otherwise delete
      that team's rulesets).

The namespace is deleted at the end, so the session's lab is left as it was found.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from playbook_tools import REPO_ROOT, parse_recap, run_playbook
from test_resilience import LabClient

PLAYBOOK = 'playbooks/policy_repo.yml'
POLICY = REPO_ROOT / 'playbooks' / 'policy'
RULESETS = {
    'storefront': ['storefront-egress', 'storefront-ingress'],
    'orders-api': ['orders-api-egress', 'orders-api-ingress'],
    'payments-db': ['payments-db-egress', 'payments-db-ingress'],
}
FLOWS = 16
# a row of the flow check's table: "<flow>  <source>  <destination>  <service>  <verdict>  <expected> ok  <decided by>"
FLOW_ROW = re.compile(r'^\s*"(?P<flow>[^"]+?)\s{2,}.*\s(?P<verdict>allow|deny)\s+(?P<expected>allow|deny) (?P<status>ok|MISMATCH)\s')
FATAL = re.compile(r'^fatal: \[localhost\]: FAILED! => (\{.*\})$', re.M)


class PolicyLab:
    """The session's lab, the namespace the playbook works in, and a way to run the playbook."""

    def __init__(self, lab, tmp_path: Path) -> None:
        self.lab = lab
        self.client = LabClient(lab)
        self.root = lab.env['PRISMA_NAMESPACE']
        self.namespace = self.root + '/webshop'
        self.tmp_path = tmp_path

    def run(self, label: str, policy_dir: Path | None = None) -> tuple[int, str, int]:
        """Run the playbook (on POLICY_DIR when given); return its rc, its output and the Prisma writes it made."""
        extra = ['-e', 'policy_dir=%s' % policy_dir] if policy_dir else []
        before = self.lab.writes()['prisma']
        rc, output = run_playbook(['-i', 'inventories/lab', PLAYBOOK, *extra], self.lab.playbook_env(), self.tmp_path / ('%s.log' % label))
        return rc, output, self.lab.writes()['prisma'] - before

    def rulesets(self) -> list[str]:
        return sorted(o['name'] for o in self.client.api('GET', '/networkrulesetpolicies', self.namespace))

    def copy(self, name: str) -> Path:
        target = self.tmp_path / name / 'policy'
        shutil.copytree(POLICY, target)
        return target


def flow_rows(output: str) -> dict[str, tuple[str, str, str]]:
    rows = {}
    for line in output.splitlines():
        match = FLOW_ROW.match(line)
        if match:
            rows[match.group('flow')] = (match.group('verdict'), match.group('expected'), match.group('status'))
    return rows


def failure_message(output: str) -> str:
    found = FATAL.findall(output)
    assert len(found) == 1, output[-3000:]
    return json.loads(found[0])['msg']


@pytest.fixture(scope='module')
def policy(lab, tmp_path_factory: pytest.TempPathFactory):
    """The lab after a first run of the playbook on playbooks/policy (its rc, output and writes in ``first``)."""
    policy_lab = PolicyLab(lab, tmp_path_factory.mktemp('policy-repo'))
    try:
        policy_lab.first = policy_lab.run('first')
        yield policy_lab
    finally:
        for item in policy_lab.client.api('GET', '/namespaces', policy_lab.root):
            if item['name'] == policy_lab.namespace:
                policy_lab.client.api('DELETE', '/namespaces/%s' % item['ID'], policy_lab.root)


def test_applied_then_unchanged(policy) -> None:
    rc, output, writes = policy.first
    assert rc == 0, output[-3000:]
    assert parse_recap(output)['localhost']['changed'] == 3, output[-3000:]  # namespace, external networks, rulesets
    assert writes >= 1 + 3 + 6, writes
    assert policy.rulesets() == sorted(sum(RULESETS.values(), []))
    rows = flow_rows(output)
    assert len(rows) == FLOWS, sorted(rows)
    assert all(status == 'ok' and verdict == expected for verdict, expected, status in rows.values()), rows
    assert sorted(set(verdict for verdict, dummy, dummy in rows.values())) == ['allow', 'deny']

    rc, output, writes = policy.run('second')
    assert rc == 0, output[-3000:]
    assert parse_recap(output)['localhost']['changed'] == 0, output[-3000:]
    assert writes == 0
    assert len(flow_rows(output)) == FLOWS


def test_deleting_an_application_purges_its_rulesets(policy) -> None:
    copy = policy.copy('removed')
    (copy / 'prisma' / 'rulesets' / 'payments-db.yml').unlink()
    (copy / 'flows' / 'payments-db.yml').unlink()
    before = policy.rulesets()
    assert set(RULESETS['payments-db']) <= set(before)

    rc, output, writes = policy.run('removed', copy)
    assert rc == 0, output[-3000:]
    assert parse_recap(output)['localhost']['changed'] == 1, output[-3000:]  # the rulesets task only
    assert sorted(set(before) - set(policy.rulesets())) == RULESETS['payments-db']
    assert policy.rulesets() == sorted(RULESETS['storefront'] + RULESETS['orders-api'])
    assert writes == 2  # two deletes
    rows = flow_rows(output)
    assert len(rows) == FLOWS - 6 and all(status == 'ok' for dummy, dummy, status in rows.values()), rows
    assert not any('payments' in name for name in rows)


def test_an_invalid_item_fails_naming_its_file_and_index_and_writes_nothing(policy) -> None:
    copy = policy.copy('invalid')
    path = copy / 'prisma' / 'rulesets' / 'orders-api.yml'
    text = path.read_text(encoding='utf-8')
    assert text.count('protocol_ports: [tcp/5432]') == 1  # in orders-api-egress, the file's item 1
    path.write_text(text.replace('protocol_ports: [tcp/5432]', 'protocol_ports: ["tcp/99999"]'), encoding='utf-8')
    # a valid change in another file, which a run that applied what validates would write
    storefront = copy / 'prisma' / 'rulesets' / 'storefront.yml'
    storefront.write_text(storefront.read_text(encoding='utf-8').replace('tags: [team=web]', 'tags: [team=web-shop]'), encoding='utf-8')
    before = policy.rulesets()
    assert 'storefront-ingress' in before

    rc, output, writes = policy.run('invalid', copy)
    assert rc != 0
    message = failure_message(output)
    assert message.startswith('%s[1].' % path), message
    assert '99999' in message
    assert writes == 0
    assert policy.rulesets() == before
    tags = [o['associatedTags'] for o in policy.client.api('GET', '/networkrulesetpolicies', policy.namespace) if o['name'] == 'storefront-ingress']
    assert 'team=web' in tags[0] and 'team=web-shop' not in tags[0], tags


def test_an_empty_file_fails_naming_it_and_purges_nothing(policy) -> None:
    copy = policy.copy('empty')
    path = copy / 'prisma' / 'rulesets' / 'storefront.yml'
    path.write_text('', encoding='utf-8')
    before = policy.rulesets()
    assert set(RULESETS['storefront']) <= set(before)

    rc, output, writes = policy.run('empty', copy)
    assert rc != 0
    message = failure_message(output)
    assert message.startswith('%s: ' % path) and 'empty' in message, message
    assert writes == 0
    assert policy.rulesets() == before
