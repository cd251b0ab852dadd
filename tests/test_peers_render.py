"""The render corpus (``../shared/peers/render/``): other tools' own test cases.

Every case is judged by its peer's answer (bash, GNU envsubst, the nginx
image, a8m/envsubst, drone/envsubst), or, where hostgw differs on purpose,
by hostgw's own expected answer *and* the sentence of the docs that says so
(the case's ``doc`` quotes it; the quote must still be in README.md, docs/
or the templates' docstrings). bash and GNU envsubst cases, and the nginx
image's (awk's ``ENVIRON`` filter, then envsubst), are re-checked against
the real tools where the case allows. ``HOSTGW_PEERS`` overrides where the
peers directory is; the corpus is read in place, never copied.

hostgw runs in-process (``hostgw.cli.main``, with the case's exact
environment and stdin): 500 subprocesses would cost a minute.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import warnings
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from hostgw.cli import main
from tests.helpers import peers_dir, require_tool

REPO = Path(__file__).resolve().parent.parent
SOURCES = ("bash-tests", "gnu-envsubst", "a8m-envsubst", "drone-envsubst", "nginx-image")


def render_dir() -> Path:
    """The render corpus (see :func:`tests.helpers.peers_dir`)."""
    return peers_dir() / "render"


@cache
def corpus() -> dict[str, list[dict[str, Any]]]:
    """Source name -> its cases (empty if the corpus is not there)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for source in SOURCES:
        path = render_dir() / f"{source}.json"
        if path.is_file():
            found[source] = json.loads(path.read_text(encoding="utf-8"))["cases"]
    return found


def _params() -> list[Any]:
    cases = [pytest.param(c, id=c["id"]) for cases in corpus().values() for c in cases]
    return cases or [pytest.param(None, id="no-corpus")]


# -- a case's inputs --------------------------------------------------------------


def template_of(case: Mapping[str, Any]) -> bytes:
    """The template's bytes: ``template``, ``template_b64`` or ``template_gen``."""
    if "template_b64" in case:
        return base64.b64decode(case["template_b64"])
    if "template_gen" in case:
        return "".join(piece * count for piece, count in case["template_gen"]).encode()
    return str(case.get("template", "")).encode()


def env_of(case: Mapping[str, Any], root: Path | None = None) -> dict[str, str]:
    """The exact environment (``env_b64`` values are bytes, kept as os.environ keeps them)."""
    env = {k: _rooted(v, root) for k, v in case.get("env", {}).items()}
    for name, b64 in case.get("env_b64", {}).items():
        env[name] = os.fsdecode(base64.b64decode(b64))
    return env


def _rooted(text: str, root: Path | None) -> str:
    return text if root is None else text.replace("{root}", str(root))


class Result(NamedTuple):
    """What one run did."""

    rc: int
    stdout: bytes
    stderr: str
    warnings: list[str]


