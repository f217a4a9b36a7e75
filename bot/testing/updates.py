"""The pieces of a Telegram update as the Bot API sends them: users, chats, messages, presses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def user(user_id: int, *, first_name: str, language_code: str) -> dict[str, Any]:
    return {
        "id": user_id,
        "is_bot": False,
        "first_name": first_name,
        "language_code": language_code,
    }


def chat(chat_id: int, *, chat_type: str = "private", name: str) -> dict[str, Any]:
    """A private chat carries the person's first name, a group its title."""
    value: dict[str, Any] = {"id": chat_id, "type": chat_type}
    if chat_type == "private":
        value["first_name"] = name
    else:
        value["title"] = name
    return value


def command_entities(text: str) -> list[dict[str, Any]]:
    """The bot_command entity Telegram marks a leading /command with; none for plain text."""
    if not text.startswith("/"):
        return []
    return [{"type": "bot_command", "offset": 0, "length": len(text.split(maxsplit=1)[0])}]


def message(
    message_id: int, *, chat: dict[str, Any], sender: dict[str, Any], **content: Any
) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "date": int(datetime.now(UTC).timestamp()),
        "chat": chat,
        "from": sender,
        **content,
    }


def callback_query(
    query_id: str,
    *,
    sender: dict[str, Any],
    data: str,
    message: dict[str, Any],
    chat_instance: str,
) -> dict[str, Any]:
    return {
        "id": query_id,
        "from": sender,
        "chat_instance": chat_instance,
        "data": data,
        "message": message,
    }
