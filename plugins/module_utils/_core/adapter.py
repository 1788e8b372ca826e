# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one contract between the reconcile engine and a product: ``Adapter`` and the task context.

Every product adapter subclasses ``Adapter``; the engine (``_core/reconcile.py``) calls only the
hooks below, each with its default here. Write hooks receive the planned ``Change``: its
``name``, ``existing`` object, ``body`` (the whole object to write), ``fields`` (the API
attributes an update changes) and ``values`` (the option values the task gave the object).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy


class Task:
    """What one module run was asked, handed to ``Kind.build`` and to the adapter.

    ``params`` are the module's validated options (the task-level ones: ``domain``, ``scope``...);
    ``list_form`` says whether ``items`` or ``src`` was given; ``ownership`` is the ownership rule of the task
    (``_core/ownership.py``), None for a product whose objects carry no tags.
    """

    def __init__(self, params, check_mode=False, diff=False, ownership=None):
        self.params = params
        self.check_mode = check_mode
        self.diff = diff
        self.list_form = params.get("items") is not None or params.get("src") is not None
        self.ownership = ownership

    def get(self, option, default=None):
        value = self.params.get(option)
        return default if value is None else value


class Adapter:
    """Find, list and write the objects of one kind where the task looks.

    Subclasses set what their product needs; a hook they do not need keeps its default.
    """

    # True when ``apply_bulk`` writes every change of a list form in one atomic request.
    bulk = False
    # The most writes the product takes at once for this kind (None: the task's ``parallel``).
    max_parallel = None

    def __init__(self, connection, kind, task, resource=None):
        self.connection = connection
        self.kind = kind
        self.task = task
        self.resource = resource

    @property
    def params(self):
        """The task's options."""
        return self.task.params

    # the attribute holding an object's creation time (for the duplicate rule), or None
    created_attribute = None
    # True for a product with no way to make two concurrent creates of one key collapse (Secure
    # Workload, NSX Manager): the objects created are read again after the creates, so that a second
    # object another run created at the same time is found and settled in the same run. False where
    # the product itself keeps one object per key: an NSX Policy object written at its declared id,
    # a Prisma create whose Idempotency-Key is derived from the object (``_prisma/common.py``).
    reread_after_create = True

    # ---- reading

    def find(self, name):
        """The object with this key, or None (single-object form: one read)."""
        raise NotImplementedError

    def find_all(self, name):
        """Every object with this key, as the API holds it now (single-object form: one read).

        A key is unique for the collection, but not always for the product: two runs creating
        the same name at once, or a run cut short between a create and its re-read, can leave
        two. The default suits a product whose key is the object's identifier (one or none)."""
        found = self.find(name)
        return [found] if found is not None else []

    def expand(self, obj):
        """Complete an object ``find_all`` or ``list`` returned before it is compared (an NSX
        section's rules). Default: as it is."""
        return obj

    def forget(self):
        """Drop what the adapter keeps of an earlier read, so that the next one asks the API."""

    def list(self):
        """Every object of the kind where the task looks (list form: one paginated read)."""
        raise NotImplementedError

    def name_of(self, obj):
        """The key of a listed object, as the task declares it."""
        return obj.get("name")

    def object_id(self, obj):
        """The API identifier returned as ``id`` (None when there is no object)."""
        return (obj or {}).get("id")

    def canonical(self, key, state):
        """The key a declared object is found by, once the adapter knows what its names refer to
        (a Secure Workload policy's consumer and provider); fails for a present object that names
        something that does not exist."""
        return key

    # ---- planning

    def required_tags(self, name):
        """Tags every object of this kind carries, whatever the task says."""
        return []

    def complete(self, name, desired, existing):
        """Add what the product manages by itself to the attributes the task asks for: by default
        the tags of the ownership rule (none for a product without tags)."""
        ownership = self.task.ownership
        if ownership is None:
            return desired
        key = ownership.scheme.key
        desired = dict(desired)
        desired[key] = ownership.tags(name, desired.get(key), existing, self.required_tags(name))
        return desired

    def age(self, obj):
        """Sort key of objects sharing one key: the oldest first (creation time, then identifier),
        so that every run keeps the same one."""
        created = obj.get(self.created_attribute) if self.created_attribute else None
        return (created is None, created if created is not None else 0, str(self.object_id(obj)))

    def oldest(self, name):
        """The oldest object with this key (the one the duplicate rule keeps), or None."""
        found = sorted(self.find_all(name), key=self.age)
        return found[0] if found else None

    def may_remove_duplicate(self, obj):
        """May the task delete this object, a second one of a declared key? Objects that carry
        the collection's tags: when the ownership rule would purge them; a product without tags
        (Secure Workload): yes, as the task declares that key."""
        if self.task.ownership is None:
            return True
        return self.is_managed(obj)

    def is_managed(self, obj):
        """May a purge delete this listed object (the ownership rule; never without tags)."""
        ownership = self.task.ownership
        return ownership is not None and ownership.may_purge(self.name_of(obj), obj)

    def refine(self, change):
        """Adjust a planned change for what no field compares (an NSX section's placement may
        turn ``none`` into an update). Default: nothing."""

    def prepare(self, changes):
        """Check every pending write before the first is sent (and in check mode), such as the
        references to other objects. Default: nothing."""

    # ---- writing

    def predict_create(self, change):
        """The object a create would return, for check mode."""
        return dict(copy.deepcopy(change.body), name=change.name)

    def create(self, change):
        """Create ``change.name`` with ``change.body``; return the object the API returned."""
        raise NotImplementedError

    def created_meanwhile(self, change, exc):
        """After a create the API refused with ``exc``: the object another run created meanwhile
        (a fresh read finds it under the declared key), or None when the refusal is anything else.
        Only a 409 or 422 can be such a refusal (a Secure Workload "already exists", a Prisma
        namespace's "Duplicate Key")."""
        if getattr(exc, "status", None) not in (409, 422):
            return None
        self.forget()
        return self.oldest(change.name)

    def update(self, change):
        """Write ``change.fields`` of ``change.existing`` (``change.body`` is the whole object);
        return the object as it is now."""
        raise NotImplementedError

    def delete(self, change):
        """Delete ``change.existing``."""
        raise NotImplementedError

    def apply_bulk(self, changes):
        """Write every change in one atomic request (only when ``bulk`` is True); set each
        change's ``result`` and ``applied``."""
        raise NotImplementedError
