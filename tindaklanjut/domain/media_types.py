"""What may be uploaded as evidence: the type is decided from the content
(magic bytes, and the inner layout of office documents), never from the name."""

from __future__ import annotations

import io
import zipfile

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
