"""``statarb alerts list|add|rm``: alert rules in the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from statarb.cli._common import EXIT_OK, fail, settings, store_from

RESTART_NOTE = "a running engine picks up rule changes made here at its next start"


def _rule_from_flags(
    name: str | None, metric: str | None, target: str | None, timeframe: str | None,
    op: str | None, threshold: float | None, hysteresis: float, cooldown: float,
    webhooks: list[str],
) -> dict[str, object]:  # fmt: skip
    missing = [n for n, v in (("--metric", metric), ("--target", target), ("--op", op),
                              ("--threshold", threshold)) if v is None]  # fmt: skip
    if missing:
        fail(f"give a JSON rule or all of --metric --target --op --threshold (missing {missing})")
    hooks = []
    for w in webhooks:
        kind, _, url = w.partition("=")
        if not url:
            fail(f"--webhook {w!r}: use KIND=URL, e.g. slack=https://hooks.slack.com/...")
        hooks.append({"kind": kind, "url": url})
    return {
        "name": name or f"{metric} {target} {op} {threshold}",
        "condition": {"metric": metric, "target": target, "timeframe": timeframe,
                      "operator": op, "threshold": threshold, "hysteresis": hysteresis},
        "cooldown_seconds": cooldown,
        "webhooks": hooks,
    }  # fmt: skip


def _quiet_hours(spec: str, tz: str, bypass: bool) -> dict[str, object]:
    """``"22:00-07:00"`` -> the rule's ``quiet_hours`` object."""
    start, sep, end = spec.partition("-")
    if not sep:
        fail(f"--quiet-hours {spec!r}: use START-END in 24 h time, e.g. 22:00-07:00")
    return {"start": start.strip(), "end": end.strip(), "timezone": tz, "critical_bypass": bypass}


def _policy_flags(
    data: dict[str, object], *, severity: str | None, dedup: float | None, dedup_key: str | None,
    quiet_hours: str | None, tz: str, critical_bypass: bool, digest: int | None,
    telegram_chat: list[str], telegram_token: str | None,
) -> dict[str, object]:  # fmt: skip
    """``data`` with the delivery options given on the command line set."""
    out = dict(data)
    for key, value in (("severity", severity), ("dedup_seconds", dedup),
                       ("dedup_key", dedup_key), ("digest_minutes", digest)):  # fmt: skip
        if value is not None:
            out[key] = value
    if quiet_hours is not None:
        out["quiet_hours"] = _quiet_hours(quiet_hours, tz, critical_bypass)
    if telegram_chat:
        if not telegram_token:
            fail("--telegram-chat needs the bot token: --telegram-token or STATARB_TELEGRAM_TOKEN")
        chats = list(out.get("telegram") or [])  # type: ignore[call-overload]
        out["telegram"] = chats + [{"chat_id": c, "token": telegram_token} for c in telegram_chat]
    return out


def _other_store_note(store_url: str) -> None:
    """Say so when the offline demo's store exists beside the one this command used: the demo
    (``make run`` without Binance, ``statarb up --demo``) keeps its rules in its own store."""
    from statarb.cli.serve import DEMO_STORE
    from statarb.config import Settings

    demo = Settings(store_url=DEMO_STORE)
    if store_url == DEMO_STORE or demo.sqlite_path is None or not demo.sqlite_path.exists():
        return
    typer.echo(
        f"note: this used the store {store_url}; the offline demo (`make run` without Binance, "
        f"`statarb up --demo`) uses {DEMO_STORE}: add --store {DEMO_STORE} (or set "
        "STATARB_STORE_URL) to change the demo's rules",
        err=True,
    )


