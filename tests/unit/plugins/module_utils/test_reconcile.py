# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reconcile engine against an in-memory adapter that records every call."""

import copy
import threading
import time

import pytest
import yaml

from ansible_collections.microseg.segmentation.plugins.module_utils._core.adapter import Adapter, Task
from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import MASK, ApiError
from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import (
    Field,
    Kind,
    Declared,
    ReconcileError,
    Reconciler,
    canon_expression,
    json_copy,
    plan,
)

KIND = Kind(
    "thing",
    "thing",
    [
        Field("description", "description", empty=""),
        Field("tags", "associatedTags", compare="set", empty=[]),
        Field("subject", "subject", compare="expression", empty=[]),
        Field("order", "order", compare="list", empty=[]),
        Field("key", "key", secret=True, empty=""),
        Field("kind", "type", create_only=True, empty="Default"),
    ],
    create_requires=[("subject", "subject"), (("hosts", "IPs"), "hosts or ips")],
)


class MemoryAdapter(Adapter):
    """An in-memory product: the base hooks where they suffice, every call recorded."""

    def __init__(self, objects=(), fail_on=()):
        super().__init__(None, KIND, Task({}))
        self.objects = dict((o["name"], copy.deepcopy(o)) for o in objects)
        self.calls = []
        self.fail_on = set(fail_on)
        self.next_id = 100

    def find(self, name):
        self.calls.append(("find", name))
        return copy.deepcopy(self.objects.get(name))

    def list(self):
        self.calls.append(("list",))
        return [copy.deepcopy(o) for o in self.objects.values()]

    def object_id(self, obj):
        return (obj or {}).get("ID")

    def is_managed(self, obj):
        return "managed=yes" in obj.get("associatedTags", [])

    def _maybe_fail(self, name):
        if name in self.fail_on:
            raise ApiError("boom on %s" % name, status=422)

    def create(self, change):
        self.calls.append(("create", change.name))
        self._maybe_fail(change.name)
        self.next_id += 1
        obj = dict(change.body, name=change.name, ID=str(self.next_id))
        self.objects[change.name] = obj
        return copy.deepcopy(obj)

    def update(self, change):
        name = change.existing["name"]
        self.calls.append(("update", name, tuple(change.fields)))
        self._maybe_fail(name)
        self.objects[name] = copy.deepcopy(change.body)
        return copy.deepcopy(change.body)

    def delete(self, change):
        name = change.existing["name"]
        self.calls.append(("delete", name))
        self._maybe_fail(name)
        del self.objects[name]

    def writes(self):
        return [c[:2] for c in self.calls if c[0] in ("create", "update", "delete")]


EXISTING = {
    "name": "a",
    "ID": "1",
    "description": "",
    "associatedTags": ["x=1", "y=2"],
    "subject": [["app=web", "env=prod"], ["role=admin"]],
    "order": ["first", "second"],
    "key": "s3cret",
    "type": "Group",
    "IPs": ["10.0.0.1"],
    "updateTime": "2026-01-01T00:00:00Z",
}


def test_canon_expression_ignores_order_and_duplicates():
    assert canon_expression([["b=2", "a=1"], ["c=3"]]) == canon_expression([["c=3"], ["a=1", "b=2", "a=1"]])
    assert canon_expression("a=1") == canon_expression([["a=1"]])
    assert canon_expression(None) == canon_expression([]) == ()


def test_unset_options_are_not_compared():
    change = plan(KIND, "a", {"description": ""}, EXISTING, "present")
    assert change.action == "none"


def test_order_insensitive_values_are_equal():
    desired = {"associatedTags": ["y=2", "x=1"], "subject": [["role=admin"], ["env=prod", "app=web"]]}
    assert plan(KIND, "a", desired, EXISTING, "present").action == "none"


def test_ordered_list_difference_is_a_change():
    change = plan(KIND, "a", {"order": ["second", "first"]}, EXISTING, "present")
    assert change.action == "update"
    assert change.fields == ["order"]
    assert change.body["order"] == ["second", "first"]
    # the rest of the object is sent back as read (full-object PUT)
    assert change.body["updateTime"] == EXISTING["updateTime"]
    assert change.body["associatedTags"] == EXISTING["associatedTags"]


