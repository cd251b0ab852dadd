"""Fuzz target: hostgw's Caddyfile tokens against a port of Caddy's lexer.

:func:`caddy_tokens` follows ``lexer.next`` (caddyconfig/caddyfile/lexer.go,
Caddy 2.8) character by character: escapes, ``"`` and backquote strings,
comments, heredocs (a marker of letters, digits, ``-`` and ``_``; closed
where the marker next appears; its padding stripped from every line), and
the line count, which a newline escaped by a backslash, or one inside a
string or heredoc, does not end. A directive is the tokens of one line as
the Dispenser sees them: the next token is on a new line when
``prev.Line + prev.NumLineBreaks() < next.Line``. hostgw must split tokens
where Caddy does and group them into the same directives; where Caddy
refuses a text, hostgw may refuse it or read it leniently.
"""

from __future__ import annotations

import contextlib
import itertools
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from hostgw.errors import HostgwError, RewriteError
from hostgw.rewriting import rewrite
from hostgw.rewriting.caddy import tokens

_MARKER = re.compile(r"[A-Za-z0-9_-]+\Z")


class Refused(Exception):
    """Caddy's lexer returns an error here."""


def _heredoc(val: str, marker: str) -> str:
    """``finalizeHeredoc``: the body with the closing line's padding stripped."""
    last = val.rfind("\n")
    padding = val[last + 1 : len(val) - len(marker)]
    lines = val[: last + 1].split("\n")
    out = []
    for line in lines[:-1]:
        if not line.startswith(padding):
            raise Refused("mismatched whitespace in heredoc")
        out.append(line[len(padding) :].replace("\r", "") + "\n")
    return "".join(out)


def caddy_tokens(text: str) -> list[tuple[int, int, str, bool]]:
    """``(start offset, Line, Text, is heredoc)`` of every token, as Caddy's lexer makes them."""
    found: list[tuple[int, int, str, bool]] = []
    pos = 0
    line = 1
    skipped = 0
    while True:
        val: list[str] = []
        comment = quoted = bt_quoted = in_heredoc = heredoc_escaped = escaped = False
        marker = ""
        start = tok_line = 0
        escape_at = -1  # where an escape before the token is
        done = False
        while not done:
            if pos >= len(text):
                if val:
                    found.append((start, tok_line, "".join(val), False))
                if in_heredoc or quoted or bt_quoted:
                    # Caddy makes a token of what it read; hostgw refuses an open string
                    raise Refused("open string or heredoc at the end")
                return found
            ch = text[pos]
            pos += 1
            if not in_heredoc and not heredoc_escaped and "".join(val[:2]) == "<<":
                if quoted or bt_quoted:
                    # lexer.go looks for a heredoc even in a string that starts
                    # with "<<": a quirk hostgw does not copy
                    raise Refused("heredoc in a string")
                if ch == "<":
                    raise Refused("too many '<'")
                if ch == "\r":
                    continue
                if ch == "\n":
                    marker = "".join(val[2:])
                    if not _MARKER.match(marker):
                        raise Refused("heredoc marker")
                    in_heredoc = True
                    skipped += 1
                    val = []
                    continue
                val.append(ch)
                continue
            if in_heredoc:
                val.append(ch)
                if ch == "\n":
                    skipped += 1
                if len(val) >= len(marker) and "".join(val[-len(marker) :]) == marker:
                    _heredoc("".join(val), marker)
                    line += skipped
                    skipped = 0
                    found.append((start, tok_line, "".join(val), True))
                    done = True
                continue
            if not escaped and not bt_quoted and ch == "\\":
                escaped = True
                escape_at = pos - 1
                continue
            if quoted or bt_quoted:
                if quoted and escaped:
                    if ch != '"':
                        val.append("\\")
                    escaped = False
                elif (quoted and ch == '"') or (bt_quoted and ch == "`"):
                    found.append((start, tok_line, "".join(val), False))
                    done = True
                    continue
                if ch == "\n":
                    line += 1 + skipped
                    skipped = 0
                val.append(ch)
                continue
            if ch.isspace():
                if ch == "\r":
                    continue
                if ch == "\n":
                    if escaped:
                        skipped += 1
                        escaped = False
                    else:
                        line += 1 + skipped
                        skipped = 0
                    comment = False
                if val:
                    found.append((start, tok_line, "".join(val), False))
                    done = True
                continue
            if ch == "#" and not val:
                comment = True
            if comment:
                continue
            if not val:
                # a word's text starts at an escape right before it; a string's at its quote
                glued = escaped and escape_at == pos - 2 and ch not in '"`'
                start = escape_at if glued else pos - 1
                tok_line = line
                if ch == '"':
                    quoted = True
                    continue
                if ch == "`":
                    bt_quoted = True
                    continue
            if escaped:
                if ch == "<":
                    heredoc_escaped = True
                else:
                    val.append("\\")
                escaped = False
            val.append(ch)


def _breaks(text: str, heredoc: bool) -> int:
    return text.count("\n") + heredoc


def _caddy_lines(found: list[tuple[int, int, str, bool]]) -> list[bool]:
    """For each token after the first: whether Caddy puts it on a new line."""
    return [prev[1] + _breaks(prev[2], prev[3]) < cur[1] for prev, cur in itertools.pairwise(found)]


# CR comes only before LF, as in a file with CRLF line ends: Caddy's lexer
# drops every CR, so a CR inside a line joins what is around it, which no
# editor writes and hostgw does not copy.
ALPHABET = st.sampled_from(
    [
        *' \t\n"`\\#{}<a',
        "\r\n",
        "\\\n",
        "\\ \n",
        "\\\r\n",
        "# c \\ x\n",
        '"a\\"b"',
        '"a\nb"',
        "`x\ny`",
        "<<EOF\n",
        "<<E-1\n",
        "EOF",
        "E-1",
        "  EOF 200",
        "\\<<EOF",
        "reverse_proxy",
        " backend:8000",
        "to",
        "x {",
        "}",
    ]
)
TEXTS = st.lists(ALPHABET, max_size=40).map("".join)


@settings(max_examples=3000, deadline=None)
@given(TEXTS)
def test_tokens_and_lines_are_caddys(text: str) -> None:
    try:
        expected = caddy_tokens(text)
    except Refused:
        with contextlib.suppress(RewriteError):
            list(tokens(text))  # lenient or refused: both fine, but only our error
        return
    got = list(tokens(text))
    assert [t[0] for t in got] == [t[0] for t in expected], "tokens start where Caddy's do"
    ours = [prev[2] != cur[2] for prev, cur in itertools.pairwise(got)]
    assert ours == _caddy_lines(expected), "tokens are grouped into the same directives"


@settings(max_examples=1500, deadline=None)
@given(TEXTS)
def test_rewrite_raises_only_our_errors_and_is_idempotent(text: str) -> None:
    maps = ["backend:8000=18000", "a=17000"]
    with contextlib.suppress(HostgwError):
        once = rewrite(text, maps, format="caddy", gateway="10.0.0.1").text
        assert rewrite(once, maps, format="caddy", gateway="10.0.0.1").text == once


def test_the_port_groups_a_continued_line_and_a_heredoc() -> None:
    text = "reverse_proxy /x \\\n  backend:8000\nrespond <<EOF\n  a\n  EOF 200\nb\n"
    found = caddy_tokens(text)
    assert [t[2] for t in found][:3] == ["reverse_proxy", "/x", "backend:8000"]
    assert _caddy_lines(found) == [False, False, True, False, False, True]
    assert [t[0] for t in tokens(text)] == [t[0] for t in found]
