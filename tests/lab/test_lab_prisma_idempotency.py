"""Prisma emulator: Idempotency-Key kept with the object (createIdempotencyKey/updateIdempotencyKey), SQLite included."""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from lab_helpers import ROOT, VALID_BODIES, PrismaClient, errors_of, labctl, read_lab_json

sys.path.insert(0, str(ROOT / "lab"))

from microseg_lab.common.persistence import SqlitePersistence  # noqa: E402
from microseg_lab.prisma.store import Store  # noqa: E402

NET = VALID_BODIES["externalnetworks"]
HIDDEN = ("IdempotencyKey", "_meta")


def key_headers(key: str) -> dict:
    return {"Idempotency-Key": key}


def assert_hidden(*responses) -> None:
    for response in responses:
        for word in HIDDEN:
            assert word not in response.text, (word, response.request.method, response.url)


def ids(client: PrismaClient, resource: str = "/externalnetworks") -> list[str]:
    return [o["ID"] for o in client.get(resource).json()]


def test_post_replay_answers_the_created_object_and_creates_nothing(api):
    first = api.post("/externalnetworks", NET, headers=key_headers("replay-1"))
    assert first.status_code == 200, first.text
    writes = api.counters()["writes"]
    second = api.post("/externalnetworks", NET, headers=key_headers("replay-1"))
    assert second.status_code == first.status_code
    assert second.json() == first.json()
    assert second.headers["Content-Type"] == first.headers["Content-Type"]
    assert ids(api) == [first.json()["ID"]]
    # the replay is a write request the client sent (counted), not a second object
    assert api.counters()["writes"] == writes + 1
    # X-Fields applies to the replay as to a create
    sparse = api.post("/externalnetworks", NET, headers=dict(key_headers("replay-1"), **{"X-Fields": "ID,name"}))
    assert sparse.status_code == 200 and sparse.json() == {"ID": first.json()["ID"], "name": NET["name"]}
    # the /v/1 prefix addresses the same collection
    prefixed = api.post("/v/1/externalnetworks", NET, headers=key_headers("replay-1"))
    assert prefixed.json()["ID"] == first.json()["ID"]
    # namespaces too (a replay does not hit Duplicate Key, nor create a second default policy)
    ns1 = api.post("/namespaces", {"name": "idem", "type": "Group"}, headers=key_headers("replay-ns"))
    ns2 = api.post("/namespaces", {"name": "idem", "type": "Group"}, headers=key_headers("replay-ns"))
    assert ns1.status_code == ns2.status_code == 200 and ns1.json() == ns2.json()
    assert [s["name"] for s in api.fresh("/acme/idem").get("/servicedependencypolicies").json()] == ["default"]
    # the key is never in any JSON the API answers
    put = api.put("/externalnetworks/" + first.json()["ID"], dict(first.json(), description="x"), headers=key_headers("put-1"))
    assert put.status_code == 200, put.text
    export = api.post("/export", {"identities": ["externalnetwork"]})
    assert export.status_code == 200
    assert_hidden(first, second, sparse, ns1, ns2, put, export, api.get("/externalnetworks"),
                  api.get("/externalnetworks/" + first.json()["ID"]), api.get("/namespaces"),
                  api.get("/namespaces/" + ns1.json()["ID"]))


def test_post_replay_after_delete_creates_a_new_object(api):
    first = api.create("externalnetworks", NET, headers=key_headers("gone-1"))
    assert api.delete("/externalnetworks/" + first["ID"]).status_code == 200
    again = api.create("externalnetworks", NET, headers=key_headers("gone-1"))
    assert again["ID"] != first["ID"]
    assert ids(api) == [again["ID"]]
    # the key now goes with the new object
    assert api.create("externalnetworks", NET, headers=key_headers("gone-1"))["ID"] == again["ID"]
    # objects deleted with their namespace take their keys along
    inner = api.fresh("/acme/doomed")
    api.create("namespaces", {"name": "doomed"})
    old = inner.create("externalnetworks", NET, headers=key_headers("gone-2"))
    namespace_id = api.get("/namespaces").json()[0]["ID"]
    assert api.delete("/namespaces/" + namespace_id).status_code == 200
    api.create("namespaces", {"name": "doomed"})
    new = inner.create("externalnetworks", NET, headers=key_headers("gone-2"))
    assert new["ID"] != old["ID"] and ids(inner) == [new["ID"]]


