"""Where ``hostgw rewrite`` keeps originals: the state directory, its fallback, the refusal.

Every run here names its state directory (``--state-dir`` or
``HOSTGW_STATE_DIR``) under the test's temp dir. The one run with the
default, /var/lib/hostgw, happens in a private mount namespace with a tmpfs
on /var/lib, so the machine's /var/lib is never written.

An unwritable state directory cannot be made with mode bits (root ignores
them), so it is made two other ways: a path below a regular file, and a
read-only bind mount in a private mount namespace.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
from pathlib import Path
from typing import NamedTuple

import pytest

from hostgw.rewriting.pristine import DEFAULT_STATE_DIR, in_state, state_dir
from tests.helpers import hostgw_cmd, require_tool
from tests.rewrite_cli import CONF, STATE, hostgw, kept, run
from tests.waiting import until

MAP = "backend:8000=18000"


def rewritten(gateway: str) -> str:
    return CONF.replace("server backend:8000", f"server {gateway}:18000").replace(
        "http://backend:8000/api/", f"http://{gateway}:18000/api/"
    )


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    (tmp_path / "conf.d").mkdir()
    path = tmp_path / "conf.d" / "default.conf"
    path.write_text(CONF)
    path.chmod(0o640)
    return path


def beside(path: Path) -> Path:
    return path.with_name(f".{path.name}.hostgw-orig")


def private_mounts(setup: str) -> list[str]:
    """A wrapper running the command after ``setup`` in a private mount namespace.

    Mounts made there vanish with the command and never reach the machine.
    """
    unshare = require_tool("unshare")
    script = f'{setup}; exec "$@"'
    return [unshare, "--mount", "--propagation", "private", "sh", "-ec", script, "sh"]


# -- where -----------------------------------------------------------------------


def test_the_state_dir_comes_from_the_option_the_environment_or_the_default() -> None:
    assert DEFAULT_STATE_DIR == "/var/lib/hostgw"
    assert state_dir(None, {}) == Path("/var/lib/hostgw")
    assert state_dir(None, {STATE: "/srv/state"}) == Path("/srv/state")
    assert state_dir("/opt/s", {STATE: "/srv/state"}) == Path("/opt/s")
    assert in_state(Path("/var/lib/hostgw"), Path("/etc/nginx/conf.d/default.conf")) == Path(
        "/var/lib/hostgw/pristine/etc/nginx/conf.d/default.conf"
    )


def test_the_default_state_dir_is_var_lib_hostgw(conf: Path) -> None:
    # The real default, in a private mount namespace whose /var/lib is a
    # fresh tmpfs: the listing shows what the run made there.
    existed = os.path.lexists(DEFAULT_STATE_DIR)
    wrap = private_mounts("mount -t tmpfs hostgw-test /var/lib")
    listing = "find /var/lib -printf '%m %p\\n' | sort"
    proc = hostgw(
        "exec", "--rewrite", str(conf), "-m", MAP, "--", "sh", "-c", listing,
        wrap=wrap, extra={STATE: ""},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    modes: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        mode, path = line.split(" ", 1)
        modes[path] = mode
    copy = f"/var/lib/hostgw/pristine{conf}"
    made = {path: mode for path, mode in modes.items() if path.startswith("/var/lib/hostgw")}
    assert made.pop(copy) == "640"
    assert made and set(made.values()) == {"700"}, made  # every directory made 0700
    assert set(made) == {str(p) for p in Path(copy).parents if str(p).startswith("/var/lib/")}
    assert conf.read_text() == rewritten("10.213.0.1")
    assert os.path.lexists(DEFAULT_STATE_DIR) == existed  # the machine's /var/lib untouched


@pytest.mark.parametrize("how", ["option", "environment", "option-over-environment"])
def test_state_dir_option_and_environment(conf: Path, tmp_path: Path, how: str) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    args = ["--state-dir", str(a)] if how != "environment" else []
    env = {STATE: str(b)} if how != "option" else {}
    os.chown(conf, 65534, 65534)
    assert run("-m", MAP, *args, str(conf), extra=env).returncode == 0
    used = b if how == "environment" else a
    copy = kept(conf, used)
    assert copy.read_text() == CONF
    st = copy.stat()
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o640, 65534, 65534)
    for parent in copy.relative_to(used).parents:
        assert stat.S_IMODE((used / parent).stat().st_mode) == 0o700, parent
    assert not (a if used == b else b).exists()
    assert sorted(p.name for p in conf.parent.iterdir()) == ["default.conf"]
    # A re-run with a new gateway starts from that copy.
    assert run("-m", MAP, *args, str(conf), gw="fd5e::9", extra=env).returncode == 0
    assert conf.read_text() == rewritten("[fd5e::9]")


def test_two_paths_to_one_file_share_one_copy(conf: Path, tmp_path: Path) -> None:
    (tmp_path / "sites-enabled").mkdir()
    link = tmp_path / "sites-enabled" / "default"
    link.symlink_to(Path("..") / "conf.d" / "default.conf")
    state = tmp_path / "state"
    assert run("-m", MAP, "--state-dir", str(state), str(link)).returncode == 0
    assert link.is_symlink() and conf.read_text() == rewritten("10.213.0.1")
    assert run("-m", MAP, "--state-dir", str(state), str(conf), gw="10.213.0.2").returncode == 0
    assert conf.read_text() == rewritten("10.213.0.2")
    copies = [p for p in state.rglob("*") if p.is_file()]
    assert copies == [kept(conf, state)]
    assert copies[0].read_text() == CONF


def test_an_earlier_copy_beside_the_file_is_used_and_moved(conf: Path, tmp_path: Path) -> None:
    # As earlier versions left it: the original beside, the file rewritten.
    beside(conf).write_text(CONF)
    conf.write_text(rewritten("10.213.0.9"))
    state = tmp_path / "state"
    proc = run("-m", MAP, "--check", "--state-dir", str(state), str(conf))
    assert proc.returncode == 1  # it is the original: the new gateway differs
    assert beside(conf).exists() and not state.exists()  # --check moves nothing
    proc = run("-m", MAP, "--state-dir", str(state), str(conf))
    assert proc.returncode == 0, proc.stderr
    assert conf.read_text() == rewritten("10.213.0.1")
    assert "changed since" not in proc.stderr
    assert not beside(conf).exists()
    assert kept(conf, state).read_text() == CONF
    # Moved, not lost: the next gateway still starts from the original.
    assert run("-m", MAP, "--state-dir", str(state), str(conf), gw="10.213.0.3").returncode == 0
    assert conf.read_text() == rewritten("10.213.0.3")


def test_an_unchanged_file_still_moves_its_copy(conf: Path, tmp_path: Path) -> None:
    beside(conf).write_text(CONF)
    conf.write_text(rewritten("10.213.0.1"))
    inode = conf.stat().st_ino
    state = tmp_path / "state"
    assert run("-m", MAP, "--state-dir", str(state), str(conf)).returncode == 0
    assert conf.stat().st_ino == inode  # not written: nothing to change
    assert not beside(conf).exists() and kept(conf, state).read_text() == CONF


# -- when the state directory cannot be written ----------------------------------


def _unwritable(tmp: Path, how: str) -> tuple[Path, list[str]]:
    """A state directory this run cannot write, and the wrapper the run needs."""
    if how == "below-a-file":
        blocker = tmp / "not-a-dir"
        blocker.write_text("")
        return blocker / "state", []
    state = tmp / "ro-state"
    state.mkdir()
    q = f"'{state}'"
    return state, private_mounts(f"mount --bind {q} {q}; mount -o remount,ro,bind {q}")


WHY = {"below-a-file": "not a directory", "read-only-mount": "read-only file system"}


@pytest.mark.parametrize("how", ["below-a-file", "read-only-mount"])
def test_nginx_falls_back_to_a_copy_beside_the_file(conf: Path, tmp_path: Path, how: str) -> None:
    state, wrap = _unwritable(tmp_path, how)
    proc = run("-m", MAP, str(conf), wrap=wrap, extra={STATE: str(state)})
    assert proc.returncode == 0, proc.stderr
    assert conf.read_text() == rewritten("10.213.0.1")
    assert beside(conf).read_text() == CONF
    assert stat.S_IMODE(beside(conf).stat().st_mode) == 0o640
    warning = f"{conf}:1:1: original kept beside it as .default.conf.hostgw-orig"
    assert warning in proc.stderr
    assert WHY[how] in proc.stderr
    assert "--state-dir (or HOSTGW_STATE_DIR)" in proc.stderr and "-o OUT" in proc.stderr
    assert not any(p.is_file() for p in tmp_path.rglob("*") if "state" in p.parts[-1:])
    # The copy beside works as the original: a new gateway, then twice == once.
    for _ in range(2):
        proc = run("-m", MAP, str(conf), wrap=wrap, gw="10.213.0.2", extra={STATE: str(state)})
        assert proc.returncode == 0, proc.stderr
        assert conf.read_text() == rewritten("10.213.0.2")
    # Once a state directory can be written, the copy moves there.
    good = tmp_path / "state"
    assert run("-m", MAP, "--state-dir", str(good), str(conf)).returncode == 0
    assert not beside(conf).exists() and kept(conf, good).read_text() == CONF
    assert conf.read_text() == rewritten("10.213.0.1")


APACHE = "<VirtualHost *:80>\n    ProxyPass / http://backend:8000/\n</VirtualHost>\n"
CADDY = ":80 {\n\treverse_proxy backend:8000\n}\n"


class Site(NamedTuple):
    """A site file of a server that may load a copy kept beside it."""

    name: str
    text: str
    server: str


@pytest.mark.parametrize(
    "site",
    [Site("sites-enabled/app.conf", APACHE, "httpd"), Site("sites/app.caddy", CADDY, "caddy")],
    ids=["apache", "caddy"],
)
@pytest.mark.parametrize("earlier", [False, True], ids=["first-run", "earlier-copy-beside"])
@pytest.mark.parametrize("how", ["below-a-file", "read-only-mount"])
def test_apache_and_caddy_refuse_a_copy_beside_the_file(
    tmp_path: Path, site: Site, earlier: bool, how: str
) -> None:
    name, text, server = site
    path = tmp_path / name
    path.parent.mkdir()
    path.write_text(text)
    if earlier:
        beside(path).write_text(text)
    state, wrap = _unwritable(tmp_path, how)
    before = sorted(tmp_path.rglob("*"))
    proc = run("-m", MAP, str(path), wrap=wrap, extra={STATE: str(state)})
    assert proc.returncode == 2, proc.stderr
    assert f"will not rewrite {path} in place" in proc.stderr
    assert f"{server} may load a copy kept beside it (.{path.name}.hostgw-orig)" in proc.stderr
    assert WHY[how] in proc.stderr
    assert "hint: point --state-dir (or HOSTGW_STATE_DIR) at a writable directory" in proc.stderr
    assert "-o OUT" in proc.stderr and "Traceback" not in proc.stderr
    assert path.read_text() == text
    assert sorted(tmp_path.rglob("*")) == before  # nothing written, nothing made
    # exec --rewrite refuses the same way: the command does not run.
    marker = tmp_path / "ran"
    proc = hostgw(
        "exec", "--rewrite", str(path), "-m", MAP, "--", "touch", str(marker),
        wrap=wrap, extra={STATE: str(state)},
    )  # fmt: skip
    assert proc.returncode == 2 and not marker.exists()
    # -o needs no original at all.
    out = tmp_path / "out"
    proc = run("-m", MAP, "-o", str(out), str(path), wrap=wrap, extra={STATE: str(state)})
    assert proc.returncode == 0, proc.stderr
    assert "10.213.0.1:18000" in out.read_text() and path.read_text() == text


@pytest.mark.parametrize(
    "args",
    [["exec", "--state-dir", "{s}", "--", "true"], ["watch", "{t}:{o}", "--state-dir", "{s}"]],
    ids=["exec", "watch"],
)
def test_state_dir_needs_rewrite(tmp_path: Path, args: list[str]) -> None:
    template, out, state = tmp_path / "t", tmp_path / "o", tmp_path / "s"
    template.write_text("x\n")
    argv = [a.format(t=template, o=out, s=state) for a in args]
    proc = hostgw(*argv)
    assert proc.returncode == 2
    assert "--state-dir needs --rewrite FILE" in proc.stderr
    assert not out.exists() and not state.exists()


def test_watch_moves_an_earlier_copy_at_start(conf: Path, tmp_path: Path) -> None:
    # The file is already right for this gateway: only the copy has to move.
    # HOSTGW_IP is an address, so the watcher watches nothing and just waits.
    beside(conf).write_text(CONF)
    conf.write_text(rewritten("10.213.0.1"))
    state, log = tmp_path / "state", tmp_path / "watch.log"
    env = {**os.environ, "HOSTGW_IP": "10.213.0.1"}
    argv = [*hostgw_cmd(), "watch", "--rewrite", str(conf), "-m", MAP, "--state-dir", str(state)]
    with log.open("w") as err:
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stderr=err, text=True)
    try:
        until("the watcher", lambda: "watching" in log.read_text() or proc.poll() is not None)
        assert proc.poll() is None, log.read_text()
        assert not beside(conf).exists() and kept(conf, state).read_text() == CONF
        assert conf.read_text() == rewritten("10.213.0.1")
        assert "wrote" not in log.read_text()  # the file itself did not change
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, log.read_text()
