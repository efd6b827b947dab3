"""The administrator's pages of people: the list, a new person, a person's role, unit and
password, disabling and enabling, and the phones they signed in."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from ..access import allow
from ..errors import Problem
from ..extensions import db
from ..models import Device, User
from ..roles import ROLES
from ..visibility import as_uuid
from . import people, services

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _user(user_id: str) -> User:
    ident = as_uuid(user_id)
    found = db.session.get(User, ident) if ident else None
    if found is None:
        raise Problem(404, _("Not found"), _("No such person."))
    return found


def _form(name: str, limit: int) -> str:
    """A field of the posted form, cut just past its limit so that the rule still sees
    it is too long, and a pasted megabyte is not carried further."""
    return request.form.get(name, "")[:limit + 1]


def _person() -> services.Person:
    return services.Person(_form("name", services.NAME_CHARS), _form("role", 16),
                           _form("unit", 40), _form("phone", services.PHONE_CHARS))


def _list(wanted: people.PeopleFilter, status: int = 200, form=None):
    rows, more = people.page_of_people(wanted)
    return render_template("admin/people.html", rows=rows, more=more, wanted=wanted,
                           roles=ROLES, units=people.live_units(), form=form or {}), status


@bp.get("/people")
@allow("admin")
def people_list():
    return _list(people.PeopleFilter.of(request.args))


@bp.post("/people")
@allow("admin")
def create():
    form = {"username": _form("username", services.USERNAME_CHARS), "person": _person()}
    try:
        user = services.create(form["username"], form["person"],
                               _form("password", services.PASSWORD_CHARS), by=current_user)
    except Problem as refused:
        db.session.rollback()
        flash(refused.detail, "error")
        return _list(people.PeopleFilter(), refused.status, form)
    db.session.commit()
    flash(_("%(name)s can sign in now.", name=user.name), "info")
    return redirect(url_for(".person", user_id=user.id), 303)


def _page(user: User, status: int = 200, generated: str | None = None):
    units = people.live_units()
    if user.unit is not None and user.unit not in units:  # deleted since: still theirs
        units.append(user.unit)
    page = render_template("admin/person.html", user=user, roles=ROLES, units=units,
                           devices=people.devices_of(user), generated=generated,
                           shown=people.DEVICES_SHOWN)
    # A made-up password is on this page: keep it out of every cache.
    return page, status, {"Cache-Control": "no-store"}


@bp.get("/people/<user_id>")
@allow("admin")
def person(user_id: str):
    return _page(_user(user_id))


def _act(user: User, act, done):
    """Run ``act``; commit and say ``done`` (or what it returns), or say why not."""
    try:
        said = act()
    except Problem as refused:
        db.session.rollback()
        flash(refused.detail, "error")
    else:
        db.session.commit()
        flash(done(said) if callable(done) else done, "info")
    return redirect(url_for(".person", user_id=user.id), 303)


@bp.post("/people/<user_id>")
@allow("admin")
def change(user_id: str):
    found = _user(user_id)

    def said(changes):
        if not changes:
            return _("Nothing to change.")
        if "role" in changes or "unit" in changes:
            return _("Saved. Their phones must sign in again, for their new role or unit.")
        return _("Saved.")
    return _act(found, lambda: services.change(found, _person(), by=current_user), said)


@bp.post("/people/<user_id>/password")
@allow("admin")
def password(user_id: str):
    found = _user(user_id)
    typed = None if request.form.get("generate") == "1" else _form(
        "password", services.PASSWORD_CHARS)
    try:
        made = services.set_password(found, typed, by=current_user)
    except Problem as refused:
        db.session.rollback()
        flash(refused.detail, "error")
        return redirect(url_for(".person", user_id=found.id), 303)
    db.session.commit()
    if found.id == current_user.id:
        login_user(found)  # the new password ends the other sessions; this one stays
    if made is None:
        flash(_("Your password is changed; your other sessions ended.")
              if found.id == current_user.id else
              _("The password is changed; %(name)s was signed out of the desk.",
                name=found.name), "info")
        return redirect(url_for(".person", user_id=found.id), 303)
    # Shown once, in this answer: a redirect would carry it in the session cookie.
    return _page(found, generated=made)


@bp.post("/people/<user_id>/disable")
@allow("admin")
def disable(user_id: str):
    found = _user(user_id)
    return _act(found, lambda: services.disable(found, by=current_user), lambda revoked: _(
        "%(name)s is disabled: signed out everywhere, %(n)s phones revoked.",
        name=found.name, n=revoked))


@bp.post("/people/<user_id>/enable")
@allow("admin")
def enable(user_id: str):
    found = _user(user_id)
    return _act(found, lambda: services.enable(found, by=current_user), _(
        "%(name)s may sign in again; their phones must sign in anew.", name=found.name))


@bp.post("/people/<user_id>/devices/<device_id>/revoke")
@allow("admin")
def revoke_device(user_id: str, device_id: str):
    found = _user(user_id)
    ident = as_uuid(device_id)
    device = db.session.get(Device, ident) if ident else None
    if device is None or device.user_id != found.id:
        raise Problem(404, _("Not found"), _("No such phone."))
    return _act(found, lambda: services.revoke_device(device, by=current_user),
                _("The phone %(name)s is signed out.", name=device.name))


@bp.post("/people/<user_id>/devices/revoke")
@allow("admin")
def revoke_devices(user_id: str):
    found = _user(user_id)
    return _act(found, lambda: services.revoke_devices(found, by=current_user),
                lambda revoked: _("%(n)s phones are signed out.", n=revoked))
