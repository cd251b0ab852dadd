"""Rewrite Apache httpd proxy targets (pure).

Touched: the URL of ``ProxyPass``, ``ProxyPassReverse``, ``ProxyPassMatch``
and ``BalancerMember``, and the substitution of ``RewriteRule`` when its
flags hold ``P`` (``[P]``, ``[P,L]``, ``[proxy]``). Schemes and the default
ports used for matching: http/ws/h2c 80, https/wss/h2 443, ajp 8009;
fcgi, scgi and uwsgi have none (only a rule for any port matches them).
``balancer://`` names, ``unix:`` sockets and ``${VAR}`` hosts are left
alone. Comments are whole lines starting with ``#``; a line ending in a
backslash (before LF or CRLF) continues on the next, as httpd 2.4 reads
them (even after another backslash).
"""

from __future__ import annotations

import re

from hostgw.rewriting.engine import Editor

_SCHEMES: dict[str, int | None] = {
    "http": 80,
    "ws": 80,
    "h2c": 80,
    "https": 443,
    "wss": 443,
    "h2": 443,
    "ajp": 8009,
    "fcgi": None,
    "scgi": None,
    "uwsgi": None,
}
_PROXY = frozenset(("proxypass", "proxypassreverse", "proxypassmatch", "balancermember"))
# A word: quoted, or a run of other characters in which a continuation
# (backslash, newline) joins what is around it; a continuation between words
# is space.
_WORD = re.compile(
    r"\"(?:[^\"\\]|\\.)*\"?|'(?:[^'\\]|\\.)*'?"
    r"|(?:[^\s\\]|\\(?!\r?\n).)(?:\\\r?\n|[^\s\\]|\\.)*",
    re.S,
)
# A physical line that continues on the next: it ends in a backslash, then
# CR LF or LF (httpd 2.4's ap_cfg_getline_core).
_CONTINUED = re.compile(r"\\\r?\n\Z")


def _logical(text: str) -> list[tuple[int, str]]:
    """``(offset, text)`` of every logical line, continuations joined (and kept)."""
    found: list[tuple[int, str]] = []
    start = pos = 0
    size = len(text)
    while pos < size:
        end = text.find("\n", pos) + 1 or size
        if not _CONTINUED.search(text, pos, end):
            found.append((start, text[start:end]))
            start = end
        pos = end
    if start < size:
        found.append((start, text[start:]))
    return found


def rewrite(editor: Editor, *, path: str | None = None) -> None:
    """Record in ``editor`` the edits for every matching target."""
    for at, line in _logical(editor.text):
        stripped = line.lstrip()
        if not stripped or stripped[0] in "#<":
            continue
        head = stripped.split(None, 1)[0].lower()
        if head not in _PROXY and head != "rewriterule":
            if editor.mentions(line) and head in ("proxypassinherit", "define", "setenv"):
                editor.note_if_mentioned(at, line.strip(), "is not a proxy target")
            continue
        args = [(at + w.start(), w.group()) for w in _WORD.finditer(line)][1:]
        if head == "rewriterule":
            if len(args) >= 3 and _proxy_flag(args[2][1]):
                _url(editor, *args[1])
            elif len(args) >= 2:
                editor.note_if_mentioned(args[1][0], args[1][1], "is not a [P] proxy rule")
            continue
        for word_at, raw in args:
            scheme = raw.strip("\"'").split("://", 1)[0].lower()
            if scheme in _SCHEMES:
                _url(editor, word_at, raw)
                break
            if raw.lower().startswith("unix:"):
                editor.note_if_mentioned(word_at, raw, "is a unix socket")
                break


def includes(text: str) -> list[tuple[int, str, str]]:
    """``(offset, path token, directive)`` of every ``Include`` and ``IncludeOptional``."""
    found: list[tuple[int, str, str]] = []
    for at, line in _logical(text):
        if line.lstrip()[:7].lower() != "include":
            continue
        words = list(_WORD.finditer(line))
        head = words[0].group()
        if head.lower() in ("include", "includeoptional") and len(words) > 1:
            found.append((at + words[1].start(), words[1].group(), head))
    return found


def _proxy_flag(raw: str) -> bool:
    flags = raw.strip("\"'").strip("[]").split(",")
    return any(f.split("=", 1)[0].strip().lower() in ("p", "proxy") for f in flags)


def _url(editor: Editor, at: int, raw: str) -> None:
    editor.target(at, raw, schemes=_SCHEMES, bare=False, bare_default=None, portless_is_name=False)
