"""Wait until TCP ports and HTTP endpoints answer: the core of ``hostgw wait``.

A target is one of::

    PORT                 TCP, on the detected host address
    HOST:PORT            TCP; HOST is a name or an IPv4 address
    [V6]:PORT            TCP on an IPv6 address
    tcp://HOST:PORT      TCP, spelled out
    http://HOST:PORT/P   HTTP GET; any 2xx or 3xx status counts
    https://HOST:PORT/P  the same over TLS (certificate checked unless insecure)

An empty host (``:8000``, ``tcp://:8000``, ``http://:8000/health``) also
means the detected host address. :func:`parse_target` is pure; :func:`wait_for`
runs rounds of concurrent checks until every target has answered once or the
total time is spent, then raises :class:`~hostgw.errors.WaitTimeout` naming
what never answered and why.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from hostgw.addr import family_of, host_form, host_problem, is_hostname, parse_port
from hostgw.errors import StoppedBySignal, UsageError, WaitTimeout
from hostgw.record import Record

if TYPE_CHECKING:
    import socket

# socket, ssl and http.client are imported where a check runs: `hostgw exec`
# imports this module for its options and should not pay for them.

DEFAULT_TIMEOUT = 30.0
DEFAULT_INTERVAL = 1.0
DEFAULT_ATTEMPT_TIMEOUT = 5.0
_HEADERS = {"User-Agent": "hostgw-wait", "Connection": "close"}
_LAST_ROUND_MIN = 0.01  # less time left than this: no round could succeed, give up
_CUT_GRACE = 1.0  # seconds for checks cut short to leave their shut connections
CHECK_THREAD = "hostgw-wait-check"  # the name of each check's thread

_SYNTAX = "PORT, HOST:PORT, [V6]:PORT, tcp://HOST:PORT, http://HOST[:PORT]/PATH or https://…"
_DEFAULT_PORTS = {"http": 80, "https": 443}


class Target(Record):
    """One thing to wait for, as parsed from the command line.

    ``host`` is None when the target means the detected host address. It is
    an IPv6 address without brackets when ``v6`` is true.
    """

    text: str
    scheme: str  # "tcp", "http" or "https"
    host: str | None
    port: int
    path: str = "/"

    def address(self, gateway: str | None) -> str:
        """``host:port`` as it is dialled, bracketed for IPv6."""
        host = self.host if self.host is not None else gateway
        if host is None:
            raise ValueError(f"{self.text}: the detected host address is needed")
        return f"{host_form(host)}:{self.port}"

    def label(self, gateway: str | None) -> str:
        """The target as the user wrote it, with the detected host filled in."""
        if self.host is None and gateway is not None:
            if self.scheme == "tcp":
                return self.address(gateway)
            return f"{self.scheme}://{self.address(gateway)}{self.path}"
        return self.text


def _bad(text: str, why: str) -> UsageError:
    return UsageError(f"bad wait target {text!r}: {why}", hint=f"write targets as {_SYNTAX}")


def _port(text: str, value: str) -> int:
    if not value:
        raise _bad(text, "the port is missing")
    port = parse_port(value)
    if port is None:
        raise _bad(text, f"port {value!r} is not a number from 1 to 65535")
    return port


def _host(text: str, value: str) -> str | None:
    """Validate a host as written (no brackets); '' means the detected host."""
    if not value:
        return None
    if ":" in value:
        if family_of(value) != 6:
            raise _bad(text, f"{value!r} is not an IPv6 address")
        return value
    if family_of(value) is None and not is_hostname(value):
        raise _bad(text, f"{value!r} is {host_problem(value)}")
    return value


def _hostport(text: str, authority: str, default_port: int | None) -> tuple[str | None, int]:
    if "@" in authority:
        raise _bad(text, "credentials in the address are not supported")
    if authority.startswith("["):
        inside, sep, rest = authority[1:].partition("]")
        if not sep:
            raise _bad(text, "'[' without a closing ']'")
        if ":" not in inside:
            raise _bad(text, "brackets are only for IPv6 addresses")
        host = _host(text, inside)
        if rest == "" and default_port is not None:
            return host, default_port
        if not rest.startswith(":"):
            raise _bad(text, "expected ':PORT' after ']'")
        return host, _port(text, rest[1:])
    if authority.count(":") > 1:
        raise _bad(text, "an IPv6 address needs brackets, as in [fd00::1]:8000")
    host_text, sep, port_text = authority.rpartition(":")
    if not sep:
        if default_port is None:
            raise _bad(text, "the port is missing (HOST:PORT)")
        return _host(text, authority), default_port
    return _host(text, host_text), _port(text, port_text)


def parse_target(text: str) -> Target:
    """Parse one target; raise :class:`UsageError` naming it when it is malformed."""
    if not text or text != text.strip():
        raise _bad(text, "empty or surrounded by spaces")
    scheme, sep, rest = text.partition("://")
    if not sep:
        if text.isascii() and text.isdigit():
            return Target(text, "tcp", None, _port(text, text))
        host, port = _hostport(text, text, None)
        return Target(text, "tcp", host, port)
    scheme = scheme.lower()
    if scheme == "tcp":
        authority, _, path = rest.partition("/")
        if path:
            raise _bad(text, "a tcp:// target has no path")
        host, port = _hostport(text, authority, None)
        return Target(text, "tcp", host, port)
    if scheme in _DEFAULT_PORTS:
        cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
        authority, path = rest[:cut], rest[cut:].partition("#")[0]
        if not path.startswith("/"):
            path = "/" + path
        if any(c.isspace() for c in path):
            raise _bad(text, "spaces in the path must be written as %20")
        host, port = _hostport(text, authority, _DEFAULT_PORTS[scheme])
        return Target(text, scheme, host, port, path)
    raise _bad(text, f"unknown scheme {scheme!r}; use tcp://, http:// or https://")


def parse_targets(texts: Sequence[str]) -> list[Target]:
    """Parse every target, so that one bad one is reported before any waiting."""
    return [parse_target(t) for t in texts]


# --- checking one target (the I/O edge) ---


def _why(exc: BaseException, host: str) -> str:
    """A few words for why an attempt failed: 'refused', 'timeout', 'HTTP 500'…

    TLS and HTTP errors are looked for only when an HTTP(S) check has loaded
    their modules: a TCP check must not load ``ssl`` and ``http.client``,
    which would stay resident (~6 MB) for the life of ``exec --watch``.
    """
    import errno
    import socket

    ssl, http = sys.modules.get("ssl"), sys.modules.get("http.client")
    words = {
        errno.ECONNREFUSED: "refused",
        errno.ETIMEDOUT: "timeout",
        errno.EHOSTUNREACH: "host unreachable",
        errno.ENETUNREACH: "network unreachable",
        errno.ECONNRESET: "connection reset",
        errno.EADDRNOTAVAIL: "address not available",
    }
    if isinstance(exc, socket.gaierror):
        why = f"cannot resolve {host!r}"
    elif ssl is not None and isinstance(exc, ssl.SSLCertVerificationError):
        why = f"TLS certificate not trusted ({exc.verify_message}; --insecure skips the check)"
    elif ssl is not None and isinstance(exc, ssl.SSLError):
        why = f"TLS handshake failed ({exc.reason or exc})"
    elif isinstance(exc, TimeoutError | socket.timeout):
        why = "timeout"
    elif isinstance(exc, OSError) and (exc.errno in words or exc.strerror):
        why = words.get(exc.errno or 0) or str(exc.strerror).lower()
    elif http is not None and isinstance(exc, http.RemoteDisconnected):
        why = "closed the connection without an HTTP response"
    elif http is not None and isinstance(exc, http.HTTPException):
        why = f"not an HTTP response ({type(exc).__name__})"
    else:
        why = f"{type(exc).__name__}: {exc}"
    return why


class Attempt:
    """One check in flight, which another thread can cut short.

    The check hands over its connection with :meth:`watch`; :meth:`cut` then
    shuts that connection down, so a read blocked inside it (a TLS handshake
    in OpenSSL, an HTTP response) returns at once. The attempt keeps a
    duplicate of the socket, closed only by :meth:`release`, so a cut never
    touches a descriptor the check has closed and the system reused.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._dup: socket.socket | None = None
        self._cut = False

    def watch(self, sock: socket.socket) -> None:
        """Take charge of ``sock``; raise :class:`TimeoutError` if already cut."""
        with self._lock:
            if self._cut:
                raise TimeoutError("cut short")
            self._dup = sock.dup()

    def cut(self) -> bool:
        """Shut the connection down; True if there was one to shut."""
        import socket

        with self._lock:
            self._cut = True
            if self._dup is None:
                return False
            with contextlib.suppress(OSError):
                self._dup.shutdown(socket.SHUT_RDWR)
            return True

    def release(self) -> None:
        """Close the duplicate; the check is done with its connection."""
        with self._lock:
            if self._dup is not None:
                self._dup.close()
                self._dup = None


