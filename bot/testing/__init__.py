"""Telegram stood in for: a fake Bot API server and a chat driver, shared by the tests, the
demo's offline chat and the benchmarks (installed with the bot, so the demo can use them)."""
