"""The SOP flowchart, drawn as SVG by sopflow (work in progress: interface only).

``sheet_pages(revision, width_mm=…, height_mm=…)`` returns one SVG document per landscape page of
the sheet's step table (No | Kegiatan | Pelaksana columns | Mutu Baku | Keterangan), sized to the
page's content box in millimetres. ``FONT_FILES`` are the TrueType files the SVG text is set in
(family ``FONT_FAMILY``); the PDF declares them with ``@font-face`` so they are embedded.
"""

from pathlib import Path

FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"
FONT_FAMILY = "SopSheet"
FONT_FILES = {"normal": FONT_DIR / "DejaVuSansCondensed.ttf", "bold": FONT_DIR / "DejaVuSansCondensed-Bold.ttf"}


def sheet_pages(revision, *, width_mm: float, height_mm: float) -> list[str]:
    """One SVG document per flowchart page (stub until the drawing lands)."""
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width_mm}mm" height="{height_mm}mm" '
        f'viewBox="0 0 {width_mm} {height_mm}"><text x="5" y="10" font-family="{FONT_FAMILY}" font-size="4">'
        f"{revision.sop.nama}</text></svg>"
    ]
