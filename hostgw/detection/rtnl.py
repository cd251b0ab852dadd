"""Route netlink with the standard library: ``ip route get``, and route change events.

Two questions hostgw asks the kernel over ``AF_NETLINK``/``NETLINK_ROUTE``:

- :func:`route_get`: which route would carry a packet to this address (the
  next hop, the output interface, the table), as ``ip route get`` asks. It
  follows policy routing and tables other than main, and needs no ``/proc``;
- :func:`subscribe`: a socket that becomes readable whenever a route, link
  or address changes (for a watcher; the messages only mean "look again").

The messages are packed and read here (``linux/netlink.h``,
``linux/rtnetlink.h``); :func:`request` and :func:`read_route` are pure.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
from collections.abc import Iterator

from hostgw.record import Record

# linux/netlink.h and linux/rtnetlink.h
NLMSG_ERROR = 2
NLMSG_DONE = 3
RTM_NEWROUTE = 24
RTM_GETROUTE = 26
NLM_F_REQUEST = 0x1
RTA_DST = 1
RTA_OIF = 4
RTA_GATEWAY = 5
RTA_TABLE = 15
RTM_F_LOOKUP_TABLE = 0x1000  # answer with the table the route was found in

RTMGRP_LINK = 0x1
RTMGRP_IPV4_IFADDR = 0x10
RTMGRP_IPV4_ROUTE = 0x40
RTMGRP_IPV6_IFADDR = 0x100
RTMGRP_IPV6_ROUTE = 0x400
#: Route, link and address changes, both families: what can move the host's address.
CHANGES = (
    RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_IFADDR | RTMGRP_IPV6_ROUTE
)

_HEADER = struct.Struct("=IHHII")  # nlmsghdr: length, type, flags, sequence, port id
_RTMSG = struct.Struct("=BBBBBBBBI")  # family, dst_len, src_len, tos, table, protocol, scope,
# type, flags
_ATTR = struct.Struct("=HH")  # rtattr: length, type
_ERROR = struct.Struct("=i")  # nlmsgerr's first field: 0 or -errno


class NetlinkError(OSError):
    """The kernel's answer was an error (``errno``: ENETUNREACH when there is no route)."""


class Route(Record):
    """The kernel's answer to ``route get``: the next hop (None: on-link), interface, table."""

    gateway: str | None
    oif: int | None
    table: int


def _align(n: int) -> int:
    return (n + 3) & ~3


def request(dst: str, sequence: int = 1) -> bytes:
    """The ``RTM_GETROUTE`` message asking how the kernel would reach ``dst``."""
    family = socket.AF_INET6 if ":" in dst else socket.AF_INET
    packed = socket.inet_pton(family, dst)
    attr = _ATTR.pack(_ATTR.size + len(packed), RTA_DST) + packed
    body = _RTMSG.pack(family, len(packed) * 8, 0, 0, 0, 0, 0, 0, RTM_F_LOOKUP_TABLE) + attr
    return _HEADER.pack(_HEADER.size + len(body), RTM_GETROUTE, NLM_F_REQUEST, sequence, 0) + body


def messages(data: bytes) -> Iterator[tuple[int, bytes]]:
    """``(type, payload)`` of each netlink message in ``data``; a truncated one ends it."""
    offset = 0
    while offset + _HEADER.size <= len(data):
        length, kind, _flags, _seq, _port = _HEADER.unpack_from(data, offset)
        if length < _HEADER.size or offset + length > len(data):
            return
        yield kind, data[offset + _HEADER.size : offset + length]
        offset += _align(length)


def attributes(payload: bytes, offset: int) -> dict[int, bytes]:
    """The ``rtattr`` values from ``offset`` on, by type (a truncated one ends them)."""
    found: dict[int, bytes] = {}
    while offset + _ATTR.size <= len(payload):
        length, kind = _ATTR.unpack_from(payload, offset)
        if length < _ATTR.size or offset + length > len(payload):
            break
        found.setdefault(kind, payload[offset + _ATTR.size : offset + length])
        offset += _align(length)
    return found


def read_route(data: bytes) -> Route:
    """The :class:`Route` in the kernel's answer ``data``; raises :class:`NetlinkError`."""
    for kind, payload in messages(data):
        if kind == NLMSG_ERROR and len(payload) >= _ERROR.size:
            code = -_ERROR.unpack_from(payload)[0]
            if code:
                raise NetlinkError(code, os.strerror(code))
        elif kind == RTM_NEWROUTE and len(payload) >= _RTMSG.size:
            family, *_rest, table, _proto, _scope, _type, _flags = _RTMSG.unpack_from(payload)
            attrs = attributes(payload, _RTMSG.size)
            size = 16 if family == socket.AF_INET6 else 4
            hop = attrs.get(RTA_GATEWAY, b"")
            oif = attrs.get(RTA_OIF, b"")
            full_table = attrs.get(RTA_TABLE, b"")
            return Route(
                gateway=socket.inet_ntop(family, hop) if len(hop) == size else None,
                oif=struct.unpack("=I", oif)[0] if len(oif) == 4 else None,
                table=struct.unpack("=I", full_table)[0] if len(full_table) == 4 else table,
            )
    raise NetlinkError(errno.EPROTO, "no route in the kernel's answer")


def _socket(groups: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    try:
        sock.bind((0, groups))
    except BaseException:
        sock.close()
        raise
    return sock


def route_get(dst: str, *, timeout: float = 1.0) -> Route:
    """Ask the kernel how it would reach ``dst`` (an address), as ``ip route get`` does.

    Raises :class:`NetlinkError` with the kernel's errno (ENETUNREACH: no
    route), or another :class:`OSError` when netlink cannot be used.
    """
    with _socket() as sock:
        sock.settimeout(timeout)
        sock.send(request(dst))
        return read_route(sock.recv(1 << 16))


def interface_name(index: int | None) -> str:
    """The name of interface ``index`` (``?`` without one, ``ifN`` once it is gone)."""
    if index is None:
        return "?"
    try:
        return socket.if_indextoname(index)
    except OSError:
        return f"if{index}"


def subscribe(groups: int = CHANGES) -> socket.socket:
    """A non-blocking socket that receives the kernel's ``groups`` notifications."""
    sock = _socket(groups)
    sock.setblocking(False)
    return sock
