"""How people read dates, statuses and roles: in Bahasa Indonesia, with the
local time zone of the unit (`18 Februari 2025, 23.59 WIB`). Shared by the
web pages, the exports and the e-mails."""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import get_month_names

from tindaklanjut.domain.calendar import ZONE_LABELS, zone_for_region
from tindaklanjut.domain.labels import ACTION, PRIORITY, ROLE, STATUS  # noqa: F401 (the pages read them here)

REASON = {"force_majeure": "Keadaan kahar", "legal_process": "Dalam proses hukum",
          "regulation_changed": "Peraturan berubah", "organisation_restructured": "Organisasi direstrukturisasi",
          "other_lawful": "Alasan sah lainnya"}
REQUEST_KIND = {"extension": "Perpanjangan tenggat", "not_actionable": "Tidak dapat ditindaklanjuti"}
REQUEST_STATUS = {"pending": "Menunggu keputusan", "approved": "Disetujui", "rejected": "Ditolak"}


# Month names from the CLDR data (babel), read once: formatting a long list row by row through
# babel's pattern engine costs a quarter of a page's rendering time.
MONTHS = tuple(get_month_names("wide", locale="id")[m] for m in range(1, 13))


def tanggal(day: date) -> str:
    """`2025-02-18` -> `18 Februari 2025`."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def waktu(at: datetime, region_code: str | None = None) -> str:
    """An instant in the unit's time zone: `18 Februari 2025, 23.59 WIB`."""
    zone = zone_for_region(region_code or "31")
    local = at.astimezone(zone)
    return f"{tanggal(local)}, {local.hour:02d}.{local.minute:02d} {ZONE_LABELS.get(zone.key, zone.key)}"


def angka(value: float | int | None, digits: int = 0) -> str:
    """Indonesian number format: `1.234,5`."""
    if value is None:
        return "–"
    text = f"{value:,.{digits}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


FILTERS = {"tanggal": tanggal, "waktu": waktu, "status": lambda s: STATUS.get(s, s),
           "prioritas": lambda p: PRIORITY.get(p, p), "peran": lambda r: ROLE.get(r, r),
           "aksi": lambda a: ACTION.get(a, a), "alasan": lambda r: REASON.get(r, r or ""),
           "jenis_permohonan": lambda k: REQUEST_KIND.get(k, k),
           "status_permohonan": lambda s: REQUEST_STATUS.get(s, s), "angka": angka}