def check(
    target: Target,
    gateway: str | None,
    timeout: float,
    *,
    insecure: bool = False,
    attempt: Attempt | None = None,
) -> str | None:
    """Try ``target`` once; return None when it answered, else why it did not.

    ``attempt``, when given, lets another thread cut the check short.
    """
    host = target.host if target.host is not None else gateway
    if host is None:
        raise ValueError(f"{target.text}: the detected host address is needed")
    import socket

    attempt = attempt if attempt is not None else Attempt()
    try:
        with socket.create_connection((host, target.port), timeout=timeout) as sock:
            if target.scheme == "tcp":
                return None
            attempt.watch(sock)
            return _check_http(target, host, sock, timeout, insecure=insecure)
    except Exception as exc:  # every failure is a reason to retry
        return _why(exc, host)
    finally:
        attempt.release()


def _check_http(
    target: Target, host: str, sock: socket.socket, timeout: float, *, insecure: bool
) -> str | None:
    """One GET over ``sock``, already connected (and wrapped in TLS here for https)."""
    import http.client

    conn: http.client.HTTPConnection
    if target.scheme == "https":
        import ssl

        context = ssl.create_default_context()
        if insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        sock = context.wrap_socket(sock, server_hostname=host)
        # HTTPS's class for its default port: Host names port 443 only when it is not
        conn = http.client.HTTPSConnection(host, target.port, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection(host, target.port, timeout=timeout)
    conn.sock = sock  # connected already: the connection's own connect() is not called
    try:
        conn.request("GET", target.path, headers=_HEADERS)
        response = conn.getresponse()
        if 200 <= response.status < 400:
            return None
        return f"HTTP {response.status} {response.reason}".rstrip()
    finally:
        conn.close()


# --- rounds ---


class WaitSettings(Record):
    """The wait options as given: the targets and the timing."""

    targets: tuple[str, ...] = ()
    timeout: float = DEFAULT_TIMEOUT
    interval: float = DEFAULT_INTERVAL
    attempt_timeout: float = DEFAULT_ATTEMPT_TIMEOUT
    insecure: bool = False
    timeout_option: str = "--timeout"  # how the command that waits spells ``timeout``


def _detected_address() -> str:
    from hostgw.detection import detect

    return detect().address


class Round(Record):
    """What one round of checks found: ``failed`` pairs each target with its reason.

    ``gateway`` is the detected host address used for targets without a host.
    """

    number: int
    elapsed: float
    ready: int
    total: int
    failed: tuple[tuple[Target, str], ...]
    gateway: str | None = None

    def describe(self) -> str:
        """One progress line, as ``hostgw wait`` prints it."""
        head = f"round {self.number} at {self.elapsed:.1f}s: {self.ready}/{self.total} ready"
        if not self.failed:
            return head
        return (
            head
            + "; waiting for "
            + ", ".join(f"{t.label(self.gateway)} ({why})" for t, why in self.failed)
        )


def _run_round(
    targets: Sequence[Target], gateway: str | None, limit: float, insecure: bool
) -> dict[Target, str | None]:
    """Check every target concurrently, giving up on each after ``limit`` seconds.

    A check still running at the limit is cut: its connection is shut down
    and it gets a moment to leave. No thread may be inside OpenSSL when the
    process exits, since OpenSSL's exit handlers free what a handshake is
    using (a crash seen on Python 3.10). Threads are daemons: one stuck in
    name resolution (which socket timeouts do not bound) is abandoned, not
    joined, and cannot delay the exit; once it connects, it finds itself cut.
    """
    results: dict[Target, str | None] = {}
    lock = threading.Lock()
    attempts = {t: Attempt() for t in targets}
    # Events, not Thread.join: a join that a signal interrupts can mark a
    # running thread as stopped (CPython 3.10 and 3.11), and it would not be cut.
    finished = {t: threading.Event() for t in targets}

    def run(t: Target) -> None:
        try:
            outcome = check(t, gateway, limit, insecure=insecure, attempt=attempts[t])
            with lock:
                results[t] = outcome
        finally:
            finished[t].set()

    started: list[Target] = []
    late: list[Target] = []
    try:
        for t in targets:
            threading.Thread(target=run, args=(t,), name=CHECK_THREAD, daemon=True).start()
            started.append(t)
        end = time.monotonic() + limit
        for t in targets:
            finished[t].wait(max(0.0, end - time.monotonic()))
        late = [t for t in targets if not finished[t].is_set()]
    finally:  # a signal (TERM as PID 1, ^C) ends the round too: cut what is left
        cut = [t for t in started if not finished[t].is_set() and attempts[t].cut()]
        end = time.monotonic() + _CUT_GRACE
        for t in cut:
            finished[t].wait(max(0.0, end - time.monotonic()))
    with lock:
        return {t: "timeout" if t in late else results.get(t, "timeout") for t in targets}


def wait_for(
    targets: Sequence[Target],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    interval: float = DEFAULT_INTERVAL,
    attempt_timeout: float = DEFAULT_ATTEMPT_TIMEOUT,
    insecure: bool = False,
    gateway: str | Callable[[], str] | None = None,
    progress: Callable[[Round], None] | None = None,
    timeout_option: str = "--timeout",
) -> float:
    """Check ``targets`` in rounds until all have answered; return the seconds taken.

    ``timeout`` bounds the whole wait; each attempt is also bounded by
    ``attempt_timeout`` and by the time left. Once a target answers it is not
    checked again. ``gateway`` is the detected host address (or a function
    that finds it), needed only when a target has no host; by default
    :func:`hostgw.detect` is asked. ``progress`` is called after every
    round. Raises :class:`WaitTimeout` naming every target that never answered
    and the last reason (its hint says to raise ``timeout_option``, the
    caller's name for ``timeout``), or a detection error when the host cannot
    be found.
    """
    start = time.monotonic()
    deadline = start + timeout
    host: str | None = None
    if any(t.host is None for t in targets):
        found = gateway if gateway is not None else _detected_address
        host = found() if callable(found) else found
    pending = list(dict.fromkeys(targets))
    total = len(pending)
    number = 0
    while True:
        number += 1
        limit = max(0.0, min(attempt_timeout, deadline - time.monotonic()))
        results = _run_round(pending, host, limit, insecure)
        failed = tuple((t, why) for t, why in results.items() if why is not None)
        pending = [t for t, _ in failed]
        now = time.monotonic()
        if progress is not None:
            progress(Round(number, now - start, total - len(pending), total, failed, host))
        if not pending:
            return now - start
        time.sleep(max(0.0, min(interval, deadline - now)))
        if deadline - time.monotonic() < _LAST_ROUND_MIN:
            raise _timeout(failed, host, timeout, total, timeout_option)


def wait_with(
    targets: Sequence[Target],
    settings: WaitSettings,
    *,
    progress: Callable[[str], None] | None = None,
    gateway: str | Callable[[], str] | None = None,
) -> float:
    """:func:`wait_for` with ``settings``' timing; ``progress`` gets one line per round."""
    return wait_for(
        targets,
        timeout=settings.timeout,
        interval=settings.interval,
        attempt_timeout=settings.attempt_timeout,
        insecure=settings.insecure,
        gateway=gateway,
        progress=None if progress is None else (lambda r: progress(r.describe())),
        timeout_option=settings.timeout_option,
    )


def wait_stoppable(
    targets: Sequence[Target],
    settings: WaitSettings,
    *,
    progress: Callable[[str], None] | None = None,
    gateway: str | Callable[[], str] | None = None,
) -> float:
    """:func:`wait_with` as ``hostgw wait`` runs it: TERM or INT ends it, raising
    :class:`~hostgw.errors.StoppedBySignal` (as a container's PID 1, a signal with no
    handler is dropped by the kernel, and ``docker stop`` would wait its grace out)."""
    from hostgw.runtime.loop import Stopped, starting

    try:
        with starting():
            return wait_with(targets, settings, progress=progress, gateway=gateway)
    except Stopped as stop:
        raise StoppedBySignal(
            f"stopped by {stop.name} before every target answered", signum=stop.signum
        ) from None


def _timeout(
    failed: Sequence[tuple[Target, str]],
    host: str | None,
    timeout: float,
    total: int,
    option: str = "--timeout",
) -> WaitTimeout:
    names = [t.label(host) for t, _ in failed]
    listing = "; ".join(f"{t.label(host)}: {why}" for t, why in failed)
    answered = [why for _, why in failed if why.startswith("HTTP ")]
    hints = []
    if answered:  # a server is there, and says no
        hints.append(
            f"a server answered ({answered[0]}): check the URL's path, and that the "
            "service reports ready there"
        )
    if len(answered) < len(failed):
        hints.append(
            "check that the backend runs and publishes that port on the host "
            "(docker ps, docker logs)"
        )
    hints[-1] += f"; if it is only slow to start, raise {option} (or HOSTGW_WAIT_TIMEOUT)"
    return WaitTimeout(
        f"gave up after {timeout:g}s; {len(failed)} of {total} target(s) never answered: {listing}",
        pending=names,
        hint="; ".join(hints),
    )
