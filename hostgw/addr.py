"""Addresses, host names, zones and ports: the one owner of their rules.

Pure functions over strings, used wherever such text enters hostgw
(``HOSTGW_IP``, hosts entries, interface names, ``--map``, wait targets), so
that nothing unchecked reaches a config.

- An IP address is what ``inet_pton`` accepts: strict (no ``010.1.1.1``, no
  ``1.2.3``). It comes from ``_socket``, the C module under ``socket``:
  ``socket.py`` itself builds enums and imports ``selectors`` at import
  time, about 3 ms of every ``hostgw ip`` for nothing used here.
- An IPv6 zone (``fe80::1%eth0``) is an interface name or index: 1 to 15
  of ``A-Z a-z 0-9 _ . -``.
- A host name is RFC 1123's: dot-separated labels of 1 to 63 letters,
  digits and hyphens, not starting or ending with a hyphen, 253 characters
  in all; ``_`` is allowed too, as Docker's DNS and the proxies accept it.
  Its last label is not a number (RFC 1123 2.1), and it is not a number in
  C's notation (``10.9.8``, ``010.9.8.7``, ``0x0a090807``): the resolver
  reads those as IPv4 addresses (``inet_aton``: 10.9.0.8, 8.9.8.7), so a
  typo or zero padding would give another address.
- A port is 1 to 65535, written in ASCII digits.
"""

from __future__ import annotations

import _socket

_FAMILIES = ((4, _socket.AF_INET), (6, _socket.AF_INET6))


def parse_ip(text: str) -> tuple[str, int] | None:
    """Return ``(normal form, family)`` for an IPv4/IPv6 address, else None.

    An IPv6 address may carry a zone (``fe80::1%eth0``); the zone is kept.
    """
    addr, sep, zone = text.partition("%")
    for family, af in _FAMILIES:
        try:
            raw = _socket.inet_pton(af, addr)
        except (OSError, ValueError):
            continue
        if sep and (family == 4 or not is_zone(zone)):
            return None
        normal = _socket.inet_ntop(af, raw)
        return (f"{normal}%{zone}" if sep else normal), family
    return None


_ZONE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
_LABEL_CHARS = _ZONE_CHARS - {"."}
_MAX_ZONE = 15  # IFNAMSIZ - 1
_MAX_NAME = 253
_MAX_LABEL = 63


def is_zone(text: str) -> bool:
    """True for an IPv6 zone: an interface name or index (``eth0``, ``br-1a2b``, ``3``)."""
    return 0 < len(text) <= _MAX_ZONE and set(text) <= _ZONE_CHARS


def zone_problem(zone: str) -> str | None:
    """Why ``zone`` cannot follow ``%`` in an address, or None when it can.

    The one check of every zone, wherever it comes from (``HOSTGW_IP``, a
    hosts entry, the interface a link-local next hop is reached through):
    Linux allows ``;``, ``{`` or ``#`` in an interface name, and none of them
    may reach a config.
    """
    if is_zone(zone):
        return None
    if not zone:
        return "the zone after % is empty"
    bad = [c for c in zone if c not in _ZONE_CHARS]
    if bad:
        return (
            f"zone {zone!r} holds {bad[0]!r}: a zone is an interface name or index, "
            "of A-Z a-z 0-9 _ . - only"
        )
    return f"zone {zone!r} is longer than {_MAX_ZONE} characters (an interface name's limit)"


def address_problem(text: str) -> str:
    """Why ``text`` is not an address, in words (for a value :func:`parse_ip` refused):
    ``not an IP address``, with the zone's problem where the rest is one."""
    addr, sep, zone = text.partition("%")
    why = "not an IP address"
    if sep and parse_ip(addr) is not None:
        if ":" not in addr:
            return f"{why}: an IPv4 address takes no zone"
        return f"{why}: {zone_problem(zone) or 'a zone is an interface name or index'}"
    return why


def is_hostname(text: str) -> bool:
    """True for a host name as RFC 1123 (plus ``_``) allows; a trailing dot is allowed.
    Not a number, nor a name whose last label is one (see the module's notes)."""
    if not is_host_syntax(text):
        return False
    labels = (text[:-1] if text.endswith(".") else text).split(".")
    return not (_decimal(labels[-1]) or _c_number(labels))


