"""Bounded waits for tests that drive real processes: poll, never assert on time.

A test waits for what a process leaves behind (a line in its log, a file's
new content, a listening socket) with :func:`until`, and reads files that
may not exist yet with :func:`read`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path


def read(path: Path) -> str:
    """The text of ``path``, or ``''`` while it does not exist."""
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


def until(
    what: str,
    check: Callable[[], object],
    timeout: float = 30.0,
    log: Path | None = None,
    interval: float = 0.02,
) -> None:
    """Poll ``check`` until it is true (bounded); fail naming ``what`` if it never is.

    The failure shows ``log`` (e.g. the stderr file of the process waited on).
    """
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            shown = f"\n{log}:\n{read(log)}" if log is not None else ""
            raise AssertionError(f"timed out waiting for {what}{shown}")
        time.sleep(interval)
