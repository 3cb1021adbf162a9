"""Evaluators' spreadsheets (XLSX or CSV, one row per indicator) -> one
`assessment.published` CloudEvent per unit assessment.

The template is documented in docs/spreadsheet-import.md and shipped in
docs/templates/. Rows are checked one by one (with their row numbers), then
each assembled event is checked exactly like an event from Kafka would be.
"""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from tindaklanjut.domain import ids
from tindaklanjut.domain.calendar import zone_for_region
from tindaklanjut.domain.frameworks import FrameworkCatalogue
from tindaklanjut.events.assessment import EVENT_TYPE
from tindaklanjut.ports.validation import Rejected, parse_assessment

COLUMNS = [
    "assessment_id", "revision", "framework", "cycle", "published_at", "follow_up_until",
    "evaluator_id", "evaluator_name", "unit_id", "unit_name", "agency_id", "agency_name", "agency_kind",
    "region_code", "score", "grade", "aspect_code", "aspect_name", "aspect_weight", "aspect_score",
    "aspect_max_score", "indicator_code", "indicator_name", "indicator_score", "indicator_max_score",
    "sp_component", "finding", "notes",
]
UNIT_FIELDS = ["framework", "cycle", "published_at", "follow_up_until", "evaluator_id", "evaluator_name",
               "unit_id", "unit_name", "agency_id", "agency_name", "agency_kind", "region_code", "score", "grade"]
ASPECT_FIELDS = ["aspect_name", "aspect_weight", "aspect_score", "aspect_max_score"]
REQUIRED = ["assessment_id", "revision", "framework", "cycle", "published_at", "evaluator_id", "evaluator_name",
            "unit_id", "unit_name", "agency_id", "agency_name", "agency_kind", "region_code", "score",
            "aspect_code", "aspect_name", "aspect_weight", "aspect_score", "aspect_max_score"]
INDICATOR_REQUIRED = ["indicator_name", "indicator_score", "indicator_max_score"]


def _number(value: Any) -> Any:
    """Accept Indonesian decimal commas ("88,41") as well as points."""
    if isinstance(value, str):
        text = value.strip()
        if "," in text and "." not in text:
            text = text.replace(",", ".")
        return text
    return value


class ResultRow(BaseModel):
    """One spreadsheet row, typed. Empty cells arrive as None."""

    model_config = ConfigDict(str_strip_whitespace=True)

    assessment_id: str
    revision: int
    framework: str
    cycle: str
    published_at: datetime
    follow_up_until: date | None = None
    evaluator_id: str
    evaluator_name: str
    unit_id: str
    unit_name: str
    agency_id: str
    agency_name: str
    agency_kind: str
    region_code: str
    score: float
    grade: str | None = None
    aspect_code: str
    aspect_name: str
    aspect_weight: float
    aspect_score: float
    aspect_max_score: float
    indicator_code: str | None = None
    indicator_name: str | None = None
    indicator_score: float | None = None
    indicator_max_score: float | None = None
    sp_component: int | None = None
    finding: str | None = None
    notes: str | None = None

    @field_validator("score", "aspect_weight", "aspect_score", "aspect_max_score", "indicator_score",
                     "indicator_max_score", "revision", "sp_component", mode="before")
    @classmethod
    def _numbers(cls, value: Any) -> Any:
        return _number(value)

    @field_validator("cycle", "region_code", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return str(int(value)) if isinstance(value, float) and value.is_integer() else (
            str(value) if isinstance(value, int) else value)

    def aware_published_at(self) -> datetime:
        """Naive times are read as local time of the unit's region (WIB/WITA/WIT)."""
        if self.published_at.tzinfo is not None:
            return self.published_at
        return self.published_at.replace(tzinfo=zone_for_region(self.region_code))


@dataclass
class RowError:
    rows: list[int]
    message: str

    def __str__(self) -> str:
        where = f"baris {self.rows[0]}" if len(self.rows) == 1 else f"baris {self.rows[0]}-{self.rows[-1]}"
        return f"{where}: {self.message}"


@dataclass
class ImportResult:
    events: list[dict] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0
    skipped_assessments: list[str] = field(default_factory=list)


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number as the evaluator sees it, cells by column) for each non-empty row."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as handle:
            header = handle.readline()
            handle.seek(0)
            # Excel with Indonesian settings writes ";" (the comma is the decimal separator).
            delimiter = max(",;\t", key=header.count)
            for number, row in enumerate(csv.DictReader(handle, delimiter=delimiter), start=2):
                cells = {(k or "").strip(): (v.strip() if isinstance(v, str) else v) or None for k, v in row.items()}
                if any(cells.values()):
                    yield number, cells
    elif suffix == ".xlsx":
        from openpyxl import load_workbook

        workbook = load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            rows = sheet.iter_rows(values_only=True)
            header = [str(h).strip() if h is not None else "" for h in next(rows, [])]
            for number, values in enumerate(rows, start=2):
                cells = {h: (v.strip() or None if isinstance(v, str) else v) for h, v in zip(header, values) if h}
                if any(v is not None for v in cells.values()):
                    yield number, cells
        finally:
            workbook.close()
    else:
        raise ValueError(f"{path.name}: only .xlsx and .csv spreadsheets are supported")


