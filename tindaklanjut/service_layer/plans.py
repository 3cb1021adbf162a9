"""Rencana aksi handlers: the agency submits a plan, the evaluator or verifier
accepts or returns it, the agency marks milestones done. The item's deadline
follows the plan (domain.plans), so the reminder ladder runs per milestone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from tindaklanjut.domain import calendar
from tindaklanjut.domain.frameworks import FrameworkCatalogue
from tindaklanjut.domain.model import Recommendation
from tindaklanjut.domain.plans import ActionPlan
from tindaklanjut.service_layer import commands
from tindaklanjut.service_layer.followup import _load, _require_owner, _require_verifier
from tindaklanjut.service_layer.unit_of_work import AbstractUnitOfWork

NewUnitOfWork = Callable[[], AbstractUnitOfWork]
Clock = Callable[[], datetime]
Change = Callable[[Recommendation, datetime, str, date], None]


async def _with_region(uow: AbstractUnitOfWork, command: commands.FollowUpCommand, clock: Clock,
                       change: Change) -> Recommendation:
    """Load (scoped), change with the unit's region and the end of the cycle's window, save."""
    async with uow:
        recommendation = await _load(uow, command.actor, command.recommendation_id)
        _require_owner(command.actor, recommendation)
        region = await uow.directory.unit_region(recommendation.unit_id) or ""
        windows = await uow.cycles.windows()
        last_day = windows.get((recommendation.framework, recommendation.cycle), date.max)
        at = clock()
        change(recommendation, at, region, last_day)
        await uow.recommendations.save(recommendation, at)
        await uow.commit()
    return recommendation


def _due_on(region: str):
    return lambda day: calendar.deadline_on(calendar.next_working_day(day), region_code=region)


async def submit_plan(command: commands.SubmitActionPlan, new_uow: NewUnitOfWork, clock: Clock) -> Recommendation:
    def change(r: Recommendation, at: datetime, region: str, last_day: date) -> None:
        today = at.astimezone(calendar.zone_for_region(region)).date()
        plan = ActionPlan.draft(budget_source=command.budget_source, milestones=list(command.milestones),
                                submitted_by=command.actor.name, submitted_at=at, today=today, last_day=last_day)
        r.submit_plan(plan, actor=command.actor, at=at)
    return await _with_region(new_uow(), command, clock, change)


async def decide_plan(command: commands.DecideActionPlan, new_uow: NewUnitOfWork, clock: Clock,
                      catalogue: FrameworkCatalogue) -> Recommendation:
    def change(r: Recommendation, at: datetime, region: str, _last_day: date) -> None:
        _require_verifier(command.actor, r, catalogue)
        r.decide_plan(accept=command.accept, actor=command.actor, at=at, comment=command.comment,
                      due_on=_due_on(region))
    return await _with_region(new_uow(), command, clock, change)


async def complete_milestone(command: commands.CompleteMilestone, new_uow: NewUnitOfWork,
                             clock: Clock) -> Recommendation:
    def change(r: Recommendation, at: datetime, region: str, _last_day: date) -> None:
        r.complete_milestone(command.seq, actor=command.actor, at=at, comment=command.comment,
                             due_on=_due_on(region))
    return await _with_region(new_uow(), command, clock, change)
