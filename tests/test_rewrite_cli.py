"""``hostgw rewrite`` as a user runs it: the real console script in a subprocess."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import Done
from tests.helpers import run as run_hostgw
from tests.rewrite_cli import CONF, STATE, hostgw, kept, run


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    path = tmp_path / "default.conf"
    path.write_text(CONF)
    path.chmod(0o640)
    return path


def test_in_place_summary_and_mode(conf: Path) -> None:
    proc = run("-m", "backend:8000=18000", str(conf))
    assert proc.returncode == 0
    assert conf.read_text() == CONF.replace(
        "server backend:8000", "server 10.213.0.1:18000"
    ).replace("http://backend:8000/api/", "http://10.213.0.1:18000/api/")
    assert f"{conf}:1 backend:8000 \u2192 10.213.0.1:18000" in proc.stderr
    assert f"{conf}:6 http://backend:8000/api/ \u2192 http://10.213.0.1:18000/api/" in proc.stderr
    assert conf.stat().st_mode & 0o777 == 0o640
    assert proc.stdout == ""


def test_rerun_with_a_new_gateway_uses_the_pristine_copy(conf: Path) -> None:
    assert run("-m", "backend:8000=18000", str(conf)).returncode == 0
    once = conf.read_text()
    again = run("-m", "backend:8000=18000", str(conf))
    assert again.returncode == 0
    assert conf.read_text() == once  # twice == once
    # ... and says so, rather than listing changes it does not make again.
    assert f"{conf}: already rewritten, unchanged (2 targets)" in again.stderr
    assert "\u2192" not in again.stderr and "wrote" not in again.stderr
    proc = run("-m", "backend:8000=18000", str(conf), gw="fd5e::9")
    assert proc.returncode == 0
    assert "server [fd5e::9]:18000 max_fails=2;" in conf.read_text()
    assert "http://[fd5e::9]:18000/api/" in conf.read_text()
    assert "10.213.0.1" not in conf.read_text()
    assert kept(conf).read_text() == CONF
    assert not list(conf.parent.glob(".*hostgw-orig"))  # nothing beside the file
    assert "matched nothing" not in proc.stderr


def test_an_edited_file_becomes_the_new_original(conf: Path) -> None:
    run("-m", "backend:8000=18000", str(conf))
    conf.write_text(conf.read_text() + "server { listen 9090; proxy_pass http://backend:8000; }\n")
    proc = run("-m", "backend:8000=18000", str(conf), gw="10.213.0.2")
    assert "changed since hostgw last rewrote it" in proc.stderr
    text = conf.read_text()
    assert "proxy_pass http://10.213.0.2:18000;" in text
    assert "10.213.0.1" in text  # the edited file's own (already rewritten) targets stay
    assert "listen 9090" in kept(conf).read_text()


def test_output_file_leaves_the_source_alone(conf: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "nginx.conf"
    out.parent.mkdir()
    assert run("-m", "backend=18000", "-o", str(out), str(conf)).returncode == 0
    assert conf.read_text() == CONF
    assert "10.213.0.1:18000" in out.read_text()
    assert not list(tmp_path.rglob(".*hostgw-orig"))
    assert not kept(conf).exists() and not kept(out).exists()  # -o keeps no originals


def test_stdin_to_stdout() -> None:
    proc = run("-m", "backend:8000=18000", "--format", "nginx", stdin=CONF)
    assert proc.returncode == 0
    assert proc.stdout.count("10.213.0.1:18000") == 2
    assert "-:6 http://backend:8000/api/" in proc.stderr


def test_check_and_diff_write_nothing(conf: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"  # --check and --diff make not even the state directory
    proc = run("-m", "backend:8000=18000", "--check", str(conf), HOSTGW_STATE_DIR=str(state))
    assert proc.returncode == 1
    assert conf.read_text() == CONF
    proc = run("-m", "backend:8000=18000", "--diff", "--state-dir", str(state), str(conf))
    assert proc.returncode == 1  # like --check (and render --diff): something would change
    assert "-location /api/" not in proc.stdout
    assert "+    location /api/ { proxy_pass http://10.213.0.1:18000/api/; }" in proc.stdout
    assert conf.read_text() == CONF
    assert sorted(p.name for p in tmp_path.iterdir()) == ["default.conf"]
    run("-m", "backend:8000=18000", str(conf))
    assert run("-m", "backend:8000=18000", "--check", str(conf)).returncode == 0


def test_unmatched_map_warns_strict_fails(conf: Path) -> None:
    proc = run("-m", "backend:8000=18000", "-m", "nothere=1", str(conf))
    assert proc.returncode == 0
    assert "--map nothere=1 matched nothing" in proc.stderr
    conf.write_text(CONF)
    kept(conf).unlink()
    proc = run("-m", "backend:8000=18000", "-m", "nothere=1", "--strict", str(conf))
    assert proc.returncode == 6
    assert conf.read_text() == CONF


def test_stdin_strict_fails_and_prints_nothing() -> None:
    args = ("-m", "backend:8000=18000", "-m", "nothere=1", "--format", "nginx")
    proc = run(*args, "--strict", stdin=CONF)
    assert proc.returncode == 6
    assert "--map nothere=1 matched nothing" in proc.stderr
    assert proc.stdout == ""


def test_hostgw_map_env(conf: Path) -> None:
    proc = run(str(conf), HOSTGW_MAP="backend:8000=18000, other=1")
    assert proc.returncode == 0
    assert "10.213.0.1:18000" in conf.read_text()


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["-m", "backend:x=1"], 2, "bad mapping 'backend:x=1'"),
        ([], 2, "no mappings"),
        (["-m", "a=1", "--format", "nope"], 2, "nope"),
    ],
    ids=["bad-map", "no-map", "bad-format"],
)
def test_usage_errors(conf: Path, args: list[str], code: int, needle: str) -> None:
    proc = run(*args, str(conf))
    assert proc.returncode == code
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr
    assert conf.read_text() == CONF


def test_unknown_format_and_syntax_errors(tmp_path: Path) -> None:
    odd = tmp_path / "settings.txt"
    odd.write_text("hello world\n")
    proc = run("-m", "a=1", str(odd))
    assert proc.returncode == 6
    assert "name the format: hostgw rewrite --format with one of" in proc.stderr
    broken = tmp_path / "nginx.conf"
    broken.write_text('server {\n  proxy_pass "http://backend:8000;\n}\n')
    proc = run("-m", "backend=1", str(broken))
    assert proc.returncode == 6
    assert f'{broken}:2:14: unclosed " quote' in proc.stderr


def test_exec_names_its_own_format_option_and_takes_it(tmp_path: Path) -> None:
    # exec's --format is render's: a file whose format cannot be told needs its own.
    odd = tmp_path / "upstream.txt"
    odd.write_text("server s1 backend:8000\n")  # HAProxy's, or nginx's missing a ';'
    marker = tmp_path / "ran"
    proc = run_exec("--rewrite", str(odd), "-m", "backend=18000", "--", "touch", str(marker))
    assert proc.returncode == 6 and not marker.exists()
    assert "hint: name the format: --rewrite-format with one of: nginx" in proc.stderr
    broken = tmp_path / "nginx.conf"
    broken.write_text('server {\n  proxy_pass "http://backend:8000;\n}\n')
    proc = run_exec("--rewrite", str(broken), "-m", "backend=1", "--", "true")
    assert proc.returncode == 6
    assert "or name the format: --rewrite-format" in proc.stderr
    assert "hostgw rewrite --format" not in proc.stderr
    # The format given is the one read: HAProxy's server lines live in sections.
    args = ["--rewrite", str(odd), "--rewrite-format", "haproxy", "-m", "backend=18000"]
    proc = run_exec(*args, "--", "touch", str(marker))
    assert proc.returncode == 0, proc.stderr
    assert "matched nothing" in proc.stderr and marker.exists()
    odd.write_text("backend b\n  server s1 backend:8000\n")
    proc = run_exec(*args, "--", "true")
    assert proc.returncode == 0, proc.stderr
    assert odd.read_text() == "backend b\n  server s1 10.213.0.1:18000\n"
    # Forced to another format, the same file is that format's syntax error.
    args[3] = "nginx"
    proc = run_exec(*args, "--", "true")
    assert proc.returncode == 6 and "fix the nginx syntax there" in proc.stderr


def test_an_explicit_target_needs_no_gateway(conf: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOSTGW") or k == STATE}
    # An explicit target needs no detection at all.
    proc = run_hostgw("rewrite", "-m", "backend:8000=10.213.0.5:1", str(conf), env=env)
    assert proc.returncode == 0
    assert "10.213.0.5:1" in conf.read_text()


def test_follow_includes_rewrites_included_files(tmp_path: Path) -> None:
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "nginx.conf").write_text("events {}\nhttp { include conf.d/*.conf; }\n")
    site = tmp_path / "conf.d" / "site.conf"
    site.write_text("server { location / { proxy_pass http://backend:8000; } }\n")
    proc = run("-m", "backend:8000=18000", "--follow-includes", str(tmp_path / "nginx.conf"))
    assert proc.returncode == 0
    assert "proxy_pass http://10.213.0.1:18000;" in site.read_text()
    assert (tmp_path / "nginx.conf").read_text() == "events {}\nhttp { include conf.d/*.conf; }\n"
    (tmp_path / "nginx.conf").write_text("events {}\nhttp { include missing.conf; }\n")
    proc = run("-m", "backend=1", "--follow-includes", str(tmp_path / "nginx.conf"))
    assert proc.returncode == 6
    assert "missing.conf" in proc.stderr and "--prefix" in proc.stderr


# -- hostgw exec --rewrite ------------------------------------------------------
def run_exec(*args: str, gw: str = "10.213.0.1", **env: str) -> Done:
    """``hostgw exec ARGS`` with HOSTGW_IP=gw (no detection outside a test netns)."""
    return hostgw("exec", *args, gw=gw, extra=env)


REWRITTEN = CONF.replace("server backend:8000", "server 10.213.0.1:18000").replace(
    "http://backend:8000/api/", "http://10.213.0.1:18000/api/"
)


def test_exec_rewrites_before_the_command_runs(conf: Path) -> None:
    # The command reads the file: it sees the rewritten config, and has the exports.
    script = f'cat "{conf}"; echo "ip=$HOSTGW_IP"'
    proc = run_exec("--rewrite", str(conf), "-m", "backend:8000=18000", "--", "sh", "-c", script)
    assert proc.returncode == 0
    assert proc.stdout == REWRITTEN + "ip=10.213.0.1\n"
    assert conf.read_text() == REWRITTEN
    assert kept(conf).read_text() == CONF
    assert f"{conf}:1 backend:8000 \u2192 10.213.0.1:18000" in proc.stderr
    assert conf.stat().st_mode & 0o777 == 0o640


def test_exec_rewrite_reruns_from_the_pristine_copy_with_hostgw_map(conf: Path) -> None:
    assert (
        run_exec("--rewrite", str(conf), "-m", "backend:8000=18000", "--", "true").returncode == 0
    )
    # A restart on another network: the new gateway, mappings from HOSTGW_MAP.
    proc = run_exec(
        "-q",
        "--rewrite",
        str(conf),
        "--",
        "cat",
        str(conf),
        gw="fd5e::9",
        HOSTGW_MAP="backend=19000",
    )
    assert proc.returncode == 0
    assert proc.stdout == CONF.replace("server backend:8000", "server [fd5e::9]:19000").replace(
        "http://backend:8000/api/", "http://[fd5e::9]:19000/api/"
    )
    assert "\u2192" not in proc.stderr  # -q: no summary


@pytest.mark.parametrize(
    ("args", "text", "code", "message"),
    [
        (["-m", "backend:8000"], CONF, 2, "bad mapping 'backend:8000': no '='"),
        ([], CONF, 2, "no mappings"),
        (["-m", "backend=1"], 'server { proxy_pass "x; }\n', 6, 'unclosed " quote'),
    ],
    ids=["bad-map", "no-map", "broken-config"],
)
def test_exec_rewrite_error_means_no_exec(
    tmp_path: Path, args: list[str], text: str, code: int, message: str
) -> None:
    conf = tmp_path / "default.conf"
    conf.write_text(text)
    marker = tmp_path / "ran"
    proc = run_exec("--rewrite", str(conf), *args, "--", "touch", str(marker))
    assert proc.returncode == code
    assert message in proc.stderr
    assert not marker.exists()
    assert conf.read_text() == text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["default.conf"]


def test_exec_map_needs_rewrite(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    proc = run_exec("-m", "backend=1", "--", "touch", str(marker))
    assert proc.returncode == 2
    assert "--map needs --rewrite FILE" in proc.stderr
    assert not marker.exists()


# -- --follow-includes beyond nginx ----------------------------------------------
def test_follow_includes_apache_and_caddy_missing_files(tmp_path: Path) -> None:
    site = "<VirtualHost *:80>\n  ProxyPass / http://backend:8000/\n</VirtualHost>\n"
    (tmp_path / "sites").mkdir()
    (tmp_path / "sites" / "a.conf").write_text(site)
    main = tmp_path / "httpd.conf"
    main.write_text(
        f'ServerRoot "{tmp_path}"\nIncludeOptional nowhere/*.conf\nInclude sites/*.conf\n'
    )
    proc = run("-m", "backend:8000=18000", "--follow-includes", str(main))
    assert proc.returncode == 0
    assert "http://10.213.0.1:18000/" in (tmp_path / "sites" / "a.conf").read_text()
    # Include (not IncludeOptional) of nothing is httpd's error, and so hostgw's
    main.write_text(main.read_text() + "Include missing.conf\n")
    proc = run("-m", "backend:8000=18000", "--follow-includes", str(main))
    assert proc.returncode == 6
    assert f"{main}:4:9: Include missing.conf: no file matches {tmp_path}/missing.conf" in (
        proc.stderr
    ), "the file, line and column of the include"
    assert "ServerRoot" in proc.stderr  # the hint
    nginx = tmp_path / "nginx.conf"
    nginx.write_text("events {}\nhttp {\n  server { listen 8080; }\n  include  missing.conf;\n}\n")
    proc = run("-m", "backend:8000=18000", "--follow-includes", str(nginx))
    assert proc.returncode == 6
    assert f"{nginx}:4:12: include missing.conf: no file matches" in proc.stderr

    caddyfile = tmp_path / "Caddyfile"
    caddyfile.write_text("import shared\nimport sites/*.caddy\n")
    (tmp_path / "sites" / "b.caddy").write_text(":80 {\n  reverse_proxy backend:8000\n}\n")
    proc = run("-m", "backend:8000=18000", "--follow-includes", str(caddyfile))
    assert proc.returncode == 0
    assert "reverse_proxy 10.213.0.1:18000" in (tmp_path / "sites" / "b.caddy").read_text()
    assert "import shared: no such file (a snippet?), not followed" in proc.stderr


def test_follow_includes_is_refused_for_haproxy(tmp_path: Path) -> None:
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text("backend app\n    server a backend:8000\n")
    proc = run("-m", "backend:8000=18000", "--follow-includes", str(cfg))
    assert proc.returncode == 2
    assert "--follow-includes: haproxy configs have no include" in proc.stderr
    assert cfg.read_text() == "backend app\n    server a backend:8000\n"


def test_detection_options_choose_the_gateway(tmp_path: Path) -> None:
    # rewrite takes the same detection options as ip/render/exec: here a
    # snapshot (--root) with an IPv4 and an IPv6 default route, and -6.
    from tests.helpers import make_root, r4, r6

    root = make_root(tmp_path / "snap", route=r4("10.213.9.1"), route6=r6("fd5e:9::1"))
    v4 = hostgw("rewrite", "-m", "backend:8000=18000", "--root", root, stdin=CONF, gw="")
    assert v4.returncode == 0, v4.stderr
    assert "http://10.213.9.1:18000/api/" in v4.stdout
    v6 = hostgw("rewrite", "-m", "backend:8000=18000", "--root", root, "-6", stdin=CONF, gw="")
    assert v6.returncode == 0, v6.stderr
    assert "http://[fd5e:9::1]:18000/api/" in v6.stdout
    none = hostgw(
        "rewrite", "-m", "backend=1", "--root", root, "--strategy", "hosts", stdin=CONF, gw=""
    )
    assert none.returncode == 3, none.stderr
    assert "hosts:" in none.stderr
