"""One log line per request, with a request id; tokens and passwords never reach a log."""

import logging
import re
import time
import uuid

from flask import g, request

log = logging.getLogger("mingcha.request")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _request_id() -> str:
    given = request.headers.get("X-Request-ID", "")
    return given if REQUEST_ID.match(given) else uuid.uuid4().hex


def init_app(app):
    level = app.config["LOG_LEVEL"]
    root = logging.getLogger("mingcha")
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        root.addHandler(handler)
    root.setLevel(level)
    app.logger.setLevel(level)

    @app.before_request
    def start():
        g.request_id = _request_id()
        g.started = time.perf_counter()

    @app.after_request
    def finish(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        actor = g.get("actor")
        # The path only: query strings and headers may carry secrets.
        took = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        log.info("%s %s %s %.1fms rid=%s user=%s", request.method, request.path,
                 response.status_code, took, g.get("request_id", "-"), getattr(actor, "id", "-"))
        return response
