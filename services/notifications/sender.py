"""The send function of the delivery worker: a queued message's content, rendered, handed to
the channel's transport.

The content is read when the message is sent, in a few queries per claimed batch
(`content.load_batch`), with access checked again per child; nothing left to tell is a Skip.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from services.db.session import SessionFactory
from services.notifications.content import MessageContent, load_batch, load_notices
from services.notifications.queue import Outgoing
from services.notifications.transport import Composed, Rejected, Skip, Transport

Render = Callable[[MessageContent], Composed]


@dataclass
class Sender:
    # One transport per channel an account can be on ("telegram", "max").
    transports: Mapping[str, Transport]
    sessionmaker: SessionFactory
    render: Render
    # What a claimed batch says, read in a few queries before the batch is sent.
    _prepared: dict[int, MessageContent | None] = field(default_factory=dict)

    async def prepare(self, messages: list[Outgoing]) -> None:
        async with self.sessionmaker() as session:
            self._prepared = await load_batch(session, messages)

    async def __call__(self, message: Outgoing) -> None:
        transport = self.transports.get(message.channel)
        if transport is None:
            # This process does not speak the account's messenger: park the message.
            raise Rejected(f"no transport for the channel {message.channel}")
        composed = await self.compose(message)
        if composed.document is not None:
            await transport.send_document(message.chat_id, composed)
        elif composed.photo is not None:
            await transport.send_photo(message.chat_id, composed)
        else:
            await transport.send_text(message.chat_id, composed)

    async def compose(self, message: Outgoing) -> Composed:
        if message.id in self._prepared:
            content = self._prepared.pop(message.id)
        else:
            async with self.sessionmaker() as session:
                content = await load_notices(session, message)
        if content is None or not content.has_content:
            raise Skip("nothing to tell any more")
        return self.render(content)
