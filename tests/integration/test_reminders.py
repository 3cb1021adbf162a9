"""Reminder sweeps on SQLite and PostgreSQL, delivered to a real SMTP server
and a real webhook receiver that checks signatures itself."""

from __future__ import annotations

import email.utils
import json
from collections import Counter
from datetime import datetime

import sqlalchemy as sa

from tindaklanjut.adapters import orm
from tindaklanjut.adapters.contacts_csv import parse_contacts
from tindaklanjut.adapters.orm_reminders import ReminderAttemptRow, ReminderDeliveryRow, ReminderDigestRow
from tindaklanjut.bootstrap import bootstrap
from tindaklanjut.bootstrap_reminders import reminders
from tindaklanjut.domain.calendar import deadline_on
from tindaklanjut.events.escalation import RecommendationEscalatedEvent
from tindaklanjut.events.reminder import ReminderSentEvent
from tindaklanjut.ports.messages import IngestAssessment, Origin

from tests.reminder_helpers import SmtpSink, WebhookSink, contacts_csv

SECRET = "uji-rahasia-webhook"
CITY, PROVINCE = "15.71", "15"
DUKCAPIL, DPMPTSP, DINSOS = "15.71/disdukcapil", "15.71/dpmptsp", "15/dinsos"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _settings(settings, smtp: SmtpSink, **overrides):
    return settings.model_copy(update={"smtp_port": smtp.port, "webhook_secret": SECRET, "reminder_reconcile_interval": 0,
                                       "delivery_backoff_base": 0.01, "reminder_send_concurrency": 2,
                                       **overrides})


def _directory(hooks: dict[str, WebhookSink]) -> str:
    return contacts_csv([
        (CITY, DUKCAPIL, "unit_head", "Kadis Dukcapil", "kadis@dukcapil.jambikota.test", ""),
        (CITY, DPMPTSP, "unit_head", "Kadis DPMPTSP", "kadis@dpmptsp.jambikota.test", ""),
        (CITY, "", "organisasi", "Kabag Organisasi", "organisasi@jambikota.test", ""),
        (CITY, "", "sekda", "Sekda Kota Jambi", "sekda@jambikota.test", hooks["sekda"].url),
        (CITY, "", "inspektorat", "Inspektur Kota Jambi", "", hooks["inspektorat"].url),
        (CITY, "", "kepala_daerah", "Wali Kota Jambi", "walikota@jambikota.test", ""),
        (PROVINCE, DINSOS, "unit_head", "Kadis Sosial", "kadis@dinsos.jambiprov.test", hooks["dinsos"].url),
        (PROVINCE, "", "sekda", "Sekda Provinsi Jambi", "sekda@jambiprov.test", ""),
    ])


async def _setup(settings, examples, hooks):
    container = bootstrap(settings, clock=lambda: at("2024-12-21T08:00+07:00"))
    await container.ingest([IngestAssessment(raw=json.dumps(d).encode(), origin=Origin(topic="t", offset=i))
                            for i, d in enumerate(examples.values())])
    service = reminders(container)
    parsed = parse_contacts(_directory(hooks))
    assert parsed.errors == []
    await service.import_contacts(parsed.contacts)
    return container, service


async def _rec_ids(container, unit_id: str) -> list[str]:
    async with container.sessions() as session:
        return sorted((await session.scalars(sa.select(orm.RecommendationRow.id)
                                             .where(orm.RecommendationRow.unit_id == unit_id))).all())


async def _planned(container, unit_id: str) -> str:
    """The unit's saran that waits for a rencana aksi (the facilities one)."""
    async with container.sessions() as session:
        return await session.scalar(sa.select(orm.RecommendationRow.id).where(
            orm.RecommendationRow.unit_id == unit_id, orm.RecommendationRow.needs_plan.is_(True)))


async def _outbox(container, event_type: str) -> list[dict]:
    async with container.sessions() as session:
        rows = (await session.scalars(sa.select(orm.OutboxRow).where(orm.OutboxRow.event_type == event_type))).all()
    return [json.loads(r.value) for r in rows]


