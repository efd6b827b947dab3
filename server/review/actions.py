"""The review decision as JSON (docs/sync-protocol.md, "Desk actions"): the same service
as the console's buttons, for integrations and the field app."""

from flask import g

from sync.desk import ReviewRequest

from ..api.openapi import ProblemDocument
from ..api.routing import ApiBlueprint
from ..evidence.views import evidence_answer, visible_evidence
from ..extensions import db
from ..roles import REVIEWERS
from . import services

bp = ApiBlueprint("review", __name__, url_prefix="/api/v1/evidence", sessions=True)


@bp.operation("/<evidence_id>/review", "POST", summary="Accept evidence, send it back for "
              "more (needs_info) or reject it", roles=REVIEWERS, body=ReviewRequest,
              tag="desk", responses={200: "The evidence record, as pulled, plus `urls`",
                                     404: ProblemDocument, 409: ProblemDocument,
                                     422: ProblemDocument})
def review(evidence_id: str, body: ReviewRequest):
    """A note is required unless accepted; a `needs_info` note reaches the inspector's
    phone as the record's `review_note` on the next pull. Evidence whose file is not
    processed yet answers `409`. The same decision again changes nothing."""
    evidence = visible_evidence(evidence_id)
    services.decide(g.actor, evidence, body.decision, body.note)
    db.session.commit()
    return evidence_answer(evidence)

