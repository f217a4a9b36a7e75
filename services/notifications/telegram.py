"""The Telegram transport: a composed message to a chat, Telegram's answers told apart.

Texts go as plain JSON over the bot's own HTTP session (the hot path of a quarter's end:
aiogram's request and response models cost more CPU than the rest of a message's way
together); documents go through aiogram. Every error becomes one of the transport's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import (
    AiogramError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from services.notifications.transport import (
    Blocked,
    Button,
    Composed,
    Rejected,
    RetryAfter,
    Transient,
)


class TelegramTransport:
    """Sends through `bot` (its API server, token and defaults: HTML, protected content)."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send_document(self, chat_id: int, message: Composed) -> None:
        assert message.document is not None
        name, content = message.document
        with _errors():
            await self.bot.send_document(
                chat_id,
                BufferedInputFile(content, filename=name),
                caption=message.text,
                reply_markup=_markup(message.buttons),
                request_timeout=30,
            )

    async def send_photo(self, chat_id: int, message: Composed) -> None:
        assert message.photo is not None
        with _errors():
            await self.bot.send_photo(
                chat_id,
                message.photo,
                caption=message.text,
                reply_markup=_markup(message.buttons),
                request_timeout=15,
            )

    async def send_text(self, chat_id: int, message: Composed) -> None:
        default = self.bot.default
        payload: dict[str, Any] = {
            "chat_id": chat_id,
            "text": message.text,
            "parse_mode": default.parse_mode,
            "protect_content": default.protect_content,
            "link_preview_options": {"is_disabled": bool(default.link_preview_is_disabled)},
        }
        if message.buttons:
            payload["reply_markup"] = {
                "inline_keyboard": [
                    [{"text": b.text, "callback_data": b.data} for b in row]
                    for row in message.buttons
                ]
            }
        if not isinstance(self.bot.session, AiohttpSession):
            with _errors():
                await self.bot.send_message(
                    chat_id,
                    message.text,
                    reply_markup=_markup(message.buttons),
                    request_timeout=15,
                )
            return
        session = await self.bot.session.create_session()
        url = self.bot.session.api.api_url(token=self.bot.token, method="sendMessage")
        try:
            async with session.post(
                url,
                json={k: v for k, v in payload.items() if v is not None},
                timeout=aiohttp.ClientTimeout(total=15),
            ) as response:
                status = response.status
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise Transient(type(exc).__name__ + ": " + str(exc)[:200]) from None
        if isinstance(body, dict) and body.get("ok"):
            return
        _raise_for(body, status)


def _markup(rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=b.text, callback_data=b.data) for b in row] for row in rows
        ]
    )


def _raise_for(body: object, status: int) -> None:
    """Telegram's error answer as the transport's error, told apart by error code as aiogram
    does it."""
    answer: dict[str, Any] = body if isinstance(body, dict) else {}
    code = _number(answer.get("error_code"), status)
    description = str(answer.get("description") or f"HTTP {status}")[:500]
    parameters = answer.get("parameters")
    retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
    if code == 429 or retry_after is not None:
        raise RetryAfter(_number(retry_after, 1))
    if code in {401, 403}:
        raise Blocked(description)
    if code in {400, 404}:
        raise Rejected(description)
    # 5xx, 409, 413, a chat moved to a supergroup, a code never seen before (420): not known
    # to be final, so the message is tried again and in the end parked as dead.
    raise Transient(f"{code}: {description}")


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    """aiogram's exceptions as the transport's."""
    try:
        yield
    except TelegramRetryAfter as exc:
        raise RetryAfter(exc.retry_after) from None
    except (TelegramForbiddenError, TelegramUnauthorizedError) as exc:
        raise Blocked(exc.message) from None
    except (TelegramBadRequest, TelegramNotFound) as exc:
        raise Rejected(exc.message) from None
    except (TelegramServerError, TelegramNetworkError, TimeoutError) as exc:
        raise Transient(type(exc).__name__ + ": " + str(exc)[:200]) from None
    except TelegramAPIError as exc:
        # 409, 413, a chat moved to a supergroup, a code never seen before (420).
        raise Transient(f"{type(exc).__name__}: {exc.message[:200]}") from None
    except AiogramError as exc:
        # An answer aiogram could not read.
        raise Transient(type(exc).__name__) from None


def _number(value: object, default: int) -> int:
    """An integer of Telegram's answer, or `default` when it is missing or not a number."""
    if isinstance(value, int | float | str):
        with contextlib.suppress(ValueError, OverflowError):
            return int(value)
    return default
