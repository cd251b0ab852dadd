"""Keep rendered files in step with the host's address while a server runs.

A :class:`Watcher` watches what the answer depends on, re-detects after a
quiet window, rewrites only the files whose bytes change, then notifies.

What is watched follows from which strategies the last detection consulted
(:func:`watched_sources`):

- routes, links and addresses, as netlink events (pyroute2 binds the socket;
  the messages are drained unparsed, since any of them only means "look
  again"). Where netlink cannot be opened, ``/proc/net/{route,ipv6_route,
  if_inet6}`` are polled instead;
- ``/etc/hosts``, by ``stat()`` at a low rate (every 2 s by default). A stat
  sees in-place writes, renames and bind-mount updates alike, needs no
  inotify (which misses writes made to an overlay's lower layer or from
  outside a bind mount) and costs microseconds;
- nothing for ``HOSTGW_IP`` set to an address, or for ``k8s``'s ``HOST_IP``:
  a process's environment cannot change while it runs, so such an answer is
  fixed until the process restarts. When the override is a hostname,
  ``/etc/hosts`` and the network are watched, since they decide what it
  resolves to. A DNS answer that changes with no local event is not seen.

The watcher never changes a file when detection or rendering fails: it logs
the error, keeps the old files and keeps watching, and tries again on the
next event.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import selectors
import signal
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from hostgw.atomic import write_many
from hostgw.detect import Attempt, Detection
from hostgw.errors import GatewayNotFound, HostgwError

if TYPE_CHECKING:
    from hostgw.notify import Notifier

#: What one detection needs (the options ``render`` and ``rewrite`` take).
Detector = Callable[[], Detection]
#: Brings the outputs in step with an answer and returns the files whose bytes
#: changed (none written when it raises; see :func:`write_changed`).
Apply = Callable[[Detection], Sequence[Path]]
Log = Callable[[str], None]

NETLINK = "netlink"
HOSTS = "hosts"

# What each strategy's answer can change with. Unknown names get everything.
_DEPENDS: dict[str, frozenset[str]] = {
    "env": frozenset(),
    "k8s": frozenset(),
    "hosts": frozenset({HOSTS}),
    "host-network": frozenset({NETLINK}),
    "dns": frozenset({HOSTS, NETLINK}),
    "route": frozenset({NETLINK}),
    "netlink": frozenset({NETLINK}),
    "netifaces": frozenset({NETLINK}),
}
_EVERYTHING = frozenset({HOSTS, NETLINK})

# Route polling where netlink is unavailable: these files change with routes/addresses.
_ROUTE_FILES = ("proc/net/route", "proc/net/ipv6_route", "proc/net/if_inet6")


def watched_sources(attempts: Iterable[Attempt], env: Mapping[str, str]) -> frozenset[str]:
    """What can change the answer, given the strategies one detection tried.

    Every strategy tried up to the winner counts: an earlier one may start
    answering, the winner may stop. ``HOSTGW_IP`` (in ``env``) set to an
    address depends on nothing; set to a hostname, on what resolves it.
    """
    needed: set[str] = set()
    for attempt in attempts:
        if attempt.strategy == "env":
            value = env.get("HOSTGW_IP", "")
            if value and not _is_address(value):
                needed |= _EVERYTHING
            continue
        needed |= _DEPENDS.get(attempt.strategy, _EVERYTHING)
    return frozenset(needed)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    return True


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

    pyroute2 opens and binds the socket (imported only here). Messages are
    read into one reused buffer and thrown away; a receive-buffer overflow
    (ENOBUFS, events were lost) also counts as a change.
    """

    def __init__(self) -> None:
        # Heavy, and untyped: imported by name, only when a watch runs.
        import importlib

        ipr_cls = importlib.import_module("pyroute2").IPRoute
        rtnl = importlib.import_module("pyroute2.netlink.rtnl")

        groups = (
            rtnl.RTMGRP_IPV4_ROUTE
            | rtnl.RTMGRP_IPV6_ROUTE
            | rtnl.RTMGRP_LINK
            | rtnl.RTMGRP_IPV4_IFADDR
            | rtnl.RTMGRP_IPV6_IFADDR
        )
        self._ipr = ipr_cls()
        try:
            self._ipr.bind(groups=groups)
            self._fd: int = int(self._ipr.fileno())
            os.set_blocking(self._fd, False)
        except BaseException:
            self._ipr.close()
            raise
        self._buf = bytearray(1 << 16)

    def fileno(self) -> int | None:
        """The netlink socket."""
        return self._fd

    def due(self, now: float) -> float | None:
        """Never polled."""
        return None

    def check(self, now: float, readable: bool) -> bool:
        """Drain every pending message; any message is a change."""
        if not readable:
            return False
        changed = False
        view = memoryview(self._buf)
        while True:
            try:
                n = os.readv(self._fd, [view])
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
        self._ipr.close()


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


@dataclass
class Timing:
    """How fast the watcher reacts and how often it polls (seconds)."""

    debounce: float = 0.1  # quiet window after the last event
    max_delay: float = 1.0  # a steady stream of events is looked at this often
    hosts_interval: float = 2.0
    poll_interval: float = 1.0  # route polling where netlink is unavailable


