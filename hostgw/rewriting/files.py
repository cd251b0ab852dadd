"""Rewrite config files: pristine originals, includes, one plan per run (I/O edge).

Re-runs: the first in-place rewrite of a file keeps its original bytes (see
:mod:`hostgw.rewriting.pristine` for where), and every later run rewrites
from that copy. A restarted container that finds a new gateway therefore
gets the right target, and running twice equals once. If the file was
edited since (it no longer equals the copy with only target tokens
changed), the edited file becomes the new original, with a warning.

"Only target tokens changed" is judged by what hostgw itself writes at a
target: the original's token, or ``host:port`` as :mod:`hostgw.addr` reads
it (a bracketed IPv6 address with or without a zone, an IPv4 address, a
host name), whatever its characters.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from hostgw.addr import family_of, is_hostname, parse_ip, parse_port
from hostgw.errors import RewriteError, UsageError
from hostgw.fileio import decode, encode, read_input
from hostgw.record import Record
from hostgw.rewriting import Mappings, Note, RewriteResult, detect_format, rewrite
from hostgw.rewriting.engine import Editor

__all__ = ["FileResult", "Plan", "decode", "encode", "plan", "read_stdin", "read_text"]

_MAX_HOST = 300  # past any host name or address hostgw writes
_FAMILY_TOKENS = ("ipv4", "ipv6")  # HAProxy's family prefix, which follows the address


def read_text(path: Path) -> str:
    """The file's text (at most the input cap); a missing or unreadable file is a
    :class:`RewriteError`."""
    try:
        return decode(read_input(path))
    except OSError as exc:
        raise RewriteError(
            f"cannot read {path}: {exc.strerror or exc}",
            path=str(path),
            hint="check the path (and --prefix for includes)",
        ) from exc


def read_stdin(stream: BinaryIO) -> str:
    """A config given on stdin, as text (at most the input cap)."""
    try:
        return decode(read_input(stream))
    except OSError as exc:
        raise RewriteError(f"cannot read stdin: {exc.strerror or exc}", path="-") from exc


class FileResult(Record):
    """One file of a run: what it holds now, what it will hold, the result."""

    path: Path
    current: str
    result: RewriteResult
    orig: str | None = None  # in place: the original it was rewritten from
    kept: Path | None = None  # where a copy of the original is on disk (None: nowhere)
    fresh: bool = False  # ``orig`` is newer than that copy (first run, or edited since)

    @property
    def changed(self) -> bool:
        """Whether the file's bytes would change."""
        return self.result.text != self.current


class Plan:
    """Every file a run reads and the outcome for each."""

    def __init__(self, files: list[FileResult] | None = None, *, format: str = "nginx") -> None:
        self.files: list[FileResult] = files or []
        self.notes: list[Note] = []
        self.format = format
        self.written: list[Path] = []  # the files a run wrote (not the kept originals)

    @property
    def unused(self) -> list[str]:
        """Specs of rules that matched in no file."""
        if not self.files:
            return []
        sets = [{r.spec for r in f.result.unused} for f in self.files]
        return sorted(set.intersection(*sets))

    def change_lines(self) -> list[str]:
        """One line per change, as ``rewrite`` shows them; one line for a file that is
        already as the run would make it (rewritten from its kept original before)."""
        lines: list[str] = []
        for f in self.files:
            n = len(f.result.changes)
            if f.changed or not n:
                lines += [str(c) for c in f.result.changes]
            else:
                lines.append(f"{f.path}: already rewritten, unchanged ({n} target{'s' * (n > 1)})")
        return lines

    def warning_lines(self) -> list[str]:
        """The warnings, one line each, worded as every command shows them."""
        lines = [str(note) for note in self.notes]
        lines += [str(n) for f in self.files for n in f.result.notes]
        lines += [f"--map {spec} matched nothing" for spec in self.unused]
        return lines


def nginx_prefix(path: Path, prefix: str | None = None) -> Path:
    """The directory nginx resolves relative paths of ``path`` against.

    ``--prefix`` wins; a file in ``conf.d/`` (or ``sites-enabled/``…) is
    below the main config, so the prefix is the directory above.
    """
    from hostgw.rewriting.includes import root

    return root("nginx", path, "", prefix)


def plan(
    paths: list[Path],
    mappings: Mappings,
    *,
    fmt: str | None,
    gateway: str | Callable[[], str] | None,
    in_place: bool,
    follow_includes: bool = False,
    prefix: str | None = None,
    state: Path | None = None,
) -> Plan:
    """Read ``paths`` (and with ``follow_includes`` what they include), rewrite each.

    ``in_place`` rewrites from the originals kept under the state directory
    ``state`` (default: :func:`hostgw.rewriting.pristine.state_dir`) or
    beside the files; otherwise each file is its own original.
    """
    from hostgw.rewriting.pristine import state_dir

    state = state or state_dir()
    out = Plan()
    top: Path | None = None  # where relative includes start from
    snippets: set[str] = set()  # Caddy snippets defined so far
    todo = list(paths)
    seen: set[Path] = set()
    texts: dict[Path, _Source] = {}
    while todo:
        path = todo.pop(0)
        key = path.resolve()
        if key in seen:
            continue
        seen.add(key)
        source = _source(path, state if in_place else None, fmt)
        if source.note:
            out.notes.append(source.note)
        texts[path] = source
        out.format = fmt = fmt or detect_format(source.base, str(path))
        if follow_includes:
            top = top or _include_root(fmt, path, source.base, prefix)
            todo.extend(_included(fmt, source.base, path, top, notes=out.notes, snippets=snippets))
    upstreams: set[str] = set()
    if fmt == "nginx" and len(texts) > 1:
        from hostgw.rewriting.nginx import scan

        for path, source in texts.items():
            upstreams |= scan(source.base, path=str(path)).upstreams
    for path, source in texts.items():
        result = rewrite(
            source.base, mappings, format=fmt, gateway=gateway, path=str(path), upstreams=upstreams
        )
        orig = source.base if in_place else None
        out.files.append(FileResult(path, source.current, result, orig, source.kept, source.fresh))
    return out


