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

from tests.helpers import REPO

_DRAWS = """
import tests.conftest
from hypothesis import given, strategies as st
seen = []
@given(st.lists(st.integers(), min_size=1))
def draws(x):
    seen.append(x)
draws()
print(seen)
"""


# The variables by which hypothesis tells it runs under CI (its ``_CI_VARS``).
_CI_VARS = (
    "CI", "__TOX_ENVIRONMENT_VARIABLE_ORIGINAL_CI", "TF_BUILD", "BUILDKITE", "CIRCLECI",
    "CIRRUS_CI", "CODEBUILD_BUILD_ID",
    "GITHUB_ACTIONS", "GITLAB_CI", "HEROKU_TEST_RUN_ID", "TEAMCITY_VERSION", "bamboo.buildKey",
)  # fmt: skip


def _draws(**env: str) -> subprocess.CompletedProcess[str]:
    """Run :data:`_DRAWS` in a fresh directory (explore keeps a ``.hypothesis/`` there).

    The child sees no CI variable unless ``env`` gives one.
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


def _twice(**env: str) -> tuple[str, str]:
    first, second = _draws(**env), _draws(**env)
    for done in (first, second):
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("[["), done.stdout
    return first.stdout, second.stdout


# Hypothesis loads a derandomized profile of its own when ``CI`` is set; ours
# must not depend on it, either way.
CI_UNSET: dict[str, str] = {}
CI_SET = {"CI": "true"}


@pytest.mark.parametrize("ci", [CI_UNSET, CI_SET], ids=["no-ci", "ci"])
def test_the_test_command_draws_the_same_examples_every_run(ci: dict[str, str]) -> None:
    first, second = _twice(HOSTGW_NO_SKIP="1", **ci)
    assert first == second


@pytest.mark.parametrize("ci", [CI_UNSET, CI_SET], ids=["no-ci", "ci"])
def test_the_gate_profile_can_be_asked_for_by_name(ci: dict[str, str]) -> None:
    first, second = _twice(HOSTGW_HYPOTHESIS="gate", **ci)
    assert first == second


@pytest.mark.parametrize("ci", [CI_UNSET, CI_SET], ids=["no-ci", "ci"])
@pytest.mark.parametrize(
    "env", [{}, {"HOSTGW_NO_SKIP": "1", "HOSTGW_HYPOTHESIS": "explore"}], ids=["default", "asked"]
)
def test_exploring_draws_new_examples_each_run(env: dict[str, str], ci: dict[str, str]) -> None:
    first, second = _twice(**env, **ci)
    assert first != second


def test_an_unknown_profile_is_refused_with_the_choices() -> None:
    done = _draws(HOSTGW_HYPOTHESIS="fast")
    assert done.returncode != 0
    assert "HOSTGW_HYPOTHESIS='fast': use one of gate, explore" in done.stderr


def test_this_session_runs_under_the_profile_it_asked_for() -> None:
    from hypothesis import HealthCheck, settings

    from tests.conftest import HYPOTHESIS_PROFILE

    gate = HYPOTHESIS_PROFILE == "gate"
    assert settings.default.derandomize is gate
    assert (settings.default.database is None) is gate
    assert settings.default.deadline is None
    assert HealthCheck.too_slow in settings.default.suppress_health_check
    if os.environ.get("HOSTGW_NO_SKIP") == "1" and not os.environ.get("HOSTGW_HYPOTHESIS"):
        assert gate
