"""Drive the web workspace in-process (ASGI) as a browser would: cookies, forms, CSRF tokens."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager

import httpx

from tests.integration.api_helpers import api_client
from tindaklanjut.domain.lifecycle import Role
from tindaklanjut.service_layer import users

PASSWORD = "kata-sandi-uji-123"
ACCOUNTS = {  # name: (role, agency, region)
    "opd-kota": (Role.AGENCY, "15.71", None),
    "opd-prov": (Role.AGENCY, "15", None),
    "verifikator": (Role.EVALUATOR, None, None),
    "sekda-kota": (Role.SECRETARY, "15.71", None),
    "admin": (Role.ADMIN, None, None),
}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


@asynccontextmanager
async def web_clients(settings, examples, **kwargs):
    """The API client of `api_client`, plus one logged-in browser-like client per account."""
    async with api_client(settings, examples, **kwargs) as api:
        for name, (role, agency, region) in ACCOUNTS.items():
            await users.add_user(api.container.uow, name, role, agency_id=agency, region=region, password=PASSWORD)
        browsers = {}
        try:
            for name in ACCOUNTS:
                browser = new_browser(api)
                await log_in(browser, name, PASSWORD)
                browsers[name] = browser
            api.browsers = browsers
            yield api
        finally:
            for browser in browsers.values():
                await browser.aclose()


def new_browser(api) -> httpx.AsyncClient:
    """A client with its own cookie jar, not logged in (close it, or let `web_clients` do it)."""
    return httpx.AsyncClient(transport=api._transport, base_url="http://127.0.0.1:8000")


async def log_in(browser: httpx.AsyncClient, name: str, password: str) -> httpx.Response:
    form = await browser.get("/masuk")
    assert form.status_code == 200
    return await browser.post("/masuk", data={"nama": name, "sandi": password, "csrf_token": csrf_of(form.text),
                                              "lanjut": "/"})


async def post_form(browser: httpx.AsyncClient, page: str, action: str, data: dict | None = None,
                    files=None) -> httpx.Response:
    """Open `page`, take its CSRF token, post `data` to `action` (as the browser submits the form)."""
    opened = await browser.get(page)
    assert opened.status_code == 200, opened.text[:500]
    return await browser.post(action, data={"csrf_token": csrf_of(opened.text), **(data or {})}, files=files)
