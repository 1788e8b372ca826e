# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ownership rule (``_core/ownership.py``) on both tag schemes, and through the engine's purge."""

import copy

import pytest

from ansible_collections.microseg.segmentation.plugins.module_utils._core.adapter import Adapter, Task
from ansible_collections.microseg.segmentation.plugins.module_utils._core.ownership import (
    DEFAULT_OWNER,
    Ownership,
    check_ownership_options,
)
from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Field, Kind, Reconciler
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._nsxt.common import MANAGED_TAG as NSX_MANAGED, NsxtTags
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.common import MANAGED_TAG, PrismaTags

SDP = Kind("servicedependencypolicy", "service dependency policy",
           [Field("name", key=True), Field("description", "description"), Field("tags", "associatedTags", compare="set", type="list", elements="str")],
           reserved_names=("default",))


class Namespace(Adapter):
    """One Prisma namespace in memory; the ownership hooks are the base class's."""

    def __init__(self, objects, owner=None, adopt=False, items=True):
        ownership = Ownership(PrismaTags(), owner=owner, adopt=adopt, reserved_names=SDP.reserved_names)
        super().__init__(None, SDP, Task({"items": [] if items else None, "owner": owner}, ownership=ownership))
        self.objects = objects

    def find(self, name):
        return copy.deepcopy(self.objects.get(name))

    def list(self):
        return [copy.deepcopy(o) for o in self.objects.values()]

    def create(self, change):
        self.objects[change.name] = dict(change.body, name=change.name)
        return self.objects[change.name]

    def update(self, change):
        self.objects[change.name] = copy.deepcopy(change.body)
        return change.body

    def delete(self, change):
        del self.objects[change.name]


def run(objects, items, owner, adopt=False, purge=True):
    adapter = Namespace(objects, owner=owner, adopt=adopt)
    return Reconciler(SDP, adapter).ensure_many(items, purge=purge)


def test_a_named_but_not_created_object_is_never_purged_without_adopt():
    objects = {"theirs": {"name": "theirs", "associatedTags": ["team=x"]}}
    run(objects, [("theirs", {"description": "named"}, "present")], owner="team-a")
    assert MANAGED_TAG not in objects["theirs"]["associatedTags"]
    run(objects, [], owner="team-a")
    assert "theirs" in objects


def test_adopt_takes_over_and_a_later_purge_deletes():
    objects = {"theirs": {"name": "theirs", "associatedTags": []}}
    run(objects, [("theirs", {}, "present")], owner="team-a", adopt=True)
    assert set(objects["theirs"]["associatedTags"]) == {MANAGED_TAG, "managed-owner=team-a"}
    result = run(objects, [], owner="team-a")
    assert result["summary"]["deleted"] == ["theirs"]


def test_default_sdps_are_never_purged_nor_tagged():
    objects = {"default": {"name": "default", "associatedTags": [MANAGED_TAG]}}  # tagged by 1.0.0's list form
    run(objects, [], owner=DEFAULT_OWNER)
    assert "default" in objects
    run(objects, [("default", {"description": "x"}, "present")], owner=DEFAULT_OWNER, adopt=True)
    assert "managed-owner=default" not in objects["default"]["associatedTags"]


def test_two_owners_in_one_namespace_keep_each_others_objects():
    objects = {}
    run(objects, [("a1", {}, "present")], owner="team-a", purge=False)
    run(objects, [("b1", {}, "present")], owner="team-b", purge=False)
    run(objects, [("a2", {}, "present")], owner="team-a")
    assert sorted(objects) == ["a2", "b1"]
    run(objects, [("b2", {}, "present")], owner="team-b")
    assert sorted(objects) == ["a2", "b2"]


def test_objects_tagged_by_1_0_0_belong_to_the_default_owner():
    objects = {"old": {"name": "old", "associatedTags": [MANAGED_TAG]}}
    run(objects, [], owner="team-a")
    assert "old" in objects
    run(objects, [("new", {}, "present")], owner=DEFAULT_OWNER)
    assert sorted(objects) == ["new"]
    assert "managed-owner=default" in objects["new"]["associatedTags"]


def test_an_update_keeps_the_owner_the_object_has():
    objects = {"a": {"name": "a", "associatedTags": [MANAGED_TAG, "managed-owner=team-b"]}}
    run(objects, [("a", {"associatedTags": ["x=1"]}, "present")], owner="team-a", purge=False)
    assert set(objects["a"]["associatedTags"]) == {"x=1", MANAGED_TAG, "managed-owner=team-b"}


def test_nsx_tags_and_the_1_0_0_purge_scope_tag():
    rule = Ownership(NsxtTags(), owner="scope-1")
    tagged = {"display_name": "g", "tags": [NSX_MANAGED, {"scope": "managed-scope", "tag": "scope-1"}]}
    assert rule.may_purge("g", tagged)
    assert not Ownership(NsxtTags(), owner="scope-2").may_purge("g", tagged)
    assert not rule.may_purge("g", {"tags": [{"scope": "managed-scope", "tag": "scope-1"}]})
    assert Ownership(NsxtTags(), owner=DEFAULT_OWNER).may_purge("g", {"tags": [NSX_MANAGED]})


@pytest.mark.parametrize("params, option, words", [
    ({"items": [{"name": "a"}], "purge": True}, "owner", "is required with purge"),
    ({"items": [], "purge": True, "owner": "me"}, "items", "set purge_empty: true"),
    ({"items": None, "purge": True, "owner": "me"}, "purge", "only applies to the list form"),
    ({"items": None, "adopt": True}, "adopt", "only applies to the list form"),
    ({"items": [], "purge_empty": True, "owner": "me"}, "purge_empty", "only applies with purge"),
    ({"items": [], "owner": "two words"}, "owner", "is not a valid owner"),
])
def test_ownership_options_are_checked_before_any_request(params, option, words):
    with pytest.raises(ValidationError, match=r"^%s: .*%s" % (option, words)):
        check_ownership_options(params)


def test_empty_items_with_purge_are_accepted_when_said():
    check_ownership_options({"items": [], "purge": True, "purge_empty": True, "owner": "me"})
    check_ownership_options({"items": [{"name": "a"}], "purge": True, "owner": "me"})