async def test_a_sweep_sends_one_digest_per_recipient_to_the_right_people(settings, examples):
    with SmtpSink() as smtp, WebhookSink(SECRET) as sekda, WebhookSink(SECRET) as inspektorat, \
            WebhookSink(SECRET) as dinsos:
        settings = _settings(settings, smtp)
        container, service = await _setup(settings, examples, {"sekda": sekda, "inspektorat": inspektorat,
                                                              "dinsos": dinsos})
        try:
            dukcapil, dinsos_recs = set(await _rec_ids(container, DUKCAPIL)), set(await _rec_ids(container, DINSOS))
            # Tuesday 4 February 2025, 08:00 WIB: the city's items are 33 days late (never reminded yet:
            # every rung is caught up at once), the province's items are due in 14 days. The facilities
            # saran of each unit waits for a rencana aksi, due 13 January (city) and 20 January (province):
            # 22 and 15 days late, up to the T+7 rung.
            city_plan, province_plan = await _planned(container, DUKCAPIL), await _planned(container, DINSOS)
            report = await service.sweep(at("2025-02-04T08:00+07:00"))
            assert (report.sent, report.failed, report.unroutable) == (9, 0, 2)   # no organisasi, inspektorat for 15
            assert sorted(str(m["To"]) for m in smtp.messages) == [
                "Kabag Organisasi <organisasi@jambikota.test>", "Kadis Dukcapil <kadis@dukcapil.jambikota.test>",
                "Kadis Sosial <kadis@dinsos.jambiprov.test>", "Sekda Kota Jambi <sekda@jambikota.test>",
                "Sekda Provinsi Jambi <sekda@jambiprov.test>", "Wali Kota Jambi <walikota@jambikota.test>"]
            by_address = Counter(address for address, _ in smtp.pairs())
            assert set(smtp.pairs()) == (
                {(a, r) for a in ("kadis@dukcapil.jambikota.test", "organisasi@jambikota.test",
                                  "sekda@jambikota.test") for r in dukcapil}
                | {("walikota@jambikota.test", r) for r in dukcapil - {city_plan}}
                | {("kadis@dinsos.jambiprov.test", r) for r in dinsos_recs}
                | {("sekda@jambiprov.test", province_plan)})
            assert max(by_address.values()) == 4        # one line per recommendation, however many steps
            assert {i["recommendation_id"] for b in sekda.received for i in b["items"]} == dukcapil
            assert {i["recommendation_id"] for b in inspektorat.received for i in b["items"]} == dukcapil
            assert {i["recommendation_id"] for b in dinsos.received for i in b["items"]} == dinsos_recs
            assert (len(sekda.received), len(inspektorat.received), len(dinsos.received)) == (1, 1, 1)
            assert sekda.bad_signatures == inspektorat.bad_signatures == dinsos.bad_signatures == 0
            assert {i["days_overdue"] for i in dinsos.received[0]["items"]} == {-14, 15}

            mail = smtp.to("kadis@dukcapil.jambikota.test")[0]
            assert mail["Subject"] == ("[Tindak Lanjut] 4 saran perbaikan perlu ditindaklanjuti, 4 terlambat "
                                       "(4 Februari 2025)")
            text, html = SmtpSink.text(mail), SmtpSink.html(mail)
            assert "Batas waktu (target internal): 2 Januari 2025 pukul 23.59 WIB (terlambat 33 hari)" in text
            assert "Perbaiki pengelolaan pengaduan" in text and "Perbaiki pengelolaan pengaduan" in html
            assert "<table" in html and "terlambat 33 hari" in html
            # The unit head is told what to do (the saran, quoting the evaluator's finding) and what proves it,
            # with the source of the advice; those above it only what is overdue (below).
            assert "Bukti dukung yang diminta: SK pengelola pengaduan" in text and "SK pengelola pengaduan" in html
            assert "Sumber: ombudsman-kepatuhan siklus 2024, evaluator" in text and "Belum ada SK" in text
            sekda_mail = SmtpSink.text(smtp.to("sekda@jambikota.test")[0])
            assert "Diteruskan kepada Anda sebagai: Sekretaris Daerah" in sekda_mail
            assert "Bukti dukung yang diminta" not in sekda_mail and "Belum ada SK" not in sekda_mail
            assert "jatuh tempo 14 hari lagi" in SmtpSink.text(smtp.to("kadis@dinsos.jambiprov.test")[0])

            # Events: one reminder.sent per (recommendation, step, recipient), one escalation per rung.
            sent = [ReminderSentEvent.model_validate(e) for e in await _outbox(container, "tindaklanjut.reminder.sent.v1")]
            assert len(sent) == len({(e.data.recommendation_id, e.data.step, e.data.channel, e.data.recipient_name)
                                     for e in sent}) == 54
            assert Counter(e.data.step for e in sent if e.data.recommendation_id in dinsos_recs) == {
                "T-14": 6, "T-7": 2, "T-1": 2, "T0": 2, "T+1": 2, "T+7": 1}
            escalated = [RecommendationEscalatedEvent.model_validate(e)
                         for e in await _outbox(container, "tindaklanjut.recommendation.escalated.v1")]
            assert sorted((e.data.step, e.data.level) for e in escalated) == sorted(
                [("T+1", 1), ("T+7", 2), ("T+30", 3)] * 3 + [("T+1", 1), ("T+7", 2)] * 2)
            rung2 = next(e for e in escalated if e.data.step == "T+7" and e.data.recommendation_id in dukcapil)
            assert sorted((n.role, n.name) for n in rung2.data.notified) == [
                ("inspektorat", "Inspektur Kota Jambi"), ("sekda", "Sekda Kota Jambi")]
            assert {e.data.recommendation_id for e in escalated} == dukcapil | {province_plan}

            # The same instant again, and the next day: nothing new is due.
            again = await service.sweep(at("2025-02-04T08:00+07:00"))
            next_day = await service.sweep(at("2025-02-05T08:00+07:00"))
            assert again.sent == next_day.sent == 0 and len(smtp.messages) == 6
            assert len(sekda.received) == len(dinsos.received) == 1

            # Monday 10 February: the weekly overdue reminder (T+37, Saturday 8th -> Monday) to the
            # unit head and the Sekda only.
            weekly = await service.sweep(at("2025-02-10T08:00+07:00"))
            assert weekly.sent == 3
            assert sorted(str(m["To"]) for m in smtp.messages[6:]) == [
                "Kadis Dukcapil <kadis@dukcapil.jambikota.test>", "Sekda Kota Jambi <sekda@jambikota.test>"]
            assert len(sekda.received) == 2 and len(inspektorat.received) == 1
            assert {i["step"] for i in sekda.received[1]["items"]} == {"T+37"}
        finally:
            await container.close()


