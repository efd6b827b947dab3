"""Pages for people at a desk: sign in and out, and the start page."""

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ..access import ALL, allow, public
from ..auth import services
from ..errors import Problem
from ..extensions import db
from ..locale import LANGUAGES
from ..models import Case, Check, Evidence, Finding, Notice
from ..roles import REVIEWERS, STAFF
from ..visibility import visible
from .forms import LoginForm, LogoutForm

bp = Blueprint("web", __name__)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never bounce a signed-in user to another host."""
    if not target:
        return url_for("web.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("web.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.username.data, form.password.data,
                                         request.remote_addr)
        except Problem as locked:
            flash(locked.detail, "error")
            return render_template("login.html", form=form), 429, locked.headers
        db.session.commit()
        if user is None:
            flash(_("Wrong username or password."), "error")
            return render_template("login.html", form=form), 401
        session.clear()  # a fresh session on every sign-in
        login_user(user)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", form=form)


@bp.route("/logout", methods=["POST"])
@allow(ALL)
def logout():
    if LogoutForm().validate_on_submit():
        services.end_sessions(current_user)  # also a copy of this cookie, or another browser
        db.session.commit()
        logout_user()
        session.clear()
    return redirect(url_for("web.login"))


@bp.route("/lang/<code>", methods=["POST"])
@public
def set_language(code: str):
    if LogoutForm().validate_on_submit() and code in LANGUAGES:
        session["lang"] = code
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/")
@allow(ALL)
def index():
    """The start page: what waits for this person, what they were told, and the latest
    checks and findings they may see."""
    user = current_user
    checks = db.session.scalars(
        db.select(Check).where(visible(user, Check), Check.deleted_at.is_(None))
        .order_by(Check.started_at.desc()).limit(20)).all()
    findings = db.session.scalars(
        db.select(Finding).where(visible(user, Finding), Finding.deleted_at.is_(None))
        .order_by(Finding.created_at.desc()).limit(20)).all()
    return render_template("index.html", checks=checks, findings=findings,
                           waiting=_waiting(user), notices=_notices(user), form=LogoutForm())


def _count(query) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))


def _waiting(user) -> dict:
    """How much waits for this person's role, by kind."""
    waiting = {}
    if user.role in REVIEWERS:
        waiting["evidence"] = _count(sa.select(Evidence.id).where(
            Evidence.review_state == "pending", Evidence.check_id.is_not(None),
            Evidence.deleted_at.is_(None)))
        waiting["findings"] = _count(sa.select(Finding.id).where(
            Finding.state == "pending", Finding.deleted_at.is_(None)))
    if user.role in STAFF | {"unit"}:
        mine = sa.select(Case.id).where(visible(user, Case), Case.deleted_at.is_(None))
        if user.role == "unit":
            mine = mine.where(Case.status.in_(("notified", "rectifying", "reopened")))
        else:
            mine = mine.where(Case.status.not_in(("closed",)))
        waiting["cases"] = _count(mine)
        waiting["overdue"] = _count(mine.where(Case.overdue.is_(True)))
    return waiting


def _notices(user) -> list:
    """What this person was told: a unit contact their unit's notices, a compiler the
    compilers'; newest first."""
    if user.role == "unit":
        told = Notice.unit_id == user.unit_id
    elif user.role == "compiler":
        told = Notice.role == "compiler"
    else:
        return []
    return db.session.scalars(sa.select(Notice).where(told).order_by(Notice.id.desc())
                              .limit(20)).all()
