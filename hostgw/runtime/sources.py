"""What a watcher waits on: netlink events, or polled files.

Each :class:`Source` is a descriptor to wait on, or a poll timer, or both;
:meth:`Source.check` says whether something relevant changed.

- routes, links and addresses arrive as netlink events, on a plain
  ``AF_NETLINK`` socket; the messages are drained unparsed, since any of
  them only means "look again". Where netlink cannot be opened,
  ``/proc/net/{route,ipv6_route,if_inet6}`` are polled instead;
- ``/etc/hosts`` is polled by ``stat()`` at a low rate. A stat sees in-place
  writes, renames and bind-mount updates alike, needs no inotify (which
  misses writes made to an overlay's lower layer or from outside a bind
  mount) and costs microseconds.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

#: Route polling where netlink is unavailable: these files change with routes/addresses.
ROUTE_FILES = ("proc/net/route", "proc/net/ipv6_route", "proc/net/if_inet6")


class Source(Protocol):
    """One thing being watched: maybe a file descriptor, maybe a poll timer."""

    def fileno(self) -> int | None:
        """The descriptor to wait on, or None for a polled source."""

    def due(self, now: float) -> float | None:
        """When this source next wants :meth:`check` called (monotonic), or None."""

    def check(self, now: float, readable: bool) -> bool:
        """Consume what happened; True when something relevant changed."""

    def close(self) -> None:
        """Release the descriptor, if any."""


class NetlinkSource:
    """Route, link and address events from the kernel; idle costs nothing.

    A plain ``AF_NETLINK`` socket bound to the route, link and address
    groups (:func:`hostgw.detection.rtnl.subscribe`). Messages are read into
    one reused buffer and thrown away; a receive-buffer overflow (ENOBUFS,
    events were lost) also counts as a change.
    """

    def __init__(self) -> None:
        from hostgw.detection.rtnl import subscribe

        self._sock = subscribe()
        self._buf = bytearray(1 << 16)

    def fileno(self) -> int | None:
        """The netlink socket."""
        return self._sock.fileno()

    def due(self, now: float) -> float | None:
        """Never polled."""
        return None

    def check(self, now: float, readable: bool) -> bool:
        """Drain every pending message; any message is a change."""
        if not readable:
            return False
        changed = False
        while True:
            try:
                n = self._sock.recv_into(self._buf)
            except BlockingIOError:
                return changed
            except OSError as exc:
                if exc.errno == errno.ENOBUFS:  # kernel dropped events: look again
                    changed = True
                    continue
                raise
            if n == 0:
                return changed
            changed = True

    def close(self) -> None:
        """Close the socket."""
        self._sock.close()


class PollSource:
    """Polls a fingerprint of some files every ``interval`` seconds.

    ``content=False`` compares ``stat()`` only (device, inode, size, mtime,
    ctime): enough for /etc/hosts. ``content=True`` compares bytes, for
    /proc files whose stat never changes.
    """

    def __init__(self, paths: Sequence[Path], interval: float, *, content: bool) -> None:
        self.paths = tuple(paths)
        self.interval = interval
        self._content = content
        self._next = time.monotonic() + interval
        self._seen = self._fingerprint()

    def _fingerprint(self) -> tuple[object, ...]:
        prints: list[object] = []
        for path in self.paths:
            try:
                if self._content:
                    prints.append(path.read_bytes())
                else:
                    st = os.stat(path)
                    prints.append(
                        (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
                    )
            except OSError as exc:
                prints.append(exc.errno)
        return tuple(prints)

    def fileno(self) -> int | None:
        """Polled: no descriptor."""
        return None

    def due(self, now: float) -> float | None:
        """The next poll time."""
        return self._next

    def check(self, now: float, readable: bool) -> bool:
        """Take a fingerprint when due; True if it differs from the last."""
        if now < self._next:
            return False
        self._next = now + self.interval
        seen = self._fingerprint()
        if seen == self._seen:
            return False
        self._seen = seen
        return True

    def close(self) -> None:
        """Nothing to release."""
