"""Fuzz target: hostgw's nginx reader against a port of nginx's own.

:func:`~tests.nginx_reader.nginx_tokens` follows ``ngx_conf_read_token`` and
``ngx_conf_parse`` character by character (see tests/nginx_reader.py). Lua
blocks are another lexer and stay out of the alphabet. Whatever text
hypothesis makes, hostgw must read the statements nginx reads, refuse what
nginx refuses, and then give the same answer with the runs of statements it
skips as without.
"""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hostgw.errors import HostgwError, RewriteError
from hostgw.rewriting import rewrite
from hostgw.rewriting.nginx_lex import Skip, skip, statements, walk
from tests.nginx_reader import Refused, nginx_tokens

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
