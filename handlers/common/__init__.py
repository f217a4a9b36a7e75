"""Handlers for everyone: /start, /help, and the answer in group chats."""
