"""Server-side SVG charts (pygal, no script), so they look the same in the
browser, in the PDF and in e-mail."""

from __future__ import annotations

import base64
import re
from functools import lru_cache
from collections.abc import Sequence

import pygal
from pygal.style import Style

from tindaklanjut.api.summary import Summary
from tindaklanjut.formatting import angka

RED, BLUE, GREEN = "#b42318", "#1d4ed8", "#15803d"


def _style(color: str) -> Style:
    return Style(background="white", plot_background="white", foreground="#1f2933", foreground_strong="#1f2933",
                 foreground_subtle="#52606d", colors=(color,), font_family="DejaVu Sans, Arial, sans-serif",
                 title_font_size=16, label_font_size=12, major_label_font_size=12, value_font_size=12,
                 legend_font_size=12, no_data_font_size=18)


def _axis(values: Sequence[float], digits: int) -> dict:
    """Whole-number axes for counts (no `0, 0, 1, 1` labels), at most about six steps."""
    if digits or not values:
        return {}
    top = max(1, int(max(values)))
    step = max(1, -(-top // 5))
    return {"y_labels": list(range(0, top + step, step))}


def bars(title: str, pairs: Sequence[tuple[str, float]], *, horizontal: bool = False, digits: int = 0,
         empty: str = "Belum ada data", color: str = RED) -> bytes:
    """A bar chart as SVG. Rendering costs pygal ~15 ms, so the same data gives the cached drawing."""
    return _bars(title, tuple((str(label), value) for label, value in pairs), horizontal, digits, empty, color)


@lru_cache(maxsize=512)
def _bars(title: str, pairs: tuple[tuple[str, float], ...], horizontal: bool, digits: int, empty: str,
          color: str) -> bytes:
    chart_type = pygal.HorizontalBar if horizontal else pygal.Bar
    chart = chart_type(title=title, style=_style(color), js=[], show_legend=False, print_values=True, width=640,
                       height=max(240, 60 + 32 * len(pairs)) if horizontal else 320, explicit_size=False, margin=12,
                       value_formatter=lambda v: angka(v, digits) if v is not None else "",
                       no_data_text=empty, **_axis([v for _, v in pairs], digits))
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
        "selesai-per-bulan": bars("Terverifikasi per bulan", [(_month(m), n) for m, n in data.verified_by_month],
                                  color=GREEN),
        "perubahan-nilai": bars("Rata-rata perubahan nilai indikator pada siklus berikutnya",
                                [(label, value) for label, value in score if value is not None], digits=2,
                                empty="Belum ada siklus berikutnya", color=BLUE),
    }


def data_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
