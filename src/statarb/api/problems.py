"""One error model for the whole API: RFC 9457 problem details (``application/problem+json``).

Every 4xx and 5xx answer is a :class:`Problem`: ``type``, ``title``, ``status``, ``detail`` (one
human-readable sentence) and, for invalid input, ``errors``: one :class:`FieldError` per field at
fault, naming where it was (``query``, ``path``, ``body``) and which field. Handlers raise
``HTTPException``, FastAPI's validation errors or the project's own exceptions
(:mod:`statarb.errors`); the handlers installed here format them. :func:`problem_openapi`
declares the model on every operation of the schema.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from statarb.errors import InputError, StatarbError, StoreError

log = logging.getLogger(__name__)

PROBLEM_MEDIA = "application/problem+json"


class FieldError(BaseModel):
    """One invalid input field."""

    loc: list[str | int] = Field(description='where: ["query", "start"], ["body", 3, "ts"], ...')
    field: str = Field(description="the field, dotted (without the location)", examples=["start"])
    message: str
    type: str = Field(default="value_error", description="machine-readable error kind")


class Problem(BaseModel):
    """An error, as RFC 9457 problem details."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(default="about:blank", description="URI of the problem type")
    title: str = Field(description="short summary of the problem type", examples=["Not Found"])
    status: int = Field(ge=400, le=599, examples=[404])
    detail: str = Field(description="what went wrong this time, and how to fix it")
    instance: str | None = Field(default=None, description="the request path")
    errors: list[FieldError] = Field(default_factory=list, description="invalid fields (422)")


class ProblemResponse(Response):
    """``application/problem+json`` rendered by orjson."""

    media_type = PROBLEM_MEDIA

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)


def problem(
    status: int,
    detail: str,
    *,
    errors: Sequence[FieldError | dict[str, Any]] = (),
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> ProblemResponse:
    """A problem-details response (extension members go beside the standard ones)."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": _title(status),
        "status": status,
        "detail": detail,
        "instance": instance,
        "errors": [e.model_dump() if isinstance(e, FieldError) else e for e in errors],
        **extensions,
    }
    return ProblemResponse(body, status_code=status, headers=headers)


def problem_bytes(status: int, detail: str) -> bytes:
    """The body of a problem response, for ASGI middleware that answers by itself."""
    body = {"type": "about:blank", "title": _title(status), "status": status, "detail": detail,
            "instance": None, "errors": []}  # fmt: skip
    return orjson.dumps(body)


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def field_errors(raw: Sequence[Any]) -> list[FieldError]:
    """FastAPI/pydantic error dicts -> :class:`FieldError` (``loc`` kept, ``field`` dotted)."""
    out = []
    for e in raw:
        loc = [p if isinstance(p, int) else str(p) for p in e.get("loc", ())]
        where = loc[1:] if loc and loc[0] in ("query", "path", "body", "header", "cookie") else loc
        field = ".".join(str(p) for p in where) or (str(loc[0]) if loc else "request")
        out.append(FieldError(loc=loc or ["request"], field=field,
                              message=str(e.get("msg", e.get("message", "invalid"))),
                              type=str(e.get("type", "value_error"))))  # fmt: skip
    return out


def _summary(errors: list[FieldError]) -> str:
    first = "; ".join(f"{'.'.join(map(str, e.loc))}: {e.message}" for e in errors[:3])
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return f"{len(errors)} invalid field{'s' if len(errors) != 1 else ''}: {first}{more}"


def install(app: FastAPI) -> None:
    """Format every error raised in ``app`` as problem details."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = field_errors(exc.errors())
        return problem(422, _summary(errors), errors=errors, instance=request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if isinstance(exc.detail, list):  # field errors given as FastAPI-style dicts
            errors = field_errors(exc.detail)
            return problem(exc.status_code, _summary(errors), errors=errors,
                           instance=request.url.path, headers=exc.headers)  # fmt: skip
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail or "")
        detail = detail or _title(exc.status_code)
        return problem(exc.status_code, detail, instance=request.url.path, headers=exc.headers)

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError) -> Response:
        return problem(422, str(exc), instance=request.url.path)

    @app.exception_handler(StoreError)
    async def _store(request: Request, exc: StoreError) -> Response:
        log.error("store error: %s", exc)
        return problem(503, f"store unavailable: {exc}", instance=request.url.path)

    @app.exception_handler(StatarbError)
    async def _other(request: Request, exc: StatarbError) -> Response:
        return problem(400, str(exc), instance=request.url.path)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "internal error; the server log has the details",
                       instance=request.url.path)  # fmt: skip


_REF = {"$ref": "#/components/schemas/Problem"}


def _declared(code: str) -> dict[str, Any]:
    return {"description": _title(int(code)), "content": {PROBLEM_MEDIA: {"schema": _REF}}}


def _codes(path: str, op: dict[str, Any]) -> list[str]:
    codes = {"400", "500", "503"}
    if op.get("parameters") or op.get("requestBody"):
        codes.add("422")
    if op.get("security"):
        codes |= {"401", "403"}
    if "{" in path:
        codes.add("404")
    if op.get("requestBody"):
        codes.add("413")
    return sorted(codes)


def problem_openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """``app.openapi`` declaring :class:`Problem` (``application/problem+json``) per operation."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, summary=app.summary,
                             description=app.description, routes=app.routes)  # fmt: skip
        comps = schema.setdefault("components", {}).setdefault("schemas", {})
        model = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        comps.update(model.pop("$defs", {}))
        comps["Problem"] = model
        for path, ops in schema.get("paths", {}).items():
            for op in ops.values():
                responses = op.setdefault("responses", {})
                for code in _codes(path, op):
                    if code == "422" or code not in responses:  # 422: FastAPI's own shape
                        responses[code] = _declared(code)
                responses["default"] = {"description": "any other error",
                                        "content": {PROBLEM_MEDIA: {"schema": _REF}}}  # fmt: skip
        text = orjson.dumps(schema.get("paths", {}))
        for unused in ("HTTPValidationError", "ValidationError"):
            if f'/{unused}"'.encode() not in text:
                comps.pop(unused, None)
        app.openapi_schema = schema
        return schema

    return openapi


__all__ = [
    "PROBLEM_MEDIA",
    "FieldError",
    "Problem",
    "ProblemResponse",
    "field_errors",
    "install",
    "problem",
    "problem_bytes",
    "problem_openapi",
]
