# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The declaration files' YAML loader (``_core/sources.py``) gives exactly what PyYAML's safe loader
gives: the same types and values, the same object wherever an anchor is used, the same error for a
document it refuses.

The corpus is every YAML file of the collection (playbooks, integration targets, roles, molecule
scenarios, docs, changelog fragments) and documents written for the corners of YAML 1.1.
"""

import gc
import glob
import math
import os

import pytest
import yaml

from ansible_collections.microseg.segmentation.plugins.module_utils._core import sources
from ansible_collections.microseg.segmentation.plugins.module_utils._core.sources import load_yaml

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..")
CORPUS_DIRECTORIES = ("playbooks", "tests/integration/targets", "roles", "molecule", "docs", "changelogs")

TRICKY = [
    # anchors and aliases: one object wherever the anchor is used, and structures holding themselves
    "base: &b {a: 1, b: [x, y]}\none: *b\ntwo: *b\n",
    "- &s [1, 2]\n- *s\n- {k: *s}\n- &t text\n- *t\n",
    "&r [*r]\n",
    "&m {self: *m, list: [*m]}\n",
    "&r [a, {b: *r}, &q [*q, *r]]\n",
    "d: &d 2001-12-14\ne: *d\nf: [*d]\n",
    "m: &m {a: 1}\no: !!omap [{k: *m}, {j: *m}]\n",
    "m: &m [1]\np: !!pairs [{k: *m}]\nq: *m\n",
    "s: &s !!set {a, b}\nt: *s\nu: [*s]\n",
    # merge keys, alone, in lists, overridden, nested, and in a mapping the plain path builds
    "base: &b {a: 1, b: 2}\nx:\n  <<: *b\n  c: 3\n",
    "x: {<<: [{a: 1}, {a: 2, b: 3}], b: 4}\n",
    "<<: {a: 1}\n",
    "base: &b {a: 1}\nx: {<<: *b, a: 5}\ny: *b\n",
    "a: &a {x: 1}\nb: &b {<<: *a, y: 2}\nc: {<<: *b, z: 3}\nd: [*a, *b]\n",
    "x: {<<: [], a: 1}\n",
    # YAML 1.1 numbers, booleans and nulls
    "[0x1F, 0o17, 017, 0b101, 1_000, 1:20, 190:20:30, -1:30, +12, 1.5e3, 1_0.5, .inf, -.inf, +.inf, .nan, .NaN, 6.8523015e+5]\n",
    "[12345678901234567890, -0, 0, 00, 09, 0o8, 0x, 1e3, 1.0e+3, 685.230_15e+03, -.5, 1.]\n",
    "[yes, no, on, off, y, n, Yes, NO, On, OFF, true, false, True, FALSE, ~, null, Null, NULL, '', \"\"]\n",
    "a:\nb: ~\nc: null\n? d\n",
    # timestamps, binary, sets, ordered maps, pairs
    "[2001-12-14, 2001-12-14t21:59:43.10-05:00, 2001-12-14 21:59:43.10, 2002-12-14T00:00:00Z, 2001-12-14 21:59:43.1234567 +5]\n",
    "!!binary aGVsbG8=\n",
    "!!set {a, b, c}\n",
    "!!omap [{a: 1}, {b: 2}]\n",
    "!!pairs [{a: 1}, {a: 2}]\n",
    # keys that are no plain strings
    "{1: a, true: b, null: c, 1.5: d, 2001-01-01: e, '1': f, yes: g}\n",
    "? !!binary aGk=\n: bytes key\n",
    "{=: 1, a: b}\n",
    # duplicate keys: the last value, in the place of the first
    "{a: 1, b: 2, a: 3}\n",
    "a: [1]\nb: x\na: {c: d}\n",
    # empty documents
    "",
    "---\n",
    "# only a comment\n",
    "...\n",
    "--- \n...\n",
    "--- []\n",
    "--- {}\n",
    # strings that look like something else, and explicit tags
    "['1', \"2\", '0x1F', 'yes', 'null', '~', '2001-12-14', !!str 12, !!str yes, !!str, ! 12, ! yes]\n",
    "[!!int '12', !!float '1', !!bool 'yes', !!null '', !!timestamp '2001-12-14']\n",
    "!!map {a: 1}\n",
    "!!seq [a]\n",
    "! {a: [b]}\n",
    "!<tag:yaml.org,2002:str> 12\n",
    "a: |\n  line 1\n  line 2\nb: >\n  folded\n  text\nc: 'single ''quoted'''\nd: \"\\u00e9\\x41\\t\"\n",
    "name: caf\u00e9\nemoji: \U0001F600\n".encode("utf-8"),
    b"\xef\xbb\xbfa: 1\n",
    "- name: rs-1\n  subject: [[app=web, $identity=processingunit]]\n  incoming_rules:\n  - object: [[app=lb]]\n    protocol_ports: [tcp/443]\n",
    "[" * 900 + "]" * 900,  # deeper than the lean path goes: the safe loader's own result
    "- " * 300 + "x\n",
    # documents the loader refuses
    "a: 1\n---\nb: 2\n",
    "---\n---\n",
    "{[a, b]: 1}\n",
    "{{a: 1}: 2}\n",
    "? [a]\n: 1\n",
    "l: &l [1, 2]\ns: !!set {? *l}\n",
    "l: &l {a: 1}\nm: {*l : 2}\n",
    "!!seq {a: 1}\n",
    "!!map [a]\n",
    "!!str {a: 1}\n",
    "!!str [a]\n",
    "!custom 1\n",
    "a: !custom {b: 1}\n",
    "!!python/object:os.system x\n",
    "a: !!int abc\n",
    "a: !!float abc\n",
    "a: !!binary '%%%'\n",
    "a: !!binary [a]\n",
    "a: !!timestamp 2001-13-45\n",
    "!!omap {a: 1}\n",
    "!!omap [a]\n",
    "!!omap [{a: 1, b: 2}]\n",
    "!!pairs [[a]]\n",
    "a: =\n",
    "x: {<<: 1}\n",
    "x: {<<: [1]}\n",
    "a: *unknown\n",
    "a: &x 1\nb: &x 2\nc: *x\n",
    "a: [1, 2\n",
    "a: b: c\n",
    "\t- a\n",
    "key: 'unterminated\n",
    "- a\nb: c\n",
    b"a: \xff\xfe\n",
    "[" * 3000 + "]" * 3000,
]


def corpus_files():
    found = []
    for directory in CORPUS_DIRECTORIES:
        for extension in ("yml", "yaml"):
            found.extend(glob.glob(os.path.join(ROOT, directory, "**", "*." + extension), recursive=True))
    return sorted(found)


def outcome(load, data):
    """``("value", value)`` or ``("error", exception type, message)``."""
    try:
        return ("value", load(data))
    except Exception as exc:  # pylint: disable=broad-exception-caught
        return ("error", type(exc), str(exc))


def assert_same(left, right, pairs=None, path="$"):
    """``left`` and ``right`` hold the same types and values, and share objects the same way."""
    pairs = {} if pairs is None else pairs
    assert type(left) is type(right), (path, left, right)
    if isinstance(left, (dict, list, set, bytes, bytearray)) or type(left).__module__ == "datetime":
        # an object reached twice on one side is reached twice at the same places on the other
        if id(left) in pairs:
            assert pairs[id(left)] == id(right), path
            return
        assert id(right) not in pairs.values(), path
        pairs[id(left)] = id(right)
    if isinstance(left, dict):
        assert [type(k) for k in left] == [type(k) for k in right] and list(left) == list(right), path
        for (key, value), other in zip(left.items(), right.values(), strict=True):
            assert_same(value, other, pairs, "%s.%r" % (path, key))
    elif isinstance(left, list):
        assert len(left) == len(right), path
        for index, (value, other) in enumerate(zip(left, right, strict=True)):
            assert_same(value, other, pairs, "%s[%d]" % (path, index))
    elif isinstance(left, float) and math.isnan(left):
        assert math.isnan(right), path
    else:
        assert left == right, (path, left, right)


def check(data):
    expected = outcome(lambda text: yaml.load(text, Loader=yaml.CSafeLoader), data)  # nosec: the safe loader
    found = outcome(load_yaml, data)
    if expected[0] == "error":
        assert found == expected
        return "error"
    assert found[0] == "value", found
    assert_same(expected[1], found[1])
    # the lean path itself (the loader falls back on the safe one only for what it refuses)
    lean = outcome(lambda text: yaml.load(text, Loader=sources._LeanLoader), data)  # nosec: a safe loader
    if lean[0] == "value":
        assert_same(expected[1], lean[1])
        return "lean"
    return "fallback"


def test_every_yaml_file_of_the_collection_loads_as_the_safe_loader_loads_it():
    files = corpus_files()
    seen = {"lean": 0, "fallback": 0, "error": 0}
    for path in files:
        with open(path, "rb") as handle:
            seen[check(handle.read())] += 1
    assert len(files) > 100 and seen["lean"] > 100 and seen["fallback"] == 0, seen


@pytest.mark.parametrize("data", TRICKY, ids=range(len(TRICKY)))
def test_a_tricky_document_loads_or_fails_as_with_the_safe_loader(data):
    check(data)


def test_the_tricky_documents_cover_values_errors_and_both_paths():
    seen = {"lean": 0, "fallback": 0, "error": 0}
    for data in TRICKY:
        seen[check(data)] += 1
    assert seen["lean"] > 40 and seen["fallback"] >= 1 and seen["error"] > 30, seen


def test_anchors_give_one_object_wherever_they_are_used():
    loaded = load_yaml("base: &b {a: [1]}\none: *b\nl: &l [x]\nm: {k: *l}\nr: &r [*r]\n")
    assert loaded["one"] is loaded["base"] and loaded["m"]["k"] is loaded["l"]
    assert loaded["r"][0] is loaded["r"]


def test_collection_is_back_on_and_nothing_is_left_for_it():
    gc.collect()
    assert gc.isenabled()
    with open(sorted(glob.glob(os.path.join(ROOT, "playbooks", "*.yml")))[0], "rb") as handle:
        data = handle.read()
    gc.disable()
    try:
        load_yaml(data)
        with pytest.raises(yaml.YAMLError):
            load_yaml("a: [1, 2\n")
        assert gc.collect() == 0  # no reference cycle holds the parsed nodes
        assert not gc.isenabled()  # a pause inside leaves the collector as it found it
    finally:
        gc.enable()
    load_yaml(data)
    with pytest.raises(yaml.YAMLError):
        load_yaml("a: [1, 2\n")
    assert gc.isenabled()


@pytest.mark.parametrize("value", ["", "~", "null", "true", "No", "on", "12", "0x1f", "1_000", "1.5e3", ".inf", "-.NaN", "2001-12-14",
                                   "2001-12-14t21:59:43.10-05:00", "<<", "=", "tcp/443", "app=web", "$identity=processingunit", "12:30"])
def test_a_remembered_tag_is_the_resolver_s_own(value):
    resolver = yaml.resolver.Resolver()
    for implicit in ((True, False), (False, True), (False, False), (True, True)):
        for _dummy in range(2):  # the second time from memory
            assert sources._resolve_remembered(yaml.ScalarNode, value, implicit) == resolver.resolve(yaml.ScalarNode, value, implicit)
    for kind in (yaml.SequenceNode, yaml.MappingNode):
        assert sources._resolve_remembered(kind, None, (True, False)) == resolver.resolve(kind, None, (True, False))
