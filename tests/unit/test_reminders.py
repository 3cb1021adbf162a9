"""Reminder rules without I/O: the ladder, delivery windows, who gets what,
digest folding, contact files, rendering, signatures and retries (fakes)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from tindaklanjut.adapters.contacts_csv import parse_contacts
from tindaklanjut.adapters.notifications import (DeliveryChannel, Outcome, Permanent, render_email, sign,
                                                 subject, tanggal, verify, webhook_body)
from tindaklanjut.config import Settings
from tindaklanjut.domain.reminders import (Channel, Contact, ContactBook, ContactRole, Digest, DigestLine,
                                           ReminderTarget, digest_items, group_by_digest, load_reminder_policy,
                                           plan_reminders)

POLICY = load_reminder_policy()
WIB, WITA, WIT = ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Makassar"), ZoneInfo("Asia/Jayapura")
R = ContactRole


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def target(*, due: str = "2025-02-18", region: str = "15.71", status: str = "open", rec: str = "rec-1",
           unit: str = "15.71/dinas", agency: str = "15.71", cycle_end: date | None = date(2025, 6, 30)):
    zone = {"15": WIB, "73": WITA, "94": WIT}[region[:2]]
    due_at = datetime.combine(date.fromisoformat(due), datetime.min.time().replace(hour=23, minute=59), tzinfo=zone)
    return ReminderTarget(recommendation_id=rec, unit_id=unit, agency_id=agency, region_code=region, status=status,
                          due_at=due_at, cycle_end=cycle_end)


BOOK = ContactBook([
    Contact("15.71", "15.71/dinas", R.UNIT_HEAD, "Kepala Dinas", "kadis@dinas.test"),
    Contact("15.71", "", R.UNIT_HEAD, "Kepala (umum)", "umum@kota.test"),
    Contact("15.71", "", R.ORGANISASI, "Kabag Organisasi", "org@kota.test"),
    Contact("15.71", "", R.SEKDA, "Sekda", "sekda@kota.test", "https://hooks.kota.test/sekda"),
    Contact("15.71", "", R.INSPEKTORAT, "Inspektur", "SEKDA@kota.test"),   # shares the Sekda's mailbox
])


def test_the_ladder_follows_the_domain_and_the_working_day_calendar():
    ladder = POLICY.ladder(date(2025, 2, 18), zone=WIB, cycle_end=date(2025, 6, 30))
    fixed = [(s.id, s.fire_day.isoformat(), s.roles) for s in ladder[:7]]
    assert fixed == [
        ("T-14", "2025-02-04", (R.UNIT_HEAD,)), ("T-7", "2025-02-11", (R.UNIT_HEAD,)),
        ("T-1", "2025-02-17", (R.UNIT_HEAD,)), ("T0", "2025-02-18", (R.UNIT_HEAD,)),
        ("T+1", "2025-02-19", (R.UNIT_HEAD, R.ORGANISASI)), ("T+7", "2025-02-25", (R.SEKDA, R.INSPEKTORAT)),
        ("T+30", "2025-03-20", (R.KEPALA_DAERAH,))]
    assert [s.escalation_level for s in ladder[:7]] == [None, None, None, None, 1, 2, 3]
    weekly = ladder[7:]
    # Weekly to the unit head and the Sekda until the follow-up window ends; holidays move them:
    # 3 April 2025 (cuti bersama Idul Fitri) -> 8 April, 1 May (Labour Day) -> 2 May.
    assert [s.id for s in weekly[:3]] == ["T+37", "T+44", "T+51"]
    assert [s.fire_day.isoformat() for s in weekly[:2]] == ["2025-03-27", "2025-04-08"]
    assert "2025-05-02" in {s.fire_day.isoformat() for s in weekly}
    assert max(s.fire_day for s in weekly) <= date(2025, 6, 30) and all(s.roles == (R.UNIT_HEAD, R.SEKDA)
                                                                     for s in weekly)
    assert ladder[0].fire_at == at("2025-02-04T08:00+07:00") and ladder[0].key == "T-14@2025-02-18"


def test_reminders_before_the_deadline_move_back_to_a_working_day():
    # Due Monday 3 February 2025: the day before is a Sunday, a week before is Isra Mi'raj (27 January).
    ladder = {s.id: s.fire_day.isoformat() for s in POLICY.ladder(date(2025, 2, 3), zone=WIB, cycle_end=None)}
    assert (ladder["T-1"], ladder["T-7"], ladder["T0"], ladder["T+7"]) == (
        "2025-01-31", "2025-01-24", "2025-02-03", "2025-02-10")


@pytest.mark.parametrize("zone, expected", [(WIB, "2025-02-04T01:00+00:00"), (WITA, "2025-02-04T00:00+00:00"),
                                            (WIT, "2025-02-03T23:00+00:00")])
def test_steps_fire_at_eight_local_time(zone, expected):
    assert POLICY.ladder(date(2025, 2, 18), zone=zone, cycle_end=None)[0].fire_at == at(expected)


@pytest.mark.parametrize("now, is_open, next_open", [
    ("2025-02-04T08:00+07:00", True, "2025-02-04T08:00+07:00"),
    ("2025-02-04T07:59+07:00", False, "2025-02-04T08:00+07:00"),
    ("2025-02-04T16:00+07:00", False, "2025-02-05T08:00+07:00"),
    ("2025-02-08T09:00+07:00", False, "2025-02-10T08:00+07:00"),   # Saturday
    ("2025-03-31T09:00+07:00", False, "2025-04-08T08:00+07:00"),   # Idul Fitri and cuti bersama
])
def test_delivery_window_is_working_hours_on_working_days(now, is_open, next_open):
    window = POLICY.window(at(now), WIB)
    assert (window.open, window.next_open) == (is_open, at(next_open))


def test_the_window_is_local_to_each_region():
    instant = at("2025-02-04T07:30+07:00")          # 08:30 WITA, 09:30 WIT, still 07:30 WIB
    assert [POLICY.window(instant, z).open for z in (WIB, WITA, WIT)] == [False, True, True]


def test_plan_catches_up_missed_steps_and_routes_each_rung():
    plan = plan_reminders(target(due="2025-01-02"), now=at("2025-02-04T08:00+07:00"), policy=POLICY,
                          contacts=BOOK, delivered=set(), escalated=set())
    got = {(d.step.id, d.recipient.key, d.roles) for d in plan.deliveries}
    assert {s for s, *_ in got} == {"T-14", "T-7", "T-1", "T0", "T+1", "T+7"}
    # The unit's own head, not the agency-wide one; the shared mailbox gets one delivery for two roles.
    assert ("T0", "email:kadis@dinas.test", (R.UNIT_HEAD,)) in got
    assert not any("umum@" in key for _, key, _ in got)
    assert ("T+7", "email:sekda@kota.test", (R.SEKDA, R.INSPEKTORAT)) in got
    assert ("T+7", "webhook:https://hooks.kota.test/sekda", (R.SEKDA,)) in got
    assert plan.unroutable == [("T+30", R.KEPALA_DAERAH)]
    assert [(e.step.id, e.step.escalation_level) for e in plan.escalations] == [("T+1", 1), ("T+7", 2), ("T+30", 3)]
    assert plan.next_at == at("2025-02-10T08:00+07:00")     # the first weekly reminder (T+37 on a Saturday)
    assert plan.deferral == at("2025-02-05T08:00+07:00")


def test_plan_skips_what_was_delivered_and_announced():
    first = plan_reminders(target(), now=at("2025-02-11T08:00+07:00"), policy=POLICY, contacts=BOOK,
                           delivered=set(), escalated=set())
    done = {(d.step.key, d.recipient.key) for d in first.deliveries}
    again = plan_reminders(target(), now=at("2025-02-11T08:00+07:00"), policy=POLICY, contacts=BOOK,
                           delivered=done, escalated=set())
    assert [d.step.id for d in first.deliveries] == ["T-14", "T-7"] and again.deliveries == []
    assert again.next_at == at("2025-02-17T08:00+07:00")
    later = plan_reminders(target(), now=at("2025-02-26T08:00+07:00"), policy=POLICY, contacts=BOOK,
                           delivered=done, escalated={"T+1@2025-02-18"})
    assert [e.step.id for e in later.escalations] == ["T+7"]


def test_a_changed_deadline_is_a_new_ladder():
    old = plan_reminders(target(), now=at("2025-02-11T08:00+07:00"), policy=POLICY, contacts=BOOK,
                         delivered=set(), escalated=set())
    moved = plan_reminders(target(due="2025-03-31"), now=at("2025-02-11T08:00+07:00"), policy=POLICY,
                           contacts=BOOK, delivered={(d.step.key, d.recipient.key) for d in old.deliveries},
                           escalated=set())
    assert moved.deliveries == [] and moved.next_at == at("2025-03-17T08:00+07:00")


@pytest.mark.parametrize("status", ["submitted", "verified", "not_actionable", "superseded", "lapsed"])
def test_no_reminders_once_submitted_or_closed(status):
    plan = plan_reminders(target(due="2025-01-02", status=status), now=at("2025-02-04T08:00+07:00"),
                          policy=POLICY, contacts=BOOK, delivered=set(), escalated=set())
    assert plan.stop and plan.deliveries == [] and plan.escalations == []


def test_outside_the_window_nothing_is_sent_and_the_row_wakes_at_the_next_opening():
    plan = plan_reminders(target(), now=at("2025-02-08T10:00+07:00"), policy=POLICY, contacts=BOOK,
                          delivered=set(), escalated=set())
    assert plan.deliveries == [] and plan.next_at == at("2025-02-10T08:00+07:00")


def test_one_digest_per_recipient_per_day():
    now = at("2025-02-26T08:00+07:00")
    deliveries = [d for rec in ("a", "b", "c") for d in plan_reminders(
        target(rec=rec), now=now, policy=POLICY, contacts=BOOK, delivered=set(), escalated=set()).deliveries]
    groups = group_by_digest(deliveries)
    assert sorted(key for key, _ in groups) == ["email:kadis@dinas.test", "email:org@kota.test",
                                                "email:sekda@kota.test", "webhook:https://hooks.kota.test/sekda"]
    assert {d.recommendation_id for d in groups[("email:kadis@dinas.test", date(2025, 2, 26))]} == {"a", "b", "c"}


def _line(n, *, rec="r1", step="T-7", offset=-7, status="open", due="2025-02-18", key_due=None, roles=("unit_head",),
          framework="ombudsman-kepatuhan"):
    due_at = datetime.combine(date.fromisoformat(due), datetime.min.time().replace(hour=23, minute=59), tzinfo=WIB)
    return DigestLine(delivery_id=n, recommendation_id=rec, step_id=step, step_key=f"{step}@{key_due or due}",
                      offset_days=offset, roles=roles, status=status, title=f"Judul <{rec}>",
                      unit_id="15.71/dinas", unit_name="Dinas Uji", agency_id="15.71", region_code="15.71",
                      indicator_code="x.1", priority="high", due_at=due_at.astimezone(timezone.utc),
                      framework=framework, cycle="2024", action=f"Tetapkan SOP <{rec}>.",
                      evidence="SK penetapan standar pelayanan", evaluator="Ombudsman RI Perwakilan Jambi",
                      report_ref="LHP 12/2025")


def test_digest_items_fold_steps_and_drop_closed_or_rescheduled_lines():
    lines = [_line(1, step="T-14", offset=-14), _line(2), _line(3, rec="r2", status="verified"),
             _line(4, rec="r3", key_due="2025-02-10"), _line(5, rec="r4", due="2025-01-02", step="T+30", offset=30)]
    items, dropped = digest_items(lines, date(2025, 2, 11))
    assert dropped == [3, 4]
    assert [(i.recommendation_id, i.step_id, i.steps, i.delivery_ids, i.days_overdue) for i in items] == [
        ("r4", "T+30", ("T+30",), (5,), 40), ("r1", "T-7", ("T-14", "T-7"), (1, 2), -7)]
    assert [i.state_text for i in items] == ["terlambat 40 hari", "jatuh tempo 7 hari lagi"]


def test_email_to_the_unit_head_says_what_to_do_and_what_proves_it():
    items, _ = digest_items([_line(1), _line(2, rec="r2", due="2025-02-04", step="T+7", offset=7)], date(2025, 2, 11))
    digest = Digest(uid="u-1", channel=Channel.EMAIL, address="kadis@dinas.test", recipient_name="Kepala Dinas",
                    day=date(2025, 2, 11), items=tuple(items))
    message = render_email(digest, "Tindak Lanjut <noreply@uji.test>")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert subject(digest) == "[Tindak Lanjut] 2 saran perbaikan perlu ditindaklanjuti, 1 terlambat (11 Februari 2025)"
    assert "Batas waktu (target internal): 18 Februari 2025 pukul 23.59 WIB (jatuh tempo 7 hari lagi)" in text
    assert "Yang perlu dilakukan: Tetapkan SOP <r1>." in text and "Tetapkan SOP &lt;r1&gt;." in html
    assert "Bukti dukung yang diminta: SK penetapan standar pelayanan" in text
    assert "Sumber: ombudsman-kepatuhan siklus 2024, evaluator Ombudsman RI Perwakilan Jambi, LHP 12/2025" in text
    assert "saran perbaikan hasil penilaian" in " ".join(text.split())
    assert text.rstrip().endswith("Hormat kami,\nTim Tindak Lanjut")
    assert "terlambat 7 hari" in text and "Prioritas: tinggi" in text
    assert "Judul <r1>" in text and "Judul &lt;r1&gt;" in html and "<r1>" not in html
    assert message["Message-ID"] == "<u-1@tindaklanjut>"
    assert message["From"] == "Tindak Lanjut <noreply@uji.test>" and message["Date"]
    assert "bukti dukung diunggah" in text and "diteruskan kepada Anda" not in text
    body = webhook_body(digest)
    assert b'"days_overdue":7' in body and b"evidence" not in body


def test_an_escalation_asks_to_chase_and_decide_not_to_upload():
    items, _ = digest_items([_line(1, due="2025-01-02", step="T+30", offset=30, roles=("sekda",))],
                            date(2025, 2, 11))
    digest = Digest(uid="u-2", channel=Channel.EMAIL, address="sekda@kota.test", recipient_name="Sekretaris Daerah",
                    day=date(2025, 2, 11), items=tuple(items))
    assert digest.escalated_only
    message = render_email(digest, "Tindak Lanjut <noreply@uji.test>")
    for body in (message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()):
        assert "diteruskan kepada Anda karena melewati batas waktu" in " ".join(body.split())
        assert "bukti dukung diunggah" not in body
        assert "Yang perlu dilakukan" not in body and "Bukti dukung yang diminta" not in body
        assert "LHP 12/2025" in body


def test_a_digest_mixing_frameworks_uses_the_neutral_word():
    items, _ = digest_items([_line(1), _line(2, rec="r2", framework="panrb-pekppp")], date(2025, 2, 11))
    digest = Digest(uid="u-4", channel=Channel.EMAIL, address="kadis@dinas.test", recipient_name="Kepala Dinas",
                    day=date(2025, 2, 11), items=tuple(items))
    assert {i.produces for i in items} == {"saran perbaikan", "rekomendasi perbaikan"}
    assert subject(digest).startswith("[Tindak Lanjut] 2 butir perbaikan perlu ditindaklanjuti")
    only_pekppp = Digest(uid="u-5", channel=Channel.EMAIL, address="kadis@dinas.test", recipient_name="Kepala Dinas",
                         day=date(2025, 2, 11), items=(items[1],) if items[1].framework == "panrb-pekppp" else (items[0],))
    assert subject(only_pekppp).startswith("[Tindak Lanjut] 1 rekomendasi perbaikan perlu")


def test_every_item_links_to_its_page_in_the_workspace():
    items, _ = digest_items([_line(1), _line(2, rec="r2", due="2025-02-04", step="T+7", offset=7)], date(2025, 2, 11))
    digest = Digest(uid="u-3", channel=Channel.EMAIL, address="kadis@dinas.test", recipient_name="Kepala Dinas",
                    day=date(2025, 2, 11), items=tuple(items))
    message = render_email(digest, "Tindak Lanjut <noreply@uji.test>", "https://tl.jambikota.go.id/")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for rec in ("r1", "r2"):
        assert f"Buka: https://tl.jambikota.go.id/rekomendasi/{rec}\n" in text
        assert f'<a href="https://tl.jambikota.go.id/rekomendasi/{rec}">' in html
    assert '<a href="https://tl.jambikota.go.id/">Tindak Lanjut</a>' in html


def test_tanggal():
    assert [tanggal(date(2025, m, 1)) for m in (1, 8, 12)] == ["1 Januari 2025", "1 Agustus 2025",
                                                               "1 Desember 2025"]


def test_signature_is_hmac_sha256_over_timestamp_and_body():
    body = b'{"a":1}'
    expected = hmac.new(b"rahasia", b"1738630800." + body, hashlib.sha256).hexdigest()
    assert sign("rahasia", "1738630800", body) == f"sha256={expected}"
    now = 1738630800 + 120
    assert verify("rahasia", "1738630800", body, f"sha256={expected}", now=now)
    assert not verify("rahasia", "1738630801", body, f"sha256={expected}", now=now)
    assert not verify("lain", "1738630800", body, f"sha256={expected}", now=now)


def test_a_signature_older_than_five_minutes_is_a_replay():
    body = b'{"a":1}'
    signature = sign("rahasia", "1738630800", body)
    assert verify("rahasia", "1738630800", body, signature, now=1738630800 + 300)
    assert not verify("rahasia", "1738630800", body, signature, now=1738630800 + 301)
    assert not verify("rahasia", "1738630800", body, signature, now=1738630800 - 301)
    assert not verify("rahasia", "soon", body, signature, now=1738630800)


class FakeLog:
    def __init__(self):
        self.tries = []

    async def started(self, number):
        self.tries.append([number, None])
        return len(self.tries) - 1

    async def finished(self, handle, outcome, detail):
        self.tries[handle][1] = outcome


class Scripted(DeliveryChannel):
    def __init__(self, script, **kwargs):
        self.script = list(script)
        self.slept = []

        async def sleep(seconds):
            self.slept.append(seconds)
        super().__init__(sleep=sleep, **kwargs)

    async def deliver_once(self, digest):
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


async def test_retries_back_off_exponentially_and_stop_at_the_limit():
    log = FakeLog()
    channel = Scripted([RuntimeError("503"), RuntimeError("503"), RuntimeError("503"), RuntimeError("503")],
                       max_attempts=4, backoff_base=0.5, backoff_max=1.5)
    assert await channel.send(None, log) == Outcome(False, "RuntimeError: 503")
    assert channel.slept == [0.5, 1.0, 1.5]
    assert log.tries == [[1, "retry"], [2, "retry"], [3, "retry"], [4, "failed"]]
    log = FakeLog()
    channel = Scripted([RuntimeError("timeout"), "HTTP 204"], max_attempts=4, backoff_base=0.5, backoff_max=9)
    assert (await channel.send(None, log)).sent and log.tries == [[1, "retry"], [2, "sent"]]
    log = FakeLog()
    channel = Scripted([Permanent("HTTP 400")], max_attempts=4, backoff_base=0.5, backoff_max=9)
    assert await channel.send(None, log) == Outcome(False, "HTTP 400", permanent=True) and log.tries == [[1, "failed"]]


def test_contact_file_errors_name_the_row():
    parsed = parse_contacts("agency_id,unit_id,role,name,email,webhook_url\n"
                            "15.71,,sekda,Sekda,sekda@kota.test,\n"
                            "15.71,,camat,X,x@kota.test,\n"
                            "15.71,,sekda,Sekda lagi,s2@kota.test,\n"
                            ",15.71/a,unit_head,,bukan-email,ftp://x\n"
                            "15.71,15.71/b,unit_head,Kepala B,,\n")
    assert len(parsed.contacts) == 1
    assert [e.split(":")[0] for e in parsed.errors] == ["baris 3", "baris 4", "baris 5", "baris 6"]
    assert "camat" in parsed.errors[0] and "baris 2" in parsed.errors[1]
    assert "agency_id wajib" in parsed.errors[2] and "e-mail 'bukan-email'" in parsed.errors[2]
    assert "webhook_url" in parsed.errors[3]
    assert parse_contacts("agency_id,role\n").errors[0].startswith("baris 1: kolom tidak ada")


def test_policy_and_settings_refuse_unsafe_values():
    with pytest.raises(ValidationError):
        load_reminder_policy({"send_from": "08:00", "send_until": "16:00",
                              "steps": [{"id": "a", "offset_days": 1, "roles": ["sekda"]},
                                        {"id": "b", "offset_days": -1, "roles": ["sekda"]}]})
    with pytest.raises(ValidationError, match="WEBHOOK_SECRET"):
        Settings(environment="production", database_url="postgresql://db/x")
    production = dict(environment="production", database_url="postgresql://db/x", webhook_secret="a-real-secret",
                      smtp_username="tl", smtp_password="pw", smtp_starttls=True)
    Settings(**production)
    for missing in ("smtp_username", "smtp_password"):
        with pytest.raises(ValidationError, match=missing.upper()):
            Settings(**{**production, missing: ""})
    with pytest.raises(ValidationError, match="STARTTLS"):
        Settings(**{**production, "smtp_starttls": False})
    with pytest.raises(ValidationError, match="KAFKA_SASL_PASSWORD"):
        Settings(**production, kafka_security_protocol="SASL_SSL", kafka_sasl_username="tl")
    secured = Settings(**production, kafka_security_protocol="SASL_SSL", kafka_sasl_username="tl",
                       kafka_sasl_password="pw").kafka_security()
    assert secured["sasl_mechanism"] == "SCRAM-SHA-512" and secured["ssl_context"] is not None
    with pytest.raises(ValidationError, match="LEASE_SECONDS"):
        Settings(reminder_lease_seconds=30)


def test_escalation_titles_follow_the_kind_of_agency():
    from tindaklanjut.domain.reminders import role_label

    assert role_label("sekda", "kementerian") == "Sekretaris Jenderal"
    assert role_label("inspektorat", "kementerian") == "Inspektorat Jenderal"
    assert role_label("kepala_daerah", "kementerian") == "Menteri"
    assert role_label("sekda", "lembaga") == "Sekretaris Utama"
    assert role_label("kepala_daerah", "pemprov") == "Gubernur" and role_label("organisasi", "pemprov") == \
        "Biro Organisasi"
    assert role_label("kepala_daerah", "pemkot") == "Wali Kota" and role_label("kepala_daerah", "pemkab") == "Bupati"
    assert role_label("kepala_daerah", "polres") == "Kepala Kepolisian Resor"
    assert role_label("sekda", None) == "Sekretaris Daerah"
    items, _ = digest_items([replace(_line(1, due="2025-01-02", step="T+30", offset=30, roles=("sekda",)),
                                     agency_kind="kementerian")], date(2025, 2, 11))
    digest = Digest(uid="u-3", channel=Channel.EMAIL, address="sekjen@kemen.test", recipient_name="Sekjen",
                    day=date(2025, 2, 11), items=tuple(items))
    text = render_email(digest, "Tindak Lanjut <noreply@uji.test>").get_body(("plain",)).get_content()
    assert "Diteruskan kepada Anda sebagai: Sekretaris Jenderal" in text and "Sekretaris Daerah" not in text


def test_kind_specific_role_names_are_accepted_in_the_contacts_file():
    parsed = parse_contacts("agency_id,unit_id,role,name,email,webhook_url\n"
                            "010,,Sekjen,Sekretaris Jenderal,sekjen@kemen.test,\n"
                            "010,,Inspektorat Jenderal,Irjen,irjen@kemen.test,\n"
                            "15.71,,Wali Kota,Wali Kota Jambi,walikota@kota.test,\n")
    assert parsed.errors == []
    assert [c.role.value for c in parsed.contacts] == ["sekda", "inspektorat", "kepala_daerah"]


def test_waktu_is_written_the_indonesian_way_in_the_units_time_zone():
    from datetime import datetime, timezone

    from tindaklanjut.formatting import waktu

    instant = datetime(2025, 2, 18, 16, 59, tzinfo=timezone.utc)
    assert waktu(instant, "15.71") == "18 Februari 2025, 23.59 WIB"
    assert waktu(instant, "73.71") == "19 Februari 2025, 00.59 WITA"
    assert waktu(instant, "93") == "19 Februari 2025, 01.59 WIT"
