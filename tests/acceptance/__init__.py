"""Whole chats through create_dispatcher() and the real processes of the command line."""
