"""Offsets in a text as ``line:col``: the one place that counts lines and columns.

Lines and columns are 1-based; a column counts characters (UTF-8 bytes are
decoded first), so an editor's cursor lands on it.
"""

from __future__ import annotations

from collections.abc import Iterable


def line_col(text: str | bytes, offset: int) -> tuple[int, int]:
    """The ``(line, column)`` of ``offset`` in ``text`` (str, or UTF-8 bytes)."""
    return Locator(text).at(offset)


class Locator:
    """``line:col`` of many offsets in one text, in time linear in the text.

    Offsets (on character boundaries) asked for in increasing order cost only
    the text between them, even many on one long line; an earlier offset
    starts again from the top.
    """

    def __init__(self, text: str | bytes) -> None:
        self._source = text
        self._pos = 0  # the last offset asked for (in the text as given)
        self._line = 1  # its line
        self._col = 1  # its column

    def _width(self, start: int, end: int) -> int:
        piece = self._source[start:end]
        return len(piece) if isinstance(piece, str) else len(piece.decode("utf-8", "replace"))

    def _count(self, start: int, end: int) -> tuple[int, int]:
        """Newlines in ``[start, end)`` and where the last line starts (``start`` if none)."""
        source = self._source
        if isinstance(source, str):
            return source.count("\n", start, end), source.rfind("\n", start, end) + 1
        return source.count(b"\n", start, end), source.rfind(b"\n", start, end) + 1

    def at(self, offset: int) -> tuple[int, int]:
        """The ``(line, column)`` of ``offset``."""
        if offset < self._pos:
            self._pos, self._line, self._col = 0, 1, 1
        newlines, line_start = self._count(self._pos, offset)
        if newlines:
            self._line += newlines
            self._col = 1 + self._width(line_start, offset)
        else:
            self._col += self._width(self._pos, offset)
        self._pos = offset
        return self._line, self._col

    def many(self, offsets: Iterable[int]) -> list[tuple[int, int]]:
        """The ``(line, column)`` of each of ``offsets``: :meth:`at` in one loop, from the top.

        In a ``str`` a column is the distance from the line's start, so
        nothing but newlines is counted; UTF-8 bytes go through :meth:`at`.
        """
        source = self._source
        if not isinstance(source, str):
            return [self.at(offset) for offset in offsets]
        count, rfind = source.count, source.rfind
        pos, line, line_start = 0, 1, 0
        found: list[tuple[int, int]] = []
        for offset in offsets:
            if offset < pos:
                pos, line, line_start = 0, 1, 0
            newlines = count("\n", pos, offset)
            if newlines:
                line += newlines
                line_start = rfind("\n", pos, offset) + 1
            found.append((line, offset - line_start + 1))
            pos = offset
        return found