def _row_errors(exc: ValidationError) -> str:
    return "; ".join(f"kolom {'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                     for e in exc.errors(include_url=False, include_input=False))


def event_to_rows(document: dict) -> list[dict[str, Any]]:
    """The inverse of the import: one row per indicator (or per aspect without
    indicators). Used to write the template from the contract examples."""
    data = document["data"]
    unit = data["unit"]
    common = {
        "assessment_id": data["assessment_id"], "revision": data["revision"], "framework": data["framework"],
        "cycle": data["cycle"], "published_at": data["published_at"], "follow_up_until": data.get("follow_up_until"),
        "evaluator_id": data["evaluator"]["id"], "evaluator_name": data["evaluator"]["name"],
        "unit_id": unit["id"], "unit_name": unit["name"], "agency_id": unit["agency"]["id"],
        "agency_name": unit["agency"]["name"], "agency_kind": unit["agency"]["kind"],
        "region_code": unit["region_code"], "score": data["score"], "grade": data.get("grade"),
    }
    rows = []
    for aspect in data["aspects"]:
        aspect_cells = {"aspect_code": aspect["code"], "aspect_name": aspect["name"], "aspect_weight": aspect["weight"],
                        "aspect_score": aspect["score"], "aspect_max_score": aspect["max_score"]}
        for indicator in aspect["indicators"] or [None]:
            cells = dict(common, **aspect_cells)
            if indicator:
                cells.update(indicator_code=indicator["code"], indicator_name=indicator["name"],
                             indicator_score=indicator["score"], indicator_max_score=indicator["max_score"],
                             sp_component=indicator.get("sp_component"), finding=indicator.get("finding"))
            rows.append(cells)
    if rows and data.get("notes"):
        rows[0]["notes"] = " | ".join(data["notes"])
    return [{column: row.get(column) for column in COLUMNS} for row in rows]


def write_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write rows in the template's column order as .csv or .xlsx."""
    if path.suffix.lower() == ".csv":
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        return
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "hasil_penilaian"
    sheet.append(COLUMNS)
    for row in rows:
        sheet.append([row.get(column) for column in COLUMNS])
    sheet.freeze_panes = "A2"
    workbook.save(path)


def _build_event(rows: list[tuple[int, ResultRow]], now: datetime) -> dict:
    first = rows[0][1]
    aspects: dict[str, dict] = {}
    notes: list[str] = []
    for _, row in rows:
        aspect = aspects.setdefault(row.aspect_code, {
            "code": row.aspect_code, "name": row.aspect_name, "weight": row.aspect_weight,
            "score": row.aspect_score, "max_score": row.aspect_max_score, "indicators": []})
        if row.indicator_code:
            indicator = {"code": row.indicator_code, "name": row.indicator_name, "score": row.indicator_score,
                         "max_score": row.indicator_max_score}
            if row.sp_component is not None:
                indicator["sp_component"] = row.sp_component
            if row.finding:
                indicator["finding"] = row.finding
            aspect["indicators"].append(indicator)
        for note in (row.notes or "").split("|"):
            if note.strip() and note.strip() not in notes:
                notes.append(note.strip())
    source = f"urn:evaluator:{first.evaluator_id}"
    data = {
        "assessment_id": first.assessment_id, "revision": first.revision, "framework": first.framework,
        "cycle": first.cycle, "published_at": first.aware_published_at().isoformat(),
        "evaluator": {"id": first.evaluator_id, "name": first.evaluator_name},
        "unit": {"id": first.unit_id, "name": first.unit_name, "region_code": first.region_code,
                 "agency": {"id": first.agency_id, "name": first.agency_name, "kind": first.agency_kind}},
        "score": first.score, "aspects": list(aspects.values()), "notes": notes,
    }
    if first.follow_up_until:
        data["follow_up_until"] = first.follow_up_until.isoformat()
    if first.grade:
        data["grade"] = first.grade
    # The same sheet imported twice yields the same event ids (de-duplicated downstream).
    event_id = ids.name_based(uuid.NAMESPACE_URL, f"{source}/{first.assessment_id}/{first.revision}")
    return {"specversion": "1.0", "id": event_id, "source": source, "type": EVENT_TYPE, "time": now.isoformat(),
            "datacontenttype": "application/json", "subject": first.unit_id, "data": data}


def _consistency_errors(rows: list[tuple[int, ResultRow]]) -> list[RowError]:
    errors = []
    first_number, first = rows[0]
    for number, row in rows[1:]:
        for name in UNIT_FIELDS:
            if getattr(row, name) != getattr(first, name):
                errors.append(RowError([number], f"kolom {name} berbeda dengan baris {first_number} "
                                                 f"untuk penilaian {first.assessment_id}"))
    by_aspect: dict[str, tuple[int, ResultRow]] = {}
    seen_indicators: dict[str, int] = {}
    for number, row in rows:
        earlier = by_aspect.setdefault(row.aspect_code, (number, row))
        for name in ASPECT_FIELDS:
            if getattr(row, name) != getattr(earlier[1], name):
                errors.append(RowError([number], f"kolom {name} berbeda dengan baris {earlier[0]} "
                                                 f"untuk aspek {row.aspect_code}"))
        if row.indicator_code:
            if row.indicator_code in seen_indicators:
                errors.append(RowError([number], f"indikator {row.indicator_code} sudah ada di baris "
                                                 f"{seen_indicators[row.indicator_code]}"))
            seen_indicators[row.indicator_code] = number
    return errors


def import_results(path: Path, catalogue: FrameworkCatalogue, *, now: datetime,
                   progress: Callable[[int], None] | None = None) -> ImportResult:
    """Read a results spreadsheet into events; every problem is reported with its row number."""
    result = ImportResult()
    groups: dict[tuple[str, int], list[tuple[int, ResultRow]]] = {}
    broken_assessments: set[str] = set()
    for number, cells in read_rows(path):
        result.rows += 1
        if progress:
            progress(1)
        unknown = [c for c in cells if c not in COLUMNS]
        missing = [c for c in REQUIRED if cells.get(c) in (None, "")]
        if cells.get("indicator_code"):
            missing += [c for c in INDICATOR_REQUIRED if cells.get(c) in (None, "")]
        if unknown and result.rows == 1:
            result.errors.append(RowError([1], f"kolom tidak dikenal: {', '.join(unknown)}"))
        if missing:
            result.errors.append(RowError([number], f"kolom wajib kosong: {', '.join(missing)}"))
            broken_assessments.add(str(cells.get("assessment_id")))
            continue
        try:
            row = ResultRow.model_validate({k: v for k, v in cells.items() if k in COLUMNS})
        except ValidationError as exc:
            result.errors.append(RowError([number], _row_errors(exc)))
            broken_assessments.add(str(cells.get("assessment_id")))
            continue
        groups.setdefault((row.assessment_id, row.revision), []).append((number, row))

    for (assessment_id, _revision), rows in groups.items():
        numbers = [n for n, _ in rows]
        problems = _consistency_errors(rows)
        if problems:
            result.errors.extend(problems)
            broken_assessments.add(assessment_id)
            continue
        if assessment_id in broken_assessments:
            continue
        event = _build_event(rows, now)
        try:
            parse_assessment(json.dumps(event).encode(), catalogue)
        except Rejected as rejected:
            result.errors.append(RowError(numbers, f"penilaian {assessment_id}: {rejected.message}"))
            broken_assessments.add(assessment_id)
            continue
        result.events.append(event)
    result.skipped_assessments = sorted(a for a in broken_assessments if a != "None")
    return result