class Watcher:
    """Re-detects after changes, rewrites the outputs, notifies on new bytes.

    ``detect`` and ``apply`` are the same calls ``render``/``rewrite`` make;
    ``notify`` runs only after at least one output's bytes changed.
    :meth:`start` makes the first pass (normally done before the server
    starts); then the caller's loop waits on :meth:`fds` until
    :meth:`timeout` and calls :meth:`step`. :func:`serve` is such a loop.
    """

    def __init__(
        self,
        *,
        detect: Detector,
        apply: Apply,
        notify: Notifier | None = None,
        log: Log = lambda _msg: None,
        timing: Timing | None = None,
        env: Mapping[str, str] | None = None,
        root: str = "/",
        netlink: bool = True,
    ) -> None:
        self._detect = detect
        self._apply = apply
        self._notify = notify
        self._log = log
        self.timing = timing or Timing()
        self._env = os.environ if env is None else env
        self._root = Path(root)
        self._want_netlink = netlink
        self._sources: dict[str, Source] = {}
        self._applied: tuple[str, int] | None = None
        self._dirty_since: float | None = None
        self._last_event = 0.0
        #: Counters for tests and benchmarks.
        self.passes = 0
        self.notifies = 0
        self.errors = 0

    # -- sources -----------------------------------------------------------

    def _sync_sources(self, wanted: frozenset[str]) -> None:
        """Open what ``wanted`` needs, close what it no longer does."""
        for name in list(self._sources):
            if name not in wanted and not (name == "route-poll" and NETLINK in wanted):
                self._sources.pop(name).close()
        if HOSTS in wanted and HOSTS not in self._sources:
            self._sources[HOSTS] = PollSource(
                [self._root / "etc/hosts"], self.timing.hosts_interval, content=False
            )
        if NETLINK in wanted and NETLINK not in self._sources and "route-poll" not in self._sources:
            self._sources.update(self._open_route_source())

    def _open_route_source(self) -> dict[str, Source]:
        if self._want_netlink:
            try:
                return {NETLINK: NetlinkSource()}
            except Exception as exc:  # any failure (no pyroute2, EPERM, NetlinkError): poll
                self._log(
                    f"netlink unavailable ({exc}); polling routes every "
                    f"{self.timing.poll_interval:g}s"
                )
        paths = [self._root / p for p in _ROUTE_FILES]
        return {"route-poll": PollSource(paths, self.timing.poll_interval, content=True)}

    @property
    def watching(self) -> frozenset[str]:
        """Names of the open sources: ``netlink``, ``route-poll``, ``hosts``."""
        return frozenset(self._sources)

    def fds(self) -> list[int]:
        """Descriptors to wait on for readability."""
        return [fd for s in self._sources.values() if (fd := s.fileno()) is not None]

    # -- the pass ----------------------------------------------------------

    def start(self) -> tuple[Detection, list[Path]]:
        """First detection and render; errors propagate (nothing to keep yet).

        Files are written only where bytes differ; returns the answer and
        the files written. Sends no notification: the caller decides.
        """
        # Listen before looking, so a change during the first pass is not lost.
        self._sync_sources(_EVERYTHING)
        found = self._detect()
        changed = list(self._apply(found))
        self._applied = (found.address, found.family)
        self._sync_sources(watched_sources(found.attempts, self._env))
        return found, changed

    def timeout(self, now: float) -> float | None:
        """Seconds until :meth:`step` has something to do; None = wait for an fd."""
        deadlines = [d for s in self._sources.values() if (d := s.due(now)) is not None]
        if self._dirty_since is not None:
            deadlines.append(self._deadline())
        if not deadlines:
            return None
        return max(0.0, min(deadlines) - now)

    def _deadline(self) -> float:
        first = self._last_event if self._dirty_since is None else self._dirty_since
        return min(self._last_event + self.timing.debounce, first + self.timing.max_delay)

    def step(self, ready: Iterable[int] = (), now: float | None = None) -> bool:
        """Handle readable fds and due polls; run a pass once things are quiet.

        Returns True when a pass ran (whatever its outcome).
        """
        now = time.monotonic() if now is None else now
        ready = set(ready)
        for source in list(self._sources.values()):
            fd = source.fileno()
            if source.check(now, fd is not None and fd in ready):
                self.mark(now)
        if self._dirty_since is None or now < self._deadline():
            return False
        self._dirty_since = None
        self.run_pass()
        return True

    def mark(self, now: float | None = None) -> None:
        """Record that something changed; a pass follows after the quiet window."""
        now = time.monotonic() if now is None else now
        if self._dirty_since is None:
            self._dirty_since = now
        self._last_event = now

    def run_pass(self) -> None:
        """Re-detect, re-apply (writing what differs), notify if anything did.

        Planning runs on every pass, not only when the address moved, so a
        value that ``apply`` derives otherwise (``HOSTGW_IP6``) is kept in step
        too; unchanged bytes are never written. Never raises
        :class:`HostgwError`: it is logged and the old files stay.
        """
        self.passes += 1
        try:
            self._pass()
        except Exception as exc:  # a long-lived watcher outlives one bad pass
            self.errors += 1
            self._log(f"unexpected {type(exc).__name__}: {exc}; files kept, still watching")

    def _pass(self) -> None:
        try:
            found = self._detect()
        except GatewayNotFound as exc:
            self.errors += 1
            self._sync_sources(watched_sources(exc.attempts, self._env) or _EVERYTHING)
            self._log(f"no host address now, files kept: {_first_line(exc)}")
            return
        except HostgwError as exc:
            self.errors += 1
            self._log(f"detection failed, files kept: {_first_line(exc)}")
            return
        self._sync_sources(watched_sources(found.attempts, self._env))
        moved = (found.address, found.family) != self._applied
        self._applied = (found.address, found.family)
        try:
            changed = list(self._apply(found))
        except (HostgwError, OSError) as exc:
            self.errors += 1
            self._log(f"host address is {found.address}, but the files were kept: {exc}")
            return
        if not changed:
            if moved:
                self._log(
                    f"host address is now {found.address} ({found.strategy}); files unchanged"
                )
            return
        names = ", ".join(str(p) for p in changed)
        self._log(f"host address is {found.address} ({found.strategy}); rewrote {names}")
        self.notify_now()

    def notify_now(self) -> None:
        """Run the notifier (if any); a failure is logged, never raised."""
        if self._notify is None:
            return
        try:
            self._notify()
        except HostgwError as exc:
            self.errors += 1
            self._log(f"notify failed: {exc}")
        else:
            self.notifies += 1

    def close(self) -> None:
        """Close every source."""
        for source in self._sources.values():
            source.close()
        self._sources.clear()


