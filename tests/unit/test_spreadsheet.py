"""Spreadsheet import: the template round-trips, bad rows are named by number."""

import csv
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tindaklanjut.adapters.spreadsheet import COLUMNS, event_to_rows, import_results, write_rows
from tindaklanjut.domain.frameworks import load_frameworks

from tests.conftest import contract_examples

CATALOGUE = load_frameworks()
NOW = datetime(2025, 1, 6, tzinfo=timezone.utc)
TEMPLATES = Path(__file__).parents[2] / "docs" / "templates"


def _rows():
    return [row for document in contract_examples().values() for row in event_to_rows(document)]


@pytest.mark.parametrize("name", ["hasil-penilaian.xlsx", "hasil-penilaian.csv"])
def test_shipped_template_imports_into_the_contract_examples(name):
    result = import_results(TEMPLATES / name, CATALOGUE, now=NOW)
    assert result.errors == [] and result.rows == 25
    expected = {d["data"]["assessment_id"]: d["data"] for d in contract_examples().values()}
    assert {e["data"]["assessment_id"]: e["data"] for e in result.events} == expected
    assert {e["subject"] for e in result.events} == {"15.71/disdukcapil", "15.71/dpmptsp", "15/dinsos"}


def test_event_ids_are_stable_across_imports(tmp_path):
    path = tmp_path / "a.xlsx"
    write_rows(path, _rows())
    first = import_results(path, CATALOGUE, now=NOW)
    again = import_results(path, CATALOGUE, now=datetime(2025, 2, 1, tzinfo=timezone.utc))
    assert [e["id"] for e in first.events] == [e["id"] for e in again.events]


def test_semicolons_decimal_commas_and_naive_local_times_as_excel_writes_them(tmp_path):
    rows = event_to_rows(contract_examples()["pekppp-2024-prov-jambi-dinsos"])
    for row in rows:
        row["score"] = "3,57"
        row["published_at"] = "2024-12-20 09:00:00"      # no offset: local time of the region (WIB)
    path = tmp_path / "excel.csv"
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
    [event] = import_results(path, CATALOGUE, now=NOW).events
    assert event["data"]["score"] == 3.57
    assert event["data"]["published_at"] == "2024-12-20T09:00:00+07:00"


def test_invalid_rows_are_reported_with_their_row_numbers(tmp_path):
    rows = _rows()
    rows[1]["indicator_score"] = "banyak"          # spreadsheet row 3
    rows[6]["unit_name"] = None                    # row 8: a required cell left empty
    rows[12]["score"] = 99                         # row 14: disagrees with the other rows of DPMPTSP
    path = tmp_path / "bad.xlsx"
    write_rows(path, rows)
    result = import_results(path, CATALOGUE, now=NOW)
    messages = [str(e) for e in result.errors]
    assert messages[0].startswith("baris 3: kolom indicator_score")
    assert messages[1] == "baris 8: kolom wajib kosong: unit_name"
    assert messages[2].startswith("baris 14: kolom score berbeda dengan baris")
    assert result.skipped_assessments == ["ORI-2024-15.71-DISDUKCAPIL", "ORI-2024-15.71-DPMPTSP"]
    assert [e["data"]["assessment_id"] for e in result.events] == ["PEKPPP-2024-15-DINSOS"]


def test_an_event_level_problem_names_the_rows_of_that_assessment(tmp_path):
    rows = _rows()
    for row in rows:
        if row["assessment_id"] == "PEKPPP-2024-15-DINSOS":
            row["framework"] = "panrb-unknown"
    path = tmp_path / "bad.csv"
    write_rows(path, rows)
    [error] = import_results(path, CATALOGUE, now=NOW).errors
    assert str(error) == ("baris 20-26: penilaian PEKPPP-2024-15-DINSOS: framework 'panrb-unknown' "
                          "is not configured")


def test_duplicate_indicator_rows_are_refused(tmp_path):
    rows = _rows()
    rows.append(dict(rows[0]))
    path = tmp_path / "dup.csv"
    write_rows(path, rows)
    [error] = import_results(path, CATALOGUE, now=NOW).errors
    assert str(error) == "baris 27: indikator input.kompetensi.standar_pelayanan sudah ada di baris 2"


def test_other_file_types_are_refused(tmp_path):
    path = tmp_path / "x.ods"
    path.write_text("")
    with pytest.raises(ValueError, match="xlsx"):
        import_results(path, CATALOGUE, now=NOW)
