"""The API under a careless client and a hostile user, on both databases:
decisions serialised, bodies bounded before they are read, authentication
first and rate-limited, idempotent writes, safe uploads and exports."""

import asyncio
import re
import copy
import io
import json
import tracemalloc
import uuid
import zipfile

import openpyxl
from sqlalchemy import func, select

from tindaklanjut.adapters import orm
from tindaklanjut.adapters.orm_followup import AuditEntryRow, EvidenceRow
from tindaklanjut.api import queries
from tindaklanjut.api.guard import FailedLogins
from tindaklanjut.domain.lifecycle import Role
from tindaklanjut.service_layer import users

from tests.integration.api_helpers import PDF, api_client, auth

KOTA = "15.71"


def _copies(examples, count: int) -> list[dict]:
    """`count` more Kota Jambi units, four recommendations each."""
    base = examples["ombudsman-2024-kota-jambi-disdukcapil"]
    documents = []
    for i in range(count):
        document = copy.deepcopy(base)
        document["id"] = str(uuid.uuid4())
        data = document["data"]
        data["assessment_id"] += f"-copy{i}"
        data["unit"]["id"] += f"-{i}"
        data["unit"]["name"] += f" {i}"
        documents.append(document)
    return documents


async def _kota_ids(client, status="open") -> list[str]:
    """The city's items that can be submitted without a rencana aksi first."""
    response = await client.get("/api/v1/recommendations", headers=auth(client, "kota"),
                                params={"status": status, "limit": 1000})
    return [r["id"] for r in response.json() if not r["needs_plan"]]


async def _submitted(client, rid: str) -> None:
    r = await client.post(f"/api/v1/recommendations/{rid}/links", headers=auth(client, "kota"),
                          json={"url": "https://kotajambi.go.id/sp", "description": "SK"})
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/v1/recommendations/{rid}/submit", headers=auth(client, "kota"), json={})
    assert r.status_code == 200, r.text


async def test_concurrent_verify_and_request_changes_give_exactly_one_success(settings, examples):
    async with api_client(settings, examples, extra_documents=_copies(examples, 6)) as client:
        ids = (await _kota_ids(client))[:20]
        assert len(ids) == 20
        for rid in ids:
            await _submitted(client, rid)
        outcomes = []
        for rid in ids:
            verify, changes = await asyncio.gather(
                client.post(f"/api/v1/recommendations/{rid}/verify", headers=auth(client, "evaluator"), json={}),
                client.post(f"/api/v1/recommendations/{rid}/request-changes", headers=auth(client, "evaluator2"),
                            json={"comment": "lengkapi"}))
            codes = sorted([verify.status_code, changes.status_code])
            assert codes == [200, 409], (verify.text, changes.text)
            loser = verify if verify.status_code == 409 else changes
            assert loser.json()["code"] in ("conflict", "illegal_transition")
            winner = "verified" if verify.status_code == 200 else "changes_requested"
            detail = (await client.get(f"/api/v1/recommendations/{rid}", headers=auth(client, "kota"))).json()
            assert detail["status"] == winner
            outcomes.append(winner)
        async with client.container.sessions() as session:
            decisions = await session.scalar(select(func.count()).select_from(AuditEntryRow).where(
                AuditEntryRow.recommendation_id.in_(ids), AuditEntryRow.action.in_(["verified", "changes_requested"])))
        assert decisions == 20          # one decision per pair in the audit trail


async def test_concurrent_approve_and_reject_of_one_request_give_exactly_one_success(settings, examples):
    async with api_client(settings, examples, extra_documents=_copies(examples, 3)) as client:
        ids = (await _kota_ids(client))[:10]
        for rid in ids:
            r = await client.post(f"/api/v1/recommendations/{rid}/extension", headers=auth(client, "kota"),
                                  json={"new_due_date": "2025-06-30", "reason": "anggaran perubahan"})
            assert r.status_code == 201, r.text
            request_id = r.json()["id"]
            approve, reject = await asyncio.gather(
                client.post(f"/api/v1/requests/{request_id}/approve", headers=auth(client, "evaluator"), json={}),
                client.post(f"/api/v1/requests/{request_id}/reject", headers=auth(client, "evaluator2"), json={}))
            assert sorted([approve.status_code, reject.status_code]) == [200, 409], (approve.text, reject.text)
            detail = (await client.get(f"/api/v1/recommendations/{rid}", headers=auth(client, "kota"))).json()
            # A rejection never grants the new date; an approval always does.
            assert (detail["due_date"] == "2025-06-30") == (approve.status_code == 200)


async def test_concurrent_evidence_links_all_succeed_with_distinct_versions(settings, examples):
    async with api_client(settings, examples) as client:
        rid = (await _kota_ids(client))[0]
        answers = await asyncio.gather(*[
            client.post(f"/api/v1/recommendations/{rid}/links", headers=auth(client, "kota"),
                        json={"url": f"https://kotajambi.go.id/bukti/{i}"}) for i in range(10)])
        assert [a.status_code for a in answers] == [201] * 10, [a.text for a in answers if a.status_code != 201]
        assert sorted(a.json()["version"] for a in answers) == list(range(1, 11))


