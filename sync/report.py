"""What the simulated phones meant the server to hold, what it holds, and the differences."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

CAPTURED = ("check", "finding", "evidence")  # the types phones create in a simulation
PLURAL = {"check": "checks", "finding": "findings", "evidence": "evidence"}


@dataclass
class Intended:
    """A record as its phone left it: every field it set, and whether it deleted it."""

    type: str
    entity_id: str
    phone: str
    fields: dict = field(default_factory=dict)
    deleted: bool = False


@dataclass
class PhoneRun:
    """One simulated phone: what it did, what the network did to it, what it holds."""

    name: str
    username: str
    intended: dict = field(default_factory=dict)  # (type, id) -> Intended
    actions: Counter = field(default_factory=Counter)
    synced: bool = False
    faults: Counter = field(default_factory=Counter)
    stats: Counter = field(default_factory=Counter)
    conflicts: list = field(default_factory=list)
    rejections: list = field(default_factory=list)
    local: dict = field(default_factory=dict)  # (type, id) -> the phone's final copy
    outbox: int = 0
    ready: bool = True  # every uploaded file's evidence was ready before the phone gave up
    files: dict = field(default_factory=dict)  # evidence id -> the phone's row of its file

    @property
    def file_states(self) -> Counter:
        """How many of the phone's files ended in each state (ready, uploaded…)."""
        return Counter(row["state"] for row in self.files.values())

    def change(self, client, type_: str, entity_id: str | None, data: dict) -> str:
        """Make a change on the phone and remember what the server should end up with."""
        entity_id = client.upsert(type_, entity_id, data)
        key = (type_, entity_id)
        self.actions[f"{type_} {'edit' if key in self.intended else 'create'}"] += 1
        self.intended.setdefault(key, Intended(type_, entity_id, self.name)).fields |= data
        return entity_id

    def capture(self, client, check_id: str, kind: str, content: bytes, fields: dict) -> str:
        """Take a photo (or recording) on the phone: its file and its evidence record."""
        entity_id = client.add_evidence(check_id, kind, content, **fields)
        self.actions["evidence create"] += 1
        self.actions["file bytes"] += len(content)
        data = client.record("evidence", entity_id).data
        self.intended["evidence", entity_id] = Intended("evidence", entity_id, self.name,
                                                        dict(data))
        return entity_id

    def remove(self, client, type_: str, entity_id: str):
        """Delete a record on the phone; the server should keep only a tombstone."""
        client.delete(type_, entity_id)
        self.actions[f"{type_} delete"] += 1
        self.intended[type_, entity_id].deleted = True


@dataclass
class Difference:
    """One way the server's records differ from what the phones sent."""

    # missing, duplicated, unexpected, mismatch, stale, conflict, rejected, unsynced;
    # for files: not_ready (the evidence is not ready), file (the stored original is
    # missing or differs), upload (the phone still holds it unsent or refused)
    kind: str
    phone: str
    type: str = ""
    entity_id: str = ""
    field: str = ""
    sent: object = None
    held: object = None
    detail: str = ""


@dataclass
class Report:
    """The outcome of a simulator run."""

    phones: list
    held: dict  # (type, id) -> {"version", "data", "deleted"} from clean pulls
    before: set = field(default_factory=set)  # record keys held before the phones began
    seed: int = 0
    seconds: float = 0.0
    files: dict = field(default_factory=dict)  # evidence id -> sha256 of the stored original
    differences: list = field(default_factory=list)


def snapshot(client) -> dict:
    """Every record in a client's store, deleted ones too, by (type, id)."""
    return {(r.type, r.entity_id): {"version": r.version, "data": r.data, "deleted": r.deleted}
            for r in client.store.records(deleted=True)}


def compare(runs: list[PhoneRun], held: dict, before: set,
            files: dict | None = None) -> list[Difference]:
    """Every difference between what the phones sent and what the server holds; with
    ``files`` (evidence id -> sha256 of the stored original), also every file that is
    not stored as the phone took it, or whose evidence is not ready."""
    differences, sent = [], {}
    for phone in runs:
        differences += _phone_problems(phone)
        for key, intended in phone.intended.items():
            sent[key] = intended
            differences += _compare_record(intended, held.get(key))
            differences += _compare_copy(phone, intended, held.get(key))
            if files is not None and key[0] == "evidence" and not intended.deleted:
                differences += _compare_file(phone, intended, held.get(key), files)
    return differences + _extras(sent, held, before)


