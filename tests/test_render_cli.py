"""``hostgw render`` as a real command: pairs, stdin, directory and nginx modes, check, safety."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from hostgw.errors import OutputError
from hostgw.templates.jobs import inside
from tests.helpers import Done, ok
from tests.helpers import run as run_hostgw

TAIL = "server { return 301 $scheme://$host$1; }\n"
TEMPLATE = "upstream app { server ${HOSTGW_IP}:${PORT:-8080}; }\n" + TAIL
RENDERED = "upstream app { server 10.213.0.1:8080; }\n" + TAIL


def run(
    *args: str, env: dict[str, str] | None = None, input: str | None = None, cwd: Path | None = None
) -> Done:
    """The real hostgw, with a small known environment (the env strategy only: no probing)."""
    base = {"PATH": os.environ["PATH"], "HOSTGW_IP": "10.213.0.1", "HOSTGW_STRATEGIES": "env"}
    return run_hostgw(*args, env={**base, **(env or {})}, input=input, cwd=cwd)


def test_stdin_to_stdout() -> None:
    assert ok(run("render", input=TEMPLATE)).stdout == RENDERED
    assert ok(run("render", "-", "-o", "-", input=TEMPLATE)).stdout == RENDERED


def test_pairs_write_files_keep_mode_and_owner(tmp_path: Path) -> None:
    (tmp_path / "a.template").write_text(TEMPLATE)
    (tmp_path / "b.template").write_text("b=$B\n")
    old = tmp_path / "b.conf"
    old.write_text("old\n")
    old.chmod(0o600)
    os.chown(old, 1234, 5678)
    ok(run("render", "a.template:a.conf", "b.template:b.conf", env={"B": "2"}, cwd=tmp_path))
    assert (tmp_path / "a.conf").read_text() == RENDERED
    assert stat.S_IMODE((tmp_path / "a.conf").stat().st_mode) == 0o644  # 0644 minus umask 022
    assert old.read_text() == "b=2\n"
    st = old.stat()
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o600, 1234, 5678)
    assert not [p for p in tmp_path.iterdir() if "hostgw-tmp" in p.name]


def test_output_option_and_template_option(tmp_path: Path) -> None:
    (tmp_path / "a.template").write_text(TEMPLATE)
    ok(run("render", "a.template", "-o", "out.conf", cwd=tmp_path))
    assert (tmp_path / "out.conf").read_text() == RENDERED
    ok(run("render", "-t", "a.template:t.conf", cwd=tmp_path))
    assert (tmp_path / "t.conf").read_text() == RENDERED
    done = ok(run("render", "a.template", "a.template:x", "-o", "y", cwd=tmp_path), 0)
    assert (tmp_path / "y").exists() and (tmp_path / "x").exists()
    done = ok(run("render", "a.template", "b", "-o", "y", cwd=tmp_path), 2)
    assert "exactly one template" in done.stderr
    done = ok(run("render", "--", "-", "-:x", cwd=tmp_path, input=""), 2)
    assert "only one template can come from stdin" in done.stderr
    done = ok(run("render", "a.template:x", "a.template:x", cwd=tmp_path), 2)
    assert "two templates would write x" in done.stderr


def test_unchanged_output_is_not_rewritten(tmp_path: Path) -> None:
    (tmp_path / "a.template").write_text(TEMPLATE)
    ok(run("render", "a.template:a.conf", cwd=tmp_path))
    before = (tmp_path / "a.conf").stat()
    ok(run("render", "a.template:a.conf", cwd=tmp_path))
    after = (tmp_path / "a.conf").stat()
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)


def test_check_and_diff_write_nothing(tmp_path: Path) -> None:
    (tmp_path / "a.template").write_text(TEMPLATE)
    done = ok(run("render", "a.template:a.conf", "--check", cwd=tmp_path), 1)
    assert done.stdout == "would create a.conf\n"
    assert not (tmp_path / "a.conf").exists()
    ok(run("render", "a.template:a.conf", cwd=tmp_path))
    assert ok(run("render", "a.template:a.conf", "--check", cwd=tmp_path)).stdout == ""
    done = ok(run("render", "a.template:a.conf", "--diff", env={"PORT": "9"}, cwd=tmp_path), 1)
    assert "-upstream app { server 10.213.0.1:8080; }" in done.stdout
    assert "+upstream app { server 10.213.0.1:9; }" in done.stdout
    assert (tmp_path / "a.conf").read_text() == RENDERED


def test_errors_name_every_place_and_nothing_is_written(tmp_path: Path) -> None:
    (tmp_path / "a.template").write_text("listen $PORT;\nx ${NEED:?set NEED}\n")
    (tmp_path / "b.template").write_text("ok\n  $V\n")
    (tmp_path / "b.conf").write_text("old\n")
    done = ok(
        run(
            "render",
            "a.template:a.conf",
            "b.template:b.conf",
            "--vars",
            "PORT NEED V",
            "--strict",
            env={"V": "a;b"},
            cwd=tmp_path,
        ),
        5,
    )
    assert "a.template:1:8 PORT: is not set" in done.stderr
    assert "a.template:2:3 NEED: set NEED" in done.stderr
    assert "b.template:2:3 V: value contains ';'" in done.stderr
    assert "or pass --raw V" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "a.conf").exists()
    assert (tmp_path / "b.conf").read_text() == "old\n"
    assert not [p for p in tmp_path.iterdir() if "hostgw-tmp" in p.name]
    # --raw opts in, for one name or (alone, last) for all
    ok(run("render", "b.template:b.conf", "--raw", "V", env={"V": "a;b"}, cwd=tmp_path))
    ok(run("render", "b.template:b.conf", "--raw", env={"V": "a;b"}, cwd=tmp_path))
    done = ok(run("render", "--raw", "b.template", env={"V": "a;b"}, cwd=tmp_path), 2)
    assert "--raw=NAME" in done.stderr


def test_missing_template_is_an_error(tmp_path: Path) -> None:
    done = ok(run("render", "nope.template:x.conf", cwd=tmp_path), 5)
    assert "nope.template: cannot read it" in done.stderr


def test_detection_runs_only_when_a_template_needs_it(tmp_path: Path) -> None:
    """An empty --root makes detection fail (exit 3): only HOSTGW_* references trigger it."""
    empty = tmp_path / "root"
    empty.mkdir()
    env = {"HOSTGW_IP": "", "A": "1"}
    args = ("render", "--root", str(empty), "--strategy", "route")
    assert ok(run(*args, env=env, input="$A $host ${B:-2}\n")).stdout == "1 $host 2\n"
    done = ok(run(*args, env=env, input="${HOSTGW_IP}\n"), 3)
    assert "no IPv4 or IPv6 gateway found" in done.stderr
    assert ok(run(*args, "--vars", "A", env=env, input="$A ${HOSTGW_IP}\n")).stdout == (
        "1 ${HOSTGW_IP}\n"
    )


def _fake_root(tmp_path: Path) -> Path:
    """A copied /proc/net/route with a default route via 10.213.0.1."""
    root = tmp_path / "root"
    (root / "proc/net").mkdir(parents=True)
    (root / "proc/net/route").write_text(
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
        "eth0\t00000000\t0100D50A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
    )
    return root


def test_detected_address_is_substituted(tmp_path: Path) -> None:
    root = _fake_root(tmp_path)
    done = ok(
        run(
            "render",
            "--root",
            str(root),
            "--strategy",
            "route",
            env={"HOSTGW_IP": ""},
            input="http://${HOSTGW_HOST}:8080 [$HOSTGW_IP6]\n",
        )
    )
    assert done.stdout == "http://10.213.0.1:8080 []\n"


# -- directory mode -------------------------------------------------------------


def _tree(base: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (base / rel).parent.mkdir(parents=True, exist_ok=True)
        (base / rel).write_text(text)


def test_directory_mode_keeps_subdirectories(tmp_path: Path) -> None:
    _tree(
        tmp_path / "t",
        {
            "default.conf.template": TEMPLATE,
            "sites/api.conf.template": "proxy_pass http://$HOSTGW_IP:9000;\n",
            "README": "not a template $HOSTGW_IP",
            ".template": "no name",
        },
    )
    done = ok(run("render", "--templates", str(tmp_path / "t"), "--output", str(tmp_path / "o")))
    out = tmp_path / "o"
    assert (out / "default.conf").read_text() == RENDERED
    assert (out / "sites/api.conf").read_text() == "proxy_pass http://10.213.0.1:9000;\n"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [
        "default.conf",
        "sites",
        "sites/api.conf",
    ]
    assert "wrote" in done.stderr
    assert ok(run("render", "--templates", str(tmp_path / "t"), "-o", str(out), "-q")).stderr == ""


def test_directory_mode_is_all_or_nothing(tmp_path: Path) -> None:
    _tree(tmp_path / "t", {f"{i}.conf.template": f"n={i} $X\n" for i in range(5)})
    (tmp_path / "t/3.conf.template").write_text("bad ${X:?}\n")
    (tmp_path / "t/4.conf.template").write_text("bad ${Y#z}\n")
    _tree(tmp_path / "o", {"0.conf": "old0\n"})
    done = ok(run("render", "--templates", str(tmp_path / "t"), "-o", str(tmp_path / "o")), 5)
    assert "3.conf.template:1:5 X: parameter null or not set" in done.stderr
    assert "4.conf.template:1:5 Y: unsupported expansion" in done.stderr
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["0.conf"]
    assert (tmp_path / "o/0.conf").read_text() == "old0\n"


def test_a_quoted_reference_of_an_unknown_format_gets_the_format_hint(tmp_path: Path) -> None:
    # Quotes protect the value only once hostgw knows whose quotes they are.
    (tmp_path / "hdr.template").write_text('add_header X-Id "${V}";\n')
    args = ["render", "hdr.template", "-o", "out.conf"]
    done = ok(run(*args, env={"V": "a;b"}, cwd=tmp_path), 5)
    (hint,) = [line for line in done.stderr.splitlines() if line.startswith("hint:")]
    assert "name the format with --format nginx|haproxy|apache|caddy" in hint
    assert "quote the reference" not in hint
    ok(run(*args, "--format", "nginx", env={"V": "a;b"}, cwd=tmp_path))
    assert (tmp_path / "out.conf").read_text() == 'add_header X-Id "a;b";\n'
    # A bare reference of a known format is told to quote.
    (tmp_path / "bare.template").write_text("add_header X-Id ${V};\n")
    done = ok(
        run("render", "bare.template:b.conf", "--format", "nginx", env={"V": "a;b"}, cwd=tmp_path),
        5,
    )
    assert "hint: quote the reference in the template" in done.stderr


def test_symlinks_leading_out_of_the_output_directory_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.conf").write_text("precious\n")
    _tree(tmp_path / "t", {"sub/a.conf.template": "a\n", "victim.conf.template": "b\n"})
    out = tmp_path / "o"
    out.mkdir()
    (out / "sub").symlink_to(outside)
    done = ok(run("render", "--templates", str(tmp_path / "t"), "-o", str(out)), 1)
    assert "a symlink leads outside" in done.stderr
    (out / "sub").unlink()
    (out / "victim.conf").symlink_to(outside / "victim.conf")
    done = ok(run("render", "--templates", str(tmp_path / "t"), "-o", str(out)), 1)
    assert "a symlink leads outside" in done.stderr
    assert (outside / "victim.conf").read_text() == "precious\n"
    assert not (outside / "a.conf").exists()
    # A symlink that stays inside is written through and kept.
    (out / "victim.conf").unlink()
    (out / "real.conf").write_text("old\n")
    (out / "victim.conf").symlink_to("real.conf")
    ok(run("render", "--templates", str(tmp_path / "t"), "-o", str(out)))
    assert (out / "victim.conf").is_symlink()
    assert (out / "real.conf").read_text() == "b\n"


@pytest.mark.parametrize("rel", ["../x.conf", "a/../../x.conf", "/etc/x.conf"])
def test_dotdot_and_absolute_paths_are_refused(tmp_path: Path, rel: str) -> None:
    with pytest.raises(OutputError, match="leads outside"):
        inside(tmp_path, rel)


# -- the nginx image's conventions --------------------------------------------------


def test_nginx_mode_replaces_the_image_script(tmp_path: Path) -> None:
    tdir, conf_d, stream_d = tmp_path / "templates", tmp_path / "conf.d", tmp_path / "stream-conf.d"
    _tree(
        tdir,
        {
            "default.conf.template": "server { listen ${NGINX_PORT}; location / { proxy_pass "
            "http://${HOSTGW_IP}:${APP_PORT:-3000}; proxy_set_header Host $host; } }\n",
            "tcp.conf.stream-template": "server { listen 5432; "
            "proxy_pass ${HOSTGW_IP}:${OTHER_PG}; }\n",
        },
    )
    conf_d.mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text("events {}\nhttp { include conf.d/*.conf; }")
    env = {
        "NGINX_ENVSUBST_TEMPLATE_DIR": str(tdir),
        "NGINX_ENVSUBST_OUTPUT_DIR": str(conf_d),
        "NGINX_ENVSUBST_STREAM_OUTPUT_DIR": str(stream_d),
        "NGINX_ENVSUBST_FILTER": "^NGINX_",
        "NGINX_PORT": "8080",
        "OTHER_PG": "5432",
    }
    ok(run("render", "--nginx", "--nginx-conf", str(conf), env=env))
    assert (conf_d / "default.conf").read_text() == (
        "server { listen 8080; location / { proxy_pass http://10.213.0.1:3000; "
        "proxy_set_header Host $host; } }\n"
    )
    # OTHER_PG does not match the filter: it stays, as in the image.
    assert (stream_d / "tcp.conf").read_text() == (
        "server { listen 5432; proxy_pass 10.213.0.1:${OTHER_PG}; }\n"
    )
    assert conf.read_text().endswith(f"stream {{\n  include {stream_d}/*.conf;\n}}\n")
    assert conf.read_text().startswith("events {}\nhttp { include conf.d/*.conf; }\n#")
    once = conf.read_text()
    ok(run("render", "--nginx", "--nginx-conf", str(conf), env=env))
    assert conf.read_text() == once
    assert ok(run("render", "--nginx", "--nginx-conf", str(conf), "--check", env=env)).stdout == ""


def test_nginx_mode_without_templates_does_nothing(tmp_path: Path) -> None:
    env = {
        "NGINX_ENVSUBST_TEMPLATE_DIR": str(tmp_path / "none"),
        "NGINX_ENVSUBST_OUTPUT_DIR": str(tmp_path / "out"),
    }
    done = ok(run("render", "--nginx", env=env))
    assert "no templates" in done.stderr
    assert not (tmp_path / "out").exists()


def test_nginx_mode_with_no_output_directory_logs_and_renders_nothing(tmp_path: Path) -> None:
    """As the image's script: '[ ! -w "$output_dir" ]' logs, renders nothing, exits 0."""
    _tree(tmp_path / "templates", {"a.conf.template": "a $A\n"})
    env = {
        "NGINX_ENVSUBST_TEMPLATE_DIR": str(tmp_path / "templates"),
        "NGINX_ENVSUBST_OUTPUT_DIR": str(tmp_path / "missing/conf.d"),
        "A": "1",
    }
    done = ok(run("render", "--nginx", "--nginx-conf", str(tmp_path / "nginx.conf"), env=env))
    assert f"{tmp_path / 'missing/conf.d'} is not a writable directory" in done.stderr
    assert "nothing rendered" in done.stderr
    assert "no templates to render" not in done.stderr, "the templates are there"
    assert not (tmp_path / "missing").exists()
