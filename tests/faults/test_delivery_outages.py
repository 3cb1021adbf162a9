"""The mail server down, then up; a webhook receiver answering 500, then 200: the scheduler
(a real process with its own clock) keeps the digests, tries them again later, and every
recipient gets each item exactly once."""

from __future__ import annotations

from collections import Counter

from tindaklanjut.adapters.orm_reminders import ReminderAttemptRow, ReminderDigestRow

from tests.conftest import wait_for
from tests.integration.test_reminders_processes import DUE, SECRET, _directory, _env, _received, _rows
from tests.kafka_helpers import start, stop
from tests.reminder_helpers import SmtpSink, WebhookSink, seed

UNITS = 12


async def test_mail_down_then_up_and_a_failing_webhook_deliver_everything_once(fault_settings, tmp_path,
                                                                               fault_counts):
    settings = fault_settings
    units = await seed(settings.resolved_database_url, units=UNITS, per_unit=2, due=DUE)
    hooks_expected = len([n for n in range(UNITS) if n % 3 == 0])
    smtp = SmtpSink()                                       # its port is chosen, nothing listens yet
    with WebhookSink(SECRET, fail_first=hooks_expected) as hooks:
        expected = await _directory(settings, units, hooks)
        env = _env(settings, smtp, TINDAKLANJUT_REMINDER_SEND_CONCURRENCY="1", TINDAKLANJUT_REMINDER_RETRY_SECONDS="2")
        log = tmp_path / "scheduler.log"
        scheduler = start("reminders", "run", "--start-at", "2025-02-04T07:59:58+07:00", "--interval", "0.3",
                          env=env, log=log)
        try:
            async def every_digest_failed_once():
                digests = await _rows(settings, ReminderDigestRow)
                return digests and hooks.requests >= hooks_expected and \
                    all(d.status == "retrying" for d in digests) and digests
            digests = await wait_for(every_digest_failed_once, timeout=60, interval=0.3)
            assert hooks.received == [] and smtp.messages == []
            with smtp:                                      # the mail server comes back
                async def all_sent():
                    rows = await _rows(settings, ReminderDigestRow)
                    return {d.status for d in rows} == {"sent"} and len(_received(smtp, hooks)) >= len(expected)
                await wait_for(all_sent, timeout=90, interval=0.3)
                received = Counter(_received(smtp, hooks))
                mails = len(smtp.messages)
        finally:
            code = stop(scheduler)
    assert code == 0, log.read_text()[-3000:]
    assert set(received) == expected
    assert [pair for pair, n in received.items() if n > 1] == []
    final = await _rows(settings, ReminderDigestRow)
    attempts = Counter(a.outcome for a in await _rows(settings, ReminderAttemptRow))
    assert mails + len(hooks.received) == len(final)                  # one message per digest
    assert len(hooks.received) == hooks_expected and hooks.requests == 2 * hooks_expected
    assert attempts["sent"] == len(final) and attempts["retry"] + attempts["failed"] >= len(digests)
    fault_counts(digests=len(final), items=len(expected), first_attempts_failed=len(digests),
                 mails_received=mails, webhooks_received=len(hooks.received), webhook_requests=hooks.requests,
                 duplicates=sum(n - 1 for n in received.values()))
