"""Text of the sheet: measured with the vendored font's own advance widths and wrapped to a cell.

The font is DejaVu Sans Condensed (``static/fonts/``), embedded in the PDF and served to the
browser, so the lines wrapped here are the lines printed. Measuring is linear in the text: a word
longer than a line is cut with the running sum of its advances and a bisection, never by measuring
ever shorter prefixes (a 20,000-character word wraps in milliseconds).
"""

from __future__ import annotations

import functools
from bisect import bisect_right
from itertools import accumulate
from pathlib import Path

FONT_DIR = Path(__file__).resolve().parent.parent.parent / "static" / "fonts"
FONT_FAMILY = "SopSheet"
FONT_FILES = {"normal": FONT_DIR / "DejaVuSansCondensed.ttf", "bold": FONT_DIR / "DejaVuSansCondensed-Bold.ttf"}
FONT_STACK = f"{FONT_FAMILY}, 'DejaVu Sans Condensed', 'Arial Narrow', sans-serif"

FONT_SIZE = 2.45  # mm, about 7 pt: the cells' text
SMALL_SIZE = 2.1  # mm: Ya/Tidak, connector letters, the small Selesai
LINE = FONT_SIZE * 1.25
# Role names in the header shrink to these sizes before a word is hyphenated.
HEADER_SIZES = (2.45, 2.3, 2.15, 2.0, 1.9, 1.8)
ASCENT, DESCENT = 0.76, 0.24  # of the font size: where a line's ink lies around its baseline

# A word may also break after these (Kampung/Kelurahan, Dinas/Instansi, Sub-Bagian).
BREAK_AFTER = "/-"


class _Font:
    def __init__(self, path: Path):
        from fontTools.ttLib import TTFont

        font = TTFont(path, lazy=True)
        self._cmap = font.getBestCmap()
        self._advance = {name: advance for name, (advance, _lsb) in font["hmtx"].metrics.items()}
        self.em = font["head"].unitsPerEm
        self.advance = _Advances(self).__getitem__

    def lookup(self, char: str) -> int:
        """The advance width of one character in font units (0.6 em for a character the font lacks)."""
        glyph = self._cmap.get(ord(char))
        return self._advance.get(glyph, int(self.em * 0.6)) if glyph else int(self.em * 0.6)

    def units(self, text: str) -> int:
        return sum(map(self.advance, text))


class _Advances(dict):
    """Advance widths by character, looked up in the font the first time a character is met."""

    def __init__(self, font: _Font):
        super().__init__()
        self.font = font

    def __missing__(self, char: str) -> int:
        width = self[char] = self.font.lookup(char)
        return width


@functools.cache
def _font(weight: str) -> _Font:
    return _Font(FONT_FILES[weight])


def text_width(text: str, size: float = FONT_SIZE, *, bold: bool = False) -> float:
    """Width of ``text`` in mm, set at ``size`` mm."""
    font = _font("bold" if bold else "normal")
    return font.units(text) * size / font.em


def _cut(word: str, limit: float, font: _Font, *, hyphen: int = 0) -> list[str]:
    """``word`` cut into pieces of at most ``limit`` font units (``hyphen``: room kept for a hyphen),
    after a slash or hyphen when one falls in the piece; every piece holds at least one character."""
    sums = list(accumulate(font.advance(char) for char in word))
    pieces, start, base = [], 0, 0
    while start < len(word):
        if sums[-1] - base <= limit:
            pieces.append(word[start:])
            break
        end = max(bisect_right(sums, base + limit - hyphen, lo=start), start + 1)
        soft = max(word.rfind(char, start, end - 1) for char in BREAK_AFTER)
        if soft >= start:
            end = soft + 1
        pieces.append(word[start:end])
        base, start = sums[end - 1], end
    return pieces


