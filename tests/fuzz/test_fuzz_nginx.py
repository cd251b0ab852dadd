"""Fuzz target: hostgw's nginx reader against a port of nginx's own.

:func:`nginx_tokens` follows ``ngx_conf_read_token`` and ``ngx_conf_parse``
(nginx 1.22, src/core/ngx_conf_file.c) character by character: the same
states (``last_space``, ``need_space``, ``quoted``, ``d_quoted``,
``s_quoted``, ``variable``, ``sharp_comment``), the same errors, and the
same copying of a word (``\\"`` ``\\'`` ``\\\\`` lose the backslash, ``\\t``
``\\r`` ``\\n`` become control characters). Lua blocks are another lexer and
stay out of the alphabet. Whatever text hypothesis makes, hostgw must read
the statements nginx reads, refuse what nginx refuses, and then give the
same answer with the runs of statements it skips as without.
"""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hostgw.errors import HostgwError, RewriteError
from hostgw.rewriting import rewrite
from hostgw.rewriting.nginx_lex import Skip, skip, statements, walk

_SPACE = " \t\r\n"
_COPY = {'"': '"', "'": "'", "\\": "\\", "t": "\t", "r": "\r", "n": "\n"}


class Refused(Exception):
    """nginx would stop reading here."""


def _word(raw: str) -> str:
    out, i = [], 0
    while i < len(raw):
        if raw[i] == "\\" and i + 1 < len(raw) and raw[i + 1] in _COPY:
            out.append(_COPY[raw[i + 1]])
            i += 2
        else:
            out.append(raw[i])
            i += 1
    return "".join(out)


def _read_token(text: str, pos: int) -> tuple[int, list[str], str]:
    """One ``ngx_conf_read_token``: the new offset, the words, and ``;`` ``{`` ``}`` or EOF."""
    args: list[str] = []
    need_space = sharp_comment = variable = quoted = s_quoted = d_quoted = False
    last_space = True
    start = pos
    while True:
        if pos >= len(text):
            if args or not last_space:
                raise Refused("unexpected end of file")
            return pos, args, "eof"
        ch = text[pos]
        pos += 1
        if ch == "\n" and sharp_comment:
            sharp_comment = False
        if sharp_comment:
            continue
        if quoted:
            quoted = False
            continue
        if need_space:
            if ch in _SPACE:
                last_space, need_space = True, False
                continue
            if ch in ";{":
                return pos, args, ch
            if ch == ")":
                last_space, need_space = True, False
            else:
                raise Refused(f"unexpected {ch!r}")
        if last_space:
            start = pos - 1
            if ch in _SPACE:
                continue
            if ch in ";{":
                if not args:
                    raise Refused(f"unexpected {ch!r}")
                return pos, args, ch
            if ch == "}":
                if args:
                    raise Refused("unexpected }")
                return pos, args, "}"
            if ch == "#":
                sharp_comment = True
                continue
            last_space = False
            if ch == "\\":
                quoted = True
            elif ch == '"':
                start, d_quoted = start + 1, True
            elif ch == "'":
                start, s_quoted = start + 1, True
            elif ch == "$":
                variable = True
            continue
        if ch == "{" and variable:
            continue
        variable = False
        if ch == "\\":
            quoted = True
            continue
        if ch == "$":
            variable = True
            continue
        found = False
        if d_quoted:
            if ch == '"':
                d_quoted, need_space, found = False, True, True
        elif s_quoted:
            if ch == "'":
                s_quoted, need_space, found = False, True, True
        elif ch in _SPACE or ch in ";{":
            last_space = found = True
        if found:
            args.append(_word(text[start : pos - 1]))
            if ch in ";{":
                return pos, args, ch


def nginx_tokens(text: str) -> list[tuple[str, list[str], str]]:
    """``(name, args, end)`` per statement, as ``ngx_conf_parse`` meets them; :class:`Refused`."""
    found: list[tuple[str, list[str], str]] = []
    pos = depth = 0
    while True:
        pos, words, end = _read_token(text, pos)
        if end == "eof":
            if depth:
                raise Refused('unexpected end of file, expecting "}"')
            return found
        if end == "}":
            if not depth:
                raise Refused("unexpected }")
            depth -= 1
            found.append(("}", [], "}"))
            continue
        depth += end == "{"
        found.append((words[0], words[1:], end))


ALPHABET = st.sampled_from(
    [
        *" \t\r\n;{}#\"'\\$)a",
        "${",
        "$a",
        "a}",
        "b#c",
        "x;",
        "y {",
        "}",
        "# c ; { }\n",
        '"q ; { } # x"',
        "'q \\' {'",
        '\\"',
        "\\ ",
        "\\;",
        "\\{",
        "\\n",
        "proxy_pass",
        '"proxy_pass"',
        " http://backend:8000/",
        "backend",
        "set",
        "upstream",
        "server",
        "stream",
        "map",
    ]
)
TEXTS = st.lists(ALPHABET, max_size=50).map("".join) | st.text(
    alphabet=st.characters(codec="ascii"), max_size=80
)


@settings(max_examples=3000, deadline=None)
@given(TEXTS)
def test_statements_are_nginx_statements(text: str) -> None:
    try:
        expected: object = nginx_tokens(text)
    except Refused:
        expected = Refused
    try:
        got: object = [(s.directive, [a.value for a in s.args], s.end) for s in statements(text)]
    except RewriteError:
        got = Refused
    assert got == expected


@settings(max_examples=1500, deadline=None)
@given(TEXTS, st.sampled_from([("backend",), ("b", "api"), ("proxy_pass",)]))
def test_skipping_runs_reads_what_every_statement_reads(text: str, hosts: tuple[str, ...]) -> None:
    def read(runs: Skip | None) -> list[tuple[object, ...]] | str:
        try:
            return [tuple(s) for s in walk(text, runs=runs)]
        except RewriteError as exc:
            return str(exc)

    exact, skipped = read(None), read(skip(hosts))
    if isinstance(exact, str):
        assert skipped == exact
    else:
        assert isinstance(skipped, list) and set(skipped) <= set(exact)


@settings(max_examples=1500, deadline=None)
@given(TEXTS)
def test_rewrite_raises_only_our_errors_and_is_idempotent(text: str) -> None:
    maps = ["backend:8000=18000", "backend=17000"]
    with contextlib.suppress(HostgwError):
        once = rewrite(text, maps, format="nginx", gateway="10.0.0.1").text
        assert rewrite(once, maps, format="nginx", gateway="10.0.0.1").text == once


@pytest.mark.parametrize(
    "text",
    [
        'a "b";',
        'a "b")c;',
        "a 'b\\' c';",
        "a b\\ c;",
        "a ${b}c;",
        "a $${b};",
        "a b#c;",
        "a b}c;",
        "a { b; }",
        "# x\na;",
        "a # x\n b;",
    ],
)
def test_the_port_reads_what_nginx_reads(text: str) -> None:
    # A few texts both readers accept, so the property above compares statements, not only errors.
    assert nginx_tokens(text) == [
        (s.directive, [a.value for a in s.args], s.end) for s in statements(text)
    ]
