"""Keep rendered and rewritten files in step with the host's address while a server runs.

A :class:`Watcher` watches what the answer depends on, re-detects after a
quiet window, rewrites only the files whose bytes change, then notifies.
Each pass walks the strategy table once: the answer it logs and compares
is the one its outputs are written with.

What is watched follows from the strategies the last walk consulted (each
row of :mod:`hostgw.detection.table` says what its answer can change with):
nothing for ``HOSTGW_IP`` set to an address, or for ``k8s``'s ``HOST_IP``
(a process's environment cannot change while it runs); the hosts file for
``hosts``; netlink for the route strategies; both for ``dns`` and for an
override that is a hostname. A DNS answer that changes with no local event
is not seen.

The watcher never changes a file when detection or rendering fails: it logs
the error, keeps the old files and keeps watching, and tries again on the
next event.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from hostgw.detection.evidence import EVERYTHING, HOSTS, NETLINK
from hostgw.detection.walk import Answer, watch_of
from hostgw.errors import GatewayNotFound, HostgwError
from hostgw.record import Record
from hostgw.runtime.sources import ROUTE_FILES, NetlinkSource, PollSource, Source

if TYPE_CHECKING:
    from hostgw.runtime.notify import Notifier

__all__ = ["HOSTS", "NETLINK", "Apply", "Detector", "Timing", "Watcher"]

#: One walk of the table (the options ``render`` and ``rewrite`` take).
Detector = Callable[[], Answer]
#: Brings the outputs in step with an answer and returns the files whose bytes
#: changed (none written when it raises).
Apply = Callable[[Answer], Sequence[Path]]
Log = Callable[[str], None]


class Timing(Record):
    """How fast the watcher reacts and how often it polls (seconds).

    A change that comes alone (nothing in the ``debounce`` window before it)
    is looked at once ``settle`` passes without another event: the few
    messages of one change arrive together. A change that follows another
    within ``debounce`` waits until ``debounce`` passes quietly, so a burst
    costs one pass of its final state (or two: the first change of a slow
    burst may have been looked at alone), and a steady stream one pass per
    ``max_delay``.
    """

    debounce: float = 0.1  # quiet window that ends a burst
    settle: float = 0.005  # quiet after a change that came alone
    max_delay: float = 1.0  # a steady stream of events is looked at this often
    hosts_interval: float = 2.0
    poll_interval: float = 1.0  # route polling where netlink is unavailable


class Watcher:
    """Re-detects after changes, rewrites the outputs, notifies on new bytes.

    ``detect`` walks the table once and ``apply`` writes the outputs for that
    answer (see :mod:`hostgw.runtime.pipeline`); ``notify`` runs only after
    at least one output's bytes changed.
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
        root: str = "/",
        netlink: bool = True,
    ) -> None:
        self._detect = detect
        self._apply = apply
        self._notify = notify
        self._log = log
        self.timing = timing or Timing()
        self._root = Path(root)
        self._want_netlink = netlink
        self._sources: dict[str, Source] = {}
        self._applied: tuple[str, int] | None = None
        self._dirty_since: float | None = None  # the first event not looked at yet
        self._last_event = -float("inf")
        self._window = self.timing.debounce  # the quiet wanted after the last event
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
            except OSError as exc:  # no netlink here (EAFNOSUPPORT, EPERM under seccomp): poll
                self._log(
                    f"netlink unavailable ({exc}); polling routes every "
                    f"{self.timing.poll_interval:g}s"
                )
        paths = [self._root / p for p in ROUTE_FILES]
        return {"route-poll": PollSource(paths, self.timing.poll_interval, content=True)}

    @property
    def watching(self) -> frozenset[str]:
        """Names of the open sources: ``netlink``, ``route-poll``, ``hosts``."""
        return frozenset(self._sources)

    def fds(self) -> list[int]:
        """Descriptors to wait on for readability."""
        return [fd for s in self._sources.values() if (fd := s.fileno()) is not None]

    # -- the pass ----------------------------------------------------------

    def start(self) -> tuple[Answer, list[Path]]:
        """First detection and render; errors propagate (nothing to keep yet).

        Files are written only where bytes differ; returns the answer and
        the files written. Sends no notification: the caller decides.
        """
        self.listen()
        answer = self._detect()
        changed = list(self._apply(answer))
        self.adopt(answer)
        return answer, changed

    def listen(self) -> None:
        """Open every source, before the first look, so a change during it is not lost."""
        self._sync_sources(EVERYTHING)

    def adopt(self, answer: Answer) -> None:
        """Take ``answer`` as the one the files were written with, by a first pass
        made elsewhere (``exec``'s steps, after :meth:`listen`); watch what it
        depends on."""
        found = answer.detection
        self._applied = (found.address, found.family)
        self._sync_sources(found.watch)

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
        return min(self._last_event + self._window, first + self.timing.max_delay)

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
        """Record that something changed; a pass follows after the quiet window
        (``settle`` for a change that came alone, else ``debounce``)."""
        now = time.monotonic() if now is None else now
        if self._dirty_since is None:
            alone = now - self._last_event >= self.timing.debounce
            self._window = self.timing.settle if alone else self.timing.debounce
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
            answer = self._detect()
        except GatewayNotFound as exc:
            self.errors += 1
            self._sync_sources(watch_of(exc.attempts) or EVERYTHING)
            self._log(f"no host address now, files kept: {_first_line(exc)}")
            return
        except HostgwError as exc:
            self.errors += 1
            self._log(f"detection failed, files kept: {_first_line(exc)}")
            return
        found = answer.detection
        self._sync_sources(found.watch)
        moved = (found.address, found.family) != self._applied
        self._applied = (found.address, found.family)
        try:
            changed = list(self._apply(answer))
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


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