def wrap(text: str, width: float, size: float = FONT_SIZE, *, bold: bool = False) -> list[str]:
    """The lines of ``text`` that fit ``width`` mm, broken at spaces; a word longer than a line is
    broken after a slash or hyphen, else cut. Linear in the length of the text."""
    font = _font("bold" if bold else "normal")
    limit = width * font.em / size
    space = font.advance(" ")
    lines: list[str] = []
    for paragraph in text.splitlines():
        words: list[str] = []
        used = 0
        for word in paragraph.split():
            units = font.units(word)
            if words and used + space + units <= limit:
                words.append(word)
                used += space + units
                continue
            if words:
                lines.append(" ".join(words))
            if units <= limit:
                words, used = [word], units
                continue
            *full, last = _cut(word, limit, font)
            lines.extend(full)
            words, used = [last], font.units(last)
        if words:
            lines.append(" ".join(words))
    return lines


def _segments(label: str) -> list[tuple[str, bool]]:
    """The pieces a header may break between: words, and word parts ending in a slash or hyphen.
    Each with whether a space goes before it when it follows on the same line."""
    pieces = []
    for word in label.split():
        start = 0
        for index, char in enumerate(word):
            if char in BREAK_AFTER and index + 1 < len(word):
                pieces.append((word[start:index + 1], start == 0))
                start = index + 1
        pieces.append((word[start:], start == 0))
    return pieces


def _fill(pieces: list[tuple[str, bool]], limit: float, font: _Font) -> list[str] | None:
    """Pieces set greedily on lines of ``limit`` font units; None when one piece alone is too wide."""
    lines: list[str] = []
    line, used = "", 0
    space = font.advance(" ")
    for piece, spaced in pieces:
        units = font.units(piece)
        if units > limit:
            return None
        gap = space if spaced and line else 0
        if line and used + gap + units <= limit:
            line += (" " if gap else "") + piece
            used += gap + units
            continue
        if line:
            lines.append(line)
        line, used = piece, units
    if line:
        lines.append(line)
    return lines


@functools.cache
def _hyphenator():
    import pyphen  # WeasyPrint's own hyphenation library, with its Indonesian patterns

    return pyphen.Pyphen(lang="id")


def _hyphenate(piece: str, limit: float, font: _Font) -> list[str]:
    """A piece too wide for a line, split at Indonesian syllable breaks, each part but the last ending in
    a hyphen; where no syllable break fits, at the last character that fits (still with a hyphen)."""
    hyphen = font.advance("-")
    if len(piece) > 40:  # no word of a role name is this long: cut it in one pass, each part with a hyphen
        *parts, last = _cut(piece, limit, font, hyphen=hyphen)
        return [part + "-" for part in parts] + [last]
    parts = []
    while font.units(piece) > limit:
        head = next((left for left, _right in _hyphenator().iterate(piece)
                     if font.units(left) + hyphen <= limit), None)
        if head is None:
            head = _cut(piece, limit, font, hyphen=hyphen)[0]
            if len(head) == len(piece):  # not even one character and a hyphen fit: keep the character
                break
        parts.append(head + "-")
        piece = piece[len(head):]
    parts.append(piece)
    return parts


def fit_labels(labels: list[str], width: float, *, bold: bool = True) -> tuple[float, list[list[str]]]:
    """Header labels (role names) wrapped to ``width`` mm at one size for all: the largest of
    ``HEADER_SIZES`` at which every label breaks only between words or after a slash or hyphen; at
    the smallest, a word still too wide is hyphenated (never cut without a hyphen)."""
    font = _font("bold" if bold else "normal")
    pieces = [_segments(label) for label in labels]
    for size in HEADER_SIZES:
        limit = width * font.em / size
        wrapped = [_fill(label, limit, font) for label in pieces]
        if all(lines is not None for lines in wrapped):
            return size, wrapped
    size = HEADER_SIZES[-1]
    limit = width * font.em / size
    result = []
    for label in pieces:
        split = []
        for piece, spaced in label:
            parts = _hyphenate(piece, limit, font)
            split += [(part, spaced and i == 0) for i, part in enumerate(parts)]
        result.append(_fill(split, limit, font) or [piece for piece, _spaced in split])
    return size, result
