"""What the month's phones captured: photos of the checks and findings, a few voice notes
and videos, a photo of each rectification; and what the reviewer made of them. Plans
records only: ``capture`` makes and stores their files."""

import math
import random
import uuid
import zlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from ..models import Check, Evidence, Finding, User
from . import data, recordings
from .activity import LOCAL, METRES_PER_DEGREE, WINDOW_SITES, on_working_day
from .followup import FollowUp

CLEAR_SHARE = 0.55  # of checks without a finding that still keep a photo (all off site do)
VOICE_NOTES, VIDEOS = 4, 3
WAITING = timedelta(days=7)  # the reviewer works oldest first: the last week's evidence waits
ATTENDANCE = {"absent", "late_early", "attendance_rules"}  # the sign-in book shows these


@dataclass(eq=False)  # each shot is itself: kept in sets and dicts by identity
class Shot:
    """One piece of evidence to make: its record (not in the session yet) and its file."""

    evidence: Evidence
    scene: str  # what the picture shows: office, window, works, village or sheet
    seed: int  # the same seed draws the same picture
    point: dict  # where the phone was, as the file says
    taken: datetime
    device: tuple[str, str]
    speech: str | None = None  # a voice note's words
    tidy: bool = False  # after a rectification
    quality: int = 88  # JPEG quality: a photo sent on again is saved again
    outside: bool = False  # taken outside the site's geofence


def plan(rng: random.Random, now: datetime, checks: list[Check], findings: list[Finding],
         followup: FollowUp, users: dict[str, User]) -> list[Shot]:
    """Every piece of evidence, linked to its check, finding or rectification (which list
    its id), judged by the reviewer; files not made yet."""
    by_check = {finding.check: finding for finding in findings}
    recording = recordings.available()  # without ffmpeg, photos only
    voiced = _some(rng, [f for f in findings if _scene(f.check) in ("office", "window")],
                   VOICE_NOTES if recording else 0)
    filmed = _some(rng, [f for f in findings if _scene(f.check) in ("works", "village")],
                   VIDEOS if recording else 0)
    kept = _clear_checks_kept(rng, now, [c for c in checks if c not in by_check])
    shots = []
    for check in checks:
        finding = by_check.get(check)
        if finding is None and check not in kept:
            continue
        extras = [kind for kind, chosen in (("audio", voiced), ("video", filmed))
                  if finding in chosen]
        kinds = ["photo"] * (rng.choice((1, 2, 2)) if finding else 1) + extras
        offset = round(rng.uniform(-2, 2), 1)  # the phone's clock against the server's
        for n, kind in enumerate(kinds):
            books = kind == "photo" and _on_the_books(check, finding, n)
            scene = "sheet" if books else _scene(check)
            shots.append(_shot(rng, now, check, finding, kind, scene, n))
            shots[-1].evidence.clock_offset_s = offset
    for finding in findings:
        finding.evidence_ids = [str(s.evidence.id) for s in shots if s.evidence.finding is finding]
    _judge(now, shots, users["reviewer"])
    return shots + _fixes(rng, now, followup, users)


def _clear_checks_kept(rng, now: datetime, clear: list[Check]) -> set[Check]:
    """The checks without a finding that keep a photo: every one of the last week (the
    reviewer's queue), every one whose phone stood off site, and others up to a fixed
    share; so the month looks alike whatever day the demo is loaded."""
    kept = {check for check in clear if _off_site(check) or _waiting(now, check)}
    rest = [check for check in clear if check not in kept]
    return kept | set(_some(rng, rest, max(0, round(CLEAR_SHARE * len(clear)) - len(kept))))


def _waiting(now: datetime, check: Check) -> bool:
    return now - check.started_at <= WAITING


def _some(rng, items: list, k: int) -> list:
    return rng.sample(items, k=min(k, len(items)))


def _scene(check: Check) -> str:
    if check.site.code in WINDOW_SITES:
        return "window"
    return {"office": "office", "village": "village"}.get(check.site.kind, "works")


