"""Parse and check an incoming `assessment.published` message.

Returns the typed event, or raises `Rejected` with a machine-readable reason
code. Structural checks come from the pydantic models; the checks that need
configuration (framework, scale for the cycle, overall score range) are here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from tindaklanjut.domain.calendar import known_region
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


CE_PREFIX = "ce_"
JSON_TYPES = ("application/json", "application/cloudevents+json", "text/json")


def _header_text(headers: Sequence[tuple[str, bytes]]) -> dict[str, str]:
    try:
        return {name.lower(): (value.decode("utf-8") if isinstance(value, bytes) else str(value))
                for name, value in headers}
    except UnicodeDecodeError:
        raise Rejected("invalid_mode", "a Kafka header is not UTF-8 text") from None


def _media_type(value: str | None) -> str | None:
    return value.split(";", 1)[0].strip().lower() if value else None


def envelope_document(raw: bytes, headers: Sequence[tuple[str, bytes]] = (),
                      limits: Limits = DEFAULT_LIMITS) -> dict:
    """The CloudEvent as one JSON object, in either content mode of the Kafka
    protocol binding: **binary** (attributes in `ce_*` headers, the data as the
    value) or **structured** (the whole event as the value). An absent
    `datacontenttype` means JSON (CloudEvents 1.0); the SDKs move it to the
    `content-type` header."""
    text = _header_text(headers)
    content_type = _media_type(text.get("content-type"))
    try:
        value = wire.decode(raw, limits)
    except wire.WireError as exc:
        raise Rejected(exc.code, exc.message) from None
    if f"{CE_PREFIX}specversion" in text:
        if content_type is not None and content_type not in JSON_TYPES:
            raise Rejected("invalid_mode", f"binary mode with content-type {content_type!r}: only JSON data is read")
        document = {name[len(CE_PREFIX):]: attribute for name, attribute in text.items() if name.startswith(CE_PREFIX)}
        document["data"] = value
        document["datacontenttype"] = "application/json"
        return document
    if content_type is not None and content_type not in JSON_TYPES:
        raise Rejected("invalid_mode", f"structured mode with content-type {content_type!r}: send JSON")
    if not isinstance(value, dict):
        raise Rejected("invalid_envelope", "a CloudEvent must be a JSON object")
    value.setdefault("datacontenttype", "application/json")
    if isinstance(value["datacontenttype"], str) and _media_type(value["datacontenttype"]) == "application/json":
        value["datacontenttype"] = "application/json"
    return value


def parse_cloudevent(raw: bytes, event_type: str, model: type[EventT], limits: Limits = DEFAULT_LIMITS,
                     headers: Sequence[tuple[str, bytes]] = ()) -> EventT:
    """A consumed message -> a typed CloudEvent of `event_type`, or `Rejected` with the reason code."""
    document = envelope_document(raw, headers, limits)
    if document.get("type") != event_type:
        raise Rejected("unsupported_type", f"expected type {event_type!r}, got {document.get('type')!r}")
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        errors = _errors(exc)
        code = "invalid_payload" if all(_in_data(e["loc"]) for e in errors) else "invalid_envelope"
        raise Rejected(code, f"{len(errors)} validation error(s): " +
                       "; ".join(f"{e['loc']}: {e['msg']}" for e in errors[:5]), errors) from None


def _opinion_core(opinion: str, framework) -> str:
    """`Opini Kualitas Sedang Tanpa Maladministrasi` -> `Kualitas Sedang` (the qualifier is its own field)."""
    text = " ".join(opinion.split())
    if text.lower().startswith("opini "):
        text = text[len("opini "):]
    if framework.qualifier and text.lower().endswith(" " + framework.qualifier.lower()):
        text = text[: -len(framework.qualifier) - 1]
    return next((known for known in framework.opinions if known.lower() == text.lower()), text)


def parse_assessment(raw: bytes, catalogue: FrameworkCatalogue, limits: Limits = DEFAULT_LIMITS,
                     headers: Sequence[tuple[str, bytes]] = ()) -> assessment.AssessmentPublishedEvent:
    event = parse_cloudevent(raw, assessment.EVENT_TYPE, assessment.AssessmentPublishedEvent, limits, headers)
    data = event.data
    if not known_region(data.unit.region_code):
        raise Rejected("unknown_region", f"region code {data.unit.region_code!r}: province "
                       f"{data.unit.region_code[:2]!r} is not one of the 38 Kemendagri province codes",
                       [{"loc": "data.unit.region_code", "msg": "unknown province", "type": "unknown_region"}])
    indicators = sum(len(aspect.indicators) for aspect in data.aspects)
    if len(data.aspects) + indicators > limits.max_indicators:
        raise Rejected("too_many_items", f"{len(data.aspects)} aspects and {indicators} indicators "
                       f"(at most {limits.max_indicators} together)")
    framework = catalogue.get(data.framework)
    if framework is None:
        raise Rejected("unknown_framework", f"framework {data.framework!r} is not configured")
    if framework.scale_for(data.cycle) is None:
        raise Rejected("unknown_cycle", f"framework {data.framework!r} has no grading scale for cycle {data.cycle}")
    if framework.opinions:
        if data.opinion is None:
            raise Rejected("invalid_payload", f"framework {data.framework!r} publishes an opinion: `opinion` is "
                           f"required ({', '.join(framework.opinions)})",
                           [{"loc": "data.opinion", "msg": "required", "type": "missing"}])
        if _opinion_core(data.opinion, framework) not in framework.opinions:
            raise Rejected("invalid_payload", f"opinion {data.opinion!r} is not one of "
                           f"{', '.join(framework.opinions)}",
                           [{"loc": "data.opinion", "msg": "unknown opinion", "type": "unknown_opinion"}])
    low, high = framework.score_range
    if not low <= data.score <= high:
        raise Rejected("score_out_of_range", f"score {data.score} outside {data.framework} range [{low:g}, {high:g}]",
                       [{"loc": "data.score", "msg": "out of range", "type": "score_out_of_range"}])
    return event
