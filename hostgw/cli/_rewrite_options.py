"""The rewrite options other commands share: ``-m/--map`` and ``exec --rewrite``.

Kept apart from :mod:`hostgw.cli._rewrite` so that ``exec`` takes them
without importing the rewriting code when it has nothing to rewrite.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

import click

from hostgw.errors import UsageError

if TYPE_CHECKING:
    from hostgw.cli._render import ExecState

F = TypeVar("F", bound=Callable[..., object])


def map_option(fn: F) -> F:
    """``-m/--map`` (repeatable; ``HOSTGW_MAP`` adds more), for rewrite, watch and exec."""
    return click.option(
        "-m",
        "--map",
        "maps",
        multiple=True,
        metavar="HOST[:PORT]=[ADDR:]PORT",
        help="Send HOST (on PORT, or any port) to gateway:PORT, or to ADDR:PORT. "
        "Repeatable; HOSTGW_MAP='a:8000=18000,b=19000' adds more.",
    )(fn)


def rewrite_option(fn: F) -> F:
    """``--rewrite FILE`` (repeatable), for exec."""
    return click.option(
        "--rewrite",
        "rewrite_files",
        multiple=True,
        metavar="FILE",
        help="Before the command runs, rewrite FILE in place as hostgw rewrite does "
        "(atomically, from its pristine copy), with the --map rules; repeatable.",
    )(fn)


def rewrite_step(
    files: Sequence[str], maps: Sequence[str], *, quiet: bool = False
) -> Callable[[ExecState], None] | None:
    """``exec --rewrite FILE --map ...`` as a step before the exec (None: nothing to do).

    The mappings are checked now, before any step runs; the step rewrites
    with the gateway that exec detects once for everything (``HOSTGW_HOST``).
    A rewrite error propagates, so the command does not run.
    """
    if not files:
        if maps:
            raise UsageError(
                "--map needs --rewrite FILE", hint="e.g. --rewrite nginx.conf -m backend:8000=18000"
            )
        return None
    from hostgw.rewriting.apply import mappings_from

    mappings = mappings_from(maps, os.environ)

    def step(state: ExecState) -> None:
        from hostgw.cli._rewrite import run_rewrite

        run_rewrite(files, mappings, quiet=quiet, gateway=lambda: state.own()["HOSTGW_HOST"])

    return step
