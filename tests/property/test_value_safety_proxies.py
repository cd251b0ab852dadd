"""No accepted value changes a config's structure: hostile values judged by the proxies.

For each of nginx, HAProxy, Apache and Caddy, hypothesis makes batches of
hostile values (quotes, comments, braces, semicolons, backslashes, ``$``
expansions, CR, heredoc openers, the injections of issue 9). Each value goes
into a template at a reference in one of the format's lexical contexts
(bare word, double- or single-quoted string, comment, ...), between
directives that must survive. hostgw either refuses the value, or renders
it; every rendered value is then rendered again as its *twin* (each
character but blanks replaced by ``Q``, so it splits into the same words
and nothing else), and both configs are read by the proxy's own reader:

- nginx: crossplane (nginx's lexer, ported by nginx's authors), and
  ``nginx -t`` accepts the twin;
- Apache: ``apache2 -t -D DUMP_CONFIG`` (mod_info's dump of the parsed tree);
- Caddy: ``caddy adapt`` (the Caddyfile as the JSON Caddy runs);
- HAProxy: HAProxy 2.6 (Debian 12) has no structural dump (``-dC`` came in
  2.7), so its lines are read by a port of its ``parse_line()`` (quotes,
  backslash escapes, ``$NAME`` expansion from an empty environment, ``#``,
  CR), and ``haproxy -c`` accepts the twin.

The two readings must be equal, except for the words that hold the value
(a word of the twin's with a ``Q`` matches any word). A reader that refuses
the hostile config outright is no silent change, and is counted apart.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostgw.errors import TemplateError
from hostgw.templates.expand import expand_bytes
from tests.helpers import require_heredoc_caddy, require_tool

pytestmark = pytest.mark.proxies

# Pieces of hostile values: every character some format gives meaning to, and
# the injections that broke hostgw before (issue 9 item 3).
_PIECES = [
    ";",
    "{",
    "}",
    "#",
    '"',
    "'",
    "`",
    "\\",
    "$",
    "<",
    ">",
    "\n",
    "\r",
    "\t",
    " ",
    "\x00",
    "a",
    "b",
    "1",
    ".",
    ":",
    "/",
    "-",
    "*",
    "=",
    ",",
    "@",
    "|",
    "%",
    "é",
    " # prod",
    '" always',
    "x\\",
    "\\\\",
    "$HOME",
    "${HOME}",
    "{$HOME}",
    "{env.HOME}",
    "; deny all;",
    "} server { listen 81; location / { return 200 pwned; ",
    "8443 # https",
    "8443\r",
    "index.html \\",
    '"x',
    "<<EOF",
    "\\\n",
    "\n  ProxyRequests On\n#",
    'respond "pwned" 200',
    "$'x'",
    "`x`",
    "%{HOME}",
    "${APACHE_LOG_DIR}",
]
values = st.lists(st.sampled_from(_PIECES), min_size=1, max_size=6).map("".join)
BATCH = 25  # values per proxy run
EXAMPLES = 40  # batches per proxy: 1000 values each


def twin(value: str) -> str:
    """The same words with nothing in them: every character but blanks becomes ``Q``."""
    return re.sub(r"[^ \t]", "Q", value)


def same(hostile: Any, benign: Any) -> bool:
    """Readings equal, but for the words that hold a value (the twin's, with a ``Q``)."""
    if isinstance(benign, str):
        return "Q" in benign or hostile == benign
    if isinstance(benign, list):
        return (
            isinstance(hostile, list)
            and len(hostile) == len(benign)
            and all(same(h, b) for h, b in zip(hostile, benign, strict=True))
        )
    if isinstance(benign, dict):
        if not isinstance(hostile, dict):
            return False
        keys_b = {k for k in benign if "Q" not in k}
        keys_h = {k for k in hostile if "Q" not in k}
        if keys_b != keys_h or len(benign) != len(hostile):
            return False
        return all(same(hostile[k], benign[k]) for k in keys_b)
    return bool(hostile == benign)


# -- the proxies' readers ----------------------------------------------------------


def read_nginx(text: str, tmp: Path) -> Any:
    """crossplane's tree of the config (comments kept), or None if it refuses it."""
    crossplane = pytest.importorskip("crossplane")
    conf = tmp / "nginx.conf"
    conf.write_text(text, encoding="utf-8", errors="surrogateescape")
    payload = crossplane.parse(
        str(conf), comments=True, single=True, check_ctx=False, check_args=False
    )
    if payload["errors"]:
        return None
    strip = lambda d: {k: v for k, v in d.items() if k not in ("line", "file")}  # noqa: E731
    return json.loads(json.dumps(payload["config"][0]["parsed"]), object_hook=strip)


def check_nginx(text: str, tmp: Path) -> bool:
    conf = tmp / "nginx.conf"
    conf.write_text(text)
    done = subprocess.run(
        [
            require_tool("nginx"),
            "-t",
            "-q",
            "-p",
            str(tmp),
            "-c",
            str(conf),
            "-g",
            f"pid {tmp}/nginx.pid; error_log {tmp}/error.log;",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode == 0 or print(done.stderr) is not None


_APACHE_HEAD = """ServerRoot {tmp}
ServerName localhost
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule info_module /usr/lib/apache2/modules/mod_info.so
LoadModule headers_module /usr/lib/apache2/modules/mod_headers.so
LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so
LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so
PidFile {tmp}/httpd.pid
ErrorLog /dev/null
Listen 127.0.0.1:18081
"""


def read_apache(text: str, tmp: Path) -> Any:
    """mod_info's dump of the parsed config, as words per line; None if httpd refuses it."""
    conf = tmp / "httpd.conf"
    conf.write_text(_APACHE_HEAD.format(tmp=tmp) + text, encoding="utf-8", errors="surrogateescape")
    done = subprocess.run(
        [require_tool("apache2"), "-t", "-f", str(conf), "-D", "DUMP_CONFIG"],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        return None
    lines = done.stdout.decode("utf-8", "surrogateescape").splitlines()
    return [_apache_words(line) for line in lines if not line.lstrip().startswith("#")]


def _apache_words(line: str) -> list[str]:
    """httpd's ap_getword_conf: blanks split; a word that starts with a quote ends at it."""
    words, i, n = [], 0, len(line)
    while i < n:
        while i < n and line[i] in " \t":
            i += 1
        if i >= n:
            break
        if line[i] in "\"'":
            q, j = line[i], i + 1
            while j < n and line[j] != q:  # a backslash pairs with the quote or a backslash
                j += 2 if line[j] == "\\" and line[j + 1 : j + 2] in (q, "\\") else 1
            words.append(line[i : j + 1])
            i = j + 1
        else:
            j = i
            while j < n and line[j] not in " \t":
                j += 1
            words.append(line[i:j])
            i = j
    return words


def read_caddy(text: str, tmp: Path, caddy: str | None = None) -> Any:
    """``caddy adapt``'s JSON; None if Caddy refuses the Caddyfile."""
    conf = tmp / "Caddyfile"
    conf.write_text(text, encoding="utf-8", errors="surrogateescape")
    done = subprocess.run(
        [caddy or require_tool("caddy"), "adapt", "--config", str(conf), "--adapter", "caddyfile"],
        capture_output=True,
        check=False,
        env={"HOME": str(tmp), "PATH": "/usr/bin:/bin"},
    )
    return json.loads(done.stdout) if done.returncode == 0 else None


def read_haproxy(text: str, _tmp: Path) -> Any:
    """Words per line as HAProxy 2.6's parse_line() makes them (empty environment)."""
    lines = []
    for raw in text.split("\n"):
        words = _haproxy_words(raw)
        if words is None:
            return None
        if words:
            lines.append(words)
    return lines


def _haproxy_words(line: str) -> list[str] | None:
    words: list[str] = []
    word: list[str] | None = None
    quote = ""
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if not quote and c in "\r":
            break
        if not quote and c == "#":
            break
        if c == "\\" and quote != "'" and i + 1 < n:
            nxt = line[i + 1]
            word = word if word is not None else []
            word.append({"r": "\r", "n": "\n", "t": "\t"}.get(nxt, nxt))
            i += 2
            continue
        if c == "$" and quote != "'":
            m = re.match(
                r"\$\{([A-Za-z_][A-Za-z0-9_.]*)(?:\[[^]]*\])?\}|\$([A-Za-z_][A-Za-z0-9_]*)",
                line[i:],
            )
            if m:
                word = word if word is not None else []  # expands to "" (empty environment)
                i += m.end()
                continue
        if c in "\"'" and (not quote or quote == c):
            quote = "" if quote else c
            word = word if word is not None else []
            i += 1
            continue
        if not quote and c in " \t":
            if word is not None:
                words.append("".join(word))
                word = None
            i += 1
            continue
        word = word if word is not None else []
        word.append(c)
        i += 1
    if quote:
        return None  # unmatched quote: haproxy refuses the line
    if word is not None:
        words.append("".join(word))
    return words


def check_haproxy(text: str, tmp: Path) -> bool:
    conf = tmp / "haproxy.cfg"
    conf.write_text(text)
    done = subprocess.run(
        [require_tool("haproxy"), "-c", "-q", "-f", str(conf)],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    return done.returncode == 0 or print(done.stdout, done.stderr) is not None


def check_caddy(text: str, tmp: Path) -> bool:
    return read_caddy(text, tmp) is not None


def check_apache(text: str, tmp: Path) -> bool:
    return read_apache(text, tmp) is not None


# -- templates: each shape puts ${V} in one context, between text that must survive -----

NGINX = {
    "head": "events {}\nhttp {\n  server {\n    listen 127.0.0.1:18080;\n",
    "tail": "    location /admin { return 403; }\n  }\n}\n",
    "shapes": [
        "    location /s{i} {{ add_header X-A ${{V}} always; deny all; }}\n",
        '    location /s{i} {{ add_header X-B "${{V}}" always; deny all; }}\n',
        "    location /s{i} {{ add_header X-C '${{V}}' always; deny all; }}\n",
        "    location /s{i} {{\n      # note: ${{V}} here\n      deny all;\n    }}\n",
        '    location /s{i} {{ return 200 "${{V}}:${{V}}"; }}\n',
        "    location /s{i} {{ set $x a${{V}}b; deny all; }}\n",
        "    location /s{i} {{ add_header X-D x${{V}} always; deny all; }}\n",
        # after a reference that renders empty (E) or blank (F): the quote opens
        '    location /s{i} {{ index ${{E}}" " ${{V}}; deny all; }}\n',
        '    location /s{i} {{ index ${{F}}" " ${{V}}; deny all; }}\n',
        # in a default's word: judged where it lands in the form's output
        '    location /s{i} {{ add_header X-N "${{A:-x${{V}}}}" always; deny all; }}\n',
        "    location /s{i} {{ add_header X-O ${{A:-${{V}}y}} always; deny all; }}\n",
    ],
}
HAPROXY = {
    "head": "defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n"
    "  timeout connect 1s\n",
    "tail": "frontend f\n  bind 127.0.0.1:18083\n  default_backend tail\n"
    "backend tail\n  http-request deny\n",
    "shapes": [
        "backend b{i}\n  http-request set-header X-A ${{V}}\n  http-request deny\n",
        'backend b{i}\n  http-request set-header X-B "${{V}}"\n  http-request deny\n',
        "backend b{i}\n  http-request set-header X-C '${{V}}'\n  http-request deny\n",
        "backend b{i}\n  # note: ${{V}}\n  http-request deny\n",
        "backend b{i}\n  server s{i} ${{V}}:8443 init-addr none ssl verify required "
        "ca-file /etc/ssl/certs/ca-certificates.crt\n  http-request deny\n",
        'backend b{i}\n  http-request set-header X-N "${{A:-x${{V}}}}"\n  http-request deny\n',
    ],
}
APACHE = {
    "head": "",
    "tail": "<Location /admin>\n  Require all denied\n</Location>\n",
    "shapes": [
        "<Location /s{i}>\n  DirectoryIndex x ${{V}}\n  Require all denied\n</Location>\n",
        '<Location /s{i}>\n  Header set X-B "${{V}}"\n  Require all denied\n</Location>\n',
        "<Location /s{i}>\n  Header set X-C '${{V}}'\n  Require all denied\n</Location>\n",
        "<Location /s{i}>\n  # note: ${{V}}\n  Require all denied\n</Location>\n",
        "<Location /s{i}>\n  DirectoryIndex ${{V}}\n  Require all denied\n</Location>\n",
        '<Directory "/srv/${{V}}">\n  Require all denied\n</Directory>\n',
        '<Location /s{i}>\n  Header set X-N "${{A:-x${{V}}}}"\n  Require all denied\n</Location>\n',
    ],
}
CADDY = {
    "head": "{\n\tadmin off\n\tauto_https off\n}\n:18082 {\n",
    "tail": '\trespond /admin "no" 403\n}\n',
    "shapes": [
        "\thandle /s{i} {{\n\t\tfile_server {{\n\t\t\tindex x ${{V}}\n\t\t}}\n\t}}\n",
        '\thandle /s{i} {{\n\t\theader X-B "${{V}}"\n\t\trespond 403\n\t}}\n',
        "\thandle /s{i} {{\n\t\theader X-C `${{V}}`\n\t\trespond 403\n\t}}\n",
        "\thandle /s{i} {{\n\t\t# note: ${{V}}\n\t\trespond 403\n\t}}\n",
        '\thandle /s{i} {{\n\t\trespond "${{V}}" 403\n\t}}\n',
        # (reverse_proxy reads a matcher first, then any number of upstreams: a value
        # with blanks is more of them, not more arguments than the directive takes)
        "\thandle /s{i} {{\n\t\treverse_proxy ${{E}} ${{V}} tail:81\n\t\trespond 403\n\t}}\n",
        "\thandle /s{i} {{\n\t\treverse_proxy${{F}}${{V}} tail:81\n\t\trespond 403\n\t}}\n",
        '\thandle /s{i} {{\n\t\trespond "${{A:-${{V}}}}" 403\n\t}}\n',
        "\thandle /s{i} {{\n\t\tfile_server {{\n\t\t\tindex x ${{A:-${{V}}}}\n\t\t}}\n\t}}\n",
    ],
}

PROXIES: dict[str, tuple[dict[str, Any], Callable[[str, Path], Any], Callable[[str, Path], bool]]]
PROXIES = {
    "nginx": (NGINX, read_nginx, check_nginx),
    "haproxy": (HAPROXY, read_haproxy, check_haproxy),
    "apache": (APACHE, read_apache, check_apache),
    "caddy": (CADDY, read_caddy, check_caddy),
}
COUNTS: dict[str, Counter[str]] = {fmt: Counter() for fmt in PROXIES}
# The references beside the values that render empty (E) and blank (F).
AROUND = {"E": "", "F": " "}


def _config(spec: dict[str, Any], placed: list[tuple[int, int]]) -> str:
    """The template: head, one shape per value (``V`` renamed ``V<i>``), tail."""
    body = "".join(
        spec["shapes"][shape].format(i=i).replace("${V}", f"${{V{i}}}") for i, shape in placed
    )
    head: str = spec["head"]
    tail: str = spec["tail"]
    return head + body + tail


@pytest.mark.parametrize("fmt", sorted(PROXIES))
def test_benign_renderings_are_valid_configs(fmt: str, tmp_path: Path) -> None:
    """Every shape, with a plain value, is a config the proxy accepts (else the
    property below would compare nothing)."""
    spec, _read, check = PROXIES[fmt]
    placed = list(enumerate(range(len(spec["shapes"]))))
    env = {**AROUND, **{f"V{i}": "plain" for i, _ in placed}}
    text = b"".join(expand_bytes(_config(spec, placed).encode(), env, format=fmt)).decode()
    assert check(text, tmp_path), text


@pytest.mark.parametrize("fmt", sorted(PROXIES))
def test_no_accepted_value_changes_the_structure(fmt: str) -> None:
    spec, read, _check = PROXIES[fmt]
    counts = COUNTS[fmt]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        st.lists(
            st.tuples(values, st.integers(0, len(spec["shapes"]) - 1)),
            min_size=BATCH,
            max_size=BATCH,
        )
    )
    def batch(items: list[tuple[str, int]]) -> None:
        accepted: list[tuple[int, int]] = []
        env: dict[str, str] = {}
        for i, (value, shape) in enumerate(items):
            counts["tried"] += 1
            one = _config(spec, [(i, shape)]).encode("utf-8", "surrogateescape")
            try:
                expand_bytes(one, {**AROUND, f"V{i}": value}, format=fmt)
            except TemplateError:
                counts["refused"] += 1
                continue
            accepted.append((i, shape))
            env[f"V{i}"] = value
        counts["accepted"] += len(accepted)
        template = _config(spec, accepted).encode()
        hostile = b"".join(expand_bytes(template, {**AROUND, **env}, format=fmt))
        twins = {k: twin(v) for k, v in env.items()}
        benign = b"".join(expand_bytes(template, {**AROUND, **twins}, format=fmt))
        with tempfile.TemporaryDirectory() as tmp:
            seen_benign = read(benign.decode("utf-8", "surrogateescape"), Path(tmp))
            seen_hostile = read(hostile.decode("utf-8", "surrogateescape"), Path(tmp))
        assert seen_benign is not None, benign.decode()
        if seen_hostile is None:
            counts["refused by the proxy"] += len(accepted)
            return
        assert same(seen_hostile, seen_benign), (
            f"{fmt}: a value changed the structure\n{hostile.decode(errors='replace')}\n"
            f"values: {env}"
        )

    batch()
    print(f"{fmt}: {dict(counts)}")
    assert counts["tried"] >= BATCH * EXAMPLES
    assert counts["accepted"] >= counts["tried"] // 20, counts  # the property compared things
    assert counts["refused"] >= counts["tried"] // 20, counts  # and hostile values were met


# -- the attacks of issue 9, one by one ---------------------------------------------

ATTACKS = [
    ("nginx", "server_name ${SERVER_NAME};\ndeny all;\n", "example.com # prod"),
    ("nginx", 'add_header X "${A}${B}";\n', "x\\"),
    ("haproxy", "server s1 127.0.0.1:${BACKEND_PORT} ssl verify required\n", "8443 # https"),
    ("haproxy", "server s1 127.0.0.1:${BACKEND_PORT} ssl verify required\n", "8443\r"),
    ("haproxy", 'http-request set-header X "${A}"\n', "$HOME"),
    ("apache", "DirectoryIndex ${INDEX}\nRequire all denied\n", "index.html \\"),
    ("caddy", 'respond /x "${ENV_NAME}" 200\n', '"x'),
]


@pytest.mark.parametrize(("fmt", "template", "value"), ATTACKS)
def test_the_reported_injections_are_refused(fmt: str, template: str, value: str) -> None:
    names = re.findall(r"\$\{(\w+)\}", template)
    with pytest.raises(TemplateError) as caught:
        expand_bytes(template.encode(), dict.fromkeys(names, value), format=fmt)
    row = caught.value.problems[0]
    assert row[3] in names and row[1] == 1 and row[2] > 1
    assert "value contains" in row[4]
    assert caught.value.hint and "--raw" in caught.value.hint


def test_a_caddy_placeholder_opened_in_a_comment_is_refused(tmp_path: Path) -> None:
    """Caddy expands ``{$NAME}`` before it reads the file, comments included, up to the
    next ``}``: a value that opens one in a comment swallows what follows. Found by the
    property above; judged here by Caddy's own reader."""
    spec = CADDY
    template = _config(spec, [(0, 3), (1, 0)]).encode()
    hostile, benign = {"V0": "{$'x'", "V1": "y"}, {"V0": "a", "V1": "y"}
    with pytest.raises(TemplateError, match=r"\{\$NAME\} placeholder"):
        expand_bytes(template, hostile, format="caddy")
    forced = b"".join(expand_bytes(template, hostile, format="caddy", raw=["V0"]))
    plain = b"".join(expand_bytes(template, benign, format="caddy"))
    seen = read_caddy(forced.decode(), tmp_path)
    assert seen is None or not same(seen, read_caddy(plain.decode(), tmp_path))
    # Braces that open no placeholder stay allowed elsewhere: a '}' alone, in a comment.
    assert expand_bytes(template, {"V0": "a } b", "V1": "y"}, format="caddy")


# -- templates the lexers misread, judged by the proxies ------------------------------

_CADDY_SITE = '{\n\tadmin off\n\tauto_https off\n}\n:18082 {\n%s\trespond /admin "no" 403\n}\n'
_APACHE_LOC = "<Location /s>\n%s  Require all denied\n</Location>\n"
_HAPROXY_BACKEND = f"{HAPROXY['head']}backend b\n%s  http-request deny\n{HAPROXY['tail']}"
_NGINX_SERVER = f"{NGINX['head']}%s{NGINX['tail']}"
_APACHE_SPLIT = 'Define SPLIT "a b"\n'  # a define whose text Apache splits where it lands
_MATCHER = {"V": "/public"}
_RETURN = {"V": "always; return 200"}
_SPLIT = {"V": '"a b c"'}  # a quote that joins words: the bare word's rule refuses it
MISREAD: list[tuple[str, str, str, dict[str, str], list[str] | None]] = [
    # (id, format, template, values, --vars) -- each once accepted, and structure-changing
    ("caddy-backslash-in-trailing-comment", "caddy",
     _CADDY_SITE % "\theader X-Frame-Options DENY # set by ${V}\n", {"V": "C:\\deploy"}, None),
    ("caddy-matcher-in-a-default", "caddy",
     _CADDY_SITE % "\thandle /s {\n\t\trespond ${A:-$V} 403\n\t}\n", _MATCHER, None),
    ("caddy-matcher-after-an-empty-value", "caddy",
     _CADDY_SITE % "\thandle /s {\n\t\trespond ${A}${V} 403\n\t}\n", {"A": "", **_MATCHER}, None),
    ("caddy-matcher-after-a-continued-line", "caddy",
     _CADDY_SITE % "\thandle /s {\n\t\trespond \\\n${V} 403\n\t}\n", _MATCHER, None),
    ("caddy-matcher-after-a-unicode-blank", "caddy",
     _CADDY_SITE % "\thandle /s {\n\t\trespond\u00a0${V} 403\n\t}\n", _MATCHER, None),
    ("caddy-quote-right-after-a-quote", "caddy",
     _CADDY_SITE % '\theader X-B "a""b "${V}"\n', {"V": "x # y"}, None),
    ("caddy-lone-cr-is-dropped", "caddy",
     _CADDY_SITE % "\theader X-C a\r# note: ${V}\n", {"V": '"q" `x` #'}, None),
    ("apache-continued-single-quotes", "apache",
     _APACHE_LOC % "  DirectoryIndex 'a\\\n'${V}'\n", _SPLIT, None),
    ("apache-continued-crlf-double-quotes", "apache",
     _APACHE_LOC % '  DirectoryIndex "a\\\r\n"${V}"\n', _SPLIT, None),
    ("apache-comment-joined-by-crlf", "apache",
     _APACHE_LOC % "  DirectoryIndex index.html \\\r\n# ${V}\n", _SPLIT, None),
    ("apache-comment-joined-after-backslash", "apache",
     _APACHE_LOC % "  DirectoryIndex index.html\\\\\n# ${V}\n", _SPLIT, None),
    ("apache-backslash-pair-in-quotes", "apache",
     _APACHE_LOC % '  DirectoryIndex "a\\\\" ${V} "\n', {"V": "'a b'"}, None),
    ("apache-backslash-escapes-only-the-quote", "apache",
     _APACHE_LOC % '  DirectoryIndex "a\\\\" ${W} " ${V}\n', {"W": "w", **_SPLIT}, None),
    ("haproxy-own-default-holds-a-quote", "haproxy",
     _HAPROXY_BACKEND % '  http-request set-header X-A "${Q-"} # ${V}"\n',
     {"V": '" if { injected_fetch } #'}, ["V"]),
    # A reference that renders empty (or blank) is not there for the proxy's reader:
    ("nginx-quote-after-an-empty-value", "nginx",
     _NGINX_SERVER % '    location /s { add_header X-E ${E}" " ${V}; deny all; }\n',
     {"E": "", **_RETURN}, None),
    ("nginx-quote-after-a-blank-value", "nginx",
     _NGINX_SERVER % '    location /s { add_header X-E ${E}" " ${V}; deny all; }\n',
     {"E": " ", **_RETURN}, None),
    ("caddy-matcher-after-an-empty-argument", "caddy",
     _CADDY_SITE % "\thandle /s {\n\t\trespond ${E} ${V} 403\n\t}\n", {"E": "", **_MATCHER}, None),
    ("caddy-matcher-after-a-blank-value", "caddy",
     _CADDY_SITE % "\thandle /s {\n\t\trespond${E}${V} 403\n\t}\n", {"E": " ", **_MATCHER}, None),
    ("caddy-single-quote-is-a-character", "caddy",
     _CADDY_SITE % "\theader X-A 'quoted\n\thandle /s {\n\t\trespond ${V} 403\n\t}\n",
     _MATCHER, None),
    ("caddy-escaped-quote-opens-a-quote", "caddy",
     _CADDY_SITE % '\theader X-Q \\" "${V}"\n', {"V": "# comment"}, None),
    ("caddy-backslash-in-a-comment-continues-the-line", "caddy",
     _CADDY_SITE % "\thandle /s {\n\t\trespond # a\\b\n${V} 403\n\t}\n", _MATCHER, None),
    # A '$' at a value's end makes "${" with the template's '{' after it:
    ("nginx-dollar-before-a-brace", "nginx",
     _NGINX_SERVER % "    location /s { add_header X-J ${V}{x} always; deny all; }\n",
     {"V": "a$"}, None),
    ("apache-dollar-before-a-brace", "apache",
     _APACHE_SPLIT + _APACHE_LOC % "  DirectoryIndex ${V}{SPLIT}\n", {"V": "x$"}, None),
    # ... in a default's word too, which is judged at its own place in the output:
    ("nginx-dollar-before-a-brace-in-a-default", "nginx",
     _NGINX_SERVER % "    location /s { add_header X-J ${A:-${V}}{x} always; deny all; }\n",
     {"V": "a$"}, None),
    ("apache-dollar-before-a-brace-in-a-default", "apache",
     _APACHE_SPLIT + _APACHE_LOC % "  DirectoryIndex ${A:-x${V}}{SPLIT}\n", {"V": "x$"}, None),
    ("apache-brace-after-a-dollar-in-a-default", "apache",
     _APACHE_SPLIT + _APACHE_LOC % "  DirectoryIndex ${A:-x$}${V}\n", {"V": "{SPLIT}"}, None),
    ("any-default-renders-a-quote", "haproxy",
     _HAPROXY_BACKEND % '  http-request set-header X-A "${A:-\\"}${V}""\n',
     {"V": "x if { injected_fetch } #"}, None),
    # What a value's first word becomes where it lands:
    ("caddy-matcher-after-a-blank-in-the-value", "caddy",
     _CADDY_SITE % "\thandle /s {\n\t\trespond ${V} 403\n\t}\n", {"V": " /public"}, None),
    ("caddy-matcher-after-a-unicode-blank-in-the-value", "caddy",
     _CADDY_SITE % "\thandle /s {\n\t\trespond ${V} 403\n\t}\n", {"V": "\u00a0/public"},
     None),
    ("caddy-matcher-after-the-name-in-the-value", "caddy",
     _CADDY_SITE % "\thandle /s {\n\t\trespond${V} 403\n\t}\n", {"V": " /public"}, None),
    ("caddy-site-made-a-snippet", "caddy",
     "{\n\tadmin off\n\tauto_https off\n}\n${V} {\n\trespond hi\n}\n"
     ":18082 {\n\trespond x\n}\n", {"V": "(evil)"}, None),
    ("caddy-placeholder-made-with-the-brace-before", "caddy",
     _CADDY_SITE % "\thandle /s {\n\t\trespond {${V}} 403\n\t}\n", {"V": "$NOPE"}, None),
    ("apache-define-text-put-where-it-is-named", "apache",
     "Define G '${V}'\n" + _APACHE_LOC % '  DirectoryIndex "${G}"\n', {"V": 'a" "b'}, ["V"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("fmt", "template", "env", "names"), [m[1:] for m in MISREAD], ids=[m[0] for m in MISREAD]
)
def test_misread_templates_refuse_the_value(
    tmp_path: Path, fmt: str, template: str, env: dict[str, str], names: list[str] | None
) -> None:
    from hostgw.templates.syntax import Selection

    data, selection = template.encode(), Selection.of(names, None)
    with pytest.raises(TemplateError, match="value contains"):
        expand_bytes(data, env, format=fmt, selection=selection)
    # The attack is real: forced through, the proxy reads another structure.
    forced = b"".join(expand_bytes(data, env, format=fmt, selection=selection, raw=True))
    if fmt == "haproxy":
        conf = tmp_path / "haproxy.cfg"
        conf.write_bytes(forced)
        done = subprocess.run(
            [require_tool("haproxy"), "-c", "-f", str(conf)],
            capture_output=True, text=True, check=False, env={"PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        assert "injected_fetch" in done.stdout + done.stderr
        return
    twins = {k: twin(v) for k, v in env.items()}
    benign = b"".join(expand_bytes(data, twins, format=fmt, selection=selection, raw=True))
    read = {"caddy": read_caddy, "apache": read_apache, "nginx": read_nginx}[fmt]
    seen_hostile, seen_benign = read(forced.decode(), tmp_path), read(benign.decode(), tmp_path)
    assert seen_benign is not None and seen_hostile is not None
    assert not same(seen_hostile, seen_benign), "the value changed nothing: no attack"


@pytest.mark.parametrize("first", [".if 0", "\f.if 0", "\v.if 0"], ids=["plain", "ff", "vt"])
def test_a_value_cannot_begin_a_haproxy_conditional_line(tmp_path: Path, first: str) -> None:
    """A value that begins a line's first word with '.' makes HAProxy read the line as
    ``.if``/``.endif``: the lines between are dropped. Judged by ``haproxy -c``: the
    probe line between is read with the benign values, not with the hostile ones."""
    head = f"{HAPROXY['head']}backend b\n"
    template = (head + "  ${A}\n  injected_probe\n.endif\n").encode()
    hostile, benign = {"A": first}, {"A": "balance first"}
    with pytest.raises(TemplateError, match=r"value contains '\.'"):
        expand_bytes(template, hostile, format="haproxy")
    seen = {}
    for name, env in (("hostile", hostile), ("benign", benign)):
        conf = tmp_path / f"{name}.cfg"
        conf.write_bytes(b"".join(expand_bytes(template, env, format="haproxy", raw=True)))
        done = subprocess.run(
            [require_tool("haproxy"), "-c", "-f", str(conf)],
            capture_output=True, text=True, check=False, env={"PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        seen[name] = "injected_probe" in done.stdout + done.stderr
    assert seen == {"benign": True, "hostile": False}


@pytest.mark.parametrize("hash_", ["#", "\f#", "\v #"], ids=["plain", "ff", "vt"])
def test_a_value_cannot_begin_an_apache_comment(tmp_path: Path, hash_: str) -> None:
    """A value that begins a line with '#' makes the line a comment in Apache (within a
    line '#' is a character). Judged by Apache's own dump of the parsed config."""
    template = (_APACHE_LOC % "  ${V} index.html\n").encode()
    with pytest.raises(TemplateError, match="value contains '#'"):
        expand_bytes(template, {"V": hash_}, format="apache")
    forced = b"".join(expand_bytes(template, {"V": hash_}, format="apache", raw=True))
    benign = b"".join(expand_bytes(template, {"V": "DirectoryIndex"}, format="apache"))
    seen_hostile = read_apache(forced.decode(), tmp_path)
    seen_benign = read_apache(benign.decode(), tmp_path)
    assert seen_benign is not None and seen_hostile is not None
    assert ["DirectoryIndex", "index.html"] in seen_benign
    assert ["DirectoryIndex", "index.html"] not in seen_hostile


_LUA_SERVER = """\
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
events {}
http {
  server {
    listen 127.0.0.1:18080;
    location / {
      content_by_lua_block {
        %s
        ngx.say(msg)
      }
    }
    location /admin { injected_probe; }
    location /x {
      content_by_lua_block {
        ngx.say(ngx.var[KEYS[1]])
      }
    }
  }
}
"""


def _probe_read(template: bytes, env: dict[str, str], where: Path) -> bool:
    """Whether ``nginx -t`` (ngx_lua loaded) reads the probe directive after the Lua
    block in ``template`` rendered with ``env`` (forced: ``raw``)."""
    text = b"".join(expand_bytes(template, env, format="nginx", raw=True)).decode()
    where.mkdir()
    conf = where / "nginx.conf"
    conf.write_text(text)
    done = subprocess.run(
        [require_tool("nginx"), "-t", "-p", str(where), "-c", str(conf),
         "-g", f"pid {where}/nginx.pid; error_log {where}/error.log;"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return 'unknown directive "injected_probe"' in done.stderr


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("local msg = ${V}", "ngx.say([["),  # a long string, closed by the later ']]'
        ("local msg = ${V}", "ngx.say(--[=[x]=] [["),
        ('local msg = "${V}"', 'a" .. ngx.say([['),
        ("local msg = 1 -- ${V}", "x\n[["),
        ("local msg = 1 --${V}", "[[ x"),  # the value after '--' makes a long comment
        # ngx_lua reads no string that does not close on its line: the value is code
        ('local msg = "${V} \\\n b"', "} injected_by_value; content_by_lua_block {"),
    ],
    ids=[
        "code",
        "code-after-a-long-comment",
        "double-quotes",
        "comment",
        "comment-made-long",
        "quote-left-open",
    ],
)
def test_a_value_cannot_move_the_end_of_an_nginx_lua_block(
    tmp_path: Path, line: str, value: str
) -> None:
    """ngx_lua finds where a ``*_by_lua_block`` ends by reading Lua: a value that opens
    a long string there swallows the locations after it. Judged by ``nginx -t`` with
    ngx_lua loaded: its error names the probe directive only where nginx read it."""
    template = (_LUA_SERVER % line).encode()
    with pytest.raises(TemplateError, match="value contains"):
        expand_bytes(template, {"V": value}, format="nginx")
    assert _probe_read(template, {"V": value}, tmp_path / "hostile") is False
    assert _probe_read(template, {"V": "x"}, tmp_path / "benign") is True


def test_a_value_cannot_complete_a_lua_long_bracket(tmp_path: Path) -> None:
    """'=' alone between the template's brackets closes a long string (``]=]``), and
    a later value holding '}' then ends the Lua block. Judged by ``nginx -t``."""
    line = "local msg = [=[ ]${A}] ${V} ]=]"
    template = (_LUA_SERVER % line).encode()
    hostile = {"A": "=", "V": "} injected_by_value; content_by_lua_block { local t = [=["}
    with pytest.raises(TemplateError, match="value contains '='"):
        expand_bytes(template, hostile, format="nginx")
    benign = {k: twin(v) for k, v in hostile.items()}
    assert _probe_read(template, hostile, tmp_path / "hostile") is False
    assert _probe_read(template, benign, tmp_path / "benign") is True


def test_values_in_an_nginx_lua_block_that_keep_its_end_are_accepted() -> None:
    for line, value in [
        ('local msg = "${V}"', "http://10.0.0.1:8080/a-b?x=[1]&y={2}"),
        ("local msg = ${V}", "8080"),
        ("local msg = [[${V}]]", 'a "b" {c} -- [x'),
        ("local msg = 1 -- ${V}", "a } { ] --"),
    ]:
        template = (_LUA_SERVER % line).encode()
        assert expand_bytes(template, {"V": value}, format="nginx"), (line, value)


HEREDOC_MISREAD = [
    # A heredoc ends where its text first ends in the marker ("EOF 200" too): the
    # reference after it is a first argument again.
    ("matcher-after-a-heredoc-closed-mid-line",
     "\thandle /s {\n\t\trespond <<EOF\n\t\tbody\n\t\tEOF 200\n\t\trespond ${V} 403\n\t}\n",
     _MATCHER),
    # A value that holds the marker ends the heredoc: the rest is read as directives.
    ("value-ends-the-heredoc",
     "\thandle /s {\n\t\trespond <<abort\n\t\t${V}\n\t\tabort\n\t}\n", {"V": "xabort"}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("template", "env"), [m[1:] for m in HEREDOC_MISREAD], ids=[m[0] for m in HEREDOC_MISREAD]
)
def test_values_cannot_change_a_caddy_heredoc(
    tmp_path: Path, template: str, env: dict[str, str]
) -> None:
    # Judged by a Caddy that reads heredocs (2.7+; Debian 12's 2.6 has none).
    caddy = require_heredoc_caddy()
    data = (_CADDY_SITE % template).encode()
    with pytest.raises(TemplateError, match="value contains"):
        expand_bytes(data, env, format="caddy")
    forced = b"".join(expand_bytes(data, env, format="caddy", raw=True)).decode()
    twins = {k: twin(v) for k, v in env.items()}
    benign = b"".join(expand_bytes(data, twins, format="caddy")).decode()
    seen_hostile, seen_benign = (
        read_caddy(forced, tmp_path, caddy),
        read_caddy(benign, tmp_path, caddy),
    )
    assert seen_benign is not None and seen_hostile is not None
    assert not same(seen_hostile, seen_benign), "the value changed nothing: no attack"


@pytest.mark.parametrize(
    "before",
    [
        b'.if streq("${V}",prod)',
        b'.if streq("${A:-$V}",prod)',  # a value in a default: judged as the form lands
        b'  description x \\\n.if streq("${V}",prod)',  # no line goes on after a backslash
    ],
    ids=["plain", "in-a-default", "after-a-backslash-line"],
)
def test_a_value_in_a_haproxy_condition_cannot_change_it(tmp_path: Path, before: bytes) -> None:
    # Quotes do not protect a .if expression: a value can close the call and add
    # another. Forced through, haproxy takes the block the template never meant.
    template = b"global\n" + before + b'\n  .notice "taken"\n.endif\n'
    hostile = {"V": "prod,prod) || streq(x"}
    with pytest.raises(TemplateError, match=r"which changes the condition in a \.if condition"):
        expand_bytes(template, hostile, format="haproxy")
    assert expand_bytes(template, {"V": "prod"}, format="haproxy"), "a plain value renders"

    def taken(values: dict[str, str]) -> bool:
        conf = tmp_path / "haproxy.cfg"
        conf.write_bytes(b"".join(expand_bytes(template, values, format="haproxy", raw=True)))
        done = subprocess.run(
            [require_tool("haproxy"), "-c", "-f", str(conf)],
            capture_output=True, text=True, check=False, env={"PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        return "taken" in done.stdout + done.stderr

    assert taken(hostile) and not taken({"V": "staging"})
