"""Properties of the rewrite: idempotent, byte-exact outside targets, total lexers."""

from __future__ import annotations

import contextlib
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostgw import rewrite
from hostgw.errors import HostgwError, RewriteError
from hostgw.rewriting import FORMATS, nginx
from hostgw.rewriting.engine import mention_pattern
from hostgw.rewriting.nginx_lex import BLOCKS, Found, Skip, skip, statements, walk
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


# -- The nginx reader: skipping runs of statements changes nothing ------------
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
            '"proxy_pass"',
            "backend",
            "BACKEND",
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
HOSTS = st.sampled_from([("backend",), ("backend", "api"), ("b",), ("127.0.0.1",), ()])


def _read(text: str, runs: Skip | None) -> list[Found] | str:
    """The statements :func:`walk` yields, or the error it raises."""
    try:
        return list(walk(text, runs=runs))
    except RewriteError as exc:
        return str(exc)


def _skip_agrees_with_exact(text: str, hosts: tuple[str, ...], names: tuple[str, ...]) -> None:
    exact = _read(text, None)
    skipped = _read(text, skip(hosts, names))
    if isinstance(exact, str):
        assert skipped == exact, "the runs hid or moved a syntax error"
        return
    assert not isinstance(skipped, str), f"the runs saw an error nginx does not: {skipped}"
    assert set(skipped) <= set(exact), "the runs read a statement the exact reader does not"
    mention = re.compile(mention_pattern(hosts)) if hosts else None
    for found in exact:
        start, name, args_start, args, end = found[:5]
        raw = text[start:args_start]
        must = (
            (name in BLOCKS and end == "{")
            or name in names
            or (mention is not None and (mention.search(args) or mention.search(raw)))
        )
        if must and end != "}":
            assert found in skipped, f"the runs skipped {raw}{args}{end}"


@settings(max_examples=1500, deadline=None)
@given(TRICKY | nginx_config() | tricky_nginx(), HOSTS, st.sampled_from([(), ("proxy_pass",)]))
def test_skipping_runs_agrees_with_reading_every_statement(
    text: str, hosts: tuple[str, ...], names: tuple[str, ...]
) -> None:
    _skip_agrees_with_exact(text, hosts, names)


@settings(max_examples=1000, deadline=None)
@given(tricky_nginx(), st.integers(0, 10**6), st.sampled_from(["", ";", "{", "}", '"', "\\"]))
def test_skipping_runs_agrees_on_damaged_text(text: str, at: int, junk: str) -> None:
    at %= len(text) + 1
    _skip_agrees_with_exact(text[:at] + junk + text[at + 1 :], ("backend",), ())


@settings(max_examples=300, deadline=None)
@given(st.lists(tricky_nginx(), min_size=1, max_size=40).map("\n".join), HOSTS)
def test_skipping_runs_agrees_across_windows(text: str, hosts: tuple[str, ...]) -> None:
    # long texts cross the bulk read's window ends
    _skip_agrees_with_exact(text * (1 + 9000 // (len(text) + 1)), hosts, ())


@SETTINGS
@given(nginx_config() | tricky_nginx())
def test_rewrite_is_the_same_with_and_without_skipping(text: str) -> None:
    def result() -> object:
        try:
            out = rewrite(text, MAP, format="nginx", gateway="10.0.0.1")
        except RewriteError as exc:
            return str(exc)
        return out.text, out.changes, out.notes

    fast = result()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(nginx, "_runs", lambda hosts: None)
        assert result() == fast
