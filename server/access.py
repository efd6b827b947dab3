"""Who may call which route: one declaration per view, enforced before every request.

Every view is marked with ``@allow(role, ...)`` or ``@public``; ``verify_routes`` refuses
to start an app with an unmarked view, so a route cannot be added without a decision.
API views authenticate by bearer token, web views by session; never the other way round.
"""

import hashlib
import uuid
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from sqlalchemy.orm import joinedload
from wtforms.validators import ValidationError

from .errors import Problem
from .extensions import db, login_manager
from .models import Device, User, utcnow
from .roles import ALL

PUBLIC = "public"
SEEN_EVERY = timedelta(minutes=5)


def allow(*roles: str):
    """Let only these roles (or a frozenset of them) call the view."""
    allowed = frozenset(r for item in roles for r in ([item] if isinstance(item, str) else item))
    unknown = allowed - ALL
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")

    def mark(view):
        view.access = allowed
        return view

    return mark


def public(view):
    """Let anyone call the view, signed in or not."""
    view.access = PUBLIC
    return view


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# Built once: building the statement and its cache key on every API call cost a quarter
# of the lookup (1.24 -> 1.01 ms a request, with its check-out, BEGIN and ROLLBACK).
_DEVICE_FOR_HASH = (
    db.select(Device).where(Device.token_hash == sa.bindparam("token_hash"),
                            Device.revoked_at.is_(None))
    .options(joinedload(Device.user))  # one round trip for both, on every API call
)


def device_for_token(token: str) -> Device | None:
    device = db.session.scalar(_DEVICE_FOR_HASH, {"token_hash": hash_token(token)})
    if device is None or not device.user.active:
        return None
    return device


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _api_user() -> User | None:
    token = _bearer_token()
    _statements_alone()
    device = device_for_token(token) if token else None
    if device is None:
        return None
    now = utcnow()
    if device.last_seen_at is None or now - device.last_seen_at > SEEN_EVERY:
        device.last_seen_at = now
        db.session.commit()
        _statements_alone()  # the commit ended the first; the view's reads follow
    g.device = device
    return device.user


def _statements_alone():
    """For a view that writes nothing, on PostgreSQL: run the session's next statements
    without BEGIN and ROLLBACK around them (two round trips of a pull page's four). Each
    sees what was committed before it, as in a READ COMMITTED transaction; the pool
    hands the connection on as it was."""
    if _view_says("reads_only") and db.engine.dialect.name == "postgresql":
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def _session_user() -> User | None:
    return current_user._get_current_object() if current_user.is_authenticated else None


def _desk_session_user() -> User | None:
    """A desk action called from a signed-in browser page: the session's user, and for a
    change the page's CSRF token in the header ``X-CSRFToken``. Only the header is read:
    the body may be an upload's bytes, which are never parsed as a form."""
    user = _session_user()
    if user is not None and request.method not in ("GET", "HEAD", "OPTIONS"):
        try:
            validate_csrf(request.headers.get("X-CSRFToken"))
        except ValidationError:
            raise Problem(400, _("Page expired"), _("Reload the page and try again: the "
                                                    "request lacked its page's CSRF "
                                                    "token.")) from None
    return user


def current_actor() -> User | None:
    """The user behind this request, or None: token for the API, session for pages; the
    desk's actions take either."""
    if "actor" not in g:
        if not request.path.startswith("/api/"):
            g.actor = _session_user()
        elif _bearer_token() is None and _view_says("sessions"):
            g.actor = _desk_session_user()
        else:
            g.actor = _api_user()
        g.actor_id = str(g.actor.id) if g.actor is not None else "-"  # for the log line
    return g.actor


def _view_says(flag: str) -> bool:
    """A flag the request's view was declared with (``ApiBlueprint.operation``)."""
    return getattr(current_app.view_functions.get(request.endpoint), flag, False)


def authorise():
    """Before every request: apply the view's declaration."""
    if request.endpoint in (None, "static") or request.method == "OPTIONS":
        return None
    view = current_app.view_functions[request.endpoint]
    rule = view.access
    if rule == PUBLIC:
        return None
    user = current_actor()
    if user is None:
        if request.path.startswith("/api/"):
            raise Problem(401, _("Not signed in"),
                          _("Send a valid token as 'Authorization: Bearer <token>'."),
                          headers={"WWW-Authenticate": 'Bearer realm="mingcha"'})
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    if user.role not in rule:
        raise Problem(403, _("Not allowed"), _("Your role may not do this."))
    return None


def verify_routes(app):
    """Refuse to start when a view has no access declaration."""
    missing = [endpoint for endpoint, view in app.view_functions.items()
               if endpoint != "static" and not hasattr(view, "access")]
    if missing:
        raise RuntimeError(f"views without @allow or @public: {sorted(missing)}")


@login_manager.user_loader
def _load_user(session_id: str):
    """The user of a web session, unless the session was ended since (``get_id``)."""
    user_id, _dot, epoch = session_id.partition(".")
    try:
        user = db.session.get(User, uuid.UUID(user_id))
    except ValueError:
        return None
    if user is None or not user.active or str(user.session_epoch) != epoch:
        return None
    return user


def init_app(app):
    app.before_request(authorise)
