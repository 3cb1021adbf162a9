"""Reminders and escalation: the ladder as data, and the pure rules that
decide who is reminded of what at a given instant.

No I/O. The sweep (service layer) reads the current state of each
recommendation that may have work due, asks `plan_reminders` what to deliver,
and groups the result into one digest per recipient per local day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from importlib.resources import files
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, Field, field_validator, model_validator

from tindaklanjut.domain.calendar import (ZONE_LABELS, _province_zones, is_working_day, next_working_day, previous_working_day,
                                          zone_for_region)
from tindaklanjut.domain.frameworks import produces
from tindaklanjut.domain.model import Status

# Reminders run while the agency still has to act: submitted items wait for
# the evaluator, the others are finished.
REMINDED_STATUSES = frozenset({Status.OPEN, Status.IN_PROGRESS, Status.CHANGES_REQUESTED})


class ContactRole(StrEnum):
    UNIT_HEAD = "unit_head"
    ORGANISASI = "organisasi"
    SEKDA = "sekda"
    INSPEKTORAT = "inspektorat"
    KEPALA_DAERAH = "kepala_daerah"


ROLE_LABELS = {
    ContactRole.UNIT_HEAD: "Kepala Unit Pelayanan",
    ContactRole.ORGANISASI: "Bagian Organisasi",
    ContactRole.SEKDA: "Sekretaris Daerah",
    ContactRole.INSPEKTORAT: "Inspektorat",
    ContactRole.KEPALA_DAERAH: "Kepala Daerah",
}
# The escalation ladder keeps its levels; the office at each level is named
# by the kind of agency (a ministry has a Sekretaris Jenderal, not a Sekda).
ROLE_LABELS_BY_KIND: dict[str, dict[ContactRole, str]] = {
    "pemprov": {ContactRole.ORGANISASI: "Biro Organisasi", ContactRole.SEKDA: "Sekretaris Daerah Provinsi",
                ContactRole.INSPEKTORAT: "Inspektorat Provinsi", ContactRole.KEPALA_DAERAH: "Gubernur"},
    "pemkab": {ContactRole.ORGANISASI: "Bagian Organisasi", ContactRole.SEKDA: "Sekretaris Daerah",
               ContactRole.INSPEKTORAT: "Inspektorat", ContactRole.KEPALA_DAERAH: "Bupati"},
    "pemkot": {ContactRole.ORGANISASI: "Bagian Organisasi", ContactRole.SEKDA: "Sekretaris Daerah",
               ContactRole.INSPEKTORAT: "Inspektorat", ContactRole.KEPALA_DAERAH: "Wali Kota"},
    "kementerian": {ContactRole.ORGANISASI: "Biro Organisasi", ContactRole.SEKDA: "Sekretaris Jenderal",
                    ContactRole.INSPEKTORAT: "Inspektorat Jenderal", ContactRole.KEPALA_DAERAH: "Menteri"},
    "lembaga": {ContactRole.ORGANISASI: "Biro Organisasi", ContactRole.SEKDA: "Sekretaris Utama",
                ContactRole.INSPEKTORAT: "Inspektorat Utama", ContactRole.KEPALA_DAERAH: "Kepala Lembaga"},
    "polres": {ContactRole.ORGANISASI: "Bagian Perencanaan", ContactRole.SEKDA: "Wakil Kepala Kepolisian Resor",
               ContactRole.INSPEKTORAT: "Seksi Pengawasan", ContactRole.KEPALA_DAERAH: "Kepala Kepolisian Resor"},
    "kantor_pertanahan": {ContactRole.ORGANISASI: "Subbagian Umum", ContactRole.SEKDA: "Kepala Kantor Pertanahan",
                          ContactRole.INSPEKTORAT: "Kantor Wilayah BPN",
                          ContactRole.KEPALA_DAERAH: "Kepala Kantor Wilayah BPN"},
}


# Kind-specific names accepted for the ladder's roles in a contacts file.
ROLE_ALIASES: dict[str, ContactRole] = {
    "kepala_unit": ContactRole.UNIT_HEAD, "biro_organisasi": ContactRole.ORGANISASI,
    "bagian_organisasi": ContactRole.ORGANISASI, "sekretaris_daerah": ContactRole.SEKDA,
    "sekjen": ContactRole.SEKDA, "sekretaris_jenderal": ContactRole.SEKDA, "sestama": ContactRole.SEKDA,
    "sekretaris_utama": ContactRole.SEKDA, "irjen": ContactRole.INSPEKTORAT,
    "inspektorat_jenderal": ContactRole.INSPEKTORAT, "inspektorat_utama": ContactRole.INSPEKTORAT,
    "gubernur": ContactRole.KEPALA_DAERAH, "bupati": ContactRole.KEPALA_DAERAH, "wali_kota": ContactRole.KEPALA_DAERAH,
    "walikota": ContactRole.KEPALA_DAERAH, "menteri": ContactRole.KEPALA_DAERAH,
    "kepala_lembaga": ContactRole.KEPALA_DAERAH, "kapolres": ContactRole.KEPALA_DAERAH,
}


def contact_role(name: str) -> ContactRole:
    """A role as written in a contacts file: the ladder's own name or a kind-specific alias."""
    key = name.strip().lower().replace(" ", "_").replace("-", "_")
    return ROLE_ALIASES[key] if key in ROLE_ALIASES else ContactRole(key)


