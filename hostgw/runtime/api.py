"""The public functions that join detection to the writing wings.

:func:`render`, :func:`render_file` and :func:`rewrite` are those of
:mod:`hostgw.templates` and :mod:`hostgw.rewriting`, with the host's address
detected (once, and only when something needs it) where the caller gives
none.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from hostgw.detection import Once, resolve_options

if TYPE_CHECKING:
    from hostgw.rewriting import MappingLike, RewriteResult
    from hostgw.templates.syntax import OwnValues


def detected(env: Mapping[str, str], detection: Mapping[str, Any] | None = None) -> Once:
    """One lazily-detected answer, with ``detection``'s options (those of
    :func:`hostgw.detect`) and ``env`` as the environment."""
    return Once(resolve_options(**{**(detection or {}), "env": env}))


def render(
    text: str,
    env: Mapping[str, str] | None = None,
    *,
    vars: str | Iterable[str] | None = None,
    filter: str | re.Pattern[str] | None = None,
    strict: bool = False,
    no_empty: bool = False,
    raw: bool | Iterable[str] = False,
    own: OwnValues = None,
    path: str | None = None,
    detection: Mapping[str, Any] | None = None,
    format: str | None = None,
    escape: bool = False,
) -> str:
    """Substitute ``text``'s references from ``env`` (default ``os.environ``; a mapping
    given is the whole environment, detection's included).

    ``HOSTGW_IP``, ``HOSTGW_IP6`` and ``HOSTGW_HOST`` come from ``env`` if set,
    else from ``own`` (a mapping or a function), else from detection
    (:func:`hostgw.gateway_env` with ``detection`` as its options), which
    runs only if a selected reference needs one of them. See
    :mod:`hostgw.templates.expand` for the syntax, ``vars``, ``filter``,
    ``strict``, ``no_empty`` and ``raw``; ``format`` (``nginx``, ``haproxy``,
    ``apache``, ``caddy``, else from ``path``'s name, else the strictest) picks
    the value-safety rules, ``escape`` makes ``\\$NAME`` the text ``$NAME``.
    Raises :class:`~hostgw.errors.TemplateError` listing every problem.
    """
    from hostgw import templates

    environ = os.environ if env is None else env
    return templates.render(
        text,
        environ,
        vars=vars,
        filter=filter,
        strict=strict,
        no_empty=no_empty,
        raw=raw,
        own=detected(environ, detection).env if own is None else own,
        path=path,
        format=format,
        escape=escape,
    )


def render_file(
    template: str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    *,
    vars: str | Iterable[str] | None = None,
    filter: str | re.Pattern[str] | None = None,
    strict: bool = False,
    no_empty: bool = False,
    raw: bool | Iterable[str] = False,
    own: OwnValues = None,
    detection: Mapping[str, Any] | None = None,
    format: str | None = None,
    escape: bool = False,
) -> str:
    """Render the file ``template``; write the result atomically to ``output``
    (if given and different) and return it. Options as in :func:`render`
    (``format`` defaults to what ``output``'s or ``template``'s name says)."""
    from hostgw import templates

    environ = os.environ if env is None else env
    return templates.render_file(
        template,
        output,
        environ,
        vars=vars,
        filter=filter,
        strict=strict,
        no_empty=no_empty,
        raw=raw,
        own=detected(environ, detection).env if own is None else own,
        format=format,
        escape=escape,
    )


def rewrite(
    text: str,
    mapping: MappingLike,
    *,
    format: str | None = None,
    gateway: str | Callable[[], str] | None = None,
    path: str | None = None,
    upstreams: Iterable[str] = (),
    detection: Mapping[str, Any] | None = None,
) -> RewriteResult:
    """Rewrite the proxy targets in ``text`` that ``mapping`` names.

    As :func:`hostgw.rewriting.rewrite`; without ``gateway``, the host's
    address is detected (with ``detection``'s options), once, and only when
    a rule that needs it matches.
    """
    from hostgw import rewriting

    if gateway is None:
        gateway = Once(resolve_options(**(detection or {})), v6=False).host
    return rewriting.rewrite(
        text, mapping, format=format, gateway=gateway, path=path, upstreams=upstreams
    )
