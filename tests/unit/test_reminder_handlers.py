"""The reminder sweep and the contact import on the bus, against the fakes
(tests/unit/fake_reminders.py): who is told what and when, one digest per
recipient per day, escalations with their events, stopping, deferral, failed
sends, leases. The same handlers run on both databases with a real SMTP server
and webhook receivers in tests/integration/test_reminders*.py."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta

import pytest

from tindaklanjut.adapters.contacts_csv import parse_contacts
from tindaklanjut.adapters.notifications import DeliveryChannel, Permanent
from tindaklanjut.domain.lifecycle import Status
from tindaklanjut.ports.messages import IngestAssessment, Origin
from tindaklanjut.service_layer import commands, reminders

from tests.reminder_helpers import contacts_csv
from tests.unit.test_command_handlers import Harness

CITY, PROVINCE = "15.71", "15"
DUKCAPIL, DPMPTSP, DINSOS = "15.71/disdukcapil", "15.71/dpmptsp", "15/dinsos"
DIRECTORY = [
    (CITY, DUKCAPIL, "unit_head", "Kadis Dukcapil", "kadis@dukcapil.jambikota.test", ""),
    (CITY, DPMPTSP, "unit_head", "Kadis DPMPTSP", "kadis@dpmptsp.jambikota.test", ""),
    (CITY, "", "organisasi", "Kabag Organisasi", "organisasi@jambikota.test", ""),
    (CITY, "", "sekda", "Sekda Kota Jambi", "sekda@jambikota.test", "https://hook.test/sekda"),
    (CITY, "", "inspektorat", "Inspektur Kota Jambi", "", "https://hook.test/inspektorat"),
    (CITY, "", "kepala_daerah", "Wali Kota Jambi", "walikota@jambikota.test", ""),
    (PROVINCE, DINSOS, "unit_head", "Kadis Sosial", "kadis@dinsos.jambiprov.test", "https://hook.test/dinsos"),
    (PROVINCE, "", "sekda", "Sekda Provinsi Jambi", "sekda@jambiprov.test", ""),
]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


class Recording(DeliveryChannel):
    """A channel that keeps what it was given; `refuse` names addresses that fail for good."""

    def __init__(self, name: str) -> None:
        super().__init__(max_attempts=2, backoff_base=0, backoff_max=0, sleep=self._no_sleep)
        self.name, self.sent, self.refuse, self.flaky = name, [], set(), {}

    @staticmethod
    async def _no_sleep(_seconds):
        return None

    async def deliver_once(self, digest) -> str:
        if digest.address in self.refuse:
            raise Permanent("550 mailbox unavailable")
        if self.flaky.get(digest.address, 0) > 0:
            self.flaky[digest.address] -= 1
            raise ConnectionError("connection reset")
        self.sent.append(digest)
        return "250 ok"

    def pairs(self) -> set[tuple[str, str]]:
        return {(d.address, item.recommendation_id) for d in self.sent for item in d.items}


@pytest.fixture
async def h(examples):
    return await reminder_harness(examples)


async def reminder_harness(examples) -> Harness:
    """The contract examples ingested and the directory's contacts imported, with recording channels."""
    harness = Harness()
    harness.email, harness.webhook = Recording("email"), Recording("webhook")
    harness.bus = harness.bus_with(channels={"email": harness.email, "webhook": harness.webhook})
    await harness.handle(commands.IngestAssessments(messages=tuple(
        IngestAssessment(raw=json.dumps(d).encode(), origin=Origin(topic="t", offset=i))
        for i, d in enumerate(examples.values()))))
    parsed = parse_contacts(contacts_csv(DIRECTORY))
    assert parsed.errors == []
    result = await harness.handle(commands.ImportContacts(contacts=tuple(parsed.contacts), at=at("2024-12-21T08:00+07:00")))
    assert result == (len(DIRECTORY), 0, 0)
    return harness


async def sweep(h, when: str, **options) -> reminders.SweepReport:
    return await h.handle(commands.RunSweep(now=at(when), owner="uji", **options))


