"""A rewrite recognises its own earlier output, whatever characters the target holds.

The kept original must survive every answer hostgw itself can write: a zoned
IPv6 gateway (``[fe80::1%eth0]``, the README's link-local form), a host name
given in ``--map``, and targets it leaves alone whose characters are unusual
(Caddy's ``[ü]:9000``). Before the fix a second run in place took its own
output for a hand edit, replaced the original with it, and every later run
"matched nothing".
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostgw.addr import host_form, is_hostname
from hostgw.rewriting import parse_mappings, rewrite
from hostgw.rewriting.apply import run as run_rewrite
from hostgw.rewriting.pristine import in_state
from tests.rewrite_cli import CONF, kept, run

MAP = "backend:8000=18000"

# One config per format: a target to map, and one left alone with unusual characters.
CONFIGS = {
    "nginx": (
        "default.conf",
        "upstream app {\n    server backend:8000 max_fails=2;\n}\nserver {\n"
        "    location / { proxy_pass http://backend:8000/; }\n"
        "    location /u { proxy_pass http://[ü]:9000; }\n}\n",
    ),
    "haproxy": (
        "haproxy.cfg",
        "backend be\n    server s1 backend:8000 check\n    server s2 ipv6@[::1]:9000\n"
        "    server s3 ipv4@backend:8000\n",
    ),
    "apache": (
        "site.conf",
        "<VirtualHost *:80>\n    ProxyPass /a http://backend:8000/\n"
        "    ProxyPass /u http://[ü]:9000/\n</VirtualHost>\n",
    ),
    "caddy": ("Caddyfile", ":80 {\n\treverse_proxy backend:8000 [ü]:9000\n}\n"),
}


@pytest.mark.parametrize("gateway", ["fe80::1%eth0", "fe80::1%br-1a2b.3_x"])
def test_a_zoned_gateway_keeps_the_original(tmp_path: Path, gateway: str) -> None:
    conf = tmp_path / "default.conf"
    conf.write_text(CONF)
    first = run("-m", MAP, str(conf), gw=gateway)
    assert first.returncode == 0, first.stderr
    once = conf.read_text()
    assert f"http://[{gateway}]:18000/api/" in once
    for _ in range(2):
        again = run("-m", MAP, str(conf), gw=gateway)
        assert again.returncode == 0, again.stderr
        assert "changed since hostgw last rewrote it" not in again.stderr
        assert "matched nothing" not in again.stderr
        assert conf.read_text() == once
        assert kept(conf).read_text() == CONF
    # A new gateway still starts from the original.
    assert run("-m", MAP, str(conf), gw="10.213.0.7").returncode == 0
    assert "http://10.213.0.7:18000/api/" in conf.read_text()


def test_caddy_keeps_a_target_with_other_characters(tmp_path: Path) -> None:
    fmt, (name, text) = "caddy", CONFIGS["caddy"]
    conf = tmp_path / name
    conf.write_text(text)
    assert run("-m", MAP, "--format", fmt, str(conf)).returncode == 0
    once = conf.read_text()
    assert "reverse_proxy 10.213.0.1:18000 [ü]:9000" in once
    again = run("-m", MAP, "--format", fmt, str(conf))
    assert again.returncode == 0, again.stderr
    assert "changed since" not in again.stderr and "matched nothing" not in again.stderr
    assert conf.read_text() == once and kept(conf).read_text() == text


def test_a_real_edit_is_still_seen(tmp_path: Path) -> None:
    # The other side: a change outside the targets is a hand edit, kept as the original.
    conf = tmp_path / "default.conf"
    conf.write_text(CONF)
    assert run("-m", MAP, str(conf), gw="fe80::1%eth0").returncode == 0
    edited = conf.read_text().replace("listen 8080;", "listen 8081;")
    conf.write_text(edited)
    again = run("-m", MAP, str(conf), gw="fe80::1%eth0")
    assert "changed since hostgw last rewrote it" in again.stderr
    assert kept(conf).read_text() == edited


# -- the property ------------------------------------------------------------------

_ZONE = st.text(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", min_size=1, max_size=15
)
_LABEL = st.from_regex(r"[a-z0-9_](?:[a-z0-9_-]{0,10}[a-z0-9_])?", fullmatch=True)


@st.composite
def _answers(draw: st.DrawFn) -> tuple[str | None, str]:
    """(a gateway address, or None for an explicit host, and the --map spec)."""
    kind = draw(st.sampled_from(["v4", "v6", "zoned", "name"]))
    port = draw(st.integers(1, 65535))
    if kind == "name":
        name = ".".join(draw(st.lists(_LABEL, min_size=1, max_size=3)))
        if not is_hostname(name) or name.replace(".", "").isdigit():
            name = "gw.example"
        return None, f"backend:8000={name}:{port}"
    if kind == "v4":
        address = str(draw(st.ip_addresses(v=4)))
    else:
        address = str(draw(st.ip_addresses(v=6)))
        if kind == "zoned":
            address += "%" + draw(_ZONE)
    return address, f"backend:8000={port}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fmt=st.sampled_from(sorted(CONFIGS)), answer=_answers(), other=_answers())
def test_twice_in_place_equals_once_and_the_original_stays(
    fmt: str, answer: tuple[str | None, str], other: tuple[str | None, str]
) -> None:
    name, text = CONFIGS[fmt]
    with tempfile.TemporaryDirectory() as tmp:
        conf, state = Path(tmp, name), Path(tmp, "state")
        conf.write_text(text)
        results = []
        for address, spec in (answer, answer, other):
            gateway = host_form(address) if address else None
            run_rewrite([conf], parse_mappings([spec]), fmt=fmt, gateway=gateway, state_dir=state)
            assert in_state(state, conf).read_text() == text
            assert not list(Path(tmp).glob(".*hostgw-orig"))
            expected = rewrite(text, parse_mappings([spec]), format=fmt, gateway=gateway).text
            assert conf.read_text() == expected
            results.append(conf.read_text())
        assert results[0] == results[1]
