"""The web workspace end to end in-process, on both databases: log in, the
whole follow-up of one item in forms, scoping, CSRF, the secretary's pages
and exports. (The same journey in a real browser: tests/e2e/test_browser.py.)"""

from __future__ import annotations

import copy
import csv
import io
import re
from datetime import datetime, timezone

import pytest
from openpyxl import load_workbook

from tests.integration.api_helpers import PDF, auth
from tests.integration.web_helpers import PASSWORD, csrf_of, log_in, new_browser, post_form, web_clients

pytestmark = pytest.mark.asyncio
LATER = datetime(2025, 9, 1, 2, 0, tzinfo=timezone.utc)    # after every example's deadline


async def first_item(api, who: str = "kota") -> dict:
    listed = await api.get("/api/v1/recommendations", headers=auth(api, who))
    return listed.json()[0]


async def test_login_wrong_password_then_right_one_lands_on_the_role_home(settings, examples):
    async with web_clients(settings, examples) as api:
        browser = api.browsers["opd-kota"]
        await browser.post("/keluar", data={"csrf_token": csrf_of((await browser.get("/rekomendasi")).text)})
        refused = await log_in(browser, "opd-kota", "salah-sekali-123")
        assert refused.status_code == 401 and "Nama pengguna atau kata sandi salah" in refused.text
        assert (await browser.get("/rekomendasi")).status_code == 303     # logged out: back to /masuk
        accepted = await log_in(browser, "opd-kota", PASSWORD)
        assert accepted.status_code == 303
        cookie = accepted.headers["set-cookie"]
        assert "tl_sesi=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        home = await browser.get("/")
        assert home.headers["location"] == "/rekomendasi"
        secretary_home = await api.browsers["sekda-kota"].get("/")
        assert secretary_home.headers["location"] == "/ringkasan"


async def test_repeated_failed_logins_lock_the_account_with_a_message(settings, examples):
    async with web_clients(settings, examples) as api:
        browser = api.browsers["fresh"] = new_browser(api)
        answers = [await log_in(browser, "opd-prov", f"salah-{n}-xxxxxxxx") for n in range(5)]
        assert [a.status_code for a in answers] == [401, 401, 401, 401, 429]
        locked = await log_in(browser, "opd-prov", PASSWORD)       # even the right password, for a while
        assert locked.status_code == 429 and "dikunci sementara" in locked.text


async def test_a_post_without_the_csrf_token_is_refused(settings, examples):
    async with web_clients(settings, examples) as api:
        item = await first_item(api)
        browser = api.browsers["opd-kota"]
        refused = await browser.post(f"/rekomendasi/{item['id']}/tindakan", data={"uraian": "tanpa token"})
        assert refused.status_code == 403
        wrong = await browser.post(f"/rekomendasi/{item['id']}/tindakan",
                                   data={"uraian": "token lain", "csrf_token": "x" * 40})
        assert wrong.status_code == 403
        detail = await api.get(f"/api/v1/recommendations/{item['id']}", headers=auth(api, "kota"))
        assert detail.json()["timeline"] == []


