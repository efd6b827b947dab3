"""Build the OpenAPI 3.1 document from the operations and the schemas that validate them."""

import re

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ..access import PUBLIC
from .routing import Operation

REF = "#/components/schemas/{model}"


class ProblemDocument(BaseModel):
    """An error, as RFC 9457 describes: `type`, `title`, `status`, `detail`, `errors`."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] = []


def _models(operations: list[tuple[str, Operation]]) -> list[tuple[type[BaseModel], str]]:
    seen: dict[tuple, None] = {(ProblemDocument, "serialization"): None}
    for _rule, op in operations:
        if op.body is not None:
            seen[(op.body, "validation")] = None
        for answer in op.responses.values():
            if isinstance(answer, type) and issubclass(answer, BaseModel):
                seen[(answer, "serialization")] = None
    return list(seen)


def _path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _parameters(rule: str, op: Operation) -> list[dict]:
    params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
              for name in re.findall(r"<(?:[^:<>]+:)?([^<>]+)>", rule)]
    if op.query is not None:
        schema = op.query.model_json_schema(ref_template=REF)
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            params.append({"name": name, "in": "query", "required": name in required,
                           "description": prop.get("description", ""), "schema": prop})
    return params


def _responses(op: Operation, refs: dict) -> dict:
    out = {}
    for status, answer in sorted(op.responses.items()):
        if isinstance(answer, type) and issubclass(answer, BaseModel):
            media = "application/problem+json" if status >= 400 else "application/json"
            out[str(status)] = {"description": answer.__doc__ or answer.__name__,
                                "content": {media: {"schema": refs[(answer, "serialization")]}}}
        else:
            out[str(status)] = {"description": answer or ""}
    problem = {"content": {"application/problem+json":
                           {"schema": refs[(ProblemDocument, "serialization")]}}}
    defaults = {"400": "Malformed request", "404": "No such resource",
                "413": "Body too large", "415": "Body is not JSON",
                "422": "Fields missing or invalid (see `errors`)"}
    if op.roles != PUBLIC:
        defaults |= {"401": "No valid bearer token", "403": "Role not allowed"}
    for status, description in defaults.items():
        if status not in out and (op.body is not None or status not in ("413", "415")):
            out[status] = {"description": description, **problem}
    return out


def build(operations: list[tuple[str, Operation]], *, title: str, version: str,
          base: str) -> dict:
    """``operations`` pairs each operation with its full URL rule, which starts with ``base``."""
    refs, defs = models_json_schema(_models(operations), ref_template=REF)
    paths: dict = {}
    for rule, op in operations:
        entry = {"operationId": op.endpoint, "summary": op.summary,
                 "description": op.description, "tags": [op.tag] if op.tag else [],
                 "parameters": _parameters(rule, op), "responses": _responses(op, refs)}
        if op.roles == PUBLIC:
            entry["security"] = []
        else:
            entry["x-roles"] = sorted(op.roles)
        if op.body is not None:
            entry["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": refs[(op.body, "validation")]}}}
        paths.setdefault(_path(rule.removeprefix(base)), {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "servers": [{"url": base}],
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "Token from POST /auth/device"}},
        },
        "security": [{"bearer": []}],
    }
