"""The ``hostgw`` command's entry point: start-up with the cyclic GC paused."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest

import hostgw.cli
from hostgw.__main__ import start
from tests.helpers import hostgw_cmd

# Counts the collector's passes before anything is frozen, in a fresh
# process: {load} loads the command line and runs `hostgw --help`.
_PROBE = """
import gc, sys
import hostgw
early = []
def seen(phase, info):
    if phase == "start" and not gc.get_freeze_count():
        early.append(info)
gc.callbacks.append(seen)
sys.argv = ["hostgw", "--help"]
try:
    {load}
except SystemExit:
    pass
print(len(early), file=sys.stderr)
"""


def _passes_before_freezing(load: str) -> int:
    code = _PROBE.format(load=load)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Usage: hostgw" in done.stdout, done.stderr
    return int(done.stderr.split()[-1])


def test_loading_the_command_line_runs_no_collection() -> None:
    assert _passes_before_freezing("from hostgw.__main__ import start; start()") == 0
    # the same load without the pause: the collector does run (so the probe can see it)
    assert _passes_before_freezing("from hostgw.cli import main; main()") > 0


def test_the_command_runs_with_collection_on_and_start_up_frozen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[bool, int]] = []
    monkeypatch.setattr(
        hostgw.cli, "main", lambda: seen.append((gc.isenabled(), gc.get_freeze_count()))
    )
    try:
        start()
    finally:
        gc.unfreeze()
        gc.enable()
    ((enabled, frozen),) = seen
    assert enabled, "the command must run with the collector on (a long watch needs it)"
    assert frozen > 10_000, "what start-up loaded should be frozen, not scanned again"


def test_a_failed_load_leaves_the_collector_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "hostgw.cli", None)  # makes the import fail
    with pytest.raises(ImportError):
        start()
    assert gc.isenabled()


def test_the_console_script_and_python_m_start_the_same_way() -> None:
    command = hostgw_cmd()
    if len(command) == 1:  # the console script pip generated from pyproject.toml
        script = Path(command[0]).read_text()
        assert "from hostgw.__main__ import start" in script, "stale venv: pip install -e ."
    done = subprocess.run(
        [sys.executable, "-m", "hostgw", "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and "Usage: hostgw" in done.stdout
