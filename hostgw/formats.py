"""Config formats told from a file name: the one table templates and rewriting share,
and the lexical facts both read configs by (Caddy's blanks, nginx's Lua blocks).

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

#: Caddy's blanks but CR and LF: Go's ``unicode.IsSpace`` (U+001C-U+001F, blanks to
#: Python's ``\s``, are none).
CADDY_BLANKS = " \t\f\v\x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
CADDY_BLANKS += "\u2028\u2029\u202f\u205f\u3000"
#: How a directive's name ends that opens a block ngx_lua reads as Lua.
LUA_BLOCK = "_by_lua_block"
#: In such a block, as ngx_lua's lexer reads it: a long bracket's opening (a long
#: comment's with "--"; group 1: its '='s), and a string by its quote, which closes
#: on its line (a backslash escapes anything but the line's end).
LUA_LONG_OPEN = r"(?:--)?\[(=*)\["
LUA_STRINGS = {'"': r'"(?:[^"\\\n]|\\[^\n])*"', "'": r"'(?:[^'\\\n]|\\[^\n])*'"}

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
