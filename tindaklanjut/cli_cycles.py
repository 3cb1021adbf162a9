"""CLI for cycles: `cycle close`, `cycle close-due`, `cycle report`.

Hooked into `tindaklanjut.cli` with two lines. The command line acts with
admin rights, like the rest of the CLI; `cycle report --region` shows what a
Sekda of that region sees.
"""

from __future__ import annotations

import getpass
import json
import sys
from dataclasses import asdict
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Annotated

import structlog
import typer
from rich.console import Console
from rich.table import Table

from tindaklanjut.adapters import report_export
from tindaklanjut.cli_support import parse_instant, with_container
from tindaklanjut.domain.lifecycle import Actor, Role
from tindaklanjut.domain.report import CycleReport
from tindaklanjut.events import cycle as wire
from tindaklanjut.service_layer import cycles
from tindaklanjut.service_layer.commands import CloseCycle, CloseDueCycles

cycle_app = typer.Typer(help="Cycle close and the cycle report.", no_args_is_help=True)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

Framework = Annotated[str, typer.Option("--framework", "-f", help="framework id, e.g. panrb-pekppp")]
Cycle = Annotated[str, typer.Option("--cycle", "-c", help="cycle (year), e.g. 2024")]


class ReportFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


def _run(coro_fn):
    """Run `coro_fn(container)` with a fresh container; an unknown cycle becomes a message."""
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))   # stdout is for the report
    try:
        return with_container(coro_fn)
    except cycles.CycleNotFound as exc:
        err.print(f"[red]siklus {exc} tidak ditemukan: belum ada hasil penilaian yang diterima[/red]")
        raise typer.Exit(1) from None


def _percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.1f}%"


def _bar(share: float | None, width: int = 20) -> str:
    filled = round((share or 0) * width)
    return "█" * filled + "·" * (width - filled)


def _signed(change: float | None) -> str:
    return "–" if change is None else f"{change * 100:+.1f} poin"


def print_report(report: CycleReport) -> None:
    """The report for people: summary, agencies with a completion bar, BPK, overdue ages, score change."""
    t = report.totals
    state = "ditutup" if report.status == "closed" else "sementara, siklus belum ditutup"
    scope = f", wilayah {report.region}" if report.region is not None else ""
    console.print(f"[bold]Laporan siklus {report.framework} {report.cycle}[/bold] ({state}{scope}), per "
                  f"{report.as_of.isoformat(timespec='minutes')}" + (f", oleh {report.closed_by}"
                                                                      if report.closed_by else ""))
    console.print(f"{t.counted} rekomendasi dihitung ({t.superseded} digantikan revisi): "
                  f"penyelesaian {_percent(t.completion_rate)}, termasuk TDTL {_percent(t.resolution_rate)}, "
                  f"rata-rata {t.mean_days_to_verification if t.mean_days_to_verification is not None else '–'} "
                  "hari sampai verifikasi")

    unfinished = "kedaluwarsa" if report.status == "closed" else "terbuka"
    agencies = Table(title="Per instansi")
    for column in ("instansi", "wilayah", "dihitung", "sesuai", "TDTL", unfinished, "penyelesaian", ""):
        agencies.add_column(column, justify="left" if column in ("instansi", "wilayah", "") else "right")
    for a in report.agencies:
        agencies.add_row(f"{a.agency_name} ({a.agency_id})", a.region_code, str(a.counted), str(a.verified),
                         str(a.not_actionable), str(a.lapsed + a.open), _percent(a.completion_rate),
                         _bar(a.completion_rate))
    console.print(agencies)

    provinces = Table(title="Per provinsi")
    for column in ("provinsi", "dihitung", "sesuai", "penyelesaian", ""):
        provinces.add_column(column)
    for p in report.provinces:
        provinces.add_row(p.region_code, str(p.counted), str(p.verified), _percent(p.completion_rate),
                          _bar(p.completion_rate))
    console.print(provinces)

    bpk = Table(title="Status BPK")
    for column in ("status", "jumlah", "persentase", ""):
        bpk.add_column(column)
    for b in report.bpk:
        bpk.add_row(b.label, str(b.count), _percent(b.share), _bar(b.share))
    console.print(bpk)

    most = max((b.count for b in report.overdue), default=0) or 1
    ages = Table(title="Lewat tenggat (belum diselesaikan instansi)")
    for column in ("umur", "jumlah", ""):
        ages.add_column(column)
    for b in report.overdue:
        ages.add_row(b.label, str(b.count), _bar(b.count / most))
    console.print(ages)

    s = report.score_change
    score = Table(title="Perubahan skor indikator pada siklus berikutnya")
    for column in ("kelompok", "n", "rata-rata perubahan"):
        score.add_column(column)
    score.add_row("terverifikasi", str(s.verified.n), _signed(s.verified.mean))
    score.add_row("kedaluwarsa", str(s.lapsed.n), _signed(s.lapsed.mean))
    score.add_row("selisih", "", _signed(s.difference))
    console.print(score)


