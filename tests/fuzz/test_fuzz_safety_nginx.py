"""Fuzz target: where a reference lands in an nginx template, as nginx's reader says.

:func:`hostgw.templates.safety.contexts` decides what a value may hold by
the lexical context of its reference (bare word, quoted string, comment).
If it misreads the template, a value passes that changes the config's
structure where nginx reads it. The judge is the port of
``ngx_conf_read_token`` in tests/nginx_reader.py: for generated templates
with one reference, the context hostgw gives must be the state nginx reads
that reference in (right after a closing quote, where nginx wants a blank,
hostgw gives the bare word's stricter rule). Then the value attacks follow,
judged by the real ``nginx -t``.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hostgw.errors import TemplateError
from hostgw.templates import safety
from hostgw.templates.expand import expand_bytes
from tests.nginx import nginx_t
from tests.nginx_reader import Refused, nginx_tokens

REF = "${V}"
PIECES = st.sampled_from(
    [
        *" \t\r\n\f\v;{}#\"'\\$)a",
        "${",
        "${{",
        "$a",
        "a}",
        "}#",
        '}"',
        "}'",
        "b#c",
        "x;",
        "y {",
        "# c ; { }\n",
        '"q ; { } # x"',
        "'q \\' {'",
        '\\"',
        "\\'",
        "\\ ",
        "\\;",
        "\\{",
        "\\$",
        "return 200 ",
        "location / {",
    ]
)
_EXPECTED = {
    "comment": safety.COMMENT,
    "dq": safety.DQ,
    "sq": safety.SQ,
    "word": safety.WORD,
    "need_space": safety.WORD,
}


def nginx_state(before: str, after: str) -> str | None:
    """The state nginx reads the reference after ``before`` in (None: it never gets
    there, or reads it escaped)."""
    seen: dict[int, str] = {}
    text = before + "Q" * len(REF) + after  # a plain word, as the reference reads
    with contextlib.suppress(Refused):
        nginx_tokens(text, seen.__setitem__)
    state = seen.get(len(before))
    return None if state == "escaped" else state


@settings(max_examples=4000, deadline=None)
@given(st.lists(PIECES, max_size=30).map("".join), st.lists(PIECES, max_size=6).map("".join))
def test_a_reference_lands_where_nginx_reads_it(before: str, after: str) -> None:
    expected = nginx_state(before, after)
    if expected is None:
        return
    data = (before + REF + after).encode()
    at = len(before.encode())
    (got,) = safety.contexts(data, "nginx", [at], [(at, at + len(REF))])
    context = got.split("+")[0]  # the role after '+' (a statement's name) is no state
    assert context == _EXPECTED[expected], (before, after, expected, got)


# -- the attacks, judged by nginx itself ----------------------------------------------

INJECTED = "injected_zz"
# (template line, a value that would inject a directive if the line were misread)
ATTACKS = [
    ("return 200 a}#${V};", f"x; {INJECTED} 1"),  # '}' inside a word ends nothing
    ('return 200 a}"${V}";', f"x; {INJECTED} 1; #"),  # nor opens a quote after it
    ("return 200 a}'${V}';", f"x; {INJECTED} 1; #"),
    ('default_type a${"${V}";', f"x; {INJECTED} 1; #"),  # '${' is a word's, unclosed
    ('default_type a${"${V}}";', f"x; {INJECTED} 1; #"),
    ("return 200 'x\\' '${V}';", f"; {INJECTED} 1; #"),  # \\' escapes in single quotes
    ("return 200 a\f#${V};", f"x; {INJECTED} 1"),  # a form feed is no blank to nginx
    ('return 200 a\v"${V}";', f"x; {INJECTED} 1"),
]


def _conf(prefix: Path, line: str) -> None:
    (prefix / "nginx.conf").write_text(
        f"pid {prefix}/nginx.pid;\nevents {{}}\nhttp {{\n  server {{\n"
        f"    listen 127.0.0.1:18090;\n    location / {{\n      {line}\n    }}\n  }}\n}}\n"
    )


@pytest.mark.parametrize(("template", "value"), ATTACKS)
def test_misread_contexts_are_refused(tmp_path: Path, template: str, value: str) -> None:
    with pytest.raises(TemplateError) as caught:
        expand_bytes(template.encode(), {"V": value}, format="nginx")
    assert "value contains ';'" in caught.value.problems[0][4]
    # The attack is real: forced through, nginx reads the injected directive.
    forced = b"".join(expand_bytes(template.encode(), {"V": value}, format="nginx", raw=True))
    _conf(tmp_path, forced.decode())
    done = nginx_t(tmp_path)
    assert done.returncode != 0 and f'unknown directive "{INJECTED}"' in done.stderr, done.stderr


def test_the_attack_lines_are_nginx_with_a_plain_value(tmp_path: Path) -> None:
    # Those nginx reads whole with a harmless value render and pass nginx -t.
    for template in ("return 200 a}#${V};", 'default_type a${"${V}";', "return 200 a\f#${V};"):
        out = b"".join(expand_bytes(template.encode(), {"V": "plain"}, format="nginx"))
        _conf(tmp_path, out.decode())
        done = nginx_t(tmp_path)
        assert done.returncode == 0, (template, done.stderr)