def write_changed(planned: Iterable[tuple[Path, bytes]]) -> list[Path]:
    """Write the files whose bytes differ from ``planned`` (all or none); return them.

    The building block of an :data:`Apply` for outputs computed in memory.
    """
    changed = [(path, data) for path, data in planned if _current(path) != data]
    if changed:
        write_many(changed)
    return [path for path, _ in changed]


def _current(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


# -- the loop ----------------------------------------------------------------


class WakePipe:
    """A self-pipe that signal handlers write to, so a waiting loop wakes up.

    Installs itself with :func:`signal.set_wakeup_fd`; :meth:`close` undoes it.
    """

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._old = signal.set_wakeup_fd(self.write_fd, warn_on_full_buffer=False)

    def drain(self) -> bytes:
        """Read what is pending (one byte per signal number)."""
        chunks = []
        while True:
            try:
                data = os.read(self.read_fd, 512)
            except BlockingIOError:
                break
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks)

    def close(self) -> None:
        """Restore the previous wakeup fd and close the pipe."""
        signal.set_wakeup_fd(self._old)
        os.close(self.read_fd)
        os.close(self.write_fd)


def wait(
    watcher: Watcher | None,
    wake: WakePipe,
    selector: selectors.BaseSelector,
    registered: set[int],
    timeout: float | None = None,
) -> bool:
    """Wait for the watcher's fds, its next deadline, a signal or ``timeout``.

    Keeps ``selector`` in step with the watcher's fds (``registered`` holds
    what is registered besides the wake pipe). Returns True when woken by a
    signal. Steps the watcher.
    """
    if watcher is not None:
        current = set(watcher.fds())
        for fd in registered - current:
            selector.unregister(fd)
        for fd in current - registered:
            selector.register(fd, selectors.EVENT_READ)
        registered.clear()
        registered.update(current)
        due = watcher.timeout(time.monotonic())
        if due is not None:
            timeout = due if timeout is None else min(due, timeout)
    ready = {key.fd for key, _ in selector.select(timeout)}
    woken = wake.read_fd in ready
    if woken:
        wake.drain()
    if watcher is not None:
        watcher.step(ready)
    return woken


def serve(
    watcher: Watcher, *, stop_signals: Sequence[int] = (signal.SIGTERM, signal.SIGINT)
) -> int:
    """Run ``watcher`` until one of ``stop_signals`` arrives; return the signal number.

    SIGHUP makes it look again now (a pass after the quiet window) instead
    of ending it. Installs its handlers for the duration.
    """
    stopped: list[int] = []

    def on_stop(signum: int, _frame: object) -> None:
        stopped.append(signum)

    def on_hup(_signum: int, _frame: object) -> None:
        watcher.mark()

    old = {s: signal.signal(s, on_stop) for s in stop_signals}
    old[signal.SIGHUP] = signal.signal(signal.SIGHUP, on_hup)
    wake = WakePipe()
    selector = selectors.DefaultSelector()
    selector.register(wake.read_fd, selectors.EVENT_READ)
    registered: set[int] = set()
    try:
        while not stopped:
            wait(watcher, wake, selector, registered)
        return stopped[0]
    finally:
        selector.close()
        wake.close()
        for s, handler in old.items():
            signal.signal(s, handler)