def test_failed_create_keeps_no_key(api):
    bad = api.post("/externalnetworks", {"name": "x"}, headers=key_headers("fail-1"))
    assert bad.status_code == 422
    api.create("namespaces", {"name": "dup"})
    duplicate = api.post("/namespaces", {"name": "dup"}, headers=key_headers("fail-2"))
    assert duplicate.status_code == 422 and errors_of(duplicate)[0]["title"] == "Duplicate Key"
    good = api.create("externalnetworks", {"name": "x", "entries": ["1.2.3.0/24"]}, headers=key_headers("fail-1"))
    assert ids(api) == [good["ID"]]


def test_concurrent_posts_with_one_key_create_one_object(api):
    clients = [api.fresh() for dummy in range(8)]
    barrier = threading.Barrier(len(clients), timeout=20)

    def post(client: PrismaClient):
        barrier.wait()
        return client.post("/externalnetworks", NET, headers=key_headers("race-1"), timeout=30)

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        futures = [pool.submit(post, c) for c in clients]
        responses = [f.result(timeout=60) for f in futures]
    assert [r.status_code for r in responses] == [200] * len(clients)
    assert len({r.json()["ID"] for r in responses}) == 1
    assert len({r.text for r in responses}) == 1
    assert ids(api) == [responses[0].json()["ID"]]


def test_key_of_another_namespace_or_identity_creates_normally(api):
    api.create("namespaces", {"name": "a"})
    api.create("namespaces", {"name": "b"})
    in_a, in_b = api.fresh("/acme/a"), api.fresh("/acme/b")
    net_a = in_a.create("externalnetworks", NET, headers=key_headers("shared-1"))
    net_b = in_b.create("externalnetworks", NET, headers=key_headers("shared-1"))
    assert net_b["ID"] != net_a["ID"] and net_b["namespace"] == "/acme/b"
    assert ids(in_a) == [net_a["ID"]] and ids(in_b) == [net_b["ID"]]
    # the parent namespace does not see its children's keys either (even with recursive)
    parent = api.post("/externalnetworks?recursive=true", NET, headers=key_headers("shared-1"))
    assert parent.status_code == 200 and parent.json()["namespace"] == "/acme"
    assert parent.json()["ID"] not in (net_a["ID"], net_b["ID"])
    # each namespace replays its own object
    assert in_a.create("externalnetworks", NET, headers=key_headers("shared-1"))["ID"] == net_a["ID"]
    assert in_b.create("externalnetworks", NET, headers=key_headers("shared-1"))["ID"] == net_b["ID"]
    # another identity with the same key creates its own object
    service = in_a.create("services", VALID_BODIES["services"], headers=key_headers("shared-1"))
    assert service["ID"] != net_a["ID"]
    assert [s["ID"] for s in in_a.get("/services").json()] == [service["ID"]]


def test_put_replay_after_the_update_time_changed(api):
    created = api.create("externalnetworks", NET)
    path = "/externalnetworks/" + created["ID"]
    time.sleep(1.1)  # the update gets another updateTime second than the one the body carries
    body = dict(created, description="one")
    first = api.put(path, body, headers=key_headers("put-replay"))
    assert first.status_code == 200, first.text
    replay = api.put(path, body, headers=key_headers("put-replay"))
    assert replay.status_code == 200, replay.text
    assert replay.json() == first.json()
    # without the key the same body is a conflicting update (its updateTime is stale)
    stale = api.put(path, body)
    assert stale.status_code == 422 and "updateTime" in stale.text
    # a later update by another request ends the replay of the first key
    api.put(path, dict(api.get(path).json(), description="two"), headers=key_headers("put-other"))
    assert api.put(path, body, headers=key_headers("put-replay")).status_code == 422
    assert api.get(path).json()["description"] == "two"


# ---------------------------------------------------------------- the store's key index


