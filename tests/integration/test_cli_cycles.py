"""`tindaklanjut cycle close|report` as a process, on both databases."""

import csv
import io
import json
from datetime import datetime, timezone

from openpyxl import load_workbook

from tindaklanjut.bootstrap import bootstrap
from tindaklanjut.ports.messages import IngestAssessment, Origin

from tests.kafka_helpers import cli, settings_env


async def test_close_then_export_the_report_as_csv_and_xlsx(settings, examples, tmp_path):
    container = bootstrap(settings, clock=lambda: datetime(2024, 12, 21, 1, 0, tzinfo=timezone.utc))
    try:
        await container.ingest([IngestAssessment(raw=json.dumps(d).encode(), origin=Origin(topic="t", offset=i))
                                for i, d in enumerate(examples.values())])
    finally:
        await container.close()
    env = settings_env(settings)

    closed = cli("cycle", "close", "--framework", "ombudsman-kepatuhan", "--cycle", "2024", "--by", "evaluator-ori",
                 env=env)
    assert closed.returncode == 0, closed.stderr
    assert "siklus ombudsman-kepatuhan 2024 ditutup: 5 rekomendasi kedaluwarsa" in closed.stdout

    exported = cli("cycle", "report", "--framework", "ombudsman-kepatuhan", "--cycle", "2024", "--format", "csv",
                   env=env)
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.reader(io.StringIO(exported.stdout)))
    assert rows[0] == ["Ringkasan"] and ["Ditutup oleh", "evaluator-ori"] in rows
    start = rows.index(["Per instansi"])
    header, agency, total = rows[start + 1], rows[start + 2], rows[start + 3]
    assert dict(zip(header, agency))["Kode instansi"] == "15.71"
    assert {k: dict(zip(header, total))[k] for k in ("Kode instansi", "Dihitung", "Kedaluwarsa",
                                                     "Tingkat penyelesaian", "BPK: belum ditindaklanjuti")} == {
        "Kode instansi": "Jumlah", "Dihitung": "5", "Kedaluwarsa": "5", "Tingkat penyelesaian": "0.0",
        "BPK: belum ditindaklanjuti": "5"}

    path = tmp_path / "laporan.xlsx"
    written = cli("cycle", "report", "-f", "ombudsman-kepatuhan", "-c", "2024", "--format", "xlsx",
                  "--output", str(path), env=env)
    assert written.returncode == 0, written.stderr
    assert load_workbook(path)["Status BPK"]["C4"].value == 5          # belum ditindaklanjuti
