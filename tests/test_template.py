"""The template core, table by table: syntax, selection, safety, errors and their places."""

from __future__ import annotations

from pathlib import Path

import pytest

from hostgw.errors import TemplateError, UsageError
from hostgw.templates.expand import expand, expand_bytes
from hostgw.templates.syntax import Selection, parse_vars

ENV = {"A": "a", "E": "", "IP": "10.213.0.1", "HOSTGW_IP": "10.213.0.9", "SEMI": "x;y"}

SYNTAX = [
    # (id, template, expected) -- default selection over ENV
    ("plain", "$A ${A}", "a a"),
    ("greedy-name", "$AB ${A}B", "$AB aB"),
    ("unset-plain-stays", "$NOPE ${NOPE}", "$NOPE ${NOPE}"),
    (
        "nginx-vars-stay",
        "proxy_set_header Host $host; return 301 ${scheme}://$1;",
        "proxy_set_header Host $host; return 301 ${scheme}://$1;",
    ),
    ("own-name", "http://${HOSTGW_IP}:80", "http://10.213.0.9:80"),
    ("dollar-dollar", "$$A", "$a"),
    ("lone-dollar", "a $ b $", "a $ b $"),
    ("unclosed-brace-is-text", "${A x", "${A x"),
    ("minus-unset", "${NOPE-d}", "d"),
    ("minus-empty", "${E-d}", ""),
    ("colon-minus-empty", "${E:-d}", "d"),
    ("colon-minus-set", "${A:-d}", "a"),
    ("plus-set", "${A+p}", "p"),
    ("plus-empty", "${E+p}", "p"),
    ("colon-plus-empty", "${E:+p}", ""),
    ("plus-unset", "${NOPE+p}", ""),
    ("question-set", "${A?m}", "a"),
    ("nested", "${NOPE:-${A}-$IP}", "a-10.213.0.1"),
    ("nested-operator", "${NOPE:-${NOPE2:-z}}", "z"),
    ("escapes", r"${NOPE:-\$A\}\\\"\`}", '$A}\\"`'),
    ("other-backslash-kept", r"${NOPE:-\a\{}", r"\a\{"),
    ("backslash-newline", "${NOPE:-a\\\nb}", "ab"),
    ("newline-in-word", "${NOPE:-a\nb}", "a\nb"),
    ("brace-in-word", "${NOPE:-{a}}", "{a}"),
    ("dollar-before-close", "${NOPE:-a$}", "a$"),
    ("tilde-stays", "${NOPE:-~}", "~"),
    ("raw-unicode", "é ${NOPE:-ü} €", "é ü €"),
]


@pytest.mark.parametrize(
    ("template", "expected"), [t[1:] for t in SYNTAX], ids=[t[0] for t in SYNTAX]
)
def test_syntax(template: str, expected: str) -> None:
    assert expand(template, ENV, own={}) == expected


SELECTION = [
    # (id, kwargs, template, expected)
    ("vars-exact", {"vars": "A"}, "$A $IP ${NOPE:-d}", "a $IP ${NOPE:-d}"),
    ("vars-shell-format", {"vars": "${A} $NOPE"}, "$A|$NOPE|$IP", "a||$IP"),
    ("vars-list", {"vars": ["A", "IP"]}, "$A $IP $HOSTGW_IP", "a 10.213.0.1 $HOSTGW_IP"),
    ("vars-comma", {"vars": "A,IP"}, "$A $IP", "a 10.213.0.1"),
    ("vars-unselected-operator-is-text", {"vars": "A"}, "${IP:-$A}", "${IP:-a}"),
    ("filter", {"filter": "^I"}, "$A $IP ${HOSTGW_IP}", "$A 10.213.0.1 10.213.0.9"),
    ("filter-leaves-operators", {"filter": "^I"}, "${A:-x} ${IP:-x} ${N:-n}", "a 10.213.0.1 n"),
    ("vars-and-filter", {"vars": "A IP", "filter": "P$"}, "$A $IP", "$A 10.213.0.1"),
]