async def test_the_whole_follow_up_in_forms(settings, examples):
    async with web_clients(settings, examples) as api:
        item = await first_item(api)
        page = f"/rekomendasi/{item['id']}"
        agency, verifier, secretary = api.browsers["opd-kota"], api.browsers["verifikator"], api.browsers["sekda-kota"]
        before = await secretary.get("/ringkasan")
        assert re.search(r'id="n-terverifikasi">0<', before.text)

        shown = await agency.get(page)
        assert shown.status_code == 200 and item["title"] in shown.text and "Unggah bukti" in shown.text
        recorded = await post_form(agency, page, f"{page}/tindakan", {"uraian": "SK standar pelayanan ditetapkan"})
        assert recorded.status_code == 303
        uploaded = await post_form(agency, page, f"{page}/bukti", {"keterangan": "SK"},
                                   files=[("berkas", ("sk-standar.pdf", PDF, "application/pdf"))])
        assert uploaded.status_code == 303
        after_upload = (await agency.get(page)).text
        assert "sk-standar.pdf" in after_upload and "Bukti dukung diunggah" not in after_upload
        submitted = await post_form(agency, page, f"{page}/ajukan", {"catatan": "mohon diperiksa"})
        assert submitted.status_code == 303

        queue = await verifier.get("/verifikasi")
        assert item["title"] in queue.text and "sk-standar.pdf" in queue.text
        link = re.search(rf'href="({page}/bukti/[0-9a-f]{{64}})"', (await verifier.get(page)).text).group(1)
        downloaded = await verifier.get(link)
        assert downloaded.content == PDF
        assert downloaded.headers["content-disposition"].startswith("attachment")
        assert downloaded.headers["x-content-type-options"] == "nosniff"
        returned = await post_form(verifier, page, f"{page}/minta-perbaikan",
                                   {"catatan": "Lampirkan SK yang ditandatangani"})
        assert returned.status_code == 303
        seen_by_agency = (await agency.get(page)).text
        assert "Lampirkan SK yang ditandatangani" in seen_by_agency and "Perlu perbaikan" in seen_by_agency

        await post_form(agency, page, f"{page}/bukti", files=[("berkas", ("sk-ttd.pdf", PDF + b"%2", "application/pdf"))])
        assert (await post_form(agency, page, f"{page}/ajukan")).status_code == 303
        verified = await post_form(verifier, page, f"{page}/verifikasi", {"catatan": "sesuai"})
        assert verified.status_code == 303
        detail = (await api.get(f"/api/v1/recommendations/{item['id']}", headers=auth(api, "kota"))).json()
        assert detail["status"] == "verified"
        assert [e["action"] for e in detail["timeline"]] == [
            "action_recorded", "evidence_added", "submitted", "changes_requested", "evidence_added", "submitted",
            "verified"]
        after = await secretary.get("/ringkasan")
        assert re.search(r'id="n-terverifikasi">1<', after.text)


async def test_an_agency_cannot_see_or_act_on_another_agencys_item(settings, examples):
    async with web_clients(settings, examples) as api:
        item = await first_item(api)
        page = f"/rekomendasi/{item['id']}"
        await post_form(api.browsers["opd-kota"], page, f"{page}/bukti",
                        files=[("berkas", ("sk.pdf", PDF, "application/pdf"))])
        sha = re.search(rf'{page}/bukti/([0-9a-f]{{64}})', (await api.browsers["opd-kota"].get(page)).text).group(1)
        other = api.browsers["opd-prov"]
        assert (await other.get(page)).status_code == 404
        assert (await other.get(f"{page}/bukti/{sha}")).status_code == 404
        own_page = await other.get("/rekomendasi")
        assert item["title"] not in own_page.text or item["agency_id"] == "15"
        csrf = csrf_of(own_page.text)
        refused = await other.post(f"{page}/tindakan", data={"uraian": "bukan milik saya", "csrf_token": csrf})
        assert refused.status_code in (403, 404)
        detail = (await api.get(f"/api/v1/recommendations/{item['id']}", headers=auth(api, "kota"))).json()
        assert [e["action"] for e in detail["timeline"]] == ["evidence_added"]


async def test_an_upload_too_large_or_of_a_refused_type_gets_a_clear_error(settings, examples):
    settings = settings.model_copy(update={"evidence_max_bytes": 1024})
    async with web_clients(settings, examples) as api:
        item = await first_item(api)
        page = f"/rekomendasi/{item['id']}"
        big = await post_form(api.browsers["opd-kota"], page, f"{page}/bukti",
                              files=[("berkas", ("besar.pdf", PDF + b"0" * 2048, "application/pdf"))])
        assert big.status_code == 413 and "besar.pdf" in big.text
        script = await post_form(api.browsers["opd-kota"], page, f"{page}/bukti",
                                 files=[("berkas", ("x.exe", b"MZ\x90\x00" + b"\x00" * 60, "application/x-msdownload"))])
        assert script.status_code == 415 and "x.exe" in script.text


