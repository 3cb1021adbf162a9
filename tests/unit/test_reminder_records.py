"""What a reminder sweep leaves for the operator and the other systems: a log line per delivery
attempt and per failed digest with what identifies it, the attempt rows, and the outgoing
`reminder.sent` message's envelope."""

from __future__ import annotations

import json
import re
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from structlog.testing import capture_logs

from tindaklanjut.config import Settings
from tindaklanjut.domain.lifecycle import Status
from tindaklanjut.service_layer import reminders

from tests.unit.test_reminder_handlers import DINSOS, DPMPTSP, Recording, at, planned, reminder_harness, sweep


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


async def test_the_sweep_log_line_carries_every_count_and_consistent_timings(h):
    import time

    started = time.perf_counter()
    with capture_logs() as logs:
        report = await sweep(h, "2025-02-04T08:00+07:00")
    elapsed = time.perf_counter() - started
    (line,) = [e for e in logs if e["event"] == "reminders.swept"]
    counts = {k: v for k, v in report.as_dict().items() if k != "timings"}
    assert {k: line[k] for k in counts} == counts and line["now"] == "2025-02-04T08:00:00+07:00"
    assert line["timings"] == {k: round(v, 4) for k, v in report.timings.items()}
    t = report.timings
    assert min(t.values()) >= 0
    # planning includes its claim, lookup and reconcile steps; nothing lasts longer than the whole call
    assert t["claim"] + t["lookup"] + t["reconcile"] <= t["plan"] <= elapsed and t["send"] <= elapsed


async def test_what_the_sweep_writes_is_stamped_with_the_sweep_instant_and_owned_by_it(h):
    when = at("2025-02-04T08:00+07:00")
    seen = []

    class Watching(Recording):
        async def deliver_once(self, digest):
            row = next(d for d in h.uow.reminders.digests.values() if d["uid"] == digest.uid)
            seen.append((row["owner"], row["lease_until"]))
            return await super().deliver_once(digest)
    h.email = Watching("email")
    h.bus = h.bus_with(channels={"email": h.email, "webhook": h.webhook},
                       settings=Settings(environment="test", reminder_lease_seconds=1800))
    before = datetime.now(timezone.utc)
    report = await sweep(h, "2025-02-04T08:00+07:00")
    after = datetime.now(timezone.utc)
    store = h.uow.reminders
    assert store.planner_owners[-1] == "uji" and store.planner_locked_at[-1] == when
    assert {k: set(v) for k, v in store.written_at.items() if k != "contacts"} == {
        "digests": {when}, "deliveries": {when}, "escalations": {when}}
    assert {d["finished_at"] for d in store.digests.values()} == {when}
    assert {d["error"] for d in store.digests.values()} == {None}          # all sent: no error kept
    assert len(seen) == 6 and {owner for owner, _ in seen} == {"uji"}
    # the lease runs from the wall clock for the configured length
    assert all(before + timedelta(seconds=1800) <= lease <= after + timedelta(seconds=1800) for _, lease in seen)
    assert report.sent == 9
    assert set(h.uow.outbox.times[-report.escalations:]) | set(
        t for m, t in zip(h.uow.outbox.messages, h.uow.outbox.times) if m.event_type.endswith("reminder.sent.v1")) \
        == {when}


async def test_small_batches_plan_the_same_as_one_large_one(examples):
    reports = []
    for batch_size in (1000, 3):
        h = await reminder_harness(examples)
        h.bus = h.bus_with(channels={"email": h.email, "webhook": h.webhook},
                           settings=Settings(environment="test", reminder_batch_size=batch_size))
        reports.append(await sweep(h, "2025-02-04T08:00+07:00"))
        assert set(h.uow.reminders.claim_limits) == {batch_size}
        assert len(h.uow.reminders.claim_limits) == (2 if batch_size == 1000 else 4)   # 8 rows, then an empty claim
    large, small = ({k: v for k, v in r.as_dict().items() if k != "timings"} for r in reports)
    assert small == large and small["examined"] == 8 and small["digests_created"] == 9


