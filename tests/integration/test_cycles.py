"""Cycle close and the cycle report against real databases (SQLite and PostgreSQL)."""

import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from tindaklanjut import views
from tindaklanjut.adapters import orm
from tindaklanjut.adapters.orm_followup import AuditEntryRow, CycleReportRow
from tindaklanjut.bootstrap import bootstrap
from tindaklanjut.domain.lifecycle import Actor, NotPermitted, ReasonCode, Role
from tindaklanjut.service_layer import commands, cycles
from tindaklanjut.ports.messages import IngestAssessment, Origin

from tests.conftest import wait_for
from tests.integration.api_helpers import Clock

ISSUED = datetime(2024, 12, 21, 1, 0, tzinfo=timezone.utc)
CLOSE = datetime(2025, 7, 1, 3, 0, tzinfo=timezone.utc)
AGENCY = Actor("operator-prov-jambi", Role.AGENCY, agency_id="15")
EVALUATOR = Actor("evaluator-panrb", Role.EVALUATOR)
DINSOS = "pekppp-2024-prov-jambi-dinsos"


def _commands(*documents):
    return [IngestAssessment(raw=json.dumps(d).encode(), origin=Origin(topic="assessment.published", offset=i))
            for i, d in enumerate(documents)]


def next_cycle(document: dict, scores: dict[str, float]) -> dict:
    """The same unit assessed again in 2025, with some indicator scores changed."""
    following = json.loads(json.dumps(document))
    following["id"] = "pekppp-2025-dinsos"
    following["data"].update(assessment_id="PEKPPP-2025-15-DINSOS", cycle="2025",
                             published_at="2025-12-19T09:00:00+07:00")
    for aspect in following["data"]["aspects"]:
        for indicator in aspect["indicators"]:
            indicator["score"] = scores.get(indicator["code"], indicator["score"])
    return following


async def _dinsos_ids(container, cycle="2024") -> dict[str, str]:
    return {r["indicator_code"]: r["id"] for r in await views.recommendations(container.sessions, unit_id="15/dinsos")
            if r["cycle"] == cycle}


async def _verify(container, recommendation_id: str) -> None:
    bus = container.bus
    await bus.handle(commands.RecordAction(actor=AGENCY, recommendation_id=recommendation_id,
                                           comment="Rekap pengaduan disusun"))
    await bus.handle(commands.AttachEvidence(actor=AGENCY, recommendation_id=recommendation_id,
                                             url="https://jambiprov.go.id/rekap-pengaduan", description="rekap"))
    await bus.handle(commands.SubmitFollowUp(actor=AGENCY, recommendation_id=recommendation_id))
    await bus.handle(commands.VerifyFollowUp(actor=EVALUATOR, recommendation_id=recommendation_id, comment="sesuai"))


async def _count(container, table, *where) -> int:
    async with container.sessions() as session:
        return await session.scalar(select(func.count()).select_from(table).where(*where))


@pytest.fixture
async def container(settings, examples):
    clock = Clock(ISSUED)
    container = bootstrap(settings, clock=clock)
    await container.ingest(_commands(*examples.values()))
    try:
        yield container
    finally:
        await container.close()


