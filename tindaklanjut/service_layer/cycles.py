"""Cycle close and the cycle report.

`close_cycle` runs in one transaction: it stores the report, lapses every
recommendation of the cycle that is not closed (through the aggregate, so
each lapse is an audit entry and a `followup.changed` event) and writes
`cycle.reported` to the outbox. Closing twice changes nothing and returns the
stored report.

The report is a snapshot at close, except the before/after score comparison:
next-cycle scores arrive after the close, so every read recomputes that part
from the live rows (see docs/cycle-report.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import structlog

from tindaklanjut.domain import ids
from tindaklanjut.ports.repositories import AbstractCycles, CycleAlreadyClosed
from tindaklanjut.domain import labels, report as reports
from tindaklanjut.domain.frameworks import FrameworkCatalogue
from tindaklanjut.domain.lifecycle import CLOSED_STATUSES, Action, Actor, NotPermitted, Role
from tindaklanjut.events import cycle as wire
from tindaklanjut.ports.messages import Origin, OutboundMessage
from tindaklanjut.service_layer.handlers import dead_letter
from tindaklanjut.service_layer import commands, outbound
from tindaklanjut.ports.retrying import describe
from tindaklanjut.service_layer.isolation import handle_isolating
from tindaklanjut.ports.validation import Rejected, parse_cloudevent

log = structlog.get_logger(__name__)

SOURCE = "urn:tindaklanjut:cycles"
# The follow-up window ends at the end of its last day everywhere in Indonesia
# once that day is over in WIB, the westernmost zone.
WINDOW_ZONE = ZoneInfo("Asia/Jakarta")
SYSTEM = Actor("system:follow-up-window-ended", Role.EVALUATOR)


class CycleNotFound(LookupError):
    """No assessment of this framework and cycle has been received."""


@dataclass(frozen=True, kw_only=True)
class CloseOutcome:
    framework: str
    cycle: str
    closed_at: datetime
    closed_by: str
    lapsed: int                 # recommendations lapsed by this call (0 when already closed)
    already_closed: bool
    report: reports.CycleReport


def _require_closer(actor: Actor) -> None:
    if actor.role not in (Role.EVALUATOR, Role.ADMIN):
        raise NotPermitted(f"peran {labels.role(actor.role)} tidak berwenang menutup siklus")


def _reader_scope(actor: Actor) -> tuple[str | None, str | None]:
    """(region, agency) a report is restricted to: a secretary's government, or the
    region they oversee; evaluators and admins see all."""
    if actor.role in (Role.SECRETARY, Role.VERIFIER):
        return (None, actor.agency_id) if actor.agency_id else (actor.region or "", None)
    if actor.role in (Role.EVALUATOR, Role.ADMIN):
        return None, None
    raise NotPermitted(f"peran {labels.role(actor.role)} tidak berwenang membaca laporan siklus")


def reported_message(payload: wire.CycleReport) -> OutboundMessage:
    key = f"{payload.framework}/{payload.cycle}"
    # Deterministic: a cycle is reported once, and a republished row keeps its id.
    event_id = ids.name_based(uuid.NAMESPACE_URL, f"{SOURCE}/{key}/reported")
    return outbound.cloudevent(event_type=wire.REPORTED_EVENT_TYPE, source=SOURCE, key=key, data=payload,
                               at=payload.as_of, event_id=event_id)


async def _stored(cycles: AbstractCycles, row: reports.StoredReport, *, now: datetime,
                  region: str | None = None, agency_id: str | None = None) -> reports.CycleReport:
    """The stored snapshot with the score comparison computed from the live rows."""
    items = [item for _row, item in await cycles.recommendations(row.framework, row.cycle, region=region,
                                                                  agency_id=agency_id)]
    score = reports.compare_scores(items, as_of=now, closing=False)
    return reports.restore(row.report, score_change=score, region=region, agency_id=agency_id)


async def _close(uow, actor: Actor, framework: str, cycle: str, at: datetime) -> CloseOutcome:
    """The work of a close inside an open unit of work (the caller commits)."""
    cycles = uow.cycles
    stored = await cycles.report(framework, cycle)
    if stored is not None:
        return CloseOutcome(framework=framework, cycle=cycle, closed_at=stored.closed_at, closed_by=stored.closed_by,
                            lapsed=0, already_closed=True, report=await _stored(cycles, stored, now=at))
    rows = await cycles.recommendations(framework, cycle)
    if not rows and not await cycles.has_assessments(framework, cycle):
        raise CycleNotFound(f"{framework}/{cycle}")
    report = reports.build_report([item for _row, item in rows], framework=framework, cycle=cycle, as_of=at,
                                  closing=True, closed_by=actor.name)
    payload = wire.CycleReport.model_validate(asdict(report))
    await cycles.add_report(reports.StoredReport(framework=framework, cycle=cycle, closed_at=at, closed_by=actor.name,
                                                 report=payload.model_dump(mode="json")))
    lapsed = 0
    for recommendation, item in rows:
        if recommendation.status in CLOSED_STATUSES:
            continue
        recommendation.change(Action.LAPSE, actor=actor, at=at,
                              comment=f"Siklus {framework} {cycle} ditutup; rekomendasi belum selesai",
                              details={"framework": framework, "cycle": cycle,
                                       "days_overdue": reports.days_overdue(item, at)})
        await uow.recommendations.save(recommendation, at)
        lapsed += 1
    uow.outbox.add(reported_message(payload), at)
    log.info("cycle.closed", framework=framework, cycle=cycle, lapsed=lapsed, by=actor.name)
    return CloseOutcome(framework=framework, cycle=cycle, closed_at=at, closed_by=actor.name, lapsed=lapsed,
                        already_closed=False, report=report)


async def close_cycle(uow, actor: Actor, framework: str, cycle: str, clock: Callable[[], datetime]) -> CloseOutcome:
    """Close one framework's cycle: lapse what is still open, store and publish the report."""
    _require_closer(actor)
    try:
        async with uow:
            outcome = await _close(uow, actor, framework, cycle, clock())
            await uow.commit()
            return outcome
    except CycleAlreadyClosed:
        # Closed at the same moment by someone else: their report stands.
        async with uow:
            stored = await uow.cycles.report(framework, cycle)
            if stored is None:
                raise
            return CloseOutcome(framework=framework, cycle=cycle, closed_at=stored.closed_at,
                                closed_by=stored.closed_by, lapsed=0, already_closed=True,
                                report=await _stored(uow.cycles, stored, now=clock()))


