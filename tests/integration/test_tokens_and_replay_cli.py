"""`tindaklanjut tokens list|revoke` and `tindaklanjut outbox replay`, as an operator runs them."""

import json

from tindaklanjut.adapters.outbox_relay import OutboxRelay
from tindaklanjut.bootstrap import bootstrap
from tindaklanjut.service_layer import users
from tindaklanjut.ports.messages import IngestAssessment, Origin

from tests.kafka_helpers import cli, consume, relay_container, settings_env


async def test_tokens_are_listed_and_revoked_from_the_command_line(settings):
    env = settings_env(settings)
    added = cli("users", "add", "ori-jambi", "--role", "evaluator", "--expires-in-days", "30", env=env)
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip()
    listed = json.loads(cli("tokens", "list", "--format", "json", env=env).stdout)
    assert [(t["name"], t["state"]) for t in listed] == [("ori-jambi", "active")]
    assert listed[0]["expires_at"] is not None
    revoked = cli("tokens", "revoke", "ori-jambi", env=env)
    assert revoked.returncode == 0 and "dicabut" in revoked.stdout
    assert json.loads(cli("tokens", "list", "--format", "json", env=env).stdout)[0]["state"] == "revoked"
    container = bootstrap(settings)
    try:
        assert await users.authenticate(container.uow, token) is None
    finally:
        await container.close()
    unknown = cli("tokens", "revoke", "tidak-ada", env=env)
    assert unknown.returncode == 2 and "tidak ada" in unknown.stderr


async def test_outbox_replay_publishes_again_what_a_broker_lost(kafka_settings, examples):
    settings = kafka_settings
    async with relay_container(settings) as (container, producer):
        await container.ingest([IngestAssessment(raw=json.dumps(d).encode(),
                                                 origin=Origin(topic="assessment.published", offset=i))
                                for i, d in enumerate(examples.values())])
        assert await OutboxRelay(container.sessions, producer, settings).relay_once() == 8
    assert len(await consume(settings, "recommendation.issued", expected=8)) == 8
    replay = cli("outbox", "replay", "--since", "2000-01-01T00:00+07:00", env=settings_env(settings))
    assert replay.returncode == 0, replay.stderr
    assert "8 pesan outbox" in replay.stdout and "8 pesan diterbitkan" in replay.stdout
    again = await consume(settings, "recommendation.issued", expected=16, settle=0.3)
    assert len(again) == 16 and len({m.value for m in again}) == 8      # the same events, same ids
