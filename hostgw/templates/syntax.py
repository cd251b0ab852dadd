"""The template language: ``$NAME`` and ``${NAME<op>word}``, parsed into atoms.

Pure. :func:`scan` splits a template into atoms with their byte offsets:
runs of literal text with the selected plain references between them, and
:class:`Ref` atoms for operator forms (parsed by hand, with their offsets);
forms hostgw does not expand, for a selected name, are error atoms.
:class:`Selection` says which references are hostgw's to substitute; all
other text, such as nginx's ``$host``, ``${host}`` and ``$1``, is left alone.
See :mod:`hostgw.templates.expand` for the meaning of each form.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from functools import lru_cache
from itertools import accumulate
from typing import Any

from hostgw.errors import UsageError
from hostgw.record import Record

#: hostgw's own variables; selected by default, filled in by detection.
OWN_NAMES: tuple[str, ...] = ("HOSTGW_IP", "HOSTGW_IP6", "HOSTGW_HOST")
OWN = frozenset(OWN_NAMES)

#: Values for the own names: a mapping, or a function called at most once.
OwnValues = Mapping[str, str] | Callable[[], Mapping[str, str]] | None

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_NAME_AT = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
# A word's "$NAME" read as bash reads it, lines joined first: "$\\\nA\\\nB" is $AB.
_CONTINUED_NAME_AT = re.compile(rb"(?:\\\n)*[A-Za-z_](?:(?:\\\n)*[A-Za-z0-9_])*")
_OP_AT = re.compile(rb":[-+?]|[-+?]")
_WORD_TEXT = re.compile(rb"[^\\$}`\"']+")
_FORMAT_REF = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
# ${NAME followed by an operator character, or ${#NAME / ${!NAME: an operator form,
# supported or not. Group 2 holds the name with its operator character or prefix.
_OP_FORM = rb"[#!][A-Za-z_]|[A-Za-z_][A-Za-z0-9_]*[-:+?=#%/^,@\[]"
_OP_BRANCH = rb"\{(?=(" + _OP_FORM + rb"))\2"
# The same head, matched as "${" alone: what a quick split leaves where a form starts.
_OP_SEEN = rb"\{(?=" + _OP_FORM + rb")"
_OP_HEAD = b"${"
# After '$' in a word, what bash would expand (special parameters, digits, $( $[ $' $"),
# or the end of the text: errors. Any other character leaves the '$' as text.
_DOLLAR_SPECIAL = frozenset(b"*@#?-$!0123456789([{'\"") | {-1}
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


class Selection(Record):
    """Which references are substituted.

    - default (``names`` and ``pattern`` None): every name set in the
      environment, plus hostgw's own; an operator form always counts;
    - ``names`` (``--vars``): exactly these, set or not, in any form;
    - ``pattern`` (``--filter``): of the plain ``$NAME``/``${NAME}``, only
      names that match it (``re.search``), as the nginx image's
      ``NGINX_ENVSUBST_FILTER`` (given as text, it is a POSIX ERE as awk
      reads it: :func:`compile_ere`); hostgw's own names and operator forms
      (which are never nginx variables) still count.
    """

    names: frozenset[str] | None = None
    pattern: re.Pattern[str] | None = None

    @classmethod
    def of(
        cls, vars: str | Iterable[str] | None = None, filter: str | re.Pattern[str] | None = None
    ) -> Selection:
        """Build from ``--vars`` text (or names) and a ``--filter`` (an ERE as text, or a
        compiled Python pattern)."""
        names = None if vars is None else parse_vars(vars)
        pattern = None
        if isinstance(filter, str) and filter:
            pattern = compile_ere(filter)
        elif isinstance(filter, re.Pattern):
            pattern = filter
        return cls(names, pattern)

    def _passes(self, name: str) -> bool:
        return self.pattern is None or name in OWN or self.pattern.search(name) is not None

    def plain(self, env: Iterable[str]) -> frozenset[str]:
        """The names whose ``$NAME``/``${NAME}`` are substituted, given the env's names."""
        base = self.names if self.names is not None else {*filter(is_name, env), *OWN}
        return frozenset(n for n in base if self._passes(n))

    def wants(self, name: str) -> bool:
        """True if an operator form ``${name...}`` is hostgw's to expand."""
        return self.names is None or name in self.names


