"""The container's own addresses, read from the kernel's text files without netlink.

An ``/etc/hosts`` or DNS answer that is one of them reaches only the
container itself: pasta gives a container the host's addresses, and Podman
4.3 then names that same address ``host.containers.internal``.

- ``/proc/net/fib_trie`` (IPv4) prints every routing table as a trie; a leaf
  ``|-- ADDRESS`` is followed by one line per prefix, ``/LEN SCOPE TYPE``.
  The ``LOCAL`` ones are the addresses the kernel takes as its own (each
  interface address as a /32, and whole local routes such as 127.0.0.0/8).
- ``/proc/net/if_inet6`` (IPv6): one address per line, 32 hex digits, then
  the interface index, prefix length, scope and flags in hex, and the name.

Whether an own address is wrong depends on the interface that holds it
(:func:`link_kind`): on a network card, a bridge or a bond we share the
host's network namespace, and it is the host's; on anything else (a veth,
a tap, loopback) it is the container's. An IPv4 address's interface is the
one of the most specific route without a gateway that covers it
(:func:`link_of`). ``sys/class/net`` is believed only when it lists the
interfaces of ``/proc/net/dev`` (:func:`parse_net_dev`), which always
shows the reader's own namespace; a ``/sys`` of the host's, mounted into a
container, does not.

Pure functions from text to records; lines that do not parse are left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from hostgw.addr import packed, unpack
from hostgw.record import Record

#: What an interface is, for an own address on it (see :func:`link_kind`).
LinkKind = Literal["nic", "bridge", "bond", "other"]
#: The entry of ``sys/class/net/NAME`` that shows each kind of the host's interface.
HOST_LINKS: tuple[tuple[str, LinkKind], ...] = (
    ("device", "nic"),
    ("bridge", "bridge"),
    ("bonding", "bond"),
)


class Local(Record):
    """One prefix the kernel takes as its own: ``address/prefix`` (a /32 or /128 for one)."""

    address: str
    prefix: int
    iface: str = ""


class OwnAddresses(Record):
    """Every local prefix, IPv4 and IPv6; :meth:`holds` says whether an address is one."""

    locals: tuple[Local, ...] = ()

    def holds(self, address: str) -> Local | None:
        """The local prefix ``address`` (zone ignored) falls in, or None."""
        try:
            raw = packed(address)
        except ValueError:
            return None
        for local in self.locals:
            own = packed(local.address)
            if len(own) == len(raw) and _same_prefix(raw, own, local.prefix):
                return local
        return None


def _same_prefix(a: bytes, b: bytes, prefix: int) -> bool:
    bits = len(a) * 8
    shift = bits - max(0, min(prefix, bits))
    return int.from_bytes(a, "big") >> shift == int.from_bytes(b, "big") >> shift


def parse_fib_trie(text: str) -> tuple[Local, ...]:
    """The ``LOCAL`` prefixes of ``/proc/net/fib_trie`` text, each once, in file order."""
    found: dict[tuple[str, int], Local] = {}
    leaf: str | None = None
    for line in text.split("\n"):
        fields = line.split()
        if len(fields) == 2 and fields[0] == "|--":
            leaf = _ipv4(fields[1])
        elif leaf is not None and fields and fields[0].startswith("/") and fields[-1] == "LOCAL":
            length = fields[0][1:]
            if length.isascii() and length.isdigit() and int(length) <= 32:
                found.setdefault((leaf, int(length)), Local(leaf, int(length)))
        elif fields and fields[0] != "|--" and not fields[0].startswith("/"):
            leaf = None  # a node line ("+--") or a table name: no leaf until the next
    return tuple(found.values())


def _ipv4(text: str) -> str | None:
    try:
        raw = packed(text)
    except ValueError:
        return None
    return unpack(raw) if len(raw) == 4 else None


def parse_if_inet6(text: str) -> tuple[Local, ...]:
    """The addresses of ``/proc/net/if_inet6`` text (as /128s, with their interface)."""
    found: list[Local] = []
    for line in text.split("\n"):
        fields = line.split()
        if len(fields) != 6 or len(fields[0]) != 32:
            continue
        try:
            address = unpack(bytes.fromhex(fields[0]))
        except ValueError:
            continue
        found.append(Local(address, 128, fields[5]))
    return tuple(found)


def link_kind(entries: Iterable[str]) -> LinkKind:
    """What an interface is, from the names in its ``sys/class/net/NAME`` directory.

    ``"nic"``: it has a ``device`` (a network card, virtio or Hyper-V's
    included); ``"bridge"`` or ``"bond"``: a ``bridge`` or ``bonding``
    directory. Anything else (a veth, a tap such as pasta's or slirp4netns's,
    loopback, a VLAN, a tunnel) is ``"other"``: nothing shows it is the host's.
    """
    names = set(entries)
    return next((kind for entry, kind in HOST_LINKS if entry in names), "other")


def parse_net_dev(text: str) -> frozenset[str]:
    """The interface names of ``/proc/net/dev`` text (``NAME:`` at the start of a line)."""
    names = set()
    for line in text.split("\n"):
        name, colon, _ = line.partition(":")
        name = name.strip(" \t")
        if colon and name and not any(c in name for c in " \t|/"):
            names.add(name)
    return frozenset(names)


def link_of(address: str, routes: Iterable[tuple[str, str, int]]) -> str | None:
    """The interface of the most specific route in ``routes`` that covers ``address``.

    ``routes``: ``(interface, destination, prefix)`` of routes without a
    gateway; a default route (prefix 0) covers nothing here.
    """
    try:
        raw = packed(address)
    except ValueError:
        return None
    best: tuple[int, str] | None = None
    for iface, destination, prefix in routes:
        try:
            net = packed(destination)
        except ValueError:
            continue
        covers = prefix > 0 and len(net) == len(raw) and _same_prefix(raw, net, prefix)
        if covers and (best is None or prefix > best[0]):
            best = (prefix, iface)
    return best[1] if best else None
