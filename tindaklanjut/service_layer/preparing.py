"""An assessment message worked out as far as it goes without the database: parsed and checked,
graded, and its recommendations derived. That is most of the CPU an assessment costs, and none
of it depends on what is stored, so the consumer prepares the next fetch while the previous one
waits for its transaction (`services.consumer`). What depends on the database (duplicates,
revisions, carry-over, the directory, the outbox) happens when the prepared batch is applied
(`handlers.ingest_assessments`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from tindaklanjut.domain import recommender
from tindaklanjut.domain.frameworks import FrameworkCatalogue
from tindaklanjut.domain.model import Assessment, Recommendation
from tindaklanjut.domain.policy import Policy
from tindaklanjut.events.assessment import AssessmentPublishedEvent, Unit
from tindaklanjut.events.wire import Limits
from tindaklanjut.ports.messages import IngestAssessment
from tindaklanjut.ports.validation import Rejected, parse_assessment


@dataclass(frozen=True, slots=True, kw_only=True)
class Received:
    """What applying needs of the event. Not the validated event itself: with its indicators it
    weighs about 40 KB, twice over for the two fetches in flight, and nothing after preparing
    reads them (docs/benchmarks.md, series I)."""
    source: str
    id: str
    type: str
    assessment_id: str
    revision: int
    cycle: str
    unit: Unit
    published_at: datetime

    @classmethod
    def of(cls, event: AssessmentPublishedEvent) -> "Received":
        data = event.data
        return cls(source=event.source, id=event.id, type=event.type, assessment_id=data.assessment_id,
                   revision=data.revision, cycle=data.cycle, unit=data.unit, published_at=data.published_at)


@dataclass(kw_only=True, slots=True)
class Prepared:
    """Applied once: applying changes its recommendations (carry-over, recorded events taken). A
    batch that fails is tried again, message by message, and prepares them afresh instead
    (`spent`): copying every recommendation for a retry that almost never comes cost about a
    tenth of the preparation (docs/benchmarks.md, series J)."""
    event: Received
    assessment: Assessment
    recommendations: tuple[Recommendation, ...]
    payload_json: str     # the validated payload as stored with the assessment
    ratios: dict[str, float]      # indicator code -> score / max score, for earlier cycles' follow-up
    at: datetime          # when the recommender took it up: the issue time of its recommendations
    spent: bool = False   # applied once (its recommendations may have changed since)


def prepare(message: IngestAssessment, *, catalogue: FrameworkCatalogue, policy: Policy, limits: Limits,
            clock: Callable[[], datetime]) -> Prepared | Rejected:
    """The message prepared, or the reason it is refused."""
    try:
        event = parse_assessment(message.raw, catalogue, limits, message.headers)
    except Rejected as rejected:
        return rejected
    at = clock()
    data = event.data
    framework = catalogue.get(data.framework)
    assessment = Assessment(
        assessment_id=data.assessment_id, revision=data.revision, framework=data.framework, cycle=data.cycle,
        unit_id=data.unit.id, agency_id=data.unit.agency.id, score=data.score, official_grade=data.grade,
        computed_grade=framework.scale_for(data.cycle).band_for(data.score).grade,
        published_at=data.published_at,
        follow_up_until=data.follow_up_until or framework.default_follow_up_until(data.cycle),
        source=event.source, event_id=event.id)
    recommendations = recommender.recommend(data, assessment, framework=framework, policy=policy, issued_at=at)
    return Prepared(event=Received.of(event), assessment=assessment, recommendations=tuple(recommendations),
                    payload_json=data.model_dump_json(),
                    ratios={i["code"]: i["score"] / i["max_score"] for a in data.aspects for i in a.indicators}, at=at)


SLICE = 16      # messages prepared between two chances for other tasks to run


async def prepare_ahead(messages: Sequence[IngestAssessment], *, catalogue: FrameworkCatalogue, policy: Policy,
                        limits: Limits, clock: Callable[[], datetime]) -> list[IngestAssessment]:
    """The messages with their preparation attached, for a batch that will be ingested next. It
    yields to the event loop every few messages, so the batch being applied resumes as soon as
    its database answers. Preparing is deterministic (the clock aside): applying the result is
    applying the messages."""
    prepared = []
    for index, message in enumerate(messages):
        try:
            prepared.append(replace(message, prepared=prepare(message, catalogue=catalogue, policy=policy,
                                                               limits=limits, clock=clock)))
        except Exception:     # noqa: BLE001 - prepared again when applied, where poison isolation catches it
            prepared.append(message)
        if index % SLICE == SLICE - 1:
            await asyncio.sleep(0)
    return prepared
