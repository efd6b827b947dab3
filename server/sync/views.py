"""POST /api/v1/sync/push and GET /api/v1/sync/pull (docs/sync-protocol.md)."""

from flask import current_app, g, request
from flask_babel import gettext as _

from sync import cursor as cursors
from sync.messages import MAX_MUTATIONS, PullQuery, PullResponse, PushRequest, PushResponse

from ..api.openapi import ProblemDocument
from ..api.routing import ApiBlueprint
from ..errors import Problem
from ..evidence import jobs
from ..extensions import db
from ..models import utcnow
from ..roles import ALL
from ..rules import PushContext
from . import feed
from .pull import head, read_changes
from .push import apply_batch

bp = ApiBlueprint("sync", __name__, url_prefix="/api/v1/sync")


def _key() -> bytes:
    return current_app.config["SECRET_KEY"].encode()


@bp.operation("/push", "POST", summary="Send the phone's changes", roles=ALL, tag="sync",
              body=PushRequest, responses={200: PushResponse, 403: ProblemDocument,
                                           413: ProblemDocument})
def push(body: PushRequest):
    """Apply each mutation atomically and at most once; one result per mutation, in order.

    `duplicate` answers a mutation id applied before (nothing changes). A rejected
    mutation does not stop the rest. At most 500 mutations and 5 MiB per request (`413`).
    The answer's `cursor` is the head of the feed after this push; keep pulling from the
    cursor of your last pull, which never skips a change. Send a `Date` header with the
    phone's clock: new evidence keeps how far it is off (`clock_offset_s`).
    Mutations the server rejects carry an `error` shaped like a problem document;
    `409` there means the record's state forbids it (e.g. a reviewed finding).
    """
    if len(body.mutations) > MAX_MUTATIONS:
        raise Problem(413, _("Too many mutations"),
                      _("Send at most %(n)s mutations per request.", n=MAX_MUTATIONS))
    if body.device_id != g.device.id:
        raise Problem(403, _("Wrong device"),
                      _("device_id is not the device this token was issued to."))
    ctx = PushContext(g.actor, g.device, _clock_offset())
    results = apply_batch(body.mutations, ctx)
    db.session.commit()
    jobs.queue_pending()
    last = feed.written_head(db.session)
    return {"results": results,
            "cursor": cursors.encode(head() if last is None else last, _key())}


def _clock_offset() -> float | None:
    """Seconds the phone's clock is ahead of ours, when it sent a Date header."""
    if request.date is None:
        return None
    return round((request.date - utcnow()).total_seconds(), 1)


@bp.operation("/pull", "GET", summary="Receive changes", roles=ALL, tag="sync",
              query=PullQuery, responses={200: PullResponse, 400: ProblemDocument},
              reads_only=True)
def pull(query: PullQuery):
    """Changes visible to the caller after `cursor`, in commit order; none skipped.

    Records that stop being visible arrive as `op: "delete"`. Pull again with the
    returned cursor while `more` is true.
    """
    after = 0
    if query.cursor:
        try:
            after = cursors.decode(query.cursor, _key())
        except cursors.CursorError:
            raise Problem(400, _("Invalid cursor"), _("This cursor was not issued by this "
                          "server; pull without a cursor to start again.")) from None
    changes, last, more = read_changes(g.actor, after, query.limit)
    if not changes and after > head():  # checked only when nothing came: one query less
        raise Problem(400, _("Invalid cursor"), _("This cursor is ahead of the server's "
                      "feed (was the server reset?); pull without a cursor."))
    return {"changes": changes, "cursor": cursors.encode(last, _key()), "more": more}
