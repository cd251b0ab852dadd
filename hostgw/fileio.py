"""Writing files: atomically, only what changed, and diffs of what would change.

The one owner of "write a file": a reader sees the old bytes or the new,
never half. The new content goes to a temp file in the same directory, is fsynced, takes
the old file's mode and owner, and is renamed over the target; the directory
is fsynced last. Any failure removes the temp file and leaves the old file
byte-identical. A target that is a symlink is written through: the file it
points to is replaced, the link stays.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path

from hostgw.errors import OutputError

_NEW_FILE_MODE = 0o644  # the kernel applies the umask at creation
_MAX_STEM = 100  # keeps ".<stem>.<random>.hostgw-tmp" under NAME_MAX

#: What to write: bytes, or chunks written one after another (no joined copy).
Data = bytes | Sequence[bytes]


def _describe(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on device"
    if exc.errno == errno.EDQUOT:
        return "disk quota exceeded"
    if exc.errno == errno.EROFS:
        return "read-only file system"
    if exc.errno == errno.EFBIG:
        return "file too large (RLIMIT_FSIZE or filesystem limit)"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return exc.strerror or str(exc)


def write_atomic(path: str | os.PathLike[str], data: Data) -> None:
    """Replace ``path`` with ``data`` atomically, keeping mode and owner.

    A new file gets 0644 minus the umask. Raises :class:`OutputError` naming
    the file and the cause; the old file is then unchanged.
    """
    write_many([(Path(path), data)])


def write_many(items: Iterable[tuple[Path, Data]]) -> None:
    """Write several files all-or-nothing as far as the filesystem allows.

    Every temp file is written and fsynced before the first rename, so a full
    disk or a read-only directory fails before any target is touched. (A
    rename failing after another succeeded, which needs a fault between two
    renames in one directory, is the one case this cannot undo.)
    """
    staged: list[tuple[Path, Path]] = []
    target: Path | None = None
    try:
        for path, data in items:
            target = _follow(Path(path))
            staged.append((_stage(target, data), target))
        for temp, target in staged:
            os.replace(temp, target)
    except OutputError:
        raise
    except OSError as exc:
        raise OutputError(
            f"cannot write {target}: {_describe(exc)}",
            hint="the existing file was left unchanged; free space or make the "
            "directory writable, then run again",
        ) from exc
    finally:
        for temp, _ in staged:
            temp.unlink(missing_ok=True)  # renamed ones are gone already
    for directory in {t.parent for _, t in staged}:
        _fsync_dir(directory)


def _follow(target: Path) -> Path:
    """The file a symlink leads to (so the link survives), else ``target``."""
    if target.is_symlink():
        return Path(os.path.realpath(target))
    return target


def _stage(target: Path, data: Data) -> Path:
    """Write ``data`` to a temp file beside ``target`` and return its path."""
    directory = target.parent if str(target.parent) else Path(".")
    try:
        st: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise OutputError(f"cannot write {target}: not a regular file")
    fd, temp = _create_temp(directory, target.name)
    try:
        with os.fdopen(fd, "wb") as handle:
            if isinstance(data, bytes):
                handle.write(data)
            else:
                handle.writelines(data)
            handle.flush()
            if st is not None:  # owner first: a chown may clear set-id bits
                if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
                    os.fchown(handle.fileno(), st.st_uid, st.st_gid)
                os.fchmod(handle.fileno(), stat.S_IMODE(st.st_mode))
            os.fsync(handle.fileno())
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def _create_temp(directory: Path, name: str) -> tuple[int, Path]:
    """Create a new, unique temp file (mode 0644 minus the umask) in ``directory``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW
    for _ in range(100):
        temp = directory / f".{name[:_MAX_STEM]}.{os.urandom(6).hex()}.hostgw-tmp"
        try:
            return os.open(temp, flags, _NEW_FILE_MODE), temp
        except FileExistsError:
            continue
    raise OSError(errno.EEXIST, f"no free temp file name in {directory}")


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


# -- text ----------------------------------------------------------------------------


def decode(data: bytes) -> str:
    """A file's bytes as text, losslessly: :func:`encode` gives the same bytes back
    (UTF-8; any other byte stands for itself)."""
    return data.decode("utf-8", "surrogateescape")


def encode(text: str) -> bytes:
    """Text back to the exact bytes :func:`decode` read."""
    return text.encode("utf-8", "surrogateescape")


# -- what changed ----------------------------------------------------------------


def same(path: str | os.PathLike[str], data: Data) -> bool | None:
    """True if ``path`` holds exactly ``data``; None if it does not exist.

    Read chunk by chunk: a large output is never joined to be compared.
    """
    chunks = [data] if isinstance(data, bytes) else list(data)
    try:
        handle = open(path, "rb")  # noqa: SIM115 - read chunk by chunk below
    except FileNotFoundError:
        return None
    except OSError:
        return False
    with handle:
        if os.fstat(handle.fileno()).st_size != sum(map(len, chunks)):
            return False
        return all(handle.read(len(c)) == c for c in chunks)


def write_changed(planned: Iterable[tuple[Path, Data]]) -> list[Path]:
    """Write the files whose bytes differ from ``planned`` (all or none); return them."""
    changed = [(Path(path), data) for path, data in planned if not same(path, data)]
    if changed:
        write_many(changed)
    return [path for path, _ in changed]


def unified_diff(old: str, new: str, before: str, after: str) -> str:
    """A unified diff of two texts, with git's marker for a missing final newline."""
    import difflib

    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), before, after
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )
