"""HAProxy, Apache and Caddy table tests, and format detection."""

from __future__ import annotations

from typing import Any

import pytest

from hostgw import rewrite
from hostgw.errors import RewriteError
from hostgw.rewriting import detect_format

MAP = ["backend:8000=18000", "api=19000"]
GW = "172.17.0.1"

HAPROXY = [
    (
        "server",
        "backend b\n  server s1 backend:8000 check weight 10\n",
        "backend b\n  server s1 172.17.0.1:18000 check weight 10\n",
    ),
    ("listen", "listen l\n  server s1 backend:8000\n", "listen l\n  server s1 172.17.0.1:18000\n"),
    (
        "no-port-any-rule",
        "backend b\n  server s api check\n",
        "backend b\n  server s 172.17.0.1:19000 check\n",
    ),
    ("no-port-port-rule", "backend b\n  server s backend\n", "backend b\n  server s backend\n"),
    # HAProxy splits lines at LF only, words at space, tab, VT and FF; a CR ends a line's
    # reading: a comment goes on past a form feed or U+2028, a line's rest after a CR
    # is not read, and a form feed separates words.
    (
        "comment-past-a-form-feed",
        "backend b\n  server s1 a:1 # was\fserver s2 backend:8000\n",
        "backend b\n  server s1 a:1 # was\fserver s2 backend:8000\n",
    ),
    (
        "comment-past-a-line-separator",
        "backend b\n  server s1 a:1 # was\u2028server s2 backend:8000\n",
        "backend b\n  server s1 a:1 # was\u2028server s2 backend:8000\n",
    ),
    (
        "nothing-after-a-cr",
        "backend b\n  server s1 a:1\rserver s2 backend:8000\n",
        "backend b\n  server s1 a:1\rserver s2 backend:8000\n",
    ),
    (
        "form-feed-between-words",
        "backend b\n  server s1\fbackend:8000 check\n",
        "backend b\n  server s1\f172.17.0.1:18000 check\n",
    ),
    (
        "crlf",
        "backend b\r\n  server s1 backend:8000\r\n",
        "backend b\r\n  server s1 172.17.0.1:18000\r\n",
    ),
    (
        "template",
        "backend b\n  server-template w 1-3 api:80 check\n",
        "backend b\n  server-template w 1-3 172.17.0.1:19000 check\n",
    ),
    (
        "ipv4-prefix",
        "backend b\n  server s ipv4@backend:8000\n",
        "backend b\n  server s ipv4@172.17.0.1:18000\n",
    ),
    (
        "unix",
        "backend b\n  server s unix@/run/backend.sock\n",
        "backend b\n  server s unix@/run/backend.sock\n",
    ),
    (
        "peers",
        "peers p\n  server backend backend:8000\n",
        "peers p\n  server backend backend:8000\n",
    ),
    ("frontend", "frontend f\n  server s backend:8000\n", "frontend f\n  server s backend:8000\n"),
    ("comment", "backend b\n  # server s backend:8000\n", "backend b\n  # server s backend:8000\n"),
    ("backend2", "backend b\n  server s backend2:8000\n", "backend b\n  server s backend2:8000\n"),
    (
        "env-var",
        "backend b\n  server s ${BACKEND}:8000\n",
        "backend b\n  server s ${BACKEND}:8000\n",
    ),
    ("relative-port", "backend b\n  server s api:+1000\n", "backend b\n  server s api:+1000\n"),
    (
        "indented-sections",
        "  frontend f\n    default_backend b\n  backend b\n    server s backend:8000\n",
        "  frontend f\n    default_backend b\n  backend b\n    server s 172.17.0.1:18000\n",
    ),
    (
        "indented-ring-ends-backend",
        "backend b\n  server s api:1\n  ring r\n    server log api:514\n",
        "backend b\n  server s 172.17.0.1:19000\n  ring r\n    server log api:514\n",
    ),
    (
        "quoted-section",
        'frontend f\n"backend" b\n  server s api:1\n',
        'frontend f\n"backend" b\n  server s 172.17.0.1:19000\n',
    ),
    (
        "ipv6-prefix-to-v4",
        "backend b\n  server s ipv6@[::1]:8000\n",
        "backend b\n  server s ipv4@172.17.0.1:18000\n",
        ["[::1]:8000=18000"],
    ),
    (
        "ipv4-prefix-to-v6",
        "backend b\n  server s ipv4@api:80\n  server t tcp4@api:80\n  server u tcp@api:80\n",
        "backend b\n  server s ipv6@[fd00::5]:19000\n  server t tcp6@[fd00::5]:19000\n"
        "  server u tcp@[fd00::5]:19000\n",
        ["api=[fd00::5]:19000"],
    ),
]
APACHE = [
    (
        "proxypass",
        "ProxyPass /a/ http://backend:8000/a/ retry=0\n",
        "ProxyPass /a/ http://172.17.0.1:18000/a/ retry=0\n",
    ),
    ("case", "proxypass /a/ HTTP://BACKEND:8000/\n", "proxypass /a/ HTTP://172.17.0.1:18000/\n"),
    (
        "reverse",
        "ProxyPassReverse /a/ http://backend:8000/a/\n",
        "ProxyPassReverse /a/ http://172.17.0.1:18000/a/\n",
    ),
    (
        "match",
        'ProxyPassMatch "^/(.*)$" "http://api/$1"\n',
        'ProxyPassMatch "^/(.*)$" "http://172.17.0.1:19000/$1"\n',
    ),
    ("https-default", "ProxyPass / https://api/\n", "ProxyPass / https://172.17.0.1:19000/\n"),
    (
        "member",
        "BalancerMember http://backend:8000 route=1\n",
        "BalancerMember http://172.17.0.1:18000 route=1\n",
    ),
    (
        "member-named",
        "BalancerMember balancer://c http://api:1\n",
        "BalancerMember balancer://c http://172.17.0.1:19000\n",
    ),
    (
        "rewrite-p",
        "RewriteRule ^/(.*) http://api/$1 [P,L]\n",
        "RewriteRule ^/(.*) http://172.17.0.1:19000/$1 [P,L]\n",
    ),
    (
        "rewrite-proxy",
        "RewriteRule ^/(.*) http://api/$1 [proxy]\n",
        "RewriteRule ^/(.*) http://172.17.0.1:19000/$1 [proxy]\n",
    ),
    (
        "rewrite-r",
        "RewriteRule ^/(.*) http://api/$1 [R=302]\n",
        "RewriteRule ^/(.*) http://api/$1 [R=302]\n",
    ),
    ("exclusion", "ProxyPass /x !\n", "ProxyPass /x !\n"),
    ("comment", "# ProxyPass / http://backend:8000/\n", "# ProxyPass / http://backend:8000/\n"),
    (
        "unix",
        "ProxyPass / unix:/run/api.sock|http://api/\n",
        "ProxyPass / unix:/run/api.sock|http://api/\n",
    ),
    ("define", "ProxyPass / http://${API}/\n", "ProxyPass / http://${API}/\n"),
    (
        "continued",
        "ProxyPass /a \\\n  http://backend:8000/\n",
        "ProxyPass /a \\\n  http://172.17.0.1:18000/\n",
    ),
    ("mybackend", "ProxyPass / http://mybackend:8000/\n", "ProxyPass / http://mybackend:8000/\n"),
    (
        "continued-crlf",
        "RewriteRule ^/(.*) \\\r\n  http://api/$1 [P]\r\n",
        "RewriteRule ^/(.*) \\\r\n  http://172.17.0.1:19000/$1 [P]\r\n",
    ),
    (
        # httpd 2.4 continues a line after a doubled backslash too
        "double-backslash-continues",
        "ProxyPass /a \\\\\n  http://api/\n",
        "ProxyPass /a \\\\\n  http://172.17.0.1:19000/\n",
    ),
]
CADDY = [
    # Caddy's blanks are Go's unicode.IsSpace: U+00A0, U+0085 and U+2028 split words
    # (caddy adapt dials two upstreams); U+001C, a blank to Python, is a character.
    (
        "unicode-blank-between-upstreams",
        "x {\n  reverse_proxy a:80\u00a0backend:8000\n}\n",
        "x {\n  reverse_proxy a:80\u00a0172.17.0.1:18000\n}\n",
    ),
    (
        "next-line-between-upstreams",
        "x {\n  reverse_proxy a:80\x85backend:8000\u2028b:1\n}\n",
        "x {\n  reverse_proxy a:80\x85172.17.0.1:18000\u2028b:1\n}\n",
    ),
    (
        "information-separator-is-a-character",
        "x {\n  reverse_proxy a:80\x1cbackend:8000\n}\n",
        "x {\n  reverse_proxy a:80\x1cbackend:8000\n}\n",
    ),
    (
        "inline",
        "x {\n  reverse_proxy backend:8000\n}\n",
        "x {\n  reverse_proxy 172.17.0.1:18000\n}\n",
    ),
    (
        "matcher",
        "x {\n  reverse_proxy /api/* api:80 backend:8000\n}\n",
        "x {\n  reverse_proxy /api/* 172.17.0.1:19000 172.17.0.1:18000\n}\n",
    ),
    (
        "named-matcher",
        "x {\n  reverse_proxy @a http://api\n}\n",
        "x {\n  reverse_proxy @a http://172.17.0.1:19000\n}\n",
    ),
    (
        "to",
        "x {\n  reverse_proxy {\n    to backend:8000 https://api\n    lb_policy first\n  }\n}\n",
        "x {\n  reverse_proxy {\n    to 172.17.0.1:18000 https://172.17.0.1:19000\n"
        "    lb_policy first\n  }\n}\n",
    ),
    (
        "to-elsewhere",
        "x {\n  redir {\n    to backend:8000\n  }\n}\n",
        "x {\n  redir {\n    to backend:8000\n  }\n}\n",
    ),
    (
        "comment",
        "x {\n  # reverse_proxy backend:8000\n}\n",
        "x {\n  # reverse_proxy backend:8000\n}\n",
    ),
    (
        "quoted-respond",
        'x {\n  respond "reverse_proxy backend:8000"\n}\n',
        'x {\n  respond "reverse_proxy backend:8000"\n}\n',
    ),
    ("placeholder", "x {\n  reverse_proxy {$BACKEND}\n}\n", "x {\n  reverse_proxy {$BACKEND}\n}\n"),
    (
        "backend2",
        "x {\n  reverse_proxy backend2:8000\n}\n",
        "x {\n  reverse_proxy backend2:8000\n}\n",
    ),
    ("php", "x {\n  php_fastcgi api:9000\n}\n", "x {\n  php_fastcgi 172.17.0.1:19000\n}\n"),
    (
        "heredoc-status",
        "x {\n  respond <<EOF\n    reverse_proxy api:1\n    EOF 200\n  reverse_proxy api:1\n}\n",
        "x {\n  respond <<EOF\n    reverse_proxy api:1\n    EOF 200\n"
        "  reverse_proxy 172.17.0.1:19000\n}\n",
    ),
    (
        "continued",
        "x {\n  reverse_proxy /x \\\n    backend:8000 \\\r\n    api:1\n}\n",
        "x {\n  reverse_proxy /x \\\n    172.17.0.1:18000 \\\r\n    172.17.0.1:19000\n}\n",
    ),
    (
        "crlf-block",
        "x {\r\n  reverse_proxy {\r\n    to api:1\r\n  }\r\n}\r\n",
        "x {\r\n  reverse_proxy {\r\n    to 172.17.0.1:19000\r\n  }\r\n}\r\n",
    ),
    (
        "escape-before-comment-continues",
        "x {\n  reverse_proxy /a \\ # b\n    api:1\n}\n",
        "x {\n  reverse_proxy /a \\ # b\n    172.17.0.1:19000\n}\n",
    ),
    (
        "quoted-newline-same-line",
        'x {\n  reverse_proxy "api:1\n" backend:8000\n}\n',
        'x {\n  reverse_proxy "api:1\n" 172.17.0.1:18000\n}\n',
    ),
]


