"""IPv6 zones are checked once, wherever they come from (issue 9, item 8).

A zone can come from ``HOSTGW_IP``, a hosts entry, or the interface a
link-local next hop is reached through, and Linux allows ``;``, ``{`` or a
quote in an interface name. Whatever the source, hostgw (and the sh drop-in)
never answers ``fe80::1%x;}``: a zone that is not an interface name is
rejected with the reason, and detection goes on or stops as for any bad value.
"""

from __future__ import annotations

import string
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostgw.addr import is_zone, parse_ip, zone_problem
from hostgw.cli import main
from hostgw.detection import detect
from hostgw.errors import GatewayNotFound
from tests.helpers import make_root, r6
from tests.shsnippet import Shell, root_tree, shells


@pytest.fixture(scope="module")
def all_shells(tmp_path_factory: pytest.TempPathFactory) -> list[Shell]:
    return shells(tmp_path_factory.mktemp("shells"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def test_an_interface_name_that_is_no_zone_is_never_printed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = make_root(tmp_path, route6=r6("fe80::1", iface="x;}"))
    code, out, err = run(capsys, "ip", "--root", root)
    assert (code, out) == (3, "")
    assert "zone 'x;}' holds ';'" in err


def test_a_hosts_entry_with_a_bad_zone_is_rejected_and_the_next_counts(tmp_path: Path) -> None:
    root = make_root(
        tmp_path,
        hosts="fe80::1%eth0;} host.docker.internal\nfe80::2%eth0 host.docker.internal\n",
    )
    found = detect(root=root, env={})
    assert (found.address, found.strategy) == ("fe80::2%eth0", "hosts")
    (why,) = found.attempts[1].rejected
    assert why.endswith(
        "not an IP address: zone 'eth0;}' holds ';': a zone is an interface "
        "name or index, of A-Z a-z 0-9 _ . - only"
    )


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("fe80::1%x;}", "zone 'x;}' holds ';'"),
        ("fe80::1%", "the zone after % is empty"),
        ("fe80::1%" + "a" * 16, "longer than 15 characters"),
        ("10.0.0.1%eth0", "an IPv4 address takes no zone"),
    ],
)
def test_hostgw_ip_with_a_bad_zone_stops_with_the_reason(
    tmp_path: Path, value: str, problem: str
) -> None:
    with pytest.raises(GatewayNotFound, match=problem):
        detect(root=make_root(tmp_path), env={"HOSTGW_IP": value})


@pytest.mark.parametrize(
    ("env", "hosts", "route6"),
    [
        ({"HOSTGW_IP": "fe80::1%x;}"}, "", ""),
        ({}, "fe80::1%eth0;} host.docker.internal\n", ""),
        ({}, "", r6("fe80::1", iface="x;}")),
    ],
    ids=["HOSTGW_IP", "hosts", "interface"],
)
def test_the_sh_drop_in_refuses_bad_zones_too(
    tmp_path: Path, all_shells: list[Shell], env: dict[str, str], hosts: str, route6: str
) -> None:
    root = root_tree(tmp_path, hosts=hosts, route6=route6)
    for shell in all_shells:
        done = shell.run("ip", env={**env, "HOSTGW_ROOT": str(root)})
        assert (done.returncode, done.stdout) == (3, ""), (shell, done.stdout, done.stderr)
        assert "zone" in done.stderr


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20))
def test_zone_problem_is_the_zone_rule(text: str) -> None:
    assert (zone_problem(text) is None) == is_zone(text)
    parsed = parse_ip(f"fe80::1%{text}")
    assert (parsed is not None) == is_zone(text)


names = st.text(alphabet=string.printable.strip() + "é", min_size=1, max_size=16).filter(
    lambda n: "/" not in n and not any(c.isspace() for c in n)
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=names)
def test_any_interface_name_gives_a_zone_or_no_answer(all_shells: list[Shell], name: str) -> None:
    # What Linux allows as a name (no '/', no blank): the answer is a clean zone or none.
    with tempfile.TemporaryDirectory() as d:
        root = root_tree(Path(d), route6=r6("fe80::1", iface=name))
        try:
            answer: str | None = detect(root=str(root), env={}).address
        except GatewayNotFound:
            answer = None
        assert answer is None or is_zone(answer.partition("%")[2])
        assert (answer is not None) == is_zone(name)
        for shell in all_shells:
            done = shell.run("ip", env={"HOSTGW_ROOT": str(root)})
            assert done.stdout.strip() == (answer or ""), (shell, name, done.stderr)
