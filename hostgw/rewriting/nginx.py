"""Rewrite the targets of nginx's proxy directives (pure).

Touched: the first argument of ``proxy_pass``, ``grpc_pass``,
``fastcgi_pass``, ``uwsgi_pass``, ``scgi_pass`` and ``memcached_pass``, and of
``server`` inside ``upstream`` (http and stream). Parameters stay. Directive
names are read as nginx reads them, so a quoted ``"proxy_pass"`` counts.

Default ports, used to match a target written without one: ``http://`` and
``grpc://`` 80, ``https://`` and ``grpcs://`` 443, an http ``upstream``
server 80. A target with no scheme and no port (``fastcgi_pass php;``,
stream ``proxy_pass app;``) is how nginx names an ``upstream`` block, so it
is never rewritten; neither is ``proxy_pass http://app;`` when this config
has ``upstream app``. ``unix:`` targets and targets with ``$variables`` are
left alone, with a warning when they mention a mapped host.
"""

from __future__ import annotations

import re
from functools import lru_cache

from hostgw.rewriting.engine import Editor, no_cycles
from hostgw.rewriting.nginx_lex import (
    Found,
    Skip,
    Token,
    arguments,
    batches,
    skip,
    statements,
    unquote,
)

_HTTP = {"http": 80, "https": 443}
_GRPC = {"grpc": 80, "grpcs": 443}
_UWSGI: dict[str, int | None] = {"uwsgi": None, "suwsgi": None}
_NONE: dict[str, int | None] = {}
# directive -> schemes it accepts (with default ports)
_PASS: dict[str, dict[str, int | None]] = {
    "proxy_pass": dict(_HTTP),
    "grpc_pass": dict(_GRPC),
    "fastcgi_pass": _NONE,
    "uwsgi_pass": _UWSGI,
    "scgi_pass": _NONE,
    "memcached_pass": _NONE,
}
# Blocks whose every entry may hide a target (warned about, never rewritten).
_VALUES = frozenset(("map", "geo", "split_clients"))
# Blocks whose entries are no directives: an entry named proxy_pass is a key or a type.
_ENTRIES = _VALUES | {"types"}
_PLAIN_FIRST = re.compile(r"[ \t\r\n]*([^ \t\r\n;{}\"'\\#]+)(?:[ \t\r\n]|\Z)")
_NOT_PLAIN = re.compile(r"[{}\"'\\#]")
_WORDS = re.compile(r"[^ \t\r\n]+")


class Scan:
    """What a pass over one file found: upstream names and includes."""

    def __init__(self) -> None:
        self.upstreams: set[str] = set()
        self.includes: list[Token] = []
        self.top_level: set[str] = set()


def scan(text: str, *, path: str | None = None) -> Scan:
    """Upstream block names, ``include`` arguments and top-level directives."""
    found = Scan()
    depth = 0
    for st in statements(text, path=path):
        if st.end == "}":
            depth -= 1
            continue
        name = st.directive
        if depth == 0:
            found.top_level.add(name)
        if st.end == "{":
            depth += 1
            if name == "upstream" and st.args:
                found.upstreams.add(st.args[0].value.lower())
        elif name == "include" and st.args:
            found.includes.append(st.args[0])
    return found


@lru_cache(maxsize=16)
def _runs(hosts: frozenset[str] | None) -> Skip:
    """The skipping runs for a rewrite of ``hosts`` (None: every literal target's span)."""
    if hosts is None:
        return skip(names=(*_PASS, "server"))
    return skip(hosts)


def rewrite(editor: Editor, *, path: str | None = None) -> None:
    """Record in ``editor`` the edits for every matching target.

    The whole file is read first, so a ``proxy_pass http://app`` that comes
    before ``upstream app`` is known to name that block.
    """
    with no_cycles():
        _rewrite(editor, path)


def _rewrite(editor: Editor, path: str | None) -> None:
    targets, values, names = _read(editor, path)
    # An http target names the http upstreams, a stream one the stream ones (and either
    # those of other files, whose context is not known here).
    known = {stream: editor.names | found for stream, found in names.items()}
    target = editor.target
    for st in targets:
        first = _first(st.args, st.args_start)
        if first is None:
            continue
        schemes, upstreams = _PASS.get(st.name), known[st.stream]
        if schemes is None:  # a server of an upstream
            target(
                *first,
                schemes=_NONE,
                bare=True,
                bare_default=None if st.stream else 80,
                names=upstreams,
            )
        else:
            target(*first, schemes=schemes, bare=True, portless_is_name=True, names=upstreams)
    warned: dict[tuple[str, str], list[tuple[int, str]]] = {}  # per statement text
    for st in values:
        key = (st.name, st.args)
        found = warned.get(key)
        if found is None:
            found = warned[key] = _mentions(editor, st)
        for offset, message in found:
            editor.note(st.start + offset, message)


def _read(
    editor: Editor, path: str | None
) -> tuple[list[Found], list[Found], dict[bool, set[str]]]:
    """The target statements, the values that may hide one, and the upstream names
    (those in stream, and those not)."""
    runs = _runs(None if editor.collect else frozenset(editor.mappings.hosts))
    targets: list[Found] = []
    values: list[Found] = []
    names: dict[bool, set[str]] = {False: set(), True: set()}
    # st: (start, name, args start, args, end, block, in stream)
    for found in batches(editor.text, path=path, runs=runs):
        for st in found:
            name, end, block = st[1], st[4], st[5]
            if end == ";":
                if (name in _PASS and block not in _ENTRIES) or (
                    name == "server" and block == "upstream"
                ):
                    targets.append(st)
                if name == "set" or block in _VALUES:
                    values.append(st)
            elif end == "{" and name == "upstream":
                first = arguments(st[3], 0)
                if first:
                    names[st[6]].add(first[0].value.lower())
    return targets, values, names


def _first(args: str, base: int) -> tuple[int, str] | None:
    """Offset and text of the first argument (a plain word read directly)."""
    m = _PLAIN_FIRST.match(args)
    if m is not None:
        return base + m.start(1), m.group(1)
    found = arguments(args, base)
    return (found[0].start, found[0].raw) if found else None


def _tokens(args: str, base: int) -> list[tuple[int, str]]:
    """Offset and text of each argument (plain words split directly)."""
    if _NOT_PLAIN.search(args) is None:
        return [(base + m.start(), m.group()) for m in _WORDS.finditer(args)]
    return [(t.start, t.raw) for t in arguments(args, base)]


def _mentions(editor: Editor, st: Found) -> list[tuple[int, str]]:
    """Warnings for the tokens of a statement that name a mapped host, at offsets from its name."""
    start, args_start, args = st.start, st.args_start, st.args
    raw = editor.text[start:args_start]
    if not (editor.mentions(args) or editor.mentions(raw)):
        return []
    return [
        (
            offset,
            f"not rewritten: {token!r} in {unquote(raw)!r} (hostgw rewrites only literal proxy "
            "targets, not values used through variables)",
        )
        for offset, token in ((0, raw), *_tokens(args, args_start - start))
        if editor.mentions(token)
    ]
