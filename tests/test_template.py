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
    # Past what Python's re can hold: a usage error too, not a traceback.
    for pattern in ("a{99999999999}", "a{4294967296}", "(" * 3000 + "a" + ")" * 3000):
        with pytest.raises(UsageError, match="is too large: repeat counts go up to") as caught:
            Selection.of(filter=pattern)
        assert len(caught.value.message) < 200, "a long pattern is cut in the message"


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


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("x ${A:-${B@}}", "unsupported expansion '${B@...}'"),
        ("x ${A:-$\\\n{B@}}", "unsupported expansion '${B@...}'"),
        ("x ${A:-$\\\n\\\n{B@}}", "unsupported expansion '${B@...}'"),
        ("x ${A:-$\\\n{B\n}", "unsupported expansion '${B\\n...}'"),
        ("x ${A:-$\\\n{\x01}}", "unsupported '${\\x01': expected a name"),
    ],
    ids=["nested", "after-a-backslash-newline", "after-two", "newline-after-name", "control"],
)
def test_a_nested_form_is_named_at_its_dollar_on_one_line(template: str, reason: str) -> None:
    """Where bash joins ``$\\<newline>{`` into ``${``, the error is at the ``$``, and a
    newline or control character in the message is escaped."""
    with pytest.raises(TemplateError) as caught:
        expand(template, {}, vars="A B", own={}, path="t")
    problem = caught.value.problems[0]
    assert (problem[1], problem[2], problem[4]) == (1, 8, reason)


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


# -- value safety, by format and context (the proof against the proxies is in
# tests/property/test_value_safety_proxies.py) --------------------------------------

