"""Rewrite config files: pristine copies, includes, one plan per run (I/O edge).

Re-runs: the first in-place rewrite of ``dir/FILE`` keeps the original bytes
in ``dir/.FILE.hostgw-orig`` (hidden, so ``include dir/*`` globs skip it), and
every later run rewrites from that copy. A restarted container that finds a
new gateway therefore gets the right target, and running twice equals once.
If ``FILE`` was edited since (it no longer equals the copy with only target
tokens changed), the edited file becomes the new original, with a warning.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from hostgw.errors import RewriteError, UsageError
from hostgw.rewriting import Mappings, Note, RewriteResult, detect_format, rewrite
from hostgw.rewriting.engine import Editor

ORIG_SUFFIX = ".hostgw-orig"
_HOSTPORT = re.compile(r"[A-Za-z0-9._:\[\]-]*")


def decode(data: bytes) -> str:
    """Bytes to text so that :func:`encode` gives the same bytes back."""
    return data.decode("utf-8", "surrogateescape")


def encode(text: str) -> bytes:
    """Text back to the exact bytes :func:`decode` read."""
    return text.encode("utf-8", "surrogateescape")


def orig_path(path: Path) -> Path:
    """Where the pristine copy of ``path`` is kept."""
    return path.with_name(f".{path.name}{ORIG_SUFFIX}")


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


class FileResult(NamedTuple):
    """One file of a run: what it holds now, what it will hold, the result."""

    path: Path
    current: str
    result: RewriteResult
    orig: str | None = None  # pristine text to store beside it (None: keep as is)

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
) -> Plan:
    """Read ``paths`` (and with ``follow_includes`` what they include), rewrite each.

    ``in_place`` uses and keeps pristine copies; otherwise each file is its
    own original.
    """
    out = Plan()
    top: Path | None = None  # where relative includes start from
    snippets: set[str] = set()  # Caddy snippets defined so far
    todo = list(paths)
    seen: set[Path] = set()
    texts: dict[Path, tuple[str, str, str | None]] = {}
    while todo:
        path = todo.pop(0)
        key = path.resolve()
        if key in seen:
            continue
        seen.add(key)
        current, base, orig, note = _source(path, in_place, fmt)
        if note:
            out.notes.append(note)
        texts[path] = (current, base, orig)
        out.format = fmt = fmt or detect_format(base, str(path))
        if follow_includes:
            top = top or _include_root(fmt, path, base, prefix)
            todo.extend(
                _included(
                    fmt, base, path, top, notes=out.notes, snippets=snippets, in_place=in_place
                )
            )
    upstreams: set[str] = set()
    if fmt == "nginx" and len(texts) > 1:
        from hostgw.rewriting.nginx import scan

        for path, (_, base, _) in texts.items():
            upstreams |= scan(base, path=str(path)).upstreams
    for path, (current, base, orig) in texts.items():
        result = rewrite(
            base, mappings, format=fmt, gateway=gateway, path=str(path), upstreams=upstreams
        )
        out.files.append(FileResult(path, current, result, orig))
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
    in_place: bool,
) -> list[Path]:
    """The files the includes of ``text`` reach, with warnings about some includes.

    A Caddy import of no file may name a snippet defined elsewhere; an
    include through which the server loads hidden files would load the
    pristine copies kept beside files rewritten in place.
    """
    import glob

    from hostgw.rewriting import includes

    found: list[Path] = []
    for inc in includes.find(fmt, text, path, top, snippets):
        reached = includes.expand(fmt, inc, path)
        why = ""
        if not reached and fmt == "caddy" and not glob.has_magic(inc.full):
            why = "no such file (a snippet?), not followed"
        elif in_place and any(includes.loads_hidden(fmt, inc, orig_path(p).name) for p in reached):
            server, such = ("httpd", "DIR/*.conf") if fmt == "apache" else ("caddy", "DIR/*.caddy")
            why = (
                f"{server} also loads the hidden files there, so it would load the pristine "
                f"copies (.NAME{ORIG_SUFFIX}) too: include by a pattern such as {such}, or "
                "rewrite with -o"
            )
        if why:
            line = text.count("\n", 0, inc.start) + 1
            notes.append(Note(line, 1, f"{inc.directive} {inc.raw}: {why}", str(path)))
        found.extend(reached)
    return found


def _source(
    path: Path, in_place: bool, fmt: str | None
) -> tuple[str, str, str | None, Note | None]:
    """``(current, base to rewrite from, pristine text to store, warning)``."""
    current = read_text(path)
    if not in_place:
        return current, current, None, None
    keep = orig_path(path)
    if not keep.exists():
        return current, current, current, None
    base = read_text(keep)
    if current == base or derived(current, base, fmt or detect_format(base, str(path))):
        return current, base, None, None
    note = Note(
        1,
        1,
        f"{path} changed since hostgw last rewrote it: taking it as the new "
        f"original (kept in {keep.name})",
        str(path),
    )
    return current, current, current, note


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
