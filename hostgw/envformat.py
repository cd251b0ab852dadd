"""Write ``NAME=value`` pairs for a shell, an env file, or JSON: pure functions.

``sh`` output is for ``eval "$(hostgw env)"``: every value single-quoted, so
nothing in it (brackets, ``%``, quotes) is expanded. ``dotenv`` output is for
``docker run --env-file`` and compose's ``env_file``; Docker takes values
literally, so they are written bare when they are plain (addresses always
are) and double-quoted otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping

FORMATS = ("sh", "dotenv", "json")

_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:%[]-/,+@")


def sh_quote(value: str) -> str:
    """``value`` in single quotes for a POSIX shell (``'`` becomes ``'\\''``)."""
    return "'" + value.replace("'", "'\\''") + "'"


def _dotenv_value(value: str) -> str:
    if value and all(c in _PLAIN for c in value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def format_env(values: Mapping[str, str], fmt: str = "sh") -> str:
    """The variables as text in ``fmt`` (one of :data:`FORMATS`), ending in a newline."""
    if fmt == "sh":
        return "".join(f"export {k}={sh_quote(v)}\n" for k, v in values.items())
    if fmt == "dotenv":
        return "".join(f"{k}={_dotenv_value(v)}\n" for k, v in values.items())
    if fmt == "json":
        import json

        return json.dumps(dict(values), indent=2) + "\n"
    raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
