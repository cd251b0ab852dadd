"""A port of nginx's config reader, the judge of hostgw's nginx lexers.

:func:`nginx_tokens` follows ``ngx_conf_read_token`` and ``ngx_conf_parse``
(nginx 1.22, src/core/ngx_conf_file.c) character by character: the same
states (``last_space``, ``need_space``, ``quoted``, ``d_quoted``,
``s_quoted``, ``variable``, ``sharp_comment``), the same errors, and the
same copying of a word (``\\"`` ``\\'`` ``\\\\`` lose the backslash, ``\\t``
``\\r`` ``\\n`` become control characters). A ``trace`` is told the state
each character is read in: ``comment``, ``escaped`` (after a backslash),
``need_space`` (right after a closing quote), ``dq``, ``sq`` or ``word``.
"""

from __future__ import annotations

from collections.abc import Callable

Trace = Callable[[int, str], None]

_SPACE = " \t\r\n"
_COPY = {'"': '"', "'": "'", "\\": "\\", "t": "\t", "r": "\r", "n": "\n"}


class Refused(Exception):
    """nginx would stop reading here."""


def _word(raw: str) -> str:
    out, i = [], 0
    while i < len(raw):
        if raw[i] == "\\" and i + 1 < len(raw) and raw[i + 1] in _COPY:
            out.append(_COPY[raw[i + 1]])
            i += 2
        else:
            out.append(raw[i])
            i += 1
    return "".join(out)


def _read_token(text: str, pos: int, trace: Trace | None = None) -> tuple[int, list[str], str]:
    """One ``ngx_conf_read_token``: the new offset, the words, and ``;`` ``{`` ``}`` or EOF.
    ``trace(offset, state)`` is told the state each character is read in."""
    args: list[str] = []
    need_space = sharp_comment = variable = quoted = s_quoted = d_quoted = False
    last_space = True
    start = pos
    while True:
        if pos >= len(text):
            if args or not last_space:
                raise Refused("unexpected end of file")
            return pos, args, "eof"
        ch = text[pos]
        if trace is not None:
            trace(pos, _state(sharp_comment, quoted, need_space, d_quoted, s_quoted))
        pos += 1
        if ch == "\n" and sharp_comment:
            sharp_comment = False
        if sharp_comment:
            continue
        if quoted:
            quoted = False
            continue
        if need_space:
            if ch in _SPACE:
                last_space, need_space = True, False
                continue
            if ch in ";{":
                return pos, args, ch
            if ch == ")":
                last_space, need_space = True, False
            else:
                raise Refused(f"unexpected {ch!r}")
        if last_space:
            start = pos - 1
            if ch in _SPACE:
                continue
            if ch in ";{":
                if not args:
                    raise Refused(f"unexpected {ch!r}")
                return pos, args, ch
            if ch == "}":
                if args:
                    raise Refused("unexpected }")
                return pos, args, "}"
            if ch == "#":
                sharp_comment = True
                continue
            last_space = False
            if ch == "\\":
                quoted = True
            elif ch == '"':
                start, d_quoted = start + 1, True
            elif ch == "'":
                start, s_quoted = start + 1, True
            elif ch == "$":
                variable = True
            continue
        if ch == "{" and variable:
            continue
        variable = False
        if ch == "\\":
            quoted = True
            continue
        if ch == "$":
            variable = True
            continue
        found = False
        if d_quoted:
            if ch == '"':
                d_quoted, need_space, found = False, True, True
        elif s_quoted:
            if ch == "'":
                s_quoted, need_space, found = False, True, True
        elif ch in _SPACE or ch in ";{":
            last_space = found = True
        if found:
            args.append(_word(text[start : pos - 1]))
            if ch in ";{":
                return pos, args, ch


def nginx_tokens(text: str, trace: Trace | None = None) -> list[tuple[str, list[str], str]]:
    """``(name, args, end)`` per statement, as ``ngx_conf_parse`` meets them; :class:`Refused`.
    ``trace``: as for :func:`_read_token`."""
    found: list[tuple[str, list[str], str]] = []
    pos = depth = 0
    while True:
        pos, words, end = _read_token(text, pos, trace)
        if end == "eof":
            if depth:
                raise Refused('unexpected end of file, expecting "}"')
            return found
        if end == "}":
            if not depth:
                raise Refused("unexpected }")
            depth -= 1
            found.append(("}", [], "}"))
            continue
        depth += end == "{"
        found.append((words[0], words[1:], end))


def _state(comment: bool, quoted: bool, need_space: bool, dq: bool, sq: bool) -> str:
    if comment:
        return "comment"
    if quoted:
        return "escaped"
    if need_space:
        return "need_space"
    return "dq" if dq else "sq" if sq else "word"
