"""The offline chat of `journalbot demo` and `journalbot shell` (SPEC §6).

What the person types becomes a Telegram update fed to the real dispatcher
(`create_dispatcher()`: the same handlers, middlewares and services); the bot answers through
an in-process Bot API server (bot/fake_api.py), and what it sent is shown here: formatting
for a terminal, inline buttons numbered, reply keyboards listed, files saved, edits as edits.
Notifications, quiet hours and the scheduler run underneath exactly as in `journalbot run`.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiogram.utils.i18n import I18n
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import create_bot
from bot.dispatcher import create_dispatcher
from bot.fake_api import FakeBotAPI, Request, UploadedFile
from bot.i18n import make_i18n
from bot.keys import code_secret
from bot.notifications import run_notifications
from bot.scheduler import Jobs
from bot.settings import Settings
from services import sandbox
from services.db.session import create_sessionmaker
from services.sandbox import ACCOUNTS, Cast, Role

TOKEN = "7000000000:OFFLINE-demo-token-for-the-local-bot-api"

HELP = """\
Type as you would in Telegram: text and commands (/start, /marks, /homework 25.11, /settings,
/help) go to the bot; a number presses the inline button with that number.
  :as parent|student|teacher|class-teacher|deputy   become someone else (parent of two
                              children by default); what reached them meanwhile is shown
  :mark [VALUE] [SUBJECT]     a teacher puts a mark to the child on screen (default 5)
  :absence                    the child on screen is marked absent at the latest lesson
  :final                      the period's final grades are entered for the child on screen
  :time HH:MM                 the school's clock moves to HH:MM (on the next school day when
                              today has no lessons): reminders and digests due by then run
  :wait [SECONDS]             wait for pushes (default 3)
  :who                        who you are now
  :help                       this help; :quit (or Ctrl-D) ends the chat
