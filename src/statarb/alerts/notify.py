"""Webhook delivery of alert triggers (the I/O edge of the alerts package).

Payloads are built by :mod:`statarb.alerts.payload` (re-exported here).

Delivery
--------
Targets are checked by :mod:`statarb.alerts._target` (public addresses only unless allowed;
the connection goes to the address checked). Redirects are not followed. Each delivery is tried
``retries`` times with exponential backoff (``backoff * 2**attempt`` seconds) on connection
errors, timeouts, 429 and 5xx answers; a 429 with ``Retry-After`` waits that long instead (at
most :data:`MAX_RETRY_AFTER_S`, and never past the deadline); other answers are final. Each
attempt has ``timeout`` seconds in all and each delivery ``deadline`` seconds in all, however
slowly the receiver drips its answer; the response body is never read. Errors shown in the alert
history are generic (no addresses, ports or exception text), and webhook URLs are masked in
results and logs. :meth:`Notifier.submit` runs deliveries in background tasks with bounded
concurrency, so a slow or dead endpoint never delays the caller.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from statarb.alerts._target import (
    IPNetwork,
    TargetRefusedError,
    parse_networks,
    resolve_target,
)
from statarb.alerts.evaluator import Trigger
from statarb.alerts.message import Message
from statarb.alerts.payload import (
    SIGNATURE_HEADER,
    SIGNATURE_TOLERANCE_S,
    TIMESTAMP_HEADER,
    build_message_request,
    build_request,
    sign,
    slack_escape,
    verify,
)
from statarb.alerts.rules import Webhook
from statarb.alerts.telegram import (
    TELEGRAM_API,
    TelegramChat,
    telegram_request,
    telegram_retry_after,
    telegram_text,
)
from statarb.masking import mask_bot_token, mask_webhook_url

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

#: longest ``Retry-After`` honoured, seconds (a longer one fails the delivery)
MAX_RETRY_AFTER_S = 60.0


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


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds asked by a ``Retry-After`` header (delta seconds or HTTP date), else ``None``."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime

    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


#: bytes of an error answer read (a Bot API 429 carries ``parameters.retry_after``)
_MAX_ANSWER = 16 * 1024


async def _head(resp: httpx.Response, read_on: int | None) -> bytes:
    """Close ``resp``; read at most :data:`_MAX_ANSWER` bytes of it first if its status is
    ``read_on`` (other bodies are never read: no size to cap)."""
    out = b""
    try:
        if resp.status_code == read_on:
            async for chunk in resp.aiter_raw():
                out += chunk
                if len(out) >= _MAX_ANSWER:
                    break
    finally:
        await resp.aclose()
    return out[:_MAX_ANSWER]


class _RedactUrls(logging.Filter):
    """Mask the URL httpx logs for each request (webhook paths and bot tokens are secrets)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 2:
            args = list(record.args)
            args[1] = mask_bot_token(mask_webhook_url(str(args[1])))
            record.args = tuple(args)
        elif isinstance(record.msg, str):
            record.msg = mask_bot_token(record.msg)
        return True


def _redact_httpx_logs() -> None:
    lg = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactUrls) for f in lg.filters):
        lg.addFilter(_RedactUrls())


class _FinalError(Exception):
    """A delivery outcome that retrying cannot change."""


DoneCallback = Callable[[int | None, list[Delivery]], None]
#: where a notification goes: a webhook or a Telegram chat
Channel = Webhook | TelegramChat


def _kind(channel: Channel) -> str:
    return "telegram" if isinstance(channel, TelegramChat) else channel.kind


def _shown(channel: Channel) -> str:
    return "telegram" if isinstance(channel, TelegramChat) else mask_webhook_url(channel.url)