SAFETY = [
    # (format, template, value, refused character or None)
    ("nginx", "server_name $V;", "a.com b.com", None),
    ("nginx", "server_name $V;", "a.com # prod", "'#'"),
    ("nginx", 'add_header CSP "$V";', "default-src 'self'; img-src *", None),
    ("nginx", 'add_header X "$V";', 'a" always', 'a quote (")'),
    ("nginx", "add_header X '$V';", "a;b{c}", None),
    ("nginx", "# $V\ndeny all;", "a;b # c", None),
    ("nginx", "# $V\ndeny all;", "a\nb", "a newline"),
    ("nginx", "location ~ $V {", r"\.php$", "'\\\\'"),
    ("nginx", 'location ~ "$V" {', r"\.php$", None),
    ("nginx", 'return 200 "$V";', "x\\", "'\\\\'"),
    ("nginx", "add_header X $V{x} always;", "a$", "'$'"),  # "${" keeps the '{' a word's
    ("nginx", "add_header X $V always;", "a$", None),
    ("nginx", 'add_header X "$V{x}" always;', "a$", None),  # nginx's variable: no structure
    # In a default's word: judged where the value lands in the form's output.
    ("nginx", 'add_header X "${A:-x$V}" always;', "a;b {c}", None),
    ("nginx", "add_header X ${A:-x$V} always;", "a;b", "';'"),
    ("nginx", "add_header X ${A:-$V}{x} always;", "a$", "'$'"),
    ("nginx", "add_header X ${A:-$V} always;", "a$", None),
    ("caddy", "respond ${A:-$V} 200", "/admin", "'/'"),
    ("caddy", "header X ${A:-$V}", "/path", None),
    ("haproxy", 'http-request set-header X "${A:-x$V}"', "a # b", None),
    ("haproxy", ".if streq(${A:-x$V},x)", "a b", "' '"),
    ("haproxy", "server s1 $V:80 check", "10.0.0.1", None),
    ("haproxy", "server s1 127.0.0.1:$V ssl", "8443 # https", "'#'"),
    ("haproxy", "server s1 127.0.0.1:$V ssl", "8443\r", "'\\r'"),
    ("haproxy", 'http-request set-header X "$V"', "$HOME", "'$'"),
    ("haproxy", "http-request set-header X '$V'", "$HOME # x", None),
    ("haproxy", 'http-request set-header X "$V"', "a # b; {c}", None),
    ("apache", "DirectoryIndex $V\nRequire all denied", "index.html \\", "'\\\\'"),
    ("apache", "RewriteRule $V", r"^/a\.html$ /b [L]", None),
    ("apache", 'Header set X "$V"', "a # b", None),
    ("apache", "Header set X $V", "${APACHE_LOG_DIR}", "'${'"),
    ("apache", "<Location $V>", "/a> x", "'>'"),
    ("apache", "DirectoryIndex $V{SPLIT}", "x$", "'$'"),  # Apache's ${SPLIT}
    ("apache", "DirectoryIndex $${V}", "{SPLIT}", "'{'"),
    ("apache", "# $V{SPLIT}", "x$", None),
    ("haproxy", 'http-request set-header X "$$V"', "{HOME}", "'{'"),
    ("caddy", 'respond "$V" 200', '"x', 'a quote (")'),
    ("caddy", 'respond "$V" 200', "/admin", "'/'"),
    ("caddy", "root * $V", "/srv/www", None),
    ("caddy", "header X $V", "{$HOME}", "'{'"),
    ("caddy", "header X `$V`", "a \"b\" 'c' #d", None),
    ("caddy", "reverse_proxy $V", "a:80 b:80", None),
    ("caddy", "# $V\nrespond 403", "{$'x'", "'{'"),
    ("caddy", "# $V\nrespond 403", "a } # 'b' \"c\" `d`", None),
    # What a value's first word becomes where it lands:
    ("caddy", "reverse_proxy $V", " /public/* 127.0.0.1:9000", "'/'"),  # a blank, a matcher
    ("caddy", "reverse_proxy $V", "\u00a0/x b:80", "'/'"),  # Caddy's Unicode blank
    ("caddy", "reverse_proxy a:80 $V", "/x", None),  # not the first argument
    ("caddy", "respond$V 403", " /admin", "'/'"),  # the value ends the directive's name
    ("caddy", "$V 403", "respond /admin", "'/'"),  # its second word is the first argument
    ("caddy", "$V 403", "respond", None),
    ("caddy", "$V {\n\trespond hi\n}", "(evil)", "'('"),  # a snippet, not a site
    ("caddy", "$V {\n\trespond hi\n}", "a.example b.example", None),
    ("caddy", "respond {$V} 200", "$HOME", "'$'"),  # "{$HOME}": Caddy's environment
    ("caddy", "respond x$V 200", "$HOME", None),
    ("haproxy", "global\n    $V\n", ".if 0", "'.'"),  # a conditional block's line
    ("haproxy", "global\n    $V\n", "  .endif", "'.'"),
    ("haproxy", "global\n    $V\n", "maxconn 100", None),
    ("haproxy", "global\n    x$V\n", ".if", None),
    ("haproxy", "global\n    maxconn $V\n", ".5", None),
    ("apache", "<Location />\n    $V Require all denied\n</Location>", "#", "'#'"),
    ("apache", "<Location />\n    $V Require all denied\n</Location>", " #x", "'#'"),
    ("apache", "DirectoryIndex $V", "#x", None),  # '#' within a line is a character
    ("apache", "Define G '$V'", 'hi" "env=NOPE', 'a quote (")'),  # put as it is at ${G}
    ("apache", 'define G "$V"', "a b", "' '"),
    ("apache", "Define G $V", "hi", None),
    ("apache", '# Define G $V\nDirectoryIndex "$V"', "a b", None),
    # nginx's Lua blocks, found by their directive's name (a comment is none):
    ("nginx", "#x_by_lua_block\nlocation / { add_header X $V; }", "a;b", "';'"),
    ("nginx", "location / { # c\n content_by_lua_block { local x = $V } }", "a[[", "'['"),
    ("nginx", "location / { # c\n content_by_lua_block { local x = $V } }", "a;b", None),
    ("nginx", 'location / { "content_by_lua_block" { local x = $V } }', "x --", "'-'"),
    ("nginx", 'location / { x_by_lua_block { s = "$V" } }', "a{b}", None),
    ("nginx", "location / { x_by_lua_block { s = 1 } add_header X $V; }", "a;b", "';'"),
    ("nginx", 'x_by_lua_block {\n local x = "$V \\\n b"\n}', "}", "'}'"),  # no string
    ("nginx", "x_by_lua_block {\n s = [=[ ]$V] ]=]\n}", "=", "'='"),  # makes ']=]'
    ("nginx", "x_by_lua_block {\n --[$V[ x ]==]\n}", "==", "'='"),  # makes '--[==['
    ("nginx", "$V {\n x\n}", "content_by_lua_block", "'_by_lua_block'"),
    ("nginx", "location / { $V on; }", "gzip", None),
    ("haproxy", "global\n$V\n", "\f.if 0", "'.'"),  # C's isspace: \f and \v are blanks
    ("apache", "$V X-A 1", "\v#Header set", "'#'"),
    ("apache", "Define G '$V'", "a\fexpr=false", "'\\x0c'"),
    (None, "x $V y", "a;b", "';'"),
    (None, "x $V y", "$HOME and /path", None),
    (None, "x $V y", "a\\", "'\\\\'"),
]


