"""Services, the queue and the endpoints against a real PostgreSQL."""
