"""Cycles in SQL: the recommendations of one framework and cycle, the stored
cycle reports, and the follow-up windows of the assessments."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tindaklanjut.adapters import orm
from tindaklanjut.adapters.orm import region_clause
from tindaklanjut.adapters.orm_followup import CycleReportRow
from tindaklanjut.adapters.repository import recommendation_from_row
from tindaklanjut.domain.lifecycle import Status
from tindaklanjut.domain.model import Recommendation
from tindaklanjut.domain.report import ReportItem, StoredReport
from tindaklanjut.ports.repositories import AbstractCycles, CycleAlreadyClosed

R, A, U = orm.RecommendationRow, orm.AgencyRow, orm.UnitRow


def report_item(row: orm.RecommendationRow, agency_name: str, agency_region: str, unit_region: str) -> ReportItem:
    return ReportItem(agency_id=row.agency_id, agency_name=agency_name, agency_region=agency_region,
                      unit_region=unit_region, status=Status(row.status), had_action=row.had_action,
                      issued_at=row.issued_at, due_date=row.due_date, due_at=row.due_at, verified_at=row.verified_at,
                      score_change=row.score_change)


def _stored(row: CycleReportRow) -> StoredReport:
    return StoredReport(framework=row.framework, cycle=row.cycle, closed_at=row.closed_at, closed_by=row.closed_by,
                        report=row.report)


class SqlCycles(AbstractCycles):
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def recommendations(self, framework: str, cycle: str, *, region: str | None = None,
                              agency_id: str | None = None) -> list[tuple[Recommendation, ReportItem]]:
        """Every recommendation of the cycle (optionally only agencies in `region`), with its report item."""
        query = (select(R, A.name, A.region_code, U.region_code).join(A, A.id == R.agency_id)
                 .join(U, U.id == R.unit_id).where(R.framework == framework, R.cycle == cycle))
        if region is not None:
            query = query.where(region_clause(A.region_code, region))
        if agency_id is not None:
            query = query.where(R.agency_id == agency_id)
        rows = (await self.session.execute(query.order_by(R.id))).all()
        return [(recommendation_from_row(row), report_item(row, name, agency_region, unit_region))
                for row, name, agency_region, unit_region in rows]

    async def has_assessments(self, framework: str, cycle: str) -> bool:
        found = await self.session.scalar(select(orm.AssessmentRow.assessment_id).where(
            orm.AssessmentRow.framework == framework, orm.AssessmentRow.cycle == cycle).limit(1))
        return found is not None

    async def report(self, framework: str, cycle: str) -> StoredReport | None:
        row = await self.session.scalar(select(CycleReportRow).where(CycleReportRow.framework == framework,
                                                                     CycleReportRow.cycle == cycle))
        return _stored(row) if row else None

    async def add_report(self, report: StoredReport) -> None:
        self.session.add(CycleReportRow(framework=report.framework, cycle=report.cycle, closed_at=report.closed_at,
                                        closed_by=report.closed_by, report=report.report))
        try:
            await self.session.flush()   # a concurrent close of the same cycle fails here, before anything lapses
        except IntegrityError:
            raise CycleAlreadyClosed(f"{report.framework}/{report.cycle}") from None

    async def windows(self) -> dict[tuple[str, str], date]:
        """The end of each open cycle's follow-up window: the latest `follow_up_until`
        among the current revisions of its assessments. Closed cycles are left out."""
        latest: dict[str, tuple[int, str, str, date]] = {}
        rows = await self.session.execute(select(orm.AssessmentRow.assessment_id, orm.AssessmentRow.revision,
                                                 orm.AssessmentRow.framework, orm.AssessmentRow.cycle,
                                                 orm.AssessmentRow.follow_up_until))
        for assessment_id, revision, framework, cycle, until in rows:
            if assessment_id not in latest or revision > latest[assessment_id][0]:
                latest[assessment_id] = (revision, framework, cycle, until)
        closed = set((await self.session.execute(select(CycleReportRow.framework, CycleReportRow.cycle))).all())
        windows: dict[tuple[str, str], date] = {}
        for _revision, framework, cycle, until in latest.values():
            if (framework, cycle) not in closed:
                windows[(framework, cycle)] = max(until, windows.get((framework, cycle), until))
        return windows
