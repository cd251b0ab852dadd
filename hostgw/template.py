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
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from typing import Any

from hostgw.errors import TemplateError, UsageError

#: hostgw's own variables; selected by default, filled in by detection.
OWN_NAMES: tuple[str, ...] = ("HOSTGW_IP", "HOSTGW_IP6", "HOSTGW_HOST")
_OWN = frozenset(OWN_NAMES)

#: Values for the own names: a mapping, or a function called at most once.
OwnValues = Mapping[str, str] | Callable[[], Mapping[str, str]] | None

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_NAME_AT = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
_OP_AT = re.compile(rb":[-+?]|[-+?]")
_WORD_TEXT = re.compile(rb"[^\\$}`\"']+")
_FORMAT_REF = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
# A value with one of these could change a config's structure.
_UNSAFE = re.compile(rb"[\n\x00;{}]")
# ${NAME followed by an operator character: an operator form, supported or not.
_OP_BRANCH = rb"\{(?=([A-Za-z_][A-Za-z0-9_]*))\2[-:+?=#%/^,@\[]"
_CHUNK = 1 << 18  # bytes per split; keeps the transient lists small
_MAX_DEPTH = 64  # nested ${...} in a word; deeper is surely a mistake

SUPPORTED = "$NAME ${NAME} ${NAME-w} ${NAME:-w} ${NAME+w} ${NAME:+w} ${NAME?m} ${NAME:?m}"


def is_name(text: str) -> bool:
    """True if ``text`` can be referenced as ``$text``."""
    return _IDENT.match(text) is not None


def parse_vars(specs: str | Iterable[str]) -> frozenset[str]:
    """Names from ``'A B'``, ``'A,B'`` or GNU envsubst SHELL-FORMAT ``'${A} $B'``.

    Raises :class:`UsageError` for a word that is not a variable name.
    """
    names: set[str] = set()
    for spec in [specs] if isinstance(specs, str) else specs:
        if "$" in spec:
            names.update(a or b for a, b in _FORMAT_REF.findall(spec))
            continue
        for word in re.split(r"[\s,]+", spec.strip()):
            if word and not is_name(word):
                raise UsageError(
                    f"--vars: {word!r} is not a variable name",
                    hint="list names like 'A B' or '${A} $B' (letters, digits, _)",
                )
            if word:
                names.add(word)
    return frozenset(names)


@dataclass(frozen=True)
class Selection:
    """Which references are substituted.

    - default (``names`` and ``pattern`` None): every name set in the
      environment, plus hostgw's own; an operator form always counts;
    - ``names`` (``--vars``): exactly these, set or not, in any form;
    - ``pattern`` (``--filter``): of the plain ``$NAME``/``${NAME}``, only
      names that match it (``re.search``), as the nginx image's
      ``NGINX_ENVSUBST_FILTER``; hostgw's own names and operator forms
      (which are never nginx variables) still count.
    """

    names: frozenset[str] | None = None
    pattern: re.Pattern[str] | None = None

    @classmethod
    def of(
        cls, vars: str | Iterable[str] | None = None, filter: str | re.Pattern[str] | None = None
    ) -> Selection:
        """Build from ``--vars`` text (or names) and a ``--filter`` regex."""
        names = None if vars is None else parse_vars(vars)
        pattern = None
        if isinstance(filter, str) and filter:
            try:
                pattern = re.compile(filter)
            except re.error as exc:
                raise UsageError(
                    f"--filter: invalid regular expression {filter!r}: {exc}"
                ) from None
        elif isinstance(filter, re.Pattern):
            pattern = filter
        return cls(names, pattern)

    def _passes(self, name: str) -> bool:
        return self.pattern is None or name in _OWN or self.pattern.search(name) is not None

    def plain(self, env: Iterable[str]) -> frozenset[str]:
        """The names whose ``$NAME``/``${NAME}`` are substituted, given the env's names."""
        base = self.names if self.names is not None else {*filter(is_name, env), *_OWN}
        return frozenset(n for n in base if self._passes(n))

    def wants(self, name: str) -> bool:
        """True if an operator form ``${name...}`` is hostgw's to expand."""
        return self.names is None or name in self.names


@dataclass(frozen=True)
class Ref:
    """A reference atom: ``${name<op>word}`` (or a plain one inside a word).

    ``start``/``end`` are byte offsets in the template; ``op`` is None for a
    plain reference; ``word`` holds literal bytes and nested references.
    """

    start: int
    end: int
    name: str
    op: str | None
    word: tuple[bytes | Ref, ...] = ()


