"""What a reminder sweep leaves for the operator and the other systems: a log line per delivery
attempt and per failed digest with what identifies it, the attempt rows, and the outgoing
`reminder.sent` message's envelope."""

from __future__ import annotations

import json

import pytest
from structlog.testing import capture_logs

from tests.unit.test_reminder_handlers import reminder_harness, sweep


@pytest.fixture
async def h(examples):
    return await reminder_harness(examples)


async def test_each_attempt_and_each_failed_digest_is_logged_with_what_identifies_it(h):
    h.email.refuse.add("walikota@jambikota.test")
    with capture_logs() as logs:
        report = await sweep(h, "2025-02-04T08:00+07:00")
    assert report.failed == 1
    store = h.uow.reminders
    failed_id = next(i for i, d in store.digests.items() if d["address"] == "walikota@jambikota.test")
    attempts = [e for e in logs if e["event"] == "reminders.attempt" and e["digest"] == failed_id]
    assert [(a["channel"], a["outcome"]) for a in attempts] == [("email", "failed")]
    assert "550 mailbox unavailable" in attempts[0]["detail"]
    (line,) = [e for e in logs if e["event"] == "reminders.digest_failed"]
    assert (line["digest"], line["channel"], line["status"], line["retry_at"]) == (failed_id, "email", "failed", None)
    assert "550" in line["detail"]
    rows = [a for a in store.attempts.values() if a["digest_id"] == failed_id]
    assert [(a["channel"], a["attempt"], a["outcome"]) for a in rows] == [("email", 1, "failed")]
    sent = sum(1 for e in logs if e["event"] == "reminders.attempt" and e["outcome"] == "sent")
    assert sent == report.sent


async def test_a_sent_reminder_is_announced_as_a_compact_cloudevent_keyed_by_unit(h):
    await sweep(h, "2025-02-04T08:00+07:00")
    messages = [m for m in h.uow.outbox.messages if m.event_type == "tindaklanjut.reminder.sent.v1"]
    assert messages
    units = {r.id: r.unit_id for r in h.uow.recommendations.rows.values()}
    for message in messages:
        body = json.loads(message.value)
        assert message.topic == "reminder.sent" and message.headers == [
            ("content-type", "application/cloudevents+json")]
        assert body["id"] == message.event_id and body["type"] == message.event_type
        assert body["source"] and body["time"]
        assert message.key == units[body["data"]["recommendation_id"]] == body["subject"]
        assert message.value == json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    assert len({m.event_id for m in messages}) == len(messages)
