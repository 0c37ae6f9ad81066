"""Webhook delivery of alert triggers (the I/O edge of the alerts package).

Payloads
--------
- ``slack``: ``{"text": "<message>"}`` (Slack incoming webhook).
- ``discord``: ``{"content": "<message>"}`` (Discord webhook; cut to 2000 characters).
- ``custom``: the JSON document below, with header ``X-Statarb-Signature: sha256=<hex>`` holding
  the HMAC-SHA256 of the exact request body keyed with the webhook's ``secret`` (no header when
  the webhook has no secret)::

      {"type": "alert", "rule_id": 3, "rule_name": "wide spread",
       "time": "2024-08-08T12:00:00.000Z", "ts": 1723118400000000,
       "message": "...", "values": {"zscore:BTCUSDT/ETHUSDT:1m": 2.31}, "event_id": 17}

  A receiver verifies with ``hmac.compare_digest(sig, "sha256=" + hmac.new(secret, body,
  sha256).hexdigest())``.

Each delivery is tried ``retries`` times with exponential backoff (``backoff * 2**attempt``
seconds) on connection errors, timeouts, 429 and 5xx answers; other 4xx answers are final.
:meth:`Notifier.submit` runs deliveries in background tasks with bounded concurrency, so a slow or
dead endpoint never delays the caller.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from statarb.alerts.evaluator import Trigger
from statarb.alerts.rules import Webhook
from statarb.timeutil import us_to_iso

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Statarb-Signature"


@dataclass(frozen=True, slots=True)
class Delivery:
    """The outcome of delivering one trigger to one webhook."""

    kind: str
    url: str
    ok: bool
    attempts: int
    status: int | None
    error: str | None
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "kind": self.kind,
            "url": self.url,
            "ok": self.ok,
            "attempts": self.attempts,
            "status": self.status,
            "error": self.error,
            "seconds": round(self.seconds, 4),
        }


def sign(body: bytes, secret: str) -> str:
    """``sha256=<hex HMAC-SHA256 of body keyed with secret>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def build_request(
    webhook: Webhook, trigger: Trigger, *, event_id: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers sent to ``webhook`` for ``trigger`` (see the module docs)."""
    if webhook.kind == "slack":
        doc: dict[str, Any] = {"text": trigger.message}
    elif webhook.kind == "discord":
        doc = {"content": trigger.message[:2000]}
    else:
        doc = {
            "type": "alert",
            "rule_id": trigger.rule_id,
            "rule_name": trigger.rule_name,
            "time": us_to_iso(trigger.ts),
            "ts": trigger.ts,
            "message": trigger.message,
            "values": trigger.values,
            "event_id": event_id,
        }
    body = orjson.dumps(doc)
    headers = {"Content-Type": "application/json", "User-Agent": "statarb-alerts"}
    if webhook.kind == "custom" and webhook.secret:
        headers[SIGNATURE_HEADER] = sign(body, webhook.secret)
    return body, headers


DoneCallback = Callable[[int | None, list[Delivery]], None]


class Notifier:
    """Deliver triggers to webhooks in the background.

    Parameters
    ----------
    timeout
        Seconds per HTTP attempt (connect, read and write).
    retries
        Attempts per webhook.
    backoff
        First retry delay in seconds; doubles after each attempt.
    concurrency
        Deliveries in flight at once; more wait their turn.
    max_pending
        Deliveries queued before new ones are dropped (reported as not ok).
    client
        An ``httpx.AsyncClient`` to use (closed by the caller); by default one is created.
    """

    def __init__(
        self,
        *,
        timeout: float = 5.0,
        retries: int = 3,
        backoff: float = 0.5,
        concurrency: int = 16,
        max_pending: int = 1000,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        if timeout <= 0 or retries < 1 or backoff < 0 or concurrency < 1 or max_pending < 1:
            raise ValueError(
                "timeout and concurrency/max_pending must be positive, retries >= 1, backoff >= 0"
            )
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self.max_pending = max_pending
        self._sem = asyncio.Semaphore(concurrency)
        self._client = client
        self._own_client = client is None
        self._tasks: set[asyncio.Task[None]] = set()
        self.counts = {"sent": 0, "failed": 0, "dropped": 0, "retries": 0}

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(timeout=httpx.Timeout(self.timeout))
        return self._client

    async def deliver(
        self, webhook: Webhook, trigger: Trigger, *, event_id: int | None = None
    ) -> Delivery:
        """POST ``trigger`` to ``webhook`` with retries; never raises for HTTP failures."""
        import httpx

        body, headers = build_request(webhook, trigger, event_id=event_id)
        t0 = time.perf_counter()
        status: int | None = None
        error: str | None = None
        attempt = 0
        for attempt in range(1, self.retries + 1):
            try:
                resp = await self._http().post(
                    webhook.url, content=body, headers=headers, timeout=self.timeout
                )
                status, error = resp.status_code, None
                if resp.status_code < 300:
                    self.counts["sent"] += 1
                    return Delivery(webhook.kind, webhook.url, True, attempt, status, None,
                                    time.perf_counter() - t0)  # fmt: skip
                error = f"HTTP {resp.status_code}"
                if resp.status_code < 500 and resp.status_code != 429:
                    break
            except httpx.HTTPError as exc:
                status, error = None, f"{type(exc).__name__}: {exc}".rstrip(": ")
            if attempt < self.retries:
                self.counts["retries"] += 1
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
        self.counts["failed"] += 1
        log.warning("webhook %s %s failed after %d attempts: %s", webhook.kind, webhook.url,
                    attempt, error)  # fmt: skip
        return Delivery(webhook.kind, webhook.url, False, attempt, status, error,
                        time.perf_counter() - t0)  # fmt: skip

    def submit(
        self,
        trigger: Trigger,
        webhooks: Sequence[Webhook],
        *,
        event_id: int | None = None,
        done: DoneCallback | None = None,
    ) -> asyncio.Task[None] | None:
        """Deliver ``trigger`` to every webhook in a background task; ``done(event_id, results)``.

        Returns the task, or ``None`` when there was nothing to do or the queue was full.
        """
        if not webhooks:
            return None
        if len(self._tasks) >= self.max_pending:
            self.counts["dropped"] += len(webhooks)
            if done is not None:
                done(event_id, [Delivery(w.kind, w.url, False, 0, None, "dropped: too many "
                                         "deliveries pending", 0.0) for w in webhooks])  # fmt: skip
            return None
        task = asyncio.create_task(self._run(trigger, list(webhooks), event_id, done))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run(
        self,
        trigger: Trigger,
        webhooks: list[Webhook],
        event_id: int | None,
        done: DoneCallback | None,
    ) -> None:
        async with self._sem:
            results = await asyncio.gather(
                *(self.deliver(w, trigger, event_id=event_id) for w in webhooks)
            )
        if done is not None:
            try:
                done(event_id, list(results))
            except Exception:  # a failing status update must not kill delivery of others
                log.exception("recording delivery of alert event %s failed", event_id)

    @property
    def pending(self) -> int:
        """Deliveries in flight or waiting."""
        return len(self._tasks)

    async def drain(self, timeout: float | None = None) -> None:
        """Wait for the deliveries in flight (up to ``timeout`` seconds)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def aclose(self, timeout: float = 2.0) -> None:
        """Give pending deliveries ``timeout`` seconds, cancel the rest, close the client."""
        await self.drain(timeout)
        for t in list(self._tasks):
            t.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._own_client and self._client is not None:
            await self._client.aclose()
            self._client = None


__all__ = ["SIGNATURE_HEADER", "Delivery", "DoneCallback", "Notifier", "build_request", "sign"]
