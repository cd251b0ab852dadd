"""Properties of the watcher's debounce, driven by a clock we control.

Whatever the pattern of events: the last event is always followed by a pass
within the quiet window (the final state is never missed); an event that
comes alone (quiet for the window before it, and for the settle time after)
is looked at once it settles; and passes are bounded by two per burst
(gaps longer than the window: the first event of a slow burst may be
looked at alone) plus one per max-delay span, never one per event.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from hostgw.detection import Answer, Attempt, Detection
from hostgw.runtime.watcher import Timing, Watcher

# An answer from HOSTGW_IP set to an address: the watcher opens no source.
_ANSWER = Answer(Detection("10.213.0.1", 4, "env", (Attempt("env", "10.213.0.1", "HOSTGW_IP"),)))


def _driven(gaps: list[float], timing: Timing) -> tuple[list[float], list[float]]:
    """Mark an event after each gap, stepping whenever the watcher is due; return
    the event times and the pass times."""
    passes: list[float] = []
    now = 1000.0

    def detect() -> Answer:
        passes.append(now)
        return _ANSWER

    def apply(_found: Answer) -> list[Path]:
        return []

    watcher = Watcher(detect=detect, apply=apply, timing=timing)
    watcher.start()
    passes.clear()
    events: list[float] = []

    def run_until(limit: float) -> None:
        nonlocal now
        while True:
            wait = watcher.timeout(now)
            if wait is None or now + wait > limit:
                return
            now += wait
            watcher.step(now=now)

    for gap in gaps:
        run_until(now + gap)
        now = events[-1] + gap if events else now + gap
        events.append(now)
        watcher.mark(now)
        watcher.step(now=now)
    run_until(float("inf"))
    watcher.close()
    return events, passes


@settings(max_examples=300, deadline=None)
@given(
    gaps=st.lists(
        st.floats(min_value=0.0, max_value=3.0, allow_nan=False), min_size=1, max_size=120
    ),
    debounce=st.sampled_from([0.01, 0.05, 0.1, 0.2]),
    max_delay=st.sampled_from([0.5, 1.0, 2.0]),
)
def test_debounce(gaps: list[float], debounce: float, max_delay: float) -> None:
    settle = debounce / 20
    timing = Timing(debounce=debounce, settle=settle, max_delay=max_delay)
    events, passes = _driven(gaps, timing)
    eps = 1e-9
    # The final state is always looked at, within the quiet window.
    assert passes, "events but no pass"
    assert passes[-1] >= events[-1] - eps
    assert passes[-1] <= events[-1] + debounce + eps
    # An event alone is looked at once it settles, not a whole window later.
    before = [float("inf"), *(b - a for a, b in itertools.pairwise(events))]
    after = [*(b - a for a, b in itertools.pairwise(events)), float("inf")]
    for event, gap_before, gap_after in zip(events, before, after, strict=True):
        if gap_before >= debounce + eps and gap_after > settle + eps:
            assert any(event - eps <= p <= event + settle + eps for p in passes), event
    # Bounded: two passes per burst, plus one per max_delay of a long burst.
    bursts = 1 + sum(1 for gap in before[1:] if gap >= debounce - eps)
    span = events[-1] - events[0]
    assert len(passes) <= 2 * bursts + int(span / max_delay) + 1
    assert len(passes) <= len(events)
