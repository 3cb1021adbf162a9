"""The API's outer guard, a plain ASGI middleware, so it acts before FastAPI
reads any body:

- authentication of every `/api/v1` request before its body is read (the
  actor is left in the request state for the routes), with failed attempts
  rate-limited per client;
- the body size limit, from `Content-Length` and again while streaming;
- `Idempotency-Key` on writes: a repeat gets the first answer again;
- security headers on every response;
- internal errors logged with an id, and answered with that id only.
"""

from __future__ import annotations

import hashlib
import math
import time
import uuid
from datetime import datetime, timezone
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import orjson
import structlog
from http.cookies import CookieError, SimpleCookie

from fastapi import HTTPException
from sqlalchemy.exc import IntegrityError

from tindaklanjut.adapters.orm import IdempotencyKeyRow
from tindaklanjut.api import queries
from tindaklanjut.service_layer import users
from tindaklanjut.web.deps import SESSION_COOKIE

log = structlog.get_logger(__name__)

API_PREFIX = "/api/v1/"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_IDEMPOTENCY_KEY = 200
MAX_REPLAY_BYTES = 1024 * 1024
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
       "frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
# Server-side SVG charts carry their own <style> element; they run no script.
CHART_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
MAX_FILES_PER_FORM = 5
# Paths that never depend on who is asking: no session lookup.
NO_SESSION_PREFIXES = ("/static/", "/favicon.ico", "/docs", "/redoc", "/openapi.json", "/healthz", "/readyz",
                       "/metrics")
DOCS_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; " \
           "script-src 'self' 'unsafe-inline'; worker-src 'self' blob:; frame-ancestors 'none'"


