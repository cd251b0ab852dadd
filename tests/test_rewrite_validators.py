"""Realistic configs, rewritten by the real CLI and checked by their own proxies.

The configs in tests/configs/rewrite/ are written the way deployments write
them (websocket upgrades, upstream pools with keepalive, maps, TLS servers,
stream blocks, Lua blocks, balancers, server templates). Every proxy check
runs in "test the config" mode with pid, log and temp paths under the test's
temp dir, so nothing on the machine changes and nothing listens afterwards.
The unrewritten nginx and HAProxy configs fail their checks (the container
names do not resolve here), which is what makes the checks meaningful.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

import pytest

from hostgw.rewriting import rewrite
from tests.helpers import hostgw_cmd, require_tool
from tests.tls import self_signed

pytestmark = pytest.mark.proxies

CONFIGS = Path(__file__).parent / "configs" / "rewrite"
GATEWAY = "10.213.0.1"
MAPS = [
    "backend:8000=18000",
    "backend:8001=18001",
    "websocket=19000",
    "grpc-svc=15051",
    "db=15432",
    "cache=16379",
    "php-fpm=19001",
    "storage=19443",
    "frontend-app=13000",
]


def _copy(tmp: Path, name: str) -> Path:
    """Copy a config (file or tree) into ``tmp`` with @TMP@ filled in."""
    src = CONFIGS / name
    dst = tmp / name
    if src.is_dir():
        shutil.copytree(src, dst)
    else:
        shutil.copy(src, dst)
    for path in [dst] if dst.is_file() else list(dst.rglob("*")):
        if path.is_file():
            path.write_text(path.read_text().replace("@TMP@", str(tmp)))
    return dst


def _env(tmp: Path) -> dict[str, str]:
    # Caddy keeps state under HOME/XDG dirs, hostgw the originals under its
    # state directory: point them all into the temp dir.
    return {
        **os.environ,
        "HOSTGW_IP": GATEWAY,
        "HOSTGW_STATE_DIR": str(tmp / "state"),
        "HOME": str(tmp),
        "XDG_DATA_HOME": str(tmp / "data"),
        "XDG_CONFIG_HOME": str(tmp / "config"),
    }


def _kept(tmp: Path, path: Path) -> Path:
    """Where the original of ``path`` is kept (``_env``'s state directory)."""
    return tmp / "state" / "pristine" / path.resolve().relative_to("/")


def _hostgw(
    tmp: Path, *args: str, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """``hostgw rewrite`` with every ``MAPS`` entry, in ``tmp``, with ``_env`` plus ``env``."""
    argv = [*hostgw_cmd(), "rewrite", *(f"--map={m}" for m in MAPS), *args]
    proc = subprocess.run(
        argv,
        input=stdin,
        capture_output=True,
        text=True,
        env={**_env(tmp), **env},
        cwd=tmp,
        timeout=120,
        check=False,
    )
    print(proc.stdout, proc.stderr)
    return proc


def _tool(tmp: Path, argv: list[str]) -> subprocess.CompletedProcess[str]:
    """The proxy's own check (or dump) of a config, with state kept under ``tmp``."""
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=60, check=False, env=_env(tmp)
    )


def _cert(tmp: Path) -> None:
    self_signed(tmp / "cert.pem", tmp / "key.pem", "app.example.com")


def _nginx_t(tmp: Path, conf: Path) -> subprocess.CompletedProcess[str]:
    return _tool(tmp, [require_tool("nginx"), "-t", "-c", str(conf)])


def test_nginx_tree_with_includes(tmp_path: Path) -> None:
    _cert(tmp_path)
    root = _copy(tmp_path, "nginx")
    main, app = root / "nginx.conf", root / "conf.d" / "app.conf"
    before = app.read_text()
    assert "host not found" in _nginx_t(tmp_path, main).stderr  # the oracle can say no

    proc = _hostgw(tmp_path, "--validate", "--follow-includes", str(main))
    assert proc.returncode == 0, proc.stderr
    assert _nginx_t(tmp_path, main).returncode == 0

    text, site = main.read_text(), app.read_text()
    assert "server 10.213.0.1:18000 weight=3 max_fails=3 fail_timeout=10s;" in text
    assert "server 10.213.0.1:18001 backup;" in text
    assert "server 10.213.0.1:15432 max_fails=2;" in text
    assert "proxy_pass 10.213.0.1:16379;   # redis" in text
    assert "proxy_pass http://10.213.0.1:19000/socket/;" in site
    assert "proxy_pass https://10.213.0.1:19443/;" in site
    assert "fastcgi_pass 10.213.0.1:19001;" in site
    # left alone: comments, $variables, upstream names, Lua, unix sockets
    for kept in (
        "# proxy_pass http://backend:8000/admin/;",
        "set $legacy_upstream backend:8000;",
        "proxy_pass http://api_pool;",
        "grpc_pass grpc://grpc_pool;",
        "-- not a directive: proxy_pass http://backend:8000; }",
        'local target = "backend:8000"',
        "proxy_pass http://unix:/run/backend.sock:/;",
    ):
        assert kept in site or kept in text, kept
    # the $variable's value is named, with its place, and it is the one warning of the file
    line = before.splitlines().index("        set $legacy_upstream backend:8000;") + 1
    note = (
        f"hostgw: warning: {app}:{line}:30: not rewritten: 'backend:8000' in 'set' "
        "(hostgw rewrites only literal proxy targets, not values used through variables)"
    )
    warnings = [w for w in proc.stderr.splitlines() if "warning:" in w]
    assert [w for w in warnings if str(app) in w] == [note], proc.stderr
    # only the target tokens changed
    assert len(site) - len(before) == sum(
        len(new) - len(old)
        for old, new in (
            ("websocket:9000", "10.213.0.1:19000"),
            ("backend:8000", "10.213.0.1:18000"),
            ("storage", "10.213.0.1:19443"),
            ("php-fpm:9000", "10.213.0.1:19001"),
        )
    )
    assert _kept(tmp_path, app).read_text() == before
    assert not list(root.rglob("*.hostgw-orig")), "no copies in the config directories"
    assert not list(tmp_path.rglob("*.hostgw-check")), "validation left temp files"


def test_nginx_snippet_is_validated_inside_a_wrapper(tmp_path: Path) -> None:
    _cert(tmp_path)
    root = _copy(tmp_path, "nginx")
    app = root / "conf.d" / "app.conf"
    # the snippet names upstream pools defined in the main config: give it its own
    app.write_text(
        "map $http_upgrade $connection_upgrade { default upgrade; '' close; }\n"
        "upstream api_pool { server backend:8000; }\n"
        "upstream grpc_pool { server grpc-svc:50051; }\n" + app.read_text()
    )
    proc = _hostgw(tmp_path, "--validate", str(app))
    assert proc.returncode == 0, proc.stderr
    assert "proxy_pass http://10.213.0.1:18000/admin/v2/;" in app.read_text()
    assert not list(root.rglob("*.hostgw-check"))


def test_nginx_rejection_keeps_the_original(tmp_path: Path) -> None:
    root = _copy(tmp_path, "nginx")
    app = root / "conf.d" / "app.conf"
    app.write_text(app.read_text().replace("keepalive", "x") + "\nserver { bogus_directive 1; }\n")
    before = app.read_bytes()
    proc = _hostgw(tmp_path, "--validate", str(app))
    assert proc.returncode == 7
    assert 'unknown directive "bogus_directive"' in proc.stderr
    assert str(app) in proc.stderr and ".hostgw-check" not in proc.stderr
    assert app.read_bytes() == before
    assert not (tmp_path / "state").exists(), "a rejected rewrite keeps no original"


def test_stdin_rejection_prints_nothing(tmp_path: Path) -> None:
    conf = "server { listen 8080; location / { proxy_pass http://backend:8000; } }\n"
    good = _hostgw(tmp_path, "-f", "nginx", "--validate", stdin=conf)
    assert good.returncode == 0, good.stderr
    assert "proxy_pass http://10.213.0.1:18000;" in good.stdout
    bad = _hostgw(tmp_path, "-f", "nginx", "--validate", stdin=conf + "bogus_directive 1;\n")
    assert bad.returncode == 7
    assert 'unknown directive "bogus_directive"' in bad.stderr
    assert bad.stdout == ""
    # The message names the input by what it is, at the line the proxy gave.
    assert "rejected stdin as rewritten for stdout; nothing was written" in bad.stderr
    assert "in stdin:2" in bad.stderr and f"{tmp_path}/stdout" not in bad.stderr


@pytest.mark.parametrize("to", ["-", "out.conf"])
def test_a_rejection_for_another_output_names_the_source(tmp_path: Path, to: str) -> None:
    src = tmp_path / "site.conf"
    src.write_text(
        "server {\n  location / { proxy_pass http://backend:8000; }\n  bogus_directive 1;\n}\n"
    )
    proc = _hostgw(tmp_path, "-f", "nginx", "--validate", "-o", to, "site.conf")
    assert proc.returncode == 7 and proc.stdout == ""
    shown = "stdout" if to == "-" else "out.conf"
    assert f"rejected site.conf as rewritten for {shown}; nothing was written" in proc.stderr
    assert "in site.conf:3" in proc.stderr, "the source's line: the rewrite keeps lines"
    assert "left unchanged" not in proc.stderr and not (tmp_path / "out.conf").exists()


def test_haproxy(tmp_path: Path) -> None:
    cfg = _copy(tmp_path, "haproxy.cfg")
    haproxy = require_tool("haproxy")
    check = [haproxy, "-c", "-f", str(cfg)]
    assert _tool(tmp_path, check).returncode != 0
    proc = _hostgw(tmp_path, "--validate", str(cfg))
    assert proc.returncode == 0, proc.stderr
    assert _tool(tmp_path, check).returncode == 0
    text = cfg.read_text()
    assert "server api1 10.213.0.1:18000 check weight 10" in text
    assert "server api2 10.213.0.1:18001 check backup" in text
    assert "server legacy backend2:8000 check" in text
    assert "server-template web 1-3 10.213.0.1:13000 check" in text
    assert "server cache1 10.213.0.1:16379 check" in text
    assert "nameserver dns1 127.0.0.11:53" in text
    assert "# server old backend:8000" in text


def test_haproxy_ipv6_gateway(tmp_path: Path) -> None:
    cfg = _copy(tmp_path, "haproxy.cfg")
    proc = _hostgw(tmp_path, "--validate", str(cfg), HOSTGW_IP="fd5e::1")
    assert proc.returncode == 0, proc.stderr
    assert "server api1 [fd5e::1]:18000 check" in cfg.read_text()


def test_apache(tmp_path: Path) -> None:
    conf = _copy(tmp_path, "apache")
    main = conf / "httpd.conf"
    proc = _hostgw(tmp_path, "--validate", str(main))
    assert proc.returncode == 0, proc.stderr
    text = main.read_text()
    for line in (
        "ProxyPass        /api/ http://10.213.0.1:18000/api/ retry=0 timeout=30",
        "ProxyPassReverse /api/ http://10.213.0.1:18000/api/",
        "ProxyPass /ws/ ws://10.213.0.1:19000/socket/",
        '"fcgi://10.213.0.1:19001/var/www/html/$1"',
        "BalancerMember http://10.213.0.1:18000 route=a loadfactor=2",
        "BalancerMember http://backend2:8000 route=b",
        "ProxyPass http://10.213.0.1:18000/reports/ \\\n            connectiontimeout=5",
        '"http://10.213.0.1:18000/store/$1" [P,L]',
        '"http://backend:8000/new/$1" [R=301,L]',
        'Header always set X-Upstream "backend:8000"',
        "# ProxyPass /old/ http://backend:8000/old/",
    ):
        assert line in text, line
    apachectl = require_tool("apachectl")
    check = _tool(tmp_path, [apachectl, "-t", "-f", str(main)])
    assert check.returncode == 0, check.stderr


def test_apache_fragment_is_validated_inside_a_wrapper(tmp_path: Path) -> None:
    # A site file alone loads no MPM: httpd -t on it fails ("No MPM loaded").
    # --validate wraps it in a main config with its tree's modules.
    root = _copy(tmp_path, "apache-tree")
    site = root / "sites-enabled" / "app.conf"
    apachectl = require_tool("apachectl")
    alone = _tool(tmp_path, [apachectl, "-t", "-f", str(site)])
    assert alone.returncode != 0 and "MPM" in alone.stdout + alone.stderr
    proc = _hostgw(tmp_path, "--validate", str(site))
    assert proc.returncode == 0, proc.stderr
    assert "ProxyPass        /ws/ ws://10.213.0.1:19000/socket/" in site.read_text()
    site.write_text(site.read_text() + "NoSuchDirective on\n")
    before = site.read_bytes()
    bad = _hostgw(tmp_path, "--validate", str(site))
    assert bad.returncode == 7
    assert "Invalid command 'NoSuchDirective'" in bad.stderr
    assert f"<minimal main config around {site}>" in bad.stderr
    assert site.read_bytes() == before
    assert not list(root.rglob("*.hostgw-check"))


def test_caddy(tmp_path: Path) -> None:
    caddyfile = _copy(tmp_path, "Caddyfile")
    proc = _hostgw(tmp_path, "--validate", str(caddyfile))
    assert proc.returncode == 0, proc.stderr
    text = caddyfile.read_text()
    assert "reverse_proxy 10.213.0.1:18000 10.213.0.1:18001 {" in text
    assert "to http://10.213.0.1:19000" in text
    assert "php_fastcgi 10.213.0.1:19001" in text
    assert "reverse_proxy @legacy backend2:8000" in text
    assert '"reverse_proxy backend:8000 lives here"' in text
    assert "# reverse_proxy backend:8000" in text


def test_caddy_rejection_shows_the_tool_message(tmp_path: Path) -> None:
    caddyfile = _copy(tmp_path, "Caddyfile")
    caddyfile.write_text(caddyfile.read_text().replace("encode gzip", "no_such_directive"))
    before = caddyfile.read_bytes()
    proc = _hostgw(tmp_path, "--validate", str(caddyfile))
    assert proc.returncode == 7
    assert "no_such_directive" in proc.stderr
    assert caddyfile.read_bytes() == before


def _tree_files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def test_apache_tree_with_includes(tmp_path: Path) -> None:
    root = _copy(tmp_path, "apache-tree")
    main = root / "httpd.conf"
    before = _tree_files(root)
    proc = _hostgw(tmp_path, "--validate", "--follow-includes", str(main))
    assert proc.returncode == 0, proc.stderr
    proxy, site = (
        (root / "conf.d" / "proxy.conf").read_text(),
        (root / "sites-enabled" / "app.conf"),
    )
    assert "BalancerMember http://10.213.0.1:18000 route=a" in proxy
    assert "BalancerMember http://10.213.0.1:18001 route=b status=+H" in proxy
    assert "ProxyPass        /ws/ ws://10.213.0.1:19000/socket/" in site.read_text()
    assert "ProxyPassReverse /files/ http://10.213.0.1:19443/" in site.read_text()
    for kept in ("# ProxyPass /old/ http://backend:8000/old/", 'X-Served-By "backend:8000"'):
        assert kept in site.read_text()
    assert main.read_text() == before["httpd.conf"]  # nothing to rewrite there
    assert _kept(tmp_path, site).read_text() == before["sites-enabled/app.conf"]
    assert not list(root.rglob("*.hostgw-check"))
    apachectl = require_tool("apachectl")
    dump = _tool(tmp_path, [apachectl, "-t", "-D", "DUMP_VHOSTS", "-f", str(main)])
    assert dump.returncode == 0, dump.stderr
    assert "hostgw-orig" not in dump.stdout + dump.stderr  # the pristine copy is not loaded


def test_caddy_tree_with_imports(tmp_path: Path) -> None:
    root = _copy(tmp_path, "caddy-tree")
    caddyfile = root / "Caddyfile"
    before = _tree_files(root)
    proc = _hostgw(tmp_path, "--validate", "--follow-includes", str(caddyfile))
    assert proc.returncode == 0, proc.stderr
    site = (root / "sites" / "app.caddy").read_text()
    assert "reverse_proxy 10.213.0.1:18000 10.213.0.1:18001 {" in site
    assert "to http://10.213.0.1:19000" in site
    assert "# reverse_proxy backend:8000" in site and '"served by backend:8000"' in site
    # snippets are no files: neither followed nor warned about
    assert "import proxy_headers" in site and "snippet" not in proc.stderr
    assert caddyfile.read_text() == before["Caddyfile"]
    assert (
        _tree_files(root)["snippets/proxy-headers.caddy"] == before["snippets/proxy-headers.caddy"]
    )
    assert not list(root.rglob("*.hostgw-check"))
    caddy = require_tool("caddy")
    check = _tool(
        tmp_path, [caddy, "validate", "--adapter", "caddyfile", "--config", str(caddyfile)]
    )
    assert check.returncode == 0, check.stderr


class _Loose(NamedTuple):
    """An include that loads every file of a directory, hidden ones too."""

    tree: str
    format: str
    main: str
    pattern: str
    loose: str
    site: str
    check: list[str]
    seen: str  # what the tool shows when it loads a copy beside the site


_LOOSE = [
    _Loose(
        "apache-tree",
        "apache",
        "httpd.conf",
        "sites-enabled/*.conf",
        "sites-enabled/",
        "sites-enabled/app.conf",
        ["apachectl", "-t", "-D", "DUMP_VHOSTS", "-f"],
        ".app.conf.hostgw-orig",
    ),
    _Loose(
        "caddy-tree",
        "caddy",
        "Caddyfile",
        "import sites/*.caddy",
        "import sites/*",
        "sites/app.caddy",
        ["caddy", "adapt", "--adapter", "caddyfile", "--config"],
        "ambiguous site definition",
    ),
]


@pytest.mark.parametrize("case", _LOOSE, ids=["apache-include-directory", "caddy-import-star"])
def test_includes_of_whole_directories_load_no_originals(tmp_path: Path, case: _Loose) -> None:
    # httpd reads every file of an included directory, dot files too, and
    # Caddy's * matches them: a copy kept beside the site is loaded as a
    # second, stale site. Earlier versions kept it there; this one moves it
    # to the state directory and rewrites from it.
    root = _copy(tmp_path, case.tree)
    main, site = root / case.main, root / case.site
    main.write_text(main.read_text().replace(case.pattern, case.loose))
    before = site.read_text()
    beside = site.with_name(f".{site.name}.hostgw-orig")
    beside.write_text(before)  # as an earlier version left it, the site rewritten
    site.write_text(rewrite(before, MAPS, format=case.format, gateway="10.213.0.9").text)
    tool = [require_tool(case.check[0]), *case.check[1:], str(main)]
    loaded = _tool(tmp_path, tool)
    assert case.seen in loaded.stdout + loaded.stderr  # the real server loads the copy

    for gateway in (GATEWAY, "10.213.0.2"):  # then a re-run with a new gateway
        proc = _hostgw(tmp_path, "--follow-includes", "--validate", str(main), HOSTGW_IP=gateway)
        assert proc.returncode == 0, proc.stderr
        assert "beside" not in proc.stderr
        assert f"{gateway}:19000" in site.read_text()
        assert sorted(p.name for p in site.parent.iterdir()) == [site.name]
    assert "10.213.0.9" not in site.read_text() and "10.213.0.1" not in site.read_text()
    assert _kept(tmp_path, site).read_text() == before
    loaded = _tool(tmp_path, tool)
    assert loaded.returncode == 0, loaded.stderr
    out = loaded.stdout + loaded.stderr
    assert case.seen not in out and "hostgw-orig" not in out
    if case.format == "apache":  # exactly one vhost: the rewritten site's
        assert out.count("(/") == 1 and f"({site}:1)" in out, out