def _wire(report: CycleReport) -> dict:
    return wire.CycleReport.model_validate(asdict(report)).model_dump(mode="json")


@cycle_app.command("close")
def close(framework: Framework, cycle: Cycle,
          by: Annotated[str | None, typer.Option(help="name recorded in the audit trail")] = None) -> None:
    """Close a cycle now: open recommendations lapse, the report is stored and published."""
    actor = Actor(by or f"cli:{getpass.getuser()}", Role.ADMIN)
    outcome = _run(lambda c: c.bus.handle(CloseCycle(actor=actor, framework=framework, cycle=cycle)))
    if outcome.already_closed:
        console.print(f"siklus {framework} {cycle} sudah ditutup pada "
                      f"{outcome.closed_at.isoformat(timespec='minutes')} oleh {outcome.closed_by}")
    else:
        console.print(f"[green]siklus {framework} {cycle} ditutup[/green]: {outcome.lapsed} rekomendasi "
                      "kedaluwarsa; laporan disimpan dan dipublikasikan")
    print_report(outcome.report)


def _instant(value: str | None) -> datetime:
    return datetime.now(timezone.utc) if value is None else parse_instant(value)


@cycle_app.command("close-due")
def close_due(now: Annotated[str | None, typer.Option(help="reference instant (ISO 8601), default: now")] = None
              ) -> None:
    """Close every cycle whose follow-up window has ended (run daily)."""
    instant = _instant(now)
    outcomes = _run(lambda c: c.bus.handle(CloseDueCycles(now=instant)))
    if not outcomes:
        console.print("tidak ada siklus yang masa tindak lanjutnya telah berakhir")
    for outcome in outcomes:
        console.print(f"siklus {outcome.framework} {outcome.cycle} ditutup: {outcome.lapsed} rekomendasi "
                      f"kedaluwarsa, penyelesaian {_percent(outcome.report.totals.completion_rate)}")


@cycle_app.command("report")
def report(framework: Framework, cycle: Cycle,
           format: Annotated[ReportFormat, typer.Option(help="output format")] = ReportFormat.table,
           output: Annotated[Path | None, typer.Option(help="write to this file instead of stdout")] = None,
           region: Annotated[str | None, typer.Option(help="only agencies of this region, as its Sekda sees "
                                                           "it")] = None) -> None:
    """Show or export a cycle report (provisional while the cycle is open)."""
    actor = Actor("cli", Role.SECRETARY, region=region) if region else Actor("cli", Role.ADMIN)
    found = _run(lambda c: cycles.cycle_report(c.uow(), actor, framework, cycle, clock=c.clock))
    if format is ReportFormat.table:
        print_report(found)
        return
    if format is ReportFormat.json:
        content: bytes = (json.dumps(_wire(found), ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    elif format is ReportFormat.csv:
        content = report_export.to_csv(found).encode("utf-8")
    else:
        content = report_export.to_xlsx(found)
        if output is None and sys.stdout.isatty():
            raise typer.BadParameter("XLSX is binary: give --output FILE (or redirect stdout)")
    if output is None:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
    else:
        output.write_bytes(content)
        err.print(f"wrote {output}")
