"""The worker as a child process of the embedded stack (`tindaklanjut run`).

The parent owns the broker; the worker runs apart so that the parent can
restart it after the broker came back empty (a consumer group that lost its
coordinator and its offsets rejoins reliably only as a new process), and so
that on Ctrl-C the worker stops first and the broker last.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

from tindaklanjut.adapters.broker import child_setup

EXIT_FORCED = 70                    # the worker's own code for a stop that had to be forced


class WorkerProcess:
    def __init__(self, env: dict[str, str], *, grace: float) -> None:
        self.env, self.grace = env, grace
        self.process: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._restarting = False

    def start(self) -> "WorkerProcess":
        self.process = subprocess.Popen([sys.executable, "-m", "tindaklanjut.cli", "worker"], env=self.env,
                                        preexec_fn=child_setup, start_new_session=True)
        return self

    def stop(self) -> int:
        """SIGTERM, then SIGKILL after the grace period (the worker has its own)."""
        process = self.process
        if process is None:
            return 0
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            return process.wait(self.grace + 5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            sys.stderr.write(f"the worker did not stop within {self.grace + 5:g}s; killed\n")
            return EXIT_FORCED      # as the worker itself exits when its graceful stop takes too long

    def restart(self) -> None:
        with self._lock:
            self._restarting = True
        try:
            self.stop()
            self.start()
        finally:
            with self._lock:
                self._restarting = False

    def wait(self) -> int:
        """Until the worker exits for good (not because of a restart)."""
        while True:
            process = self.process
            code = process.wait()
            with self._lock:
                if not self._restarting and process is self.process:
                    return code
            time.sleep(0.05)


def interrupt_on_sigterm() -> None:
    """Ctrl-C (also when started from a script that ignores it) and SIGTERM
    stop the stack; its children are in sessions of their own, so the stack
    stops them in order: the worker first, the broker last."""
    interrupted = []

    def handler(*_):
        # Only the first signal interrupts: a second one (Ctrl-C, then SIGTERM from a script) can
        # arrive while the cleanup is starting, before it ignores further signals.
        if not interrupted:
            interrupted.append(True)
            raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def exit_code_after_interrupt(code: int) -> int:
    # A worker stopped by our SIGTERM or the terminal's SIGINT ended as asked.
    return 0 if code in (0, -signal.SIGTERM, -signal.SIGINT) else code