def ids(h, unit_id: str) -> set[str]:
    return {r.id for r in h.uow.recommendations.rows.values() if r.unit_id == unit_id}


def planned(h, unit_id: str) -> str:
    """The unit's saran that waits for a rencana aksi (its facilities one)."""
    return next(r.id for r in h.uow.recommendations.rows.values() if r.unit_id == unit_id and r.needs_plan)


def outbox(h, event_type: str) -> list[dict]:
    return [json.loads(m.value) for m in h.uow.outbox.messages if m.event_type == event_type]


async def test_one_digest_per_recipient_with_every_rung_caught_up(h):
    dukcapil, dinsos = ids(h, DUKCAPIL), ids(h, DINSOS)
    city_plan, province_plan = planned(h, DUKCAPIL), planned(h, DINSOS)
    # Tuesday 4 February 2025, 08:00 WIB: the city's items are 33 days late, the province's due in 14 days;
    # each unit's facilities saran waits for its rencana aksi, due 13 and 20 January (22 and 15 days late).
    report = await sweep(h, "2025-02-04T08:00+07:00")
    assert (report.sent, report.failed, report.cancelled) == (9, 0, 0)
    assert report.examined == 8 and report.reconciled == 8 and report.stopped == 0
    assert report.escalations == 13 and report.unroutable == 2 and report.deferred == 0
    assert sorted(d.recipient_name for d in h.email.sent) == [
        "Kabag Organisasi", "Kadis Dukcapil", "Kadis Sosial", "Sekda Kota Jambi", "Sekda Provinsi Jambi",
        "Wali Kota Jambi"]
    assert sorted(d.recipient_name for d in h.webhook.sent) == ["Inspektur Kota Jambi", "Kadis Sosial",
                                                                "Sekda Kota Jambi"]
    assert h.email.pairs() == ({(a, r) for a in ("kadis@dukcapil.jambikota.test", "organisasi@jambikota.test",
                                                  "sekda@jambikota.test") for r in dukcapil}
                               | {("walikota@jambikota.test", r) for r in dukcapil - {city_plan}}
                               | {("kadis@dinsos.jambiprov.test", r) for r in dinsos}
                               | {("sekda@jambiprov.test", province_plan)})
    kadis = next(d for d in h.email.sent if d.address == "kadis@dukcapil.jambikota.test")
    assert sorted(i.days_overdue for i in kadis.items) == [22, 33, 33, 33]
    assert {i.days_overdue for d in h.webhook.sent if d.recipient_name == "Kadis Sosial" for i in d.items} == {-14, 15}
    sent = outbox(h, "tindaklanjut.reminder.sent.v1")
    assert len(sent) == len({json.dumps([e["data"]["recommendation_id"], e["data"]["step"], e["data"]["channel"],
                                         e["data"]["recipient_name"]]) for e in sent}) == 54
    assert Counter(e["data"]["step"] for e in sent if e["data"]["recommendation_id"] in dinsos) == {
        "T-14": 6, "T-7": 2, "T-1": 2, "T0": 2, "T+1": 2, "T+7": 1}
    assert {e["subject"] for e in sent} == {DUKCAPIL, DINSOS}
    escalated = outbox(h, "tindaklanjut.recommendation.escalated.v1")
    assert sorted((e["data"]["step"], e["data"]["level"]) for e in escalated) == sorted(
        [("T+1", 1), ("T+7", 2), ("T+30", 3)] * 3 + [("T+1", 1), ("T+7", 2)] * 2)
    rung2 = next(e for e in escalated if e["data"]["step"] == "T+7" and e["data"]["recommendation_id"] in dukcapil
                 and e["data"]["recommendation_id"] != city_plan)
    assert sorted((n["role"], n["name"]) for n in rung2["data"]["notified"]) == [
        ("inspektorat", "Inspektur Kota Jambi"), ("sekda", "Sekda Kota Jambi")]
    assert rung2["data"]["days_overdue"] == 33 and rung2["data"]["agency_id"] == CITY
    assert {e["data"]["recommendation_id"] for e in escalated} == dukcapil | {province_plan}
    store = h.uow.reminders
    assert {d["status"] for d in store.digests.values()} == {"sent"}
    assert {d["status"] for d in store.deliveries.values()} == {"sent"}
    assert Counter(a["outcome"] for a in store.attempts.values()) == {"sent": 9}

    # The same instant again, and the next day: nothing new is due.
    again = await sweep(h, "2025-02-04T08:00+07:00")
    next_day = await sweep(h, "2025-02-05T08:00+07:00")
    assert again.sent == next_day.sent == 0 and len(h.email.sent) == 6
    assert again.reconciled == 0

    # Monday 10 February: the weekly overdue reminder to the unit head and the Sekda only.
    weekly = await sweep(h, "2025-02-10T08:00+07:00")
    assert weekly.sent == 3
    assert sorted(d.recipient_name for d in h.email.sent[6:]) == ["Kadis Dukcapil", "Sekda Kota Jambi"]
    assert {i.step_id for d in h.webhook.sent[3:] for i in d.items} == {"T+37"}


