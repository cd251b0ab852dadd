"""Writing files: staged, checked, then atomic, through directory descriptors.

A reader sees the old bytes or the new, never half. Every new content is
written to an unnamed temp file in its target's directory (see
:mod:`hostgw.fileio.places`), fsynced, given the old file's owner, mode
and extended attributes, and only when every file of the run is staged
are they renamed over their targets (a new file is linked into place);
the directories are fsynced last. Any failure before that leaves every
old file byte-identical and no temp file behind.

- A target that is a symlink is written through: the file it points to is
  replaced, the link stays.
- Directory mode (``within``): the path is walked one directory at a time
  from the output directory with ``O_NOFOLLOW``, and every file operation
  is relative to the directory's descriptor, so a directory swapped for a
  symlink during the run cannot send a write outside it.
- A target that is a mount point (a file bind-mounted on its own, as
  ``docker run -v ./default.conf:/etc/nginx/conf.d/default.conf``) cannot
  be renamed over: its new bytes are staged in memory, space is reserved,
  and it is written in place and fsynced, with a note saying why.
- Only regular files are written: a FIFO or a device is refused before it
  is opened. ``-``, ``/dev/stdout`` and ``/dev/stderr`` are the streams.
- A missing output directory is refused (directory mode makes the
  subdirectories below its output directory).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import BinaryIO

from hostgw.errors import OutputError
from hostgw.fileio import places
from hostgw.record import Record

#: What to write: bytes, or chunks written one after another (no joined copy).
Data = bytes | Sequence[bytes]
Log = Callable[[str], None]

#: Output names that are streams, not files.
STREAMS = {"-": 1, "/dev/stdout": 1, "/dev/stderr": 2}
_NEW_FILE_MODE = 0o644  # the kernel applies the umask at creation
_NEW_DIR_MODE = 0o777  # minus the umask, as mkdir -p
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_KEPT_XATTRS = ("user.", "security.selinux", "system.posix_acl_access")
_NO_TMPFILE = (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL)
_KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a directory",
}


class Item(Record):
    """One file to write; ``within``: the directory it must stay inside (directory mode)."""

    path: Path
    data: Data
    within: Path | None = None


class Written(Record):
    """A file written (as the caller named it), and the one line to log about how, if it
    was not the usual way."""

    path: Path
    note: str | None = None


def stream_fd(path: str | os.PathLike[str]) -> int | None:
    """1 or 2 if ``path`` names stdout or stderr (``-``, ``/dev/stdout``, ``/dev/stderr``)."""
    return STREAMS.get(os.fspath(path))


def write_stream(path: str | os.PathLike[str], data: bytes | Iterable[bytes]) -> None:
    """Write ``data`` to the stream ``path`` names (see :func:`stream_fd`)."""
    text = sys.stderr if stream_fd(path) == 2 else sys.stdout
    text.flush()
    if isinstance(data, bytes):
        text.buffer.write(data)
    else:
        text.buffer.writelines(data)
    text.buffer.flush()


def write_atomic(path: str | os.PathLike[str], data: Data) -> None:
    """Replace ``path`` with ``data`` atomically, keeping mode and owner.

    A new file gets 0644 minus the umask. Raises :class:`OutputError` naming
    the file, the cause and the fix; the old file is then unchanged.
    """
    write_many([Item(Path(path), data)])


def write_many(
    items: Iterable[Item | tuple[Path, Data]], *, log: Log | None = None
) -> list[Written]:
    """Write several files all-or-nothing as far as the filesystem allows; return them.

    Every file is staged (written, fsynced, in-place targets opened and
    their space reserved) before the first rename, so a full disk, a
    read-only directory or a refused owner fails before any target is
    touched. (A rename failing after another succeeded, which needs a fault
    between two renames, is the one case this cannot undo.) Stream items
    are written after the files. Each note (why a write was not atomic, a
    hard link broken) goes to ``log`` (default: stderr).
    """
    with Batch() as batch:
        for item in items:
            batch.add(item)
        return batch.commit(log=log)


class Batch:
    """:func:`write_many` a step at a time: files staged one by one, whole (:meth:`add`)
    or from chunks as they are produced (:meth:`open`), then put in place together by
    :meth:`commit`. Leaving the ``with`` block without a commit leaves every old file
    as it was and no temp file behind."""

    def __init__(self) -> None:
        self._run = _Run()
        self._streams: list[Item] = []
        self._open: list[Staging] = []

    def __enter__(self) -> Batch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, item: Item | tuple[Path, Data]) -> None:
        """Stage ``item`` now (a stream item is written after the files, by :meth:`commit`)."""
        item = item if isinstance(item, Item) else Item(*item)
        if stream_fd(item.path) is not None:
            self._streams.append(item)
        else:
            self._run.stage(item)

    def open(self, path: Path, within: Path | None = None) -> Staging:
        """A file whose new bytes will come in chunks (see :class:`Staging`)."""
        staging = Staging(self._run, path, within)
        self._open.append(staging)
        return staging

    def commit(self, *, log: Log | None = None) -> list[Written]:
        """Put every staged file in place; log the notes; write the stream items."""
        run = self._run
        try:
            written = run.commit()
        finally:
            self.close()
        say = log or _stderr
        for note in [*run.notes, *(done.note for done in written if done.note)]:
            say(note)
        for item in self._streams:
            write_stream(item.path, item.data)
        return written

    def close(self) -> None:
        """Drop what was not put in place: temp files, descriptors, spares."""
        for staging in self._open:
            staging.drop()
        self._run.close()


class Staging:
    """A file of a :class:`Batch` whose new bytes arrive in chunks (:meth:`write`).

    They go straight to the temp file :func:`write_many` would use (unnamed
    where the filesystem allows it), and are compared with the old file on
    the way, so a large output is never held in memory. :meth:`finish`
    stages the file, or drops it if its bytes did not change (nothing is
    written then). For a mount point (written in place), the chunks are kept
    in memory until the commit. Directories it makes
    below an output directory (``within``) are removed again if the batch
    puts no file in place. A failure to open or write is raised by
    :meth:`finish`, and only if the bytes changed: an unchanged file needs no
    write, as with :func:`write_many`. Finish each file once its bytes are
    all written: until then it holds the old file open as well.
    """

    def __init__(self, run: _Run, path: Path, within: Path | None) -> None:
        self._run = run
        self._error: OutputError | None = None
        self._old: BinaryIO | None = None  # the old file, while the bytes match it so far
        self._job: _Job | None = None
        self._held: list[bytes] | None = None  # the chunks, when they are kept in memory
        try:
            self._job = job = run.prepare(Item(path, (), within))
            if job.st is not None:
                self._old = _open_old(job)
            if job.in_place:
                self._held = job.data
            else:
                run.open_temp(job)
        except OutputError as exc:
            self._error = exc

    def write(self, chunk: bytes) -> None:
        """The next chunk of the new bytes."""
        old = self._old
        if old is not None and old.read(len(chunk)) != chunk:
            self._old = None
            old.close()
        job = self._job
        if self._held is not None:
            self._held.append(chunk)
        elif job is not None and job.fd is not None and self._error is None:
            try:
                write_all(job.fd, chunk)
            except OSError as exc:
                self._error = _fail(exc, job.path, job.dir.path, "data")

    def finish(self) -> bool:
        """Stage the file; False (and nothing staged) if its bytes did not change."""
        old, self._old = self._old, None
        if old is not None:
            with old:
                unchanged = not old.read(1)
            if unchanged:
                self.drop()
                return False
        if self._error is not None:
            raise self._error
        job = self._job
        if job is None:  # finished already
            return False
        if self._held is not None:
            self._run.stage_prepared(job)
        else:
            self._run.jobs.append(job)
            self._run.seal(job)
        self._job = None  # the run owns it now
        return True

    def drop(self) -> None:
        """Forget the file: close its temp file (which goes with it) and the old one."""
        if self._old is not None:
            self._old.close()
            self._old = None
        job, self._job = self._job, None
        if job is not None and job.fd is not None:
            os.close(job.fd)
            job.fd = None


def _stderr(line: str) -> None:
    print(f"hostgw: {line}", file=sys.stderr, flush=True)


# -- the run ---------------------------------------------------------------------


class _Dir:
    """An open directory that targets are written into."""

    def __init__(self, fd: int, path: Path, real: str, may_use_parent: bool) -> None:
        self.fd = fd
        self.path = path  # as shown in messages
        self.real = real  # its real path, for mount points
        self.st = os.fstat(fd)
        self.may_use_parent = may_use_parent and real != "/"
        self.spare: places.Spare | None = None
        places.sweep(fd)

    def get_spare(self, mounts: frozenset[str]) -> places.Spare:
        """This directory's spare: in its parent if that is the same mount, else here."""
        if self.spare is None:
            self.spare = self._parent_spare(mounts) or places.make_spare(self.fd, self.path)
        return self.spare

    def _parent_spare(self, mounts: frozenset[str]) -> places.Spare | None:
        if not self.may_use_parent or self.real in mounts:
            return None
        try:
            parent = os.open("..", _DIR_FLAGS, dir_fd=self.fd)
        except OSError:
            return None
        try:
            if os.fstat(parent).st_dev == self.st.st_dev:
                places.sweep(parent)
                return places.make_spare(parent, Path(self.real).parent, own_holder=True)
        except OSError:
            pass
        os.close(parent)
        return None

    def close(self) -> None:
        """Remove the spare, close the descriptor."""
        if self.spare is not None:
            self.spare.remove()
        os.close(self.fd)


