"""The outbox: local changes queued for push, and what their results do to the store.

A mutation's id is chosen once, when the user makes the change, and never changes: a
retry of the same mutation is answered ``duplicate`` and changes nothing on the server.

``base_version`` is the server version the user's change was made on. A change made on
top of another change of the same record that is still waiting to be pushed cannot know
that version yet: it is queued ``waiting`` and takes the version the earlier change's
result reports. Until then it stays out of the batch (with the rest of that record's
queue); other records' mutations still go. So the order of changes is kept per record,
and a batch never holds two mutations of one record.
"""

import uuid
from datetime import datetime

from .messages import MAX_MUTATIONS, MAX_PUSH_BYTES
from .records import APPEND_ONLY
from .store import Store, dumps, now

KNOWN = object()  # base_version default: the version of the record the phone knows
ENVELOPE_BYTES = 200  # {"device_id": "…", "mutations": []} with room to spare


def enqueue(store: Store, type_: str, op: str, entity_id: str, data: dict,
            base_version=KNOWN) -> str:
    """Queue one local change and show it in the local store, in one transaction."""
    with store.transaction():
        return _queue(store, type_, op, entity_id, data, base_version)


def _queue(store: Store, type_: str, op: str, entity_id: str, data: dict,
           base_version=KNOWN) -> str:
    mutation_id = str(uuid.uuid4())
    client_time = datetime.now().astimezone().isoformat(timespec="seconds")
    waiting = 0
    if base_version is KNOWN:
        base_version, _base, _deleted = store.server_state(type_, entity_id)
        waiting = int(bool(store.pending(type_, entity_id)))
        if waiting:
            base_version = None
    store.db.execute(
        "INSERT INTO outbox (id, type, op, entity_id, base_version, waiting, data,"
        " client_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (mutation_id, type_, op, str(entity_id), base_version, waiting, dumps(data),
         client_time))
    store.db.execute("INSERT OR IGNORE INTO records (type, entity_id, data) "
                     "VALUES (?, ?, '{}')", (type_, str(entity_id)))
    store.rebuild(type_, entity_id)
    return mutation_id


def wire(mutation: dict) -> dict:
    """A queued mutation as a push body carries it."""
    keys = ("id", "type", "op", "entity_id", "base_version", "data", "client_time")
    return {key: mutation[key] for key in keys}


def next_batch(store: Store, max_count: int = MAX_MUTATIONS,
               max_bytes: int = MAX_PUSH_BYTES) -> tuple[list[dict], list[dict]]:
    """(batch, too_large): mutations to push now, and single ones larger than any request.

    Mutations are taken in order; a record whose next mutation waits for an earlier
    result is held back entirely, so its own order is kept.
    """
    batch, too_large, held, size = [], [], set(), ENVELOPE_BYTES
    for mutation in store.outbox():
        key = (mutation["type"], mutation["entity_id"])
        if key in held or mutation["waiting"]:
            held.add(key)
            continue
        cost = len(dumps(wire(mutation))) + 1  # the comma between mutations
        if cost + ENVELOPE_BYTES > max_bytes:
            too_large.append(mutation)
            held.add(key)
            continue
        if len(batch) >= max_count or size + cost > max_bytes:
            break
        batch.append(mutation)
        held.add(key)  # one mutation per record and batch: the next needs its version
        size += cost
    return batch, too_large


def record_results(store: Store, sent: list[dict], results: list[dict]):
    """Apply one push response to the store; call inside a transaction, so that all of it
    is kept or none."""
    for mutation, result in zip(sent, results, strict=True):
        if str(result["id"]) != mutation["id"]:
            raise ValueError("push results are not in the order of the mutations")
        handle = {"applied": _applied, "duplicate": _applied, "conflict": _conflict,
                  "rejected": _rejected}[result["status"]]
        handle(store, mutation, result)


def reject_locally(store: Store, mutation: dict, detail: str):
    """Drop a mutation the server could never accept (e.g. larger than any request)."""
    error = {"type": "about:blank", "title": "Too large", "status": 413, "detail": detail}
    with store.transaction():
        _rejected(store, mutation, {"error": error})


def _remove(store: Store, mutation: dict):
    store.db.execute("DELETE FROM outbox WHERE id = ?", (mutation["id"],))


def _release_next(store: Store, mutation: dict, version: int | None):
    """Give the record's next waiting mutation the version it was made on."""
    store.db.execute(
        "UPDATE outbox SET base_version = ?, waiting = 0 WHERE seq = (SELECT min(seq) FROM"
        " outbox WHERE type = ? AND entity_id = ? AND waiting = 1)",
        (version, mutation["type"], mutation["entity_id"]))


def _applied(store: Store, mutation: dict, result: dict):
    type_, entity_id = mutation["type"], mutation["entity_id"]
    version, base, _deleted = store.server_state(type_, entity_id)
    new_version = result.get("version")
    _remove(store, mutation)
    if new_version is not None and (version is None or new_version >= version):
        # Our best guess of the server's record until the next pull brings the real one.
        merged = dict(base or {}) | mutation["data"]
        store.set_server_state(type_, entity_id, new_version, merged,
                               mutation["op"] == "delete")
    else:
        store.rebuild(type_, entity_id)  # a pull already brought something newer
    _release_next(store, mutation, new_version)


def _append_only(mutation: dict) -> dict:
    """The part of a change that never conflicts (notes lines, evidence ids…)."""
    grows = APPEND_ONLY.get(mutation["type"], frozenset())
    if mutation["op"] != "upsert":
        return {}
    return {k: v for k, v in mutation["data"].items() if k in grows}


def _conflict(store: Store, mutation: dict, result: dict):
    """Keep the server's record; the change, and those made on top of it, go to conflicts
    for the user to decide — but what only appends (a line of notes) is sent again on top
    of the server's record, so nothing the user wrote is lost."""
    type_, entity_id = mutation["type"], mutation["entity_id"]
    current = result.get("current")
    later = [m for m in store.pending(type_, entity_id) if m["seq"] > mutation["seq"]]
    conflicted = [mutation] + [m for m in later if m["waiting"]]
    kept = [_append_only(m) for m in conflicted]
    for dropped in conflicted:
        store.db.execute(
            "INSERT OR REPLACE INTO conflicts (mutation_id, type, entity_id, op, data,"
            " current, version, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (dropped["id"], type_, entity_id, dropped["op"], dumps(dropped["data"]),
             dumps(current), result.get("version"), now()))
        _remove(store, dropped)
    version = result.get("version") or (current or {}).get("version")
    store.set_server_state(type_, entity_id, version, current, current is None)
    for data in kept:
        if data and current is not None:
            # A new change (new id), made on the version the server holds now.
            _queue(store, type_, "upsert", entity_id, data)


def _rejected(store: Store, mutation: dict, result: dict):
    """Drop the change; the next change of the record builds on what the server holds."""
    store.db.execute(
        "INSERT OR REPLACE INTO rejections (mutation_id, type, entity_id, op, data, error,"
        " at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (mutation["id"], mutation["type"], mutation["entity_id"], mutation["op"],
         dumps(mutation["data"]), dumps(result.get("error")), now()))
    _remove(store, mutation)
    # Pushed mutations never wait, so their base_version is the one the server still has.
    _release_next(store, mutation, mutation["base_version"])
    store.rebuild(mutation["type"], mutation["entity_id"])
