# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Two objects of one name: left by two runs creating it at once or by a run cut short.

The engine keeps the oldest (creation time, then identifier), deletes the others when the
collection may, writes the declared state onto the one kept, and says so; it reads again after
its creates so that a concurrent run's object is found in the same run.
"""

import copy
import threading

import pytest

from ansible_collections.microseg.segmentation.plugins.module_utils._core.adapter import Adapter, Task
from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import ApiError
from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import (
    Field,
    Kind,
    ReconcileError,
    Reconciler,
)

KIND = Kind("thing", "thing", [Field("description", "description", empty=""), Field("tags", "tags", compare="set", empty=[])])
MANAGED = ["managed=yes"]


class Store:
    """A product that, like Prisma, NSX Manager or Secure Workload, lets two objects share a name."""

    def __init__(self, objects=()):
        self.objects = [copy.deepcopy(o) for o in objects]
        self.clock = 100
        self.lock = threading.Lock()

    def add(self, name, **attrs):
        with self.lock:
            self.clock += 1
            obj = dict(attrs, name=name, ID="id%d" % self.clock, created=self.clock)
            self.objects.append(obj)
            return copy.deepcopy(obj)


class ListAdapter(Adapter):
    created_attribute = "created"

    def __init__(self, store, on_create=None):
        super().__init__(None, KIND, Task({}))
        self.store = store
        self.calls = []
        self.on_create = on_create

    def find_all(self, name):
        self.calls.append(("find_all", name))
        return [copy.deepcopy(o) for o in self.store.objects if o["name"] == name]

    def list(self):
        self.calls.append(("list",))
        return [copy.deepcopy(o) for o in self.store.objects]

    def object_id(self, obj):
        return (obj or {}).get("ID")

    def may_remove_duplicate(self, obj):
        return "managed=yes" in obj.get("tags", [])

    def create(self, change):
        self.calls.append(("create", change.name))
        obj = self.store.add(change.name, **change.body)
        if self.on_create:
            self.on_create(change.name)
        return obj

    def update(self, change):
        self.calls.append(("update", change.existing["ID"]))
        for obj in self.store.objects:
            if obj["ID"] == change.existing["ID"]:
                obj.update(copy.deepcopy(change.body))
                return copy.deepcopy(obj)
        raise AssertionError("update of a missing object")

    def delete(self, change):
        self.calls.append(("delete", change.existing["ID"]))
        self.store.objects = [o for o in self.store.objects if o["ID"] != change.existing["ID"]]

    def writes(self):
        return [c for c in self.calls if c[0] in ("create", "update", "delete")]


def two_of(name, second_tags=None):
    store = Store()
    store.add(name, description="first", tags=list(MANAGED))
    store.add(name, description="second", tags=list(second_tags or MANAGED))
    return store


def test_single_form_keeps_the_oldest_removes_the_other_and_says_so():
    store = two_of("web")
    adapter = ListAdapter(store)
    result = Reconciler(KIND, adapter).ensure("web", {"description": "wanted"})
    assert [o["ID"] for o in store.objects] == ["id101"]
    assert store.objects[0]["description"] == "wanted"
    assert result["changed"] is True and result["id"] == "id101"
    assert result["duplicates_removed"] == [{"name": "web", "id": "id102", "kept": "id101", "failed": False}]
    assert "deleted id102, kept id101" in result["warnings"][0]


def test_a_duplicate_alone_is_a_change_even_when_the_kept_object_is_as_declared():
    store = two_of("web")
    result = Reconciler(KIND, ListAdapter(store)).ensure("web", {"description": "first"})
    assert (result["changed"], result["action"], len(store.objects)) == (True, "none", 1)


def test_a_duplicate_the_collection_does_not_manage_fails_before_any_write():
    store = two_of("web", second_tags=["someone=else"])
    adapter = ListAdapter(store)
    with pytest.raises(ReconcileError, match="more than one thing is named 'web'.*id101, id102.*not every one is managed"):
        Reconciler(KIND, adapter).ensure("web", {"description": "wanted"})
    assert adapter.writes() == [] and len(store.objects) == 2


def test_check_mode_predicts_the_removal_and_writes_nothing():
    store = two_of("web")
    adapter = ListAdapter(store)
    result = Reconciler(KIND, adapter, check_mode=True).ensure("web", {"description": "first"})
    assert adapter.writes() == [] and len(store.objects) == 2
    assert result["changed"] is True
    assert "would delete id102, kept id101" in result["warnings"][0]


def test_list_form_removes_duplicates_of_declared_names_only():
    store = two_of("web")
    store.add("db", description="x", tags=list(MANAGED))
    store.add("db", description="x", tags=list(MANAGED))
    store.add("other", description="x", tags=list(MANAGED))
    store.add("other", description="x", tags=list(MANAGED))
    adapter = ListAdapter(store)
    result = Reconciler(KIND, adapter).ensure_many([("web", {"description": "first"}, "present"), ("db", {}, "absent")])
    assert sorted(o["ID"] for o in store.objects) == ["id101", "id105", "id106"]
    assert sorted((d["name"], d["id"]) for d in result["duplicates_removed"]) == [("db", "id104"), ("web", "id102")]
    assert result["changed"] is True


def test_list_form_purge_deletes_every_managed_copy_of_an_undeclared_name():
    store = two_of("gone")
    adapter = ListAdapter(store)
    adapter.is_managed = lambda obj: True
    result = Reconciler(KIND, adapter).ensure_many([], purge=True)
    assert store.objects == [] and result["summary"]["deleted"] == ["gone", "gone"]


def test_a_concurrent_create_found_after_ours_is_settled_in_the_same_run():
    """Another run created 'web' just before ours landed: its object is older, so ours goes and
    the declared state is written onto the other run's."""
    store = Store()

    def other_run_created_first(name):
        # the other run's object, with an earlier creation time than ours
        store.objects.insert(0, dict(name=name, ID="id050", created=50, description="theirs", tags=list(MANAGED)))

    adapter = ListAdapter(store, on_create=other_run_created_first)
    result = Reconciler(KIND, adapter).ensure("web", {"description": "mine", "tags": list(MANAGED)})
    assert [(o["ID"], o["description"]) for o in store.objects] == [("id050", "mine")]
    assert result["changed"] is True and result["id"] == "id050" and result["object"]["description"] == "mine"
    assert result["duplicates_removed"][0]["id"] == "id101"