def _compare_file(phone: PhoneRun, intended: Intended, held: dict | None,
                  files: dict) -> list[Difference]:
    """The evidence is ready, its original is the phone's file, the phone let it go."""
    where = (phone.name, "evidence", intended.entity_id)
    found = []
    if held is not None and not held["deleted"] and held["data"].get("state") != "ready":
        found.append(Difference("not_ready", *where, "state", "ready",
                                held["data"].get("state"),
                                detail=held["data"].get("failure") or ""))
    stored, sha256 = files.get(intended.entity_id), intended.fields.get("sha256")
    if stored != sha256:
        found.append(Difference("file", *where, "sha256", sha256, stored,
                                detail="no original on the server" if stored is None
                                else "the stored original differs"))
    row = phone.files.get(intended.entity_id)
    if row is None or row["state"] != "ready":
        found.append(Difference("upload", *where, "state", "ready", row and row["state"],
                                detail=(row or {}).get("error") or ""))
    return found


def _phone_problems(phone: PhoneRun) -> list[Difference]:
    problems = [] if phone.synced else [Difference(
        "unsynced", phone.name, detail=f"{phone.outbox} changes still in the outbox")]
    problems += [Difference("conflict", phone.name, c["type"], c["entity_id"], sent=c["data"],
                            held=c["current"]) for c in phone.conflicts]
    problems += [Difference("rejected", phone.name, r["type"], r["entity_id"], sent=r["data"],
                            detail=(r["error"] or {}).get("detail", "")) for r in phone.rejections]
    return problems


def _compare_record(intended: Intended, held: dict | None) -> list[Difference]:
    where = (intended.phone, intended.type, intended.entity_id)
    if held is None or (held["deleted"] and not intended.deleted):
        detail = "deleted on the server" if held else "not on the server"
        return [Difference("missing", *where, detail=detail)]
    if intended.deleted != held["deleted"]:
        return [Difference("mismatch", *where, "deleted", intended.deleted, held["deleted"])]
    if intended.deleted:
        return []
    return [Difference("mismatch", *where, name, value, held["data"].get(name))
            for name, value in intended.fields.items()
            if not same(name, value, held["data"].get(name))]


def _compare_copy(phone: PhoneRun, intended: Intended, held: dict | None) -> list[Difference]:
    """The phone's own copy after its last pull must equal the server's record."""
    copy = phone.local.get((intended.type, intended.entity_id))
    if held is None or copy is None:
        return [] if held is None else [Difference(
            "stale", phone.name, intended.type, intended.entity_id, detail="not on the phone")]
    if (copy["version"], copy["deleted"]) != (held["version"], held["deleted"]):
        return [Difference("stale", phone.name, intended.type, intended.entity_id, "version",
                           (copy["version"], copy["deleted"]),
                           (held["version"], held["deleted"]))]
    return [Difference("stale", phone.name, intended.type, intended.entity_id, name,
                       copy["data"].get(name), value)
            for name, value in held["data"].items() if copy["data"].get(name) != value]


def _extras(sent: dict, held: dict, before: set) -> list[Difference]:
    """Records the server holds that no phone created: duplicates or strangers."""
    signatures = {_signature(i.type, i.fields): i for i in sent.values()}
    extras = []
    for key, record in held.items():
        if key[0] not in CAPTURED or key in sent or key in before:
            continue
        twin = signatures.get(_signature(key[0], record["data"]))
        extras.append(Difference(
            "duplicated" if twin else "unexpected", twin.phone if twin else "", key[0], key[1],
            detail=f"same as {twin.entity_id}" if twin else "no phone created it"))
    return extras


def _signature(type_: str, data: dict) -> tuple:
    if type_ == "check":
        return type_, str(data.get("site_id")), _time(data.get("started_at"))
    if type_ == "evidence":
        return type_, str(data.get("check_id")), data.get("sha256")
    return type_, str(data.get("check_id")), data.get("description")


def _time(value) -> float | None:
    """The instant an RFC 3339 text names, or None when it is not one."""
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return moment.timestamp() if moment.tzinfo else None


def same(name: str, sent, held) -> bool:
    """Whether the server holds what the phone sent for one field, as the protocol defines it."""
    if name == "notes":  # append-only: every line once, none lost, none added twice
        return Counter((sent or "").splitlines()) == Counter((held or "").splitlines())
    if isinstance(sent, dict) and isinstance(held, dict):
        return all(same(key, value, held.get(key)) for key, value in sent.items())
    if isinstance(sent, float | int) and isinstance(held, float | int):
        return abs(sent - held) < 1e-6
    if isinstance(sent, str) and isinstance(held, str) and sent != held:
        # The same moment may come back in another offset (+08:00 sent, UTC held).
        return _time(sent) is not None and _time(sent) == _time(held)
    return sent == held


