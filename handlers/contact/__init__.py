"""Talking to the school: a family writes to the child's teachers, they answer (relayed)."""

from __future__ import annotations

from handlers.contact.threads import create_router

__all__ = ["create_router"]