_CLASSES = {
    "alpha": "A-Za-z",
    "digit": "0-9",
    "alnum": "A-Za-z0-9",
    "upper": "A-Z",
    "lower": "a-z",
    "space": " \\t\\n\\r\\f\\v",
    "blank": " \\t",
    "punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    "xdigit": "0-9A-Fa-f",
    "cntrl": "\\x00-\\x1f\\x7f",
    "print": "\\x20-\\x7e",
    "graph": "\\x21-\\x7e",
}


def ere_to_python(pattern: str) -> str:
    """A POSIX extended regular expression, as awk reads it, in Python's syntax.

    Bracket expressions are translated: classes (``[[:upper:]]``), equivalence
    classes and collating symbols (``[[=a=]]``, ``[[.-.]]``), a leading ``]``
    and backslash escapes (awk's); every other character in a bracket is
    escaped, so Python sees no nested set or set operation. Outside brackets
    the two dialects agree on what awk users write (``^ $ . * + ? | ( ) {m,n}``
    and backslash escapes).
    """
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            out.append(pattern[i : i + 2])
            i += 2
        elif c == "[":
            body, i = _bracket(pattern, i + 1)
            out.append(body)
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _bracket(pattern: str, i: int) -> tuple[str, int]:
    """The bracket expression starting after the ``[`` at ``i - 1``; returns it
    in Python's syntax and the index after its ``]``."""
    n = len(pattern)
    out = ["["]
    if i < n and pattern[i] == "^":
        out.append("^")
        i += 1
    opened = len(out)
    while i < n:
        c = pattern[i]
        if c == "]" and len(out) > opened:
            return "".join(out) + "]", i + 1
        if c == "[" and i + 1 < n and pattern[i + 1] in ":=.":
            kind = pattern[i + 1]
            end = pattern.find(kind + "]", i + 2)
            if end < 0:
                raise UsageError(f"--filter: unclosed '[{kind}' in {pattern!r}")
            name = pattern[i + 2 : end]
            if kind == ":":
                if name not in _CLASSES:
                    raise UsageError(f"--filter: unknown class '[:{name}:]' in {pattern!r}")
                out.append(_CLASSES[name])
            else:
                out.append(re.escape(name))
            i = end + 2
        elif c == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
        elif c == "-" and len(out) > opened and i + 1 < n and pattern[i + 1] != "]":
            out.append("-")
            i += 1
        else:
            out.append(re.escape(c))
            i += 1
    raise UsageError(f"--filter: unclosed '[' in {pattern!r}", hint="close it with ']'")


def compile_ere(pattern: str) -> re.Pattern[str]:
    """Compile a ``--filter`` (a POSIX ERE, as the nginx image's awk takes it)."""
    shown = repr(pattern) if len(pattern) <= 80 else f"{pattern[:60]!r}... ({len(pattern)} chars)"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # no Python warning reaches the user
            return re.compile(ere_to_python(pattern))
    except re.error as exc:
        raise UsageError(f"--filter: invalid regular expression {shown}: {exc}") from None
    except (OverflowError, RecursionError):  # a{4294967296}, or parentheses nested too deep
        raise UsageError(
            f"--filter: regular expression {shown} is too large: repeat counts go up to "
            "4294967295, and parentheses must nest less deep"
        ) from None


_USE = (
    rb"\$(?:\{([#!]?)([A-Za-z_][A-Za-z0-9_]*)(\}|:?[-+?=]|[#%/^,@\[:])?|([A-Za-z_][A-Za-z0-9_]*))"
)


def uses(data: bytes) -> dict[str, set[str]]:
    """Every name ``data`` references, with the forms it takes there (``$N``,
    ``${N}``, ``${N:-...}``, ``${#N}``, ...), nested references included."""
    found: dict[str, set[str]] = {}
    for prefix, braced, op, plain in re.findall(_USE, data):
        name = (braced or plain).decode("ascii")
        if plain:
            form = f"${name}"
        elif prefix:
            form = f"${{{prefix.decode()}{name}}}"
        elif op == b"}":
            form = f"${{{name}}}"
        else:
            form = f"${{{name}{op.decode()}...}}" if op else f"${{{name}"
        found.setdefault(name, set()).add(form)
    return found


