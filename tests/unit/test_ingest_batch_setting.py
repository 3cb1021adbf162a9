"""`TINDAKLANJUT_INGEST_BATCH_SIZE` is bounded: a batch is one transaction and, with the one
prepared ahead, what the worker holds in memory."""

import pytest
from pydantic import ValidationError

from tindaklanjut.config import Settings


def test_the_default_batch_is_500(monkeypatch):
    monkeypatch.delenv("TINDAKLANJUT_INGEST_BATCH_SIZE", raising=False)
    assert Settings().ingest_batch_size == 500


@pytest.mark.parametrize("value", ["0", "5001", "-3"])
def test_a_batch_size_out_of_bounds_is_refused(monkeypatch, value):
    monkeypatch.setenv("TINDAKLANJUT_INGEST_BATCH_SIZE", value)
    with pytest.raises(ValidationError, match="ingest_batch_size"):
        Settings()


def test_a_batch_size_within_bounds_is_taken(monkeypatch):
    monkeypatch.setenv("TINDAKLANJUT_INGEST_BATCH_SIZE", "1000")
    assert Settings().ingest_batch_size == 1000
