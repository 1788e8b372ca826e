# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prisma in check mode: a namespace an earlier task of the play would create.

The API answers 403 both for a namespace that does not exist and for one the credentials may not
see. In check mode (only there), after a 403 on a read in a namespace, the namespace is looked up
from its parent (``GET /namespaces?q=name == "<full>"`` with ``X-Namespace`` the parent, walking up
while the parent answers 403 too). When it does not exist, every read in it is empty, and the task
reports what it would do there (with a warning); when it exists, or when the credentials cannot
tell, the 403 stands. A real run never looks: it fails on the 403 as before.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath

from ansible_collections.microseg.segmentation.plugins.module_utils._core.checkmode import missing_container, warn
from ansible_collections.microseg.segmentation.plugins.module_utils._core.errors import MicrosegError
from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import ApiError
from ansible_collections.microseg.segmentation.plugins.module_utils._prisma.common import quote_filter_value

EXISTS = "exists"
MISSING = "missing"
UNKNOWN = "unknown"


def parent_of(namespace):
    return posixpath.dirname(namespace.rstrip("/")) or "/"


def namespace_state(connection, namespace):
    """``EXISTS``, ``MISSING`` or ``UNKNOWN`` (the credentials can read neither it nor a parent that
    would tell): the namespace as seen from its parent."""
    namespace = namespace.rstrip("/") or "/"
    if namespace == "/":
        return EXISTS
    parent = parent_of(namespace)
    try:
        found = connection.request("GET", "/namespaces", namespace=parent, params={"q": "name == %s" % quote_filter_value(namespace, "namespace")})
    except ApiError as exc:
        if exc.status != 403:
            return UNKNOWN
        # the parent is missing too (then so is its child), or it is one these credentials may not read
        return MISSING if namespace_state(connection, parent) == MISSING else UNKNOWN
    return EXISTS if any(isinstance(o, dict) and o.get("name") == namespace for o in found or []) else MISSING


def is_missing_namespace(connection, namespace, error):
    """Is ``error`` (an ApiError of a read in ``namespace``) the 403 of a namespace that does not exist?"""
    if not isinstance(error, ApiError) or error.status != 403:
        return False
    try:
        return namespace_state(connection, namespace) == MISSING
    except MicrosegError:
        # whatever stops the look-up (a name no filter can quote, say): the 403 stands
        return False


def read_or_empty(check_mode, connection, namespace, read, empty, holder):
    """``read()``, or in check mode ``empty`` when it fails because ``namespace`` does not exist yet
    (a warning kept on ``holder`` says so). Any other failure, and every failure of a real run, is raised."""
    try:
        return read()
    except ApiError as exc:
        if not check_mode or not is_missing_namespace(connection, namespace, exc):
            raise
        warn(holder, missing_container("namespace %s" % namespace))
        return empty


class CheckModeReads:
    """Adapter mixin (before :class:`PrismaAdapter`): in check mode, ``find_all`` and ``list`` in a
    namespace that does not exist yet find nothing, except the objects the product makes with a
    namespace (``Kind.reserved_names``, such as the ``default`` service dependency policy), which
    are assumed there with nothing known of them, so that a task changing them reports an update."""

    def _assume(self):
        warn(self, missing_container("namespace %s" % self.namespace))

    def _reserved(self, name):
        warn(self, "%s '%s' is made by the product with namespace %s, which does not exist yet: check mode assumes it "
                   "will be there as the product makes it" % (self.kind.title, name, self.namespace))
        return {"name": name, "namespace": self.namespace}

    def _namespace_missing(self, exc):
        return self.task.check_mode and is_missing_namespace(self.connection, self.namespace, exc)

    def find_all(self, name):
        try:
            return super(CheckModeReads, self).find_all(name)
        except ApiError as exc:
            if not self._namespace_missing(exc):
                raise
        self._assume()
        if name in self.kind.reserved_names:
            return [self._reserved(name)]
        return []

    def list(self):
        try:
            return super(CheckModeReads, self).list()
        except ApiError as exc:
            if not self._namespace_missing(exc):
                raise
        self._assume()
        # never purged (reserved names are not the task's), so a placeholder for each is harmless
        return [{"name": name, "namespace": self.namespace} for name in self.kind.reserved_names]