class Ref(Record):
    """A reference atom: ``${name<op>word}`` (or a plain one inside a word).

    ``start``/``end`` are byte offsets in the template; ``op`` is None for a
    plain reference; ``word`` holds literal bytes and nested references.
    """

    start: int
    end: int
    name: str
    op: str | None
    word: tuple[bytes | Ref, ...] = ()


class Bad(Record):
    """A form hostgw does not expand, for a selected name: an error atom."""

    start: int  # where the problem is
    stop: int  # where scanning resumes
    name: str
    reason: str


class _ParseError(Exception):
    def __init__(self, offset: int, reason: str, *, unclosed: bool = False) -> None:
        super().__init__(reason)
        self.offset = offset
        self.reason = reason
        # No closing '}' before the end: the form swallows the rest of the text, as in
        # bash, and scanning stops (so that n unclosed forms cost n, not n squared).
        self.unclosed = unclosed


def describe_char(c: int) -> str:
    """A character for a message: by name when it is invisible or a quote."""
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
        prefix = data[i + 2 : i + 3]
        if prefix in (b"#", b"!"):
            m = _NAME_AT.match(data, i + 3)
            name = m.group().decode("ascii") if m else ""
            what = "the length of" if prefix == b"#" else "indirect expansion through"
            raise _ParseError(
                i, f"unsupported '${{{prefix.decode()}{name}}}': {what} {name}, a bash form"
            )
        m = _NAME_AT.match(data, i + 2)
        if m is None:
            raise _ParseError(i, f"unsupported '${{{_peek(data, i + 2)}': expected a name")
        name = m.group().decode("ascii")
        j = m.end()
        if j >= len(data):
            raise _ParseError(i, "no closing '}'", unclosed=True)
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
        while True:
            m = _WORD_TEXT.match(data, i)
            if m is not None:
                text += m.group()
                i = m.end()
            if i >= n:
                raise _ParseError(opener, "no closing '}'", unclosed=True)
            c = data[i]
            if c == 0x7D:  # }
                _flush(text, parts)
                return tuple(parts), i + 1
            if c == 0x5C:  # backslash, as inside bash double quotes
                if i + 1 >= n:
                    raise _ParseError(opener, "no closing '}'", unclosed=True)
                d = data[i + 1]
                if d in b'$`"\\}':
                    text.append(d)
                elif d != 0x0A:
                    text += data[i : i + 2]
                i += 2
                continue
            if c == 0x24:  # $
                i = self._dollar(i, text, parts)
                continue
            raise _ParseError(
                i,
                f"{describe_char(c)} in a word is not supported "
                "(no quotes or commands are expanded; write \\} for a literal '}')",
            )

    def _dollar(self, i: int, text: bytearray, parts: list[bytes | Ref]) -> int:
        """A ``$`` at ``i`` in a word: a reference, or text; returns where to go on."""
        data = self.data
        k = i + 1  # what follows, past backslash-newlines (bash joins the lines)
        while data[k : k + 2] == b"\\\n":
            k += 2
        d = data[k] if k < len(data) else -1
        if d == 0x7B:
            _flush(text, parts)
            try:
                ref = self.braced(k - 1)  # as if the '$' were right before the '{'
            except _ParseError as exc:
                if exc.offset == k - 1:  # the form itself: named at its '$'
                    exc.offset = i
                raise
            parts.append(ref if k == i + 1 else ref.replace(start=i))
            return ref.end
        m = _CONTINUED_NAME_AT.match(data, i + 1)
        if m is not None:
            _flush(text, parts)
            name = m.group().replace(b"\\\n", b"").decode("ascii")
            parts.append(Ref(i, m.end(), name, None))
            return m.end()
        if d == 0x7D or d not in _DOLLAR_SPECIAL:  # "$ ", "$/", "$}": text, as in bash
            text.append(0x24)
            return i + 1
        raise _ParseError(
            i, f"unsupported '${_peek(data, k)}' in a word (write \\$ for a literal $)"
        )


