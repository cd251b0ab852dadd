"""Shared fixtures.

``lab`` builds real network namespaces (see tests/netns.py). Where root or
netns is missing such tests skip locally; with ``HOSTGW_NO_SKIP=1`` (set by
``scripts/test``, hence CI) any skipped test fails the whole run.

Property tests run under one of two hypothesis profiles, chosen here before
any test module makes its settings: ``gate`` (the default under
``HOSTGW_NO_SKIP=1``) draws the same examples on every run, so the test
command fails on a change and not on a new draw; ``explore`` (the default
elsewhere, or ``HOSTGW_HYPOTHESIS=explore``) draws new ones each run and
keeps what failed in ``.hypothesis/``. The choice does not depend on ``CI``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests import netns

NO_SKIP = os.environ.get("HOSTGW_NO_SKIP") == "1"
PROFILES = ("gate", "explore")
# Both start from hypothesis's own defaults, not from whatever it loaded: with
# ``CI`` set it loads its ``ci`` profile, which is derandomized. Neither has a
# deadline or too_slow check: speed is for the benchmarks under scripts/.
_UNTIMED = settings(
    settings.get_profile("default"),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("gate", _UNTIMED, derandomize=True, database=None)
settings.register_profile("explore", _UNTIMED)
HYPOTHESIS_PROFILE = os.environ.get("HOSTGW_HYPOTHESIS") or ("gate" if NO_SKIP else "explore")
if HYPOTHESIS_PROFILE not in PROFILES:
    raise pytest.UsageError(
        f"HOSTGW_HYPOTHESIS={HYPOTHESIS_PROFILE!r}: use one of {', '.join(PROFILES)}"
    )
settings.load_profile(HYPOTHESIS_PROFILE)
_netns_reason = netns.available() if shutil.which("ip") else "needs iproute2 (ip)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip netns-marked tests where namespaces cannot be made."""
    if _netns_reason is None:
        return
    for item in items:
        if item.get_closest_marker("netns"):
            item.add_marker(pytest.mark.skip(reason=f"netns: {_netns_reason}"))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under HOSTGW_NO_SKIP=1 a skipped test is a failure."""
    if not NO_SKIP:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped:
        if reporter:
            reporter.write_line(
                f"HOSTGW_NO_SKIP=1: {skipped} test(s) skipped; every test is mandatory here",
                red=True,
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session", autouse=True)
def _state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test writes the real /var/lib/hostgw: rewrites in place keep originals here.

    Tests about the state directory pass their own with --state-dir or
    HOSTGW_STATE_DIR; this covers every other hostgw process they start.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOSTGW_STATE_DIR", str(tmp_path_factory.mktemp("hostgw-state")))
        yield


@pytest.fixture
def lab() -> Iterator[netns.Lab]:
    """A Lab that removes everything it made when the test ends, pass or fail."""
    made = netns.Lab()
    try:
        yield made
    finally:
        made.close()
