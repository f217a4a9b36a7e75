"""Screens for parents and students (and class teachers, read only)."""

from __future__ import annotations

from aiogram import Router

from handlers.family import children, diary, history, marks, pictures, records, years


def create_router() -> Router:
    """The family's screens; each checks, by its filters, the student it shows."""
    router = Router(name=__name__)
    router.include_routers(
        children.create_router(),
        marks.create_router(),
        pictures.create_router(),
        diary.create_router(),
        records.create_router(),
        years.create_router(),
        history.create_router(),
    )
    return router
