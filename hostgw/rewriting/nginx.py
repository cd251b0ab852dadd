"""Rewrite the targets of nginx's proxy directives (pure).

Touched: the first argument of ``proxy_pass``, ``grpc_pass``,
``fastcgi_pass``, ``uwsgi_pass``, ``scgi_pass`` and ``memcached_pass``, and of
``server`` inside ``upstream`` (http and stream). Parameters stay.

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
from collections.abc import Callable
from itertools import accumulate

from hostgw.errors import RewriteError
from hostgw.rewriting.engine import Editor
from hostgw.rewriting.nginx_lex import (
    PLAIN_RUN,
    PLAIN_STATEMENT,
    SPECIAL_BLOCKS,
    Token,
    arguments,
    only_space,
    raw_statements,
    skip_lua,
    statement_at,
    statements,
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
# Statements worth a look: targets, and values that may hide one (warned about).
_WATCHED = frozenset((*_PASS, "set"))
_WATCHED_BLOCKS = frozenset(("upstream", "map", "geo", "split_clients"))
_SPECIAL = frozenset(SPECIAL_BLOCKS)
_NOT_BRACES = bytes(b for b in range(256) if b not in b"{}")
_STEP = {ord("{"): 1, ord("}"): -1}
_LUA_NAME = re.compile(r"_by_lua_block")
# Where a watched name may start (a superset: any "_pass", a "set" word).
_PLAIN_FIRST = re.compile(r"[ \t\r\n]*([^ \t\r\n;{}\"'\\#]+)(?:[ \t\r\n]|\Z)")
_NOT_PLAIN = re.compile(r"[{}\"'\\#]")
_WORDS = re.compile(r"[^ \t\r\n]+")
_WATCHED_NAME = re.compile(r"_pass|(?<![^ \t\r\n;{}])set(?=[ \t\r\n;{]|\Z)")


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


# (name offset, name, args offset, args text, innermost block if upstream, map,
# geo or split_clients, inside stream)
Item = tuple[int, str, int, str, "str | None", bool]


def rewrite(editor: Editor, *, path: str | None = None) -> None:
    """Record in ``editor`` the edits for every matching target.

    The whole file is read first, so a ``proxy_pass http://app`` that comes
    before ``upstream app`` is known to name that block.
    """
    items, upstreams = find(editor.text, editor.mentions, _cuts(editor), path=path)
    if upstreams:
        editor.names = editor.names | upstreams
    target = editor.target
    warned: dict[tuple[str, str], list[tuple[int, str]]] = {}  # per statement text
    for start, name, args_start, args, top, stream in items:
        schemes = _PASS.get(name)
        if schemes is not None or (name == "server" and top == "upstream"):
            first = _first(args, args_start)
            if first is not None:
                if schemes is None:  # a server of an upstream
                    target(*first, schemes=_NONE, bare=True, bare_default=None if stream else 80)
                else:
                    target(*first, schemes=schemes, bare=True, portless_is_name=True)
                continue
        if name == "set" or top in ("map", "geo", "split_clients"):
            found = warned.get((name, args))
            if found is None:
                found = warned[name, args] = _mentions(editor, name, args, args_start - start)
            for offset, message in found:
                editor.note(start + offset, message)


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


def find(
    text: str, mentions: Callable[[str], bool], cuts: list[int], *, path: str | None = None
) -> tuple[list[Item], set[str]]:
    """The statements a rewrite must look at, and the names of upstream blocks.

    A statement is looked at when it is a target directive (or ``set``, or
    inside ``upstream``, ``map``, ``geo``, ``split_clients``) and its
    arguments name a mapped host (``mentions``). ``cuts`` holds, in order,
    every offset where such a mention, or a ``*_by_lua_block``, may start.
    Runs of plain statements between cuts are skipped by one regular
    expression; what is left is read statement by statement, like
    :func:`find_exact` reads it all, which is also what broken text gets,
    so that its error names the right place.
    """
    walk = _Walk(text, mentions, path)
    try:
        done = walk.fast(cuts)
    except RewriteError:
        done = False
    if not done:
        return find_exact(text, mentions, path=path)
    return walk.items, walk.names


def find_exact(
    text: str, mentions: Callable[[str], bool], *, path: str | None = None
) -> tuple[list[Item], set[str]]:
    """:func:`find`, reading every statement (the reference; raises syntax errors)."""
    walk = _Walk(text, mentions, path)
    walk.exact(0, [], -1)
    return walk.items, walk.names


class _Walk:
    """One pass over a text: the statements found and the upstream names."""

    def __init__(self, text: str, mentions: Callable[[str], bool], path: str | None) -> None:
        self.text = text
        self.mentions = mentions
        self.path = path
        self.items: list[Item] = []
        self.names: set[str] = set()

    def fast(self, cuts: list[int]) -> bool:
        """Walk with plain runs skipped in C; False: leave the text to :meth:`exact`."""
        text = self.text
        size = len(text)
        cuts = [*cuts, size]
        count = text.count
        run = PLAIN_RUN.match
        one = PLAIN_STATEMENT.match
        mentions = self.mentions
        add = self.items.append
        ci = pos = depth = 0
        while True:
            cut = cuts[ci]
            while cut < pos:
                ci += 1
                cut = cuts[ci]
            end = run(text, pos, cut).end()  # type: ignore[union-attr]
            if end > pos:
                closes = count("}", pos, end)
                if closes > depth and _below_zero(text, pos, end, depth):
                    return False
                depth += count("{", pos, end) - closes
                pos = end
            if pos >= size:
                return not depth
            if text[pos] == "#":  # a comment with a brace or a cut in it: to its end
                pos = text.find("\n", pos)
                if pos < 0:
                    return not depth
                continue
            m = one(text, pos) or statement_at(text, pos)
            if m is None:
                return only_space(text, pos) and not depth
            if m.group("end") == ";":  # the common case, taken in here
                pos = m.end()
                name, args = m.group("name", "args")
                if name in _WATCHED and mentions(args):
                    add((m.start("name"), name, m.start("args"), args, None, False))
                continue
            pos, depth = self._statement(m, depth)
            if depth < 0:
                return False

    def _statement(self, m: re.Match[str], depth: int) -> tuple[int, int]:
        """Take in a statement read in :meth:`fast`: the offset after it, the new depth."""
        pos = m.end()
        name, args, end = m.group("name", "args", "end")
        if name is None:  # a close
            return pos, depth - 1
        if end == "{":
            if name.endswith("_by_lua_block"):
                return skip_lua(self.text, pos, self.path), depth
            if name in _SPECIAL:
                if name == "upstream":
                    self._upstream(args)
                return self.exact(pos, [name], 0), depth
            return pos, depth + 1
        if name in _WATCHED and self.mentions(args):
            self.items.append((m.start("name"), name, m.start("args"), args, None, False))
        return pos, depth

    def exact(self, pos: int, stack: list[str], stop: int) -> int:
        """Read statements from ``pos`` inside ``stack`` until it is ``stop`` deep again.

        Returns the offset after the close that got it there (or the text's end).
        """
        for start, name, args_start, args, end in raw_statements(
            self.text, path=self.path, pos=pos, depth=len(stack)
        ):
            if end == "}":
                if stack:
                    stack.pop()  # a Lua block's close too
                if len(stack) == stop:
                    return args_start
                continue
            if end == "{":
                stack.append(name)
                if name == "upstream":
                    self._upstream(args)
                continue
            top = stack[-1] if stack and stack[-1] in _WATCHED_BLOCKS else None
            if (top or name in _WATCHED) and self.mentions(args):
                self.items.append((start, name, args_start, args, top, "stream" in stack))
        return len(self.text)

    def _upstream(self, args: str) -> None:
        first = arguments(args, 0)
        if first:
            self.names.add(first[0].value.lower())


def _below_zero(text: str, pos: int, end: int, depth: int) -> bool:
    """Whether the braces in ``text[pos:end]`` close more blocks than are open.

    The braces, in order, are what is left of the bytes once every other
    byte is deleted (UTF-8 never hides a brace in a longer sequence); the
    running depth is then summed and its minimum taken, all in C.
    """
    braces = text[pos:end].encode("utf-8", "surrogatepass").translate(None, _NOT_BRACES)
    return min(accumulate(map(_STEP.__getitem__, braces), initial=depth)) < 0


def _cuts(editor: Editor) -> list[int]:
    """Offsets where a statement :func:`find` must read may be: mentions and Lua."""
    text = editor.text
    found = editor.mention_starts() if not editor.collect else _names_at(text)
    if "_by_lua_block" in text:
        lua = [m.start() for m in _LUA_NAME.finditer(text)]
        found = sorted((*found, *lua))
    return found


def _names_at(text: str) -> list[int]:
    """Every offset where a target directive's name (or ``set``) may start."""
    return [m.start() for m in _WATCHED_NAME.finditer(text)]


def _mentions(editor: Editor, name: str, args: str, gap: int) -> list[tuple[int, str]]:
    """Warnings for the tokens of a statement that name a mapped host, at offsets from its name.

    ``gap`` is the offset of ``args`` from the name.
    """
    directive = Token(0, name).value
    return [
        (
            offset,
            f"not rewritten: {raw!r} in {directive!r} (hostgw rewrites only literal proxy "
            "targets, not values used through variables)",
        )
        for offset, raw in ((0, name), *_tokens(args, gap))
        if editor.mentions(raw)
    ]
