# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Fields many Prisma object kinds share (options, API names, conversions, compare rules)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Field, Kind
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import (
    ValidationError,
    validate_tag_expression,
    validate_tags,
    validate_text,
)


def check_name(value, path):
    """1 to 256 characters (the console's ``maxlen 256``), none of them a control character such as
    NUL: the console stores such a name but no filter or display can find it again."""
    if not value or len(value) > 256:
        raise ValidationError(path, "must be 1 to 256 characters long")
    return validate_text(value, path, 256, minimum=0)


def check_description(value, path):
    if len(value) > 1024:
        raise ValidationError(path, "must be at most 1024 characters long")
    return value


def tag_expression(strict=False):
    """The conversion of a tag-expression option (``strict``: no empty clause or expression)."""
    return lambda value, path: validate_tag_expression(value, path, allow_empty=not strict, strict=strict)


_COMMON = {
    "description": lambda: Field("description", "description", empty="", convert=check_description),
    "tags": lambda: Field("tags", "associatedTags", compare="set", empty=[], convert=validate_tags, type="list", elements="str"),
    "protected": lambda: Field("protected", "protected", empty=False, type="bool"),
    "propagate": lambda: Field("propagate", "propagate", empty=False, type="bool"),
    "disabled": lambda: Field("disabled", "disabled", empty=False, type="bool"),
    "fallback": lambda: Field("fallback", "fallback", empty=False, type="bool"),
}

POLICY_FLAGS = ("propagate", "disabled", "fallback", "protected")


def common_fields(*names):
    """``name``, ``description``, ``tags`` and the shared options named."""
    return [Field("name", key=True, convert=check_name)] + [_COMMON[name]() for name in ("description", "tags") + names]


def subject_object_policy(kind_name, title, reserved_names=()):
    """A policy kind that maps a subject expression to an object expression."""
    return Kind(
        kind_name,
        title,
        common_fields(*POLICY_FLAGS) + [
            Field("subject", "subject", compare="expression", empty=[], convert=tag_expression(), type="raw"),
            Field("object", "object", compare="expression", empty=[], convert=tag_expression(), type="raw"),
        ],
        create_requires=[("subject", "subject"), ("object", "object")],
        reserved_names=reserved_names,
    )
