"""The nginx config reader: one grammar, with offsets (pure).

It follows nginx's own reader (``ngx_conf_read_token``): tokens are split by
space, tab, CR and LF; ``;`` ends a directive, ``{`` opens a block and ``}``
closes one; ``#`` starts a comment only where a token could start; quotes
(``"`` and ``'``) only open at the start of a token, and after the closing
one comes space, ``;``, ``{`` or ``)``; a backslash escapes the next
character in and out of quotes; ``$`` keeps a following ``{`` inside a
word. A directive's name is a token like any other, so it may be quoted
(``"proxy_pass" http://app;``). The bodies of ``*_by_lua_block { ... }`` are
Lua, skipped with a Lua-aware brace matcher (strings, long brackets and
comments), as ngx_lua does.

:func:`walk` reads a text statement by statement with :data:`STATEMENT`.
Given a :class:`Skip`, it first lets one regular expression pass over each
run of statements that cannot matter to its caller, counting their braces
with ``str.count``: the skipped statements are those of the same grammar
that hold no brace except the one that opens or closes a block, no
comment with a brace, escape or ``${``, no name of a block the walk must
see (``upstream``, ``stream``, ...) and nothing the caller asks to stop at
(a mapped host, a target directive's name). Every statement it does not
skip, and every text nginx would refuse, is read by :data:`STATEMENT`, so
errors name the right place.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import NamedTuple

from hostgw.errors import RewriteError
from hostgw.formats import LUA_BLOCK, LUA_LONG_OPEN, LUA_STRINGS
from hostgw.rewriting.engine import mention_pattern, syntax_error

# -- The grammar ----------------------------------------------------------------
# Python >= 3.11 matches possessively: the same language, without keeping
# backtracking state, and runs of plain characters can be taken whole (on
# 3.10 a run inside a repeat could be split many ways when a match fails).
_P, _RUN, _ATOMIC = ("+", "++", "(?>") if sys.version_info >= (3, 11) else ("", "", "(?:")
_WS = r"[ \t\r\n]"
_COMMENT = r"\#[^\n]*(?![^\n])"  # to the end of the line: no backtracking into one
_QUOTED = rf"\"(?:[^\"\\]{_RUN}|\\[\s\S])*{_P}\"|'(?:[^'\\]{_RUN}|\\[\s\S])*{_P}'"
_AFTER_QUOTE = r"(?=[ \t\r\n;{)]|\Z)"
_ESC = r"\\[\s\S]"
_VAR = r"\$\{*(?!\{)"  # every "{" right after a "$" is in the word
# A word: nginx ends it at whitespace, ';' or '{' only ('}', '#' and quotes
# inside a word are literal). The lookahead makes a word maximal, so a
# statement splits one way only and broken input fails fast.
_WORD = (
    rf"(?:[^ \t\r\n;{{}}\"'\\\#$]|{_ESC}|{_VAR})(?:[^ \t\r\n;{{\\$]{_RUN}|{_ESC}|{_VAR})*{_P}"
    r"(?=[ \t\r\n;{]|\Z)"
)
_TOKEN = rf"(?:{_QUOTED}){_AFTER_QUOTE}|{_WORD}"
# One statement or close, with the space and comments before it.
STATEMENT = re.compile(
    rf"(?:{_WS}|{_COMMENT})*"
    rf"(?:(?P<close>\}})|(?P<name>{_TOKEN})(?P<args>(?:{_WS}{_RUN}|{_COMMENT}|{_TOKEN})*{_P})(?P<end>[;{{]))"
)
_SPACE = re.compile(rf"(?:{_WS}|{_COMMENT})*")
_ARG = re.compile(rf"{_COMMENT}|(?P<t>{_TOKEN})")
# In a Lua block: a long bracket's opening (its closing is found with str.find,
# so an unclosed one costs one scan, not one per opening), a comment, a string
# (on one line: ngx_lua's lexer ends none at an escaped newline), a brace.
_LUA = re.compile("|".join((LUA_LONG_OPEN, r"--[^\n]*", *LUA_STRINGS.values(), r"[{}\"'\[]")))
_LUA_NAME = LUA_BLOCK
# Blocks whose opening the walk always reads, so it knows what it is inside.
BLOCKS = ("upstream", "map", "geo", "split_clients", "types", "stream")
_UNESCAPE = re.compile(r"\\([\"'\\tnr])")
_ESCAPED = {'"': '"', "'": "'", "\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


# -- Skipping runs of statements in C ------------------------------------------
class Skip:
    """How :func:`walk` skips statements that cannot matter to its caller.

    :attr:`bulk`, outside the blocks of :data:`BLOCKS`: a run of such
    statements (closes too), then the next plain statement, captured (name,
    arguments, end). :attr:`inside` one of those blocks: a run without
    closes, then the next statement of any kind (compiled when first needed:
    most configs have no such block, or a small one).
    """

    def __init__(self, item: str, bulk: str) -> None:
        self._item = item
        self.bulk = re.compile(bulk)
        self._inside: re.Pattern[str] | None = None

    @property
    def inside(self) -> re.Pattern[str]:
        """The run inside a block of :data:`BLOCKS`, then one statement."""
        if self._inside is None:
            run = rf"(?P<run>{_ATOMIC}{self._item}))*{_P})"
            self._inside = re.compile(rf"{run}(?:{STATEMENT.pattern})?")
        return self._inside


def skip(hosts: Iterable[str] = (), names: Iterable[str] = ()) -> Skip:
    """A :class:`Skip` whose runs stop at statements mentioning ``hosts``, or named ``names``.

    A host is mentioned where it stands as a whole name (the test of
    :meth:`hostgw.rewriting.engine.Editor.mentions`), in any case.
    """
    hosts = list(hosts)
    first = re.escape("".join(sorted({c for h in hosts for c in (h[:1].lower(), h[:1].upper())})))
    blocks = "|".join(re.escape(n) for n in BLOCKS)
    stop = "|".join(re.escape(n) for n in (*BLOCKS, *names))
    skipped = _plain(first, mention_pattern(hosts) if hosts else "", stop)
    comment = r"\#[^\n{}]*" + _P + r"(?=\n)"
    item = rf"[ \t\r\n]*{_P}(?:{skipped}|{comment}"
    captured = _plain("", "", blocks, capture=True)
    return Skip(item, rf"{_ATOMIC}{item}|\}}))*{_P}[ \t\r\n]*{_P}(?:{captured})?")


def _plain(first: str, mention: str, stop: str, *, capture: bool = False) -> str:
    """A statement in the part of the grammar whose braces ``str.count`` can count.

    A name, then arguments with no comment, escape, brace (but the one that
    ends it), "${" or quote inside a word; a quoted string (no escape or
    brace) only where a token starts; not named ``stop``. Without
    ``capture``: no character of ``first`` (the first ones of the hosts)
    begins a ``mention``. Runs of other characters are matched by a class,
    each of those on its own, so a text splits one way only.
    """
    run = rf"[^;{{}}\"'\\#{first}]*{_P}"
    quoted = (
        rf"(?<=[ \t\r\n])(?:\"[^\"\\{{}}{first}]*{_P}\"|'[^'\\{{}}{first}]*{_P}')"
        r"(?=[ \t\r\n;{)])"
    )
    begins = rf"|(?!{mention})[{first}]" if mention else ""
    other = quoted + begins
    name = rf"(?:[^ \t\r\n;{{}}\"'\\#{first}]{begins})"
    args = rf"{run}(?:(?:{other}){run})*{_P}"
    end = r"(?:;|(?<!\$)\{)"
    head = rf"(?!(?:{stop})[ \t\r\n;{{])"
    if capture:
        rest = rf"[^ \t\r\n;{{}}\"'\\#]*{_P}"
        return rf"{head}(?P<sn>{name}{rest})(?P<sa>{args})(?P<se>{end})"
    return rf"{head}{name}{args}{end}"


# -- Tokens and statements -------------------------------------------------------
class Token(NamedTuple):
    """A token as written (quotes included) and its offset in the text."""

    start: int
    raw: str

    @property
    def value(self) -> str:
        """The token as nginx reads it: quotes removed, ``\\"`` ``\\\\`` ``\\t``... resolved."""
        return unquote(self.raw)