async def test_closed_items_stop_and_a_changed_deadline_gets_its_own_ladder(h):
    # The items without a rencana aksi (the facilities ones keep their own, later ladder).
    city_plan, province_plan = planned(h, DUKCAPIL), planned(h, DINSOS)
    dukcapil, dinsos = sorted(ids(h, DUKCAPIL) - {city_plan}), sorted(ids(h, DINSOS) - {province_plan})
    submitted, extended = dukcapil[0], dinsos[0]
    h.uow.recommendations.rows[submitted].status = Status.SUBMITTED
    rec = h.uow.recommendations.rows[extended]
    rec.due_date, rec.due_at = at("2025-03-31T23:59+07:00").date(), at("2025-03-31T23:59+07:00")
    first = await sweep(h, "2025-02-04T08:00+07:00")
    assert first.stopped == 0 and submitted not in {r for _, r in h.email.pairs()}
    assert {r for a, r in h.email.pairs() if a == "kadis@dinsos.jambiprov.test"} == {*dinsos[1:], province_plan}

    closing = dukcapil[1]
    plan_only = await sweep(h, "2025-02-10T08:00+07:00", send=False)
    assert plan_only.sent == 0 and plan_only.deliveries > 0
    h.uow.recommendations.rows[closing].status = Status.VERIFIED
    sending = await sweep(h, "2025-02-10T08:00+07:00")
    weekly = {r for d in h.email.sent[6:] for r in [i.recommendation_id for i in d.items]}
    assert weekly == set(dukcapil[2:])
    cancelled = [d for d in h.uow.reminders.deliveries.values()
                 if d["recommendation_id"] == closing and d["status"] == "cancelled"]
    assert cancelled and sending.sent > 0
    assert closing in h.uow.reminders.schedule
    later = await sweep(h, "2025-02-17T08:00+07:00")         # its next weekly rung: it leaves the schedule
    assert later.stopped == 1 and closing not in h.uow.reminders.schedule

    before = len(h.email.sent)
    await sweep(h, "2025-03-17T08:00+07:00")
    to_dinsos = [d for d in h.email.sent[before:] if d.address == "kadis@dinsos.jambiprov.test"]
    assert len(to_dinsos) == 1
    assert {i.recommendation_id: i.days_overdue for i in to_dinsos[0].items}[extended] == -14


