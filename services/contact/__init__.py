"""Talking to the school: a family writes to the child's teachers and they answer, relayed.

Parents and students correspond with the class teacher and the subject teachers through the
system (seed 001 §2.6, §4.2.6; seed 003 §3.7, §7.2; seed 002 §1.5). The bot relays: neither
side ever sees the other's phone number or messenger username, only names as the journal has
them. One thread per family account, child and teacher; every message goes through the
delivery queue (`ContactNote`), so the recipient's quiet hours, limits and retries apply, and
it is read again when sent with both sides' access checked as it stands then. A school may
switch it off (`schools.contact_enabled`).

An illness note ("the child is ill today") goes to the class teacher, who confirms it with one
press: absences with a valid reason (illness) for the child's lessons of that day. The family
is told so in the thread; the journal events of those rows are marked told, so that the
family does not also get one "absent" push per lesson for an absence they reported.
"""

from __future__ import annotations

from services.contact.illness import Confirmation, confirm_illness
from services.contact.messages import MAX_CAPTION, MAX_TEXT, ContactNotice, Sent, note_for, send
from services.contact.threads import (
    CATEGORY,
    DRAFT_TIME,
    Closed,
    Teacher,
    Thread,
    current_thread,
    open_thread,
    set_enabled,
    stop_writing,
    teachers_of,
    thread_for,
    write_in,
)

__all__ = [
    "CATEGORY",
    "DRAFT_TIME",
    "MAX_CAPTION",
    "MAX_TEXT",
    "Closed",
    "Confirmation",
    "ContactNotice",
    "Sent",
    "Teacher",
    "Thread",
    "confirm_illness",
    "current_thread",
    "note_for",
    "open_thread",
    "send",
    "set_enabled",
    "stop_writing",
    "teachers_of",
    "thread_for",
    "write_in",
]
