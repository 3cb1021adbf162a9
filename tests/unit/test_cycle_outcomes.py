"""What closing a cycle answers and sends, field by field: a second close returns the first one's
outcome and report, the report message's envelope, refusals with their reason codes, and a
`cycle.closed` message that cannot be processed dead-lettered, not lost."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from structlog.testing import capture_logs

from tindaklanjut.domain.lifecycle import Actor, NotPermitted, Role
from tindaklanjut.ports.messages import IngestAssessment, Origin
from tindaklanjut.ports.validation import Rejected
from tindaklanjut.service_layer import commands
from tindaklanjut.service_layer.cycles import CycleNotFound, cycle_report, parse_cycle_closed
from tindaklanjut.events import cycle as wire

from tests.unit.test_command_handlers import KOTA, ORI, PANRB, SEKDA_ACEH, SEKDA_KOTA, ingested_harness
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


async def test_after_the_close_each_reader_still_sees_only_their_own_scope(h):
    await h.handle(commands.CloseCycle(actor=ORI, framework="ombudsman-kepatuhan", cycle="2024"))
    await h.handle(commands.CloseCycle(actor=PANRB, framework=PEKPPP_2024[0], cycle=PEKPPP_2024[1]))
    h.now = h.now.replace(year=2026)

    async def read(actor, framework, cycle):
        return await cycle_report(h.uow, actor, framework, cycle, clock=lambda: h.now)
    kota = await read(SEKDA_KOTA, "ombudsman-kepatuhan", "2024")
    assert (kota.status, kota.region, kota.totals.total, kota.score_change.as_of) == ("closed", "15.71", 5, h.now)
    assert (await read(SEKDA_ACEH, "ombudsman-kepatuhan", "2024")).totals.total == 0
    province = Actor("sekda-prov", Role.SECRETARY, agency_id="15")
    assert (await read(province, *PEKPPP_2024)).totals.total == 3
    assert (await read(province, "ombudsman-kepatuhan", "2024")).totals.total == 0
    assert [a.agency_id for a in (await read(ORI, "ombudsman-kepatuhan", "2024")).agencies] == ["15.71"]


async def test_a_provisional_report_names_its_cycle_and_an_unknown_one_is_named_in_the_refusal(h):
    report = await cycle_report(h.uow, ORI, *PEKPPP_2024, clock=lambda: h.now)
    assert (report.framework, report.cycle, report.status, report.as_of) == (*PEKPPP_2024, "provisional", h.now)
    with pytest.raises(CycleNotFound, match="^ombudsman-kepatuhan/2019$"):
        await cycle_report(h.uow, ORI, "ombudsman-kepatuhan", "2019", clock=lambda: h.now)


async def test_who_may_close_and_who_may_read_is_said_in_the_refusal(h):
    with pytest.raises(NotPermitted, match=r"^peran Instansi \(OPD\) tidak berwenang menutup siklus$"):
        await h.handle(commands.CloseCycle(actor=KOTA, framework=PEKPPP_2024[0], cycle=PEKPPP_2024[1]))
    with pytest.raises(NotPermitted, match=r"^peran Instansi \(OPD\) tidak berwenang membaca laporan siklus$"):
        await cycle_report(h.uow, KOTA, *PEKPPP_2024, clock=lambda: h.now)


async def test_a_cycle_whose_units_all_did_well_can_be_closed(h, examples):
    good = json.loads(json.dumps(examples["ombudsman-2024-kota-jambi-disdukcapil"]))
    good["id"], good["data"]["cycle"], good["data"]["assessment_id"] = "good-2023", "2023", "ori-2023-good"
    good["data"].pop("follow_up_until", None)
    for aspect in good["data"]["aspects"]:
        aspect["score"] = aspect["max_score"]
        for indicator in aspect["indicators"]:
            indicator["score"] = indicator["max_score"]
    good["data"]["score"], good["data"]["grade"] = 99.0, "A"
    report = await h.handle(commands.IngestAssessments(messages=(
        IngestAssessment(raw=json.dumps(good).encode(), origin=Origin(topic="t", offset=50)),)))
    assert (report.processed, report.recommendations) == (1, 0)
    outcome = await h.handle(commands.CloseCycle(actor=ORI, framework="ombudsman-kepatuhan", cycle="2023"))
    assert (outcome.lapsed, outcome.already_closed, outcome.report.totals.total) == (0, False, 0)
    stored = await h.uow.cycles.report("ombudsman-kepatuhan", "2023")
    assert json.loads(json.dumps(stored.report)) == stored.report          # stored as JSON
    assert datetime.fromisoformat(stored.report["as_of"]) == h.now


async def test_a_close_is_written_at_its_own_time(h):
    h.uow.outbox.times.clear()
    await h.handle(commands.CloseCycle(actor=PANRB, framework=PEKPPP_2024[0], cycle=PEKPPP_2024[1]))
    assert h.uow.outbox.times and set(h.uow.outbox.times) == {h.now}
    assert {at for _rec, at in h.uow.recommendations.saved[-3:]} == {h.now}


async def test_a_cycle_closed_message_that_keeps_failing_is_dead_lettered_after_bounded_tries(h):
    async def broken(report):
        raise ValueError("laporan rusak")
    h.uow.cycles.add_report = broken
    bus = h.bus_with(poison_max_tries=4)
    with capture_logs() as logs:
        outcome = await bus.handle(commands.HandleCycleClosed(raw=closed_event(), origin=Origin(topic="cycle.closed",
                                                                                                offset=3)))
    assert outcome == "dead_lettered"
    assert [e["tries"] for e in logs if e["event"] == "cycle_closed.message_failed"] == [2, 3, 4]
    (row,) = h.uow.dead_letters.rows
    assert (row["topic"], row["offset"], row["reason_code"], row["reason"], row["at"], row["raw"]) == (
        "cycle.closed", 3, "processing_failed", "ValueError: laporan rusak", h.now, closed_event())
