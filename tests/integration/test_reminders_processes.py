"""Reminders as processes: the CLI, the scheduler, a sweep killed with
SIGKILL in the middle of sending, and two scheduler replicas at once.
The last two run against PostgreSQL, as production does."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
from collections import Counter
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from tindaklanjut.adapters import migrate
from tindaklanjut.adapters.contacts_csv import parse_contacts
from tindaklanjut.adapters.orm_reminders import (ReminderAttemptRow, ReminderContactRow, ReminderDeliveryRow,
                                                 ReminderDigestRow)
from tindaklanjut.bootstrap import bootstrap
from tindaklanjut.bootstrap_reminders import reminders
from tindaklanjut.config import Settings
from tindaklanjut.services.reminders import run_scheduler

from tests.conftest import _create_pg_database, _drop_pg_database, wait_for
from tests.kafka_helpers import cli, settings_env, start, stop
from tests.reminder_helpers import SmtpSink, WebhookSink, contacts_csv, seed

SECRET = "uji-rahasia-webhook"
DUE = date(2025, 2, 11)        # T-7 on Tuesday 4 February 2025
SWEEP_AT = "2025-02-04T08:00+07:00"


def _env(settings: Settings, smtp: SmtpSink, **extra: str) -> dict[str, str]:
    env = settings_env(settings)
    env.update({"TINDAKLANJUT_SMTP_PORT": str(smtp.port), "TINDAKLANJUT_WEBHOOK_SECRET": SECRET,
                "TINDAKLANJUT_DELIVERY_BACKOFF_BASE": "0", "TINDAKLANJUT_SMTP_TIMEOUT": "2",
                "TINDAKLANJUT_SMTP_MAX_ATTEMPTS": "1", "TINDAKLANJUT_WEBHOOK_TIMEOUT": "1",
                "TINDAKLANJUT_WEBHOOK_MAX_ATTEMPTS": "1", "TINDAKLANJUT_REMINDER_LEASE_SECONDS": "3", **extra})
    return env


async def _directory(settings: Settings, units, hooks: WebhookSink | None = None, every: int = 3) -> set:
    """A unit head per unit (e-mail; every `every`-th also a webhook). Returns the expected pairs."""
    rows, expected = [], set()
    for n, u in enumerate(units):
        address = f"kepala{n:03d}@uji.test"
        hook = hooks.url + f"/{n}" if hooks and n % every == 0 else ""
        rows.append((u.agency_id, u.unit_id, "unit_head", f"Kepala {n:03d}", address, hook))
        expected |= {(address, r) for r in u.rec_ids}
        if hook:
            expected |= {(hook, r) for r in u.rec_ids}
    container = bootstrap(settings)
    try:
        await reminders(container).import_contacts(parse_contacts(contacts_csv(rows)).contacts)
    finally:
        await container.close()
    return expected


def _received(smtp: SmtpSink, hooks: WebhookSink) -> list[tuple[str, str]]:
    webhook = [(h["Url"], i["recommendation_id"]) for h, body in zip(hooks.headers, hooks.received)
               for i in body["items"]]
    return smtp.pairs() + webhook


async def _rows(settings: Settings, table) -> list:
    container = bootstrap(settings)
    try:
        async with container.sessions() as session:
            return list((await session.scalars(sa.select(table))).all())
    finally:
        await container.close()


@pytest.fixture
async def pg_settings(tmp_path):
    url = await _create_pg_database()
    try:
        await migrate.upgrade_async(url)
        yield Settings(environment="test", database_url=url, var_dir=tmp_path / "var", kafka_bootstrap="127.0.0.1:1")
    finally:
        await _drop_pg_database(url)


async def test_contacts_import_updates_and_sweep_runs_once_from_the_command_line(settings, tmp_path):
    units = await seed(settings.resolved_database_url, units=2, per_unit=2, due=DUE)
    with SmtpSink() as smtp:
        env = _env(settings, smtp)
        first = tmp_path / "kontak.csv"
        first.write_text(contacts_csv([
            (units[0].agency_id, units[0].unit_id, "unit_head", "Kepala Lama", "lama@uji.test", ""),
            (units[0].agency_id, "", "sekda", "Sekda Uji", "sekda@uji.test", "")]), "utf-8")
        result = cli("contacts", "import", str(first), env=env)
        assert result.returncode == 0, result.stderr
        assert "2 kontak baru, 0 diperbarui" in result.stdout
        # Re-import: the head changed, a unit head is added; semicolons as an Indonesian spreadsheet writes.
        second = tmp_path / "kontak-baru.csv"
        second.write_text("\ufeffagency_id;unit_id;role;name;email;webhook_url\n"
                          f"{units[0].agency_id};{units[0].unit_id};unit_head;Kepala Baru;baru@uji.test;\n"
                          f"{units[0].agency_id};;sekda;Sekda Uji;sekda@uji.test;\n"
                          f"{units[1].agency_id};{units[1].unit_id};unit_head;Kepala Dua;dua@uji.test;\n", "utf-8")
        result = cli("contacts", "import", str(second), env=env)
        assert result.returncode == 0, result.stderr
        assert "1 kontak baru, 1 diperbarui, 1 tidak berubah" in result.stdout
        contacts = await _rows(settings, ReminderContactRow)
        assert sorted((c.unit_id, c.role, c.name, c.email) for c in contacts) == [
            ("", "sekda", "Sekda Uji", "sekda@uji.test"),
            (units[0].unit_id, "unit_head", "Kepala Baru", "baru@uji.test"),
            (units[1].unit_id, "unit_head", "Kepala Dua", "dua@uji.test")]
        bad = tmp_path / "salah.csv"
        bad.write_text(contacts_csv([("x", "", "camat", "A", "bukan-email", ""), ("x", "", "sekda", "", "", "")]))
        result = cli("contacts", "import", str(bad), env=env)
        assert result.returncode == 2
        assert "baris 2" in result.stderr and "camat" in result.stderr and "baris 3" in result.stderr
        assert len(await _rows(settings, ReminderContactRow)) == 3

        result = cli("sweep", "--now", SWEEP_AT, "--format", "json", env=env)
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert (report["sent"], report["deliveries"]) == (2, 8)   # T-14 and T-7 for 4 items, 2 unit heads
        assert sorted(a for a, _ in smtp.pairs()) == ["baru@uji.test"] * 2 + ["dua@uji.test"] * 2
        listing = cli("reminders", "list", "--format", "json", env=env)
        assert [(d["status"], d["deliveries"], d["attempts"]) for d in json.loads(listing.stdout)] == [
            ("sent", 4, 1), ("sent", 4, 1)]


async def test_a_sweep_with_the_mail_server_down_exits_non_zero_and_keeps_the_digest_for_later(settings):
    from tests.conftest import free_port

    units = await seed(settings.resolved_database_url, units=1, per_unit=1, due=DUE)
    with SmtpSink() as smtp:
        await _directory(settings, units)
        env = _env(settings, smtp, TINDAKLANJUT_SMTP_PORT=str(free_port()))      # nothing listens there
        result = cli("sweep", "--now", SWEEP_AT, "--format", "json", env=env)
        assert result.returncode == 1
        assert json.loads(result.stdout)["retrying"] == 1 and "akan dicoba lagi" in result.stderr
        [digest] = await _rows(settings, ReminderDigestRow)
        assert digest.status == "retrying" and digest.lease_until is not None and digest.last_error
        assert {d.status for d in await _rows(settings, ReminderDeliveryRow)} == {"planned"}


async def test_the_scheduler_sweeps_on_its_own_and_delivers_once(settings):
    units = await seed(settings.resolved_database_url, units=3, per_unit=1, due=DUE)
    with SmtpSink() as smtp, WebhookSink(SECRET) as hooks:
        settings = settings.model_copy(update={"smtp_port": smtp.port, "webhook_secret": SECRET})
        expected = await _directory(settings, units, hooks)
        container = bootstrap(settings)
        instants = []

        def clock():   # a fake clock: the scheduler's sweeps all happen at 08:00 WIB on 4 February
            instants.append(1)
            return datetime.fromisoformat(SWEEP_AT)
        stop_event = asyncio.Event()
        task = asyncio.create_task(run_scheduler(reminders(container, clock=clock), 0.1, stop_event))
        try:
            await wait_for(lambda: _async(len(instants) >= 4 and len(_received(smtp, hooks)) >= len(expected)),
                           timeout=30)
        finally:
            stop_event.set()
            await task
            await container.close()
        assert sorted(_received(smtp, hooks)) == sorted(expected)


async def _async(value):
    return value


async def test_a_sweep_killed_mid_send_is_finished_by_the_next_one_without_duplicates(pg_settings, tmp_path):
    settings = pg_settings
    units = await seed(settings.resolved_database_url, units=12, per_unit=2, due=DUE)
    with SmtpSink(delay=0.4) as smtp, WebhookSink(SECRET) as hooks:
        expected = await _directory(settings, units, hooks, every=4)
        env = _env(settings, smtp, TINDAKLANJUT_REMINDER_SEND_CONCURRENCY="1")
        process = start("sweep", "--now", SWEEP_AT, env=env, log=tmp_path / "killed.log")

        async def mid_data():   # a mail is on the wire: the sender waits for the server's answer
            return len(smtp.messages) >= 3 and smtp.data_started == len(smtp.messages) + 1
        await wait_for(mid_data, timeout=60, interval=0.005)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert process.returncode == -signal.SIGKILL
        digests = await _rows(settings, ReminderDigestRow)
        assert Counter(d.status for d in digests)["sending"] == 1
        assert "pending" in {d.status for d in digests}
        assert any(a.outcome is None for a in await _rows(settings, ReminderAttemptRow))   # logged as interrupted
        before = len(smtp.messages)

        async def all_sent():
            result = cli("sweep", "--now", SWEEP_AT, "--format", "json", env=env)
            assert result.returncode == 0, result.stderr
            return {d.status for d in await _rows(settings, ReminderDigestRow)} == {"sent"}
        await wait_for(all_sent, timeout=60, interval=0.5)   # the crashed lease runs out after 3 s
        assert len(smtp.messages) > before
        received = Counter(_received(smtp, hooks))
        assert set(received) == expected
        assert [pair for pair, n in received.items() if n > 1] == []
        deliveries = await _rows(settings, ReminderDeliveryRow)
        assert {d.status for d in deliveries} == {"sent"}
        assert len(deliveries) == 2 * len(expected)   # T-14 and T-7, each once per recipient


async def test_two_scheduler_replicas_deliver_everything_exactly_once(pg_settings, tmp_path):
    settings = pg_settings
    units = await seed(settings.resolved_database_url, units=30, per_unit=2, due=DUE)
    with SmtpSink(delay=0.05) as smtp, WebhookSink(SECRET) as hooks:
        expected = await _directory(settings, units, hooks)
        env = _env(settings, smtp, TINDAKLANJUT_REMINDER_SEND_CONCURRENCY="1",
                   TINDAKLANJUT_REMINDER_LEASE_SECONDS="30")
        # Both clocks start a second before eight and run: the first sweeps find nothing due.
        replicas = [start("reminders", "run", "--start-at", "2025-02-04T07:59:58+07:00", "--interval", "0.3",
                          env=env, log=tmp_path / f"replica{n}.log") for n in (1, 2)]
        try:
            async def done():
                digests = await _rows(settings, ReminderDigestRow)
                return digests and {d.status for d in digests} == {"sent"} and \
                    len(_received(smtp, hooks)) >= len(expected)
            await wait_for(done, timeout=90, interval=0.3)
            # Let both replicas sweep a few more times over the finished work.
            logs = [tmp_path / f"replica{n}.log" for n in (1, 2)]
            counts = [len(re.findall("reminders.swept", p.read_text())) for p in logs]

            async def swept_again():
                return all(len(re.findall("reminders.swept", p.read_text())) >= c + 3 for p, c in zip(logs, counts))
            await wait_for(swept_again, timeout=30)
        finally:
            for replica in replicas:
                stop(replica)
        received = Counter(_received(smtp, hooks))
        assert set(received) == expected
        assert [pair for pair, n in received.items() if n > 1] == []
        sent_by = [sum(int(n) for n in re.findall(r"\bsent=(\d+)", p.read_text())) for p in logs]
        assert sum(sent_by) == len({(d.id) for d in await _rows(settings, ReminderDigestRow)})
        assert all(n > 0 for n in sent_by), f"both replicas should have sent digests: {sent_by}"