def _flush(text: bytearray, parts: list[bytes | Ref]) -> None:
    """Move the literal text gathered so far into ``parts``."""
    if text:
        parts.append(bytes(text))
        text.clear()


def _head_name(data: bytes, start: int, head: bytes) -> str:
    """The name in an operator-form head: ``${NAME<op>``, ``${#NAME`` or ``${!NAME``."""
    if head[0] in b"#!":
        m = _NAME_AT.match(data, start + 3)
        return m.group().decode("ascii") if m else ""
    return head[:-1].decode("ascii")


def _peek(data: bytes, i: int) -> str:
    """The character at ``i`` (two if it is ':'), for messages: a control character
    escaped (``\\n``), so the message stays on its line."""
    width = 2 if data[i : i + 1] == b":" else 1
    return "".join(
        c if c.isprintable() else repr(c)[1:-1]
        for c in data[i : i + width].decode("utf-8", "replace")
    )


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
def pattern_for(names: frozenset[str], *, quick: bool = False) -> re.Pattern[bytes]:
    """Group 1: a selected plain reference or an operator-form head; group 2: its name
    (operator forms only).

    ``quick``: group 1 only, an operator form's head matched as ``${`` alone. It
    splits where the full pattern does, with fewer pieces, and a text with no
    ``${`` piece holds no operator form.
    """
    op = _OP_SEEN if quick else _OP_BRANCH
    if names:
        trie = _trie(sorted(n.encode("ascii") for n in names))
        body = rb"\{(?:" + trie + rb")\}|" + op + rb"|(?:" + trie + rb")(?![A-Za-z0-9_])"
    else:
        body = op
    return re.compile(rb"(\$(?:" + body + rb"))")


# Atoms from the scanner: (offset, run) where run alternates literal bytes and
# plain-reference keys (b"$NAME" / b"${NAME}"); or a Ref; or literal bytes; or Bad.
Atom = list[bytes] | Ref | bytes | Bad


def scan(
    data: bytes, names: frozenset[str], wants: Callable[[str], bool]
) -> Iterator[tuple[int, Atom]]:
    """Split ``data`` into atoms, each with its byte offset.

    ``names`` are the selected plain names; ``wants(name)`` says whether an
    operator form of ``name`` is a reference. A list atom is a literal run
    with plain references at its odd indexes.
    """
    split = pattern_for(names).split
    quick: Callable[[bytes], list[bytes]] | None = pattern_for(names, quick=True).split
    n, pos = len(data), 0
    while pos < n:
        # Cut right before a '$': no reference spans the cut, and the one before
        # it ends there as it would in the whole text. (A file may be one line.)
        end = data.find(b"$", pos + _CHUNK)
        end = n if end < 0 else end
        chunk = data[pos:end]
        if quick is not None:
            fast = quick(chunk)
            if _OP_HEAD not in fast[1::2]:
                yield pos, fast
                pos = end
                continue
            quick = None  # a text with operator forms: the full split from here on
        parts = split(chunk)
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
        name = _head_name(data, start, head)
        if not wants(name):  # not ours: "${NAME<op>" is text
            yield start, parts[i]
            first, i = i + 1, i + 2
            continue
        try:
            ref = _Parser(data).braced(start)
            resume = ref.end
            yield start, ref
        except _ParseError as exc:
            resume = len(data) if exc.unclosed else max(starts[i + 1], exc.offset + 1)
            yield start, Bad(exc.offset, resume, name, exc.reason)
        # Go on at `resume`: at the next match at or after it, unless the form
        # ran past the chunk or into a match (then split again from there).
        j = i + 2
        while j < len(parts) and starts[j] < resume:
            j += 2
        if j - 2 > i and starts[j - 1] > resume and resume <= end:
            # An error inside a later head (nested too deep): skip the rest of that head
            # rather than split the chunk again from inside it (which is quadratic).
            resume = starts[j - 1]
        if resume > end:
            return resume
        tail = starts[j] if j < len(parts) else end
        parts[j - 1] = data[resume:tail]
        starts[j - 1] = resume
        first, i = j - 1, j
    yield starts[first], parts[first:]
    return end