def role_label(role: str, agency_kind: str | None = None) -> str:
    """The office's name at this ladder level for this kind of agency."""
    role = ContactRole(role)
    return ROLE_LABELS_BY_KIND.get(agency_kind or "", {}).get(role, ROLE_LABELS[role])


class Channel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


# --------------------------------------------------------------------- policy

class StepSpec(BaseModel):
    id: str = Field(min_length=1)
    offset_days: int
    roles: list[ContactRole] = Field(min_length=1)
    escalation_level: int | None = Field(default=None, ge=1)


class RepeatSpec(BaseModel):
    after_days: int = Field(ge=1)
    every_days: int = Field(ge=1)
    roles: list[ContactRole] = Field(min_length=1)


@dataclass(frozen=True)
class ScheduledStep:
    """One step of one recommendation's ladder, against one due date."""

    id: str
    offset_days: int
    roles: tuple[ContactRole, ...]
    escalation_level: int | None
    fire_day: date
    fire_at: datetime
    due_date: date

    @property
    def key(self) -> str:
        """Identity of the step: a changed deadline yields new keys (a new ladder)."""
        return f"{self.id}@{self.due_date.isoformat()}"


@dataclass(frozen=True)
class Window:
    """Whether digests may go out now in one zone, and when they next may."""

    open: bool
    day: date            # the local day `now` falls on
    next_open: datetime  # `now` when open, else the next opening


class ReminderPolicy(BaseModel):
    send_from: time
    send_until: time
    steps: list[StepSpec] = Field(min_length=1)
    repeat: RepeatSpec | None = None

    @field_validator("steps")
    @classmethod
    def _ordered_unique(cls, steps: list[StepSpec]) -> list[StepSpec]:
        ids = [s.id for s in steps]
        if len(set(ids)) != len(ids):
            raise ValueError("step ids must be unique")
        offsets = [s.offset_days for s in steps]
        if offsets != sorted(offsets) or len(set(offsets)) != len(offsets):
            raise ValueError("step offsets must be strictly increasing")
        return steps

    @model_validator(mode="after")
    def _window(self) -> "ReminderPolicy":
        if self.send_from >= self.send_until:
            raise ValueError("send_from must be before send_until")
        if self.repeat and self.repeat.after_days < self.steps[-1].offset_days:
            raise ValueError("the weekly repeat starts after the last step")
        return self

    # A ladder for a due date is the same for every recommendation of a zone.
    def ladder(self, due_date: date, *, zone: ZoneInfo, cycle_end: date | None) -> list[ScheduledStep]:
        return list(_ladder(self, due_date, zone.key, cycle_end))

    def window(self, now: datetime, zone: ZoneInfo) -> Window:
        return _window(self, now, zone.key)

    def _compute_window(self, now: datetime, zone: ZoneInfo) -> Window:
        local = now.astimezone(zone)
        day = local.date()
        if is_working_day(day) and self.send_from <= local.time() < self.send_until:
            return Window(open=True, day=day, next_open=now)
        if is_working_day(day) and local.time() < self.send_from:
            return Window(open=False, day=day, next_open=datetime.combine(day, self.send_from, tzinfo=zone))
        return Window(open=False, day=day, next_open=self.opening_after(day, zone))

    def opening_after(self, day: date, zone: ZoneInfo) -> datetime:
        """The first opening on a working day after `day`."""
        return datetime.combine(next_working_day(day + timedelta(days=1)), self.send_from, tzinfo=zone)

    def __hash__(self) -> int:  # used as a cache key
        return id(self)


