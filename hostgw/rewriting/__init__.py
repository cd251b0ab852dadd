"""Repoint proxy configs at ``gateway:published_port`` (the pure core).

:func:`rewrite` takes a config's text and a set of mappings and returns a
:class:`RewriteResult`: the new text, where only target tokens changed, and
the list of changes. The format modules (nginx, haproxy, apache, caddy) are
imported only when used. Files, pristine copies and validation live in
:mod:`hostgw.rewriting.files` and :mod:`hostgw.rewriting.validate`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from collections.abc import Mapping as MappingABC

from hostgw.addr import host_form
from hostgw.errors import RewriteError, UsageError
from hostgw.formats import FORMATS
from hostgw.record import Record
from hostgw.rewriting.engine import FORMAT_OPTION, Change, Editor, Note
from hostgw.rewriting.mapping import Mappings, Rule, parse_mappings, parse_rule

__all__ = [
    "FORMATS",
    "Change",
    "Mappings",
    "Note",
    "RewriteResult",
    "Rule",
    "detect_format",
    "parse_mappings",
    "parse_rule",
    "rewrite",
]


class RewriteResult(Record):
    """The rewritten text, what changed, what was left alone, unused rules."""

    text: str
    changes: tuple[Change, ...] = ()
    notes: tuple[Note, ...] = ()
    unused: tuple[Rule, ...] = ()
    format: str = "nginx"

    @property
    def changed(self) -> bool:
        """Whether the text differs from the input."""
        return bool(self.changes)


MappingLike = Mappings | Iterable[str] | MappingABC[str, str | int]


def as_mappings(mapping: MappingLike) -> Mappings:
    """Mappings from a :class:`Mappings`, ``["backend:8000=18000"]`` or ``{"backend": 18000}``."""
    if isinstance(mapping, Mappings):
        return mapping
    if isinstance(mapping, MappingABC):
        return parse_mappings(f"{k}={v}" for k, v in mapping.items())
    if isinstance(mapping, str):
        return parse_mappings((), mapping)
    return parse_mappings(mapping)


def rewrite(
    text: str,
    mapping: MappingLike,
    *,
    format: str | None = None,  # the CLI's --format
    gateway: str | Callable[[], str] | None = None,
    path: str | None = None,
    upstreams: Iterable[str] = (),
) -> RewriteResult:
    """Rewrite the proxy targets in ``text`` that ``mapping`` names.

    ``format`` is one of :data:`FORMATS`, or None to detect it from ``path``
    and the text. ``gateway`` is the address rules without an explicit target
    send to (an IPv6 address is bracketed for you), or a function returning
    its ``host`` form, called once, and only when a rule that needs it
    matches (:func:`hostgw.rewrite` detects it when none is given).
    ``upstreams`` names nginx upstream blocks defined in other files. Raises
    :class:`RewriteError` for text the format's own parser would reject.
    """
    rules = as_mappings(mapping)
    fmt = format or detect_format(text, path)
    if fmt not in FORMATS:
        raise RewriteError(f"unknown format {fmt!r}", hint=f"use one of: {', '.join(FORMATS)}")
    editor = Editor(text, rules, _gateway_fn(gateway), names=frozenset(upstreams), path=path)
    module = importlib.import_module(f"hostgw.rewriting.{fmt}")
    if rules:
        module.rewrite(editor, path=path)
    unused = tuple(r for r in rules.rules if r not in editor.used)
    return RewriteResult(editor.apply(), tuple(editor.changes), tuple(editor.notes), unused, fmt)


def _gateway_fn(gateway: str | Callable[[], str] | None) -> Callable[[], str]:
    if callable(gateway):
        return gateway
    if gateway is not None:
        value = gateway
        return lambda: host_form(value)

    def missing() -> str:
        raise UsageError(
            "a mapping sends a target to the gateway, but no gateway address was given",
            hint="pass gateway=ADDRESS, or write the target as HOST:PORT=ADDRESS:PORT",
        )

    return missing


def detect_format(text: str, path: str | None = None) -> str:
    """``nginx``, ``haproxy``, ``apache`` or ``caddy``, from the file name and text.

    Raises :class:`RewriteError` (with the fix: ``--format``) when unsure.
    """
    from hostgw.rewriting.sniff import sniff

    found = sniff(text, path)
    if found is None:
        raise RewriteError(
            f"cannot tell which proxy {path or 'the input'} is for",
            path=path,
            hint=f"name the format: {FORMAT_OPTION} with one of: {', '.join(FORMATS)}",
        )
    return found