@pytest.mark.parametrize(("fmt", "template", "value", "refused"), SAFETY)
def test_value_safety_depends_on_the_format_and_the_context(
    fmt: str | None, template: str, value: str, refused: str | None
) -> None:
    data = template.replace("$V", "${V}").encode()
    if refused is None:
        assert expand_bytes(data, {"V": value}, format=fmt)
        return
    with pytest.raises(TemplateError) as caught:
        expand_bytes(data, {"V": value}, format=fmt, path="t")
    (row,) = caught.value.problems
    assert row[3] == "V" and row[4].startswith(f"value contains {refused}"), row
    assert "--raw V" in (caught.value.hint or "")
    assert expand_bytes(data, {"V": value}, format=fmt, raw=["V"])  # the explicit escape


def test_an_escaped_reference_moves_where_the_values_after_it_land() -> None:
    # With escape, each \\$A renders as $A, one byte shorter: the value after them is
    # read at its place in the output (in the quotes), not four bytes later.
    quoted = b'add_header X \\$A\\$A\\$A\\$A "${V}" x;\n'
    out = expand_bytes(quoted, {"A": "a", "V": "ab;"}, format="nginx", escape=True)
    assert b"".join(out) == b'add_header X $A$A$A$A "ab;" x;\n'

    with pytest.raises(TemplateError) as caught:
        expand_bytes(b"x \\${A} \\$A ${V};\n", {"A": "a", "V": "a;b"}, format="nginx", escape=True)
    (row,) = caught.value.problems
    assert row[1:4] == (1, 13, "V") and "';'" in row[4], row


def test_a_value_in_an_error_message_is_judged_nowhere() -> None:
    # ${U:?msg} writes no output: a suspect value in its message lands nowhere.
    with pytest.raises(TemplateError) as caught:
        expand_bytes(b"x ${U:?no $V} y;\n", {"V": "a;b"}, format="nginx")
    (row,) = caught.value.problems
    assert row[3] == "U" and row[4] == "no a;b", row


def test_a_value_is_reported_once_when_its_form_also_writes_structure() -> None:
    # ${A:-\"} with A set: the value is the form's whole output, judged once.
    with pytest.raises(TemplateError) as caught:
        expand_bytes(b'x ${A:-\\"} y;\n', {"A": "a;b"}, format="nginx")
    (row,) = caught.value.problems
    assert row[3] == "A" and "';'" in row[4], row


