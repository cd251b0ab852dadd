"""What a config includes, for ``--follow-includes`` and ``--validate`` (I/O edge).

- nginx ``include`` and Apache ``Include``/``IncludeOptional`` read a relative
  path from one directory for the whole tree: nginx's prefix, Apache's
  ``ServerRoot`` (its directive in the main config when there is one).
  Otherwise both are the main config's directory, or the one above it for a
  file in ``conf.d/``, ``sites-enabled/``, ``conf-enabled/`` and the like.
- Caddy's ``import`` reads a relative path from the importing file's
  directory; an ``import`` of a snippet (``(name)``) is no file.

Globs are expanded in sorted order and leave hidden files out, as nginx and
httpd globs do; an Apache directory means every file below it. (httpd reads
the dot files of an included directory too, and Caddy's ``*`` matches them;
so the originals are kept outside the config directories, see
:mod:`hostgw.rewriting.pristine`.) A missing file is an error for nginx and
for ``Include``, nothing for ``IncludeOptional``, and a warning for Caddy
(the name may be a snippet defined in another file).
"""

from __future__ import annotations

import glob
import os
import re
from pathlib import Path

from hostgw.errors import RewriteError
from hostgw.record import Record
from hostgw.textpos import Locator

# Directories whose files a main config includes: the root is above them.
_SNIPPET_DIRS = {
    "nginx": frozenset(
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
    ),
    "apache": frozenset(
        (
            "conf.d",
            "sites-enabled",
            "sites-available",
            "conf-enabled",
            "conf-available",
            "mods-enabled",
            "mods-available",
            "conf.modules.d",
            "extra",
        )
    ),
}
_SERVER_ROOT = re.compile(r"^[ \t]*ServerRoot[ \t]+(\"?)([^\"\n]+?)\1[ \t]*\r?$", re.I | re.M)
FORMATS = ("nginx", "apache", "caddy")  # those with includes to follow


class Include(Record):
    """One include: where its path token is, the directive, the path it names."""

    start: int
    raw: str
    directive: str
    full: str  # the path or glob, made absolute
    optional: bool
    line: int = 0  # of ``start`` in its file (0: not known)
    col: int = 0


def root(fmt: str, main: Path, text: str, prefix: str | None = None) -> Path:
    """The directory relative nginx and Apache includes of the tree of ``main`` start from.

    ``prefix`` (``--prefix``) wins, then Apache's ``ServerRoot`` in ``text``.
    """
    if prefix:
        return Path(prefix)
    if fmt == "apache":
        found = _SERVER_ROOT.search(text)
        if found:
            return Path(found.group(2).strip())
    parent = main.resolve().parent
    return parent.parent if parent.name in _SNIPPET_DIRS.get(fmt, ()) else parent


def find(
    fmt: str, text: str, path: Path, top: Path, snippets: set[str] | None = None
) -> list[Include]:
    """The includes of ``text`` (the file ``path``) in a tree whose root is ``top``.

    ``snippets`` collects the Caddy snippets defined so far (this file's are
    added): an ``import`` of one of them is no file.
    """
    if fmt == "nginx":
        from hostgw.rewriting.nginx import scan

        found = [(t.start, t.raw, "include") for t in scan(text, path=str(path)).includes]
    elif fmt == "apache":
        from hostgw.rewriting.apache import includes

        found = includes(text)
    elif fmt == "caddy":
        from hostgw.rewriting.caddy import imports

        found_imports, defined = imports(text, str(path))
        known = defined if snippets is None else snippets
        known |= defined
        found = [(at, raw, "import") for at, raw in found_imports if raw not in known]
        top = path.resolve().parent
    else:
        return []
    out = []
    where = Locator(text)
    for start, raw, directive in found:
        pattern = raw[1:-1] if raw[:1] in "\"'`" and raw[-1:] == raw[:1] else raw
        full = pattern if os.path.isabs(pattern) else str(top / pattern)
        optional = directive.lower() == "includeoptional"
        line, col = where.at(start)
        out.append(Include(start, raw, directive, full, optional, line, col))
    return out


def expand(fmt: str, inc: Include, path: Path) -> list[Path]:
    """The files ``inc`` reaches, in order; raises :class:`RewriteError` when one must exist."""
    if glob.has_magic(inc.full):
        found = [Path(p) for p in sorted(glob.glob(inc.full))]
    else:
        found = [Path(inc.full)] if os.path.exists(inc.full) else []
    if fmt == "apache":
        found = [f for p in found for f in ([p] if not p.is_dir() else _files_below(p))]
    elif fmt == "caddy":
        found = [p for p in found if not p.is_dir()]
    if (
        not found
        and fmt != "caddy"
        and not inc.optional
        and not (fmt == "nginx" and glob.has_magic(inc.full))
    ):
        name = "include" if fmt == "nginx" else inc.directive
        at = f"{path}:{inc.line}:{inc.col}" if inc.line else str(path)
        raise RewriteError(
            f"{at}: {name} {inc.raw}: no file matches {inc.full}",
            path=str(path),
            line=inc.line or None,
            col=inc.col or None,
            hint="relative includes are read from the main config's directory (Apache: "
            "ServerRoot); pass --prefix DIR",
        )
    return found


def _files_below(top: Path) -> list[Path]:
    """Every file under the directory ``top``, sorted, hidden ones left out."""
    found: list[Path] = []
    for parent, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(parent, f) for f in sorted(files) if not f.startswith("."))
    return found
