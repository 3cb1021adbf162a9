"""The cycle report: how far the agencies followed up, and whether it helped.

Pure functions over plain items (no I/O). Everything is first tallied per
agency; regions, provinces and the totals are sums of agency tallies, so a
report can be narrowed to the agencies a reader may see (a Sekda's region)
without going back to the rows.

Rates (see docs/cycle-report.md):

- ``completion_rate`` = verified / counted, where counted is every item of the
  cycle except superseded ones. Not-actionable items stay in the
  denominator, as in BPK's "% sesuai" figures: an item that could not be done
  is not a completed one.
- ``resolution_rate`` = (verified + not_actionable) / counted: the share that
  was settled one way or the other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Literal

from tindaklanjut.domain.calendar import zone_for_region
from tindaklanjut.domain.lifecycle import CLOSED_STATUSES, OWED_STATUSES, BpkStatus, Status, bpk_status, in_region

# Statuses in which the agency still owes work; a submitted item waits for the evaluator.

# Age buckets of overdue items: (key, first day, last day or None, label).
AGE_BUCKETS: tuple[tuple[str, int, int | None, str], ...] = (
    ("days_1_30", 1, 30, "1-30 hari"),
    ("days_31_60", 31, 60, "31-60 hari"),
    ("days_61_90", 61, 90, "61-90 hari"),
    ("days_over_90", 91, None, "> 90 hari"),
)

BPK_LABELS: dict[BpkStatus, str] = {
    BpkStatus.SESUAI: "Tindak lanjut telah sesuai dengan rekomendasi",
    BpkStatus.BELUM_SESUAI: "Tindak lanjut belum sesuai dengan rekomendasi",
    BpkStatus.BELUM_DITINDAKLANJUTI: "Rekomendasi belum ditindaklanjuti",
    BpkStatus.TIDAK_DAPAT_DITINDAKLANJUTI: "Rekomendasi tidak dapat ditindaklanjuti",
}


@dataclass(frozen=True, kw_only=True)
class ReportItem:
    """One recommendation of the cycle, as the report needs it."""

    agency_id: str
    agency_name: str
    agency_region: str
    unit_region: str
    status: Status
    had_action: bool
    issued_at: datetime
    due_date: date
    due_at: datetime
    verified_at: datetime | None = None
    score_change: float | None = None


@dataclass(kw_only=True)
class Tally:
    """Counts for one agency, region or the whole cycle."""

    total: int = 0                      # every item, superseded included
    superseded: int = 0                 # replaced by a revision: not counted anywhere below
    counted: int = 0                    # total - superseded: the denominator of the rates
    verified: int = 0
    not_actionable: int = 0
    lapsed: int = 0                     # lapsed, or lapsing with this close
    open: int = 0                       # still open (provisional reports only)
    owed: int = 0                       # the agency still owed work at the report time
    awaiting_verification: int = 0      # submitted, no evaluator decision at the report time
    completion_rate: float | None = None
    resolution_rate: float | None = None
    days_to_verification_total: float = 0.0
    days_to_verification_n: int = 0
    mean_days_to_verification: float | None = None
    bpk: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in BpkStatus})
    overdue: dict[str, int] = field(default_factory=lambda: {key: 0 for key, *_ in AGE_BUCKETS})

    def add(self, other: "Tally") -> None:
        for name in ("total", "superseded", "counted", "verified", "not_actionable", "lapsed", "open", "owed",
                     "awaiting_verification", "days_to_verification_total", "days_to_verification_n"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for key, count in other.bpk.items():
            self.bpk[key] += count
        for key, count in other.overdue.items():
            self.overdue[key] += count

    def finish(self) -> None:
        """Derive the rates and the mean from the counts."""
        self.completion_rate = _ratio(self.verified, self.counted)
        self.resolution_rate = _ratio(self.verified + self.not_actionable, self.counted)
        self.mean_days_to_verification = (round(self.days_to_verification_total / self.days_to_verification_n, 2)
                                          if self.days_to_verification_n else None)


@dataclass(kw_only=True)
class AgencyTally(Tally):
    agency_id: str
    agency_name: str
    region_code: str


@dataclass(kw_only=True)
class RegionTally(Tally):
    region_code: str


@dataclass(frozen=True, kw_only=True)
class BpkShare:
    status: str
    label: str
    count: int
    share: float | None


@dataclass(frozen=True, kw_only=True)
class AgeBucket:
    bucket: str
    label: str
    count: int


@dataclass(frozen=True, kw_only=True)
class ScoreGroup:
    n: int
    mean: float | None


@dataclass(frozen=True, kw_only=True)
class ScoreComparison:
    """Mean change of the indicator's score ratio (next cycle minus this one)."""

    verified: ScoreGroup
    lapsed: ScoreGroup
    difference: float | None            # verified.mean - lapsed.mean
    as_of: datetime


