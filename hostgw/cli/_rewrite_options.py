"""The rewrite options other commands share: ``-m/--map``, ``--state-dir``, ``exec --rewrite``.

Also :class:`LastWarnings`, which ``exec --watch`` shares between its
rewrite before the command and the watcher's passes.

Kept apart from :mod:`hostgw.cli._rewrite` so that ``exec`` takes them
without importing the rewriting code when it has nothing to rewrite.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
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


def state_dir_option(fn: F) -> F:
    """``--state-dir DIR`` (default: ``HOSTGW_STATE_DIR``, else /var/lib/hostgw)."""
    return click.option(
        "--state-dir",
        metavar="DIR",
        type=click.Path(file_okay=False),
        help="Keep the originals of files rewritten in place under DIR/pristine/ "
        "(default: HOSTGW_STATE_DIR, else /var/lib/hostgw). If DIR cannot be written, "
        "nginx and HAProxy originals go beside the file (.FILE.hostgw-orig, with a "
        "warning); Apache and Caddy files are not rewritten in place (exit 2), as httpd "
        "and caddy may load such a copy.",
    )(fn)


def rewrite_option(fn: F) -> F:
    """``--rewrite FILE`` (repeatable), for exec."""
    return click.option(
        "--rewrite",
        "rewrite_files",
        multiple=True,
        metavar="FILE",
        help="Before the command runs, rewrite FILE in place as hostgw rewrite does "
        "(atomically, from its kept original), with the --map rules; repeatable.",
    )(fn)


def check_rewrite_options(
    files: Sequence[str], maps: Sequence[str], state_dir: str | None = None
) -> bool:
    """Whether there is something to rewrite; ``--map`` or ``--state-dir`` alone is an error."""
    if files:
        return True
    for given, name in ((maps, "--map"), (state_dir, "--state-dir")):
        if given:
            raise UsageError(
                f"{name} needs --rewrite FILE",
                hint="e.g. --rewrite nginx.conf -m backend:8000=18000",
            )
    return False


class LastWarnings:
    """The warnings of the last pass, so that a watcher does not repeat them each pass.

    :meth:`new` keeps only the lines the last call did not have; a warning
    that goes away for a pass and comes back is shown again. Each line names
    its file (``--map … matched nothing`` is about the whole set).
    """

    def __init__(self) -> None:
        self._last: frozenset[str] = frozenset()

    def new(self, lines: Sequence[str]) -> list[str]:
        """The ``lines`` not in the last call's; ``lines`` become the last."""
        fresh = [line for line in lines if line not in self._last]
        self._last = frozenset(lines)
        return fresh


def rewrite_step(
    files: Sequence[str],
    maps: Sequence[str],
    *,
    quiet: bool = False,
    state_dir: str | None = None,
    last: LastWarnings | None = None,
) -> Callable[[ExecState], None] | None:
    """``exec --rewrite FILE --map ...`` as a step before the exec (None: nothing to do).

    The mappings are checked now, before any step runs; the step rewrites
    with the gateway that exec detects once for everything (``HOSTGW_HOST``).
    A rewrite error propagates, so the command does not run. ``last`` (under
    ``--watch``) records the warnings shown, so the watcher's first pass does
    not show them again.
    """
    if not check_rewrite_options(files, maps, state_dir):
        return None
    from hostgw.rewriting.apply import mappings_from

    mappings = mappings_from(maps, os.environ)
    paths = [Path(f) for f in files]

    def step(state: ExecState) -> None:
        from hostgw.cli._rewrite import report
        from hostgw.rewriting.apply import run

        the_plan = run(
            paths, mappings, gateway=lambda: state.own()["HOSTGW_HOST"], state_dir=state_dir
        )
        report(the_plan, quiet=quiet, last=last)

    return step
