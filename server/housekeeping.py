"""Small periodic jobs on the `default` queue."""

from .auth.services import FORGET_AFTER
from .extensions import db
from .models import LoginFailure, utcnow


def purge_login_failures() -> int:
    """Forget failed sign-ins that no longer count and hold no lock. Safe to run twice."""
    now = utcnow()
    result = db.session.execute(
        db.delete(LoginFailure).where(
            LoginFailure.last_at < now - FORGET_AFTER,
            (LoginFailure.locked_until.is_(None)) | (LoginFailure.locked_until < now)))
    db.session.commit()
    return result.rowcount


def purge_expired_uploads() -> int:
    """Remove unfinished uploads past their Upload-Expires. Safe to run twice."""
    from .uploads.services import purge_expired

    return purge_expired()
