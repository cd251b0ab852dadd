"""Docs guard: README.md and docs/ stay true to the CLI.

- every command (read from the CLI itself, so a new one is covered) has help
  text, is shown in the docs and is named by ``hostgw --help``;
- docs/cli.md's command reference is the one ``scripts/cli_reference.py``
  generates from the CLI: every option, default and variable, and each old
  spelling;
- every environment variable hostgw reads is in docs/cli.md's table, and
  every exit code in its exit-code table;
- every ``hostgw ...`` line in an example (sh blocks, Dockerfiles, the
  examples' compose file) names a command and options that exist;
- every example block is run by the test named for it below, or is listed
  with the reason it is not.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from hostgw import errors
from hostgw.cli import cli
from hostgw.cli.options import Command
from tests.helpers import hostgw_cmd
from tests.nginx import nginx_t

ROOT = Path(__file__).resolve().parent.parent
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README = (ROOT / "README.md").read_text()
DOCS = "".join(p.read_text() for p in FILES)
CLI_DOC = (ROOT / "docs" / "cli.md").read_text()
CONTEXT = click.Context(cli)
COMMANDS = cli.list_commands(CONTEXT)


def command(name: str) -> click.Command:
    found = cli.get_command(CONTEXT, name)
    assert found is not None, name
    return found


def blocks() -> Iterator[tuple[str, str, str]]:
    """``(file, language, body)`` of every fenced block in README.md and docs/."""
    for path in FILES:
        text = path.read_text()
        for found in re.finditer(r"^```(\w*)\n(.*?)^```$", text, flags=re.M | re.S):
            yield str(path.relative_to(ROOT)), found.group(1), found.group(2)


def key(path: str, body: str) -> tuple[str, str]:
    """A block's name here: its file and its first line."""
    return path, next((line for line in body.splitlines() if line.strip()), "").strip()


# -- commands, options, variables, exit codes ---------------------------------------------


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_help(name: str) -> None:
    cmd = command(name)
    assert (cmd.help or "").strip(), f"hostgw {name} has no help text"
    assert cmd.get_short_help_str().strip()
    assert isinstance(cmd, Command), f"hostgw {name}: use cls=Command (habits, help wrapping)"
    for param in cmd.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert (param.help or "").strip(), f"hostgw {name} {param.opts[0]} has no help"


@pytest.mark.parametrize("name", COMMANDS)
def test_docs_show_command(name: str) -> None:
    assert re.search(rf"\bhostgw {re.escape(name)}\b", DOCS), f"the docs never show hostgw {name}"
    assert re.search(rf"^### `hostgw {re.escape(name)}`$", CLI_DOC, re.M), name


def test_docs_list_every_exit_code() -> None:
    codes = {v for k, v in vars(errors).items() if k.startswith("EXIT_") and isinstance(v, int)}
    table = set(map(int, re.findall(r"^\| *(\d+) *\|", CLI_DOC, flags=re.MULTILINE)))
    assert codes <= table, f"exit codes missing from the table in docs/cli.md: {codes - table}"


def test_group_help_names_every_command() -> None:
    text = cli.get_help(CONTEXT)
    for name in COMMANDS:
        assert re.search(rf"^  {re.escape(name)}\b", text, flags=re.MULTILINE), name


def _reference() -> object:
    path = ROOT / "scripts/cli_reference.py"
    spec = importlib.util.spec_from_file_location("cli_reference", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_current() -> None:
    ref = _reference()
    generated, shown = ref.reference(), ref.current(CLI_DOC)  # type: ignore[attr-defined]
    assert shown.strip() == generated.strip(), (
        "docs/cli.md's command reference is stale: run python scripts/cli_reference.py --write"
    )
    for name in COMMANDS:
        for param in command(name).params:
            if isinstance(param, click.Option) and param.name != "help":
                assert param.opts[0] in generated, f"hostgw {name} {param.opts[0]}"


def _variables_read() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "hostgw").rglob("*"):
        if path.suffix in (".py", ".sh"):
            found |= set(re.findall(r"\bHOSTGW_[A-Z0-9_]*[A-Z0-9]\b", path.read_text()))
    return found


