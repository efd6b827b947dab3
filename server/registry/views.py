"""The registry at the administrator's desk: units and their contacts, sites with their
place and geofence, finding categories. Every change goes into the audit trail, and
reaches phones at their next pull: the change feed follows what the session commits."""

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from sync.vocabulary import SEVERITIES, SITE_KINDS

from ..access import allow
from ..errors import Problem
from ..extensions import db
from ..labels import severity_label
from ..models import Category, Site, Unit, User
from ..visibility import as_uuid
from . import forms, services
from .entries import DEFAULT_RADIUS_M

bp = Blueprint("registry", __name__, url_prefix="/admin/registry")
SITES_SHOWN = 1000
QUERY_CHARS = 64


def _live(model, ident):
    """The live record the URL names; 404 alike for a malformed, unknown or deleted id."""
    key = as_uuid(ident)
    found = db.session.get(model, key) if key else None
    if found is None or found.deleted_at is not None:
        raise Problem(404, _("Not found"), _("No such record."))
    return found


def _saved(form: forms.Form, save, render, goto):
    """Save a checked form: commit once and go to the record. Refused, the form again with
    every problem and the refusal's status; when someone saved the record meanwhile, the
    record as it is now."""
    try:
        if form.errors:
            raise Problem(422, _("Not saved"), _("Correct the fields marked."))
        try:
            found = save()
        except (IntegrityError, StaleDataError):
            # Another administrator saved the same code, or this record, a moment ago.
            raise services.changed_meanwhile() from None
    except Problem as refused:
        db.session.rollback()
        flash(refused.detail, "error")
        for error in refused.errors:
            form.errors.setdefault(error["field"], error["message"])
        changed_meanwhile = refused.status == 409 and not refused.errors
        return render(None if changed_meanwhile else form, refused.status)
    db.session.commit()
    flash(_("Saved."), "info")
    return redirect(goto(found), 303)


def _changed(found, form: forms.Form):
    def save():
        services.change(found, form.values, form.typed["version"], current_user)
        return found
    return save


# --- Units ------------------------------------------------------------------------------

@bp.get("")
@allow("admin")
def units():
    rows = db.session.scalars(sa.select(Unit).where(Unit.deleted_at.is_(None))
                              .order_by(Unit.code)).all()
    contacts = dict(db.session.execute(
        sa.select(User.unit_id, sa.func.count()).where(User.role == "unit", User.active)
        .group_by(User.unit_id)).all())
    sites = dict(db.session.execute(
        sa.select(Site.unit_id, sa.func.count()).where(Site.deleted_at.is_(None))
        .group_by(Site.unit_id)).all())
    return render_template("registry/units.html", units=rows, contacts=contacts, sites=sites)


def _unit_page(unit: Unit | None, form: forms.Form | None = None, status: int = 200):
    contacts = [] if unit is None else db.session.scalars(
        sa.select(User).where(User.unit_id == unit.id, User.role == "unit")
        .order_by(User.active.desc(), User.username)).all()
    uses = services.uses_of(unit) if unit is not None else {}
    return render_template(
        "registry/unit.html", unit=unit, contacts=contacts, uses=uses,
        form=form or forms.typed_of(unit, forms.UNIT_FIELDS)), status


@bp.get("/units/new")
@allow("admin")
def new_unit():
    return _unit_page(None)


@bp.post("/units")
@allow("admin")
def create_unit():
    form = forms.unit_form(request.form)
    return _saved(form, lambda: services.create(Unit, form.values, current_user),
                  lambda shown, status: _unit_page(None, shown or form, status),
                  lambda unit: url_for(".unit", unit_id=unit.id))


@bp.get("/units/<unit_id>")
@allow("admin")
def unit(unit_id: str):
    return _unit_page(_live(Unit, unit_id))


@bp.post("/units/<unit_id>")
@allow("admin")
def update_unit(unit_id: str):
    found, form = _live(Unit, unit_id), forms.unit_form(request.form)
    return _saved(form, _changed(found, form),
                  lambda shown, status: _unit_page(found, shown, status),
                  lambda unit: url_for(".unit", unit_id=unit.id))


@bp.post("/units/<unit_id>/delete")
@allow("admin")
def delete_unit(unit_id: str):
    found = _live(Unit, unit_id)
    try:
        services.delete_unit(found, current_user)
    except Problem as refused:
        db.session.rollback()
        flash(refused.detail, "error")
        return redirect(url_for(".unit", unit_id=found.id), 303)
    db.session.commit()
    flash(_("%(name)s was deleted.", name=found.name), "info")
    return redirect(url_for(".units"), 303)


# --- Sites ------------------------------------------------------------------------------

def _live_units() -> list[Unit]:
    return db.session.scalars(sa.select(Unit).where(Unit.deleted_at.is_(None))
                              .order_by(Unit.code)).all()


