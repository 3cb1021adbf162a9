"""In-memory stand-ins for the repositories and unit of work (unit tests only;
the same handlers run against real databases in tests/integration)."""

from __future__ import annotations

from dataclasses import replace

from tindaklanjut.domain import events
from tindaklanjut.domain.model import Assessment, Recommendation
from tindaklanjut.service_layer import outbound
from tindaklanjut.service_layer.messages import OutboundMessage


class FakeProcessed:
    def __init__(self):
        self.rows: dict[tuple[str, str], dict] = {}

    async def preload(self, keys):
        pass

    async def seen(self, source, event_id):
        return (source, event_id) in self.rows

    def add(self, *, source, event_id, event_type, outcome, at):
        self.rows[(source, event_id)] = {"outcome": outcome, "redeliveries": 0}

    async def count_redelivery(self, source, event_id):
        self.rows[(source, event_id)]["redeliveries"] += 1


class FakeDirectory:
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


class FakeAssessments:
    def __init__(self):
        self.rows: dict[tuple[str, int], Assessment] = {}

    async def preload(self, assessment_ids):
        pass

    async def latest_revision(self, assessment_id):
        revisions = [rev for (aid, rev) in self.rows if aid == assessment_id]
        return max(revisions) if revisions else None

    def add(self, assessment, payload, received_at):
        self.rows[(assessment.assessment_id, assessment.revision)] = assessment


class FakeRecommendations:
    def __init__(self):
        self.rows: dict[str, Recommendation] = {}
        self.seen: list[Recommendation] = []

    def add(self, rec):
        self.seen.append(rec)
        self.rows[rec.id] = rec

    async def for_assessment(self, assessment_id):
        return [replace(r, events=[]) for r in self.rows.values() if r.assessment_id == assessment_id]

    async def open_in_earlier_cycles(self, unit_id, cycle):
        return [replace(r, events=[]) for r in self.rows.values()
                if r.unit_id == unit_id and r.cycle < cycle and r.indicator_code and not r.is_closed]

    async def preload_units(self, unit_ids):
        pass

    async def record_next_cycle_scores(self, unit_id, cycle, assessment_id, ratios):
        self.next_cycle_scores = getattr(self, "next_cycle_scores", []) + [(unit_id, cycle, assessment_id, ratios)]

    async def apply_next_cycle_scores(self):
        return 0

    async def save(self, rec, at):
        self.seen.append(rec)
        self.rows[rec.id] = rec


class FakeOutbox:
    def __init__(self):
        self.messages: list[OutboundMessage] = []
        self.added = 0

    def add(self, message, at):
        self.messages.append(message)
        self.added += 1


class FakeDeadLetters:
    def __init__(self):
        self.rows: list[dict] = []

    async def exists(self, *, topic, partition, offset, sha256):
        return any(r["topic"] == topic and r["partition"] == partition and r["offset"] == offset
                   and r["sha256"] == sha256 for r in self.rows)

    def add(self, **row):
        self.rows.append(row)


class FakeUnitOfWork:
    """Keeps state across `async with` blocks, like a database would; only
    committed work is visible in `committed_*`."""

    def __init__(self):
        self.processed = FakeProcessed()
        self.directory = FakeDirectory()
        self.assessments = FakeAssessments()
        self.recommendations = FakeRecommendations()
        self.outbox = FakeOutbox()
        self.dead_letters = FakeDeadLetters()
        self.commits = 0

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return None

    async def commit(self):
        for rec in self.recommendations.seen:
            while rec.events:
                event = rec.events.pop(0)
                if isinstance(event, events.RecommendationIssued):
                    self.outbox.add(outbound.recommendation_issued(rec, self.directory.units[rec.unit_id]), None)
        self.recommendations.seen.clear()
        self.commits += 1
