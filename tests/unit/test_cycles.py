"""Cycle close and report on the in-memory fakes: who may read which part, what a close records
for each lapse, the follow-up window's end in WIB, and a close that loses a race."""

import json
import uuid
from datetime import datetime, timezone

import pytest

from tindaklanjut.domain.lifecycle import Action, Actor, NotPermitted, Role, Status
from tindaklanjut.service_layer import commands
from tindaklanjut.service_layer.cycles import (SOURCE, CycleNotFound, cycle_report, due_cycles,
                                               reported_message)
from tindaklanjut.events import cycle as wire
from tindaklanjut.ports.repositories import CycleAlreadyClosed

from tests.unit.test_command_handlers import KOTA, ORI, PANRB, SEKDA_ACEH, SEKDA_KOTA, ingested_harness

ORI_2024 = ("ombudsman-kepatuhan", "2024")      # both Kota Jambi units (15.71): 5 recommendations
PEKPPP_2024 = ("panrb-pekppp", "2024")          # Dinas Sosial of the province (15): 3 recommendations


@pytest.fixture
async def h(examples):
    return await ingested_harness(examples)


async def _report(h, actor, framework_cycle):
    return await cycle_report(h.uow, actor, *framework_cycle, clock=lambda: h.now)


async def test_each_reader_sees_the_report_of_their_own_scope(h):
    everything = await _report(h, ORI, ORI_2024)
    assert (everything.status, everything.region, everything.totals.total) == ("provisional", None, 5)
    assert [a.agency_id for a in everything.agencies] == ["15.71"]
    kota = await _report(h, SEKDA_KOTA, ORI_2024)
    assert (kota.region, kota.totals.total, kota.totals.open) == ("15.71", 5, 5)
    assert (await _report(h, SEKDA_ACEH, ORI_2024)).totals.total == 0            # another province: nothing
    own_government = Actor("sekda-prov", Role.SECRETARY, agency_id="15")
    assert (await _report(h, own_government, PEKPPP_2024)).totals.total == 3
    assert (await _report(h, own_government, ORI_2024)).totals.total == 0        # not the city's items
    inspectorate = Actor("inspektorat", Role.VERIFIER, region="15")
    assert (await _report(h, inspectorate, ORI_2024)).totals.total == 5
    with pytest.raises(NotPermitted):
        await _report(h, KOTA, ORI_2024)
    with pytest.raises(CycleNotFound):
        await _report(h, ORI, ("ombudsman-kepatuhan", "2019"))


async def test_a_close_records_why_each_item_lapsed_and_skips_closed_ones(h):
    rids = sorted(r.id for r in h.uow.recommendations.rows.values() if r.framework == "ombudsman-kepatuhan")
    h.uow.recommendations.rows[rids[0]].status = Status.VERIFIED              # closed before the cycle ended
    outcome = await h.handle(commands.CloseCycle(actor=ORI, framework=ORI_2024[0], cycle=ORI_2024[1]))
    assert (outcome.lapsed, outcome.closed_by, outcome.report.status) == (4, "ori", "closed")
    assert outcome.report.totals.lapsed == 4 and outcome.report.totals.verified == 1
    assert h.status(rids[0]) is Status.VERIFIED
    assert {h.status(r) for r in rids[1:]} == {Status.LAPSED}
    lapses = [e for e in h.uow.audit.entries if e.action == Action.LAPSE.value]
    assert sorted(e.recommendation_id for e in lapses) == rids[1:]
    assert {e.actor for e in lapses} == {"ori"}
    assert {e.comment for e in lapses} == {"Siklus ombudsman-kepatuhan 2024 ditutup; rekomendasi belum selesai"}
    assert all(e.details["framework"] == "ombudsman-kepatuhan" and e.details["cycle"] == "2024"
               and isinstance(e.details["days_overdue"], int) for e in lapses)
    changed = [m for m in h.outbox("followup.changed") if m["data"]["to_status"] == "lapsed"]
    assert len(changed) == 4
    stored = await _report(h, SEKDA_KOTA, ORI_2024)                          # read back after the close
    assert (stored.status, stored.closed_by, stored.totals.lapsed) == ("closed", "ori", 4)