def test_empty_value_equals_missing_attribute():
    existing = dict(EXISTING)
    del existing["description"]
    assert plan(KIND, "a", {"description": ""}, existing, "present").action == "none"


def test_create_only_field_change_is_refused():
    with pytest.raises(ReconcileError, match="kind of thing 'a' can only be set at creation"):
        plan(KIND, "a", {"type": "Kubernetes"}, EXISTING, "present")


def test_create_requires_names_missing_options():
    with pytest.raises(ReconcileError, match="thing 'new' does not exist; subject, hosts or ips are required to create it"):
        plan(KIND, "new", {"description": "x"}, None, "present")
    assert plan(KIND, "new", {"subject": [["a=1"]], "IPs": ["10.0.0.1"]}, None, "present").action == "create"


def test_absent_plans():
    assert plan(KIND, "a", {}, EXISTING, "absent").action == "delete"
    assert plan(KIND, "zz", {}, None, "absent").action == "none"


def test_ensure_no_change_reads_once_and_never_writes():
    adapter = MemoryAdapter([EXISTING])
    result = Reconciler(KIND, adapter).ensure("a", {"description": ""}, "present", want_diff=True)
    assert result["changed"] is False
    assert adapter.calls == [("find", "a")]
    assert result["diff"]["before"] == result["diff"]["after"]


def test_ensure_update_masks_secret_in_object_and_diff():
    adapter = MemoryAdapter([EXISTING])
    result = Reconciler(KIND, adapter).ensure("a", {"key": "n3w-secret"}, "present", want_diff=True)
    assert result["changed"] is True
    assert adapter.writes() == [("update", "a")]
    assert result["object"]["key"] == MASK
    # the diff speaks the options (YAML text): the secret masked on both sides, marked as changed after
    assert yaml.safe_load(result["diff"]["before"])["key"] == MASK
    assert yaml.safe_load(result["diff"]["after"])["key"] == MASK + " (changed)"
    assert "s3cret" not in repr(result) and "n3w-secret" not in repr(result)
    assert adapter.objects["a"]["key"] == "n3w-secret"


def test_check_mode_predicts_and_never_writes():
    adapter = MemoryAdapter([EXISTING])
    reconciler = Reconciler(KIND, adapter, check_mode=True)
    created = reconciler.ensure("b", {"subject": [["a=1"]], "IPs": ["10.0.0.2"]}, "present", want_diff=True)
    updated = reconciler.ensure("a", {"description": "new"}, "present", want_diff=True)
    deleted = reconciler.ensure("a", {}, "absent", want_diff=True)
    assert (created["changed"], created["action"]) == (True, "create")
    assert yaml.safe_load(created["diff"]["after"])["subject"] == [["a=1"]]
    assert (updated["changed"], updated["action"]) == (True, "update")
    assert yaml.safe_load(updated["diff"]["after"])["description"] == "new"
    assert (deleted["changed"], deleted["action"], deleted["diff"]["after"]) == (True, "delete", "")
    assert adapter.writes() == []


def test_ensure_many_one_list_read_one_write_per_change_and_one_read_after_creating():
    managed = dict(EXISTING, name="old", ID="9", associatedTags=["managed=yes"])
    foreign = dict(EXISTING, name="foreign", ID="8", associatedTags=["x=1"])
    adapter = MemoryAdapter([EXISTING, managed, foreign])
    items = [
        ("a", {"description": "changed"}, "present"),
        ("b", {"subject": [["a=1"]], "IPs": ["10.0.0.2"]}, "present"),
        ("c", {}, "absent"),
    ]
    result = Reconciler(KIND, adapter, parallel=4).ensure_many(items, purge=True)
    # the second list read comes after the writes: it finds what another run created meanwhile
    assert [c for c in adapter.calls if c[0] in ("find", "list")] == [("list",), ("list",)]
    assert adapter.calls.index(("list",), 1) > max(i for i, c in enumerate(adapter.calls) if c[0] == "create")
    assert sorted(adapter.writes()) == [("create", "b"), ("delete", "old"), ("update", "a")]
    assert result["summary"] == {"created": ["b"], "updated": ["a"], "deleted": ["old"], "unchanged": ["c"],
                                 "counts": {"created": 1, "updated": 1, "deleted": 1, "unchanged": 1, "failed": 0}}
    assert "foreign" in adapter.objects


