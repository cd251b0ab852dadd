"""Check rewritten configs with the real proxy before they replace anything (I/O edge).

Each new text is written to a hidden temp file *beside* its original, so
relative paths resolve exactly as they will for the real file (nginx reads
relative ``include`` and ``ssl_certificate`` paths from the main config's
directory, Caddy ``import`` from the Caddyfile's, HAProxy with
``default-path config`` from the config's). Includes that point at rewritten
files are pointed at their temp copies, so the tool sees the whole new set.
An nginx file that is not a main config (no ``events`` block, e.g.
``conf.d/default.conf``) is checked inside a small wrapper main config placed
in its prefix directory; so is an Apache file that loads no modules (e.g.
``sites-enabled/app.conf``), with the modules its tree's main config loads
(``apache2.conf`` or ``httpd.conf`` in its ServerRoot, else the system's).
The tool's own message is shown with the temp names replaced by the real
ones; every temp file is removed afterwards.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from hostgw.errors import HostgwError, InvalidConfig
from hostgw.rewriting.files import encode, nginx_prefix
from hostgw.rewriting.includes import FORMATS as INCLUDE_FORMATS
from hostgw.rewriting.includes import expand, find, root

TIMEOUT = 60.0


def validate(
    fmt: str,
    texts: dict[Path, str],
    main: Path,
    *,
    prefix: str | None = None,
    elsewhere: tuple[str, str] | None = None,
) -> None:
    """Run the real tool on the new ``texts``; ``main`` is the file the tool is given.

    ``elsewhere``: ``main``'s text is the rewrite of another file, to be
    written elsewhere, as (that file, where it goes): messages name that
    file (its lines are the result's). Raises :class:`InvalidConfig` with
    the tool's message when it rejects the config, :class:`HostgwError`
    when the tool is not installed.
    """
    temps: dict[Path, Path] = {}
    made: list[Path] = []
    try:
        for path in texts:
            temps[path] = _temp_beside(path, made)
        top = root(fmt, main, texts[main], prefix)
        for path, text in texts.items():
            new = text
            if len(texts) > 1 and fmt in INCLUDE_FORMATS:
                new = _point_includes(fmt, text, path, temps, top)
            temps[path].write_bytes(encode(new))
        given = temps[main]
        if fmt == "nginx":
            given = _nginx_wrapper(texts[main], main, given, prefix, made)
        elif fmt == "apache":
            given = _apache_wrapper(texts[main], main, given, prefix, made)
        argv = _command(fmt, given)
        proc = _run(argv)
    finally:
        for path in made:
            path.unlink(missing_ok=True)
    if proc.returncode != 0:
        message = (proc.stderr + proc.stdout).strip()
        named = {real: str(real) for real in temps}
        head = f"{argv[0]} rejected the rewritten {main}; it was left unchanged"
        if elsewhere is not None:
            named[main] = source = elsewhere[0]
            head = (
                f"{argv[0]} rejected {source} as rewritten for {elsewhere[1]}; nothing was written"
            )
        for real, temp in temps.items():
            message = message.replace(str(temp), named[real])
        if given != temps[main]:
            message = message.replace(str(given), f"<minimal main config around {named[main]}>")
        raise InvalidConfig(
            f"{head}:\n{message}",
            hint="fix the config or the --map targets (hostgw rewrite --diff shows the change)",
        )


def _temp_beside(path: Path, made: list[Path]) -> Path:
    import tempfile

    fd, name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".hostgw-check", dir=path.resolve().parent
    )
    os.close(fd)
    made.append(Path(name))
    return Path(name)


def _point_includes(fmt: str, text: str, path: Path, temps: dict[Path, Path], top: Path) -> str:
    """``text`` with every include that reaches a rewritten file sent to its temp copy.

    One include that reaches several files becomes one per file (Caddy: the
    ``import`` arguments stay with the first).
    """
    by_real = {p.resolve(): t for p, t in temps.items()}
    edits: list[tuple[int, int, str]] = []
    for inc in find(fmt, text, path, top):
        matches = [m.resolve() for m in expand(fmt, inc, path)]
        if not any(m in by_real for m in matches):
            continue
        targets = [str(by_real.get(m, m)) for m in matches]
        if fmt == "nginx":
            new = "; include ".join(targets)
        elif fmt == "apache":
            new = f"\n{inc.directive} ".join(f'"{t}"' for t in targets)
        else:
            new = "\nimport ".join(targets)
        edits.append((inc.start, inc.start + len(inc.raw), new))
    for start, end, new in reversed(edits):
        text = text[:start] + new + text[end:]
    return text


def _nginx_wrapper(text: str, main: Path, temp: Path, prefix: str | None, made: list[Path]) -> Path:
    """``temp`` itself for a main config; else a wrapper in the prefix that includes it."""
    from hostgw.rewriting.nginx import scan

    top = scan(text, path=str(main)).top_level
    if "events" in top:
        return temp
    home = nginx_prefix(main, prefix)
    context = "stream" if "stream" in str(main.resolve().parent.name) else "http"
    body = f"include {temp};"
    if context == "http" and "location" in top:
        body = f"server {{ {body} }}"
    wrapper = _temp_beside(home / "nginx.conf", made)
    wrapper.write_text(
        "# hostgw --validate: checks a snippet inside a minimal main config\n"
        "include /etc/nginx/modules-enabled/*.conf;\n"
        f"events {{}}\n{context} {{ {body} }}\n"
    )
    return wrapper


# An Apache config that loads modules itself is a main config.
_LOADS_MODULES = re.compile(
    r"^[ \t]*(?:LoadModule[ \t]"
    r"|Include(?:Optional)?[ \t]+\"?[^\n]*(?:mods-enabled|conf\.modules\.d|\.load\b))",
    re.I | re.M,
)
_MODULE_LINE = re.compile(
    r"^[ \t]*(LoadModule[ \t]+\S+|Include(?:Optional)?)[ \t]+(\"?)([^\"\r\n]+?)\2[ \t]*\r?$",
    re.I | re.M,
)
_APACHE_MAINS = ("apache2.conf", "httpd.conf", "conf/httpd.conf")
_SYSTEM_APACHE = (Path("/etc/apache2"), Path("/usr/local/apache2"), Path("/etc/httpd"))


def _apache_wrapper(
    text: str, main: Path, temp: Path, prefix: str | None, made: list[Path]
) -> Path:
    """``temp`` itself for a main config; else a wrapper that loads modules and includes it."""
    if _LOADS_MODULES.search(text):
        return temp
    home = root("apache", main, text, prefix)
    wrapper = _temp_beside(home / "httpd.conf", made)
    wrapper.write_text(
        "# hostgw --validate: checks a fragment inside a minimal main config\n"
        f'ServerRoot "{home}"\nServerName localhost\nErrorLog /dev/null\n'
        f'{_apache_modules(home, main)}Include "{temp}"\n'
    )
    return wrapper


def _apache_modules(home: Path, main: Path) -> str:
    """The module lines of the main config of ``home``'s tree (else the system's), absolute."""
    for top in (home, *_SYSTEM_APACHE):
        for name in _APACHE_MAINS:
            config = top / name
            if config.is_file() and config.resolve() != main.resolve():
                text = config.read_text(errors="replace")
                base = root("apache", config, text)
                return "".join(
                    f'{m.group(1)} "{base / m.group(3)}"\n'
                    for m in _MODULE_LINE.finditer(text)
                    if _LOADS_MODULES.match(m.group())
                )
    return ""


def _command(fmt: str, path: Path) -> list[str]:
    if fmt == "nginx":
        return [_tool("nginx"), "-t", "-q", "-c", str(path)]
    if fmt == "haproxy":
        return [_tool("haproxy"), "-c", "-q", "-f", str(path)]
    if fmt == "apache":
        return [_tool("apachectl", "apache2ctl", "apache2", "httpd"), "-t", "-f", str(path)]
    return [_tool("caddy"), "validate", "--adapter", "caddyfile", "--config", str(path)]


def _tool(*names: str) -> str:
    for name in names:
        for found in (shutil.which(name), f"/usr/sbin/{name}", f"/usr/local/sbin/{name}"):
            if found and os.access(found, os.X_OK):
                return found
    raise HostgwError(
        f"--validate needs {names[0]}, which is not installed",
        hint=f"install {names[0]} or run without --validate",
    )


def _run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise InvalidConfig(f"{argv[0]} did not finish checking within {TIMEOUT:.0f}s") from exc
    except OSError as exc:
        raise HostgwError(f"cannot run {argv[0]}: {exc.strerror or exc}") from exc
