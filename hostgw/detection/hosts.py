"""Parse ``/etc/hosts`` text into entries with line numbers; look names up.

Pure functions, no I/O. The rules follow glibc's ``files`` backend: ``#``
starts a comment, fields are separated by blanks, the first field is the
address, names compare case-insensitively, and the first matching line wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hostgw.addr import address_problem, parse_ip
from hostgw.record import Record


class HostsEntry(Record):
    """One line: the address (normal form), its family, its names.

    ``line`` is 1-based; ``text`` is the line without its comment, for
    evidence. ``problem`` says why an IPv6 address with a zone that cannot
    be one is unusable (its ``address`` is then the field as written).
    """

    address: str
    family: int
    names: tuple[str, ...]
    line: int
    text: str
    problem: str = ""


def parse_hosts(data: str | bytes) -> list[HostsEntry]:
    """Every line with an address and at least one name, in file order.

    Never raises: lines with a bad address or no name are left out, as the
    resolver itself ignores them; an IPv6 address whose zone is not an
    interface name is kept with its ``problem``, so that it can be reported.
    """
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    entries: list[HostsEntry] = []
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.partition("#")[0].strip()
        fields = line.split()
        if len(fields) < 2:
            continue
        names = tuple(fields[1:])
        parsed = parse_ip(fields[0])
        if parsed is not None:
            entries.append(HostsEntry(parsed[0], parsed[1], names, number, line))
            continue
        bare, sep, _zone = fields[0].partition("%")
        if sep and ":" in bare and parse_ip(bare) is not None:
            problem = address_problem(fields[0])
            entries.append(HostsEntry(fields[0], 6, names, number, line, problem))
    return entries


def lookup(
    entries: Iterable[HostsEntry], names: Sequence[str], family: int
) -> tuple[str, HostsEntry] | None:
    """The first entry of ``family`` for the first name in ``names`` that has one.

    Returns ``(name, entry)``; the order of ``names`` is the order of trust.
    Entries with a ``problem`` are passed over.
    """
    listed = [entry for entry in entries if not entry.problem]
    for name in names:
        wanted = name.lower()
        for entry in listed:
            if entry.family == family and any(n.lower() == wanted for n in entry.names):
                return name, entry
    return None