def test_store_index_follows_deletes_and_is_rebuilt_from_sqlite(tmp_path):
    path = str(tmp_path / "prisma.sqlite")
    persistence = SqlitePersistence(path)
    store = Store(persistence)
    ns = {"ID": "n1", "name": "/acme/x", "namespace": "/acme"}
    kept = {"ID": "o1", "name": "kept", "namespace": "/acme", "_meta": {"createIdempotencyKey": "k1"}}
    inner = {"ID": "o2", "name": "inner", "namespace": "/acme/x", "_meta": {"createIdempotencyKey": "k2"}}
    store.put_many([("namespace", ns), ("externalnetwork", kept), ("externalnetwork", inner)])
    assert store.created_with_key("externalnetwork", "/acme", "k1") is kept
    assert store.created_with_key("externalnetwork", "/acme/x", "k2") is inner
    assert store.created_with_key("externalnetwork", "/acme/x", "k1") is None
    assert store.created_with_key("service", "/acme", "k1") is None
    # an update that keeps _meta keeps the key
    updated = dict(kept, description="v2")
    store.put("externalnetwork", updated)
    assert store.created_with_key("externalnetwork", "/acme", "k1") is updated
    # a namespace deleted with its content drops the content's keys
    store.delete_many([("namespace", ns)] + store.everything_under("/acme/x"))
    assert ("k2", "externalnetwork", "/acme/x") not in store.by_create_key
    persistence.close()
    reloaded = Store(SqlitePersistence(path))
    assert reloaded.load() == 1
    assert reloaded.by_create_key == {("k1", "externalnetwork", "/acme"): "o1"}
    assert reloaded.created_with_key("externalnetwork", "/acme", "k1")["description"] == "v2"
    reloaded.wipe()
    assert reloaded.by_create_key == {}
    reloaded.persistence.close()


# ---------------------------------------------------------------- SQLite: a killed lab remembers the keys


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def _kill_lab(state) -> None:
    """SIGKILL the lab server (the pid labctl recorded; only that process), then wait for it to die."""
    with open(state / "lab.pid") as handle:
        pid = int(handle.read().strip())
    with open("/proc/%d/cmdline" % pid, "rb") as handle:
        cmdline = handle.read().split(b"\0")
    assert b"_serve" in cmdline and str(state).encode() in cmdline, cmdline
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 15
    while not _gone(pid):
        assert time.monotonic() < deadline, "lab pid %d did not die" % pid
        time.sleep(0.05)


def test_sqlite_lab_killed_and_restarted_replays_the_key(tmp_path):
    state = tmp_path / "killed"
    port = str(_free_port())
    labctl("start", "--dir", str(state), "--sqlite", "--prisma-port", port)
    try:
        client = PrismaClient(read_lab_json(state)["prisma"])
        first = client.post("/externalnetworks", NET, headers=key_headers("crash-1"))
        assert first.status_code == 200, first.text
        created = first.json()
        time.sleep(1.1)  # so that a PUT replay would fail on updateTime without its key
        put_body = dict(created, description="after")
        put = client.put("/externalnetworks/" + created["ID"], put_body, headers=key_headers("crash-put"))
        assert put.status_code == 200, put.text
        _kill_lab(state)
        labctl("start", "--dir", str(state), "--sqlite", "--prisma-port", port)
        info = read_lab_json(state)["prisma"]
        assert info["url"].endswith(":" + port)
        client = PrismaClient(info)
        replay = client.post("/externalnetworks", NET, headers=key_headers("crash-1"))
        assert replay.status_code == 200, replay.text
        assert replay.json() == put.json()  # the object as it is now (updated since its create)
        assert ids(client) == [created["ID"]]
        put_replay = client.put("/externalnetworks/" + created["ID"], put_body, headers=key_headers("crash-put"))
        assert put_replay.status_code == 200 and put_replay.json() == put.json()
        assert_hidden(replay, put_replay, client.get("/externalnetworks"))
        # and a deleted object's key creates again after a restart
        assert client.delete("/externalnetworks/" + created["ID"]).status_code == 200
    finally:
        labctl("stop", "--dir", str(state))
    labctl("start", "--dir", str(state), "--sqlite", "--prisma-port", port)
    try:
        client = PrismaClient(read_lab_json(state)["prisma"])
        again = client.post("/externalnetworks", NET, headers=key_headers("crash-1"))
        assert again.status_code == 200 and again.json()["ID"] != created["ID"]
        assert ids(client) == [again.json()["ID"]]
    finally:
        labctl("stop", "--dir", str(state))
