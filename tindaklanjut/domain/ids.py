"""Name-based ids: the same name always gives the same id, so a replay finds what it made before."""

from __future__ import annotations

import hashlib
import uuid


def name_based(namespace: uuid.UUID, name: str) -> str:
    """`str(uuid.uuid5(namespace, name))`, without building `UUID` objects: five of these are made
    for every assessment ingested, and the objects cost more than the hashing."""
    digest = bytearray(hashlib.sha1(namespace.bytes + name.encode("utf-8")).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50      # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80      # RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
