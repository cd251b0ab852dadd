"""Output held back until it may be written: in memory, then in an unnamed temp file.

A stream (stdout) cannot take back what it was given, so a render holds
its output until every template has rendered. A :class:`Spool` keeps it in
memory up to :data:`SPOOL_LIMIT` bytes, then moves it to an unnamed temp
file (``O_TMPFILE``) in the temp directory (``TMPDIR``, else ``/tmp``),
so that a large output is not held in memory beside its template. The
file has no name, so nothing is left behind, not even by ``kill -9``
(where the filesystem has no ``O_TMPFILE``, a named one is removed at
once). The spool never leaves less than :data:`KEEP_FREE` bytes free
there, so it does not take the space another output of the run needs. If
no temp file can be made, the space is short, or the disk fills while
writing it, the output stays in (or comes back to) memory: nothing is
lost.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from types import TracebackType

from hostgw.fileio.writing import write_all

#: Bytes a spool holds in memory before it moves them to a temp file.
SPOOL_LIMIT = 16 << 20
#: Bytes a spool leaves free on the temp file's filesystem.
KEEP_FREE = 256 << 20
_READ = 1 << 20  # bytes per read when the spool is given out


class Spool:
    """Chunks written one after another (:meth:`write`), given back in order (iterate).

    All of them are either in memory or in the temp file, never split
    between the two. :meth:`close` (or the ``with`` block) frees them.
    ``directory``: where the temp file goes (None: ``TMPDIR``, else
    ``/tmp``); ``keep_free``: the bytes to leave free there.
    """

    def __init__(
        self, limit: int = SPOOL_LIMIT, directory: str | None = None, keep_free: int = KEEP_FREE
    ) -> None:
        self._limit = limit
        self._directory = directory or os.environ.get("TMPDIR") or "/tmp"  # noqa: S108
        self._keep_free = keep_free
        self._chunks: list[bytes] = []
        self._held = 0  # bytes in _chunks
        self._fd: int | None = None  # the temp file, once the bytes moved there
        self._size = 0  # bytes in the temp file
        self._checked = 0  # _size when the free space was last looked at
        self._stay = False  # a temp file failed once: stay in memory

    def __enter__(self) -> Spool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def in_memory(self) -> int:
        """How many of the bytes are held in memory (the rest are in the temp file)."""
        return self._held

    @property
    def size(self) -> int:
        """How many bytes were written."""
        return self._held + self._size

    def write(self, chunk: bytes) -> None:
        """Add ``chunk`` after the bytes written so far."""
        fd = self._fd
        if fd is not None:
            try:
                if self._size - self._checked >= self._limit:  # look at the space again
                    self._checked = self._size
                    self._ensure_room(fd, len(chunk))
                write_all(fd, chunk)
            except OSError:
                self._back_to_memory(fd)
            else:
                self._size += len(chunk)
                return
        self._chunks.append(chunk)
        self._held += len(chunk)
        if self._held > self._limit and not self._stay:
            self._spill()

    def __iter__(self) -> Iterator[bytes]:
        """The bytes written, in order, in chunks (read back from the temp file, if there)."""
        fd, offset = self._fd, 0
        if fd is None:
            yield from self._chunks
            return
        while offset < self._size:
            chunk = os.pread(fd, min(_READ, self._size - offset), offset)
            if not chunk:  # pragma: no cover - an unnamed file nobody else can reach
                raise OSError(f"the temp file ended {self._size - offset} bytes early")
            offset += len(chunk)
            yield chunk

    def close(self) -> None:
        """Free the bytes: drop the chunks, close the temp file (which goes with it)."""
        self._chunks, self._held = [], 0
        fd, self._fd, self._size = self._fd, None, 0
        if fd is not None:
            os.close(fd)

    def _spill(self) -> None:
        """Move the chunks to a new temp file; on failure keep them, and stay in memory."""
        try:
            fd = _unnamed_temp(self._directory)
        except OSError:
            self._stay = True
            return
        try:
            self._ensure_room(fd, self._held)
            for chunk in self._chunks:
                write_all(fd, chunk)
        except BaseException as exc:  # an interrupt too: the file must not stay open
            os.close(fd)
            self._stay = True
            if not isinstance(exc, OSError):
                raise
            return
        self._fd, self._size, self._checked = fd, self._held, self._held
        self._chunks, self._held = [], 0

    def _ensure_room(self, fd: int, more: int) -> None:
        """Raise :class:`OSError` unless ``more`` bytes leave :attr:`_keep_free` free."""
        st = os.fstatvfs(fd)
        if st.f_bavail * st.f_frsize < more + self._keep_free:
            raise OSError("the temp directory's filesystem is short of space")

    def _back_to_memory(self, fd: int) -> None:
        """The temp file ``fd`` could not take more: its bytes come back to memory."""
        try:
            chunks = list(self)  # only the whole chunks written are counted in _size
        finally:
            os.close(fd)
            self._fd, self._stay = None, True
        self._chunks, self._held, self._size = chunks, self._size, 0


def _unnamed_temp(directory: str) -> int:
    """A read-write temp file (0600) with no name in ``directory`` (never the working
    directory, as :mod:`tempfile` would try last); where ``O_TMPFILE`` is not
    supported, a named one, removed at once."""
    import tempfile

    with tempfile.TemporaryFile(dir=directory, buffering=0) as handle:
        return os.dup(handle.fileno())
