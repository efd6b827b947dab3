"""Plans as JSON (docs/sync-protocol.md, "Plans"): made, changed and cancelled by the
compiler and inspectors; assignees take them through pull."""

from flask import g
from flask_babel import gettext as _

from sync.desk import PlanFields, PlanRequest

from ..api.openapi import ProblemDocument
from ..api.records import to_data
from ..api.routing import ApiBlueprint
from ..extensions import db
from ..models import Plan
from ..roles import PLANNERS
from ..visibility import as_uuid, visible_record
from . import services

bp = ApiBlueprint("plans", __name__, url_prefix="/api/v1/plans", sessions=True)
REFUSALS = {404: ProblemDocument, 409: ProblemDocument, 422: ProblemDocument}


def _plan(plan_id: str) -> Plan:
    return visible_record(g.actor, Plan, plan_id, _("No such plan."))


@bp.operation("", "POST", summary="Make a plan", roles=PLANNERS, body=PlanRequest,
              tag="plans", responses={201: "The plan, as pulled", **REFUSALS})
def create(body: PlanRequest):
    """Sites must exist; assignees are enabled inspectors or supervisors. With an `id`
    already used for the same plan, the answer is that plan again (`201`, nothing new);
    for a different plan, `409`."""
    plan, _made = services.create(g.actor, body.model_dump(exclude={"id"}), body.id)
    db.session.commit()
    return to_data(plan), 201


@bp.operation("/<plan_id>", "PATCH", summary="Change a plan", roles=PLANNERS,
              body=PlanFields, tag="plans", responses={200: "The plan, as pulled", **REFUSALS})
def change(plan_id: str, body: PlanFields):
    """Only the fields sent change. Someone taken off the plan gets it as a delete at
    their next pull. A cancelled plan is `409`."""
    plan = services.update(g.actor, _plan(plan_id), body.model_dump(exclude_unset=True))
    db.session.commit()
    return to_data(plan)


@bp.operation("/<plan_id>", "DELETE", summary="Cancel a plan", roles=PLANNERS, tag="plans",
              responses={204: None, 404: ProblemDocument})
def cancel(plan_id: str):
    """It leaves every phone as a delete; a check already started under it keeps it.
    Cancelling it again answers `204` too."""
    services.cancel(g.actor, _cancelled_or_visible(plan_id))
    db.session.commit()
    return "", 204


def _cancelled_or_visible(plan_id: str) -> Plan:
    """A plan already cancelled is found too, so that cancelling twice is harmless."""
    ident = as_uuid(plan_id)
    found = db.session.get(Plan, ident) if ident else None
    if found is not None and found.deleted_at is not None:
        return found
    return _plan(plan_id)
