# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base of every error the collection raises for a task to fail with.

``str(error)`` is the message the task fails with; ``to_result()`` gives every key the failure
reports (an API error adds its status, request and response). ``ValidationError``,
``ReconcileError``, ``FlowCheckError``, ``ApiError`` and the vSphere errors derive from
:class:`MicrosegError`; ``_core/runner.py`` is the one place that turns them into results.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class MicrosegError(Exception):
    """A reason for the task to fail, in words the user can act on."""

    def to_result(self):
        """The keys a module passes to ``fail_json`` for this error."""
        return {"msg": str(self)}
