# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prisma helpers that need no server: tags the collection manages, error text, filter quoting."""

import pytest

from ansible_collections.microseg.segmentation.plugins.module_utils._core.adapter import Task
from ansible_collections.microseg.segmentation.plugins.module_utils._core.ownership import Ownership
from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Change, Kind
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.common import (
    MANAGED_TAG,
    PrismaAdapter,
    PrismaTags,
    creation_key,
    parse_prisma_errors,
    quote_filter_value,
)


class FakeConnection:
    namespace = "/acme"


class NamedAdapter(PrismaAdapter):
    def __init__(self, adopt=False, owner=None):
        task = Task({"items": [] if adopt else None}, ownership=Ownership(PrismaTags(), owner=owner, adopt=adopt))
        super().__init__(FakeConnection(), Kind("thing", "thing", []), task, "/things")

    def required_tags(self, name):
        return ["kind:name=%s" % name]


DEFAULT_OWNER_TAG = "managed-owner=default"


def test_created_objects_get_the_management_and_owner_tags():
    assert NamedAdapter().complete("a", {}, None)["associatedTags"] == ["kind:name=a", MANAGED_TAG, DEFAULT_OWNER_TAG]
    assert NamedAdapter(owner="team-a").complete("a", {}, None)["associatedTags"][-1] == "managed-owner=team-a"


def test_single_update_of_a_foreign_object_leaves_it_unmanaged():
    desired = NamedAdapter().complete("default", {"disabled": True}, {"associatedTags": ["x=1"]})
    assert desired["associatedTags"] == ["x=1", "kind:name=default"]


def test_naming_an_object_in_a_list_form_does_not_adopt_it():
    desired = NamedAdapter(owner="team-a").complete("a", {}, {"associatedTags": []})
    assert MANAGED_TAG not in desired["associatedTags"]


def test_adopt_takes_an_object_over_for_the_owner():
    desired = NamedAdapter(adopt=True, owner="team-a").complete("a", {}, {"associatedTags": [MANAGED_TAG, "managed-owner=team-b"]})
    assert sorted(desired["associatedTags"]) == sorted(["kind:name=a", MANAGED_TAG, "managed-owner=team-a"])


def test_user_tags_never_drop_an_existing_management_or_owner_tag():
    existing = {"associatedTags": [MANAGED_TAG, "managed-owner=team-b", "old=1"]}
    desired = NamedAdapter(owner="team-a").complete("a", {"associatedTags": ["team=web"]}, existing)
    assert sorted(desired["associatedTags"]) == sorted(["team=web", "kind:name=a", MANAGED_TAG, "managed-owner=team-b"])


def test_error_array_becomes_one_sentence():
    errors = [
        {"code": 422, "title": "Validation Error", "description": "Attribute 'name' is required", "data": {"attribute": "name"}},
        {"code": 422, "title": "Validation Error", "description": "bad port"},
    ]
    assert parse_prisma_errors(errors) == "Validation Error: Attribute 'name' is required (attribute name); Validation Error: bad port"
    assert parse_prisma_errors("plain text") is None


@pytest.mark.parametrize("value, quoted", [("web", '"web"'), ('say "hi"', "'say \"hi\"'")])
def test_filter_values_are_quoted(value, quoted):
    assert quote_filter_value(value) == quoted


def test_filter_value_with_both_quotes_is_refused():
    with pytest.raises(ValidationError, match="both kinds of quotes"):
        quote_filter_value("it's \"x\"")


class RecordingConnection:
    """Answers each POST with what the caller queued, and records the keys sent."""

    namespace = "/acme"

    def __init__(self, answers):
        self.answers = list(answers)
        self.sent = []

    def request(self, method, path, namespace=None, body=None, headers=None, **kwargs):
        self.sent.append((method, path, namespace, (headers or {}).get("Idempotency-Key")))
        return self.answers.pop(0)


def _create(connection, name="web", body=None):
    adapter = PrismaAdapter(connection, Kind("thing", "thing", []), Task({}), "/things")
    return adapter.create(Change("create", name, body=body or {"description": "d"}))


def test_a_create_key_is_the_same_for_the_same_object_in_the_same_place():
    assert creation_key("/a", "/things", {"name": "x", "v": 1}) == creation_key("/a", "/things", {"v": 1, "name": "x"})
    different = [creation_key("/b", "/things", {"name": "x", "v": 1}), creation_key("/a", "/others", {"name": "x", "v": 1}),
                 creation_key("/a", "/things", {"name": "x", "v": 2})]
    assert creation_key("/a", "/things", {"name": "x", "v": 1}) not in different


def test_create_sends_the_derived_key_so_that_a_replay_returns_the_first_object():
    connection = RecordingConnection([{"ID": "1", "name": "web"}])
    assert _create(connection)["ID"] == "1"
    assert connection.sent == [("POST", "/things", "/acme", creation_key("/acme", "/things", {"description": "d", "name": "web"}))]


def test_a_key_that_returns_another_name_is_not_taken_for_this_create():
    # the object the key created was renamed since: this create goes again, under a key of its own
    connection = RecordingConnection([{"ID": "1", "name": "renamed"}, {"ID": "2", "name": "web"}])
    assert _create(connection)["ID"] == "2"
    assert connection.sent[1][3] is None
