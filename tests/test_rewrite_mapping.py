"""Mappings: --map and HOSTGW_MAP parsing, lookup precedence, errors."""

from __future__ import annotations

import pytest

from hostgw.errors import UsageError
from hostgw.rewriting.mapping import Rule, parse_mappings, parse_rule


@pytest.mark.parametrize(
    ("spec", "rule"),
    [
        ("backend=18000", ("backend", None, None, 18000)),
        ("backend:8000=18000", ("backend", 8000, None, 18000)),
        ("backend:8000=10.0.0.5:18000", ("backend", 8000, "10.0.0.5", 18000)),
        ("backend=[fd00::5]:18000", ("backend", None, "[fd00::5]", 18000)),
        ("[fd00::9]:80=18000", ("fd00::9", 80, None, 18000)),
        (" api.internal = 19000 ", ("api.internal", None, None, 19000)),
        ("my_app-1:1=host.docker.internal:2", ("my_app-1", 1, "host.docker.internal", 2)),
    ],
    ids=["any-port", "one-port", "explicit", "v6-target", "v6-source", "spaces", "names"],
)
def test_parse_rule(spec: str, rule: tuple[object, ...]) -> None:
    got = parse_rule(spec)
    assert (got.host, got.port, got.to_host, got.to_port) == rule


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ("backend", "no '='"),
        ("backend=", "empty target"),
        ("=18000", "empty source"),
        ("backend=port", "has no port"),
        ("backend:x=1", "port 'x' is not a number"),
        ("backend=70000", "port '70000'"),
        ("backend=0", "port '0'"),
        ("backend=fd00::5:18000", "put it in brackets"),
        ("backend=[fd00::5:18000", "unclosed '['"),
        ("backend=[nothex]:1", "is not an IPv6 address"),
        ("back/end=1", "is not a host name"),
        ("backend=10.0.0.5", "has no port"),
    ],
)
def test_bad_rule_names_the_mapping(spec: str, why: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_rule(spec)
    assert repr(spec.strip()) in str(info.value) or repr(spec) in str(info.value)
    assert why in str(info.value)
    assert info.value.hint and "--map" in info.value.hint


def test_env_and_flags_combine_and_port_rule_wins() -> None:
    rules = parse_mappings(["backend:8000=18000"], "api=19000, backend=17000,\n")
    assert [r.spec for r in rules.rules] == ["backend:8000=18000", "api=19000", "backend=17000"]
    assert rules.lookup("BACKEND", 8000) == parse_rule("backend:8000=18000")
    assert rules.lookup("backend", 9000) == parse_rule("backend=17000")
    assert rules.lookup("backend", None) == parse_rule("backend=17000")
    assert rules.lookup("backend2", 8000) is None
    assert rules.lookup("api", None) is not None


def test_conflicts_are_errors_repeats_are_not() -> None:
    assert len(parse_mappings(["a=1", "a=1"]).rules) == 1
    with pytest.raises(UsageError, match="conflicting mappings 'a=1' and 'a=2'"):
        parse_mappings(["a=1", "a=2"])
    with pytest.raises(UsageError, match="bad mapping 'oops'"):
        parse_mappings([], "a=1,oops")


def test_target_uses_gateway_or_explicit_address() -> None:
    assert Rule("a", None, None, 1, "a=1").target("[fd00::1]") == "[fd00::1]:1"
    assert parse_rule("a=10.0.0.5:2").target("ignored") == "10.0.0.5:2"


@pytest.mark.parametrize(
    "spec",
    [
        "backend=[::1%x\n  ProxyRequests On\n#]:8000",
        'backend=[::1%x respond "pwned" 200 #]:8000',
        "backend=[fe80::1%eth0;]:8000",
        "backend=[fe80::1%eth0}]:8000",
        'backend=[fe80::1%e"]:8000',
        "backend=[fe80::1%]:8000",
        "backend=[fe80::1%" + "e" * 16 + "]:8000",
    ],
    ids=["newline", "blank", "semicolon", "brace", "quote", "empty", "too-long"],
)
def test_a_zone_holds_only_interface_name_characters(spec: str) -> None:
    # An IPv6 zone went into the config as given: a newline in it added a
    # directive to an Apache config and a route to a Caddyfile.
    with pytest.raises(UsageError, match="is not an IPv6 address"):
        parse_rule(spec)


def test_a_real_zone_is_kept() -> None:
    rule = parse_rule("backend=[fe80::1%eth0.100]:8000")
    assert rule.target("unused") == "[fe80::1%eth0.100]:8000"


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ("backend=\u0661\u0668\u0660\u0660\u0660", "is not a number from 1 to 65535"),
        ("backend:\u0668\u0660=1", "is not a number from 1 to 65535"),
        ("a..b=1", "is not a host name"),
        ("-a=1", "is not a host name"),
        ("a-=1", "is not a host name"),
        ("backend=a..b:1", "is neither an IP address nor a hostname"),
        # A target is written into the config and resolved there: no number forms.
        ("backend=10.9.8:1", "'10.9.8' is not an IPv4 address"),
        ("backend=010.9.8.7:1", "would read this as 8.9.8.7"),
    ],
    ids=[
        "arabic-digits-target",
        "arabic-digits-source",
        "empty-label",
        "leading-hyphen",
        "trailing-hyphen",
        "target-empty-label",
        "target-short-ipv4",
        "target-zero-padded",
    ],
)
def test_ports_are_ascii_digits_and_names_follow_rfc_1123(spec: str, why: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_rule(spec)
    assert why in str(info.value)


def test_a_source_is_matched_as_the_config_writes_it_numbers_too() -> None:
    # Configs in the wild name hosts like "127" (proxy_pass http://127:80): a source is
    # only matched, never resolved, so any host syntax goes.
    rule = parse_rule("127:80=18000")
    assert (rule.host, rule.port, rule.to_port) == ("127", 80, 18000)
    assert parse_rule("10.9.8=18000").host == "10.9.8"
