"""The workspace in a real browser: Debian's Chromium driven by Playwright.

One recommendation goes from open to verified through the pages only (an
agency uploads evidence and submits, the verifier (the city's inspectorate) downloads the same bytes and
asks for changes, the agency answers and resubmits, the verifier verifies, the
secretary's completion rate goes up). Also: another agency gets 404 for the
item and its evidence, a POST without the CSRF token gets 403, axe-core finds
no serious or critical violation on any page, no page asks another host for
anything, no console errors, and pages fit a 360 px phone. Screenshots of every
page go to `tests/e2e/artifacts/` (kept by CI as artefacts; not committed).

Needs: /usr/bin/chromium (Debian package `chromium`; `.ci/run` installs it)."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Page, expect, sync_playwright

from tests.conftest import contract_examples, free_port
from tests.e2e.node_packages import NODE_DIR, ensure_node_modules
from tindaklanjut.adapters import migrate
from tindaklanjut.api.app import create_api
from tindaklanjut.bootstrap import bootstrap
from tindaklanjut.config import Settings
from tindaklanjut.domain.lifecycle import Role
from tindaklanjut.ports.messages import IngestAssessment, Origin
from tindaklanjut.service_layer import users

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"
PASSWORD = "kata-sandi-peramban-1"
NOW = datetime(2025, 9, 1, 2, 0, tzinfo=timezone.utc)       # every example is overdue: the overdue pages have rows
ACCOUNTS = {"opd-kota": (Role.AGENCY, "15.71"), "opd-prov": (Role.AGENCY, "15"),
            "verifikator": (Role.VERIFIER, "15.71"), "evaluator": (Role.EVALUATOR, None),
            "sekda-kota": (Role.SECRETARY, "15.71"), "admin": (Role.ADMIN, None)}
EVIDENCE = b"%PDF-1.4\n% SK penetapan standar pelayanan\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class Workspace:
    """The API and pages served by uvicorn in a thread, on a migrated SQLite database with the examples."""

    def __init__(self, tmp: Path) -> None:
        port = free_port()
        self.settings = Settings(environment="test", var_dir=tmp / "var", database_url=f"sqlite:///{tmp / 'w.db'}",
                                 kafka_bootstrap="127.0.0.1:1", api_port=port, fixed_now=NOW)
        self.url = f"http://127.0.0.1:{port}"
        self.server: uvicorn.Server | None = None
        self.ready = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)

    async def _serve(self) -> None:
        await migrate.upgrade_async(self.settings.resolved_database_url)
        container = bootstrap(self.settings)
        await container.ingest([IngestAssessment(raw=json.dumps(d).encode(), origin=Origin(topic="t", offset=i))
                                for i, d in enumerate(contract_examples().values())])
        for name, (role, agency) in ACCOUNTS.items():
            await users.add_user(container.uow, name, role, agency_id=agency, password=PASSWORD)
        config = uvicorn.Config(create_api(container), host="127.0.0.1", port=self.settings.api_port,
                                log_level="warning")
        self.server = uvicorn.Server(config)
        serving = asyncio.create_task(self.server.serve())
        while not self.server.started:
            await asyncio.sleep(0.05)
        self.ready.set()
        await serving
        await container.close()

    def __enter__(self) -> "Workspace":
        self.thread.start()
        assert self.ready.wait(60), "the workspace did not start"
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(30)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    with Workspace(tmp_path_factory.mktemp("workspace")) as running:
        yield running


@pytest.fixture(scope="module")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; .ci/run does).",
                    pytrace=False)
    ensure_node_modules()
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


class Watch:
    """What a page did that it should not: console errors, requests to other hosts."""

    def __init__(self, page: Page, base: str) -> None:
        self.errors: list[str] = []
        self.foreign: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.foreign.append(r.url)
                if not (r.url.startswith(base) or r.url.startswith("data:")) else None)


def open_as(chromium, workspace, name: str, *, width: int = 1280):
    context = chromium.new_context(viewport={"width": width, "height": 900}, locale="id-ID",
                                   accept_downloads=True, base_url=workspace.url)
    page = context.new_page()
    watch = Watch(page, workspace.url)
    page.goto("/masuk")
    page.get_by_label("Nama pengguna").fill(name)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_load_state()
    return context, page, watch


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Keluar").click()
    expect(page).to_have_url(re.compile(r"/masuk$"))


def first_item_url(page: Page) -> str:
    page.goto("/rekomendasi")
    link = page.locator("table.items tbody tr a").first
    return link.get_attribute("href")


def test_one_recommendation_from_open_to_verified_in_the_browser(chromium, workspace, tmp_path):
    evidence = tmp_path / "sk-standar-pelayanan.pdf"
    evidence.write_bytes(EVIDENCE)
    watches = []

    context, page, watch = open_as(chromium, workspace, "sekda-kota")
    watches.append(watch)
    expect(page).to_have_url(re.compile(r"/ringkasan$"))
    expect(page.locator("#n-terverifikasi")).to_have_text("0")
    rate_before = page.locator("#n-penyelesaian").inner_text()
    context.close()

    context, page, watch = open_as(chromium, workspace, "opd-kota")
    watches.append(watch)
    item = first_item_url(page)
    page.goto(item)
    page.get_by_label("Uraian tindak lanjut").fill("SK standar pelayanan ditetapkan dan dipublikasikan")
    page.get_by_role("button", name="Catat tindak lanjut").click()
    expect(page.get_by_role("status")).to_contain_text("Tindak lanjut dicatat")
    page.get_by_label(re.compile("Pilih berkas")).set_input_files(str(evidence))
    page.get_by_role("button", name="Unggah bukti").click()
    expect(page.get_by_role("link", name="sk-standar-pelayanan.pdf")).to_be_visible()
    page.get_by_role("button", name="Ajukan verifikasi").click()
    expect(page.locator(".meta .badge")).to_have_text("Menunggu verifikasi")
    shot(page, "rekomendasi-diajukan")
    log_out(page)
    context.close()

    context, page, watch = open_as(chromium, workspace, "verifikator")
    watches.append(watch)
    expect(page).to_have_url(re.compile(r"/verifikasi$"))
    shot(page, "menunggu-verifikasi")
    page.locator(f'a[href="{item}"]').first.click()
    with page.expect_download() as download:
        page.get_by_role("link", name="sk-standar-pelayanan.pdf").click()
    assert Path(download.value.path()).read_bytes() == EVIDENCE
    page.get_by_label("Catatan perbaikan untuk instansi").fill("Lampirkan SK yang sudah ditandatangani")
    page.get_by_role("button", name="Minta perbaikan").click()
    expect(page.locator(".meta .badge")).to_have_text("Perlu perbaikan")
    context.close()

    context, page, watch = open_as(chromium, workspace, "opd-kota")
    watches.append(watch)
    page.goto(item)
    expect(page.get_by_text("Lampirkan SK yang sudah ditandatangani")).to_be_visible()
    signed = tmp_path / "sk-ditandatangani.pdf"
    signed.write_bytes(EVIDENCE + b"% ttd\n")
    page.get_by_label(re.compile("Pilih berkas")).set_input_files(str(signed))
    page.get_by_role("button", name="Unggah bukti").click()
    page.get_by_role("button", name="Ajukan verifikasi").click()
    expect(page.locator(".meta .badge")).to_have_text("Menunggu verifikasi")
    context.close()

    context, page, watch = open_as(chromium, workspace, "verifikator")
    watches.append(watch)
    page.goto(item)
    page.get_by_role("button", name="Verifikasi", exact=True).click()
    expect(page.locator(".meta .badge")).to_have_text("Terverifikasi")
    shot(page, "rekomendasi-terverifikasi")
    context.close()

    context, page, watch = open_as(chromium, workspace, "sekda-kota")
    watches.append(watch)
    expect(page.locator("#n-terverifikasi")).to_have_text("1")
    assert page.locator("#n-penyelesaian").inner_text() != rate_before
    shot(page, "ringkasan")
    context.close()

    for seen in watches:
        assert seen.errors == [] and seen.foreign == []


def test_another_agency_gets_404_and_a_post_without_csrf_gets_403(chromium, workspace):
    context, page, _ = open_as(chromium, workspace, "opd-kota")
    item = first_item_url(page)
    context.close()
    context, page, _ = open_as(chromium, workspace, "opd-prov")
    answer = page.goto(item)
    assert answer.status == 404
    expect(page.get_by_role("heading", name="Tidak ditemukan")).to_be_visible()
    evidence = page.request.get(f"{item}/bukti/{'0' * 64}")
    assert evidence.status == 404
    forged = page.request.post(f"{item}/tindakan", form={"uraian": "tanpa token"})
    assert forged.status == 403
    context.close()


PAGES = {  # who opens which page (every page of the workspace)
    "masuk": (None, "/masuk"),
    "rekomendasi": ("opd-kota", "/rekomendasi"),
    "rekomendasi-terlambat": ("opd-kota", "/rekomendasi?terlambat=1"),
    "rekomendasi-item": ("opd-kota", "ITEM"),
    "verifikasi": ("verifikator", "/verifikasi"),
    "unggah-penilaian": ("evaluator", "/unggah-penilaian"),
    "ringkasan": ("sekda-kota", "/ringkasan"),
    "terlambat": ("sekda-kota", "/terlambat"),
    "laporan": ("sekda-kota", "/laporan"),
    "pengguna": ("admin", "/admin/pengguna"),
    "tidak-ditemukan": ("opd-kota", "/halaman-yang-tidak-ada"),
}


def _axe(page: Page) -> list[dict]:
    page.add_script_tag(path=str(NODE_DIR / "node_modules" / "axe-core" / "axe.min.js"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("width", [1280, 360])
def test_every_page_is_accessible_local_and_fits_the_screen(chromium, workspace, width):
    item = None
    problems = {}
    for name, (who, path) in PAGES.items():
        # axe is injected as a script, which the pages' own CSP forbids: bypass it for the audit only.
        context = chromium.new_context(viewport={"width": width, "height": 900}, base_url=workspace.url,
                                       bypass_csp=True)
        page = context.new_page()
        watch = Watch(page, workspace.url)
        if who:
            page.goto("/masuk")
            page.get_by_label("Nama pengguna").fill(who)
            page.get_by_label("Kata sandi").fill(PASSWORD)
            page.get_by_role("button", name="Masuk").click()
            page.wait_for_load_state()
        if path == "ITEM":
            item = item or first_item_url(page)
            path = item
        answer = page.goto(path)
        transferred = answer.request.sizes()["responseBodySize"] if answer else 0    # on the wire
        shot(page, f"{name}-{width}")
        violations = _axe(page)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        issues = []
        if violations:
            issues.append(f"axe: {violations}")
        if overflow > 1:
            issues.append(f"{overflow}px wider than the {width}px screen")
        if watch.foreign:
            issues.append(f"requests to other hosts: {watch.foreign}")
        if [e for e in watch.errors if "404" not in e or name != "tidak-ditemukan"]:
            issues.append(f"console errors: {watch.errors}")
        if transferred > 150 * 1024:
            issues.append(f"page is {transferred} bytes")
        if issues:
            problems[name] = issues
        context.close()
    assert problems == {}
