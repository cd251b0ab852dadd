"""Reading inputs and writing outputs: the one owner of both (see docs/files.md).

- :mod:`~hostgw.fileio.reading`: inputs with a size cap (``HOSTGW_MAX_INPUT``);
- :mod:`~hostgw.fileio.writing`: staged, checked, then atomic writes,
  keeping owner, mode and extended attributes; in place for a mount point;
  through directory descriptors in directory mode;
- :mod:`~hostgw.fileio.places`: where temp files live, leftovers of killed
  runs, mount points;
- :mod:`~hostgw.fileio.spool`: a stream's output held back until it may be
  written (in memory, then in an unnamed temp file);
- here: lossless text, "write what changed", diffs.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from hostgw.fileio.reading import MAX_INPUT_ENV, input_limit, read_input
from hostgw.fileio.spool import KEEP_FREE, SPOOL_LIMIT, Spool
from hostgw.fileio.writing import (
    FD_LIMIT_FIX,
    STREAMS,
    Batch,
    Data,
    Item,
    Log,
    Staging,
    Written,
    stream_fd,
    write_atomic,
    write_many,
    write_stream,
)

__all__ = [
    "FD_LIMIT_FIX",
    "KEEP_FREE",
    "MAX_INPUT_ENV",
    "SPOOL_LIMIT",
    "STREAMS",
    "Batch",
    "Data",
    "Item",
    "Log",
    "Spool",
    "Staging",
    "Written",
    "decode",
    "encode",
    "input_limit",
    "read_input",
    "same",
    "stream_fd",
    "unified_diff",
    "write_atomic",
    "write_changed",
    "write_many",
    "write_stream",
]


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

    Read chunk by chunk: a large output is never joined to be compared. A
    stream, or anything but a regular file, is never the same (and is not
    opened: a FIFO would block).
    """
    if stream_fd(path) is not None:
        return False
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError:
        return False
    chunks = [data] if isinstance(data, bytes) else list(data)
    if not stat.S_ISREG(st.st_mode) or st.st_size != sum(map(len, chunks)):
        return False
    try:
        handle = open(path, "rb")  # noqa: SIM115 - read chunk by chunk below
    except OSError:
        return False
    with handle:
        return all(handle.read(len(c)) == c for c in chunks)


def write_changed(
    planned: Iterable[tuple[Path, Data] | Item], *, log: Log | None = None
) -> list[Path]:
    """Write the files whose bytes differ from ``planned`` (all or none); return them."""
    items = [item if isinstance(item, Item) else Item(*item) for item in planned]
    changed = [item for item in items if not same(item.path, item.data)]
    if changed:
        write_many(changed, log=log)
    return [item.path for item in changed]


def unified_diff(old: str, new: str, before: str, after: str) -> str:
    """A unified diff of two texts, with git's marker for a missing final newline."""
    import difflib

    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), before, after
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )
