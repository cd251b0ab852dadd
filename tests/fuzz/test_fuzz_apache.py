"""Fuzz target: hostgw's Apache lines against httpd's way of reading them.

httpd 2.4 (``ap_cfg_getline_core``, server/util.c) reads a physical line up
to LF; when it ends in a backslash, then CR or not, the backslash (and CR,
and LF) go and the next line is read onto it. :func:`httpd_lines` does that
and keeps where each logical line starts; hostgw's must start there too,
and a rewrite must raise nothing but its own errors, change nothing twice,
and change only the directives' URLs.
"""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from hostgw.errors import HostgwError
from hostgw.rewriting import apache, rewrite


def httpd_lines(text: str) -> list[int]:
    """Where each logical line starts, as httpd joins continued lines."""
    starts: list[int] = []
    pos = 0
    joining = False
    while pos < len(text):
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end + 1
        physical = text[pos:end]
        if not joining:
            starts.append(pos)
        body = physical[:-1] if physical.endswith("\n") else None
        if body is not None and body.endswith("\r"):
            body = body[:-1]
        joining = body is not None and body.endswith("\\")
        pos = end
    return starts


ALPHABET = st.sampled_from(
    [
        *" \t\n\"'\\#<>a",
        "\r\n",
        "\\\n",
        "\\\r\n",
        "\\\\\n",
        "ProxyPass",
        "ProxyPassReverse",
        "BalancerMember",
        "RewriteRule",
        " /a ",
        " http://backend:8000/",
        " [P]",
        "<VirtualHost *:80>",
        "</VirtualHost>",
    ]
)
TEXTS = st.lists(ALPHABET, max_size=40).map("".join)


@settings(max_examples=1500, deadline=None)
@given(TEXTS)
def test_logical_lines_are_httpds(text: str) -> None:
    assert [at for at, _ in apache._logical(text)] == httpd_lines(text)
    assert "".join(line for _, line in apache._logical(text)) == text


@settings(max_examples=1000, deadline=None)
@given(TEXTS)
def test_rewrite_changes_only_urls_and_is_idempotent(text: str) -> None:
    maps = ["backend:8000=18000", "a=17000"]
    with contextlib.suppress(HostgwError):
        result = rewrite(text, maps, format="apache", gateway="10.0.0.1")
        assert rewrite(result.text, maps, format="apache", gateway="10.0.0.1").text == result.text
        for change in result.changes:
            assert "://" in change.old and "://" in change.new
