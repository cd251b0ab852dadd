"""The ``hostgw doctor`` report: every strategy, what it saw, the winner and why.

Pure functions from the detection result to text or a JSON-ready dict.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from hostgw.addr import family_name

if TYPE_CHECKING:
    from hostgw.detect import Attempt, Detection
    from hostgw.errors import GatewayNotFound

_WIDTH = 14


def _wanted(family: int | None) -> str:
    return family_name(family) if family else "IPv4, else IPv6"


def doctor_text(
    order: Sequence[str],
    family: int | None,
    attempts: Sequence[Attempt],
    found: Detection | None,
    error: GatewayNotFound | None = None,
) -> str:
    """The human report. ``found`` is the answer, or None with ``error`` saying why."""
    lines = [
        f"looking for: the container host's address ({_wanted(family)})",
        f"order of trust: {', '.join(order)}",
        "",
    ]
    for attempt in attempts:
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
    skipped = [name for name in order if name not in {a.strategy for a in attempts}]
    if skipped:
        lines.append(f"  (not run: {', '.join(skipped)})")
    if found is not None and found.probes:
        lines += ["", "TCP probes, in order of trust:"]
        lines += [f"  {p.address}: {p.detail}" for p in found.probes]
    lines.append("")
    if found is not None:
        lines.append(f"answer: {found.address} ({family_name(found.family)}) from {found.strategy}")
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


def doctor_dict(
    order: Sequence[str],
    family: int | None,
    attempts: Sequence[Attempt],
    found: Detection | None,
    error: GatewayNotFound | None = None,
) -> dict[str, object]:
    """The report as a JSON-ready dict (``hostgw doctor --json``)."""
    return {
        "order": list(order),
        "family": family,
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
            for a in attempts
        ],
        "probes": [
            {"address": p.address, "ok": p.ok, "detail": p.detail}
            for p in (found.probes if found is not None else ())
        ],
        "error": error.message if error is not None else None,
        "hint": error.hint if error is not None else None,
    }
