"""Properties of hostgw.addr: a host name is never a number the resolver reads as an address.

glibc's resolver reads ``10.9.8``, ``010.9.8.7`` and ``0x0a090807`` as IPv4
addresses (``inet_aton``: 10.9.0.8, 8.9.8.7, 10.9.8.7), so a value taken for
a host name and resolved would give another address than the one meant. The
oracle is the C library itself, through :func:`socket.inet_aton`.
"""

from __future__ import annotations

import socket

from hypothesis import given
from hypothesis import strategies as st

from hostgw.addr import host_problem, is_hostname, parse_ip
from tests.property.strategies import hostnames

# Numbers in C notation and near misses: digits, dots, hex prefixes and letters.
numberish = st.text(alphabet="0123456789.xXabcdefABCDEFgz-", min_size=1, max_size=24)


def _c_reads(text: str) -> str | None:
    try:
        return socket.inet_ntoa(socket.inet_aton(text))
    except OSError:
        return None


_EXAMPLES = ["10.9.8", "010.9.8.7", "0x0a090807", "12345", "10.9.8.7.", "0x", "1.0x1f"]


@given(numberish | hostnames | st.sampled_from(_EXAMPLES))
def test_no_host_name_is_a_number_the_resolver_reads(text: str) -> None:
    read = _c_reads(text)
    if is_hostname(text):
        assert read is None, f"{text!r} passes as a host name, and the resolver reads {read}"
    elif parse_ip(text) is None and read is not None:
        # Refused, and the reason says which address it would have become.
        problem = host_problem(text)
        assert problem.startswith("not an IPv4 address"), problem
        assert f"the resolver would read this as {read}" in problem


@given(hostnames)
def test_generated_host_names_stay_host_names(name: str) -> None:
    # Every label of these starts with a letter: none is a number.
    assert is_hostname(name)
    assert is_hostname(name + ".")


@given(st.lists(st.integers(0, 255), min_size=1, max_size=3).map(lambda p: ".".join(map(str, p))))
def test_a_short_dotted_number_is_refused_with_the_reading(text: str) -> None:
    assert not is_hostname(text)
    read = _c_reads(text)
    assert read is not None and read != text
    assert f"read this as {read}" in host_problem(text)
