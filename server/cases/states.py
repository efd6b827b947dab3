"""The case state machine: where each status may go, and who may make each move."""

from flask_babel import gettext as _

from ..roles import REVIEWERS
from ..rules import Refused

# Where each status may go; the moves a unit contact may make itself are listed apart.
TRANSITIONS = {"open": {"notified"}, "notified": {"rectifying"}, "rectifying": {"submitted"},
               "submitted": {"verified", "rectifying"}, "verified": {"closed", "reopened"},
               "closed": {"reopened"}, "reopened": {"rectifying"}}
UNIT_MOVES = {("notified", "rectifying"), ("rectifying", "submitted"),
              ("reopened", "rectifying")}
MOVERS = REVIEWERS | {"unit"}  # who may move a case at all


def move(user, case, status: str):
    """Change the status along the state machine, or refuse."""
    if status == case.status:
        return
    if status not in TRANSITIONS[case.status]:
        raise Refused(409, _("A case cannot go from %(a)s to %(b)s.", a=case.status, b=status))
    if user.role == "unit" and (case.status, status) not in UNIT_MOVES:
        raise Refused(403, _("Only the supervision group may move a case from %(a)s to "
                             "%(b)s.", a=case.status, b=status))
    case.status = status
