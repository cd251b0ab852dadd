"""Realistic nginx templates render to configs that the real ``nginx -t`` accepts.

nginx runs with a temp prefix, its pid file, logs and temp paths inside the
test's directory: nothing global changes. The same templates through GNU
envsubst without a SHELL-FORMAT (what many entrypoints do) blank nginx's
own variables, and nginx rejects them: the check can fail.
"""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.helpers import hostgw_cmd, require_tool
from tests.nginx import main_conf, nginx_args, nginx_t

MODULES = Path("/usr/lib/nginx/modules")


TEMPLATES = {
    "default.conf.template": r"""
        map $http_upgrade $connection_upgrade {
            default upgrade;
            ''      close;
        }
        map $request_uri $legacy {
            ~^/old/(?<rest>.*)$  /new/$rest;
            default              "";
        }
        upstream app {
            server ${HOSTGW_HOST}:${APP_PORT:-3000} max_fails=3;
            server ${HOSTGW_HOST}:${APP_PORT2:-3001} backup;  # HOST: [v6] before :port
        }
        server {
            listen ${LISTEN_PORT:-8080};
            server_name ${SERVER_NAME:-_};
            location / {
                proxy_pass http://app;
                proxy_set_header Host $host;
                proxy_set_header X-Real-IP $remote_addr;
                proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                proxy_set_header X-Forwarded-Proto $scheme;
            }
            location /ws/ {
                proxy_http_version 1.1;
                proxy_set_header Upgrade $http_upgrade;
                proxy_set_header Connection $connection_upgrade;
                proxy_pass http://${HOSTGW_HOST}:${WS_PORT:-8081};
            }
            location ~ ^/user/(\d+)/(.*)$ {
                return 302 https://${host}/u/$1?tab=$2;
            }
            if ($legacy) { return 301 $legacy; }
            add_header X-Upstream "${HOSTGW_IP} via $hostname" always;
        }
    """,
    "lua.conf.template": r"""
        server {
            listen ${LUA_PORT:-8082};
            location /whoami {
                default_type text/plain;
                content_by_lua_block {
                    local host = ngx.var.host
                    local s = "${HOSTGW_HOST}:${APP_PORT:-3000}"
                    ngx.say("proxying ", host, " to ", s, " ($not_nginx_var stays)")
                }
            }
        }
    """,
}

STREAM = r"""
    upstream pg { server ${HOSTGW_HOST}:${PG_PORT:-5432}; }
    server {
        listen ${PG_LISTEN:-15432};
        proxy_pass pg;
        proxy_connect_timeout ${PG_TIMEOUT:-1s};
    }
"""


def _modules() -> str:
    wanted = ["ndk_http_module.so", "ngx_http_lua_module.so", "ngx_stream_module.so"]
    missing = [m for m in wanted if not (MODULES / m).exists()]
    if missing:
        pytest.skip(f"needs the nginx modules {missing} (libnginx-mod-http-lua, -stream)")
    return "\n".join(f"load_module {MODULES / m};" for m in wanted)


def _setup(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    prefix = tmp_path / "nginx"
    (prefix / "templates").mkdir(parents=True)
    (prefix / "conf.d").mkdir()
    for name, text in TEMPLATES.items():
        (prefix / "templates" / name).write_text(textwrap.dedent(text))
    (prefix / "templates/pg.conf.stream-template").write_text(textwrap.dedent(STREAM))
    (prefix / "nginx.conf").write_text(main_conf(prefix, head=_modules() + "\n"))
    env = {
        "PATH": os.environ["PATH"],
        "HOSTGW_STRATEGIES": "env",
        "NGINX_ENVSUBST_TEMPLATE_DIR": str(prefix / "templates"),
        "NGINX_ENVSUBST_OUTPUT_DIR": str(prefix / "conf.d"),
        "NGINX_ENVSUBST_STREAM_OUTPUT_DIR": str(prefix / "stream-conf.d"),
        "SERVER_NAME": "example.test",
    }
    return prefix, env


@pytest.mark.proxies
@pytest.mark.parametrize("address", ["10.213.0.1", "fd5e::1"], ids=["ipv4", "ipv6"])
def test_rendered_nginx_templates_pass_nginx_t(tmp_path: Path, address: str) -> None:
    prefix, env = _setup(tmp_path)
    done = subprocess.run(
        [*hostgw_cmd(), "render", "--nginx", "--nginx-conf", str(prefix / "nginx.conf")],
        env={**env, "HOSTGW_IP": address},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    host = f"[{address}]" if ":" in address else address
    conf = (prefix / "conf.d/default.conf").read_text()
    assert f"server {host}:3000 max_fails=3;" in conf
    assert f"server {host}:3001 backup;" in conf
    assert f'add_header X-Upstream "{address} via $hostname" always;' in conf
    assert "return 302 https://${host}/u/$1?tab=$2;" in conf
    assert "proxy_set_header Host $host;" in conf
    assert "~^/old/(?<rest>.*)$  /new/$rest;" in conf
    lua = (prefix / "conf.d/lua.conf").read_text()
    assert f'local s = "{host}:3000"' in lua and "($not_nginx_var stays)" in lua
    assert f"server {host}:5432;" in (prefix / "stream-conf.d/pg.conf").read_text()
    assert f"include {prefix}/stream-conf.d/*.conf;" in (prefix / "nginx.conf").read_text()
    checked = nginx_t(prefix)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.proxies
def test_the_one_line_entrypoint(tmp_path: Path) -> None:
    """``hostgw exec --nginx -- nginx ...`` renders, then becomes nginx (here: nginx -t)."""
    prefix, env = _setup(tmp_path)
    done = subprocess.run(
        [
            *hostgw_cmd(),
            "exec",
            "--nginx",
            "--nginx-conf",
            str(prefix / "nginx.conf"),
            "--",
            require_tool("nginx"),
            "-t",
            *nginx_args(prefix),
        ],
        env={**env, "HOSTGW_IP": "10.213.0.1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr
    assert (prefix / "conf.d/default.conf").exists()


@pytest.mark.proxies
def test_envsubst_without_a_format_breaks_the_same_config(tmp_path: Path) -> None:
    prefix, env = _setup(tmp_path)
    source = (prefix / "templates/default.conf.template").read_text()
    source = source.replace(":-3000", "").replace(":-3001", "").replace(":-8081", "")
    source = source.replace("${LISTEN_PORT:-8080}", "8080").replace("${SERVER_NAME:-_}", "_")
    done = subprocess.run(
        [require_tool("envsubst")],
        input=source,
        capture_output=True,
        text=True,
        check=True,
        env={
            **env,
            "HOSTGW_IP": "10.213.0.1",
            "HOSTGW_HOST": "10.213.0.1",
            "APP_PORT": "3000",
            "APP_PORT2": "3001",
            "WS_PORT": "8081",
        },
    )
    assert "proxy_set_header Host ;" in done.stdout
    (prefix / "conf.d/default.conf").write_text(done.stdout)
    assert nginx_t(prefix).returncode != 0
