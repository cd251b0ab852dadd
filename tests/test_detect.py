"""The detection engine and its strategies on snapshot roots (``root=``) and explicit ``env=``.

No test here touches the network: a root other than / leaves out dns,
netlink and netifaces, and the environment is always given.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import hostgw
from hostgw.detection import detect, gateway, gateway_env
from hostgw.detection.evidence import Context
from hostgw.detection.strategies import host_network, is_runtime_bridge_name, judge_gateway
from hostgw.detection.table import NAMES
from hostgw.errors import EXIT_NOT_FOUND, GatewayNotFound, UsageError
from tests.helpers import make_root, r4, r6

ANY4 = "0.0.0.0"  # noqa: S104 - the unspecified address, as route files hold it


def test_route_answers_with_file_and_line(tmp_path: Path) -> None:
    root = make_root(tmp_path, route=r4("172.17.0.1"))
    found = detect(root=root, env={})
    assert (found.address, found.family, found.strategy) == ("172.17.0.1", 4, "route")
    assert found.detail.startswith(f"{root}/proc/net/route:2: default via 172.17.0.1 dev eth0")
    assert found.host == "172.17.0.1"
    assert [a.strategy for a in found.attempts] == [
        "env",
        "hosts",
        "k8s",
        "host-network",
        "dns",
        "route",
    ]
    assert "not run: --root" in found.attempts[4].detail


def test_order_of_trust(tmp_path: Path) -> None:
    root = make_root(
        tmp_path,
        route=r4("172.17.0.1"),
        hosts="10.0.0.7 host.docker.internal\n",
        links={"docker0": True, "eth0": False},
    )
    env = {"HOST_IP": "10.0.0.8", "HOSTGW_IP": "10.0.0.9"}
    assert detect(root=root, env=env).strategy == "env"
    assert detect(root=root, env={"HOST_IP": "10.0.0.8"}).address == "10.0.0.7"
    only = {"HOST_IP": "10.0.0.8"}
    assert detect(root=root, env=only, strategies=["k8s", "hosts"]).address == "10.0.0.8"
    assert detect(root=root, env={}, strategies=["host-network", "route"]).address == "127.0.0.1"
    assert detect(root=root, env={"HOSTGW_STRATEGIES": "route,hosts"}).address == "172.17.0.1"


def test_stops_at_the_winner_unless_exhaustive(tmp_path: Path) -> None:
    root = make_root(tmp_path, route=r4("172.17.0.1"), hosts="10.0.0.7 host.docker.internal\n")
    assert [a.strategy for a in detect(root=root, env={}).attempts] == ["env", "hosts"]
    everything = detect(root=root, env={}, exhaustive=True)
    assert [a.strategy for a in everything.attempts] == list(NAMES)
    assert everything.strategy == "hosts"
    assert everything.attempts[5].address == "172.17.0.1"


def test_families(tmp_path: Path) -> None:
    root = make_root(tmp_path, route=r4("172.17.0.1"), route6=r6("fd00::1"))
    assert detect(root=root, env={}).address == "172.17.0.1"
    six = detect(root=root, env={}, family=6)
    assert (six.address, six.family, six.host) == ("fd00::1", 6, "[fd00::1]")
    assert gateway_env(root=root, env={}) == {
        "HOSTGW_IP": "172.17.0.1",
        "HOSTGW_HOST": "172.17.0.1",
        "HOSTGW_IP6": "fd00::1",
    }
    assert "HOSTGW_IP6" not in gateway_env(root=root, env={}, family=4)


def test_ipv6_only(tmp_path: Path) -> None:
    root = make_root(tmp_path, route6=r6("fd00::1"))
    found = detect(root=root, env={})
    assert (found.address, found.family) == ("fd00::1", 6)
    assert "it had no IPv4 one" in found.why
    assert gateway_env(root=root, env={}) == {
        "HOSTGW_IP": "fd00::1",
        "HOSTGW_HOST": "[fd00::1]",
        "HOSTGW_IP6": "fd00::1",
    }
    with pytest.raises(GatewayNotFound, match="no IPv4 gateway found"):
        detect(root=root, env={}, family=4)


def test_a_strategy_answers_its_own_ipv6_before_a_later_ipv4(tmp_path: Path) -> None:
    # The order of trust comes before the family: an explicit v6 name beats a v4 route.
    root = make_root(tmp_path, route=r4("172.17.0.1"), hosts="fd00::7 host.docker.internal\n")
    assert detect(root=root, env={}).address == "fd00::7"
    assert detect(root=root, env={}, family=4).address == "172.17.0.1"


def test_ipv6_answer_of_a_later_strategy_fills_hostgw_ip6(tmp_path: Path) -> None:
    root = make_root(tmp_path, route6=r6("fd00::1"), hosts="10.0.0.7 host.docker.internal\n")
    assert gateway_env(root=root, env={}) == {
        "HOSTGW_IP": "10.0.0.7",
        "HOSTGW_HOST": "10.0.0.7",
        "HOSTGW_IP6": "fd00::1",
    }


def test_internal_network_names_strategies_and_fixes(tmp_path: Path) -> None:
    root = make_root(tmp_path, route="eth0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n")
    with pytest.raises(GatewayNotFound) as caught:
        detect(root=root, env={})
    error = caught.value
    assert error.exit_code == EXIT_NOT_FOUND == 3
    text = str(error)
    for name in ("env:", "hosts:", "k8s:", "host-network:", "dns:", "route:"):
        assert f"  {name}" in text
    assert "no default route" in text and "an internal network has none" in text
    for fix in ("HOSTGW_IP=", "--add-host=host.docker.internal:host-gateway", "status.hostIP"):
        assert fix in (error.hint or "")
    assert [a.strategy for a in error.attempts] == list(NAMES)


@pytest.mark.parametrize(
    ("route", "message"),
    [
        (r4("169.254.1.1"), "169.254.1.1 is link-local"),
        (r4(ANY4, flags=1), r"has no gateway \(on-link\)"),
    ],
    ids=["calico-link-local", "on-link"],
)
def test_route_refuses_known_wrong_answers(tmp_path: Path, route: str, message: str) -> None:
    root = make_root(tmp_path, route=route)
    with pytest.raises(GatewayNotFound, match=message):
        detect(root=root, env={}, strategies=["route"])


def test_calico_link_local_rejected_then_host_ip_wins(tmp_path: Path) -> None:
    root = make_root(tmp_path, route=r4("169.254.1.1"))
    env = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "HOST_IP": "192.0.2.10"}
    found = detect(root=root, env=env, exhaustive=True)
    assert (found.address, found.strategy) == ("192.0.2.10", "k8s")
    route = next(a for a in found.attempts if a.strategy == "route")
    assert route.address is None and "not the node" in route.rejected[0]


def test_calico_ipv6_gateway_rejected_other_link_local_scoped(tmp_path: Path) -> None:
    root = make_root(tmp_path, route6=r6("fe80::ecee:eeff:feee:eeee"))
    with pytest.raises(GatewayNotFound, match="Calico's fixed link-local next hop"):
        detect(root=root, env={}, strategies=["route"])
    other = make_root(tmp_path / "b", route6=r6("fe80::1", iface="net1"))
    found = detect(root=other, env={})
    assert (found.address, found.host) == ("fe80::1%net1", "[fe80::1%net1]")


def test_judge_gateway() -> None:
    assert judge_gateway("172.17.0.1", 4, "eth0") == ("172.17.0.1", "")
    assert judge_gateway("169.254.1.1", 4, "eth0")[0] is None
    assert judge_gateway(ANY4, 4, "eth0")[0] is None
    assert judge_gateway("fe80::1", 6, "eth0")[0] == "fe80::1%eth0"
    assert judge_gateway("fd00::1", 6, "eth0") == ("fd00::1", "")


def test_hosts_evidence_and_names(tmp_path: Path) -> None:
    root = make_root(
        tmp_path,
        route=r4("172.17.0.1"),
        hosts="10.0.0.2 host.containers.internal\n10.0.0.1 gw.example\n",
    )
    found = detect(root=root, env={})
    assert (found.address, found.detail) == (
        "10.0.0.2",
        f"{root}/etc/hosts:2: 10.0.0.2 host.containers.internal",
    )
    assert detect(root=root, env={}, names=["gw.example"]).address == "10.0.0.1"
    assert detect(root=root, env={"HOSTGW_NAMES": "gw.example, x"}).address == "10.0.0.1"


def test_k8s_variable_and_dual_stack_list(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    env = {"NODE_IP": "10.1.0.5,fd00::5"}
    assert detect(root=root, env=env, k8s_var="NODE_IP").address == "10.1.0.5"
    assert (
        detect(root=root, env={**env, "HOSTGW_K8S_VAR": "NODE_IP"}, family=6).address == "fd00::5"
    )
    with pytest.raises(GatewayNotFound, match="'nonsense' is not an IP address"):
        detect(root=root, env={"HOST_IP": "nonsense"}, strategies=["k8s"])
    with pytest.raises(GatewayNotFound, match=r"valueFrom\.fieldRef\.fieldPath: status\.hostIP"):
        detect(root=root, env={"KUBERNETES_SERVICE_HOST": "10.96.0.1"}, strategies=["k8s"])


@pytest.mark.parametrize(
    ("links", "answer"),
    [
        ({"docker0": True}, "127.0.0.1"),
        ({"br-0123456789ab": True}, "127.0.0.1"),
        ({"podman0": True}, "127.0.0.1"),
        ({"cni-podman1": True}, "127.0.0.1"),
        ({"docker0": False}, None),  # named docker0 but not a bridge
        ({"cni0": True}, None),  # a Kubernetes node inside a container has one too
        ({"br-lan": True}, None),
        ({"eth0": False, "lo": False}, None),
    ],
    ids=[
        "docker0",
        "docker-user-net",
        "podman",
        "cni-podman",
        "not-a-bridge",
        "cni0",
        "other-bridge",
        "none",
    ],
)
def test_host_network(tmp_path: Path, links: dict[str, bool], answer: str | None) -> None:
    root = make_root(tmp_path, links=links)
    outcome = host_network(Context(env={}, root=root, families=(4, 6)))
    if answer is None:
        assert outcome.findings == ()
        assert outcome.reason
    else:
        assert [(f.address, f.family) for f in outcome.findings] == [(answer, 4), ("::1", 6)]
        assert "we share the host's network" in outcome.findings[0].detail


def test_runtime_bridge_names() -> None:
    assert is_runtime_bridge_name("docker_gwbridge")
    assert not is_runtime_bridge_name("br-0123456789aG")
    assert not is_runtime_bridge_name("podman")


def test_env_override(tmp_path: Path) -> None:
    root = make_root(tmp_path, route=r4("172.17.0.1"))
    assert detect(root=root, env={"HOSTGW_IP": " 10.9.8.7 "}).address == "10.9.8.7"
    six = detect(root=root, env={"HOSTGW_IP": "FD00::0:9"})
    assert (six.address, six.family) == ("fd00::9", 6)
    both = {"HOSTGW_IP": "10.9.8.7", "HOSTGW_IP6": "fd00::9"}
    assert detect(root=root, env=both, family=6).address == "fd00::9"
    assert gateway_env(root=root, env=both)["HOSTGW_IP6"] == "fd00::9"
    # -6 and only a v4 override: the override does not answer, detection goes on.
    with pytest.raises(GatewayNotFound) as caught:
        detect(root=root, env={"HOSTGW_IP": "10.9.8.7"}, family=6, strategies=["env", "route"])
    assert caught.value.attempts[0].detail == "HOSTGW_IP=10.9.8.7 is IPv4, IPv6 wanted"
    assert caught.value.attempts[1].strategy == "route"
    # With the override alone, the hint is about the family asked for, not "set it".
    for family, env, fix in (
        (6, {"HOSTGW_IP": "10.9.8.7"}, "drop -6, or set HOSTGW_IP6 to the host's IPv6 address"),
        (4, {"HOSTGW_IP": "fd00::1"}, "drop -4, or set HOSTGW_IP to the host's IPv4 address"),
    ):
        with pytest.raises(GatewayNotFound) as alone:
            detect(root=root, env=env, family=family, strategies=["env"])
        assert alone.value.hint is not None and alone.value.hint.endswith(fix), alone.value.hint


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HOSTGW_IP": "not an address!"}, "is neither an IP address nor a hostname"),
        ({"HOSTGW_IP": "10.0.0.1%eth0"}, "an IPv4 address takes no zone"),
        ({"HOSTGW_IP": "fe80::1%x;}"}, "zone 'x;}' holds ';'"),
        ({"HOSTGW_IP6": "fe80::1%" + "e" * 16}, "longer than 15 characters"),
        ({"HOSTGW_IP6": "10.0.0.1"}, "is not an IPv6 address"),
        ({"HOSTGW_IP": "10.9.8"}, "is not an IPv4 address: that is four decimal numbers"),
        ({"HOSTGW_IP": "172.017.000.001"}, "the resolver would read this as 172.15.0.1"),
        ({"HOSTGW_IP": "0x0a090807"}, "the resolver would read this as 10.9.8.7"),
        ({"HOSTGW_IP": "db.1"}, "a hostname's last label is not a number"),
    ],
    ids=[
        "junk",
        "zone-on-v4",
        "bad-zone",
        "long-zone",
        "v4-in-ip6",
        "short",
        "padded",
        "hex",
        "numeric-tld",
    ],
)
def test_unusable_override_stops_with_the_fix(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    root = make_root(tmp_path, route=r4("172.17.0.1"))
    with pytest.raises(GatewayNotFound, match=message) as caught:
        detect(root=root, env=env)
    assert "unset it" in (caught.value.hint or "")
    assert [a.strategy for a in caught.value.attempts] == ["env"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"strategies": ["route", "psychic"]}, "unknown strategy 'psychic'"),
        ({"strategies": []}, "no strategy given"),
        ({"env": {"HOSTGW_STRATEGIES": "route,nope"}}, "HOSTGW_STRATEGIES: unknown strategy"),
        ({"family": 5}, "family must be 4, 6 or None"),
        ({"timeout": -1.0}, "timeouts must be zero or more"),
        ({"timeout": float("nan")}, "timeouts must be zero or more"),
        ({"port": 0}, "port must be 1-65535"),
        ({"names": ["host docker"]}, "names must be non-empty hostnames"),
        ({"k8s_var": ""}, "must not be empty"),
    ],
    ids=["unknown", "empty", "env-unknown", "family", "timeout", "nan", "port", "names", "k8s"],
)
def test_usage_errors(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    options: dict[str, object] = {"root": make_root(tmp_path), "env": {}, **kwargs}
    with pytest.raises(UsageError, match=message) as caught:
        detect(**options)  # type: ignore[arg-type]
    assert caught.value.exit_code == 2


def test_public_api(tmp_path: Path) -> None:
    root = make_root(tmp_path, route=r4("172.17.0.1"))
    assert hostgw.gateway(root=root, env={}) == gateway(root=root, env={}) == "172.17.0.1"
    assert issubclass(hostgw.GatewayNotFound, LookupError)
    found = hostgw.detect(root=root, env={})
    attempts = found.as_dict()["attempts"]
    assert isinstance(attempts, list)
    last = attempts[-1]
    assert {k: last[k] for k in ("strategy", "address", "detail", "family")} == {
        "strategy": "route",
        "address": "172.17.0.1",
        "detail": found.detail,
        "family": 4,
    }
    assert last["findings"] == [{"address": "172.17.0.1", "family": 4, "detail": found.detail}]


def test_missing_files_are_reasons_not_crashes(tmp_path: Path) -> None:
    with pytest.raises(GatewayNotFound) as caught:
        detect(root=str(tmp_path), env={})
    text = str(caught.value)
    assert f"{tmp_path}/etc/hosts does not exist" in text
    assert f"{tmp_path}/proc/net/route does not exist" in text
    assert f"cannot list {tmp_path}/sys/class/net" in text


def test_port_probe_on_loopback(tmp_path: Path) -> None:
    # Loopback only: hosts names 127.0.0.2 (nothing listens there), host-network
    # gives 127.0.0.1 (listening) and ::1 (not).
    import socket

    from hostgw.errors import GatewayUnreachable

    root = make_root(tmp_path, hosts="127.0.0.2 host.docker.internal\n", links={"docker0": True})
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        found = detect(root=root, env={}, port=port)
        assert (found.address, found.strategy) == ("127.0.0.1", "host-network")
        assert "127.0.0.2 refused" in found.why
        assert [p.address for p in found.probes][:2] == ["127.0.0.2", "127.0.0.1"]
        assert gateway_env(root=root, env={}, port=port) == {
            "HOSTGW_IP": "127.0.0.1",
            "HOSTGW_HOST": "127.0.0.1",
        }
        with pytest.raises(GatewayUnreachable) as caught:
            detect(root=root, env={}, port=port, family=6)
    assert caught.value.exit_code == 4
    assert f"nothing accepted a connection on TCP port {port}" in str(caught.value)
    assert "::1 (host-network): refused" in str(caught.value)


def test_port_probes_only_an_explicit_override(tmp_path: Path) -> None:
    # The route's gateway (127.0.0.2) listens; HOSTGW_IP (127.0.0.1) does not. The
    # user's word is probed alone: answering the route would hide its mistake.
    import socket

    from hostgw.errors import GatewayUnreachable

    root = make_root(tmp_path, route=r4("127.0.0.2"), hosts="127.0.0.3 host.docker.internal\n")
    with socket.socket() as server:
        server.bind(("127.0.0.2", 0))
        server.listen()
        port = server.getsockname()[1]
        with pytest.raises(GatewayUnreachable) as caught:
            detect(root=root, env={"HOSTGW_IP": "127.0.0.1"}, port=port)
        assert [p.address for p in caught.value.attempts[0].findings] == ["127.0.0.1"]
        both = {"HOSTGW_IP": "127.0.0.1", "HOSTGW_IP6": "::1"}
        with pytest.raises(GatewayUnreachable) as caught_both:
            gateway_env(root=root, env=both, port=port)
        # Its own address answers; so does the route's without the override.
        found = detect(root=root, env={"HOSTGW_IP": "127.0.0.2"}, port=port)
        assert (found.address, found.strategy) == ("127.0.0.2", "env")
        assert [p.address for p in found.probes] == ["127.0.0.2"]
        found = detect(root=root, env={}, port=port)
        assert (found.address, found.strategy) == ("127.0.0.2", "route")
        # An IPv4 override gives no IPv6 answer, with a port as without: host-network's
        # ::1 accepts too, and is not asked.
        shared = make_root(tmp_path / "shared", route=r4("127.0.0.2"), links={"docker0": True})
        with socket.socket(socket.AF_INET6) as six:
            six.bind(("::1", port))
            six.listen()
            assert gateway_env(root=shared, env={}, port=port)["HOSTGW_IP6"] == "::1"
            assert gateway_env(root=shared, env={"HOSTGW_IP": "127.0.0.2"}, port=port) == {
                "HOSTGW_IP": "127.0.0.2",
                "HOSTGW_HOST": "127.0.0.2",
            }
    text = str(caught.value)
    assert "tried only what HOSTGW_IP gives: your explicit word" in text
    assert "127.0.0.1 (env): refused" in text
    assert "127.0.0.2" not in text and "127.0.0.3" not in text
    assert caught.value.hint is not None
    assert "set HOSTGW_IP to the host's address, or unset it to let hostgw search" in (
        caught.value.hint
    )
    assert "only what HOSTGW_IP and HOSTGW_IP6 give" in str(caught_both.value)
    assert "::1 (env): refused" in str(caught_both.value)
    assert caught_both.value.hint is not None
    assert "set HOSTGW_IP and HOSTGW_IP6 to the host's addresses, or unset them" in (
        caught_both.value.hint
    )


def test_hosts_unspecified_address_is_rejected(tmp_path: Path) -> None:
    root = make_root(
        tmp_path,
        route=r4("172.17.0.1"),
        hosts=f"{ANY4} host.docker.internal\n10.0.0.3 host.containers.internal\n",
    )
    found = detect(root=root, env={})
    assert (found.address, found.strategy) == ("10.0.0.3", "hosts")
    (rejected,) = found.attempts[1].rejected
    assert rejected.endswith(f"/etc/hosts:2: {ANY4} host.docker.internal: the unspecified address")


def test_env_override_ends_the_search_even_for_hostgw_ip6(tmp_path: Path) -> None:
    # docs/environments.md E10: HOSTGW_IP answers "with no other probing" — not even for IPv6.
    root = make_root(tmp_path, route6=r6("fd00::1"), hosts="fd00::7 host.docker.internal\n")
    assert gateway_env(root=root, env={"HOSTGW_IP": "10.9.8.7"}) == {
        "HOSTGW_IP": "10.9.8.7",
        "HOSTGW_HOST": "10.9.8.7",
    }
    found = detect(root=root, env={"HOSTGW_IP": "10.9.8.7"})
    assert [a.strategy for a in found.attempts] == ["env"]


def test_one_string_is_one_strategy_or_name(tmp_path: Path) -> None:
    # A string where a sequence is expected is one name, not its characters.
    root = make_root(tmp_path, route=r4("10.213.0.1"), hosts="10.213.0.7 gw.example\n")
    assert detect(strategies="route", root=root, env={}).strategy == "route"
    found = detect(strategies="hosts", names="gw.example", root=root, env={})
    assert (found.address, found.strategy) == ("10.213.0.7", "hosts")


def test_the_public_functions_show_their_keywords() -> None:
    # detect, gateway and gateway_env take resolve_options' keywords, and say so.
    import inspect

    from hostgw.detection import resolve_options

    expected = list(inspect.signature(resolve_options).parameters)
    for fn in (detect, gateway, gateway_env):
        assert list(inspect.signature(fn).parameters) == expected, fn.__name__
