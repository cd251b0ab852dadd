"""Self-signed certificates for tests, made by the real openssl."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.helpers import require_tool


def self_signed(cert: Path, key: Path, name: str, *, san: str | None = None) -> None:
    """Write a self-signed certificate for ``CN=name`` (valid 2 days) and its key.

    ``san`` is a subjectAltName value such as ``IP:127.0.0.1``.
    """
    extra = ["-addext", f"subjectAltName={san}"] if san else []
    subprocess.run(
        [
            require_tool("openssl"),
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN={name}",
            *extra,
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
