"""The detection engine: walk the strategy table, keep every attempt as evidence.

:func:`detect` returns a :class:`Detection` (the address, its family, the
strategy that found it, why it won, and what every strategy saw);
:func:`gateway` returns just the address; :func:`gateway_env` the
``HOSTGW_*`` variables. All raise :class:`~hostgw.errors.GatewayNotFound`
(exit 3) when no strategy can say where the host is, and never guess.

Families: with ``family=None`` each strategy answers with its IPv4 finding,
or its IPv6 one when it has no IPv4; the first strategy in the order of
trust with an answer wins. ``family=4`` or ``6`` asks for that family only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from hostgw._record import Record
from hostgw.addr import family_name, host_form
from hostgw.errors import GatewayNotFound, GatewayUnreachable, UsageError
from hostgw.strategies import (
    DEFAULT_K8S_VAR,
    DEFAULT_NAMES,
    NAMES,
    TABLE,
    Context,
    Finding,
)

if TYPE_CHECKING:
    from hostgw.probe import Probe

__all__ = [
    "Attempt",
    "Detection",
    "Finding",
    "Options",
    "detect",
    "gateway",
    "gateway_env",
    "resolve_options",
]

NOT_FOUND_HINT = (
    "tell hostgw where the host is: set HOSTGW_IP=<host address>, or start the container "
    "with --add-host=host.docker.internal:host-gateway, or in Kubernetes set HOST_IP from "
    "status.hostIP (env valueFrom.fieldRef.fieldPath: status.hostIP)"
)


class Attempt(Record):
    """What one strategy saw: its answer (or None) and the evidence.

    ``detail`` is the evidence for ``address`` or, without one, why not.
    ``findings`` holds every answer it had (one per family), ``rejected``
    the answers known to be wrong with why, ``note`` anything else it saw.
    """

    __slots__ = ("address", "detail", "family", "findings", "note", "rejected", "strategy")
    strategy: str
    address: str | None
    detail: str
    family: int | None
    findings: tuple[Finding, ...]
    rejected: tuple[str, ...]
    note: str

    def __init__(
        self,
        strategy: str,
        address: str | None,
        detail: str,
        family: int | None = None,
        *,
        findings: tuple[Finding, ...] = (),
        rejected: tuple[str, ...] = (),
        note: str = "",
    ) -> None:
        self._init(
            strategy=strategy,
            address=address,
            detail=detail,
            family=family,
            findings=findings,
            rejected=rejected,
            note=note,
        )

    def as_dict(self) -> dict[str, object]:
        """The JSON form: ``strategy``, ``address`` (or None), ``detail``, ``family``."""
        return {
            "strategy": self.strategy,
            "address": self.address,
            "detail": self.detail,
            "family": self.family,
        }


class Detection(Record):
    """The host's address, which strategy found it, and every attempt made.

    ``detail`` is the winner's evidence and ``why`` says why it won;
    ``probes`` holds the TCP probes when a port was given.
    """

    __slots__ = ("address", "attempts", "detail", "family", "probes", "strategy", "why")
    address: str
    family: int  # 4 or 6
    strategy: str
    attempts: tuple[Attempt, ...]
    detail: str
    why: str
    probes: tuple[Probe, ...]

    def __init__(
        self,
        address: str,
        family: int,
        strategy: str,
        attempts: tuple[Attempt, ...] = (),
        *,
        detail: str = "",
        why: str = "",
        probes: tuple[Probe, ...] = (),
    ) -> None:
        self._init(
            address=address,
            family=family,
            strategy=strategy,
            attempts=tuple(attempts),
            detail=detail,
            why=why,
            probes=probes,
        )

    @property
    def host(self) -> str:
        """The address as it goes before ``:port``: bracketed for IPv6."""
        return host_form(self.address)

    def as_dict(self) -> dict[str, object]:
        """The JSON form of ``hostgw ip --json``."""
        return {
            "address": self.address,
            "family": self.family,
            "host": self.host,
            "strategy": self.strategy,
            "detail": self.detail,
            "why": self.why,
            "attempts": [a.as_dict() for a in self.attempts],
        }


class Options(Record):
    """Checked detection options, as :func:`resolve_options` returns them."""

    __slots__ = ("context", "family", "order", "port", "probe_timeout")
    order: tuple[str, ...]
    family: int | None
    context: Context
    port: int | None
    probe_timeout: float

    def __init__(
        self,
        order: tuple[str, ...],
        family: int | None,
        context: Context,
        port: int | None,
        probe_timeout: float,
    ) -> None:
        self._init(
            order=order, family=family, context=context, port=port, probe_timeout=probe_timeout
        )


def _families(family: int | None) -> tuple[int, ...]:
    """The families to look for, in order of preference: the one asked for, else 4 then 6."""
    return (family,) if family else (4, 6)


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def resolve_options(
    *,
    strategies: Sequence[str] | None = None,
    family: int | None = None,
    names: Sequence[str] | None = None,
    k8s_var: str | None = None,
    timeout: float = 1.0,
    port: int | None = None,
    probe_timeout: float = 0.5,
    env: Mapping[str, str] | None = None,
    root: str = "/",
) -> Options:
    """Check the options and fill the unset ones from the environment.

    ``HOSTGW_STRATEGIES`` and ``HOSTGW_NAMES`` (comma-separated) and
    ``HOSTGW_K8S_VAR`` apply where the argument is None. Raises
    :class:`~hostgw.errors.UsageError` for a value that cannot work.
    """
    env = os.environ if env is None else env
    explicit = strategies is not None or bool(env.get("HOSTGW_STRATEGIES", "").strip())
    order = (
        tuple(strategies)
        if strategies is not None
        else tuple(_split(env.get("HOSTGW_STRATEGIES", ""))) or NAMES
    )
    source = "--strategy" if strategies is not None else "HOSTGW_STRATEGIES"
    unknown = [s for s in order if s not in TABLE]
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
    name_list = tuple(names) if names is not None else tuple(_split(env.get("HOSTGW_NAMES", "")))
    if any(not n.strip() or any(c.isspace() for c in n) for n in name_list):
        raise UsageError(f"names must be non-empty hostnames without blanks: {name_list!r}")
    var = k8s_var if k8s_var is not None else env.get("HOSTGW_K8S_VAR", "").strip()
    if k8s_var is not None and not var:
        raise UsageError("the Kubernetes variable name must not be empty")
    if not (timeout >= 0 and probe_timeout >= 0):  # also rejects NaN
        raise UsageError("timeouts must be zero or more seconds")
    if port is not None and not 0 < port < 65536:
        raise UsageError(f"port must be 1-65535, not {port}")
    live = explicit or os.path.abspath(root) == "/"
    context = Context(
        env=env,
        root=root,
        names=name_list or DEFAULT_NAMES,
        k8s_var=var or DEFAULT_K8S_VAR,
        timeout=timeout,
        families=_families(family),
        live=live,
    )
    return Options(order, family, context, port, probe_timeout)


def _pick(findings: Sequence[Finding], family: int | None) -> Finding | None:
    """This strategy's answer: the wanted family, or IPv4 before IPv6."""
    for wanted in _families(family):
        for finding in findings:
            if finding.family == wanted:
                return finding
    return None


