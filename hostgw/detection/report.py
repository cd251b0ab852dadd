"""The ``hostgw doctor`` report: every strategy, what it saw, the winner and why.

:func:`examine` walks the whole table (a view of the same walk as
:func:`hostgw.detect`, run exhaustively) and returns an :class:`Examination`,
which renders itself as text or as a JSON-ready dict.
"""

from __future__ import annotations

from hostgw.addr import family_name
from hostgw.detection.options import Options
from hostgw.detection.place import container_marks
from hostgw.detection.walk import UNREACHABLE_CASES, Attempt, Detection, walk
from hostgw.errors import GatewayNotFound
from hostgw.record import Record

_WIDTH = 14
_ROUTE_STRATEGIES = ("route", "netlink", "netifaces")


def _wanted(family: int | None) -> str:
    return family_name(family) if family else "IPv4, else IPv6"


class Examination(Record):
    """What ``hostgw doctor`` found: the answer, or None with ``error`` saying why."""

    order: tuple[str, ...]
    family: int | None
    attempts: tuple[Attempt, ...]
    found: Detection | None = None
    error: GatewayNotFound | None = None
    notes: tuple[str, ...] = ()

    def text(self) -> str:
        """The human report."""
        found, error = self.found, self.error
        lines = [
            f"looking for: the container host's address ({_wanted(self.family)})",
            f"order of trust: {', '.join(self.order)}",
            "",
        ]
        for attempt in self.attempts:
            won = found is not None and attempt.strategy == found.strategy
            mark = "*" if won else " "
            answer = attempt.address or "-"
            lines.append(f"{mark} {attempt.strategy:<{_WIDTH}} {answer}")
            lines += [
                f"      {family_name(f.family)} {f.address}: {f.detail}" for f in attempt.findings
            ]
            lines += [f"      rejected: {why}" for why in attempt.rejected]
            if attempt.note:
                lines.append(f"      {'also: ' if attempt.findings else ''}{attempt.note}")
        skipped = [name for name in self.order if name not in {a.strategy for a in self.attempts}]
        if skipped:
            lines.append(f"  (not run: {', '.join(skipped)})")
        if found is not None and found.probes:
            lines += ["", "TCP probes, in order of trust:"]
            lines += [f"  {p.address}: {p.detail}" for p in found.probes]
        lines.append("")
        if found is not None:
            lines.append(
                f"answer: {found.address} ({family_name(found.family)}) from {found.strategy}"
            )
            lines.append(f"why: {found.why}")
            lines.append(f"for host:port use {found.host}")
            lines += [f"note: {note}" for note in self.notes]
        else:
            lines.append("answer: none")
            if error is not None:
                first, *rest = error.message.splitlines() or [""]
                lines.append(f"why: {first}")
                lines += [f"  {line}" for line in rest]
                if error.hint:
                    lines.append(f"fix: {error.hint}")
            lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines) + "\n"

    def as_dict(self) -> dict[str, object]:
        """``hostgw doctor --json``: ``answer`` (the answer object of ``hostgw ip
        --json``, without its attempts, or None), ``attempts`` and ``probes`` (as
        there), ``notes``, ``order``, ``family``; without an answer also
        ``error``, ``hint`` and ``exit``, as every failure with ``--json``."""
        found, error = self.found, self.error
        out: dict[str, object] = {
            "answer": found.answer_dict() if found is not None else None,
            "attempts": [a.as_dict() for a in self.attempts],
            "probes": [p.as_dict() for p in (found.probes if found is not None else ())],
            "notes": list(self.notes),
            "order": list(self.order),
            "family": self.family,
        }
        if error is not None:
            out.update(error=error.message, hint=error.hint, exit=error.exit_code)
        return out


def notes(options: Options, found: Detection | None) -> tuple[str, ...]:
    """What the attempts cannot show: that this looks like a host, not a container,
    and that a route's gateway cannot be checked from inside without ``--port``."""
    out: list[str] = []
    if not container_marks(options.context):
        out.append(
            "this looks like a host, not a container: no /.dockerenv or /run/.containerenv, "
            "no container variable, no runtime named in /proc/1/cgroup, and / is not an "
            "overlay; on a host the default route leads to the LAN's router, and the answer "
            "is what a container would see only if this is one"
        )
    if found is not None and found.strategy in _ROUTE_STRATEGIES and not found.probes:
        out.append(
            f"nothing inside the container can tell whether {found.address} reaches the "
            f"host's published ports: {UNREACHABLE_CASES}. To know, probe the port: hostgw "
            "doctor --port PORT, or hostgw ip --port PORT (exit 4 when nothing answers)"
        )
    return tuple(out)


def examine(options: Options) -> Examination:
    """Run every strategy and report; a walk with no answer is reported, not raised."""
    try:
        found = walk(options.replace(exhaustive=True)).detection
    except GatewayNotFound as exc:
        return Examination(
            options.order, options.family, tuple(exc.attempts), None, exc, notes(options, None)
        )
    return Examination(
        options.order, options.family, found.attempts, found, None, notes(options, found)
    )
