"""The webhook endpoint: checks the secret, parses the body defensively, handles each update once.

Telegram sends an update again until it gets a 2xx answer, so a body that can never be an
update is answered 400 (no retry) and an update is answered only after it has been handled:
an answer means "done". A repeated `update_id` is acknowledged without being handled again.
Nothing of a body is ever written to the log: updates carry names, texts and phone numbers.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from services.updates import HandledUpdates

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Updates are a few kilobytes; aiohttp answers 413 to anything larger than this.
MAX_BODY_BYTES = 1 << 20
# Real updates nest about ten levels (a reply inside a message inside an update).
MAX_DEPTH = 64
# The claims table keeps it as a bigint.
MAX_UPDATE_ID = 2**63
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")


class BadUpdate(Exception):
    """The body is not an update; the message says why without quoting it."""


def _depth_exceeds(value: Any, limit: int) -> bool:
    # Iterative, so that the check itself cannot run out of stack.
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return False


def describe_validation_error(exc: ValidationError) -> str:
    """Where and what kind each error is, never the input (pydantic's `input_value=`)."""

    def place(loc: tuple[int | str, ...]) -> str:
        return ".".join(
            str(part) if isinstance(part, int) or _NAME.fullmatch(part) else "?" for part in loc
        )

    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    shown = ", ".join(f"{place(e['loc'])}: {e['type']}" for e in errors[:5])
    more = f" and {len(errors) - 5} more" if len(errors) > 5 else ""
    return f"{len(errors)} error(s): {shown}{more}"


def parse_update(body: bytes, bot: Bot) -> Update:
    """The update in `body`, or BadUpdate: empty, not UTF-8 JSON, too deep, not an Update."""
    if not body.strip():
        raise BadUpdate("empty body")
    try:
        data = json.loads(body.decode("utf-8"))
    except RecursionError:
        raise BadUpdate("JSON nested too deeply") from None
    except ValueError:  # UnicodeDecodeError and JSONDecodeError alike
        raise BadUpdate(f"not UTF-8 JSON ({len(body)} bytes)") from None
    if not isinstance(data, dict):
        raise BadUpdate(f"a JSON {type(data).__name__}, not an object")
    update_id = data.get("update_id")
    if type(update_id) is not int or not 0 <= update_id < MAX_UPDATE_ID:
        raise BadUpdate("no update_id that is a non-negative 64-bit integer")
    if _depth_exceeds(data, MAX_DEPTH):
        raise BadUpdate(f"update {update_id}: JSON nested too deeply")
    try:
        return Update.model_validate(data, context={"bot": bot})
    except ValidationError as exc:
        raise BadUpdate(
            f"update {update_id} is not an Update: {describe_validation_error(exc)}"
        ) from None
    except RecursionError:
        raise BadUpdate(f"update {update_id}: nested too deeply") from None


class WebhookHandler:
    """POST handler for the webhook path; `handled` shares claims between processes."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        *,
        secret: str,
        handled: HandledUpdates | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.bot = bot
        self.secret = secret.encode("utf-8")
        self.handled = handled

    def authorized(self, request: web.Request) -> bool:
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            return False
        # Compared as bytes: compare_digest refuses str that is not ASCII. aiohttp decodes
        # header bytes as UTF-8 with surrogateescape, so this gives back the bytes received.
        try:
            raw = given.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            return False
        return hmac.compare_digest(raw, self.secret)

    async def handle(self, request: web.Request) -> web.Response:
        if not self.authorized(request):
            log.warning("webhook: refused a request without the right secret token")
            return web.Response(status=401, text="unauthorized")
        body = await request.read()
        try:
            update = parse_update(body, self.bot)
        except BadUpdate as exc:
            log.warning("webhook: refused a body: %s", exc)
            return web.Response(status=400, text="not an update")
        if self.handled is not None:
            try:
                first = await self.handled.claim(update.update_id)
            except Exception as exc:
                # Telegram sends it again later, when the store may be back.
                log.warning(
                    "webhook: cannot record update %d as handled (%s); answered 503",
                    update.update_id,
                    type(exc).__name__,
                )
                return web.Response(status=503, text="try again")
            if not first:
                log.info("webhook: update %d was handled already", update.update_id)
                return web.json_response({})
        await self._feed(update)
        return web.json_response({})

    async def _feed(self, update: Update) -> None:
        # As in polling: a handler's failure is logged and the update is done with, since
        # sending it again would fail again.
        try:
            result = await self.dispatcher.feed_update(self.bot, update)
            if isinstance(result, TelegramMethod):
                await self.dispatcher.silent_call_request(self.bot, result)
        except ValidationError as exc:
            log.error("update %d failed: %s", update.update_id, describe_validation_error(exc))
        except Exception:
            log.exception("update %d failed", update.update_id)


def webhook_app(handler: WebhookHandler, path: str) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_post(path, handler.handle)
    return app
