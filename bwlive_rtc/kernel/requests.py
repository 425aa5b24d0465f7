"""Reading what a client sends: one typed model per endpoint (pydantic v2, strict), with a
sentence for the client when the body does not fit.

A handler declares its body with ``@body(Model)`` (or ``@body_text(media type)`` for
SDP, license files, …) and its query with ``@query(Model)``; it reads them with
``await read_body(request, Model)`` / ``read_query(request, Model)``. The declarations
also describe the endpoint in the OpenAPI document (``kernel/openapi.py``).
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from .errors import BadRequest

MAX_JSON_BYTES = 64 * 1024
BODY_ATTRIBUTE = "__bwlive_body__"
QUERY_ATTRIBUTE = "__bwlive_query__"

Model = TypeVar("Model", bound=BaseModel)
Handler = TypeVar("Handler", bound=Callable[..., Awaitable[web.StreamResponse]])

# Strings a person types: trimmed, never empty, of a sane length.
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(max_length=4000)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class RequestModel(BaseModel):
    """Base of every request model: strict types (``"false"`` is not a boolean, ``null``
    is not a name), no unknown fields."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


def body(model: type[BaseModel]) -> Callable[[Handler], Handler]:
    """Declare the JSON body a handler reads."""
    return _mark(BODY_ATTRIBUTE, model)


def body_text(media_type: str) -> Callable[[Handler], Handler]:
    """Declare a non-JSON body (``application/sdp``, ``text/plain``)."""
    return _mark(BODY_ATTRIBUTE, media_type)


def query(model: type[BaseModel]) -> Callable[[Handler], Handler]:
    """Declare the query parameters a handler reads."""
    return _mark(QUERY_ATTRIBUTE, model)


def _mark(attribute: str, value: object) -> Callable[[Handler], Handler]:
    def mark(handler: Handler) -> Handler:
        setattr(handler, attribute, value)
        return handler

    return mark


def declared_body(handler: object) -> type[BaseModel] | str | None:
    return getattr(handler, BODY_ATTRIBUTE, None)


def declared_query(handler: object) -> type[BaseModel] | None:
    return getattr(handler, QUERY_ATTRIBUTE, None)


def sentence(error: ValidationError) -> str:
    """The first problem of a validation error, in words a client can act on."""
    first = error.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    if first["type"] == "json_invalid":
        return "send a JSON object"
    if first["type"] == "extra_forbidden":
        return f"unknown field {where!r}"
    if first["type"] == "missing":
        return f"missing {where}"
    return f"{where}: {first['msg'][0].lower()}{first['msg'][1:]}" if where else first["msg"]


async def read_body(request: web.Request, model: type[Model]) -> Model:
    """The JSON body as ``model``; 400 with a sentence when it is not one, 413 when huge."""
    if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
        raise BadRequest(f"the body is larger than {MAX_JSON_BYTES // 1024} KiB")
    raw = await request.content.read(MAX_JSON_BYTES + 1)
    if len(raw) > MAX_JSON_BYTES:
        raise BadRequest(f"the body is larger than {MAX_JSON_BYTES // 1024} KiB")
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        raise BadRequest(sentence(exc)) from None


def read_query(request: web.Request, model: type[Model]) -> Model:
    """The query string as ``model`` (each parameter once, as text)."""
    try:
        return model.model_validate(dict(request.query), strict=False)
    except ValidationError as exc:
        raise BadRequest(sentence(exc)) from None


async def json_object(request: web.Request, *required: str) -> dict[str, Any]:
    """The body as a JSON object; ``required`` names fields that must be non-empty strings.
    For endpoints not yet given a model; new endpoints use ``read_body``."""
    try:
        data = await request.json()
    except (ValueError, RecursionError, UnicodeDecodeError):
        raise BadRequest("send a JSON object") from None
    if not isinstance(data, dict):
        raise BadRequest("send a JSON object")
    missing = [f for f in required if not isinstance(data.get(f), str) or not data[f]]
    if missing:
        raise BadRequest(f"missing {', '.join(missing)}")
    return data
