"""Fuzz target: the template parser and expander on arbitrary template-shaped bytes.

Whatever hypothesis writes (every character the parser gives meaning to,
nested and unclosed forms, invalid UTF-8), ``expand_bytes`` either returns
bytes or raises one TemplateError; never another exception. A template with
no ``$`` comes back unchanged; every problem is placed inside the text; at
most MAX_PROBLEMS are listed; the value-safety lexers of every format read
it to the end. Run deeper with ``--hypothesis-profile`` or more examples.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostgw.errors import TemplateError
from hostgw.formats import FORMATS
from hostgw.templates.expand import MAX_PROBLEMS, expand_bytes
from hostgw.templates.safety import contexts
from hostgw.templates.syntax import Selection

_BITS = [
    b"$",
    b"{",
    b"}",
    b"${",
    b"$A",
    b"${A}",
    b"${A:-",
    b"${U:-",
    b"${U?",
    b"${#A}",
    b"${!A}",
    b":-",
    b"-",
    b"+",
    b"?",
    b"=",
    b"#",
    b"%",
    b"\\",
    b"\\$",
    b"\\}",
    b"\n",
    b"\r",
    b'"',
    b"'",
    b"`",
    b";",
    b" ",
    b"x",
    b"\xff",
    b"\xc3\xa9",
    b"$(",
    b"$$",
    b"$1",
    b"<<EOF\n",
    b"EOF\n",
    b"x_by_lua_block {",
    b"[[",
    b"]]",
    b"[=[",
    b"--",
    b".if ",
    b"Define ",
    b"(",
]
templates = st.lists(st.sampled_from(_BITS), max_size=40).map(b"".join)
envs = st.dictionaries(
    st.sampled_from(["A", "B", "U"]), st.sampled_from(["", "v", "a;b", '"', "x\\", "#", "$A", "{}"])
)
formats = st.sampled_from([None, *FORMATS])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    templates,
    envs,
    formats,
    st.tuples(st.booleans(), st.booleans(), st.sampled_from([None, "A B"])),
)
def test_expand_returns_bytes_or_one_template_error(
    data: bytes, env: dict[str, str], fmt: str | None, flags: tuple[bool, bool, str | None]
) -> None:
    strict, escape, vars = flags
    try:
        out = b"".join(
            expand_bytes(
                data,
                env,
                selection=Selection.of(vars),
                strict=strict,
                escape=escape,
                format=fmt,
                own={"HOSTGW_IP": "10.0.0.1"},
                notes=[],
            )
        )
    except TemplateError as exc:
        assert 0 < len(exc.problems) <= MAX_PROBLEMS
        lines = data.count(b"\n") + 1
        for _path, line, col, _name, reason in exc.problems:
            assert 1 <= line <= lines and col >= 1 and reason
        return
    if b"$" not in data:
        assert out == data


@settings(max_examples=300, deadline=None)
@given(templates, formats)
def test_the_context_lexers_read_any_text(data: bytes, fmt: str | None) -> None:
    offsets = sorted({i for i in range(len(data)) if data[i : i + 1] == b"$"})
    found = contexts(data, fmt, offsets, [])
    assert len(found) == len(offsets)