@lru_cache(maxsize=256)
def _window(policy: ReminderPolicy, now: datetime, zone_key: str) -> Window:
    return policy._compute_window(now, ZoneInfo(zone_key))


def fire_day(due_date: date, offset_days: int) -> date:
    """Before the deadline a step moves back to a working day, from the due
    day on it moves forward."""
    day = due_date + timedelta(days=offset_days)
    return previous_working_day(day) if offset_days < 0 else next_working_day(day)


@lru_cache(maxsize=4096)
def _ladder(policy: ReminderPolicy, due_date: date, zone_key: str, cycle_end: date | None
            ) -> tuple[ScheduledStep, ...]:
    zone = ZoneInfo(zone_key)
    steps = []
    for spec in policy.steps:
        day = fire_day(due_date, spec.offset_days)
        steps.append(ScheduledStep(id=spec.id, offset_days=spec.offset_days, roles=tuple(spec.roles),
                                   escalation_level=spec.escalation_level, fire_day=day,
                                   fire_at=datetime.combine(day, policy.send_from, tzinfo=zone), due_date=due_date))
    repeat = policy.repeat
    if repeat and cycle_end is not None:
        offset = repeat.after_days + repeat.every_days
        while (day := fire_day(due_date, offset)) <= cycle_end:
            steps.append(ScheduledStep(id=f"T+{offset}", offset_days=offset, roles=tuple(repeat.roles),
                                       escalation_level=None, fire_day=day,
                                       fire_at=datetime.combine(day, policy.send_from, tzinfo=zone),
                                       due_date=due_date))
            offset += repeat.every_days
    return tuple(steps)


def load_reminder_policy(raw: dict | None = None) -> ReminderPolicy:
    """Parse and validate the packaged ladder (or a given one)."""
    if raw is None:
        raw = yaml.safe_load(files("tindaklanjut.data").joinpath("reminders.yaml").read_text("utf-8"))
    return ReminderPolicy.model_validate(raw)


def all_zones() -> list[ZoneInfo]:
    default, provinces = _province_zones()
    return [ZoneInfo(name) for name in sorted({default, *provinces.values()})]


# ------------------------------------------------------------------- contacts

@dataclass(frozen=True)
class Recipient:
    """Where a digest goes: one e-mail address or one webhook URL."""

    channel: Channel
    address: str
    name: str

    @property
    def key(self) -> str:
        return f"{self.channel.value}:{self.address}"


@dataclass(frozen=True)
class Contact:
    agency_id: str
    unit_id: str          # "" = the whole agency
    role: ContactRole
    name: str
    email: str | None = None
    webhook_url: str | None = None

    @property
    def recipients(self) -> list[Recipient]:
        found = []
        if self.email:
            found.append(Recipient(Channel.EMAIL, self.email.lower(), self.name))
        if self.webhook_url:
            found.append(Recipient(Channel.WEBHOOK, self.webhook_url, self.name))
        return found


class ContactBook:
    """Who holds a role for a unit: a contact for the unit itself first, else
    the agency-wide one."""

    def __init__(self, contacts: Iterable[Contact] = ()) -> None:
        self._by_key: dict[tuple[str, str, ContactRole], Contact] = {}
        for contact in contacts:
            self.add(contact)

    def add(self, contact: Contact) -> None:
        self._by_key[(contact.agency_id, contact.unit_id, contact.role)] = contact

    def resolve(self, agency_id: str, unit_id: str, role: ContactRole) -> Contact | None:
        return self._by_key.get((agency_id, unit_id, role)) or self._by_key.get((agency_id, "", role))


# ------------------------------------------------------------------- planning

@dataclass(slots=True)
class ReminderTarget:
    """A recommendation as the reminder planner sees it: its current state.
    (Read model built 10,000 times per busy sweep: slots, not frozen, for speed.)"""

    recommendation_id: str
    unit_id: str
    agency_id: str
    region_code: str
    status: str
    due_at: datetime
    cycle_end: date | None

    @property
    def zone(self) -> ZoneInfo:
        return zone_for_region(self.region_code)

    @property
    def due_date(self) -> date:
        return self.due_at.astimezone(self.zone).date()


