"""A recommendation from issue to verification through the HTTP API of the
running stack, with three tokens made by `tindaklanjut users add`."""

import httpx

from tindaklanjut.config import Settings

from tests.conftest import free_port, wait_for
from tests.integration.api_helpers import PDF
from tests.kafka_helpers import cli, settings_env, start, stop


def _token(env, cwd, *args) -> str:
    result = cli("users", "add", *args, env=env, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


async def test_issue_to_verification_over_http(tmp_path, examples):
    broker_port = free_port()
    settings = Settings(environment="test", var_dir=tmp_path / "var", broker_port=broker_port,
                        kafka_bootstrap=f"127.0.0.1:{broker_port}", api_port=free_port())
    env = settings_env(settings)
    log = tmp_path / "run.log"
    stack = start("run", "--no-sample-data", env=env, cwd=tmp_path, log=log)
    base = f"http://127.0.0.1:{settings.api_port}"
    try:
        async def api_up():
            try:
                async with httpx.AsyncClient() as probe:
                    return (await probe.get(f"{base}/openapi.json")).status_code == 200
            except httpx.HTTPError:
                return False
        await wait_for(api_up, timeout=60, interval=0.3)
        evaluator = {"Authorization": f"Bearer {_token(env, tmp_path, 'ori-jambi', '--role', 'evaluator')}"}
        agency = {"Authorization": "Bearer " + _token(env, tmp_path, "operator-pemprov", "--role", "agency",
                                                     "--agency", "15")}
        other = {"Authorization": "Bearer " + _token(env, tmp_path, "operator-kota", "--role", "agency",
                                                    "--agency", "15.71")}
        secretary = {"Authorization": "Bearer " + _token(env, tmp_path, "sekda-jambi", "--role", "secretary",
                                                        "--region", "15")}
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            # the evaluator publishes through the API: the same Kafka path as any publisher
            for document in examples.values():
                r = await client.post("/api/v1/assessments", headers=evaluator, json=document)
                assert r.status_code == 202, r.text
            r = await client.post("/api/v1/assessments", headers=agency, json=examples["pekppp-2024-prov-jambi-dinsos"])
            assert r.status_code == 403

            async def issued():
                r = await client.get("/api/v1/recommendations", headers=agency)
                return len(r.json()) == 3 and r.json()
            recs = await wait_for(issued, timeout=60, interval=0.5)
            rid = next(r["id"] for r in recs if r["indicator_code"] == "V.4")

            assert (await client.get(f"/api/v1/recommendations/{rid}", headers=other)).status_code == 404
            r = await client.post(f"/api/v1/recommendations/{rid}/actions", headers=agency,
                                  json={"comment": "Petugas pemantau SP4N-LAPOR! ditunjuk"})
            assert r.json()["status"] == "in_progress"
            r = await client.post(f"/api/v1/recommendations/{rid}/extension", headers=agency,
                                  json={"new_due_date": "2025-03-31", "reason": "Integrasi kanal butuh waktu"})
            await client.post(f"/api/v1/requests/{r.json()['id']}/approve", headers=evaluator, json={})
            r = await client.post(f"/api/v1/recommendations/{rid}/evidence", headers=agency,
                                  files={"file": ("sk-petugas.pdf", PDF, "application/pdf")})
            assert r.status_code == 201
            await client.post(f"/api/v1/recommendations/{rid}/submit", headers=agency, json={})
            r = await client.post(f"/api/v1/recommendations/{rid}/request-changes", headers=evaluator,
                                  json={"comment": "Lampirkan rekap tindak lanjut pengaduan"})
            assert r.json()["status"] == "changes_requested"
            await client.post(f"/api/v1/recommendations/{rid}/links", headers=agency,
                              json={"url": "https://dinsos.jambiprov.go.id/rekap-pengaduan"})
            await client.post(f"/api/v1/recommendations/{rid}/submit", headers=agency, json={})
            r = await client.post(f"/api/v1/recommendations/{rid}/verify", headers=evaluator, json={"comment": "ok"})
            assert r.status_code == 200
            seen = await client.get(f"/api/v1/recommendations/{rid}", headers=secretary)
            body = seen.json()
            assert (body["status"], body["bpk_status"], body["due_date"]) == ("verified", "sesuai", "2025-03-31")
            assert [e["action"] for e in body["timeline"]] == [
                "action_recorded", "extension_requested", "extension_approved", "evidence_added", "submitted",
                "changes_requested", "evidence_added", "submitted", "verified"]
            docs = await client.get("/docs")
            assert docs.status_code == 200
    finally:
        code = stop(stack)
    assert code == 0, log.read_text()[-3000:]
