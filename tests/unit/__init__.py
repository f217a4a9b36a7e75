"""Pure functions and in-process fakes: no database."""