async def test_overdue_page_counts_match_the_api_and_exports_open_in_excel(settings, examples):
    async with web_clients(settings, examples, now=LATER) as api:
        expected = (await api.get("/api/v1/overdue", headers=auth(api, "evaluator"))).json()
        total = sum(a["overdue"] for a in expected)
        assert total > 0
        verifier = api.browsers["verifikator"]
        page = await verifier.get("/terlambat")
        assert f'id="jumlah-terlambat">({total})<' in page.text
        summary = await verifier.get("/ringkasan")
        assert f'id="n-terlambat">{total}<' in summary.text
        for name in ("Unduh CSV", "Unduh XLSX", "Unduh PDF"):
            assert name in page.text
        exported = await verifier.get("/terlambat.csv")
        assert exported.content.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";"))
        assert rows[0][:3] == ["Instansi", "Unit", "Rekomendasi"] and len(rows) == total + 1
        workbook = load_workbook(io.BytesIO((await verifier.get("/terlambat.xlsx")).content))
        sheet = workbook.active
        assert sheet.max_row == total + 1
        assert sheet.cell(2, 11).hyperlink.target.startswith(f"{settings.public_url}/rekomendasi/")
        pdf = await verifier.get("/terlambat.pdf")
        assert pdf.content.startswith(b"%PDF") and pdf.headers["content-disposition"].startswith("attachment")
        secretary = (await api.get("/api/v1/overdue", headers=auth(api, "sekda_kota"))).json()
        page = await api.browsers["sekda-kota"].get("/terlambat")
        mine = sum(a["overdue"] for a in secretary if a["agency_id"] == "15.71")
        assert f'id="jumlah-terlambat">({mine})<' in page.text


async def test_pages_refuse_the_wrong_role_and_send_strangers_to_login(settings, examples):
    async with web_clients(settings, examples) as api:
        assert (await api.browsers["opd-kota"].get("/ringkasan")).status_code == 403
        assert (await api.browsers["opd-kota"].get("/verifikasi")).status_code == 403
        assert (await api.browsers["sekda-kota"].get("/unggah-penilaian")).status_code == 403
        stranger = await api.get("/terlambat")
        assert stranger.status_code == 303 and stranger.headers["location"].startswith("/masuk?lanjut=")
        assert (await api.browsers["admin"].get("/admin/pengguna")).status_code == 200
        assert (await api.browsers["verifikator"].get("/admin/pengguna")).status_code == 403


async def test_a_verifier_uploads_a_spreadsheet_and_sees_what_happened_to_each_assessment(settings, examples,
                                                                                         tmp_path):
    from sqlalchemy import func, select

    from tindaklanjut.adapters import orm, spreadsheet

    duplicate = examples["ombudsman-2024-kota-jambi-dpmptsp"]
    revised = copy.deepcopy(examples["pekppp-2024-prov-jambi-dinsos"])
    revised["data"]["revision"] = 2
    broken = copy.deepcopy(examples["ombudsman-2024-kota-jambi-disdukcapil"])
    rows = spreadsheet.event_to_rows(duplicate) + spreadsheet.event_to_rows(revised)
    broken_rows = spreadsheet.event_to_rows(broken)
    broken_rows[1]["indicator_score"] = "banyak"
    path = tmp_path / "hasil.xlsx"
    spreadsheet.write_rows(path, rows + broken_rows)
    async with web_clients(settings, examples) as api:
        async with api.container.sessions() as session:
            before = await session.scalar(select(func.count()).select_from(orm.OutboxRow))
        answer = await post_form(api.browsers["verifikator"], "/unggah-penilaian", "/unggah-penilaian",
                                 files=[("berkas", ("hasil.xlsx", path.read_bytes(), "application/vnd.ms-excel"))])
        assert answer.status_code == 200
        text = " ".join(answer.text.split())
        assert f"baris {len(rows) + 3}" in text                 # header row 1, so the 2nd broken row is len + 3
        assert "sudah ada (revisi 1); tidak diproses ulang" in text
        assert "diterima: revisi 2 menggantikan revisi 1" in text
        assert f"{broken['data']['assessment_id']}</td>" in answer.text and "ditolak" in text
        async with api.container.sessions() as session:
            after = await session.scalar(select(func.count()).select_from(orm.OutboxRow))
        assert after == before + 1                              # only the revision is published
        refused = await post_form(api.browsers["verifikator"], "/unggah-penilaian", "/unggah-penilaian",
                                  files=[("berkas", ("hasil.txt", b"a;b", "text/plain"))])
        assert refused.status_code == 415 and "xlsx" in refused.text