class BodyTooLarge(HTTPException):
    """Raised while the body streams in; an HTTPException so FastAPI's body
    parsing passes it on instead of calling it a parse error."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"isi permintaan melebihi batas {limit // 1024} KiB")


@dataclass
class FailedLogins:
    """Failed authentications per client: after `limit` within `window`
    seconds the client is refused for `window` seconds (429)."""

    limit: int = 10
    window: float = 60.0
    clock: Callable[[], float] = time.monotonic
    failures: dict[str, deque] = field(default_factory=dict)

    def retry_after(self, client: str) -> int:
        recent = self._recent(client)
        if len(recent) >= self.limit:
            return max(1, math.ceil(recent[-1] + self.window - self.clock()))
        return 0

    def record(self, client: str) -> None:
        self._recent(client).append(self.clock())
        if len(self.failures) > 10_000:      # bounded memory: forget the quietest clients
            for stale in [c for c, times in self.failures.items() if not times][:5_000]:
                del self.failures[stale]

    def _recent(self, client: str) -> deque:
        times = self.failures.setdefault(client, deque(maxlen=self.limit))
        while times and times[0] < self.clock() - self.window:
            times.popleft()
        return times


def _problem(status: int, code: str, message: str, headers: dict[str, str] | None = None):
    body = orjson.dumps({"code": code, "message": message})
    return status, body, {"content-type": "application/json", **(headers or {})}


class RequestGuard:
    def __init__(self, app, *, container, failed_logins: FailedLogins | None = None) -> None:
        self.app, self.container = app, container
        self.settings = container.settings
        self.failed_logins = failed_logins or FailedLogins()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        # The request id: the caller's X-Request-ID when sane, else a new one; in every log line and the answer.
        sent_id = _header(scope, b"x-request-id") or ""
        request_id = sent_id if 8 <= len(sent_id) <= 64 and sent_id.replace("-", "").isalnum() else uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=request_id)

        async def send_secured(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = (list(message.get("headers", [])) + self._security_headers(scope["path"])
                                      + [(b"x-request-id", request_id.encode())])
            await send(message)

        async def answer(status: int, body: bytes, headers: dict[str, str]) -> None:
            await send_secured({"type": "http.response.start", "status": status,
                                "headers": [(k.encode(), v.encode()) for k, v in headers.items()]})
            await send_secured({"type": "http.response.body", "body": body})

        try:
            refusal = await self._admit(scope)
            if refusal:
                await answer(*refusal)
                return
            limited = self._limited_receive(scope, receive)
            key = self._idempotency_key(scope)
            if key is None:
                await self.app(scope, limited, send_secured)
            else:
                await self._idempotent(scope, limited, send_secured, answer, key)
        except BodyTooLarge as exc:
            if not started:
                await answer(*_problem(413, "too_large", exc.detail))
        except Exception:
            error_id = uuid.uuid4().hex[:12]
            log.exception("api.internal_error", error_id=error_id, path=scope["path"], method=scope["method"])
            if not started:
                await answer(*_problem(500, "internal_error", f"terjadi kesalahan internal; sampaikan kode "
                                                              f"{error_id} kepada admin", {"x-error-id": error_id}))
        finally:
            structlog.contextvars.unbind_contextvars("request_id")

    # -- admission: authentication before any body is read -------------------------------------------
    async def _admit(self, scope) -> tuple | None:
        if not scope["path"].startswith(API_PREFIX):
            if not scope["path"].startswith(NO_SESSION_PREFIXES):
                await self._web_session(scope)
            return self._length_refusal(scope)
        client = (scope.get("client") or ("?", 0))[0]
        wait = self.failed_logins.retry_after(client)
        if wait:
            return _problem(429, "too_many_failures", f"terlalu banyak percobaan masuk yang gagal; coba lagi "
                                                      f"dalam {wait} detik", {"retry-after": str(wait)})
        authorization = _header(scope, b"authorization") or ""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _problem(401, "unauthenticated", "token diperlukan", {"www-authenticate": "Bearer"})
        actor = await users.authenticate(self.container.reading_uow, token.strip())
        if actor is None:
            self.failed_logins.record(client)
            return _problem(401, "unauthenticated", "token tidak valid, kedaluwarsa atau dicabut",
                            {"www-authenticate": "Bearer"})
        scope.setdefault("state", {})["actor"] = actor
        scope["state"]["credential"] = users.token_hash(token.strip())
        return self._length_refusal(scope)

    async def _web_session(self, scope) -> None:
        """A page request: the session cookie's actor and CSRF token, when the session is valid."""
        cookie = SimpleCookie()
        try:
            cookie.load(_header(scope, b"cookie") or "")
        except CookieError:
            return
        morsel = cookie.get(SESSION_COOKIE)
        if not morsel or not morsel.value or len(morsel.value) > 200:
            return
        async with self.container.read_sessions() as session:
            found = await queries.session_actor(session, users.token_hash(morsel.value), datetime.now(timezone.utc))
        if found is not None:
            state = scope.setdefault("state", {})
            state["web_actor"], state["csrf_token"] = found
            state["session_token"] = morsel.value

    def _length_refusal(self, scope) -> tuple | None:
        length = _header(scope, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self._body_limit(scope)):
            return _problem(413, "too_large", f"isi permintaan melebihi batas {self._body_limit(scope) // 1024} KiB")
        return None

    def _body_limit(self, scope) -> int:
        path = scope["path"]
        if path.endswith("/evidence"):
            return self.settings.evidence_max_bytes + 64 * 1024   # multipart framing around the file
        if path.endswith("/bukti") or path == "/unggah-penilaian":
            return MAX_FILES_PER_FORM * self.settings.evidence_max_bytes + 64 * 1024
        return self.settings.max_message_bytes

    def _limited_receive(self, scope, receive) -> Callable[[], Awaitable[dict]]:
        limit, seen = self._body_limit(scope), 0

        async def limited() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message
        return limited

    def _security_headers(self, path: str) -> list[tuple[bytes, bytes]]:
        docs = path in ("/docs", "/redoc") or path.startswith("/docs/")
        policy = DOCS_CSP if docs else CHART_CSP if path.endswith(".svg") else CSP
        headers = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                   (b"referrer-policy", b"same-origin"), (b"content-security-policy", policy.encode())]
        if self.settings.environment == "production":
            headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
        return headers

    # -- Idempotency-Key ------------------------------------------------------------------------------
    def _idempotency_key(self, scope) -> str | None:
        if scope["method"] not in WRITE_METHODS or "credential" not in scope.get("state", {}):
            return None
        key = _header(scope, b"idempotency-key")
        if not key:
            return None
        digest = hashlib.sha256(f"{scope['state']['credential']}\n{scope['method']}\n{scope['path']}\n{key}"
                                .encode()).hexdigest()
        return digest if len(key) <= MAX_IDEMPOTENCY_KEY else "too-long"

    async def _idempotent(self, scope, receive, send, answer, key_hash: str) -> None:
        if key_hash == "too-long":
            await answer(*_problem(400, "invalid", f"Idempotency-Key paling panjang {MAX_IDEMPOTENCY_KEY} karakter"))
            return
        sessions, now = self.container.sessions, self.container.clock()
        try:
            async with sessions() as session, session.begin():
                session.add(IdempotencyKeyRow(key_hash=key_hash, method=scope["method"], path=scope["path"],
                                              created_at=now))
        except IntegrityError:
            async with sessions() as session:
                stored = await session.get(IdempotencyKeyRow, key_hash)
            if stored is None or stored.status_code is None:
                await answer(*_problem(409, "in_progress", "permintaan dengan Idempotency-Key yang sama "
                                                            "masih diproses"))
                return
            await answer(stored.status_code, stored.body or b"",
                         {"content-type": stored.media_type or "application/json", "idempotency-replayed": "true"})
            return
        status, media_type, chunks, size = 500, None, [], 0

        async def capture(message) -> None:
            nonlocal status, media_type, size
            if message["type"] == "http.response.start":
                status = message["status"]
                media_type = dict(message.get("headers", [])).get(b"content-type", b"").decode() or None
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
                if size <= MAX_REPLAY_BYTES:
                    chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            async with sessions() as session, session.begin():
                stored = await session.get(IdempotencyKeyRow, key_hash)
                if status >= 500 or size > MAX_REPLAY_BYTES:
                    await session.delete(stored)          # not a final answer: the client may try again
                else:
                    stored.status_code, stored.body, stored.media_type = status, b"".join(chunks), media_type


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None
