"""The offline chat of `journalbot demo` and `journalbot shell` (SPEC §6).

What the person types becomes a Telegram update fed to the real dispatcher
(`create_dispatcher()`: the same handlers, middlewares and services) by the chat driver the
tests use (bot/testing/chat.py); the bot answers through an in-process Bot API server
(bot/testing/fake_api.py), and what it sent is shown by bot/demo/terminal.py. Notifications,
quiet hours and the scheduler run underneath exactly as in `journalbot run`.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from aiogram import Bot, Dispatcher
from aiogram.utils.i18n import I18n
from pydantic import SecretStr

from bot.app import create_bot
from bot.demo.terminal import Transcript, terminal_text
from bot.dispatcher import create_dispatcher
from bot.i18n import make_i18n
from bot.keys import code_secret
from bot.notifications import run_notifications
from bot.scheduler import Jobs
from bot.settings import Settings
from bot.testing.chat import Chat
from bot.testing.fake_api import FakeBotAPI
from services.db.session import Engine, create_sessionmaker
from services.demo import sandbox
from services.demo.sandbox import ACCOUNTS, Cast, Role
from services.linking import PersonKind

TOKEN = "7000000000:OFFLINE-demo-token-for-the-local-bot-api"

# :time's days, in English and in Russian, Monday first.
WEEKDAYS = {
    name: number
    for number, names in enumerate(
        (
            ("mon", "monday", "пн", "понедельник"),
            ("tue", "tuesday", "вт", "вторник"),
            ("wed", "wednesday", "ср", "среда"),
            ("thu", "thursday", "чт", "четверг"),
            ("fri", "friday", "пт", "пятница"),
            ("sat", "saturday", "сб", "суббота"),
            ("sun", "sunday", "вс", "воскресенье"),
        )
    )
    for name in names
}
# How long :time waits for what the scheduler queued to be sent, at most (a deputy's report
# is a workbook).
SEND_WAIT = 30.0

HELP = """\
Type as you would in Telegram: text and commands (/start, /marks, /homework 25.11, /settings,
/help) go to the bot; a number presses the inline button with that number.
  :as parent|student|teacher|class-teacher|deputy   become someone else (parent of two
                              children by default); what reached them meanwhile is shown
  :mark [VALUE] [SUBJECT]     a teacher puts a mark to the child on screen (default 5)
  :absence                    the child on screen is marked absent at today's latest lesson
                              that has begun
  :final                      the period's final grades are entered for the child on screen
  :time [DAY] HH:MM           the school's clock moves forward to HH:MM (on the next school
                              day when today has no lessons; for a teacher, the next day
                              they teach), or to the next DAY (mon … sun, пн … вс) at HH:MM:
                              reminders, digests and reports due by then run (:time fri
                              16:00 brings the Friday reports); never back
  :time period-end            the clock moves to the morning after the final grades of the
                              child's current term fall due: the summary sheets and the
                              families' report cards go out
  :wait [SECONDS]             wait for pushes (default 3)
  :who                        who you are now
  :help                       this help; :quit (or Ctrl-D) ends the chat
