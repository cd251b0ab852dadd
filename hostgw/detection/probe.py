"""Bounded, concurrent TCP connects: which candidate accepts on a port?

All connects start at once (non-blocking sockets and one ``selectors`` loop,
no threads) and share one deadline, so the whole probe takes at most about
``timeout`` seconds however many candidates there are. The caller's order is
the order of trust: the result is settled as soon as a candidate has
accepted and every candidate before it has failed.
"""

from __future__ import annotations

import errno
import os
import socket
import time
from collections.abc import Sequence

from hostgw.record import Record


class Probe(Record):
    """What a connect to one candidate gave: accepted or not, and how."""

    address: str
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, object]:
        """The JSON form: ``address``, ``ok``, ``detail``."""
        return {"address": self.address, "ok": self.ok, "detail": self.detail}


def _sockaddr(address: str, port: int) -> tuple[int, tuple[object, ...]]:
    info = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)[
        0
    ]
    return info[0], info[4]


def _reason(code: int) -> str:
    if code == errno.ECONNREFUSED:
        return "refused"
    return os.strerror(code).lower()


def probe_tcp(addresses: Sequence[str], port: int, timeout: float) -> list[Probe]:
    """Connect to ``port`` on every address at once; a :class:`Probe` for each, in order.

    Candidates still pending when the answer is settled are reported as
    ``not needed``; those pending at the deadline as ``timed out``.
    """
    import selectors

    results: dict[int, Probe] = {}
    socks: dict[int, socket.socket] = {}
    selector = selectors.DefaultSelector()
    try:
        for index, address in enumerate(addresses):
            try:
                af, sockaddr = _sockaddr(address, port)
                sock = socket.socket(af, socket.SOCK_STREAM)
            except OSError as exc:
                results[index] = Probe(address, False, exc.strerror or str(exc))
                continue
            sock.setblocking(False)
            code = sock.connect_ex(sockaddr)
            if code == 0:
                results[index] = Probe(address, True, "accepted")
                sock.close()
            elif code in (errno.EINPROGRESS, errno.EAGAIN):
                socks[index] = sock
                selector.register(sock, selectors.EVENT_WRITE, index)
            else:
                results[index] = Probe(address, False, _reason(code))
                sock.close()
        deadline = time.monotonic() + timeout
        while socks and not _settled(len(addresses), results):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            for key, _ in selector.select(left):
                index = key.data
                sock = socks.pop(index)
                selector.unregister(sock)
                code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                ok = code == 0
                results[index] = Probe(addresses[index], ok, "accepted" if ok else _reason(code))
                sock.close()
        settled = _settled(len(addresses), results)
        for index, sock in socks.items():
            sock.close()
            detail = "not needed" if settled else f"timed out after {timeout:g} s"
            results[index] = Probe(addresses[index], False, detail)
    finally:
        selector.close()
    return [results[i] for i in range(len(addresses))]


def _settled(count: int, results: dict[int, Probe]) -> bool:
    """True when some candidate accepted and all before it are known to have failed."""
    for index in range(count):
        got = results.get(index)
        if got is None:
            return False
        if got.ok:
            return True
    return True
