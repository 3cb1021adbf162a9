"""In-memory stand-ins for the repositories and unit of work (unit tests only;
the same handlers run against real databases in tests/integration). Each
subclasses the abstract class the SQL one implements, so they cannot drift."""

from __future__ import annotations

import json
from dataclasses import replace

from tindaklanjut.domain.lifecycle import ConcurrentChange, RequestStatus
from tindaklanjut.domain.model import Assessment, Recommendation
from tindaklanjut.ports.messages import OutboundMessage
from tindaklanjut.ports.repositories import (AbstractAssessments, AbstractAuditTrail, AbstractDeadLetters,
                                                     AbstractDirectory, AbstractEvidence, AbstractOutbox,
                                                     AbstractProcessedEvents, AbstractRecommendations,
                                                     AbstractRequests, AbstractUsers, AbstractCycles,
                                                     CycleAlreadyClosed)
from tindaklanjut.service_layer.unit_of_work import AbstractUnitOfWork

from tests.unit.fake_reminders import FakeReminderStore


class FakeProcessed(AbstractProcessedEvents):
    def __init__(self):
        self.rows: dict[tuple[str, str], dict] = {}
        self.preloaded: set[tuple[str, str]] = set()

    async def preload(self, keys):
        self.preloaded.update(keys)      # what the batch asked for, as the SQL store reads it

    async def seen(self, source, event_id):
        return (source, event_id) in self.rows

    def add(self, *, source, event_id, event_type, outcome, at):
        self.rows[(source, event_id)] = {"event_type": event_type, "outcome": outcome, "at": at, "redeliveries": 0}

    async def count_redelivery(self, source, event_id):
        self.rows[(source, event_id)]["redeliveries"] += 1


class FakeDirectory(AbstractDirectory):
    """Newest news only, like the SQL directory."""

    def __init__(self):
        self.units = {}
        self.written_at = {}

    async def preload(self, mentions):
        for unit, published_at in mentions:
            await self.upsert_unit(unit, published_at)

    async def upsert_unit(self, unit, published_at):
        if unit.id not in self.written_at or published_at >= self.written_at[unit.id]:
            self.units[unit.id], self.written_at[unit.id] = unit, published_at

    async def agency_region(self, agency_id):
        found = [u for u in self.units.values() if u.agency.id == agency_id]
        return (found[0].region_code.split(".")[0] if found[0].agency.kind == "pemprov" else found[0].region_code) \
            if found else None

    async def unit_region(self, unit_id):
        return self.units[unit_id].region_code if unit_id in self.units else None


class FakeAssessments(AbstractAssessments):
    def __init__(self):
        self.rows: dict[tuple[str, int], Assessment] = {}
        self.payloads: dict[tuple[str, int], dict] = {}
        self.preloaded: set[str] = set()

    async def preload(self, assessment_ids):
        self.preloaded.update(assessment_ids)

    async def latest_revision(self, assessment_id):
        revisions = [rev for (aid, rev) in self.rows if aid == assessment_id]
        return max(revisions) if revisions else None

    def add(self, assessment, payload, received_at):
        self.rows[(assessment.assessment_id, assessment.revision)] = assessment
        self.payloads[(assessment.assessment_id, assessment.revision)] = json.loads(payload)


class FakeRecommendations(AbstractRecommendations):
    def __init__(self):
        self.rows: dict[str, Recommendation] = {}
        self.seen: list[Recommendation] = []
        self.preloaded_units: set[str] = set()
        self.saved: list[tuple[Recommendation, object]] = []

    def add(self, rec):
        self.seen.append(rec)
        self.rows[rec.id] = rec

    async def for_assessment(self, assessment_id):
        return [replace(r, events=[]) for r in self.rows.values() if r.assessment_id == assessment_id]

    async def open_in_earlier_cycles(self, unit_id, cycle):
        return [replace(r, events=[]) for r in self.rows.values()
                if r.unit_id == unit_id and r.cycle < cycle and r.indicator_code and not r.is_closed]

    async def preload_units(self, unit_ids):
        self.preloaded_units.update(unit_ids)

    async def record_next_cycle_scores(self, unit_id, cycle, assessment_id, ratios):
        self.next_cycle_scores = getattr(self, "next_cycle_scores", []) + [(unit_id, cycle, assessment_id, ratios)]

    async def apply_next_cycle_scores(self):
        return 0

    async def get(self, recommendation_id):
        found = self.rows.get(recommendation_id)
        return replace(found, events=[]) if found else None

    async def save(self, rec, at):
        stored = self.rows.get(rec.id)
        if stored is not None and stored is not rec and stored.version != rec.version:
            raise ConcurrentChange()
        self.seen.append(rec)
        self.saved.append((rec, at))     # the SQL store stamps updated_at with `at`
        rec.version += 1
        self.rows[rec.id] = rec


class FakeOutbox(AbstractOutbox):
    def __init__(self):
        self.messages: list[OutboundMessage] = []
        self.times: list = []            # when each was written (the SQL outbox's created_at)
        self.added = 0

    def add(self, message, at):
        self.messages.append(message)
        self.times.append(at)
        self.added += 1


