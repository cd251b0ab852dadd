"""Tell a config's format from its file name, then from its content (pure).

The name decides when it is unambiguous (``nginx.conf``, ``haproxy.cfg``,
``Caddyfile``, ``httpd.conf``, a path under ``nginx/``, ``haproxy/``,
``apache2/``, ``httpd/`` or ``caddy/``). Otherwise every format scores the
lines that only it would write; the clear winner is the answer, and a tie or
no evidence at all is None (the caller asks for ``--format``).
"""

from __future__ import annotations

import functools
import re

from hostgw.formats import by_name

# What only each format writes (compiled when the name does not decide).
_EVIDENCE_SOURCE = {
    "nginx": (
        r"^\s*(?:(?:proxy|grpc|fastcgi|uwsgi|scgi|memcached)_pass\s+[^;]*;"
        r"|(?:http|events|stream|upstream\s+\S+|server|location\s+[^{]*)\s*\{"
        r"|listen\s+[^;]*;|(?:worker_processes|server_name|root|include)\s+[^;]*;)"
    ),
    "haproxy": (
        r"^\s*(?:(?:frontend|backend|listen)\s+\S+|global|defaults(?:\s+\S+)?)\s*(?:#.*)?$"
        r"|^\s*(?:bind|default_backend|use_backend|mode\s+(?:http|tcp)|balance|timeout\s+\w+)\b"
        r"[^;{]*$"
    ),
    "apache": (
        r"^\s*(?:</?(?:VirtualHost|Location|Directory|Proxy|IfModule|LocationMatch)\b"
        r"|(?:ProxyPass|ProxyPassReverse|ProxyPassMatch|BalancerMember|LoadModule|ServerName"
        r"|ServerRoot|DocumentRoot|RewriteRule|RewriteEngine|Listen|ErrorLog|Include"
        r"|IncludeOptional)\s)"
    ),
    "caddy": (
        r"^\s*(?:reverse_proxy|file_server|encode|php_fastcgi|tls|handle_path|handle|route"
        r"|respond|redir|uri|header)\b[^;{]*(?:\{)?\s*$"
        r"|^\s*(?:https?://)?[\w.*-]*(?::\d+)?(?:,\s*\S+)*\s*\{\s*$"
    ),
}


@functools.cache
def _evidence() -> dict[str, re.Pattern[str]]:
    return {fmt: re.compile(source, re.M) for fmt, source in _EVIDENCE_SOURCE.items()}


def sniff(text: str, path: str | None) -> str | None:
    """The format of ``text`` (named ``path``), or None when it is unclear."""
    named = by_name(path)
    if named is not None:
        return named
    head = text[:65536]
    scores = {fmt: len(pattern.findall(head)) for fmt, pattern in _evidence().items()}
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