class _Job:
    """One file of the run: its directory, name, old state and staged bytes."""

    __slots__ = (
        "data",
        "dir",
        "fd",
        "given",
        "in_place",
        "name",
        "note",
        "path",
        "st",
        "temp",
    )

    def __init__(self, d: _Dir, name: str, path: Path, data: Data, given: Path) -> None:
        self.given = given  # the path as the caller named it
        self.dir = d
        self.name = name
        self.path = path
        self.data = [data] if isinstance(data, bytes) else list(data)
        self.st: os.stat_result | None = None
        self.fd: int | None = None
        self.temp: str | None = None  # its name in the spare (None: unnamed, or in place)
        self.in_place = False
        self.note: str | None = None


class _Run:
    def __init__(self) -> None:
        self.dirs: dict[tuple[str, ...], _Dir] = {}
        self.jobs: list[_Job] = []
        self.notes: list[str] = []  # about the run, not one file
        self._mounts: frozenset[str] | None = None
        # Directories this run made, as (parent descriptor or None, name), and whether
        # any file was put in place: a run that fails before that removes them.
        self.made: list[tuple[int | None, str]] = []
        self.placed = False

    @property
    def mounts(self) -> frozenset[str]:
        if self._mounts is None:
            self._mounts = places.mount_points()
        return self._mounts

    # -- finding the directory -----------------------------------------------
    def _plain_dir(self, target: Path) -> tuple[_Dir, str]:
        if target.is_symlink():  # write through: the link stays
            target = Path(os.path.realpath(target))
        parent = target.parent
        key = ("", os.path.abspath(parent))
        if key not in self.dirs:
            try:
                fd = os.open(parent, _DIR_FLAGS)
            except OSError as exc:
                raise _fail(exc, target, parent, "dir") from None
            self.dirs[key] = _Dir(fd, parent, os.path.realpath(parent), True)
        return self.dirs[key], target.name

    def _dir_within(self, target: Path, root: Path) -> tuple[_Dir, str]:
        try:
            rel = target.relative_to(root)
        except ValueError:
            raise OutputError(f"refusing to write {target}: it is outside {root}") from None
        parts = rel.parts
        if not parts or ".." in parts:
            raise OutputError(f"refusing to write {target}: it is outside {root}")
        key: tuple[str, ...] = (str(root),)
        if key not in self.dirs:
            if not os.path.lexists(root):
                missing = [root, *(p for p in root.parents if not os.path.lexists(p))]
                try:
                    os.makedirs(root, _NEW_DIR_MODE, exist_ok=True)
                    self.made.extend((None, str(p)) for p in reversed(missing))
                except OSError as exc:
                    raise _fail(exc, target, root, "dir") from None
                self.notes.append(f"made the output directory {root} (it did not exist)")
            fd = self._open_below(None, str(root), target, root)
            self.dirs[key] = _Dir(fd, root, str(root), False)
        d = self.dirs[key]
        for part in parts[:-1]:
            key = (*key, part)
            if key not in self.dirs:
                fd = self._open_below(d.fd, part, target, d.path / part)
                self.dirs[key] = _Dir(fd, d.path / part, str(d.path / part), True)
            d = self.dirs[key]
        return d, parts[-1]

    def _open_below(self, at: int | None, name: str, target: Path, shown: Path) -> int:
        """``name`` in the directory ``at``, never through a symlink (made if missing, below
        the output directory)."""
        flags = _DIR_FLAGS | os.O_NOFOLLOW
        for attempt in range(2):
            try:
                return os.open(name, flags, dir_fd=at)
            except FileNotFoundError as exc:
                if at is None or attempt:
                    raise _fail(exc, target, shown, "dir") from None
                try:
                    os.mkdir(name, _NEW_DIR_MODE, dir_fd=at)
                    self.made.append((at, name))
                except FileExistsError:
                    pass
                except OSError as made:
                    raise _fail(made, target, shown.parent, "dir") from None
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise OutputError(
                        f"refusing to write {target}: {shown} is no longer a directory (a "
                        "symlink or a file was put there during the run)",
                        hint="nothing was written outside the output directory; check what "
                        "changed it, then run again",
                    ) from None
                raise _fail(exc, target, shown, "dir") from None
        raise AssertionError("unreachable")  # pragma: no cover

    # -- staging -------------------------------------------------------------
    def stage(self, item: Item) -> None:
        """Check the target, write its new bytes to a temp file (or reserve them in place)."""
        self.stage_prepared(self.prepare(item))

    def prepare(self, item: Item) -> _Job:
        """Check the target: its directory, what it is now, whether it is written in place."""
        target = Path(item.path)
        if item.within is None:
            d, name = self._plain_dir(target)
        else:
            d, name = self._dir_within(target, Path(item.within))
        job = _Job(d, name, d.path / name, item.data, target)
        try:
            job.st = os.stat(name, dir_fd=d.fd, follow_symlinks=False)
        except FileNotFoundError:
            job.st = None
        except OSError as exc:
            raise _fail(exc, job.path, d.path, "dir") from None
        if job.st is not None:
            self._check_kind(job, job.st)
            real = os.path.join(d.real, name)
            job.in_place = job.st.st_dev != d.st.st_dev or real in self.mounts
        return job

    def stage_prepared(self, job: _Job) -> None:
        """Stage a prepared job whose bytes are all in ``job.data``."""
        self.jobs.append(job)
        if job.in_place:
            self._stage_in_place(job)
            return
        fd = self.open_temp(job)
        try:
            for chunk in job.data:
                write_all(fd, chunk)
        except OSError as exc:
            raise _fail(exc, job.path, job.dir.path, "data") from None
        self.seal(job)

    def open_temp(self, job: _Job) -> int:
        """Open ``job``'s temp file in its directory (``job.fd``, and ``job.temp`` if it
        has a name)."""
        try:
            job.fd, job.temp = self._new_temp(job.dir)
        except OSError as exc:
            raise _fail(exc, job.path, job.dir.path, "dir") from None
        return job.fd

    def _check_kind(self, job: _Job, st: os.stat_result) -> None:
        if stat.S_ISLNK(st.st_mode):
            raise OutputError(
                f"refusing to write {job.path}: it became a symlink during the run",
                hint="nothing was written; check what changed it, then run again",
            )
        if not stat.S_ISREG(st.st_mode):
            kind = _KINDS.get(stat.S_IFMT(st.st_mode), "not a regular file")
            raise OutputError(
                f"refusing to write {job.path}: it is {kind}, not a regular file",
                hint="write to a regular file, or to - (stdout); to render without "
                "writing, use --check or --diff",
            )

    def _stage_in_place(self, job: _Job) -> None:
        d = job.dir
        job.in_place = True
        job.note = (
            f"{job.path}: written in place, not atomically: it is a mount point (a file "
            "bind-mounted on its own cannot be replaced by a rename)"
        )
        try:
            job.fd = os.open(job.name, os.O_WRONLY | os.O_CLOEXEC | os.O_NOFOLLOW, dir_fd=d.fd)
        except OSError as exc:
            raise _fail(exc, job.path, d.path, "file", mounted=True, st=job.st) from None
        size = sum(map(len, job.data))
        try:
            if job.st is not None and size > job.st.st_size:
                os.posix_fallocate(job.fd, 0, size)  # a full disk fails now, not half-way
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                raise _fail(exc, job.path, d.path, "data", mounted=True) from None

    def seal(self, job: _Job) -> None:
        """A job's temp file, holding all the new bytes: given the old file's owner, mode
        and attributes, and fsynced."""
        d, st, fd = job.dir, job.st, job.fd
        if fd is None:  # pragma: no cover - staged, so open
            raise AssertionError("no temp file to seal")
        if st is not None:  # owner first: a chown may clear set-id bits
            try:
                if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
                    os.fchown(fd, st.st_uid, st.st_gid)
            except OSError as exc:
                raise _fail(exc, job.path, d.path, "owner", st=st) from None
            os.fchmod(fd, stat.S_IMODE(st.st_mode))
            _copy_xattrs(d.fd, job.name, fd)
            if st.st_nlink > 1:
                job.note = (
                    f"{job.path}: it had {st.st_nlink} hard links; the other names keep "
                    "the old content (a rename replaces this name only)"
                )
        try:
            os.fsync(fd)
        except OSError as exc:
            raise _fail(exc, job.path, d.path, "data") from None

    def _new_temp(self, d: _Dir) -> tuple[int, str | None]:
        """An unnamed temp file in ``d`` (``O_TMPFILE``), else a named one in its spare;
        readable too, for :func:`_read_back`."""
        if _HAS_PROC_FD:
            try:
                flags = os.O_TMPFILE | os.O_RDWR | os.O_CLOEXEC
                return os.open(".", flags, _NEW_FILE_MODE, dir_fd=d.fd), None
            except OSError as exc:
                if exc.errno not in _NO_TMPFILE:
                    raise
        spare = d.get_spare(self.mounts)
        name = spare.new_name()
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW
        return os.open(name, flags, _NEW_FILE_MODE, dir_fd=spare.fd), name

    # -- committing ----------------------------------------------------------
    def commit(self) -> list[Written]:
        """Name what must be renamed, rename and link, write in place; fsync directories."""
        for job in self.jobs:
            if not job.in_place and job.temp is None and job.st is not None:
                self._name_unnamed(job)
        written = []
        self.placed = True
        for job in self.jobs:
            if not job.in_place:
                self._put(job)
            written.append(job)
        for job in self.jobs:
            if job.in_place:
                self._write_in_place(job)
        for d in self.dirs.values():
            _fsync(d.fd)
        return [Written(job.given, job.note) for job in written]

    def _name_unnamed(self, job: _Job) -> None:
        d = job.dir
        try:
            spare = d.get_spare(self.mounts)
            job.temp = spare.new_name()
            os.link(f"/proc/self/fd/{job.fd}", job.temp, dst_dir_fd=spare.fd)
        except OSError as exc:
            job.temp = None
            raise _fail(exc, job.path, d.path, "dir") from None

    def _put(self, job: _Job) -> None:
        d = job.dir
        try:
            if job.temp is None:  # a new file: linked into place, never seen half-written
                try:
                    os.link(f"/proc/self/fd/{job.fd}", job.name, dst_dir_fd=d.fd)
                    return
                except FileExistsError:  # made meanwhile: replace it as any other
                    self._name_unnamed(job)
            spare = d.get_spare(self.mounts)
            os.rename(str(job.temp), job.name, src_dir_fd=spare.fd, dst_dir_fd=d.fd)
            job.temp = None
        except OSError as exc:
            if exc.errno != errno.EBUSY:
                raise _fail(exc, job.path, d.path, "dir") from None
            if job.fd is not None:
                if not job.data:  # written as it was rendered (Staging): in the file only
                    job.data = _read_back(job.fd)
                os.close(job.fd)
                job.fd = None
            self._stage_in_place(job)  # a mount point after all
            self._write_in_place(job)

    def _write_in_place(self, job: _Job) -> None:
        fd = job.fd
        if fd is None:  # pragma: no cover - staged in place, so opened
            return
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            for chunk in job.data:
                write_all(fd, chunk)
            os.ftruncate(fd, sum(map(len, job.data)))
            os.fsync(fd)
        except OSError as exc:
            raise _fail(exc, job.path, job.dir.path, "data", mounted=True) from None

    def close(self) -> None:
        """Close every descriptor; remove spares (and so any temp name left), and the
        directories made, if no file was put in place."""
        for job in self.jobs:
            if job.fd is not None:
                os.close(job.fd)
                job.fd = None
        for d in self.dirs.values():
            if d.spare is not None:
                d.spare.remove()
                d.spare = None
        if not self.placed:  # while their parents' descriptors are open
            for at, name in reversed(self.made):  # deepest first; only if empty
                with contextlib.suppress(OSError):
                    os.rmdir(name, dir_fd=at)
        self.made.clear()
        for d in self.dirs.values():
            d.close()
        self.dirs.clear()


