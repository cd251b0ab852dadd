"""Bounded time for rewriting: each hostile config shape, at n and 10n, takes about 10x as long.

The shapes that were quadratic or worse (issue 9 items 6 and 7): format
sniffing (an 84-byte input ran for over 10 minutes, 3,000 blank lines took
40 s), an Apache line ending in a backslash, and nginx Lua long brackets
(``[[`` repeated: 200 kB ran for over 60 s). The assertion is a ratio of the
best of three runs, not a wall time: linear growth gives 10, quadratic 100;
anything under 40 passes (an input of megabytes no longer fits the CPU's
caches, which alone can make each byte up to three times as slow). A shape
that is an error must be an error as fast.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import pytest

from hostgw.errors import RewriteError
from hostgw.rewriting import rewrite
from hostgw.rewriting.sniff import sniff

MAP = ["backend:8000=18000"]


def _best(run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        with contextlib.suppress(RewriteError):
            run()
        best = min(best, time.perf_counter() - start)
    return best


def _grows_linearly(make: Callable[[int], Callable[[], object]], cap: int = 10**7) -> None:
    n = 200
    while _best(make(n)) < 0.005 and 10 * n < cap:  # big enough to time
        n *= 2
    small, large = _best(make(n)), _best(make(10 * n))
    assert large / small < 40, f"n={n}: {small:.5f}s, 10n: {large:.5f}s"


REWRITES: list[tuple[str, str, Callable[[int], str]]] = [
    (
        "apache-trailing-backslash",
        "apache",
        lambda n: "ProxyPass / http://backend:8000/ " + "x " * n + "\\",
    ),
    ("apache-continued-lines", "apache", lambda n: "Define X \\\n" * n),
    ("nginx-unclosed-long-brackets", "nginx", lambda n: "a_by_lua_block { " + "[[" * n + " }\n"),
    ("nginx-long-brackets", "nginx", lambda n: "a_by_lua_block { " + "[[ { ]] " * n + "}\n"),
    ("nginx-long-comments", "nginx", lambda n: "a_by_lua_block {\n" + "--[=[ } ]=]\n" * n + "}\n"),
    ("caddy-continued-words", "caddy", lambda n: "x {\n reverse_proxy a:1 " + "\\ " * n + "\n}\n"),
    ("haproxy-long-word", "haproxy", lambda n: "backend b\n server s " + "a" * n + "\n"),
    # Blocks the reader keeps a stack of, nested (nginx refuses it; the reader reads on).
    ("nginx-nested-maps", "nginx", lambda n: "map $a $b {\n" * n + "x backend;\n" + "}\n" * n),
    ("nginx-nested-upstreams", "nginx", lambda n: "upstream u {\n" * n + "x;\n" + "}\n" * n),
]


@pytest.mark.parametrize(("fmt", "make"), [r[1:] for r in REWRITES], ids=[r[0] for r in REWRITES])
def test_rewriting_grows_linearly(fmt: str, make: Callable[[int], str]) -> None:
    _grows_linearly(
        lambda n: lambda: rewrite(make(n), MAP, format=fmt, gateway="10.213.0.1", path="x")
    )


# Sniffing reads at most 64 KiB: 10n stays below that.
SNIFFS: list[tuple[str, Callable[[int], str]]] = [
    ("blank-lines", lambda n: "\n" * n),
    ("blanks", lambda n: " " * n),
    ("commas-then-brace", lambda n: "a," * n + " {"),
    ("site-address-list", lambda n: "a, " * n + "x"),
    ("word-then-blanks", lambda n: "listen" + " " * n),
    ("location-words", lambda n: "location " + "a " * n),
    ("section-and-hashes", lambda n: "backend " + "x#" * n),
    ("blank-lines-between-words", lambda n: "server\n\n" * n + "{"),
]


@pytest.mark.parametrize("make", [s[1] for s in SNIFFS], ids=[s[0] for s in SNIFFS])
def test_sniffing_grows_linearly(make: Callable[[int], str]) -> None:
    _grows_linearly(lambda n: lambda: sniff(make(n), None), cap=60000)


def test_an_unclosed_long_bracket_is_an_error_where_it_opens() -> None:
    # nginx -t: "Lua code block missing the closing long bracket".
    with pytest.raises(RewriteError, match=r"x:2:7: unclosed long bracket in Lua block"):
        rewrite("a_by_lua_block {\n  s = [==[ } ]=]\n}\n", MAP, format="nginx", path="x")
    text = "a_by_lua_block {\n  s = [==[ } ]==] --[[ } ]]\n}\nproxy_pass http://backend:8000;\n"
    out = rewrite(text, MAP, format="nginx", gateway="10.213.0.1", path="x")
    assert out.text.endswith("proxy_pass http://10.213.0.1:18000;\n")
