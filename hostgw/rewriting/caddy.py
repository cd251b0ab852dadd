"""Rewrite Caddyfile ``reverse_proxy`` upstreams (pure).

Touched: the upstreams on a ``reverse_proxy`` (or ``php_fastcgi``) line
after its optional matcher (``*``, ``/path``, ``@name``), and those of a
``to`` line inside its block. Default ports for matching: ``http://`` and a
bare host 80, ``https://`` 443, ``h2c://`` 80. Placeholders (``{$VAR}``,
``{http.…}``), ``unix//`` sockets and host-less ``:port`` upstreams are left
alone. Tokens are read as Caddy's lexer reads them: whitespace separates,
``"…"`` and backquotes group, ``#`` at a token's start is a comment, a
heredoc (``<<END``) is one token.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from hostgw.errors import RewriteError
from hostgw.rewriting.engine import Editor, syntax_error

_SCHEMES: dict[str, int | None] = {"http": 80, "https": 443, "h2c": 80}
_PROXIES = frozenset(("reverse_proxy", "php_fastcgi"))
# Caddy's lexer, as regular expressions: space; a backslash (then spaces) and
# a newline, which continues the line; a lone newline; a comment; a heredoc
# opening; a quoted string ("..." with escapes, `...` without); a word, which
# a backslash before space or newline ends.
_TOKEN = re.compile(
    r"(?P<space>[ \t\r\f\v]+|\\[ \t\r]*\n|\\(?=[ \t\r]))|(?P<newline>\n)|(?P<comment>#[^\n]*)"
    r"|<<(?P<heredoc>[A-Za-z0-9_-]+)\r?\n"
    r"|\"(?:[^\"\\]|\\[\s\S])*\"|`[^`]*`|(?:\\[^\s]|[^\s\"`\\])(?:\\[^\s]|[^\s\\])*"
)
# After a comment that holds a backslash, Caddy's lexer takes the newline
# as escaped too: the line goes on.
_COMMENT_CONT = re.compile(r"[ \t\r\f\v]*\n")


def tokens(text: str, path: str | None = None) -> Iterator[tuple[int, str, int]]:
    """``(offset, raw token, line)`` for every token; comments are dropped.

    ``line`` counts the lines as Caddy's parser groups a directive's tokens:
    a newline inside a quoted string or a heredoc, or escaped by a
    backslash, does not end the line.
    """
    line = 1
    pos = 0
    size = len(text)
    match = _TOKEN.match
    while pos < size:
        m = match(text, pos)
        if m is None:
            raise _error(text, pos, f"unclosed {text[pos]} quote", path)
        kind = m.lastgroup
        if kind == "heredoc":
            marker = m.group("heredoc")
            # The heredoc ends where its marker next appears (after at least
            # one character), as in Caddy's lexer: a word may follow it on
            # that line (`EOF 200`).
            close = text.find(marker, m.end() + 1)
            if close < 0:
                raise _error(text, pos, f"heredoc <<{marker} is not closed", path)
            pos = close + len(marker)
            yield m.start(), text[m.start() : pos], line
            continue
        pos = m.end()
        if kind == "newline":
            line += 1
        elif kind == "comment":
            if "\\" in m.group():
                cont = _COMMENT_CONT.match(text, pos)
                pos = pos if cont is None else cont.end()
        elif kind is None:
            yield m.start(), m.group(), line


def rewrite(editor: Editor, *, path: str | None = None) -> None:
    """Record in ``editor`` the edits for every matching upstream."""
    stack: list[str] = []
    lines: dict[int, list[tuple[int, str]]] = {}
    order: list[int] = []
    for at, raw, line in tokens(editor.text, path):
        if line not in lines:
            lines[line] = []
            order.append(line)
        lines[line].append((at, raw))
    for line in order:
        words = lines[line]
        head = words[0][1]
        if head == "}":
            if stack:
                stack.pop()
            words = words[1:]
            if not words:
                continue
            head = words[0][1]
        args = words[1:]
        opens = bool(args) and args[-1][1] == "{"
        if opens:
            args = args[:-1]
        if head in _PROXIES:
            if args and args[0][1][:1] in "/*@":
                args = args[1:]
            _upstreams(editor, args)
        elif head == "to" and stack and stack[-1] in _PROXIES:
            _upstreams(editor, args)
        if opens or head == "{":
            stack.append(head)
        if args and args[-1][1] == "}" and stack:
            stack.pop()


def imports(text: str, path: str | None = None) -> tuple[list[tuple[int, str]], set[str]]:
    """``(offset, pattern token)`` of every ``import``, and the snippets ``(name)`` defined here."""
    heads: list[tuple[str, list[tuple[int, str]]]] = []
    last = 0
    for at, raw, line in tokens(text, path):
        if line != last:
            heads.append((raw, []))
            last = line
        else:
            heads[-1][1].append((at, raw))
    lines = [
        (raw, args) if raw != "}" else (args[0][1], args[1:])
        for raw, args in heads
        if raw != "}" or args
    ]
    snippets = {raw[1:-1] for raw, _ in lines if raw.startswith("(") and raw.endswith(")")}
    return [args[0] for raw, args in lines if raw == "import" and args], snippets


def _upstreams(editor: Editor, args: list[tuple[int, str]]) -> None:
    for at, raw in args:
        if raw.lower().startswith("unix/"):
            editor.note_if_mentioned(at, raw, "is a unix socket")
            continue
        editor.target(at, raw, schemes=_SCHEMES, bare=True, bare_default=80, portless_is_name=False)


def _error(text: str, pos: int, message: str, path: str | None) -> RewriteError:
    return syntax_error(text, pos, message, path, "Caddyfile")
