"""Device login and logout for phones (docs/sync-protocol.md, "Signing in a phone")."""

from flask import g, request
from flask_babel import gettext as _

from sync.messages import DeviceLogin, DeviceToken, UserSummary

from ..access import PUBLIC
from ..api.openapi import ProblemDocument
from ..api.routing import ApiBlueprint
from ..errors import Problem
from ..extensions import db
from ..roles import ALL
from . import services

bp = ApiBlueprint("auth", __name__, url_prefix="/api/v1/auth")


@bp.operation("/device", "POST", summary="Sign a phone in", roles=PUBLIC, body=DeviceLogin,
              tag="auth", responses={201: DeviceToken, 401: ProblemDocument,
                                     429: ProblemDocument})
def login_device(body: DeviceLogin):
    """Exchange a username and password for a device token. Repeated failures for a
    username or from an address answer `429` with `Retry-After` (seconds)."""
    user = services.authenticate(body.username, body.password, request.remote_addr)
    if user is None:
        db.session.commit()  # keep the failure count
        raise Problem(401, _("Wrong username or password"),
                      _("Check the username and password and try again."))
    device, token = services.issue_device_token(user, body.device_name)
    db.session.commit()
    answer = DeviceToken(token=token, device_id=device.id,
                         user=UserSummary(id=user.id, name=user.name, role=user.role))
    return answer.model_dump(mode="json"), 201, {"Cache-Control": "no-store"}


@bp.operation("/device", "DELETE", summary="Sign this phone out", roles=ALL, tag="auth",
              responses={204: "The token is revoked; it no longer works."})
def logout_device():
    """Revoke the token this request carries. Other devices of the user stay signed in."""
    services.revoke_device(g.device)
    db.session.commit()
    return "", 204
