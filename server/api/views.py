"""The API's own routes: the OpenAPI document, and problem documents for unknown paths."""

from flask import current_app

from ..access import public
from .openapi import build
from .routing import ApiBlueprint

BASE = "/api/v1"
bp = ApiBlueprint("api", __name__, url_prefix=BASE)


def operations(app) -> list:
    """Every declared operation of the app, each with its full URL rule."""
    rules = {rule.endpoint: rule.rule for rule in app.url_map.iter_rules()}
    found = []
    for name, blueprint in app.blueprints.items():
        for op in getattr(blueprint, "operations", []):
            found.append((rules[f"{name}.{op.endpoint}"], op))
    return sorted(found, key=lambda pair: (pair[0], pair[1].method))


@bp.route("/openapi.json")
@public
def openapi():
    """The OpenAPI 3.1 document of the phone-facing API."""
    if "openapi" not in current_app.extensions:
        current_app.extensions["openapi"] = build(
            operations(current_app), title="Mingcha (明察) phone API", version="1", base=BASE)
    return current_app.extensions["openapi"]
