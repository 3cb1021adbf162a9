"""The follow-up lifecycle through the HTTP API, on both databases."""

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from tindaklanjut.adapters import orm
from tindaklanjut.adapters.orm_followup import AuditEntryRow

from tests.integration.api_helpers import PDF, PNG, api_client, auth


async def _dinsos(client, who="prov", indicator="V.4"):
    response = await client.get("/api/v1/recommendations", headers=auth(client, who), params={"unit": "15/dinsos"})
    assert response.status_code == 200, response.text
    return next(r for r in response.json() if r["indicator_code"] == indicator)


async def test_issue_to_verification_with_rejection_extension_and_evidence(settings, examples):
    async with api_client(settings, examples) as client:
        rec = await _dinsos(client)
        rid = rec["id"]
        assert (rec["status"], rec["bpk_status"], rec["due_date"]) == ("open", "belum_ditindaklanjuti", "2025-02-18")

        r = await client.post(f"/api/v1/recommendations/{rid}/actions", headers=auth(client, "prov"),
                              json={"comment": "Rekap pengaduan Januari disusun"})
        assert r.status_code == 200 and r.json()["status"] == "in_progress"

        r = await client.post(f"/api/v1/recommendations/{rid}/extension", headers=auth(client, "prov"),
                              json={"new_due_date": "2025-03-31", "reason": "Menunggu integrasi SP4N-LAPOR!"})
        assert r.status_code == 201, r.text
        request_id = r.json()["id"]
        r = await client.post(f"/api/v1/requests/{request_id}/approve", headers=auth(client, "evaluator"),
                              json={"comment": "disetujui"})
        assert r.status_code == 200 and r.json()["status"] == "approved"
        assert (await _dinsos(client))["due_date"] == "2025-03-31"

        r = await client.post(f"/api/v1/recommendations/{rid}/submit", headers=auth(client, "prov"), json={})
        assert r.status_code == 400 and "bukti dukung" in r.json()["message"]     # no evidence yet
        r = await client.post(f"/api/v1/recommendations/{rid}/evidence", headers=auth(client, "prov"),
                              files={"file": ("rekap.pdf", PDF, "application/pdf")}, data={"description": "rekap"})
        assert r.status_code == 201, r.text
        first_hash = r.json()["sha256"]
        assert (r.json()["version"], r.json()["media_type"]) == (1, "application/pdf")
        stored = settings.resolved_evidence_dir / first_hash[:2] / first_hash[2:4] / first_hash
        assert stored.read_bytes() == PDF
        r = await client.post(f"/api/v1/recommendations/{rid}/submit", headers=auth(client, "prov"),
                              json={"comment": "selesai"})
        assert r.status_code == 200 and r.json()["status"] == "submitted"

        r = await client.post(f"/api/v1/recommendations/{rid}/request-changes", headers=auth(client, "evaluator"),
                              json={"comment": "Lampirkan tangkapan layar SP4N-LAPOR!"})
        assert r.status_code == 200 and r.json()["status"] == "changes_requested"

        r = await client.post(f"/api/v1/recommendations/{rid}/evidence", headers=auth(client, "prov"),
                              files={"file": ("lapor.png", PNG, "image/png")})
        assert r.json()["version"] == 2
        await client.post(f"/api/v1/recommendations/{rid}/submit", headers=auth(client, "prov"), json={})
        r = await client.post(f"/api/v1/recommendations/{rid}/verify", headers=auth(client, "evaluator2"),
                              json={"comment": "sesuai"})
        assert r.status_code == 200
        body = r.json()
        assert (body["status"], body["bpk_status"]) == ("verified", "sesuai")
        assert [e["action"] for e in body["timeline"]] == [
            "action_recorded", "extension_requested", "extension_approved", "evidence_added", "submitted",
            "changes_requested", "evidence_added", "submitted", "verified"]
        assert body["timeline"][3]["evidence_sha256"] == [first_hash]
        assert [v["version"] for v in body["evidence_versions"]] == [1, 2]

        # the secretary of the province reads it; every change also went to the outbox
        r = await client.get(f"/api/v1/recommendations/{rid}", headers=auth(client, "sekda_prov"))
        assert r.status_code == 200 and r.json()["status"] == "verified"
        async with client.container.sessions() as session:
            published = await session.scalar(select(func.count()).select_from(orm.OutboxRow)
                                             .where(orm.OutboxRow.topic == "followup.changed"))
            audit = await session.scalar(select(func.count()).select_from(AuditEntryRow))
        assert published == audit == 9


