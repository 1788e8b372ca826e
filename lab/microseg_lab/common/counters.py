"""Per-route request counters (read by the benchmarks through ``GET /_lab/counters``)."""

from __future__ import annotations

import threading

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# POST routes that only read (a query sent as a body): counted as requests, not as writes.
READ_ONLY_POSTS = ("/inventory/search", "/statsqueries")


def is_write(method: str, route: str) -> bool:
    return method in WRITE_METHODS and not (method == "POST" and route.endswith(READ_ONLY_POSTS))


class Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: dict[str, int] = {}
        self._total = 0
        self._writes = 0

    def record(self, method: str, route: str) -> None:
        key = "%s %s" % (method, route)
        with self._lock:
            self._total += 1
            if is_write(method, route):
                self._writes += 1
            self._routes[key] = self._routes.get(key, 0) + 1

    def reset(self) -> None:
        with self._lock:
            self._routes = {}
            self._total = 0
            self._writes = 0

    def snapshot(self) -> dict:
        with self._lock:
            return {"total": self._total, "writes": self._writes, "routes": dict(sorted(self._routes.items()))}