def _masked(row: dict[str, Any]) -> dict[str, Any]:
    """A stored rule with its Telegram bot tokens masked (chat ids stay: the store's reader
    holds them anyway)."""
    chats = row.get("telegram")
    if not isinstance(chats, list):
        return row
    return {**row, "telegram": [{**c, "token": "***"} if isinstance(c, dict) else c
                                for c in chats]}  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add the ``alerts`` command group."""
    group = typer.Typer(help="Alert rules: list, add, remove.", no_args_is_help=True)
    app.add_typer(group, name="alerts")

    @group.command("list")
    def list_rules(
        json_out: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
        store: Annotated[str | None, typer.Option(help="Store URL (default: settings).")] = None,
    ) -> None:
        """Show the stored rules."""
        import json

        from statarb.alerts.rules import parse_rule
        from statarb.errors import AlertRuleError

        cfg = settings(store_url=store)
        with store_from(cfg, read_only=True) as st:
            rows = st.list_alert_rules()
        _other_store_note(cfg.store_url)
        if json_out:
            typer.echo(json.dumps([_masked(r) for r in rows], indent=2))
            raise typer.Exit(EXIT_OK)
        if not rows:
            typer.echo("no alert rules")
        for data in rows:
            try:
                rule = parse_rule(data)
                state = "on " if rule.enabled else "off"
                extra = (
                    f"{rule.severity} cooldown={rule.cooldown_seconds:g}s "
                    f"webhooks={len(rule.webhooks)} telegram={len(rule.telegram)}"
                )
                if rule.quiet_hours is not None:
                    extra += f" quiet={rule.quiet_hours.summary().replace(' ', '/')}"
                if rule.digest_minutes:
                    extra += f" digest={rule.digest_minutes}m"
                if rule.dedup_seconds:
                    extra += f" dedup={rule.dedup_seconds:g}s"
                typer.echo(f"{rule.id:>4} {state} {rule.summary()} {extra}")
            except AlertRuleError as exc:
                typer.echo(f"{data.get('id'):>4} INVALID {exc}")

    @group.command("add")
    def add(
        rule_json: Annotated[
            str | None, typer.Argument(help="the rule as JSON, or @path/to/rule.json")
        ] = None,
        name: Annotated[str | None, typer.Option(help="rule name")] = None,
        metric: Annotated[str | None, typer.Option(help="price, zscore, correlation, ...")] = None,
        target: Annotated[str | None, typer.Option(help="BTCUSDT or BTCUSDT/ETHUSDT")] = None,
        timeframe: Annotated[str | None, typer.Option(help="bar timeframe, e.g. 1m")] = None,
        op: Annotated[str | None, typer.Option(help=">, >=, <, <=, crosses_above, ...")] = None,
        threshold: Annotated[float | None, typer.Option(help="level")] = None,
        hysteresis: Annotated[float, typer.Option(help="re-arm band")] = 0.0,
        cooldown: Annotated[float, typer.Option(help="seconds between triggers")] = 0.0,
        webhook: Annotated[
            list[str] | None, typer.Option(help="KIND=URL (slack, discord, custom); repeatable")
        ] = None,
        severity: Annotated[
            str | None, typer.Option(help="info, warning (default) or critical")
        ] = None,
        dedup: Annotated[
            float | None, typer.Option(help="seconds to group triggers of the same condition")
        ] = None,
        dedup_key: Annotated[
            str | None, typer.Option(help="dedup group (default: the condition sans targets)")
        ] = None,
        quiet_hours: Annotated[
            str | None, typer.Option(help="START-END, e.g. 22:00-07:00: notifications held")
        ] = None,
        tz: Annotated[str, typer.Option(help="time zone of --quiet-hours")] = "UTC",
        critical_bypass: Annotated[
            bool, typer.Option(help="critical rules are sent during quiet hours")
        ] = True,
        digest: Annotated[
            int | None, typer.Option(help="minutes: one message per N minutes")
        ] = None,
        telegram_chat: Annotated[
            list[str] | None, typer.Option(help="Telegram chat id to notify; repeatable")
        ] = None,
        telegram_token: Annotated[
            str | None,
            typer.Option(
                envvar="STATARB_TELEGRAM_TOKEN",
                show_default=False,
                help="bot token of --telegram-chat (prefer the environment variable)",
            ),
        ] = None,
        store: Annotated[str | None, typer.Option(help="Store URL (default: settings).")] = None,
    ) -> None:
        """Add a rule from JSON (e.g. '{"name": ..., "condition": {...}}') or from flags."""
        import json

        from statarb.alerts.rules import parse_rule
        from statarb.errors import AlertRuleError

        if rule_json is not None:
            text = rule_json
            if text.startswith("@"):
                try:
                    text = Path(text[1:]).read_text()
                except OSError as exc:
                    fail(f"cannot read {text[1:]}: {exc}")
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                fail(f"the rule is not valid JSON: {exc}")
        else:
            data = _rule_from_flags(name, metric, target, timeframe, op, threshold, hysteresis,
                                    cooldown, webhook or [])  # fmt: skip
        if not isinstance(data, dict):
            fail("the rule must be a JSON object")
        data = _policy_flags(data, severity=severity, dedup=dedup, dedup_key=dedup_key,
                             quiet_hours=quiet_hours, tz=tz, critical_bypass=critical_bypass,
                             digest=digest, telegram_chat=telegram_chat or [],
                             telegram_token=telegram_token)  # fmt: skip
        try:
            rule = parse_rule(data)
        except AlertRuleError as exc:
            fail(str(exc))
        cfg = settings(store_url=store)
        with store_from(cfg) as st:
            rid = st.save_alert_rule(rule.to_dict())
        typer.echo(f"added rule {rid}: {rule.summary()} ({RESTART_NOTE})")
        _other_store_note(cfg.store_url)

    @group.command("rm")
    def rm(
        rule_id: Annotated[int, typer.Argument(help="rule id (see alerts list)")],
        store: Annotated[str | None, typer.Option(help="Store URL (default: settings).")] = None,
    ) -> None:
        """Delete a rule (its history stays)."""
        with store_from(settings(store_url=store)) as st:
            if not st.delete_alert_rule(rule_id):
                fail(f"alert rule {rule_id} does not exist", 1)
        typer.echo(f"removed rule {rule_id} ({RESTART_NOTE})")
