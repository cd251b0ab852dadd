"""Rewrite HAProxy ``server`` and ``server-template`` addresses (pure).

Only in ``backend`` and ``listen`` sections (``peers`` and ``ring`` have
``server`` lines too, which are not proxy targets). As in HAProxy, a line
whose first word names a section starts that section, however it is
indented. The address may carry ``ipv4@``, ``ipv6@``, ``tcp4@``, ``tcp6@``
or ``tcp@``: kept, except that a family prefix the new address does not fit
is changed with it (``ipv6@[::1]:8000`` becomes ``ipv4@172.17.0.1:18000``).
``unix@``, ``abns@``, ``fd@`` and the like, relative ports (``+1000``), port
ranges and ``${VAR}`` are left alone. A server without a port inherits the
client's port, so only a rule for any port (``--map backend=18000``)
matches it. Lines are split as HAProxy does: lines at LF only; space, tab,
vertical tab and form feed separate words; quotes and backslashes group;
``#`` outside quotes starts a comment, and a CR ends what is read of a line.
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
        "acme",
    )
)
_WORD = re.compile(r"(?:\"(?:[^\"\\]|\\.)*\"?|'[^']*'?|\\.|[^ \t\v\f\r\n#\"'\\])+|(?P<c>[#\r])")
_KEEP_PREFIX = ("ipv4@", "ipv6@", "tcp@", "tcp4@", "tcp6@")
# The first word of a line, when it is plain (no quote or escape in it).
_HEAD = re.compile(r"[ \t\v\f]*([^ \t\v\f\r\n#\"'\\]+)(?=[ \t\v\f\r\n#]|\Z)")


def words(line: str, offset: int = 0) -> Iterator[tuple[int, str]]:
    """``(offset, raw word)`` for each word of one line, up to a comment (or a CR)."""
    for m in _WORD.finditer(line):
        if m.group("c") is not None:
            return
        yield offset + m.start(), m.group()


def rewrite(editor: Editor, *, path: str | None = None) -> None:
    """Record in ``editor`` the edits for every matching server address."""
    text = editor.text
    section = ""
    pos = 0
    while pos < len(text):
        start, end = pos, text.find("\n", pos)
        pos = len(text) if end < 0 else end + 1
        line = text[start:pos]
        head = _HEAD.match(line)
        if head is not None:
            keyword = head.group(1)
        else:  # a quoted or escaped first word, or none
            first = next(words(line), None)
            if first is None:
                continue
            keyword = _unquote(first[1])
        if keyword in _SECTIONS:
            section = keyword
            continue
        index = _INDEX.get(keyword)
        if index is None or section not in ("backend", "listen"):
            continue
        args = list(words(line, start))
        if len(args) > index:
            _address(editor, *args[index])


_INDEX = {"server": 2, "server-template": 3}  # which word is the address


def _unquote(word: str) -> str:
    """A word as HAProxy reads it: quotes removed, backslash escapes resolved."""
    return re.sub(r"\\(.)|[\"']", lambda m: m.group(1) or "", word)


def _address(editor: Editor, at: int, raw: str) -> None:
    low = raw.lower()
    for prefix in _KEEP_PREFIX:
        if low.startswith(prefix):
            break
    else:
        if "@" in raw.split(":", 1)[0]:
            editor.note_if_mentioned(at, raw, "is not a TCP address")
            return
        prefix = ""
    family = prefix[-2:-1] if prefix[-2:-1] in ("4", "6") else ""
    if family and editor.collect:  # the family digit may change with the address
        editor.spans.append((at, at + len(prefix) - 1))
    n = len(prefix)
    new = editor.target(
        at + n, raw[n:], schemes={}, bare=True, bare_default=None, portless_is_name=False, sep=""
    )
    if new is not None and family:
        fits = "6" if new.startswith("[") else "4"
        if fits != family:
            editor.widen(at, raw[:n], raw[: n - 2] + fits + "@")
