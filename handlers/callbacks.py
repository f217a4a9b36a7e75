"""Every button's callback data: what a press names, checked again by its screen on each press."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData


class LanguageCb(CallbackData, prefix="lang"):
    code: str


class ChildCb(CallbackData, prefix="child"):
    student_id: int


class MarksView(enum.StrEnum):
    PERIOD = "p"
    TODAY = "t"
    WEEK = "w"
    SUBJECT = "s"
    FORECAST = "f"


# Every button of a screen carries the student it shows; access is checked again on each press.
class MarksCb(CallbackData, prefix="mk"):
    s: int  # student
    v: MarksView
    p: int = 0  # period; 0 is the current one
    sub: int = 0  # subject
    w: int = 0  # weeks back from this one


class HomeworkCb(CallbackData, prefix="hw"):
    s: int
    d: int  # the day, as a proleptic ordinal
    week: bool = False


class TimetableCb(CallbackData, prefix="tt"):
    s: int
    d: int


class AttendanceCb(CallbackData, prefix="at"):
    s: int
    p: int = 0


class FinalsCb(CallbackData, prefix="fn"):
    s: int


class YearsCb(CallbackData, prefix="yr"):
    """A student's earlier school years (y=0: the list), read only."""

    s: int
    y: int = 0


class ChartCb(CallbackData, prefix="ch"):
    s: int
    sub: int
    p: int = 0


class ReportCb(CallbackData, prefix="rc"):
    s: int
    p: int = 0
    pdf: bool = True


class ClassCb(CallbackData, prefix="cl"):
    c: int
    p: int = 0


class SettingsCb(CallbackData, prefix="set"):
    a: str  # what to do: show, mode, quiet, low, digest, child, language
    c: str = ""  # category
    s: int = 0  # a child, 0 for all
    v: str = ""  # the chosen value


class ReminderCb(CallbackData, prefix="rem"):
    a: str  # s: snooze until tomorrow, o: off, n: on again
    c: str = ""  # the category
    w: str = "r"  # pressed under a reminder (r) or on the /reminders screen (p)


class LostCb(CallbackData, prefix="lost"):
    """/lost ("I lost my phone"): `go` ends every session of the account's people, `keep` none."""

    a: str


class LogoutCb(CallbackData, prefix="logout"):
    """/logout asked once more: `go` unlinks this account, `keep` leaves it linked."""

    a: str


# --- staff screens (handlers/teacher) ---------------------------------------------------------


class StaffDayCb(CallbackData, prefix="sd"):
    """A teacher's own lessons of a day (a proleptic ordinal)."""

    d: int


class TaughtCb(CallbackData, prefix="tm"):
    """A teacher's class in their subject: the pupils' marks, read only."""

    c: int
    sub: int
    p: int = 0


class CardCb(CallbackData, prefix="cd"):
    """A pupil's whole card for their class teacher."""

    s: int
    p: int = 0


class ClassToolCb(CallbackData, prefix="ct"):
    """The class teacher's tools: f families, k codes (ka everyone not linked, kp a pupil's
    family), w the class's week."""

    c: int
    a: str
    w: int = 0  # weeks back
    s: int = 0  # a pupil


class DeputyCb(CallbackData, prefix="dp"):
    """The deputy's journal-keeping report: r the report, c choose a class, t choose a
    period, x the XLSX."""

    sc: int  # the school
    a: str = "r"
    c: int = 0  # a class; 0 the whole school
    w: int = 0  # weeks back
    p: int = 0  # a period instead of a week


class ContactCb(CallbackData, prefix="tk"):
    """Talking to the school (services/contact.py): `to` a teacher (t: staff) about a child,
    `ill` the child is ill today, `re` answer a thread (t), `ok` confirm an illness note (m),
    `x` stop writing; each checked again on the press."""

    a: str
    s: int = 0  # the student
    t: int = 0  # a member of staff (to) or a thread (re, ill)
    m: int = 0  # a message (ok)