"""

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
class _Screen:
    """The buttons the person can press now: the latest inline keyboard of the chat."""

    buttons: list[tuple[str, str, int]] = field(default_factory=list)  # text, data, message id


class Terminal:
    """One offline chat session; `run_lines` drives it from any source of lines."""

    def __init__(
        self,
        settings: Settings,
        engine: AsyncEngine,
        database_url: str,
        *,
        out: TextIO,
        color: bool,
        files_dir: Path,
        role: Role = Role.PARENT,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.database_url = database_url
        self.out = out
        self.color = color
        self.files_dir = files_dir
        self.role = role
        self.api = FakeBotAPI(tokens={TOKEN})
        self.i18n: I18n = make_i18n(settings.default_locale)
        self.stop = asyncio.Event()
        self.cast: Cast | None = None
        self.bot: Bot | None = None
        self.dispatcher: Dispatcher | None = None
        self.jobs: Jobs | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._cursor = 0  # requests of the Bot API handed out to chats so far
        self._pending: dict[int, list[Request]] = defaultdict(list)
        self._screens: dict[int, _Screen] = defaultdict(_Screen)
        self._linked: set[Role] = set()
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._files = itertools.count(1)
        self._selected: dict[Role, int] = {}

    # --- life cycle ----------------------------------------------------------------------

    async def start(self) -> None:
        await self.api.start()
        settings = self.settings.model_copy(
            update={"telegram_api_url": self.api.url, "bot_token": SecretStr(TOKEN)}
        )
        self.bot = create_bot(settings, TOKEN)
        self.dispatcher = create_dispatcher(
            sessionmaker=create_sessionmaker(self.engine),
            i18n=self.i18n,
            code_secret=code_secret(settings),
        )
        self.cast = await sandbox.cast(self.engine)
        self.jobs = Jobs(
            self.engine,
            self.database_url,
            default_zone=settings.default_timezone,
            retention_events_days=settings.retention_events_days,
            retention_notifications_days=settings.retention_notifications_days,
        )
        self._tasks.append(
            asyncio.create_task(
                run_notifications(
                    self.engine,
                    self.database_url,
                    bot=self.bot,
                    i18n=self.i18n,
                    settings=settings,
                    stop=self.stop,
                    jobs=self.jobs,
                )
            )
        )
        # Everybody of the cast links their account, as they would with a code slip; the
        # current person's exchange is shown, the others' are kept for when one becomes them.
        for role in Role:
            await self._link(role, show=role is self.role)

    async def close(self) -> None:
        self.stop.set()
        for task in self._tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 10)
        if self.jobs is not None:
            await self.jobs.close()
        if self.bot is not None:
            await self.bot.session.close()
        await self.api.stop()

    # --- the person's side -----------------------------------------------------------------

    @property
    def account(self) -> int:
        return ACCOUNTS[self.role]

    def say(self, line: str = "") -> None:
        self.out.write(line + "\n")
        self.out.flush()

    async def _link(self, role: Role, *, show: bool) -> None:
        assert self.cast is not None
        code = await sandbox.link_code(
            self.engine, self.cast.person(role), code_secret(self.settings)
        )
        account = ACCOUNTS[role]
        if show:
            self.say(f"(you link your account with the code from the school: /start {code})")
        await self._feed_message(account, f"/start {code}")
        await sandbox.quiet_hours_off(self.engine, account)
        self._linked.add(role)
        await self.settle(account, 0.3)
        if show:
            self.show(account)

    def _user(self, account: int) -> dict[str, Any]:
        role = next(r for r, a in ACCOUNTS.items() if a == account)
        return {
            "id": account,
            "is_bot": False,
            "first_name": role.value.capitalize(),
            "language_code": self.settings.default_locale,
        }

    async def _feed(self, payload: dict[str, Any]) -> None:
        assert self.bot is not None and self.dispatcher is not None
        update = Update.model_validate(
            {"update_id": next(self._update_ids), **payload}, context={"bot": self.bot}
        )
        await self.dispatcher.feed_update(self.bot, update)

    async def _feed_message(self, account: int, value: str) -> None:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(datetime.now(UTC).timestamp()),
            "chat": {"id": account, "type": "private", "first_name": "Demo"},
            "from": self._user(account),
            "text": value,
        }
        if value.startswith("/"):
            length = len(value.split(maxsplit=1)[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        await self._feed({"message": message})

    async def press(self, number: int) -> None:
        screen = self._screens[self.account]
        if not 1 <= number <= len(screen.buttons):
            self.say(f"(there is no button {number} on the screen)")
            return
        label, data, message_id = screen.buttons[number - 1]
        self.say(f"(you press [{number}] {terminal_text(label, False)})")
        await self._feed(
            {
                "callback_query": {
                    "id": str(next(self._update_ids)),
                    "from": self._user(self.account),
                    "chat_instance": "demo",
                    "data": data,
                    "message": {
                        "message_id": message_id,
                        "date": int(datetime.now(UTC).timestamp()),
                        "chat": {"id": self.account, "type": "private", "first_name": "Demo"},
                        "from": self.api.bot_user,
                        "text": "…",
                    },
                }
            }
        )

    # --- what the bot sent -------------------------------------------------------------------

    def _collect(self) -> None:
        """Hand the Bot API's new requests to the chats they were sent to."""
        new = self.api.requests[self._cursor :]
        self._cursor += len(new)
        for request in new:
            chat = request.params.get("chat_id")
            if isinstance(chat, int):
                self._pending[chat].append(request)
            elif request.method == "answerCallbackQuery":
                self._pending[self.account].append(request)

    async def settle(self, account: int, quiet: float = 0.4, *, wait: float = 0.0) -> None:
        """Let the bot finish: until nothing new has arrived for `quiet` seconds, and at
        least one message to the account when `wait` is set (at most `wait` seconds)."""
        loop = asyncio.get_running_loop()
        started = idle_since = loop.time()
        before = len(self._pending[account])
        last = len(self.api.requests)
        while loop.time() - started < wait + quiet + 10:
            await asyncio.sleep(0.05)
            self._collect()
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
            self.say(self._indent(prefix + body))
            self._buttons(account, request)
        elif method == "editMessageReplyMarkup":
            self._buttons(account, request)
        elif method in {"sendPhoto", "sendDocument"}:
            upload = params.get("photo") if method == "sendPhoto" else params.get("document")
            caption = terminal_text(str(params.get("caption") or ""), self.color)
            if isinstance(upload, UploadedFile):
                path = self._save(upload, "png" if method == "sendPhoto" else "bin")
                kind = "🖼 picture" if method == "sendPhoto" else "📎 file"
                self.say(self._indent(f"{kind} saved to {path}"))
            if caption:
                self.say(self._indent(caption))
            self._buttons(account, request)
        elif method == "answerCallbackQuery" and params.get("text"):
            self.say(self._indent(f"ⓘ {terminal_text(str(params['text']), self.color)}"))

    def _indent(self, value: str) -> str:
        return "\n".join("  " + line if line else "" for line in value.split("\n")) + "\n"

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
                    screen.buttons.append((button["text"], button["callback_data"], message_id))
                    cells.append(f"[{len(screen.buttons)}] {button['text']}")
                if cells:
                    rows.append("   ".join(cells))
            if rows:
                self.say(self._indent("\n".join(rows)))
        elif "keyboard" in markup:
            keys = [
                button["text"] if isinstance(button, dict) else str(button)
                for row in markup["keyboard"]
                for button in row
            ]
            self.say(self._indent("keyboard: " + " | ".join(keys)))

    def _save(self, upload: UploadedFile, default: str) -> Path:
        self.files_dir.mkdir(parents=True, exist_ok=True)
        name = Path(upload.filename or f"file.{default}").name
        path = self.files_dir / f"{next(self._files):03d}-{name}"
        path.write_bytes(upload.data)
        return path

    # --- commands ----------------------------------------------------------------------------

    def _child(self) -> int:
        assert self.cast is not None
        if self.role is Role.STUDENT:
            return self.cast.student_id
        return self._selected.get(self.role, self.cast.child_ids[0])

    async def _selected_child(self) -> int:
        """The child the parent has on screen (the bot remembers it per account)."""
        assert self.cast is not None
        if self.role is not Role.PARENT:
            return self._child()
        async with self.engine.connect() as connection:
            chosen = (
                await connection.execute(
                    text("SELECT selected_student_id FROM tg_accounts WHERE id = :a"),
                    {"a": self.account},
                )
            ).scalar()
        return int(chosen) if chosen in self.cast.child_ids else self.cast.child_ids[0]

    async def command(self, line: str) -> bool:
        """A `:` command; False when the chat should end."""
        name, _, rest = line[1:].partition(" ")
        rest = rest.strip()
        if name in {"quit", "exit", "q"}:
            return False
        if name == "help":
            self.say(HELP)
        elif name == "who":
            self.say(f"(you are the demo's {self.role.value}, Telegram id {self.account})")
        elif name == "as":
            await self._become(rest)
        elif name in {"mark", "absence", "final"}:
            await self._journal(name, rest)
        elif name == "time":
            await self._time(rest)
        elif name == "wait":
            seconds = float(rest) if re.fullmatch(r"\d+(\.\d+)?", rest) else 3.0
            await self.settle(self.account, 0.5, wait=min(seconds, 60))
            self.show(self.account)
        else:
            self.say(f"(unknown command :{name}; :help lists them)")
        return True

    async def _become(self, value: str) -> None:
        try:
            role = Role(value)
        except ValueError:
            self.say("(:as parent, :as student, :as teacher, :as class-teacher or :as deputy)")
            return
        self.role = role
        self.say(f"(you are now the demo's {role.value})")
        self._collect()
        if self._pending.get(self.account):
            self.say("(what reached you meanwhile:)")
        self.show(self.account)

    async def _journal(self, name: str, rest: str) -> None:
        if self.role not in {Role.PARENT, Role.STUDENT}:
            self.say("(journal events are about a child: be the parent or the student)")
            return
        child = await self._selected_child()
        today = datetime.now(UTC).astimezone(await self._zone()).date()
        try:
            if name == "mark":
                value, _, subject = rest.partition(" ")
                value = value or "5"
                if value not in {"1", "2", "3", "4", "5", "н/а", "осв"}:
                    self.say("(a mark is 1–5, н/а or осв: :mark 4 Алгебра)")
                    return
                event = await sandbox.add_mark(
                    self.engine, child, value, subject.strip() or None, today
                )
                self.say(
                    f"(the teacher puts {event.detail} in {event.subject} to {event.student})"
                )
            elif name == "absence":
                event = await sandbox.add_absence(self.engine, child, today)
                self.say(f"({event.student} is marked absent from {event.subject})")
            else:
                event = await sandbox.add_finals(self.engine, child, today)
                self.say(
                    f"(final grades of the period entered for {event.student}: "
                    f"{event.detail} subjects)"
                )
        except LookupError as exc:
            self.say(f"(the child has no lesson of {exc} in the journal)")
            return
        await self.settle(self.account, 0.5, wait=5)
        self.show(self.account)

    async def _zone(self) -> ZoneInfo:
        assert self.cast is not None
        async with self.engine.connect() as connection:
            name = (
                await connection.execute(
                    text("SELECT timezone FROM schools WHERE id = :s"), {"s": self.cast.school_id}
                )
            ).scalar()
        return ZoneInfo(name or self.settings.default_timezone)

    async def _time(self, value: str) -> None:
        match = re.fullmatch(r"(\d{1,2}):(\d{2})", value)
        if match is None or int(match[1]) > 23 or int(match[2]) > 59:
            self.say("(:time HH:MM, for instance :time 20:00)")
            return
        assert self.cast is not None and self.jobs is not None
        zone = await self._zone()
        day = await self._school_day(datetime.now(UTC).astimezone(zone).date())
        moment = datetime.combine(day, time(int(match[1]), int(match[2])), zone)
        outcome = await self.jobs.tick(moment)
        runs = ", ".join(run.split(":")[0] for run in outcome.runs) if outcome else ""
        self.say(
            f"(the school's clock shows {moment:%a %d.%m %H:%M}; the scheduler ran: "
            f"{runs or 'nothing was due'})"
        )
        await sandbox.release_now(self.engine, list(ACCOUNTS.values()))
        await self.settle(self.account, 0.5, wait=5 if outcome and outcome.queued else 0)
        self.show(self.account)

    async def _school_day(self, day: date) -> date:
        assert self.cast is not None
        async with self.engine.connect() as connection:
            found = (
                await connection.execute(
                    text("SELECT min(date) FROM lessons WHERE school_id = :s AND date >= :d"),
                    {"s": self.cast.school_id, "d": day},
                )
            ).scalar()
        return found or day

    async def line(self, value: str) -> bool:
        """One line of input; False when the chat should end."""
        value = value.strip()
        if not value:
            return True
        if value.startswith(":"):
            return await self.command(value)
        if re.fullmatch(r"[0-9]{1,3}", value):
            await self.press(int(value))
        else:
            await self._feed_message(self.account, value)
        await self.settle(self.account)
        self.show(self.account)
        return True

    async def run_lines(self, source: TextIO, *, echo: bool, prompt: bool) -> None:
        loop = asyncio.get_running_loop()
        watcher = asyncio.create_task(self._watch()) if prompt else None
        try:
            while True:
                if prompt:
                    self.out.write(f"{self.role.value}> ")
                    self.out.flush()
                raw = await loop.run_in_executor(None, source.readline)
                if not raw:
                    break
                if echo:
                    self.say(f"{self.role.value}> {raw.rstrip()}")
                if not await self.line(raw):
                    break
        finally:
            if watcher is not None:
                watcher.cancel()

    async def _watch(self) -> None:
        """Pushes that arrive while the person is thinking are shown at once."""
        while True:
            await asyncio.sleep(0.3)
            self._collect()
            if self._pending.get(self.account):
                self.say("")
                self.show(self.account)
                self.out.write(f"{self.role.value}> ")
                self.out.flush()


async def chat(
    settings: Settings,
    engine: AsyncEngine,
    database_url: str,
    *,
    role: Role,
    interactive: bool,
    files_dir: Path,
) -> None:
    """The offline chat until end of input or :quit."""
    color = interactive and sys.stdout.isatty()
    terminal = Terminal(
        settings,
        engine,
        database_url,
        out=sys.stdout,
        color=color,
        files_dir=files_dir,
        role=role,
    )
    if interactive:
        terminal.say(
            "\nOffline chat with the real bot (no Telegram needed). You are the demo's "
            f"{role.value}. :help lists what you can do; Ctrl-D ends.\n"
        )
    try:
        await terminal.start()
        await terminal.run_lines(sys.stdin, echo=not interactive, prompt=interactive)
    finally:
        await terminal.close()
