"""A fake Telegram Bot API server for tests, benchmarks and the offline demo."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import re
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aiohttp import web

from bot.testing import updates
from bot.testing.wire import (
    Failure,
    Request,
    UploadedFile,
    error,
    failure_response,
    read_params,
)

__all__ = ["FakeBotAPI", "Request", "UploadedFile"]

_TOKEN_RE = re.compile(r"^\d+:[\w-]{20,}$")
_BOT_USER = {
    "id": 7000001,
    "is_bot": True,
    "first_name": "Школьный журнал",
    "username": "journal_demo_bot",
}


@dataclass
class _Chat:
    message_ids: Iterable[int] = field(default_factory=lambda: itertools.count(1))


class FakeBotAPI:
    """Records every request in arrival order and answers the way Telegram does.

    Failures can be injected per chat and method (429 with retry_after, 403, 400, 5xx);
    updates pushed with `push_update` are served to getUpdates long polling.
    """

    def __init__(
        self,
        *,
        tokens: set[str] | None = None,
        latency: float = 0.0,
        bot_user: dict[str, Any] | None = None,
    ) -> None:
        self.tokens = tokens
        self.latency = latency
        self.bot_user = dict(bot_user or _BOT_USER)
        self.requests: list[Request] = []
        self._failures: list[Failure] = []
        self._chats: dict[int, _Chat] = {}
        self._updates: deque[dict[str, Any]] = deque()
        self._update_ids = itertools.count(1)
        self._arrived = asyncio.Condition()
        self._update_pushed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.port = 0
        self.host = "127.0.0.1"
        self.webhook: dict[str, Any] | None = None

    # --- life cycle ----------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/file/bot{token}/{path:.*}", self._file)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.host = host
        self.port = sockets[0].getsockname()[1] if sockets else port

    async def stop(self) -> None:
        self._closing = True
        self._update_pushed.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotAPI:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # --- what tests read -----------------------------------------------------------------

    def of(self, method: str) -> list[Request]:
        return [r for r in self.requests if r.method == method]

    def sent_messages(self, chat_id: int | None = None) -> list[Request]:
        """Successful sendMessage requests, optionally to one chat."""
        return [
            r
            for r in self.requests
            if r.method == "sendMessage"
            and r.failed_with is None
            and (chat_id is None or r.params.get("chat_id") == chat_id)
        ]

    def clear(self) -> None:
        self.requests.clear()

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline for tests, not a cancel scope
    ) -> list[Request]:
        """Wait until `count` requests of `method` have arrived; TimeoutError otherwise."""

        def enough() -> bool:
            return len(self.of(method)) >= count

        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(enough), timeout)
        return self.of(method)

    # --- what tests set up ---------------------------------------------------------------

    def fail(
        self,
        chat_id: int | None = None,
        method: str | None = None,
        *,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        times: int | None = 1,
    ) -> None:
        self._failures.append(Failure(chat_id, method, status, description, retry_after, times))

    def clear_failures(self) -> None:
        self._failures.clear()

    def push_update(self, update: dict[str, Any]) -> int:
        update = dict(update)
        update.setdefault("update_id", next(self._update_ids))
        self._updates.append(update)
        self._update_pushed.set()
        return int(update["update_id"])

    def push_message(
        self,
        user_id: int,
        text: str,
        *,
        chat_type: str = "private",
        language_code: str = "ru",
        first_name: str = "Test",
    ) -> int:
        private = chat_type == "private"
        chat = updates.chat(
            user_id if private else -1000000000000 - user_id,
            chat_type=chat_type,
            name=first_name if private else "Group",
        )
        message = updates.message(
            next(self._chat(int(chat["id"])).message_ids),  # type: ignore[call-overload]
            chat=chat,
            sender=updates.user(user_id, first_name=first_name, language_code=language_code),
            text=text,
        )
        if entities := updates.command_entities(text):
            message["entities"] = entities
        return self.push_update({"message": message})

    def push_callback(self, user_id: int, data: str, *, message_id: int = 1) -> int:
        message = updates.message(
            message_id,
            chat=updates.chat(user_id, name="Test"),
            sender=self.bot_user,
            text="…",
        )
        query = updates.callback_query(
            str(next(self._update_ids)),
            sender=updates.user(user_id, first_name="Test", language_code="ru"),
            data=data,
            message=message,
            chat_instance="1",
        )
        return self.push_update({"callback_query": query})

    # --- the server ----------------------------------------------------------------------

    def _chat(self, chat_id: int) -> _Chat:
        return self._chats.setdefault(chat_id, _Chat())

    def _take_failure(self, method: str, chat_id: int | None) -> Failure | None:
        for failure in self._failures:
            if failure.method not in (None, method):
                continue
            if failure.chat_id is not None and failure.chat_id != chat_id:
                continue
            if failure.times is not None:
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
            return failure
        return None

    async def _record(self, entry: Request) -> None:
        async with self._arrived:
            self.requests.append(entry)
            self._arrived.notify_all()

    async def _handle(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        method = request.match_info["method"]
        params = await read_params(request)
        if self.latency:
            await asyncio.sleep(self.latency)
        valid = token in self.tokens if self.tokens is not None else bool(_TOKEN_RE.match(token))
        if not valid:
            await self._record(Request(method, token, params, time.time(), 401))
            return error(401, "Unauthorized")
        chat_id = params.get("chat_id")
        failure = self._take_failure(method, chat_id if isinstance(chat_id, int) else None)
        if failure is not None:
            await self._record(Request(method, token, params, time.time(), failure.status))
            return failure_response(failure)
        handler = getattr(self, f"_m_{method.lower()}", None)
        if handler is None:
            await self._record(Request(method, token, params, time.time(), 404))
            return error(404, "Not Found: method not found")
        # Recorded before answering, so a long poll in getUpdates does not hide it.
        entry = Request(method, token, params, time.time())
        await self._record(entry)
        result = await handler(params)
        entry.answer.append(result)
        return web.json_response({"ok": True, "result": result})

    async def _file(self, request: web.Request) -> web.Response:
        return error(404, "Not Found")

    # --- methods -------------------------------------------------------------------------

    def _message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = params.get("chat_id", 0)
        numeric = chat_id if isinstance(chat_id, int) else 0
        chat: dict[str, Any] = {"id": numeric, "type": "private" if numeric > 0 else "group"}
        if numeric <= 0:
            chat["title"] = "Group"
        message: dict[str, Any] = {
            "message_id": next(self._chat(numeric).message_ids),  # type: ignore[call-overload]
            "date": int(time.time()),
            "chat": chat,
            "from": self.bot_user,
            **content,
        }
        if (
            isinstance(params.get("reply_markup"), dict)
            and "inline_keyboard" in params["reply_markup"]
        ):
            message["reply_markup"] = params["reply_markup"]
        return message

    async def _m_getme(self, params: dict[str, Any]) -> Any:
        return {
            **self.bot_user,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _m_sendmessage(self, params: dict[str, Any]) -> Any:
        content: dict[str, Any] = {"text": str(params.get("text", ""))}
        if params.get("entities"):
            content["entities"] = params["entities"]
        return self._message(params, **content)

    async def _m_sendphoto(self, params: dict[str, Any]) -> Any:
        size = {
            "file_id": f"photo-{len(self.requests)}",
            "file_unique_id": "p",
            "width": 800,
            "height": 600,
            "file_size": 1,
        }
        photo = params.get("photo")
        if isinstance(photo, UploadedFile):
            size["file_size"] = len(photo.data)
        content: dict[str, Any] = {"photo": [size]}
        if params.get("caption"):
            content["caption"] = str(params["caption"])
        return self._message(params, **content)

    async def _m_senddocument(self, params: dict[str, Any]) -> Any:
        document = params.get("document")
        doc: dict[str, Any] = {"file_id": f"doc-{len(self.requests)}", "file_unique_id": "d"}
        if isinstance(document, UploadedFile):
            doc.update(file_name=document.filename, file_size=len(document.data))
            if document.content_type:
                doc["mime_type"] = document.content_type
        content: dict[str, Any] = {"document": doc}
        if params.get("caption"):
            content["caption"] = str(params["caption"])
        return self._message(params, **content)

    async def _m_editmessagetext(self, params: dict[str, Any]) -> Any:
        if "inline_message_id" in params:
            return True
        message = self._message(params, text=str(params.get("text", "")))
        message["message_id"] = params.get("message_id", message["message_id"])
        message["edit_date"] = int(time.time())
        return message

    async def _m_editmessagereplymarkup(self, params: dict[str, Any]) -> Any:
        if "inline_message_id" in params:
            return True
        message = self._message(params, text="…")
        message["message_id"] = params.get("message_id", message["message_id"])
        message["edit_date"] = int(time.time())
        return message

    async def _true(self, params: dict[str, Any]) -> Any:
        return True

    _m_answercallbackquery = _true
    _m_setmycommands = _true
    _m_deletemycommands = _true
    _m_sendchataction = _true
    _m_deletemessage = _true
    _m_close = _true
    _m_logout = _true

    async def _m_setwebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = params
        return True

    async def _m_deletewebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = None
        return True

    async def _m_getwebhookinfo(self, params: dict[str, Any]) -> Any:
        return {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _m_getchat(self, params: dict[str, Any]) -> Any:
        chat_id = params.get("chat_id", 0)
        return {
            "id": chat_id,
            "type": "private",
            "first_name": "Test",
            "accent_color_id": 0,
            "max_reaction_count": 11,
        }

    async def _m_getupdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        # An offset confirms every update before it, as Telegram does.
        while self._updates and self._updates[0]["update_id"] < offset:
            self._updates.popleft()
        deadline = time.monotonic() + timeout
        while not self._updates and not self._closing:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._update_pushed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._update_pushed.wait(), remaining)
        return list(itertools.islice(self._updates, limit))


async def _serve(port: int) -> None:
    api = FakeBotAPI()
    await api.start(port=port)
    print(f"fake Bot API at {api.url} (TELEGRAM_API_URL={api.url}); Ctrl-C to stop", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await api.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="A fake Telegram Bot API server.")
    parser.add_argument("--port", type=int, default=8081)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(parser.parse_args().port))