async def test_the_cycle_report_page_and_its_exports(settings, examples):
    async with web_clients(settings, examples, now=LATER) as api:
        expected = (await api.get("/api/v1/cycles/ombudsman-kepatuhan/2024/report",
                                  headers=auth(api, "sekda_kota"))).json()
        secretary = api.browsers["sekda-kota"]
        page = await secretary.get("/laporan?kerangka=ombudsman-kepatuhan&siklus=2024")
        assert page.status_code == 200 and "Unduh PDF" in page.text
        exported = await secretary.get("/laporan.csv?kerangka=ombudsman-kepatuhan&siklus=2024")
        assert exported.content.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";"))
        assert rows[0] == ["Ringkasan"] and rows[1] == ["Butir", "Nilai"]
        counted = next(row for row in rows if row[:1] == ["Rekomendasi dihitung"])
        assert int(counted[1]) == expected["totals"]["counted"]
        workbook = load_workbook(io.BytesIO((await secretary.get(
            "/laporan.xlsx?kerangka=ombudsman-kepatuhan&siklus=2024")).content))
        assert len(workbook.sheetnames) >= 3
        pdf = await secretary.get("/laporan.pdf?kerangka=ombudsman-kepatuhan&siklus=2024")
        assert pdf.content.startswith(b"%PDF")
        missing = await secretary.get("/laporan?kerangka=ombudsman-kepatuhan&siklus=1999")
        assert missing.status_code == 404 and "Laporan tidak tersedia" in missing.text


async def test_requests_are_made_and_decided_in_forms(settings, examples):
    async with web_clients(settings, examples) as api:
        listed = (await api.get("/api/v1/recommendations", headers=auth(api, "kota"))).json()
        first, second = listed[0], listed[1]
        agency, verifier = api.browsers["opd-kota"], api.browsers["verifikator"]
        page = f"/rekomendasi/{first['id']}"
        asked = await post_form(agency, page, f"{page}/perpanjangan",
                                {"tenggat_baru": "2025-06-30", "alasan": "Menunggu anggaran perubahan"})
        assert asked.status_code == 303
        other = f"/rekomendasi/{second['id']}"
        asked = await post_form(agency, other, f"{other}/tidak-dapat",
                                {"kode_alasan": "regulation_changed", "penjelasan": "Perda dicabut"})
        assert asked.status_code == 303
        queue = await verifier.get("/verifikasi")
        assert "Menunggu anggaran perubahan" in queue.text and "Perda dicabut" in queue.text
        pending = (await api.get("/api/v1/requests?status=pending", headers=auth(api, "evaluator"))).json()
        by_item = {r["recommendation_id"]: r["id"] for r in pending}
        approved = await post_form(verifier, "/verifikasi", f"/permohonan/{by_item[first['id']]}/setujui",
                                   {"catatan": "disetujui"})
        assert approved.status_code == 303
        rejected = await post_form(verifier, "/verifikasi", f"/permohonan/{by_item[second['id']]}/tolak",
                                   {"catatan": "masih dapat ditindaklanjuti"})
        assert rejected.status_code == 303
        extended = (await api.get(f"/api/v1/recommendations/{first['id']}", headers=auth(api, "kota"))).json()
        assert extended["due_date"] == "2025-06-30"
        kept = (await api.get(f"/api/v1/recommendations/{second['id']}", headers=auth(api, "kota"))).json()
        assert kept["status"] != "not_actionable" and kept["due_date"] == second["due_date"]
        shown = (await agency.get(other)).text
        assert "Ditolak" in shown and "masih dapat ditindaklanjuti" in shown
        bad = await post_form(agency, page, f"{page}/perpanjangan", {"tenggat_baru": "besok", "alasan": "x"})
        assert bad.status_code == 400 and "tenggat baru" in bad.text


