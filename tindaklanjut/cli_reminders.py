"""CLI for reminders: `contacts import|list`, `sweep`, `reminders list|run`.

Hooked into `tindaklanjut.cli` with a few lines; user-facing messages are in
Bahasa Indonesia like the rest of the command line.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from datetime import datetime, timedelta, timezone
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tindaklanjut.adapters.contacts_csv import read_contacts
from tindaklanjut.bootstrap import bootstrap
from tindaklanjut.cli_support import parse_instant
from tindaklanjut.config import get_settings

contacts_app = typer.Typer(help="Reminder contacts: who is reminded for an agency or unit.", no_args_is_help=True)
reminders_app = typer.Typer(help="Reminder digests and the reminder scheduler.", no_args_is_help=True)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class Format(str, Enum):
    table = "table"
    json = "json"


def _instant(value: str | None) -> datetime | None:
    """An ISO 8601 instant with offset from the command line (None stays None)."""
    return None if value is None else parse_instant(value)


def _run(coro_fn):
    """Run `coro_fn(service)` with a fresh container and reminder service."""
    from tindaklanjut.bootstrap_reminders import reminders
    from tindaklanjut.cli import _configure_logging

    _configure_logging()   # logs to stderr: stdout stays clean for --format json

    async def runner():
        container = bootstrap(get_settings())
        try:
            return await coro_fn(reminders(container))
        finally:
            await container.close()
    return asyncio.run(runner())


@contacts_app.command("import")
def contacts_import(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                                         help="CSV: agency_id, unit_id, role, name, email, "
                                                              "webhook_url")]) -> None:
    """Import or update contacts; a re-import updates by (agency, unit, role) and never duplicates."""
    parsed = read_contacts(file)
    for error in parsed.errors:
        err.print(f"[red]{file.name}: {error}[/red]")
    if parsed.errors:
        err.print(f"[red]{len(parsed.errors)} kesalahan; tidak ada kontak yang diimpor[/red]")
        raise typer.Exit(2)
    created, updated, unchanged = _run(lambda service: service.import_contacts(parsed.contacts))
    console.print(f"{file.name}: {created} kontak baru, {updated} diperbarui, {unchanged} tidak berubah")


@contacts_app.command("list")
def contacts_list(format: Annotated[Format, typer.Option(help="output format")] = Format.table) -> None:
    """List the contact directory."""
    async def query(service):
        async with service.uow() as work:
            return await work.reminders.list_contacts()
    rows = _run(query)
    if format is Format.json:
        sys.stdout.write(json.dumps(rows, default=str, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title=f"Kontak pengingat ({len(rows)})")
    for column in ("agency_id", "unit_id", "role", "name", "email", "webhook_url"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row[c] or "") for c in ("agency_id", "unit_id", "role", "name", "email", "webhook_url")))
    console.print(table)


def sweep(now: Annotated[str | None, typer.Option(help="sweep as if it were this instant, e.g. "
                                                       "2025-02-03T08:00+07:00 (default: now)")] = None,
          send: Annotated[bool, typer.Option(help="send the digests (--no-send only plans them)")] = True,
          format: Annotated[Format, typer.Option(help="output format")] = Format.table) -> None:
    """Run one reminder sweep and exit: plan what is due, send the digests."""
    instant = _instant(now) or datetime.now(timezone.utc)
    report = _run(lambda service: service.sweep(instant, send=send, reconcile=True))
    data = report.as_dict()
    if format is Format.json:
        sys.stdout.write(json.dumps(data) + "\n")
    else:
        table = Table(title=f"Sapuan pengingat {instant.isoformat()}")
        table.add_column("counter")
        table.add_column("value", justify="right")
        for name, value in data.items():
            if name not in ("now", "timings"):
                table.add_row(name, str(value))
        console.print(table)
    if report.failed or report.retrying:
        err.print(f"[red]{report.failed} ringkasan gagal dikirim, {report.retrying} akan dicoba lagi pada sapuan "
                  f"berikutnya (lihat `tindaklanjut reminders list`)[/red]")
        raise typer.Exit(1)


@reminders_app.command("list")
def reminders_list(limit: Annotated[int, typer.Option(help="most recent digests")] = 50,
                   format: Annotated[Format, typer.Option(help="output format")] = Format.table) -> None:
    """Digests: to whom, which day, status, deliveries and attempts."""
    async def query(service):
        async with service.uow() as work:
            return await work.reminders.list_digests(limit)
    rows = _run(query)
    if format is Format.json:
        sys.stdout.write(json.dumps(rows, default=str, ensure_ascii=False, indent=2) + "\n")
        return
    columns = ["id", "digest_date", "channel", "name", "status", "deliveries", "attempts", "last_error"]
    table = Table(title=f"Ringkasan pengingat ({len(rows)})")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if row[c] is None else str(row[c]) for c in columns))
    console.print(table)


@reminders_app.command("run")
def reminders_run(start_at: Annotated[str | None, typer.Option(help="start the clock at this instant and let it "
                                                                    "run (demonstrations, tests)")] = None,
                  interval: Annotated[float | None, typer.Option(help="seconds between sweeps")] = None) -> None:
    """Run the reminder scheduler alone (no Kafka), until interrupted."""
    from tindaklanjut.bootstrap_reminders import reminders
    from tindaklanjut.cli import _configure_logging
    from tindaklanjut.services.reminders import run_scheduler

    _configure_logging()
    settings = get_settings()
    start = _instant(start_at)
    if start is not None and settings.environment == "production":
        raise typer.BadParameter("--start-at is not allowed in production")
    origin = time.monotonic()

    def clock() -> datetime:
        return start + timedelta(seconds=time.monotonic() - origin) if start else datetime.now(timezone.utc)

    async def main() -> None:
        # SIGTERM (an orchestrator stopping the process) and Ctrl-C finish the sweep under way, then exit 0.
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        container = bootstrap(settings)
        try:
            await run_scheduler(reminders(container, clock=clock), interval or settings.reminder_sweep_interval,
                                stopping)
        finally:
            await container.close()
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
