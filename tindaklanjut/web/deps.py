"""Dependencies of every page, declared once: the logged-in actor (from the
session cookie the guard resolved), the CSRF check of every form, and
`render` for templates."""

from __future__ import annotations

import base64
import hmac
import secrets
from importlib.resources import files
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from tindaklanjut import formatting
from tindaklanjut.domain.lifecycle import Actor, Role

SESSION_COOKIE = "tl_sesi"
LOGIN_CSRF_COOKIE = "tl_csrf_masuk"

templates = Jinja2Templates(directory=str(files("tindaklanjut") / "templates" / "web"))
templates.env.filters.update(formatting.FILTERS)


class LoginRequired(Exception):
    """No valid session: the page answers with a redirect to /masuk."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class PageError(Exception):
    """An error page in Bahasa Indonesia with an HTTP status (403, 404...)."""

    def __init__(self, status: int, title: str, message: str) -> None:
        self.status, self.title, self.message = status, title, message


async def web_actor(request: Request) -> Actor:
    actor = getattr(request.state, "web_actor", None)
    if actor is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return actor


WebActor = Annotated[Actor, Depends(web_actor)]


def require(*roles: Role):
    async def check(current: WebActor) -> Actor:
        if current.role not in roles and current.role is not Role.ADMIN:
            raise PageError(403, "Tidak berwenang", "Halaman ini bukan untuk peran Anda.")
        return current
    return check


VerifierActor = Annotated[Actor, Depends(require(Role.EVALUATOR, Role.VERIFIER))]
EvaluatorActor = Annotated[Actor, Depends(require(Role.EVALUATOR))]
ReaderActor = Annotated[Actor, Depends(require(Role.SECRETARY, Role.EVALUATOR, Role.VERIFIER))]
AdminActor = Annotated[Actor, Depends(require())]


def mask(token: str) -> str:
    """The token XOR a fresh random pad, pad first: a different string in every
    page, so compressed pages do not leak it (BREACH), and `unmask` recovers it."""
    raw = token.encode()
    pad = secrets.token_bytes(len(raw))
    return base64.urlsafe_b64encode(pad + bytes(a ^ b for a, b in zip(raw, pad))).decode()


def unmask(masked: str) -> str | None:
    try:
        data = base64.urlsafe_b64decode(masked.encode())
    except (ValueError, UnicodeError):
        return None
    half = len(data) // 2
    if not data or len(data) % 2:
        return None
    try:
        return bytes(a ^ b for a, b in zip(data[half:], data[:half])).decode()
    except UnicodeDecodeError:
        return None


async def csrf_checked(request: Request) -> None:
    """Every form carries the session's CSRF token, masked (field `csrf_token`,
    or the `X-CSRF-Token` header for scripts); a POST without it gets 403."""
    expected = getattr(request.state, "csrf_token", None)
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        sent = form.get("csrf_token")
    sent = unmask(sent) if isinstance(sent, str) and len(sent) <= 400 else None
    if not expected or not sent or not hmac.compare_digest(sent, expected):
        raise PageError(403, "Formulir kedaluwarsa", "Token keamanan formulir tidak ada atau tidak cocok. "
                                                     "Muat ulang halaman, lalu coba lagi.")


CsrfChecked = Depends(csrf_checked)


def render(request: Request, template: str, status_code: int = 200, **context):
    context.setdefault("actor", getattr(request.state, "web_actor", None))
    token = getattr(request.state, "csrf_token", "")
    context.setdefault("csrf_token", mask(token) if token else "")
    context.setdefault("path", request.url.path)
    return templates.TemplateResponse(request, template, context, status_code=status_code)


def login_url(next_path: str) -> str:
    return f"/masuk?lanjut={quote(next_path, safe='')}"
