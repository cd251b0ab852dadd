"""An nginx config tokenizer that keeps offsets (pure).

It follows nginx's own reader (``ngx_conf_read_token``): tokens are split by
space, tab, CR and LF; ``;`` ends a directive, ``{`` opens a block and ``}``
closes one; ``#`` starts a comment only where a token could start; quotes
(``"`` and ``'``) only open at the start of a token, and a backslash escapes
the next character in and out of quotes; ``${`` keeps ``{`` inside a word.
The bodies of ``*_by_lua_block { ... }`` are Lua, skipped with a Lua-aware
brace matcher (strings, long brackets and comments), as ngx_lua does.

:func:`statements` yields one :class:`Statement` per directive with its
argument tokens; it works a statement at a time with one regular expression,
so a large config costs little more than reading it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from typing import NamedTuple

from hostgw.errors import RewriteError
from hostgw.rewriting.engine import syntax_error

_WS = r"[ \t\r\n]"
_COMMENT = r"\#[^\n]*(?![^\n])"  # to the end of the line: no backtracking into one
_QUOTED = r"\"(?:[^\"\\]|\\[\s\S])*\"|'(?:[^'\\]|\\[\s\S])*'"
_ESC = r"\\[\s\S]"
_VAR = r"\$\{?"
# A word: nginx ends it at whitespace, ';' or '{' only ('}' and quotes inside
# a word are literal). The lookahead makes a word maximal, so the regex has
# one way to split a statement and fails fast on broken input.
_WORD = (
    rf"(?:[^ \t\r\n;{{}}\"'\\\#$]|{_ESC}|{_VAR})(?:[^ \t\r\n;{{\\$]|{_ESC}|{_VAR})*"
    r"(?=[ \t\r\n;{]|\Z)"
)
_AFTER_QUOTE = r"(?=[ \t\r\n;{)]|\Z)"
_TOKEN = rf"(?:{_QUOTED}){_AFTER_QUOTE}|{_WORD}"
_STATEMENT = re.compile(
    rf"(?:{_WS}|{_COMMENT})*"
    rf"(?:(?P<close>\}})|(?P<name>{_TOKEN})(?P<args>(?:{_WS}|{_COMMENT}|{_TOKEN})*)(?P<end>[;{{]))"
)
_SPACE = re.compile(rf"(?:{_WS}|{_COMMENT})*")
_ARG = re.compile(rf"{_COMMENT}|(?P<t>{_TOKEN})")
_LUA = re.compile(
    r"--\[(=*)\[[\s\S]*?\]\1\]|--[^\n]*|\[(=*)\[[\s\S]*?\]\2\]"
    r"|\"(?:[^\"\\\n]|\\[\s\S])*\"|'(?:[^'\\\n]|\\[\s\S])*'|[{}\"'\[]"
)


# -- Skipping in C: runs of statements that cannot matter ---------------------
# A restriction of the grammar above, matched by one expression: a statement
# starts with a plain character and holds no comment, escape, "${", brace or
# quote inside a word; a quoted string only after whitespace, with no brace
# or backslash inside. So every "{" and "}" in a run opens or closes a block
# (counted with str.count), and every statement is where nginx would end it.
# Statements that open the blocks the rewrite must see are left out; a
# caller bounds the run (endpos) before anything else it must see. A comment
# must end with a newline inside the bound, so a bound never cuts one short.
# Python >= 3.11 matches possessively (the same language, without keeping
# backtracking state for every statement, so about twice as fast).
SPECIAL_BLOCKS = ("upstream", "map", "geo", "split_clients", "stream")


def _plain_args(p: str) -> str:
    """Arguments after a plain name: plain text, ``$`` (not ``${``), quoted strings."""
    rest = rf"[^;{{}}\"'#\\$]*{p}"
    quoted = rf"(?<=[ \t\r\n])(?:\"[^\"\\{{}}]*{p}\"|'[^'\\{{}}]*{p}')(?=[ \t\r\n;{{)])"
    return rf"{rest}(?:(?:\$(?!\{{)|{quoted}){rest})*{p}"


def _plain_run(p: str, group: str) -> str:
    """Any number of plain statements, closes, whitespace and comments."""
    statement = (
        rf"(?!(?:{'|'.join(SPECIAL_BLOCKS)})[ \t\r\n;{{])"
        rf"[^ \t\r\n;{{}}\"'#\\$]{_plain_args(p)}[;{{]"
    )
    return rf"{group}[ \t\r\n]+{p}|\}}|\#[^\n{{}}]*{p}(?=\n)|{statement})*{p}"


def _plain_statement(p: str) -> str:
    """One plain statement (comments before it allowed) with _STATEMENT's groups."""
    return (
        rf"[ \t\r\n]*{p}(?:\#[^\n]*{p}[ \t\r\n]*{p})*{p}(?:(?P<close>\}})"
        rf"|(?P<name>[^ \t\r\n;{{}}\"'#\\$]+{p})"
        rf"(?P<args>(?:[ \t\r\n]{_plain_args(p)})?)(?P<end>[;{{]))"
    )


_P, _GROUP = ("+", "(?>") if sys.version_info >= (3, 11) else ("", "(?:")
# PLAIN_RUN.match(text, pos, endpos).end(): the end of the run of plain
# statements, closes, space and comments at pos, which stops before endpos,
# before a statement that opens one of SPECIAL_BLOCKS, and before anything
# outside the plain grammar; what follows is read with statement_at().
PLAIN_RUN = re.compile(_plain_run(_P, _GROUP))
# One plain statement, with the groups of statement_at() (None: not plain).
PLAIN_STATEMENT = re.compile(_plain_statement(_P))


class Token(NamedTuple):
    """A token as written (quotes included) and its offset in the text."""

    start: int
    raw: str

    @property
    def value(self) -> str:
        """The token without its quotes (escapes left as written)."""
        raw = self.raw
        if raw[:1] in "\"'" and len(raw) >= 2 and raw[-1] == raw[0]:
            return raw[1:-1]
        return raw


class Statement(NamedTuple):
    """One directive: its name, arguments, and ``;``, ``{`` or ``}`` (a close)."""

    name: Token
    args: tuple[Token, ...]
    end: str

    @property
    def directive(self) -> str:
        """The directive's name, unquoted."""
        return self.name.value


def statements(text: str, *, path: str | None = None) -> Iterator[Statement]:
    """Yield every statement of ``text``; ``*_by_lua_block`` bodies are skipped.

    A close of a block is yielded as a Statement with ``end == "}"``. Raises
    :class:`RewriteError` with line and column for text nginx would reject
    as a matter of syntax (unbalanced braces, unclosed quotes, ...).
    """
    for start, name, args_start, args, end in raw_statements(text, path=path):
        yield Statement(Token(start, name), arguments(args, args_start), end)


def arguments(args: str, base: int) -> tuple[Token, ...]:
    """The tokens of a statement's argument text that starts at offset ``base``."""
    if not args.strip():
        return ()
    return tuple(Token(base + a.start(), a.group("t")) for a in _ARG.finditer(args) if a.group("t"))


def raw_statements(
    text: str, *, path: str | None = None, pos: int = 0, depth: int = 0
) -> Iterator[tuple[int, str, int, str, str]]:
    """``(name offset, name, args offset, args text, end)`` per statement.

    ``end`` is ``;``, ``{`` or ``}`` (a close, whose name is ``}``). Reading
    starts at ``pos``, inside ``depth`` open blocks.
    """
    match = _STATEMENT.match
    size = len(text)
    while True:
        m = match(text, pos)
        if m is None:
            pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
            if pos >= size:
                break
            raise _diagnose(text, pos, path)
        pos = m.end()
        name, args, end = m.group("name", "args", "end")
        if name is None:
            if depth == 0:
                raise _error(text, pos - 1, 'unexpected "}"', path)
            depth -= 1
            yield pos - 1, "}", pos, "", "}"
            continue
        yield m.start("name"), name, m.start("args"), args, end
        if end == "{":
            if name.endswith("_by_lua_block"):
                pos = skip_lua(text, pos, path)
                yield pos - 1, "}", pos, "", "}"
            else:
                depth += 1
    if depth:
        raise _error(text, size, 'unexpected end of file, expecting "}"', path)


def statement_at(text: str, pos: int) -> re.Match[str] | None:
    """The statement (or close) that starts at ``pos``, comments before it included.

    Groups: ``close``, ``name``, ``args``, ``end``. None where no statement
    can be read (only space and comments left, or a syntax error).
    """
    return PLAIN_STATEMENT.match(text, pos) or _STATEMENT.match(text, pos)


def only_space(text: str, pos: int) -> bool:
    """Whether nothing but whitespace and comments follows ``pos``."""
    return _SPACE.match(text, pos).end() >= len(text)  # type: ignore[union-attr]


def skip_lua(text: str, pos: int, path: str | None = None) -> int:
    """The offset just after the ``}`` that closes a Lua block opened before ``pos``."""
    depth = 1
    for m in _LUA.finditer(text, pos):
        tok = m.group()
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth -= 1
            if depth == 0:
                return m.end()
        elif tok in ('"', "'"):
            raise _error(text, m.start(), "unclosed string in Lua block", path)
    raise _error(text, pos - 1, "Lua block is not closed", path)


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
