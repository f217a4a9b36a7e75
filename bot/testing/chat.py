"""Drive whole conversations through the real dispatcher and read what the bot sent: the
tests' chats and the demo's offline chat feed their updates the same way."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update

from bot.testing import updates
from bot.testing.fake_api import FakeBotAPI, Request

_update_ids = itertools.count(1)
_message_ids = itertools.count(1000)


@dataclass
class Reply:
    method: str
    params: dict[str, Any]

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))

    @property
    def buttons(self) -> list[list[dict[str, Any]]]:
        markup = self.params.get("reply_markup") or {}
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        return [[b if isinstance(b, dict) else {"text": b} for b in row] for row in rows]

    def button_texts(self) -> list[str]:
        return [b["text"] for row in self.buttons for b in row]

    def callback(self, text_part: str) -> str:
        for row in self.buttons:
            for button in row:
                if text_part in button["text"] and "callback_data" in button:
                    return str(button["callback_data"])
        raise AssertionError(f"no button {text_part!r} in {self.button_texts()}")


@dataclass
class Chat:
    """One Telegram user in a private chat (or a group) with the bot."""

    dispatcher: Dispatcher
    bot: Bot
    api: FakeBotAPI
    user_id: int
    language_code: str = "ru"
    chat_type: str = "private"
    chat_id: int | None = None
    first_name: str = "Тест"
    chat_instance: str = "ci"
    # Who sent the message whose button is pressed: the bot.
    bot_user: dict[str, Any] = field(
        default_factory=lambda: {"id": 1, "is_bot": True, "first_name": "Journal"}
    )
    seen: int = field(default=0)

    def _user(self) -> dict[str, Any]:
        return updates.user(
            self.user_id, first_name=self.first_name, language_code=self.language_code
        )

    def _chat(self) -> dict[str, Any]:
        chat_id = self.chat_id if self.chat_id is not None else self.user_id
        private = self.chat_type == "private"
        name = self.first_name if private else "Родители 7Б"
        return updates.chat(chat_id, chat_type=self.chat_type, name=name)

    async def _feed(self, payload: dict[str, Any]) -> list[Reply]:
        self.seen = len(self.api.requests)
        update = Update.model_validate(
            {"update_id": next(_update_ids), **payload}, context={"bot": self.bot}
        )
        await self.dispatcher.feed_update(self.bot, update)
        return self.replies()

    def replies(self) -> list[Reply]:
        """What the bot sent since the last update, answerCallbackQuery included."""
        new: list[Request] = self.api.requests[self.seen :]
        return [Reply(r.method, r.params) for r in new]

    def _message(self, **content: Any) -> dict[str, Any]:
        return updates.message(
            next(_message_ids), chat=self._chat(), sender=self._user(), **content
        )

    async def send(self, text: str) -> list[Reply]:
        entities = updates.command_entities(text)
        return await self._feed({"message": self._message(text=text, entities=entities)})

    async def send_contact(self, phone: str, *, user_id: int | None = None) -> list[Reply]:
        contact = {
            "phone_number": phone,
            "first_name": self.first_name,
            "user_id": self.user_id if user_id is None else user_id,
        }
        return await self._feed({"message": self._message(contact=contact)})

    async def send_photo(self, file_id: str, caption: str | None = None) -> list[Reply]:
        """A photo already on the messenger's servers (its sizes share the file id's stem)."""
        sizes = [
            {"file_id": f"{file_id}-small", "file_unique_id": "s", "width": 90, "height": 90},
            {"file_id": file_id, "file_unique_id": "l", "width": 1280, "height": 960},
        ]
        content: dict[str, Any] = {"photo": sizes}
        if caption is not None:
            content["caption"] = caption
        return await self._feed({"message": self._message(**content)})

    async def send_sticker(self) -> list[Reply]:
        sticker = {
            "file_id": "CAACAgIAAxk",
            "file_unique_id": "AgAD",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return await self._feed({"message": self._message(sticker=sticker)})

    async def press(self, data: str, *, message_id: int = 1) -> list[Reply]:
        message = updates.message(message_id, chat=self._chat(), sender=self.bot_user, text="…")
        query = updates.callback_query(
            str(next(_update_ids)),
            sender=self._user(),
            data=data,
            message=message,
            chat_instance=self.chat_instance,
        )
        return await self._feed({"callback_query": query})


def texts(replies: list[Reply]) -> list[str]:
    """The texts of the messages (and edits) among the replies."""
    return [r.text for r in replies if r.method in {"sendMessage", "editMessageText"}]


def joined(replies: list[Reply]) -> str:
    return "\n".join(texts(replies))