def unquote(raw: str) -> str:
    """A token as nginx reads it: without its quotes, with its escapes resolved."""
    if raw[:1] in "\"'" and len(raw) >= 2 and raw[-1] == raw[0]:
        raw = raw[1:-1]
    if "\\" not in raw:
        return raw
    return _UNESCAPE.sub(lambda m: _ESCAPED[m.group(1)], raw)


class Statement(NamedTuple):
    """One directive: its name, arguments, and ``;``, ``{`` or ``}`` (a close)."""

    name: Token
    args: tuple[Token, ...]
    end: str

    @property
    def directive(self) -> str:
        """The directive's name as nginx reads it."""
        return self.name.value


class Found(NamedTuple):  # made with _found in bulk: tuple.__new__ skips a Python __new__
    """A statement :func:`walk` read: where, what, and in which block."""

    start: int  # of the name
    name: str  # as nginx reads it
    args_start: int
    args: str  # as written
    end: str  # ";", "{" or "}" (a close, whose name is "}")
    block: str | None  # the block of BLOCKS it is directly inside, if any
    stream: bool  # inside "stream"


_found = tuple.__new__


def statements(text: str, *, path: str | None = None) -> Iterator[Statement]:
    """Yield every statement of ``text``; ``*_by_lua_block`` bodies are skipped.

    A close of a block is yielded as a Statement with ``end == "}"``. Raises
    :class:`RewriteError` with line and column for text nginx would reject
    as a matter of syntax (unbalanced braces, unclosed quotes, ...).
    """
    for st in walk(text, path=path):
        name = Token(st.start, text[st.start : st.args_start] if st.end != "}" else "}")
        yield Statement(name, arguments(st.args, st.args_start), st.end)


