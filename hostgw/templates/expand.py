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
name (``${#NAME}`` and ``${!NAME}`` are operator forms: errors wherever
they count). A ``$`` that bash leaves as text in a word (before the closing
``}``, a blank, ``/``, ...) is literal, as in bash.

Which references are substituted is a :class:`Selection`; everything else,
such as nginx's ``$host``, ``${host}`` and ``$1``, stays byte for byte. A
value that could change the config's structure where it lands is refused
(:mod:`hostgw.templates.safety`: by format and lexical context); it costs
nothing unless a value holds a character some context refuses.

Parsing is one pass of one regex compiled for the selection, which splits
the text into atoms: runs of literal text with the selected plain
references between them (resolved with one dict lookup each, the fast
path), and :class:`Ref` atoms for operator forms (parsed by hand, with
their offsets). Errors are collected (the first :data:`MAX_PROBLEMS`, then a
count), located (file:line:col NAME) and raised together as one
:class:`~hostgw.errors.TemplateError`. Time is linear in the text.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence

from hostgw.errors import TemplateError
from hostgw.fileio import decode, encode
from hostgw.formats import by_name
from hostgw.record import Record
from hostgw.templates import safety
from hostgw.templates.syntax import (
    OWN,
    SUPPORTED,
    Atom,
    OwnValues,
    Ref,
    Selection,
    describe_char,
    pattern_for,
    scan,
)
from hostgw.textpos import Locator

#: Problems kept for the report; past this many only their number is.
MAX_PROBLEMS = 100
#: Warnings kept per template.
MAX_NOTES = 20


class _Problem(Record):
    offset: int
    name: str
    reason: str
    hint: str


class _Suspect(Record):
    """A value that may be refused, depending on where its reference lands."""

    offset: int  # the reference's, in the template
    name: str
    value: bytes
    form: int  # the template offset of the top-level reference whose output holds it
    at: int  # where the value starts in that output


