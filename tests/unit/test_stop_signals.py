"""Ctrl-C and SIGTERM reach the thread that stops the embedded stack.

`tindaklanjut run` waits for its worker in the main thread. The kernel hands a process-wide signal
to any thread that does not block it; if the broker supervisor's thread took it, the main thread
stayed blocked in its wait and the stack ignored Ctrl-C (it hung under load in CI)."""

import signal
import time
from pathlib import Path

from tindaklanjut.adapters.broker import BrokerSupervisor


class _RunningProcess:
    def poll(self):
        return None


class _RunningBroker:
    process = _RunningProcess()


def _blocked_signals(native_id: int) -> set[int]:
    status = Path(f"/proc/self/task/{native_id}/status").read_text()
    mask = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigBlk:")), 16)
    return {number for number in range(1, 65) if mask & (1 << (number - 1))}


def test_the_broker_supervisor_thread_leaves_stop_signals_to_the_main_thread():
    supervisor = BrokerSupervisor(_RunningBroker(), on_restart=lambda: None, interval=0.01).start()
    try:
        deadline = time.monotonic() + 5
        while supervisor._thread.native_id is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)        # a few watch rounds
        blocked = _blocked_signals(supervisor._thread.native_id)
    finally:
        supervisor.stop()
    assert {signal.SIGINT, signal.SIGTERM} <= blocked
    assert supervisor.restarts == 0
    assert not {signal.SIGINT, signal.SIGTERM} & signal.pthread_sigmask(signal.SIG_BLOCK, [])   # main thread untouched