@contextlib.contextmanager
def _exactly(env: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def hostgw(args: list[str], env: Mapping[str, str], stdin: bytes = b"") -> Result:
    """Run ``hostgw render ARGS`` in-process with exactly ``env``; catch what it prints."""
    out, err = io.BytesIO(), io.BytesIO()
    streams = (sys.stdin, sys.stdout, sys.stderr)
    ours = (
        io.TextIOWrapper(io.BytesIO(stdin)),
        io.TextIOWrapper(out, write_through=True),
        io.TextIOWrapper(err, write_through=True),
    )
    sys.stdin, sys.stdout, sys.stderr = ours
    rc = 0
    try:
        with _exactly(env), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                main(["render", *args])
            except SystemExit as exc:
                rc = exc.code if isinstance(exc.code, int) else 1
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        sys.stdin, sys.stdout, sys.stderr = streams
    return Result(rc, out.getvalue(), err.getvalue().decode(), [str(w.message) for w in caught])


# -- judging ------------------------------------------------------------------------


def stdout_matches(expect: Mapping[str, Any], got: bytes) -> bool:
    """``stdout`` (text), ``stdout_b64`` or ``stdout_sha256`` with ``length``."""
    if "stdout" in expect:
        return got == str(expect["stdout"]).encode("utf-8", "surrogateescape")
    if "stdout_b64" in expect:
        return got == base64.b64decode(expect["stdout_b64"])
    length, digest = int(expect["length"]), str(expect["stdout_sha256"])
    return len(got) == length and hashlib.sha256(got).hexdigest() == digest


def judge_stream(expect: Mapping[str, Any], got: Result, stderr_words: list[str]) -> str | None:
    """None if ``got`` is ``expect``; else what differs."""
    if "error" in expect:
        if got.rc == 0:
            return f"exit 0, expected an error; stdout {got.stdout[:200]!r}"
        missing = [
            w for w in [*expect["error"], *stderr_words] if w.lower() not in got.stderr.lower()
        ]
        return f"stderr lacks {missing}: {got.stderr[:400]!r}" if missing else None
    if got.rc != 0:
        return f"exit {got.rc}: {got.stderr[:400]!r}"
    return None if stdout_matches(expect, got.stdout) else f"stdout {got.stdout[:300]!r}"


def judge_tree(  # noqa: PLR0911 - one exit per kind of difference
    expect: Mapping[str, Any], got: Result, root: Path
) -> str | None:
    """None if the run's exit code, files and log are ``expect``'s; else what differs."""
    if got.rc != expect.get("rc", 0):
        return f"exit {got.rc}, not {expect.get('rc', 0)}: {got.stderr[:400]!r}"
    for rel, want in expect.get("files", {}).items():
        path = root / rel
        if not path.is_file():
            return f"{rel} missing"
        text = path.read_bytes().decode("utf-8", "surrogateescape")
        if isinstance(want, str):
            if text != want:
                return f"{rel}: {text!r}"
        elif not text.startswith(_rooted(want.get("startswith", ""), root)) or any(
            _rooted(piece, root) not in text for piece in want.get("contains", [])
        ):
            return f"{rel}: {text!r}"
    for rel in expect.get("absent", []):
        if (root / rel).exists():
            return f"{rel} exists"
    missing = [w for w in expect.get("stderr", []) if w not in got.stderr]
    if missing:
        return f"stderr lacks {missing}: {got.stderr[:400]!r}"
    if expect.get("quiet") and (got.stderr or got.stdout):
        return f"not quiet: {got.stderr[:200]!r}"
    return None


def _normal(text: str) -> str:
    """Whitespace, case, Markdown's and reST's inline marks (`` ` ``, ``*``) do not count."""
    return " ".join(text.replace("`", "").replace("*", "").lower().split())


@cache
def documentation() -> str:
    """README, docs/ and the templates' docstrings, whitespace normalised."""
    texts = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    texts += sorted((REPO / "hostgw" / "templates").glob("*.py"))
    return _normal("\n".join(p.read_text(encoding="utf-8") for p in texts))


# Cases whose ``doc`` paraphrases, or names no documentation: the sentence that now says it.
DOCUMENTED = {
    "nginx-529-workaround": "an operator form (${NAME:-x}, ...) always counts",
}


def undocumented(doc: str | None, case_id: str = "") -> list[str]:
    """The quoted pieces of a case's ``doc`` that the documentation no longer holds.

    A quote may elide with ``...``; each piece between elisions (and on either side
    of a ``: ``, where a heading may have become a sentence) must be there.
    """
    quotes = re.findall(r'"((?:[^"\\]|\\.)*)"', doc or "")
    if case_id in DOCUMENTED:
        quotes = [DOCUMENTED[case_id]]
    if not quotes:
        return [f"(no quote in {doc!r})"]
    pieces = [p.strip(" .;") for q in quotes for e in q.split("...") for p in e.split(": ")]
    return [p for p in pieces if p and _normal(p) not in documentation()]


# -- the oracles ------------------------------------------------------------------


def bash_oracle(case: Mapping[str, Any], tmp: Path) -> Result | None:
    """bash's ``printf %s WORD`` for the case, in a script file (no length limit)."""
    word = case.get("bash")
    if case.get("oracle") != "bash" or not word:
        return None
    if word == "@dq":
        word = '"' + template_of(case).decode() + '"'
    script = tmp / "oracle.sh"
    script.write_text(f"printf %s {word}", encoding="utf-8")
    done = subprocess.run(
        [require_tool("bash"), "--norc", "--noprofile", str(script)],
        env={**env_of(case), "LC_ALL": "C"},
        capture_output=True,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr.decode(), [])


def envsubst_oracle(case: Mapping[str, Any]) -> Result | None:
    """GNU envsubst, with the case's SHELL-FORMAT if it has one."""
    if case.get("oracle") != "envsubst":
        return None
    fmt = case.get("shell_format")
    done = subprocess.run(
        [require_tool("envsubst"), *([fmt] if fmt is not None else [])],
        input=template_of(case),
        env=env_of(case),
        capture_output=True,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr.decode(), [])


def nginx_image_oracle(case: Mapping[str, Any], root: Path) -> dict[str, bytes]:
    """The image's rule, per rendered file: awk's ENVIRON names that match the filter,
    as envsubst's SHELL-FORMAT ``${NAME} ...``, one template at a time."""
    env = env_of(case, root)
    filter_ = env.get("NGINX_ENVSUBST_FILTER", "")
    names = subprocess.run(
        [require_tool("mawk"), f"END {{ for (k in ENVIRON) if (k ~ /{filter_}/) print k }}"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    fmt = "".join(f"${{{n}}} " for n in names)
    files = {}
    for out, template in case["renders"].items():
        data = (root / template).read_bytes()
        done = subprocess.run(
            [require_tool("envsubst"), fmt], input=data, env=env, capture_output=True, check=True
        )
        files[out] = done.stdout
    return files


# -- the test ----------------------------------------------------------------------


def undocumented_of(case: Mapping[str, Any]) -> list[str]:
    """The case's documented difference, where the documentation lacks it."""
    return undocumented(case.get("doc"), case["id"])


def _stream_case(case: Mapping[str, Any], tmp: Path) -> list[str]:
    got = hostgw(list(case["args"]), env_of(case), template_of(case))
    problems = [f"warning reached the user: {w}" for w in got.warnings]
    oracle = bash_oracle(case, tmp) or envsubst_oracle(case)
    if oracle is not None and case.get("note", "").find("not re-run") < 0:
        why = judge_stream(case["peer"], oracle, [])
        if why is not None:
            problems.append(f"the corpus's peer answer is not the oracle's: {why}")
    against_peer = judge_stream(case["peer"], got, case.get("hostgw_stderr", []))
    if against_peer is None:
        return problems
    if "hostgw" not in case:
        return [*problems, f"differs from {case['source']}: {against_peer}"]
    own = judge_stream(case["hostgw"], got, case.get("hostgw_stderr", []))
    if own is not None:
        problems.append(f"neither the peer's answer ({against_peer}) nor hostgw's ({own})")
    problems += [f"difference not documented: {p!r}" for p in undocumented_of(case)]
    return problems


def _tree_case(case: Mapping[str, Any], root: Path) -> list[str]:
    for rel, text in case["files"].items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, dict):
            (root / rel).symlink_to(text["symlink"])
        else:
            (root / rel).write_bytes(text.encode())
    for rel in case.get("dirs", []):
        (root / rel).mkdir(parents=True, exist_ok=True)
    if not (root / "nginx.conf").exists():
        (root / "nginx.conf").write_text("events {}\nhttp {}\n")
    problems = []
    if case.get("oracle") == "nginx-envsubst" and case["peer"].get("files"):
        for out, data in nginx_image_oracle(case, root).items():
            want = case["peer"]["files"].get(out)
            if isinstance(want, str) and data != want.encode():
                problems.append(f"the corpus's peer answer is not the image's for {out}: {data!r}")
    args = [_rooted(a, root) for a in case["args"]]
    got = hostgw(args, env_of(case, root))
    problems += [f"warning reached the user: {w}" for w in got.warnings]
    against_peer = judge_tree(case["peer"], got, root)
    if against_peer is None:
        return problems
    if "hostgw" not in case:
        return [*problems, f"differs from the image: {against_peer}"]
    own = judge_tree(case["hostgw"], got, root)
    if own is not None:
        problems.append(f"neither the image's answer ({against_peer}) nor hostgw's ({own})")
    problems += [f"difference not documented: {p!r}" for p in undocumented_of(case)]
    return problems


@pytest.mark.parametrize("case", _params())
def test_render_case(case: dict[str, Any] | None, tmp_path: Path) -> None:
    if case is None:
        pytest.skip(f"no render corpus in {render_dir()} (set HOSTGW_PEERS)")
    if case.get("kind") == "tree":
        problems = _tree_case(case, tmp_path)
    else:
        problems = _stream_case(case, tmp_path)
    assert not problems, "\n".join(problems)


def test_every_source_is_there() -> None:
    if not corpus():
        pytest.skip(f"no render corpus in {render_dir()} (set HOSTGW_PEERS)")
    assert sorted(corpus()) == sorted(SOURCES)
    assert sum(map(len, corpus().values())) >= 500


def test_strict_braced_rule_leaves_every_real_nginx_config_alone() -> None:
    """``--strict``'s default-mode rule (an unset ``${NAME}`` with no lower-case letter
    is an error) never fires on the nginx configs of the rewrite corpus: nginx's
    own variables, braced or not, are not mistaken for the environment's."""
    from hostgw.templates.expand import strict_braced

    nginx = render_dir().parent / "rewrite" / "nginx"
    configs = sorted(p for p in nginx.rglob("*") if p.is_file()) if nginx.is_dir() else []
    if not configs:
        pytest.skip(f"no nginx configs in {nginx} (set HOSTGW_PEERS)")
    fired = {str(p.relative_to(nginx)): strict_braced(p.read_bytes(), {}) for p in configs}
    assert not {k: v for k, v in fired.items() if v}
    assert len(configs) > 100
    # and it does fire where it should
    assert strict_braced(b"server_name ${SERVR_NAME}; return 301 ${host};", {}) == [
        (12, "SERVR_NAME")
    ]
