"""Evidence files, stored by SHA-256 under a storage root, never overwritten.

The type is decided from the content (magic bytes, and the inner layout of
office documents), and the file name's extension must agree with it.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

ALLOWED: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/webp": (".webp",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (".xlsx",),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (".pptx",),
    "application/vnd.oasis.opendocument.text": (".odt",),
    "application/vnd.oasis.opendocument.spreadsheet": (".ods",),
    "application/msword": (".doc", ".xls", ".ppt"),
}


class EvidenceRejected(ValueError):
    """The upload is not acceptable (type or size); message in Bahasa Indonesia."""


class EvidenceTooLarge(EvidenceRejected):
    pass


MAX_ZIP_ENTRIES = 10_000
MAX_ZIP_RATIO = 200            # declared uncompressed / compressed, over the whole archive
MAX_ZIP_EXPANDED = 1024 ** 3   # declared uncompressed total


def _sniff_zip(content: bytes) -> str | None:
    """Office documents by their inner layout, reading only the central
    directory and at most a few bytes of one entry: nothing is decompressed
    whole, so a zip bomb costs no memory."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ZIP_ENTRIES:
                return None
            expanded = sum(e.file_size for e in entries)
            if expanded > MAX_ZIP_EXPANDED or expanded > MAX_ZIP_RATIO * max(len(content), 1):
                return None
            names = {e.filename for e in entries}
            if "mimetype" in names:
                with archive.open("mimetype") as entry:
                    mimetype = entry.read(100).decode("ascii", "replace").strip()
                return mimetype if mimetype in ALLOWED else None
            if "[Content_Types].xml" in names:
                for prefix, media_type in (("word/", "wordprocessingml.document"), ("xl/", "spreadsheetml.sheet"),
                                           ("ppt/", "presentationml.presentation")):
                    if any(n.startswith(prefix) for n in names):
                        return f"application/vnd.openxmlformats-officedocument.{media_type}"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, ValueError, EOFError,
            OSError):
        return None
    return None


def detect_media_type(content: bytes) -> str | None:
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    if content.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "application/msword"
    if content.startswith(b"PK\x03\x04"):
        return _sniff_zip(content)
    return None


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    media_type: str
    size: int


class EvidenceStore:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root, self.max_bytes = root, max_bytes

    def check(self, filename: str, content: bytes) -> str:
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

    def save(self, filename: str, content: bytes) -> StoredFile:
        media_type = self.check(filename, content)
        digest = hashlib.sha256(content).hexdigest()
        path = self.path_for(digest)
        if not path.exists():          # content-addressed: the same bytes are stored once
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".part")
            partial.write_bytes(content)
            os.replace(partial, path)
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

    def open(self, sha256: str) -> Path | None:
        """The stored file for a hash, if it is there."""
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            return None
        path = self.path_for(sha256)
        return path if path.is_file() else None

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256
