"""A file staged from chunks (``fileio.Batch.open``) against the plain answer.

For any old file (or none) and any new bytes cut into any chunks, ``finish``
says "changed" exactly when the bytes differ (a prefix of the old file, or
the old file and more, is a change), the file afterwards holds exactly the
new bytes, an unchanged file keeps its inode and mtime, and the directory
holds nothing else.
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from hostgw.fileio import Batch

# Small alphabets, so that old and new often share a prefix or are equal.
_BYTES = st.binary(max_size=40) | st.sampled_from([b"", b"a", b"ab", b"abc", b"abcd"])


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(data)) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


@settings(max_examples=300, deadline=None)
@given(
    old=st.none() | _BYTES,
    new=_BYTES,
    cuts=st.lists(st.integers(0, 40), max_size=5),
    related=st.booleans(),
)
def test_a_staged_stream_writes_exactly_what_changed(
    old: bytes | None, new: bytes, cuts: list[int], related: bool
) -> None:
    if related and old is not None:
        new = old[: len(new)] if len(new) < len(old) else old + new  # prefix, or old and more
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp, "a.conf")
        if old is not None:
            target.write_bytes(old)
        before = target.stat() if old is not None else None
        with Batch() as batch:
            staging = batch.open(target)
            for chunk in _chunks(new, cuts):
                staging.write(chunk)
            changed = staging.finish()
            assert changed is (old != new)
            written = [w.path for w in batch.commit(log=lambda _line: None)]
        assert written == ([target] if changed else [])
        assert target.read_bytes() == new
        if not changed and before is not None:
            after = target.stat()
            assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
        assert [p.name for p in Path(tmp).iterdir()] == ["a.conf"]