def arguments(args: str, base: int) -> tuple[Token, ...]:
    """The tokens of a statement's argument text that starts at offset ``base``."""
    if not args.strip():
        return ()
    return tuple(Token(base + a.start(), a.group("t")) for a in _ARG.finditer(args) if a.group("t"))


# The bulk read's window: from 4 kB (after text it could not read) to 1 MB.
_WINDOW = (4096, 1 << 20)


def walk(text: str, *, path: str | None = None, runs: Skip | None = None) -> Iterator[Found]:
    """Every statement of ``text`` that ``runs`` does not skip (all without it).

    Raises :class:`RewriteError` where nginx's reader would stop.
    """
    return chain.from_iterable(batches(text, path=path, runs=runs))


def batches(  # noqa: PLR0912, PLR0915 - one loop, one branch per kind of statement
    text: str, *, path: str | None = None, runs: Skip | None = None
) -> Iterator[list[Found]]:
    """:func:`walk`'s statements, in lists (one per window of the bulk read)."""
    size = len(text)
    count = text.count
    exact = STATEMENT.match
    cuts = _lua_cuts(text) if runs is not None else []
    cut = cuts.pop() if cuts else size
    window = _WINDOW[0]
    pos = depth = 0
    # the open blocks of BLOCKS: name, depth, and whether in stream (it or one outside it)
    stack: list[tuple[str, int, bool]] = []
    block: str | None = None
    stream = False
    while True:
        m: re.Match[str] | None = None
        if runs is not None:
            while cut < pos:
                cut = cuts.pop() if cuts else size
        if runs is not None and not stack:
            # In bulk: a window of runs and the plain statements that end them.
            stop = min(pos + window, cut)
            # Matches are taken while each starts where the last ended: the
            # first that does not (or is empty) is where a statement could
            # not be read, and searching on for the next would be wasted.
            found: list[Found] = []
            end = pos
            for bulk in runs.bulk.finditer(text, pos, stop):
                start, after = bulk.span()
                if start != end or after == end:
                    break
                end = after
                a, b, c = bulk.groups()
                if a is not None:
                    at = after - len(c) - len(b)
                    found.append(_found(Found, (at - len(a), a, at, b, c, None, False)))
            if end > pos:
                closes = count("}", pos, end)
                if closes > depth and _below_zero(text, pos, end, depth):
                    runs = None  # read on statement by statement, to the error
                    continue
                depth += count("{", pos, end) - closes
                yield found
                pos = end
            # Where the window stops at a statement it could not read (read
            # below), the next window is small; where the window's end cut a
            # statement short, larger.
            cut_short = not any(count(c, end, stop) for c in ";{}")
            window = min(window * 2, _WINDOW[1]) if cut_short else _WINDOW[0]
            if pos >= size:
                break
            if end == stop and stop < cut:
                continue  # the window's end: the next one reads on
        elif runs is not None:
            m = runs.inside.match(text, pos, cut)
            end = m.end("run")  # type: ignore[union-attr]
            if end > pos:
                depth += count("{", pos, end)  # no close in such a run
                pos = end
                block, stream = _context(stack, depth)
            if m.end() == end:  # type: ignore[union-attr]
                m = None  # at a cut, or broken text
        if m is None:
            m = exact(text, pos)
        if m is None:
            if _SPACE.match(text, pos).end() < size:  # type: ignore[union-attr]
                raise _diagnose(text, pos, path)
            break
        pos = m.end()
        raw, args, last = m.group("name", "args", "end")
        if raw is None:
            if depth == 0:
                raise _error(text, pos - 1, 'unexpected "}"', path)
            depth -= 1
            if stack:
                if stack[-1][1] > depth:
                    stack.pop()
                block, stream = _context(stack, depth)
            yield [Found(pos - 1, "}", pos, "", "}", block, stream)]
            continue
        name = unquote(raw) if raw[0] in "\"'\\" or "\\" in raw else raw
        yield [Found(m.start("name"), name, m.start("args"), args, last, block, stream)]
        if last == "{":
            if name.endswith(_LUA_NAME):
                pos = skip_lua(text, pos, path)
                yield [Found(pos - 1, "}", pos, "", "}", block, stream)]
                continue
            depth += 1
            if name in BLOCKS:
                stack.append((name, depth, name == "stream" or (bool(stack) and stack[-1][2])))
            block, stream = _context(stack, depth)
    if depth:
        raise _error(text, size, 'unexpected end of file, expecting "}"', path)


