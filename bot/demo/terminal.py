"""What the bot sent, as the demo's offline chat shows it in a terminal: formatting as ANSI,
inline buttons numbered, reply keyboards listed, files saved, edits as edits."""

from __future__ import annotations

import asyncio
import html
import itertools
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from bot.testing.fake_api import FakeBotAPI, Request, UploadedFile

_TAG = re.compile(r"</?(b|strong|i|em|u|s|code|pre|a|tg-spoiler|blockquote)(\s[^>]*)?>")


def terminal_text(value: str, color: bool) -> str:
    """Telegram's HTML for a terminal: bold and italics as ANSI when colour is on."""
    if color:
        value = re.sub(r"<(b|strong)>", "\033[1m", value)
        value = re.sub(r"</(b|strong)>", "\033[22m", value)
        value = re.sub(r"<(i|em)>", "\033[3m", value)
        value = re.sub(r"</(i|em)>", "\033[23m", value)
    return html.unescape(_TAG.sub("", value))


@dataclass
class Button:
    text: str
    data: str
    message_id: int


@dataclass
class _Screen:
    """The buttons the person can press now: the latest inline keyboard of the chat."""

    buttons: list[Button] = field(default_factory=list)


class Transcript:
    """Hands the Bot API's requests to the chats they were sent to and prints them."""

    def __init__(
        self, api: FakeBotAPI, *, current: int, out: TextIO, color: bool, files_dir: Path
    ) -> None:
        self.api = api
        # The account of the person at the keyboard: answers to presses are theirs.
        self.current = current
        self.out = out
        self.color = color
        self.files_dir = files_dir
        self._cursor = 0  # requests of the Bot API handed out to chats so far
        self._pending: dict[int, list[Request]] = defaultdict(list)
        self._screens: dict[int, _Screen] = defaultdict(_Screen)
        self._files = itertools.count(1)

    def say(self, line: str = "") -> None:
        self.out.write(line + "\n")
        self.out.flush()

    def buttons(self, account: int) -> list[Button]:
        return self._screens[account].buttons

    def has_pending(self, account: int) -> bool:
        return bool(self._pending.get(account))

    def pending(self, account: int) -> int:
        """How many requests wait to be shown to the account."""
        return len(self._pending.get(account, ()))

    def collect(self) -> None:
        """Hand the Bot API's new requests to the chats they were sent to."""
        new = self.api.requests[self._cursor :]
        self._cursor += len(new)
        for request in new:
            chat = request.params.get("chat_id")
            if isinstance(chat, int):
                self._pending[chat].append(request)
            elif request.method == "answerCallbackQuery":
                self._pending[self.current].append(request)

    async def settle(self, account: int, quiet: float = 0.4, *, wait: float = 0.0) -> None:
        """Let the bot finish: until nothing new has arrived for `quiet` seconds, and at
        least one message to the account when `wait` is set (at most `wait` seconds)."""
        loop = asyncio.get_running_loop()
        started = idle_since = loop.time()
        before = len(self._pending[account])
        last = len(self.api.requests)
        while loop.time() - started < wait + quiet + 10:
            await asyncio.sleep(0.05)
            self.collect()
            now = loop.time()
            if len(self.api.requests) != last:
                last = len(self.api.requests)
                idle_since = now
                continue
            arrived = len(self._pending[account]) > before
            if now - idle_since >= quiet and (not wait or arrived or now - started >= wait):
                return

    def show(self, account: int) -> None:
        for request in self._pending.pop(account, []):
            self._render(account, request)

    def _render(self, account: int, request: Request) -> None:
        params = request.params
        method = request.method
        if request.failed_with:
            return
        if method in {"sendMessage", "editMessageText"}:
            body = terminal_text(str(params.get("text", "")), self.color)
            prefix = "✎ (the message above changes) " if method == "editMessageText" else ""
            self.say(_indent(prefix + body))
            self._buttons(account, request)
        elif method == "editMessageReplyMarkup":
            self._buttons(account, request)
        elif method in {"sendPhoto", "sendDocument"}:
            upload = params.get("photo") if method == "sendPhoto" else params.get("document")
            caption = terminal_text(str(params.get("caption") or ""), self.color)
            if isinstance(upload, UploadedFile):
                path = self._save(upload, "png" if method == "sendPhoto" else "bin")
                kind = "🖼 picture" if method == "sendPhoto" else "📎 file"
                self.say(_indent(f"{kind} saved to {path}"))
            if caption:
                self.say(_indent(caption))
            self._buttons(account, request)
        elif method == "answerCallbackQuery" and params.get("text"):
            self.say(_indent(f"ⓘ {terminal_text(str(params['text']), self.color)}"))

    def _buttons(self, account: int, request: Request) -> None:
        markup = request.params.get("reply_markup")
        if not isinstance(markup, dict):
            return
        if "inline_keyboard" in markup:
            answer = request.answer[0] if request.answer else {}
            message_id = (
                int(answer.get("message_id", 1))
                if isinstance(answer, dict)
                else int(request.params.get("message_id", 1))
            )
            screen = self._screens[account]
            screen.buttons = []
            rows = []
            for row in markup["inline_keyboard"]:
                cells = []
                for button in row:
                    if "callback_data" not in button:
                        continue
                    screen.buttons.append(
                        Button(button["text"], button["callback_data"], message_id)
                    )
                    cells.append(f"[{len(screen.buttons)}] {button['text']}")
                if cells:
                    rows.append("   ".join(cells))
            if rows:
                self.say(_indent("\n".join(rows)))
        elif "keyboard" in markup:
            keys = [
                button["text"] if isinstance(button, dict) else str(button)
                for row in markup["keyboard"]
                for button in row
            ]
            self.say(_indent("keyboard: " + " | ".join(keys)))

    def _save(self, upload: UploadedFile, default: str) -> Path:
        self.files_dir.mkdir(parents=True, exist_ok=True)
        name = Path(upload.filename or f"file.{default}").name
        path = self.files_dir / f"{next(self._files):03d}-{name}"
        path.write_bytes(upload.data)
        return path


def _indent(value: str) -> str:
    return "\n".join("  " + line if line else "" for line in value.split("\n")) + "\n"
