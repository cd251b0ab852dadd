"""The format-neutral half of a rewrite: match targets, collect edits (pure).

A format module finds the *candidate* target tokens of its directives (with
their offsets) and hands each to :meth:`Editor.target`. The editor parses
``[scheme://]host[:port][rest]``, looks the host and port up in the
:class:`~hostgw.rewriting.mapping.Mappings`, and records an edit of the
``host[:port]`` span only: the scheme, the URI, the quotes and every other
byte stay as they were.
"""

from __future__ import annotations

import contextlib
import gc
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import NamedTuple

from hostgw.errors import RewriteError
from hostgw.rewriting.mapping import Mappings, Rule
from hostgw.textpos import Locator, line_col

FORMAT_OPTION = "hostgw rewrite --format"
"""How hints name the option that gives a config's format (``exec`` and ``watch`` say
theirs instead: see :func:`hostgw.runtime.pipeline.rewrite_apply`)."""

_HOST_OK = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9._-]*[A-Za-z0-9_.])?\Z")
# A target the editor will not touch: variables, placeholders, escapes.
_DYNAMIC = re.compile(r"[$\\{}%]")
# [scheme://]host:port[/?#…]: a literal target with a port, as most are.
_PLAIN_TARGET = re.compile(
    r"(?:([A-Za-z][A-Za-z0-9+.-]*)://)?([A-Za-z0-9_](?:[A-Za-z0-9._-]*[A-Za-z0-9_.])?)"
    r":([0-9]+)(?=[/?#]|\Z)"
)


class Change:
    """One replaced target: where (line, column), and the target before and after.

    The line and column are found when first asked for, for every change
    of the text at once: a run that prints no summary (``-q``) never counts
    the lines of a large config for them.
    """

    __slots__ = ("_index", "_places", "new", "old", "path")

    def __init__(self, index: int, old: str, new: str, path: str | None, places: _Places) -> None:
        self._index, self.old, self.new, self.path, self._places = index, old, new, path, places

    @property
    def line(self) -> int:
        """1-based line of the target."""
        return self._places[self._index][0]

    @property
    def col(self) -> int:
        """1-based column of the target."""
        return self._places[self._index][1]

    def _key(self) -> tuple[int, int, str, str, str | None]:
        return (self.line, self.col, self.old, self.new, self.path)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Change) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Change(line={self.line}, col={self.col}, old={self.old!r}, new={self.new!r})"

    def __str__(self) -> str:
        return f"{self.path or '-'}:{self.line} {self.old} \u2192 {self.new}"


class _Places:
    """``(line, col)`` of increasing offsets in a text, all found at the first ask."""

    def __init__(self, text: str, offsets: list[int]) -> None:
        self._text, self._offsets = text, offsets
        self._found: list[tuple[int, int]] | None = None

    def __getitem__(self, index: int) -> tuple[int, int]:
        if self._found is None:
            self._found = Locator(self._text).many(self._offsets)
        return self._found[index]


class Note(NamedTuple):
    """A warning about something left alone on purpose (e.g. a ``$variable``)."""

    line: int
    col: int
    message: str
    path: str | None = None

    def __str__(self) -> str:
        return f"{self.path or '-'}:{self.line}:{self.col}: {self.message}"


