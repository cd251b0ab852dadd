"""One ``hostgw rewrite`` run over files: plan, validate, write (I/O edge).

Used by the ``rewrite`` command and by ``exec --rewrite``. Nothing is
written until every file was read, rewritten and (with ``validate``)
accepted by the real proxy; then all files go at once through
:func:`hostgw.atomic.write_many`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from hostgw.errors import RewriteError, UsageError
from hostgw.rewriting import Mappings, parse_mappings
from hostgw.rewriting.files import Plan, encode, orig_path, plan


def mappings_from(specs: Sequence[str], env: Mapping[str, str]) -> Mappings:
    """``--map`` values plus ``HOSTGW_MAP``; at least one is required."""
    found = parse_mappings(specs, env.get("HOSTGW_MAP"))
    if not found:
        raise UsageError(
            "no mappings: nothing to rewrite",
            hint="pass --map backend:8000=18000 (repeatable) or set HOSTGW_MAP",
        )
    return found


def gateway_from(env: Mapping[str, str]) -> Callable[[], str]:
    """A function that detects the gateway once, when a rule first needs it."""
    cache: list[str] = []

    def gateway() -> str:
        if not cache:
            from hostgw.detect import detect

            cache.append(detect(env=env).host)
        return cache[0]

    return gateway


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
    gateway: Callable[[], str] | None = None,
) -> Plan:
    """Rewrite ``paths`` in place (or ``paths[0]`` to ``output``); return the plan.

    With ``write=False`` nothing is written (``--check``, ``--diff``).
    ``strict`` makes a mapping that matched nothing a :class:`RewriteError`.
    ``gateway`` gives the gateway's ``host`` form; by default it is detected
    (with ``env``), once, when a rule first needs it.
    """
    env = os.environ if env is None else env
    if output is not None and (len(paths) != 1 or follow_includes):
        raise UsageError(
            "-o takes one input file and no --follow-includes",
            hint="rewrite several files in place instead",
        )
    the_plan = plan(
        list(paths),
        mappings,
        fmt=fmt,
        gateway=gateway or gateway_from(env),
        in_place=output is None,
        follow_includes=follow_includes,
        prefix=prefix,
    )
    if strict and the_plan.unused:
        raise RewriteError(
            f"--map {', '.join(the_plan.unused)} matched nothing",
            hint="check the host and port against the config, or drop --strict",
        )
    if validate and the_plan.files:
        from hostgw.rewriting.validate import validate as check

        main = the_plan.files[0]
        at = output if output is not None else main.path
        texts = {at: main.result.text}
        texts.update({f.path: f.result.text for f in the_plan.files[1:]})
        check(the_plan.format, texts, at, prefix=prefix)
    if write:
        _write(the_plan, output)
    return the_plan


def _write(the_plan: Plan, output: Path | None) -> None:
    from hostgw.atomic import write_many

    if output is not None:
        write_many([(output, encode(the_plan.files[0].result.text))])
        return
    items: list[tuple[Path, bytes]] = []
    for f in the_plan.files:
        keep = orig_path(f.path)
        # A new pristine copy goes with the first change; a stale one is replaced.
        if f.orig is not None and (f.changed or keep.exists()):
            items.append((keep, encode(f.orig)))
        if f.changed:
            items.append((f.path, encode(f.result.text)))
    if items:
        write_many(items)


def unified_diff(the_plan: Plan, output: Path | None = None) -> str:
    """A unified diff of every file that would change."""
    import difflib

    out: list[str] = []
    for f in the_plan.files:
        if not f.changed and output is None:
            continue
        name = str(output or f.path)
        out.extend(
            difflib.unified_diff(
                f.current.splitlines(keepends=True),
                f.result.text.splitlines(keepends=True),
                fromfile=f"{f.path}",
                tofile=name,
            )
        )
    return "".join(out)
