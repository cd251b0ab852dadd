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

from hostgw.fileio import decode, encode
from hostgw.templates.jobs import Job, Settings
from hostgw.templates.outputs import render_all, write
from hostgw.templates.syntax import OwnValues

__all__ = ["render", "render_file"]


def render(
    text: str,
    env: Mapping[str, str],
    *,
    vars: str | Iterable[str] | None = None,
    filter: str | re.Pattern[str] | None = None,
    strict: bool = False,
    no_empty: bool = False,
    raw: bool | Iterable[str] = False,
    own: OwnValues = None,
    path: str | None = None,
) -> str:
    """Substitute ``text``'s references from ``env``, and ``HOSTGW_*`` from ``own``.

    See :mod:`hostgw.templates.expand` for the syntax, ``vars``, ``filter``,
    ``strict``, ``no_empty`` and ``raw``. Raises
    :class:`~hostgw.errors.TemplateError` listing every problem; ``path``
    names the template in it.
    """
    settings = Settings.of(vars, filter, strict, no_empty, raw)
    chunks = settings.expand(encode(text), env, own, path)
    return decode(b"".join(chunks))


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
) -> str:
    """Render the file ``template``; write the result atomically to ``output``
    (if given and different) and return it. Options as in :func:`render`."""
    settings = Settings.of(vars, filter, strict, no_empty, raw)
    job = Job(os.fspath(template), None if output is None else Path(output))
    outputs = render_all([job], env, settings, own)
    if output is not None:
        write(outputs)
    return decode(outputs[0].data())
