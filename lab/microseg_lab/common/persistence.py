"""Write-through SQLite persistence for a product's objects.

Products keep their working set in memory and call ``put``/``delete`` on every change; at start
they ``load`` everything back. Documents are JSON objects addressed by (kind, id) with a free
``scope`` column (the namespace, domain or scope the object lives in).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable


class SqlitePersistence:
    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS docs (kind TEXT NOT NULL, id TEXT NOT NULL, scope TEXT NOT NULL, "
            "body TEXT NOT NULL, PRIMARY KEY (kind, id))"
        )
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")

    def load(self, kinds: Iterable[str] | None = None) -> list[tuple[str, str, str, dict]]:
        """Every document in insertion order (only those of ``kinds`` when given)."""
        query = "SELECT kind, id, scope, body FROM docs"
        args: list[str] = []
        if kinds is not None:
            args = list(kinds)
            query += " WHERE kind IN (%s)" % ", ".join(["?"] * len(args)) if args else " WHERE 0"
        with self._lock:
            rows = self._db.execute(query + " ORDER BY rowid", args).fetchall()
        return [(kind, ident, scope, json.loads(body)) for kind, ident, scope, body in rows]

    def put(self, kind: str, ident: str, scope: str, doc: dict) -> None:
        self.put_many([(kind, ident, scope, doc)])

    def put_many(self, items: Iterable[tuple[str, str, str, dict]]) -> None:
        rows = [(k, i, s, json.dumps(d, separators=(",", ":"))) for k, i, s, d in items]
        if not rows:
            return
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany("INSERT OR REPLACE INTO docs (kind, id, scope, body) VALUES (?, ?, ?, ?)", rows)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def delete(self, kind: str, ident: str) -> None:
        self.delete_many([(kind, ident)])

    def delete_many(self, keys: Iterable[tuple[str, str]]) -> None:
        keys = list(keys)
        if not keys:
            return
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany("DELETE FROM docs WHERE kind = ? AND id = ?", keys)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def delete_kind(self, kind: str) -> None:
        """Every document of one kind."""
        with self._lock:
            self._db.execute("DELETE FROM docs WHERE kind = ?", (kind,))

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def wipe(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM docs")
            self._db.execute("DELETE FROM meta")

    def close(self) -> None:
        with self._lock:
            self._db.close()