def format_report(report: Report, verbose: bool = False) -> str:
    """The run as text: what the phones sent, what the server holds, every difference."""
    photos = any(p.actions["evidence create"] for p in report.phones)
    lines = [f"{len(report.phones)} phones, seed {report.seed}, {report.seconds:.1f} s", "",
             "phone     account         checks findings edits deletes  requests retries"
             "  dropped req/resp  duplicated" + ("  photos    KiB  resumed" if photos else "")]
    for p in report.phones:
        a, f = p.actions, p.faults
        edits = a["check edit"] + a["finding edit"]
        deletes = a["check delete"] + a["finding delete"] + a["evidence delete"]
        line = (f"{p.name:<9} {p.username:<15} {a['check create']:>6} "
                f"{a['finding create']:>8} {edits:>5} {deletes:>7}  {p.stats['requests']:>8}"
                f" {p.stats['retries']:>7}  {f['dropped_requests']:>8}/"
                f"{f['dropped_responses']:<8} {f['duplicated']:>10}")
        if photos:
            line += (f"  {a['evidence create']:>6} {a['file bytes'] // 1024:>6} "
                     f"{p.stats['uploads_resumed']:>8}")
        lines.append(line)
    lines += ["", "sent by the phones:  " + _counts(_sent(report), photos),
              "held by the server:  " + _counts(_held(report), photos), ""]
    if photos:
        lines += _files(report) + [""]
    if verbose:
        lines += _listing(report) + [""]
    if not report.differences:
        lines.append("differences: none")
        return "\n".join(lines)
    lines.append(f"differences: {len(report.differences)}")
    lines += [f"  {_describe(d)}" for d in report.differences]
    return "\n".join(lines)


def _files(report: Report) -> list[str]:
    """What became of the photos: taken, stored as taken, ready, and how they went."""
    taken = [(p, key[1], i) for p in report.phones for key, i in p.intended.items()
             if key[0] == "evidence"]
    kept = [(p, evidence_id, i) for p, evidence_id, i in taken if not i.deleted]
    size = sum(i.fields.get("size") or 0 for _p, _e, i in kept)
    same = sum(report.files.get(e) == i.fields.get("sha256") for _p, e, i in kept)
    states = Counter((report.held.get(("evidence", e)) or {}).get("data", {}).get("state")
                     for _p, e, _i in kept)
    stats = sum((p.stats for p in report.phones), Counter())
    return [f"files: {len(taken)} taken, {len(taken) - len(kept)} discarded on the phone; "
            f"{len(kept)} kept ({size / 2**20:.1f} MiB), {same} stored on the server with the "
            f"phone's sha256; evidence states: "
            + ", ".join(f"{n} {state}" for state, n in sorted(states.items(), key=str)),
            f"uploads: {stats['uploads_created']} created, {stats['uploads_completed']} "
            f"completed, {stats['uploads_resumed']} resumed after an error, "
            f"{stats['uploads_restarted']} started again; {stats['upload_requests']} "
            f"requests, {stats['upload_bytes'] / 2**20:.1f} MiB sent "
            f"({stats['upload_bytes'] / max(1, size):.2f}x the files)"]


def _sent(report: Report) -> Counter:
    return Counter((key[0], i.deleted) for p in report.phones for key, i in p.intended.items())


def _held(report: Report) -> Counter:
    return Counter((key[0], r["deleted"]) for key, r in report.held.items()
                   if key[0] in CAPTURED and key not in report.before)


def _counts(counts: Counter, photos: bool = True) -> str:
    types = CAPTURED if photos else tuple(t for t in CAPTURED if t != "evidence")
    return ", ".join(f"{counts[t, False]} {PLURAL[t]}" + (f" (+{counts[t, True]} deleted)"
                                                         if counts[t, True] else "")
                     for t in types)


def _listing(report: Report) -> list[str]:
    lines = []
    for phone in report.phones:
        for (type_, entity_id), intended in phone.intended.items():
            held = report.held.get((type_, entity_id))
            state = "absent" if held is None else (
                "deleted" if held["deleted"] else f"v{held['version']}")
            text = intended.fields.get("notes") or intended.fields.get("description") or ""
            lines.append(f"  {phone.name} {type_:<7} {entity_id[:8]} "
                         f"{'deleted' if intended.deleted else 'sent':<7} server: {state:<7} "
                         + text.replace("\n", " / ")[:60])
    return lines


def _describe(d: Difference) -> str:
    where = f"{d.type} {d.entity_id}" if d.type else ""
    text = f"{d.kind:<10} {d.phone:<8} {where}"
    if d.field:
        text += f" {d.field}: sent {d.sent!r}, server holds {d.held!r}"
    return text + (f" ({d.detail})" if d.detail else "")
