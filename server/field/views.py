"""Serves the built field app. Its page, service worker and manifest are revalidated on
every load, so a new build reaches phones at their next visit with a network; the assets
have their hash in their name and are cached for a year."""

from pathlib import Path

from flask import Blueprint, Response, abort, send_from_directory
from flask_babel import gettext as _

from ..access import public
from ..errors import Problem
from .icons import SIZES, icon_png

bp = Blueprint("field", __name__, url_prefix="/field")
BUILT = Path(__file__).parent / "static"
YEAR = 365 * 24 * 3600


def _built() -> Path:
    if not (BUILT / "index.html").is_file():
        raise Problem(503, _("The field app is not built"),
                      _("Run `make assets` on the server to build it."))
    return BUILT


def _fresh(response: Response) -> Response:
    response.cache_control.no_cache = True
    response.cache_control.max_age = 0
    return response


@bp.get("/")
@public
def index():
    response = _fresh(send_from_directory(_built(), "index.html", max_age=0))
    # The page holds no data; the app reads everything from IndexedDB and the API.
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get("/sw.js")
@public
def service_worker():
    return _fresh(send_from_directory(_built(), "sw.js", mimetype="text/javascript", max_age=0))


@bp.get("/icon-<int:size>.png")
@public
def icon(size: int):
    if size not in SIZES:
        abort(404)
    return Response(icon_png(size), mimetype="image/png",
                    headers={"Cache-Control": "public, max-age=86400"})


@bp.get("/<path:name>")
@public
def asset(name: str):
    root = _built()
    if name.startswith("assets/"):
        response = send_from_directory(root, name, max_age=YEAR)
        response.cache_control.immutable = True
        return response
    if name in ("manifest.webmanifest", "icon.svg", "icon-maskable.svg"):
        mimetype = "application/manifest+json" if name.endswith(".webmanifest") else None
        return _fresh(send_from_directory(root, name, mimetype=mimetype, max_age=0))
    abort(404)
