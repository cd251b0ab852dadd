"""The ``hostgw`` command's entry point: start-up with the cyclic GC paused."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest

import hostgw.cli
from hostgw.__main__ import start


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


def test_the_console_script_and_python_m_start_the_same_way() -> None:
    # the console script of this venv, as pip generated it from pyproject.toml
    script = Path(sys.prefix, "bin", "hostgw").read_text()
    assert "from hostgw.__main__ import start" in script, "stale venv: pip install -e ."
    done = subprocess.run(
        [sys.executable, "-m", "hostgw", "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and "Usage: hostgw" in done.stdout
