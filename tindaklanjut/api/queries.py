"""Read-side SQL for the API, always filtered by what the actor may see."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tindaklanjut.adapters import orm
from tindaklanjut.adapters.orm_followup import AuditEntryRow, EvidenceRow, FollowUpRequestRow, UserRow, WebSessionRow
from tindaklanjut.api import models
from tindaklanjut.api.errors import ApiError
from tindaklanjut.domain.calendar import zone_for_region
from tindaklanjut.adapters.orm import region_clause
from tindaklanjut.domain.lifecycle import OWED_STATUSES as OWED
from tindaklanjut.domain.lifecycle import Actor, Role, Status, bpk_status

# Overdue means the agency still owes work: a submitted item waits for the evaluator.
OWED_STATUSES = tuple(sorted(s.value for s in OWED))

R, A, U = orm.RecommendationRow, orm.AgencyRow, orm.UnitRow
STORED_FIELDS = tuple(orm.RecommendationFields.model_fields)


async def _fetch_rows(session: AsyncSession, query: Select) -> Sequence:
    """Plain tuples of a query's rows. On PostgreSQL the compiled statement goes
    straight to the driver: for thousands of plain-typed rows the ORM's row
    processing would cost more than the query itself."""
    connection = await session.connection()
    if connection.dialect.name != "postgresql" or connection.dialect.driver != "asyncpg":
        return (await session.execute(query)).all()
    compiled = query.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    params = [compiled.params[name] for name in compiled.positiontup]
    raw = await connection.get_raw_connection()
    return await raw.driver_connection.fetch(str(compiled), *params)


def scoped(query: Select, actor: Actor) -> Select:
    """Restrict a query over recommendations (joined with agency) to the actor's view."""
    if actor.role is Role.AGENCY:
        return query.where(R.agency_id == actor.agency_id)
    if actor.role in (Role.SECRETARY, Role.VERIFIER):   # one government, or a whole region (domain.access)
        if actor.agency_id:
            return query.where(R.agency_id == actor.agency_id)
        return query.where(region_clause(A.region_code, actor.region or ""))
    return query


def days_overdue(due_date, due_at: datetime, region_code: str, now: datetime) -> int:
    if now <= due_at:
        return 0
    return (now.astimezone(zone_for_region(region_code)).date() - due_date).days


def to_out(row: orm.RecommendationRow | Row, region_code: str, now: datetime, unit_name: str | None = None,
           agency_name: str | None = None) -> models.RecommendationOut:
    owed = row.status in OWED_STATUSES
    local_today = now.astimezone(zone_for_region(region_code)).date()
    bpk = bpk_status(Status(row.status), row.had_action)
    # Built from typed columns: no validation needed (the API's response model validates what it sends).
    return models.RecommendationOut.model_construct(
        **{name: getattr(row, name) for name in STORED_FIELDS},
        bpk_status=bpk.value if bpk else None,
        days_overdue=days_overdue(row.due_date, row.due_at, region_code, now) if owed else 0,
        region_code=region_code, unit_name=unit_name, agency_name=agency_name,
        days_left=max(0, (row.due_date - local_today).days) if owed and now <= row.due_at else None)


def _filtered(query: Select, now: datetime, *, status: str | None = None, unit_id: str | None = None,
              overdue: bool | None = None, search: str | None = None, agency_id: str | None = None) -> Select:
    if status:
        query = query.where(R.status == status)
    if unit_id:
        query = query.where(R.unit_id == unit_id)
    if agency_id:
        query = query.where(R.agency_id == agency_id)
    if overdue is True:
        query = query.where(R.status.in_(OWED_STATUSES), R.due_at < now)
    elif overdue is False:
        query = query.where(or_(R.status.not_in(OWED_STATUSES), R.due_at >= now))
    if search:
        pattern = f"%{search.strip()[:100]}%"
        query = query.where(or_(R.title.ilike(pattern), R.action.ilike(pattern), R.finding.ilike(pattern),
                                R.indicator_code.ilike(pattern), U.name.ilike(pattern)))
    return query


