"""Objects of the Secure Workload emulator: in memory, optionally written through to SQLite.

Every change goes through ``put``/``delete``, which keep an undo log for the request in progress:
``commit`` writes the changed documents to SQLite (with ``--sqlite``) and ``rollback`` restores the
memory state when a request fails halfway, so a request either applies completely or not at all.
Documents are never changed in place: handlers ``copy`` a document, change the copy and ``put`` it.
Each document has a creation sequence number (``_seq``) that fixes list order across restarts.
"""

from __future__ import annotations

import copy
import json
import secrets
import time

from ..common.persistence import SqlitePersistence

KINDS = ("scope", "filter", "workspace", "policy", "cluster", "profile", "intent", "orchestrator", "sensor")


def new_id() -> str:
    """A 24-hex identifier shaped like the product's ObjectIds (seconds, then random bytes)."""
    return "%08x" % (int(time.time()) & 0xFFFFFFFF) + secrets.token_hex(8)


def now() -> int:
    return int(time.time())


class Store:
    def __init__(self, persistence: SqlitePersistence | None = None) -> None:
        self.persistence = persistence
        self.data: dict[str, dict[str, dict]] = {kind: {} for kind in KINDS}
        self.seq = 0
        self._undo: list[tuple[str, str, dict | None]] = []
        self._seq_before: int | None = None
        self._changed: dict[tuple[str, str], dict | None] = {}

    # ---------------------------------------------------------------- reads

    def get(self, kind: str, ident) -> dict | None:
        if not isinstance(ident, str):
            return None
        return self.data[kind].get(ident)

    def all(self, kind: str) -> list[dict]:
        return list(self.data[kind].values())

    def where(self, kind: str, **criteria) -> list[dict]:
        return [doc for doc in self.data[kind].values() if all(doc.get(k) == v for k, v in criteria.items())]

    @staticmethod
    def copy(doc: dict) -> dict:
        return copy.deepcopy(doc)

    # ---------------------------------------------------------------- writes

    def put(self, kind: str, doc: dict) -> dict:
        ident = doc["id"]
        if "_seq" not in doc:
            if self._seq_before is None:
                self._seq_before = self.seq
            self.seq += 1
            doc["_seq"] = self.seq
        self._undo.append((kind, ident, self.data[kind].get(ident)))
        self.data[kind][ident] = doc
        self._changed[(kind, ident)] = doc
        return doc

    def delete(self, kind: str, ident: str) -> None:
        if ident not in self.data[kind]:
            return
        self._undo.append((kind, ident, self.data[kind][ident]))
        del self.data[kind][ident]
        self._changed[(kind, ident)] = None

    def rollback(self) -> None:
        for kind, ident, previous in reversed(self._undo):
            if previous is None:
                self.data[kind].pop(ident, None)
            else:
                self.data[kind][ident] = previous
        for kind in KINDS:  # restored documents keep their creation order
            self.data[kind] = dict(sorted(self.data[kind].items(), key=lambda item: item[1].get("_seq", 0)))
        if self._seq_before is not None:
            self.seq = self._seq_before
        self._forget()

    def commit(self) -> None:
        try:
            if self.persistence is not None and self._changed:
                deletes = [key for key, doc in self._changed.items() if doc is None]
                puts = [(kind, ident, "", doc) for (kind, ident), doc in self._changed.items() if doc is not None]
                self.persistence.delete_many(deletes)
                self.persistence.put_many(puts)
                self.persistence.set_meta("seq", str(self.seq))
        finally:
            self._forget()

    def _forget(self) -> None:
        self._undo = []
        self._changed = {}
        self._seq_before = None

    # ---------------------------------------------------------------- lifecycle

    def wipe(self) -> None:
        self.data = {kind: {} for kind in KINDS}
        self.seq = 0
        self._forget()
        if self.persistence is not None:
            self.persistence.wipe()

    def load(self) -> bool:
        """Read the SQLite state back; False when there is none (the caller then seeds)."""
        if self.persistence is None or self.persistence.get_meta("seeded") is None:
            return False
        rows = sorted(self.persistence.load(), key=lambda row: row[3].get("_seq", 0))
        for kind, ident, _scope, doc in rows:
            if kind in self.data:
                self.data[kind][ident] = doc
        self.seq = int(self.persistence.get_meta("seq") or 0)
        return True

    def mark_seeded(self) -> None:
        if self.persistence is not None:
            self.persistence.set_meta("seeded", json.dumps(True))

    def close(self) -> None:
        if self.persistence is not None:
            self.persistence.close()
