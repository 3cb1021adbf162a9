"""What closing a cycle answers and sends, field by field: a second close returns the first one's
outcome and report, the report message's envelope, refusals with their reason codes, and a
`cycle.closed` message that cannot be processed dead-lettered, not lost."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from structlog.testing import capture_logs

from tindaklanjut.ports.messages import Origin
from tindaklanjut.ports.validation import Rejected
from tindaklanjut.service_layer import commands
from tindaklanjut.service_layer.cycles import CycleNotFound, parse_cycle_closed
from tindaklanjut.events import cycle as wire

from tests.unit.test_command_handlers import ORI, PANRB, ingested_harness
from tests.unit.test_cycles import PEKPPP_2024


@pytest.fixture
async def h(examples):
    return await ingested_harness(examples)


def closed_event(framework: str = "panrb-pekppp", event_id: str = "c-1") -> bytes:
    return json.dumps({"specversion": "1.0", "id": event_id, "source": "urn:panrb", "type": wire.CLOSED_EVENT_TYPE,
                       "time": "2025-07-01T00:00:00+07:00", "datacontenttype": "application/json",
                       "data": {"framework": framework, "cycle": "2024"}}).encode()


async def test_closing_again_answers_the_first_close(h):
    with capture_logs() as logs:
        first = await h.handle(commands.CloseCycle(actor=PANRB, framework=PEKPPP_2024[0], cycle=PEKPPP_2024[1]))
    (line,) = [e for e in logs if e["event"] == "cycle.closed"]
    assert (line["framework"], line["cycle"], line["lapsed"], line["by"]) == (*PEKPPP_2024, 3, "panrb")
    assert (first.framework, first.cycle, first.closed_by, first.lapsed, first.already_closed) == (
        *PEKPPP_2024, "panrb", 3, False)
    h.now = h.now.replace(year=2026)
    again = await h.handle(commands.CloseCycle(actor=ORI, framework=PEKPPP_2024[0], cycle=PEKPPP_2024[1]))
    assert (again.framework, again.cycle, again.closed_at, again.closed_by, again.lapsed, again.already_closed) == (
        *PEKPPP_2024, first.closed_at, "panrb", 0, True)
    assert again.report.totals == first.report.totals and again.report.closed_by == "panrb"


async def test_the_report_message_is_a_compact_cloudevent_at_the_close_time(h):
    outcome = await h.handle(commands.CloseCycle(actor=PANRB, framework=PEKPPP_2024[0], cycle=PEKPPP_2024[1]))
    [message] = [m for m in h.uow.outbox.messages if m.topic == "cycle.reported"]
    assert message.event_type == wire.REPORTED_EVENT_TYPE
    body = json.loads(message.value)
    as_of = datetime.fromisoformat(body["data"]["as_of"])
    assert body["id"] == message.event_id and datetime.fromisoformat(body["time"]) == as_of == outcome.closed_at
    assert message.value == json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


async def test_an_unknown_cycle_or_framework_is_refused_with_its_name(h):
    with pytest.raises(CycleNotFound, match="^panrb-pekppp/1999$"):
        await h.handle(commands.CloseCycle(actor=PANRB, framework="panrb-pekppp", cycle="1999"))
    with pytest.raises(Rejected) as refused:
        parse_cycle_closed(closed_event(framework="tidak-ada"), h.dependencies["catalogue"])
    assert (refused.value.code, refused.value.message) == ("unknown_framework",
                                                           "framework 'tidak-ada' is not configured")


async def test_a_cycle_closed_message_for_an_unknown_framework_is_dead_lettered(h):
    outcome = await h.handle(commands.HandleCycleClosed(raw=closed_event(framework="tidak-ada"),
                                                        origin=Origin(topic="cycle.closed", offset=7)))
    assert outcome == "dead_lettered"
    (row,) = h.uow.dead_letters.rows
    assert (row["topic"], row["offset"], row["reason_code"]) == ("cycle.closed", 7, "unknown_framework")
    processed = await h.handle(commands.HandleCycleClosed(raw=closed_event(event_id="c-2"),
                                                          origin=Origin(topic="cycle.closed", offset=8)))
    assert processed == "closed"
    assert h.uow.processed.rows[("urn:panrb", "c-2")] == {
        "event_type": wire.CLOSED_EVENT_TYPE, "outcome": "processed", "at": h.now, "redeliveries": 0}
