"""Detection options, checked and completed once: explicit arguments, then the environment.

:func:`resolve_options` is the one place that knows the detection keywords
and their defaults; :func:`hostgw.detect` and its siblings take exactly its
signature.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from hostgw.detection.evidence import DEFAULT_K8S_VAR, DEFAULT_NAMES, Context
from hostgw.detection.table import NAMES, ROWS
from hostgw.errors import UsageError
from hostgw.record import Record


class Options(Record):
    """Checked detection options, as :func:`resolve_options` returns them.

    ``context`` is what every strategy reads; ``exhaustive`` runs every
    strategy even after the answer is known (``hostgw doctor``).
    """

    order: tuple[str, ...]
    family: int | None
    context: Context
    port: int | None = None
    probe_timeout: float = 0.5
    exhaustive: bool = False


def families(family: int | None) -> tuple[int, ...]:
    """The families to look for, in order of preference: the one asked for, else 4 then 6."""
    return (family,) if family else (4, 6)


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _names(value: str | Sequence[str] | None) -> tuple[str, ...] | None:
    """A sequence of names; one string is one name, not its characters."""
    if value is None:
        return None
    return (value,) if isinstance(value, str) else tuple(value)


def resolve_options(
    *,
    strategies: str | Sequence[str] | None = None,
    family: int | None = None,
    names: str | Sequence[str] | None = None,
    k8s_var: str | None = None,
    timeout: float = 1.0,
    port: int | None = None,
    probe_timeout: float = 0.5,
    env: Mapping[str, str] | None = None,
    root: str = "/",
    exhaustive: bool = False,
) -> Options:
    """Check the detection options and fill the unset ones from the environment.

    - ``strategies``: names from :data:`hostgw.detection.table.NAMES`, in
      the order to try (default: ``HOSTGW_STRATEGIES``, comma-separated,
      else all in the default order of trust).
    - ``family``: 4 or 6; None means IPv4, else IPv6.
    - ``names``: hostnames for ``hosts`` and ``dns`` (default
      ``HOSTGW_NAMES``, else host.docker.internal, host.containers.internal).
    - ``k8s_var``: the variable holding ``status.hostIP`` (default
      ``HOSTGW_K8S_VAR``, else ``HOST_IP``).
    - ``timeout``: total seconds for name resolution.
    - ``port``: probe every candidate with a TCP connect (each bounded by
      ``probe_timeout``); the first in order of trust that accepts wins.
    - ``env``: the environment to read (default ``os.environ``).
    - ``root``: read ``proc/``, ``etc/`` and ``sys/`` under this directory; a
      root other than ``/`` skips the live strategies unless named.
    - ``exhaustive``: run every strategy even after the answer is known, so
      the attempts show what each saw (as ``hostgw doctor`` does).

    Raises :class:`~hostgw.errors.UsageError` for a value that cannot work.
    """
    env = os.environ if env is None else env
    given = _names(strategies)
    from_env = tuple(_split(env.get("HOSTGW_STRATEGIES", "")))
    order = given if given is not None else from_env or NAMES
    source = "--strategy" if given is not None else "HOSTGW_STRATEGIES"
    unknown = [s for s in order if s not in ROWS]
    if unknown:
        raise UsageError(
            f"{source}: unknown strategy {', '.join(map(repr, unknown))}",
            hint=f"choose from {', '.join(NAMES)}",
        )
    if not order:
        raise UsageError(f"{source}: no strategy given", hint=f"choose from {', '.join(NAMES)}")
    order = tuple(dict.fromkeys(order))
    if family not in (None, 4, 6):
        raise UsageError(f"family must be 4, 6 or None, not {family!r}")
    name_list = _names(names)
    if name_list is None:
        name_list = tuple(_split(env.get("HOSTGW_NAMES", "")))
    if any(not n.strip() or any(c.isspace() for c in n) for n in name_list):
        raise UsageError(f"names must be non-empty hostnames without blanks: {name_list!r}")
    var = k8s_var if k8s_var is not None else env.get("HOSTGW_K8S_VAR", "").strip()
    if k8s_var is not None and not var:
        raise UsageError("the Kubernetes variable name must not be empty")
    if not (timeout >= 0 and probe_timeout >= 0):  # also rejects NaN
        raise UsageError("timeouts must be zero or more seconds")
    if port is not None and not 0 < port < 65536:
        raise UsageError(f"port must be 1-65535, not {port}")
    explicit = given is not None or bool(from_env)
    context = Context(
        env=env,
        root=root,
        names=name_list or DEFAULT_NAMES,
        k8s_var=var or DEFAULT_K8S_VAR,
        timeout=timeout,
        families=families(family),
        live=explicit or os.path.abspath(root) == "/",
    )
    return Options(order, family, context, port, probe_timeout, exhaustive)
