"""Where temp files live while a write is staged, and what is left of killed runs.

A new file's bytes go to an unnamed file (``O_TMPFILE``) in the target's
directory: no name, so no proxy can load it, and a crash leaves nothing.
Replacing a file needs a name to rename from for an instant; that name is
in a *spare* directory: ``.hostgw-tmp-<12 hex>``, made 0700 and locked
(``flock``) by the run that owns it, removed after. Where ``O_TMPFILE`` is
not supported (FUSE, overlayfs before Linux 6.6), the temp file itself is
written there.

A spare goes in the parent of the target's directory when that is on the
same mount and writable (then no include of the target's directory, not
even Caddy's ``import dir/*`` or httpd's ``Include dir/``, which see
hidden names, can reach it); else beside the target. Leftovers of killed
runs are removed by the next write there: a spare that no live run holds
locked, whose entries are all temp names, owned by this user (or any, for
root); and old versions' ``.NAME.<12 hex>.hostgw-tmp`` files older than a
minute.
"""

from __future__ import annotations

import fcntl
import os
import re
import stat
import time
from pathlib import Path

SPARE_PREFIX = ".hostgw-tmp-"
_SPARE = re.compile(r"\.hostgw-tmp-[0-9a-f]{12}\Z")
_TEMP = re.compile(r"[0-9]{1,6}\Z")  # temp names inside a spare
_LEGACY = re.compile(r"\..+\.[0-9a-f]{12}\.hostgw-tmp\Z", re.DOTALL)
_LEGACY_AGE = 60.0  # seconds: an old version's temp younger than this may be live
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | os.O_NOFOLLOW


def mount_points() -> frozenset[str]:
    """Every mount point of this mount namespace (``/proc/self/mountinfo``)."""
    try:
        with open("/proc/self/mountinfo", "rb") as handle:
            lines = handle.read().decode("utf-8", "surrogateescape").splitlines()
    except OSError:
        return frozenset()
    found = set()
    for line in lines:
        fields = line.split(" ")
        if len(fields) > 4:
            found.add(_unescape(fields[4]))
    return frozenset(found)


def _unescape(field: str) -> str:
    """mountinfo's octal escapes (``\\040`` for a space) undone."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


class Spare:
    """A private directory for temp names, locked while this run holds it open."""

    def __init__(
        self, holder: int, holder_path: Path, name: str, fd: int, *, own_holder: bool = False
    ) -> None:
        self.holder = holder  # fd of the directory holding it
        self.own_holder = own_holder  # close ``holder`` too when done
        self.path = holder_path / name
        self.name = name
        self.fd = fd
        self._next = 0

    def new_name(self) -> str:
        """A temp name not used yet in this spare."""
        self._next += 1
        return str(self._next)

    def remove(self) -> None:
        """Remove what is left in it, then it; close (and so unlock) it."""
        try:
            for entry in os.listdir(self.fd):
                if _TEMP.match(entry):
                    os.unlink(entry, dir_fd=self.fd)
            os.rmdir(self.name, dir_fd=self.holder)
        except OSError:
            pass  # a leftover the next run removes
        finally:
            os.close(self.fd)
            if self.own_holder:
                os.close(self.holder)


def make_spare(holder: int, holder_path: Path, *, own_holder: bool = False) -> Spare:
    """A new spare in the directory ``holder`` (an fd), locked; :class:`OSError` if not.

    With ``own_holder`` the spare closes ``holder`` when it is removed.
    """
    for _ in range(100):
        name = SPARE_PREFIX + os.urandom(6).hex()
        try:
            os.mkdir(name, 0o700, dir_fd=holder)
        except FileExistsError:
            continue
        try:
            fd = os.open(name, _DIR_FLAGS, dir_fd=holder)
        except FileNotFoundError:  # a sweeper took it before the lock: another name
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            mine = os.fstat(fd)
            now = os.stat(name, dir_fd=holder, follow_symlinks=False)
        except OSError:
            os.close(fd)
            continue
        if (mine.st_ino, mine.st_dev) == (now.st_ino, now.st_dev) and mine.st_nlink:
            return Spare(holder, holder_path, name, fd, own_holder=own_holder)
        os.close(fd)
    raise FileExistsError(f"no free temp directory name in {holder_path}")


def sweep(holder: int) -> list[str]:
    """Remove leftovers of killed runs from the directory ``holder``; return their names."""
    removed: list[str] = []
    try:
        names = os.listdir(holder)
    except OSError:
        return removed
    for name in names:
        try:
            spare = _SPARE.match(name) and _sweep_spare(holder, name)
            if spare or (_LEGACY.match(name) and _sweep_legacy(holder, name)):
                removed.append(name)
        except OSError:
            continue
    return removed


def _ours(st: os.stat_result) -> bool:
    euid = os.geteuid()
    return euid in (0, st.st_uid)


def _sweep_spare(holder: int, name: str) -> bool:
    fd = os.open(name, _DIR_FLAGS, dir_fd=holder)
    try:
        if not _ours(os.fstat(fd)):
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a live run holds it
        entries = os.listdir(fd)
        if not all(_TEMP.match(e) for e in entries):
            return False  # not only ours: leave it
        for entry in entries:
            os.unlink(entry, dir_fd=fd)
        os.rmdir(name, dir_fd=holder)
        return True
    finally:
        os.close(fd)


def _sweep_legacy(holder: int, name: str) -> bool:
    st = os.stat(name, dir_fd=holder, follow_symlinks=False)
    if not stat.S_ISREG(st.st_mode) or not _ours(st) or time.time() - st.st_mtime < _LEGACY_AGE:
        return False
    os.unlink(name, dir_fd=holder)
    return True
