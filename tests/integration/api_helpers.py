"""Drive the API in-process (ASGI) with real databases."""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from datetime import datetime, timezone

import httpx

from tindaklanjut.api.app import create_api
from tindaklanjut.bootstrap import bootstrap
from tindaklanjut.domain.lifecycle import Role
from tindaklanjut.service_layer import users
from tindaklanjut.ports.messages import IngestAssessment, Origin


class Clock:
    """A controllable clock for the whole container."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@asynccontextmanager
async def api_client(settings, examples, now=datetime(2025, 1, 6, 2, 0, tzinfo=timezone.utc), *, failed_logins=None,
                     extra_documents=()):
    """Container with the three examples ingested, tokens for each role, and an ASGI client."""
    clock = Clock(now)
    container = bootstrap(settings, clock=clock)
    await container.ingest([IngestAssessment(raw=json.dumps(d).encode(), origin=Origin(topic="t", offset=i))
                            for i, d in enumerate([*examples.values(), *extra_documents])])
    tokens = {
        "evaluator": await users.add_user(container.uow, "evaluator-ori", Role.EVALUATOR),
        "evaluator2": await users.add_user(container.uow, "evaluator-panrb", Role.EVALUATOR),
        "kota": await users.add_user(container.uow, "operator-kota-jambi", Role.AGENCY, agency_id="15.71"),
        "prov": await users.add_user(container.uow, "operator-prov-jambi", Role.AGENCY, agency_id="15"),
        "sekda_kota": await users.add_user(container.uow, "sekda-kota-jambi", Role.SECRETARY, region="15.71"),
        "sekda_prov": await users.add_user(container.uow, "sekda-prov-jambi", Role.SECRETARY, region="15"),
        "sekda_aceh": await users.add_user(container.uow, "sekda-aceh", Role.SECRETARY, region="11"),
    }
    api = create_api(container, failed_logins=failed_logins)
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        client.tokens = tokens
        client.clock = clock
        client.container = container
        try:
            yield client
        finally:
            await container.close()


def auth(client, who: str) -> dict:
    return {"Authorization": f"Bearer {client.tokens[who]}"}


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
