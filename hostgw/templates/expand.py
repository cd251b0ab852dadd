"""Expand ``$NAME`` and ``${NAME<op>word}`` as bash does, and leave the rest alone.

Pure: bytes (or str) and an environment in, bytes out. No I/O; hostgw's own
names (``HOSTGW_IP``, ``HOSTGW_IP6``, ``HOSTGW_HOST``) come from a mapping
or a callable the caller passes, called at most once and only when a
selected reference needs one of them.

Syntax (meaning as in bash, inside double quotes)::

    $NAME  ${NAME}      the value
    ${NAME-word}        word if NAME is unset        ${NAME:-word}  ... unset or empty
    ${NAME+word}        word if NAME is set          ${NAME:+word}  ... set and not empty
    ${NAME?msg}         error if NAME is unset       ${NAME:?msg}   ... unset or empty

In ``word`` (and ``msg``): literal text, newlines included; ``$VAR``,
``${VAR}`` and nested operator forms; ``\\$ \\\\ \\} \\" \\```` stand for the
character; backslash-newline is removed; any other backslash is kept. Quotes
(``' "``), ``$(...)``, backticks, ``$1``, ``$$`` and other special
parameters in a word are errors, as are ``${NAME=w}``, ``${NAME#p}``,
``${NAME:0:1}``, ``${#NAME}`` and every other bash form, for a selected
name. A ``$`` right before the closing ``}`` is literal, as in bash.

Which references are substituted is a :class:`Selection`; everything else,
such as nginx's ``$host``, ``${host}`` and ``$1``, stays byte for byte.

Parsing is one pass of one regex compiled for the selection, which splits
the text into atoms: runs of literal text with the selected plain
references between them (resolved with one dict lookup each, the fast
path), and :class:`Ref` atoms for operator forms (parsed by hand, with
their offsets). Errors are collected, located (file:line:col NAME) and
raised together as one :class:`~hostgw.errors.TemplateError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from hostgw.errors import TemplateError
from hostgw.fileio import decode, encode
from hostgw.record import Record
from hostgw.templates.syntax import (
    OWN,
    SUPPORTED,
    OwnValues,
    Ref,
    Selection,
    describe_char,
    pattern_for,
    scan,
)
from hostgw.textpos import Locator

# A value with one of these could change a config's structure.
_UNSAFE = re.compile(rb"[\n\x00;{}]")


class _Problem(Record):
    offset: int
    name: str
    reason: str
    hint: str


_HINT_UNSET = "set the variable, or give the reference a default: ${NAME:-default}"
_HINT_RAW = "pass --raw {name} only if its value is meant to add config structure"
_HINT_SYNTAX = f"supported forms: {SUPPORTED}; other text with '$' is left as it is"


class _Values(dict[bytes, bytes]):
    """Plain-reference key -> value; a missing key is resolved once, then cached."""

    def __init__(self, resolver: _Resolver) -> None:
        super().__init__()
        self.resolver = resolver

    def __missing__(self, key: bytes) -> bytes:
        name = (key[2:-1] if key[1] == 0x7B else key[1:]).decode("ascii")
        value = self.resolver.plain(name)
        self[key] = value
        return value


class _Resolver:
    """Resolves atoms against an environment, collecting every problem."""

    def __init__(
        self,
        env: Mapping[str, str],
        plain_names: frozenset[str],
        *,
        strict: bool,
        no_empty: bool,
        raw: bool | frozenset[str],
        own: OwnValues,
    ) -> None:
        self.env = env
        self.plain_names = plain_names
        self.strict = strict or no_empty
        self.no_empty = no_empty
        self.raw = raw
        self._own = own
        self._own_cache: Mapping[str, str] | None = None
        self.cache: dict[str, bytes | None] = {}
        self.problems: list[_Problem] = []
        self.unlocated: dict[str, tuple[str, str]] = {}  # plain refs: name -> (reason, hint)

    def lookup(self, name: str) -> bytes | None:
        """The value of ``name`` as bytes, or None if unset."""
        try:
            return self.cache[name]
        except KeyError:
            pass
        text = self.env.get(name)
        if not text and name in OWN:  # set but empty (compose's ${X:-}) means "detect"
            text = self.own().get(name, text)
        value = None if text is None else encode(text)
        self.cache[name] = value
        return value

    def own(self) -> Mapping[str, str]:
        if self._own_cache is None:
            own = self._own
            self._own_cache = {} if own is None else own() if callable(own) else own
        return self._own_cache

    def _verdict(self, name: str, value: bytes | None) -> tuple[str, str] | None:
        if value is None:
            return ("is not set", _HINT_UNSET) if self.strict else None
        if not value:
            return ("is empty", _HINT_UNSET) if self.no_empty else None
        if self.raw is True or (self.raw and name in self.raw):
            return None
        bad = _UNSAFE.search(value)
        if bad is None:
            return None
        return f"value contains {describe_char(bad.group()[0])}", _HINT_RAW.format(name=name)

    def plain(self, name: str) -> bytes:
        """A top-level ``$NAME``/``${NAME}``: located later if it is a problem."""
        value = self.lookup(name)
        verdict = self._verdict(name, value)
        if verdict is not None:
            self.unlocated.setdefault(name, verdict)
        return value or b""

    def problem(self, offset: int, name: str, reason: str, hint: str) -> bytes:
        self.problems.append(_Problem(offset, name, reason, hint))
        return b""

    def checked(self, ref: Ref, value: bytes) -> bytes:
        verdict = self._verdict(ref.name, value)
        return value if verdict is None else self.problem(ref.start, ref.name, *verdict)

    def evaluate(self, ref: Ref) -> bytes:
        """Expand one reference with bash's meaning of its operator."""
        if ref.op is None:
            return self._nested(ref)
        value = self.lookup(ref.name)
        kind = ref.op[-1]
        if value is None or (not value and ref.op[0] == ":"):  # bash: unset (or null, with :)
            if kind == "+":
                return b""
            if kind == "-":
                return self.expand(ref.word)
            message = self.expand(ref.word).decode("utf-8", "replace")
            if not message:
                message = "parameter null or not set" if ref.op[0] == ":" else "parameter not set"
            return self.problem(ref.start, ref.name, message, "")
        return self.expand(ref.word) if kind == "+" else self.checked(ref, value)

    def _nested(self, ref: Ref) -> bytes:
        """A plain reference inside a word: bash expands it whatever the selection."""
        value = self.lookup(ref.name)
        if value is None and ref.name not in self.plain_names:
            return self.problem(
                ref.start,
                ref.name,
                f"is not set, so bash would expand it to nothing; write \\${ref.name} "
                f"for the text ${ref.name}, or ${{{ref.name}-}} for nothing",
                _HINT_UNSET,
            )
        verdict = self._verdict(ref.name, value)
        if verdict is not None:
            return self.problem(ref.start, ref.name, *verdict)
        return value or b""

    def expand(self, word: tuple[bytes | Ref, ...]) -> bytes:
        return b"".join(p if isinstance(p, bytes) else self.evaluate(p) for p in word)