# A verdict for a value that must be judged where it lands (see hostgw.templates.safety).
_SUSPECT = ("", "")


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
        format: str | None,
        judge_all: bool = False,
    ) -> None:
        self.env = env
        self.plain_names = plain_names
        self.strict = strict or no_empty
        self.no_empty = no_empty
        self.raw = raw
        self.format = format
        self.judge_all = judge_all  # every non-empty value is judged where it lands
        self._own = own
        self._own_cache: Mapping[str, str] | None = None
        self.cache: dict[str, bytes | None] = {}
        self.problems: list[_Problem] = []
        self.total = 0  # problems found, kept or not
        self.suspects: list[_Suspect] = []
        self._suspected: set[int] = set()  # their template offsets
        self.form = 0  # the top-level reference being evaluated (its template offset)
        self.base = 0  # where the reference being evaluated starts in that one's output
        self.values = _Values(self)  # plain-reference key -> value
        self.depth = 0  # inside how many operator-form words
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
        return _SUSPECT if self.judge_all or safety.suspect(value, self.format) else None

    def plain(self, name: str) -> bytes:
        """A top-level ``$NAME``/``${NAME}``: located later if it is a problem."""
        value = self.lookup(name)
        verdict = self._verdict(name, value)
        if verdict is not None:
            self.unlocated.setdefault(name, verdict)
        return value or b""

    def problem(self, offset: int, name: str, reason: str, hint: str) -> bytes:
        self.total += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(_Problem(offset, name, reason, hint))
        return b""

    def _judged(self, ref: Ref, value: bytes, verdict: tuple[str, str] | None) -> bytes:
        if verdict is None:
            return value
        if verdict is _SUSPECT:
            self._suspect(_Suspect(ref.start, ref.name, value, self.form, self.base))
            return value
        return self.problem(ref.start, ref.name, *verdict)

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
            kept = len(self.suspects)  # a message is not output: nothing in it lands
            message = self.expand(ref.word).decode("utf-8", "replace")
            del self.suspects[kept:]
            if not message:
                message = "parameter null or not set" if ref.op[0] == ":" else "parameter not set"
            return self.problem(ref.start, ref.name, message, "")
        if kind == "+":
            return self.expand(ref.word)
        return self._judged(ref, value, self._verdict(ref.name, value))

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
        return self._judged(ref, value or b"", self._verdict(ref.name, value))

    def judge_output(self, ref: Ref, output: bytes) -> None:
        """Judge an operator form's whole output where it lands, as a value is, when its
        word wrote text that may change the structure there (``${A:-\\"}``): the
        structure is the template's, not a value's to choose (an unknown format
        has no lexer: every reference is a bare word there)."""
        if (
            output
            and self.format in safety.RULES
            and _wrote_suspect(ref.word, self.format)
            and self._verdict(ref.name, output)
        ):
            self._suspect(_Suspect(ref.start, ref.name, output, ref.start, 0))

    def _suspect(self, suspect: _Suspect) -> None:
        """Keep ``suspect``, once per reference: a form's value that is also judged as
        the form's whole output is one value."""
        if suspect.offset not in self._suspected:
            self._suspected.add(suspect.offset)
            self.suspects.append(suspect)

    def evaluate_top(self, ref: Ref) -> bytes:
        """:meth:`evaluate` a top-level reference (the values in its words are placed
        in its output, for :meth:`judge_suspects`)."""
        self.form, self.base = ref.start, 0
        return self.evaluate(ref)

    def expand(self, word: tuple[bytes | Ref, ...]) -> bytes:
        """A word's text, each reference in it evaluated where it starts in the output."""
        self.depth += 1
        at = self.base
        parts: list[bytes] = []
        try:
            for part in word:
                if isinstance(part, bytes):
                    text = part
                else:
                    self.base = at
                    text = self.evaluate(part)
                parts.append(text)
                at += len(text)
            return b"".join(parts)
        finally:
            self.depth -= 1

    def landings(self) -> list[int]:
        """The template offsets of the top-level references whose place in the output
        the judgment needs: those whose output holds a suspect value."""
        return sorted({s.form for s in self.suspects})

    def judge_suspects(self, text: bytes, placed: Mapping[int, int]) -> None:
        """Refuse each suspect value that could change the structure where it lands in
        the output ``text`` (``placed``: a top-level reference's template offset -> where
        its output starts there). The output is what the proxy reads: a reference that
        rendered empty is not there at all. Each suspect value is one opaque word there,
        a value in an operator form's word too, at its own place in the form's output
        (unless the form's whole output is judged: then that is)."""
        whole = {s.offset for s in self.suspects if s.form == s.offset}
        rows: list[tuple[int, int, _Suspect]] = []
        for suspect in self.suspects:
            if suspect.form != suspect.offset and suspect.form in whole:
                continue  # the value is judged as part of its form's whole output
            start = placed[suspect.form] + suspect.at
            rows.append((start, start + len(suspect.value), suspect))
        rows.sort(key=lambda row: row[0])
        opaque = [(start, end) for start, end, _ in rows]
        where = safety.contexts(text, self.format, [start for start, _ in opaque], opaque)
        for (start, end, suspect), context in zip(rows, where, strict=True):
            around = safety.around(text, start, end)
            found = safety.refusal(suspect.value, self.format, context, around=around)
            if found is not None:
                char = describe_char(ord(found.char)) if len(found.char) == 1 else found.char
                char = char if char.startswith(("a ", "'", "the ")) else f"'{char}'"
                self.problem(
                    suspect.offset,
                    suspect.name,
                    f"value contains {char}, which {found.reason}",
                    found.fix.replace("NAME", suspect.name),
                )


