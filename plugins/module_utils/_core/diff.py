# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Diffs a reviewer can read: ``before`` and ``after`` of one object in the module's option form.

The object modules' ``diff`` (one entry per changed object in the list form) holds ``before`` and
``after`` as YAML text and a header naming the object, so that the unified diff Ansible's callbacks
print shows option names (``protocol_ports``, never the API's ``protocolPorts``) and, for a list of
dicts such as a ruleset's rules, the whole element that was added, removed or changed, as one line::

    -  - {name: web-in, object: [[app=frontend]], protocol_ports: [tcp/80]}
    +  - {name: web-in, object: [[app=frontend]], protocol_ports: [tcp/8443]}

The option form is the export's (``_core/export.py``: the inverse of each option's conversion,
defaults left out): ``before`` from the object read, ``after`` from the object the plan writes
(the update's body, or the object a create makes), so a check run and a real run give the same
diff. A secret option is shown as a mask: ``********`` when set, ``******** (changed)`` when the
change writes it; its value never. Where no option can say what the object holds (an NSX rule
with a context profile), that element or attribute is shown as the API has it.

The text is YAML (``from_yaml`` turns it back into the option form): mappings in block style,
each element of a list on one line in flow style, ``name`` first. Comments at the end say what no
option shows: that the collection manages the object and for which owner, a move, or the
attributes an update writes that no option shows.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import re

from ansible_collections.microseg.segmentation.plugins.module_utils._core.errors import MicrosegError
from ansible_collections.microseg.segmentation.plugins.module_utils._core.export import export_item, owner_of
from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import MASK

CHANGED_SECRET = MASK + " (changed)"
# the keys a mapping starts with, in this order (an object's or a rule's identity, then what it does)
FIRST_KEYS = ("name", "id", "action")
# what an export of an odd object (one no option can declare) may raise
_EXPORT_ERRORS = (MicrosegError, KeyError, TypeError, ValueError, AttributeError, IndexError)

_PLAIN = re.compile(r"^[A-Za-z_$/(][A-Za-z0-9_$/.=+()<>~@ -]*\Z")
_CIDR_LIKE = re.compile(r"^[0-9][0-9A-Za-z_.:]*/[0-9]+\Z")
_RESERVED = frozenset(("true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"))


# ---------------------------------------------------------------- YAML text

def _scalar(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    text = "%s" % (value,)  # a str subclass (a Secure Workload Key) as a plain str
    if (_PLAIN.match(text) or _CIDR_LIKE.match(text)) and not text.endswith(" ") and text.lower() not in _RESERVED:
        return text
    return json.dumps(text, ensure_ascii=False)


def _ordered_keys(mapping):
    first = [k for k in FIRST_KEYS if k in mapping]
    return first + [k for k in mapping if k not in first]


def _flow(value):
    """One value on one line (YAML flow style)."""
    if isinstance(value, dict):
        return "{%s}" % ", ".join("%s: %s" % (_scalar(k), _flow(value[k])) for k in _ordered_keys(value))
    if isinstance(value, (list, tuple)):
        return "[%s]" % ", ".join(_flow(v) for v in value)
    return _scalar(value)


def _literal(text, pad):
    """A multi-line string as a literal block, or None when one cannot hold it as it is."""
    if text[:1] in (" ", "\n") or "\r" in text:
        return None
    body = text[:-1] if text.endswith("\n") else text
    if body.endswith("\n"):
        return None
    indicator = "|" if text.endswith("\n") else "|-"
    return [indicator] + [(pad + "  " + line) if line else "" for line in body.split("\n")]


def _block(mapping, pad, lines):
    for key in mapping:
        value = mapping[key]
        label = pad + _scalar(key) + ":"
        if isinstance(value, dict) and value:
            lines.append(label)
            _block(value, pad + "  ", lines)
        elif isinstance(value, (list, tuple)) and value:
            lines.append(label)
            lines.extend(pad + "  - " + _flow(element) for element in value)
        else:
            literal = _literal(value, pad) if isinstance(value, str) and "\n" in value else None
            if literal is not None:
                lines.append(label + " " + literal[0])
                lines.extend(literal[1:])
            else:
                lines.append(label + " " + _flow(value))


def render(item, comments=()):
    """An object's option form as YAML text: block mappings, each list element on one line."""
    lines = []
    _block(item, "", lines)
    lines.extend("# " + comment for comment in comments)
    return "".join(line + "\n" for line in lines)


# ---------------------------------------------------------------- the option form

def _plain(value):
    """A copy made of dicts, lists and plain scalars only."""
    if isinstance(value, dict):
        return dict((_plain(k), _plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return "%s" % value
    return copy.deepcopy(value)


def _is_empty(field, value):
    try:
        return field.canon(value) == field.canon(None)
    except _EXPORT_ERRORS:
        return value in (None, "", [], {})


def _piecewise(field, value, obj):
    """An attribute whose export fails as a whole: each list element exported on its own, those no
    option can declare as the API has them."""
    if not isinstance(value, list):
        return copy.deepcopy(value)
    out = []
    for element in value:
        try:
            out.extend(field.export([element], obj))
        except _EXPORT_ERRORS:
            out.append(copy.deepcopy(element))
    return out


def _raw(kind, obj, keys):
    """The last resort: the attributes as the API has them, under their option names, secrets left out."""
    item = dict(keys) if keys is not None else {"name": obj.get(kind.identity)}
    secrets = []
    for field in kind.options(task=False):
        if field.key or field.api is None or field.api not in obj:
            continue
        if field.secret:
            if obj[field.api] not in (None, "", []):
                secrets.append(field.option)
        elif not _is_empty(field, obj[field.api]):
            item[field.option] = copy.deepcopy(obj[field.api])
    return item, secrets


def option_form(kind, obj, keys=None, scheme=None, dropped_tags=()):
    """``(item, secret options set)`` of an object: :func:`export_item`'s, or, for an object some of
    whose attributes no option can declare, the others exported and those as the API has them."""
    try:
        item, secrets = export_item(kind, obj, keys=keys, scheme=scheme, dropped_tags=dropped_tags)
        return _ranked(kind, item, keys), secrets
    except _EXPORT_ERRORS:
        pass
    odd = {}
    for field in kind.options(task=False):
        if callable(field.export) and not field.key and field.api in obj:
            try:
                field.export(obj[field.api], obj)
            except _EXPORT_ERRORS:
                odd[field] = _piecewise(field, obj[field.api], obj)
    rest = dict((k, v) for k, v in obj.items() if k not in set(f.api for f in odd))
    try:
        item, secrets = export_item(kind, rest, keys=keys, scheme=scheme, dropped_tags=dropped_tags)
    except _EXPORT_ERRORS:
        item, secrets = _raw(kind, rest, keys)
    for field, value in odd.items():
        item[field.option] = value
    return _ranked(kind, item, keys), secrets


def _ranked(kind, item, keys):
    """The options of an item in the order a task lists them: name and id, the other options that
    identify the object, then the kind's options in their order."""
    order = list(FIRST_KEYS[:2]) + list(keys or ()) + [f.option for f in kind.options()]
    ranked = sorted(item, key=lambda k: order.index(k) if k in order else len(order))
    return dict((k, item[k]) for k in ranked)


def _unordered(field, values):
    """Does the field's comparison ignore the order of its list (a multiset of rules, a set of tags)?
    Told by the comparison itself: a list compares equal to itself reversed."""
    for value in values:
        if isinstance(value, list) and len(value) > 1 and value != value[::-1]:
            try:
                return field.canon(value) == field.canon(value[::-1])
            except _EXPORT_ERRORS:
                return False
    return False


def _name(element):
    return element.get("name") if isinstance(element, dict) else None


def _align(before, after):
    """``after`` in ``before``'s order: an element equal to one before takes its place, then one of the
    same name (a changed rule shows next to the rule it replaces), then any other new element takes
    the place of one removed, in their orders; what is left follows."""
    slots = [None] * len(before)
    left = list(range(len(after)))
    names = set(_name(b) for b in before if _name(b) is not None)
    for match in (lambda b, a: b == a, lambda b, a: _name(b) is not None and _name(b) == _name(a),
                  lambda b, a: _name(a) is None or _name(a) not in names):
        for index, element in enumerate(before):
            if slots[index] is not None:
                continue
            found = next((j for j in left if match(element, after[j])), None)
            if found is not None:
                slots[index] = found
                left.remove(found)
    return [after[j] for j in slots if j is not None] + [after[j] for j in left]


# ---------------------------------------------------------------- one change

def _keys(kind, change):
    """The options that identify the object, as the task gave them (None: the export's own)."""
    values = change.values
    keys = dict((f.option, values[f.option]) for f in kind.options(task=False) if f.key and values.get(f.option) is not None)
    return keys or None


def planned(change, adapter=None):
    """The object the plan writes: an update's body, the object a create makes (None for a delete)."""
    if change.action == "delete":
        return None
    if change.action == "none":
        return change.existing
    if change.action == "create" and change.existing is None:
        return adapter.predict_create(change) if adapter is not None else change.body
    return change.body if change.body is not None else change.existing


def _scheme(adapter):
    ownership = getattr(getattr(adapter, "task", None), "ownership", None)
    return ownership.scheme if ownership is not None else None


def _comments(obj, scheme):
    if obj is None or scheme is None:
        return []
    owner = owner_of(obj, scheme)
    return ["managed by this collection, owner %s" % owner] if owner is not None else []


def _unshown(kind, change):
    """What an update writes that no option shows (a Field without option, an attribute no Field has)."""
    return sorted(set((kind.by_api[api].option or api) if api in kind.by_api else api for api in change.fields))


def readable_diff(kind, change, adapter=None):
    """``{before, after, before_header, after_header}`` of one change, as the module's options in YAML
    text (see the module docstring); an object that is not there is the empty text."""
    scheme = _scheme(adapter)
    keys = _keys(kind, change)
    required = getattr(adapter, "required_tags", None)
    dropped = list(required(change.name)) if required is not None else []
    objects = (change.existing, planned(change, adapter))
    forms = []
    for obj in objects:
        if obj is None:
            forms.append((None, []))
            continue
        item, secrets = option_form(kind, obj, keys=_plain(keys) if keys else None, scheme=scheme, dropped_tags=dropped)
        forms.append((_plain(item), secrets))
    (before, before_secrets), (after, after_secrets) = forms
    if before is not None and after is not None:
        for field in kind.options(task=False):
            lists = isinstance(before.get(field.option), list) and isinstance(after.get(field.option), list)
            if lists and _unordered(field, [(o or {}).get(field.api) for o in objects]):
                after[field.option] = _align(before[field.option], after[field.option])
    changed = set(change.fields) if change.action == "update" else set()
    by_option = dict((f.option, f) for f in kind.options(task=False))
    texts = []
    for item, secrets, obj, written in ((before, before_secrets, objects[0], set()), (after, after_secrets, objects[1], changed)):
        if item is None:
            texts.append("")
            continue
        for option in secrets:
            item[option] = CHANGED_SECRET if by_option[option].api in written else MASK
        texts.append(render(_ranked(kind, item, keys), _comments(obj, scheme)))
    before_text, after_text = texts
    if after is not None and change.placement is not None:
        after_text += "# moved: %s\n" % " ".join(str(p) for p in change.placement if p is not None)
    if change.action == "update" and before_text == after_text and change.fields:
        after_text += "# written again: %s\n" % ", ".join(_unshown(kind, change))
    header = "%s '%s'" % (kind.title, change.name)
    return {
        "before": before_text,
        "after": after_text,
        "before_header": header,
        "after_header": "%s (%s)" % (header, change.action) if change.action != "none" else header,
    }
