"""Reminder channels: e-mail over SMTP (aiosmtplib) and signed webhooks (httpx).

Each channel tries a digest up to its configured number of times with
exponential back-off, reports every try to an attempt log, and returns
whether the digest went out. A retried send keeps the digest's uid as its
Message-ID / `X-Tindaklanjut-Delivery`, so a receiver can drop a repeat.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import Protocol

import aiosmtplib
import httpx
import jinja2
from tenacity import AsyncRetrying, retry_if_not_exception_type, stop_after_attempt, wait_exponential

from tindaklanjut.config import Settings
from tindaklanjut.formatting import tanggal
from tindaklanjut.domain.reminders import Digest, role_label

PRIORITIES = {"high": "tinggi", "medium": "sedang", "low": "rendah"}
SIGNATURE_HEADER = "X-Tindaklanjut-Signature"
TIMESTAMP_HEADER = "X-Tindaklanjut-Timestamp"
DELIVERY_HEADER = "X-Tindaklanjut-Delivery"


def _roles(roles, agency_kind: str | None = None) -> str:
    labels = [role_label(r, agency_kind) for r in roles]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " dan " + labels[-1]


_env = jinja2.Environment(loader=jinja2.PackageLoader("tindaklanjut", "templates/reminders"),
                          autoescape=jinja2.select_autoescape(["html.j2"]), undefined=jinja2.StrictUndefined,
                          keep_trailing_newline=True)
_env.filters.update(tanggal=tanggal, prioritas=lambda p: PRIORITIES.get(p, p), peran=_roles)


def subject(digest: Digest) -> str:
    overdue = f", {digest.overdue} terlambat" if digest.overdue else ""
    return (f"[Tindak Lanjut] {len(digest.items)} {digest.produces} perlu ditindaklanjuti{overdue} "
            f"({tanggal(digest.day)})")


def render_email(digest: Digest, sender: str, public_url: str = "http://127.0.0.1:8000",
                 signature: str = "Tim Tindak Lanjut") -> EmailMessage:
    """The digest as an e-mail, every item linked to its page in the workspace."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = formataddr((digest.recipient_name, digest.address))
    message["Subject"] = subject(digest)
    message["Message-ID"] = f"<{digest.uid}@tindaklanjut>"
    message["Date"] = formatdate(localtime=False)       # RFC 5322 requires it; some relays reject mail without
    message[DELIVERY_HEADER] = digest.uid
    context = {"digest": digest, "public_url": public_url.rstrip("/"), "signature": signature}
    message.set_content(_env.get_template("digest.txt.j2").render(**context))
    message.add_alternative(_env.get_template("digest.html.j2").render(**context), subtype="html")
    return message


def webhook_body(digest: Digest) -> bytes:
    """The digest as JSON: what is due, for whom; no evidence, no findings."""
    return json.dumps({
        "type": "tindaklanjut.reminder.digest",
        "digest_id": digest.uid,
        "date": digest.day.isoformat(),
        "recipient": digest.recipient_name,
        "items": [{
            "recommendation_id": item.recommendation_id, "title": item.title,
            "unit": {"id": item.unit_id, "name": item.unit_name}, "indicator_code": item.indicator_code,
            "priority": item.priority, "due_date": item.due_date.isoformat(), "due_at": item.due_at.isoformat(),
            "days_overdue": item.days_overdue, "step": item.step_id, "roles": list(item.roles),
            "text": item.state_text,
        } for item in digest.items],
    }, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over `<timestamp>.<body>`, as `sha256=<hex>`."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


SIGNATURE_TOLERANCE_SECONDS = 300


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, now: float | None = None,
           tolerance: float = SIGNATURE_TOLERANCE_SECONDS) -> bool:
    """What a receiver should do: the signature matches and the timestamp is
    within `tolerance` seconds of its own clock (an old request is a replay)."""
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return False
    return age <= tolerance and hmac.compare_digest(sign(secret, timestamp, body), signature)


class AttemptLog(Protocol):
    async def started(self, number: int) -> object: ...
    async def finished(self, handle: object, outcome: str, detail: str) -> None: ...


@dataclass(frozen=True)
class Outcome:
    sent: bool
    detail: str
    permanent: bool = False     # refused for good (550, HTTP 4xx): another sweep will not try again


class Permanent(Exception):
    """A refusal that another try will not change (e.g. 550, HTTP 400)."""


Sleep = Callable[[float], Awaitable[None]]


