"""nginx in a test's own prefix (pid, logs, temp paths inside it): its main config
and the real ``nginx -t``."""

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


def main_conf(prefix: Path, *, http: str | None = None, head: str = "", log: str = "") -> str:
    """An nginx.conf keeping everything under ``prefix``; ``http`` is the http
    block's own body (default: include ``prefix``/conf.d/*.conf), ``head`` goes
    first (load_module lines), ``log`` is the error_log level."""
    body = f"    include {prefix}/conf.d/*.conf;\n" if http is None else http
    temps = "".join(
        f"    {kind}_temp_path {prefix}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{head}pid {prefix}/nginx.pid;\nerror_log {prefix}/error.log{' ' + log if log else ''};\n"
        f"events {{ worker_connections 64; }}\nhttp {{\n    access_log off;\n{temps}{body}}}\n"
    )
