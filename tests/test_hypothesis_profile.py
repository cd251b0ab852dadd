"""The test command draws the same property-test examples on every run; exploring draws new.

``tests/conftest.py`` picks the hypothesis profile. Each case runs a tiny
property test in a fresh interpreter, twice, and compares what it was given.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import pytest
from hypothesis._settings import _CI_VARS  # what hypothesis reads to tell CI

from tests.helpers import REPO

# The first line says whether hypothesis loaded its own ``ci`` profile (which
# is derandomized) before ours; the second is what the property test drew.
_DRAWS = """
from hypothesis import given, settings, strategies as st
print(settings.default.derandomize)
import tests.conftest
seen = []
@given(st.lists(st.integers(), min_size=1))
def draws(x):
    seen.append(x)
draws()
print(seen)
"""


def _draws(**env: str) -> subprocess.CompletedProcess[str]:
    """Run :data:`_DRAWS` in a fresh directory (explore keeps a ``.hypothesis/`` there).

    The child sees none of the variables by which hypothesis tells CI unless
    ``env`` gives one.
    """
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HOSTGW_", "HYPOTHESIS")) and k not in _CI_VARS
    }
    with tempfile.TemporaryDirectory(prefix="hostgw-draws-") as cwd:
        return _run(cwd, {**base, "PYTHONPATH": str(REPO), **env})


def _run(cwd: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _DRAWS],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(params=[False, True], ids=["no-ci", "ci"])
def ci(request: pytest.FixtureRequest) -> dict[str, str]:
    """The environment of a run outside CI, then of one under it (``CI=true``)."""
    return {"CI": "true"} if request.param else {}


def _twice(ci: dict[str, str], **env: str) -> tuple[str, str]:
    """What two fresh runs drew, each checked to have run under CI or not, as asked."""
    runs = []
    for _ in range(2):
        done = _draws(**ci, **env)
        assert done.returncode == 0, done.stderr
        loaded, seen = done.stdout.splitlines()
        assert loaded == str(bool(ci)), "hypothesis did not see CI as this case meant"
        assert seen.startswith("[["), done.stdout
        runs.append(seen)
    return runs[0], runs[1]


def test_the_test_command_draws_the_same_examples_every_run(ci: dict[str, str]) -> None:
    first, second = _twice(ci, HOSTGW_NO_SKIP="1")
    assert first == second


def test_the_gate_profile_can_be_asked_for_by_name(ci: dict[str, str]) -> None:
    first, second = _twice(ci, HOSTGW_HYPOTHESIS="gate")
    assert first == second


@pytest.mark.parametrize(
    "env", [{}, {"HOSTGW_NO_SKIP": "1", "HOSTGW_HYPOTHESIS": "explore"}], ids=["default", "asked"]
)
def test_exploring_draws_new_examples_each_run(env: dict[str, str], ci: dict[str, str]) -> None:
    first, second = _twice(ci, **env)
    assert first != second


def test_an_unknown_profile_is_refused_with_the_choices() -> None:
    done = _draws(HOSTGW_HYPOTHESIS="fast")
    assert done.returncode != 0
    assert "HOSTGW_HYPOTHESIS='fast': use one of gate, explore" in done.stderr


def test_this_session_runs_under_the_profile_it_asked_for() -> None:
    from hypothesis import HealthCheck, settings

    from tests.conftest import HYPOTHESIS_PROFILE

    gate = HYPOTHESIS_PROFILE == "gate"
    current = settings.default
    assert current is not None
    assert current.derandomize is gate
    assert (current.database is None) is gate
    assert current.deadline is None
    assert HealthCheck.too_slow in current.suppress_health_check
    if os.environ.get("HOSTGW_NO_SKIP") == "1" and not os.environ.get("HOSTGW_HYPOTHESIS"):
        assert gate