def is_host_syntax(text: str) -> bool:
    """True for dot-separated labels as a host name has them, numbers included: how a
    host may be written in a config that hostgw only matches, never resolves
    (``--map 127:80=...`` matches ``proxy_pass http://127:80``)."""
    name = text[:-1] if text.endswith(".") else text
    if not 0 < len(name) <= _MAX_NAME:
        return False
    for label in name.split("."):
        if not 0 < len(label) <= _MAX_LABEL or not set(label) <= _LABEL_CHARS:
            return False
        if label[0] == "-" or label[-1] == "-":
            return False
    return True


def _decimal(text: str) -> bool:
    return bool(text) and set(text) <= _DIGITS


def _c_number(labels: list[str]) -> bool:
    """True for 1 to 4 parts that are each a number in C's notation (inet_aton's)."""
    return len(labels) <= 4 and all(
        _decimal(label) or (label[:2] in ("0x", "0X") and set(label[2:]) <= _HEX)
        for label in labels
    )


_DIGITS = frozenset("0123456789")
_HEX = _DIGITS | frozenset("abcdefABCDEF")


def _inet_aton(text: str) -> str:
    """What the C library reads ``text`` as (OSError where it reads no address)."""
    return _socket.inet_ntoa(_socket.inet_aton(text))


def host_problem(text: str) -> str:
    """Why ``text`` is neither an IP address nor a host name, in words."""
    if "%" in text:
        return address_problem(text)
    name = text[:-1] if text.endswith(".") else text
    if name and _c_number(name.split(".")):
        try:
            read = f", and the resolver would read this as {_inet_aton(text)}"
        except OSError:
            read = ""
        return (
            "not an IPv4 address: that is four decimal numbers from 0 to 255, without "
            f"leading zeros (10.9.8.7){read}"
        )
    if _decimal(name.rsplit(".", 1)[-1]) and is_hostname(name + "x"):
        return "not an IP address, nor a hostname: a hostname's last label is not a number"
    return "neither an IP address nor a hostname"


def parse_port(text: str) -> int | None:
    """The port number for ``text`` (ASCII digits, 1 to 65535), else None."""
    if not (0 < len(text) <= 5 and text.isascii() and text.isdigit()):
        return None
    port = int(text)
    return port if 0 < port <= 65535 else None


def family_of(text: str) -> int | None:
    """4 or 6 for a valid address, None otherwise."""
    parsed = parse_ip(text)
    return parsed[1] if parsed else None


def packed(address: str) -> bytes:
    """The address as network-order bytes (zone ignored); ValueError if invalid."""
    addr = address.partition("%")[0]
    for _, af in _FAMILIES:
        try:
            return _socket.inet_pton(af, addr)
        except (OSError, ValueError):
            continue
    raise ValueError(f"not an IP address: {address!r}")


def unpack(raw: bytes) -> str:
    """Network-order bytes (4 or 16) -> the address in normal form; ValueError otherwise."""
    if len(raw) == 4:
        return _socket.inet_ntop(_socket.AF_INET, raw)
    if len(raw) == 16:
        return _socket.inet_ntop(_socket.AF_INET6, raw)
    raise ValueError(f"an address has 4 or 16 bytes, not {len(raw)}")


def is_link_local(address: str) -> bool:
    """True for 169.254.0.0/16 and fe80::/10."""
    raw = packed(address)
    if len(raw) == 4:
        return raw[0] == 169 and raw[1] == 254
    return raw[0] == 0xFE and (raw[1] & 0xC0) == 0x80


def is_unspecified(address: str) -> bool:
    """True for 0.0.0.0 and ::."""
    return not any(packed(address))


def host_form(address: str) -> str:
    """The address as it goes before ``:port``: IPv6 in brackets (once)."""
    return f"[{address}]" if ":" in address and not address.startswith("[") else address


def family_name(family: int) -> str:
    """``IPv4`` or ``IPv6``."""
    return f"IPv{family}"