def _context(stack: list[tuple[str, int, bool]], depth: int) -> tuple[str | None, bool]:
    """The block of BLOCKS a statement at ``depth`` is directly in, and whether in stream."""
    block = stack[-1][0] if stack and stack[-1][1] == depth else None
    return block, bool(stack) and stack[-1][2]


def _lua_cuts(text: str) -> list[int]:
    """Where a Lua block's name may be, last first: a run of statements stops there."""
    if _LUA_NAME not in text:
        return []
    return [m.start() for m in re.finditer(_LUA_NAME, text)][::-1]


_NOT_BRACES = bytes(b for b in range(256) if b not in b"{}")
_STEP = {ord("{"): 1, ord("}"): -1}


def _below_zero(text: str, pos: int, end: int, depth: int) -> bool:
    """Whether the braces in ``text[pos:end]`` close more blocks than are open.

    The braces, in order, are what is left of the bytes once every other
    byte is deleted (UTF-8 never hides a brace in a longer sequence); the
    running depth is then summed and its minimum taken, all in C.
    """
    from itertools import accumulate

    braces = text[pos:end].encode("utf-8", "surrogatepass").translate(None, _NOT_BRACES)
    return min(accumulate(map(_STEP.__getitem__, braces), initial=depth)) < 0


def skip_lua(text: str, pos: int, path: str | None = None) -> int:
    """The offset just after the ``}`` that closes a Lua block opened before ``pos``.

    Linear in the block: a long string or comment (``[[ ]]``, ``--[==[ ]==]``)
    is skipped to its closing with one ``str.find``.
    """
    depth, opened = 1, pos
    search = _LUA.search
    while (m := search(text, pos)) is not None:
        tok, pos = m.group(), m.end()
        if m.group(1) is not None:  # a long bracket: skip to its closing
            close = text.find(f"]{m.group(1)}]", pos)
            if close < 0:
                raise _error(text, m.start(), "unclosed long bracket in Lua block", path)
            pos = close + len(m.group(1)) + 2
        elif tok == "{":
            depth += 1
        elif tok == "}":
            depth -= 1
            if depth == 0:
                return pos
        elif tok in ('"', "'"):
            raise _error(text, m.start(), "unclosed string in Lua block", path)
    raise _error(text, opened - 1, "Lua block is not closed", path)


def _diagnose(text: str, pos: int, path: str | None) -> RewriteError:  # noqa: PLR0911
    """Name what is wrong at ``pos``, where no statement could be read."""
    i = pos
    size = len(text)
    ch = text[i]
    if ch in ";{":
        return _error(text, i, f'unexpected "{ch}"', path)
    while i < size:
        ch = text[i]
        if ch in " \t\r\n":
            i += 1
        elif ch == "#":
            nl = text.find("\n", i)
            i = size if nl < 0 else nl
        elif ch in ";{":
            return _error(text, i, f'unexpected "{ch}"', path)
        elif ch == "}":
            return _error(text, i, 'unexpected "}"', path)
        elif ch in "\"'":
            m = re.compile(_QUOTED).match(text, i)
            if m is None:
                return _error(text, i, f"unclosed {ch} quote", path)
            i = m.end()
            if i < size and text[i] not in " \t\r\n;{)":
                return _error(text, i, f'unexpected "{text[i]}" after a quoted string', path)
        else:
            m = re.compile(_WORD).match(text, i)
            if m is None:  # a backslash at the very end
                return _error(text, i, "unexpected end of file after a backslash", path)
            i = m.end()
    return _error(text, size, 'unexpected end of file, expecting ";" or "}"', path)


def _error(text: str, pos: int, message: str, path: str | None) -> RewriteError:
    return syntax_error(text, pos, message, path, "nginx")