async def test_close_lapses_what_is_open_with_audit_and_stores_one_report(container):
    ids = await _dinsos_ids(container)
    assert sorted(ids) == ["I.8", "III.4", "V.4"]
    container.clock.now = datetime(2025, 2, 3, 2, 0, tzinfo=timezone.utc)
    await _verify(container, ids["V.4"])
    request = await container.bus.handle(commands.RequestNotActionable(
        actor=AGENCY, recommendation_id=ids["III.4"], reason="SOTK baru",
        reason_code=ReasonCode.ORGANISATION_RESTRUCTURED))
    await container.bus.handle(commands.DecideRequest(actor=EVALUATOR, request_id=request.id, approve=True))
    await container.bus.handle(commands.RecordAction(actor=AGENCY, recommendation_id=ids["I.8"],
                                                     comment="Rencana aksi SKM disusun"))
    changes_before = await _count(container, orm.OutboxRow, orm.OutboxRow.topic == "followup.changed")

    container.clock.now = CLOSE
    outcome = await container.bus.handle(commands.CloseCycle(actor=EVALUATOR, framework="panrb-pekppp",
                                                             cycle="2024"))

    assert (outcome.lapsed, outcome.already_closed, outcome.closed_by) == (1, False, "evaluator-panrb")
    statuses = {r["indicator_code"]: r["status"]
                for r in await views.recommendations(container.sessions, unit_id="15/dinsos")}
    assert statuses == {"V.4": "verified", "III.4": "not_actionable", "I.8": "lapsed"}
    # Ombudsman's cycle is another framework: untouched.
    assert {r["status"] for r in await views.recommendations(container.sessions, agency_id="15.71")} == {"open"}
    async with container.sessions() as session:
        [lapse] = (await session.scalars(select(AuditEntryRow).where(AuditEntryRow.action == "lapsed"))).all()
        [report_row] = (await session.scalars(select(CycleReportRow))).all()
        [reported] = (await session.scalars(select(orm.OutboxRow)
                                            .where(orm.OutboxRow.topic == "cycle.reported"))).all()
    assert (lapse.recommendation_id, lapse.actor, lapse.from_status, lapse.to_status) == (
        ids["I.8"], "evaluator-panrb", "in_progress", "lapsed")
    assert lapse.details["days_overdue"] > 90
    assert await _count(container, orm.OutboxRow, orm.OutboxRow.topic == "followup.changed") == changes_before + 1

    totals = report_row.report["totals"]
    assert (totals["counted"], totals["verified"], totals["not_actionable"], totals["lapsed"]) == (3, 1, 1, 1)
    assert (totals["completion_rate"], totals["resolution_rate"]) == (0.3333, 0.6667)
    assert totals["bpk"] == {"sesuai": 1, "belum_sesuai": 1, "belum_ditindaklanjuti": 0,
                             "tidak_dapat_ditindaklanjuti": 1}
    # issued 21 Dec 2024 01:00 UTC, verified 3 Feb 2025 02:00 UTC
    assert totals["mean_days_to_verification"] == 44.04
    assert [(a["agency_id"], a["completion_rate"]) for a in report_row.report["agencies"]] == [("15", 0.3333)]
    envelope = json.loads(reported.value)
    assert (envelope["type"], envelope["subject"], reported.key) == (
        "tindaklanjut.cycle.reported.v1", "panrb-pekppp/2024", "panrb-pekppp/2024")
    assert envelope["data"] == report_row.report

    # Closing again lapses nothing more and returns the stored report.
    container.clock.now = datetime(2025, 7, 2, tzinfo=timezone.utc)
    again = await cycles.close_cycle(container.uow(), EVALUATOR, "panrb-pekppp", "2024", clock=container.clock)
    assert (again.already_closed, again.lapsed, again.closed_at) == (True, 0, CLOSE)
    assert again.report.totals == outcome.report.totals
    assert await _count(container, CycleReportRow) == 1
    assert await _count(container, AuditEntryRow, AuditEntryRow.action == "lapsed") == 1
    assert await _count(container, orm.OutboxRow, orm.OutboxRow.topic == "cycle.reported") == 1


async def test_only_evaluators_close_and_unknown_cycles_are_refused(container):
    with pytest.raises(NotPermitted):
        await cycles.close_cycle(container.uow(), AGENCY, "panrb-pekppp", "2024", clock=container.clock)
    with pytest.raises(cycles.CycleNotFound):
        await cycles.close_cycle(container.uow(), EVALUATOR, "panrb-pekppp", "2019", clock=container.clock)
    assert await _count(container, CycleReportRow) == 0
    assert {r["status"] for r in await views.recommendations(container.sessions)} == {"open"}


async def test_the_report_compares_score_changes_of_verified_and_lapsed_after_the_next_cycle(container, examples):
    ids = await _dinsos_ids(container)
    container.clock.now = datetime(2025, 2, 3, 2, 0, tzinfo=timezone.utc)
    await _verify(container, ids["V.4"])
    container.clock.now = CLOSE
    closed = await cycles.close_cycle(container.uow(), EVALUATOR, "panrb-pekppp", "2024", clock=container.clock)
    assert (closed.report.score_change.verified.n, closed.report.score_change.lapsed.n) == (0, 0)

    # 2025: V.4 (verified) went from 2/5 to 5/5; I.8 and III.4 (lapsed) stayed at 2/5 and fell to 1/5.
    container.clock.now = datetime(2025, 12, 20, tzinfo=timezone.utc)
    await container.ingest(_commands(next_cycle(examples[DINSOS], {"V.4": 5, "III.4": 1})))

    report = await cycles.cycle_report(container.uow(), EVALUATOR, "panrb-pekppp", "2024", clock=container.clock)
    comparison = report.score_change
    assert (comparison.verified.n, comparison.verified.mean) == (1, 0.6)
    assert (comparison.lapsed.n, comparison.lapsed.mean) == (2, -0.1)     # (0 - 0.2) / 2
    assert comparison.difference == 0.7
    assert comparison.verified.mean > comparison.lapsed.mean
    # The rest is the snapshot taken at close.
    assert (report.status, report.as_of, report.closed_by) == ("closed", CLOSE, "evaluator-panrb")
    assert report.totals == closed.report.totals
    # The 2025 cycle has its own provisional report with its new open items.
    provisional = await cycles.cycle_report(container.uow(), EVALUATOR, "panrb-pekppp", "2025",
                                            clock=container.clock)
    assert (provisional.status, provisional.totals.open, provisional.totals.lapsed) == ("provisional", 2, 0)