def _ids(cases: list[tuple[Any, ...]]) -> list[str]:
    return [c[0] for c in cases]


def _rows(fmt: str, cases: list[tuple[Any, ...]]) -> list[tuple[str, str, str, list[str]]]:
    return [(fmt, c[1], c[2], c[3] if len(c) > 3 else MAP) for c in cases]


@pytest.mark.parametrize(
    ("fmt", "before", "after", "maps"),
    _rows("haproxy", HAPROXY) + _rows("apache", APACHE) + _rows("caddy", CADDY),
    ids=[f"haproxy-{i}" for i in _ids(HAPROXY)]
    + [f"apache-{i}" for i in _ids(APACHE)]
    + [f"caddy-{i}" for i in _ids(CADDY)],
)
def test_table(fmt: str, before: str, after: str, maps: list[str]) -> None:
    result = rewrite(before, maps, format=fmt, gateway=GW)
    assert result.text == after
    assert rewrite(after, maps, format=fmt, gateway=GW).text == after


def test_family_prefix_change_is_one_change() -> None:
    result = rewrite(
        "listen l\n  server s ipv6@[::1]:8000\n", ["[::1]=18000"], format="haproxy", gateway=GW
    )
    assert [(c.line, c.col, c.old, c.new) for c in result.changes] == [
        (2, 12, "ipv6@[::1]:8000", "ipv4@172.17.0.1:18000")
    ]