@dataclass(frozen=True)
class PlannedDelivery:
    recommendation_id: str
    step: ScheduledStep
    recipient: Recipient
    roles: tuple[ContactRole, ...]
    day: date        # the recipient's digest day (local)
    zone: str


@dataclass(frozen=True)
class PlannedEscalation:
    recommendation_id: str
    step: ScheduledStep
    notified: tuple[tuple[ContactRole, str], ...]   # (role, contact name) of who is told


@dataclass
class RecommendationPlan:
    recommendation_id: str
    stop: bool = False                       # closed: no more reminders
    deliveries: list[PlannedDelivery] = field(default_factory=list)
    escalations: list[PlannedEscalation] = field(default_factory=list)
    unroutable: list[tuple[str, ContactRole]] = field(default_factory=list)   # (step id, role) without contact
    next_at: datetime | None = None          # when to look at this recommendation again
    deferral: datetime | None = None         # when a delivery refused today may go out


def plan_reminders(target: ReminderTarget, *, now: datetime, policy: ReminderPolicy, contacts: ContactBook,
                   delivered: set[tuple[str, str]], escalated: set[str]) -> RecommendationPlan:
    """What to deliver for one recommendation at `now`, derived from its current
    status and deadline. `delivered` holds (step key, recipient key) pairs
    already recorded, `escalated` the step keys already announced."""
    plan = RecommendationPlan(target.recommendation_id)
    if target.status not in REMINDED_STATUSES:
        plan.stop = True
        return plan
    zone = target.zone
    ladder = policy.ladder(target.due_date, zone=zone, cycle_end=target.cycle_end)
    window = policy.window(now, zone)
    pending = False
    for step in ladder:
        if step.fire_at > now:
            plan.next_at = step.fire_at
            break
        by_recipient: dict[str, tuple[Recipient, list[ContactRole]]] = {}
        notified = []
        for role in step.roles:
            contact = contacts.resolve(target.agency_id, target.unit_id, role)
            if contact is None or not contact.recipients:
                plan.unroutable.append((step.id, role))
                continue
            notified.append((role, contact.name))
            for recipient in contact.recipients:
                by_recipient.setdefault(recipient.key, (recipient, []))[1].append(role)
        todo = [(r, tuple(roles)) for key, (r, roles) in by_recipient.items() if (step.key, key) not in delivered]
        announce = step.escalation_level is not None and step.key not in escalated
        if not todo and not announce:
            continue
        if not window.open:
            pending = True
            continue
        plan.deliveries.extend(PlannedDelivery(target.recommendation_id, step, recipient, roles, window.day, zone.key)
                               for recipient, roles in todo)
        if announce:
            plan.escalations.append(PlannedEscalation(target.recommendation_id, step, tuple(notified)))
    if pending:
        plan.next_at = window.next_open if plan.next_at is None else min(plan.next_at, window.next_open)
    if plan.deliveries:
        # A recipient whose digest for today already went out gets it on the next working day.
        plan.deferral = policy.opening_after(window.day, zone)
    return plan


def group_by_digest(deliveries: Iterable[PlannedDelivery]) -> dict[tuple[str, date], list[PlannedDelivery]]:
    """One digest per recipient per local day, however many items and steps."""
    groups: dict[tuple[str, date], list[PlannedDelivery]] = defaultdict(list)
    for delivery in deliveries:
        groups[(delivery.recipient.key, delivery.day)].append(delivery)
    return dict(groups)


# -------------------------------------------------------------------- digests

@dataclass(frozen=True)
class DigestLine:
    """One delivery as stored, joined with the recommendation's current state."""

    delivery_id: int
    recommendation_id: str
    step_id: str
    step_key: str
    offset_days: int
    roles: tuple[str, ...]
    status: str
    title: str
    unit_id: str
    unit_name: str
    agency_id: str
    region_code: str
    indicator_code: str | None
    priority: str
    due_at: datetime
    agency_kind: str | None = None
    framework: str = ""
    cycle: str = ""
    action: str = ""
    evidence: str = ""
    evaluator: str | None = None
    report_ref: str | None = None


