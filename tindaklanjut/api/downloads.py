"""Serving an evidence file: one answer for the API and the web pages, under
the same scoping (404 for anyone who may not see the item)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from tindaklanjut.api import queries
from tindaklanjut.bootstrap import Container
from tindaklanjut.domain.lifecycle import Actor

INLINE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/webp"})


async def evidence_response(session: AsyncSession, container: Container, actor: Actor, recommendation_id: str,
                            sha256: str, *, inline: bool) -> StreamingResponse | None:
    """The file as a download (inline only for PDF and images when asked), or None."""
    version = await queries.evidence_file(session, actor, recommendation_id, sha256)
    stored = await container.evidence_store.fetch(sha256) if version else None
    if stored is None:
        return None
    disposition = "inline" if inline and version.media_type in INLINE_TYPES else "attachment"
    name = version.filename or f"bukti-{sha256[:12]}"
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return StreamingResponse(stored.chunks, media_type=version.media_type or "application/octet-stream", headers={
        "Content-Disposition": f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
        "Content-Length": str(stored.size), "Cache-Control": "private, no-store"})
