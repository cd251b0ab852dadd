"""Ask the system resolver for names, with a hard bound on the total time.

``getaddrinfo`` cannot be cancelled and, with an unreachable nameserver,
blocks for ``timeout x attempts x servers`` of ``resolv.conf`` (often 10 s or
more). The names are therefore looked up in a *daemon* thread, and the
caller waits on a condition variable until the answers that matter are in or
the deadline passes (:class:`Lookups` are started first and read by a
deadline later, so a walk can read other strategies meanwhile). A lookup
still running at the deadline is abandoned: the thread ends when glibc gives
up, and being a daemon it never keeps the process alive. A subprocess would
bound time just as well but costs a fork and an exec per call; the thread
costs nothing when the resolver is quick.

Uses the full NSS chain (``/etc/hosts``, then DNS, per ``nsswitch.conf``),
exactly what other programs in the container see.
"""

from __future__ import annotations

import _socket  # not socket: see hostgw.addr
import threading
import time
from collections.abc import Sequence

from hostgw.addr import parse_ip
from hostgw.record import Record


class Resolution(Record):
    """The answer for one name: addresses ``(address, family)``, or an error."""

    name: str
    addresses: tuple[tuple[str, int], ...]
    error: str | None = None


def _lookup(name: str) -> Resolution:
    try:
        # Bytes: a str host goes through the idna codec, whose first use
        # imports stringprep and unicodedata (~2 ms) with the GIL held.
        host = name.encode("ascii") if name.isascii() else name.encode("idna")
        infos = _socket.getaddrinfo(host, None, 0, _socket.SOCK_STREAM)
    except _socket.gaierror as exc:
        return Resolution(name, (), exc.strerror or str(exc))
    except (UnicodeError, OSError, ValueError) as exc:
        return Resolution(name, (), str(exc))
    seen: list[tuple[str, int]] = []
    for _af, _type, _proto, _canon, sockaddr in infos:
        parsed = parse_ip(str(sockaddr[0]))
        if parsed and parsed not in seen:
            seen.append(parsed)
    return Resolution(name, tuple(seen))


def _settled(names: Sequence[str], results: dict[str, Resolution], families: Sequence[int]) -> bool:
    """True when, for every family, the first name (in order) that can answer has."""
    for family in families:
        for name in names:
            got = results.get(name)
            if got is None:
                return False  # a more trusted name is still pending
            if any(fam == family for _, fam in got.addresses):
                break
    return True


class Lookups:
    """Names being resolved in order of trust, in one daemon thread, since
    ``started`` (monotonic).

    One thread, not one per name: an answer waits for the most trusted name
    anyway (see :func:`_settled`), a thread costs about as much to start as a
    lookup that is refused, and names after one that answered every family in
    ``families`` are not asked at all. :meth:`wait` reads what has come in by
    a deadline; a lookup still running then is abandoned (its thread ends
    when glibc gives up).
    """

    def __init__(self, names: Sequence[str], families: Sequence[int] = (4, 6)) -> None:
        self.names = list(dict.fromkeys(names))
        self.families = tuple(families)
        self.started = time.monotonic()
        self._results: dict[str, Resolution] = {}
        self._ready = threading.Condition()
        threading.Thread(target=self._work, name="hostgw-dns", daemon=True).start()

    @property
    def key(self) -> tuple[tuple[str, ...], tuple[int, ...]]:
        """What these lookups ask: the names, in order, and the families."""
        return tuple(self.names), self.families

    def _work(self) -> None:
        try:
            for name in self.names:
                found = _lookup(name)
                with self._ready:
                    self._results[name] = found
                    self._ready.notify_all()
                    if _settled(self.names, self._results, self.families):
                        return
        finally:
            with _IN_FLIGHT_LOCK:
                if _IN_FLIGHT.get(self.key) is self:
                    del _IN_FLIGHT[self.key]

    def wait(self, deadline: float) -> dict[str, Resolution]:
        """The answers in by ``deadline`` (monotonic), or sooner once the most
        trusted answer for every family is known.

        Maps each name that finished to its :class:`Resolution`; a name
        missing from it did not answer in time, or was not needed.
        """
        with self._ready:
            while not _settled(self.names, self._results, self.families):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._ready.wait(left)
            return dict(self._results)


_IN_FLIGHT: dict[tuple[tuple[str, ...], tuple[int, ...]], Lookups] = {}
_IN_FLIGHT_LOCK = threading.Lock()


def ask(names: Sequence[str], families: Sequence[int] = (4, 6)) -> Lookups:
    """Lookups of ``names``: those still running for the same names, if any, else new.

    A resolver that has not yet answered a walk (a watcher's, say) is not
    asked again by the next one, so lookups that never end cannot pile up:
    one thread at most per set of names. A finished lookup is never reused.
    """
    key = (tuple(dict.fromkeys(names)), tuple(families))
    with _IN_FLIGHT_LOCK:
        found = _IN_FLIGHT.get(key)
        if found is None:
            found = _IN_FLIGHT[key] = Lookups(*key)
        return found


def resolve_names(
    names: Sequence[str], timeout: float, families: Sequence[int] = (4, 6)
) -> dict[str, Resolution]:
    """Resolve ``names`` in the background; return within about ``timeout`` seconds.

    The result maps each name that finished to its :class:`Resolution`; a name
    missing from it did not answer in time. Returns early once the most
    trusted answer for every family in ``families`` is known.
    """
    asked = time.monotonic()
    return ask(names, families).wait(asked + max(timeout, 0.0))


def nameservers(resolv_conf: str) -> list[str]:
    """The ``nameserver`` addresses of ``resolv.conf`` text, for evidence."""
    found: list[str] = []
    for line in resolv_conf.splitlines():
        fields = line.partition("#")[0].split()
        if len(fields) >= 2 and fields[0] == "nameserver":
            found.append(fields[1])
    return found
