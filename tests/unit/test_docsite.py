# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scenario guides of the documentation site (docs/docsite) against the playbooks they describe.

- Every scenario playbook (a playbook whose header has a flow table) has its page, listed in
  extra-docs.yml, and every page and toctree entry exists.
- A page's flow table (and path diagram) is the playbook header's, line for line; a page without a
  table of its own refers to the page of the scenario whose table the playbook header names.
- The command a page gives is the one its playbook's header gives.
- Every docsite label a page refers to is defined, once, with the prefix antsibull-docs requires.

make docs (Sphinx with every warning an error) and make docs-lint check the rendering itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCSITE = REPO_ROOT / "docs" / "docsite"
PLAYBOOKS = REPO_ROOT / "playbooks"
LABEL_PREFIX = "ansible_collections.microseg.segmentation.docsite."
LABEL_DEF = re.compile(r"^\.\. _([^:]+):$", re.M)
REF = re.compile(r":ref:`(?:[^`<]*<)?([^`<>]+)>?`")


def header_lines(playbook):
    """The playbook's leading comment, one string per line, without the '# ' prefix."""
    lines = []
    for line in playbook.read_text(encoding="utf-8").splitlines():
        if line == "---":
            continue
        if not line.startswith("#"):
            break
        lines.append(re.sub(r"^# ?", "", line).rstrip())
    return lines


def scenario_playbooks():
    return sorted(p.stem for p in PLAYBOOKS.glob("*.yml") if any("flow table" in line.lower() for line in header_lines(p)))


def toctree_refs():
    index = yaml.safe_load((DOCSITE / "extra-docs.yml").read_text(encoding="utf-8"))
    return [ref for section in index["sections"] for ref in section["toctree"]]


def section(text, title):
    """The body of the RST section `title` (underlined with '-'), up to the next such section."""
    match = re.search(r"^%s\n-+\n(.*?)(?=^[^\n]+\n-+\n|\Z)" % re.escape(title), text, re.M | re.S)
    assert match, "no section %r" % title
    return match.group(1)


def code_blocks(text):
    """The content of each `.. code-block:: text` in text, dedented by its 3-space indent."""
    blocks = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() != ".. code-block:: text":
            continue
        block = []
        for following in lines[i + 2:]:
            if following and not following.startswith("   "):
                break
            block.append(following[3:])
        while block and not block[-1]:
            block.pop()
        blocks.append(block)
    return blocks


def test_every_scenario_has_a_listed_page():
    scenarios = scenario_playbooks()
    assert len(scenarios) >= 11, scenarios
    refs = toctree_refs()
    pages = sorted(p.stem for p in (DOCSITE / "rst").glob("*.rst"))
    assert len(refs) == len(set(refs)), refs
    assert sorted(refs) == pages
    assert sorted(r[len("scenario_"):] for r in refs if r.startswith("scenario_")) == scenarios


@pytest.mark.parametrize("name", scenario_playbooks())
def test_page_matches_playbook_header(name):
    text = (DOCSITE / "rst" / ("scenario_%s.rst" % name)).read_text(encoding="utf-8")
    header = header_lines(PLAYBOOKS / ("%s.yml" % name))
    assert ("Playbook: ``playbooks/%s.yml``" % name) in text

    tables = code_blocks(section(text, "Flow table"))
    if tables:
        assert len(tables) == 1 and len(tables[0]) >= 3, tables
    else:
        # A variant of another scenario: its header names that scenario's table, the page links to it.
        named = [m.group(1) for line in header for m in [re.match(r"Flow table: (\w+)\.yml's", line)] if m]
        assert named, "the page has no flow table and the playbook header names no other scenario's"
        assert ":ref:`" in text and (LABEL_PREFIX + "scenario_" + named[0] + ">") in text
    for block in tables + code_blocks(section(text, "Purpose")):
        for line in block:
            assert line in header, "not in the header of playbooks/%s.yml: %r" % (name, line)

    commands = [line.strip()[2:] for line in section(text, "Run it").splitlines() if line.strip().startswith("$ ")]
    assert commands
    for command in commands:
        command = command.split("   #", 1)[0].strip()
        assert any(command in line for line in header), command


def test_docsite_references_resolve():
    defined = []
    referenced = set()
    for page in (DOCSITE / "rst").glob("*.rst"):
        text = page.read_text(encoding="utf-8")
        labels = LABEL_DEF.findall(text)
        assert labels == [LABEL_PREFIX + page.stem], page
        assert text.startswith(".. _%s:\n" % labels[0]), page
        defined.extend(labels)
        referenced.update(ref for ref in REF.findall(text) if ref.startswith(LABEL_PREFIX))
    assert len(defined) == len(set(defined))
    assert referenced, "the guides refer to each other"
    assert referenced <= set(defined), sorted(referenced - set(defined))
