"""Declare an API operation once: its schemas validate requests and describe it in OpenAPI."""

from dataclasses import dataclass, field
from functools import wraps

from flask import Blueprint, request
from flask_babel import gettext as _
from pydantic import BaseModel, ValidationError

from ..access import PUBLIC
from ..errors import Problem


@dataclass(frozen=True)
class Operation:
    rule: str
    method: str
    endpoint: str
    summary: str
    roles: frozenset | str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    responses: dict = field(default_factory=dict)  # status -> model, None or a description
    tag: str = ""
    description: str = ""


class ApiBlueprint(Blueprint):
    """A blueprint that remembers its operations for the OpenAPI document."""

    def __init__(self, *args, sessions: bool = False, **kwargs):
        """``sessions``: a signed-in browser may call it too (with its CSRF token), as
        well as a bearer token; the desk's actions are such."""
        super().__init__(*args, **kwargs)
        self.operations: list[Operation] = []
        self.sessions = sessions

    def operation(self, rule: str, method: str, *, summary: str, roles, body=None, query=None,
                  responses=None, tag: str = "", description: str = "",
                  reads_only: bool = False):
        """Register the view for ``method rule``; it receives ``body=``/``query=`` parsed.
        ``reads_only``: the view writes nothing, so on PostgreSQL its statements run
        without a transaction around them (``server.access``)."""
        def register(view):
            op = Operation(rule, method, view.__name__, summary,
                           roles if roles == PUBLIC else frozenset(roles), body, query,
                           responses or {}, tag, description or (view.__doc__ or "").strip())

            @wraps(view)
            def handler(**kwargs):
                if body is not None:
                    kwargs["body"] = parse_body(body)
                if query is not None:
                    kwargs["query"] = parse_query(query)
                return view(**kwargs)

            handler.access = op.roles
            handler.sessions = self.sessions
            handler.reads_only = reads_only
            self.add_url_rule(rule, endpoint=op.endpoint, view_func=handler, methods=[method])
            self.operations.append(op)
            return handler

        return register


def parse_body(model: type[BaseModel]) -> BaseModel:
    if request.mimetype != "application/json":
        raise Problem(415, _("Unsupported content type"),
                      _("Send the body as application/json."))
    raw = request.get_data(cache=True)  # beyond MAX_CONTENT_LENGTH this raises 413
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise invalid(exc) from None


def parse_query(model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise invalid(exc) from None


def _messages() -> dict[str, str]:
    return {
        "missing": _("This field is required."),
        "extra_forbidden": _("This field is not known; remove it."),
        "string_type": _("Must be a string."),
        "int_type": _("Must be an integer."),
        "int_parsing": _("Must be an integer."),
        "float_type": _("Must be a number."),
        "float_parsing": _("Must be a number."),
        "bool_type": _("Must be true or false."),
        "bool_parsing": _("Must be true or false."),
        "uuid_type": _("Must be a UUID."),
        "uuid_parsing": _("Must be a UUID."),
        "datetime_type": _("Must be an RFC 3339 time with offset."),
        "datetime_parsing": _("Must be an RFC 3339 time with offset."),
        "timezone_aware": _("The time must carry an offset, e.g. +08:00."),
        "string_too_short": _("Must not be empty."),
        "string_too_long": _("Is too long."),
        "literal_error": _("Is not one of the allowed values."),
        "enum": _("Is not one of the allowed values."),
        "model_type": _("Must be an object."),
        "model_attributes_type": _("Must be an object."),
        "list_type": _("Must be a list."),
        "dict_type": _("Must be an object."),
        "greater_than_equal": _("Is too small."),
        "less_than_equal": _("Is too large."),
        "too_long": _("Has too many items."),
        "nul_character": _("Text may not contain NUL characters."),
        "time_out_of_range": _("The time is outside the years 1 to 9999."),
    }


def invalid(exc: ValidationError) -> Problem:
    """Turn pydantic's errors into a problem document a person can act on."""
    errors = exc.errors(include_url=False, include_input=False)
    if any(e["type"] == "json_invalid" for e in errors):
        return Problem(400, _("Malformed JSON"),
                       _("The body is not valid JSON: %(why)s", why=errors[0]["msg"]))
    messages = _messages()
    listed = [{"field": ".".join(str(p) for p in e["loc"]) or "body",
               "message": messages.get(e["type"], e["msg"])} for e in errors]
    if any(e["type"] == "model_type" and not e["loc"] for e in errors):
        return Problem(400, _("Malformed JSON"), _("The body must be a JSON object."),
                       errors=listed)
    return Problem(422, _("Invalid request"),
                   _("Some fields are missing or wrong; see 'errors'."), errors=listed)
