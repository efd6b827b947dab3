"""Authenticate people, throttle guessing, issue and revoke device tokens. Flush, never
commit: a view commits an attempt's count before it checks the password."""

import math
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from ..access import hash_token
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


def count_attempt(username: str, address: str | None):
    """Count a sign-in attempt before its password is checked, or refuse it (429) while
    its username or address is locked. The caller commits before checking the password:
    counting under the row's lock, concurrent guesses see each other, so no more than
    LOGIN_MAX_FAILURES passwords are checked before the lock, however many arrive at once.
    """
    now = utcnow()
    counters = [(_counter(key, now), limit) for key, limit in _keys(username, address)]
    waits = [row.locked_until - now for row, _limit in counters
             if row.locked_until and row.locked_until > now]
    if waits:
        seconds = max(1, math.ceil(max(waits).total_seconds()))
        raise Problem(429, _("Too many failed sign-ins"),
                      _("Wait %(n)s seconds before trying again.", n=seconds),
                      headers={"Retry-After": str(seconds)})
    for row, limit in counters:
        if now - row.last_at > FORGET_AFTER:
            row.count = 0
        row.count += 1
        row.last_at = now
        if row.count >= limit:  # locked now; a right password takes the attempt back
            base = current_app.config["LOGIN_LOCK_SECONDS"]
            lock = timedelta(seconds=base * 2 ** min(row.count - limit, 12))
            row.locked_until = now + min(lock, LONGEST_LOCK)


def authenticate(username: str, password: str, address: str | None) -> User | None:
    """After ``count_attempt`` (committed): the active user with these credentials, or
    None. A success takes its attempt back: the username starts counting afresh, and the
    address forgets this one attempt (an office signs many people in)."""
    user = None if "\x00" in username else db.session.scalar(
        db.select(User).where(User.username == username.strip()))
    good = verify_password(user.password_hash if user else None, password)
    if not good or not user.active:
        return None
    keys = _keys(username, address)
    db.session.execute(db.delete(LoginFailure).where(LoginFailure.key == keys[0][0]))
    if len(keys) > 1:
        key, limit = keys[1]
        row = db.session.get(LoginFailure, key, with_for_update=True)
        if row is not None:
            row.count = max(0, row.count - 1)
            if row.count < limit:
                row.locked_until = None
    return user


def issue_device_token(user: User, device_name: str) -> tuple[Device, str]:
    """Register a phone for ``user``; the plain token is returned once and never stored."""
    token = secrets.token_urlsafe(32)
    device = Device(user_id=user.id, name=device_name, token_hash=hash_token(token),
                    last_seen_at=utcnow())
    db.session.add(device)
    db.session.flush()
    return device, token


def revoke_device(device: Device):
    if device.revoked_at is None:
        device.revoked_at = utcnow()


def revoke_devices(user: User) -> int:
    """Revoke every device token of the user; return how many still worked."""
    return db.session.execute(db.update(Device).where(
        Device.user_id == user.id, Device.revoked_at.is_(None)).values(
        revoked_at=utcnow())).rowcount


def end_sessions(user: User):
    """End every web session of the user: the cookies they hold no longer sign them in."""
    user.session_epoch = (user.session_epoch or 0) + 1


def password_hash(password: str) -> str:
    """The hash of a new password, once it meets the rule (422 otherwise)."""
    if len(password) < MIN_PASSWORD:
        raise Problem(422, _("Invalid password"),
                      _("The password must have at least 8 characters."))
    return hash_password(password)


def set_password(user: User, password: str):
    """A new password; every web session of the user ends (their phones stay signed in:
    revoke them apart when the old password leaked)."""
    user.password_hash = password_hash(password)
    end_sessions(user)


def disable(user: User) -> int:
    """The user can no longer sign in: sessions end and every device token is revoked, so
    enabling them again revives no lost phone. Returns the tokens revoked."""
    user.active = False
    end_sessions(user)
    return revoke_devices(user)


def enable(user: User):
    user.active = True


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