def test_member_named_keeps_explicit_port_rule() -> None:
    # api:1 has a port; the any-port rule for api still applies
    out = rewrite("BalancerMember balancer://c http://api:1\n", MAP, format="apache", gateway=GW)
    assert "http://172.17.0.1:19000" in out.text


@pytest.mark.parametrize(
    ("path", "text", "fmt"),
    [
        ("/etc/nginx/conf.d/default.conf", "", "nginx"),
        ("/usr/local/etc/haproxy/haproxy.cfg", "", "haproxy"),
        ("/etc/caddy/Caddyfile", "", "caddy"),
        ("/usr/local/apache2/conf/httpd.conf", "", "apache"),
        (
            "site.conf",
            "server {\n  listen 80;\n  location / { proxy_pass http://a; }\n}\n",
            "nginx",
        ),
        ("lb.cfg", "defaults\n  mode http\nbackend b\n  server s a:1\n", "haproxy"),
        ("vhost.conf", "<VirtualHost *:80>\n  ProxyPass / http://a/\n</VirtualHost>\n", "apache"),
        ("site", "example.com {\n  reverse_proxy a:1\n}\n", "caddy"),
    ],
)
def test_detect_format(path: str, text: str, fmt: str) -> None:
    assert detect_format(text, path) == fmt


def test_unknown_format_is_an_error() -> None:
    with pytest.raises(RewriteError, match="cannot tell") as info:
        rewrite("hello\n", MAP, path="notes.txt")
    assert info.value.hint and "--format" in info.value.hint


def test_caddy_unclosed_quote() -> None:
    with pytest.raises(RewriteError, match=r"x.caddy:2:7: unclosed"):
        rewrite('x {\n  foo "bar\n}\n', MAP, format="caddy", path="x.caddy")