def test_every_variable_is_documented() -> None:
    table = CLI_DOC.partition("## Environment variables")[2].partition("\n## ")[0]
    missing = sorted(v for v in _variables_read() if f"`{v}" not in table)
    assert not missing, f"variables hostgw reads, missing from docs/cli.md's table: {missing}"
    for name in COMMANDS:
        for param in command(name).params:
            envvar = getattr(param, "envvar", None)
            if isinstance(envvar, str):
                assert f"`{envvar}" in table, f"hostgw {name} {param.opts[0]}: {envvar}"


# -- examples use what exists -------------------------------------------------------------

_OPERATORS = {"|", "||", "&&", ";", ">", ">>", "<", "2>", "&", ")", "`"}


def _hostgw_lines() -> Iterator[tuple[str, list[str]]]:
    """``(where, argv after "hostgw")`` of every hostgw command the docs and examples show."""
    for path, language, body in blocks():
        if language == "dockerfile":
            for found in re.finditer(r"^(?:ENTRYPOINT|CMD) (\[.*\])$", body, re.M):
                argv = json.loads(found.group(1))
                if argv and argv[0].endswith("hostgw"):
                    yield path, argv[1:]
        if language != "sh":
            continue
        text = re.sub(r"\\\n", " ", body)
        for line in text.splitlines():
            code = line.split(" #", 1)[0].strip()
            if not code or code.startswith("#"):
                continue
            code = code.replace("$(", " ( ").replace(")", " ) ").replace('"', " ")
            try:
                words = shlex.split(code, comments=False)
            except ValueError:
                words = code.split()
            for i, word in enumerate(words):
                before = words[i - 1] if i else "("
                at_command = before in _OPERATORS | {"(", "exec", "then", "do"} or re.fullmatch(
                    r"[A-Z_][A-Z0-9_]*=\S*", before
                )
                named = word.rsplit("/", 1)[-1] == "hostgw" and "=" not in word
                if named and at_command and i + 1 < len(words):
                    rest = words[i + 1 :]
                    end = next((j for j, w in enumerate(rest) if w in _OPERATORS), len(rest))
                    yield path, rest[:end]
    for path in FILES:  # inline code: `hostgw wait 8000`
        for found in re.finditer(r"`hostgw ([^`]+)`", path.read_text()):
            words = found.group(1).split()
            end = next((j for j, w in enumerate(words) if w in _OPERATORS), len(words))
            yield str(path.relative_to(ROOT)), words[:end]
    compose = (ROOT / "examples/compose-redeploy/compose.yaml").read_text()
    found = re.search(r"entrypoint:\n((?:\s+- .*\n)+)", compose)
    assert found, "examples/compose-redeploy/compose.yaml: no entrypoint list"
    items = [line.strip()[2:].strip('"') for line in found.group(1).splitlines()]
    yield "examples/compose-redeploy/compose.yaml", items[1:]


def _check_argv(where: str, argv: list[str]) -> None:
    if not argv or not re.fullmatch(r"[a-z]+", argv[0]):
        return  # hostgw --version, a placeholder (hostgw COMMAND), a log line (hostgw wait:)
    name, *args = argv
    assert name in COMMANDS, f"{where}: hostgw {name}: no such command"
    cmd = command(name)
    options = {
        opt: param
        for param in cmd.params
        if isinstance(param, click.Option)
        for opt in (*param.opts, *param.secondary_opts)
    }
    for arg in args:
        if arg == "--":
            break
        if arg.startswith("--"):
            assert arg.partition("=")[0] in options, f"{where}: hostgw {name} {arg}: no such option"
            assert not options[arg.partition("=")[0]].hidden, f"{where}: {arg} is an old spelling"
        elif re.fullmatch(r"-[A-Za-z0-9]+", arg) and arg not in options:
            assert all(f"-{c}" in options for c in arg[1:]), f"{where}: hostgw {name} {arg}"


def test_examples_use_commands_and_options_that_exist() -> None:
    seen = 0
    for where, argv in _hostgw_lines():
        _check_argv(where, argv)
        seen += 1
    assert seen > 30, "the scan found too few hostgw lines: is it still reading the docs?"


# -- every example block: run, or listed with why not --------------------------------------

