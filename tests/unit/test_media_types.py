"""Evidence types decided from the content, never the name: each allowed signature, office
documents by their inner layout, and archives that would expand too far or hold too much."""

import io
import zipfile

import pytest

from tindaklanjut.domain import media_types
from tindaklanjut.domain.media_types import ALLOWED, detect_media_type


def _zip(entries: dict[str, bytes], compression=zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(("content", "expected"), [
    (b"%PDF-1.7\n...", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
    (b"\xff\xd8\xff\xe0JFIF", "image/jpeg"),
    (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 8, "application/msword"),
    (b"%PDF", None),                                       # a prefix of a signature is not the signature
    (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),                # RIFF, but audio
    (b"\x89PNG\r\n\x1a", None),
    (b"GIF89a", None),
    (b"", None),
    (b"PK\x03\x04not a zip", None),
])
def test_signatures(content, expected):
    assert detect_media_type(content) == expected


@pytest.mark.parametrize(("inner", "expected"), [
    ("word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("ppt/presentation.xml", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    ("docs/readme.txt", None),                               # content types, but no office part
])
def test_office_open_xml_by_its_parts(inner, expected):
    assert detect_media_type(_zip({"[Content_Types].xml": b"<Types/>", inner: b"<x/>"})) == expected
    assert detect_media_type(_zip({inner: b"<x/>"})) is None                 # no [Content_Types].xml


def test_open_document_by_its_mimetype_entry():
    odt = _zip({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"})
    ods = _zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet\n"})
    assert detect_media_type(odt) == "application/vnd.oasis.opendocument.text"
    assert detect_media_type(ods) == "application/vnd.oasis.opendocument.spreadsheet"    # trailing space ignored
    assert detect_media_type(_zip({"mimetype": b"application/epub+zip"})) is None         # a zip, not allowed
    assert detect_media_type(_zip({"mimetype": b"application/x-msdownload"})) is None


def test_archives_that_expand_too_far_or_hold_too_much_are_refused(monkeypatch):
    bomb = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"\x00" * 1_000_000},
                compression=zipfile.ZIP_DEFLATED)
    assert len(bomb) * media_types.MAX_ZIP_RATIO < 1_000_000                     # it compresses over 200x
    assert detect_media_type(bomb) is None
    modest = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"abc" * 100},
                  compression=zipfile.ZIP_DEFLATED)
    assert detect_media_type(modest) is not None
    monkeypatch.setattr(media_types, "MAX_ZIP_ENTRIES", 2)
    many = _zip({"[Content_Types].xml": b"<Types/>", "word/a.xml": b"1", "word/b.xml": b"2"})
    assert detect_media_type(many) is None
    monkeypatch.setattr(media_types, "MAX_ZIP_ENTRIES", 3)
    assert detect_media_type(many) is not None                                  # exactly at the limit
    monkeypatch.setattr(media_types, "MAX_ZIP_EXPANDED", 5)
    assert detect_media_type(many) is None


def test_every_allowed_type_has_its_extensions():
    assert ALLOWED["image/jpeg"] == (".jpg", ".jpeg")
    assert all(extensions and all(e.startswith(".") for e in extensions) for extensions in ALLOWED.values())