async def list_recommendations(session: AsyncSession, actor: Actor, now: datetime, *, status: str | None,
                               unit_id: str | None, overdue: bool | None, limit: int,
                               offset: int, search: str | None = None,
                               agency_id: str | None = None) -> list[models.RecommendationOut]:
    # Plain columns, no ORM objects: a page is read-only, and loading entities cost more than the query.
    query = scoped(select(*R.__table__.c, U.region_code.label("unit_region"), U.name.label("unit_name"),
                          A.name.label("agency_name"))
                   .join(A, A.id == R.agency_id).join(U, U.id == R.unit_id), actor)
    query = _filtered(query, now, status=status, unit_id=unit_id, overdue=overdue, search=search,
                      agency_id=agency_id)
    query = query.order_by(R.due_at, R.id).limit(limit).offset(offset)
    return [to_out(row, row.unit_region, now, row.unit_name, row.agency_name)
            for row in (await session.execute(query)).all()]


async def count_recommendations(session: AsyncSession, actor: Actor, now: datetime, **filters) -> int:
    """Joins only what the scope or the search needs: an agency's count is then read from one index."""
    query = select(func.count()).select_from(R)
    if actor.role in (Role.SECRETARY, Role.VERIFIER) and not actor.agency_id:
        query = query.join(A, A.id == R.agency_id)          # the region rule reads the agency's region
    if filters.get("search"):
        query = query.join(U, U.id == R.unit_id)            # the search reads the unit's name
    return await session.scalar(_filtered(scoped(query, actor), now, **filters))


async def visible_units(session: AsyncSession, actor: Actor) -> list[tuple[str, str]]:
    """(id, name) of every unit with an item the actor may see, for filters."""
    query = scoped(select(U.id, U.name).join(R, R.unit_id == U.id).join(A, A.id == R.agency_id), actor)
    return [(i, n) for i, n in (await session.execute(query.distinct().order_by(U.name)))]


async def get_recommendation(session: AsyncSession, actor: Actor, recommendation_id: str,
                             now: datetime) -> models.RecommendationDetail | None:
    query = scoped(select(R, U.region_code, U.name, A.name).join(A, A.id == R.agency_id)
                   .join(U, U.id == R.unit_id).where(R.id == recommendation_id), actor)
    found = (await session.execute(query)).first()
    if found is None:
        return None
    row, region, unit_name, agency_name = found
    audit = (await session.scalars(select(AuditEntryRow).where(AuditEntryRow.recommendation_id == row.id)
                                   .order_by(AuditEntryRow.id))).all()
    evidence = (await session.scalars(select(EvidenceRow).where(EvidenceRow.recommendation_id == row.id)
                                      .order_by(EvidenceRow.version))).all()
    return models.RecommendationDetail(
        **to_out(row, region, now, unit_name, agency_name).model_dump(),
        timeline=[models.TimelineEntry(at=e.at, action=e.action, actor=e.actor, role=e.role,
                                       from_status=e.from_status, to_status=e.to_status, comment=e.comment,
                                       evidence_sha256=e.evidence, details=e.details) for e in audit],
        evidence_versions=[models.EvidenceOut(**e.model_dump(include=set(models.EvidenceOut.model_fields)))
                           for e in evidence],
        plan=models.PlanOut.model_validate({k: v for k, v in row.action_plan.items() if k != "history"})
        if row.action_plan else None)


async def evidence_of(session: AsyncSession, recommendation_ids: Sequence[str]) -> dict[str, list[EvidenceRow]]:
    """The evidence versions of these recommendations (call it with ids the actor may see)."""
    found: dict[str, list[EvidenceRow]] = {i: [] for i in recommendation_ids}
    if recommendation_ids:
        rows = await session.scalars(select(EvidenceRow).where(EvidenceRow.recommendation_id.in_(list(recommendation_ids)))
                                     .order_by(EvidenceRow.recommendation_id, EvidenceRow.version))
        for row in rows:
            found[row.recommendation_id].append(row)
    return found


def request_out(row: FollowUpRequestRow) -> models.RequestOut:
    return models.RequestOut(**row.model_dump(include=set(models.RequestOut.model_fields)))


