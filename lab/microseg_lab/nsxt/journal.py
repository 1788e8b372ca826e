"""Buffered SQLite write-through: changes recorded while a request is handled, written at its end."""

from __future__ import annotations

import json

from ..common.persistence import SqlitePersistence


class Journal:
    def __init__(self, persistence: SqlitePersistence | None) -> None:
        self.persistence = persistence
        self._puts: dict[tuple[str, str], tuple[str, dict]] = {}
        self._deletes: set[tuple[str, str]] = set()
        self._meta: dict[str, object] = {}

    @property
    def enabled(self) -> bool:
        return self.persistence is not None

    def put(self, kind: str, key: str, scope: str, doc: dict) -> None:
        if self.persistence is not None:
            self._deletes.discard((kind, key))
            self._puts[(kind, key)] = (scope, doc)

    def delete(self, kind: str, key: str) -> None:
        if self.persistence is not None:
            self._puts.pop((kind, key), None)
            self._deletes.add((kind, key))

    def meta(self, key: str, value) -> None:
        if self.persistence is not None:
            self._meta[key] = value

    def discard(self) -> None:
        self._puts.clear()
        self._deletes.clear()
        self._meta.clear()

    def flush(self) -> None:
        if self.persistence is None:
            return
        try:
            if self._deletes:
                self.persistence.delete_many(sorted(self._deletes))
            if self._puts:
                self.persistence.put_many([(kind, key, scope, doc) for (kind, key), (scope, doc) in self._puts.items()])
            for key, value in self._meta.items():
                self.persistence.set_meta(key, json.dumps(value, separators=(",", ":")))
        finally:
            self.discard()

    def load(self) -> dict[str, list[tuple[str, str, dict]]]:
        """Stored documents by kind, each as (key, scope, doc), in storage order."""
        by_kind: dict[str, list[tuple[str, str, dict]]] = {}
        if self.persistence is None:
            return by_kind
        for kind, key, scope, doc in self.persistence.load():
            by_kind.setdefault(kind, []).append((key, scope, doc))
        return by_kind

    def get_meta(self, key: str, default=None):
        if self.persistence is None:
            return default
        raw = self.persistence.get_meta(key)
        if raw is None:
            return default
        try:
            return json.loads(raw)
        except ValueError:
            return default

    def wipe(self) -> None:
        self.discard()
        if self.persistence is not None:
            self.persistence.wipe()