def _wrote_suspect(word: tuple[bytes | Ref, ...], fmt: str | None) -> bool:
    """Whether the text of ``word`` (nested words too) holds a character some context
    of ``fmt`` refuses."""
    return any(
        safety.suspect(part, fmt) if isinstance(part, bytes) else _wrote_suspect(part.word, fmt)
        for part in word
    )


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
    format: str | None = None,
    escape: bool = False,
    notes: list[str] | None = None,
    sink: Callable[[bytes], object] | None = None,
) -> list[bytes]:
    """Render ``data``; return the output as chunks (``b"".join`` them, or write each).

    ``env`` gives the values (str, as in ``os.environ``); ``own`` the values
    of ``HOSTGW_*`` not in ``env``. ``strict`` makes a selected, unset plain
    reference an error (and, in the default selection, an unset ``${NAME}``
    whose name has no lower-case letter: see :func:`strict_braced`);
    ``no_empty`` an empty one too. A value that could change the structure
    where it lands in a ``format`` config (``nginx``, ``haproxy``,
    ``apache``, ``caddy``; None: the union of their rules) is refused, see
    :mod:`hostgw.templates.safety`; ``raw`` (True, or names) allows it.
    ``escape``: ``\\$`` right before a reference keeps the reference as text.
    ``notes`` gets warnings (a default word that may lack its ``}``).
    Raises :class:`TemplateError` listing every problem; ``path`` names the
    template in it. ``sink``: each chunk is passed to it as it is made, and
    none is returned (so a large output is not held in memory); a
    :class:`TemplateError` comes after them all, so what the sink got must be
    thrown away then.
    """
    if b"$" not in data:
        return _to(sink, [data])
    selection = selection or Selection()
    names = selection.plain(env)
    raw_set: bool | frozenset[str] = raw if isinstance(raw, bool) else frozenset(raw)
    resolver = _Resolver(
        env,
        names,
        strict=strict,
        no_empty=no_empty,
        raw=raw_set,
        own=own,
        format=format,
        judge_all=safety.judges_every(data, format),
    )
    warn = _Warnings(data, path, notes)
    atoms = scan(data, names, selection.wants)
    out, spans, forms = _render(data, atoms, resolver, warn, escape=escape, sink=sink)
    if resolver.unlocated:
        _locate(data, spans, resolver)
    if strict and selection.names is None and format not in ("haproxy", "apache"):
        for offset, name in strict_braced(data, env, spans):
            resolver.problem(offset, name, "is not set", _HINT_STRICT.format(name=name))
    if resolver.suspects:
        again = scan(data, names, selection.wants)
        text, placed = _replay(
            data, again, resolver.values, forms, escape=escape, wanted=resolver.landings()
        )
        resolver.judge_suspects(text, placed)
    if resolver.problems:
        raise template_error(data, path, resolver.problems, resolver.total)
    return out


def _to(sink: Callable[[bytes], object] | None, out: list[bytes]) -> list[bytes]:
    """``out``, or nothing once the sink has had it."""
    if sink is None:
        return out
    for chunk in out:
        sink(chunk)
    return []


def _render(
    data: bytes,
    atoms: Iterable[tuple[int, Atom]],
    resolver: _Resolver,
    warn: _Warnings,
    *,
    escape: bool,
    sink: Callable[[bytes], object] | None = None,
) -> tuple[list[bytes], list[tuple[int, int]], list[bytes]]:
    """The output chunks (those not given to ``sink``), the spans of the operator
    forms (no plain references there), and what each form wrote."""
    get = resolver.values.__getitem__
    out: list[bytes] = []
    spans: list[tuple[int, int]] = []
    forms: list[bytes] = []
    for offset, atom in atoms:
        if isinstance(atom, list):
            if sink is not None and len(out) > 1:
                _pass_on(out, sink)
            if escape:
                _run(data, offset, atom, get, out, escape=True)
            else:
                out.append(_joined(atom, get))
        elif isinstance(atom, bytes):
            out.append(atom)
        else:
            end = atom.end if isinstance(atom, Ref) else atom.stop
            spans.append((offset, end))
            if escape and _escaped(data, offset, out):
                out.append(data[offset:end])
            elif isinstance(atom, Ref):
                value = resolver.evaluate_top(atom)
                out.append(value)
                resolver.judge_output(atom, value)
                warn.check(atom)
            else:
                resolver.problem(atom.start, atom.name, atom.reason, _HINT_SYNTAX)
                out.append(data[offset:end])
            forms.append(out[-1])
    return _to(sink, out), spans, forms


def _joined(run: list[bytes], get: Callable[[bytes], bytes]) -> bytes:
    """A literal run's text: its plain references (the odd items) replaced in place."""
    run[1::2] = list(map(get, run[1::2]))
    return b"".join(run)


def _run(
    data: bytes,
    offset: int,
    run: list[bytes],
    get: Callable[[bytes], bytes],
    out: list[bytes],
    *,
    escape: bool,
    placed: dict[int, int] | None = None,
    size: int = 0,
) -> int:
    """Append to ``out`` the parts of a literal run at template ``offset``, one by one:
    with ``escape``, ``\\$NAME`` stays the text ``$NAME``; with ``placed``, where each
    reference starts in the output (``size``: where the run does). The output's size
    after it."""
    pos = offset
    for i, part in enumerate(run):
        value = part
        if i % 2:
            if escape and _escaped(data, pos, out):
                size -= 1
            else:
                value = get(part)
            if placed is not None:
                placed[pos] = size
        out.append(value)
        size += len(value)
        pos += len(part)
    return size


