"""The sh drop-in when sourced, as the nginx image sources *.envsh: it must export
the answer and leave the sourcing shell as it was (no exit, no helper names,
no option changes), under dash and busybox sh.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.shsnippet import SCRIPT, Shell, root_tree, shells

ROUTE = "Iface\tDestination\n" + "eth0\t00000000\t010011AC\t0003\t0\t0\t0\t00000000\n"
INTERNAL = "Iface\tDestination\n" + "eth0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\n"

# Sources the script the way the nginx entrypoint does, saving the shell's
# state before and after. $1... are the entrypoint's own arguments.
HARNESS = r"""
{options}
_hr=mine; F=mine; W=mine; _hostgw_keep=mine
set > "$OUT/before"; echo "$-" > "$OUT/flags-before"; pwd > "$OUT/pwd-before"
. "$SCRIPT"
status=$?
set > "$OUT/after"; echo "$-" > "$OUT/flags-after"; pwd > "$OUT/pwd-after"
for f in _hostgw_find _hostgw_bigendian _hostgw_quote; do command -v "$f" || :; done \
    > "$OUT/functions"
printf '%s\n' "$@" > "$OUT/args"
printf '%s|%s|%s|%s\n' "${{HOSTGW_IP-unset}}" "${{HOSTGW_HOST-unset}}" "${{HOSTGW_IP6-unset}}" \
    "$status" > "$OUT/answer"