# (file, how the block's first line starts) -> the test that runs it
RUN = {
    ("README.md", "# 1. install hostgw"): "test_readme.py::test_setup_step_one_then_the_artifacts",
    ("README.md", "# a backend that publishes"): "test_readme.py::test_the_worked_example",
    ("README.md", "hostgw ip "): "test_readme.py::test_the_worked_example",
    ("README.md", "import hostgw"): "test_readme.py::test_the_worked_example",
    ("README.md", "hostgw render templates/"): "test_readme.py::test_the_worked_example",
    (
        "README.md",
        "/opt/hostgw/bin/pip wheel",
    ): "test_readme.py::test_setup_step_one_then_the_artifacts",
    (
        "docs/install.md",
        "python3 -m venv /opt/hostgw",
    ): "test_docs.py::test_install_md_is_the_readme_s",
    (
        "docs/install.md",
        "/opt/hostgw/bin/pip wheel",
    ): "test_docs.py::test_install_md_is_the_readme_s",
    (
        "docs/install.md",
        "/opt/hostgw/bin/python scripts/",
    ): "test_artifacts.py::test_zipapp_under_the_system_python",
    ("docs/cli.md", 'eval "$(_HOSTGW_COMPLETE'): "test_cli_vocabulary.py::test_shell_completion",
    (
        "docs/exec.md",
        "hostgw snippet nginx-step",
    ): "test_nginx_step.py::test_the_step_renders_and_the_image_steps_still_run",
    (
        "docs/snippet.md",
        "hostgw snippet sh -o",
    ): "test_docs.py::test_snippet_md_writes_an_executable_envsh",
    (
        "docs/templates.md",
        "upstream app {",
    ): "test_docs.py::test_templates_md_example_passes_nginx_t",
}

NO_REGISTRY = "a Dockerfile: no image registry can be reached here"
FILES_OF_ITS_OWN = "on files of its own"
# (file, how the block's first line starts) -> why it is not run, and what runs its like
NOT_RUN = {
    ("docs/cli.md", '{"error": '): "an abridged output; test_cli_vocabulary.py checks the real one",
    ("docs/detection.md", "hostgw ip "): "asks this machine and writes /run; test_envcases.py runs "
    "ip, doctor and env in every environment",
    ("docs/detection.md", "hostgw: no IPv4"): "an abridged output; test_cli_detect.py checks it",
    ("docs/detection.md", "import hostgw"): "probes port 8080 on this machine's gateway; "
    "test_detect.py calls each function",
    ("docs/exec.md", "FROM nginx"): f"{NO_REGISTRY}; tests/runtime builds examples/nginx-debian-"
    "pip (the first) on a stand-in, and test_nginx_step.py runs the second's step",
    ("docs/exec.md", "docker run -e"): "needs Docker and an image; "
    "test_cli_vocabulary.py::test_environment_forms runs the variables",
    ("docs/exec.md", "hostgw exec --rewrite"): "rewrites this machine's /etc/nginx; "
    f"test_e2e_redeploy.py runs exec and watch --rewrite {FILES_OF_ITS_OWN}",
    ("docs/install.md", "COPY dist/"): f"{NO_REGISTRY}; tests/runtime/images.py installs "
    "the wheel into its containers the same way",
    ("docs/install.md", "COPY --chmod=755 dist/"): f"{NO_REGISTRY}; test_artifacts.py runs "
    "the zipapp under the system python3",
    ("docs/rewrite.md", "# in an entrypoint"): "rewrites this machine's /etc/nginx; "
    f"test_rewrite_cli.py runs the same commands {FILES_OF_ITS_OWN}",
    ("docs/rewrite.md", "# an image running as uid"): "rewrites this machine's /etc/nginx; "
    f"test_rewrite_state.py runs both forms {FILES_OF_ITS_OWN}",
    ("docs/rewrite.md", "import hostgw"): "a fragment (text is the caller's config); "
    "test_rewrite_nginx.py calls hostgw.rewrite",
    ("docs/snippet.md", "FROM nginx"): f"{NO_REGISTRY}; tests/runtime builds "
    "examples/nginx-stock, this image",
    ("docs/templates.md", "# one template"): "writes this machine's /etc/nginx; "
    f"test_render_cli.py runs each form {FILES_OF_ITS_OWN}",
    ("docs/templates.md", "import hostgw"): "a fragment (text and env are the caller's); "
    "test_template.py calls each function",
    ("docs/wait.md", "# until the port"): "waits on this machine's gateway; test_wait.py runs "
    "every target form on loopback",
    ("docs/watch.md", "# beside a running nginx"): "runs until TERM beside nginx; "
    "test_e2e_redeploy.py runs both forms in namespaces",
}