def expand_bytes(
    data: bytes,
    env: Mapping[str, str],
    *,
    selection: Selection | None = None,
    strict: bool = False,
    no_empty: bool = False,
    raw: bool | Iterable[str] = False,
    own: OwnValues = None,
    path: str | None = None,
) -> list[bytes]:
    """Render ``data``; return the output as chunks (``b"".join`` them, or write each).

    ``env`` gives the values (str, as in ``os.environ``); ``own`` the values
    of ``HOSTGW_*`` not in ``env``. ``strict`` makes a selected, unset plain
    reference an error; ``no_empty`` an empty one too. ``raw`` (True, or
    names) allows values with a newline, NUL, ``;``, ``{`` or ``}``.
    Raises :class:`TemplateError` listing every problem; ``path`` names the
    template in it.
    """
    if b"$" not in data:
        return [data]
    selection = selection or Selection()
    names = selection.plain(env)
    raw_set: bool | frozenset[str] = raw if isinstance(raw, bool) else frozenset(raw)
    resolver = _Resolver(env, names, strict=strict, no_empty=no_empty, raw=raw_set, own=own)
    get = _Values(resolver).__getitem__
    out: list[bytes] = []
    spans: list[tuple[int, int]] = []  # operator forms: no plain references in them
    for offset, atom in scan(data, names, selection.wants):
        if isinstance(atom, list):
            atom[1::2] = list(map(get, atom[1::2]))
            out.append(b"".join(atom))
        elif isinstance(atom, Ref):
            spans.append((offset, atom.end))
            out.append(resolver.evaluate(atom))
        elif isinstance(atom, bytes):
            out.append(atom)
        else:
            resolver.problem(atom.start, atom.name, atom.reason, _HINT_SYNTAX)
            out.append(data[offset : atom.stop])
    if resolver.unlocated:
        _locate(data, spans, resolver)
    if resolver.problems:
        raise template_error(data, path, resolver.problems)
    return out