async def test_reminders_stop_when_closed_and_follow_a_changed_deadline(settings, examples):
    with SmtpSink() as smtp, WebhookSink(SECRET) as hook:
        settings = _settings(settings, smtp)
        container, service = await _setup(settings, examples, {"sekda": hook, "inspektorat": hook, "dinsos": hook})
        try:
            # The items without a rencana aksi (the facilities ones keep their own, later ladder).
            city_plan, province_plan = await _planned(container, DUKCAPIL), await _planned(container, DINSOS)
            dukcapil = [r for r in await _rec_ids(container, DUKCAPIL) if r != city_plan]
            dinsos = [r for r in await _rec_ids(container, DINSOS) if r != province_plan]
            submitted, extended = dukcapil[0], dinsos[0]
            new_date, new_at = deadline_on(datetime(2025, 3, 31).date(), region_code="15")
            # What the follow-up lifecycle (another writer) does: plain row updates.
            async with container.sessions() as session, session.begin():
                await session.execute(sa.update(orm.RecommendationRow).where(orm.RecommendationRow.id == submitted)
                                      .values(status="submitted"))
                await session.execute(sa.update(orm.RecommendationRow).where(orm.RecommendationRow.id == extended)
                                      .values(due_date=new_date, due_at=new_at))
            await service.sweep(at("2025-02-04T08:00+07:00"))
            pairs = set(smtp.pairs())
            assert not any(r == submitted for _, r in pairs)
            assert {r for a, r in pairs if a == "kadis@dinsos.jambiprov.test"} == {*dinsos[1:], province_plan}

            # Closed between planning and sending: the item is dropped from the digest.
            closing = dukcapil[1]
            await service.sweep(at("2025-02-10T08:00+07:00"), send=False)
            async with container.sessions() as session, session.begin():
                await session.execute(sa.update(orm.RecommendationRow).where(orm.RecommendationRow.id == closing)
                                      .values(status="verified"))
            await service.sweep(at("2025-02-10T08:00+07:00"))
            weekly = {r for a, r in smtp.pairs()[len(pairs):]}
            assert weekly == set(dukcapil[2:])
            async with container.sessions() as session:
                cancelled = await session.scalar(sa.select(sa.func.count()).select_from(ReminderDeliveryRow).where(
                    ReminderDeliveryRow.recommendation_id == closing, ReminderDeliveryRow.status == "cancelled"))
            assert cancelled >= 1

            # Two weeks before the new deadline the extended item gets its own ladder.
            before = len(smtp.messages)
            await service.sweep(at("2025-03-17T08:00+07:00"))
            dinsos_mail = [m for m in smtp.messages[before:] if "dinsos" in str(m["To"])]
            assert len(dinsos_mail) == 1
            assert extended in SmtpSink.text(dinsos_mail[0])
            assert "31 Maret 2025 pukul 23.59 WIB (jatuh tempo 14 hari lagi)" in SmtpSink.text(dinsos_mail[0])
        finally:
            await container.close()


