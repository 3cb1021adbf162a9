"""Log in (`/masuk`) and out (`/keluar`), and the home page by role."""

from __future__ import annotations

import asyncio
import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from tindaklanjut.api.deps import ContainerDep
from tindaklanjut.domain.lifecycle import Role
from tindaklanjut.service_layer import commands
from tindaklanjut.web.deps import LOGIN_CSRF_COOKIE, SESSION_COOKIE, CsrfChecked, PageError, WebActor, render
from tindaklanjut.web.deps import login_url, mask, unmask

router = APIRouter(include_in_schema=False)
SLOW_ANSWER_SECONDS = 2.0
HOME = {Role.AGENCY: "/rekomendasi", Role.EVALUATOR: "/verifikasi", Role.VERIFIER: "/verifikasi",
        Role.SECRETARY: "/ringkasan",
        Role.ADMIN: "/rekomendasi"}


def _safe_next(value: str | None) -> str:
    """Only a path on this site (no `//host` or scheme)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value[:500]


@router.get("/")
async def home(request: Request) -> RedirectResponse:
    actor = getattr(request.state, "web_actor", None)
    return RedirectResponse(HOME[actor.role] if actor else "/masuk", status_code=303)


def _login_page(request: Request, *, next_path: str, error: str | None = None, name: str | None = None,
                status_code: int = 200):
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(request, "login.html", status_code=status_code, login_csrf=mask(token), next_path=next_path,
                      error=error, name=name, actor=None)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax", path="/masuk",
                        secure=request.app.state.container.settings.environment == "production")
    return response


@router.get("/masuk")
async def login_form(request: Request, lanjut: str | None = None):
    if getattr(request.state, "web_actor", None) is not None:
        return RedirectResponse(_safe_next(lanjut) if lanjut else "/", status_code=303)
    return _login_page(request, next_path=_safe_next(lanjut))


@router.post("/masuk")
async def login(request: Request, container: ContainerDep, nama: Annotated[str, Form(max_length=200)] = "",
                sandi: Annotated[str, Form(max_length=200)] = "", csrf_token: Annotated[str, Form(max_length=200)] = "",
                lanjut: Annotated[str, Form(max_length=500)] = "/"):
    expected, sent = request.cookies.get(LOGIN_CSRF_COOKIE), unmask(csrf_token)
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise PageError(403, "Formulir kedaluwarsa", "Token keamanan formulir tidak cocok. Buka halaman masuk lagi.")
    outcome = await container.bus.handle(commands.LogIn(name=nama.strip(), password=sandi))
    if not outcome.ok:
        if outcome.slowed:
            await asyncio.sleep(SLOW_ANSWER_SECONDS)
        message = ("Terlalu banyak percobaan masuk yang gagal untuk pengguna ini. Akun dikunci sementara; "
                   "coba lagi setelah 15 menit atau hubungi admin.") if outcome.locked else \
            "Nama pengguna atau kata sandi salah."
        return _login_page(request, next_path=_safe_next(lanjut), error=message, name=nama,
                           status_code=429 if outcome.locked else 401)
    response = RedirectResponse(_safe_next(lanjut), status_code=303)
    response.set_cookie(SESSION_COOKIE, outcome.session_token, httponly=True, samesite="lax", path="/",
                        secure=container.settings.environment == "production", max_age=12 * 3600)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/masuk")
    return response


@router.post("/keluar", dependencies=[CsrfChecked])
async def logout(request: Request, container: ContainerDep, _actor: WebActor) -> RedirectResponse:
    await container.bus.handle(commands.LogOut(session_token=request.state.session_token))
    response = RedirectResponse("/masuk", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


__all__ = ["router", "login_url"]
