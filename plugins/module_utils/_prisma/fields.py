# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options that many Prisma object kinds share, with their API mapping and validation."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.microseg.segmentation.plugins.module_utils._core.reconcile import Field, Kind
from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import (
    ValidationError,
    validate_tag_expression,
    validate_tags,
)

# option name -> (argument spec, Field)
_COMMON = {
    "description": (dict(type="str"), Field("description", "description", empty="")),
    "tags": (dict(type="list", elements="str"), Field("tags", "associatedTags", compare="set", empty=[])),
    "protected": (dict(type="bool"), Field("protected", "protected", empty=False)),
    "propagate": (dict(type="bool"), Field("propagate", "propagate", empty=False)),
    "disabled": (dict(type="bool"), Field("disabled", "disabled", empty=False)),
    "fallback": (dict(type="bool"), Field("fallback", "fallback", empty=False)),
}

BOOLEAN_COMMON = ("protected", "propagate", "disabled", "fallback")


def common_spec(*names):
    """Argument spec for ``name`` plus the shared options named."""
    spec = {"name": dict(type="str")}
    for name in ("description", "tags") + names:
        spec[name] = dict(_COMMON[name][0])
    return spec


def common_fields(*names):
    return [_COMMON[name][1] for name in ("description", "tags") + names]


def build_common(params, prefix, names=()):
    """The API attributes of the shared options the user set."""
    desired = {}
    if params.get("name") is not None:
        name = params["name"]
        if not name or len(name) > 256:
            raise ValidationError(prefix + "name", "must be 1 to 256 characters long")
    if params.get("description") is not None:
        if len(params["description"]) > 1024:
            raise ValidationError(prefix + "description", "must be at most 1024 characters long")
        desired["description"] = params["description"]
    if params.get("tags") is not None:
        desired["associatedTags"] = validate_tags(params["tags"], prefix + "tags")
    for name in names:
        if params.get(name) is not None:
            desired[name] = params[name]
    return desired


def set_if(desired, params, option, api, convert=None):
    """Copy one option into ``desired`` under its API name when the user set it."""
    value = params.get(option)
    if value is not None:
        desired[api] = convert(value) if convert else value


def expression(params, prefix, option, strict=False):
    value = params.get(option)
    if value is None:
        return None
    return validate_tag_expression(value, prefix + option, allow_empty=not strict, strict=strict)


POLICY_FLAGS = ("propagate", "disabled", "fallback", "protected")


class Policy:
    """The ``kind``, argument ``spec`` and ``build`` function of one policy kind."""

    def __init__(self, kind, spec, build):
        self.kind = kind
        self.spec = spec
        self.build = build


def subject_object_policy(kind_name, title):
    """A policy kind that maps a subject expression to an object expression."""
    kind = Kind(
        kind_name,
        title,
        common_fields(*POLICY_FLAGS) + [
            Field("subject", "subject", compare="expression", empty=[]),
            Field("object", "object", compare="expression", empty=[]),
        ],
        create_requires=[("subject", "subject"), ("object", "object")],
    )
    spec = common_spec(*POLICY_FLAGS)
    spec.update(subject=dict(type="raw"), object=dict(type="raw"))

    def build(params, prefix):
        desired = build_common(params, prefix, POLICY_FLAGS)
        for option in ("subject", "object"):
            value = expression(params, prefix, option)
            if value is not None:
                desired[option] = value
        return desired

    return Policy(kind, spec, build)
