"""Ctrl-C and SIGTERM reach the thread that stops the embedded stack.

`tindaklanjut run` waits for its worker in the main thread. The kernel hands a process-wide signal
to any thread that does not block it; if the broker supervisor's thread took it, the main thread
stayed blocked in its wait and the stack ignored Ctrl-C (it hung under load in CI)."""

import signal
import threading
import time
from pathlib import Path

from tindaklanjut.adapters.broker import BrokerSupervisor, EmbeddedBroker

from tests.conftest import free_port


class _RunningProcess:
    def poll(self):
        return None


class _RunningBroker:
    process = _RunningProcess()


def _blocked_signals(status_path: str) -> set[int]:
    status = Path(status_path).read_text()
    mask = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigBlk:")), 16)
    return {number for number in range(1, 65) if mask & (1 << (number - 1))}


def test_the_broker_supervisor_thread_leaves_stop_signals_to_the_main_thread():
    supervisor = BrokerSupervisor(_RunningBroker(), on_restart=lambda: None, interval=0.01).start()
    status = f"/proc/self/task/{supervisor._thread.native_id}/status"
    try:
        deadline = time.monotonic() + 5         # the thread sets its mask first thing; give it time to run
        while not {signal.SIGINT, signal.SIGTERM} <= (blocked := _blocked_signals(status)) \
                and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        supervisor.stop()
    assert {signal.SIGINT, signal.SIGTERM} <= blocked
    assert supervisor.restarts == 0
    assert not {signal.SIGINT, signal.SIGTERM} & signal.pthread_sigmask(signal.SIG_BLOCK, [])   # main thread untouched


def test_a_broker_the_supervisor_starts_again_can_still_be_stopped(tmp_path):
    """The supervisor's thread blocks the stop signals, and a child inherits its starter's mask:
    the broker (and the worker) it starts again after a crash must not."""
    broker = EmbeddedBroker("127.0.0.1", free_port(), log_path=tmp_path / "broker.log").start()
    restarted = threading.Event()
    supervisor = BrokerSupervisor(broker, on_restart=restarted.set, interval=0.05).start()
    try:
        first = broker.process
        first.kill()
        first.wait()
        assert restarted.wait(20)
        again = broker.process
        assert again is not first and again.poll() is None
        assert not {signal.SIGINT, signal.SIGTERM} & _blocked_signals(f"/proc/{again.pid}/status")
    finally:
        supervisor.stop()
        broker.stop(timeout=10)
    assert again.returncode in (0, -signal.SIGTERM)      # it ended on SIGTERM, not killed after the timeout