def _on_the_books(check: Check, finding: Finding | None, n: int) -> bool:
    """The second photo of an attendance finding, or a clear office check's only one, is
    of the sign-in book."""
    if check.site.kind != "office" or check.site.code in WINDOW_SITES:
        return False
    return finding is None or (n == 1 and finding.category.code in ATTENDANCE)


def _device(user: User) -> tuple[str, str]:
    return data.DEVICES[zlib.crc32(user.username.encode()) % len(data.DEVICES)]


def _shot(rng, now, check: Check, finding, kind: str, scene: str, n: int) -> Shot:
    """The ``n``-th piece of evidence of a check, taken as the check went on and uploaded
    right after the check's record arrived."""
    taken = check.started_at + (check.ended_at - check.started_at) * (n + 1) / 5
    taken = taken.astimezone(LOCAL).replace(microsecond=0)
    point, outside = _position(rng, check)
    uploaded = min(check.received_at + timedelta(minutes=2 + n), now)
    evidence = Evidence(
        id=uuid.uuid4(), kind=kind, check=check, finding=finding, created_by=check.author.id,
        filename=_filename(kind, taken), captured_at=taken, location=point | _accuracy(check),
        review_state="pending", created_at=check.received_at, uploaded_at=uploaded,
        updated_at=uploaded)
    speech = f"{check.site.name}，{finding.description}。" if kind == "audio" else None
    return Shot(evidence, scene, rng.getrandbits(32), point, taken, _device(check.author),
                speech, outside=outside)


def _filename(kind: str, taken: datetime) -> str:
    name, ext = {"photo": ("IMG", "jpg"), "audio": ("REC", "m4a"), "video": ("VID", "mp4")}[kind]
    return f"{name}_{taken:%Y%m%d_%H%M%S}.{ext}"


def _accuracy(check: Check) -> dict:
    accuracy = (check.location or {}).get("accuracy_m")
    return {"accuracy_m": accuracy} if accuracy is not None else {}


def _from_site(check: Check) -> tuple[float, float]:
    """Metres north and east of its site where the phone stood for the check."""
    site, where = check.site, check.location
    north = (where["lat"] - site.lat) * METRES_PER_DEGREE
    return north, (where["lon"] - site.lon) * METRES_PER_DEGREE * math.cos(
        math.radians(site.lat))


def _off_site(check: Check) -> bool:
    return math.hypot(*_from_site(check)) > check.site.radius_m


def _position(rng, check: Check) -> tuple[dict, bool]:
    """Near where the phone stood for the check, and whether that is outside the fence:
    a phone outside it was well outside (half its radius or more)."""
    site, (north, east) = check.site, _from_site(check)
    distance = math.hypot(north, east)
    if distance > site.radius_m:
        scale = site.radius_m * rng.uniform(1.5, 2.2) / distance
        return _moved(site, north * scale, east * scale), True
    # Inside: the activity placed it within 0.7 of the radius, and radii are 80 m or more.
    return _moved(site, north + rng.uniform(-7, 7), east + rng.uniform(-7, 7)), False


def _moved(site, north: float, east: float) -> dict:
    return {"lat": round(site.lat + north / METRES_PER_DEGREE, 6),
            "lon": round(site.lon + east / (METRES_PER_DEGREE * math.cos(math.radians(site.lat))),
                         6)}


