"""Fuzz target: hostgw's HAProxy sections against HAProxy's way of finding them.

HAProxy (``readcfgfile``, src/cfgparse.c) splits each line into words
(blanks apart, quotes and backslashes grouping, ``#`` outside quotes ending
the line) and starts a section wherever the first word is a section
keyword, however the line is indented. :func:`haproxy_sections` does that
with its own small word splitter; every address hostgw rewrites must be on a
``server`` or ``server-template`` line of a ``backend`` or ``listen``
section, and every plain ``server NAME backend:8000`` there must be
rewritten, with its family prefix made to fit the new address.
"""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from hostgw.errors import HostgwError
from hostgw.rewriting import rewrite

SECTIONS = {
    "global", "defaults", "frontend", "backend", "listen", "resolvers", "peers", "userlist",
    "mailers", "program", "http-errors", "ring", "cache", "log-forward", "crt-store",
    "traces", "fcgi-app", "acme",
}  # fmt: skip


def _first_word(line: str) -> str:
    """HAProxy's first word of a line: quotes dropped, backslashes resolved."""
    out: list[str] = []
    quote = ""
    i = 0
    line = line.lstrip(" \t")
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line) and quote != "'":
            out.append(line[i + 1])
            i += 2
            continue
        if quote:
            if ch == quote:
                quote = ""
            else:
                out.append(ch)
        elif ch in "\"'":
            quote = ch
        elif ch in " \t\r\n#":
            break
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def haproxy_sections(text: str) -> list[str]:
    """The section each line is in (``""`` before the first)."""
    section = ""
    found = []
    for line in text.split("\n"):
        word = _first_word(line)
        if word in SECTIONS:
            section = word
        found.append(section)
    return found


@st.composite
def configs(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        indent = draw(st.sampled_from(["", " ", "  ", "\t", "    "]))
        kind = draw(st.integers(0, 3))
        if kind == 0:
            name = draw(st.sampled_from(sorted(SECTIONS)))
            quoted = draw(st.sampled_from([name, f'"{name}"', f"{name[0]}\\{name[1:]}"]))
            lines.append(f"{indent}{quoted} s{draw(st.integers(0, 3))}")
        elif kind == 1:
            prefix = draw(st.sampled_from(["", "ipv4@", "ipv6@", "tcp@", "tcp4@", "unix@"]))
            host = draw(st.sampled_from(["backend:8000", "[::1]:8000", "backend2:8000", "a:1"]))
            keyword = draw(st.sampled_from(["server s", "server-template t 3", "peer p"]))
            tail = draw(st.sampled_from(["", " check", " # x", ' "q"']))
            lines.append(f"{indent}{keyword} {prefix}{host}{tail}")
        elif kind == 2:
            lines.append(f"{indent}# server s backend:8000")
        else:
            lines.append(draw(st.text(alphabet=" \t\"'\\#abserv@:", max_size=20)))
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\r\n"]))


@settings(max_examples=600, deadline=None)
@given(configs(), st.sampled_from(["10.0.0.1", "fd00::1"]))
def test_addresses_change_only_in_backends_and_all_do(text: str, gateway: str) -> None:
    maps = ["backend:8000=18000", "[::1]:8000=18001"]
    try:
        result = rewrite(text, maps, format="haproxy", gateway=gateway)
    except HostgwError:
        return
    sections = haproxy_sections(text)
    changed = {c.line for c in result.changes}
    for number in changed:
        line = text.split("\n")[number - 1]
        assert sections[number - 1] in ("backend", "listen"), line
        assert _first_word(line) in ("server", "server-template"), line
    for number, line in enumerate(text.split("\n"), 1):
        words = line.split()
        plain = (
            len(words) >= 3
            and words[:2] == ["server", "s"]
            and words[2] in ("backend:8000", "ipv4@backend:8000", "ipv6@backend:8000")
        )
        if plain and sections[number - 1] in ("backend", "listen"):
            assert number in changed, line
            new = result.text.split("\n")[number - 1]
            family = "6" if ":" in gateway else "4"
            if "@" in words[2]:
                assert f"ipv{family}@" in new, new
    with contextlib.suppress(HostgwError):
        assert rewrite(result.text, maps, format="haproxy", gateway=gateway).text == result.text
