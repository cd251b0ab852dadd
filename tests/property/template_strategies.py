"""Hypothesis strategies for templates: plain references, operator forms, nginx text.

Names come from a small pool so that references collide with the
environment often; values may hold anything an environment can (no NUL).
"""

from __future__ import annotations

import string

from hypothesis import strategies as st

NAMES = ["A", "B", "AB", "A_1", "_x", "host", "HOSTGW_IP", "HOSTGW_HOST", "LONG_NAME_9"]
OPS = ["-", ":-", "+", ":+", "?", ":?"]

names = st.sampled_from(NAMES)

# Environment values: anything but NUL (an environment cannot hold it).
values = st.one_of(
    st.sampled_from(["", "v", "10.213.0.1", "[fd5e::1]", "a b", "$A", "${B}", "x;y", "{}", "a\nb"]),
    st.text(st.characters(blacklist_characters="\x00", codec="utf-8"), max_size=8),
)
envs = st.dictionaries(names, values, max_size=len(NAMES))

# Text without '$' (for the no-'$' property and between references).
_PLAIN_CHARS = string.ascii_letters + string.digits + "_ \t\n{}:;-+?=#%/^,@[]()'\"`\\!~*.é€"
plain_text = st.text(st.sampled_from(_PLAIN_CHARS), max_size=12)

# nginx-flavoured text where '$' is everywhere: captures, nginx variables, stray '$'.
_NGINX_BITS = [
    "$host",
    "${host}",
    "$1",
    "$$",
    "$",
    "${",
    "${1}",
    "$ ",
    "}",
    "{",
    "$request_uri",
    "(.*)$",
    "${host",
    "$_",
    "${_}",
]
nginx_text = st.lists(st.one_of(st.sampled_from(_NGINX_BITS), plain_text), max_size=8).map("".join)


def _join(parts: list[str]) -> str:
    """Concatenate, keeping '$NAME' from swallowing a following name character."""
    out = ""
    for part in parts:
        if out and part[:1] and (part[0].isalnum() or part[0] == "_") and _ends_with_plain_ref(out):
            out += " "
        out += part
    return out


def _ends_with_plain_ref(text: str) -> bool:
    while text.endswith("\\\n"):  # bash joins lines first: "$A\\<newline>0" is $A0
        text = text[:-2]
    head = text.rstrip(string.ascii_letters + string.digits + "_")
    if head == text:
        return False
    while head.endswith("\\\n"):  # and "$\\<newline>A" is $A
        head = head[:-2]
    return head.endswith("$")


plain_refs = st.one_of(names.map(lambda n: f"${n}"), names.map(lambda n: f"${{{n}}}"))

# Templates with only plain forms (GNU envsubst's territory).
plain_templates = st.lists(st.one_of(plain_refs, nginx_text, plain_text), max_size=10).map(_join)

# -- operator forms, restricted to what hostgw supports (bash is the oracle) ---------

_WORD_CHARS = string.ascii_letters + string.digits + " _{:;-+?=#%/^,@[]()!~*.é\n"
_ESCAPES = ["\\$", "\\\\", "\\}", '\\"', "\\`", "\\a", "\\{", "\\'", "\\\n", "\\ "]


def words(depth: int) -> st.SearchStrategy[str]:
    """A word as it may follow an operator: text, escapes, nested references."""
    leaves: list[st.SearchStrategy[str]] = [
        st.text(st.sampled_from(_WORD_CHARS), min_size=1, max_size=6),
        st.sampled_from(_ESCAPES),
        plain_refs,
        # A reference split right after its '$' by a backslash-newline (bash joins it).
        plain_refs.map(lambda ref: "$\\\n" + ref[1:]),
    ]
    if depth > 0:
        leaves.append(st.deferred(lambda: op_refs(depth - 1)))
    parts = st.lists(st.one_of(*leaves), max_size=4).map(_join)
    # A '$' right before the closing brace is literal in bash.
    return st.tuples(parts, st.booleans()).map(lambda t: t[0] + ("$" if t[1] else ""))


def op_refs(depth: int = 2) -> st.SearchStrategy[str]:
    """``${NAME<op>word}``."""
    return st.builds(lambda n, op, w: f"${{{n}{op}{w}}}", names, st.sampled_from(OPS), words(depth))


def _separate(fragments: list[str]) -> list[str]:
    """Insert a space where '$NAME' would swallow the next fragment's first character."""
    out: list[str] = []
    for fragment in filter(None, fragments):
        text = "".join(out)
        if _join([text, fragment]) != text + fragment:
            out.append(" ")
        out.append(fragment)
    return out


# A template, as fragments: operator forms (and plain references) between literal text.
op_templates = st.lists(
    st.one_of(op_refs(), plain_refs, plain_text.filter(lambda t: "$" not in t)), max_size=6
).map(_separate)
