"""Prometheus metrics of the process, defined in one place (served at /metrics).

Labels carry kinds and outcomes only, never a person, a chat or a text.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

UPDATES = Counter("journalbot_updates_total", "Telegram updates handled, by kind", ["kind"])
UPDATE_SECONDS = Histogram(
    "journalbot_update_seconds",
    "Time to handle one update, by kind",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
MESSAGES = Counter(
    "journalbot_messages_total",
    "Queued messages by Bot API method and outcome "
    "(sent, retried, dead, rate_limited, blocked, cancelled)",
    ["method", "outcome"],
)
QUEUE_DEPTH = Gauge("journalbot_queue_depth", "Pending messages in the delivery queue")
QUEUE_DUE = Gauge("journalbot_queue_due", "Pending messages already due")
QUEUE_OLDEST_DUE_SECONDS = Gauge(
    "journalbot_queue_oldest_due_seconds", "How long the oldest due message has waited"
)
OUTBOX_LAG_SECONDS = Gauge(
    "journalbot_outbox_lag_seconds", "Age of the oldest journal event not yet processed"
)
FAILED_EVENTS = Counter(
    "journalbot_outbox_failed_events_total",
    "Journal events that could not be turned into notifications (kept with their error)",
)
SCHEDULER_RUNS = Counter("journalbot_scheduler_runs_total", "Scheduler runs done, by job", ["job"])
SCHEDULER_FAILURES = Counter(
    "journalbot_scheduler_failures_total", "Scheduler passes or school runs that failed"
)
TASK_RESTARTS = Counter(
    "journalbot_task_restarts_total", "Background tasks restarted after a failure", ["task"]
)
DATABASE_UP = Gauge(
    "journalbot_database_up", "1 when the database answered the last scrape's query, else 0"
)
