"""Small pieces shared by the command-line modules."""

from __future__ import annotations

from datetime import datetime

import typer


def parse_instant(value: str) -> datetime:
    """An ISO 8601 instant with a time zone offset, as given on the command line."""
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"'{value}' is not an ISO 8601 instant, e.g. 2025-02-03T08:00+07:00") from None
    if instant.tzinfo is None:
        raise typer.BadParameter("give a time zone offset, e.g. 2025-02-03T08:00+07:00")
    return instant
