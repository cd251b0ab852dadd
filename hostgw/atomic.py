"""Atomic file replacement: a reader sees the old bytes or the new, never half.

The new content goes to a temp file in the same directory, is fsynced, takes
the old file's mode and owner, and is renamed over the target; the directory
is fsynced last. Any failure removes the temp file and leaves the old file
byte-identical.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from hostgw.errors import OutputError

_NEW_FILE_MODE = 0o644


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _describe(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on device"
    if exc.errno == errno.EROFS:
        return "read-only file system"
    if exc.errno == errno.EFBIG:
        return "file too large (RLIMIT_FSIZE or filesystem limit)"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return exc.strerror or str(exc)


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically, keeping mode and owner.

    A new file gets 0644 minus the umask. Raises :class:`OutputError` naming
    the file and the cause; the old file is then unchanged.
    """
    write_many([(Path(path), data)])


def write_many(items: Iterable[tuple[Path, bytes]]) -> None:
    """Write several files all-or-nothing as far as the filesystem allows.

    Every temp file is written and fsynced before the first rename, so a full
    disk or a read-only directory fails before any target is touched.
    """
    staged: list[tuple[Path, Path]] = []
    try:
        for target, data in items:
            staged.append((_stage(target, data), target))
        for temp, target in staged:
            os.replace(temp, target)
    except OSError as exc:
        raise OutputError(
            f"cannot write {getattr(exc, 'filename', None) or target}: {_describe(exc)}",
            hint="the existing file was left unchanged; free space or make the "
            "directory writable, then run again",
        ) from exc
    finally:
        for temp, _ in staged:
            try:
                temp.unlink()
            except FileNotFoundError:
                pass
    for directory in {target.parent for _, target in staged}:
        _fsync_dir(directory)


def _stage(target: Path, data: bytes) -> Path:
    """Write ``data`` to a temp file beside ``target`` and return its path."""
    directory = target.parent if str(target.parent) else Path(".")
    try:
        st: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise OutputError(f"cannot write {target}: not a regular file")
    fd, name = _mkstemp(directory, target.name)
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if st is None:
            os.chmod(temp, _NEW_FILE_MODE & ~_umask())
        else:
            os.chmod(temp, stat.S_IMODE(st.st_mode))
            if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
                os.chown(temp, st.st_uid, st.st_gid)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def _mkstemp(directory: Path, stem: str) -> tuple[int, str]:
    import tempfile  # only writers pay for it

    return tempfile.mkstemp(prefix=f".{stem}.", suffix=".hostgw-tmp", dir=directory)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
