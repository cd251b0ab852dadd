"""IP address text: validation, normal form, and the few kinds that matter here.

Pure functions over strings. ``inet_pton`` does the validation: it is strict
(no ``010.1.1.1``, no ``1.2.3``). It comes from ``_socket``, the C module
under ``socket``: ``socket.py`` itself builds enums and imports ``selectors``
at import time, about 3 ms of every ``hostgw ip`` for nothing used here.
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
        if sep and (family == 4 or not zone or not zone.isprintable() or " " in zone):
            return None
        normal = _socket.inet_ntop(af, raw)
        return (f"{normal}%{zone}" if sep else normal), family
    return None


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