def test_ensure_many_details_changed_lists_only_what_was_written_and_all_lists_everything():
    managed = dict(EXISTING, name="old", ID="9", associatedTags=["managed=yes"])
    items = [("a", {"description": "changed"}, "present"), ("b", {"subject": [["a=1"]], "IPs": ["10.0.0.2"]}, "present")]
    for name in ("u%d" % i for i in range(3)):
        items.append((name, {}, "absent"))
    result = Reconciler(KIND, MemoryAdapter([EXISTING, managed]), parallel=2).ensure_many(items, purge=True)
    assert sorted((o["name"], o["action"]) for o in result["objects"]) == [("a", "update"), ("b", "create"), ("old", "delete")]
    assert all("object" not in o for o in result["objects"])
    assert result["summary"]["unchanged"] == ["u0", "u1", "u2"]
    assert result["summary"]["counts"] == {"created": 1, "updated": 1, "deleted": 1, "unchanged": 3, "failed": 0}

    every = Reconciler(KIND, MemoryAdapter([EXISTING]), parallel=2).ensure_many(items[:1] + items[2:], details="all")
    assert [(o["name"], o["action"]) for o in every["objects"]] == [("a", "update"), ("u0", "none"), ("u1", "none"), ("u2", "none")]
    assert every["objects"][0]["object"]["description"] == "changed" and every["objects"][1]["object"] == {}


def test_ensure_many_rejects_duplicate_declarations_before_writing():
    adapter = MemoryAdapter([])
    with pytest.raises(ReconcileError, match="declared more than once"):
        Reconciler(KIND, adapter).ensure_many([("a", {}, "absent"), ("a", {}, "absent")])
    assert adapter.writes() == []


def test_ensure_many_reports_failures_and_what_was_applied():
    adapter = MemoryAdapter([])
    items = [("n%d" % i, {"subject": [["a=1"]], "IPs": ["10.0.0.%d" % i]}, "present") for i in range(5)]
    adapter.fail_on = {"n0"}
    result = Reconciler(KIND, adapter, parallel=1).ensure_many(items)
    assert result["failed_objects"][0]["name"] == "n0"
    assert result["failed_objects"][0]["status"] == 422
    # one failure does not stop the others: each object is written and reports its own result
    assert adapter.writes() == [("create", "n%d" % i) for i in range(5)]
    assert result["summary"]["created"] == ["n1", "n2", "n3", "n4"]
    assert [o["name"] for o in result["objects"]] == ["n1", "n2", "n3", "n4"]
    assert "not_attempted" not in result
    assert result["changed"] is True
    assert result["msg"].startswith("1 of 5 writes failed (create 'n0': ")
    assert result["msg"].endswith("; 4 applied")


def test_ensure_many_keeps_going_in_parallel_and_lists_every_failure():
    adapter = MemoryAdapter([])
    items = [("n%d" % i, {"subject": [["a=1"]], "IPs": ["10.0.0.%d" % i]}, "present") for i in range(12)]
    adapter.fail_on = {"n3", "n7"}
    result = Reconciler(KIND, adapter, parallel=4).ensure_many(items)
    assert sorted(o["name"] for o in result["failed_objects"]) == ["n3", "n7"]
    assert sorted(result["summary"]["created"]) == sorted("n%d" % i for i in range(12) if i not in (3, 7))
    assert len(adapter.writes()) == 12


def test_conflict_is_reported_with_a_warning_naming_the_object():
    class Conflicting(MemoryAdapter):
        def update(self, change):
            change.conflict = True
            return MemoryAdapter.update(self, change)

    adapter = Conflicting([EXISTING])
    result = Reconciler(KIND, adapter).ensure("a", {"description": "new"}, "present")
    assert result["conflict"] is True
    assert len(result["warnings"]) == 1 and "'a' was changed by another writer" in result["warnings"][0]
    many = Reconciler(KIND, Conflicting([EXISTING])).ensure_many([("a", {"description": "newer"}, "present")])
    assert many["conflict"] is True and "'a'" in many["warnings"][0]
    quiet = Reconciler(KIND, MemoryAdapter([EXISTING])).ensure("a", {"description": "new"}, "present")
    assert "conflict" not in quiet and "warnings" not in quiet