async def test_a_body_is_not_read_before_authentication(settings, examples):
    async with api_client(settings, examples) as client:
        pulled = {"chunks": 0}

        async def body():
            for _ in range(200):            # 200 MiB on offer
                pulled["chunks"] += 1
                yield b"x" * (1024 * 1024)

        r = await client.post("/api/v1/assessments", content=body(), headers={"Content-Type": "application/json"})
        assert r.status_code == 401 and r.json()["code"] == "unauthenticated"
        assert pulled["chunks"] <= 1
        r = await client.post("/api/v1/recommendations/x/evidence", content=b"x" * 100,
                              headers={"Content-Length": str(100 * 1024 * 1024)})
        assert r.status_code == 401


async def test_bodies_over_the_limit_are_refused_while_streaming(settings, examples):
    async with api_client(settings, examples) as client:
        pulled = {"chunks": 0}

        async def body():
            for _ in range(50):
                pulled["chunks"] += 1
                yield b" " * (256 * 1024)

        r = await client.post("/api/v1/assessments", content=body(), headers=auth(client, "evaluator"))
        assert r.status_code == 413 and r.json()["code"] == "too_large"
        assert pulled["chunks"] <= 6          # stopped just past 1 MiB, not after 12.5 MiB
        r = await client.post("/api/v1/assessments", content=b"{}",
                              headers={**auth(client, "evaluator"), "Content-Length": str(2 * 1024 * 1024)})
        assert r.status_code == 413


async def test_poison_assessments_over_http_are_4xx_and_valid_ones_go_to_the_outbox(settings, examples):
    document = copy.deepcopy(examples["pekppp-2024-prov-jambi-dinsos"])
    async with api_client(settings, examples) as client:
        headers = {**auth(client, "evaluator"), "Content-Type": "application/json"}
        nested = json.dumps(document)[:-1] + ', "deep": ' + "[" * 5000 + "]" * 5000 + "}"
        for body, code in [(nested, "too_deep"),
                           (json.dumps({**document, "data": {**document["data"], "revision": 2**31}}),
                            "invalid_payload"),
                           (json.dumps({**document, "data": {**document["data"], "score": "3.2"}}), "invalid_payload"),
                           (json.dumps(document).replace('"Dinas Sosial', '"Dinas\\u0000Sosial', 1), "nul_character"),
                           (json.dumps(document).replace('"revision": 1', '"revision": Infinity', 1),
                            "number_out_of_range")]:
            r = await client.post("/api/v1/assessments", content=body, headers=headers)
            assert (r.status_code, r.json()["code"]) == (400, code), r.text
        document["id"] = str(uuid.uuid4())
        r = await client.post("/api/v1/assessments", content=json.dumps(document), headers=headers)
        assert r.status_code == 202 and r.json()["topic"] == "assessment.published"
        async with client.container.sessions() as session:
            row = await session.scalar(select(orm.OutboxRow).where(orm.OutboxRow.event_id == document["id"]))
        assert row.topic == "assessment.published" and row.key == "15/dinsos" and row.published_at is None
        assert json.loads(row.value) == document


async def test_failed_authentications_are_rate_limited_per_client(settings, examples):
    now = {"t": 1000.0}
    limiter = FailedLogins(limit=10, window=60.0, clock=lambda: now["t"])
    async with api_client(settings, examples, failed_logins=limiter) as client:
        for _ in range(10):
            r = await client.get("/api/v1/recommendations", headers={"Authorization": "Bearer wrong"})
            assert r.status_code == 401
        r = await client.get("/api/v1/recommendations", headers=auth(client, "kota"))
        assert r.status_code == 429 and int(r.headers["retry-after"]) == 60
        assert "coba lagi" in r.json()["message"]
        now["t"] += 61
        r = await client.get("/api/v1/recommendations", headers=auth(client, "kota"))
        assert r.status_code == 200