class _Walk:
    """The state of one walk down the table."""

    __slots__ = ("attempts", "chosen", "v6")

    def __init__(self) -> None:
        self.attempts: list[Attempt] = []
        self.chosen: tuple[str, Finding] | None = None
        self.v6: tuple[str, Finding] | None = None


# Strategies whose answer is the user's explicit word: nothing else is asked.
FINAL = frozenset({"env"})


def _walk(opts: Options, *, want_v6: bool = False, exhaustive: bool = False) -> _Walk:
    """Run strategies in order until the answer(s) are known (or all, if exhaustive)."""
    done = _Walk()
    all_families = _families(opts.family)
    for name in opts.order:
        if exhaustive or done.chosen is None:
            families = all_families
        elif want_v6 and done.v6 is None and 6 in all_families:
            families = (6,)
        else:
            break
        # Only the default answer wanted: a strategy may stop at its IPv4 one.
        first_only = not exhaustive and not want_v6 and len(families) > 1
        outcome = TABLE[name](opts.context.replace(families=families, first_only=first_only))
        picked = _pick(outcome.findings, opts.family if families == all_families else 6)
        if picked is not None:
            detail = picked.detail
        else:
            detail = "; ".join(x for x in (outcome.reason, *outcome.rejected) if x) or "no answer"
        attempt = Attempt(
            strategy=name,
            address=picked.address if picked else None,
            detail=detail,
            family=picked.family if picked else None,
            findings=outcome.findings,
            rejected=outcome.rejected,
            note=outcome.reason,
        )
        done.attempts.append(attempt)
        if outcome.fatal:
            raise GatewayNotFound(outcome.reason, attempts=done.attempts, hint=outcome.hint)
        chosen_here = False
        if done.chosen is None and picked is not None and families == all_families:
            done.chosen = (name, picked)
            chosen_here = True
        if done.v6 is None:
            v6 = _pick(outcome.findings, 6)
            if v6 is not None and v6.family == 6:
                done.v6 = (name, v6)
        if chosen_here and name in FINAL and not exhaustive:
            break  # an explicit override ends the search: no other probing
    return done


