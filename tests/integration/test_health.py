"""Liveness, readiness and metrics, on both databases, against a real broker."""

from __future__ import annotations

from sqlalchemy import text

from tests.integration.api_helpers import api_client, auth
from tindaklanjut.adapters import migrate


async def test_ready_only_with_the_database_at_head_and_a_broker(settings, examples, broker):
    async with api_client(settings, examples) as client:          # broker 127.0.0.1:1: nothing listens
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        refused = await client.get("/readyz")
        assert refused.status_code == 503
        assert refused.json()["checks"]["database"] == "ok"
        assert refused.json()["checks"]["broker"].startswith("broker unreachable: 127.0.0.1:1")
        client.container.settings = client.container.settings.model_copy(
            update={"kafka_bootstrap": broker.bootstrap})
        ready = await client.get("/readyz")
        assert (ready.status_code, ready.json()["status"]) == (200, "ready")
        async with client.container.sessions() as session, session.begin():
            await session.execute(text("UPDATE alembic_version SET version_num = '0005_hardening'"))
        behind = await client.get("/readyz")
        assert behind.status_code == 503 and f"head is {sorted(migrate.head_revisions())}" in behind.json()["checks"]["database"]


async def test_metrics_count_requests_by_route_and_read_shared_counts(settings, examples):
    async with api_client(settings, examples) as client:
        listed = (await client.get("/api/v1/recommendations", headers=auth(client, "kota"))).json()
        await client.get(f"/api/v1/recommendations/{listed[0]['id']}", headers=auth(client, "kota"))
        await client.get("/api/v1/recommendations/tidak-ada", headers=auth(client, "kota"))
        body = (await client.get("/metrics")).text
        assert 'tindaklanjut_http_requests_total{method="GET",route="/api/v1/recommendations",status="200"} 1.0' in body
        assert ('tindaklanjut_http_requests_total{method="GET",route="/api/v1/recommendations/{recommendation_id}",'
                'status="404"} 1.0') in body
        assert "tindaklanjut_outbox_backlog 8.0" in body              # eight issued, none relayed (no broker)
        assert 'tindaklanjut_events_processed{outcome="processed",type="tindaklanjut.assessment.published.v1"} 3.0' \
            in body
        assert "tindaklanjut_http_request_seconds_bucket" in body
        assert "tindaklanjut_consumer_lag_up 0.0" in body             # no broker: the scrape still answers


async def test_every_answer_carries_a_request_id(settings, examples):
    async with api_client(settings, examples) as client:
        echoed = await client.get("/healthz", headers={"X-Request-ID": "jambi-2025-0001"})
        assert echoed.headers["x-request-id"] == "jambi-2025-0001"
        made = await client.get("/healthz", headers={"X-Request-ID": "<script>"})
        assert made.headers["x-request-id"] != "<script>" and len(made.headers["x-request-id"]) == 32
        assert (await client.get("/api/v1/recommendations")).headers["x-request-id"]     # refusals too
