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
    return draw(st.sampled_from([body, f"server {{\n{body}\n}}\n", f"stream {{ {body} }}"]))
