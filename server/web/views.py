"""Pages for people at a desk: sign in and out, and the start page."""

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ..access import ALL, allow, public
from ..auth import services
from ..errors import Problem
from ..extensions import db
from ..locale import LANGUAGES
from ..models import Check, Finding
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
    """The start page: the latest checks and findings this user may see."""
    checks = db.session.scalars(
        db.select(Check).where(visible(current_user, Check), Check.deleted_at.is_(None))
        .order_by(Check.started_at.desc()).limit(20)).all()
    findings = db.session.scalars(
        db.select(Finding).where(visible(current_user, Finding), Finding.deleted_at.is_(None))
        .order_by(Finding.created_at.desc()).limit(20)).all()
    return render_template("index.html", checks=checks, findings=findings, form=LogoutForm())
