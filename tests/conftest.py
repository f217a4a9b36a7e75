"""The test harness: the shared fixtures live in tests/fixtures/ and load here as plugins.

Tests are grouped by layer: unit/ (no database), integration/ (services, the queue and the
endpoints against PostgreSQL), acceptance/ (whole chats and the real processes). A module's own
fixtures (such as an autouse clock) stay in that module and apply to it alone.
"""

pytest_plugins = [
    "tests.fixtures.database",
    "tests.fixtures.bot",
    "tests.fixtures.factories",
    "tests.fixtures.schools",
    "tests.fixtures.linking",
    "tests.fixtures.notifications",
    "tests.fixtures.cli",
    "tests.fixtures.imports",
    "tests.fixtures.journal_import",
    "tests.fixtures.api",
    "tests.fixtures.archive",
    "tests.fixtures.periods",
    "tests.fixtures.rules",
]