@dataclass(frozen=True, kw_only=True)
class CycleReport:
    framework: str
    cycle: str
    status: Literal["closed", "provisional"]
    as_of: datetime
    closed_by: str | None
    region: str | None                  # the scope, when narrowed to one region
    totals: Tally
    agencies: list[AgencyTally]
    regions: list[RegionTally]
    provinces: list[RegionTally]
    bpk: list[BpkShare]
    overdue: list[AgeBucket]
    score_change: ScoreComparison


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def final_status(item: ReportItem, closing: bool) -> Status:
    """The status the report counts: a close lapses everything not yet closed."""
    if closing and item.status not in CLOSED_STATUSES:
        return Status.LAPSED
    return item.status


def days_overdue(item: ReportItem, as_of: datetime) -> int:
    """Whole days past the due date in the unit's local time (0: not overdue)."""
    if as_of <= item.due_at:
        return 0
    return max((as_of.astimezone(zone_for_region(item.unit_region)).date() - item.due_date).days, 0)


def age_bucket(days: int) -> str | None:
    for key, first, last, _label in AGE_BUCKETS:
        if days >= first and (last is None or days <= last):
            return key
    return None


def _tally_item(tally: Tally, item: ReportItem, *, as_of: datetime, closing: bool) -> None:
    tally.total += 1
    status = final_status(item, closing)
    if status is Status.SUPERSEDED:
        tally.superseded += 1
        return
    tally.counted += 1
    if status is Status.VERIFIED:
        tally.verified += 1
        if item.verified_at is not None:
            tally.days_to_verification_total += (item.verified_at - item.issued_at).total_seconds() / 86400
            tally.days_to_verification_n += 1
    elif status is Status.NOT_ACTIONABLE:
        tally.not_actionable += 1
    elif status is Status.LAPSED:
        tally.lapsed += 1
    else:
        tally.open += 1
    tally.bpk[bpk_status(status, item.had_action).value] += 1
    if item.status is Status.SUBMITTED:
        tally.awaiting_verification += 1
    elif item.status in OWED_STATUSES:
        tally.owed += 1
        bucket = age_bucket(days_overdue(item, as_of))
        if bucket:
            tally.overdue[bucket] += 1


def tally_agencies(items: Iterable[ReportItem], *, as_of: datetime, closing: bool) -> list[AgencyTally]:
    """One tally per agency, ordered by region code and agency id."""
    agencies: dict[str, AgencyTally] = {}
    for item in items:
        tally = agencies.get(item.agency_id)
        if tally is None:
            tally = agencies[item.agency_id] = AgencyTally(agency_id=item.agency_id, agency_name=item.agency_name,
                                                           region_code=item.agency_region)
        _tally_item(tally, item, as_of=as_of, closing=closing)
    for tally in agencies.values():
        tally.finish()
    return sorted(agencies.values(), key=lambda a: (a.region_code, a.agency_id))


def compare_scores(items: Iterable[ReportItem], *, as_of: datetime, closing: bool) -> ScoreComparison:
    """Did the verified recommendations improve their indicator more than the lapsed ones?

    Only items whose indicator was scored again in a later cycle (score_change
    known) take part."""
    verified: list[float] = []
    lapsed: list[float] = []
    for item in items:
        if item.score_change is None:
            continue
        status = final_status(item, closing)
        if status is Status.VERIFIED:
            verified.append(item.score_change)
        elif status is Status.LAPSED:
            lapsed.append(item.score_change)
    v, lp = _mean(verified), _mean(lapsed)
    return ScoreComparison(verified=ScoreGroup(n=len(verified), mean=v), lapsed=ScoreGroup(n=len(lapsed), mean=lp),
                           difference=round(v - lp, 4) if v is not None and lp is not None else None, as_of=as_of)


