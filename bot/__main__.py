"""`python -m bot` is `journalbot`."""

from bot.cli import main

raise SystemExit(main())
