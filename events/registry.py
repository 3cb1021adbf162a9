"""Which event types exist, their topics and their JSON Schema files."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from tindaklanjut.events import assessment, cycle, followup, recommendation
from tindaklanjut.events import escalation, reminder
from tindaklanjut.events.envelope import topic_for_type

DEAD_LETTER_TOPIC = "deadletter"


@dataclass(frozen=True)
class EventSpec:
    type: str
    model: type[BaseModel]

    @property
    def topic(self) -> str:
        return topic_for_type(self.type)

    @property
    def schema_filename(self) -> str:
        return f"{self.type}.json"

    def json_schema(self) -> dict:
        schema = self.model.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://tindaklanjut.id/schemas/{self.schema_filename}"
        schema["title"] = self.type
        return schema


EVENTS: tuple[EventSpec, ...] = (
    EventSpec(assessment.EVENT_TYPE, assessment.AssessmentPublishedEvent),
    EventSpec(recommendation.EVENT_TYPE, recommendation.RecommendationIssuedEvent),
    EventSpec(followup.EVENT_TYPE, followup.FollowUpChangedEvent),
    EventSpec(reminder.EVENT_TYPE, reminder.ReminderSentEvent),
    EventSpec(escalation.EVENT_TYPE, escalation.RecommendationEscalatedEvent),
    EventSpec(cycle.CLOSED_EVENT_TYPE, cycle.CycleClosedEvent),
    EventSpec(cycle.REPORTED_EVENT_TYPE, cycle.CycleReportedEvent),
)


def all_topics() -> list[str]:
    """Every logical topic the system uses, dead letters included."""
    return [spec.topic for spec in EVENTS] + [DEAD_LETTER_TOPIC]


def write_schemas(directory: Path) -> list[Path]:
    """(Re)generate `schemas/<type>.json` from the models."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for spec in EVENTS:
        path = directory / spec.schema_filename
        path.write_text(json.dumps(spec.json_schema(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written
