"""Rewrite config files: pristine originals, includes, one plan per run (I/O edge).

Re-runs: the first in-place rewrite of a file keeps its original bytes (see
:mod:`hostgw.rewriting.pristine` for where), and every later run rewrites
from that copy. A restarted container that finds a new gateway therefore
gets the right target, and running twice equals once. If the file was
edited since (it no longer equals the copy with only target tokens
changed), the edited file becomes the new original, with a warning.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from hostgw.errors import RewriteError, UsageError
from hostgw.fileio import decode, encode
from hostgw.record import Record
from hostgw.rewriting import Mappings, Note, RewriteResult, detect_format, rewrite
from hostgw.rewriting.engine import Editor

__all__ = ["FileResult", "Plan", "decode", "encode", "plan", "read_text"]

_HOSTPORT = re.compile(r"[A-Za-z0-9._:\[\]-]*")


def read_text(path: Path) -> str:
    """The file's text; a missing or unreadable file is a :class:`RewriteError`."""
    try:
        return decode(path.read_bytes())
    except OSError as exc:
        raise RewriteError(
            f"cannot read {path}: {exc.strerror or exc}",
            path=str(path),
            hint="check the path (and --prefix for includes)",
        ) from exc


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

    @property
    def unused(self) -> list[str]:
        """Specs of rules that matched in no file."""
        if not self.files:
            return []
        sets = [{r.spec for r in f.result.unused} for f in self.files]
        return sorted(set.intersection(*sets))

    def change_lines(self) -> list[str]:
        """One line per change, as ``rewrite`` shows them."""
        return [str(c) for f in self.files for c in f.result.changes]

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
    kept = find(path, state)
    if kept is None:
        return _Source(current, current, fresh=True)
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
    """Whether ``current`` is ``base`` with at most its target host:ports changed."""
    import importlib

    editor = Editor(base, Mappings(), lambda: "", collect=True)
    importlib.import_module(f"hostgw.rewriting.{fmt}").rewrite(editor)
    pos = prev = 0
    for start, end in sorted(editor.spans):
        seg = base[prev:start]
        if not current.startswith(seg, pos):
            return False
        pos += len(seg)
        pos = _HOSTPORT.match(current, pos).end()  # type: ignore[union-attr]
        prev = end
    return current[pos:] == base[prev:]
