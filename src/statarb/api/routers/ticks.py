"""Ticks: post one, a batch (JSON array or NDJSON) or a file; read stored ticks."""

from __future__ import annotations

import asyncio
import re
import tempfile
import time
from pathlib import Path as FsPath
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, File, HTTPException, Query, Request, UploadFile, status
from fastapi.responses import Response

from statarb.api.deps import EngineDep, StoreDep, TimeRange, WriteAuth
from statarb.api.problems import problem
from statarb.api.routers._common import (
    OutFormat,
    arrow_bytes,
    arrow_response,
    check_symbol,
    json_response,
    table_responses,
    tick_columns,
    ticks_json,
)
from statarb.api.routers._stream import stream_csv, stream_json
from statarb.api.schemas import ImportReportOut, IngestResult, TickIn, TickOut

router = APIRouter(prefix="/api/v1/ticks", tags=["ticks"])

MAX_BATCH_ROWS = 200_000
_BATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "array", "items": TickIn.model_json_schema(
                ref_template="#/components/schemas/{model}")}},
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    }
}  # fmt: skip


@router.post("", response_model=IngestResult, dependencies=[WriteAuth])
async def post_tick(
    tick: TickIn,
    engine: EngineDep,
    wait: Annotated[bool, Query(description="answer once stored")] = False,
) -> IngestResult:
    """Post one trade; it takes the same path as live feed ticks."""
    n = await engine.ingest([tick.to_tick(time.time_ns() // 1000)], wait=wait)
    return IngestResult(accepted=n)


def _rows(body: bytes, content_type: str) -> tuple[list[Any], list[dict[str, Any]]]:
    """Decode a JSON array or NDJSON body into rows; undecodable NDJSON lines are errors."""
    text = body.lstrip()
    if "ndjson" not in content_type and "jsonl" not in content_type and text[:1] == b"[":
        try:
            rows = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST, f"body is not valid JSON: {exc}"
            ) from None
        if not isinstance(rows, list):
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "body must be a JSON array")
        return rows, []
    rows, errors, index = [], [], 0
    for line in body.splitlines():
        if not line.strip():
            continue
        try:
            rows.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            rows.append(None)
            errors.append({"index": index, "field": "row", "message": "line is not valid JSON"})
        index += 1
    return rows, errors


@router.post("/batch", response_model=IngestResult, dependencies=[WriteAuth],
             openapi_extra=_BATCH_BODY)  # fmt: skip
async def post_batch(
    request: Request,
    engine: EngineDep,
    strict: Annotated[bool, Query(description="store nothing if any row is bad")] = False,
    wait: Annotated[bool, Query(description="answer once stored")] = False,
) -> Response:
    """Post many trades as a JSON array or NDJSON (one object per line).

    Each bad row is reported with its index and the field at fault; good rows are stored unless
    ``strict`` is set, in which case nothing is stored when any row is bad (422).
    """
    recv = time.time_ns() // 1000
    body = await request.body()
    rows, decode_errors = _rows(body, request.headers.get("content-type", ""))
    if len(rows) > MAX_BATCH_ROWS:
        raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                            f"{len(rows)} rows; at most {MAX_BATCH_ROWS} per batch")  # fmt: skip
    from statarb.api.routers._tick_batch import validate_rows
    from statarb.ingest.binance import FeedBatch

    bad_idx = {e["index"] for e in decode_errors}
    good, _, errors = validate_rows(
        [r for i, r in enumerate(rows) if i not in bad_idx] if bad_idx else rows, recv_ts=recv
    )
    if decode_errors:  # map indices of the parsed rows back to the body's rows
        keep = [i for i in range(len(rows)) if i not in bad_idx]
        errors = [{**e, "index": keep[e["index"]]} for e in errors]
    errors = sorted(decode_errors + errors, key=lambda e: e["index"])
    if strict and errors:
        fields = [{"loc": ["body", e["index"], e["field"]], "field": e["field"],
                   "message": e["message"], "type": "value_error"} for e in errors]  # fmt: skip
        return problem(422, f"strict: nothing stored; {len(errors)} bad rows, the first at "
                       f"index {errors[0]['index']} ({errors[0]['field']}: "
                       f"{errors[0]['message']})", errors=fields, instance=request.url.path,
                       accepted=0, rejected=len(errors), rows=errors)  # fmt: skip
    n = await engine.ingest_batch(FeedBatch(trade_rows=good), wait=wait) if good else 0
    return json_response({"accepted": n, "rejected": len(errors), "errors": errors})


@router.post("/file", response_model=ImportReportOut, dependencies=[WriteAuth])
async def post_file(
    request: Request,
    store: StoreDep,
    file: Annotated[UploadFile, File(description="NDJSON, CSV or Binance dump, optionally .gz")],
    symbol: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9]{1,40}$")] = None,
    strict: bool = False,
) -> Response:
    """Import an uploaded file with the same importer as ``statarb import``; returns its report."""
    from statarb.errors import FormatError, InputError
    from statarb.ingest.files import import_files

    name = re.sub(r"[^A-Za-z0-9_.\-]", "_", FsPath(file.filename or "upload.csv").name)[:120]
    with tempfile.TemporaryDirectory(prefix="statarb-upload-") as tmp:
        path = FsPath(tmp) / (name or "upload.csv")
        with path.open("wb") as fh:
            while chunk := await file.read(1 << 20):
                fh.write(chunk)
        try:
            report = await asyncio.to_thread(import_files, [path], store, symbol=symbol,
                                             strict=strict)  # fmt: skip
        except (FormatError, InputError) as exc:
            raise HTTPException(422, str(exc)) from None
    return json_response(report.to_dict())


@router.get("/{symbol}", response_model=list[TickOut], responses=table_responses(TickOut))
async def get_ticks(
    symbol: str,
    store: StoreDep,
    times: TimeRange,
    limit: Annotated[int, Query(ge=1, le=1_000_000)] = 10_000,
    format: OutFormat = "json",
) -> Response:
    """Stored ticks of a symbol in ``[start, end)``, oldest first, at most ``limit``."""
    sym = check_symbol(symbol)
    start, end = times

    def read() -> Any:
        from statarb.model import TickBatch

        for chunk in store.iter_ticks(sym, start, end, chunk=limit):
            return chunk
        return TickBatch.empty(sym)

    tb = await asyncio.to_thread(read)
    if format == "csv":
        from statarb.export import ticks_frame

        return await stream_csv(lambda: ticks_frame(tb), f"{sym}_ticks")
    if format == "arrow":
        body = await asyncio.to_thread(arrow_bytes, tick_columns(tb))
        return arrow_response(body, f"{sym}_ticks")
    return stream_json(lambda lo, hi: ticks_json(tb.take(slice(lo, hi))), len(tb))