@dataclass(frozen=True)
class DigestItem:
    recommendation_id: str
    title: str
    unit_id: str
    unit_name: str
    indicator_code: str | None
    priority: str
    due_date: date
    due_at: datetime
    zone_label: str
    days_overdue: int          # negative: days left
    step_id: str
    roles: tuple[str, ...]
    escalation_roles: tuple[str, ...]
    delivery_ids: tuple[int, ...]
    steps: tuple[str, ...]
    agency_kind: str | None = None
    framework: str = ""
    cycle: str = ""
    action: str = ""
    evidence: str = ""
    evaluator: str | None = None
    report_ref: str | None = None

    @property
    def produces(self) -> str:
        """The framework's word for the item: saran perbaikan, rekomendasi perbaikan..."""
        return produces(self.framework)

    @property
    def state_text(self) -> str:
        if self.days_overdue > 0:
            return f"terlambat {self.days_overdue} hari"
        if self.days_overdue == 0:
            return "jatuh tempo hari ini"
        return f"jatuh tempo {-self.days_overdue} hari lagi"


@dataclass(frozen=True)
class Digest:
    uid: str
    channel: Channel
    address: str
    recipient_name: str
    day: date
    items: tuple[DigestItem, ...]

    @property
    def overdue(self) -> int:
        return sum(1 for item in self.items if item.days_overdue > 0)

    @property
    def produces(self) -> str:
        """One word for every item when they share it, else the neutral `butir perbaikan`."""
        words = {item.produces for item in self.items}
        return words.pop() if len(words) == 1 else "butir perbaikan"

    @property
    def escalated_only(self) -> bool:
        """Every item reaches this recipient as an escalation (a Sekda, an inspectorate, a head of
        region): they are asked to chase and decide, not to record actions or upload evidence."""
        return bool(self.items) and all(item.escalation_roles for item in self.items)


# A digest whose channel failed for a passing reason (server down, timeout) goes out again in a later
# sweep, after a growing pause; a refusal for good, or too many claims, ends it as `failed`.
MAX_DIGEST_CLAIMS = 5
RETRY_FIRST = timedelta(minutes=15)
RETRY_MAX = timedelta(hours=6)


def retry_after(claims: int, first: timedelta = RETRY_FIRST) -> timedelta:
    """The pause before the next claim of a digest claimed `claims` times: `first` (15 min), then twice
    as long each time (30, 60...), at most 6 h (or `first`, if that is longer)."""
    return min(first * 2 ** min(max(0, claims - 1), 10), max(RETRY_MAX, first))


def digest_items(lines: Sequence[DigestLine], day: date) -> tuple[list[DigestItem], list[int]]:
    """Fold the stored deliveries of one digest into one item per
    recommendation. Lines whose recommendation has closed, or whose deadline
    has changed since they were planned, are dropped (their ids returned)."""
    dropped: list[int] = []
    by_rec: dict[str, list[DigestLine]] = defaultdict(list)
    for line in lines:
        zone = zone_for_region(line.region_code)
        current_due = line.due_at.astimezone(zone).date()
        if line.status not in REMINDED_STATUSES or not line.step_key.endswith(f"@{current_due.isoformat()}"):
            dropped.append(line.delivery_id)
            continue
        by_rec[line.recommendation_id].append(line)
    items = []
    for rec_id, rec_lines in by_rec.items():
        latest = max(rec_lines, key=lambda line: line.offset_days)
        zone = zone_for_region(latest.region_code)
        due_date = latest.due_at.astimezone(zone).date()
        roles = tuple(dict.fromkeys(role for line in rec_lines for role in line.roles))
        items.append(DigestItem(
            recommendation_id=rec_id, title=latest.title, unit_id=latest.unit_id, unit_name=latest.unit_name,
            indicator_code=latest.indicator_code, priority=latest.priority, due_date=due_date,
            due_at=latest.due_at.astimezone(zone), zone_label=ZONE_LABELS.get(zone.key, zone.key),
            days_overdue=(day - due_date).days, step_id=latest.step_id, roles=roles,
            escalation_roles=tuple(r for r in roles if r != ContactRole.UNIT_HEAD),
            delivery_ids=tuple(line.delivery_id for line in rec_lines),
            steps=tuple(line.step_id for line in sorted(rec_lines, key=lambda line: line.offset_days)),
            agency_kind=latest.agency_kind, framework=latest.framework, cycle=latest.cycle, action=latest.action,
            evidence=latest.evidence, evaluator=latest.evaluator, report_ref=latest.report_ref))
    items.sort(key=lambda item: (-item.days_overdue, item.unit_name, item.title, item.recommendation_id))
    return items, dropped
