"""Domain events -> outbound CloudEvents messages (written to the outbox)."""

from __future__ import annotations

import json
import uuid

import orjson
from datetime import datetime

from tindaklanjut.domain import ids
from tindaklanjut.domain import events as domain_events
from tindaklanjut.domain.model import Recommendation
from tindaklanjut.events import followup as wire_followup
from tindaklanjut.events import recommendation as wire
from tindaklanjut.events.envelope import new_envelope, topic_for_type
from tindaklanjut.events.assessment import EVENT_TYPE as ASSESSMENT_EVENT_TYPE
from tindaklanjut.events.assessment import Unit
from tindaklanjut.events.registry import DEAD_LETTER_TOPIC
from tindaklanjut.events.wire import DEFAULT_LIMITS
from tindaklanjut.ports.messages import OutboundMessage

SOURCE = "urn:tindaklanjut:recommender"
DLQ_REASON_HEADER = "tindaklanjut-dlq-reason"
DLQ_TRUNCATED_HEADER = "tindaklanjut-dlq-truncated"   # the original size, when the value was cut
# A dead letter's value is cut below the usual broker limit (about 1 MiB), with room for its headers.
DEAD_LETTER_VALUE_MAX = DEFAULT_LIMITS.max_bytes - 64 * 1024


CLOUDEVENTS_JSON = [("content-type", "application/cloudevents+json")]


def _encode(envelope: dict) -> bytes:
    """Compact UTF-8 JSON (what `json.dumps(..., ensure_ascii=False, separators=(",", ":"))` gives, 8x
    faster); dates and times in a plain-dict payload as pydantic writes them."""
    return orjson.dumps(envelope, option=orjson.OPT_UTC_Z)


def cloudevent(*, event_type: str, source: str, key: str, data, at: datetime,
               event_id: str | None = None) -> OutboundMessage:
    """The one way an event becomes an outbox message: a structured-mode CloudEvent, keyed and
    subject-ed by `key`, on the topic of its type (a random id unless a stable one is given)."""
    envelope = new_envelope(event_type=event_type, source=source, subject=key, data=data, event_id=event_id,
                            time=at)
    return OutboundMessage(topic=topic_for_type(event_type), key=key, event_type=event_type,
                           event_id=envelope["id"], value=_encode(envelope), headers=list(CLOUDEVENTS_JSON))


def issued_payload(rec: Recommendation, unit: Unit) -> dict:
    """The `recommendation.issued` data as a plain dict in the model's field order (four per assessment
    on the ingest path, so no pydantic round trip). orjson renders its dates and times as the model
    would (UTC as `Z`); the tests hold the bytes to `wire.RecommendationIssued` and its schema."""
    return {
        "recommendation_id": rec.id, "assessment_id": rec.assessment_id,
        "assessment_revision": rec.assessment_revision, "framework": rec.framework, "cycle": rec.cycle,
        "unit": {"id": unit.id, "name": unit.name, "region_code": unit.region_code},
        "agency": {"id": unit.agency.id, "name": unit.agency.name, "kind": unit.agency.kind.value},
        "scope": rec.scope.value, "aspect_code": rec.aspect_code, "indicator_code": rec.indicator_code,
        "sp_component": rec.sp_component, "indicator_name": rec.indicator_name, "title": rec.title,
        "action": rec.action, "evidence": rec.evidence, "finding": rec.finding, "priority": rec.priority.value,
        "due_date": rec.due_date, "due_at": rec.due_at, "status": "open", "rule_id": rec.rule_id,
        "catalogue_version": rec.catalogue_version, "carried_over_from": rec.carried_over_from,
        "issued_at": rec.issued_at}


def recommendation_issued(rec: Recommendation, unit: Unit) -> OutboundMessage:
    # Deterministic event id: a replay of the same issue yields the same id,
    # so downstream consumers de-duplicate on (source, id).
    event_id = ids.name_based(uuid.NAMESPACE_URL, f"{SOURCE}/{rec.id}/issued/{rec.assessment_revision}")
    return cloudevent(event_type=wire.EVENT_TYPE, source=SOURCE, key=unit.id, data=issued_payload(rec, unit),
                      at=rec.issued_at, event_id=event_id)


def followup_changed(rec: Recommendation, event: domain_events.FollowUpChanged) -> OutboundMessage:
    payload = wire_followup.FollowUpChanged(
        recommendation_id=rec.id, unit_id=rec.unit_id, agency_id=rec.agency_id, action=event.action,
        actor=event.actor, role=event.role, from_status=event.from_status, to_status=event.to_status,
        comment=event.comment, evidence_sha256=list(event.evidence), details=event.details or {},
        at=event.occurred_at)
    return cloudevent(event_type=wire_followup.EVENT_TYPE, source="urn:tindaklanjut:followup", key=rec.unit_id,
                      data=payload, at=event.occurred_at)


def dead_letter(*, raw: bytes, key: bytes | str | None, origin_topic: str, partition: int, offset: int, code: str,
                message: str, errors: list[dict], at: datetime, sha256: str,
                headers: tuple[tuple[str, bytes], ...] = (),
                max_value_bytes: int = DEAD_LETTER_VALUE_MAX) -> OutboundMessage:
    """The original message as it came: its key, its headers, its bytes as the
    value (cut to `max_value_bytes`, so a dead letter always fits the broker;
    the full bytes stay in the database); the reason in headers of its own."""
    reason = json.dumps({"code": code, "message": message[:2000], "errors": errors[:20], "topic": origin_topic,
                         "partition": partition, "offset": offset, "received_at": at.isoformat(),
                         "size": len(raw), "sha256": sha256}, ensure_ascii=False)
    kept = [(name, value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value))
            for name, value in headers if not name.startswith("tindaklanjut-dlq-")]
    kept += [(DLQ_REASON_HEADER, reason), ("tindaklanjut-dlq-code", code)]
    if len(raw) > max_value_bytes:
        kept.append((DLQ_TRUNCATED_HEADER, str(len(raw))))
    if isinstance(key, bytes):
        key = key.decode("utf-8", "replace")
    return OutboundMessage(topic=DEAD_LETTER_TOPIC, key=key, event_type="deadletter", event_id=sha256,
                           value=raw[:max_value_bytes], headers=kept)


def assessment_accepted(raw: bytes, *, event_id: str, unit_id: str) -> OutboundMessage:
    """An assessment accepted over HTTP, relayed to its topic exactly as received."""
    return OutboundMessage(topic=topic_for_type(ASSESSMENT_EVENT_TYPE), key=unit_id,
                           event_type=ASSESSMENT_EVENT_TYPE, event_id=event_id, value=raw,
                           headers=[("content-type", "application/cloudevents+json")])