@pytest.mark.parametrize(
    ("kwargs", "template", "expected"), [t[1:] for t in SELECTION], ids=[t[0] for t in SELECTION]
)
def test_selection(kwargs: dict[str, object], template: str, expected: str) -> None:
    assert expand(template, ENV, own={}, **kwargs) == expected  # type: ignore[arg-type]


def test_bad_vars_and_filter_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="not a variable name"):
        parse_vars("A B-C")
    with pytest.raises(UsageError, match="invalid regular expression"):
        Selection.of(filter="(")


def test_own_names_are_detected_once_and_only_when_referenced() -> None:
    calls: list[int] = []

    def own() -> dict[str, str]:
        calls.append(1)
        return {"HOSTGW_IP": "fd5e::1", "HOSTGW_HOST": "[fd5e::1]", "HOSTGW_IP6": "fd5e::1"}

    assert expand("$host ${X:-y}", {}, own=own) == "$host y"
    assert calls == []
    out = expand("$HOSTGW_HOST:80 ${HOSTGW_IP6} ${HOSTGW_IP}", {}, own=own)
    assert out == "[fd5e::1]:80 fd5e::1 fd5e::1"
    assert calls == [1]
    # An explicit value in the environment wins.
    assert expand("$HOSTGW_HOST", {"HOSTGW_HOST": "h"}, own=own) == "h"


def test_missing_v6_is_empty_and_strict_says_so() -> None:
    own = {"HOSTGW_IP": "10.213.0.1", "HOSTGW_HOST": "10.213.0.1"}
    assert expand("[$HOSTGW_IP6]", {}, own=own) == "[]"
    assert expand("${HOSTGW_IP6:-$HOSTGW_IP}", {}, own=own) == "10.213.0.1"
    with pytest.raises(TemplateError, match="HOSTGW_IP6: is not set"):
        expand("[$HOSTGW_IP6]", {}, own=own, strict=True)


UNSAFE = [
    ("newline", "a\nb", "a newline"),
    ("semicolon", "a;b", "';'"),
    ("open-brace", "{", "'{'"),
    ("close-brace", "a}", "'}'"),
    ("nul", "a\x00", "a NUL byte"),
]


@pytest.mark.parametrize(("value", "what"), [u[1:] for u in UNSAFE], ids=[u[0] for u in UNSAFE])
def test_values_that_change_structure_are_refused(value: str, what: str) -> None:
    with pytest.raises(TemplateError) as caught:
        expand("x $V ${W:-$V}", {"V": value}, own={})
    assert [(p[1], p[2], p[3]) for p in caught.value.problems] == [(1, 3, "V"), (1, 11, "V")]
    assert all(what in p[4] for p in caught.value.problems)
    assert "--raw V" in (caught.value.hint or "")
    assert expand("x $V", {"V": value}, raw=True, own={}) == "x " + value
    assert expand("x $V", {"V": value}, raw=["V"], own={}) == "x " + value
    with pytest.raises(TemplateError):
        expand("x $V", {"V": value}, raw=["OTHER"], own={})


def test_every_problem_at_once_with_line_and_column() -> None:
    template = (
        "server {\n"
        "  listen $PORT;\n"  # 2:10 unset (strict)
        "  server_name ${NAME};\n"  # 2 ok
        '  add_header X "$EMPTY";\n'  # 4:17 empty (no-empty)
        "  é $BAD ${REQ:?set REQ}\n"  # 5:5 unsafe, 5:10 required
        "  ${X#y} ${Q:-'quoted'}\n"  # 6:3 unsupported, 6:15 quote
        "  $PORT\n"  # 7:3 unset again
        "}\n"
    )
    env = {"NAME": "n", "EMPTY": "", "BAD": "a;b"}
    with pytest.raises(TemplateError) as caught:
        expand(template, env, vars="PORT NAME EMPTY BAD REQ X Q", no_empty=True, path="t.conf")
    rows = [(p[0], p[1], p[2], p[3]) for p in caught.value.problems]
    assert rows == [
        ("t.conf", 2, 10, "PORT"),
        ("t.conf", 4, 17, "EMPTY"),
        ("t.conf", 5, 5, "BAD"),
        ("t.conf", 5, 10, "REQ"),
        ("t.conf", 6, 3, "X"),
        ("t.conf", 6, 15, "Q"),
        ("t.conf", 7, 3, "PORT"),
    ]
    err = caught.value
    assert (err.path, err.line, err.col, err.name) == ("t.conf", 2, 10, "PORT")
    message = str(err)
    assert "t.conf:5:10 REQ: set REQ" in message
    assert "nothing was written" in message


