"""The real ``nginx -t`` against a test's own prefix (pid, logs, temp paths inside it)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.helpers import require_tool


def nginx_args(prefix: Path) -> list[str]:
    """nginx options that point it at ``prefix`` (its nginx.conf and error.log)."""
    return ["-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log")]


def nginx_t(prefix: Path) -> subprocess.CompletedProcess[str]:
    """The real ``nginx -t -q`` on ``prefix``; the caller checks its return code."""
    return subprocess.run(
        [require_tool("nginx"), "-t", "-q", *nginx_args(prefix)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