async def test_windows_one_digest_a_day_and_deferral(h):
    assert (await sweep(h, "2025-02-08T09:00+07:00")).sent == 0            # Saturday
    assert (await sweep(h, "2025-02-10T07:59+07:00")).sent == 0            # before eight
    assert (await sweep(h, "2025-02-10T16:30+07:00")).sent == 0            # after office hours
    assert h.email.sent == [] and h.webhook.sent == []
    assert (await sweep(h, "2025-02-11T08:00+07:00")).sent > 0
    assert len([d for d in h.email.sent if d.address == "sekda@jambikota.test"]) == 1

    # Later that day a deadline moves into the past: the Sekda already had today's digest.
    dpmptsp = next(iter(ids(h, DPMPTSP)))
    rec = h.uow.recommendations.rows[dpmptsp]
    rec.due_date, rec.due_at = at("2025-01-20T23:59+07:00").date(), at("2025-01-20T23:59+07:00")
    later = await sweep(h, "2025-02-11T10:00+07:00")
    assert later.deferred > 0
    assert len([d for d in h.email.sent if d.address == "sekda@jambikota.test"]) == 1
    assert (("kadis@dpmptsp.jambikota.test", dpmptsp)) in h.email.pairs()
    await sweep(h, "2025-02-12T08:00+07:00")
    second = [d for d in h.email.sent if d.address == "sekda@jambikota.test"]
    assert len(second) == 2 and dpmptsp in {i.recommendation_id for i in second[1].items}
    assert second[0].uid != second[1].uid


async def test_a_passing_failure_is_sent_again_by_a_later_sweep_and_gives_up_after_its_claims(h):
    from tindaklanjut.domain.reminders import MAX_DIGEST_CLAIMS, retry_after

    h.email.flaky["walikota@jambikota.test"] = 2 * MAX_DIGEST_CLAIMS       # every try of every claim fails
    h.email.flaky["organisasi@jambikota.test"] = 2                         # the first claim's two tries fail
    first = await sweep(h, "2025-02-04T08:00+07:00")
    assert (first.sent, first.failed, first.retrying) == (7, 0, 2)
    store = h.uow.reminders
    by_address = {d["address"]: (i, d) for i, d in store.digests.items()}
    organisasi_id, organisasi = by_address["organisasi@jambikota.test"]
    assert organisasi["status"] == "retrying" and "ConnectionError" in organisasi["error"]
    assert {d["status"] for d in store.deliveries.values() if d["digest_id"] == organisasi_id} == {"planned"}
    assert not any(e["data"]["recipient_name"] == "Kabag Organisasi"
                   for e in outbox(h, "tindaklanjut.reminder.sent.v1"))
    assert retry_after(1).total_seconds() == 900 and retry_after(2) == 2 * retry_after(1)
    assert retry_after(50).total_seconds() == 6 * 3600
    assert retry_after(1, timedelta(seconds=2)).total_seconds() == 2 and retry_after(3, timedelta(seconds=2)).total_seconds() == 8
    assert retry_after(2, timedelta(hours=8)) == timedelta(hours=8)        # a configured pause over the cap stays
    # The wall clock has not moved past the pause: nothing is claimed again.
    same = await sweep(h, "2025-02-04T08:00+07:00")
    assert (same.sent, same.retrying) == (0, 0)
    for _claim in range(2, MAX_DIGEST_CLAIMS + 1):     # later sweeps, each after the pause
        wall_now = by_address["walikota@jambikota.test"][1]["lease_until"] + timedelta(seconds=1)
        report = await reminders.send_digests(
            at("2025-02-04T08:00+07:00"), uow=lambda: h.uow, policy=h.dependencies["reminder_policy"],
            channels={"email": h.email, "webhook": h.webhook}, lease_seconds=900, concurrency=1, owner="uji",
            report=reminders.SweepReport(now=wall_now), wall_clock=lambda: wall_now)
        assert report is None
    walikota = by_address["walikota@jambikota.test"][1]
    assert (walikota["status"], walikota["claims"]) == ("failed", MAX_DIGEST_CLAIMS)
    assert organisasi["status"] == "sent" and organisasi["claims"] == 2
    assert {d["status"] for d in store.deliveries.values() if d["digest_id"] == organisasi_id} == {"sent"}
    assert any(e["data"]["recipient_name"] == "Kabag Organisasi" for e in outbox(h, "tindaklanjut.reminder.sent.v1"))


