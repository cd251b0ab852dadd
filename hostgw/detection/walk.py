"""One walk down the strategy table, and the answers read off it.

:func:`walk` runs the strategies in order of trust until the answer is known
(all of them, when the options say ``exhaustive``), recording every attempt
as evidence, and returns an :class:`Answer`. ``hostgw ip``, ``hostgw env``,
``hostgw doctor`` and every ``HOSTGW_*`` value are views of an Answer.
With a port, every candidate is then probed with a TCP connect.

Families: with ``family=None`` each strategy answers with its IPv4 finding,
or its IPv6 one when it has no IPv4; the first strategy in the order of
trust with an answer wins. ``family=4`` or ``6`` asks for that family only.

DNS without holding up the route table: a row with a ``start`` (``dns``)
starts its lookups, then the rows below it run (``route``, ``netlink``, ...,
up to the first with an answer; not ``env``, which may itself resolve a
name). DNS outranks them, so its answer still wins if it comes; but once a
lower row has one, DNS gets only :data:`GRACE` seconds from its start instead
of its whole bound. Exhaustive walks (``doctor``, ``--port``) give it the whole
bound. The attempts read as if the rows had run one after the other.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from hostgw.addr import family_name, host_form
from hostgw.detection.evidence import Context, Finding, Outcome
from hostgw.detection.options import Options, families
from hostgw.detection.table import ROWS
from hostgw.errors import GatewayNotFound, GatewayUnreachable
from hostgw.record import Record

if TYPE_CHECKING:
    from hostgw.detection.probe import Probe

NOT_FOUND_HINT = (
    "tell hostgw where the host is: set HOSTGW_IP=<host address>, or start the container "
    "with --add-host=host.docker.internal:host-gateway, or in Kubernetes set HOST_IP from "
    "status.hostIP (env valueFrom.fieldRef.fieldPath: status.hostIP)"
)


GRACE = 0.005
"""Seconds from its start that DNS is waited for, once a lower-ranked strategy
has an answer (no wait at all beyond that answer when they have passed).