async def test_a_second_plan_the_same_day_adds_to_the_pending_digest_and_escalates_nothing_again(h):
    first = await sweep(h, "2025-02-04T08:00+07:00", send=False)
    assert first.digests_created == 9 and first.escalations == 13
    dpmptsp = next(r for r in h.uow.recommendations.rows.values() if r.unit_id == DPMPTSP)
    dpmptsp.due_date, dpmptsp.due_at = at("2025-01-20T23:59+07:00").date(), at("2025-01-20T23:59+07:00")
    second = await sweep(h, "2025-02-04T10:00+07:00", send=False)
    # today's digests are still pending: only the DPMPTSP head, not told before, gets a new one
    assert (second.digests_created, second.deferred) == (1, 0)
    assert second.deliveries == 9 and second.escalations == 2            # the newly late item's two rungs only
    sekda = [i for i, d in h.uow.reminders.digests.items() if d["address"] == "sekda@jambikota.test"]
    assert len(sekda) == 1
    lines = {d["recommendation_id"] for d in h.uow.reminders.deliveries.values() if d["digest_id"] == sekda[0]}
    assert dpmptsp.id in lines


async def test_every_failed_digest_is_counted_and_a_retry_is_logged_with_its_time(h):
    h.email.refuse.update({"walikota@jambikota.test", "organisasi@jambikota.test"})
    h.webhook.flaky["https://hook.test/sekda"] = 2
    with capture_logs() as logs:
        report = await sweep(h, "2025-02-04T08:00+07:00")
    assert (report.failed, report.retrying) == (2, 1)
    (retrying,) = [e for e in logs if e["event"] == "reminders.digest_failed" and e["status"] == "retrying"]
    row = next(d for d in h.uow.reminders.digests.values() if d["address"] == "https://hook.test/sekda")
    assert retrying["retry_at"] == row["lease_until"].isoformat()


async def test_a_digest_whose_items_all_closed_before_it_was_sent_is_cancelled(h):
    province_plan = planned(h, DINSOS)
    await sweep(h, "2025-02-04T08:00+07:00", send=False)
    h.uow.recommendations.rows[province_plan].status = Status.VERIFIED
    report = await sweep(h, "2025-02-04T08:30+07:00", reconcile=False)
    assert report.cancelled == 1
    store = h.uow.reminders
    (digest,) = [d for d in store.digests.values() if d["address"] == "sekda@jambiprov.test"]
    assert (digest["status"], digest["finished_at"], digest["sent_at"]) == (
        "cancelled", at("2025-02-04T08:30+07:00"), None)
    assert {d["status"] for d in store.deliveries.values() if d["recommendation_id"] == province_plan} == {"cancelled"}


async def test_an_escalation_is_a_cloudevent_with_a_stable_id_and_local_lateness(h):
    await sweep(h, "2025-02-04T08:00+07:00")
    messages = [m for m in h.uow.outbox.messages if m.event_type == "tindaklanjut.recommendation.escalated.v1"]
    for message in messages:
        body = json.loads(message.value)
        data = body["data"]
        step_key = f"{data['step']}@{data['due_date']}"
        assert message.event_id == body["id"] == str(uuid.uuid5(
            uuid.NAMESPACE_URL, f"{reminders.SOURCE}/{data['recommendation_id']}/escalated/{step_key}"))
        assert message.key == body["subject"] == data["unit_id"]
        assert datetime.fromisoformat(body["time"]) == at("2025-02-04T08:00+07:00")
        assert data["days_overdue"] == (date(2025, 2, 4) - date.fromisoformat(data["due_date"])).days
        assert message.value == json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


async def test_contacts_are_written_at_the_import_time(h):
    store = h.uow.reminders
    assert store.written_at["contacts"] == [at("2024-12-21T08:00+07:00")]
    assert store.planner_locked_at[-1] == at("2024-12-21T08:00+07:00")
    assert re.fullmatch("contacts-import-[0-9a-f]{8}", store.planner_owners[-1])
