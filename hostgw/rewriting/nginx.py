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

from collections.abc import Iterable
from dataclasses import dataclass, field

from hostgw.rewriting.engine import Editor
from hostgw.rewriting.nginx_lex import Statement, Token, arguments, raw_statements, statements

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


@dataclass
class Scan:
    """What a pass over one file found: upstream names and includes."""

    upstreams: set[str] = field(default_factory=set)
    includes: list[Token] = field(default_factory=list)
    top_level: set[str] = field(default_factory=set)


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


def rewrite(editor: Editor, *, path: str | None = None) -> None:
    """Record in ``editor`` the edits for every matching target.

    One pass: upstream names are collected as they come, so targets are
    decided at the end, when every ``upstream`` of the file is known.
    """
    stack: list[str] = []
    found: list[tuple[Token, dict[str, int | None] | None, bool]] = []
    mentions = editor.mentions
    for start, name, args_start, args, end in raw_statements(editor.text, path=path):
        if end == "}":
            if stack:
                stack.pop()
            continue
        if end == "{":
            stack.append(name)  # a Lua block too: the lexer yields its "}"
            if name == "upstream":
                first = arguments(args, args_start)
                if first:
                    editor.names = editor.names | {first[0].value.lower()}
            continue
        if (name in _WATCHED or (stack and stack[-1] in _WATCHED_BLOCKS)) and mentions(args):
            _directive(
                editor,
                Statement(Token(start, name), arguments(args, args_start), end),
                stack,
                found,
            )
    for tok, schemes, stream in found:
        if schemes is None:
            _server(editor, tok, stream=stream)
        else:
            _target(editor, tok, schemes)


def _directive(
    editor: Editor,
    st: Statement,
    stack: list[str],
    found: list[tuple[Token, dict[str, int | None] | None, bool]],
) -> None:
    """File a target of ``st`` (which mentions a mapped host) or warn about it."""
    name = st.name.raw
    schemes = _PASS.get(name)
    if schemes is not None and st.args:
        found.append((st.args[0], schemes, False))
    elif name == "server" and stack and stack[-1] == "upstream" and st.args:
        found.append((st.args[0], None, "stream" in stack))
    elif name == "set" or (stack and stack[-1] in ("map", "geo", "split_clients")):
        _mentions(editor, st)


def _target(editor: Editor, tok: Token, schemes: dict[str, int | None]) -> None:
    editor.target(
        tok.start, tok.raw, schemes=schemes, bare=True, bare_default=None, portless_is_name=True
    )


def _server(editor: Editor, tok: Token, *, stream: bool) -> None:
    editor.target(
        tok.start,
        tok.raw,
        schemes=_NONE,
        bare=True,
        bare_default=None if stream else 80,
        portless_is_name=False,
    )


def _mentions(editor: Editor, st: Statement) -> None:
    for tok in _all(st):
        if editor.mentions(tok.raw):
            editor.note(
                tok.start,
                f"not rewritten: {tok.raw!r} in {st.directive!r} "
                "(hostgw rewrites only literal proxy targets, not values used "
                "through variables)",
            )


def _all(st: Statement) -> Iterable[Token]:
    yield st.name
    yield from st.args
