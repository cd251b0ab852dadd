"""Shared fixtures.

``lab`` builds real network namespaces (see tests/netns.py). Where root or
netns is missing such tests skip locally; with ``HOSTGW_NO_SKIP=1`` (set by
``scripts/test``, hence CI) any skipped test fails the whole run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from tests import netns

NO_SKIP = os.environ.get("HOSTGW_NO_SKIP") == "1"
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
