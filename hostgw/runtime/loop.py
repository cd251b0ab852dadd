"""The event loop of a long-running hostgw: wait for fds, deadlines and signals.

:func:`starting` handles signals from the first moment, before the first
render; :class:`WakePipe` turns signals into a readable fd; :func:`wait`
waits once and steps the watcher; :func:`serve` loops until a stop signal.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hostgw.runtime.watcher import Watcher


#: Signals that end a long-running hostgw.
STOP_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGINT)
Handler = Callable[[int, FrameType | None], object]
# Signals that start-up found ignored (inherited: nohup, a shell's background
# job). An exec resets a handled signal to its default, so the command is
# given them ignored again (ignore_as_inherited), as it would have them run directly.
_INHERITED_IGNORED: set[int] = set()


class Stopped(BaseException):
    """A stop signal arrived before the loop that handles it was running.

    A :class:`BaseException`, as :class:`KeyboardInterrupt` is, so that no
    ``except Exception`` on the way swallows it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        """The signal's name (``SIGTERM``)."""
        return signal.Signals(self.signum).name


_ASKED: list[int] = []  # the stop signals :func:`starting` has raised Stopped for


def _raise_stopped(signum: int, _frame: FrameType | None) -> None:
    _ASKED.append(signum)
    raise Stopped(signum)


def stop_asked() -> None:
    """Raise :class:`Stopped` again if a stop signal arrived since :func:`starting` began.

    Python drops an exception that a signal handler raises while it runs
    inside a weakref callback or a ``__del__`` (one runs whenever an import
    releases its lock): the handler ran, yet the process goes on. Called
    where going on would lose the stop for good: before the command runs,
    before the watch loop, and between the slices of a wait on a FIFO.
    """
    if _ASKED:
        raise Stopped(_ASKED[0])


def ignore_as_inherited() -> None:
    """Ignore again each signal that was ignored before :func:`starting` handled it.

    Called right before the command is exec'd (in a forked child too): the
    command then has the dispositions it would have had without hostgw.
    """
    for s in _INHERITED_IGNORED:
        signal.signal(s, signal.SIG_IGN)


@contextlib.contextmanager
def starting(others: Mapping[int, Handler] | None = None) -> Iterator[None]:
    """Handle signals while hostgw starts (the first render, rewrite and wait).

    A stop signal raises :class:`Stopped` wherever the process is, so a TERM
    that arrives while a template is read from a slow FIFO, a file written
    or a ``--wait`` goes on ends it promptly: as PID 1, a TERM without a
    handler would be ignored by the kernel and lost. One whose exception
    Python dropped is raised again by :func:`stop_asked`. ``others`` handle
    the rest (held for the command, or a "look again"). The loop's own
    handlers replace these once it runs; the previous ones are back on exit.
    """
    from hostgw.fileio import reading

    handlers: dict[int, Handler] = {**(others or {}), **dict.fromkeys(STOP_SIGNALS, _raise_stopped)}
    _ASKED.clear()
    old = {s: signal.signal(s, handler) for s, handler in handlers.items()}
    _INHERITED_IGNORED.update(s for s, handler in old.items() if handler == signal.SIG_IGN)
    old_check, reading.between_waits = reading.between_waits, stop_asked
    try:
        yield
    finally:
        reading.between_waits = old_check
        for s, handler in old.items():
            signal.signal(s, handler)
        _ASKED.clear()


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


def serve(watcher: Watcher, *, stop_signals: Sequence[int] = STOP_SIGNALS) -> int:
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
