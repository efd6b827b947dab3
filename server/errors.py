"""Problem documents (RFC 9457) for the API, friendly pages for people, never a trace."""

import logging

from flask import Response, current_app, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from .sqlite import is_busy

log = logging.getLogger(__name__)

PROBLEM_TYPE = "https://mingcha.invalid/problems/"


class Problem(Exception):
    """Raised by views and services to answer with a problem document."""

    def __init__(self, status: int, title: str, detail: str = "", *, kind: str = "",
                 errors: list[dict] | None = None, headers: dict | None = None):
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail or title
        self.kind = kind or _default_kind(status)
        self.errors = errors or []
        self.headers = headers or {}


def _default_kind(status: int) -> str:
    return {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found",
            405: "method-not-allowed", 409: "conflict", 410: "gone",
            412: "precondition-failed", 413: "too-large", 415: "unsupported-media-type",
            416: "range-not-satisfiable", 422: "invalid", 423: "locked",
            429: "too-many-requests", 460: "checksum-mismatch", 500: "server-error",
            503: "unavailable"}.get(status, "error")


def problem_document(p: Problem) -> dict:
    """The problem as RFC 9457 writes it; also the ``error`` of a rejected mutation."""
    return {"type": PROBLEM_TYPE + p.kind, "title": p.title, "status": p.status,
            "detail": p.detail, "errors": p.errors}


def problem_response(p: Problem) -> Response:
    response = Response(current_app.json.dumps(problem_document(p)), status=p.status,
                        mimetype="application/problem+json")
    for name, value in p.headers.items():
        response.headers[name] = value
    return response


def _http_titles() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Bad request"), _("The request could not be understood.")),
        401: (_("Not signed in"), _("Sign in, or send a valid bearer token.")),
        403: (_("Not allowed"), _("Your role may not do this.")),
        404: (_("Not found"), _("There is nothing at this address.")),
        405: (_("Method not allowed"), _("This address does not accept that method.")),
        413: (_("Request too large"), _("The request body is larger than the server accepts.")),
        415: (_("Unsupported content type"), _("Send the body as application/json.")),
        429: (_("Too many requests"), _("Wait before trying again.")),
        500: (_("Server error"), _("Something went wrong on the server; it has been logged.")),
    }


def problem_from_http(exc: HTTPException) -> Problem:
    status = exc.code or 500
    title, detail = _http_titles().get(status, (exc.name, exc.description or exc.name))
    headers = {}
    if status == 405 and getattr(exc, "valid_methods", None):
        headers["Allow"] = ", ".join(exc.valid_methods)
    if status == 413:
        limit = request.max_content_length
        if limit:
            detail = _("The body may be at most %(n)s bytes.", n=limit)
    return Problem(status, title, detail, headers=headers)


def wants_problem() -> bool:
    """The API, and a page's script that sent JSON, read problem documents."""
    return request.path.startswith("/api/") or request.path == "/healthz" or request.is_json


def _answer(p: Problem):
    if wants_problem():
        return problem_response(p)
    page = render_template("error.html", problem=p)
    return Response(page, status=p.status, headers=p.headers, mimetype="text/html")


def init_app(app):
    @app.errorhandler(Problem)
    def on_problem(p: Problem):
        return _answer(p)

    @app.errorhandler(HTTPException)
    def on_http(exc: HTTPException):
        return _answer(problem_from_http(exc))

    @app.errorhandler(OperationalError)
    def on_database_busy(exc: OperationalError):
        # A writer clash on SQLite, or a connection the database closed under the request
        # (a restart: the pool is renewed for the next one).
        busy = is_busy(exc)
        if not (busy or exc.connection_invalidated):
            return on_unexpected(exc)
        log.warning("database %s: %s %s", "busy" if busy else "connection lost",
                    request.method, request.path)
        return _answer(Problem(503, _("Busy"), _("The server is busy; try again shortly."),
                               headers={"Retry-After": "1"}))

    @app.errorhandler(Exception)
    def on_unexpected(exc: Exception):
        log.exception("unhandled error")
        title, detail = _http_titles()[500]
        return _answer(Problem(500, title, detail))
