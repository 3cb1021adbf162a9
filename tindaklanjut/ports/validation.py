"""Parse and check an incoming `assessment.published` message.

Returns the typed event, or raises `Rejected` with a machine-readable reason
code. Structural checks come from the pydantic models; the checks that need
configuration (framework, scale for the cycle, overall score range) are here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from tindaklanjut.domain.frameworks import FrameworkCatalogue
from tindaklanjut.events import assessment, wire
from tindaklanjut.events.wire import DEFAULT_LIMITS, Limits


EventT = TypeVar("EventT", bound=BaseModel)


@dataclass
class Rejected(Exception):
    code: str
    message: str
    errors: list[dict] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def _errors(exc: ValidationError) -> list[dict]:
    return [{"loc": ".".join(str(p) for p in err["loc"]), "msg": err["msg"], "type": err["type"]}
            for err in exc.errors(include_url=False, include_input=False)]


def _in_data(loc: str) -> bool:
    return loc == "data" or loc.startswith("data.")


def parse_cloudevent(raw: bytes, event_type: str, model: type[EventT], limits: Limits = DEFAULT_LIMITS) -> EventT:
    """Bytes -> a typed CloudEvent of `event_type`, or `Rejected` with the reason code."""
    try:
        document = wire.decode(raw, limits)
    except wire.WireError as exc:
        raise Rejected(exc.code, exc.message) from None
    if not isinstance(document, dict):
        raise Rejected("invalid_envelope", "a CloudEvent must be a JSON object")
    if document.get("type") != event_type:
        raise Rejected("unsupported_type", f"expected type {event_type!r}, got {document.get('type')!r}")
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        errors = _errors(exc)
        code = "invalid_payload" if all(_in_data(e["loc"]) for e in errors) else "invalid_envelope"
        raise Rejected(code, f"{len(errors)} validation error(s): " +
                       "; ".join(f"{e['loc']}: {e['msg']}" for e in errors[:5]), errors) from None


def parse_assessment(raw: bytes, catalogue: FrameworkCatalogue,
                     limits: Limits = DEFAULT_LIMITS) -> assessment.AssessmentPublishedEvent:
    event = parse_cloudevent(raw, assessment.EVENT_TYPE, assessment.AssessmentPublishedEvent, limits)
    data = event.data
    indicators = sum(len(aspect.indicators) for aspect in data.aspects)
    if len(data.aspects) + indicators > limits.max_indicators:
        raise Rejected("too_many_items", f"{len(data.aspects)} aspects and {indicators} indicators "
                       f"(at most {limits.max_indicators} together)")
    framework = catalogue.get(data.framework)
    if framework is None:
        raise Rejected("unknown_framework", f"framework {data.framework!r} is not configured")
    if framework.scale_for(data.cycle) is None:
        raise Rejected("unknown_cycle", f"framework {data.framework!r} has no grading scale for cycle {data.cycle}")
    low, high = framework.score_range
    if not low <= data.score <= high:
        raise Rejected("score_out_of_range", f"score {data.score} outside {data.framework} range [{low:g}, {high:g}]",
                       [{"loc": "data.score", "msg": "out of range", "type": "score_out_of_range"}])
    return event