@dataclass(frozen=True)
class _Bad:
    """A form hostgw does not expand, for a selected name: an error atom."""

    start: int  # where the problem is
    stop: int  # where scanning resumes
    name: str
    reason: str


class _ParseError(Exception):
    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(reason)
        self.offset = offset
        self.reason = reason


def _describe_char(c: int) -> str:
    return {
        0x0A: "a newline",
        0x00: "a NUL byte",
        0x27: "a quote (')",
        0x22: 'a quote (")',
        0x60: "a backtick (`)",
    }.get(c, repr(chr(c)))


class _Parser:
    """Recursive descent over ``${NAME<op>word}`` (the rare, slow part)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.depth = 0

    def braced(self, i: int) -> Ref:
        self.depth += 1
        try:
            return self._braced(i)
        finally:
            self.depth -= 1

    def _braced(self, i: int) -> Ref:
        data = self.data
        if self.depth > _MAX_DEPTH:
            raise _ParseError(i, f"nested more than {_MAX_DEPTH} levels deep")
        m = _NAME_AT.match(data, i + 2)
        if m is None:
            raise _ParseError(i, f"unsupported '${{{_peek(data, i + 2)}': expected a name")
        name = m.group().decode("ascii")
        j = m.end()
        if j >= len(data):
            raise _ParseError(i, "no closing '}'")
        if data[j] == 0x7D:
            return Ref(i, j + 1, name, None)
        op = _OP_AT.match(data, j)
        if op is None:
            raise _ParseError(i, f"unsupported expansion '${{{name}{_peek(data, j)}...}}'")
        word, end = self.word(op.end(), i)
        return Ref(i, end, name, op.group().decode("ascii"), word)

    def word(self, i: int, opener: int) -> tuple[tuple[bytes | Ref, ...], int]:
        data, n = self.data, len(self.data)
        parts: list[bytes | Ref] = []
        text = bytearray()

        def flush() -> None:
            if text:
                parts.append(bytes(text))
                text.clear()

        while True:
            m = _WORD_TEXT.match(data, i)
            if m is not None:
                text += m.group()
                i = m.end()
            if i >= n:
                raise _ParseError(opener, "no closing '}'")
            c = data[i]
            if c == 0x7D:  # }
                flush()
                return tuple(parts), i + 1
            if c == 0x5C:  # backslash, as inside bash double quotes
                if i + 1 >= n:
                    raise _ParseError(opener, "no closing '}'")
                d = data[i + 1]
                if d in b'$`"\\}':
                    text.append(d)
                elif d != 0x0A:
                    text += data[i : i + 2]
                i += 2
                continue
            if c == 0x24:  # $
                d = data[i + 1] if i + 1 < n else -1
                if d == 0x7B:
                    flush()
                    ref = self.braced(i)
                    parts.append(ref)
                    i = ref.end
                    continue
                m = _NAME_AT.match(data, i + 1)
                if m is not None:
                    flush()
                    parts.append(Ref(i, m.end(), m.group().decode("ascii"), None))
                    i = m.end()
                    continue
                if d == 0x7D:
                    text.append(c)
                    i += 1
                    continue
                raise _ParseError(
                    i,
                    f"unsupported '${_peek(data, i + 1)}' in a word (write \\$ for a literal $)",
                )
            raise _ParseError(
                i,
                f"{_describe_char(c)} in a word is not supported "
                "(no quotes or commands are expanded; write \\} for a literal '}')",
            )


def _peek(data: bytes, i: int) -> str:
    """The character at ``i`` (two if it is ':'), for messages."""
    width = 2 if data[i : i + 1] == b":" else 1
    return data[i : i + width].decode("utf-8", "replace")


def _trie(words: Iterable[bytes]) -> bytes:
    """A regex alternation of ``words`` factored by prefix (much faster in sre)."""
    tree: dict[int, Any] = {}
    for word in words:
        node = tree
        for byte in word:
            node = node.setdefault(byte, {})
        node[-1] = {}

    def emit(node: dict[int, Any]) -> bytes:
        alts = [re.escape(bytes([b])) + emit(child) for b, child in sorted(node.items()) if b >= 0]
        if not alts:
            return b""
        body = alts[0] if len(alts) == 1 else b"(?:" + b"|".join(alts) + b")"
        return b"(?:" + body + b")?" if -1 in node else body

    return emit(tree)


@lru_cache(maxsize=32)
def _pattern(names: frozenset[str]) -> re.Pattern[bytes]:
    """Group 1: a selected plain reference or an operator-form head; group 2: its name
    (operator forms only)."""
    if names:
        trie = _trie(sorted(n.encode("ascii") for n in names))
        body = rb"\{(?:" + trie + rb")\}|" + _OP_BRANCH + rb"|(?:" + trie + rb")(?![A-Za-z0-9_])"
    else:
        body = _OP_BRANCH
    return re.compile(rb"(\$(?:" + body + rb"))")


# Atoms from the scanner: (offset, run) where run alternates literal bytes and
# plain-reference keys (b"$NAME" / b"${NAME}"); or a Ref; or literal bytes; or _Bad.
Atom = list[bytes] | Ref | bytes | _Bad


def scan(
    data: bytes, names: frozenset[str], wants: Callable[[str], bool]
) -> Iterator[tuple[int, Atom]]:
    """Split ``data`` into atoms, each with its byte offset.

    ``names`` are the selected plain names; ``wants(name)`` says whether an
    operator form of ``name`` is a reference. A list atom is a literal run
    with plain references at its odd indexes.
    """
    split = _pattern(names).split
    n, pos = len(data), 0
    while pos < n:
        # Cut right before a '$': no reference spans the cut, and the one before
        # it ends there as it would in the whole text. (A file may be one line.)
        end = data.find(b"$", pos + _CHUNK)
        end = n if end < 0 else end
        parts = split(data[pos:end])
        heads = parts[2::3]
        del parts[2::3]
        if heads.count(None) == len(heads):
            yield pos, parts
            pos = end
        else:
            pos = yield from _with_operators(data, parts, heads, pos=pos, end=end, wants=wants)


def _with_operators(
    data: bytes,
    parts: list[bytes],
    heads: list[bytes | None],
    *,
    pos: int,
    end: int,
    wants: Callable[[str], bool],
) -> Generator[tuple[int, Atom], None, int]:
    """The atoms of one split chunk that holds operator-form heads; returns where
    scanning goes on (``end``, or earlier if an operator form ran past the chunk)."""
    starts = list(accumulate(map(len, parts), initial=pos))
    first = 0  # the pending run is parts[first:i]
    i = 1
    while i < len(parts):
        head = heads[i // 2]
        if head is None:
            i += 2
            continue
        start = starts[i]
        yield starts[first], parts[first:i]
        name = head.decode("ascii")
        if not wants(name):  # not ours: "${NAME<op>" is text
            yield start, parts[i]
            first, i = i + 1, i + 2
            continue
        try:
            ref = _Parser(data).braced(start)
            resume = ref.end
            yield start, ref
        except _ParseError as exc:
            resume = max(starts[i + 1], exc.offset + 1)
            yield start, _Bad(exc.offset, resume, name, exc.reason)
        # Go on at `resume`: at the next match at or after it, unless the form
        # ran past the chunk or into a match (then split again from there).
        j = i + 2
        while j < len(parts) and starts[j] < resume:
            j += 2
        if resume > end or (j - 2 > i and starts[j - 1] > resume):
            return resume
        tail = starts[j] if j < len(parts) else end
        parts[j - 1] = data[resume:tail]
        starts[j - 1] = resume
        first, i = j - 1, j
    yield starts[first], parts[first:]
    return end


@dataclass
class _Problem:
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
        if not text and name in _OWN:  # set but empty (compose's ${X:-}) means "detect"
            text = self.own().get(name, text)
        value = None if text is None else text.encode("utf-8", "surrogateescape")
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
        return f"value contains {_describe_char(bad.group()[0])}", _HINT_RAW.format(name=name)

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
    pattern = _pattern(frozenset(resolver.unlocated))
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
    rows: list[tuple[str | None, int, int, str, str]] = []
    line, last = 1, 0
    for p in problems:  # sorted: count newlines incrementally
        line += data.count(b"\n", last, p.offset)
        last = p.offset
        line_start = data.rfind(b"\n", 0, p.offset) + 1
        col = len(data[line_start : p.offset].decode("utf-8", "replace")) + 1
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
    data = text.encode("utf-8", "surrogateescape")
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
    return b"".join(chunks).decode("utf-8", "surrogateescape")
