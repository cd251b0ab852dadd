"""The ``hostgw doctor`` report: every strategy, what it saw, the winner and why.

:func:`examine` walks the whole table (a view of the same walk as
:func:`hostgw.detect`, run exhaustively) and returns an :class:`Examination`,
which renders itself as text or as a JSON-ready dict.
"""

from __future__ import annotations

from hostgw.addr import family_name
from hostgw.detection.options import Options
from hostgw.detection.walk import Attempt, Detection, walk
from hostgw.errors import GatewayNotFound
from hostgw.record import Record

_WIDTH = 14


def _wanted(family: int | None) -> str:
    return family_name(family) if family else "IPv4, else IPv6"


class Examination(Record):
    """What ``hostgw doctor`` found: the answer, or None with ``error`` saying why."""

    order: tuple[str, ...]
    family: int | None
    attempts: tuple[Attempt, ...]
    found: Detection | None = None
    error: GatewayNotFound | None = None

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
        else:
            lines.append("answer: none")
            if error is not None:
                first, *rest = error.message.splitlines() or [""]
                lines.append(f"why: {first}")
                lines += [f"  {line}" for line in rest]
                if error.hint:
                    lines.append(f"fix: {error.hint}")
        return "\n".join(lines) + "\n"

    def as_dict(self) -> dict[str, object]:
        """The report as a JSON-ready dict (``hostgw doctor --json``)."""
        found, error = self.found, self.error
        return {
            "order": list(self.order),
            "family": self.family,
            "answer": found.as_dict() if found is not None else None,
            "attempts": [
                {
                    **a.as_dict(),
                    "findings": [
                        {"address": f.address, "family": f.family, "detail": f.detail}
                        for f in a.findings
                    ],
                    "rejected": list(a.rejected),
                    "note": a.note,
                }
                for a in self.attempts
            ],
            "probes": [
                {"address": p.address, "ok": p.ok, "detail": p.detail}
                for p in (found.probes if found is not None else ())
            ],
            "error": error.message if error is not None else None,
            "hint": error.hint if error is not None else None,
        }


def examine(options: Options) -> Examination:
    """Run every strategy and report; a walk with no answer is reported, not raised."""
    try:
        found = walk(options.replace(exhaustive=True)).detection
    except GatewayNotFound as exc:
        return Examination(options.order, options.family, tuple(exc.attempts), None, exc)
    return Examination(options.order, options.family, found.attempts, found)
