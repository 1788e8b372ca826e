# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sphinx configuration of the collection's HTML documentation (make docs).

antsibull-docs writes the RST of the modules, roles, filters and the guides of docs/docsite into
build/docs/rst; Sphinx turns it into build/docs/html with every warning an error.

The build is offline: no intersphinx inventory is downloaded. The RST links to a few pages of the
Ansible documentation (the common return values, the configuration settings) and to the plugins of
other collections (kubernetes.core, ansible.builtin); missing_reference() below points those at
their pages on the Ansible documentation site. Any other unresolved reference stays a warning, so a
broken link inside this collection still fails the build.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from docutils import nodes

project = "microseg.segmentation"
copyright = "microseg.segmentation maintainers"  # pylint: disable=redefined-builtin
title = "microseg.segmentation collection documentation"
html_short_title = "microseg.segmentation"
html_title = "microseg.segmentation collection documentation"

extensions = ["sphinx_antsibull_ext"]

pygments_style = "ansible"
highlight_language = "YAML+Jinja"

html_theme = "sphinx_ansible_theme"
html_show_sphinx = False
html_use_smartypants = True
html_use_modindex = False
html_use_index = False
html_copy_source = False
display_version = False

default_role = "any"
nitpicky = True

ANSIBLE_DOCS = "https://docs.ansible.com/projects/ansible/latest/"

# Labels of the Ansible documentation that antsibull-docs' templates refer to: (page, link text).
ANSIBLE_DOCS_LABELS = {
    "common_return_values": ("reference_appendices/common_return_values.html", "Return Values"),
    "ansible_configuration_settings": ("reference_appendices/config.html", "Ansible Configuration Settings"),
}

OWN_PREFIX = "ansible_collections.microseg.segmentation."
# ansible_collections.<namespace>.<name>.<plugin>_<type>, optionally __<anchor> (an option or return value).
PLUGIN_LABEL = re.compile(
    r"^ansible_collections\.([a-z0-9_]+)\.([a-z0-9_]+)\.([a-z0-9_]+_[a-z]+)(?:__(.+))?$"
)


def external_target(label):
    """The URL and default link text of a label outside this collection, or None."""
    if label in ANSIBLE_DOCS_LABELS:
        page, text = ANSIBLE_DOCS_LABELS[label]
        return ANSIBLE_DOCS + page, text
    if label.startswith(OWN_PREFIX):
        return None
    match = PLUGIN_LABEL.match(label)
    if not match:
        return None
    namespace, name, page, anchor = match.groups()
    url = "%scollections/%s/%s/%s.html" % (ANSIBLE_DOCS, namespace, name, page)
    if anchor:
        url += "#" + anchor
    return url, "%s.%s.%s" % (namespace, name, page.rsplit("_", 1)[0])


def missing_reference(app, env, node, contnode):  # pylint: disable=unused-argument
    if node.get("refdomain") != "std" or node.get("reftype") != "ref":
        return None
    target = external_target(node.get("reftarget", ""))
    if target is None:
        return None
    url, text = target
    content = contnode if node.get("refexplicit") else nodes.inline(text, text)
    reference = nodes.reference("", "", internal=False, refuri=url)
    reference += content
    return reference


def setup(app):
    app.connect("missing-reference", missing_reference)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
