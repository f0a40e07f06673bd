"""The intake: one validation behind three doors (CLI, HTTP API, Celery task)."""