def _locate(data: bytes, spans: list[tuple[int, int]], resolver: _Resolver) -> None:
    """Find every plain reference to the names with a problem, outside operator forms."""
    pattern = pattern_for(frozenset(resolver.unlocated))
    start = 0
    for stop, after in [*spans, (len(data), len(data))]:
        for m in pattern.finditer(data, start, stop):
            if m.group(2) is None:  # operator-form heads are not plain references
                key = m.group(1)
                name = (key[2:-1] if key[1] == 0x7B else key[1:]).decode("ascii")
                resolver.problem(m.start(), name, *resolver.unlocated[name])
        start = after


_MAX_SHOWN = 50
_HINT_SEP = "\nhint: "


def template_error(data: bytes, path: str | None, problems: list[_Problem]) -> TemplateError:
    """One error listing every problem as ``file:line:col NAME: reason``."""
    problems = sorted(problems, key=lambda p: p.offset)
    where = Locator(data)
    rows: list[tuple[str | None, int, int, str, str]] = []
    for p in problems:
        line, col = where.at(p.offset)
        rows.append((path, line, col, p.name, p.reason))
    return _error(rows, [p.hint for p in problems])


def combine(errors: Iterable[TemplateError]) -> TemplateError:
    """Merge several templates' errors into one that lists every problem."""
    errors = list(errors)
    rows = [row for err in errors for row in err.problems]
    hints = [h for err in errors if err.hint for h in err.hint.split(_HINT_SEP)]
    return _error(rows, hints)


def _error(rows: list[tuple[str | None, int, int, str, str]], hints: list[str]) -> TemplateError:
    shown = [  # line 0: a problem with the whole file (it cannot be read)
        f"{where or '<template>'}:{line}:{col} {name}: {reason}"
        if line
        else f"{where or '<template>'}: {reason}"
        for where, line, col, name, reason in rows[:_MAX_SHOWN]
    ]
    if len(rows) > _MAX_SHOWN:
        shown.append(f"... and {len(rows) - _MAX_SHOWN} more")
    count = f"{len(rows)} problem" + ("s" if len(rows) != 1 else "")
    message = f"template not rendered ({count}; nothing was written):\n" + "\n".join(shown)
    where, line, col, name = rows[0][:4] if rows else (None, None, None, None)
    return TemplateError(
        message,
        path=where,
        line=line,
        col=col,
        name=name,
        problems=rows,
        hint=_HINT_SEP.join(dict.fromkeys(h for h in hints if h)) or None,
    )


def expand(
    text: str,
    env: Mapping[str, str],
    *,
    vars: str | Iterable[str] | None = None,
    filter: str | re.Pattern[str] | None = None,
    strict: bool = False,
    no_empty: bool = False,
    raw: bool | Iterable[str] = False,
    own: OwnValues = None,
    path: str | None = None,
) -> str:
    """:func:`expand_bytes` for str: ``vars``/``filter`` as in :meth:`Selection.of`.

    No detection here: ``HOSTGW_*`` come from ``env`` or ``own``.
    """
    data = encode(text)
    chunks = expand_bytes(
        data,
        env,
        selection=Selection.of(vars, filter),
        strict=strict,
        no_empty=no_empty,
        raw=raw,
        own=own,
        path=path,
    )
    return decode(b"".join(chunks))
