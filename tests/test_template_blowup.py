"""Bounded time: each hostile template shape, at n and 10n bytes, takes about 10x as long.

The shapes that were quadratic or worse (issue 9 item 7): repeated
``${A:-x\\`` (98 kB took over 120 s), repeated unclosed ``${A:-`` (500 kB:
65 s), 100k problems on one line (14 s), unclosed ``${`` before a refused
value in nginx (2 MB: 16 s); and the paths a hostile value takes (a refused
value at every reference, on one line, judged by its context). The
assertion is a ratio of the best of three runs, not a wall time: linear
growth gives 10, quadratic 100; anything under 25 passes.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from hostgw.errors import TemplateError
from hostgw.templates.expand import MAX_PROBLEMS, expand_bytes

_ENV = {"A": "x", "BAD": "a;b", "OK": "v", "SUS": "a b"}

SHAPES: list[tuple[str, Callable[[int], bytes], dict[str, object]]] = [
    ("repeated-unclosed-backslash", lambda n: b"${A:-x\\" * n, {}),
    ("repeated-unclosed", lambda n: b"${A:-" * n, {}),
    ("problems-on-one-line", lambda n: b"${U:?} " * n, {}),
    ("unsupported-on-one-line", lambda n: b"${#A}" * n, {}),
    ("refused-values-on-one-line", lambda n: b"x $BAD " * n, {"format": "nginx"}),
    ("refused-values-in-quotes", lambda n: b'"$BAD" $BAD ' * n, {"format": "haproxy"}),
    ("nested-defaults", lambda n: b"${U:-${U:-${U:-$OK}}} " * n, {}),
    # Suspect values that are accepted: the output is read again to judge each.
    ("suspect-values-accepted", lambda n: b'"$SUS" ' * n, {"format": "haproxy"}),
    ("suspect-values-in-defaults", lambda n: b'"${U:-x$SUS}" ' * n, {"format": "haproxy"}),
    (
        "suspect-values-escaped",
        lambda n: b'\\$A "$SUS" ' * n,
        {"format": "haproxy", "escape": True},
    ),
    ("strict-braced", lambda n: b"${UNSET_NAME} ${host} " * n, {"strict": True}),
    ("multiline-defaults", lambda n: b"${U:-a;\nb} " * n, {"notes": []}),
    # nginx's lexer, reading up to a refused value: '${' unclosed, '}' inside words.
    # (25n: below ~50k of them memchr hides the quadratic scan the lexer made here.)
    ("nginx-unclosed-dollar-braces", lambda n: b"${" * 25 * n + b" $BAD", {"format": "nginx"}),
    ("nginx-braces-in-words", lambda n: b"a}${{b}" * n + b" $BAD", {"format": "nginx"}),
    # A Lua block's quotes that close on no line: each is code, found so once per line.
    (
        "nginx-lua-open-quotes",
        lambda n: b'x_by_lua_block { "' + b'\\"' * n + b" $OK }",
        {"format": "nginx"},
    ),
    (
        "nginx-lua-long-brackets",
        lambda n: b"x_by_lua_block { " + b"[[ ]] " * n + b"$OK }",
        {"format": "nginx"},
    ),
]


def _best(data: bytes, kwargs: dict[str, object]) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        try:
            expand_bytes(data, _ENV, **kwargs)  # type: ignore[arg-type]
        except TemplateError as exc:
            assert len(exc.problems) <= MAX_PROBLEMS
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.parametrize(
    ("shape", "kwargs"), [(s[1], s[2]) for s in SHAPES], ids=[s[0] for s in SHAPES]
)
def test_ten_times_the_input_takes_about_ten_times_as_long(
    shape: Callable[[int], bytes], kwargs: dict[str, object]
) -> None:
    n = 2000
    while _best(shape(n), kwargs) < 0.05 and n < 10**6:  # big enough to time (noise: ms)
        n *= 2
    small, large = _best(shape(n), kwargs), _best(shape(10 * n), kwargs)
    assert large / small < 25, f"n={n}: {small:.4f}s, 10n: {large:.4f}s"


def test_problems_past_the_cap_are_counted_not_listed() -> None:
    with pytest.raises(TemplateError) as caught:
        expand_bytes(b"${U:?} " * 1000, {})
    assert len(caught.value.problems) == MAX_PROBLEMS
    assert f"and {1000 - 50} more" in caught.value.message
    assert "(1000 problems;" in caught.value.message
