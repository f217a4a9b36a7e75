"""What the channel's transport reports for one message, and what a message is as it goes out.

The sender hands a composed message to a transport (Telegram today) and learns from the
exception it raises what to do with the message: wait (RetryAfter), give the account up
(Blocked), park the message (Rejected), try again later (Transient) or drop it (Skip).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class DeliveryError(Exception):
    """Raised by the send function; the subclass says what to do with the message."""


class RetryAfter(DeliveryError):
    """429: the whole bot must wait."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds} s")
        self.seconds = seconds


class Blocked(DeliveryError):
    """403: the user blocked the bot or deleted the account."""


class Rejected(DeliveryError):
    """400 and the like: sending again will not help."""


class Transient(DeliveryError):
    """Timeouts, network errors, 5xx: try again later."""


class Skip(DeliveryError):
    """Nothing to send any more (the link was revoked, the mark removed)."""


@dataclass(frozen=True, slots=True)
class Button:
    """An inline button under a pushed message: its label and the data it sends back."""

    text: str
    data: str


@dataclass(frozen=True, slots=True)
class Composed:
    """A message as it goes out: text (or a document's or photo's caption), rows of buttons,
    a file, or a photo the channel already holds (its file id)."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    document: tuple[str, bytes] | None = None
    photo: str | None = None


class Transport(Protocol):
    """A channel's way to send: raises the errors above, nothing else it knows of."""

    async def send_text(self, chat_id: int, message: Composed) -> None: ...

    async def send_document(self, chat_id: int, message: Composed) -> None: ...

    async def send_photo(self, chat_id: int, message: Composed) -> None: ...