@bp.get("/sites")
@allow("admin")
def sites():
    unit_id = as_uuid(request.args.get("unit_id"))
    text = forms.CONTROL.sub("", request.args.get("q", "")).strip()[:QUERY_CHARS]
    query = sa.select(Site).where(Site.deleted_at.is_(None))
    if unit_id:
        query = query.where(Site.unit_id == unit_id)
    if text:
        query = query.where(sa.or_(*(column.icontains(text, autoescape=True) for column
                                     in (Site.code, Site.name, Site.address))))
    rows = db.session.scalars(query.order_by(Site.code).limit(SITES_SHOWN + 1)).all()
    return render_template("registry/sites.html", sites=rows[:SITES_SHOWN],
                           more=len(rows) > SITES_SHOWN, units=_live_units(),
                           unit_id=unit_id, text=text, kinds=forms.SITE_KIND_LABELS)


def _site_page(site: Site | None, form: forms.Form | None = None, status: int = 200):
    if form is None:
        form = forms.typed_of(site, forms.SITE_FIELDS)
        if site is None:
            form.typed["radius_m"] = str(DEFAULT_RADIUS_M)
    tiles = current_app.config.get("MAP_TILE_URL")
    return render_template(
        "registry/site.html", site=site, form=form,
        units=[(u.id, u.name) for u in _live_units()],
        kinds=[(kind, forms.SITE_KIND_LABELS[kind]) for kind in SITE_KINDS],
        tiles=tiles, centre=_centre(site) if tiles else None), status


def _centre(site: Site | None) -> tuple[float, float, int]:
    """Where the map opens, and its zoom: on the site; when it has no place yet, amid the
    other sites, or over the whole country when there are none."""
    if site is not None and site.lat is not None and site.lon is not None:
        return site.lat, site.lon, 16
    lat, lon = db.session.execute(sa.select(sa.func.avg(Site.lat), sa.func.avg(Site.lon))
                                  .where(Site.deleted_at.is_(None), Site.lat.is_not(None),
                                         Site.lon.is_not(None))).one()
    return (round(lat, 6), round(lon, 6), 13) if lat is not None else (35.0, 105.0, 4)


@bp.get("/sites/new")
@allow("admin")
def new_site():
    return _site_page(None)


@bp.post("/sites")
@allow("admin")
def create_site():
    form = forms.site_form(request.form)
    return _saved(form, lambda: services.create(Site, form.values, current_user),
                  lambda shown, status: _site_page(None, shown or form, status),
                  lambda site: url_for(".site", site_id=site.id))


@bp.get("/sites/<site_id>")
@allow("admin")
def site(site_id: str):
    return _site_page(_live(Site, site_id))


@bp.post("/sites/<site_id>")
@allow("admin")
def update_site(site_id: str):
    found, form = _live(Site, site_id), forms.site_form(request.form)
    return _saved(form, _changed(found, form),
                  lambda shown, status: _site_page(found, shown, status),
                  lambda site: url_for(".site", site_id=site.id))


# --- Categories -------------------------------------------------------------------------

@bp.get("/categories")
@allow("admin")
def categories():
    rows = db.session.scalars(sa.select(Category).where(Category.deleted_at.is_(None))
                              .order_by(Category.position, Category.code)).all()
    return render_template("registry/categories.html", categories=rows)


def _category_page(category: Category | None, form: forms.Form | None = None,
                   status: int = 200):
    if form is None:
        form = forms.typed_of(category, forms.CATEGORY_FIELDS)
        if category is None:
            form.typed |= {"default_severity": "general", "default_deadline_days": "7",
                           "position": str(_next_position())}
    return render_template("registry/category.html", category=category, form=form,
                           severities=[(s, severity_label(s)) for s in SEVERITIES]), status


def _next_position() -> int:
    last = db.session.scalar(sa.select(sa.func.max(Category.position)))
    return min((last or 0) + 1, forms.MAX_POSITION)


@bp.get("/categories/new")
@allow("admin")
def new_category():
    return _category_page(None)


@bp.post("/categories")
@allow("admin")
def create_category():
    form = forms.category_form(request.form)
    return _saved(form, lambda: services.create(Category, form.values, current_user),
                  lambda shown, status: _category_page(None, shown or form, status),
                  lambda category: url_for(".category", category_id=category.id))


@bp.get("/categories/<category_id>")
@allow("admin")
def category(category_id: str):
    return _category_page(_live(Category, category_id))


@bp.post("/categories/<category_id>")
@allow("admin")
def update_category(category_id: str):
    found, form = _live(Category, category_id), forms.category_form(request.form)
    return _saved(form, _changed(found, form),
                  lambda shown, status: _category_page(found, shown, status),
                  lambda category: url_for(".category", category_id=category.id))
