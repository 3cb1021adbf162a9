"""Cycle close and cycle report through the HTTP API, on both databases."""

import csv
import io
import json
from datetime import datetime, timezone

from openpyxl import load_workbook

from tindaklanjut.ports.messages import IngestAssessment, Origin

from tests.integration.api_helpers import api_client, auth

CLOSE = datetime(2025, 7, 1, 3, 0, tzinfo=timezone.utc)
REPORT = "/api/v1/cycles/panrb-pekppp/2024/report"
CLOSE_URL = "/api/v1/cycles/panrb-pekppp/2024/close"


def _same_assessment_elsewhere(document: dict, *, unit: str, agency: dict, region: str) -> dict:
    copy = json.loads(json.dumps(document))
    copy["id"] = f"pekppp-2024-{unit}"
    copy["data"]["assessment_id"] = f"PEKPPP-2024-{unit}"
    copy["data"]["unit"].update(id=unit, agency=agency, region_code=region)
    return copy


async def _three_regions(client, examples) -> None:
    """PEKPPP 2024 for Pemprov Jambi (15), Pemkot Jambi (15.71) and Pemprov Aceh (11): three each."""
    dinsos = examples["pekppp-2024-prov-jambi-dinsos"]
    more = [_same_assessment_elsewhere(dinsos, unit="15.71/dinsos", region="15.71",
                                       agency={"id": "15.71", "name": "Pemerintah Kota Jambi", "kind": "pemkot"}),
            _same_assessment_elsewhere(dinsos, unit="11/dinsos", region="11",
                                       agency={"id": "11", "name": "Pemerintah Aceh", "kind": "pemprov"})]
    await client.container.ingest([IngestAssessment(raw=json.dumps(d).encode(), origin=Origin(topic="t", offset=i))
                                   for i, d in enumerate(more, start=10)])


def _csv_sections(text: str) -> dict[str, list[list[str]]]:
    sections, rows = {}, list(csv.reader(io.StringIO(text)))
    i = 0
    while i < len(rows):
        title, header = rows[i][0], rows[i + 1]
        i += 2
        body = []
        while i < len(rows) and rows[i]:
            body.append(dict(zip(header, rows[i])))
            i += 1
        sections[title] = body
        i += 1
    return sections


async def test_evaluators_close_a_cycle_once(settings, examples):
    async with api_client(settings, examples) as client:
        client.clock.now = CLOSE
        for who in ("prov", "sekda_prov"):
            r = await client.post(CLOSE_URL, headers=auth(client, who))
            assert r.status_code == 403, (who, r.text)
        r = await client.post(CLOSE_URL, headers=auth(client, "evaluator"))
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["lapsed"], body["already_closed"], body["closed_by"]) == (3, False, "evaluator-ori")
        assert body["report"]["totals"]["lapsed"] == 3 and body["report"]["status"] == "closed"
        assert {x["status"] for x in (await client.get("/api/v1/recommendations", headers=auth(client, "prov"),
                                                       params={"unit": "15/dinsos"})).json()} == {"lapsed"}

        r = await client.post(CLOSE_URL, headers=auth(client, "evaluator2"))
        assert (r.json()["already_closed"], r.json()["lapsed"], r.json()["closed_by"]) == (True, 0, "evaluator-ori")
        r = await client.post("/api/v1/cycles/panrb-pekppp/2019/close", headers=auth(client, "evaluator"))
        assert r.status_code == 404 and r.json()["code"] == "not_found"
        r = await client.post("/api/v1/cycles/panrb-pekppp/24/close", headers=auth(client, "evaluator"))
        assert r.status_code == 422
        r = await client.post(CLOSE_URL)
        assert r.status_code == 401


async def test_secretaries_see_the_report_of_their_regions_agencies_only(settings, examples):
    async with api_client(settings, examples) as client:
        await _three_regions(client, examples)
        client.clock.now = CLOSE
        assert (await client.post(CLOSE_URL, headers=auth(client, "evaluator"))).status_code == 200

        seen = {}
        for who in ("evaluator", "sekda_prov", "sekda_kota", "sekda_aceh"):
            r = await client.get(REPORT, headers=auth(client, who))
            assert r.status_code == 200, r.text
            seen[who] = r.json()
        assert [a["agency_id"] for a in seen["evaluator"]["agencies"]] == ["11", "15", "15.71"]
        assert [a["agency_id"] for a in seen["sekda_prov"]["agencies"]] == ["15", "15.71"]
        assert [a["agency_id"] for a in seen["sekda_kota"]["agencies"]] == ["15.71"]
        assert [a["agency_id"] for a in seen["sekda_aceh"]["agencies"]] == ["11"]
        assert [seen[w]["totals"]["counted"] for w in seen] == [9, 6, 3, 3]
        assert [p["region_code"] for p in seen["sekda_prov"]["provinces"]] == ["15"]
        assert (seen["sekda_prov"]["region"], seen["evaluator"]["region"]) == ("15", None)
        assert seen["sekda_kota"]["bpk"][2] == {"status": "belum_ditindaklanjuti",
                                                "label": "Rekomendasi belum ditindaklanjuti", "count": 3,
                                                "share": 1.0}
        r = await client.get(REPORT, headers=auth(client, "kota"))
        assert r.status_code == 403