class DeliveryChannel(ABC):
    """One way to deliver a digest (e-mail, webhook). A failed try is retried
    with exponential back-off up to `max_attempts`, unless it is `Permanent`;
    every try is recorded in the attempt log."""

    name = ""

    def __init__(self, *, max_attempts: int, backoff_base: float, backoff_max: float, sleep: Sleep = asyncio.sleep):
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.sleep = sleep

    @abstractmethod
    async def deliver_once(self, digest: Digest) -> str:
        """One try; returns the server's answer. Raises `Permanent` when another try cannot help."""

    async def send(self, digest: Digest, log: AttemptLog) -> Outcome:
        retrying = AsyncRetrying(stop=stop_after_attempt(self.max_attempts),
                                 wait=wait_exponential(multiplier=self.backoff_base, max=self.backoff_max),
                                 retry=retry_if_not_exception_type(Permanent), sleep=self.sleep, reraise=True)
        try:
            async for attempt in retrying:
                with attempt:
                    number = attempt.retry_state.attempt_number
                    handle = await log.started(number)
                    try:
                        detail = await self.deliver_once(digest)
                    except Permanent as exc:
                        await log.finished(handle, "failed", str(exc))
                        raise
                    except Exception as exc:   # transient: network, timeout, 4xx SMTP, 5xx HTTP
                        await log.finished(handle, "failed" if number == self.max_attempts else "retry",
                                           _detail(exc))
                        raise
                    await log.finished(handle, "sent", detail)
                    return Outcome(True, detail)
        except Permanent as exc:
            return Outcome(False, str(exc), permanent=True)
        except Exception as exc:
            return Outcome(False, _detail(exc))
        raise AssertionError("unreachable")


def _detail(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class EmailChannel(DeliveryChannel):
    name = "email"

    def __init__(self, settings: Settings, **kwargs) -> None:
        super().__init__(max_attempts=settings.smtp_max_attempts, backoff_base=settings.delivery_backoff_base,
                         backoff_max=settings.delivery_backoff_max, **kwargs)
        self.settings = settings

    async def deliver_once(self, digest: Digest) -> str:
        s = self.settings
        message = render_email(digest, s.smtp_sender, s.public_url, s.mail_signature)
        try:
            errors, response = await aiosmtplib.send(
                message, hostname=s.smtp_host, port=s.smtp_port, use_tls=s.smtp_tls,
                start_tls=True if s.smtp_starttls else False, username=s.smtp_username or None,
                password=s.smtp_password or None, timeout=s.smtp_timeout,
                cert_bundle=str(s.smtp_ca_file) if s.smtp_ca_file else None)
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600:
                raise Permanent(f"SMTP {exc.code} {exc.message}") from exc
            raise
        if errors:
            raise Permanent(f"SMTP refused {', '.join(errors)}")
        return response


class WebhookChannel(DeliveryChannel):
    name = "webhook"

    def __init__(self, settings: Settings, *, client: httpx.AsyncClient | None = None, **kwargs) -> None:
        super().__init__(max_attempts=settings.webhook_max_attempts, backoff_base=settings.delivery_backoff_base,
                         backoff_max=settings.delivery_backoff_max, **kwargs)
        self.settings = settings
        self.client = client

    async def deliver_once(self, digest: Digest) -> str:
        body = webhook_body(digest)
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "User-Agent": "tindaklanjut-reminders/1",
                   TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(self.settings.webhook_secret, timestamp, body),
                   DELIVERY_HEADER: digest.uid}
        if self.client is not None:
            response = await self.client.post(digest.address, content=body, headers=headers,
                                              timeout=self.settings.webhook_timeout)
        else:
            async with httpx.AsyncClient(timeout=self.settings.webhook_timeout) as client:
                response = await client.post(digest.address, content=body, headers=headers)
        if response.is_success:
            return f"HTTP {response.status_code}"
        if response.status_code in (408, 429) or response.status_code >= 500:
            raise RuntimeError(f"HTTP {response.status_code}")
        raise Permanent(f"HTTP {response.status_code}")


class NullChannel(DeliveryChannel):
    """Accepts everything and sends nothing (benchmarks, dry runs)."""

    def __init__(self, name: str) -> None:
        super().__init__(max_attempts=1, backoff_base=0, backoff_max=0)
        self.name = name

    async def deliver_once(self, digest: Digest) -> str:
        return "null channel"

    async def send(self, digest: Digest, log: AttemptLog) -> Outcome:
        return Outcome(True, "null channel")     # no attempt rows: it sends nothing


def channels_from_settings(settings: Settings) -> dict[str, DeliveryChannel]:
    return {"email": EmailChannel(settings), "webhook": WebhookChannel(settings)}


__all__ = ["DeliveryChannel", "EmailChannel", "NullChannel", "Outcome", "WebhookChannel", "channels_from_settings",
           "render_email", "sign", "subject", "tanggal", "verify", "webhook_body"]
