"""Rewrite HAProxy ``server`` and ``server-template`` addresses (pure).

Only in ``backend`` and ``listen`` sections (``peers`` has ``server`` lines
too, which are not proxy targets). The address may carry ``ipv4@``,
``ipv6@`` or ``tcp@`` (kept); ``unix@``, ``abns@``, ``fd@`` and the like,
relative ports (``+1000``), port ranges and ``${VAR}`` are left alone. A
server without a port inherits the client's port, so only a rule for any
port (``--map backend=18000``) matches it. Lines are split as HAProxy does:
whitespace separates words, quotes and backslashes group, ``#`` outside
quotes starts a comment.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from hostgw.rewriting.engine import Editor

_SECTIONS = frozenset(
    (
        "global",
        "defaults",
        "frontend",
        "backend",
        "listen",
        "resolvers",
        "peers",
        "userlist",
        "mailers",
        "program",
        "http-errors",
        "ring",
        "cache",
        "log-forward",
        "crt-store",
        "traces",
        "fcgi-app",
    )
)
_WORD = re.compile(r"(?:\"(?:[^\"\\]|\\.)*\"?|'[^']*'?|\\.|[^\s#\"'\\])+|(?P<c>#)")
_KEEP_PREFIX = ("ipv4@", "ipv6@", "tcp@", "tcp4@", "tcp6@")


def words(line: str, offset: int = 0) -> Iterator[tuple[int, str]]:
    """``(offset, raw word)`` for each word of one line, up to a comment."""
    for m in _WORD.finditer(line):
        if m.group("c") is not None:
            return
        yield offset + m.start(), m.group()


def rewrite(editor: Editor, *, path: str | None = None) -> None:
    """Record in ``editor`` the edits for every matching server address."""
    text = editor.text
    section = ""
    pos = 0
    for line in text.splitlines(keepends=True):
        start = pos
        pos += len(line)
        if "server" not in line and not line[:1].isalpha():
            continue
        args = list(words(line, start))
        if not args:
            continue
        keyword = args[0][1]
        if keyword in _SECTIONS:
            section = keyword
            continue
        if section not in ("backend", "listen"):
            continue
        index = {"server": 2, "server-template": 3}.get(keyword)
        if index is None or len(args) <= index:
            continue
        at, raw = args[index]
        _address(editor, at, raw)


def _address(editor: Editor, at: int, raw: str) -> None:
    low = raw.lower()
    for prefix in _KEEP_PREFIX:
        if low.startswith(prefix):
            at, raw = at + len(prefix), raw[len(prefix) :]
            break
    else:
        if "@" in raw.split(":", 1)[0]:
            editor.note_if_mentioned(at, raw, "is not a TCP address")
            return
    editor.target(at, raw, schemes={}, bare=True, bare_default=None, portless_is_name=False, sep="")