def _replay(
    data: bytes,
    atoms: Iterable[tuple[int, Atom]],
    values: Mapping[bytes, bytes],
    forms: Sequence[bytes],
    *,
    escape: bool,
    wanted: Sequence[int],
) -> tuple[bytes, dict[int, int]]:
    """The output again as one text (``atoms`` scanned again, ``values`` and ``forms``
    as the render had them), and where in it the output of each reference at a
    ``wanted`` template offset (sorted) starts."""
    get = values.__getitem__
    out: list[bytes] = []
    size = 0
    placed: dict[int, int] = {}
    form = iter(forms)
    for offset, atom in atoms:
        if isinstance(atom, list):
            end = offset + sum(map(len, atom))
            k = bisect_left(wanted, offset)
            if escape or (k < len(wanted) and wanted[k] < end):
                size = _run(data, offset, atom, get, out, escape=escape, placed=placed, size=size)
                continue
            out.append(_joined(atom, get))
        elif isinstance(atom, bytes):
            out.append(atom)
        else:
            if escape and _escaped(data, offset, out):
                size -= 1
            placed[offset] = size
            out.append(next(form))
        size += len(out[-1])
    return b"".join(out), placed


def _pass_on(out: list[bytes], sink: Callable[[bytes], object]) -> None:
    """Give ``sink`` the chunks before the last non-empty one: ``escape`` may still drop
    that one's last byte (see :func:`_escaped`)."""
    last = len(out) - 1
    while last > 0 and not out[last]:
        last -= 1
    for chunk in out[:last]:
        sink(chunk)
    del out[:last]


def _escaped(data: bytes, offset: int, out: list[bytes]) -> bool:
    """``escape``: True, and the backslash dropped from ``out``, if the template has a
    ``\\`` right before ``offset`` (the last byte written, as text is copied as is)."""
    if offset == 0 or data[offset - 1] != 0x5C:
        return False
    i = len(out) - 1
    while not out[i]:
        i -= 1
    out[i] = out[i][:-1]
    return True


_HINT_STRICT = (
    "set {name}, give it a default (${{{name}:-default}}), or, if it is the proxy's own "
    "variable, write it without braces or name your variables with --vars"
)
# An unset ${NAME} with no lower-case letter: an environment variable, not nginx's.
_ENV_BRACED = rb"\$\{((?=[A-Z0-9_]*[A-Z])[A-Z_][A-Z0-9_]*)\}"
# Variables a config defines itself: nginx's set/map/geo/split_clients/js_set/perl_set,
# and regex named captures.
_DEFINED = (
    rb"(?:\b(?:set|js_set|perl_set)|\b(?:map|split_clients)[ \t]+[^\s;{}]+|\bgeo)"
    rb"[ \t]+(?:\$[^\s;{}]+[ \t]+)?\$\{?([A-Za-z_][A-Za-z0-9_]*)"
    rb"|\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>"
)


def strict_braced(
    data: bytes, env: Mapping[str, str], spans: Iterable[tuple[int, int]] = ()
) -> list[tuple[int, str]]:
    """``--strict`` in the default selection: each unset ``${NAME}`` (outside ``spans``)
    whose name has a capital and no lower-case letter, unless the config defines it
    (``set $NAME``, ``map ... $NAME``, a named capture, ...): nginx's own variables
    are lower-case (``$host``, ``${host}``), so such a reference can only be meant
    for the environment."""
    found = [(m.start(), m.group(1).decode("ascii")) for m in re.finditer(_ENV_BRACED, data)]
    found = [(at, name) for at, name in found if name not in env and name not in OWN]
    if not found:
        return []
    defined = {(a or b).decode("ascii") for a, b in re.findall(_DEFINED, data)}
    inside = sorted(spans)
    kept, k = [], 0
    for at, name in found:
        while k < len(inside) and inside[k][1] <= at:
            k += 1
        if name in defined or (k < len(inside) and inside[k][0] <= at):
            continue
        kept.append((at, name))
    return kept


