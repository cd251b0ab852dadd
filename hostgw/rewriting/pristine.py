"""Where the originals of files rewritten in place are kept (I/O edge).

The original of ``/etc/nginx/conf.d/default.conf`` is kept in the state
directory, at ``STATE/pristine/etc/nginx/conf.d/default.conf``: the file's
real path (symlinks resolved, so two paths to one file share one copy)
mirrored under ``pristine/``. The state directory is ``--state-dir``, else
``HOSTGW_STATE_DIR``, else ``/var/lib/hostgw``; missing directories are made
0700.

Outside the config directories no server can load the copy. Where the state
directory cannot be made or written (a non-root image, a read-only
``/var``), the copy goes beside the file instead, hidden as
``.FILE.hostgw-orig``, as earlier versions kept it: nginx's ``include
dir/*`` skips hidden files. httpd (``Include dir/``) and Caddy (``import
dir/*``) may load it, so for those formats :data:`LOADED_BESIDE` says no.

A state directory this user cannot read (one an earlier run as root made
0700) is treated like one it cannot write: its copy is passed over, with
a warning naming the owner, and the copy goes beside the file.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from hostgw.errors import RewriteError
from hostgw.record import Record

DEFAULT_STATE_DIR = "/var/lib/hostgw"
STATE_DIR_ENV = "HOSTGW_STATE_DIR"
SUFFIX = ".hostgw-orig"
#: Formats whose servers may load a hidden copy kept beside the file.
LOADED_BESIDE = frozenset(("apache", "caddy"))
_ABSENT = (errno.ENOENT, errno.ENOTDIR)


def state_dir(
    given: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Path:
    """``given`` (``--state-dir``), else ``HOSTGW_STATE_DIR`` in ``env``, else /var/lib/hostgw."""
    if given:
        return Path(given)
    found = (os.environ if env is None else env).get(STATE_DIR_ENV)
    return Path(found or DEFAULT_STATE_DIR)


def in_state(state: Path, path: Path) -> Path:
    """Where the original of ``path`` is kept under ``state``: its real path mirrored."""
    real = os.path.realpath(path)
    return Path(os.path.abspath(state), "pristine", real.lstrip("/"))


def beside(path: Path) -> Path:
    """The hidden copy beside ``path``: ``dir/.FILE.hostgw-orig``."""
    return path.with_name(f".{path.name}{SUFFIX}")


def besides(path: Path) -> list[Path]:
    """Where a copy beside ``path`` may be: beside the path given, beside the real file."""
    return list(dict.fromkeys((beside(path), beside(Path(os.path.realpath(path))))))


class Kept(Record):
    """An original found on disk: its text and where it is."""

    text: str
    at: Path


def find(path: Path, state: Path, passed: list[str] | None = None) -> Kept | None:
    """The kept original of ``path``, or None on a first run.

    A copy beside the file wins over the state directory's: one is written
    only when the state directory could not be, or by an earlier version,
    so it is the newer. A state directory this user may not read is passed
    over (``passed`` gets why, one line).
    """
    from hostgw.fileio import decode, read_input

    home = in_state(state, path)
    for at in [*besides(path), home]:
        try:
            data = read_input(at)
        except OSError as exc:
            if exc.errno in _ABSENT:
                continue
            if at == home and exc.errno in (errno.EACCES, errno.EPERM) and passed is not None:
                passed.append(
                    f"the state directory {state} cannot be read by this user "
                    f"({denied(state)}), so an original kept there (by a run as another "
                    "user?) is not used: this file as it is now is taken as the original"
                )
                return None
            raise RewriteError(
                f"cannot read the original of {path} kept in {at}: {exc.strerror or exc}",
                path=str(path),
                hint=f"run as the user that rewrote it, or point --state-dir ({STATE_DIR_ENV}) "
                "at a directory this user can read and write",
            ) from exc
        return Kept(decode(data), at)
    return None


def prepare(state: Path, path: Path) -> Path:
    """Make the directories for the original of ``path`` (0700) and return its place.

    Raises :class:`OSError` when the state directory cannot be made or
    written (read-only file system, permission denied, a file in the way).
    """
    target = in_state(state, path)
    missing: list[Path] = []
    parent = target.parent
    while not os.path.isdir(parent):
        missing.append(parent)
        parent = parent.parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            if not os.path.isdir(directory):
                code = errno.ENOTDIR
                raise NotADirectoryError(code, os.strerror(code), str(directory)) from None
    if not os.access(target.parent, os.W_OK | os.X_OK):
        # access() honours a read-only mount even for root
        code = errno.EROFS if _read_only(target.parent) else errno.EACCES
        raise OSError(code, os.strerror(code), str(target.parent))
    return target


def denied(path: Path) -> str:
    """Why this user may not use ``path``: whose it is (the nearest part that exists)."""
    for part in [path, *path.parents]:
        try:
            st = os.stat(part)
        except OSError:
            continue
        mode = stat.S_IMODE(st.st_mode)
        return f"{part} belongs to uid {st.st_uid}, mode {mode:04o}; this is uid {os.geteuid()}"
    return f"this is uid {os.geteuid()}"


def _read_only(directory: Path) -> bool:
    try:
        return bool(os.statvfs(directory).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def like(copy: Path, original: os.stat_result) -> None:
    """Give ``copy`` the mode and owner of the file it is the original of.

    A chown this user may not do is skipped: the copy stays ours.
    """
    try:
        if (original.st_uid, original.st_gid) != (os.geteuid(), os.getegid()):
            os.chown(copy, original.st_uid, original.st_gid)
    except PermissionError:
        pass
    os.chmod(copy, stat.S_IMODE(original.st_mode))
