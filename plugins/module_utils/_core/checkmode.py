# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check mode across tasks.

In check mode an earlier task of the play wrote nothing: a namespace, scope, workspace or group it
would create is not there when a later task reads it. Where a module can tell "does not exist"
apart from "may not be read" (or "is wrong"), check mode assumes the missing container empty (or
the missing reference about to be created), reports what the task would do, and says so in a
warning. A real run never assumes: it fails as it always did.

The warnings are kept on the object that met the missing thing (an adapter, say) with
:func:`warn` and reported by the runner through :func:`add_warnings`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

ASSUMED = "check mode assumes an earlier task of the play creates it (a real run fails if it is still missing)"


class Notes:
    """A holder of check-mode warnings for code that has no adapter (an info or flow-check module)."""


def warn(holder, message):
    """Keep a check-mode warning on ``holder`` (once)."""
    notes = holder.__dict__.setdefault("check_mode_warnings", [])
    if message not in notes:
        notes.append(message)


def warnings_of(holder):
    """The check-mode warnings kept on ``holder``."""
    return list(getattr(holder, "check_mode_warnings", None) or [])


def add_warnings(result, warnings):
    """Append ``warnings`` to a result's ``warnings`` (a list or a string); returns the result."""
    if warnings:
        existing = result.get("warnings") or []
        if isinstance(existing, str):
            existing = [existing]
        result["warnings"] = list(existing) + [w for w in warnings if w not in existing]
    return result


def missing_container(what):
    """The warning for a container (``namespace /acme/x``, ``scope Default:K8s``) that is not there."""
    return "%s does not exist yet: check mode assumes it empty, as an earlier task of the play would create it" % what


def missing_reference(kind, names):
    """The warning for objects of ``kind`` a task names (groups, filters) that are not there."""
    names = sorted(set(str(n) for n in names))
    if len(names) == 1:
        return "%s '%s' does not exist yet: %s" % (kind, names[0], ASSUMED)
    return ("%ss %s do not exist yet: check mode assumes an earlier task of the play creates them (a real run fails if one is "
            "still missing)" % (kind, ", ".join("'%s'" % n for n in names)))


def unless_check_mode(check_mode, holder, error, warning):
    """In check mode keep ``warning`` on ``holder`` and return; otherwise raise ``error``."""
    if not check_mode:
        raise error
    warn(holder, warning)
