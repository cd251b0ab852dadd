"""Templates: ``$NAME`` and ``${NAME:-default}`` as bash expands them, into configs.

:mod:`~hostgw.templates.syntax` parses, :mod:`~hostgw.templates.expand`
substitutes (pure, bytes in and out), :mod:`~hostgw.templates.jobs` plans a
run and :mod:`~hostgw.templates.outputs` renders and writes it. Nothing here
detects the host: ``HOSTGW_IP``, ``HOSTGW_IP6`` and ``HOSTGW_HOST`` come
from the environment or from ``own`` (a mapping, or a function called at
most once, and only when a selected reference needs one of them).
:func:`hostgw.render` is these functions with detection as ``own``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from hostgw.fileio import decode
from hostgw.formats import by_name
from hostgw.templates.expand import expand as render
from hostgw.templates.jobs import Job, RenderRequest, Settings, listing, plan
from hostgw.templates.outputs import load, render_all, write
from hostgw.templates.syntax import OwnValues, uses

__all__ = ["list_vars", "render", "render_file"]


def render_file(
    template: str | os.PathLike[str],
    output: str | os.PathLike[str] | None,
    env: Mapping[str, str],
    *,
    vars: str | Iterable[str] | None = None,
    filter: str | re.Pattern[str] | None = None,
    strict: bool = False,
    no_empty: bool = False,
    raw: bool | Iterable[str] = False,
    own: OwnValues = None,
    format: str | None = None,
    escape: bool = False,
) -> str:
    """Render the file ``template``; write the result atomically to ``output``
    (if given and different) and return it. Options as in :func:`render`
    (:func:`hostgw.templates.expand.expand`)
    (``format`` defaults to what ``output``'s or ``template``'s name says)."""
    fmt = format or by_name(None if output is None else os.fspath(output), os.fspath(template))
    settings = Settings.of(vars, filter, strict, no_empty, raw, format=fmt, escape=escape)
    job = Job(os.fspath(template), None if output is None else Path(output))
    outputs = render_all([job], env, settings, own)
    if output is not None:
        write(outputs)
    return decode(outputs[0].data())


def list_vars(request: RenderRequest, env: Mapping[str, str]) -> list[str]:
    """``render --list-vars``: the names the request's templates use, one line each
    (name, forms, what a render does with it); nothing is rendered or written."""
    the_plan = plan(request, env, stdin_default=True)
    found: dict[str, set[str]] = {}
    for job in the_plan.jobs:
        for name, forms in uses(load(job.template)).items():
            found.setdefault(name, set()).update(forms)
    return listing(found, env, the_plan.settings)