async def test_the_report_message_has_one_id_per_cycle(h):
    outcome = await h.handle(commands.CloseCycle(actor=PANRB, framework=PEKPPP_2024[0], cycle=PEKPPP_2024[1]))
    [message] = [m for m in h.uow.outbox.messages if m.topic == "cycle.reported"]
    assert message.key == "panrb-pekppp/2024"
    assert message.event_id == str(uuid.uuid5(uuid.NAMESPACE_URL, f"{SOURCE}/panrb-pekppp/2024/reported"))
    assert message.headers == [("content-type", "application/cloudevents+json")]
    body = json.loads(message.value)
    assert (body["type"], body["source"], body["subject"]) == (wire.REPORTED_EVENT_TYPE, SOURCE, "panrb-pekppp/2024")
    assert body["data"]["closed_by"] == "panrb" and body["data"]["totals"]["lapsed"] == 3
    payload = wire.CycleReport.model_validate(body["data"])
    assert reported_message(payload).event_id == message.event_id                # a republished row keeps its id
    assert outcome.report.totals.total == 3


async def test_a_window_ends_when_its_last_day_is_over_in_wib(h):
    last_minute = datetime(2025, 6, 30, 16, 59, 59, tzinfo=timezone.utc)      # 23:59:59 WIB on 30 June
    midnight = datetime(2025, 6, 30, 17, 0, tzinfo=timezone.utc)               # 00:00 WIB on 1 July
    assert await due_cycles(h.uow, last_minute) == []
    assert await due_cycles(h.uow, midnight) == [ORI_2024, PEKPPP_2024]
    await h.handle(commands.CloseCycle(actor=ORI, framework=ORI_2024[0], cycle=ORI_2024[1]))
    assert await due_cycles(h.uow, midnight) == [PEKPPP_2024]                  # a closed cycle is not due again


async def test_a_close_that_loses_the_race_returns_the_winners_report(h):
    await h.handle(commands.CloseCycle(actor=PANRB, framework=PEKPPP_2024[0], cycle=PEKPPP_2024[1]))
    cycles, real_report = h.uow.cycles, h.uow.cycles.report
    looked = []

    async def report(framework, cycle):
        looked.append((framework, cycle))
        if len(looked) == 1:
            return None                       # the loser looked before the winner had stored its report
        return await real_report(framework, cycle)
    cycles.report = report
    h.now = h.now.replace(year=2026)
    outcome = await h.handle(commands.CloseCycle(actor=ORI, framework=PEKPPP_2024[0], cycle=PEKPPP_2024[1]))
    assert looked == [PEKPPP_2024, PEKPPP_2024]          # the second look finds the winner's report
    winner = await real_report(*PEKPPP_2024)
    assert (outcome.framework, outcome.cycle, outcome.closed_at, outcome.closed_by, outcome.lapsed,
            outcome.already_closed) == (*PEKPPP_2024, winner.closed_at, "panrb", 0, True)
    assert outcome.report.closed_by == "panrb" and outcome.report.totals.lapsed == 3
    assert outcome.report.score_change.as_of == h.now      # the comparison is computed now, from the live rows
    assert len([m for m in h.uow.outbox.messages if m.topic == "cycle.reported"]) == 1


async def test_a_close_that_fails_on_the_stored_report_without_one_raises(h):
    async def never_stored(framework, cycle):
        return None
    h.uow.cycles.report = never_stored
    await h.handle(commands.CloseCycle(actor=PANRB, framework=PEKPPP_2024[0], cycle=PEKPPP_2024[1]))
    with pytest.raises(CycleAlreadyClosed):       # the store refuses a second report; nobody else's to answer with
        await h.handle(commands.CloseCycle(actor=ORI, framework=PEKPPP_2024[0], cycle=PEKPPP_2024[1]))


async def test_a_cycle_closed_event_without_a_closer_is_closed_by_its_source(h):
    raw = json.dumps({"specversion": "1.0", "id": "c-9", "source": "urn:panrb", "type": wire.CLOSED_EVENT_TYPE,
                      "time": "2025-07-01T00:00:00+07:00", "datacontenttype": "application/json",
                      "data": {"framework": "panrb-pekppp", "cycle": "2024"}}).encode()
    from tindaklanjut.ports.messages import Origin

    assert await h.handle(commands.HandleCycleClosed(raw=raw, origin=Origin(topic="cycle.closed"))) == "closed"
    stored = await h.uow.cycles.report(*PEKPPP_2024)
    assert stored.closed_by == "urn:panrb"
    assert h.uow.processed.rows[("urn:panrb", "c-9")]["outcome"] == "processed"