@pytest.mark.parametrize("order", ["a-first", "b-first", "interleaved"])
def test_two_runs_creating_at_once_end_with_one_object(order):
    """Two list-form runs of the same declaration over one store, in three interleavings of
    their list read, creates and second read: exactly one object per name remains."""
    store = Store()
    names = ["r%d" % i for i in range(5)]
    items = [(n, {"description": "same", "tags": list(MANAGED)}, "present") for n in names]
    gate_a, gate_b = threading.Event(), threading.Event()
    runs = {}

    def run(label, wait, release):
        adapter = ListAdapter(store)
        original = adapter.list

        def list_then_pause():
            listed = original()
            if len([c for c in adapter.calls if c == ("list",)]) == 1:
                release.set()
                wait.wait(5)
            return listed

        adapter.list = list_then_pause
        runs[label] = Reconciler(KIND, adapter, parallel=1).ensure_many(items)

    if order == "interleaved":
        a = threading.Thread(target=run, args=("a", gate_b, gate_a))
        b = threading.Thread(target=run, args=("b", gate_a, gate_b))
        a.start()
        b.start()
        a.join(10)
        b.join(10)
    else:
        first, second = ("a", "b") if order == "a-first" else ("b", "a")
        gate_a.set()
        gate_b.set()
        run(first, gate_a, gate_b)
        run(second, gate_a, gate_b)
    assert sorted(o["name"] for o in store.objects) == names
    second_run = runs["b"] if order != "b-first" else runs["a"]
    if order == "interleaved":
        removed = runs["a"].get("duplicates_removed", []) + runs["b"].get("duplicates_removed", [])
        assert sorted(set(d["id"] for d in removed)) and all(d["name"] in names for d in removed)
    else:
        assert second_run["changed"] is False and "duplicates_removed" not in second_run