def _wanted(family: int | None) -> str:
    return family_name(family) if family else "IPv4 or IPv6"


def _not_found(opts: Options, attempts: Sequence[Attempt]) -> GatewayNotFound:
    lines = [f"no {_wanted(opts.family)} gateway found; tried, in order of trust:"]
    lines += [f"  {a.strategy}: {a.detail}" for a in attempts]
    return GatewayNotFound("\n".join(lines), attempts=attempts, hint=NOT_FOUND_HINT)


def _why(opts: Options, name: str, found: Finding) -> str:
    why = f"{name} is the first strategy in the order of trust ({', '.join(opts.order)}) with "
    why += f"an {family_name(found.family)} answer"
    if opts.family is None and found.family == 6:
        why += " (it had no IPv4 one)"
    return why


def _candidates(attempts: Sequence[Attempt], family: int | None) -> list[tuple[str, Finding]]:
    """Every finding of the wanted family, in order of trust, each address once."""
    seen: set[str] = set()
    out: list[tuple[str, Finding]] = []
    for attempt in attempts:
        for wanted in _families(family):
            for finding in attempt.findings:
                if finding.family == wanted and finding.address not in seen:
                    seen.add(finding.address)
                    out.append((attempt.strategy, finding))
    return out


def _probe(opts: Options, attempts: Sequence[Attempt], family: int | None) -> Detection:
    """With a port: the first candidate in order of trust that accepts a TCP connection."""
    from hostgw.probe import probe_tcp

    port = opts.port or 0
    candidates = _candidates(attempts, family)
    if not candidates:
        raise _not_found(opts.replace(family=family), attempts)
    probes = probe_tcp([f.address for _, f in candidates], port, opts.probe_timeout)
    for (name, found), probe in zip(candidates, probes, strict=True):
        if probe.ok:
            failed = [f"{p.address} {p.detail}" for p in probes[: probes.index(probe)]]
            why = (
                f"{found.address} ({name}) is the first candidate in the order of trust that "
                f"accepted a connection on TCP port {opts.port}"
            )
            if failed:
                why += f"; before it: {', '.join(failed)}"
            return Detection(
                found.address,
                found.family,
                name,
                tuple(attempts),
                detail=found.detail,
                why=why,
                probes=tuple(probes),
            )
    lines = [
        f"nothing accepted a connection on TCP port {opts.port} "
        f"(each connect bounded by {opts.probe_timeout:g} s); tried, in order of trust:"
    ]
    for (name, _), probe in zip(candidates, probes, strict=True):
        lines.append(f"  {probe.address} ({name}): {probe.detail}")
    raise GatewayUnreachable(
        "\n".join(lines),
        attempts=attempts,
        hint=f"check that port {opts.port} is published on the host (docker run -p "
        f"{opts.port}:...) and its service is up, or set HOSTGW_IP to the right address",
    )


