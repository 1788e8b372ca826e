# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NSGroup static members by display name (``nsxt_ns_group`` ``members[].name``): the option, the
resolution to ids (one list read per type named, before the first write, and none for a type no
member names), the compare by id (a group declared by name that holds the member by id plans no
change), and a name that matches nothing (nothing written; check mode warns) or two objects
(fails in check mode too)."""

import copy

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.microseg.segmentation.plugins.module_utils._core.adapter import Task
from ansible_collections.microseg.segmentation.plugins.module_utils._core.checkmode import warnings_of
from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import Connection, HttpClient
from ansible_collections.microseg.segmentation.plugins.module_utils._core.ownership import Ownership
from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Declared, Reconciler
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.common import MANAGED_TAG, NsxtTags
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.kinds import NS_GROUP
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.manager import (
    IP_SETS,
    LOGICAL_PORTS,
    LOGICAL_SWITCHES,
    NS_GROUPS,
    NsGroupAdapter,
    build_members,
    canon_members,
)

OWNER_TAG = {"scope": "managed-scope", "tag": "default"}


def member(target_type, value):
    return {"resource_type": "NSGroupSimpleExpression", "target_type": target_type, "target_property": "id", "op": "EQUALS", "value": value}


class FakeManager(Connection):
    """NSGroups, IPSets, logical switches and ports in memory; records every list read and write."""

    def __init__(self):
        self.client = HttpClient("http://127.0.0.1:1", sleep=lambda s: None, retries=0)
        self.lists = {
            NS_GROUPS: [{"id": "g-web", "display_name": "web", "members": [], "tags": [MANAGED_TAG, OWNER_TAG], "_revision": 0},
                        {"id": "g-tier", "display_name": "tier", "members": [member("IPSet", "ip-office"), member("NSGroup", "g-web")],
                         "tags": [MANAGED_TAG, OWNER_TAG], "_revision": 0},
                        {"id": "g-dup1", "display_name": "dup"}, {"id": "g-dup2", "display_name": "dup"}],
            IP_SETS: [{"id": "ip-office", "display_name": "office"}, {"id": "ip-lab", "display_name": "lab"},
                      {"id": "ip-t1", "display_name": "twice"}, {"id": "ip-t2", "display_name": "twice"}],
            LOGICAL_SWITCHES: [{"id": "ls-x1", "display_name": "cluster1-x1"}],
            LOGICAL_PORTS: [{"id": "lp-a", "display_name": "x1/service-a-0"}],
        }
        self.reads = []
        self.writes = []

    def list_all(self, path, params=None, page_size=1000):
        self.reads.append(path)
        return copy.deepcopy(self.lists[path])

    def request(self, method, path, params=None, body=None, **kwargs):
        self.writes.append((method, path, copy.deepcopy(body)))
        if method == "POST":
            return dict(copy.deepcopy(body), id="g-new", _revision=0)
        if method == "PUT":
            return dict(copy.deepcopy(body), _revision=body["_revision"] + 1)
        raise AssertionError((method, path))


def values(**item):
    result = ArgumentSpecValidator(NS_GROUP.item_spec()).validate(item)
    assert not result.errors.errors, result.errors.errors
    return dict((k, v) for k, v in result.validated_parameters.items() if v is not None)


def run(items, check_mode=False, connection=None):
    """The list form of nsxt_ns_group on ``items`` (option values); returns (result, connection, adapter)."""
    connection = connection or FakeManager()
    task = Task({"items": items}, check_mode=check_mode, ownership=Ownership(NsxtTags(), owner="default"))
    declared = [Declared(i["name"], NS_GROUP.build(values(**i), "items[%d]." % n, task), "present", i, "items[%d]." % n)
                for n, i in enumerate(items)]
    adapter = NsGroupAdapter(connection, NS_GROUP, task)
    return Reconciler(NS_GROUP, adapter, check_mode=check_mode).ensure_many(declared), connection, adapter


# ---------------------------------------------------------------- the option


def test_a_member_is_given_by_id_or_by_name_never_both():
    spec = NS_GROUP.item_spec()
    for members, error in (([{"target_type": "IPSet", "value": "i", "name": "office"}], "mutually exclusive: value|name"),
                           ([{"target_type": "IPSet"}], "one of the following is required: value, name")):
        result = ArgumentSpecValidator(spec).validate({"name": "g", "members": members})
        assert [str(e) for e in result.errors.errors] == ["parameters are %s found in members" % error
                                                          if "exclusive" in error else "%s found in members" % error]
    assert build_members([{"target_type": "IPSet", "name": "office", "value": None}, {"target_type": "MACSet", "value": "m-1", "name": None}], "") == [
        {"resource_type": "NSGroupSimpleExpression", "target_type": "IPSet", "target_property": "id", "op": "EQUALS", "target_display_name": "office"},
        member("MACSet", "m-1")]


@pytest.mark.parametrize("given, option, message", [
    ({"target_type": "MACSet", "name": "macs"}, r"items\[2\]\.members\[0\]\.name", "a MACSet member is given by id"),
    ({"target_type": "IPSet", "name": " "}, r"items\[2\]\.members\[0\]\.name", "a display name is 1 to 255 characters"),
    ({"target_type": "IPSet", "value": ""}, r"items\[2\]\.members\[0\]\.value", "must not be empty"),
])
def test_a_member_the_module_cannot_name_is_refused_naming_the_option(given, option, message):
    with pytest.raises(ValidationError, match="^%s: %s" % (option, message)):
        build_members([dict({"value": None, "name": None}, **given)], "items[2].")


def test_a_member_still_named_never_compares_equal_to_one_by_id():
    named = {"target_type": "IPSet", "target_property": "id", "op": "EQUALS", "target_display_name": "ip-office"}
    assert canon_members([named]) != canon_members([member("IPSet", "ip-office")])
    assert canon_members([member("IPSet", "a"), member("NSGroup", "b")]) == canon_members([member("NSGroup", "b"), member("IPSet", "a")])


# ---------------------------------------------------------------- resolution and compare


def test_a_group_declared_by_name_that_holds_the_members_by_id_plans_no_change():
    result, connection, dummy = run([{"name": "tier", "members": [{"target_type": "NSGroup", "name": "web"},
                                                                  {"target_type": "IPSet", "name": "office"}]}])
    assert result["summary"]["unchanged"] == ["tier"] and not result["changed"], result
    # the NSGroups are the list the task reads anyway; the IPSets one more read; nothing else
    assert connection.reads == [NS_GROUPS, IP_SETS] and connection.writes == []


def test_names_resolve_with_one_read_per_type_named_before_the_first_write():
    items = [{"name": "a", "members": [{"target_type": "IPSet", "name": "office"}, {"target_type": "LogicalPort", "name": "x1/service-a-0"}]},
             {"name": "b", "members": [{"target_type": "IPSet", "name": "lab"},
                                       {"target_type": "LogicalSwitch", "name": "cluster1-x1"},
                                       {"target_type": "MACSet", "value": "m-1"}]},
             {"name": "tier", "members": [{"target_type": "NSGroup", "name": "web"}, {"target_type": "IPSet", "name": "lab"}]}]
    result, connection, dummy = run(items)
    assert result["summary"] == {"created": ["a", "b"], "updated": ["tier"], "deleted": [], "unchanged": [],
                                 "counts": {"created": 2, "updated": 1, "deleted": 0, "unchanged": 0, "failed": 0}}, result
    reads = [r for r in connection.reads if r != NS_GROUPS]
    assert sorted(reads) == sorted([IP_SETS, LOGICAL_PORTS, LOGICAL_SWITCHES])
    written = dict((body["display_name"], [(m["target_type"], m["value"]) for m in body["members"]]) for dummy2, dummy3, body in connection.writes)
    assert written == {"a": [("IPSet", "ip-office"), ("LogicalPort", "lp-a")],
                       "b": [("IPSet", "ip-lab"), ("LogicalSwitch", "ls-x1"), ("MACSet", "m-1")],
                       "tier": [("NSGroup", "g-web"), ("IPSet", "ip-lab")]}
    assert all("target_display_name" not in m for dummy2, dummy3, body in connection.writes for m in body["members"])


def test_members_by_id_read_no_list():
    result, connection, dummy = run([{"name": "tier", "members": [{"target_type": "NSGroup", "value": "g-web"},
                                                                  {"target_type": "IPSet", "value": "ip-office"}]}])
    assert result["summary"]["unchanged"] == ["tier"] and connection.reads == [NS_GROUPS]


def test_a_missing_name_fails_with_nothing_written_and_check_mode_warns():
    items = [{"name": "web", "description": "changed"},
             {"name": "new", "members": [{"target_type": "IPSet", "name": "nowhere"}, {"target_type": "NSGroup", "name": "later"}]}]
    with pytest.raises(ValidationError) as failed:
        run(items)
    message = str(failed.value)
    assert message.startswith("members: no such IPSet or NSGroup; nothing was written: ")
    assert "NSGroup 'new': items[1].members[0] names IPSet 'nowhere'; NSGroup 'new': items[1].members[1] names NSGroup 'later'" in message
    connection = FakeManager()
    with pytest.raises(ValidationError):
        run(items, connection=connection)
    assert connection.writes == []
    result, connection, adapter = run(items, check_mode=True)
    assert result["changed"] and result["summary"]["created"] == ["new"] and connection.writes == []
    assert warnings_of(adapter) == [
        "IPSet 'nowhere' does not exist yet: check mode assumes an earlier task of the play creates it (a real run fails if it is still missing)",
        "NSGroup 'later' does not exist yet: check mode assumes an earlier task of the play creates it (a real run fails if it is still missing)"]


@pytest.mark.parametrize("given, fragment", [
    ({"target_type": "IPSet", "name": "twice"}, "'twice' names 2 objects (IPSet ip-t1, IPSet ip-t2)"),
    ({"target_type": "NSGroup", "name": "dup"}, "'dup' names 2 objects (NSGroup g-dup1, NSGroup g-dup2)"),
])
def test_an_ambiguous_name_fails_even_in_check_mode(given, fragment):
    for check_mode in (False, True):
        connection = FakeManager()
        with pytest.raises(ValidationError, match="^members: a name is ambiguous; nothing was written: NSGroup 'g': items.0..members.0.: ") as failed:
            run([{"name": "g", "members": [given]}], check_mode=check_mode, connection=connection)
        assert fragment in str(failed.value) and connection.writes == []


def test_the_single_form_resolves_from_the_list_it_reads_and_writes_ids():
    connection = FakeManager()
    task = Task({}, ownership=Ownership(NsxtTags(), owner="default"))
    adapter = NsGroupAdapter(connection, NS_GROUP, task)
    desired = NS_GROUP.build(values(name="web", members=[{"target_type": "NSGroup", "name": "tier"}]), "", task)
    result = Reconciler(NS_GROUP, adapter).ensure(Declared("web", desired, "present"))
    assert result["action"] == "update" and connection.reads == [NS_GROUPS]
    assert [(m["target_type"], m["value"]) for m in connection.writes[0][2]["members"]] == [("NSGroup", "g-tier")]
