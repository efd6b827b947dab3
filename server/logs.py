"""One log line per request, with a request id; tokens and passwords never reach a log,
and nothing a client sends can forge a line (control characters are escaped)."""

import logging
import re
import time
import uuid

from flask import g, request

log = logging.getLogger("mingcha.request")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def escape(text: str) -> str:
    """Control characters as \\xNN: a newline in a path cannot start a line of its own."""
    return CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class Formatter(logging.Formatter):
    """Escapes the message; indents a traceback, whose own lines are then told apart from
    records at a glance, and escapes what else it holds."""

    def formatMessage(self, record):
        record.message = escape(record.message)
        return super().formatMessage(record)

    def formatException(self, ei):
        lines = super().formatException(ei).splitlines()
        return "\n".join("    " + CONTROL.sub(" ", line) for line in lines)


def _request_id() -> str:
    given = request.headers.get("X-Request-ID", "")
    return given if REQUEST_ID.match(given) else uuid.uuid4().hex


def init_app(app):
    level = app.config["LOG_LEVEL"]
    for name in ("mingcha", "server"):  # the request lines, and the modules' own
        logger = logging.getLogger(name)
        if not logger.handlers:
            handler = logging.StreamHandler()
            handler.setFormatter(Formatter(FORMAT))
            logger.addHandler(handler)
        logger.setLevel(level)
    app.logger.setLevel(level)

    @app.before_request
    def start():
        g.request_id = _request_id()
        g.started = time.perf_counter(), time.thread_time()

    @app.after_request
    def finish(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        # The id noted when the actor was found: reading it off the user object could
        # need the database, which a failed request may have left unusable.
        actor_id = g.get("actor_id", "-")
        # The path only: query strings and headers may carry secrets.
        # Wall time, and this request's own CPU (its thread's): what sizing needs.
        began, cpu = g.get("started", (time.perf_counter(), time.thread_time()))
        log.info("%s %s %s %.1fms cpu=%.1fms rid=%s user=%s", request.method, request.path,
                 response.status_code, (time.perf_counter() - began) * 1000,
                 (time.thread_time() - cpu) * 1000, g.get("request_id", "-"), actor_id)
        return response