@contextlib.contextmanager
def no_cycles() -> Iterator[None]:
    """Hold the cyclic garbage collector off while a reader makes many small objects.

    Reading a large config makes a few tuples and strings per statement and
    no reference cycle, yet the collector would walk every one of them many
    times over (about a sixth of the run on a 4 MB config). It runs again as
    soon as the block is left.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def mention_pattern(hosts: Iterable[str]) -> str:
    """A pattern for any of ``hosts`` standing as a whole name, in any case.

    ``backend`` is found in ``http://backend:8000`` and ``BACKEND``, not in
    ``backend2``, ``mybackend`` or ``backend.example``.
    """
    ordered = sorted({h.lower() for h in hosts}, key=len, reverse=True)
    alternatives = "|".join(re.escape(h) for h in ordered)
    return rf"(?<![A-Za-z0-9._-])(?i:{alternatives})(?![A-Za-z0-9_-]|\.[A-Za-z0-9])"


class Editor:
    """Collects edits for one text; :meth:`apply` returns the new text.

    Changes and warnings are kept as offsets while the text is read, and
    made into :class:`Change` and :class:`Note` (with line and column) when
    first asked for.
    """

    def __init__(
        self,
        text: str,
        mappings: Mappings,
        gateway: Callable[[], str],
        *,
        names: frozenset[str] = frozenset(),
        collect: bool = False,
        path: str | None = None,
    ) -> None:
        self.text = text
        self.path = path
        self.mappings = mappings
        self._gateway = gateway
        self._gateway_host: str | None = None
        self.names = frozenset(n.lower() for n in names)
        self.edits: list[tuple[int, int, str]] = []
        # (offset, raw target, host:port start and end in it, new host:port)
        self._changes: list[tuple[int, str, int, int, str]] = []
        self._notes: list[tuple[int, str]] = []  # (offset, message)
        self._used: dict[int, Rule] = {}  # by id: a rule is hashed once, at the end
        self._new: dict[int, str] = {}  # a used rule's host:port
        # With ``collect``, only note the span of every literal target.
        self.collect = collect
        self.spans: list[tuple[int, int]] = []
        hosts = mappings.hosts
        self._mention = re.compile(mention_pattern(hosts)) if hosts else None

    # -- what was found --------------------------------------------------------
    @property
    def used(self) -> set[Rule]:
        """The rules that matched a target."""
        return set(self._used.values())

    @property
    def changes(self) -> list[Change]:
        """Every replaced target, in the order of the text (placed when asked)."""
        found = sorted(self._changes, key=lambda c: c[0])
        places = _Places(self.text, [c[0] for c in found])
        path = self.path
        with no_cycles():
            return [
                Change(i, raw, raw[:hs] + new + raw[he:], path, places)
                for i, (_, raw, hs, he, new) in enumerate(found)
            ]

    @property
    def notes(self) -> list[Note]:
        """Every warning, in the order of the text."""
        found = sorted(self._notes, key=lambda n: n[0])
        with no_cycles():
            places = self._places(at for at, _ in found)
            path = self.path
            return [
                Note(line, col, message, path)
                for (line, col), (_, message) in zip(places, found, strict=True)
            ]

    def _places(self, offsets: Iterable[int]) -> list[tuple[int, int]]:
        """``(line, col)`` of increasing ``offsets``."""
        return Locator(self.text).many(offsets)

    # -- notes ---------------------------------------------------------------
    def mentions(self, raw: str) -> bool:
        """Whether ``raw`` names a mapped host as a whole name (always, to collect)."""
        if self.collect:
            return True
        return self._mention is not None and self._mention.search(raw) is not None

    def note(self, pos: int, message: str) -> None:
        """Record a warning at ``pos``."""
        self._notes.append((pos, message))

    def note_if_mentioned(self, pos: int, raw: str, why: str) -> None:
        """Warn that ``raw`` was left alone (``why``) when it names a mapped host."""
        if self.mentions(raw):
            self.note(pos, f"not rewritten: {raw!r} {why}")

    # -- targets -------------------------------------------------------------
    def target(  # noqa: PLR0911 - one early exit per reason to leave it alone
        self,
        start: int,
        raw: str,
        *,
        schemes: Mapping[str, int | None],
        bare: bool,
        bare_default: int | None = None,
        portless_is_name: bool = False,
        sep: str = "://",
        names: frozenset[str] | None = None,
    ) -> str | None:
        """Consider the token ``raw`` at ``start`` as a proxy target.

        ``schemes`` maps each allowed scheme to its default port; ``bare``
        allows ``host:port`` with no scheme, whose missing port is
        ``bare_default``. With ``portless_is_name`` a target that has no port
        and no default names a group (an nginx upstream), not a host; ``names``
        are the groups it may name (None: :attr:`names`).
        Returns the new ``host:port`` when the target is rewritten.
        """
        if raw[:1] in "\"'" and len(raw) >= 2 and raw[-1] == raw[0]:
            raw, start = raw[1:-1], start + 1
        if self.collect:
            self._collect(start, raw, schemes, bare, sep)
            return None
        plain = _PLAIN_TARGET.match(raw) if sep == "://" else None
        if plain is not None:  # scheme://host:port/…, the common case, read at once
            scheme, host, port = plain.groups()
            if (
                (bare and scheme is None and "://" not in raw)
                or (scheme is not None and scheme.lower() in schemes)
            ) and host.lower() != "unix":
                return self._matched(start, raw, host, int(port), (plain.start(2), plain.end()))
        if not self.mentions(raw):
            return None
        if raw.split("://", 1)[-1][:5].lower() == "unix:":
            self.note_if_mentioned(start, raw, "is a unix socket")
            return None
        found = _split(raw, schemes, bare, sep)
        if found is None:
            self.note_if_mentioned(start, raw, "uses variables or is not a literal host:port")
            return None
        scheme, host, port, hs, he = found
        if port is None and host.lower() in (self.names if names is None else names):
            self.note(
                start,
                f"not rewritten: {raw!r} names an upstream block; map the "
                "servers inside it instead",
            )
            return None
        if port is None:
            port = schemes.get(scheme) if scheme else bare_default
            if port is None and portless_is_name:
                self.note(
                    start,
                    f"not rewritten: {raw!r} has no port, so it names an "
                    "upstream block; map the servers inside it instead",
                )
                return None
        return self._matched(start, raw, host.strip("[]"), port, (hs, he))

    def _matched(
        self, start: int, raw: str, host: str, port: int | None, span: tuple[int, int]
    ) -> str | None:
        """Rewrite ``raw[hs:he]`` (``host:port``, ``span``) if a rule maps it; the new text."""
        rule = self.mappings.lookup(host, port)
        if rule is None:
            return None
        new = self._new.get(id(rule))
        if new is None:
            self._used[id(rule)] = rule
            new = self._new[id(rule)] = rule.target(
                self.gateway_host() if rule.to_host is None else ""
            )
        hs, he = span
        if raw[hs:he] == new:  # already there: nothing to do
            return None
        self.edits.append((start + hs, start + he, new))
        self._changes.append((start, raw, hs, he, new))
        return new

    def widen(self, start: int, old: str, new: str) -> None:
        """Replace ``old`` at ``start`` (just before the last rewritten target) too."""
        self.edits.append((start, start + len(old), new))
        _, raw, hs, he, last = self._changes[-1]
        self._changes[-1] = (start, old + raw, 0, len(old) + he, new + raw[:hs] + last)

    def _collect(
        self, start: int, raw: str, schemes: Mapping[str, int | None], bare: bool, sep: str
    ) -> None:
        found = _split(raw, schemes, bare, sep)
        if found is not None:
            self.spans.append((start + found[3], start + found[4]))

    def gateway_host(self) -> str:
        """The gateway as it goes before ``:port``, asked for once, when needed."""
        if self._gateway_host is None:
            self._gateway_host = self._gateway()
        return self._gateway_host

    def apply(self) -> str:
        """The text with every recorded edit made."""
        if not self.edits:
            return self.text
        parts: list[str] = []
        pos = 0
        for start, end, new in sorted(self.edits):
            parts.append(self.text[pos:start])
            parts.append(new)
            pos = end
        parts.append(self.text[pos:])
        return "".join(parts)


def _split(  # noqa: PLR0911 - one exit per malformed part
    raw: str, schemes: Mapping[str, int | None], bare: bool, sep: str
) -> tuple[str, str, int | None, int, int] | None:
    """``(scheme, host, port, host_start, hostport_end)`` or None if not literal."""
    scheme = ""
    begin = 0
    cut = raw.find(sep) if sep else -1
    if cut > 0:
        scheme = raw[:cut].lower()
        if scheme not in schemes:
            return None
        begin = cut + len(sep)
    elif not bare:
        return None
    end = len(raw)
    for stop in "/?#":
        at = raw.find(stop, begin)
        if 0 <= at < end:
            end = at
    hostport = raw[begin:end]
    if not hostport or _DYNAMIC.search(hostport):
        return None
    if hostport.startswith("["):
        close = hostport.find("]")
        if close < 0:
            return None
        host, rest = hostport[: close + 1], hostport[close + 1 :]
    else:
        host, colon, port_text = hostport.partition(":")
        rest = colon + port_text
        if not _HOST_OK.match(host):
            return None
    if not rest:
        return scheme, host, None, begin, end
    if rest[0] != ":" or not (rest[1:].isascii() and rest[1:].isdigit()):
        return None
    return scheme, host, int(rest[1:]), begin, end


def syntax_error(text: str, pos: int, message: str, path: str | None, fmt: str) -> RewriteError:
    """A :class:`RewriteError` naming ``path:line:col`` of ``pos`` in ``text``."""
    line, col = line_col(text, pos)
    return RewriteError(
        f"{path or '<stdin>'}:{line}:{col}: {message}",
        path=path,
        line=line,
        col=col,
        hint=f"fix the {fmt} syntax there, or name the format: {FORMAT_OPTION}",
    )