async def cycle_report(uow, actor: Actor, framework: str, cycle: str, clock: Callable[[], datetime]
                       ) -> reports.CycleReport:
    """The report as this actor may see it: the stored one once the cycle is
    closed (with a fresh score comparison), a provisional one before."""
    region, agency_id = _reader_scope(actor)
    async with uow:
        cycles = uow.cycles
        now = clock()
        stored = await cycles.report(framework, cycle)
        if stored is not None:
            return await _stored(cycles, stored, now=now, region=region, agency_id=agency_id)
        rows = await cycles.recommendations(framework, cycle, region=region, agency_id=agency_id)
        if not rows and not await cycles.has_assessments(framework, cycle):
            raise CycleNotFound(f"{framework}/{cycle}")
        return reports.build_report([item for _row, item in rows], framework=framework, cycle=cycle, as_of=now,
                                    closing=False, region=region)


async def due_cycles(uow, now: datetime) -> list[tuple[str, str]]:
    """Open cycles whose follow-up window ended before today (WIB)."""
    today: date = now.astimezone(WINDOW_ZONE).date()
    async with uow:
        windows = await uow.cycles.windows()
    return sorted(key for key, until in windows.items() if until < today)


async def close_due_cycles(make_uow: Callable[[], object], now: datetime, *,
                           actor: Actor = SYSTEM) -> list[CloseOutcome]:
    """Close every cycle whose follow-up window has ended, one transaction each.
    Run it daily (CLI `tindaklanjut cycle close-due`, or a scheduler)."""
    outcomes = []
    for framework, cycle in await due_cycles(make_uow(), now):
        outcomes.append(await close_cycle(make_uow(), actor, framework, cycle, clock=lambda: now))
    return outcomes