async def test_delivery_windows_and_one_digest_per_day(settings, examples):
    with SmtpSink() as smtp, WebhookSink(SECRET) as hook:
        settings = _settings(settings, smtp)
        container, service = await _setup(settings, examples, {"sekda": hook, "inspektorat": hook, "dinsos": hook})
        try:
            # Saturday, and Monday before eight: nothing goes out; Monday at eight all of it, caught up once.
            assert (await service.sweep(at("2025-02-08T09:00+07:00"))).sent == 0
            assert (await service.sweep(at("2025-02-10T07:59+07:00"))).sent == 0
            assert (await service.sweep(at("2025-02-10T16:30+07:00"))).sent == 0   # after office hours
            assert len(smtp.messages) == 0 and hook.received == []
            assert (await service.sweep(at("2025-02-11T08:00+07:00"))).sent > 0
            sekda_mails = len(smtp.to("sekda@jambikota.test"))
            assert sekda_mails == 1

            # Later that day a deadline moves into the past: the Sekda already had today's digest.
            dpmptsp = (await _rec_ids(container, DPMPTSP))[0]
            due_date, due_at = deadline_on(datetime(2025, 1, 20).date(), region_code=CITY)
            async with container.sessions() as session, session.begin():
                await session.execute(sa.update(orm.RecommendationRow).where(orm.RecommendationRow.id == dpmptsp)
                                      .values(due_date=due_date, due_at=due_at))
            later = await service.sweep(at("2025-02-11T10:00+07:00"))
            assert later.deferred > 0
            assert len(smtp.to("sekda@jambikota.test")) == 1
            assert any(r == dpmptsp for a, r in smtp.pairs() if a == "kadis@dpmptsp.jambikota.test")
            await service.sweep(at("2025-02-12T08:00+07:00"))
            second = smtp.to("sekda@jambikota.test")
            assert len(second) == 2 and dpmptsp in SmtpSink.text(second[1])
            assert second[0]["Message-ID"] != second[1]["Message-ID"]
        finally:
            await container.close()


