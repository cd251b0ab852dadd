"""Template expansion against its oracles: GNU envsubst and bash, on generated input.

- plain forms ($NAME, ${NAME}) equal ``envsubst 'SHELL-FORMAT'`` for the
  selected names, in --vars mode and in the default mode;
- operator forms equal bash's ``printf %s "${NAME<op>word}"``, reference by
  reference, including which ones fail (``?``/``:?``);
- no '$' means output == input; an empty selection changes nothing;
- arbitrary bytes give output or a TemplateError, nothing else.
"""

from __future__ import annotations

import re
import subprocess

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import hostgw.templates.syntax as tmod
from hostgw.errors import TemplateError
from hostgw.templates.expand import expand, expand_bytes
from hostgw.templates.syntax import OWN_NAMES
from tests.helpers import require_tool
from tests.property import template_strategies as ts

# Operator-form heads, ours to expand or refuse: ${NAME<op>, and ${#NAME / ${!NAME
# (bash's length and indirection, refused as errors).
_OP_HEAD = re.compile(r"\$\{(?:[#!][A-Za-z_]|[A-Za-z_][A-Za-z0-9_]*[-:+?=#%/^,@\[])")
# Subprocess oracles: no deadline. Run deeper with a hypothesis profile of more examples.
_SLOW = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _envsubst(template: str, env: dict[str, str], names: list[str]) -> str:
    fmt = " ".join(f"${{{n}}}" for n in names)
    done = subprocess.run(
        [require_tool("envsubst"), fmt],
        input=template.encode(),
        env=env,
        capture_output=True,
        check=True,
    )
    return done.stdout.decode()


def _bash(reference: str, env: dict[str, str]) -> tuple[bool, str]:
    """bash's expansion of one reference inside double quotes: (ok, text)."""
    done = subprocess.run(
        [require_tool("bash"), "--norc", "--noprofile", "-c", f'printf %s "{reference}"'],
        env={**env, "LC_ALL": "C"},
        capture_output=True,
        check=False,
    )
    return done.returncode == 0, done.stdout.decode()


@_SLOW
@given(ts.plain_templates, ts.envs, st.lists(ts.names, unique=True))
def test_plain_forms_equal_gnu_envsubst_for_the_selected_names(
    template: str, env: dict[str, str], selected: list[str]
) -> None:
    assume(not _OP_HEAD.search(template))
    ours = expand(template, env, vars=selected, raw=True, own={})
    assert ours == _envsubst(template, env, selected)


@_SLOW
@given(ts.plain_templates, ts.envs)
def test_default_selection_equals_envsubst_with_env_names_and_own_names(
    template: str, env: dict[str, str]
) -> None:
    assume(not _OP_HEAD.search(template))
    ours = expand(template, env, raw=True, own={})
    assert ours == _envsubst(template, env, sorted({*env, *OWN_NAMES}))


@_SLOW
@given(ts.op_templates, ts.envs)
def test_operator_forms_equal_bash(fragments: list[str], env: dict[str, str]) -> None:
    template = "".join(fragments)
    expected: list[str] = []
    failed: list[tuple[int, int]] = []  # spans of references bash refused
    offset = 0
    for fragment in fragments:
        if fragment.startswith("$"):
            ok, text = _bash(fragment, env)
            expected.append(text)
            if not ok:
                failed.append((offset, offset + len(fragment.encode())))
        else:
            expected.append(fragment)
        offset += len(fragment.encode())
    try:
        ours = expand(template, env, vars=ts.NAMES, raw=True, own={})
    except TemplateError as exc:
        assert failed, f"bash expanded everything, hostgw refused: {exc}"
        lines = template.encode().split(b"\n")
        starts = [sum(len(x) + 1 for x in lines[:i]) for i in range(len(lines))]
        for _path, line, col, _name, _reason in exc.problems:
            prefix = lines[line - 1].decode()[: col - 1].encode()
            at = starts[line - 1] + len(prefix)
            assert any(a <= at < b for a, b in failed), (exc.problems, failed)
        return
    assert not failed, f"bash failed at {failed}, hostgw gave {ours!r}"
    assert ours == "".join(expected)


@pytest.mark.parametrize(
    ("template", "env"),
    [
        ("${B-$A\\\n0}", {"A": "no", "A0": "joined"}),
        ("${B-x$A\\\n\\\n0.y}", {"A0": "twice"}),
        ("${B-$\\\nA}", {"A": "after the dollar"}),
        ("${B-$A\\\n}", {"A": "before the brace"}),
        ("${B:+$A\\\n_1}", {"B": "1", "A_1": "an underscore"}),
        ("${B-$\\\n{A}}", {"A": "a braced one"}),
        ("${B-$\\\n\\\n{A:-x}}", {"A": ""}),
        ("${B-$\\\n}}", {}),
    ],
)
def test_a_name_in_a_word_continues_across_backslash_newline(
    template: str, env: dict[str, str]
) -> None:
    # Found by test_operator_forms_equal_bash: bash joins the lines first.
    ok, text = _bash(template, env)
    assert ok
    assert expand(template, env, vars=sorted({*env, "B"}), raw=True, own={}) == text


@pytest.mark.parametrize("special", ["(id)", "1", "$", "-", "#", "@"])
def test_a_special_parameter_split_from_its_dollar_is_still_refused(special: str) -> None:
    # bash joins "$\<newline>(id)" into "$(id)" and runs it: an error, as "$(id)" is.
    with pytest.raises(TemplateError, match=r"unsupported '\$"):
        expand(f"${{B-$\\\n{special}}}", {}, vars=["B"], own={})


@given(ts.plain_text.filter(lambda t: "$" not in t), ts.envs)
def test_no_dollar_means_output_is_input(text: str, env: dict[str, str]) -> None:
    def never() -> dict[str, str]:
        raise AssertionError("detection must not run")

    assert expand(text, env, own=never) == text


@given(st.one_of(ts.plain_templates, ts.nginx_text, st.text()), ts.envs)
def test_an_empty_selection_changes_nothing(text: str, env: dict[str, str]) -> None:
    assert expand(text, env, vars=[]) == text


@given(ts.nginx_text)
def test_nginx_variables_stay_byte_for_byte(text: str) -> None:
    env = {"PATH": "/bin", "HOSTGW_IP": "10.213.0.1"}
    assume("HOSTGW" not in text and not _OP_HEAD.search(text))  # those are ours
    assert expand(text, env) == text


@given(st.binary(max_size=200), ts.envs, st.booleans(), st.booleans())
def test_arbitrary_bytes_give_output_or_template_error(
    data: bytes, env: dict[str, str], strict: bool, no_empty: bool
) -> None:
    try:
        out = b"".join(expand_bytes(data, env, strict=strict, no_empty=no_empty, own={}))
    except TemplateError as exc:
        assert exc.problems and exc.line is not None and exc.col is not None
    else:
        assert isinstance(out, bytes)


@given(ts.plain_templates, st.sampled_from(["", "${A:-x\ny}", "\n", "${B+$A}"]), ts.envs)
def test_chunk_boundaries_do_not_matter(text: str, tail: str, env: dict[str, str]) -> None:
    """Splitting at every line (chunks of one byte) gives what one big chunk gives."""
    text = (text + tail) * 3

    def outcome() -> object:
        try:
            return expand(text, env, own={})
        except TemplateError as exc:
            return exc.problems

    big = outcome()
    old, tmod._CHUNK = tmod._CHUNK, 1
    try:
        small = outcome()
    finally:
        tmod._CHUNK = old
    assert small == big
