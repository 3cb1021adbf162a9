"""Real receivers for reminder tests: an SMTP server (aiosmtpd) and an HTTP
webhook receiver that checks HMAC signatures on its own (not with the code
under test), both in threads so child processes can reach them too."""

from __future__ import annotations

import asyncio
import email
import email.policy
import hashlib
import hmac
import json
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tindaklanjut.adapters import orm
from tindaklanjut.adapters.database import create_engine

from tests.conftest import free_port

REC_ID = re.compile(r"Buka: \S+/rekomendasi/([0-9a-f-]{36})")


class SmtpSink:
    """An SMTP server that keeps what it accepted. With `delay`, it waits
    before answering DATA and accepts the message only if the client is
    still connected when it answers (as a real MTA takes responsibility
    only with its 250)."""

    def __init__(self, delay: float = 0.0, *, tls_context=None, credentials: tuple[str, str] | None = None) -> None:
        self.delay = delay
        self.messages: list[email.message.EmailMessage] = []
        self.data_started = 0
        self._lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                with sink._lock:
                    sink.data_started += 1
                if sink.delay:
                    await asyncio.sleep(sink.delay)
                transport = getattr(server, "transport", None)
                if transport is None or transport.is_closing():
                    return "451 client went away"
                message = email.message_from_bytes(envelope.content, policy=email.policy.default)
                with sink._lock:
                    sink.messages.append(message)
                return "250 OK"

        self.port = free_port()
        options = {}
        if tls_context is not None:
            options.update(tls_context=tls_context, require_starttls=True)
        if credentials is not None:
            def authenticator(server, session, envelope, mechanism, auth_data):
                ok = (auth_data.login.decode(), auth_data.password.decode()) == credentials
                return AuthResult(success=ok, handled=False)
            options.update(auth_required=True, authenticator=authenticator)
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, **options)

    def __enter__(self) -> "SmtpSink":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]

    @staticmethod
    def text(message) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()

    @staticmethod
    def html(message) -> str:
        return message.get_body(preferencelist=("html",)).get_content()

    def pairs(self) -> list[tuple[str, str]]:
        """(recipient address, recommendation id) for every item of every accepted mail."""
        found = []
        for message in list(self.messages):
            address = email.utils.parseaddr(str(message["To"]))[1]
            found.extend((address, rec_id) for rec_id in REC_ID.findall(self.text(message)))
        return found


class WebhookSink:
    """An HTTP receiver that verifies `X-Tindaklanjut-Signature` itself and
    can fail the first requests (or all) to exercise retries."""

    def __init__(self, secret: str, *, fail_first: int = 0, always_fail: bool = False, delay: float = 0.0) -> None:
        self.secret = secret.encode()
        self.fail_first = fail_first
        self.always_fail = always_fail
        self.delay = delay
        self.requests = 0
        self.bad_signatures = 0
        self.received: list[dict] = []
        self.headers: list[dict] = []
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                timestamp = self.headers.get("X-Tindaklanjut-Timestamp", "")
                expected = "sha256=" + hmac.new(sink.secret, timestamp.encode() + b"." + body,
                                                hashlib.sha256).hexdigest()
                with sink._lock:
                    sink.requests += 1
                    number = sink.requests
                fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) <= 300   # replay window
                if not fresh or not hmac.compare_digest(expected, self.headers.get("X-Tindaklanjut-Signature", "")):
                    with sink._lock:
                        sink.bad_signatures += 1
                    return self._answer(401)
                if sink.always_fail or number <= sink.fail_first:
                    return self._answer(500)
                if sink.delay:
                    time.sleep(sink.delay)
                    if self._client_gone():
                        return
                with sink._lock:
                    sink.received.append(json.loads(body))
                    sink.headers.append(dict(self.headers) | {"Url": sink.url.rsplit("/hook", 1)[0] + self.path})
                self._answer(204)

            def _client_gone(self) -> bool:
                try:
                    return self.connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
                except BlockingIOError:
                    return False
                except OSError:
                    return True

            def _answer(self, status: int):
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> "WebhookSink":
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def pairs(self, url: str | None = None) -> list[tuple[str, str]]:
        return [(url or self.url, item["recommendation_id"]) for body in list(self.received) for item in body["items"]]


@dataclass(frozen=True)
class SeededUnit:
    unit_id: str
    agency_id: str
    rec_ids: tuple[str, ...]


async def seed(url: str, *, units: int, per_unit: int, due: date, region: str = "15.71",
               follow_up_until: date = date(2025, 6, 30), prefix: str = "u") -> list[SeededUnit]:
    """Recommendations written straight into the tables (as any writer could)."""
    from tindaklanjut.domain.calendar import deadline_on

    engine = create_engine(url)
    now = datetime(2024, 12, 3, 3, tzinfo=timezone.utc)
    due_date, due_at = deadline_on(due, region_code=region)
    seeded = []
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.insert(orm.AgencyRow.__table__).values(
                id=f"{prefix}-agency", name="Pemerintah Kota Uji", kind="pemkot", region_code=region))
            for u in range(units):
                unit_id = f"{region}/{prefix}{u:03d}"
                await conn.execute(sa.insert(orm.UnitRow.__table__).values(
                    id=unit_id, name=f"Dinas Uji {u:03d}", agency_id=f"{prefix}-agency", region_code=region))
                await conn.execute(sa.insert(orm.AssessmentRow.__table__).values(
                    assessment_id=f"a-{unit_id}", revision=1, framework="ombudsman-kepatuhan", cycle="2024",
                    unit_id=unit_id, agency_id=f"{prefix}-agency", score=60.0, computed_grade="C",
                    grade_mismatch=False, published_at=now, follow_up_until=follow_up_until, source="test",
                    event_id=f"e-{unit_id}", payload={}, received_at=now))
                ids = tuple(str(uuid.uuid5(uuid.NAMESPACE_URL, f"test/{prefix}/{u}/{n}")) for n in range(per_unit))
                await conn.execute(sa.insert(orm.RecommendationRow.__table__), [dict(
                    id=rec_id, assessment_id=f"a-{unit_id}", assessment_revision=1,
                    framework="ombudsman-kepatuhan", cycle="2024", unit_id=unit_id, agency_id=f"{prefix}-agency",
                    scope="indicator", indicator_code=f"ind.{n}", title=f"Rekomendasi uji {n}",
                    action="Lakukan perbaikan uji.", evidence="Bukti uji", priority="high", due_date=due_date,
                    due_at=due_at, status="open", rule_id="test", catalogue_version="t", template="t",
                    issued_at=now, updated_at=now) for n, rec_id in enumerate(ids)])
                seeded.append(SeededUnit(unit_id, f"{prefix}-agency", ids))
    finally:
        await engine.dispose()
    return seeded


def contacts_csv(rows: list[tuple[str, str, str, str, str, str]]) -> str:
    lines = ["agency_id,unit_id,role,name,email,webhook_url"]
    lines += [",".join(row) for row in rows]
    return "\n".join(lines) + "\n"
