"""Tell a config's format from its file name, then from its content (pure).

The name decides when it is unambiguous (``nginx.conf``, ``haproxy.cfg``,
``Caddyfile``, ``httpd.conf``, a path under ``nginx/``, ``haproxy/``,
``apache2/``, ``httpd/`` or ``caddy/``). Otherwise every format scores the
lines that only it would write; the clear winner is the answer, and a tie or
no evidence at all is None (the caller asks for ``--format``).

The content is read line by line, each line judged by its words: time is
linear in the text whatever it holds (no pattern here can backtrack over a
line, let alone across lines), and only the first 64 KiB are read.
"""

from __future__ import annotations

import re

from hostgw.formats import FORMATS, by_name

_HEAD = 65536

_NGINX_PASS = frozenset({"proxy_pass", "grpc_pass", "fastcgi_pass", "uwsgi_pass", "scgi_pass"})
_NGINX_PASS |= {"memcached_pass"}
_NGINX_BLOCKS = ("http", "events", "stream", "server")
_NGINX_SET = frozenset({"listen", "worker_processes", "server_name", "root", "include"})
_HAPROXY_SECTIONS = frozenset({"frontend", "backend", "listen"})
_HAPROXY_LINES = frozenset({"bind", "default_backend", "use_backend", "balance"})
_APACHE_BLOCK = re.compile(r"</?(?:VirtualHost|Location|Directory|Proxy|IfModule|LocationMatch)\b")
_APACHE_WORDS = frozenset(
    {"ProxyPass", "ProxyPassReverse", "ProxyPassMatch", "BalancerMember", "LoadModule"}
    | {"ServerName", "ServerRoot", "DocumentRoot", "RewriteRule", "RewriteEngine", "Listen"}
    | {"ErrorLog", "Include", "IncludeOptional"}
)
_CADDY_DIRECTIVE = re.compile(
    r"(?:reverse_proxy|file_server|encode|php_fastcgi|tls|handle_path|handle|route"
    r"|respond|redir|uri|header)\b"
)
_CADDY_ADDRESS = re.compile(r"(?:https?://)?[\w.*-]*(?::\d+)?")


def _opens(rest: str) -> bool:
    """``rest`` (what follows a word) starts a block: blanks, then ``{``."""
    return rest.lstrip().startswith("{")


def _ends_section(words: list[str], most: int) -> bool:
    """At most ``most`` words, then only a comment."""
    return len(words) <= most or words[most].startswith("#")


def _votes(line: str) -> list[str]:
    """The formats that ``line`` (stripped, not blank) is evidence for."""
    words = line.split()
    first = words[0]
    rest = line[len(first) :]
    found: list[str] = []
    if (
        (first in _NGINX_PASS and ";" in rest)
        or (first in _NGINX_SET and ";" in rest)
        or any(line.startswith(b) and _opens(line[len(b) :]) for b in _NGINX_BLOCKS)
        or (first in ("upstream", "location") and len(words) > 1 and "{" in rest)
    ):
        found.append("nginx")
    if (
        (first in _HAPROXY_SECTIONS and len(words) > 1 and _ends_section(words, 2))
        or (first == "global" and _ends_section(words, 1))
        or (first == "defaults" and _ends_section(words, 2))
        or (
            not any(c in line for c in ";{")
            and (
                first in _HAPROXY_LINES
                or (first == "mode" and words[1:2] in (["http"], ["tcp"]))
                or (first == "timeout" and len(words) > 1)
            )
        )
    ):
        found.append("haproxy")
    if _APACHE_BLOCK.match(line) or (first in _APACHE_WORDS and len(words) > 1):
        found.append("apache")
    body = line[:-1] if line.endswith("{") else line
    if (_CADDY_DIRECTIVE.match(line) and ";" not in line and "{" not in body) or (
        line.endswith("{") and _caddy_site(body.rstrip())
    ):
        found.append("caddy")
    return found


def _caddy_site(head: str) -> bool:
    """``head`` is a Caddy site's address list: an address, then comma-separated others."""
    first, comma, others = head.partition(",")
    if _CADDY_ADDRESS.fullmatch(first) is None:
        return False
    return not comma or all(p.strip() and len(p.split()) == 1 for p in others.split(","))


def sniff(text: str, path: str | None) -> str | None:
    """The format of ``text`` (named ``path``), or None when it is unclear."""
    named = by_name(path)
    if named is not None:
        return named
    head = text[:_HEAD]
    scores = dict.fromkeys(FORMATS, 0)
    for raw in head.splitlines():
        line = raw.strip()
        if line:
            for fmt in _votes(line):
                scores[fmt] += 1
    # A semicolon-terminated directive is nginx's mark; Caddy never writes one.
    if scores["nginx"] and ";" in head:
        scores["caddy"] = 0
    best = max(scores.values())
    if best == 0:
        return None
    winners = [fmt for fmt, score in scores.items() if score == best]
    if len(winners) > 1:
        return None
    return winners[0]
