"""Small pieces shared by the command-line modules."""

from __future__ import annotations

import asyncio
from datetime import datetime

import typer
from rich.console import Console
from sqlalchemy.exc import OperationalError, ProgrammingError

from tindaklanjut.bootstrap import bootstrap
from tindaklanjut.config import get_settings

err = Console(stderr=True, soft_wrap=True)


def with_container(coro_fn):
    """Run `coro_fn(container)` with a fresh container, disposing it after;
    an uninitialised database becomes a clear message, not a traceback."""
    async def runner():
        container = bootstrap(get_settings())
        try:
            return await coro_fn(container)
        finally:
            await container.close()
    try:
        return asyncio.run(runner())
    except (OperationalError, ProgrammingError) as exc:
        err.print(f"[red]database error: {exc.orig}[/red]\n"
                  "Is the database initialised? Run `tindaklanjut db upgrade` or start the stack with `make run`.")
        raise typer.Exit(1) from None


def parse_instant(value: str) -> datetime:
    """An ISO 8601 instant with a time zone offset, as given on the command line."""
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"'{value}' is not an ISO 8601 instant, e.g. 2025-02-03T08:00+07:00") from None
    if instant.tzinfo is None:
        raise typer.BadParameter("give a time zone offset, e.g. 2025-02-03T08:00+07:00")
    return instant