def _include_root(fmt: str, main: Path, text: str, prefix: str | None) -> Path:
    from hostgw.rewriting import includes

    if fmt not in includes.FORMATS:
        raise UsageError(
            f"--follow-includes: {fmt} configs have no include hostgw follows",
            hint="name every file to rewrite: hostgw rewrite -m ... a.cfg b.cfg",
        )
    return includes.root(fmt, main, text, prefix)


def _included(
    fmt: str,
    text: str,
    path: Path,
    top: Path,
    *,
    notes: list[Note],
    snippets: set[str],
) -> list[Path]:
    """The files the includes of ``text`` reach; a Caddy import of no file is warned about.

    (Such an import may name a snippet defined in another file.)
    """
    import glob

    from hostgw.rewriting import includes

    found: list[Path] = []
    for inc in includes.find(fmt, text, path, top, snippets):
        reached = includes.expand(fmt, inc, path)
        if not reached and fmt == "caddy" and not glob.has_magic(inc.full):
            line = text.count("\n", 0, inc.start) + 1
            why = "no such file (a snippet?), not followed"
            notes.append(Note(line, 1, f"{inc.directive} {inc.raw}: {why}", str(path)))
        found.extend(reached)
    return found


class _Source(Record):
    current: str  # the file now
    base: str  # what to rewrite from
    kept: Path | None = None  # where its original is kept
    fresh: bool = False  # base is newer than that copy
    note: Note | None = None


def _source(path: Path, state: Path | None, fmt: str | None) -> _Source:
    """The file and its original (in place: ``state`` is the state directory)."""
    from hostgw.rewriting.pristine import find

    current = read_text(path)
    if state is None:
        return _Source(current, current)
    passed: list[str] = []
    kept = find(path, state, passed)
    if kept is None:
        note = Note(1, 1, passed[0], str(path)) if passed else None
        return _Source(current, current, fresh=True, note=note)
    base = kept.text
    if current == base or derived(current, base, fmt or detect_format(base, str(path))):
        return _Source(current, base, kept.at)
    note = Note(
        1,
        1,
        f"{path} changed since hostgw last rewrote it: taking it as the new "
        f"original (replacing {kept.at})",
        str(path),
    )
    return _Source(current, current, kept.at, True, note)


def derived(current: str, base: str, fmt: str) -> bool:
    """Whether ``current`` is ``base`` with at most its target host:ports changed.

    Each target of ``base`` may stand in ``current`` as it was or as any
    ``host:port`` hostgw writes (see the module's docstring); every byte
    between the targets must be the same. Linear: at most two candidate
    ends per target, each checked against the text that must follow it.
    """
    import importlib

    editor = Editor(base, Mappings(), lambda: "", collect=True)
    importlib.import_module(f"hostgw.rewriting.{fmt}").rewrite(editor)
    olds: list[str] = []
    pieces: list[str] = []
    prev = 0
    for start, end in sorted(set(editor.spans)):
        if start < prev:  # overlapping spans: the first one stands
            continue
        pieces.append(base[prev:start])
        olds.append(base[start:end])
        prev = end
    pieces.append(base[prev:])
    if not current.startswith(pieces[0]):
        return False
    pos = len(pieces[0])
    for old, piece in zip(olds, pieces[1:], strict=True):
        for end in _token_ends(current, pos, old):
            if current.startswith(piece, end):
                pos = end + len(piece)
                break
        else:
            return False
    return pos == len(current)


def _token_ends(text: str, pos: int, old: str) -> list[int]:
    """Where a target token starting at ``pos`` may end: ``old`` unchanged, or a
    ``host:port`` (or HAProxy family word) hostgw writes."""
    ends = [pos + len(old)] if text.startswith(old, pos) else []
    if old.lower() in _FAMILY_TOKENS:
        if text[pos : pos + 4].lower() in _FAMILY_TOKENS:
            ends.append(pos + 4)
        return ends
    end = _written_end(text, pos)
    if end is not None and end not in ends:
        ends.append(end)
    return ends


def _written_end(text: str, pos: int) -> int | None:
    """The end of a ``host:port`` at ``pos`` that hostgw could have written, else None."""
    if text.startswith("[", pos):
        close = text.find("]", pos, pos + _MAX_HOST)
        if close < 0 or (parse_ip(text[pos + 1 : close]) or ("", 0))[1] != 6:
            return None
        colon = close + 1
    else:
        colon = text.find(":", pos, pos + _MAX_HOST)
        host = text[pos:colon]
        if colon < 0 or not (family_of(host) == 4 or is_hostname(host)):
            return None
    if not text.startswith(":", colon):
        return None
    digits = colon + 1
    while digits < len(text) and digits - colon <= 5 and "0" <= text[digits] <= "9":
        digits += 1
    return digits if parse_port(text[colon + 1 : digits]) is not None else None
