"""Properties of the rewrite: idempotent, byte-exact outside targets, total lexers."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostgw import rewrite
from hostgw.errors import HostgwError, RewriteError
from hostgw.rewriting import FORMATS, nginx, parse_mappings
from hostgw.rewriting.engine import Editor
from hostgw.rewriting.nginx_lex import statements
from tests.property.rewrite_strategies import nginx_config, tricky_nginx

MAP = ["backend:8000=18000", "backend=17000", "api:443=[fd00::1]:1443"]
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(nginx_config(), st.sampled_from(["172.17.0.1", "fd5e::1"]))
def test_rewrite_is_idempotent(text: str, gw: str) -> None:
    once = rewrite(text, MAP, format="nginx", gateway=gw).text
    assert rewrite(once, MAP, format="nginx", gateway=gw).text == once


@SETTINGS
@given(nginx_config())
def test_only_target_tokens_change(text: str) -> None:
    result = rewrite(text, MAP, format="nginx", gateway="172.17.0.1")
    # Put every change back: the original must come out, byte for byte.
    out = result.text
    for change in reversed(result.changes):
        at = out.rfind(change.new)
        assert at >= 0
        out = out[:at] + change.old + out[at + len(change.new) :]
    assert out == text
    # and nothing in comments or Lua changed
    assert [ln for ln in text.splitlines() if ln.lstrip().startswith("#")] == [
        ln for ln in result.text.splitlines() if ln.lstrip().startswith("#")
    ]


@SETTINGS
@given(nginx_config())
def test_changes_match_the_diff(text: str) -> None:
    result = rewrite(text, MAP, format="nginx", gateway="172.17.0.1")
    assert result.changed == (result.text != text)
    for c in result.changes:
        if "backend" in c.old.lower():
            assert "172.17.0.1:1" in c.new
        else:
            assert "api" in c.old and "[fd00::1]:1443" in c.new


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                *" \t\n\r;{}#\"'\\$abc:/_",
                "content_by_lua_block",
                "proxy_pass",
                "backend:8000",
                "upstream",
                "server",
                "--[[",
                "]]",
                "<<EOF\n",
                "`",
            ]
        ),
        max_size=40,
    ).map("".join)
    | st.text(max_size=60)
)
def test_lexers_raise_only_our_errors(text: str) -> None:
    with contextlib.suppress(HostgwError):
        list(statements(text))
    for fmt in FORMATS:
        with contextlib.suppress(HostgwError):
            rewrite(text, ["backend=1"], format=fmt, gateway="10.0.0.1")


# -- The fast nginx walk against the exact one ---------------------------------
TRICKY = st.lists(
    st.sampled_from(
        [
            *" \t\n;{}#\"'\\$a)",
            "\r\n",
            "${",
            "a}",
            "# c {\n",
            "# backend:8000\n",
            '"a;b"',
            "'{'",
            "x;",
            "y {",
            "proxy_pass",
            " http://backend:8000",
            "backend",
            "backend2",
            "set",
            "server",
            "upstream",
            "map",
            "stream",
            "content_by_lua_block",
            "u {",
        ]
    ),
    max_size=40,
).map("".join)


def _fast_and_exact(text: str, *, collect: bool) -> None:
    editor = Editor(text, parse_mappings(MAP), lambda: "10.0.0.1", collect=collect)
    try:
        exact: object = nginx.find_exact(text, editor.mentions)
    except RewriteError as exc:
        exact = exc
    walk = nginx._Walk(text, editor.mentions, None)
    try:
        done = walk.fast(nginx._cuts(editor))
    except RewriteError:
        done = False
    if isinstance(exact, RewriteError):
        assert not done, "the fast walk accepted text the exact reader rejects"
        with pytest.raises(RewriteError) as info:  # and find() reports the exact error
            nginx.find(text, editor.mentions, nginx._cuts(editor))
        assert str(info.value) == str(exact)
    else:
        assert done, "the fast walk gave up on text the exact reader accepts"
        assert (walk.items, walk.names) == exact


@settings(max_examples=1500, deadline=None)
@given(TRICKY | nginx_config() | tricky_nginx(), st.booleans())
def test_fast_walk_agrees_with_exact_reader(text: str, collect: bool) -> None:
    _fast_and_exact(text, collect=collect)


@settings(max_examples=1000, deadline=None)
@given(tricky_nginx(), st.integers(0, 10**6), st.sampled_from(["", ";", "{", "}", '"', "\\"]))
def test_fast_walk_agrees_on_damaged_text(text: str, at: int, junk: str) -> None:
    at %= len(text) + 1
    _fast_and_exact(text[:at] + junk + text[at + 1 :], collect=False)
