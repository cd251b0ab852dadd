"""The detection engine: walk the strategy table, keep every attempt as evidence.

(Interface fixed; the engine is being filled in. Other modules rely on:
``Attempt``, ``Detection``, ``detect()``, ``gateway()``, ``gateway_env()``.)
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from hostgw.errors import GatewayNotFound


@dataclass(frozen=True)
class Attempt:
    """What one strategy saw: its answer (or None) and the evidence."""

    strategy: str
    address: str | None
    detail: str


@dataclass(frozen=True)
class Detection:
    """The host's address, which strategy found it, and every attempt made."""

    address: str
    family: int  # 4 or 6
    strategy: str
    attempts: tuple[Attempt, ...] = field(default=())

    @property
    def host(self) -> str:
        """The address as it goes before ``:port``: bracketed for IPv6."""
        return f"[{self.address}]" if self.family == 6 else self.address


def detect(
    *,
    strategies: Sequence[str] | None = None,
    family: int | None = None,
    names: Sequence[str] | None = None,
    k8s_var: str = "HOST_IP",
    timeout: float = 1.0,
    port: int | None = None,
    probe_timeout: float = 0.5,
    env: Mapping[str, str] | None = None,
    root: str = "/",
) -> Detection:
    """Find the host's address as seen from this container.

    Raises :class:`GatewayNotFound` (or ``GatewayUnreachable`` with ``port``).
    """
    env = os.environ if env is None else env
    value = env.get("HOSTGW_IP")
    if value:
        fam = 6 if ":" in value else 4
        return Detection(value, fam, "env", (Attempt("env", value, "HOSTGW_IP"),))
    raise GatewayNotFound("not implemented yet")


def gateway(**opts: object) -> str:
    """The host's address as a string; see :func:`detect` for the options."""
    return detect(**opts).address  # type: ignore[arg-type]


def gateway_env(**opts: object) -> dict[str, str]:
    """``HOSTGW_IP``, ``HOSTGW_HOST`` and (where one exists) ``HOSTGW_IP6``."""
    found = detect(**opts)  # type: ignore[arg-type]
    out = {"HOSTGW_IP": found.address, "HOSTGW_HOST": found.host}
    if found.family == 6:
        out["HOSTGW_IP6"] = found.address
    return out