async def close_cycle_command(command: commands.CloseCycle, new_uow, clock: Callable[[], datetime]) -> CloseOutcome:
    return await close_cycle(new_uow(), command.actor, command.framework, command.cycle, clock=clock)


async def close_due_cycles_command(command: commands.CloseDueCycles, new_uow) -> list[CloseOutcome]:
    return await close_due_cycles(new_uow, command.now)


async def cycle_closed_command(command: commands.HandleCycleClosed, new_uow, catalogue: FrameworkCatalogue,
                               clock: Callable[[], datetime], poison_max_tries: int) -> str:
    """A `cycle.closed` message: closed, already_closed, duplicate or dead_lettered."""
    outcomes = await handle_isolating(
        [command.raw], name="cycle_closed", max_tries=poison_max_tries,
        handle=lambda batch: handle_cycle_closed(new_uow(), batch[0], command.origin, catalogue=catalogue,
                                                 clock=clock),
        dead_letter=lambda raw, error: dead_letter_unprocessable(new_uow(), raw, command.origin, error, clock=clock))
    return outcomes[0] if outcomes else "not_handled"


def parse_cycle_closed(raw: bytes, catalogue: FrameworkCatalogue) -> wire.CycleClosedEvent:
    """Parse a `cycle.closed` message or raise `Rejected` with the dead-letter reason code."""
    event = parse_cloudevent(raw, wire.CLOSED_EVENT_TYPE, wire.CycleClosedEvent)
    if catalogue.get(event.data.framework) is None:
        raise Rejected("unknown_framework", f"framework {event.data.framework!r} is not configured")
    return event


async def dead_letter_unprocessable(uow, raw: bytes, origin: Origin, error: BaseException, *,
                                    clock: Callable[[], datetime]) -> str:
    """A `cycle.closed` message that failed again and again: dead-letter it."""
    async with uow:
        await dead_letter(uow, raw, origin, Rejected("processing_failed", describe(error)), at=clock())
        await uow.commit()
    return "dead_lettered"


async def handle_cycle_closed(uow, raw: bytes, origin: Origin, *, catalogue: FrameworkCatalogue,
                              clock: Callable[[], datetime]) -> str:
    """A `cycle.closed` message from an evaluator: close the cycle, de-duplicated
    on (source, id); an invalid message or an unknown cycle is dead-lettered.
    Returns what happened: closed, already_closed, duplicate or dead_lettered."""
    async with uow:
        at = clock()
        try:
            event = parse_cycle_closed(raw, catalogue)
        except Rejected as rejected:
            await dead_letter(uow, raw, origin, rejected, at=at)
            await uow.commit()
            return "dead_lettered"
        if await uow.processed.seen(event.source, event.id):
            await uow.processed.count_redelivery(event.source, event.id)
            await uow.commit()
            return "duplicate"
        data = event.data
        actor = Actor(data.closed_by or event.source, Role.EVALUATOR)
        try:
            outcome = await _close(uow, actor, data.framework, data.cycle, at)
        except CycleNotFound:
            await dead_letter(uow, raw, origin, Rejected(
                "unknown_cycle", f"no assessment of {data.framework} {data.cycle} has been received"), at=at)
            await uow.commit()
            return "dead_lettered"
        uow.processed.add(source=event.source, event_id=event.id, event_type=event.type, outcome="processed", at=at)
        await uow.commit()
        return "already_closed" if outcome.already_closed else "closed"
