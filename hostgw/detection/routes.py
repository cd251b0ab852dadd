"""Parse the kernel's route tables as text: ``/proc/net/route`` and ``/proc/net/ipv6_route``.

Pure functions from text to :class:`Route` records; no I/O. Lines that do not
parse are kept as :class:`Skipped` (line number and reason) rather than
raising, so that one odd line never hides the default route.

``/proc/net/route`` (IPv4, main table only) prints each 32-bit address with
``%08X`` of the in-memory value, so on a little-endian machine 172.17.0.1 is
``010011AC``. Columns: Iface, Destination, Gateway, Flags, RefCnt, Use,
Metric, Mask, MTU, Window, IRTT.

``/proc/net/ipv6_route`` (every table) has no header; columns: destination
(32 hex digits), prefix length (2 hex), source, source prefix length, next
hop, metric (8 hex), refcount, use, flags (8 hex), device.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from hostgw.addr import packed, unpack
from hostgw.record import Record

RTF_UP = 0x0001
RTF_GATEWAY = 0x0002
RTF_REJECT = 0x0200


class Route(Record):
    """One route line. ``gateway`` is None unless the route goes via one.

    ``line`` is the 1-based line number in the file, ``text`` the line as
    read (for evidence). ``prefix`` is -1 for a source-specific IPv6 route.
    """

    family: int
    iface: str
    destination: str
    prefix: int
    gateway: str | None
    flags: int
    metric: int
    line: int
    text: str

    @property
    def is_default(self) -> bool:
        """Destination 0.0.0.0/0 or ::/0."""
        return self.prefix == 0 and not any(c not in "0.:" for c in self.destination)

    @property
    def usable(self) -> bool:
        """Up and not a reject (unreachable/prohibit/blackhole) route."""
        return bool(self.flags & RTF_UP) and not self.flags & RTF_REJECT


class Skipped(Record):
    """A line that could not be read as a route, and why."""

    line: int
    reason: str


class RouteTable(Record):
    """Every route read from one file, plus the lines that were skipped."""

    routes: tuple[Route, ...]
    skipped: tuple[Skipped, ...]


def _is_hex(text: str, min_len: int = 1, max_len: int = 8) -> bool:
    # isascii + isalnum rule out signs, blanks and "_", and no "x" rules out a
    # "0x" prefix, all of which int() would accept; int() then rejects letters
    # past f. All C-level: no loop per character.
    if not (min_len <= len(text) <= max_len and text.isascii() and text.isalnum()):
        return False
    if "x" in text or "X" in text:
        return False
    try:
        int(text, 16)
    except ValueError:
        return False
    return True


def _is_dec(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _lines(data: str | bytes) -> Iterable[tuple[int, str]]:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    for number, line in enumerate(text.split("\n"), 1):
        stripped = line.strip()
        if stripped:
            yield number, stripped


def hex_to_ipv4(text: str, byteorder: str = sys.byteorder) -> str:
    """``010011AC`` -> ``172.17.0.1`` (as printed on a ``byteorder`` machine)."""
    if not _is_hex(text, 8, 8):
        raise ValueError(f"not 8 hex digits: {text!r}")
    raw = int(text, 16).to_bytes(4, "little" if byteorder == "little" else "big")
    return ".".join(str(b) for b in raw)


def ipv4_to_hex(address: str, byteorder: str = sys.byteorder) -> str:
    """``172.17.0.1`` -> ``010011AC``: the inverse of :func:`hex_to_ipv4`."""
    raw = packed(address)
    if len(raw) != 4:
        raise ValueError(f"not an IPv4 address: {address!r}")
    return f"{int.from_bytes(raw, 'little' if byteorder == 'little' else 'big'):08X}"


def hex_to_ipv6(text: str) -> str:
    """32 hex digits (network order) -> the compressed IPv6 address."""
    if not _is_hex(text, 32, 32):
        raise ValueError(f"not 32 hex digits: {text!r}")
    return unpack(bytes.fromhex(text))


def ipv6_to_hex(address: str) -> str:
    """The inverse of :func:`hex_to_ipv6` (lower case, as the kernel prints)."""
    raw = packed(address)
    if len(raw) != 16:
        raise ValueError(f"not an IPv6 address: {address!r}")
    return raw.hex()


def parse_ipv4_routes(data: str | bytes, byteorder: str = sys.byteorder) -> RouteTable:
    """Read ``/proc/net/route`` text. Never raises; bad lines become :class:`Skipped`."""
    routes: list[Route] = []
    skipped: list[Skipped] = []
    for number, line in _lines(data):
        fields = line.split()
        if fields[0] == "Iface" and fields[1:2] == ["Destination"]:
            continue  # the header
        if len(fields) < 8:
            skipped.append(Skipped(number, f"{len(fields)} fields, need at least 8"))
            continue
        iface, dest, gw, flags, _ref, _use, metric, mask = fields[:8]
        if not (_is_hex(dest, 8, 8) and _is_hex(gw, 8, 8) and _is_hex(mask, 8, 8)):
            skipped.append(Skipped(number, "destination, gateway or mask is not 8 hex digits"))
            continue
        if not (_is_hex(flags) and _is_dec(metric)):
            skipped.append(Skipped(number, "flags not hex or metric not decimal"))
            continue
        flag_bits = int(flags, 16)
        gateway = hex_to_ipv4(gw, byteorder)
        has_gw = bool(flag_bits & RTF_GATEWAY) and gw.strip("0") != ""
        routes.append(
            Route(
                family=4,
                iface=iface,
                destination=hex_to_ipv4(dest, byteorder),
                prefix=int(mask, 16).bit_count(),
                gateway=gateway if has_gw else None,
                flags=flag_bits,
                metric=int(metric),
                line=number,
                text=line,
            )
        )
    return RouteTable(tuple(routes), tuple(skipped))


def parse_ipv6_routes(data: str | bytes) -> RouteTable:
    """Read ``/proc/net/ipv6_route`` text. Never raises; bad lines become :class:`Skipped`.

    Source-specific routes (source prefix length > 0) are read but are never
    defaults: they apply only to some source addresses.
    """
    routes: list[Route] = []
    skipped: list[Skipped] = []
    for number, line in _lines(data):
        fields = line.split()
        if len(fields) < 10:
            skipped.append(Skipped(number, f"{len(fields)} fields, need 10"))
            continue
        dest, dest_len, _src, src_len, nexthop, metric, _ref, _use, flags, iface = fields[:10]
        if not (_is_hex(dest, 32, 32) and _is_hex(nexthop, 32, 32) and _is_hex(_src, 32, 32)):
            skipped.append(Skipped(number, "an address is not 32 hex digits"))
            continue
        if not (
            _is_hex(dest_len, 2, 2)
            and _is_hex(src_len, 2, 2)
            and _is_hex(metric)
            and _is_hex(flags)
        ):
            skipped.append(Skipped(number, "prefix length, metric or flags not hex"))
            continue
        prefix = int(dest_len, 16)
        if prefix > 128 or int(src_len, 16) > 128:
            skipped.append(Skipped(number, "prefix length over 128"))
            continue
        flag_bits = int(flags, 16)
        gateway = hex_to_ipv6(nexthop)
        has_gw = bool(flag_bits & RTF_GATEWAY) and gateway != "::"
        routes.append(
            Route(
                family=6,
                iface=iface,
                destination=hex_to_ipv6(dest),
                # A source-specific default is not a default: mark it with prefix -1.
                prefix=prefix if int(src_len, 16) == 0 else -1,
                gateway=gateway if has_gw else None,
                flags=flag_bits,
                metric=int(metric, 16),
                line=number,
                text=line,
            )
        )
    return RouteTable(tuple(routes), tuple(skipped))


def default_routes(routes: Iterable[Route]) -> list[Route]:
    """Usable default routes, best first: lowest metric, then file order."""
    found = [r for r in routes if r.is_default and r.usable]
    return sorted(found, key=lambda r: (r.metric, r.line))


def best_default(routes: Iterable[Route]) -> Route | None:
    """The default route the kernel prefers, or None when there is none."""
    found = default_routes(routes)
    return found[0] if found else None
