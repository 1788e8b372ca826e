# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prisma helpers that need no server: tags the collection manages, error text, filter quoting."""

import pytest

from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.common import (
    MANAGED_TAG,
    PrismaAdapter,
    parse_prisma_errors,
    quote_filter_value,
)


class NamedAdapter(PrismaAdapter):
    def __init__(self, adopt=False):  # pylint: disable=super-init-not-called
        self.adopt = adopt

    def required_tags(self, name):
        return ["kind:name=%s" % name]


def test_created_objects_get_the_management_tag():
    assert NamedAdapter().complete("a", {}, None)["associatedTags"] == ["kind:name=a", MANAGED_TAG]


def test_single_update_of_a_foreign_object_leaves_it_unmanaged():
    desired = NamedAdapter().complete("default", {"disabled": True}, {"associatedTags": ["x=1"]})
    assert desired["associatedTags"] == ["x=1", "kind:name=default"]


def test_list_form_adopts_what_it_declares():
    desired = NamedAdapter(adopt=True).complete("a", {}, {"associatedTags": []})
    assert MANAGED_TAG in desired["associatedTags"]


def test_user_tags_never_drop_an_existing_management_tag():
    desired = NamedAdapter().complete("a", {"associatedTags": ["team=web"]}, {"associatedTags": [MANAGED_TAG, "old=1"]})
    assert sorted(desired["associatedTags"]) == sorted(["team=web", "kind:name=a", MANAGED_TAG])


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