async def test_illegal_transitions_and_bad_uploads_get_clear_4xx(settings, examples):
    async with api_client(settings, examples) as client:
        rid = (await _dinsos(client))["id"]
        r = await client.post(f"/api/v1/recommendations/{rid}/verify", headers=auth(client, "evaluator"), json={})
        assert r.status_code == 409 and r.json()["code"] == "illegal_transition"
        r = await client.post(f"/api/v1/recommendations/{rid}/evidence", headers=auth(client, "prov"),
                              files={"file": ("laporan.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")})
        assert r.status_code == 415
        r = await client.post(f"/api/v1/recommendations/{rid}/evidence", headers=auth(client, "prov"),
                              files={"file": ("foto.pdf", PNG, "application/pdf")})      # extension lies
        assert r.status_code == 415 and "tidak sesuai" in r.json()["message"]
        big = b"%PDF-" + b"0" * settings.evidence_max_bytes
        r = await client.post(f"/api/v1/recommendations/{rid}/evidence", headers=auth(client, "prov"),
                              files={"file": ("besar.pdf", big, "application/pdf")})
        assert r.status_code == 413
        r = await client.post(f"/api/v1/recommendations/{rid}/actions", headers=auth(client, "prov"),
                              content=b"{not json", )
        assert r.status_code == 422
        r = await client.post(f"/api/v1/recommendations/{rid}/not-actionable", headers=auth(client, "prov"),
                              json={"reason_code": "bosan", "explanation": "x"})
        assert r.status_code == 422
        r = await client.get("/api/v1/recommendations", headers={"Authorization": "Bearer salah"})
        assert r.status_code == 401
        r = await client.post(f"/api/v1/recommendations/{rid}/verify", headers=auth(client, "prov"), json={})
        assert r.status_code == 403


async def test_not_actionable_needs_a_reason_code_and_another_persons_approval(settings, examples):
    async with api_client(settings, examples) as client:
        rid = (await _dinsos(client, indicator="III.4"))["id"]
        r = await client.post(f"/api/v1/recommendations/{rid}/not-actionable", headers=auth(client, "prov"),
                              json={"reason_code": "organisation_restructured",
                                    "explanation": "Dinas digabung dengan Dinas PPPA sesuai perda SOTK baru"})
        assert r.status_code == 201
        request_id = r.json()["id"]
        r = await client.post(f"/api/v1/recommendations/{rid}/not-actionable", headers=auth(client, "prov"),
                              json={"reason_code": "other_lawful", "explanation": "lagi"})
        assert r.status_code == 409      # one pending request at a time
        r = await client.post(f"/api/v1/requests/{request_id}/approve", headers=auth(client, "prov"), json={})
        assert r.status_code == 403
        r = await client.post(f"/api/v1/requests/{request_id}/approve", headers=auth(client, "evaluator"), json={})
        assert r.status_code == 200
        rec = await _dinsos(client, indicator="III.4")
        assert (rec["status"], rec["bpk_status"]) == ("not_actionable", "tidak_dapat_ditindaklanjuti")


async def test_overdue_is_grouped_by_agency_and_unit_for_the_secretary(settings, examples):
    async with api_client(settings, examples, now=datetime(2025, 2, 20, 2, 0, tzinfo=timezone.utc)) as client:
        r = await client.get("/api/v1/overdue", headers=auth(client, "sekda_prov"))
        assert r.status_code == 200, r.text
        groups = r.json()
        # Province 15 sees Pemprov Jambi and Kota Jambi (15.71); DPMPTSP's low item is due in June.
        assert [(g["agency_id"], g["overdue"]) for g in groups] == [("15.71", 4), ("15", 3)]
        assert [u["unit_id"] for u in groups[0]["units"]] == ["15.71/disdukcapil"]
        # Due 2 Jan; the facilities saran's rencana aksi was due 13 Jan (after the year-end closing weeks).
        assert sorted(i["days_overdue"] for i in groups[0]["units"][0]["items"]) == [38, 49, 49, 49]
        # Due 18 Feb; the facilities saran's rencana aksi was due 20 Jan.
        assert sorted(i["days_overdue"] for i in groups[1]["units"][0]["items"]) == [2, 2, 31]
        r = await client.get("/api/v1/overdue", headers=auth(client, "sekda_kota"))
        assert [g["agency_id"] for g in r.json()] == ["15.71"]
        # `?region=` narrows, never widens: a city's secretary asking for the province still sees the city only.
        r = await client.get("/api/v1/overdue", headers=auth(client, "sekda_kota"), params={"region": "15"})
        assert [g["agency_id"] for g in r.json()] == ["15.71"]
        r = await client.get("/api/v1/overdue", headers=auth(client, "sekda_aceh"), params={"region": "15"})
        assert r.json() == []
        r = await client.get("/api/v1/overdue", headers=auth(client, "sekda_prov"), params={"region": "15.71"})
        assert [g["agency_id"] for g in r.json()] == ["15.71"]
        r = await client.get("/api/v1/overdue", headers=auth(client, "sekda_aceh"))
        assert r.json() == []
        r = await client.get("/api/v1/overdue", headers=auth(client, "kota"))
        assert r.status_code == 403
        client.clock.now += timedelta(days=-60)
        r = await client.get("/api/v1/overdue", headers=auth(client, "evaluator"))
        assert r.json() == []