async def test_a_rencana_aksi_is_made_accepted_and_followed_in_forms(settings, examples):
    async with web_clients(settings, examples) as api:
        listed = (await api.get("/api/v1/recommendations", headers=auth(api, "kota"))).json()
        item = next(i for i in listed if i["needs_plan"])
        page = f"/rekomendasi/{item['id']}"
        agency, verifier = api.browsers["opd-kota"], api.browsers["verifikator"]
        shown = (await agency.get(page)).text
        assert "Ajukan rencana aksi" in shown and "13 Januari 2025, 23.59 WIB" in shown
        bad = await post_form(agency, page, f"{page}/rencana", {
            "sumber_anggaran": "apbd_perubahan", "tahap_1_uraian": "Susun DED", "tahap_1_pj": "Kasubag Umum",
            "tahap_1_target": "kemarin"})
        assert bad.status_code == 400 and "tanggal target" in bad.text
        made = await post_form(agency, page, f"{page}/rencana", {
            "sumber_anggaran": "apbd_perubahan",
            "tahap_1_uraian": "Susun DED jalur landai", "tahap_1_pj": "Kasubag Umum", "tahap_1_target": "2025-02-28",
            "tahap_2_uraian": "Bangun dan serah terima", "tahap_2_pj": "PPK", "tahap_2_target": "2025-06-20"})
        assert made.status_code == 303
        waiting = (await verifier.get(page)).text
        assert "menunggu persetujuan" in waiting and "Setujui rencana aksi" in waiting
        assert (await post_form(verifier, page, f"{page}/rencana/setujui", {"catatan": "sesuai"})).status_code == 303
        detail = (await api.get(f"/api/v1/recommendations/{item['id']}", headers=auth(api, "kota"))).json()
        assert detail["plan"]["status"] == "accepted" and detail["due_date"] == "2025-02-28"
        assert [m["target_date"] for m in detail["plan"]["milestones"]] == ["2025-02-28", "2025-06-20"]
        done = await post_form(agency, page, f"{page}/rencana/tahap/1/selesai")
        assert done.status_code == 303
        detail = (await api.get(f"/api/v1/recommendations/{item['id']}", headers=auth(api, "kota"))).json()
        assert detail["due_date"] == "2025-06-20" and detail["plan"]["milestones"][0]["done_by"] == "opd-kota"
        assert [e["action"] for e in detail["timeline"]] == ["plan_submitted", "plan_accepted", "milestone_done"]
        # The same over the API: another agency's plan is not found.
        other = (await api.get("/api/v1/recommendations", headers=auth(api, "prov"))).json()
        province_item = next(i for i in other if i["needs_plan"])
        refused = await api.post(f"/api/v1/recommendations/{province_item['id']}/plan", headers=auth(api, "kota"),
                                 json={"budget_source": "dak", "milestones": [
                                     {"description": "x", "responsible": "y", "target_date": "2025-03-01"}]})
        assert refused.status_code == 404
        accepted = await api.post(f"/api/v1/recommendations/{province_item['id']}/plan", headers=auth(api, "prov"),
                                  json={"budget_source": "dak", "milestones": [
                                      {"description": "Pengadaan", "responsible": "PPK", "target_date": "2025-03-01"}]})
        assert accepted.status_code == 200 and accepted.json()["plan"]["status"] == "submitted"