_HAS_PROC_FD = os.path.isdir("/proc/self/fd")


def write_all(fd: int, chunk: bytes) -> None:
    """Write all of ``chunk`` to ``fd`` (a short write goes on where it stopped)."""
    view = memoryview(chunk)
    while view:
        view = view[os.write(fd, view) :]


def _read_back(fd: int) -> list[bytes]:
    """The bytes written to the temp file ``fd``."""
    try:
        return [os.pread(fd, os.fstat(fd).st_size, 0)]
    except OSError as exc:  # pragma: no cover - a temp file just written reads back
        raise OutputError(f"cannot read back the staged bytes: {exc.strerror or exc}") from None


def _open_old(job: _Job) -> BinaryIO | None:
    """The old file, to compare the new bytes with as they come (None: unreadable)."""
    try:
        fd = os.open(
            job.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=job.dir.fd
        )
    except OSError:
        return None
    return open(fd, "rb")  # closed by Staging


def _copy_xattrs(dir_fd: int, name: str, fd: int) -> None:
    """Copy the old file's user.* attributes, SELinux label and ACL, where allowed."""
    try:
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        src = os.open(name, flags, dir_fd=dir_fd)
    except OSError:
        return
    try:
        for attr in os.listxattr(src):
            if attr.startswith(_KEPT_XATTRS):
                try:
                    os.setxattr(fd, attr, os.getxattr(src, attr))
                except OSError:
                    continue  # not allowed here (a label this user may not set…)
    except OSError:
        pass  # no xattrs on this filesystem
    finally:
        os.close(src)