def test_the_format_comes_from_the_option_the_output_or_the_template(tmp_path: Path) -> None:
    from hostgw.formats import by_name
    from hostgw.templates.jobs import RenderRequest, plan

    assert by_name("haproxy.cfg.template") == "haproxy"
    assert by_name("/etc/nginx/conf.d/x.conf", "x.template") == "nginx"
    assert by_name("Caddyfile.tmpl") == "caddy"
    assert by_name("default.conf.template", None) is None
    (tmp_path / "a.template").write_text("x")
    request = RenderRequest(specs=(f"{tmp_path}/a.template:{tmp_path}/haproxy.cfg",))
    assert plan(request, {}, stdin_default=True).settings.format_of(f"{tmp_path}/a.template") == (
        "haproxy"
    )
    forced = RenderRequest(specs=(f"{tmp_path}/a.template",), format="caddy")
    assert plan(forced, {}, stdin_default=True).settings.format_of(f"{tmp_path}/a.template") == (
        "caddy"
    )
    with pytest.raises(UsageError, match="--format"):
        plan(RenderRequest(format="iis"), {}, stdin_default=True)


# -- escape, --strict's braced rule, warnings, --list-vars, --filter's dialect -----------

ESCAPES = [
    (r"\$A \${A} \${A:-d} \${NOPE:?m}", "$A ${A} ${A:-d} ${NOPE:?m}"),
    (r"\\$A", r"\$A"),
    (r"x\y \$host $A", r"x\y \$host a"),
]


@pytest.mark.parametrize(("template", "expected"), ESCAPES)
def test_escape_keeps_a_reference_as_text(template: str, expected: str) -> None:
    assert expand(template, ENV, own={}, escape=True) == expected
    assert "\\" in expand(template.replace(":?m", ":-m"), ENV, own={})  # without: envsubst's


def test_strict_in_the_default_mode_catches_unset_braced_environment_names() -> None:
    text = (
        "server_name ${SERVR_NAME};\nproxy_set_header Host $host; return 301 ${host}$1;\n"
        "set $MY_VAR 1; add_header X ${MY_VAR}; $UNSET_PLAIN ${HOSTGW_IP} ${A}\n"
        "location ~ (?<CAPTURED>.*) { return 200 ${CAPTURED}; }\n"
    )
    with pytest.raises(TemplateError) as caught:
        expand(text, ENV, own={}, strict=True)
    assert [(p[1], p[2], p[3]) for p in caught.value.problems] == [(1, 13, "SERVR_NAME")]
    assert expand(text, ENV, own={}).startswith("server_name ${SERVR_NAME};")  # no --strict
    apache = expand_bytes(b"ErrorLog ${APACHE_LOG_DIR}/error.log", {}, strict=True, format="apache")
    assert apache == [b"ErrorLog ${APACHE_LOG_DIR}/error.log"]


def test_a_default_word_over_lines_with_a_semicolon_gets_a_warning() -> None:
    notes: list[str] = []
    text = b"server {\n  listen ${PORT:-80;\n  server_name x;\n  location / { }\n}\n"
    expand_bytes(text, {}, notes=notes, path="d.template")
    assert notes and notes[0].startswith("d.template:2:10 PORT: the word of ${PORT:-...}")
    assert "holds ';'" in notes[0]
    quiet: list[str] = []
    expand_bytes(b"${A:-a\nb} ${B:-x;y}", {}, notes=quiet)
    assert quiet == []


def test_list_vars_names_forms_and_what_happens(tmp_path: Path) -> None:
    from tests.helpers import ok, run

    (tmp_path / "t.template").write_text(
        "listen ${APP_PORT:-3000}; server ${HOSTGW_HOST}; server_name ${SERVER_NAME};\n"
        "set $x $host${host}; ${#LEN}\n"
    )
    done = ok(
        run(
            "render",
            "--list-vars",
            str(tmp_path / "t.template"),
            env={"SERVER_NAME": "a", "PATH": "/usr/bin:/bin"},
        )
    )
    lines = {line.split()[0]: line for line in done.stdout.splitlines()}
    assert set(lines) == {"APP_PORT", "HOSTGW_HOST", "SERVER_NAME", "LEN", "host", "x"}
    assert lines["APP_PORT"].endswith("${APP_PORT:-...}  unset")
    assert lines["HOSTGW_HOST"].endswith("detected")
    assert lines["SERVER_NAME"].endswith("set")
    assert "$host ${host}" in lines["host"] and lines["host"].endswith("left as text")
    assert lines["LEN"].endswith("not supported, an error")
    assert not list(tmp_path.glob("*.conf"))