async def test_cycles_close_when_their_follow_up_window_has_ended(container):
    # Every example's window ends on 30 June 2025; 23:30 WIB that day is still inside it.
    assert await cycles.close_due_cycles(container.uow, datetime(2025, 6, 30, 16, 30, tzinfo=timezone.utc)) == []
    after = datetime(2025, 6, 30, 17, 0, tzinfo=timezone.utc)             # 00:00 WIB, 1 July
    closed = await cycles.close_due_cycles(container.uow, after)
    assert [(o.framework, o.cycle, o.lapsed, o.closed_by) for o in closed] == [
        ("ombudsman-kepatuhan", "2024", 5, "system:follow-up-window-ended"),
        ("panrb-pekppp", "2024", 3, "system:follow-up-window-ended")]
    assert {r["status"] for r in await views.recommendations(container.sessions)} == {"lapsed"}
    assert await cycles.close_due_cycles(container.uow, after) == []
    assert await _count(container, CycleReportRow) == 2


def _closed_event(event_id: str, **data) -> bytes:
    return json.dumps({"specversion": "1.0", "id": event_id, "source": "urn:evaluator:kemenpanrb",
                       "type": "tindaklanjut.cycle.closed.v1", "time": "2025-07-01T03:00:00Z",
                       "datacontenttype": "application/json", "data": data}).encode()


async def test_a_cycle_closed_event_closes_once_and_bad_ones_are_dead_lettered(container):
    container.clock.now = CLOSE

    async def handle(raw, offset):
        return await cycles.handle_cycle_closed(container.uow(), raw, Origin(topic="cycle.closed", offset=offset),
                                                catalogue=container.catalogue, clock=container.clock)

    good = _closed_event("c1", framework="panrb-pekppp", cycle="2024", closed_by="evaluator-panrb")
    assert await handle(good, 0) == "closed"
    assert await handle(good, 0) == "duplicate"
    assert await handle(_closed_event("c2", framework="panrb-pekppp", cycle="2024"), 1) == "already_closed"
    assert await handle(b"{oops", 2) == "dead_lettered"
    assert await handle(_closed_event("c3", framework="skm-nasional", cycle="2024"), 3) == "dead_lettered"
    assert await handle(_closed_event("c4", framework="panrb-pekppp", cycle="24"), 4) == "dead_lettered"
    assert await handle(_closed_event("c5", framework="panrb-pekppp", cycle="2019"), 5) == "dead_lettered"
    assert [d["reason_code"] for d in await views.dead_letters(container.sessions)] == [
        "malformed_json", "unknown_framework", "invalid_payload", "unknown_cycle"]
    async with container.sessions() as session:
        [row] = (await session.scalars(select(CycleReportRow))).all()
        [lapse] = (await session.scalars(select(AuditEntryRow).where(AuditEntryRow.action == "lapsed")
                                         .limit(1))).all()
    assert (row.closed_by, lapse.actor) == ("evaluator-panrb", "evaluator-panrb")
    assert await _count(container, orm.OutboxRow, orm.OutboxRow.topic == "deadletter") == 4


async def test_the_scheduled_close_due_job_closes_ended_cycles_with_reminders_off(container):
    """The window closer has its own scheduler: the reminder switch does not touch it."""
    import asyncio

    from tindaklanjut.services.cycles import run_close_due_scheduler

    container.settings = container.settings.model_copy(update={"reminders_enabled": False})
    stop = asyncio.Event()
    running = asyncio.create_task(run_close_due_scheduler(container, lambda: CLOSE, interval=0.05, stop=stop))
    try:
        async def both_closed():
            return await _count(container, CycleReportRow) == 2
        await wait_for(both_closed, timeout=20, interval=0.05)
    finally:
        stop.set()
        await running
    async with container.sessions() as session:
        rows = (await session.scalars(select(CycleReportRow).order_by(CycleReportRow.framework))).all()
    assert [(r.framework, r.closed_by, r.closed_at) for r in rows] == [
        ("ombudsman-kepatuhan", "system:follow-up-window-ended", CLOSE),
        ("panrb-pekppp", "system:follow-up-window-ended", CLOSE)]


async def test_two_closes_at_once_produce_one_report_and_one_lapse_each(container):
    import asyncio

    container.clock.now = CLOSE
    first, second = await asyncio.gather(
        cycles.close_cycle(container.uow(), EVALUATOR, "panrb-pekppp", "2024", clock=container.clock),
        cycles.close_cycle(container.uow(), Actor("evaluator-2", Role.EVALUATOR), "panrb-pekppp", "2024",
                           clock=container.clock))
    assert sorted([first.already_closed, second.already_closed]) == [False, True]
    assert first.closed_by == second.closed_by
    assert await _count(container, CycleReportRow) == 1
    assert await _count(container, AuditEntryRow, AuditEntryRow.action == "lapsed") == 3