class FakeDeadLetters(AbstractDeadLetters):
    def __init__(self):
        self.rows: list[dict] = []

    async def exists(self, *, topic, partition, offset, sha256):
        return any(r["topic"] == topic and r["partition"] == partition and r["offset"] == offset
                   and r["sha256"] == sha256 for r in self.rows)

    def add(self, **row):
        self.rows.append(row)


class FakeAuditTrail(AbstractAuditTrail):
    def __init__(self):
        self.entries = []

    def add(self, event):
        self.entries.append(event)


class FakeEvidence(AbstractEvidence):
    def __init__(self):
        self.versions = []

    async def next_version(self, recommendation_id):
        return 1 + sum(1 for v in self.versions if v.recommendation_id == recommendation_id)

    async def count(self, recommendation_id):
        return sum(1 for v in self.versions if v.recommendation_id == recommendation_id)

    def add(self, version):
        self.versions.append(version)


class FakeRequests(AbstractRequests):
    def __init__(self):
        self.rows = {}

    async def get(self, request_id):
        found = self.rows.get(request_id)
        return replace(found) if found else None

    async def pending_for(self, recommendation_id, kind):
        return next((r for r in self.rows.values() if r.recommendation_id == recommendation_id and r.kind is kind
                     and r.status is RequestStatus.PENDING), None)

    async def save(self, request):
        stored = self.rows.get(request.id)
        if stored is not None and request.status is not RequestStatus.PENDING \
                and stored.status is not RequestStatus.PENDING:
            raise ConcurrentChange("permohonan ini baru saja diputuskan oleh pengguna lain")
        self.rows[request.id] = replace(request)


class FakeUsers(AbstractUsers):
    def __init__(self):
        self.rows = {}
        self.sessions = {}

    async def get(self, name):
        found = self.rows.get(name)
        return replace(found) if found else None

    async def by_token_hash(self, token_hash):
        return next((replace(u) for u in self.rows.values() if u.token_hash == token_hash), None)

    async def all(self):
        return [replace(u) for _, u in sorted(self.rows.items())]

    def add(self, user):
        self.rows[user.name] = replace(user)

    async def save(self, user):
        self.rows[user.name] = replace(user)

    def open_session(self, session):
        self.sessions[session.token_hash] = session

    async def find_session(self, token_hash):
        return self.sessions.get(token_hash)

    async def close_session(self, token_hash):
        self.sessions.pop(token_hash, None)

    async def close_sessions_of(self, name):
        self.sessions = {k: s for k, s in self.sessions.items() if s.user_name != name}


class FakeCycles(AbstractCycles):
    """Cycles over the fake recommendations and assessments."""

    def __init__(self, recommendations, assessments, directory):
        self._recommendations, self._assessments, self._directory = recommendations, assessments, directory
        self.reports = {}

    async def recommendations(self, framework, cycle, *, region=None, agency_id=None):
        from tindaklanjut.domain.lifecycle import in_region
        from tindaklanjut.domain.report import ReportItem

        found = []
        for rec in sorted(self._recommendations.rows.values(), key=lambda r: r.id):
            if (rec.framework, rec.cycle) != (framework, cycle):
                continue
            unit = self._directory.units[rec.unit_id]
            agency_region = await self._directory.agency_region(rec.agency_id)
            if region is not None and not in_region(agency_region, region):
                continue
            if agency_id is not None and rec.agency_id != agency_id:
                continue
            found.append((replace(rec, events=[]), ReportItem(
                agency_id=rec.agency_id, agency_name=unit.agency.name, agency_region=agency_region,
                unit_region=unit.region_code, status=rec.status, had_action=rec.had_action, issued_at=rec.issued_at,
                due_date=rec.due_date, due_at=rec.due_at, verified_at=None, score_change=None)))
        return found

    async def has_assessments(self, framework, cycle):
        return any((a.framework, a.cycle) == (framework, cycle) for a in self._assessments.rows.values())

    async def report(self, framework, cycle):
        return self.reports.get((framework, cycle))

    async def add_report(self, report):
        if (report.framework, report.cycle) in self.reports:
            raise CycleAlreadyClosed(f"{report.framework}/{report.cycle}")
        self.reports[(report.framework, report.cycle)] = report

    async def windows(self):
        windows = {}
        for a in self._assessments.rows.values():
            if (a.framework, a.cycle) not in self.reports:
                key = (a.framework, a.cycle)
                windows[key] = max(a.follow_up_until, windows.get(key, a.follow_up_until))
        return windows


class FakeUnitOfWork(AbstractUnitOfWork):
    """Keeps state across `async with` blocks, like a database would. It does
    not roll back: a handler that raises after changing things leaves them
    (tests assert on committed work through `commits`)."""

    def __init__(self, clock=None):
        super().__init__(**({"clock": clock} if clock else {}))
        self.processed = FakeProcessed()
        self.directory = FakeDirectory()
        self.assessments = FakeAssessments()
        self.recommendations = FakeRecommendations()
        self.outbox = FakeOutbox()
        self.dead_letters = FakeDeadLetters()
        self.audit = FakeAuditTrail()
        self.evidence = FakeEvidence()
        self.requests = FakeRequests()
        self.users = FakeUsers()
        self.cycles = FakeCycles(self.recommendations, self.assessments, self.directory)
        self.reminders = FakeReminderStore(self)
        self.commits = 0

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return None

    async def _commit(self):
        self.recommendations.seen.clear()
        self.commits += 1

    async def rollback(self):
        pass