def _listed(found: tuple[str, str], table: dict[tuple[str, str], str]) -> tuple[str, str] | None:
    path, first = found
    hits = [k for k in table if k[0] == path and first.startswith(k[1])]
    return hits[0] if hits else None


def test_every_example_block_is_run_or_excused() -> None:
    found = {key(path, body) for path, _, body in blocks()}
    used: set[tuple[str, str]] = set()
    unlisted = []
    for block in sorted(found):
        run, excused = _listed(block, RUN), _listed(block, NOT_RUN)
        assert not (run and excused), f"{block}: both run and excused"
        if run or excused:
            used.add(run or excused)  # type: ignore[arg-type]
        else:
            unlisted.append(block)
    assert not unlisted, (
        "example blocks neither run by a test nor listed with why not (add them to RUN or "
        f"NOT_RUN in tests/test_docs.py): {unlisted}"
    )
    stale = sorted((set(RUN) | set(NOT_RUN)) - used)
    assert not stale, f"listed blocks that are no longer in the docs: {stale}"
    for where in RUN.values():
        path, _, name = where.partition("::")
        assert f"def {name}" in (ROOT / "tests" / path).read_text(), f"{where}: no such test"


def _block(path: str, start: str) -> str:
    found = [body for p, _, body in blocks() if p == path and key(p, body)[1].startswith(start)]
    assert len(found) == 1, (path, start)
    return found[0]


def _commands(body: str) -> list[str]:
    return [
        line.split("  #", 1)[0].strip()
        for line in body.splitlines()
        if line.strip() and not line.startswith("#")
    ]


def test_install_md_is_the_readme_s() -> None:
    """docs/install.md's lines are the README's, which tests/test_readme.py runs."""
    readme = " ".join(_commands(_block("README.md", "# 1. install")))
    (line,) = _commands(_block("docs/install.md", "python3 -m venv"))
    assert f"&& {line} &&" in readme
    wheel = _commands(_block("docs/install.md", "/opt/hostgw/bin/pip wheel"))
    assert wheel[0] == _commands(_block("README.md", "/opt/hostgw/bin/pip wheel"))[0]


def test_snippet_md_writes_an_executable_envsh(tmp_path: Path) -> None:
    argv = shlex.split(_commands(_block("docs/snippet.md", "hostgw snippet sh -o"))[0])
    assert argv[0] == "hostgw"
    subprocess.run([*hostgw_cmd(), *argv[1:]], cwd=tmp_path, check=True, capture_output=True)
    made = tmp_path / "15-hostgw.envsh"
    assert made.stat().st_mode & 0o777 == 0o755
    assert made.read_text().startswith("#!/bin/sh\n# hostgw-snippet-sh")


@pytest.mark.proxies
def test_templates_md_example_passes_nginx_t(tmp_path: Path) -> None:
    body = _block("docs/templates.md", "upstream app {")
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    (tmp_path / "site.conf.template").write_text(body)
    env = {
        "PATH": os.environ["PATH"],
        "HOSTGW_IP": "fd5e:1::1",
        "SERVER_NAME": "example.test",
    }
    done = subprocess.run(
        [*hostgw_cmd(), "render", f"site.conf.template:{prefix}/site.conf"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    site = (prefix / "site.conf").read_text()
    assert "server [fd5e:1::1]:3000;" in site and "proxy_set_header Host $host;" in site
    assert "https://${host}/$1" in site
    (prefix / "nginx.conf").write_text(
        f"pid {prefix}/nginx.pid;\nerror_log {prefix}/error.log;\nevents {{}}\n"
        f"http {{ access_log off; client_body_temp_path {prefix}/b; proxy_temp_path {prefix}/p; "
        f"fastcgi_temp_path {prefix}/f; uwsgi_temp_path {prefix}/u; scgi_temp_path {prefix}/s; "
        f"include {prefix}/site.conf; }}\n"
    )
    checked = nginx_t(prefix)
    assert checked.returncode == 0, checked.stderr
    done = subprocess.run(
        [*hostgw_cmd(), "render", "site.conf.template"],
        cwd=tmp_path,
        env={k: v for k, v in env.items() if k != "SERVER_NAME"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 5 and "set SERVER_NAME to the public name" in done.stderr
