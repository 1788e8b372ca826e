# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NSX Manager section writes under faults: a create re-read by name before it is sent again, an
update replayed after a lost answer, and a revision changed by another writer (a reported conflict)."""

import copy

import pytest

from ansible_collections.microseg.segmentation.plugins.module_utils._core.adapter import Task
from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import ApiError, Connection, HttpClient, Response
from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Field, Kind, Reconciler
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.manager import SECTIONS, SectionAdapter, canon_section_rules

KIND = Kind("FirewallSection", "firewall section", [
    Field("name", key=True),
    Field("description", "description"),
    Field("rules", "rules", compare=canon_section_rules, empty=[], type="list", elements="dict"),
], identity="display_name")

RULE = {"resource_type": "FirewallRule", "display_name": "r1", "action": "ALLOW", "sources": [], "destinations": [], "services": [],
        "applied_tos": [], "direction": "IN_OUT", "ip_protocol": "IPV4_IPV6", "logged": False, "disabled": False, "notes": "",
        "sources_excluded": False, "destinations_excluded": False}


def dropped():
    return ApiError("cannot reach https://nsx/api: Connection aborted", method="POST", retryable=True)


class FakeNsx(Connection):
    """Sections in memory with revisions; ``faults`` are raised by the next POSTs (``after`` ones once applied)."""

    def __init__(self, sections=()):
        self.client = HttpClient("http://127.0.0.1:1", sleep=lambda s: None, retries=3)
        self.sections = dict((s["id"], copy.deepcopy(s)) for s in sections)
        self.faults = []
        self.posts = []
        self.other_writer = None

    def list_all(self, path, params=None):
        if path == SECTIONS:
            return [dict((k, v) for k, v in s.items() if k != "rules") for s in self.sections.values()]
        if path.endswith("/rules"):
            return copy.deepcopy(self.sections[path.split("/")[-2]]["rules"])
        return []

    def send(self, method, path, params=None, body=None, retry_write=False, **kwargs):
        if method == "GET":
            section = self.sections.get(path.split("/")[-1])
            if section is None:
                raise ApiError("not found", status=404)
            return Response(200, dict((k, v) for k, v in section.items() if k != "rules"), {})
        attempt = 0
        while True:
            self.posts.append((path, params.get("action")))
            fault = self.faults.pop(0) if self.faults else None
            try:
                if fault == "503":
                    raise ApiError("busy", status=503, retryable=True)
                if fault == "drop":
                    raise dropped()
                answer = self._apply(path, params, body)
                if fault == "drop-after":
                    raise dropped()
                return Response(200, answer, {})
            except ApiError as exc:
                if not (retry_write and exc.retryable) or attempt >= 3:
                    raise
                attempt += 1

    def _apply(self, path, params, body):
        if self.other_writer is not None:
            writer, self.other_writer = self.other_writer, None
            writer(self)
        if params["action"] == "create_with_rules":
            sid = "s%d" % (len(self.sections) + 1)
            self.sections[sid] = dict(copy.deepcopy(body), id=sid, _revision=0)
            return copy.deepcopy(self.sections[sid])
        section = self.sections[path.split("/")[-1]]
        if body.get("_revision") != section["_revision"]:
            raise ApiError("The object was modified by somebody else", status=412)
        section.update(copy.deepcopy(body), _revision=section["_revision"] + 1)
        return copy.deepcopy(section)


def reconcile(connection, name, rules, description=None):
    task = Task({"section_type": "LAYER3"})
    desired = {"rules": rules}
    if description is not None:
        desired["description"] = description
    adapter = SectionAdapter(connection, KIND, task)
    return Reconciler(KIND, adapter).ensure(name, desired, "present")


def test_create_refused_then_applied_and_dropped_is_one_section_reported_created():
    nsx = FakeNsx()
    nsx.faults = ["503", "drop-after"]
    result = reconcile(nsx, "web", [RULE])
    assert result["changed"] and result["action"] == "create" and result["id"] == "s1"
    assert len(nsx.sections) == 1
    assert nsx.posts == [(SECTIONS, "create_with_rules")] * 2  # the re-read found it: not sent a third time
    assert "conflict" not in result


def test_update_replayed_after_a_lost_answer_is_no_conflict():
    nsx = FakeNsx([{"id": "s1", "display_name": "web", "_revision": 4, "rules": [RULE]}])
    nsx.faults = ["503", "drop-after"]
    result = reconcile(nsx, "web", [dict(RULE, notes="new")])
    assert result["changed"] and result["action"] == "update"
    assert nsx.sections["s1"]["rules"][0]["notes"] == "new" and nsx.sections["s1"]["_revision"] == 5
    # refused, applied (answer lost), replayed (412: our own write), re-read: nothing more is sent
    assert [a for dummy, a in nsx.posts] == ["update_with_rules"] * 3
    assert "conflict" not in result


def test_revision_changed_by_another_writer_is_reapplied_and_reported():
    nsx = FakeNsx([{"id": "s1", "display_name": "web", "_revision": 4, "rules": [RULE]}])

    def other(fake):
        section = fake.sections["s1"]
        section["rules"] = [dict(RULE, notes="theirs")]
        section["_revision"] += 1

    nsx.other_writer = other
    result = reconcile(nsx, "web", [dict(RULE, notes="ours")])
    assert result["changed"] and result["conflict"] is True
    assert result["warnings"] == ["firewall section 'web' was changed by another writer while this task wrote it (revision conflict): "
                                  "it was read again and the declared state re-applied over the other change"]
    assert nsx.sections["s1"]["rules"][0]["notes"] == "ours"


def test_conflicts_are_bounded():
    nsx = FakeNsx([{"id": "s1", "display_name": "web", "_revision": 4, "rules": [RULE]}])

    def always(fake):
        fake.sections["s1"]["_revision"] += 1
        fake.other_writer = always

    nsx.other_writer = always
    with pytest.raises(ApiError, match="modified by somebody else"):
        reconcile(nsx, "web", [dict(RULE, notes="ours")])
