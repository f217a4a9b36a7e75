"""Database layer: models, sessions, the change-capture outbox and the embedded server."""
