"""The rewrite command as the rewrite tests run it: a sample config, the runner, the kept copy."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.helpers import Done
from tests.helpers import run as run_hostgw

CONF = """\
upstream app { server backend:8000 max_fails=2; keepalive 8; }
server {
    listen 8080;
    # proxy_pass http://backend:8000;
    location / { proxy_pass http://app; }
    location /api/ { proxy_pass http://backend:8000/api/; }
}
"""


def run(
    *args: str,
    gw: str = "10.213.0.1",
    stdin: str | None = None,
    cwd: Path | None = None,
    wrap: Sequence[str] = (),
    extra: Mapping[str, str] | None = None,
    **env: str,
) -> Done:
    """Run ``hostgw rewrite ARGS`` with HOSTGW_IP=gw (detection's explicit override)."""
    return hostgw(
        "rewrite", *args, gw=gw, stdin=stdin, cwd=cwd, wrap=wrap, extra={**(extra or {}), **env}
    )


def hostgw(
    command: str,
    *args: str,
    gw: str = "10.213.0.1",
    stdin: str | None = None,
    cwd: Path | None = None,
    wrap: Sequence[str] = (),
    extra: Mapping[str, str] | None = None,
    **env: str,
) -> Done:
    """Run ``[WRAP...] hostgw COMMAND ARGS``: no HOSTGW_* of ours but HOSTGW_IP=gw, ``extra``
    and ``env`` (names as keywords; ``extra`` for names held in a variable).

    HOSTGW_STATE_DIR (the session's temp state directory) is kept unless
    they set it; set to "" it is removed.
    """
    full = {k: v for k, v in os.environ.items() if not k.startswith("HOSTGW_") or k == STATE}
    full.update({"HOSTGW_IP": gw, **(extra or {}), **env})
    if not full.get(STATE):
        full.pop(STATE, None)
    return run_hostgw(command, *args, env=full, input=stdin, cwd=cwd, wrap=wrap)


STATE = "HOSTGW_STATE_DIR"


def kept(path: Path, state: str | Path | None = None) -> Path:
    """Where the original of ``path`` is kept: STATE/pristine/REAL/PATH."""
    root = Path(state or os.environ[STATE])
    return root / "pristine" / path.resolve().relative_to("/")
