"""Cycle report as tables, CSV and XLSX (headers in Bahasa Indonesia).

One table per part of the report: summary, per agency, per region, per
province, BPK breakdown, overdue by age, score change. The CSV holds them one
after the other (a title row, a header row, the rows, an empty row); the XLSX
has one sheet each.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from tindaklanjut.domain.report import AGE_BUCKETS, AgencyTally, CycleReport, RegionTally, Tally
from tindaklanjut.domain.lifecycle import BpkStatus

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# (attribute, header, kind): kind "rate" is a share between 0 and 1.
TALLY_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("total", "Jumlah rekomendasi", "int"),
    ("superseded", "Digantikan revisi", "int"),
    ("counted", "Dihitung", "int"),
    ("verified", "Terverifikasi", "int"),
    ("not_actionable", "Tidak dapat ditindaklanjuti", "int"),
    ("lapsed", "Kedaluwarsa", "int"),
    ("open", "Masih terbuka", "int"),
    ("awaiting_verification", "Menunggu verifikasi", "int"),
    ("completion_rate", "Tingkat penyelesaian", "rate"),
    ("resolution_rate", "Tingkat penyelesaian termasuk TDTL", "rate"),
    ("mean_days_to_verification", "Rata-rata hari sampai verifikasi", "float"),
)
BPK_SHORT = {BpkStatus.SESUAI: "BPK: sesuai", BpkStatus.BELUM_SESUAI: "BPK: belum sesuai",
             BpkStatus.BELUM_DITINDAKLANJUTI: "BPK: belum ditindaklanjuti",
             BpkStatus.TIDAK_DAPAT_DITINDAKLANJUTI: "BPK: tidak dapat ditindaklanjuti"}


@dataclass(frozen=True)
class ReportTable:
    title: str
    sheet: str                      # XLSX sheet name (at most 31 characters)
    headers: list[str]
    rows: list[list[Any]]
    rate_columns: frozenset[int] = frozenset()


FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: Any) -> Any:
    """A text that a spreadsheet would run as a formula gets a leading
    apostrophe (OWASP, CSV injection); numbers stay numbers."""
    if isinstance(cell, str) and cell.startswith(FORMULA_TRIGGERS):
        return "'" + cell
    return cell


def _tally_headers() -> list[str]:
    return ([header for _attr, header, _kind in TALLY_COLUMNS] + [BPK_SHORT[s] for s in BpkStatus]
            + [f"Lewat tenggat {label}" for _key, _f, _l, label in AGE_BUCKETS])


def _tally_cells(tally: Tally) -> list[Any]:
    return ([getattr(tally, attr) for attr, _header, _kind in TALLY_COLUMNS] + [tally.bpk[s.value] for s in BpkStatus]
            + [tally.overdue[key] for key, *_ in AGE_BUCKETS])


def _rates(offset: int) -> frozenset[int]:
    return frozenset(offset + i for i, (_a, _h, kind) in enumerate(TALLY_COLUMNS) if kind == "rate")


def _agency_table(agencies: list[AgencyTally], totals: Tally) -> ReportTable:
    rows = [[a.agency_id, a.agency_name, a.region_code, *_tally_cells(a)] for a in agencies]
    rows.append(["Jumlah", "", "", *_tally_cells(totals)])
    return ReportTable("Per instansi", "Per instansi", ["Kode instansi", "Nama instansi", "Kode wilayah",
                                                        *_tally_headers()], rows, _rates(3))


def _region_table(title: str, regions: list[RegionTally]) -> ReportTable:
    return ReportTable(title, title, ["Kode wilayah", *_tally_headers()],
                       [[r.region_code, *_tally_cells(r)] for r in regions], _rates(1))


def tables(report: CycleReport) -> list[ReportTable]:
    t, score = report.totals, report.score_change
    summary = [
        ["Kerangka penilaian", report.framework],
        ["Siklus", report.cycle],
        ["Status laporan", "ditutup" if report.status == "closed" else "sementara (siklus belum ditutup)"],
        ["Per tanggal", report.as_of.isoformat()],
        ["Ditutup oleh", report.closed_by or ""],
        ["Wilayah", report.region or "semua"],
        ["Rekomendasi dihitung", t.counted],
        ["Tingkat penyelesaian", t.completion_rate],
        ["Tingkat penyelesaian termasuk TDTL", t.resolution_rate],
        ["Rata-rata hari sampai verifikasi", t.mean_days_to_verification],
    ]
    return [
        ReportTable("Ringkasan", "Ringkasan", ["Butir", "Nilai"], summary),
        _agency_table(report.agencies, t),
        _region_table("Per wilayah", report.regions),
        _region_table("Per provinsi", report.provinces),
        ReportTable("Status BPK", "Status BPK", ["Status", "Uraian", "Jumlah", "Persentase"],
                    [[b.status, b.label, b.count, b.share] for b in report.bpk], frozenset({3})),
        ReportTable("Umur tunggakan", "Umur tunggakan", ["Lewat tenggat", "Jumlah"],
                    [[b.label, b.count] for b in report.overdue]),
        ReportTable("Perubahan skor", "Perubahan skor",
                    ["Kelompok", "Jumlah rekomendasi", "Rata-rata perubahan skor"],
                    [["terverifikasi", score.verified.n, score.verified.mean],
                     ["kedaluwarsa", score.lapsed.n, score.lapsed.mean],
                     ["selisih (terverifikasi - kedaluwarsa)", "", score.difference]],
                    frozenset({2})),
    ]


def to_csv(report: CycleReport, *, excel: bool = False) -> str:
    """All tables in one CSV: title row, header row, rows, empty row. `excel`:
    as Indonesian Excel opens it (semicolon separator, a byte-order mark)."""
    buffer = io.StringIO()
    if excel:
        buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";" if excel else ",", lineterminator="\r\n" if excel else "\n")
    for table in tables(report):
        writer.writerow([table.title])
        writer.writerow(table.headers)
        writer.writerows([["" if cell is None else neutralise(cell) for cell in row] for row in table.rows])
        writer.writerow([])
    return buffer.getvalue()


def to_xlsx(report: CycleReport) -> bytes:
    """One sheet per table; rates formatted as percentages."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    for table in tables(report):
        sheet = workbook.create_sheet(table.sheet[:31])
        sheet.append(table.headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([neutralise(cell) for cell in row])
        for column in table.rate_columns:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=column + 1, max_col=column + 1):
                if isinstance(cell.value, float | int):
                    cell.number_format = "0.0%" if table.title != "Perubahan skor" else "+0.0%;-0.0%;0.0%"
        sheet.freeze_panes = "A2"
        for index, header in enumerate(table.headers, start=1):
            sheet.column_dimensions[sheet.cell(1, index).column_letter].width = min(max(len(header), 10) + 2, 40)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
