"""The push pipeline, one module per stage: a journal row becomes a message in a chat.

trigger (migrations 0002) → journal_events
changes     claims captured changes in order, wakes on NOTIFY
fanout      finds the recipients and queues a row per person under their preferences
            (preferences), quiet hours and digests (digests: the weekly one)
queue       the `notifications` table: claim, outcomes, status, retry-dead
worker      claims batches and delivers them within the limits (limits), one sender at a
            time without Redis (leadership), retries and dead letters
sender      reads a message's content when it is sent (content) and hands the rendered
            text (handlers.pushes) to the channel's transport (transport, telegram)
payloads    what a queued row says, one frozen type per kind of push: written (fanout, digests,
            reminders, reports) and read (queue) only through it
"""
