"""Real mounts for tests: a tmpfs of a given size, unmounted by its own name at the end.

Each tmpfs gets a source name of its own (``hostgw-test-<hex>``), and is
unmounted where ``/proc/self/mountinfo`` says that name is mounted now: a
pytest run beside this one may have moved the directory it was mounted on
(its clean-up renames old temp directories before removing them), and an
unmount by the old path would leave the mount behind. One that is busy (a
file the code under test left open on it) is detached lazily, and the test
fails.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` (``64k``, ``4m``) mounted on ``where`` (made if missing)."""
    where.mkdir(exist_ok=True)
    source = f"hostgw-test-{secrets.token_hex(6)}"
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", source, str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    try:
        yield where
    finally:
        busy = []
        for point in mounted_at(source):
            gone = subprocess.run(["umount", point], capture_output=True, text=True, check=False)
            if gone.returncode != 0:  # a file left open on it: detach it all the same
                subprocess.run(["umount", "--lazy", point], check=False)
                busy.append(f"{point}: {gone.stderr.strip()}")
        assert not busy, f"{source} was busy (a file left open on it?): {busy}"


def mounted_at(source: str) -> list[str]:
    """Where the mounts of ``source`` are now, deepest first (from /proc/self/mountinfo)."""
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        sep = fields.index("-")
        if fields[sep + 2] == source:
            # the mount point is octal-escaped (a space is \040)
            points.append(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), fields[4]))
    return points[::-1]
