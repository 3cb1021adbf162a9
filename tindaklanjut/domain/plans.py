"""Rencana aksi: for a saran whose work needs a budget or construction (a
catalogue flag), the agency first submits an action plan (milestones with the
person responsible and a target date, and where the money comes from); the
evaluator or verifier accepts it or returns it. Once accepted, the item's
deadline follows the plan: the next open milestone's target date, so the
reminder ladder runs once per milestone; never beyond the end of the cycle's
follow-up window.

A plan's own deadline avoids the year-end closing weeks (when budgets close
and offices take cuti bersama): one that would fall between 15 December and
10 January moves to the first working day after 10 January."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from tindaklanjut.domain.calendar import next_working_day
from tindaklanjut.domain.lifecycle import DomainError

PLAN_DAYS = 30                       # calendar days to submit the plan after the saran is issued
MAX_MILESTONES = 12
YEAR_END_FROM = (12, 15)             # month, day: budgets close, cuti bersama
YEAR_END_UNTIL = (1, 10)


class BudgetSource(StrEnum):
    APBD_PERUBAHAN = "apbd_perubahan"
    APBD_BERIKUTNYA = "apbd_tahun_berikutnya"
    APBN = "apbn"
    DAK = "dak"
    TANPA_ANGGARAN = "tanpa_anggaran"
    LAINNYA = "lainnya"


BUDGET_LABELS = {BudgetSource.APBD_PERUBAHAN: "APBD Perubahan (APBD-P)",
                 BudgetSource.APBD_BERIKUTNYA: "APBD tahun berikutnya", BudgetSource.APBN: "APBN / DIPA",
                 BudgetSource.DAK: "Dana Alokasi Khusus (DAK)", BudgetSource.TANPA_ANGGARAN: "Tanpa anggaran tambahan",
                 BudgetSource.LAINNYA: "Sumber lain"}


class PlanStatus(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    RETURNED = "returned"


@dataclass
class Milestone:
    seq: int
    description: str
    responsible: str
    target_date: date
    done_at: datetime | None = None
    done_by: str | None = None


@dataclass
class ActionPlan:
    budget_source: BudgetSource
    milestones: list[Milestone]
    submitted_by: str
    submitted_at: datetime
    status: PlanStatus = PlanStatus.SUBMITTED
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_comment: str | None = None
    history: list[dict] = field(default_factory=list)      # earlier returned plans, for the record

    @classmethod
    def draft(cls, *, budget_source: BudgetSource, milestones: list[tuple[str, str, date]], submitted_by: str,
              submitted_at: datetime, today: date, last_day: date) -> "ActionPlan":
        """Check a plan as the agency writes it: 1 to 12 milestones in date order, none in the past,
        the last one by the end of the follow-up window."""
        steps = [(d.strip(), r.strip(), t) for d, r, t in milestones]
        if not 1 <= len(steps) <= MAX_MILESTONES:
            raise DomainError(f"rencana aksi memuat 1 sampai {MAX_MILESTONES} tahapan")
        for n, (description, responsible, target) in enumerate(steps, start=1):
            if not description or not responsible:
                raise DomainError(f"tahap {n}: uraian dan penanggung jawab wajib diisi")
            if len(description) > 1000 or len(responsible) > 200:
                raise DomainError(f"tahap {n}: uraian paling panjang 1000 dan penanggung jawab 200 karakter")
            if target < today:
                raise DomainError(f"tahap {n}: target {target.isoformat()} sudah lewat")
        targets = [t for _, _, t in steps]
        if targets != sorted(targets):
            raise DomainError("tahapan harus berurutan menurut tanggal target")
        if targets[-1] > last_day:
            raise DomainError(f"tahap terakhir melewati akhir masa tindak lanjut ({last_day.isoformat()})")
        return cls(budget_source=budget_source, submitted_by=submitted_by, submitted_at=submitted_at,
                   milestones=[Milestone(seq=n, description=d, responsible=r, target_date=t)
                               for n, (d, r, t) in enumerate(steps, start=1)])

    @property
    def next_open(self) -> Milestone | None:
        return next((m for m in self.milestones if m.done_at is None), None)

    @property
    def deadline(self) -> date:
        """The date the item is due under this plan: the next open milestone, else the last one."""
        found = self.next_open
        return (found or self.milestones[-1]).target_date

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict) -> "ActionPlan":
        return cls(budget_source=BudgetSource(raw["budget_source"]),
                   milestones=[Milestone(seq=m["seq"], description=m["description"], responsible=m["responsible"],
                                         target_date=_date(m["target_date"]), done_at=_instant(m.get("done_at")),
                                         done_by=m.get("done_by")) for m in raw["milestones"]],
                   submitted_by=raw["submitted_by"], submitted_at=_instant(raw["submitted_at"]),
                   status=PlanStatus(raw.get("status", "submitted")), decided_by=raw.get("decided_by"),
                   decided_at=_instant(raw.get("decided_at")), decision_comment=raw.get("decision_comment"),
                   history=list(raw.get("history", [])))


def _date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _instant(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def plan_due_date(issued_on: date) -> date:
    """When the plan is due: PLAN_DAYS after issue, moved past the year-end closing weeks."""
    due = issued_on + timedelta(days=PLAN_DAYS)
    if (due.month, due.day) >= YEAR_END_FROM or (due.month, due.day) <= YEAR_END_UNTIL:
        year = due.year + 1 if due.month == 12 else due.year
        due = date(year, *YEAR_END_UNTIL) + timedelta(days=1)
    return next_working_day(due)
