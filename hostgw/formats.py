"""Config formats told from a file name: the one table templates and rewriting share.

Pure. The name decides only when it is unambiguous (``nginx.conf``,
``haproxy.cfg``, ``Caddyfile``, ``httpd.conf``, a path under ``nginx/``,
``haproxy/``, ``apache2/``, ``httpd/`` or ``caddy/``); ``default.conf`` is
None. A template's own suffix (``.template``, ``.tmpl``, ...) is not part of
the name: ``haproxy.cfg.template`` is HAProxy's.
"""

from __future__ import annotations

import re

FORMATS = ("nginx", "haproxy", "apache", "caddy")

_NAMES = (
    (re.compile(r"(^|[/.])caddyfile([./]|$)|\.caddy$", re.I), "caddy"),
    (re.compile(r"haproxy[^/]*\.cfg$|(^|/)haproxy/", re.I), "haproxy"),
    (re.compile(r"(^|/)(httpd|apache2?)[^/]*\.conf$|(^|/)(apache2?|httpd)/", re.I), "apache"),
    (re.compile(r"(^|/)nginx[^/]*\.conf$|(^|/)nginx/|\.nginx$", re.I), "nginx"),
    (re.compile(r"(^|/)caddy/", re.I), "caddy"),
)
_TEMPLATE_SUFFIX = re.compile(r"\.(template|stream-template|tmpl|tpl|in|j2|envsubst)$", re.I)


def by_name(*paths: str | None) -> str | None:
    """The format the first telling name among ``paths`` says, or None."""
    for path in paths:
        if not path:
            continue
        name = _TEMPLATE_SUFFIX.sub("", path)
        for pattern, fmt in _NAMES:
            if pattern.search(name):
                return fmt
    return None
