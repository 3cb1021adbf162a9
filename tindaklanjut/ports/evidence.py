"""Where evidence files live, as the handlers and the download routes see it:
content-addressed by SHA-256, never overwritten. The type checks (what may be
uploaded) are shared; where the bytes go is each store's own."""

from __future__ import annotations

import hashlib
import os
import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass

SHA256 = re.compile(r"[0-9a-f]{64}")


class EvidenceRejected(ValueError):
    """The upload is not acceptable (type or size); message in Bahasa Indonesia."""


class EvidenceTooLarge(EvidenceRejected):
    pass


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    media_type: str
    size: int


@dataclass(frozen=True)
class EvidenceFile:
    """A stored file on its way to a reader: its size and its bytes in chunks."""

    size: int
    chunks: AsyncIterator[bytes]


class AbstractEvidenceStore(ABC):
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    def check(self, filename: str, content: bytes) -> str:
        """The content's media type, if it may be stored under this name (EvidenceRejected otherwise)."""
        from tindaklanjut.domain.media_types import ALLOWED, detect_media_type

        if not content:
            raise EvidenceRejected("berkas kosong")
        if len(content) > self.max_bytes:
            raise EvidenceTooLarge(f"berkas melebihi batas {self.max_bytes // (1024 * 1024)} MB")
        media_type = detect_media_type(content)
        if media_type is None:
            raise EvidenceRejected("jenis berkas tidak diizinkan (PDF, gambar, atau dokumen perkantoran)")
        extension = os.path.splitext(filename.lower())[1]
        if extension not in ALLOWED[media_type]:
            raise EvidenceRejected(f"ekstensi {extension or '(tanpa ekstensi)'} tidak sesuai dengan isi berkas "
                                   f"({media_type})")
        return media_type

    async def save(self, filename: str, content: bytes) -> StoredFile:
        media_type = self.check(filename, content)
        digest = hashlib.sha256(content).hexdigest()
        if not await self.exists(digest):       # content-addressed: the same bytes are stored once
            await self.put(digest, content)
        return StoredFile(sha256=digest, media_type=media_type, size=len(content))

    @staticmethod
    def safe_name(filename: str | None) -> str:
        """The name to store and show: no directories, no control characters,
        no leading dots, at most 200 characters (the extension kept)."""
        name = re.split(r"[\\/]", filename or "")[-1]
        name = "".join(ch for ch in name if ch.isprintable()).strip().lstrip(".")
        stem, extension = os.path.splitext(name)
        name = stem[:200 - len(extension[:20])] + extension[:20]
        return name or "berkas"

    async def fetch(self, sha256: str) -> EvidenceFile | None:
        """The stored file for a hash, or None (unknown or malformed hash)."""
        if not SHA256.fullmatch(sha256):
            return None
        return await self.read(sha256)

    @abstractmethod
    async def exists(self, sha256: str) -> bool: ...

    @abstractmethod
    async def put(self, sha256: str, content: bytes) -> None:
        """Store new bytes under their hash, atomically (a reader never sees half a file)."""

    @abstractmethod
    async def read(self, sha256: str) -> EvidenceFile | None: ...