def _fsync(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.fsync(fd)


# -- errors by cause ---------------------------------------------------------------


#: The fix for too many open files (EMFILE, ENFILE) in one run.
FD_LIMIT_FIX = (
    "raise the limit of open files (ulimit -n; docker run --ulimit nofile=N), or write "
    "fewer files in one run"
)


def _fail(  # noqa: PLR0911 - one message per cause
    exc: OSError,
    path: Path,
    directory: Path,
    what: str,
    *,
    mounted: bool = False,
    st: os.stat_result | None = None,
) -> OutputError:
    """The :class:`OutputError` for ``exc``, met while writing ``path`` in ``directory``.

    ``what`` is the step that failed: ``dir`` (making, linking or renaming
    in the directory), ``file`` (opening the file to write it in place),
    ``owner`` (giving the new file the old one's owner), ``data``.
    """
    code = exc.errno
    kept = "the existing file was left unchanged" if not (mounted and what == "data") else ""
    uid = os.geteuid()

    def error(why: str, hint: str, *, keep: bool = True) -> OutputError:
        joined = "; ".join(x for x in (hint, kept if keep else "") if x)
        out = OutputError(f"cannot write {path}: {why}", hint=joined)
        out.errno = code
        return out

    if code in (errno.ENOSPC, errno.EDQUOT):
        why = "no space left on device" if code == errno.ENOSPC else "disk quota exceeded"
        return error(why, f"free space on the filesystem of {directory} (df -h {directory})")
    if code in (errno.EMFILE, errno.ENFILE):
        return error(
            "too many open files (each file changed in one run stays open until all are "
            "put in place)",
            FD_LIMIT_FIX,
        )
    if code == errno.EFBIG:
        return error(
            "file too large (RLIMIT_FSIZE or filesystem limit)",
            "raise the file size limit (ulimit -f) or write to another filesystem",
        )
    if code == errno.EROFS:
        if mounted:
            return error(
                "read-only file system (it is mounted read-only on its own: a :ro bind mount?)",
                "mount its directory rather than the file (read-write), or render to a "
                "writable path and point the proxy at it",
            )
        return error(
            f"read-only file system ({directory})",
            "render to a writable path (e.g. -o /tmp/NAME) and point the proxy at it, or "
            "mount the directory read-write",
        )
    if code in (errno.EACCES, errno.EPERM) and what == "owner" and st is not None:
        return error(
            f"it belongs to uid {st.st_uid} (gid {st.st_gid}), and this user (uid {uid}) "
            "cannot give the new file that owner",
            f"run as root or as uid {st.st_uid}, or chown the file to uid {uid} first",
        )
    if code in (errno.EACCES, errno.EPERM) and what == "file":
        owner = f" (it belongs to uid {st.st_uid})" if st is not None else ""
        return error(
            f"permission denied: this user (uid {uid}) may not write the file{owner}",
            "run as its owner or root, or make the file writable for this user",
        )
    if code in (errno.EACCES, errno.EPERM):
        return error(
            f"permission denied in {directory} (uid {uid})",
            f"the new file is made in {directory} and renamed over the old one, so this "
            f"user needs write access there: run as its owner or root, make it writable "
            "(chown/chmod), or write to a writable path with -o",
        )
    if code == errno.ENOENT and what == "dir":
        return error(
            f"directory {directory} does not exist",
            f"create it first (mkdir -p {directory}) or fix the path; hostgw does not "
            "create output directories",
            keep=False,
        )
    if code == errno.ENOTDIR and what == "dir":
        return error(f"{directory} is not a directory", "fix the path")
    if code == errno.EBUSY:
        return error(
            "device or resource busy (a mount point?)",
            "mount its directory rather than the file, or render to a writable path and "
            "point the proxy at it",
        )
    return error(exc.strerror or str(exc), "")
