"""Linking by sharing one's own phone number, where the school allows it."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import Message, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _

from handlers.common.start import show_linked
from handlers.keyboards import contact_keyboard
from services import linking
from services.db.session import Session
from services.linking import Outcome


def _phone_off() -> str:
    return _("Linking by phone number is not available. Please send the code from the school.")


async def offer_phone(message: Message, session: Session) -> None:
    if not await linking.phone_login_enabled(session):
        await message.answer(_phone_off())
        return
    await message.answer(
        _(
            "Press the button below to share your phone number. I will find it in the "
            "school's journal and link your account."
        ),
        reply_markup=contact_keyboard(),
    )


async def contact_shared(message: Message, session: Session, account_id: int) -> None:
    user = message.from_user
    contact = message.contact
    assert user is not None and contact is not None
    # Only a contact sent with the button carries the sender's own user id: anybody can
    # forward somebody else's card, and that must never link an account.
    if contact.user_id != user.id:
        await message.answer(
            _("Please share your own number with the button below, not somebody else's."),
            reply_markup=contact_keyboard(),
        )
        return
    if not await linking.phone_login_enabled(session):
        await message.answer(_phone_off(), reply_markup=ReplyKeyboardRemove())
        return
    result = await linking.link_by_phone(
        session, account_id=account_id, phone=contact.phone_number, now=datetime.now(UTC)
    )
    if result.outcome is Outcome.LINKED:
        await message.answer(
            _("Done! Your account is linked."), reply_markup=ReplyKeyboardRemove()
        )
        await show_linked(message, session, account_id)
        return
    await message.answer(_failure_text(result.outcome), reply_markup=ReplyKeyboardRemove())


def _failure_text(outcome: Outcome) -> str:
    if outcome is Outcome.CONSENT_MISSING:
        return _(
            "The school has no record of a parent's written consent to process the child's "
            "data, so I cannot link this account yet. Please ask the school to register the "
            "consent, then try again."
        )
    if outcome is Outcome.HELD:
        return _(
            "Access for this phone number was ended by the school. To link your account "
            "again, please ask the school for a new access code."
        )
    return _(
        "I could not find this phone number in the school's journal. Please send the "
        "access code from the school instead."
    )


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(offer_phone, Command("phone"))
    router.message.register(contact_shared, F.contact)
    return router
