"""``line:col`` of offsets: :class:`hostgw.textpos.Locator` against a direct count."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hostgw.textpos import Locator, line_col

TEXT = st.text(alphabet=st.sampled_from(["a", " ", "\n", "é", "\t", "{", "€"]), max_size=80)


def naive(text: str, offset: int) -> tuple[int, int]:
    """The line and column of ``offset`` in ``text`` by counting from the top."""
    before = text[:offset]
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


@st.composite
def text_and_offsets(draw: st.DrawFn) -> tuple[str, list[int]]:
    text = draw(TEXT)
    offsets = draw(st.lists(st.integers(0, len(text)), max_size=12))
    return text, offsets


@given(text_and_offsets(), st.booleans())
def test_many_and_at_agree_with_counting_from_the_top(
    case: tuple[str, list[int]], asc: bool
) -> None:
    text, offsets = case
    if asc:
        offsets = sorted(offsets)
    want = [naive(text, o) for o in offsets]
    assert Locator(text).many(offsets) == want
    one = Locator(text)
    assert [one.at(o) for o in offsets] == want
    assert [line_col(text, o) for o in offsets] == want


@given(text_and_offsets())
def test_utf8_bytes_count_characters(case: tuple[str, list[int]]) -> None:
    text, offsets = case
    data = text.encode()
    at = [len(text[:o].encode()) for o in offsets]
    assert Locator(data).many(at) == [naive(text, o) for o in offsets]
