"""What the simulated phones meant the server to hold, what it holds, and the differences."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

CAPTURED = ("check", "finding")  # the types phones create in a simulation


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

    def change(self, client, type_: str, entity_id: str | None, data: dict) -> str:
        """Make a change on the phone and remember what the server should end up with."""
        entity_id = client.upsert(type_, entity_id, data)
        key = (type_, entity_id)
        self.actions[f"{type_} {'edit' if key in self.intended else 'create'}"] += 1
        self.intended.setdefault(key, Intended(type_, entity_id, self.name)).fields |= data
        return entity_id

    def remove(self, client, type_: str, entity_id: str):
        """Delete a record on the phone; the server should keep only a tombstone."""
        client.delete(type_, entity_id)
        self.actions[f"{type_} delete"] += 1
        self.intended[type_, entity_id].deleted = True


@dataclass
class Difference:
    """One way the server's records differ from what the phones sent."""

    kind: str  # missing, duplicated, unexpected, mismatch, stale, conflict, rejected, unsynced
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
    differences: list = field(default_factory=list)


def snapshot(client) -> dict:
    """Every record in a client's store, deleted ones too, by (type, id)."""
    return {(r.type, r.entity_id): {"version": r.version, "data": r.data, "deleted": r.deleted}
            for r in client.store.records(deleted=True)}


def compare(runs: list[PhoneRun], held: dict, before: set) -> list[Difference]:
    """Every difference between what the phones sent and what the server holds."""
    differences, sent = [], {}
    for phone in runs:
        differences += _phone_problems(phone)
        for key, intended in phone.intended.items():
            sent[key] = intended
            differences += _compare_record(intended, held.get(key))
            differences += _compare_copy(phone, intended, held.get(key))
    return differences + _extras(sent, held, before)


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
    lines = [f"{len(report.phones)} phones, seed {report.seed}, {report.seconds:.1f} s", "",
             "phone     account         checks findings edits deletes  requests retries"
             "  dropped req/resp  duplicated"]
    for p in report.phones:
        a, f = p.actions, p.faults
        edits = a["check edit"] + a["finding edit"]
        deletes = a["check delete"] + a["finding delete"]
        lines.append(f"{p.name:<9} {p.username:<15} {a['check create']:>6} "
                     f"{a['finding create']:>8} {edits:>5} {deletes:>7}  {p.stats['requests']:>8}"
                     f" {p.stats['retries']:>7}  {f['dropped_requests']:>8}/"
                     f"{f['dropped_responses']:<8} {f['duplicated']:>10}")
    lines += ["", "sent by the phones:  " + _counts(_sent(report)),
              "held by the server:  " + _counts(_held(report)), ""]
    if verbose:
        lines += _listing(report) + [""]
    if not report.differences:
        lines.append("differences: none")
        return "\n".join(lines)
    lines.append(f"differences: {len(report.differences)}")
    lines += [f"  {_describe(d)}" for d in report.differences]
    return "\n".join(lines)


def _sent(report: Report) -> Counter:
    return Counter((key[0], i.deleted) for p in report.phones for key, i in p.intended.items())


def _held(report: Report) -> Counter:
    return Counter((key[0], r["deleted"]) for key, r in report.held.items()
                   if key[0] in CAPTURED and key not in report.before)


def _counts(counts: Counter) -> str:
    return ", ".join(f"{counts[t, False]} {t}s" + (f" (+{counts[t, True]} deleted)"
                                                    if counts[t, True] else "")
                     for t in CAPTURED)


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
