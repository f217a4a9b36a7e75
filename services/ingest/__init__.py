"""Data from the school's own journal program: the roster and the journal, by its own ids.

Both ways in, the file import (`journalbot import`) and the ingest API, hand records to the
functions here; they write in the caller's transaction and report what changed.
"""
