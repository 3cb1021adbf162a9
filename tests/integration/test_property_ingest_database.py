"""The interleaving property again, against the real databases."""

from hypothesis import HealthCheck, given, settings as hypothesis_settings
from sqlalchemy import func, select

from tindaklanjut.adapters import orm
from tindaklanjut.bootstrap import bootstrap
from tindaklanjut.ports.messages import IngestAssessment, Origin

from tests.strategies import interleaved


async def _count(container, table):
    async with container.sessions() as session:
        return await session.scalar(select(func.count()).select_from(table))


@hypothesis_settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(messages=interleaved())
async def test_nothing_lost_nothing_crashed(settings, messages):
    container = bootstrap(settings)
    try:
        before = (await _count(container, orm.AssessmentRow), await _count(container, orm.DeadLetterRow))
        offset = before[0] + before[1]       # the database is shared by the examples: keep offsets unique
        commands = [IngestAssessment(raw=raw, origin=Origin(topic="assessment.published", offset=offset + i))
                    for i, (_, raw) in enumerate(messages)]
        report = await container.ingest(commands)
        valid = sum(1 for ok, _ in messages if ok)
        assert (report.processed, report.dead_lettered) == (valid, len(messages) - valid)
        after = (await _count(container, orm.AssessmentRow), await _count(container, orm.DeadLetterRow))
        assert (after[0] - before[0], after[1] - before[1]) == (valid, len(messages) - valid)
    finally:
        await container.close()
