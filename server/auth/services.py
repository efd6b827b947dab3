"""Authenticate people, throttle guessing, issue and revoke device tokens. Flush, never
commit."""

import math
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from ..access import hash_token
from ..audit.chain import record
from ..errors import Problem
from ..extensions import db
from ..models import Device, LoginFailure, User, utcnow
from .passwords import hash_password, verify_password

FORGET_AFTER = timedelta(minutes=15)
LONGEST_LOCK = timedelta(hours=1)
ADDRESS_ALLOWANCE = 5  # an office behind one address has many people
MIN_PASSWORD = 8


def _keys(username: str, address: str | None) -> list[tuple[str, int]]:
    """The counters an attempt counts against, always in this order (rows are locked in
    it): the username's, then the address's."""
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    name = username.strip().lower().replace("\x00", "\ufffd")  # a NUL no database stores
    keys = [(f"user:{name}", limit)]
    if address:
        keys.append((f"addr:{address}", limit * ADDRESS_ALLOWANCE))
    return keys


def _counter(key: str, now) -> LoginFailure:
    """The key's counter, locked for this transaction; made when it is the first."""
    row = db.session.get(LoginFailure, key, with_for_update=True)
    if row is None:
        row = LoginFailure(key=key, count=0, last_at=now)
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except IntegrityError:  # another request counted the first attempt just now
            row = db.session.get(LoginFailure, key, with_for_update=True, populate_existing=True)
    return row


def authenticate(username: str, password: str, address: str | None) -> User | None:
    """The active user with these credentials, or None (the failure counted); 429 while
    the username or the address is locked.

    One attempt per username at a time: the username's counter stays locked (FOR UPDATE)
    while the password is checked, until the caller commits. Guesses sent at once queue,
    and the one after the limit sees the lock the last failure set, so no more than
    LOGIN_MAX_FAILURES passwords are checked; right passwords sent at once all pass.
    """
    now = utcnow()
    (user_key, user_limit), *by_address = _keys(username, address)
    counter = _counter(user_key, now)
    _refuse_if_locked([counter] + [db.session.get(LoginFailure, key) for key, _l in by_address],
                      now)
    user = None if "\x00" in username else db.session.scalar(
        db.select(User).where(User.username == username.strip()))
    good = verify_password(user.password_hash if user else None, password)
    if good and user.active:
        db.session.delete(counter)
        record("sign_in", actor=user, subject=user, detail={"address": address})
        return user
    record("sign_in_failed", actor=user, subject_type="user",
           subject_id=user.id if user else None,
           detail={"username": username[:64].replace("\x00", ""), "address": address})
    _count_failure(counter, user_limit, now)
    for key, limit in by_address:  # an address's failures: counted, not queued
        _count_failure(_counter(key, now), limit, now)
    return None


def _refuse_if_locked(counters, now):
    waits = [row.locked_until - now for row in counters
             if row is not None and row.locked_until and row.locked_until > now]
    if waits:
        seconds = max(1, math.ceil(max(waits).total_seconds()))
        raise Problem(429, _("Too many failed sign-ins"),
                      _("Wait %(n)s seconds before trying again.", n=seconds),
                      headers={"Retry-After": str(seconds)})


def _count_failure(row: LoginFailure, limit: int, now):
    if now - row.last_at > FORGET_AFTER:
        row.count = 0
    row.count += 1
    row.last_at = now
    if row.count >= limit:
        base = current_app.config["LOGIN_LOCK_SECONDS"]
        lock = timedelta(seconds=base * 2 ** min(row.count - limit, 12))
        row.locked_until = now + min(lock, LONGEST_LOCK)


def issue_device_token(user: User, device_name: str) -> tuple[Device, str]:
    """Register a phone for ``user``; the plain token is returned once and never stored."""
    token = secrets.token_urlsafe(32)
    device = Device(user_id=user.id, name=device_name, token_hash=hash_token(token),
                    last_seen_at=utcnow())
    db.session.add(device)
    db.session.flush()
    record("device_signed_in", actor=user, subject=user,
           detail={"device_id": str(device.id), "device_name": device_name})
    return device, token


def revoke_device(device: Device, *, by=None):
    """Sign one phone out; ``by`` is who did it, when not the phone's own user."""
    if device.revoked_at is None:
        device.revoked_at = utcnow()
        record("device_revoked", actor=by or device.user, subject=device.user,
               detail={"device_id": str(device.id)})


def revoke_devices(user: User, *, by=None) -> int:
    """Revoke every device token of the user; return how many still worked."""
    count = db.session.execute(db.update(Device).where(
        Device.user_id == user.id, Device.revoked_at.is_(None)).values(
        revoked_at=utcnow())).rowcount
    record("devices_revoked", actor=by, subject=user, detail={"count": count})
    return count


def end_sessions(user: User):
    """End every web session of the user: the cookies they hold no longer sign them in."""
    user.session_epoch = (user.session_epoch or 0) + 1


def password_hash(password: str) -> str:
    """The hash of a new password, once it meets the rule (422 otherwise)."""
    if len(password) < MIN_PASSWORD:
        raise Problem(422, _("Invalid password"),
                      _("The password must have at least 8 characters."))
    return hash_password(password)


def set_password(user: User, password: str, *, by=None):
    """A new password; every web session of the user ends (their phones stay signed in:
    revoke them apart when the old password leaked)."""
    user.password_hash = password_hash(password)
    end_sessions(user)
    record("password_set", actor=by, subject=user)


def disable(user: User, *, by=None) -> int:
    """The user can no longer sign in: sessions end and every device token is revoked, so
    enabling them again revives no lost phone. Returns the tokens revoked."""
    user.active = False
    end_sessions(user)
    record("user_disabled", actor=by, subject=user)
    return revoke_devices(user, by=by)


def enable(user: User, *, by=None):
    user.active = True
    record("user_enabled", actor=by, subject=user)


def purge_login_failures() -> int:
    """Forget failed sign-ins that no longer count and hold no lock (a periodic job on the
    ``default`` queue). Safe to run twice."""
    now = utcnow()
    result = db.session.execute(
        db.delete(LoginFailure).where(
            LoginFailure.last_at < now - FORGET_AFTER,
            (LoginFailure.locked_until.is_(None)) | (LoginFailure.locked_until < now)))
    db.session.commit()
    return result.rowcount