async def test_revoked_and_expired_tokens_are_refused(settings, examples):
    from datetime import timedelta

    async with api_client(settings, examples) as client:
        assert (await client.get("/api/v1/recommendations", headers=auth(client, "kota"))).status_code == 200
        await users.revoke_token(client.container.uow, "operator-kota-jambi")
        r = await client.get("/api/v1/recommendations", headers=auth(client, "kota"))
        assert r.status_code == 401 and "dicabut" in r.json()["message"]
        token = await users.add_user(client.container.uow, "sebentar", Role.EVALUATOR,
                                     expires_in=timedelta(seconds=-1))
        r = await client.get("/api/v1/recommendations", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401
        states = {row["name"]: row["state"] for row in await users.list_users(client.container.uow)}
        assert (states["operator-kota-jambi"], states["sebentar"], states["evaluator-ori"]) == \
            ("revoked", "expired", "active")


async def test_every_answer_carries_security_headers_and_errors_hide_internals(settings, examples, monkeypatch):
    async with api_client(settings, examples) as client:
        for r in [await client.get("/api/v1/recommendations", headers=auth(client, "kota")),
                  await client.get("/api/v1/recommendations"), await client.get("/nowhere")]:
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["x-frame-options"] == "DENY"
            assert "frame-ancestors 'none'" in r.headers["content-security-policy"]

        async def broken(*args, **kwargs):
            raise RuntimeError("password=hunter2 at db.internal")

        monkeypatch.setattr(queries, "list_requests", broken)
        r = await client.get("/api/v1/requests", headers=auth(client, "evaluator"))
        assert r.status_code == 500
        body = r.json()
        assert body["code"] == "internal_error" and r.headers["x-error-id"] in body["message"]
        assert "hunter2" not in r.text and "RuntimeError" not in r.text


async def test_an_idempotency_key_replays_the_first_answer(settings, examples):
    async with api_client(settings, examples) as client:
        rid = (await _kota_ids(client))[0]
        headers = {**auth(client, "kota"), "Idempotency-Key": "catat-1"}
        first = await client.post(f"/api/v1/recommendations/{rid}/actions", headers=headers,
                                  json={"comment": "rapat koordinasi"})
        second = await client.post(f"/api/v1/recommendations/{rid}/actions", headers=headers,
                                   json={"comment": "rapat koordinasi"})
        assert first.status_code == second.status_code == 200
        assert second.json() == first.json() and second.headers["idempotency-replayed"] == "true"
        async with client.container.sessions() as session:
            recorded = await session.scalar(select(func.count()).select_from(AuditEntryRow).where(
                AuditEntryRow.recommendation_id == rid, AuditEntryRow.action == "action_recorded"))
        assert recorded == 1
        # Another user's identical key is another request.
        other = await client.post(f"/api/v1/recommendations/{rid}/actions",
                                  headers={**auth(client, "prov"), "Idempotency-Key": "catat-1"},
                                  json={"comment": "x"})
        assert other.status_code == 404


def _zip_bomb(expanded: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("mimetype", "w", force_zip64=True) as entry:
            chunk = b"\0" * (4 * 1024 * 1024)
            for _ in range(expanded // len(chunk)):
                entry.write(chunk)
    return buffer.getvalue()


async def test_a_zip_bomb_is_refused_without_expanding_it(settings, examples):
    bomb = _zip_bomb(256 * 1024 * 1024)
    assert len(bomb) < 1024 * 1024
    async with api_client(settings, examples) as client:
        rid = (await _kota_ids(client))[0]
        tracemalloc.start()
        try:
            r = await client.post(f"/api/v1/recommendations/{rid}/evidence", headers=auth(client, "kota"),
                                  files={"file": ("laporan.odt", bomb, "application/vnd.oasis.opendocument.text")})
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert r.status_code == 415
        assert peak < 50 * 1024 * 1024, f"peak {peak / 1e6:.0f} MB"


async def test_stored_file_names_lose_their_directories(settings, examples):
    async with api_client(settings, examples) as client:
        rid = (await _kota_ids(client))[0]
        r = await client.post(f"/api/v1/recommendations/{rid}/evidence", headers=auth(client, "kota"),
                              files={"file": ("../../etc/cron.d/x.pdf", PDF, "application/pdf")})
        assert r.status_code == 201 and r.json()["filename"] == "x.pdf"
        async with client.container.sessions() as session:
            assert await session.scalar(select(EvidenceRow.filename)) == "x.pdf"


async def test_exports_do_not_run_formulas(settings, examples):
    document = copy.deepcopy(examples["ombudsman-2024-kota-jambi-dpmptsp"])
    document["id"] = str(uuid.uuid4())
    document["data"]["assessment_id"] += "-formula"
    document["data"]["unit"]["id"] = "16.71/dpmptsp"
    document["data"]["unit"]["region_code"] = "16.71"
    document["data"]["unit"]["agency"] = {"id": "16.71", "name": '=HYPERLINK("http://evil","klik")',
                                          "kind": "pemkot"}
    async with api_client(settings, examples, extra_documents=[document]) as client:
        url = "/api/v1/cycles/ombudsman-kepatuhan/2024/report"
        csv_text = (await client.get(url, params={"format": "csv"}, headers=auth(client, "evaluator"))).text
        assert "'=HYPERLINK" in csv_text and ',=HYPERLINK' not in csv_text
        xlsx = await client.get(url, params={"format": "xlsx"}, headers=auth(client, "evaluator"))
        workbook = openpyxl.load_workbook(io.BytesIO(xlsx.content))
        values = [cell.value for sheet in workbook for row in sheet.iter_rows() for cell in row]
        assert "'" + document["data"]["unit"]["agency"]["name"] in values
        assert not any(isinstance(v, str) and v.startswith("=") for v in values)


async def test_the_api_docs_need_no_network(settings, examples):
    async with api_client(settings, examples) as client:
        for page, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
            html = await client.get(page)
            assert html.status_code == 200
            sources = re.findall(r'(?:src|href)="([^"]+)"', html.text)
            assert sources and all(s.startswith("/") for s in sources), sources     # nothing from another host
            assert f"/static/docs/{asset}" in sources
            for source in sources:
                assert (await client.get(source)).status_code == 200, source
            assert "fonts.googleapis" not in html.text and "cdn." not in html.text
        assert (await client.get("/openapi.json")).json()["info"]["title"] == "tindaklanjut"
