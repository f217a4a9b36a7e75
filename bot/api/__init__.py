"""The ingest API of the school's journal program (aiohttp, JSON, OpenAPI 3.1)."""