FILTERS = [
    "^[[:upper:]]+_PORT$",
    "^APP_",
    "PORT|HOST",
    "^[^a-z]+$",
    "[]_A]",
    "^[[:alpha:]_]+$",
    "[[:digit:]]",
    "_(PORT|HOST)$",
    "^X[-_]Y",
]
FILTER_NAMES = ["APP_PORT", "APP_HOST", "app_port", "X_Y", "XY", "A1", "ABC", "_", "Port_PORT"]


@pytest.mark.parametrize("regex", FILTERS)
def test_filter_is_the_posix_ere_awk_reads(regex: str) -> None:
    """Each --filter selects exactly the names the nginx image's awk selects."""
    import subprocess
    import warnings

    from tests.helpers import require_tool

    awk = subprocess.run(
        [require_tool("mawk"), f"END {{ for (k in ENVIRON) if (k ~ /{regex}/) print k }}"],
        env=dict.fromkeys(FILTER_NAMES, "v"),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a Python warning would reach the user
        selection = Selection.of(filter=regex)
    ours = {n for n in FILTER_NAMES if n in selection.plain(FILTER_NAMES)}
    assert ours == set(awk.stdout.split()) - {"HOSTGW_IP", "HOSTGW_IP6", "HOSTGW_HOST"}


# Pieces of a long template: plain references only, and operator forms too (one in
# a form that another form's default holds, one unset, one of a name not selected).
PLAIN_PIECE = b"proxy_pass http://${HOSTGW_IP}:81; set $x $host; # $HOSTGW_IP\n"
FORMS_PIECE = b"a ${HOSTGW_IP:-d} ${UNSET:-${HOSTGW_IP}x} ${UNSET-} ${X:+y} $HOSTGW_IP\n"


@pytest.mark.parametrize(
    "order",
    [("plain", "forms"), ("forms", "plain"), ("plain", "forms", "plain")],
    ids="-then-".join,
)
def test_a_long_template_renders_as_its_pieces_do(order: tuple[str, ...]) -> None:
    """Split in chunks of 256 KiB, a template whose operator forms start late (or
    early) renders as its lines do one by one: the quick split of the plain chunks
    and the full split of those with forms agree."""
    from hostgw.templates import syntax

    env = {"HOSTGW_IP": "10.0.0.1", "X": "1"}
    pieces = {"plain": PLAIN_PIECE, "forms": FORMS_PIECE}
    blocks = [pieces[kind] * (3 * syntax._CHUNK // len(pieces[kind])) for kind in order]
    whole = b"".join(expand_bytes(b"".join(blocks), env))
    one = {kind: b"".join(expand_bytes(piece, env)) for kind, piece in pieces.items()}
    repeats = [len(block) // len(pieces[kind]) for kind, block in zip(order, blocks, strict=True)]
    assert whole == b"".join(one[kind] * n for kind, n in zip(order, repeats, strict=True))
    assert one["forms"] == b"a 10.0.0.1 10.0.0.1x  y 10.0.0.1\n"


def test_the_quick_split_sees_every_operator_form_head() -> None:
    """Where the full pattern finds an operator form, the quick one leaves a ``${``
    piece; where it finds none, both split alike."""
    from hostgw.templates.syntax import pattern_for

    names = frozenset({"HOSTGW_IP", "A"})
    full, quick = pattern_for(names), pattern_for(names, quick=True)
    for text in [PLAIN_PIECE, FORMS_PIECE, b"${A}${AB:-}${#A}${!A}$A${A}x${a-}", b"${ A:-x}"]:
        parts = full.split(text)
        heads = parts[2::3]
        del parts[2::3]
        fast = quick.split(text)
        assert (b"${" in fast[1::2]) == any(heads), text
        if not any(heads):
            assert fast == parts, text
