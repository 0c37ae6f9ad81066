"""``statarb alerts list|add|rm``: alert rules in the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

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
            typer.echo(json.dumps(rows, indent=2))
            raise typer.Exit(EXIT_OK)
        if not rows:
            typer.echo("no alert rules")
        for data in rows:
            try:
                rule = parse_rule(data)
                state = "on " if rule.enabled else "off"
                extra = f"cooldown={rule.cooldown_seconds:g}s webhooks={len(rule.webhooks)}"
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
