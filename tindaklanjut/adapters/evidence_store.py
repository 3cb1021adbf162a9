"""Evidence files behind one interface (`ports.evidence`): a local directory
(the embedded default) or S3-compatible object storage, so every API replica
serves every file. Files are named by their SHA-256 and never overwritten."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

from tindaklanjut.ports.evidence import AbstractEvidenceStore, EvidenceFile

CHUNK = 256 * 1024


class LocalEvidenceStore(AbstractEvidenceStore):
    """Under a storage root, two levels of hash prefix: `ab/cd/abcd…`."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        super().__init__(max_bytes)
        self.root = root

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    async def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    async def put(self, sha256: str, content: bytes) -> None:
        path = self.path_for(sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(content)
        os.replace(partial, path)

    async def read(self, sha256: str) -> EvidenceFile | None:
        path = self.path_for(sha256)
        if not path.is_file():
            return None

        async def chunks() -> AsyncIterator[bytes]:
            with path.open("rb") as handle:
                while block := handle.read(CHUNK):
                    yield block
        return EvidenceFile(size=path.stat().st_size, chunks=chunks())


class S3EvidenceStore(AbstractEvidenceStore):
    """An S3 bucket (Amazon S3, MinIO, SeaweedFS...), created when missing.
    Credentials come from the standard AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY."""

    def __init__(self, *, endpoint: str | None, bucket: str, region: str, max_bytes: int) -> None:
        super().__init__(max_bytes)
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.client = boto3.client("s3", endpoint_url=endpoint or None, region_name=region,
                                   config=Config(retries={"max_attempts": 3, "mode": "standard"},
                                                 s3={"addressing_style": "path"}))
        self._bucket_ready = False

    @staticmethod
    def key_for(sha256: str) -> str:
        return f"evidence/{sha256[:2]}/{sha256}"

    async def _ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        from botocore.exceptions import ClientError

        try:
            await asyncio.to_thread(self.client.head_bucket, Bucket=self.bucket)
        except ClientError:
            await asyncio.to_thread(self.client.create_bucket, Bucket=self.bucket)
        self._bucket_ready = True

    async def exists(self, sha256: str) -> bool:
        from botocore.exceptions import ClientError

        await self._ensure_bucket()
        try:
            await asyncio.to_thread(self.client.head_object, Bucket=self.bucket, Key=self.key_for(sha256))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    async def put(self, sha256: str, content: bytes) -> None:
        await self._ensure_bucket()      # a PUT is atomic: readers see the whole object or none
        await asyncio.to_thread(self.client.put_object, Bucket=self.bucket, Key=self.key_for(sha256), Body=content,
                                ContentType="application/octet-stream")

    async def read(self, sha256: str) -> EvidenceFile | None:
        from botocore.exceptions import ClientError

        await self._ensure_bucket()
        try:
            answer = await asyncio.to_thread(self.client.get_object, Bucket=self.bucket, Key=self.key_for(sha256))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        body = answer["Body"]

        async def chunks() -> AsyncIterator[bytes]:
            try:
                while block := await asyncio.to_thread(body.read, CHUNK):
                    yield block
            finally:
                body.close()
        return EvidenceFile(size=answer["ContentLength"], chunks=chunks())


def evidence_store(settings) -> AbstractEvidenceStore:
    """The store the settings name (`TINDAKLANJUT_EVIDENCE_STORE=local|s3`)."""
    if settings.evidence_store == "s3":
        return S3EvidenceStore(endpoint=settings.evidence_s3_endpoint, bucket=settings.evidence_s3_bucket,
                               region=settings.evidence_s3_region, max_bytes=settings.evidence_max_bytes)
    return LocalEvidenceStore(settings.resolved_evidence_dir, settings.evidence_max_bytes)
