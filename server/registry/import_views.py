"""The registry imported from the browser: the files ``manage.py import-registry`` takes,
uploaded, then previewed (every problem by file, sheet and row, and what each good row
would change), then imported at one press, and only when every row is good."""

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import RequestEntityTooLarge

from ..access import allow
from ..errors import Problem
from ..extensions import db
from . import pending, services
from .importer import ImportFailed, read_files
from .preview import SHOWN, preview

bp = Blueprint("registry_import", __name__, url_prefix="/admin/registry/import")
SESSION_KEY = "registry_import"  # the token of the browser's upload awaiting its import


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc):
    """A body over MAX_BODY_BYTES is refused before any view runs: say so on the form."""
    flash(pending.too_large().detail, "error")
    return redirect(url_for(".form"), 303)


@bp.get("")
@allow("admin")
def form():
    return render_template("registry/import.html", max_mb=pending.MAX_BYTES // (1024 * 1024),
                           max_files=pending.MAX_FILES)


@bp.post("")
@allow("admin")
def upload():
    try:
        kept = pending.keep(request.files.getlist("files"), str(current_user.id))
    except Problem as refused:
        flash(refused.detail, "error")
        return redirect(url_for(".form"), 303)
    earlier = _mine(session.get(SESSION_KEY))
    if earlier is not None:  # one upload awaits its import per browser
        pending.discard(earlier)
    session[SESSION_KEY] = kept.token
    return redirect(url_for(".preview_page", token=kept.token), 303)


def _mine(token) -> pending.Kept | None:
    """The upload, if this browser made it (its session holds the token) and this person."""
    if not token or session.get(SESSION_KEY) != token:
        return None
    return pending.find(token, str(current_user.id))


def _gone():
    flash(_("These files are no longer waiting: they were imported, or uploaded more than an "
            "hour ago or in another browser. Upload them again."), "error")
    return redirect(url_for(".form"), 303)


@bp.get("/<token>")
@allow("admin")
def preview_page(token: str):
    kept = _mine(token)
    if kept is None:
        return _gone()
    return render_template("registry/preview.html", kept=kept,
                           seen=preview(kept.paths, kept.names), shown=SHOWN)


@bp.post("/<token>")
@allow("admin")
def confirm(token: str):
    kept = _mine(token)
    taken = pending.take(kept) if kept is not None else None
    if taken is None:
        return _gone()
    try:
        tables = read_files(taken.paths, taken.names)
        outcome = services.import_uploaded(tables, taken.files, current_user)
        db.session.commit()
    except (ImportFailed, SQLAlchemyError) as exc:
        db.session.rollback()
        pending.put_back(taken)
        flash(_refusal(exc), "error")
        return redirect(url_for(".preview_page", token=token), 303)
    pending.discard(taken)
    session.pop(SESSION_KEY, None)
    # Made-up passwords are on this page, once: it is the answer to the press itself (no
    # redirect could find them again: only their hashes are kept) and no cache keeps it.
    page = render_template("registry/imported.html", outcome=outcome,
                           ignored=[(t.source, t.ignored) for t in tables if t.ignored])
    return page, 200, {"Cache-Control": "no-store"}


def _refusal(exc: Exception) -> str:
    if isinstance(exc, ImportFailed):
        # Someone changed the registry since the preview: it shows the problems now.
        return ngettext("Nothing was imported: %(num)d problem.",
                        "Nothing was imported: %(num)d problems.", len(exc.errors))
    reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    return _("Nothing was imported: the database refused the import: %(reason)s",
             reason=reason)
