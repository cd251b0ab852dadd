"""Properties of ``hostgw wait`` target parsing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hostgw.errors import UsageError
from hostgw.runtime.wait import parse_target
from tests.property.strategies import hostnames

ports = st.integers(min_value=1, max_value=65535)
names = hostnames
v4 = st.ip_addresses(v=4).map(str)
v6 = st.ip_addresses(v=6).map(str)
paths = st.from_regex(r"(/[A-Za-z0-9._~%-]{0,8}){0,4}(\?[a-z0-9=&]{0,10})?", fullmatch=True)


@given(st.text(max_size=60))
def test_arbitrary_text_is_a_target_or_a_usage_error(text: str) -> None:
    try:
        target = parse_target(text)
    except UsageError as exc:
        assert repr(text) in exc.message
    else:
        assert 1 <= target.port <= 65535
        assert target.scheme in {"tcp", "http", "https"}


@given(st.one_of(names, v4, v6, st.just("")), ports, st.sampled_from(["", "tcp://"]))
def test_tcp_round_trip(host: str, port: int, scheme: str) -> None:
    written = f"[{host}]" if ":" in host else host
    target = parse_target(f"{scheme}{written}:{port}")
    assert (target.scheme, target.host, target.port) == ("tcp", host or None, port)
    if host:
        assert target.address(None) == f"{written}:{port}"


schemes = st.sampled_from(["http", "https"])


@given(st.one_of(names, v4, v6), st.one_of(st.none(), ports), paths, schemes)
def test_http_round_trip(host: str, port: int | None, path: str, scheme: str) -> None:
    written = f"[{host}]" if ":" in host else host
    text = f"{scheme}://{written}{'' if port is None else f':{port}'}{path}"
    target = parse_target(text)
    default = 80 if scheme == "http" else 443
    assert (target.scheme, target.host, target.port) == (scheme, host, port or default)
    assert target.path == (path if path.startswith("/") else "/" + path)