def test_update_receives_the_planned_change_with_its_fields():
    adapter = MemoryAdapter([EXISTING])
    Reconciler(KIND, adapter).ensure("a", {"description": "new", "order": ["first", "second"]}, "present")
    assert [c for c in adapter.calls if c[0] == "update"] == [("update", "a", ("description",))]


def test_refine_may_turn_no_change_into_an_update():
    class Placing(MemoryAdapter):
        def refine(self, change):
            if change.action == "none" and change.values.get("position") == "top":
                change.action = "update"
                change.body = copy.deepcopy(change.existing)
                change.placement = ("top", None)

    adapter = Placing([EXISTING])
    result = Reconciler(KIND, adapter, check_mode=True).ensure(Declared("a", {}, "present", values={"position": "top"}))
    assert (result["changed"], result["action"]) == (True, "update")
    # the placement travels on the change, never inside the object
    assert "position" not in result["object"] and "_position" not in result["object"]
    assert adapter.writes() == []


def test_kind_build_copies_fields_and_applies_rules():
    def rules(values, prefix, task):
        if values.get("a") and values.get("b"):
            raise ReconcileError("%sb: not with a" % prefix)
        return {"fixed": 1}

    kind = Kind("k", "k", [
        Field("name", key=True),
        Field("a", "A", type="int", convert=lambda value, path: value * 2),
        Field("b", "B", type="bool"),
        Field("secret", "S", secret=True),
        Field("domain", task=True, default="default"),
        Field("only_rule"),
    ], rules=rules)
    assert kind.build({"name": "x", "a": 2, "secret": "s"}, "", None) == {"fixed": 1, "A": 4, "S": "s"}
    with pytest.raises(ReconcileError, match="items.0..b: not with a"):
        kind.build({"a": 1, "b": True}, "items[0].", None)
    assert kind.argument_spec()["secret"] == {"type": "str", "no_log": True}
    assert kind.argument_spec()["domain"] == {"type": "str", "default": "default"}
    assert set(kind.item_spec()) == {"name", "a", "b", "secret", "only_rule", "state"}
    assert kind.item_spec()["secret"]["no_log"] is True


class OneAtATime(MemoryAdapter):
    """A kind the product takes one write of at a time: counts the writes in flight."""

    max_parallel = 1

    def __init__(self, objects=()):
        super().__init__(objects)
        self.lock = threading.Lock()
        self.active = 0
        self.most = 0

    def create(self, change):
        with self.lock:
            self.active += 1
            self.most = max(self.most, self.active)
        time.sleep(0.005)  # gives another thread, were there one, the time to start its write
        with self.lock:
            self.active -= 1
        return super().create(change)


def test_an_adapter_s_max_parallel_bounds_the_task_s_parallel():
    adapter = OneAtATime()
    reconciler = Reconciler(KIND, adapter, parallel=8)
    result = reconciler.ensure_many([("n%d" % i, {"subject": [["a=1"]], "IPs": ["10.0.0.%d" % i]}, "present") for i in range(6)])
    assert reconciler.parallel == 1 and adapter.most == 1 and result["summary"]["counts"]["created"] == 6
    assert Reconciler(KIND, MemoryAdapter(), parallel=8).parallel == 8


def test_json_copy_is_a_deep_copy():
    original = {"a": [1, {"b": ["x", None, True, 1.5]}], "c": {"d": {"e": []}}, "t": ({"k": [1]},)}
    copied = json_copy(original)
    assert copied == original
    copied["a"][1]["b"].append("y")
    copied["c"]["d"]["e"].append(1)
    copied["t"][0]["k"].append(2)  # a tuple is not JSON: deep-copied all the same
    assert original == {"a": [1, {"b": ["x", None, True, 1.5]}], "c": {"d": {"e": []}}, "t": ({"k": [1]},)}
