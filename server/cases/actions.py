"""Findings confirmed or dismissed, cases moved and listed, as JSON (docs/sync-protocol.md,
"Desk actions"): the same services as the console, for integrations and the field app."""


from flask import g
from flask_babel import gettext as _

from sync.desk import CasesPage, CasesQuery, ConfirmRequest, DismissRequest, TransitionRequest

from ..api.openapi import ProblemDocument
from ..api.records import to_data
from ..api.routing import ApiBlueprint
from ..extensions import db
from ..models import Case, Finding
from ..roles import REVIEWERS, STAFF
from ..visibility import visible_record
from . import services
from .states import MOVERS

bp = ApiBlueprint("cases", __name__, url_prefix="/api/v1", sessions=True)
REFUSALS = {404: ProblemDocument, 409: ProblemDocument, 422: ProblemDocument}


def _visible(model, record_id: str, what: str):
    return visible_record(g.actor, model, record_id, _("No such %(what)s.", what=what))


@bp.operation("/findings/<finding_id>/confirm", "POST", summary="Confirm a finding: its "
              "case opens", roles=REVIEWERS, body=ConfirmRequest, tag="desk",
              responses={201: "The case (`status: open`)", **REFUSALS})
def confirm(finding_id: str, body: ConfirmRequest):
    """Defaults: the finding's unit (the site's unless the inspector chose another), the
    unit's 包挂领导, and the category's deadline days from today in the bureau's time
    zone. The same confirmation again answers the same case; a different one `409`."""
    finding = _visible(Finding, finding_id, _("finding"))
    wanted = services.Confirmation(body.severity, body.category_id, body.unit_id,
                                   body.leader_name, body.deadline)
    case, _made = services.confirm(g.actor, finding, wanted)
    db.session.commit()
    return to_data(case), 201


@bp.operation("/findings/<finding_id>/dismiss", "POST", summary="Dismiss a finding, with "
              "the reason", roles=REVIEWERS, body=DismissRequest, tag="desk",
              responses={200: "The finding", **REFUSALS})
def dismiss(finding_id: str, body: DismissRequest):
    """A confirmed finding (one with a case) cannot be dismissed: `409`."""
    finding = _visible(Finding, finding_id, _("finding"))
    services.dismiss(g.actor, finding, body.note)
    db.session.commit()
    return to_data(finding)


@bp.operation("/cases/<case_id>/transition", "POST", summary="Move a case along its "
              "states", roles=MOVERS, body=TransitionRequest, tag="desk",
              responses={200: "The case", 403: ProblemDocument, **REFUSALS})
def transition(case_id: str, body: TransitionRequest):
    """open→notified→rectifying→submitted→verified→closed, with submitted→rectifying (the
    report sent back) and verified or closed→reopened→rectifying. The unit makes its own
    moves (notified→rectifying→submitted, reopened→rectifying), an inspector verifies,
    reviewers make the rest. An illegal move is `409`, another role's `403`."""
    case = _visible(Case, case_id, _("case"))
    services.transition(g.actor, case, body.to, body.note, body.recheck_id)
    db.session.commit()
    return to_data(case)


@bp.operation("/cases", "GET", summary="Cases, filtered, newest first", query=CasesQuery,
              roles=STAFF | {"unit"}, tag="desk", responses={200: CasesPage, 422: ProblemDocument})
def cases(query: CasesQuery):
    """A unit contact gets only its own unit's notified cases (and their later states)."""
    wanted = services.CaseFilter(query.status, query.unit_id, query.overdue, query.month)
    rows, cursor, more = services.page_of_cases(g.actor, wanted, query.cursor, query.limit)
    return {"cases": [to_data(case) for case in rows], "cursor": cursor, "more": more}
