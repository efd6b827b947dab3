"""GET /healthz for load balancers: does the database answer, and Redis if configured."""

from flask import Blueprint, current_app

from .. import jobs
from ..access import public
from ..extensions import db

bp = Blueprint("health", __name__)


def _database_ok() -> bool:
    try:
        db.session.execute(db.text("SELECT 1"))
        return True
    except Exception:  # any failure means "not healthy"; the reason goes to the log
        current_app.logger.warning("health: database does not answer", exc_info=True)
        db.session.rollback()
        return False


@bp.route("/healthz")
@public
def healthz():
    """200 when every configured backend answers, 503 otherwise; never says more."""
    database = "ok" if _database_ok() else "down"
    redis = jobs.redis_status()
    healthy = database == "ok" and redis in ("ok", "disabled")
    body = {"status": "ok" if healthy else "unhealthy", "database": database, "redis": redis}
    return body, 200 if healthy else 503
