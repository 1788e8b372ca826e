# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reconcile engine shared by every object module.

A product declares a ``Kind`` (the API attributes a module manages and how each one is
compared) and an adapter that can find, list, create, update and delete objects. The engine
compares only what the user set, after normalising, plans the one write each object needs,
predicts the result for check mode, builds ``before``/``after`` in the module's option form
with secrets masked (``_core/diff.py``), and runs the writes of a list form concurrently
(bounded).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.microseg.segmentation.plugins.module_utils._core.diff import readable_diff
from ansible_collections.microseg.segmentation.plugins.module_utils._core.errors import MicrosegError
from ansible_collections.microseg.segmentation.plugins.module_utils._core.http import ApiError, MASK


class ReconcileError(MicrosegError):
    """Input that is only known to be wrong once the existing object has been read."""


def json_copy(value):
    """A deep copy of JSON-like data (dicts, lists, scalars): what ``copy.deepcopy`` gives, several
    times faster on the thousands of bodies a list form plans. Anything else is deep-copied."""
    if type(value) in _IMMUTABLE:
        return value
    if isinstance(value, dict):
        return {k: v if type(v) in _IMMUTABLE else json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [v if type(v) in _IMMUTABLE else json_copy(v) for v in value]
    if isinstance(value, (str, int, float, bool)):
        return value
    return copy.deepcopy(value)


# the JSON scalars, copied as themselves (their subclasses are checked the longer way)
_IMMUTABLE = frozenset([str, bool, int, float, type(None)])


def _canon_scalar(value):
    return value


def _canon_set(value):
    if value is None:
        return ()
    return tuple(sorted(set(value), key=repr))


def _canon_list(value):
    if value is None:
        return ()
    return tuple(value)


def canon_expression(value):
    """Order-insensitive form of an OR-of-ANDs tag expression."""
    if not value:
        return ()
    if isinstance(value, str):
        value = [value]
    clauses = set()
    for clause in value:
        if isinstance(clause, str):
            clause = [clause]
        clauses.add(tuple(sorted(set(clause))))
    return tuple(sorted(clauses))


CANONICALISERS = {
    "scalar": _canon_scalar,
    "set": _canon_set,
    "list": _canon_list,
    "expression": canon_expression,
}


class Field:
    """One option of a module: its argument spec, its API attribute, its conversion and its compare rule.

    ``option`` is the option name (None for an API attribute the module sets by itself, such as
    a fixed ``type``); ``api`` the attribute it maps to (None for an option that only feeds a rule
    spanning several options, such as NSX section placement). The remaining keywords are the
    option's argument spec (``type``, ``elements``, ``choices``, ``default``, ``options``,
    ``aliases``, ``required``, ``no_log``); ``secret=True`` sets ``no_log`` and masks the attribute
    in every result and diff.

    ``compare`` is ``scalar``, ``set`` (order-insensitive list), ``list`` (ordered),
    ``expression`` (tag expression) or a callable returning a comparable value; ``empty`` is what
    the API reports for an unset attribute, so that ``[]`` and a missing key compare equal.
    ``convert(value, path)`` turns a validated value into the API's (default: unchanged).
    ``key=True`` marks an option that identifies the object (``name``, ``id``...; its ``convert``
    only checks it, the adapter sends the key), ``task=True``
    one that is about the task rather than one object (an NSX ``domain``): it is not an item option.

    ``export(value, obj)`` turns an API value back into the option's (the inverse of ``convert``; default:
    unchanged); ``export=False`` leaves the option out of an export (``_core/export.py``), as for an
    option the kind's ``export_rules`` writes, or one no read can give back.
    """

    def __init__(self, option, api=None, compare="scalar", secret=False, create_only=False, empty=None,
                 convert=None, key=False, task=False, export=None, **spec):
        self.option = option
        self.api = api
        self.secret = secret
        self.create_only = create_only
        self.empty = empty
        self.convert = convert
        self.key = key
        self.task = task
        self.export = export
        spec.setdefault("type", "str")
        if secret:
            spec["no_log"] = True
        self.spec = spec
        self._canon = compare if callable(compare) else CANONICALISERS[compare]

    def argument_spec(self, item=False):
        """The option's argument spec; an item's has no default and nothing required (the task-level
        value is the item's default, and the runner names a missing key option with its path)."""
        spec = copy.deepcopy(self.spec)
        if item:
            spec.pop("default", None)
            spec.pop("required", None)
        return spec

    def canon(self, value):
        if value is None:
            value = self.empty
        return self._canon(value)

    def differs(self, desired, existing):
        return self.canon(desired) != self.canon(existing)


def no_rules(values, prefix, task):
    return {}


class Kind:
    """The declaration of one object kind: its title, its Fields and the rules around them.

    ``rules(values, prefix, task)`` is what a module writes by hand: the checks and conversions
    that span several options; it returns the API attributes it set. Every other option with an
    API attribute is copied (through its ``convert``) by ``build``. ``reserved_names`` are objects
    the product makes by itself (a namespace's ``default`` dependency policy): never tagged, never
    purged. ``mutually_exclusive`` and ``required_together`` apply to every object, single or item.
    ``secret_attributes`` are API attributes that are secret though no option sets them; they are
    masked with those of the ``secret`` Fields wherever an object is shown.
    """

    def __init__(self, name, title, fields, create_requires=(), identity="name", rules=None, reserved_names=(),
                 mutually_exclusive=(), required_together=(), secret_attributes=(), export_rules=None):
        self.name = name
        self.title = title
        self.all_fields = list(fields)
        self.fields = [f for f in self.all_fields if f.api is not None]
        self.by_api = dict((f.api, f) for f in self.fields)
        self.create_requires = list(create_requires)
        self.identity = identity
        self.rules = rules or no_rules
        self.reserved_names = tuple(reserved_names)
        self.mutually_exclusive = [list(x) for x in mutually_exclusive]
        self.required_together = [list(x) for x in required_together]
        self.extra_secrets = list(secret_attributes)
        # ``export_rules(obj, item)``: the inverse of ``rules`` for an export (``_core/export.py``)
        self.export_rules = export_rules

    def options(self, task=None):
        """The Fields that are options (``task`` True or False narrows to task or object options)."""
        return [f for f in self.all_fields if f.option is not None and (task is None or f.task == task)]

    def argument_spec(self):
        return dict((f.option, f.argument_spec()) for f in self.options())

    def item_spec(self):
        """The sub-options of ``items``: every object option, plus the per-item ``state``."""
        spec = dict((f.option, f.argument_spec(item=True)) for f in self.options(task=False))
        spec["state"] = dict(type="str", choices=["present", "absent"])
        return spec

    def build(self, values, prefix, task):
        """The API attributes one object's options ask for (validated, converted)."""
        steps = self.__dict__.get("_build_steps")
        if steps is None:  # which object options a build checks and which it copies, worked out at the first one
            fields = self.options(task=False)
            steps = self._build_steps = ([f for f in fields if f.key], [f for f in fields if f.api is not None and not f.key])
        checked, copied = steps
        for field in checked:
            if field.convert and values.get(field.option) is not None:
                field.convert(values[field.option], prefix + field.option)  # a key option is checked, not sent
        desired = dict(self.rules(values, prefix, task) or {})
        for field in copied:
            value = values.get(field.option)
            if value is None or field.api in desired:
                continue
            desired[field.api] = field.convert(value, prefix + field.option) if field.convert else value
        return desired

    def secret_attributes(self):
        return [f.api for f in self.fields if f.secret] + self.extra_secrets

    def mask(self, obj):
        """A copy of an API object with every secret attribute masked."""
        if obj is None:
            return None
        masked = copy.deepcopy(obj)
        for api in self.secret_attributes():
            if masked.get(api):
                masked[api] = MASK
        return masked


class Declared:
    """One object a task declares: its key, the API attributes it asks for, its state, and the
    option values it was built from (``values``; adapters read per-object options that are no API
    attribute there, such as an NSX section's placement) with their option path ``prefix``."""

    def __init__(self, key, desired, state, values=None, prefix=""):
        self.key = key
        self.desired = desired
        self.state = state
        self.values = values or {}
        self.prefix = prefix


def as_declared(item):
    """A ``Declared`` from itself or from a ``(key, desired, state)`` tuple."""
    if isinstance(item, Declared):
        return item
    key, desired, state = item
    return Declared(key, desired, state)


class Change:
    """What one object needs: ``create``, ``update``, ``delete`` or ``none``.

    ``fields`` are the API attributes an update changes; ``declared`` is what the task said about
    the object (None for a purge). Adapters receive the Change itself in every write hook.
    """

    def __init__(self, action, name, existing=None, body=None, fields=(), declared=None):
        self.action = action
        self.name = name
        self.existing = existing
        self.body = body
        self.fields = list(fields)
        self.declared = declared
        # where the adapter's ``refine`` decided to put the object (an NSX section's move), or None
        self.placement = None
        self.result = None
        self.error = None
        self.applied = False
        # set by the adapter when another writer changed the object while this change was written
        # (an NSX revision conflict); the declared state was re-applied over it
        self.conflict = False
        # a delete of a second object of the same name (a concurrent run's, or one a crash left),
        # and the identifier of the object kept in its place
        self.duplicate = False
        self.kept = None
        # the create was refused because another run created the object meanwhile: this change
        # became what the declaration needs on that object (``Reconciler._created_meanwhile``)
        self.raced = False

    @property
    def values(self):
        """The option values of the declared object (empty for a purge)."""
        return self.declared.values if self.declared is not None else {}

    @property
    def changed(self):
        return self.action != "none"


def plan(kind, name, desired, existing, state, declared=None):
    """Plan the change for one object.

    ``desired`` holds only the API attributes the user set (already validated and
    converted). ``existing`` is the object as read from the API, or None.
    """
    if state == "absent":
        return Change("delete" if existing is not None else "none", name, existing=existing, declared=declared)
    if existing is None:
        missing = []
        for apis, option in kind.create_requires:
            apis = apis if isinstance(apis, tuple) else (apis,)
            if all(desired.get(api) in (None, [], "") for api in apis):
                missing.append(option)
        if missing:
            raise ReconcileError(
                "%s '%s' does not exist; %s %s required to create it" % (kind.title, name, ", ".join(missing), "is" if len(missing) == 1 else "are")
            )
        return Change("create", name, body=json_copy(desired), declared=declared)
    changed = []
    for api, value in desired.items():
        field = kind.by_api.get(api)
        if field is None:
            if existing.get(api) != value:
                changed.append(api)
            continue
        if field.differs(value, existing.get(api)):
            if field.create_only:
                raise ReconcileError(
                    "%s of %s '%s' can only be set at creation: it is %r, the task asks for %r"
                    % (field.option, kind.title, name, existing.get(api), value)
                )
            changed.append(api)
    if not changed:
        return Change("none", name, existing=existing, declared=declared)
    body = json_copy(existing)
    for api in changed:
        body[api] = json_copy(desired[api])
    return Change("update", name, existing=existing, body=body, fields=changed, declared=declared)


def diff_of(kind, change, adapter=None):
    """``{before, after}`` for one change: the module's options as YAML text, secrets masked (``_core/diff.py``)."""
    return readable_diff(kind, change, adapter)


class Reconciler:
    """Runs plans against a product adapter (``_core/adapter.py`` documents every hook)."""

    def __init__(self, kind, adapter, check_mode=False, parallel=8):
        self.kind = kind
        self.adapter = adapter
        self.check_mode = check_mode
        self.parallel = max(1, min(parallel, getattr(adapter, "max_parallel", None) or parallel))

    def _apply(self, change):
        if self.check_mode or change.action == "none":
            if change.action == "create":
                change.result = self.adapter.predict_create(change)
            elif change.action == "update":
                change.result = change.body
            elif change.action == "none":
                change.result = change.existing
            change.applied = change.action != "none"
            return change
        if change.action == "create":
            try:
                change.result = self.adapter.create(change)
            except ApiError as exc:
                found = self.adapter.created_meanwhile(change, exc)
                if found is None:
                    raise
                return self._created_meanwhile(change, found)
        elif change.action == "update":
            change.result = self.adapter.update(change)
        elif change.action == "delete":
            try:
                self.adapter.delete(change)
            except ApiError as exc:
                # gone already: another run deleted it (a duplicate both runs settled), or a retried
                # DELETE whose first attempt went through
                if exc.status != 404:
                    raise
        change.applied = True
        return change

    def _created_meanwhile(self, change, found):
        """The product refused a create because another run made the object meanwhile: plan the
        declaration again against that object and write what it still needs (often nothing)."""
        follow = self._plan(change.declared, self.adapter.expand(found))
        change.action, change.existing, change.body, change.fields = follow.action, follow.existing, follow.body, follow.fields
        change.raced = True
        change.result = found
        if follow.action == "update":
            change.result = self.adapter.update(change)
        change.applied = follow.action != "none"
        return change

    def _plan(self, item, existing):
        desired = item.desired
        if item.state == "present":
            desired = self.adapter.complete(item.key, desired, existing)
        change = plan(self.kind, item.key, desired, existing, item.state, declared=item)
        self.adapter.refine(change)
        return change

    def ensure(self, item, desired=None, state="present", want_diff=False):
        """Reconcile one object: ``item`` is a ``Declared`` (or its key, with ``desired`` and ``state``)."""
        if not isinstance(item, Declared):
            item = Declared(item, desired or {}, state)
        existing, removals = self._one_of(item.key, self.adapter.find_all(item.key))
        change = self._plan(item, self.adapter.expand(existing))
        self._prepare([change])
        self._apply(change)
        self._run_all(removals)
        if change.action == "create" and not self.check_mode and self.adapter.reread_after_create:
            self.adapter.forget()
            removals += self._settle_creates([change], self.adapter.find_all(change.name))
        result = {"changed": change.changed, "action": change.action}
        obj = change.result if change.action != "delete" else None
        result["object"] = self.kind.mask(obj) if obj is not None else {}
        result["id"] = self.adapter.object_id(obj if obj is not None else change.existing)
        if want_diff:
            result["diff"] = diff_of(self.kind, change, self.adapter)
        self._report_conflicts([change], result)
        self._report_duplicates(removals, result)
        return result

    # ---- duplicates: two objects of one name (two runs created it at once, or a crash left one)

    def _one_of(self, name, found):
        """The object of ``name`` the task works on, and the removal of every other one.

        When several objects carry the name, the oldest is kept (creation time, then identifier:
        a rule every run agrees on, whatever it read first) and the others are deleted, provided
        each is one the collection may remove (``Adapter.may_remove_duplicate``); otherwise the
        task fails naming them, as nothing tells which one is meant.
        """
        if len(found) <= 1:
            return (found[0] if found else None), []
        ordered = sorted(found, key=self.adapter.age)
        keeper, extra = ordered[0], ordered[1:]
        foreign = [o for o in extra if not self.adapter.may_remove_duplicate(o)]
        if foreign:
            raise ReconcileError(
                "more than one %s is named '%s' where the task looks (%s) and not every one is managed by this collection; "
                "delete or rename the others" % (self.kind.title, name, ", ".join(str(self.adapter.object_id(o)) for o in ordered)))
        removals = []
        for obj in extra:
            removal = Change("delete", name, existing=obj)
            removal.duplicate = True
            removal.kept = self.adapter.object_id(keeper)
            removals.append(removal)
        return keeper, removals

    def _settle_creates(self, created, listed):
        """After creates, read again: where another run created the same name meanwhile, keep the
        oldest object by the shared rule, delete the others (this run's included), and write the
        declared state onto the one kept. Returns the removals."""
        by_name = {}
        for obj in listed:
            by_name.setdefault(self.adapter.name_of(obj), []).append(obj)
        removals = []
        for change in created:
            if change.error is not None or not change.applied:
                continue
            found = by_name.get(change.name) or []
            if len(found) <= 1:
                continue
            try:
                keeper, extra = self._one_of(change.name, found)
            except ReconcileError as exc:  # a copy the collection does not manage appeared meanwhile
                change.error = exc
                continue
            self._run_all(extra)
            removals += extra
            mine = self.adapter.object_id(change.result)
            if mine is not None and mine != self.adapter.object_id(keeper):
                # the object kept is the other run's: this run's declaration is written onto it
                try:
                    follow = self._plan(change.declared, self.adapter.expand(keeper))
                    if follow.action == "update":
                        self._apply(follow)
                    change.result = follow.result if follow.result is not None else keeper
                except MicrosegError as exc:
                    change.error = exc
        return removals

    def _report_duplicates(self, removals, result):
        """``duplicates_removed`` and a warning per object removed as a duplicate."""
        if not removals:
            return
        if any(r.error is None for r in removals):
            result["changed"] = True
        result["duplicates_removed"] = [
            {"name": r.name, "id": self.adapter.object_id(r.existing), "kept": r.kept, "failed": r.error is not None} for r in removals]
        warnings = result.setdefault("warnings", [])
        for removal in removals:
            warnings.append("%s '%s' existed more than once (two runs created it at once, or a run was cut short): %s %s, "
                            "kept %s" % (self.kind.title, removal.name,
                                         "could not delete" if removal.error is not None else "would delete" if self.check_mode else "deleted",
                                         self.adapter.object_id(removal.existing), removal.kept)
                            + (": %s" % removal.error if removal.error is not None else ""))
        if any(r.error is not None for r in removals):
            result["failed"] = True
            result.setdefault("msg", "a duplicate %s could not be deleted" % self.kind.title)

    def _report_conflicts(self, changes, result):
        """``conflict: true`` and one warning per object another writer changed while the task wrote it,
        or created while the task was creating it."""
        raced = [c for c in changes if c.raced]
        if raced:
            result.setdefault("warnings", []).extend([
                "%s '%s' was created by another run while this task was creating it: the product refused the second create, "
                "and the declared state was compared with the object the other run made (%s)"
                % (self.kind.title, c.name, "updated" if c.action == "update" else "nothing to change") for c in raced])
        conflicts = [c for c in changes if c.conflict]
        if conflicts:
            result["conflict"] = True
            result.setdefault("warnings", []).extend([
                "%s '%s' was changed by another writer while this task wrote it (revision conflict): it was read again "
                "and the declared state re-applied over the other change" % (self.kind.title, c.name) for c in conflicts])

    def ensure_many(self, items, purge=False, want_diff=False, details="changed"):
        """Reconcile a list of ``Declared`` (or ``(key, desired, state)``): one list read, then the writes.

        With ``purge``, every listed object the task does not declare and the adapter's
        ``is_managed`` accepts (the ownership rule) is deleted. ``details`` is ``changed`` (an
        ``objects`` entry per object written) or ``all`` (one per object, each with the object).
        """
        listed = {}
        for obj in self.adapter.list():
            listed.setdefault(self.adapter.name_of(obj), []).append(obj)
        declared = {}
        changes = []
        removals = []
        for item in items:
            item = as_declared(item)
            name = item.key
            if name in declared:
                where = [p.rstrip(".") for p in (declared[name], item.prefix) if p]
                raise ReconcileError("%s '%s' is declared more than once%s" % (
                    self.kind.title, name, " (%s)" % " and ".join(where) if where else ""))
            declared[name] = item.prefix
            existing, extra = self._one_of(name, listed.get(name) or [])
            removals += extra
            changes.append(self._plan(item, self.adapter.expand(existing)))
        if purge:
            for name in sorted(listed):
                if name in declared:
                    continue
                for obj in listed[name]:
                    if self.adapter.is_managed(obj):
                        changes.append(Change("delete", name, existing=obj))
        pending = [c for c in changes if c.changed]
        self._prepare(pending)
        self._run_all(pending + removals)
        created = [c for c in pending if c.action == "create"]
        if created and not self.check_mode and self.adapter.reread_after_create:
            self.adapter.forget()
            removals += self._settle_creates(created, self.adapter.list())
        for change in changes:
            if not change.changed:
                change.result = change.existing
        result = self._summarise(changes, want_diff, details)
        self._report_duplicates(removals, result)
        return result

    def _prepare(self, changes):
        """Let the adapter check every pending write (references to other objects, say) before the
        first one is sent; in check mode too, so that it predicts the failure a real run would meet."""
        pending = [c for c in changes if c.changed]
        if pending:
            self.adapter.prepare(pending)

    def _run_all(self, changes):
        if not changes:
            return
        if self.adapter.bulk and not self.check_mode:
            # One request for every change (an API with an atomic bulk write): all or nothing.
            try:
                self.adapter.apply_bulk(changes)
            except ApiError as exc:
                for change in changes:
                    change.error = exc
            return

        # One object's failure does not stop the others: each is written and reports its own result.
        def run(change):
            try:
                self._apply(change)
            except MicrosegError as exc:  # an API error, or what a re-read after a lost answer found
                change.error = exc
            return change

        if self.parallel == 1 or len(changes) == 1:
            for change in changes:
                run(change)
        else:
            with ThreadPoolExecutor(max_workers=min(self.parallel, len(changes))) as pool:
                list(pool.map(run, changes))

    def _summarise(self, changes, want_diff, details="changed"):
        failed = [c for c in changes if c.error is not None]
        done = [c for c in changes if c.changed and c.applied]
        summary = {"created": [], "updated": [], "deleted": [], "unchanged": []}
        key = {"create": "created", "update": "updated", "delete": "deleted", "none": "unchanged"}
        reported = []
        for change in changes:
            if change.error is None and (not change.changed or change.applied):
                summary[key[change.action]].append(change.name)
                if details == "all" or change.changed:
                    reported.append(change)
        summary["counts"] = dict((k, len(v)) for k, v in summary.items())
        summary["counts"]["failed"] = len(failed)
        objects = []
        for change in reported:
            obj = change.result if change.result is not None else change.existing
            entry = {"name": change.name, "action": change.action, "id": self.adapter.object_id(obj)}
            if details == "all":
                entry["object"] = self.kind.mask(obj) if obj is not None and change.action != "delete" else {}
            objects.append(entry)
        result = {"changed": bool(done), "summary": summary, "objects": objects}
        if want_diff:
            result["diff"] = [diff_of(self.kind, c, self.adapter) for c in done]
        self._report_conflicts(changes, result)
        if failed:
            result["failed_objects"] = [dict(name=c.name, action=c.action, **c.error.to_result()) for c in failed]
            result["msg"] = "%d of %d writes failed (%s); %d applied" % (
                len(failed), len([c for c in changes if c.changed]),
                "; ".join("%s '%s': %s" % (c.action, c.name, c.error) for c in failed[:5]) + ("; ..." if len(failed) > 5 else ""),
                len(done))
        return result