class _Warnings:
    """Notes on operator forms whose word runs over lines and holds ``{`` or ``;``:
    the ``${PORT:-80;`` typo, whose word ends at some later ``}``."""

    def __init__(self, data: bytes, path: str | None, notes: list[str] | None) -> None:
        self.data = data
        self.path = path or "<template>"
        self.notes = notes
        self.where: Locator | None = None

    def check(self, ref: Ref) -> None:
        notes, data = self.notes, self.data
        if notes is None or len(notes) >= MAX_NOTES:
            return
        newline = data.find(b"\n", ref.start, ref.end)
        if newline < 0:
            return
        text = b"".join(part for part in ref.word if isinstance(part, bytes))
        held = next((c for c in ";{" if c.encode() in text), None)
        if held is None:
            return
        word = data[ref.start : ref.end]
        self.where = self.where or Locator(data)
        line, col = self.where.at(ref.start)
        lines = word.count(b"\n") + 1
        notes.append(
            f"{self.path}:{line}:{col} {ref.name}: the word of ${{{ref.name}{ref.op}...}} "
            f"opened here runs over {lines} lines and holds '{held}'; is its '}}' missing? "
            "(it ends at the next '}')"
        )


def _locate(data: bytes, spans: list[tuple[int, int]], resolver: _Resolver) -> None:
    """Find every plain reference to the names with a problem, outside operator forms."""
    pattern = pattern_for(frozenset(resolver.unlocated))
    start = 0
    for stop, after in [*sorted(spans), (len(data), len(data))]:
        for m in pattern.finditer(data, start, stop):
            if m.group(2) is None:  # operator-form heads are not plain references
                key = m.group(1)
                name = (key[2:-1] if key[1] == 0x7B else key[1:]).decode("ascii")
                verdict = resolver.unlocated[name]
                if verdict is _SUSPECT:
                    value = resolver.lookup(name) or b""
                    resolver._suspect(_Suspect(m.start(), name, value, m.start(), 0))
                else:
                    resolver.problem(m.start(), name, *verdict)
        start = max(start, after)


_MAX_SHOWN = 50
_HINT_SEP = "\nhint: "


def template_error(
    data: bytes, path: str | None, problems: list[_Problem], total: int | None = None
) -> TemplateError:
    """One error listing every problem as ``file:line:col NAME: reason`` (the first
    :data:`MAX_PROBLEMS` found, then how many more there were: ``total``)."""
    problems = sorted(problems, key=lambda p: p.offset)
    where = Locator(data)
    rows: list[tuple[str | None, int, int, str, str]] = []
    for p in problems:
        line, col = where.at(p.offset)
        rows.append((path, line, col, p.name, p.reason))
    return _error(rows, [p.hint for p in problems], total)


def combine(errors: Iterable[TemplateError]) -> TemplateError:
    """Merge several templates' errors into one that lists every problem."""
    errors = list(errors)
    rows = [row for err in errors for row in err.problems]
    hints = [h for err in errors if err.hint for h in err.hint.split(_HINT_SEP)]
    return _error(rows, hints, sum(err.total for err in errors))


def _error(
    rows: list[tuple[str | None, int, int, str, str]], hints: list[str], total: int | None = None
) -> TemplateError:
    total = max(total or 0, len(rows))
    shown = [  # line 0: a problem with the whole file (it cannot be read)
        f"{where or '<template>'}:{line}:{col} {name}: {reason}"
        if line
        else f"{where or '<template>'}: {reason}"
        for where, line, col, name, reason in rows[:_MAX_SHOWN]
    ]
    if total > len(shown):
        shown.append(f"... and {total - len(shown)} more")
    count = f"{total} problem" + ("s" if total != 1 else "")
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
        total=total,
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
    format: str | None = None,
    escape: bool = False,
) -> str:
    """:func:`expand_bytes` for str: ``vars``/``filter`` as in :meth:`Selection.of`
    (this is :func:`hostgw.templates.render`).

    No detection here: ``HOSTGW_*`` come from ``env`` or ``own``. ``format``
    (``nginx``, ``haproxy``, ``apache``, ``caddy``; None: from ``path``'s
    name, else the strictest) chooses the value-safety rules; ``escape``:
    ``\\$NAME`` gives the text ``$NAME``.
    """
    chunks = expand_bytes(
        encode(text),
        env,
        selection=Selection.of(vars, filter),
        strict=strict,
        no_empty=no_empty,
        raw=raw,
        own=own,
        path=path,
        format=format or by_name(path),
        escape=escape,
    )
    return decode(b"".join(chunks))
