"""One ``hostgw rewrite`` run over files: plan, validate, write (I/O edge).

Used by the ``rewrite`` command, ``exec --rewrite`` and ``watch --rewrite``.
Nothing is written until every file was read, rewritten and (with
``validate``) accepted by the real proxy, and every original has a place;
then all files and originals go at once through
:func:`hostgw.fileio.write_many`. ``-o -``, ``-o /dev/stdout`` and ``-o
/dev/stderr`` write the result to that stream; the plan's ``written`` lists
the files written.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from hostgw.errors import RewriteError, UsageError
from hostgw.rewriting import Mappings, parse_mappings, rewrite
from hostgw.rewriting.engine import Note
from hostgw.rewriting.files import FileResult, Plan, encode, plan


def mappings_from(specs: Sequence[str], env: Mapping[str, str]) -> Mappings:
    """``--map`` values plus ``HOSTGW_MAP``; at least one is required."""
    found = parse_mappings(specs, env.get("HOSTGW_MAP"))
    if not found:
        raise UsageError(
            "no mappings: nothing to rewrite",
            hint="pass --map backend:8000=18000 (repeatable) or set HOSTGW_MAP",
        )
    return found


def run(
    paths: Sequence[Path],
    mappings: Mappings,
    *,
    fmt: str | None = None,
    output: Path | None = None,
    write: bool = True,
    validate: bool = False,
    follow_includes: bool = False,
    prefix: str | None = None,
    strict: bool = False,
    env: Mapping[str, str] | None = None,
    gateway: str | Callable[[], str] | None = None,
    state_dir: str | os.PathLike[str] | None = None,
    log: Callable[[str], None] | None = None,
) -> Plan:
    """Rewrite ``paths`` in place (or ``paths[0]`` to ``output``); return the plan.

    With ``write=False`` nothing is written (``--check``, ``--diff``), not
    even an original. ``strict`` makes a mapping that matched nothing a
    :class:`RewriteError`. ``gateway`` gives the gateway's ``host`` form (or
    a function returning it, called when a rule first needs it).
    In place, originals are kept under ``state_dir`` (default:
    ``HOSTGW_STATE_DIR`` in ``env``, else /var/lib/hostgw). ``log`` gets each
    note on how a file was written (default: stderr; see
    :func:`hostgw.fileio.write_many`).
    """
    from hostgw.fileio import stream_fd
    from hostgw.rewriting.pristine import state_dir as find_state_dir

    env = os.environ if env is None else env
    state = find_state_dir(state_dir, env)
    stream = output is not None and stream_fd(output) is not None
    if output is not None and (len(paths) != 1 or follow_includes):
        raise UsageError(
            "-o takes one input file and no --follow-includes",
            hint="rewrite several files in place instead",
        )
    the_plan = plan(
        list(paths),
        mappings,
        fmt=fmt,
        gateway=gateway,
        in_place=output is None,
        follow_includes=follow_includes,
        prefix=prefix,
        state=state,
    )
    at = Path.cwd() / "stdout" if stream else output
    check_plan(
        the_plan,
        strict=strict,
        validate=validate,
        at=at,
        prefix=prefix,
        to="stdout" if stream else None,
    )
    if write:
        the_plan.written = _write(the_plan, output, state, log)
    return the_plan


def run_text(
    text: str,
    mappings: Mappings,
    *,
    fmt: str | None = None,
    strict: bool = False,
    validate: bool = False,
    gateway: str | Callable[[], str] | None = None,
) -> Plan:
    """Rewrite one config given as text (stdin): the same checks as :func:`run`
    (:func:`check_plan`), nothing written, no original kept."""
    result = rewrite(text, mappings, format=fmt, path="-", gateway=gateway)
    the_plan = Plan([FileResult(Path("-"), text, result)], format=result.format)
    at = Path.cwd() / "stdout"
    check_plan(the_plan, strict=strict, validate=validate, at=at, source="stdin", to="stdout")
    return the_plan


def check_plan(
    the_plan: Plan,
    *,
    strict: bool = False,
    validate: bool = False,
    at: Path | None = None,
    prefix: str | None = None,
    source: str | None = None,
    to: str | None = None,
) -> None:
    """``--strict`` and ``--validate`` on a plan, before anything is written.

    ``at`` is where the first file's result is to go (default: its path);
    the real proxy tests it there, with the other files at their paths.
    Messages name the first file ``source`` (default: its path) and where
    its result goes ``to`` (default: ``at``).
    """
    if strict and the_plan.unused:
        raise RewriteError(
            f"--map {', '.join(the_plan.unused)} matched nothing",
            hint="check the host and port against the config, or drop --strict",
        )
    if validate and the_plan.files:
        from hostgw.rewriting.validate import validate as check

        main = the_plan.files[0]
        at = main.path if at is None else at
        texts = {at: main.result.text}
        texts.update({f.path: f.result.text for f in the_plan.files[1:]})
        elsewhere = None if at == main.path else (source or str(main.path), to or str(at))
        check(the_plan.format, texts, at, prefix=prefix, elsewhere=elsewhere)


def _write(
    the_plan: Plan, output: Path | None, state: Path, log: Callable[[str], None] | None
) -> list[Path]:
    """Write the plan; return the files written (the rewritten ones, not the originals)."""
    from hostgw.fileio import same, stream_fd, write_many, write_stream

    if output is not None:
        data = encode(the_plan.files[0].result.text)
        if stream_fd(output) is not None:
            write_stream(output, data)
            return []
        if same(output, data):  # only when its bytes change, as render does
            return []
        return [w.path for w in write_many([(output, data)], log=log)]
    items: list[tuple[Path, bytes]] = []
    copies: list[tuple[Path, os.stat_result]] = []
    moved: list[Path] = []
    for f in the_plan.files:
        copy = _copy_place(f, state, the_plan.notes)
        if copy is not None and f.orig is not None:
            if copy != f.kept or f.fresh:
                items.append((copy, encode(f.orig)))
                copies.append((copy, f.path.stat()))
            if f.kept is not None and f.kept != copy:
                moved.append(f.kept)
        if f.changed:
            items.append((f.path, encode(f.result.text)))
    written = write_many(items, log=log) if items else []
    _settle(copies, moved)
    targets = {f.path for f in the_plan.files}
    return [w.path for w in written if w.path in targets]


def _copy_place(f: FileResult, state: Path, notes: list[Note]) -> Path | None:
    """Where the original of ``f`` is to be kept (None: no copy needed).

    The state directory if it can be written; else beside the file, with a
    warning, except for servers that may load a copy there (a
    :class:`UsageError`, raised before anything is written).
    """
    from hostgw.rewriting import pristine

    if f.orig is None or (f.kept is None and not f.changed):
        return None  # -o or stdin; or no copy before the first change
    home = pristine.in_state(state, f.path)
    if f.kept == home and not f.fresh:
        return home
    try:
        return pristine.prepare(state, f.path)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename and Path(exc.filename) != state else ""
        why = f"cannot write {state}: {where}{(exc.strerror or str(exc)).lower()}"
        if exc.errno in (errno.EACCES, errno.EPERM):
            why += f" ({pristine.denied(Path(exc.filename or state))})"
    fix = (
        "point --state-dir (or HOSTGW_STATE_DIR) at a writable directory that lasts as "
        "long as the config, or write the result elsewhere with -o OUT"
    )
    beside = f.kept if f.kept is not None and f.kept != home else pristine.besides(f.path)[-1]
    if f.result.format in pristine.LOADED_BESIDE:
        server = "httpd" if f.result.format == "apache" else "caddy"
        raise UsageError(
            f"will not rewrite {f.path} in place: its original cannot be kept in the state "
            f"directory ({why}), and {server} may load a copy kept beside it ({beside.name}) "
            "as a config of its own",
            hint=fix,
        )
    notes.append(
        Note(1, 1, f"original kept beside it as {beside.name} ({why}); {fix}", str(f.path))
    )
    return beside


def _settle(copies: list[tuple[Path, os.stat_result]], moved: list[Path]) -> None:
    """After the writes: originals get their file's mode and owner; moved copies go."""
    from hostgw.rewriting.pristine import like

    for copy, st in copies:
        like(copy, st)
    for old in moved:
        with contextlib.suppress(OSError):  # it stays; the next run moves it again
            old.unlink()


def unified_diff(the_plan: Plan, output: Path | None = None) -> str:
    """A unified diff of every file that would change."""
    from hostgw.fileio import unified_diff as diff

    return "".join(
        diff(f.current, f.result.text, str(f.path), str(output or f.path))
        for f in the_plan.files
        if f.changed or output is not None
    )
