"""The package as a user installs it: `pip install .` into a fresh virtualenv,
no extras, not editable; the services start their command line and every
module imports."""

import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

IMPORT_EVERY_MODULE = """
import importlib, pkgutil, tindaklanjut
names = [m.name for m in pkgutil.walk_packages(tindaklanjut.__path__, "tindaklanjut.")]
failed = []
for name in names:
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed.append(f"{name}: {exc!r}")
assert not failed, failed
assert "tindaklanjut.events.wire" in names and "tindaklanjut.services.worker" in names
print(len(names))
"""


def test_a_plain_install_runs_the_worker_and_the_api(tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # From a copy: building in the checkout would write `build/` and `*.egg-info` next to the
    # sources that the development install imports (the later tests then ran with that metadata).
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv*", "build", "*.egg-info", "mutants", "var", "node_modules", "__pycache__"))
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(source)], capture_output=True,
                             text=True, timeout=600)
    assert install.returncode == 0, install.stderr[-3000:]
    for command in ("worker", "api"):
        result = subprocess.run([str(env_dir / "bin" / "tindaklanjut"), command, "--help"], capture_output=True,
                                text=True, cwd=tmp_path, timeout=120)
        assert result.returncode == 0 and "Usage" in result.stdout, result.stderr
    result = subprocess.run([str(python), "-c", IMPORT_EVERY_MODULE], capture_output=True, text=True, cwd=tmp_path,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout) > 80
    # Nothing from the test extras came along.
    listed = subprocess.run([str(python), "-m", "pip", "list"], capture_output=True, text=True).stdout.lower()
    assert "pytest" not in listed and "hypothesis" not in listed
    assert sys.executable != str(python)
