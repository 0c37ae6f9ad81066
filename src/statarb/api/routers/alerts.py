"""Alert rules (persisted in the store) and the history of triggers."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, status
from fastapi.responses import Response

from statarb.api.deps import EngineDep, HasToken, StoreDep, TimeRange, WriteAuth
from statarb.api.routers._common import json_response
from statarb.api.schemas import AlertEventOut, AlertRuleIn, AlertRuleOut

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])

RuleId = Annotated[int, Path(ge=1, le=2**62, description="rule id")]


def _out(rule: Any, *, reveal: bool = True) -> dict[str, Any]:
    """A rule for a response: secrets masked, webhook URLs only for token holders."""
    return {**rule.to_dict(public=True, reveal_urls=reveal), "summary": rule.condition.summary()}


async def _warm_pairs(engine: Any, rule: Any) -> None:
    for pair in {c.target for c in rule.conditions() if "/" in c.target}:
        await engine.warm_up(*pair.split("/"))


def _rule_error(exc: Exception) -> HTTPException:
    text = str(exc)
    field = text.split(":", 1)[0] if ":" in text else "rule"
    return HTTPException(
        422,
        [{"loc": ["body", *field.split(".")], "msg": text, "type": "value_error"}],
    )


@router.get("/rules", response_model=list[AlertRuleOut])
async def list_rules(engine: EngineDep, authed: HasToken) -> Response:
    """Every rule in force (webhook URLs masked unless the API token is sent)."""
    return json_response([_out(r, reveal=authed) for r in engine.rules()])


@router.post("/rules", response_model=AlertRuleOut, status_code=201, dependencies=[WriteAuth])
async def add_rule(rule: AlertRuleIn, engine: EngineDep) -> Response:
    """Create a rule; errors name the field at fault (e.g. ``condition.children[1].operator``)."""
    from statarb.errors import AlertRuleError

    try:
        saved = await engine.save_rule(rule.model_dump())
    except AlertRuleError as exc:
        raise _rule_error(exc) from None
    await _warm_pairs(engine, saved)
    return json_response(_out(saved), 201)


@router.get("/rules/{rule_id}", response_model=AlertRuleOut)
async def get_rule(rule_id: RuleId, engine: EngineDep, authed: HasToken) -> Response:
    """One rule (webhook URLs masked unless the API token is sent)."""
    for r in engine.rules():
        if r.id == rule_id:
            return json_response(_out(r, reveal=authed))
    raise HTTPException(status.HTTP_404_NOT_FOUND, f"alert rule {rule_id} does not exist")


@router.put("/rules/{rule_id}", response_model=AlertRuleOut, dependencies=[WriteAuth])
async def replace_rule(rule_id: RuleId, rule: AlertRuleIn, engine: EngineDep) -> Response:
    """Replace a rule (its trigger state restarts when the condition changed)."""
    from statarb.errors import AlertRuleError

    if all(r.id != rule_id for r in engine.rules()):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"alert rule {rule_id} does not exist")
    try:
        saved = await engine.save_rule({**rule.model_dump(), "id": rule_id})
    except AlertRuleError as exc:
        raise _rule_error(exc) from None
    await _warm_pairs(engine, saved)
    return json_response(_out(saved))


@router.delete("/rules/{rule_id}", status_code=204, dependencies=[WriteAuth])
async def delete_rule(rule_id: RuleId, engine: EngineDep) -> Response:
    """Delete a rule (its history stays)."""
    if not await engine.delete_rule(rule_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"alert rule {rule_id} does not exist")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/history", response_model=list[AlertEventOut])
async def history(
    store: StoreDep,
    times: TimeRange,
    rule_id: Annotated[int | None, Query(ge=0, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> Response:
    """Recorded triggers, newest first, with their delivery status."""
    events = await asyncio.to_thread(
        store.list_alert_events, rule_id=rule_id, start=times[0], end=times[1], limit=limit
    )
    return json_response(events)
