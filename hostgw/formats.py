"""Config formats told from a file name: the one table templates and rewriting share.

Pure. The name decides only when it is unambiguous (``nginx.conf``,
``haproxy.cfg``, ``Caddyfile``, ``httpd.conf``, a path under ``nginx/``,
``haproxy/``, ``apache2/``, ``httpd/`` or ``caddy/``); ``default.conf`` is
None. A template's own suffix (``.template``, ``.tmpl``, ...) is not part of
the name: ``haproxy.cfg.template`` is HAProxy's.
"""

from __future__ import annotations

import re
from functools import cache

FORMATS = ("nginx", "haproxy", "apache", "caddy")

_NAMES = (
    (r"(^|[/.])caddyfile([./]|$)|\.caddy$", "caddy"),
    (r"haproxy[^/]*\.cfg$|(^|/)haproxy/", "haproxy"),
    (r"(^|/)(httpd|apache2?)[^/]*\.conf$|(^|/)(apache2?|httpd)/", "apache"),
    (r"(^|/)nginx[^/]*\.conf$|(^|/)nginx/|\.nginx$", "nginx"),
    (r"(^|/)caddy/", "caddy"),
)
_TEMPLATE_SUFFIX = r"\.(template|stream-template|tmpl|tpl|in|j2|envsubst)$"


@cache
def _compiled() -> tuple[re.Pattern[str], tuple[tuple[re.Pattern[str], str], ...]]:
    """The table, compiled on first use (not at import: start-up pays for nothing)."""
    names = tuple((re.compile(pattern, re.I), fmt) for pattern, fmt in _NAMES)
    return re.compile(_TEMPLATE_SUFFIX, re.I), names


def by_name(*paths: str | None) -> str | None:
    """The format the first telling name among ``paths`` says, or None."""
    suffix, names = _compiled()
    for path in paths:
        if not path:
            continue
        name = suffix.sub("", path)
        for pattern, fmt in names:
            if pattern.search(name):
                return fmt
    return None