async def test_webhooks_are_retried_with_back_off_and_recorded_as_failed(settings, examples):
    with SmtpSink() as smtp, WebhookSink(SECRET, fail_first=2) as flaky, WebhookSink(SECRET, always_fail=True) as down, \
            WebhookSink("another-secret") as strict:
        settings = _settings(settings, smtp, webhook_max_attempts=3)
        container, service = await _setup(settings, examples, {"sekda": flaky, "inspektorat": down,
                                                              "dinsos": strict})
        try:
            report = await service.sweep(at("2025-02-04T08:00+07:00"))
            assert len(flaky.received) == 1 and flaky.requests == 3
            assert down.received == [] and down.requests == 3
            # A receiver with another secret refuses our signature: a permanent failure, tried once.
            assert strict.received == [] and strict.requests == 1 and strict.bad_signatures == 1
            assert (report.failed, report.retrying) == (1, 1)       # 401 is for good; a receiver that is down is not
            async with container.sessions() as session:
                digests = {d.address: d for d in (await session.scalars(sa.select(ReminderDigestRow))).all()}
                attempts = Counter((a.digest_id, a.outcome) for a in
                                   (await session.scalars(sa.select(ReminderAttemptRow))).all())
            assert digests[flaky.url].status == "sent" and digests[down.url].status == "retrying"
            assert digests[down.url].lease_until is not None
            assert digests[strict.url].status == "failed" and "401" in digests[strict.url].last_error
            assert attempts[(digests[flaky.url].id, "retry")] == 2 and attempts[(digests[flaky.url].id, "sent")] == 1
            assert attempts[(digests[down.url].id, "retry")] == 2 and attempts[(digests[down.url].id, "failed")] == 1
            assert None not in {outcome for _, outcome in attempts}   # every attempt finished
            sent = [ReminderSentEvent.model_validate(e) for e in await _outbox(container, "tindaklanjut.reminder.sent.v1")]
            assert {e.data.channel for e in sent} == {"email", "webhook"}
            assert not any(e.data.recipient_name in ("Inspektur Kota Jambi", "Kadis Sosial") and
                           e.data.channel == "webhook" for e in sent)
            # The delivery id is the digest's, the same on every retry.
            assert flaky.headers[0]["X-Tindaklanjut-Delivery"] == digests[flaky.url].uid
            assert email.utils.parseaddr(str(smtp.messages[0]["From"]))[1] == "tindaklanjut@localhost"
        finally:
            await container.close()


def _self_signed(tmp_path):
    """A certificate for 127.0.0.1, made with the openssl command line."""
    import ssl
    import subprocess

    cert, key = tmp_path / "smtp.crt", tmp_path / "smtp.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return cert, context


async def test_email_over_starttls_with_authentication(settings, tmp_path):
    from tests.reminder_helpers import seed

    cert, context = _self_signed(tmp_path)
    units = await seed(settings.resolved_database_url, units=1, per_unit=1, due=datetime(2025, 2, 11).date())
    with SmtpSink(tls_context=context, credentials=("tindaklanjut", "kata-sandi")) as smtp:
        good = _settings(settings, smtp, smtp_starttls=True, smtp_username="tindaklanjut",
                         smtp_password="kata-sandi", smtp_ca_file=cert)
        container = bootstrap(good)
        try:
            service = reminders(container)
            await service.import_contacts(parse_contacts(contacts_csv([
                (units[0].agency_id, units[0].unit_id, "unit_head", "Kepala", "kepala@uji.test", "")])).contacts)
            report = await service.sweep(at("2025-02-04T08:00+07:00"))
            assert report.sent == 1 and [a for a, _ in smtp.pairs()] == ["kepala@uji.test"]
        finally:
            await container.close()
        # A wrong password is refused by the server (535): a permanent failure, tried once.
        bad = good.model_copy(update={"smtp_password": "salah"})
        container = bootstrap(bad)
        try:
            service = reminders(container)
            await service.import_contacts(parse_contacts(contacts_csv([
                (units[0].agency_id, "", "sekda", "Sekda", "sekda@uji.test", "")])).contacts)
            report = await service.sweep(at("2025-02-19T08:00+07:00"))   # T+7 reaches the Sekda
            assert (report.sent, report.failed) == (0, 2) and len(smtp.messages) == 1
            async with container.sessions() as session:
                failed = (await session.scalars(sa.select(ReminderDigestRow)
                                                .where(ReminderDigestRow.status == "failed"))).all()
            assert sorted(d.address for d in failed) == ["kepala@uji.test", "sekda@uji.test"]
            assert all("535" in d.last_error for d in failed)
        finally:
            await container.close()