env | grep -E '^HOSTGW_(IP|IP6|HOST)=' > "$OUT/exported" || true
echo reached-the-end
"""

VOLATILE = ("HOSTGW_IP=", "HOSTGW_HOST=", "HOSTGW_IP6=", "_=", "LINENO=", "status=")


@pytest.fixture(scope="module")
def all_shells(tmp_path_factory: pytest.TempPathFactory) -> list[Shell]:
    """dash and busybox sh."""
    return shells(tmp_path_factory.mktemp("shells"))


def source(
    shell: Shell,
    tmp: Path,
    root: Path,
    *,
    options: str = "",
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = ("nginx", "-g", "daemon off;"),
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run the harness; $0 is /docker-entrypoint.sh as in the nginx image."""
    out = tmp / shell.name
    out.mkdir(parents=True)
    done = subprocess.run(
        [*shell.argv, "-c", HARNESS.format(options=options), "/docker-entrypoint.sh", *args],
        env=shell.env(
            {"OUT": str(out), "SCRIPT": str(SCRIPT), "HOSTGW_ROOT": str(root), **(env or {})}
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done, out


def exported(out: Path) -> dict[str, str]:
    """The HOSTGW_* variables a child process of the sourcing shell sees."""
    return dict(ln.split("=", 1) for ln in (out / "exported").read_text().splitlines())


def state(path: Path) -> list[str]:
    """`set` output without the variables the script is meant to set."""
    return [ln for ln in path.read_text().splitlines() if not ln.startswith(VOLATILE)]


@pytest.mark.parametrize("options", ["", "set -e", "set -eu", "set -f", "set -a"])
def test_exports_and_leaves_the_shell_as_it_was(
    options: str, tmp_path: Path, all_shells: list[Shell]
) -> None:
    root = root_tree(tmp_path / "root", route=ROUTE)
    for shell in all_shells:
        done, out = source(shell, tmp_path, root, options=options)
        assert done.stdout == "reached-the-end\n", (shell, done.stderr)
        assert (out / "answer").read_text() == "172.17.0.1|172.17.0.1|unset|0\n"
        assert exported(out) == {"HOSTGW_IP": "172.17.0.1", "HOSTGW_HOST": "172.17.0.1"}
        assert state(out / "after") == state(out / "before"), shell
        assert (out / "flags-after").read_text() == (out / "flags-before").read_text()
        assert (out / "pwd-after").read_text() == (out / "pwd-before").read_text()
        assert (out / "functions").read_text() == "", "helper functions are unset"
        assert (out / "args").read_text() == "nginx\n-g\ndaemon off;\n"
        assert (
            done.stderr
            == "hostgw-sh: HOSTGW_IP=172.17.0.1 from route ("
            + str(root)
            + "/proc/net/route:2: default via 172.17.0.1 dev eth0 metric 0)\n"
        )


@pytest.mark.parametrize("quiet", ["HOSTGW_QUIET", "NGINX_ENTRYPOINT_QUIET_LOGS"])
def test_quiet(quiet: str, tmp_path: Path, all_shells: list[Shell]) -> None:
    root = root_tree(tmp_path / "root", route=ROUTE)
    for shell in all_shells:
        done, out = source(shell, tmp_path, root, env={quiet: "1"})
        assert done.stderr == ""
        assert (out / "answer").read_text().startswith("172.17.0.1|")


def test_arguments_of_the_sourcing_shell_are_not_modes(
    tmp_path: Path, all_shells: list[Shell]
) -> None:
    root = root_tree(tmp_path / "root", route=ROUTE)
    for shell in all_shells:
        done, out = source(shell, tmp_path, root, args=("ip",))
        assert done.stdout == "reached-the-end\n", "sourced: prints nothing on stdout"
        assert exported(out) == {"HOSTGW_IP": "172.17.0.1", "HOSTGW_HOST": "172.17.0.1"}


def test_nothing_found_goes_on_by_default(tmp_path: Path, all_shells: list[Shell]) -> None:
    root = root_tree(tmp_path / "root", route=INTERNAL)
    for shell in all_shells:
        done, out = source(shell, tmp_path, root, options="set -eu")
        assert done.stdout == "reached-the-end\n", (shell, done.stderr)
        assert (out / "answer").read_text() == "unset|unset|unset|0\n"
        assert exported(out) == {}
        assert state(out / "after") == state(out / "before")
        assert "no IPv4 or IPv6 gateway found" in done.stderr
        assert "hint: tell hostgw where the host is" in done.stderr
        assert done.stderr.splitlines()[-1] == (
            "hostgw-sh: HOSTGW_IP left unset; going on (HOSTGW_REQUIRED=1 would stop here)"
        )


def test_required_stops_an_entrypoint_under_set_e(tmp_path: Path, all_shells: list[Shell]) -> None:
    root = root_tree(tmp_path / "root", route=INTERNAL)
    for shell in all_shells:
        done, out = source(shell, tmp_path, root, options="set -e", env={"HOSTGW_REQUIRED": "1"})
        assert done.returncode == 1 and done.stdout == "", (shell, done.stderr)
        assert done.stderr.splitlines()[-1] == "hostgw-sh: HOSTGW_REQUIRED=1: stopping"
        # Without set -e the status says so, and the shell goes on.
        done, out = source(shell, tmp_path / "plain", root, env={"HOSTGW_REQUIRED": "1"})
        assert done.stdout == "reached-the-end\n"
        assert (out / "answer").read_text() == "unset|unset|unset|1\n"


def test_override_is_normalised_and_exported(tmp_path: Path, all_shells: list[Shell]) -> None:
    root = root_tree(tmp_path / "root", route=ROUTE)
    for shell in all_shells:
        done, out = source(shell, tmp_path, root, env={"HOSTGW_IP": " FD5E:0::1 "})
        assert (out / "answer").read_text() == "fd5e::1|[fd5e::1]|fd5e::1|0\n", done.stderr
        assert exported(out) == {
            "HOSTGW_IP": "fd5e::1",
            "HOSTGW_HOST": "[fd5e::1]",
            "HOSTGW_IP6": "fd5e::1",
        }


def test_sourced_from_a_file_named_like_the_script(tmp_path: Path, all_shells: list[Shell]) -> None:
    # A user's own entrypoint that sources the drop-in: $0 is the entrypoint,
    # whose second line is not the marker, so the drop-in stays in sourced mode.
    root = root_tree(tmp_path / "root", route=ROUTE)
    entry = tmp_path / "entrypoint.sh"
    entry.write_text(f'#!/bin/sh\n. "{SCRIPT}"\nexec printf "%s\\n" "$HOSTGW_HOST" "$@"\n')
    for shell in all_shells:
        done = subprocess.run(
            [*shell.argv, str(entry), "ip"],
            env=shell.env({"HOSTGW_ROOT": str(root)}),
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.stdout == "172.17.0.1\nip\n", (shell, done.stderr)


def test_settings_may_be_plain_shell_variables(tmp_path: Path, all_shells: list[Shell]) -> None:
    # Sourced, a setting need not be exported: HOSTGW_NAMES and NODE_IP are plain.
    root = root_tree(tmp_path / "root", route=ROUTE, hosts="10.0.0.9 gw.local\n")
    for shell in all_shells:
        for options, expected in (
            ("HOSTGW_NAMES=gw.local", "10.0.0.9"),
            ("HOSTGW_K8S_VAR=NODE_IP NODE_IP=10.0.0.7", "10.0.0.7"),
        ):
            done, out = source(shell, tmp_path / options.replace(" ", "_"), root, options=options)
            assert (out / "answer").read_text() == f"{expected}|{expected}|unset|0\n", (
                shell,
                done.stderr,
            )
            assert "NODE_IP" not in (out / "exported").read_text()
