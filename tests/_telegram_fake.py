"""A local fake of the Telegram Bot API ``sendMessage`` (aiohttp, in a thread, on a free port).

It answers as the real API does (``{"ok": true, "result": {...}}``, or ``{"ok": false,
"error_code": ..., "description": ...}``) and refuses any request whose shape the real one would
refuse or that statarb must not send: another method or path, a token of the wrong form, a body
that is not ``application/json``, unknown or missing fields, a text over 4096 characters or with
HTML that is not escaped. Refusals are kept in :attr:`FakeBotAPI.errors`.
"""

from __future__ import annotations

import asyncio
import html.parser
import json
import re
import threading
from collections import deque
from typing import Any

from aiohttp import web

from _ports import free_port

_PATH = re.compile(r"^/bot(?P<token>[0-9]{1,20}:[A-Za-z0-9_-]{20,100})/(?P<method>\w+)$")
_FIELDS = {"chat_id", "text", "parse_mode", "disable_web_page_preview"}
_TAGS = {"b", "i", "u", "s", "code", "pre", "a"}


class _Html(html.parser.HTMLParser):
    """Checks that a text parses as Telegram's HTML subset; collects the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.bad: list[str] = []
        self.visible: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _TAGS:
            self.bad.append(tag)

    def handle_data(self, data: str) -> None:
        self.visible.append(data)


class FakeBotAPI:
    """The fake server: ``replies`` (status, JSON) are used first, then ``200 ok``."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.replies: deque[tuple[int, dict[str, Any]]] = deque()
        self.received = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        if not self._started.wait(60):
            raise RuntimeError("the fake Bot API did not start")

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        self._loop.run_until_complete(site.start())
        self._started.set()
        self._loop.run_forever()

    def _refuse(self, why: str, code: int = 400) -> web.Response:
        self.errors.append(why)
        return web.json_response({"ok": False, "error_code": code,
                                  "description": f"Bad Request: {why}"}, status=code)  # fmt: skip

    async def _handle(self, request: web.Request) -> web.Response:
        m = _PATH.match(request.path)
        if request.method != "POST" or m is None or m["method"] != "sendMessage":
            return self._refuse(f"{request.method} {request.path}", 404)
        if request.content_type != "application/json":
            return self._refuse(f"content type {request.content_type}")
        try:
            doc = json.loads(await request.read())
        except ValueError:
            return self._refuse("body is not JSON")
        problem = self._check(doc)
        if problem:
            return self._refuse(problem)
        with self.received:
            self.requests.append({"token": m["token"], "json": doc,
                                  "headers": dict(request.headers)})  # fmt: skip
            self.received.notify_all()
        if self.replies:
            status, body = self.replies.popleft()
            return web.json_response(body, status=status)
        return web.json_response({"ok": True, "result": {"message_id": len(self.requests),
                                                         "chat": {"id": doc["chat_id"]},
                                                         "text": doc["text"]}})  # fmt: skip

    @staticmethod
    def _check(doc: Any) -> str | None:
        if not isinstance(doc, dict) or set(doc) - _FIELDS or not {"chat_id", "text"} <= set(doc):
            return f"fields {sorted(doc) if isinstance(doc, dict) else doc!r}"
        if not isinstance(doc["chat_id"], int | str) or isinstance(doc["chat_id"], bool):
            return "chat_id must be an integer or a string"
        if not isinstance(doc["text"], str) or not doc["text"].strip():
            return "message text is empty"
        if doc.get("parse_mode") not in (None, "HTML"):
            return f"parse_mode {doc.get('parse_mode')!r}"
        if not isinstance(doc.get("disable_web_page_preview", False), bool):
            return "disable_web_page_preview must be a boolean"
        parser = _Html()
        parser.feed(doc["text"])
        parser.close()
        if parser.bad:
            return f"can't parse entities: unsupported start tag {parser.bad[0]!r}"
        if len("".join(parser.visible)) > 4096:
            return "message is too long"
        return None

    def wait_for(self, n: int, timeout: float = 60) -> list[dict[str, Any]]:
        """The requests once ``n`` have arrived (raises after ``timeout`` seconds)."""
        with self.received:
            if not self.received.wait_for(lambda: len(self.requests) >= n, timeout):
                raise AssertionError(f"{len(self.requests)} requests, expected {n}: "
                                     f"{self.errors}")  # fmt: skip
            return list(self.requests)

    def close(self) -> None:
        """Stop the server and its thread."""

        async def stop() -> None:
            await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)
        self._loop.close()
