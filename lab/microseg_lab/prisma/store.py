"""In-memory object store indexed by identity, ID and namespace, with optional SQLite write-through.

Stored objects are treated as immutable: an update replaces the dict, so callers may serialize
objects they got from the store without holding the lock. Hidden data (never serialized to JSON)
lives under ``obj["_meta"]`` and is persisted with the object; ``_meta["createIdempotencyKey"]``,
the ``Idempotency-Key`` of the POST that created the object, is also indexed.
"""

from __future__ import annotations

import os
import threading
import time

from ..common.persistence import SqlitePersistence
from . import schema

_ID_LOCK = threading.Lock()
_ID_STATE = {"counter": int.from_bytes(os.urandom(3), "big"), "random": os.urandom(5)}


def new_id() -> str:
    """A 24-hex identifier shaped like a MongoDB ObjectID (time, process random, counter)."""
    with _ID_LOCK:
        _ID_STATE["counter"] = (_ID_STATE["counter"] + 1) % 0x1000000
        counter = _ID_STATE["counter"]
    return (int(time.time()).to_bytes(4, "big") + _ID_STATE["random"] + counter.to_bytes(3, "big")).hex()


def new_ids(count: int) -> list[str]:
    """``count`` identifiers shaped like ``new_id``'s, made at once (one lock, one clock read)."""
    with _ID_LOCK:
        first = _ID_STATE["counter"] + 1
        _ID_STATE["counter"] = (_ID_STATE["counter"] + count) % 0x1000000
    prefix = (int(time.time()).to_bytes(4, "big") + _ID_STATE["random"]).hex()
    return ["%s%06x" % (prefix, (first + i) % 0x1000000) for i in range(count)]


def parent_of(namespace: str) -> str:
    if namespace in ("", "/"):
        return "/"
    head = namespace.rsplit("/", 1)[0]
    return head or "/"


def ancestors_of(namespace: str) -> list[str]:
    """Ancestors from the closest to the root, including ``/``."""
    out = []
    current = namespace
    while current not in ("", "/"):
        current = parent_of(current)
        out.append(current)
    return out


def is_descendant(namespace: str, of: str) -> bool:
    if of == "/":
        return namespace not in ("", "/")
    return namespace.startswith(of + "/")


def child_namespace_name(parent: str, name: str) -> str:
    return ("/" if parent == "/" else parent + "/") + name


def create_key(obj: dict) -> str:
    """The hidden ``createIdempotencyKey`` of a stored object ("" when it was created without one)."""
    return (obj.get("_meta") or {}).get("createIdempotencyKey") or ""


class Store:
    def __init__(self, persistence: SqlitePersistence | None = None) -> None:
        self.lock = threading.RLock()
        self.persistence = persistence
        self._init()

    def _init(self) -> None:
        self.objects: dict[str, dict[str, dict]] = {i.name: {} for i in schema.STORED_IDENTITIES}
        self.by_ns: dict[str, dict[str, dict[str, dict]]] = {i.name: {} for i in schema.STORED_IDENTITIES}
        self.namespaces_by_name: dict[str, dict] = {}
        # (createIdempotencyKey, kind, namespace) -> ID of the object that POST created
        self.by_create_key: dict[tuple[str, str, str], str] = {}

    # ------------------------------------------------------------ loading / wiping

    def load(self) -> int:
        if self.persistence is None:
            return 0
        count = 0
        with self.lock:
            for kind, _ident, _scope, doc in self.persistence.load(kinds=list(self.objects)):
                if kind in self.objects:
                    self._index(kind, doc)
                    count += 1
        return count

    def wipe(self) -> None:
        with self.lock:
            self._init()
            if self.persistence is not None:
                self.persistence.wipe()

    # ------------------------------------------------------------ indexing

    def _index(self, kind: str, obj: dict) -> None:
        self.objects[kind][obj["ID"]] = obj
        self.by_ns[kind].setdefault(obj["namespace"], {})[obj["ID"]] = obj
        if kind == "namespace":
            self.namespaces_by_name[obj["name"]] = obj
        key = create_key(obj)
        if key:
            self.by_create_key[(key, kind, obj["namespace"])] = obj["ID"]

    def _unindex(self, kind: str, obj: dict) -> None:
        self.objects[kind].pop(obj["ID"], None)
        bucket = self.by_ns[kind].get(obj["namespace"])
        if bucket is not None:
            bucket.pop(obj["ID"], None)
            if not bucket:
                del self.by_ns[kind][obj["namespace"]]
        if kind == "namespace" and self.namespaces_by_name.get(obj["name"]) is obj:
            del self.namespaces_by_name[obj["name"]]
        key = create_key(obj)
        if key and self.by_create_key.get((key, kind, obj["namespace"])) == obj["ID"]:
            del self.by_create_key[(key, kind, obj["namespace"])]

    # ------------------------------------------------------------ writes

    def put(self, kind: str, obj: dict) -> None:
        """Insert or replace an object (by ID)."""
        self.put_many([(kind, obj)])

    def put_many(self, items: list[tuple[str, dict]]) -> None:
        with self.lock:
            for kind, obj in items:
                old = self.objects[kind].get(obj["ID"])
                if old is not None:
                    self._unindex(kind, old)
                self._index(kind, obj)
            if self.persistence is not None:
                self.persistence.put_many([(kind, obj["ID"], obj["namespace"], obj) for kind, obj in items])

    def delete_many(self, items: list[tuple[str, dict]]) -> None:
        with self.lock:
            for kind, obj in items:
                self._unindex(kind, obj)
            if self.persistence is not None:
                self.persistence.delete_many([(kind, obj["ID"]) for kind, obj in items])

    # ------------------------------------------------------------ reads

    def get(self, kind: str, ident: str) -> dict | None:
        return self.objects[kind].get(ident)

    def created_with_key(self, kind: str, namespace: str, key: str) -> dict | None:
        """The object of ``kind`` in ``namespace`` a POST with ``Idempotency-Key: key`` created, if it still exists."""
        with self.lock:
            ident = self.by_create_key.get((key, kind, namespace))
            return self.objects[kind].get(ident) if ident is not None else None

    def namespace(self, name: str) -> dict | None:
        return self.namespaces_by_name.get(name)

    def namespace_exists(self, name: str) -> bool:
        return name == "/" or name in self.namespaces_by_name

    def in_namespace(self, kind: str, namespace: str) -> list[dict]:
        with self.lock:
            return list(self.by_ns[kind].get(namespace, {}).values())

    def in_namespaces(self, kind: str, namespaces) -> list[dict]:
        with self.lock:
            out = []
            buckets = self.by_ns[kind]
            for namespace in namespaces:
                out.extend(buckets.get(namespace, {}).values())
            return out

    def namespaces_under(self, kind: str, namespace: str) -> list[str]:
        """Namespaces holding objects of ``kind`` strictly below ``namespace``."""
        with self.lock:
            return [ns for ns in self.by_ns[kind] if is_descendant(ns, namespace)]

    def everything_under(self, namespace: str) -> list[tuple[str, dict]]:
        """Every object living in ``namespace`` or below it (namespaces included)."""
        with self.lock:
            out = []
            for kind, buckets in self.by_ns.items():
                for ns, bucket in buckets.items():
                    if ns == namespace or is_descendant(ns, namespace):
                        out.extend((kind, obj) for obj in bucket.values())
            return out
