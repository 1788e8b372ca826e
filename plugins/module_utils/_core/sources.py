# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Declarations read from files where the module runs: the ``src`` option of the list forms and of
the flow checks.

``src`` names files, directories and globs. A directory is read recursively: every ``.yml``,
``.yaml`` and ``.json`` file in it, in sorted path order, hidden files and directories left out.
A glob is expanded (``**`` included) and sorted. A file holds a list of items, or a mapping of
name to item (the key is the item's name). Each item is validated against the item argument spec,
and every message names the file and the item: ``policy/web.yml[3].subject: ...`` for a list,
``policy/web.yml[web-in].subject: ...`` for a mapping.

Nothing is guessed: a path that matches no file, an empty file (write ``[]`` for a file that
declares nothing), or a file holding anything but a list or a mapping fails the task before any
request, since a purge would otherwise delete what the missing declarations hold.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import copy
import gc
import glob
import json
import os
import traceback

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import NoLogError, UnsupportedError

from ansible_collections.microseg.segmentation.plugins.module_utils._core.validators import ValidationError

try:
    import yaml
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode
    try:
        from yaml import CSafeLoader as _Loader
    except ImportError:  # PyYAML built without libyaml
        from yaml import SafeLoader as _Loader
    HAS_YAML = True
    YAML_ERROR = None
except ImportError:
    HAS_YAML = False
    YAML_ERROR = traceback.format_exc()
    _Loader = object

_STR_TAG = "tag:yaml.org,2002:str"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"


# the tag of a plain scalar is a function of its text alone (without path resolvers, as ever in
# the safe loader): the same texts (keys, ports, common tags) recur thousands of times in a policy
# repository. A resolver of its own, so that the loader holds no reference to itself.
# Any other node takes its kind's default tag, as the resolver gives it without path resolvers.
_RESOLVED = {}
_RESOLVER = yaml.resolver.Resolver() if HAS_YAML else None
_DEFAULT_TAGS = {ScalarNode: _STR_TAG, SequenceNode: _SEQ_TAG, MappingNode: _MAP_TAG} if HAS_YAML else {}


def _resolve_remembered(kind, value, implicit):
    if kind is ScalarNode and implicit[0]:
        tag = _RESOLVED.get(value)
        if tag is None:
            tag = _RESOLVER.resolve(kind, value, implicit)
            if len(_RESOLVED) < 20000:
                _RESOLVED[value] = tag
        return tag
    return _DEFAULT_TAGS[kind]


class _LeanLoader(_Loader):  # pylint: disable=too-many-ancestors
    """The safe loader with a shorter path for the nodes a declaration file is made of.

    The parser composes the nodes as usual; a plain string, list or mapping whose keys are plain
    strings is then built directly, and every other node (numbers, booleans, null, timestamps,
    binary, sets, ordered maps, merge keys, other keys, unknown tags) goes to the safe
    constructor itself. Both share one record of the nodes built, so an anchor gives the same
    object wherever it is used, and the result is what ``yaml.load(..., Loader=_Loader)`` returns.
    A document this loader refuses is read again by :func:`load_yaml` with the safe loader alone,
    so that its errors are exactly that loader's.
    """

    def __init__(self, stream):
        super(_LeanLoader, self).__init__(stream)
        if not self.yaml_path_resolvers:
            # the parser tells the resolver of every node it enters and leaves, for path resolvers
            # alone: with none (as ever in the safe loader), C functions that do nothing answer
            self.descend_resolver = slice
            self.ascend_resolver = tuple
            self.resolve = _resolve_remembered

    def construct_document(self, node):
        built = self.constructed_objects
        construct = self.construct_object

        def build(node):
            kind = node.__class__
            if kind is ScalarNode:
                return node.value if node.tag == _STR_TAG else construct(node)
            if node in built:
                return built[node]
            if kind is SequenceNode and node.tag == _SEQ_TAG:
                data = built[node] = []  # recorded before its content, which may hold it
                data.extend([build(child) for child in node.value])
                return data
            if kind is MappingNode and node.tag == _MAP_TAG:
                pairs = node.value
                for pair in pairs:
                    if pair[0].__class__ is not ScalarNode or pair[0].tag != _STR_TAG:
                        return construct(node)  # a merge key, a key that is no string...
                data = built[node] = {}
                for key, value in pairs:
                    data[key.value] = build(value)
                return data
            return construct(node)

        try:
            data = build(node)
        finally:
            # a function that calls itself is a reference cycle, which would keep every node until
            # the next collection: broken here, the nodes go as soon as the load returns
            build = None
        # what the safe constructor left to finish (the contents of the nodes it was given)
        while self.state_generators:
            generators, self.state_generators = self.state_generators, []
            for generator in generators:
                list(generator)  # run to its end
        self.constructed_objects = {}
        self.recursive_objects = {}
        self.deep_construct = False
        return data


@contextlib.contextmanager
def _gc_paused():
    """No garbage collection inside: reading thousands of declarations makes hundreds of thousands
    of objects (a node per value, then the items), none of them in a reference cycle, and the
    collector would walk every object of the process again and again for nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_yaml(data):
    """``yaml.load(data, Loader=<the safe loader>)``, in less time: the same value (types, anchors
    shared) or the same error."""
    with _gc_paused():
        try:
            return yaml.load(data, Loader=_LeanLoader)  # nosec: a safe loader
        except Exception:  # pylint: disable=broad-exception-caught
            pass  # a bad document, or one too deep for the lean path: the safe loader's own outcome
        return yaml.load(data, Loader=_Loader)  # nosec: a safe loader


EXTENSIONS = (".yml", ".yaml", ".json")
GLOB_CHARACTERS = ("*", "?", "[")


def _walk(directory):
    found = []
    for root, dirs, files in os.walk(directory, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(os.path.join(root, f) for f in files if not f.startswith(".") and f.endswith(EXTENSIONS))
    return sorted(found)


def expand(paths, option="src"):
    """The files ``paths`` name, in order, each once."""
    files = []
    for path in paths:
        if any(c in path for c in GLOB_CHARACTERS):
            found = []
            for match in sorted(glob.glob(path, recursive=True)):
                if os.path.isdir(match):
                    found.extend(_walk(match))
                elif match.endswith(EXTENSIONS):
                    found.append(match)
            if not found:
                raise ValidationError(option, "%r matches no .yml, .yaml or .json file" % path)
        elif os.path.isdir(path):
            found = _walk(path)
            if not found:
                raise ValidationError(option, "directory %r holds no .yml, .yaml or .json file" % path)
        elif os.path.isfile(path):
            found = [path]
        else:
            raise ValidationError(option, "%r: no such file or directory" % path)
        files.extend(found)
    seen, unique = set(), []
    for path in files:
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            unique.append(path)
    return unique


def load_file(path):
    """The content of one JSON or YAML file."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except (IOError, OSError) as exc:
        raise ValidationError(path, "cannot be read: %s" % (exc.strerror or exc)) from None
    if path.endswith(".json"):
        try:
            return json.loads(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValidationError(path, "is not valid JSON: %s" % exc) from None
    if not HAS_YAML:
        raise ValidationError(path, "reading YAML needs the Python library PyYAML where the module runs; install it, or write the file as JSON")
    try:
        return load_yaml(data)
    except yaml.YAMLError as exc:
        raise ValidationError(path, "is not valid YAML: %s" % str(exc).replace("\n", " ")) from None


def read_entries(paths, key_option=None, option="src"):
    """``(location, item)`` for every item of every file ``paths`` name, ``location`` being
    ``<file>[<index>]`` or, in a mapping file, ``<file>[<key>]``; ``key_option`` is the option a
    mapping key sets (None where items have no single identifying option)."""
    entries = []
    for path in expand(paths, option):
        content = load_file(path)
        if content is None:
            raise ValidationError(path, "is empty; write [] for a file that declares nothing")
        if isinstance(content, list):
            pairs = [(str(index), item) for index, item in enumerate(content)]
        elif isinstance(content, dict):
            if key_option is None:
                raise ValidationError(path, "must hold a list of items (these items have no single name a mapping key could give)")
            pairs = []
            for key, item in content.items():
                location = "%s[%s]" % (path, key)
                if item is None:
                    item = {}
                if not isinstance(item, dict):
                    raise ValidationError(location, "must be a mapping of options")
                if item.get(key_option) is not None and item[key_option] != key:
                    raise ValidationError(location + "." + key_option, "%r differs from the key the file gives it" % (item[key_option],))
                item = dict(item)
                item[key_option] = str(key)
                pairs.append((str(key), item))
        else:
            raise ValidationError(path, "must hold a list of items or a mapping of %s to item, not a %s" % (
                key_option or "name", type(content).__name__))
        for label, item in pairs:
            if not isinstance(item, dict):
                raise ValidationError("%s[%s]" % (path, label), "must be a mapping of options")
            entries.append(("%s[%s]" % (path, label), item))
    return entries


def spec_error_message(errors):
    """The message of the first argument-spec error of an item (``unsupported option(s) ...``).

    A sub-option list given as a string (``ports: "tcp/80"``) first fails the no_log scan, whose
    message names no option; the type error after it does, so that one is preferred.
    """
    named = [e for e in errors if not isinstance(e, NoLogError)] or errors
    unsupported = "unsupported option(s) " if isinstance(named[0], UnsupportedError) else ""
    return unsupported + named[0].args[0]


_EXACT_TYPES = {"str": str, "int": int, "bool": bool, "list": list, "dict": dict}
_SUB_RULES = ("mutually_exclusive", "required_one_of", "required_together", "required_if", "required_by")


class _Unsure(Exception):
    """The fast check leaves this value to ArgumentSpecValidator."""


def _unsure(value):
    raise _Unsure()


def _copier(default):
    """What makes a fresh copy of an option's default for each item (None: the default itself)."""
    if not isinstance(default, (list, dict)):
        return None
    if type(default) is list and all(_immutable(v) for v in default):  # pylint: disable=unidiomatic-typecheck
        return list  # a shallow copy of a list of immutable values is a deep one
    if type(default) is dict and all(_immutable(k) and _immutable(v) for k, v in default.items()):  # pylint: disable=unidiomatic-typecheck
        return dict
    return copy.deepcopy


def _immutable(value):
    return value is None or type(value) in (str, int, float, bool)  # pylint: disable=unidiomatic-typecheck


def _value_check(option):
    """A function doing for one option's value what the fast check asks (the value, or :class:`_Unsure`)."""
    kind = option.get("type", "str")
    if kind != "raw" and kind not in _EXACT_TYPES:
        return _unsure  # a value to convert (or refuse): AnsibleModule's rules decide
    exact = _EXACT_TYPES.get(kind) if kind != "raw" else None
    choices = option.get("choices")
    many = kind == "list"
    element = sub = None
    if many and option.get("elements") not in (None, "raw"):
        element = _value_check(dict(type=option["elements"], options=option.get("options")))
    elif kind == "dict" and option.get("options") is not None:
        sub = _item_check(option["options"])

    def check(value):
        if exact is not None and type(value) is not exact:  # pylint: disable=unidiomatic-typecheck
            raise _Unsure()
        if choices is not None and any(v not in choices for v in (value if many else [value])):
            raise _Unsure()
        if element is not None:
            return [element(v) for v in value]
        if sub is not None:
            return sub(value)
        return value
    return check


def _item_check(spec):
    """A function doing what :func:`_fast_item` does for ``spec``, every question about the spec
    answered once rather than for each item."""
    steps = []
    for name, option in spec.items():
        default = option.get("default")
        steps.append((name, bool(option.get("required")), default, _copier(default),
                      # a secret to register, or a rule across sub-options
                      bool(option.get("no_log") or any(option.get(rule) for rule in _SUB_RULES)),
                      _value_check(option)))

    def check(params):
        for key in params:
            if key not in spec:
                raise _Unsure()  # an alias, or an unsupported option
        validated = {}
        for name, required, default, copier, refused, value_check in steps:
            value = params.get(name)
            if value is None:
                if required:
                    raise _Unsure()
                validated[name] = default if copier is None else copier(default)
                continue
            if refused:
                raise _Unsure()
            validated[name] = value_check(value)
        return validated
    return check


def _fast_item(spec, params):
    """``params`` as ArgumentSpecValidator validates them against ``spec``, when every value already
    has its declared type and nothing else is asked of it; otherwise :class:`_Unsure`."""
    return _item_check(spec)(params)


def validate_entries(entries, item_spec, no_log_values):
    """Each entry's options checked against ``item_spec`` as AnsibleModule checks ``items``:
    types converted, defaults set, unset options None. The values of ``no_log`` options are added
    to ``no_log_values`` first (so that no message or result shows them). Returns
    ``(location, validated item)``.

    An item whose values all have their declared type already, with no secret and no rule across
    sub-options, takes a fast path that gives what ArgumentSpecValidator gives (thousands of items
    read from files are checked in a fraction of the time); every other item goes through
    ArgumentSpecValidator itself, which converts, refuses and registers secrets.
    """
    validator = ArgumentSpecValidator(item_spec)
    fast = _item_check(item_spec)
    validated = []
    for location, item in entries:
        try:
            validated.append((location, fast(item)))
            continue
        except _Unsure:
            pass
        result = validator.validate(item)
        no_log_values.update(result._no_log_values)
        if result.errors.errors:
            raise ValidationError(location, spec_error_message(result.errors.errors))
        validated.append((location, result.validated_parameters))
    return validated


def read_validated(module, key_option, item_spec, option="src"):
    """The validated ``(location, item)`` of every file the module's ``src`` names ([] without ``src``)."""
    paths = module.params.get(option)
    if not paths:
        return []
    with _gc_paused():
        return validate_entries(read_entries(paths, key_option, option), item_spec, module.no_log_values)
