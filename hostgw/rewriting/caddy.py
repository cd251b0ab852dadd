"""Rewrite Caddyfile ``reverse_proxy`` upstreams (pure).

Touched: the upstreams on a ``reverse_proxy`` (or ``php_fastcgi``) line
after its optional matcher (``*``, ``/path``, ``@name``), and those of a
``to`` line inside its block. Default ports for matching: ``http://`` and a
bare host 80, ``https://`` 443, ``h2c://`` 80. Placeholders (``{$VAR}``,
``{http.…}``), ``unix//`` sockets and host-less ``:port`` upstreams are left
alone. Tokens are read as Caddy's lexer reads them: blanks separate (Go's,
Unicode's U+00A0 and U+2028 too, not U+001C-U+001F),
``"…"`` and backquotes group, ``#`` at a token's start is a comment, a
heredoc (``<<END``) is one token.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from hostgw.errors import RewriteError
from hostgw.formats import CADDY_BLANKS
from hostgw.rewriting.engine import Editor, syntax_error

_SCHEMES: dict[str, int | None] = {"http": 80, "https": 443, "h2c": 80}
_PROXIES = frozenset(("reverse_proxy", "php_fastcgi"))
# The pieces of Caddy's lexer: space, a newline, a backslash that escapes
# what follows it (space, a newline, which then continues the line, a
# comment or a quote), a comment, a heredoc's opening (a word that starts
# with "<<" and is no heredoc runs to the end of its line), a quoted string
# ("..." with escapes, `...` without) and a word. The lexer drops CR: it
# ends no word.
_BLANK = re.escape(CADDY_BLANKS)  # (in a class)
_S = f"[\r\n{_BLANK}]"  # what Python's \s was here, Caddy's way
_W = f"[^\r\n{_BLANK}]"
_TOKEN = re.compile(
    rf"(?P<space>[\r{_BLANK}]+)|(?P<newline>\n)|(?P<escape>\\)(?={_S}|[\"`#]|\Z)"
    r"|(?P<comment>#[^\n]*)|<<(?P<heredoc>[A-Za-z0-9_-]+)\r*\n|(?P<word><<[^\n]*)"
    r"|(?P<quoted>\"(?:[^\"\\]|\\[\s\S])*\"|`[^`]*`)"
    rf"|(?P<plain>(?:\\{_W}|[^\r\n{_BLANK}\"`\\])(?:\\{_W}|[^\r\n{_BLANK}\\]|\r)*)"
)
# After an escape: a word whose first character it makes plain ("\<<EOF"),
# or a "..." string whose first character it escapes.
_ESCAPED = {
    "word": re.compile(rf"{_W}(?:\\{_W}|[^\r\n{_BLANK}\\]|\r)*"),
    '"': re.compile(r"\"[\s\S](?:[^\"\\]|\\[\s\S])*\""),
    "`": re.compile(r"`[^`]*`"),
}
# After a word, a backslash then CRs and a newline continue the line.
_GLUED_CONTINUATION = re.compile(r"\\\r*\n")


class _Lines:
    """Caddy's count of lines, and the directive lines it makes of it.

    The lexer gives each token a line, where a newline escaped by a
    backslash counts only at the next newline it meets (even one inside a
    string); the next token is on a new directive line when its line is past
    the last one's line plus the newlines in it.
    """

    def __init__(self) -> None:
        self.caddy = 1  # the lexer's line
        self.skipped = 0  # escaped newlines not counted yet
        self.line = 0  # the directive line of the last token
        self.last = -1  # where the last token ends, in the lexer's count

    def newline(self, escaped: bool) -> None:
        if escaped:
            self.skipped += 1
        else:
            self.caddy += 1 + self.skipped
            self.skipped = 0

    def token(self, breaks: int, heredoc: bool) -> int:
        """The directive line of a token holding ``breaks`` newlines."""
        here = self.caddy
        if heredoc:  # its newlines wait, like escaped ones, until it ends
            self.caddy += self.skipped + breaks
            self.skipped = 0
        elif breaks:
            self.caddy += breaks + self.skipped
            self.skipped = 0
        if here > self.last:
            self.line += 1
        self.last = here + breaks
        return self.line


def tokens(text: str, path: str | None = None) -> Iterator[tuple[int, str, int]]:
    """``(offset, raw token, line)`` for every token; comments are dropped.

    ``line`` numbers the directives' lines as Caddy's parser groups tokens
    (see :class:`_Lines`). An escape waits for the next character that is
    not space, across a comment (where a backslash also escapes); one right
    after a word belongs to it, so only a newline right after it (CRs aside)
    is continued.
    """
    lines = _Lines()
    pos = 0
    size = len(text)
    match = _TOKEN.match
    pending = False  # an escape waits for the next character that is not space
    while pos < size:
        m = match(text, pos)
        kind = "word" if m is not None and m.lastgroup == "plain" else m and m.lastgroup
        if pending and kind in ("heredoc", "quoted", "escape", "word", None):
            ch = text[pos]
            m = _ESCAPED.get(ch, _ESCAPED["word"]).match(text, pos)
            kind = "quoted" if ch in '"`' else "word"
        if m is None:
            raise _error(text, pos, f"unclosed {text[pos]} quote", path)
        pos = m.end()
        if kind == "newline":
            lines.newline(pending)
            pending = False
        elif kind == "escape":
            pending = True
        elif kind == "comment":
            pending = pending or "\\" in m.group()
        elif kind != "space":
            start = m.start()
            if kind == "heredoc":
                pos = _heredoc_end(text, m, path)
            raw = text[start:pos]
            line = lines.token(raw.count("\n"), kind == "heredoc")
            pending = False
            yield start, raw.rstrip("\r") if kind == "word" else raw, line  # the lexer drops CR
            if kind == "word" and text.startswith("\\", pos):
                glued = _GLUED_CONTINUATION.match(text, pos)
                pos = pos + 1 if glued is None else glued.end()
                if glued is not None:
                    lines.newline(escaped=True)


def _heredoc_end(text: str, m: re.Match[str], path: str | None) -> int:
    """Where the heredoc opened by ``m`` ends: where its marker next appears.

    As in Caddy's lexer, a word may follow it on that line (``EOF 200``).
    """
    marker = m.group("heredoc")
    close = text.find(marker, m.end())
    if close < 0:
        raise _error(text, m.start(), f"heredoc <<{marker} is not closed", path)
    return close + len(marker)


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
