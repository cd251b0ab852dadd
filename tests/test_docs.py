"""Docs guard: every command (present and future) has help text and a place in the docs.

Commands are read from the CLI itself, so a command added later is covered
without touching this file.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from hostgw import errors
from hostgw.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
DOCS = README + "".join(p.read_text() for p in sorted((ROOT / "docs").glob("*.md")))
CLI_DOC = (ROOT / "docs" / "cli.md").read_text()
CONTEXT = click.Context(cli)
COMMANDS = cli.list_commands(CONTEXT)


def command(name: str) -> click.Command:
    found = cli.get_command(CONTEXT, name)
    assert found is not None, name
    return found


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_help(name: str) -> None:
    cmd = command(name)
    assert (cmd.help or "").strip(), f"hostgw {name} has no help text"
    assert cmd.get_short_help_str().strip()
    for param in cmd.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert (param.help or "").strip(), f"hostgw {name} {param.opts[0]} has no help"


@pytest.mark.parametrize("name", COMMANDS)
def test_docs_show_command(name: str) -> None:
    assert re.search(rf"\bhostgw {re.escape(name)}\b", DOCS), f"the docs never show hostgw {name}"


def test_docs_list_every_exit_code() -> None:
    codes = {v for k, v in vars(errors).items() if k.startswith("EXIT_") and isinstance(v, int)}
    table = set(map(int, re.findall(r"^\| *(\d+) *\|", CLI_DOC, flags=re.MULTILINE)))
    assert codes <= table, f"exit codes missing from the table in docs/cli.md: {codes - table}"


def test_group_help_names_every_command() -> None:
    text = cli.get_help(CONTEXT)
    for name in COMMANDS:
        assert re.search(rf"^  {re.escape(name)}\b", text, flags=re.MULTILINE), name