class Notifier:
    """Deliver triggers to webhooks in the background.

    Parameters
    ----------
    timeout
        Seconds per HTTP attempt in all (connect, send, answer headers).
    deadline
        Seconds per delivery in all, retries and waits included.
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
    allow
        Networks (CIDR strings) webhooks may reach although not public, e.g. ``10.0.0.0/8``.
    telegram_api
        Base URL of the Telegram Bot API; any other than the official one passes the same
        address checks as webhooks.
    """

    def __init__(
        self,
        *,
        timeout: float = 5.0,
        deadline: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
        concurrency: int = 16,
        max_pending: int = 1000,
        client: httpx.AsyncClient | None = None,
        allow: Sequence[str] = (),
        telegram_api: str = TELEGRAM_API,
    ) -> None:
        if (
            timeout <= 0
            or deadline <= 0
            or retries < 1
            or backoff < 0
            or concurrency < 1
            or max_pending < 1
        ):
            raise ValueError(
                "timeout and concurrency/max_pending must be positive, retries >= 1, backoff >= 0"
            )
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self.deadline = deadline
        self.allow: tuple[IPNetwork, ...] = parse_networks(allow)
        self.max_pending = max_pending
        self._sem = asyncio.Semaphore(concurrency)
        self._client = client
        self._own_client = client is None
        self._tasks: set[asyncio.Task[None]] = set()
        self.counts = {"sent": 0, "failed": 0, "dropped": 0, "retries": 0}
        self.telegram_api = telegram_api.rstrip("/")
        _redact_httpx_logs()

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout), follow_redirects=False, trust_env=False
            )
        return self._client

    async def deliver(
        self, webhook: Webhook, trigger: Trigger, *, event_id: int | None = None
    ) -> Delivery:
        """POST ``trigger`` to ``webhook`` with retries; never raises for HTTP failures."""
        return await self._post(
            webhook.kind, webhook.url, lambda: build_request(webhook, trigger, event_id=event_id)
        )

    async def deliver_message(self, channel: Channel, message: Message) -> Delivery:
        """Send a rendered notification to a webhook or a Telegram chat (with retries)."""
        if isinstance(channel, TelegramChat):
            return await self.deliver_telegram(channel, message)
        return await self._post(
            channel.kind, channel.url, lambda: build_message_request(channel, message)
        )

    async def deliver_telegram(self, chat: TelegramChat, message: Message) -> Delivery:
        """``sendMessage`` to ``chat`` through :attr:`telegram_api` (see :mod:`.telegram`)."""
        text = telegram_text(message.title, message.body)
        url, body, headers = telegram_request(chat, text, base=self.telegram_api)
        official = self.telegram_api.rstrip("/") == TELEGRAM_API
        return await self._post("telegram", url, lambda: (body, dict(headers)),
                                guard=not official, telegram=True)  # fmt: skip

    async def _post(
        self,
        kind: str,
        url: str,
        make: Callable[[], tuple[bytes, dict[str, str]]],
        *,
        guard: bool = True,
        telegram: bool = False,
    ) -> Delivery:
        t0 = time.perf_counter()
        shown = mask_bot_token(mask_webhook_url(url))
        state: dict[str, Any] = {"attempts": 0, "status": None, "error": None}
        try:
            async with asyncio.timeout(self.deadline):
                await self._attempts(url, make, state, guard=guard, telegram=telegram)
        except TimeoutError:
            state["error"] = "deadline exceeded"
        except _FinalError:
            pass
        ok = state["error"] is None
        self.counts["sent" if ok else "failed"] += 1
        if not ok:
            log.warning("webhook %s %s failed after %d attempts: %s", kind, shown,
                        state["attempts"], state["error"])  # fmt: skip
        return Delivery(kind, shown, ok, state["attempts"], state["status"],
                        state["error"], time.perf_counter() - t0)  # fmt: skip

    async def _attempts(
        self,
        url: str,
        make: Callable[[], tuple[bytes, dict[str, str]]],
        state: dict[str, Any],
        *,
        guard: bool,
        telegram: bool,
    ) -> None:
        import httpx

        if guard:
            try:
                target = await resolve_target(url, self.allow)
            except TargetRefusedError as exc:
                state["error"] = f"refused: {exc}"
                raise _FinalError from None
            send_url, host = target.pinned_url, target.host
        else:
            send_url, host = url, ""
        for attempt in range(1, self.retries + 1):
            state["attempts"] = attempt
            body, headers = make()
            ext: dict[str, Any] = {}
            if guard:
                headers["Host"] = target.host_header
                ext["sni_hostname"] = host
            wait = self.backoff * 2 ** (attempt - 1)
            try:
                async with asyncio.timeout(self.timeout):
                    req = self._http().build_request(
                        "POST", send_url, content=body, headers=headers, extensions=ext
                    )
                    resp = await self._http().send(req, stream=True)
                    answer = await _head(resp, 429 if telegram else None)
                code = resp.status_code
                state["status"], state["error"] = code, None
                if code < 300:
                    return
                state["error"] = f"HTTP {code}"
                if code == 429:
                    asked = retry_after(resp.headers.get("retry-after"), time.time())
                    if telegram and answer:
                        asked = telegram_retry_after(answer) or asked
                    if asked is not None:
                        if asked > MAX_RETRY_AFTER_S:
                            state["error"] = f"HTTP 429: Retry-After {asked:.0f} s is too long"
                            raise _FinalError
                        wait = max(wait, asked)
                elif code < 500:
                    raise _FinalError
            except (httpx.TimeoutException, TimeoutError):
                state["status"], state["error"] = None, "timed out"
            except httpx.HTTPError:
                state["status"], state["error"] = None, "connection failed"
            if attempt < self.retries:
                self.counts["retries"] += 1
                await asyncio.sleep(wait)

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
                done(event_id, [Delivery(w.kind, mask_webhook_url(w.url), False, 0, None,
                                         "dropped: too many "
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

    def submit_message(
        self, channel: Channel, message: Message, done: Callable[[Delivery], None]
    ) -> asyncio.Task[None] | None:
        """Send ``message`` to ``channel`` in a background task; ``done(result)`` after.

        Returns the task, or ``None`` when the queue was full (``done`` got a failed result).
        """
        if len(self._tasks) >= self.max_pending:
            self.counts["dropped"] += 1
            done(Delivery(_kind(channel), _shown(channel), False, 0, None,
                          "dropped: too many deliveries pending", 0.0))  # fmt: skip
            return None
        task = asyncio.create_task(self._run_message(channel, message, done))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run_message(
        self, channel: Channel, message: Message, done: Callable[[Delivery], None]
    ) -> None:
        async with self._sem:
            result = await self.deliver_message(channel, message)
        try:
            done(result)
        except Exception:  # a failing status update must not kill delivery of others
            log.exception("recording a delivery to %s failed", result.url)

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


__all__ = [
    "MAX_RETRY_AFTER_S",
    "SIGNATURE_HEADER",
    "SIGNATURE_TOLERANCE_S",
    "TIMESTAMP_HEADER",
    "Channel",
    "Delivery",
    "DoneCallback",
    "Notifier",
    "build_message_request",
    "build_request",
    "retry_after",
    "sign",
    "slack_escape",
    "verify",
]
