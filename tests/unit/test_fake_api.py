"""aiogram's Bot talks to the fake Bot API over real HTTP, failures included."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from bot.app import create_bot
from bot.settings import Settings
from bot.testing.fake_api import FakeBotAPI, UploadedFile
from tests.fixtures.bot import TEST_TOKEN


async def test_requests_are_recorded_in_order_with_decoded_params(
    bot: Bot, fake_api: FakeBotAPI
) -> None:
    me = await bot.get_me()
    assert me.username == "journal_demo_bot"
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Оценки", callback_data="marks:1")]]
    )
    sent = await bot.send_message(42, "<b>Привет</b>", reply_markup=markup, protect_content=True)
    assert sent.chat.id == 42 and sent.text == "<b>Привет</b>"
    edited = await bot.edit_message_text("Изменено", chat_id=42, message_id=sent.message_id)
    assert not isinstance(edited, bool) and edited.text == "Изменено"
    photo = await bot.send_photo(42, BufferedInputFile(b"\x89PNG...", filename="chart.png"))
    assert photo.photo is not None
    assert await bot.answer_callback_query("q1", text="ok") is True
    methods = [r.method for r in fake_api.requests]
    assert methods == [
        "getMe",
        "sendMessage",
        "editMessageText",
        "sendPhoto",
        "answerCallbackQuery",
    ]
    message = fake_api.requests[1].params
    assert message["chat_id"] == 42
    assert message["parse_mode"] == "HTML" and message["protect_content"] is True
    assert message["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "marks:1"
    upload = fake_api.requests[3].params["photo"]
    assert isinstance(upload, UploadedFile) and upload.data == b"\x89PNG..."


async def test_injected_failures_surface_as_aiogram_errors(bot: Bot, fake_api: FakeBotAPI) -> None:
    fake_api.fail(chat_id=1, status=429, retry_after=7)
    with pytest.raises(TelegramRetryAfter) as retry:
        await bot.send_message(1, "x")
    assert retry.value.retry_after == 7
    fake_api.fail(chat_id=2, status=403)
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(2, "x")
    fake_api.fail(chat_id=3, method="sendMessage", status=400)
    with pytest.raises(TelegramBadRequest):
        await bot.send_message(3, "x")
    fake_api.fail(chat_id=4, status=502)
    with pytest.raises(TelegramServerError):
        await bot.send_message(4, "x")
    # One failure each: the next request to the same chat goes through.
    assert (await bot.send_message(1, "again")).text == "again"
    assert [r.failed_with for r in fake_api.requests] == [429, 403, 400, 502, None]
    assert [r.params["chat_id"] for r in fake_api.sent_messages()] == [1]


async def test_unknown_token_is_unauthorized() -> None:
    async with FakeBotAPI(tokens={TEST_TOKEN}) as api:
        stranger = create_bot(Settings(telegram_api_url=api.url), "42:not-the-token-aaaaaaaaaaaaa")
        try:
            with pytest.raises(TelegramUnauthorizedError):
                await stranger.get_me()
        finally:
            await stranger.session.close()


async def test_long_polling_returns_pushed_updates_and_honours_offset(
    bot: Bot, fake_api: FakeBotAPI
) -> None:
    waiting = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.05)
    first = fake_api.push_message(7, "/start")
    updates = await asyncio.wait_for(waiting, 10)
    assert [u.update_id for u in updates] == [first]
    assert updates[0].message is not None and updates[0].message.text == "/start"
    second = fake_api.push_callback(7, "child:3")
    updates = await bot.get_updates(offset=first + 1, timeout=0)
    assert [u.update_id for u in updates] == [second]
    assert updates[0].callback_query is not None
    assert await bot.get_updates(offset=second + 1, timeout=0) == []


async def test_wait_for_times_out(fake_api: FakeBotAPI) -> None:
    with pytest.raises(TimeoutError):
        await fake_api.wait_for("sendMessage", timeout=0.2)
