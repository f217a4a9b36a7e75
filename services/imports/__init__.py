"""Files the school hands over (the roster, the journal): read, checked row by row, reported.

`tabular` reads XLSX and CSV into tables and parses cells; `roster` and `journal` know their
sheets; `template` writes the blank workbooks. Writing to the database is `services.ingest`'s.
"""
