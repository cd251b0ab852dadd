"""nginx: per-directive table tests, including the traps sed falls into."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from hostgw import rewrite
from hostgw.errors import RewriteError
from hostgw.rewriting.nginx_lex import statements

MAP = ["backend:8000=18000", "api=19000", "php:9000=[fd00::7]:9001"]
GW = "172.17.0.1"

CASES = [
    # (id, before, after)
    ("proxy_pass", "proxy_pass http://backend:8000;", "proxy_pass http://172.17.0.1:18000;"),
    (
        "uri-kept",
        "proxy_pass http://backend:8000/api/v1?x=1;",
        "proxy_pass http://172.17.0.1:18000/api/v1?x=1;",
    ),
    ("https", "proxy_pass https://backend:8000/;", "proxy_pass https://172.17.0.1:18000/;"),
    ("no-port-http-is-80", "proxy_pass http://api/;", "proxy_pass http://172.17.0.1:19000/;"),
    ("no-port-https", "proxy_pass https://api;", "proxy_pass https://172.17.0.1:19000;"),
    ("no-port-not-matching-port-rule", "proxy_pass http://backend;", "proxy_pass http://backend;"),
    ("case-insensitive", "proxy_pass http://BackEnd:8000;", "proxy_pass http://172.17.0.1:18000;"),
    (
        "quoted",
        'proxy_pass "http://backend:8000/a b";',
        'proxy_pass "http://172.17.0.1:18000/a b";',
    ),
    ("single-quoted", "proxy_pass 'http://backend:8000';", "proxy_pass 'http://172.17.0.1:18000';"),
    ("grpc", "grpc_pass grpc://backend:8000;", "grpc_pass grpc://172.17.0.1:18000;"),
    ("grpcs-default", "grpc_pass grpcs://api;", "grpc_pass grpcs://172.17.0.1:19000;"),
    ("grpc-bare", "grpc_pass backend:8000;", "grpc_pass 172.17.0.1:18000;"),
    ("fastcgi", "fastcgi_pass php:9000;", "fastcgi_pass [fd00::7]:9001;"),
    ("uwsgi", "uwsgi_pass uwsgi://backend:8000;", "uwsgi_pass uwsgi://172.17.0.1:18000;"),
    ("scgi", "scgi_pass api:4000;", "scgi_pass 172.17.0.1:19000;"),
    ("memcached", "memcached_pass api:11211;", "memcached_pass 172.17.0.1:19000;"),
    ("backend2", "proxy_pass http://backend2:8000;", "proxy_pass http://backend2:8000;"),
    ("mybackend", "proxy_pass http://mybackend:8000;", "proxy_pass http://mybackend:8000;"),
    (
        "backend.example",
        "proxy_pass http://backend.example:8000;",
        "proxy_pass http://backend.example:8000;",
    ),
    ("other-port", "proxy_pass http://backend:8001;", "proxy_pass http://backend:8001;"),
    (
        "comment",
        "# proxy_pass http://backend:8000;\nproxy_pass http://x;",
        "# proxy_pass http://backend:8000;\nproxy_pass http://x;",
    ),
    (
        "comment-after",
        "proxy_pass http://backend:8000; # was http://backend:8000",
        "proxy_pass http://172.17.0.1:18000; # was http://backend:8000",
    ),
    (
        "variable-host",
        "set $up backend:8000;\nproxy_pass http://$up;",
        "set $up backend:8000;\nproxy_pass http://$up;",
    ),
    (
        "variable-uri",
        "proxy_pass http://backend:8000$request_uri;",
        "proxy_pass http://backend:8000$request_uri;",
    ),
    (
        "unix",
        "proxy_pass http://unix:/run/backend.sock;",
        "proxy_pass http://unix:/run/backend.sock;",
    ),
    (
        "fastcgi-unix",
        "fastcgi_pass unix:/run/php:9000.sock;",
        "fastcgi_pass unix:/run/php:9000.sock;",
    ),
    ("fastcgi-no-port-is-upstream", "fastcgi_pass php;", "fastcgi_pass php;"),
    ("add_header-untouched", "add_header X-Up backend:8000;", "add_header X-Up backend:8000;"),
    ("return-untouched", "return 302 http://backend:8000/;", "return 302 http://backend:8000/;"),
    (
        "lua-block",
        'content_by_lua_block {\n  ngx.say("proxy_pass http://backend:8000; }")  -- {\n}\n'
        "proxy_pass http://backend:8000;",
        'content_by_lua_block {\n  ngx.say("proxy_pass http://backend:8000; }")  -- {\n}\n'
        "proxy_pass http://172.17.0.1:18000;",
    ),
    (
        "lua-long-string",
        "access_by_lua_block { local s = [==[ } proxy_pass http://backend:8000; ]==] }",
        "access_by_lua_block { local s = [==[ } proxy_pass http://backend:8000; ]==] }",
    ),
    (
        "upstream-server-params",
        "upstream u {\n  server backend:8000 weight=5 max_fails=3 fail_timeout=10s;\n"
        "  server api backup;\n  server backend2:8000 down;\n  keepalive 32;\n}",
        "upstream u {\n  server 172.17.0.1:18000 weight=5 max_fails=3 fail_timeout=10s;\n"
        "  server 172.17.0.1:19000 backup;\n  server backend2:8000 down;\n  keepalive 32;\n}",
    ),
    (
        "server-block-not-upstream",
        "server { server_name backend; listen 8000; }",
        "server { server_name backend; listen 8000; }",
    ),
    (
        "stream-upstream",
        "stream { upstream db { server backend:8000; } server { listen 5432; proxy_pass db; } }",
        "stream { upstream db { server 172.17.0.1:18000; } "
        "server { listen 5432; proxy_pass db; } }",
    ),
    (
        "stream-proxy-pass",
        "stream { server { listen 1; proxy_pass backend:8000; } }",
        "stream { server { listen 1; proxy_pass 172.17.0.1:18000; } }",
    ),
    (
        "upstream-name-not-host",
        "upstream api { server 10.0.0.1:1; }\nproxy_pass http://api;",
        "upstream api { server 10.0.0.1:1; }\nproxy_pass http://api;",
    ),
    (
        "escaped-semicolon",
        r"add_header X a\;proxy_pass\ http://backend:8000;",
        r"add_header X a\;proxy_pass\ http://backend:8000;",
    ),
    (
        "word-with-hash",
        "proxy_pass http://backend:8000/#frag;",
        "proxy_pass http://172.17.0.1:18000/#frag;",
    ),
    ("crlf", "proxy_pass http://backend:8000;\r\n", "proxy_pass http://172.17.0.1:18000;\r\n"),
    (
        "tabs-newlines",
        "proxy_pass\n\t# c\n\thttp://backend:8000\n;",
        "proxy_pass\n\t# c\n\thttp://172.17.0.1:18000\n;",
    ),
    # nginx reads a directive's name as any token: quoted, or with escapes
    ("quoted-name", '"proxy_pass" http://backend:8000;', '"proxy_pass" http://172.17.0.1:18000;'),
    ("single-quoted-name", "'grpc_pass' backend:8000;", "'grpc_pass' 172.17.0.1:18000;"),
    (
        "quoted-upstream-server",
        'upstream u { "server" api; }',
        'upstream u { "server" 172.17.0.1:19000; }',
    ),
    (
        "quoted-lua-block",
        '"rewrite_by_lua_block" { a = { 1 } -- proxy_pass http://backend:8000;\n}\n'
        "proxy_pass http://backend:8000;",
        '"rewrite_by_lua_block" { a = { 1 } -- proxy_pass http://backend:8000;\n}\n'
        "proxy_pass http://172.17.0.1:18000;",
    ),
    (
        "upstream-after-a-nested-block",
        "upstream u { x { } server api; }",
        "upstream u { x { } server 172.17.0.1:19000; }",
    ),
    (
        "upstream-name-quoted",
        'upstream "api" { server 10.0.0.1:1; }\nproxy_pass http://api;',
        'upstream "api" { server 10.0.0.1:1; }\nproxy_pass http://api;',
    ),
]


@pytest.mark.parametrize(("before", "after"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_table(before: str, after: str) -> None:
    result = rewrite(before, MAP, format="nginx", gateway=GW)
    assert result.text == after
    assert rewrite(after, MAP, format="nginx", gateway=GW).text == after  # idempotent


def test_ipv6_gateway_is_bracketed() -> None:
    text = "upstream u { server backend:8000; }\nproxy_pass http://api/x;"
    result = rewrite(text, MAP, format="nginx", gateway="fd00::1")
    assert (
        result.text
        == "upstream u { server [fd00::1]:18000; }\nproxy_pass http://[fd00::1]:19000/x;"
    )


def test_changes_carry_line_old_new() -> None:
    text = "server {\n  location / {\n    proxy_pass http://backend:8000/a;\n  }\n}\n"
    result = rewrite(text, MAP, format="nginx", gateway=GW, path="x.conf")
    (change,) = result.changes
    assert (change.line, change.col, change.old, change.new) == (
        3,
        16,
        "http://backend:8000/a",
        "http://172.17.0.1:18000/a",
    )
    assert str(change) == "x.conf:3 http://backend:8000/a \u2192 http://172.17.0.1:18000/a"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("set $up backend:8000;\nproxy_pass http://$up;", "'backend:8000' in 'set'"),
        ("map $host $b { default backend:8000; }", "'backend:8000' in 'default'"),
        ("proxy_pass http://backend:8000$request_uri;", "uses variables"),
        ("proxy_pass http://unix:/run/api;", "unix socket"),
        ("fastcgi_pass api;", "has no port"),
        ("upstream api { server x:1; }\nproxy_pass http://api;", "names an upstream block"),
    ],
    ids=["set", "map", "variable", "unix", "no-port", "upstream-name"],
)
def test_skipped_targets_that_mention_a_mapped_host_warn(text: str, needle: str) -> None:
    result = rewrite(text, MAP, format="nginx", gateway=GW)
    assert result.text == text
    assert any(needle in n.message for n in result.notes), result.notes


@pytest.mark.parametrize(
    "block",
    [
        "map $host $y { default x; proxy_pass http://backend:8000; }",
        "geo $y { default 0; grpc_pass backend:8000; }",
        "types { proxy_pass backend:8000; }",
    ],
    ids=["map", "geo", "types"],
)
def test_an_entry_named_like_a_target_directive_is_no_target(block: str) -> None:
    """In map, geo and types blocks an entry is a key (or a type), not
    a directive: one named proxy_pass is not rewritten (nginx reads it as an entry)."""
    text = f"http {{ {block} server {{ location / {{ proxy_pass http://backend:8000; }} }} }}"
    result = rewrite(text, MAP, format="nginx", gateway=GW)
    assert result.text == text.replace(
        "{ proxy_pass http://backend:8000; } } }", "{ proxy_pass http://172.17.0.1:18000; } } }"
    )
    assert len(result.changes) == 1


def test_unused_rules_are_reported() -> None:
    result = rewrite("proxy_pass http://backend:8000;", MAP, format="nginx", gateway=GW)
    assert [r.spec for r in result.unused] == ["api=19000", "php:9000=[fd00::7]:9001"]


def test_gateway_is_asked_only_when_needed() -> None:
    calls: list[int] = []

    def gw() -> str:
        calls.append(1)
        return GW

    rewrite("proxy_pass http://other:1;", MAP, format="nginx", gateway=gw)
    assert calls == []
    rewrite("proxy_pass http://api; proxy_pass http://api;", MAP, format="nginx", gateway=gw)
    assert calls == [1]


def test_explicit_targets_need_no_gateway() -> None:
    def gw() -> str:
        raise AssertionError("not asked")

    out = rewrite("fastcgi_pass php:9000;", ["php:9000=10.0.0.5:9001"], format="nginx", gateway=gw)
    assert out.text == "fastcgi_pass 10.0.0.5:9001;"


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ('proxy_pass "http://x;\n', (1, 12), 'unclosed " quote'),
        ("server {\n  listen 80;\n", (3, 1), "unexpected end of file"),
        ("}\n", (1, 1), 'unexpected "}"'),
        ("location / {\n  proxy_pass }\n", (2, 14), 'unexpected "}"'),
        ("proxy_pass http://x", (1, 20), "unexpected end of file"),
        ('add_header "a"b;', (1, 15), "after a quoted string"),
        ("  ;", (1, 3), 'unexpected ";"'),
        ("content_by_lua_block { ngx.say('x') ", (1, 22), "Lua block is not closed"),
        # a comment runs to the end of its line: never re-read as a directive
        ("a;#x\n;", (2, 1), 'unexpected ";"'),
        ("location / {\n# proxy_pass http://backend:8000; }", (2, 36), "unexpected end of file"),
    ],
    ids=[
        "quote",
        "eof-block",
        "close",
        "close-in-args",
        "eof",
        "after-quote",
        "semi",
        "lua",
        "comment-then-semi",
        "comment-eats-close",
    ],
)
def test_syntax_errors_name_line_and_column(text: str, where: tuple[int, int], what: str) -> None:
    with pytest.raises(RewriteError) as info:
        rewrite(text, MAP, format="nginx", gateway=GW, path="site.conf")
    assert (info.value.line, info.value.col) == where
    assert what in str(info.value)
    assert str(info.value).startswith(f"site.conf:{where[0]}:{where[1]}:")


def test_quoted_names_are_read_as_nginx_reads_them() -> None:
    (st,) = [s for s in statements("\"proxy\\_pass\" a; 'set' $x 1;") if s.directive == "set"]
    assert st.name.raw == "'set'"
    # \\_ stays as written (nginx resolves only \\" \\' \\\\ \\t \\r \\n)
    assert [s.directive for s in statements('"proxy\\_pass" a; "a\\tb" c;')] == [
        "proxy\\_pass",
        "a\tb",
    ]


@pytest.mark.parametrize(
    "make",
    [
        lambda n: 'server { add_header X "' + "a " * n + '"; proxy_pass http://backend:8000/; }',
        lambda n: "server { proxy_pass http://backend:8000/" + "p" * n + "; }",
        lambda n: "# " + "c;{ " * n + "\nproxy_pass http://backend:8000;",
        lambda n: "server { " + "a b; " * (n // 4) + "proxy_pass http://backend:8000; }",
        lambda n: "server { " + "set $u backend:8000; " * (n // 20) + "}",
        lambda n: "x " + "\\; " * n + ";",
    ],
    ids=["long-quoted", "long-word", "long-comment", "many-statements", "many-warnings", "escapes"],
)
def test_ten_times_the_text_takes_about_ten_times_as_long(make: Callable[[int], str]) -> None:
    # An attack on the reader's regular expressions: text they could read
    # in time that grows faster than the text (backtracking, or searching
    # again from inside a statement) shows here as a ratio far above 10.
    def seconds(text: str) -> float:
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            rewrite(text, MAP, format="nginx", gateway=GW)
            best = min(best, time.perf_counter() - start)
        return best

    small, large = seconds(make(20_000)), seconds(make(200_000))
    assert large < 40 * max(small, 5e-3), (small, large)


def test_lexer_offsets_and_quotes() -> None:
    text = 'a "b c" d\\ e ${x}}y ;'
    (st, close) = list(statements("x { " + text + " }"))[1:]
    assert st.directive == "a"
    assert [t.raw for t in st.args] == ['"b c"', "d\\ e", "${x}}y"]
    assert close.end == "}"
    assert [("x { " + text)[t.start : t.start + len(t.raw)] for t in st.args] == [
        t.raw for t in st.args
    ]


def test_a_lua_string_does_not_go_on_past_an_escaped_newline() -> None:
    """ngx_lua's lexer ends no string at a backslash-newline, so where the block ends
    is not what a string that goes on would say: hostgw stops there, with the place,
    rather than read the lines after it as Lua (and miss the target nginx reads)."""
    text = (
        'location / {\ncontent_by_lua_block {\nngx.say("\\\n}"proxy_pass" '
        'http://backend:8000; location /x { #")\n}\n}\n'
    )
    with pytest.raises(RewriteError, match=r"x:3:9: unclosed string in Lua block"):
        rewrite(text, MAP, format="nginx", gateway=GW, path="x")
    ok = 'content_by_lua_block {\nngx.say("a\\"b}")\n}\nproxy_pass http://backend:8000;\n'
    assert rewrite(ok, MAP, format="nginx", gateway=GW).text.endswith(
        "proxy_pass http://172.17.0.1:18000;\n"
    )


def test_an_upstream_is_named_only_by_targets_of_its_own_context() -> None:
    """A stream upstream is no name for an http proxy_pass (nginx's http side looks
    the host up), and an http one none for stream: each context has its own."""
    text = (
        "stream { upstream backend { server 127.0.0.1:9000; } server { proxy_pass backend; } }\n"
        "http { server { location / { proxy_pass http://backend; } } }\n"
    )
    result = rewrite(text, ["backend=18000"], format="nginx", gateway=GW)
    assert "proxy_pass http://172.17.0.1:18000;" in result.text
    assert "server { proxy_pass backend; }" in result.text
    assert [n.line for n in result.notes] == [1]  # the stream one names its upstream
    http_named = text.replace("stream { upstream backend", "http { upstream backend", 1)
    again = rewrite(http_named, ["backend=18000"], format="nginx", gateway=GW)
    assert "proxy_pass http://backend;" in again.text  # now it names the http upstream