A resolver that knows ``host.docker.internal`` (Docker Desktop's) answers it
locally, well within this; one that must ask an upstream that does not
answer never will, and the route's answer should not wait for it."""


UNREACHABLE_CASES = (
    "where nothing inside the container reaches the host, no address answers: on Docker "
    "before 25 an --internal network has a default route but drops published ports (use "
    "a network that is not --internal), and under pasta without --map-gw the gateway is "
    "the LAN's router (podman run --network pasta:--map-gw, or pasta --map-gw)"
)
"""The cases where the route's gateway cannot be told from inside to be wrong."""


class Attempt(Record):
    """What one strategy saw: its answer (or None) and the evidence.

    ``detail`` is the evidence for ``address`` or, without one, why not.
    ``findings`` holds every answer it had (one per family), ``rejected``
    the answers known to be wrong with why, ``note`` anything else it saw;
    ``watch`` what its answer can change with (see
    :mod:`hostgw.detection.table`).
    """

    strategy: str
    address: str | None
    detail: str
    family: int | None = None
    findings: tuple[Finding, ...] = ()
    rejected: tuple[str, ...] = ()
    note: str = ""
    watch: frozenset[str] = frozenset()

    def as_dict(self) -> dict[str, object]:
        """The JSON form, the same in every command: ``strategy``, ``address`` (or
        None), ``family``, ``detail``, ``findings``, ``rejected``, ``note``."""
        return {
            "strategy": self.strategy,
            "address": self.address,
            "family": self.family,
            "detail": self.detail,
            "findings": [
                {"address": f.address, "family": f.family, "detail": f.detail}
                for f in self.findings
            ],
            "rejected": list(self.rejected),
            "note": self.note,
        }


class Detection(Record):
    """The host's address, which strategy found it, and every attempt made.

    ``detail`` is the winner's evidence and ``why`` says why it won;
    ``probes`` holds the TCP probes when a port was given.
    """

    address: str
    family: int  # 4 or 6
    strategy: str
    attempts: tuple[Attempt, ...] = ()
    detail: str = ""
    why: str = ""
    probes: tuple[Probe, ...] = ()

    @property
    def host(self) -> str:
        """The address as it goes before ``:port``: bracketed for IPv6."""
        return host_form(self.address)

    @property
    def watch(self) -> frozenset[str]:
        """What can change this answer: every strategy tried up to the winner counts
        (an earlier one may start answering, the winner may stop)."""
        return watch_of(self.attempts)

    def answer_dict(self) -> dict[str, object]:
        """The answer object: ``address``, ``family``, ``host``, ``strategy``,
        ``detail``, ``why`` (``doctor --json`` gives it as ``answer``)."""
        return {
            "address": self.address,
            "family": self.family,
            "host": self.host,
            "strategy": self.strategy,
            "detail": self.detail,
            "why": self.why,
        }

    def as_dict(self) -> dict[str, object]:
        """``hostgw ip --json``: the answer object, with the ``attempts`` and
        ``probes`` (TCP connects, with a port) that led to it."""
        return {
            **self.answer_dict(),
            "attempts": [a.as_dict() for a in self.attempts],
            "probes": [p.as_dict() for p in self.probes],
        }


class Answer(Record):
    """One walk's answer: the :class:`Detection` and, where asked for, the IPv6 one."""

    detection: Detection
    v6: str | None = None

    def env(self) -> dict[str, str]:
        """``HOSTGW_IP``, ``HOSTGW_HOST`` and (where one exists) ``HOSTGW_IP6``."""
        found = self.detection
        out = {"HOSTGW_IP": found.address, "HOSTGW_HOST": found.host}
        if self.v6 is not None:
            out["HOSTGW_IP6"] = self.v6
        return out


def watch_of(attempts: Sequence[Attempt]) -> frozenset[str]:
    """The watch kinds of every attempt."""
    return frozenset().union(*(a.watch for a in attempts))


def _pick(findings: Sequence[Finding], family: int | None) -> Finding | None:
    """This strategy's answer: the wanted family, or IPv4 before IPv6."""
    for wanted in families(family):
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


def _skipped(opts: Options, name: str) -> Outcome | None:
    row = ROWS[name]
    if row.asks and not opts.context.live:
        return Outcome(reason=f"not run: --root reads a snapshot, {row.asks}")
    return None


def _run(opts: Options, index: int, ctx: Context, ahead: dict[int, Outcome]) -> Outcome:
    """Run row ``index``. A row that waits on others (DNS) starts that work, the
    rows below it run meanwhile (their outcomes go to ``ahead``), and once one of
    them has an answer it waits no longer than :data:`GRACE` seconds from its
    start (and not at all if that has passed)."""
    name = opts.order[index]
    row = ROWS[name]
    skipped = _skipped(opts, name)
    if skipped is not None:
        return skipped
    if row.start is None or opts.exhaustive:
        return row.run(ctx)
    begun = time.monotonic()
    started = row.start(ctx)
    until: float | None = None
    for below in range(index + 1, len(opts.order)):
        other = ROWS[opts.order[below]]
        if other.start is not None or other.final:
            break  # it may wait too: it runs in its turn
        outcome = _skipped(opts, other.name) or other.run(ctx)
        ahead[below] = outcome
        if any(f.family in ctx.families for f in outcome.findings):
            until = max(time.monotonic(), begun + GRACE)
            break
    return row.run(ctx.replace(started=started, until=until))


def _attempt(name: str, outcome: Outcome, picked: Finding | None) -> Attempt:
    """The record of what row ``name`` saw; ``picked`` is its answer, if any."""
    if picked is not None:
        detail = picked.detail
    else:
        detail = "; ".join(x for x in (outcome.reason, *outcome.rejected) if x) or "no answer"
    return Attempt(
        strategy=name,
        address=picked.address if picked else None,
        detail=detail,
        family=picked.family if picked else None,
        findings=outcome.findings,
        rejected=outcome.rejected,
        note=outcome.reason,
        watch=ROWS[name].watch if outcome.watch is None else outcome.watch,
    )


def _walk(opts: Options, *, want_v6: bool) -> _Walk:
    """Run strategies in order until the answer(s) are known (or all, if exhaustive)."""
    done = _Walk()
    exhaustive = opts.exhaustive
    all_families = families(opts.family)
    ahead: dict[int, Outcome] = {}
    for index, name in enumerate(opts.order):
        if exhaustive or done.chosen is None:
            wanted = all_families
        elif want_v6 and done.v6 is None and 6 in all_families:
            wanted = (6,)
        else:
            break
        # Only the default answer wanted: a strategy may stop at its IPv4 one.
        first_only = not exhaustive and not want_v6 and len(wanted) > 1
        outcome = ahead.pop(index, None)
        if outcome is None:
            ctx = opts.context.replace(families=wanted, first_only=first_only)
            outcome = _run(opts, index, ctx, ahead)
        else:  # run ahead, maybe for more families than are wanted now
            outcome = outcome.replace(
                findings=tuple(f for f in outcome.findings if f.family in wanted)
            )
        picked = _pick(outcome.findings, opts.family if wanted == all_families else 6)
        done.attempts.append(_attempt(name, outcome, picked))
        if outcome.fatal:
            raise GatewayNotFound(outcome.reason, attempts=done.attempts, hint=outcome.hint)
        chosen_here = False
        if done.chosen is None and picked is not None and wanted == all_families:
            done.chosen = (name, picked)
            chosen_here = True
        if done.v6 is None:
            v6 = _pick(outcome.findings, 6)
            if v6 is not None and v6.family == 6:
                done.v6 = (name, v6)
        if chosen_here and ROWS[name].final and not exhaustive:
            break  # an explicit override ends the search: no other probing
    return done


def _wanted(family: int | None) -> str:
    return family_name(family) if family else "IPv4 or IPv6"


def not_found(opts: Options, attempts: Sequence[Attempt]) -> GatewayNotFound:
    """The error for a walk with no answer, listing what every strategy saw."""
    lines = [f"no {_wanted(opts.family)} gateway found; tried, in order of trust:"]
    lines += [f"  {a.strategy}: {a.detail}" for a in attempts]
    hint = NOT_FOUND_HINT
    given = next((a for a in attempts if ROWS[a.strategy].final and a.note), None)
    if opts.family is not None and given is not None and "wanted" in given.note:
        # HOSTGW_IP is set, only not of the family asked for: say that, not "set it".
        flag, six = f"-{opts.family}", "HOSTGW_IP6" if opts.family == 6 else "HOSTGW_IP"
        hint = (
            f"{given.note}: drop {flag}, or set {six} to the host's "
            f"{family_name(opts.family)} address"
        )
    return GatewayNotFound("\n".join(lines), attempts=attempts, hint=hint)


def _why(opts: Options, name: str, found: Finding) -> str:
    why = f"{name} is the first strategy in the order of trust ({', '.join(opts.order)}) with "
    why += f"an {family_name(found.family)} answer"
    if opts.family is None and found.family == 6:
        why += " (it had no IPv4 one)"
    return why


def _candidates(attempts: Sequence[Attempt], family: int | None) -> list[tuple[str, Finding]]:
    """Every finding of the wanted family, in order of trust, each address once. Where an
    explicit override (a ``final`` row: ``HOSTGW_IP``) found anything, only its findings:
    the user said where the host is, and a guess elsewhere would hide the mistake."""
    final = [a for a in attempts if a.findings and ROWS[a.strategy].final]
    seen: set[str] = set()
    out: list[tuple[str, Finding]] = []
    for attempt in final[:1] or attempts:
        for wanted in families(family):
            for finding in attempt.findings:
                if finding.family == wanted and finding.address not in seen:
                    seen.add(finding.address)
                    out.append((attempt.strategy, finding))
    return out


def _probe(opts: Options, attempts: Sequence[Attempt], family: int | None) -> Detection:
    """With a port: the first candidate in order of trust that accepts a TCP connection."""
    from hostgw.detection.probe import probe_tcp

    port = opts.port or 0
    candidates = _candidates(attempts, family)
    if not candidates:
        raise not_found(opts.replace(family=family), attempts)
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
    published = (
        f"check that port {opts.port} is published on the host (docker run -p "
        f"{opts.port}:...) and its service is up"
    )
    tried, hint = "in order of trust", f"{published}, or set HOSTGW_IP to the right address"
    hint += f"; {UNREACHABLE_CASES}"
    if ROWS[candidates[0][0]].final:
        names = list(dict.fromkeys(f.detail.split("=", 1)[0] for _, f in candidates))
        given, one = " and ".join(names), len(names) == 1
        tried = f"only what {given} {'gives' if one else 'give'}: your explicit word"
        hint = (
            f"{published}, set {given} to the host's {'address' if one else 'addresses'}, "
            f"or unset {'it' if one else 'them'} to let hostgw search"
        )
    lines = [
        f"nothing accepted a connection on TCP port {opts.port} "
        f"(each connect bounded by {opts.probe_timeout:g} s); tried {tried}:"
    ]
    for (name, _), probe in zip(candidates, probes, strict=True):
        lines.append(f"  {probe.address} ({name}): {probe.detail}")
    raise GatewayUnreachable("\n".join(lines), attempts=attempts, hint=hint)


def walk(opts: Options, *, v6: bool = False) -> Answer:
    """Walk the table once; the answer, and with ``v6`` the IPv6 answer too.

    Raises :class:`GatewayNotFound`, or :class:`GatewayUnreachable` when a
    port was given and no candidate accepted.
    """
    if opts.port is not None:
        done = _walk(opts.replace(exhaustive=True), want_v6=False)
        found = _probe(opts, done.attempts, opts.family)
        other: str | None = found.address if found.family == 6 else None
        if v6 and other is None and opts.family is None:
            try:
                other = _probe(opts, found.attempts, 6).address
            except GatewayNotFound:
                other = None
        return Answer(found, other if v6 else None)
    done = _walk(opts, want_v6=v6)
    if done.chosen is None:
        raise not_found(opts, done.attempts)
    name, chosen = done.chosen
    found = Detection(
        chosen.address,
        chosen.family,
        name,
        tuple(done.attempts),
        detail=chosen.detail,
        why=_why(opts, name, chosen),
    )
    other = done.v6[1].address if v6 and done.v6 and opts.family != 4 else None
    return Answer(found, other)