REFUSED = [
    ("assign", "${A:=x}", "unsupported expansion '${A:=...}'"),
    ("assign-plain", "${A=x}", "unsupported expansion '${A=...}'"),
    ("prefix-strip", "${A#x}", "unsupported expansion '${A#...}'"),
    ("substring", "${A:0:1}", "unsupported expansion '${A:0...}'"),
    ("replace", "${A/a/b}", "unsupported expansion"),
    ("command", "${N:-$(id)}", "unsupported '$('"),
    ("backtick", "${N:-`id`}", "a backtick"),
    ("positional", "${N:-$1}", "unsupported '$1'"),
    ("single-quote", "${N:-'x'}", "a quote (')"),
    ("double-quote", '${N:-"x"}', 'a quote (")'),
    ("nested-length", "${N:-${#A}}", "unsupported '${#A}'"),
    ("unclosed", "${N:-abc", "no closing '}'"),
    ("nested-unset", "${N:-$M}", "bash would expand it to nothing"),
]


@pytest.mark.parametrize(
    ("template", "reason"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED]
)
def test_forms_hostgw_does_not_expand_are_errors_for_selected_names(
    template: str, reason: str
) -> None:
    env = {"A": "a"}
    with pytest.raises(TemplateError) as caught:
        expand(template, env, own={})
    assert reason in caught.value.problems[0][4]
    # ... and left alone, byte for byte, when the name is not selected.
    assert expand(template, env, vars="OTHER", own={}) == template


def test_bytes_api_keeps_any_encoding_and_returns_chunks() -> None:
    data = b"\xff\xfe $A ${B:-\xe9}\n" * 3
    chunks = expand_bytes(data, {"A": "\udcff"}, own={})  # surrogateescape: the byte 0xff
    assert b"".join(chunks) == b"\xff\xfe \xff \xe9\n" * 3


def test_error_column_counts_characters() -> None:
    with pytest.raises(TemplateError) as info:
        expand("ab\né€$X", {}, vars="X", strict=True, own={}, path="t")
    assert (info.value.line, info.value.col, info.value.name) == (2, 3, "X")


def test_public_render_and_render_file(tmp_path: Path) -> None:
    """``hostgw.render``/``render_file`` pass every option through to the template."""
    import hostgw

    env = {"A": "a;b", "B": "b"}
    own = {"HOSTGW_HOST": "10.213.0.1"}
    assert hostgw.render("$A $B ${HOSTGW_HOST}", env, vars="B HOSTGW_HOST", own=own) == (
        "$A b 10.213.0.1"
    )
    assert hostgw.render("$A", env, raw=["A"], own=own) == "a;b"
    with pytest.raises(TemplateError, match="1:1 A: value contains ';'"):
        hostgw.render("$A", env, own=own)
    with pytest.raises(TemplateError, match="tpl:1:1"):
        hostgw.render("$NOPE", env, vars="NOPE", strict=True, own=own, path="tpl")
    template, out = tmp_path / "t.template", tmp_path / "t.conf"
    template.write_text("${B}:${HOSTGW_HOST}\n")
    assert hostgw.render_file(template, out, env, filter="^B$", own=own) == "b:10.213.0.1\n"
    assert out.read_text() == "b:10.213.0.1\n"