async def list_requests(session: AsyncSession, actor: Actor, status: str | None,
                        recommendation_id: str | None = None) -> list[models.RequestOut]:
    query = scoped(select(FollowUpRequestRow).join(R, R.id == FollowUpRequestRow.recommendation_id)
                   .join(A, A.id == R.agency_id), actor)
    if recommendation_id:
        query = query.where(FollowUpRequestRow.recommendation_id == recommendation_id)
    if status:
        query = query.where(FollowUpRequestRow.status == status)
    return [request_out(row) for row in (await session.scalars(query.order_by(FollowUpRequestRow.requested_at)))]


async def overdue(session: AsyncSession, actor: Actor, now: datetime, region: str | None = None, *,
                  framework: str | None = None, cycle: str | None = None, priority: str | None = None,
                  agency_id: str | None = None, agency_ids: Sequence[str] | None = None,
                  per_agency: int | None = None, totals: dict[str, int] | None = None) -> list[dict]:
    """Items past due that the agency still owes, grouped by agency and unit, most overdue first.
    With `per_agency`, only each agency's that many longest-overdue items (its `overdue` count
    then comes from `totals`, the whole count per agency).

    Returns plain dicts in the shape of `models.OverdueAgency` (a region can
    have thousands of items; building them as models would double the cost)."""
    query = scoped(select(R.id, R.title, R.indicator_code, R.priority, R.status, R.due_date, R.agency_id,
                          A.name.label("agency_name"), A.region_code.label("agency_region"), R.unit_id,
                          U.name.label("unit_name"), U.region_code.label("unit_region"), R.framework, R.cycle,
                          R.due_at)
                   .join(A, A.id == R.agency_id).join(U, U.id == R.unit_id)
                   .where(R.status.in_(OWED_STATUSES), R.due_at < now), actor)
    if region:
        query = query.where(region_clause(A.region_code, region))
    for column, value in ((R.framework, framework), (R.cycle, cycle), (R.priority, priority),
                          (R.agency_id, agency_id)):
        if value:
            query = query.where(column == value)
    if agency_ids is not None:
        query = query.where(R.agency_id.in_(list(agency_ids)))
    if per_agency is None:
        query = query.order_by(R.agency_id, R.unit_id, R.due_at, R.id)
    else:
        rank = func.row_number().over(partition_by=R.agency_id, order_by=(R.due_at, R.id)).label("rank")
        ranked = query.add_columns(rank).subquery()
        c = ranked.c
        query = (select(*(column for column in c if column.key != "rank")).where(c.rank <= per_agency)
                 .order_by(c.agency_id, c.unit_id, c.due_at, c.id))
    rows = await _fetch_rows(session, query)
    agencies: dict[str, dict] = {}
    today: dict[str, object] = {}     # local date per time zone of the units' regions
    for (rec_id, title, indicator, priority, status, due_date, agency_id, agency_name, agency_region,
         unit_id, unit_name, unit_region, item_framework, item_cycle, _due_at) in rows:
        agency = agencies.get(agency_id)
        if agency is None:
            agency = agencies[agency_id] = {"agency_id": agency_id, "agency_name": agency_name,
                                            "region_code": agency_region, "overdue": 0, "units": []}
        units = agency["units"]
        if not units or units[-1]["unit_id"] != unit_id:
            units.append({"unit_id": unit_id, "unit_name": unit_name, "items": []})
        zone = zone_for_region(unit_region)
        local_today = today.get(zone.key) or today.setdefault(zone.key, now.astimezone(zone).date())
        units[-1]["items"].append({"id": rec_id, "title": title, "indicator_code": indicator, "priority": priority,
                                   "status": status, "due_date": due_date,
                                   "days_overdue": (local_today - due_date).days, "framework": item_framework,
                                   "cycle": item_cycle})
        agency["overdue"] += 1
    for agency in agencies.values():
        agency["overdue"] = (totals or {}).get(agency["agency_id"], agency["overdue"])
    return sorted(agencies.values(), key=lambda a: (-a["overdue"], a["agency_id"]))