class RefusingAdapter(ListAdapter):
    """A product that keeps names unique (Secure Workload scopes): a second create is refused."""

    def create(self, change):
        self.calls.append(("create", change.name))
        if any(o["name"] == change.name for o in self.store.objects):
            raise ApiError("a scope named %r already exists" % change.name, status=422)
        return self.store.add(change.name, **change.body)


@pytest.mark.parametrize("theirs,action,changed", [("same", "none", False), ("other", "update", True)])
def test_a_create_refused_because_another_run_made_it_is_compared_with_that_object(theirs, action, changed):
    store = Store()
    adapter = RefusingAdapter(store)
    original_find_all = adapter.find_all
    reads = []

    def find_all_then_other_run_creates(name):
        found = original_find_all(name)
        if not reads:
            store.add(name, description=theirs, tags=list(MANAGED))  # the other run, between our read and our create
        reads.append(name)
        return found

    adapter.find_all = find_all_then_other_run_creates
    result = Reconciler(KIND, adapter).ensure("web", {"description": "same"})
    assert (result["action"], result["changed"]) == (action, changed)
    assert [o["description"] for o in store.objects] == ["same"]
    assert "created by another run while this task was creating it" in result["warnings"][0]


def test_a_refusal_that_is_no_concurrent_create_fails_as_it_is():
    adapter = RefusingAdapter(Store())

    def refuse(change):
        raise ApiError("priority: must be at most 1000", status=422)

    adapter.create = refuse
    with pytest.raises(ApiError, match="priority"):
        Reconciler(KIND, adapter).ensure("web", {"description": "x"})


def test_a_duplicate_another_run_deleted_first_is_removed_all_the_same():
    store = two_of("web")
    adapter = ListAdapter(store)
    original = adapter.delete

    def deleted_by_the_other_run_first(change):
        original(change)
        raise ApiError("DELETE failed with status 404: not found", status=404)

    adapter.delete = deleted_by_the_other_run_first
    result = Reconciler(KIND, adapter).ensure("web", {"description": "first"})
    assert result["duplicates_removed"] == [{"name": "web", "id": "id102", "kept": "id101", "failed": False}]
    assert not result.get("failed") and len(store.objects) == 1


def test_an_older_copy_another_writer_made_meanwhile_is_the_one_the_name_means():
    """Someone created 'web' by hand while the list form created it too: the older object is the one
    the name refers to (as when the task finds it), so this run's copy (managed: the collection just
    made it) goes and the declaration is written onto the other."""
    store = Store()

    def someone_else_created_it(name):
        if name == "web":
            store.objects.insert(0, dict(name=name, ID="id050", created=50, description="theirs", tags=["someone=else"]))

    adapter = ListAdapter(store, on_create=someone_else_created_it)
    items = [(name, {"description": "mine", "tags": list(MANAGED)}, "present") for name in ("web", "db")]
    result = Reconciler(KIND, adapter, parallel=1).ensure_many(items)
    assert "failed_objects" not in result
    assert sorted((o["name"], o["ID"], o["description"]) for o in store.objects) == [("db", "id102", "mine"), ("web", "id050", "mine")]
    assert result["duplicates_removed"] == [{"name": "web", "id": "id101", "kept": "id050", "failed": False}]


def test_a_newer_copy_the_collection_does_not_manage_fails_that_object_only():
    store = Store()

    def someone_else_created_it_after(name):
        if name == "web":
            store.objects.append(dict(name=name, ID="id999", created=999, description="theirs", tags=["someone=else"]))

    adapter = ListAdapter(store, on_create=someone_else_created_it_after)
    items = [(name, {"description": "mine", "tags": list(MANAGED)}, "present") for name in ("web", "db")]
    result = Reconciler(KIND, adapter, parallel=1).ensure_many(items)
    assert [f["name"] for f in result["failed_objects"]] == ["web"]
    assert "not every one is managed by this collection" in result["failed_objects"][0]["msg"]
    assert result["summary"]["created"] == ["db"]
    assert sorted(o["ID"] for o in store.objects) == ["id101", "id102", "id999"]  # nothing of someone else's is deleted
