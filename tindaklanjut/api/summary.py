"""The secretary's summary: counts and the series behind the charts, always
scoped to what the actor may see (the same rule as every other query)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tindaklanjut.api.queries import OWED_STATUSES, A, R, scoped
from tindaklanjut.domain.lifecycle import Actor

AGE_BUCKETS = (("1–7 hari", 1, 7), ("8–30 hari", 8, 30), ("31–90 hari", 31, 90), ("> 90 hari", 91, None))
DUE_SOON = timedelta(days=14)


@dataclass
class Summary:
    total: int = 0
    owed: int = 0
    due_soon: int = 0
    overdue: int = 0
    submitted: int = 0
    verified: int = 0
    not_actionable: int = 0
    superseded: int = 0
    lapsed: int = 0
    overdue_by_agency: list[tuple[str, int]] = field(default_factory=list)
    overdue_by_age: list[tuple[str, int]] = field(default_factory=list)
    verified_by_month: list[tuple[str, int]] = field(default_factory=list)
    score_change: dict[str, tuple[float | None, int]] = field(default_factory=dict)

    @property
    def completion_rate(self) -> float:
        """Verified, of the items that count (superseded and approved not-actionable ones do not)."""
        counted = self.total - self.superseded - self.not_actionable
        return 100.0 * self.verified / counted if counted else 0.0


async def summary(session: AsyncSession, actor: Actor, now: datetime, *, framework: str | None = None,
                  cycle: str | None = None) -> Summary:
    def narrowed(query):
        query = scoped(query.join(A, A.id == R.agency_id), actor)
        if framework:
            query = query.where(R.framework == framework)
        if cycle:
            query = query.where(R.cycle == cycle)
        return query

    owed = R.status.in_(OWED_STATUSES)
    result = Summary()
    counts = (await session.execute(narrowed(select(
        func.count(), func.sum(case((owed, 1), else_=0)),
        func.sum(case((owed & (R.due_at >= now) & (R.due_at < now + DUE_SOON), 1), else_=0)),
        func.sum(case((owed & (R.due_at < now), 1), else_=0))).select_from(R)))).one()
    result.total, result.owed, result.due_soon, result.overdue = (int(v or 0) for v in counts)
    by_status = dict((await session.execute(narrowed(select(R.status, func.count()).select_from(R))
                                            .group_by(R.status))).all())
    result.submitted = by_status.get("submitted", 0)
    result.verified = by_status.get("verified", 0)
    result.not_actionable = by_status.get("not_actionable", 0)
    result.superseded = by_status.get("superseded", 0)
    result.lapsed = by_status.get("lapsed", 0)
    per_agency = await session.execute(narrowed(select(A.name, func.count()).select_from(R))
                                       .where(owed, R.due_at < now).group_by(A.name)
                                       .order_by(func.count().desc(), A.name).limit(15))
    result.overdue_by_agency = [(name, n) for name, n in per_agency]
    # Days overdue counted in whole days past the deadline instant (the local calendar day aside).
    late = owed & (R.due_at < now)
    buckets = [func.sum(case((late & (R.due_at < now - timedelta(days=low - 1))
                              & ((R.due_at >= now - timedelta(days=high)) if high else True), 1), else_=0))
               for _, low, high in AGE_BUCKETS]
    ages = (await session.execute(narrowed(select(*buckets).select_from(R)))).one()
    result.overdue_by_age = [(label, int(n or 0)) for (label, _, _), n in zip(AGE_BUCKETS, ages)]
    verified_at = await session.scalars(narrowed(select(R.verified_at).select_from(R))
                                        .where(R.verified_at >= now - timedelta(days=366)))
    months = Counter(at.strftime("%Y-%m") for at in verified_at)
    result.verified_by_month = sorted(months.items())[-12:]
    changes = await session.execute(narrowed(select(R.status, func.avg(R.score_change), func.count())
                                             .select_from(R)).where(R.status.in_(("verified", "lapsed")),
                                                                    R.score_change.is_not(None))
                                    .group_by(R.status))
    result.score_change = {status: (float(avg) if avg is not None else None, n) for status, avg, n in changes}
    return result
