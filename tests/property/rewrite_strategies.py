"""Hypothesis strategies for proxy configs: hosts, targets, nginx statements."""

from __future__ import annotations

from hypothesis import strategies as st

# Names around the mapped "backend": the traps (backend2, mybackend, BACKEND).
HOSTS = st.sampled_from(
    [
        "backend",
        "backend2",
        "mybackend",
        "BACKEND",
        "api",
        "db.internal",
        "10.0.0.7",
        "[fd00::7]",
        "$up",
        "unix:/run/backend.sock",
    ]
)
PORTS = st.one_of(st.none(), st.sampled_from([80, 443, 8000, 9000]))
SCHEMES = st.sampled_from(["http://", "https://", "grpc://", ""])
PATHS = st.sampled_from(["", "/", "/api/", "/x?y=1", "$request_uri"])
COMMENTS = st.sampled_from(["", " # proxy_pass http://backend:8000;", "#backend:8000"])
SPACE = st.sampled_from([" ", "\t", "\n", "  \r\n", " # c\n "])


@st.composite
def targets(draw: st.DrawFn) -> str:
    """A target as a config would write it, sometimes quoted."""
    port = draw(PORTS)
    text = draw(SCHEMES) + draw(HOSTS) + (f":{port}" if port else "") + draw(PATHS)
    quote = draw(st.sampled_from(["", '"', "'"]))
    return f"{quote}{text}{quote}"


@st.composite
def nginx_statement(draw: st.DrawFn) -> str:  # noqa: PLR0911 - one return per kind
    """One nginx statement a real config could hold."""
    target = draw(targets())
    sp = draw(SPACE)
    kind = draw(st.integers(0, 6))
    if kind == 0:
        name = draw(
            st.sampled_from(
                [
                    "proxy_pass",
                    "grpc_pass",
                    "fastcgi_pass",
                    "uwsgi_pass",
                    "scgi_pass",
                    "memcached_pass",
                ]
            )
        )
        return f"{name}{sp}{target};" + draw(COMMENTS)
    if kind == 1:
        params = draw(st.sampled_from(["", " weight=5", " backup", " max_fails=3 fail_timeout=5s"]))
        return f"upstream u{draw(st.integers(0, 3))} {{{sp}server {target}{params};{sp}}}"
    if kind == 2:
        return f"set $up {target};"
    if kind == 3:
        return f'content_by_lua_block {{ local s = "proxy_pass {target}; }}" -- }}\n}}'
    if kind == 4:
        return f"location /{draw(st.integers(0, 9))}/ {{{sp}proxy_pass {target};{sp}}}"
    if kind == 5:
        return "# " + f"proxy_pass {target};"
    return f"add_header X-T {target} always;"


@st.composite
def nginx_config(draw: st.DrawFn) -> str:
    """A config made of statements, some wrapped in server / stream blocks."""
    parts = draw(st.lists(nginx_statement(), max_size=12))
    body = "\n".join(parts)
    return draw(st.sampled_from([body, f"server {{\n{body}\n}}\n", f"stream {{ {body}\n}}"]))


# -- nginx text that is valid but lexically tricky (for the fast walk) ---------
TRICKY_WORDS = st.sampled_from(
    [
        "a",
        "a}",
        "b}c",
        "${x}",
        "a${x}b",
        "$y",
        "x$",
        "\\{",
        "a\\}",
        "\\;",
        "a\\ b",
        "\\#x",
        '"q;{}"',
        "'q # x'",
        '"a"',
        "'$a ${b}'",
        'x"y',
        "a#b",
        "a'b;",
        '")',
        "http://backend:8000",
        "backend:8000",
        "http://backend2",
        "backend",
        "_by_lua_block",
        "upstream",
        "map",
        "set",
        "server",
    ]
)
TRICKY_NAMES = st.sampled_from(
    ["a", "listen", "proxy_pass", "set", "server", "upstream", "map", "geo", "stream", "x}"]
)
TRICKY_SPACE = st.sampled_from([" ", "\t", "\n", "\r\n", " # c {\n", " # backend:8000\n", "#x\n"])


@st.composite
def tricky_nginx(draw: st.DrawFn, depth: int = 0) -> str:
    """Valid nginx text full of quotes, escapes, ${}, braces in words and comments."""
    out: list[str] = []
    for _ in range(draw(st.integers(0, 5))):
        sp = draw(TRICKY_SPACE)
        kind = draw(st.integers(0, 9))
        name = draw(TRICKY_NAMES)
        args = "".join(" " + draw(TRICKY_WORDS) for _ in range(draw(st.integers(0, 3))))
        if kind <= 5 or depth >= 2:
            out.append(f"{sp}{name}{args}{draw(st.sampled_from([';', ' ;', sp + ';']))}")
        elif kind <= 7:
            out.append(f"{sp}{name}{args} {{{draw(tricky_nginx(depth + 1))}{sp}}}")
        elif kind == 8:
            body = draw(st.sampled_from(["", " local t = {1} ", " s = '}' -- }\n", " x = [[}]] "]))
            out.append(f"{sp}content_by_lua_block {{{body}}}")
        else:
            out.append(sp)
    return "".join(out)
