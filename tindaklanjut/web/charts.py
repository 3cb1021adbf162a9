"""Server-side SVG charts (pygal, no script), so they look the same in the
browser, in the PDF and in e-mail."""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence

import pygal
from pygal.style import Style

from tindaklanjut.api.summary import Summary
from tindaklanjut.formatting import angka

STYLE = Style(background="white", plot_background="white", foreground="#1f2933", foreground_strong="#1f2933",
              foreground_subtle="#52606d", colors=("#b42318", "#1d4ed8", "#15803d", "#a16207"),
              font_family="DejaVu Sans, Arial, sans-serif", title_font_size=16, label_font_size=12,
              major_label_font_size=12, value_font_size=12, legend_font_size=12)


def _config(title: str, horizontal: bool = False, **extra) -> dict:
    return dict(title=title, style=STYLE, js=[], show_legend=False, print_values=True, width=640,
                height=max(240, 40 + 28 * extra.pop("rows", 6)) if horizontal else 320,
                value_formatter=lambda v: angka(v, extra.pop("digits", 0)) if v is not None else "",
                explicit_size=False, margin=12, **extra)


def bars(title: str, pairs: Sequence[tuple[str, float]], *, horizontal: bool = False, digits: int = 0,
         empty: str = "Belum ada data") -> bytes:
    chart_type = pygal.HorizontalBar if horizontal else pygal.Bar
    chart = chart_type(**_config(title, horizontal, rows=len(pairs), digits=digits))
    if not pairs:
        chart.no_data_text = empty
    chart.x_labels = [label for label, _ in pairs]
    chart.add(title, [value for _, value in pairs])
    # pygal leaves an inline configuration script for its optional tooltips: a chart here runs no script.
    return SCRIPT.sub(b"", chart.render())


SCRIPT = re.compile(rb"<script\b.*?</script>", re.S)
MONTHS_SHORT = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")


def _month(label: str) -> str:
    year, month = label.split("-")
    return f"{MONTHS_SHORT[int(month) - 1]} {year}"


def summary_charts(data: Summary) -> dict[str, bytes]:
    """Every chart of the summary page, by name."""
    score = [("Terverifikasi", data.score_change.get("verified", (None, 0))[0]),
             ("Kedaluwarsa", data.score_change.get("lapsed", (None, 0))[0])]
    return {
        "terlambat-per-instansi": bars("Rekomendasi terlambat per instansi", data.overdue_by_agency,
                                       horizontal=True, empty="Tidak ada yang terlambat"),
        "terlambat-per-umur": bars("Umur keterlambatan", data.overdue_by_age, empty="Tidak ada yang terlambat"),
        "selesai-per-bulan": bars("Terverifikasi per bulan", [(_month(m), n) for m, n in data.verified_by_month]),
        "perubahan-nilai": bars("Rata-rata perubahan nilai indikator pada siklus berikutnya",
                                [(label, value) for label, value in score if value is not None], digits=2,
                                empty="Belum ada siklus berikutnya"),
    }


def data_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
