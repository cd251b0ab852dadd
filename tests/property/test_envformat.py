"""``hostgw env --format sh`` output evaluated by a real shell gives the values back."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hostgw.envformat import format_env

# Any text a shell variable can hold: no NUL.
values = st.text(alphabet=st.characters(blacklist_characters="\x00", codec="utf-8"), max_size=40)


@pytest.mark.skipif(shutil.which("dash") is None, reason="needs dash")
@settings(max_examples=150, deadline=None)
@given(st.lists(values, min_size=1, max_size=3))
def test_dash_reads_back_every_value(items: list[str]) -> None:
    env = {f"V{i}": value for i, value in enumerate(items)}
    script = format_env(env, "sh") + "".join(f'printf "%s\\0" "$V{i}"\n' for i in range(len(items)))
    done = subprocess.run(["dash", "-c", script], capture_output=True, check=True)
    assert done.stdout.decode("utf-8", "surrogateescape").split("\0")[:-1] == items


@given(st.dictionaries(st.from_regex(r"[A-Z_][A-Z0-9_]{0,10}", fullmatch=True), values))
def test_dotenv_is_one_line_per_variable(env: dict[str, str]) -> None:
    text = format_env(env, "dotenv")
    assert text.count("\n") == len(env)
    assert [line.split("=", 1)[0] for line in text.split("\n")[:-1]] == list(env)
