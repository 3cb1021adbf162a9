"""The worker runs on uvloop unless the setting asks for the standard library's loop."""

import asyncio

import uvloop

from tindaklanjut.cli import _new_loop
from tindaklanjut.config import Settings


def test_the_worker_loop_is_uvloop_by_default_and_asyncio_on_request():
    for settings, kind in ((Settings(environment="test"), uvloop.Loop),
                           (Settings(environment="test", event_loop="asyncio"), asyncio.BaseEventLoop)):
        loop = _new_loop(settings)
        try:
            assert isinstance(loop, kind)
            assert loop.run_until_complete(asyncio.sleep(0, result="jalan")) == "jalan"
        finally:
            loop.close()
    assert not isinstance(_loop := _new_loop(Settings(environment="test", event_loop="asyncio")), uvloop.Loop)
    _loop.close()