async def test_rejecting_an_extension_keeps_the_deadline_and_the_requester_cannot_decide(settings, examples):
    async with api_client(settings, examples) as client:
        rec = await _dinsos(client)
        r = await client.post(f"/api/v1/recommendations/{rec['id']}/extension", headers=auth(client, "prov"),
                              json={"new_due_date": "2025-03-31", "reason": "menunggu APBD-P"})
        request_id = r.json()["id"]
        r = await client.post(f"/api/v1/requests/{request_id}/reject", headers=auth(client, "prov"), json={})
        assert r.status_code == 403                       # an agency never decides
        r = await client.post(f"/api/v1/requests/{request_id}/reject", headers=auth(client, "evaluator"),
                              json={"comment": "tidak cukup alasan"})
        assert r.status_code == 200 and r.json()["status"] == "rejected"
        assert (await _dinsos(client))["due_date"] == rec["due_date"]
        r = await client.post(f"/api/v1/requests/{request_id}/approve", headers=auth(client, "evaluator2"), json={})
        assert r.status_code == 409                       # decided once
        assert (await _dinsos(client))["due_date"] == rec["due_date"]
        r = await client.post("/api/v1/requests/unknown/reject", headers=auth(client, "evaluator"), json={})
        assert r.status_code == 404


async def test_the_overdue_list_comes_in_pages_of_agencies_with_totals(settings, examples):
    async with api_client(settings, examples, now=datetime(2025, 2, 20, 2, 0, tzinfo=timezone.utc)) as client:
        everything = (await client.get("/api/v1/overdue", headers=auth(client, "evaluator"))).json()
        first = await client.get("/api/v1/overdue", headers=auth(client, "evaluator"), params={"limit": 1})
        second = await client.get("/api/v1/overdue", headers=auth(client, "evaluator"),
                                  params={"limit": 1, "offset": 1})
        past = await client.get("/api/v1/overdue", headers=auth(client, "evaluator"), params={"limit": 1, "offset": 9})
        assert first.json() + second.json() == everything and past.json() == []
        assert first.headers["x-total-agencies"] == str(len(everything))
        assert int(first.headers["x-total-overdue"]) == sum(a["overdue"] for a in everything)
        scoped = await client.get("/api/v1/overdue", headers=auth(client, "sekda_kota"), params={"limit": 5})
        assert [a["agency_id"] for a in scoped.json()] == ["15.71"] and scoped.headers["x-total-agencies"] == "1"
        assert (await client.get("/api/v1/overdue", headers=auth(client, "evaluator"),
                                 params={"limit": 0})).status_code == 422


async def test_a_page_can_cap_the_items_per_agency_keeping_the_whole_count(settings, examples):
    async with api_client(settings, examples, now=datetime(2025, 2, 20, 2, 0, tzinfo=timezone.utc)) as client:
        whole = (await client.get("/api/v1/overdue", headers=auth(client, "sekda_prov"), params={"limit": 10})).json()
        capped = await client.get("/api/v1/overdue", headers=auth(client, "sekda_prov"),
                                  params={"limit": 10, "items": 2})
        assert capped.status_code == 200 and capped.headers["x-total-overdue"] == "7"
        assert [(a["agency_id"], a["overdue"]) for a in capped.json()] == [("15.71", 4), ("15", 3)]
        for full, short in zip(whole, capped.json()):
            days = [i["days_overdue"] for u in short["units"] for i in u["items"]]
            assert sorted(days, reverse=True) == sorted((i["days_overdue"] for u in full["units"]
                                                         for i in u["items"]), reverse=True)[:2]
        # The whole list of one agency, a page at a time.
        rest = await client.get("/api/v1/recommendations", headers=auth(client, "sekda_prov"),
                                params={"overdue": "true", "agency": "15.71", "limit": 3})
        assert len(rest.json()) == 3 and rest.headers["x-total-count"] == "4"
        assert {r["agency_id"] for r in rest.json()} == {"15.71"}
        assert (await client.get("/api/v1/overdue", headers=auth(client, "sekda_prov"),
                                 params={"items": 0})).status_code == 422


async def test_a_follow_up_step_shows_in_the_overdue_view_at_once(settings, examples):
    """The view's answer is shared for a few seconds, but never across a new event."""
    async with api_client(settings, examples, now=datetime(2025, 2, 20, 2, 0, tzinfo=timezone.utc)) as client:
        def counts(answer):
            return {a["agency_id"]: a["overdue"] for a in answer.json()}
        before = await client.get("/api/v1/overdue", headers=auth(client, "sekda_prov"))
        assert counts(before) == {"15.71": 4, "15": 3}
        assert counts(await client.get("/api/v1/overdue", headers=auth(client, "sekda_prov"))) == counts(before)
        rid = (await _dinsos(client))["id"]
        r = await client.post(f"/api/v1/recommendations/{rid}/extension", headers=auth(client, "prov"),
                              json={"new_due_date": "2025-03-31", "reason": "menunggu APBD-P"})
        r = await client.post(f"/api/v1/requests/{r.json()['id']}/approve", headers=auth(client, "evaluator"),
                              json={})
        assert r.status_code == 200
        assert counts(await client.get("/api/v1/overdue", headers=auth(client, "sekda_prov"))) == \
            {"15.71": 4, "15": 2}
