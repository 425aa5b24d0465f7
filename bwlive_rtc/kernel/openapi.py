"""The OpenAPI 3.1 document of a running app, generated from its route table: each route's
access level and the request models it declares (``@body``, ``@path``, ``@query``;
path parameters without a model are plain strings). Nothing is written by hand, so the document cannot drift from the code."""
from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from ..protocol import CSRF_HEADER, SESSION_COOKIE
from .access import Access, required_access, token_access
from .requests import declared_body, declared_path, declared_query

PATH_PARAMETER = re.compile(r"\{(\w+)(?::[^}]*)?\}")
REF_TEMPLATE = "#/components/schemas/{model}"
ERROR_SCHEMA = {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}
SECURITY: dict[Access, list[dict[str, list[str]]]] = {
    Access.PUBLIC: [],
    Access.CAMERA: [{"camera": []}],
    Access.API_KEY: [{"api_key": []}],
    Access.NODE: [{"node": []}],
}
SIGNED_IN: list[dict[str, list[str]]] = [{"session": [], "csrf": []}]
VIEWER_TOKEN: dict[str, list[str]] = {"viewer_token": []}


def _json_schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    """``model``'s schema; the schemas it refers to go to ``components``."""
    schema = model.model_json_schema(ref_template=REF_TEMPLATE)
    components.update(schema.pop("$defs", {}))
    return schema


def _schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    components[model.__name__] = _json_schema(model, components)
    return {"$ref": REF_TEMPLATE.format(model=model.__name__)}


def _parameters(model: type[BaseModel], where: str, components: dict[str, Any]) -> list[dict[str, Any]]:
    schema = _json_schema(model, components)
    return [{"name": name, "in": where, "required": name in schema.get("required", ()), "schema": field}
            for name, field in schema["properties"].items()]


def _operation(route: web.AbstractRoute, path: str, components: dict[str, Any]) -> dict[str, Any]:
    handler = route.handler
    level = required_access(handler) or Access.PUBLIC
    token_level = token_access(handler)
    doc = (handler.__doc__ or "").strip().splitlines()
    path_model, query_model = declared_path(handler), declared_query(handler)
    parameters = _parameters(path_model, "path", components) if path_model else [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in PATH_PARAMETER.findall(path)
    ]
    if query_model is not None:
        parameters += _parameters(query_model, "query", components)
    operation: dict[str, Any] = {
        "operationId": f"{route.method.lower()}_{handler.__name__}",
        "summary": doc[0] if doc else handler.__name__.replace("_", " "),
        "x-access": level.name.lower(),
        "security": SECURITY.get(level, SIGNED_IN) + ([VIEWER_TOKEN] if token_level is not None else []),
        "parameters": parameters,
        **({"x-token-access": token_level.name.lower()} if token_level is not None else {}),
        "responses": {
            "default": {"description": "the result"},
            "4XX": {"description": "refused, with the reason",
                    "content": {"application/json": {"schema": ERROR_SCHEMA}}},
        },
    }
    declared = declared_body(handler)
    if isinstance(declared, str):
        operation["requestBody"] = {"required": True, "content": {declared: {"schema": {"type": "string"}}}}
    elif declared is not None:
        operation["requestBody"] = {
            "required": True, "content": {"application/json": {"schema": _schema(declared, components)}}}
    return operation


def openapi_document(app: web.Application, title: str, version: str) -> dict[str, Any]:
    """The document for every route of ``app`` except static files."""
    paths: dict[str, dict[str, Any]] = {}
    components: dict[str, Any] = {}
    for route in app.router.routes():
        if route.method in ("HEAD", "*") or isinstance(route.resource, web.StaticResource) or route.resource is None:
            continue
        path = PATH_PARAMETER.sub(r"{\1}", route.resource.canonical)
        paths.setdefault(path, {})[route.method.lower()] = _operation(route, path, components)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": components,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE},
                "csrf": {"type": "apiKey", "in": "header", "name": CSRF_HEADER},
                "camera": {"type": "http", "scheme": "bearer", "description": "the camera's device credential"},
                "api_key": {"type": "http", "scheme": "bearer",
                            "description": "an API key (bwk_...): it mints viewer tokens and is refused elsewhere"},
                "node": {"type": "apiKey", "in": "header", "name": "Bwlive-Node-Signature",
                         "description": "another node of the cluster (docs/PROTOCOL.md, \"Node to node\")"},
                "viewer_token": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                                 "description": "a viewer token from POST /api/tokens (docs/EMBEDDING.md)"},
            },
        },
    }
