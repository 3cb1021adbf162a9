"""An evaluator's `cycle.closed` event through the worker process: a real
broker, both databases, the report published on `cycle.reported`."""

import json
from datetime import datetime, timezone

from sqlalchemy import select

from tindaklanjut.adapters import kafka
from tindaklanjut.adapters.orm_followup import CycleReportRow
from tindaklanjut.bootstrap import bootstrap
from tindaklanjut.ports.messages import IngestAssessment, Origin

from tests.conftest import wait_for
from tests.kafka_helpers import consume, produce, settings_env, start, stop

CLOSED = {"specversion": "1.0", "id": "close-pekppp-2024", "source": "urn:evaluator:kemenpanrb",
          "type": "tindaklanjut.cycle.closed.v1", "time": "2025-07-01T03:00:00Z",
          "datacontenttype": "application/json", "subject": "panrb-pekppp/2024",
          "data": {"framework": "panrb-pekppp", "cycle": "2024", "closed_by": "evaluator-panrb"}}


async def test_a_cycle_closed_event_closes_the_cycle_and_the_report_is_published(kafka_settings, examples, tmp_path):
    settings = kafka_settings.model_copy(update={"api_enabled": False, "reminders_enabled": False})
    await kafka.ensure_topics(settings)
    container = bootstrap(settings, clock=lambda: datetime(2024, 12, 21, 1, 0, tzinfo=timezone.utc))
    await container.ingest([IngestAssessment(raw=json.dumps(d).encode(), origin=Origin(topic="t", offset=i))
                            for i, d in enumerate(examples.values())])
    await produce(settings, "cycle.closed", [b"not json", json.dumps(CLOSED).encode(), json.dumps(CLOSED).encode()],
                  [None, "panrb-pekppp/2024", "panrb-pekppp/2024"])
    env = {**settings_env(settings), "TINDAKLANJUT_REMINDERS_ENABLED": "false"}
    worker = start("worker", env=env, log=tmp_path / "worker.log")
    try:
        async def reported():
            async with container.sessions() as session:
                return (await session.scalars(select(CycleReportRow))).all()
        [row] = await wait_for(reported, timeout=60)
        [message] = await consume(settings, "cycle.reported", expected=1, settle=0.5)
        assert await consume(settings, "deadletter", expected=1) != []
    finally:
        assert stop(worker) == 0, (tmp_path / "worker.log").read_text()
        await container.close()
    envelope = json.loads(message.value)
    assert (message.key, envelope["type"], envelope["data"]["closed_by"]) == (
        b"panrb-pekppp/2024", "tindaklanjut.cycle.reported.v1", "evaluator-panrb")
    assert envelope["data"]["totals"]["lapsed"] == 3 == row.report["totals"]["lapsed"]