async def test_the_report_as_csv_and_xlsx(settings, examples):
    async with api_client(settings, examples) as client:
        await _three_regions(client, examples)
        client.clock.now = CLOSE
        await client.post(CLOSE_URL, headers=auth(client, "evaluator"))

        r = await client.get(REPORT, headers=auth(client, "sekda_prov"), params={"format": "csv"})
        assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
        assert 'filename="laporan-siklus-panrb-pekppp-2024.csv"' in r.headers["content-disposition"]
        sections = _csv_sections(r.text)
        assert list(sections) == ["Ringkasan", "Per instansi", "Per wilayah", "Per provinsi", "Status BPK",
                                  "Umur tunggakan", "Perubahan skor"]
        agencies = sections["Per instansi"]
        assert [(a["Kode instansi"], a["Dihitung"], a["Kedaluwarsa"]) for a in agencies] == [
            ("15", "3", "3"), ("15.71", "3", "3"), ("Jumlah", "6", "6")]      # Aceh is not the province's
        assert [(b["Status"], b["Jumlah"]) for b in sections["Status BPK"]] == [
            ("sesuai", "0"), ("belum_sesuai", "0"), ("belum_ditindaklanjuti", "6"),
            ("tidak_dapat_ditindaklanjuti", "0")]
        # all six were due on 18 Feb 2025 (medium priority): 133 days late on 1 July
        assert [(b["Lewat tenggat"], b["Jumlah"]) for b in sections["Umur tunggakan"]] == [
            ("1-30 hari", "0"), ("31-60 hari", "0"), ("61-90 hari", "0"), ("> 90 hari", "6")]

        r = await client.get(REPORT, headers=auth(client, "evaluator"), params={"format": "xlsx"})
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        workbook = load_workbook(io.BytesIO(r.content))
        assert workbook.sheetnames == ["Ringkasan", "Per instansi", "Per wilayah", "Per provinsi", "Status BPK",
                                       "Umur tunggakan", "Perubahan skor"]
        rows = list(workbook["Per instansi"].iter_rows(values_only=True))
        header = rows[0]
        assert [(row[0], row[header.index("Dihitung")], row[header.index("Tingkat penyelesaian")])
                for row in rows[1:]] == [("11", 3, 0.0), ("15", 3, 0.0), ("15.71", 3, 0.0), ("Jumlah", 9, 0.0)]
        assert workbook["Per instansi"].cell(2, header.index("Tingkat penyelesaian") + 1).number_format == "0.0%"
        assert [row[0] for row in workbook["Per provinsi"].iter_rows(min_row=2, values_only=True)] == ["11", "15"]

        r = await client.get(REPORT, headers=auth(client, "evaluator"), params={"format": "pdf"})
        assert r.status_code == 422


async def test_an_open_cycle_has_a_provisional_report_and_openapi_declares_the_formats(settings, examples):
    async with api_client(settings, examples) as client:
        r = await client.get("/api/v1/cycles/ombudsman-kepatuhan/2024/report", headers=auth(client, "sekda_kota"))
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["status"], body["totals"]["open"], body["totals"]["lapsed"], body["closed_by"]) == (
            "provisional", 5, 0, None)
        r = await client.get("/api/v1/cycles/ombudsman-kepatuhan/2030/report", headers=auth(client, "evaluator"))
        assert r.status_code == 404

        spec = (await client.get("/openapi.json")).json()
        report = spec["paths"]["/api/v1/cycles/{framework}/{cycle}/report"]["get"]
        assert set(report["responses"]["200"]["content"]) == {
            "application/json", "text/csv",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        assert {"401", "403", "404"} <= set(report["responses"])
        assert "/api/v1/cycles/{framework}/{cycle}/close" in spec["paths"]
