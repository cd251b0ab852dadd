"""Parse ``/etc/hosts`` text into entries with line numbers; look names up.

Pure functions, no I/O. The rules follow glibc's ``files`` backend: ``#``
starts a comment, fields are separated by blanks, the first field is the
address, names compare case-insensitively, and the first matching line wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hostgw.addr import parse_ip
from hostgw.record import Record


class HostsEntry(Record):
    """One usable line: the address (normal form), its family, its names.

    ``line`` is 1-based; ``text`` is the line without its comment, for evidence.
    """

    address: str
    family: int
    names: tuple[str, ...]
    line: int
    text: str


def parse_hosts(data: str | bytes) -> list[HostsEntry]:
    """Every line with a valid address and at least one name, in file order.

    Never raises: lines with a bad address or no name are left out, as the
    resolver itself ignores them.
    """
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    entries: list[HostsEntry] = []
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.partition("#")[0].strip()
        fields = line.split()
        if len(fields) < 2:
            continue
        parsed = parse_ip(fields[0])
        if parsed is None:
            continue
        entries.append(HostsEntry(parsed[0], parsed[1], tuple(fields[1:]), number, line))
    return entries


def lookup(
    entries: Iterable[HostsEntry], names: Sequence[str], family: int
) -> tuple[str, HostsEntry] | None:
    """The first entry of ``family`` for the first name in ``names`` that has one.

    Returns ``(name, entry)``; the order of ``names`` is the order of trust.
    """
    listed = list(entries)
    for name in names:
        wanted = name.lower()
        for entry in listed:
            if entry.family == family and any(n.lower() == wanted for n in entry.names):
                return name, entry
    return None