async def test_a_refused_address_fails_its_digest_and_a_flaky_one_is_retried(h):
    h.email.refuse.add("walikota@jambikota.test")
    h.webhook.flaky["https://hook.test/sekda"] = 1
    report = await sweep(h, "2025-02-04T08:00+07:00")
    assert (report.sent, report.failed, report.retrying) == (8, 1, 0)
    store = h.uow.reminders
    failed = next(d for d in store.digests.values() if d["address"] == "walikota@jambikota.test")
    assert failed["status"] == "failed" and "550" in failed["error"]
    failed_id = next(i for i, d in store.digests.items() if d is failed)
    assert {d["status"] for d in store.deliveries.values() if d["digest_id"] == failed_id} == {"failed"}
    outcomes = Counter((store.digests[a["digest_id"]]["address"], a["outcome"]) for a in store.attempts.values())
    assert outcomes[("https://hook.test/sekda", "retry")] == 1 and outcomes[("https://hook.test/sekda", "sent")] == 1
    assert outcomes[("walikota@jambikota.test", "failed")] == 1
    assert not any(e["data"]["recipient_name"] == "Wali Kota Jambi"
                   for e in outbox(h, "tindaklanjut.reminder.sent.v1"))


async def test_a_digest_left_sending_is_sent_again_after_its_lease(h):
    await sweep(h, "2025-02-04T08:00+07:00", send=False)
    store = h.uow.reminders
    wall = at("2025-02-04T08:00+07:00")
    claimed = await store.claim_digest(["Asia/Jakarta"], wall_now=wall, lease_until=wall + timedelta(minutes=15),
                                       owner="crashed")
    assert claimed is not None                       # a sender took it and died
    report = await reminders.send_digests(at("2025-02-04T08:00+07:00"), uow=lambda: h.uow,
                                          policy=h.dependencies["reminder_policy"],
                                          channels={"email": h.email, "webhook": h.webhook}, lease_seconds=900,
                                          concurrency=1, owner="uji", report=reminders.SweepReport(now=wall),
                                          wall_clock=lambda: wall + timedelta(minutes=1))
    assert report is None
    assert store.digests[claimed.id]["status"] == "sending"        # its lease has not run out yet
    await reminders.send_digests(at("2025-02-04T08:00+07:00"), uow=lambda: h.uow,
                                 policy=h.dependencies["reminder_policy"],
                                 channels={"email": h.email, "webhook": h.webhook}, lease_seconds=900,
                                 concurrency=2, owner="uji", report=reminders.SweepReport(now=wall),
                                 wall_clock=lambda: wall + timedelta(minutes=16))
    assert store.digests[claimed.id]["status"] == "sent" and store.digests[claimed.id]["claims"] == 2


async def test_contacts_are_upserted_and_wake_the_agencys_schedule(h):
    await sweep(h, "2025-01-10T08:00+07:00")
    store = h.uow.reminders
    assert all(row["next_at"] > at("2025-01-10T08:00+07:00") for row in store.schedule.values())
    parsed = parse_contacts(contacts_csv([
        (CITY, "", "sekda", "Sekda Kota Jambi (baru)", "sekda.baru@jambikota.test", ""),
        (CITY, DUKCAPIL, "unit_head", "Kadis Dukcapil", "kadis@dukcapil.jambikota.test", "")]))
    result = await h.handle(commands.ImportContacts(contacts=tuple(parsed.contacts), at=at("2025-01-10T09:00+07:00")))
    assert result == (0, 1, 1)
    woken = {rec_id for rec_id, row in store.schedule.items() if row["next_at"] <= at("2025-01-10T09:00+07:00")}
    assert woken == ids(h, DUKCAPIL) | ids(h, DPMPTSP)
    assert len(store.planner_owners) == 3 and store.planner_owners[-1].startswith("contacts-import-")


def test_the_sweep_instant_must_carry_a_time_zone():
    with pytest.raises(ValueError, match="timezone-aware"):
        import asyncio
        asyncio.run(reminders.sweep(datetime(2025, 2, 4, 8, 0), uow=None, policy=None, channels={}))
