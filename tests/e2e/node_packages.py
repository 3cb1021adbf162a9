"""The Node.js packages the end-to-end tests use (`tests/e2e/node/`: kafkajs
for a non-Python Kafka client, axe-core for accessibility checks), installed
with `npm ci` from the lock file when missing or out of date."""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).parent / "node"


def _lock_mismatches() -> list[str]:
    """Packages of package-lock.json that node_modules/ lacks or holds in another version."""
    lock = json.loads((NODE_DIR / "package-lock.json").read_text("utf-8"))
    wrong = []
    for path, entry in lock["packages"].items():
        if not path or entry.get("dev") or entry.get("optional"):
            continue
        manifest = NODE_DIR / path / "package.json"
        try:
            installed = json.loads(manifest.read_text("utf-8")).get("version")
        except (OSError, ValueError):
            installed = None
        if installed != entry.get("version"):
            wrong.append(f"{path}: want {entry.get('version')}, have {installed}")
    return wrong


def ensure_node_modules() -> str:
    """Install the locked packages if needed; returns the path of `node`."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("`node` (Node.js >= 18) is not on PATH: the end-to-end tests use Node.js packages. "
                    "Install Node.js and npm (Debian: apt-get install nodejs npm; .ci/run does this).",
                    pytrace=False)
    if _lock_mismatches():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail(f"{NODE_DIR}/node_modules needs installing but `npm` is not on PATH "
                        "(Debian: apt-get install npm).", pytrace=False)
        # One installer at a time (parallel test processes share the directory).
        lock_path = Path(tempfile.gettempdir()) / f"tindaklanjut-npm-{hashlib.sha1(bytes(NODE_DIR)).hexdigest()[:12]}.lock"
        with open(lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if _lock_mismatches():
                result = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR,
                                        capture_output=True, text=True, timeout=600)
                if result.returncode != 0 or _lock_mismatches():
                    pytest.fail(f"`npm ci` in {NODE_DIR} failed (exit {result.returncode}):\n"
                                f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}", pytrace=False)
    return node