def _detect(opts: Options, exhaustive: bool) -> Detection:
    if opts.port is not None:
        done = _walk(opts, exhaustive=True)
        return _probe(opts, done.attempts, opts.family)
    done = _walk(opts, exhaustive=exhaustive)
    if done.chosen is None:
        raise _not_found(opts, done.attempts)
    name, found = done.chosen
    return Detection(
        found.address,
        found.family,
        name,
        tuple(done.attempts),
        detail=found.detail,
        why=_why(opts, name, found),
    )


def detect(
    *,
    strategies: Sequence[str] | None = None,
    family: int | None = None,
    names: Sequence[str] | None = None,
    k8s_var: str | None = None,
    timeout: float = 1.0,
    port: int | None = None,
    probe_timeout: float = 0.5,
    env: Mapping[str, str] | None = None,
    root: str = "/",
    exhaustive: bool = False,
) -> Detection:
    """Find the host's address as seen from this container.

    - ``strategies``: names from :data:`hostgw.strategies.NAMES`, in the
      order to try (default: ``HOSTGW_STRATEGIES``, else all in the default
      order of trust).
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
      ``attempts`` shows what each saw (as ``hostgw doctor`` does).

    Raises :class:`GatewayNotFound`, :class:`GatewayUnreachable` (with
    ``port``) or :class:`UsageError`.
    """
    opts = resolve_options(
        strategies=strategies,
        family=family,
        names=names,
        k8s_var=k8s_var,
        timeout=timeout,
        port=port,
        probe_timeout=probe_timeout,
        env=env,
        root=root,
    )
    return _detect(opts, exhaustive)


def gateway(**opts: object) -> str:
    """The host's address as a string; see :func:`detect` for the options."""
    return detect(**opts).address  # type: ignore[arg-type]


def gateway_env(**opts: object) -> dict[str, str]:
    """The ``HOSTGW_*`` variables, for an environment or an env file.

    - ``HOSTGW_IP``: the default answer of :func:`detect` (IPv4, else IPv6;
      or the family asked for).
    - ``HOSTGW_HOST``: ``HOSTGW_IP`` as it goes before ``:port`` (IPv6 in
      brackets).
    - ``HOSTGW_IP6``: the IPv6 answer, where one exists (the first strategy
      in the order of trust with one); left out otherwise, and with
      ``family=4``.

    Takes the options of :func:`detect`; raises as it does.
    """
    exhaustive = bool(opts.pop("exhaustive", False))
    resolved = resolve_options(**opts)  # type: ignore[arg-type]
    if resolved.port is not None:
        found = _detect(resolved, exhaustive)
        v6: str | None = found.address if found.family == 6 else None
        if v6 is None and resolved.family is None:
            try:
                v6 = _probe(resolved, found.attempts, 6).address
            except GatewayNotFound:
                v6 = None
    else:
        done = _walk(resolved, want_v6=True, exhaustive=exhaustive)
        if done.chosen is None:
            raise _not_found(resolved, done.attempts)
        chosen = done.chosen[1]
        found = Detection(chosen.address, chosen.family, done.chosen[0], tuple(done.attempts))
        v6 = done.v6[1].address if done.v6 and resolved.family != 4 else None
    out = {"HOSTGW_IP": found.address, "HOSTGW_HOST": found.host}
    if v6 is not None:
        out["HOSTGW_IP6"] = v6
    return out
