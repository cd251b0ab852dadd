"""Output held back until it may be written: in memory, then in an unnamed temp file.

A stream (stdout) cannot take back what it was given, so a render holds
its output until every template has rendered. A :class:`Spool` keeps it in
memory up to :data:`SPOOL_LIMIT` bytes, then moves it to an unnamed temp
file (``O_TMPFILE`` where the filesystem allows it) in the temp directory
(``TMPDIR``, else ``/tmp``), so that a large output is not held in memory
beside its template. The file has no name, so nothing is left behind, not
even by ``kill -9``. If no temp file can be made, or the disk fills while
writing it, the output stays in (or comes back to) memory: nothing is lost.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from types import TracebackType

from hostgw.fileio.writing import write_all

#: Bytes a spool holds in memory before it moves them to a temp file.
SPOOL_LIMIT = 16 << 20
_READ = 1 << 20  # bytes per read when the spool is given out


class Spool:
    """Chunks written one after another (:meth:`write`), given back in order (iterate).

    All of them are either in memory or in the temp file, never split
    between the two. :meth:`close` (or the ``with`` block) frees them.
    """

    def __init__(self, limit: int = SPOOL_LIMIT, directory: str | None = None) -> None:
        self._limit = limit
        self._directory = directory  # None: the temp directory
        self._chunks: list[bytes] = []
        self._held = 0  # bytes in _chunks
        self._fd: int | None = None  # the temp file, once the bytes moved there
        self._size = 0  # bytes in the temp file
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
        if self._fd is not None:
            try:
                write_all(self._fd, chunk)
            except OSError:
                self._back_to_memory(self._fd)
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
            for chunk in self._chunks:
                write_all(fd, chunk)
        except OSError:
            os.close(fd)
            self._stay = True
            return
        self._fd, self._size = fd, self._held
        self._chunks, self._held = [], 0

    def _back_to_memory(self, fd: int) -> None:
        """The temp file ``fd`` could not take more (a full disk): its bytes come back."""
        self._chunks = list(self)  # only the whole chunks written are counted in _size
        self._held, self._size, self._fd, self._stay = self._size, 0, None, True
        os.close(fd)


def _unnamed_temp(directory: str | None) -> int:
    """A read-write temp file (0600) with no name in ``directory``, else ``TMPDIR``, else
    ``/tmp`` (never the working directory, as :mod:`tempfile` would try last); where
    ``O_TMPFILE`` is not supported, a named one, removed at once."""
    import tempfile

    where = directory or os.environ.get("TMPDIR") or "/tmp"  # noqa: S108 - the usual place
    with tempfile.TemporaryFile(dir=where, buffering=0) as handle:
        return os.dup(handle.fileno())