"""


class Shell:
    """One offline chat session; `run_lines` drives it from any source of lines."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
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
        self.role = role
        self.api = FakeBotAPI(tokens={TOKEN})
        self.transcript = Transcript(
            self.api, current=ACCOUNTS[role], out=out, color=color, files_dir=files_dir
        )
        self.i18n: I18n = make_i18n(settings.default_locale)
        self.stop = asyncio.Event()
        self.cast: Cast | None = None
        self.bot: Bot | None = None
        self.dispatcher: Dispatcher | None = None
        self.jobs: Jobs | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._chats: dict[int, Chat] = {}
        # The demo's clock as :time set it; it runs on with the real one and never goes back.
        self._clock: datetime | None = None
        # A line is being handled: the watcher leaves the screen (and the prompt) to it.
        self._busy = False

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
        self.transcript.say(line)

    def _chat(self, role: Role) -> Chat:
        """The chat driver of the role's account (the tests' driver, with the demo's names)."""
        account = ACCOUNTS[role]
        if account not in self._chats:
            assert self.bot is not None and self.dispatcher is not None
            self._chats[account] = Chat(
                self.dispatcher,
                self.bot,
                self.api,
                account,
                language_code=self.settings.default_locale,
                first_name=role.value.capitalize(),
                chat_instance="demo",
                bot_user=self.api.bot_user,
            )
        return self._chats[account]

    async def _link(self, role: Role, *, show: bool) -> None:
        assert self.cast is not None
        code = await sandbox.link_code(
            self.engine, self.cast.person(role), code_secret(self.settings)
        )
        account = ACCOUNTS[role]
        if show:
            self.say(f"(you link your account with the code from the school: /start {code})")
        await self._chat(role).send(f"/start {code}")
        await sandbox.quiet_hours_off(self.engine, account)
        await self.transcript.settle(account, 0.3)
        if show:
            self.transcript.show(account)

    async def press(self, number: int) -> None:
        buttons = self.transcript.buttons(self.account)
        if not 1 <= number <= len(buttons):
            self.say(f"(there is no button {number} on the screen)")
            return
        button = buttons[number - 1]
        self.say(f"(you press [{number}] {terminal_text(button.text, False)})")
        await self._chat(self.role).press(button.data, message_id=button.message_id)

    # --- commands ----------------------------------------------------------------------------

    async def _child(self) -> int:
        """The child on screen: the student themself, or the one the parent has chosen (the
        bot remembers it per account)."""
        assert self.cast is not None
        if self.role is Role.STUDENT:
            return self.cast.student_id
        return await sandbox.selected_child(self.engine, self.account, self.cast.child_ids)

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
            await self.transcript.settle(self.account, 0.5, wait=min(seconds, 60))
            self.transcript.show(self.account)
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
        self.transcript.current = self.account
        self.say(f"(you are now the demo's {role.value})")
        self.transcript.collect()
        if self.transcript.has_pending(self.account):
            self.say("(what reached you meanwhile:)")
        self.transcript.show(self.account)

    def now(self) -> datetime:
        """The demo's clock: the moment :time set, or the real time once it has passed it."""
        real = datetime.now(UTC)
        return real if self._clock is None or self._clock < real else self._clock

    async def _journal(self, name: str, rest: str) -> None:
        if self.role not in {Role.PARENT, Role.STUDENT}:
            self.say("(journal events are about a child: be the parent or the student)")
            return
        child = await self._child()
        local = self.now().astimezone(await self._zone())
        today = local.date()
        try:
            if name == "mark":
                value, _, subject = rest.partition(" ")
                value = value or "5"
                if value not in {"1", "2", "3", "4", "5", "н/а", "осв"}:
                    self.say("(a mark is 1–5, н/а or осв: :mark 4 Алгебра)")
                    return
                event = await sandbox.add_mark(
                    self.engine, child, value, subject.strip() or None, local
                )
                self.say(
                    f"(the teacher puts {event.detail} in {event.subject} to {event.student})"
                )
            elif name == "absence":
                event = await sandbox.add_absence(self.engine, child, local)
                self.say(f"({event.student} is marked absent from {event.subject})")
            else:
                event = await sandbox.add_finals(self.engine, child, today)
                self.say(
                    f"(final grades of the period entered for {event.student}: "
                    f"{event.detail} subjects)"
                )
        except sandbox.NotBegun as exc:
            clock = f"{local:%a %d.%m %H:%M}"
            if exc.first is None:
                self.say(
                    f"(the school's clock shows {clock}: the child has no lessons today, so "
                    "there is nothing to be absent from; :time moves the clock to a school day)"
                )
            else:
                self.say(
                    f"(the school's clock shows {clock}: no lesson of the child has begun yet "
                    f"today, the first begins at {exc.first:%H:%M}; "
                    f":time {exc.first:%H:%M} moves the clock there)"
                )
            return
        except LookupError as exc:
            self.say(f"(the child has no lesson of {exc} in the journal)")
            return
        await self.transcript.settle(self.account, 0.5, wait=5)
        self.transcript.show(self.account)

    async def _zone(self) -> ZoneInfo:
        assert self.cast is not None
        return await sandbox.school_zone(
            self.engine, self.cast.school_id, self.settings.default_timezone
        )

    async def _period_end(self) -> None:
        assert self.cast is not None
        zone = await self._zone()
        now = self.now().astimezone(zone)
        found = await sandbox.period_end(self.engine, await self._child(), now, zone)
        if found is None:
            self.say("(no term of this school year ends ahead: its documents have gone out)")
            return
        term, morning = found
        self.say(f"(the {term.kind} {term.number} ends {term.ends_on:%d.%m})")
        await self._time(f"{morning:%a %H:%M}".lower(), day=morning.date())

    async def _time(self, value: str, *, day: date | None = None) -> None:
        if value.strip() == "period-end":
            await self._period_end()
            return
        match = re.fullmatch(r"(?:(\w+)\s+)?(\d{1,2}):(\d{2})", value.strip().lower())
        if (
            match is None
            or int(match[2]) > 23
            or int(match[3]) > 59
            or (match[1] is not None and match[1] not in WEEKDAYS)
        ):
            self.say(
                "(:time HH:MM or :time DAY HH:MM, for instance :time 20:00 or :time fri 16:00)"
            )
            return
        assert self.cast is not None and self.jobs is not None
        zone = await self._zone()
        now = self.now().astimezone(zone)
        at = time(int(match[2]), int(match[3]))
        if day is None and match[1] is None:
            # A teacher's next day is one they teach: their reminders are of its lessons.
            person = self.cast.person(self.role)
            staff = person.id if person.kind is PersonKind.STAFF else None
            day = await sandbox.next_school_day(
                self.engine, self.cast.school_id, now.date(), staff_id=staff
            )
        elif day is None:
            # The next such day whose HH:MM is still ahead: today's, or a week on.
            ahead = (WEEKDAYS[str(match[1])] - now.weekday()) % 7
            day = now.date() + timedelta(days=ahead)
            if datetime.combine(day, at, zone) < now:
                day += timedelta(days=7)
        moment = datetime.combine(day, at, zone)
        if moment < now:
            tomorrow = f"{now + timedelta(days=1):%a}".lower()
            self.say(
                f"(the school's clock shows {now:%a %d.%m %H:%M} and never goes back: name a "
                f"later time, or a day ahead, like :time {tomorrow} {at:%H:%M})"
            )
            return
        self._clock = moment.astimezone(UTC)
        outcome = await self.jobs.tick(moment)
        runs = ", ".join(run.split(":")[0] for run in outcome.runs) if outcome else ""
        self.say(
            f"(the school's clock shows {moment:%a %d.%m %H:%M}; the scheduler ran: "
            f"{runs or 'nothing was due'})"
        )
        await self._deliver(bool(outcome and outcome.queued))

    async def _deliver(self, queued: bool) -> None:
        """What the clock's move queued goes out now: the current person's is shown, and
        who else got something is said (:as shows it to them)."""
        users = list(ACCOUNTS.values())
        self.transcript.collect()
        before = {role: self.transcript.pending(ACCOUNTS[role]) for role in Role}
        await sandbox.release_now(self.engine, users)
        if queued:
            for _ in range(int(SEND_WAIT / 0.2)):
                if not await sandbox.pending_for(self.engine, users):
                    break
                await asyncio.sleep(0.2)
        await self.transcript.settle(self.account, 0.5)
        self.transcript.show(self.account)
        others = [
            role.value
            for role in Role
            if role is not self.role and self.transcript.pending(ACCOUNTS[role]) > before[role]
        ]
        if others:
            self.say(f"(messages arrived for: {', '.join(others)}; :as {others[0]} shows them)")

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
            await self._chat(self.role).send(value)
        await self.transcript.settle(self.account)
        self.transcript.show(self.account)
        return True

    async def run_lines(self, source: TextIO, *, echo: bool, prompt: bool) -> None:
        loop = asyncio.get_running_loop()
        watcher = asyncio.create_task(self._watch()) if prompt else None
        try:
            while True:
                if prompt:
                    self._prompt()
                raw = await loop.run_in_executor(None, source.readline)
                if not raw:
                    break
                if echo:
                    self.say(f"{self.role.value}> {raw.rstrip()}")
                self._busy = True
                try:
                    if not await self.line(raw):
                        break
                finally:
                    self._busy = False
        finally:
            if watcher is not None:
                watcher.cancel()

    def _prompt(self) -> None:
        self.transcript.out.write(f"{self.role.value}> ")
        self.transcript.out.flush()

    async def _watch(self) -> None:
        """Pushes that arrive while the person is thinking are shown at once."""
        while True:
            await asyncio.sleep(0.3)
            if self._busy:
                # The line under way shows what arrives, and the prompt follows it once.
                continue
            self.transcript.collect()
            if self.transcript.has_pending(self.account):
                self.say("")
                self.transcript.show(self.account)
                self._prompt()


async def chat(
    settings: Settings,
    engine: Engine,
    database_url: str,
    *,
    role: Role,
    interactive: bool,
    files_dir: Path,
) -> None:
    """The offline chat until end of input or :quit."""
    color = interactive and sys.stdout.isatty()
    shell = Shell(
        settings,
        engine,
        database_url,
        out=sys.stdout,
        color=color,
        files_dir=files_dir,
        role=role,
    )
    if interactive:
        shell.say(
            "\nOffline chat with the real bot (no Telegram needed). You are the demo's "
            f"{role.value}. :help lists what you can do; Ctrl-D ends.\n"
        )
    try:
        await shell.start()
        await shell.run_lines(sys.stdin, echo=not interactive, prompt=interactive)
    finally:
        await shell.close()
