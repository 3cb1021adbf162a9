"""The overdue list as files people open: CSV for Indonesian Excel
(semicolon separator, UTF-8 with BOM), XLSX with a link to each item's page,
and an A4 PDF with the charts, ready to print for a coordination meeting."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime

from tindaklanjut.adapters.report_export import XLSX_MEDIA_TYPE, neutralise
from tindaklanjut.formatting import PRIORITY, STATUS, tanggal

HEADERS = ("Instansi", "Unit", "Rekomendasi", "Indikator", "Prioritas", "Status", "Tenggat", "Hari terlambat",
           "Kerangka", "Siklus", "Tautan")
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
PDF_MEDIA_TYPE = "application/pdf"
__all__ = ["CSV_MEDIA_TYPE", "PDF_MEDIA_TYPE", "XLSX_MEDIA_TYPE", "overdue_csv", "overdue_pdf", "overdue_rows",
           "overdue_xlsx"]


def overdue_rows(groups: list[dict], public_url: str) -> Iterator[list]:
    for agency in groups:
        for unit in agency["units"]:
            for item in unit["items"]:
                yield [agency["agency_name"], unit["unit_name"], item["title"], item["indicator_code"] or "",
                       PRIORITY.get(item["priority"], item["priority"]), STATUS.get(item["status"], item["status"]),
                       tanggal(item["due_date"]), item["days_overdue"], item.get("framework") or "",
                       item.get("cycle") or "", f"{public_url}/rekomendasi/{item['id']}"]


def overdue_csv(groups: list[dict], public_url: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerows([neutralise(cell) for cell in row] for row in overdue_rows(groups, public_url))
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


def overdue_xlsx(groups: list[dict], public_url: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Terlambat"
    sheet.append(HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in overdue_rows(groups, public_url):
        sheet.append([neutralise(cell) for cell in row[:-1]] + ["Buka"])
        link = sheet.cell(sheet.max_row, len(HEADERS))
        link.hyperlink, link.style = row[-1], "Hyperlink"
    for letter, width in zip("ABCDEFGHIJK", (30, 30, 60, 10, 10, 22, 18, 14, 22, 8, 8)):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def overdue_pdf(html: str) -> bytes:
    """The print page rendered to A4 (WeasyPrint; the charts are inline SVG data)."""
    from weasyprint import HTML, URLFetcher

    # Only inline data (the charts): the PDF fetches nothing from anywhere.
    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf()


def stamp(now: datetime) -> str:
    return now.strftime("%Y%m%d")
