"""HTTP API (FastAPI): role-scoped access to recommendations and their follow-up."""
