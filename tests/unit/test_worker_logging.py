"""The worker's logging set-up leaves debug records off: faust's terminal spinner would set the
root logger to DEBUG, and every library would build records that nobody prints."""

from __future__ import annotations

import asyncio
import logging

import faust
import pytest

from tindaklanjut.services.worker import Worker


@pytest.fixture
def root_logger_restored():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)


def test_worker_logging_keeps_debug_records_off(tmp_path, root_logger_restored):
    loop = asyncio.new_event_loop()
    try:
        app = faust.App("logging-test", broker="kafka://127.0.0.1:1", web_enabled=False, datadir=str(tmp_path),
                        loop=loop)
        worker = Worker(app, loglevel="WARNING", quiet=True, redirect_stdouts=False, shutdown_grace=1.0, loop=loop)
        worker._setup_logging()      # what the worker does when it starts
    finally:
        loop.close()
    root = root_logger_restored
    assert root.level == logging.WARNING
    assert [type(handler).__name__ for handler in root.handlers] == ["StreamHandler"]
    for name in ("aiokafka", "aiokafka.conn", "aiosqlite"):
        assert not logging.getLogger(name).isEnabledFor(logging.DEBUG)
    assert logging.getLogger("aiokafka").isEnabledFor(logging.WARNING)
