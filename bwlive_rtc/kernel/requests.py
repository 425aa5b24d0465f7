"""Reading what a client sends: one typed model per endpoint (pydantic v2, strict), with a
sentence for the client when the request does not fit.

A handler declares its body with ``@body(Model)`` (or ``@body_text(media type)`` for
SDP, license files, …), its path parameters with ``@path(Model)`` and its query with
``@query(Model)``; it reads them with ``await read_body(request, Model)``,
``await read_text(request)``, ``read_path(request, Model)`` and ``read_query(request,
Model)``. The declarations also describe the endpoint in the OpenAPI document
(``kernel/openapi.py``). Bodies are bounded in size; JSON is parsed by pydantic-core,
which refuses lone surrogates and nesting deeper than a few hundred levels; text is
strict UTF-8.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from aiohttp import web
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from .errors import BadRequest

MAX_JSON_BYTES = 64 * 1024
MAX_TEXT_BYTES = 64 * 1024
BODY_ATTRIBUTE = "__bwlive_body__"
PATH_ATTRIBUTE = "__bwlive_path__"
QUERY_ATTRIBUTE = "__bwlive_query__"

Model = TypeVar("Model", bound=BaseModel)
Handler = TypeVar("Handler", bound=Callable[..., Awaitable[web.StreamResponse]])


def _one_line(value: str) -> str:
    """A name is text without control characters."""
    if any(unicodedata.category(character) == "Cc" for character in value):
        raise ValueError("contains a control character")
    return value


def _ascii_digits(value: object) -> object:
    """Numbers in paths and queries are plain ASCII digits (not ``"²"``, ``"+1"``, ``"1_0"``)."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError("should be a whole number in ASCII digits")
    return value


# Strings a person types: trimmed, on one line, of a sane length; a Name is never empty.
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(_one_line)]
OptionalName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(_one_line)]
Text = Annotated[str, StringConstraints(max_length=4000)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
# A web origin exactly as a browser sends it: scheme, lower-case host, port only if not the default.
Origin = Annotated[str, StringConstraints(
    max_length=253, pattern=r"^https?://([a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])"
                            r"(:[1-9][0-9]{0,4})?$")]
# A whole number at most 2^31 - 1, e.g. a segment number in a path.
Natural = Annotated[int, BeforeValidator(_ascii_digits), Field(ge=0, le=2**31 - 1)]


class RequestModel(BaseModel):
    """Base of every request model: strict types (``"false"`` is not a boolean, ``null``
    is not a name), no unknown fields."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        """No text in a request holds a NUL character (no name needs one, and PostgreSQL
        cannot store one: it would be a 500 there)."""
        if _holds_nul(value):
            raise ValueError("contains a NUL character")
        return value


def _holds_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_holds_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    return False


def body(model: type[BaseModel]) -> Callable[[Handler], Handler]:
    """Declare the JSON body a handler reads."""
    return _mark(BODY_ATTRIBUTE, model)


def body_text(media_type: str) -> Callable[[Handler], Handler]:
    """Declare a non-JSON text body (``application/sdp``, ``text/plain``)."""
    return _mark(BODY_ATTRIBUTE, media_type)


def path(model: type[BaseModel]) -> Callable[[Handler], Handler]:
    """Declare the types of a handler's path parameters."""
    return _mark(PATH_ATTRIBUTE, model)


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


def declared_path(handler: object) -> type[BaseModel] | None:
    return getattr(handler, PATH_ATTRIBUTE, None)


def declared_query(handler: object) -> type[BaseModel] | None:
    return getattr(handler, QUERY_ATTRIBUTE, None)


def sentence(error: ValidationError) -> str:
    """The first problem of a validation error, in words a client can act on."""
    first = error.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "json_invalid":
        return f"send a JSON object ({message[0].lower()}{message[1:]})"
    if first["type"] == "model_type":
        return "send a JSON object"
    if first["type"] == "extra_forbidden":
        return f"unknown field {where!r}"
    if first["type"] == "missing":
        return f"missing {where}"
    return f"{where}: {message[0].lower()}{message[1:]}" if where else message


RAW_BODY = web.RequestKey("raw_body", bytes)


async def _read_bounded(request: web.Request, limit: int) -> bytes:
    """The whole body (read once, then kept on the request), refused with a sentence when
    it is larger than ``limit`` bytes."""
    too_large = BadRequest(f"the body is larger than {limit // 1024} KiB")
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    if RAW_BODY not in request:
        request[RAW_BODY] = await request.content.read(limit + 1)
    raw = request[RAW_BODY]
    if len(raw) > limit:
        raise too_large
    return raw


async def read_raw(request: web.Request) -> bytes:
    """The JSON body's bytes as sent (a signature covers them), bounded as ``read_body``'s;
    ``read_body`` reads them again."""
    return await _read_bounded(request, MAX_JSON_BYTES)


async def read_body(request: web.Request, model: type[Model]) -> Model:
    """The JSON body as ``model``; 400 with a sentence when it is not one or too large."""
    raw = await _read_bounded(request, MAX_JSON_BYTES)
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        raise BadRequest(sentence(exc)) from None


async def read_text(request: web.Request, limit: int = MAX_TEXT_BYTES) -> str:
    """The body as text: strict UTF-8, at most ``limit`` bytes; else 400 with a sentence."""
    raw = await _read_bounded(request, limit)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the body is not UTF-8 text") from None
    if "\x00" in text:
        raise BadRequest("the body contains a NUL character")
    return text


def read_path(request: web.Request, model: type[Model]) -> Model:
    """The path parameters as ``model`` (each is text in the URL)."""
    return _validate_text_fields(dict(request.match_info), model)


def read_query(request: web.Request, model: type[Model]) -> Model:
    """The query string as ``model`` (each parameter once, as text)."""
    return _validate_text_fields(dict(request.query), model)


def _validate_text_fields(fields: dict[str, str], model: type[Model]) -> Model:
    try:
        return model.model_validate(fields, strict=False)
    except ValidationError as exc:
        raise BadRequest(sentence(exc)) from None

