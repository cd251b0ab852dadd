"""Reading inputs with a size cap: an endless input is a clear error, never a MemoryError.

Templates, configs, kept originals and stdin are all read here. A regular
file larger than the cap is refused before it is read; anything else (a
pipe, a device, ``/dev/zero``) is read until the cap and refused past it.
The cap is :data:`DEFAULT_MAX_INPUT` (64 MiB), raised with
``HOSTGW_MAX_INPUT`` (bytes, or with a K, M or G suffix).
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Callable, Mapping
from typing import BinaryIO

from hostgw.errors import UsageError

MAX_INPUT_ENV = "HOSTGW_MAX_INPUT"
DEFAULT_MAX_INPUT = 64 << 20
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
_CHUNK = 1 << 20
_SIZE = re.compile(r"([0-9]{1,15}) ?([KMGkmg])?(?:i?[Bb])?")


def input_limit(env: Mapping[str, str] | None = None) -> int:
    """The cap on one input, in bytes: ``HOSTGW_MAX_INPUT`` in ``env``, else 64 MiB."""
    text = (os.environ if env is None else env).get(MAX_INPUT_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_INPUT
    found = _SIZE.fullmatch(text)
    if found is None or int(found.group(1)) == 0:
        raise UsageError(
            f"{MAX_INPUT_ENV}={text!r}: not a size",
            hint=f"give bytes, or a number with K, M or G: {MAX_INPUT_ENV}=256M",
        )
    return int(found.group(1)) * _UNITS[(found.group(2) or "").upper()]


def _size(limit: int) -> str:
    for unit in ("G", "M", "K"):
        if limit % _UNITS[unit] == 0:
            return f"{limit // _UNITS[unit]} {unit}iB"
    return f"{limit} bytes"


def too_large(limit: int, name: str | None = None) -> OSError:
    """The error for an input past ``limit`` (its ``strerror`` names the fix)."""
    why = (
        f"larger than the input limit of {_size(limit)} (an endless input such as "
        f"/dev/zero?); raise the limit with {MAX_INPUT_ENV}=SIZE, e.g. {MAX_INPUT_ENV}=1G"
    )
    return OSError(errno.EFBIG, why, name)


def read_input(source: str | os.PathLike[str] | BinaryIO, *, limit: int | None = None) -> bytes:
    """All of ``source`` (a path or a binary stream), refused past ``limit`` bytes.

    Raises :class:`OSError`; past the cap, one with ``errno.EFBIG`` whose
    ``strerror`` says so and how to raise the cap.
    """
    cap = input_limit() if limit is None else limit
    if not isinstance(source, (str, os.PathLike)):
        whole = _regular_size(source)
        if whole is not None and whole <= cap:  # one read, one copy (not chunks, then a join)
            return _then_rest(source.read(whole + 1), source.read, cap, None)
        return _read_capped(source.read, cap, None)
    name = os.fspath(source)
    fd = os.open(name, os.O_RDONLY | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode) and st.st_size > cap:
            raise too_large(cap, name)
        if stat.S_ISREG(st.st_mode):  # all of it in one read and one copy, as a rule
            return _then_rest(os.read(fd, st.st_size + 1), lambda n: os.read(fd, n), cap, name)
        return _read_capped(lambda n: _read_when_ready(fd, n), cap, name)
    finally:
        os.close(fd)


#: Longest a read of a pipe or FIFO waits before Python looks at its signals again.
_SIGNAL_CHECK = 0.1
#: Called between those waits, if set: a long-running hostgw raises a stop there that
#: Python dropped (see :func:`hostgw.runtime.loop.stop_asked`).
between_waits: Callable[[], None] | None = None


def _read_when_ready(fd: int, size: int) -> bytes:
    """``os.read`` on a pipe, FIFO or device, waiting in short slices.

    A signal that lands just before a blocking read is run by Python only
    when the read returns, which for a FIFO nobody writes to is never: a
    TERM to a starting PID 1 would be lost. Waiting in slices of
    :data:`_SIGNAL_CHECK` seconds gives Python's handlers a moment between
    them, so such a signal acts within that time.
    """
    import select

    while not select.select([fd], [], [], _SIGNAL_CHECK)[0]:
        if between_waits is not None:
            between_waits()
    return os.read(fd, size)


def _then_rest(first: bytes, read: Callable[[int], bytes], cap: int, name: str | None) -> bytes:
    """``first``, and whatever a file that grew since its size was taken still holds."""
    if len(first) > cap:
        raise too_large(cap, name)
    rest = _read_capped(read, cap - len(first), name) if first else b""
    return first + rest if rest else first


def _regular_size(stream: BinaryIO) -> int | None:
    """The size of the regular file behind ``stream`` (stdin redirected from a file)."""
    try:
        st = os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


def _read_capped(read: Callable[[int], bytes], cap: int, name: str | None) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = read(min(_CHUNK, cap + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if total > cap:
            raise too_large(cap, name)
    return b"".join(chunks)
