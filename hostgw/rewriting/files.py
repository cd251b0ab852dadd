"""Rewrite config files: pristine copies, includes, one plan per run (I/O edge).

Re-runs: the first in-place rewrite of ``dir/FILE`` keeps the original bytes
in ``dir/.FILE.hostgw-orig`` (hidden, so ``include dir/*`` globs skip it), and
every later run rewrites from that copy. A restarted container that finds a
new gateway therefore gets the right target, and running twice equals once.
If ``FILE`` was edited since (it no longer equals the copy with only target
tokens changed), the edited file becomes the new original, with a warning.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from hostgw.errors import RewriteError
from hostgw.rewriting import Mappings, Note, RewriteResult, detect_format, rewrite
from hostgw.rewriting.engine import Editor

ORIG_SUFFIX = ".hostgw-orig"
_HOSTPORT = re.compile(r"[A-Za-z0-9._:\[\]-]*")
# Directories whose files nginx's main config includes: the prefix is above them.
_SNIPPET_DIRS = frozenset(
    (
        "conf.d",
        "sites-enabled",
        "sites-available",
        "streams-enabled",
        "snippets",
        "http.d",
        "stream.d",
        "default.d",
    )
)


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
        self.prefix: Path | None = None

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
    if prefix:
        return Path(prefix)
    parent = path.resolve().parent
    return parent.parent if parent.name in _SNIPPET_DIRS else parent


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
        if follow_includes and fmt == "nginx":
            out.prefix = out.prefix or nginx_prefix(path, prefix)
            todo.extend(included(base, str(path), out.prefix))
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


def included(text: str, path: str, prefix: Path) -> list[Path]:
    """Files that the ``include`` directives of an nginx config name (globs expanded)."""
    from hostgw.rewriting.nginx import scan

    found: list[Path] = []
    for tok in scan(text, path=path).includes:
        pattern = tok.value
        full = pattern if os.path.isabs(pattern) else str(prefix / pattern)
        if glob.has_magic(full):
            found.extend(Path(p) for p in sorted(glob.glob(full)))
        elif os.path.exists(full):
            found.append(Path(full))
        else:
            raise RewriteError(
                f"{path}: include {pattern!r}: {full} does not exist",
                path=path,
                hint="relative includes are resolved against the main config's directory; "
                "pass --prefix DIR",
            )
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