def _sum_by(agencies: Iterable[AgencyTally], key: Callable[[AgencyTally], str]) -> list[RegionTally]:
    regions: dict[str, RegionTally] = {}
    for agency in agencies:
        code = key(agency)
        regions.setdefault(code, RegionTally(region_code=code)).add(agency)
    for region in regions.values():
        region.finish()
    return [regions[code] for code in sorted(regions)]


def province_of(region_code: str) -> str:
    return region_code.split(".")[0]


def assemble(*, framework: str, cycle: str, status: Literal["closed", "provisional"], as_of: datetime,
             closed_by: str | None, agencies: list[AgencyTally], score_change: ScoreComparison,
             region: str | None = None) -> CycleReport:
    """Build the report from agency tallies: regions, provinces and totals are their sums."""
    totals = Tally()
    for agency in agencies:
        totals.add(agency)
    totals.finish()
    bpk = [BpkShare(status=s.value, label=BPK_LABELS[s], count=totals.bpk[s.value],
                    share=_ratio(totals.bpk[s.value], totals.counted)) for s in BpkStatus]
    overdue = [AgeBucket(bucket=key, label=label, count=totals.overdue[key]) for key, _f, _l, label in AGE_BUCKETS]
    return CycleReport(framework=framework, cycle=cycle, status=status, as_of=as_of, closed_by=closed_by,
                       region=region, totals=totals, agencies=agencies,
                       regions=_sum_by(agencies, lambda a: a.region_code),
                       provinces=_sum_by(agencies, lambda a: province_of(a.region_code)),
                       bpk=bpk, overdue=overdue, score_change=score_change)


def build_report(items: Iterable[ReportItem], *, framework: str, cycle: str, as_of: datetime,
                 closing: bool, closed_by: str | None = None, region: str | None = None) -> CycleReport:
    """The report of one framework and cycle at `as_of`.

    `closing`: the cycle closes now, so every item not yet closed counts as
    lapsed; otherwise the report is provisional and such items count as open.
    `region` only labels a report whose items were already restricted to it.
    """
    items = list(items)
    return assemble(framework=framework, cycle=cycle, status="closed" if closing else "provisional", as_of=as_of,
                    closed_by=closed_by, agencies=tally_agencies(items, as_of=as_of, closing=closing),
                    score_change=compare_scores(items, as_of=as_of, closing=closing), region=region)


@dataclass(frozen=True, kw_only=True)
class StoredReport:
    """A closed cycle's report as stored at the close (JSON of the wire shape)."""

    framework: str
    cycle: str
    closed_at: datetime
    closed_by: str
    report: dict


def restore(stored: dict, *, score_change: ScoreComparison, region: str | None = None,
            agency_id: str | None = None) -> CycleReport:
    """A stored report (the JSON written at close) with a fresh score
    comparison, optionally restricted to the agencies of one region or to one agency."""
    agencies = [agency_tally_from_dict(a) for a in stored["agencies"]]
    if region is not None:
        agencies = [a for a in agencies if in_region(a.region_code, region)]
    if agency_id is not None:
        agencies = [a for a in agencies if a.agency_id == agency_id]
    as_of = stored["as_of"]
    return assemble(framework=stored["framework"], cycle=stored["cycle"], status=stored["status"],
                    as_of=datetime.fromisoformat(as_of) if isinstance(as_of, str) else as_of,
                    closed_by=stored.get("closed_by"), agencies=agencies, score_change=score_change, region=region)


def agency_tally_from_dict(data: dict) -> AgencyTally:
    """Rebuild a stored agency tally (unknown keys are ignored)."""
    names = {f.name for f in fields(AgencyTally)}
    values = {k: v for k, v in data.items() if k in names}
    values["bpk"] = {**{s.value: 0 for s in BpkStatus}, **values.get("bpk", {})}
    values["overdue"] = {**{key: 0 for key, *_ in AGE_BUCKETS}, **values.get("overdue", {})}
    return AgencyTally(**values)