def _judge(now: datetime, shots: list[Shot], reviewer: User):
    """Evidence of confirmed findings was accepted, the last week's waits for the reviewer;
    of the rest a copied photo and photos from far off were turned down, a few sent back
    for more, and the others accepted."""
    ordered = sorted(shots, key=lambda shot: shot.taken)
    older = [shot for shot in ordered
             if not _confirmed(shot) and not _waiting(now, shot.evidence.check)]
    remarks = {}
    copied = _copy_earlier_photo(ordered, older)
    if copied:
        remarks[copied] = ("rejected", data.REUSED_REJECTED.format(
            day=f"{copied.taken.month}月{copied.taken.day}日"))
    outside = [shot for shot in older if shot.outside and shot not in remarks]
    remarks |= {shot: ("rejected", data.OUTSIDE_REJECTED) for shot in outside[1:]}
    remarks |= {shot: ("needs_info", data.OUTSIDE_NEEDS_INFO) for shot in outside[:1]}
    plain = [s for s in older if s not in remarks and s.evidence.kind == "photo"]
    remarks |= {shot: ("needs_info", data.NEEDS_INFO[shot.scene]) for shot in plain[:2]}
    if "rejected" not in {state for state, _note in remarks.values()} and plain[2:]:
        remarks[plain[2]] = ("rejected", data.DARK_REJECTED)
    for shot in ordered:
        if _confirmed(shot) or shot in older:
            state, note = remarks.get(shot, ("accepted", None))
            at = on_working_day(shot.evidence.uploaded_at + timedelta(days=1), time(9, 30))
            _decide(shot, state, note, reviewer, min(at, now))


def _confirmed(shot: Shot) -> bool:
    finding = shot.evidence.finding
    return finding is not None and finding.state == "confirmed"


def _copy_earlier_photo(ordered: list[Shot], older: list[Shot]) -> Shot | None:
    """Make one photo of a check with no finding a copy of an earlier visit's photo of the
    same site, sent on again: a near duplicate taken before its check."""
    for later in reversed(older):
        check = later.evidence.check
        if later.evidence.kind != "photo" or later.evidence.finding is not None:
            continue
        earlier = next((shot for shot in ordered if shot.evidence.kind == "photo"
                        and shot.evidence.check.site is check.site
                        and shot.taken < check.started_at), None)
        if earlier:
            later.scene, later.seed, later.point, later.taken = (
                earlier.scene, earlier.seed, earlier.point, earlier.taken)
            later.device, later.outside, later.quality = earlier.device, earlier.outside, 75
            later.evidence.captured_at = earlier.taken
            later.evidence.filename = _filename("photo", earlier.taken)
            return later
    return None


def _decide(shot: Shot, state: str, note: str | None, reviewer: User, at: datetime):
    evidence = shot.evidence
    evidence.review_state, evidence.review_note = state, note
    evidence.reviewed_by, evidence.reviewed_at, evidence.updated_at = reviewer.id, at, at


def _fixes(rng, now: datetime, followup: FollowUp, users: dict[str, User]) -> list[Shot]:
    """A photo of each rectification, taken by the unit's contact on the morning of the
    report; judged when the case was verified, or sent back when it was reopened."""
    people = {user.id: user for user in users.values()}
    shots = []
    for rect in followup.rectifications:
        case, contact = rect.case, people[rect.created_by]
        site = case.finding.check.site
        taken = (rect.submitted_at - timedelta(minutes=rng.randint(150, 330))).astimezone(LOCAL)
        point = _moved(site, rng.uniform(-20, 20), rng.uniform(-20, 20))
        sent = rect.submitted_at - timedelta(minutes=5)
        evidence = Evidence(
            id=uuid.uuid4(), kind="photo", rectification=rect, created_by=contact.id,
            filename=f"mmexport{int(taken.timestamp() * 1000)}.jpg", captured_at=taken,
            location=point, review_state="pending", created_at=sent, uploaded_at=sent,
            updated_at=sent)
        rect.evidence_ids = [str(evidence.id)]
        shot = Shot(evidence, _scene(case.finding.check), rng.getrandbits(32), point,
                    taken, _device(contact), tidy=True)
        if case.status != "submitted":
            state, note = {"reopened": ("needs_info", data.FIX_NEEDS_INFO)}.get(
                case.status, ("accepted", None))
            _decide(shot, state, note, users["reviewer"], min(case.updated_at, now))
        shots.append(shot)
    return shots