async def overdue_page(session: AsyncSession, actor: Actor, now: datetime, region: str | None, *, limit: int,
                       offset: int) -> tuple[dict[str, int], int, int]:
    """One page of agencies with overdue items, most overdue first (the order of `overdue`):
    their overdue counts by id, the number of such agencies and of overdue items in the actor's view."""
    query = scoped(select(R.agency_id, func.count().label("n")).join(A, A.id == R.agency_id)
                   .where(R.status.in_(OWED_STATUSES), R.due_at < now), actor)
    if region:
        query = query.where(region_clause(A.region_code, region))
    counts = (await session.execute(query.group_by(R.agency_id))).all()
    ordered = sorted(counts, key=lambda row: (-row[1], row[0]))
    return (dict(ordered[offset:offset + limit]), len(ordered), sum(n for _, n in ordered))


async def data_version(session: AsyncSession) -> int:
    """The highest outbox row: it moves with every follow-up step, deadline change and issued
    recommendation (what read caches compare against)."""
    return await session.scalar(select(func.max(orm.OutboxRow.id))) or 0


async def overdue_choices(session: AsyncSession, actor: Actor) -> dict[str, list]:
    """The values the overdue page's filters offer: frameworks, cycles, agencies the actor may see."""
    base = scoped(select(R.framework, R.cycle, R.agency_id, A.name).join(A, A.id == R.agency_id), actor).distinct()
    rows = (await session.execute(base)).all()
    return {"frameworks": sorted({r[0] for r in rows}), "cycles": sorted({r[1] for r in rows}, reverse=True),
            "agencies": sorted({(r[2], r[3]) for r in rows}, key=lambda a: a[1])}


async def stored_revisions(session: AsyncSession, assessment_ids: Sequence[str]) -> dict[str, int]:
    """The highest stored revision of each of these assessments (absent when never received)."""
    if not assessment_ids:
        return {}
    rows = await session.execute(select(orm.AssessmentRow.assessment_id, func.max(orm.AssessmentRow.revision))
                                 .where(orm.AssessmentRow.assessment_id.in_(list(assessment_ids)))
                                 .group_by(orm.AssessmentRow.assessment_id))
    return {assessment_id: revision for assessment_id, revision in rows}


async def session_actor(session: AsyncSession, token_hash: str, now: datetime) -> tuple[Actor, str] | None:
    """A browser session's actor and CSRF token, in one query; None when the
    session is unknown or expired, or the account is disabled."""
    found = (await session.execute(
        select(UserRow.name, UserRow.role, UserRow.agency_id, UserRow.region, WebSessionRow.csrf_token)
        .join(UserRow, UserRow.name == WebSessionRow.user_name)
        .where(WebSessionRow.token_hash == token_hash, WebSessionRow.expires_at > now,
               UserRow.disabled_at.is_(None)))).first()
    if found is None:
        return None
    name, role, agency_id, region, csrf = found
    return Actor(name=name, role=Role(role), agency_id=agency_id, region=region), csrf


async def request_by_id(container, actor: Actor, request_id: str) -> models.RequestOut:
    """One request as the actor may see it (404 otherwise)."""
    async with container.sessions() as session:
        row = await session.scalar(scoped(
            select(FollowUpRequestRow).join(R, R.id == FollowUpRequestRow.recommendation_id)
            .join(A, A.id == R.agency_id), actor).where(FollowUpRequestRow.id == request_id))
    if row is None:
        raise ApiError(404, "not_found", "permohonan tidak ditemukan")
    return request_out(row)


async def evidence_file(session: AsyncSession, actor: Actor, recommendation_id: str,
                        sha256: str) -> EvidenceRow | None:
    """The newest version holding this file on a recommendation the actor may see (None otherwise)."""
    visible = scoped(select(R.id).join(A, A.id == R.agency_id).where(R.id == recommendation_id), actor)
    if await session.scalar(visible) is None:
        return None
    return await session.scalar(select(EvidenceRow).where(
        EvidenceRow.recommendation_id == recommendation_id, EvidenceRow.sha256 == sha256,
        EvidenceRow.kind == "file").order_by(EvidenceRow.version.desc()).limit(1))
