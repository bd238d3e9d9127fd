"""The flows between the symbols: the side each leaves and enters by, where it runs, the off-page
connectors where it crosses a page break, and where its Ya/Tidak goes.

The rules that make a clean sheet, each kept by construction:

- A flow to the next row leaves the symbol's bottom, turns CLEAR_LINE above the row line and enters
  the next symbol's top (a row holds one symbol, so the turn crosses none).
- Every other flow leaves and enters by a side (or the bottom/top when the sides are taken) and runs
  vertically in a *slot*: a place across the role columns at least CLEAR_LINE from every column
  line, CLEAR_SYMBOL from every symbol it passes and PITCH from every parallel flow. The cheapest
  free slot is taken (the shortest way across), so a loop runs close beside its symbols.
- A decision whose answer ends the run points down at a small Selesai in its own column.
- Where a flow crosses a page break it ends at an off-page connector in the strip at the page's
  foot (or head, going back) and goes on from its twin on the other page. A connector lies within one
  role column, off its lines; the pairs are lettered in reading order once everything is routed.
- A Ya/Tidak label goes beside its flow's first stretches, in its step's row, where it crosses no
  line (grid, flow, symbol, connector); flows routed later keep out of it.

When no slot is free (sheets far more crowded than any office writes), in this order: runs into the
same side of one step merge; the flow ends at a pair of connectors standing beside its two steps (a
numbered circle on one page, a lettered pentagon across a page break); only then does it share a
slot with another flow, marked ``shared`` (``data-shared`` in the drawing).
"""

from __future__ import annotations

import math
import string
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from procedures.flowchart.content import KEPUTUSAN, Edge, Sheet
from procedures.flowchart.layout import (
    ABOVE,
    BELOW,
    CLEAR_LINE,
    CLEAR_SYMBOL,
    CONNECTOR_H,
    CONNECTOR_INSET,
    CONNECTOR_W,
    EXIT_GAP,
    LEAD_LEVELS,
    LEG,
    PITCH,
    STRIP,
    Layout,
    PageLayout,
    has_exit,
    symbol_group_height,
)
from procedures.flowchart.text import ASCENT, DESCENT, SMALL_SIZE, text_width

Point = tuple[float, float]
Box = tuple[float, float, float, float]  # x0, y0, x1, y1
INF = math.inf
EPS = 1e-6
RUN_GAP = 1.0  # two flows in one slot keep this far apart vertically
ON_PAGE_R = 2.2  # radius of an on-page connector
LABEL_SIZES = (SMALL_SIZE, 1.8, 1.6, 1.4)  # Ya/Tidak shrink in narrow columns rather than touch a line
LABEL_GAP = 0.5  # a label from its flow
LABEL_CLEAR = 0.25  # a label from any other line


@dataclass
class Symbol:
    """A step's symbol (or a decision's small Selesai, kind "exit") where it stands on its page."""

    nomor: int
    kind: str
    column: int
    cx: float
    cy: float
    half_w: float
    half_h: float
    band: float  # half the width of the strip of its row that flows passing by keep out of
    row_top: float
    row_bottom: float
    ports: dict[str, str] = field(default_factory=dict)  # side -> "in" | "out"

    @property
    def top(self) -> float:
        return self.cy - self.half_h

    @property
    def bottom(self) -> float:
        return self.cy + self.half_h

    def side_x(self, side: str) -> float:
        return self.cx - self.half_w if side == "left" else self.cx + self.half_w

    def outline(self) -> list[tuple[Point, Point]]:
        if self.kind == KEPUTUSAN:
            points = [(self.cx, self.top), (self.cx + self.half_w, self.cy), (self.cx, self.bottom),
                      (self.cx - self.half_w, self.cy)]
        else:
            x0, x1 = self.cx - self.half_w, self.cx + self.half_w
            points = [(x0, self.top), (x1, self.top), (x1, self.bottom), (x0, self.bottom)]
        return list(zip(points, points[1:] + points[:1]))


@dataclass
class Connector:
    pair: int
    where: str  # "top" | "bottom": the strip at the page's head or foot; "row": beside its step
    x: float
    top: float
    bottom: float
    label: str = ""
    on_page: bool = False  # the circle joining two places on one page, else the off-page pentagon


@dataclass
class Label:
    text: str
    box: Box
    size: float

    @property
    def baseline(self) -> float:
        return self.box[1] + ASCENT * self.size


@dataclass
class Flow:
    edge: Edge
    points: list[Point]
    part: str = ""  # "out" | "in": the halves of a flow across a page break
    label: Label | None = None
    shared: bool = False  # no free slot was left: it runs in one already used


@dataclass
class Attach:
    """Where a flow's vertical run meets one of its ends, and how it gets there from the port."""

    y: float
    legs: list[Point]  # from the port up to (not including) the run's point (x, y)
    anchor: float  # x of the port: the horizontal way to the run costs |x - anchor|
    lo: float = -INF  # the run's x must lie in [lo, hi]
    hi: float = INF
    fixed: float | None = None  # straight on: the run is at this x
    other_below: bool | None = None  # straight on: the flow's other end must be below (True) or above
    penalty: float = 0.0
    symbol: Symbol | None = None
    side: str = ""


def out_attaches(symbol: Symbol, side: str) -> list[Attach]:
    """The ways a flow may leave ``symbol`` by ``side``."""
    if side in ("left", "right"):
        x = symbol.side_x(side)
        lo, hi = (symbol.cx + symbol.band, INF) if side == "right" else (-INF, symbol.cx - symbol.band)
        return [Attach(y=symbol.cy, legs=[(x, symbol.cy)], anchor=x, lo=lo, hi=hi, symbol=symbol, side=side)]
    cx, y = symbol.cx, symbol.bottom + LEG
    legs = [(cx, symbol.bottom), (cx, y)]
    return [
        Attach(y=symbol.bottom, legs=[(cx, symbol.bottom)], anchor=cx, lo=cx, hi=cx, fixed=cx, other_below=True,
               symbol=symbol, side="bottom"),
        Attach(y=y, legs=legs, anchor=cx, hi=cx - symbol.band, penalty=3.0, symbol=symbol, side="bottom"),
        Attach(y=y, legs=legs, anchor=cx, lo=cx + symbol.band, penalty=3.0, symbol=symbol, side="bottom"),
    ]


def in_attaches(symbol: Symbol, *, sides: tuple[str, ...] = ("left", "right", "top")) -> list[Attach]:
    """The ways a flow may enter ``symbol``: a side not taken by a flow leaving, or the top."""
    result = []
    for side in sides:
        if side == "top":
            cx, y = symbol.cx, symbol.top - LEG
            legs = [(cx, symbol.top), (cx, y)]
            result += [
                Attach(y=symbol.top, legs=[(cx, symbol.top)], anchor=cx, lo=cx, hi=cx, fixed=cx, other_below=False,
                       symbol=symbol, side="top"),
                Attach(y=y, legs=legs, anchor=cx, hi=cx - symbol.band, penalty=3.0, symbol=symbol, side="top"),
                Attach(y=y, legs=legs, anchor=cx, lo=cx + symbol.band, penalty=3.0, symbol=symbol, side="top"),
            ]
        elif symbol.ports.get(side) in (None, "in"):
            result += [Attach(**{**vars(attach), "penalty": 0.5})
                       for attach in out_attaches(symbol, side)]
    return result


def _into(attach: Attach) -> tuple | None:
    """The port a run ends in, when it ends in a step's side (runs into one side may merge)."""
    if attach.symbol is None or attach.side not in ("left", "right"):
        return None
    return attach.symbol.nomor, attach.symbol.kind, attach.side


def _simplify(points: list[Point]) -> list[Point]:
    """Without repeated points and without the middle one of three in a line."""
    result: list[Point] = []
    for point in points:
        if result and abs(point[0] - result[-1][0]) < EPS and abs(point[1] - result[-1][1]) < EPS:
            continue
        if len(result) >= 2:
            (ax, ay), (bx, by) = result[-2], result[-1]
            if (abs(ax - bx) < EPS and abs(bx - point[0]) < EPS) or (abs(ay - by) < EPS and abs(by - point[1]) < EPS):
                result[-1] = point
                continue
        result.append(point)
    return result


def segment_hits_box(p: Point, q: Point, box: Box) -> bool:
    """Whether the segment p–q touches the box (Liang–Barsky clipping)."""
    x0, y0, x1, y1 = box
    (ax, ay), (bx, by) = p, q
    if max(ax, bx) < x0 or min(ax, bx) > x1 or max(ay, by) < y0 or min(ay, by) > y1:
        return False
    if abs(ax - bx) < EPS or abs(ay - by) < EPS:
        return True
    low, high = 0.0, 1.0
    dx, dy = bx - ax, by - ay
    for p_, q_ in ((-dx, ax - x0), (dx, x1 - ax), (-dy, ay - y0), (dy, y1 - ay)):
        ratio = q_ / p_
        if p_ < 0:
            low = max(low, ratio)
        else:
            high = min(high, ratio)
        if low > high:
            return False
    return True


class _Segments:
    """The lines drawn on a page, found by the rows they touch (labels and connectors beside a step
    look only at its row's lines, not at every line of a tall web drawing)."""

    def __init__(self, tops: list[float], bottoms: list[float]):
        self.tops, self.bottoms = tops, bottoms
        self.rows: list[list[tuple[Point, Point]]] = [[] for _top in tops]
        self.history: list[tuple[tuple[Point, Point], list[int]]] = []

    def __iadd__(self, segments) -> _Segments:
        for p, q in segments:
            y0, y1 = min(p[1], q[1]), max(p[1], q[1])
            k = bisect_left(self.bottoms, y0)
            rows = []
            while k < len(self.tops) and self.tops[k] <= y1:
                self.rows[k].append((p, q))
                rows.append(k)
                k += 1
            self.history.append(((p, q), rows))
        return self

    def undo(self, count: int) -> None:
        for _ in range(count):
            segment, rows = self.history.pop()
            for k in rows:
                self.rows[k].remove(segment)

    def near(self, y0: float, y1: float) -> list[tuple[Point, Point]]:
        """The lines touching the rows that the band from ``y0`` to ``y1`` touches."""
        k = bisect_left(self.bottoms, y0)
        found: dict[int, tuple[Point, Point]] = {}
        while k < len(self.tops) and self.tops[k] <= y1:
            for segment in self.rows[k]:
                found[id(segment)] = segment
            k += 1
        return list(found.values())


class Canvas:
    """One page of the drawing while its flows are routed: what stands where, and what is still free."""

    def __init__(self, page: PageLayout, lay: Layout):
        self.page, self.cols, self.number = page, lay.cols, page.number
        self.symbols: dict[int, Symbol] = {}
        self.exits: dict[int, Symbol] = {}
        self.index: dict[int, int] = {}
        self.spans: list[tuple[float, float, Symbol | None]] = []
        for position, row in enumerate(page.rows):
            symbol = None
            if row.part == 0:
                symbol = self._place(row, lay)
                self.index[row.node.nomor] = position
            self.spans.append((row.y, row.bottom, symbol))
        self.row_bottoms = [bottom for _top, bottom, _symbol in self.spans]
        # (x, y0, y1, into) of every vertical run; ``into``: the (step, side) it ends in, if it does
        self.runs: list[tuple[float, float, float, tuple | None]] = []
        self.blocks: list[Box] = []  # labels and connectors: runs keep out
        self.connector_blocks: list[Box] = []  # connectors: even a last resort keeps out
        self.leads: dict[tuple[str, float], list[tuple[float, float]]] = {}
        self.flows: list[Flow] = []
        self.labels: list[Label] = []
        self.connectors: list[Connector] = []
        self.segments = _Segments([top for top, _bottom, _symbol in self.spans], self.row_bottoms)
        self.segments += self._grid()
        for symbol in [*self.symbols.values(), *self.exits.values()]:
            self.segments += symbol.outline()

    def _place(self, row, lay: Layout) -> Symbol:
        node, sizes = row.node, lay.shapes
        width, height = sizes.size(node.kind)
        group = symbol_group_height(node, sizes)
        top = row.y + ABOVE + (row.height - ABOVE - BELOW - group) / 2
        cx, cy = self.cols.centre(node.column), top + height / 2
        band = max(width, sizes.exit[0] if has_exit(node) else 0.0) / 2 + CLEAR_SYMBOL
        symbol = Symbol(node.nomor, node.kind, node.column, cx, cy, width / 2, height / 2, band, row.y, row.bottom)
        self.symbols[node.nomor] = symbol
        if has_exit(node):
            ew, eh = sizes.exit
            self.exits[node.nomor] = Symbol(node.nomor, "exit", node.column, cx, cy + height / 2 + EXIT_GAP + eh / 2,
                                            ew / 2, eh / 2, band, row.y, row.bottom)
        return symbol

    def _grid(self) -> list[tuple[Point, Point]]:
        page, cols = self.page, self.cols
        ys = [row.y for row in page.rows] + [row.bottom for row in page.rows]
        for strip in (page.top_strip, page.bottom_strip):
            if strip is not None:
                ys += [strip, strip + STRIP]
        if not ys:
            return []
        top, bottom = min(ys), max(ys)
        lines = [((x, top), (x, bottom)) for x in cols.lines]
        lines += [((0.0, y), (cols.total_width, y)) for y in sorted(set(ys))]
        return lines

    # -- free places ---------------------------------------------------------------------------
    def blocked(self, y0: float, y1: float, ignore=(), *, mode: int = 0, into: tuple | None = None
                ) -> tuple[list[float], list[float]]:
        """The x intervals a vertical run from ``y0`` to ``y1`` may not take, merged and sorted.
        A run ending ``into`` the same side of the same step may join another that does (they merge
        on the way in). ``mode`` 1 lets it share a slot with any flow, 2 also pass labels, 3 also
        connectors (last resorts: only symbols are never passed)."""
        intervals = []
        k = bisect_right(self.row_bottoms, y0)
        while k < len(self.spans) and self.spans[k][0] < y1:
            symbol = self.spans[k][2]
            if symbol is not None and symbol.nomor not in ignore:
                intervals.append((symbol.cx - symbol.band, symbol.cx + symbol.band))
            k += 1
        if mode == 0:
            for x, a, b, end in self.runs:
                if a < y1 + RUN_GAP and b > y0 - RUN_GAP and (into is None or end != into):
                    intervals.append((x - PITCH + EPS, x + PITCH - EPS))
        for x0, b0, x1, b1 in self.blocks if mode < 2 else self.connector_blocks if mode == 2 else ():
            if b0 < y1 and b1 > y0:
                intervals.append((x0, x1))
        intervals.sort()
        starts, ends = [], []
        for a, b in intervals:
            if starts and a <= ends[-1]:
                ends[-1] = max(ends[-1], b)
            else:
                starts.append(a)
                ends.append(b)
        return starts, ends

    @staticmethod
    def free(x: float, merged: tuple[list[float], list[float]]) -> bool:
        starts, ends = merged
        k = bisect_left(starts, x)
        return k == 0 or ends[k - 1] <= x

    def nearest_slots(self, lo: float, hi: float, a: float, b: float):
        """The slots in [lo, hi], cheapest first for a run between ports at ``a`` and ``b``."""
        slots = self.cols.slots
        i0, i1 = bisect_left(slots, lo - EPS), bisect_right(slots, hi + EPS)
        m0, m1 = min(a, b), max(a, b)
        j0, j1 = bisect_left(slots, m0, i0, i1), bisect_right(slots, m1, i0, i1)
        inside = range(j0, j1) if a <= b else range(j1 - 1, j0 - 1, -1)  # nearest the first port first
        for j in inside:
            yield slots[j]
        left, right = j0 - 1, j1
        while left >= i0 or right < i1:
            if right >= i1 or (left >= i0 and m0 - slots[left] <= slots[right] - m1):
                yield slots[left]
                left -= 1
            else:
                yield slots[right]
                right += 1

    def _clear_of_labels(self, attach: Attach) -> Attach | None:
        """``attach`` with its x range narrowed so that its legs pass no label, or None if they cannot."""
        lo, hi = attach.lo, attach.hi
        legs = attach.legs
        for x0, y0, x1, y1 in (label.box for label in self.labels):
            grown = (x0 - LABEL_CLEAR, y0 - LABEL_CLEAR, x1 + LABEL_CLEAR, y1 + LABEL_CLEAR)
            if any(segment_hits_box(p, q, grown) for p, q in zip(legs, legs[1:])):
                return None
            if grown[1] <= attach.y <= grown[3]:  # the leg out to the run passes at the label's height
                start = legs[-1][0]
                if grown[0] <= start <= grown[2]:
                    return None
                if grown[0] > start:
                    hi = min(hi, grown[0] - EPS)
                else:
                    lo = max(lo, grown[2] + EPS)
        if lo > hi or (attach.fixed is not None and not lo - EPS <= attach.fixed <= hi + EPS):
            return None
        return attach if (lo, hi) == (attach.lo, attach.hi) else Attach(**{**vars(attach), "lo": lo, "hi": hi})

    def best(self, starts: list[Attach], ends: list[Attach], ignore, *, mode: int = 0):
        """The cheapest (cost, x, start, end) joining one of ``starts`` to one of ``ends``, or None."""
        best = None
        if mode < 2:
            starts = [a for a in map(self._clear_of_labels, starts) if a is not None]
            ends = [a for a in map(self._clear_of_labels, ends) if a is not None]
        for s in starts:
            for e in ends:
                if s.other_below is not None and s.other_below != (e.y > s.y):
                    continue
                if e.other_below is not None and e.other_below != (s.y > e.y):
                    continue
                if s.symbol is e.symbol and abs(s.y - e.y) < EPS:
                    continue
                lo, hi = max(s.lo, e.lo), min(s.hi, e.hi)
                if lo > hi + EPS:
                    continue
                base = s.penalty + e.penalty
                if best is not None and base + abs(s.anchor - e.anchor) >= best[0]:
                    continue
                merged = self.blocked(min(s.y, e.y), max(s.y, e.y), ignore, mode=mode, into=_into(e))
                fixed = s.fixed if s.fixed is not None else e.fixed
                if fixed is not None:
                    candidates = [fixed] if lo - EPS <= fixed <= hi + EPS else []
                else:
                    candidates = self.nearest_slots(lo, hi, s.anchor, e.anchor)
                for x in candidates:
                    cost = base + abs(x - s.anchor) + abs(x - e.anchor)
                    if best is not None and cost >= best[0]:
                        break
                    if self.free(x, merged):
                        best = (cost, x, s, e)
                        break
        return best

    # -- connector strips ------------------------------------------------------------------------
    def strip(self, where: str) -> tuple[float, float, float]:
        """(inner line, direction into the strip, the connectors' near edge) of the head or foot strip."""
        if where == "bottom":
            inner, sign = self.page.bottom_strip, 1.0
        else:
            inner, sign = self.page.top_strip + STRIP, -1.0
        return inner, sign, inner + sign * CONNECTOR_INSET

    def _slot_free(self, where: str, x: float) -> bool:
        return all(abs(x - c.x) >= CONNECTOR_W + 1.0 for c in self.connectors if c.where == where)

    def _lead_free(self, where: str, level: float, x0: float, x1: float) -> bool:
        return all(x1 + 0.8 < a or x0 - 0.8 > b for a, b in self.leads.get((where, level), []))

    def to_strip(self, attaches: list[Attach], where: str, ignore, *, mode: int = 0, merge: bool = False):
        """The cheapest way from one of ``attaches`` to a new connector in the strip ``where``:
        (cost, attach, x, connector x, lead level or None), or None when the strip is full."""
        inner, sign, edge = self.strip(where)
        if mode < 2:
            attaches = [a for a in map(self._clear_of_labels, attaches) if a is not None]
        fits = [c for c in self.cols.slots if self.cols.connector_fits(c) and (mode >= 2 or self._slot_free(where, c))]
        best = None
        for a in attaches:
            if a.other_below is not None and a.other_below != (edge > a.y):
                continue
            into = _into(a) if merge else None
            merged = self.blocked(min(a.y, edge), max(a.y, edge), ignore, mode=mode, into=into)
            xs = [a.fixed] if a.fixed is not None else list(self.nearest_slots(a.lo, a.hi, a.anchor, a.anchor))
            for x in xs:  # straight into a connector
                cost = a.penalty + abs(x - a.anchor)
                if best is not None and cost >= best[0]:
                    break
                if (self.cols.connector_fits(x) and (mode >= 2 or self._slot_free(where, x))
                        and self.free(x, merged)):
                    best = (cost, a, x, x, None)
                    break
            if not fits:
                continue
            for level in LEAD_LEVELS:  # or along a lead to one beside
                lead_y = inner + sign * level
                merged = self.blocked(min(a.y, lead_y), max(a.y, lead_y), ignore, mode=mode, into=into)
                for x in xs:
                    base = a.penalty + abs(x - a.anchor) + 2.0
                    if best is not None and base >= best[0]:
                        break
                    if not self.free(x, merged):
                        continue
                    for c in sorted(fits, key=lambda c: abs(c - x)):
                        cost = base + abs(c - x)
                        if best is not None and cost >= best[0]:
                            break
                        if mode > 0 or self._lead_free(where, level, min(x, c), max(x, c)):
                            best = (cost, a, x, c, level)
                            break
                    break
        return best

    def connector(self, pair: int, where: str, x: float, level: float | None, run_from: float) -> tuple[Connector, list[Point]]:
        """Place a connector at ``x`` and reserve the way to it from a run at ``run_from`` (its x)."""
        inner, sign, edge = self.strip(where)
        top, bottom = (edge, edge + CONNECTOR_H) if where == "bottom" else (edge - CONNECTOR_H, edge)
        connector = Connector(pair, where, x, top, bottom)
        self.connectors.append(connector)
        self._block_connector((x - CONNECTOR_W / 2 - 0.5, top - 0.3, x + CONNECTOR_W / 2 + 0.5, bottom + 0.3))
        self.segments += [((x - CONNECTOR_W / 2, top), (x + CONNECTOR_W / 2, top)),
                          ((x - CONNECTOR_W / 2, bottom), (x + CONNECTOR_W / 2, bottom)),
                          ((x - CONNECTOR_W / 2, top), (x - CONNECTOR_W / 2, bottom)),
                          ((x + CONNECTOR_W / 2, top), (x + CONNECTOR_W / 2, bottom))]
        if level is None:
            return connector, [(x, edge)]
        lead_y = inner + sign * level
        self.leads.setdefault((where, level), []).append((min(run_from, x), max(run_from, x)))
        self.runs.append((x, min(lead_y, edge), max(lead_y, edge), None))
        return connector, [(run_from, lead_y), (x, lead_y), (x, edge)]

    def beside(self, symbol: Symbol, attaches: list[Attach], *, on_page: bool, leg: float = 0.0) -> tuple[Attach, float] | None:
        """Where a connector can stand beside ``symbol``, on the level of one of its sides, when no
        free slot leads anywhere: (the side's attach, the connector's x), nearest the symbol, at
        least ``leg`` from it (room for a Ya/Tidak on the way)."""
        half_w, half_h = (ON_PAGE_R, ON_PAGE_R) if on_page else (CONNECTOR_W / 2, CONNECTOR_H / 2)
        cols = self.cols
        for attach in attaches:
            if attach.fixed is not None:  # straight down or up: no room beside
                continue
            attach = self._clear_of_labels(attach)
            if attach is None:
                continue
            y = attach.y
            merged = self.blocked(y - half_h - 0.3, y + half_h + 0.3)
            box_near = self.segments.near(y - half_h - 0.3, y + half_h + 0.3)
            sign = 1.0 if attach.lo > symbol.cx else -1.0  # a side, or the leg of the top or bottom
            x = symbol.cx + sign * max(symbol.band + half_w + 0.3, symbol.half_w + leg + half_w)
            while cols.area[0] <= x <= cols.area[1]:
                near_edge = x - sign * half_w
                column = int((x - cols.actor_x[0]) // cols.actor_width)
                left = cols.actor_x[0] + column * cols.actor_width
                inside = left + 0.5 <= x - half_w and x + half_w <= left + cols.actor_width - 0.5
                if inside and attach.lo - EPS <= near_edge <= attach.hi + EPS:
                    x0, x1 = x - half_w - 0.3, x + half_w + 0.3
                    starts, ends = merged
                    k = bisect_left(starts, x1)
                    clear = k == 0 or ends[k - 1] <= x0
                    box = (x0, y - half_h - 0.3, x1, y + half_h + 0.3)
                    if clear and not any(segment_hits_box(p, q, box) for p, q in box_near):
                        return attach, x
                x += sign * 0.5
        return None

    def _block_connector(self, box: Box) -> None:
        self.blocks.append(box)
        self.connector_blocks.append(box)

    def place_beside(self, pair: int, attach: Attach, x: float, *, on_page: bool, part: str) -> list[Point]:
        """Put a connector at ``x`` beside ``attach``'s side; the flow's points from the port to it."""
        half_w, half_h = (ON_PAGE_R, ON_PAGE_R) if on_page else (CONNECTOR_W / 2, CONNECTOR_H / 2)
        y = attach.y
        top = y - half_h
        self.connectors.append(Connector(pair, "row", x, top, top + 2 * half_h, on_page=on_page))
        self._block_connector((x - half_w - 0.5, top - 0.3, x + half_w + 0.5, top + 2 * half_h + 0.3))
        self.segments += [((x - half_w, top), (x + half_w, top)), ((x - half_w, top + 2 * half_h), (x + half_w, top + 2 * half_h)),
                          ((x - half_w, top), (x - half_w, top + 2 * half_h)), ((x + half_w, top), (x + half_w, top + 2 * half_h))]
        if attach.symbol is not None:
            attach.symbol.ports[attach.side] = part
        near_edge = x - half_w if x > attach.legs[-1][0] else x + half_w
        return _simplify([*attach.legs, (near_edge, y)])

    # -- drawing flows -----------------------------------------------------------------------------
    def add_flow(self, flow: Flow) -> Flow:
        self.flows.append(flow)
        self.segments += list(zip(flow.points, flow.points[1:]))
        return flow

    def run(self, x: float, y0: float, y1: float, into: tuple | None = None) -> None:
        self.runs.append((x, min(y0, y1), max(y0, y1), into))

    def commit(self, edge: Edge, start: Attach, end: Attach, x: float, *, shared: bool = False) -> Flow:
        points = _simplify([*start.legs, (x, start.y), (x, end.y), *reversed(end.legs)])
        self.run(x, start.y, end.y, _into(end))
        for attach, use in ((start, "out"), (end, "in")):
            if attach.symbol is not None:
                attach.symbol.ports[attach.side] = use
        return self.add_flow(Flow(edge, points, shared=shared))

    def place_label(self, flow: Flow, text: str, symbol: Symbol) -> Label:
        """Ya/Tidak beside one of the flow's first three stretches, in its step's row, where it
        crosses no line: the place nearest the symbol, at full size unless only a smaller one fits."""
        area = self.cols.area
        region = (area[0] + LABEL_CLEAR, symbol.row_top + LABEL_CLEAR, area[1] - LABEL_CLEAR,
                  symbol.row_bottom - LABEL_CLEAR)
        near = self.segments.near(region[1], region[3])
        for x0, y0, x1, y1 in [label.box for label in self.labels] + [
                (c.x - CONNECTOR_W / 2, c.top, c.x + CONNECTOR_W / 2, c.bottom) for c in self.connectors]:
            if y0 <= region[3] and y1 >= region[1]:
                near += [((x0, y0), (x1, y0)), ((x0, y1), (x1, y1)), ((x0, y0), (x0, y1)), ((x1, y0), (x1, y1))]
        boxes = [((p[0], q[0]) if p[0] <= q[0] else (q[0], p[0]), (p[1], q[1]) if p[1] <= q[1] else (q[1], p[1]), p, q)
                 for p, q in near]
        best = None
        travelled = 0.0
        reach = text_width(text, LABEL_SIZES[0]) + LABEL_GAP + LABEL_CLEAR
        for a, b in list(zip(flow.points, flow.points[1:]))[:3]:
            x0, x1 = (a[0], b[0]) if a[0] <= b[0] else (b[0], a[0])
            y0, y1 = (a[1], b[1]) if a[1] <= b[1] else (b[1], a[1])
            x0, x1, y0, y1 = x0 - reach, x1 + reach, y0 - reach, y1 + reach
            close = [(p, q) for (sx0, sx1), (sy0, sy1), p, q in boxes if sx1 >= x0 and sx0 <= x1 and sy1 >= y0 and sy0 <= y1]
            for rank, size in enumerate(LABEL_SIZES):
                width, height = text_width(text, size), (ASCENT + DESCENT) * size
                for before in (True, False):
                    spot = _spot(a, b, width, height, before, close, region)
                    if spot is not None:
                        score = travelled + spot[0] + 3.0 * rank + (0.0 if before else 0.2)
                        if best is None or score < best[0]:
                            best = (score, spot[1], size)
            travelled += abs(b[0] - a[0]) + abs(b[1] - a[1])
        if best is None:  # nothing free beside the flow (a crowded sheet): the free place nearest its start
            best = _nearest_free(flow.points[0], text, near, region)
        _score, box, size = best
        return self._keep_label(flow, Label(text, box, size))

    def _keep_label(self, flow: Flow, label: Label) -> Label:
        flow.label = label
        self.labels.append(label)
        x0, y0, x1, y1 = label.box
        self.blocks.append((x0 - LABEL_GAP, y0 - LABEL_CLEAR, x1 + LABEL_GAP, y1 + LABEL_CLEAR))
        return label


def _span_within(p: Point, q: Point, band: tuple[float, float], horizontal: bool) -> tuple[float, float] | None:
    """Of the segment p–q, the part whose coordinate across a stretch (y for a horizontal stretch,
    x for a vertical one) lies in ``band``: its extent along the stretch, or None."""
    across = (p[1], q[1]) if horizontal else (p[0], q[0])
    along = (p[0], q[0]) if horizontal else (p[1], q[1])
    delta = across[1] - across[0]
    if abs(delta) < EPS:
        if not band[0] <= across[0] <= band[1]:
            return None
        low, high = 0.0, 1.0
    else:
        t0, t1 = sorted(((band[0] - across[0]) / delta, (band[1] - across[0]) / delta))
        low, high = max(0.0, t0), min(1.0, t1)
        if low > high:
            return None
    ends = (along[0] + low * (along[1] - along[0]), along[0] + high * (along[1] - along[0]))
    return min(ends), max(ends)


def _spot(a: Point, b: Point, width: float, height: float, before: bool, near, region: Box):
    """The free place for a label box beside the stretch a–b (above/right of it if ``before``, else
    below/left), nearest ``a``: (distance from a, box), or None."""
    (ax, ay), (bx, by) = a, b
    horizontal = abs(ay - by) < EPS
    if horizontal:
        across = (ay - LABEL_GAP - height, ay - LABEL_GAP) if before else (ay + LABEL_GAP, ay + LABEL_GAP + height)
        size, start, end, bounds, limits = width, ax, bx, (region[1], region[3]), (region[0], region[2])
    else:
        across = (ax + LABEL_GAP, ax + LABEL_GAP + width) if before else (ax - LABEL_GAP - width, ax - LABEL_GAP)
        size, start, end, bounds, limits = height, ay, by, (region[0], region[2]), (region[1], region[3])
    if across[0] < bounds[0] or across[1] > bounds[1]:
        return None
    forward = end > start
    # m: the box's lower coordinate along the stretch; the box begins on the stretch, past its first 0.3 mm.
    lo, hi = (start + 0.3, end) if forward else (end - size, start - 0.3 - size)
    lo, hi = max(lo, limits[0]), min(hi, limits[1] - size)
    if lo > hi:
        return None
    band = (across[0] - LABEL_CLEAR, across[1] + LABEL_CLEAR)
    blocked = []
    for p, q in near:
        span = _span_within(p, q, band, horizontal)
        if span is not None:
            blocked.append((span[0] - LABEL_CLEAR - size, span[1] + LABEL_CLEAR))
    blocked.sort()
    if forward:
        m = lo
        for low, high in blocked:
            if high <= m:
                continue
            if low >= m:
                break
            m = high
        if m > hi:
            return None
        distance = m - start
    else:
        m = hi
        for low, high in sorted(blocked, key=lambda span: -span[1]):
            if low >= m:
                continue
            if high <= m:
                break
            m = low
        if m < lo:
            return None
        distance = start - (m + size)
    if horizontal:
        return distance, (m, across[0], m + size, across[1])
    return distance, (across[0], m, across[1], m + size)


def _nearest_free(port: Point, text: str, near, region: Box) -> tuple[float, Box, float]:
    """The box for a label nearest ``port`` within ``region`` that crosses none of ``near`` (searched
    on a 0.5 mm grid up to 10 mm away); beside the port if there is none."""
    size = LABEL_SIZES[-1]
    width, height = text_width(text, size), (ASCENT + DESCENT) * size
    px, py = port
    spots = sorted(((dx * 0.5, dy * 0.5) for dx in range(-20, 21) for dy in range(-20, 21)),
                   key=lambda d: abs(d[0]) + abs(d[1]))
    for dx, dy in spots:
        x0 = px + dx - (width if dx < 0 else 0.0)
        y0 = py + dy - (height if dy < 0 else 0.0)
        box = (x0, y0, x0 + width, y0 + height)
        if not (region[0] <= box[0] and box[2] <= region[2] and region[1] <= box[1] and box[3] <= region[3]):
            continue
        grown = (box[0] - LABEL_CLEAR, box[1] - LABEL_CLEAR, box[2] + LABEL_CLEAR, box[3] + LABEL_CLEAR)
        if not any(segment_hits_box(p, q, grown) for p, q in near):
            return abs(dx) + abs(dy), box, size
    return 0.0, (px + LABEL_GAP, py + LABEL_GAP, px + LABEL_GAP + width, py + LABEL_GAP + height), size


def connector_labels():
    """A, B, … Z, then A1, B1, … Z1, A2, …"""
    letters = string.ascii_uppercase
    yield from letters
    number = 1
    while True:
        for letter in letters:
            yield f"{letter}{number}"
        number += 1


class Router:
    """Routes every flow of the sheet over the pages' canvases."""

    def __init__(self, sheet: Sheet, canvases: list[Canvas]):
        self.sheet, self.canvases = sheet, canvases
        self.page_of = {nomor: canvas for canvas in canvases for nomor in canvas.symbols}
        self.order = {node.nomor: i for i, node in enumerate(sheet.nodes)}
        self.port: dict[Edge, str] = {}
        self.pairs = 0

    def route(self) -> None:
        edges = [edge for edge in self.sheet.edges if edge.source in self.page_of
                 and (edge.target is None or edge.target in self.page_of)]
        self._plan(edges)
        adjacent = [edge for edge in edges if self._adjacent(edge)]
        exits = [edge for edge in edges if edge.target is None]
        done = set(adjacent) | set(exits)
        rest = sorted((edge for edge in edges if edge not in done),
                      key=lambda e: abs(self.order[e.target] - self.order[e.source]))
        for edge in adjacent:
            self._route_adjacent(edge)
        for edge in exits:
            self._route_exit(edge)
        for edge in rest:
            self._route_long(edge)
        self._letter()

    def _symbol(self, nomor: int) -> Symbol:
        return self.page_of[nomor].symbols[nomor]

    def _plan(self, edges: list[Edge]) -> None:
        """Fix the side each flow leaves by before any flow is routed, so that flows coming in never
        take a side a step needs for its own way out: the end of the run and the next row by the
        bottom, the others by the side that faces their target."""
        by_source: dict[int, list[Edge]] = {}
        for edge in edges:
            by_source.setdefault(edge.source, []).append(edge)
        for nomor, outs in by_source.items():
            symbol = self._symbol(nomor)
            plan: dict[Edge, str] = {}
            ends = [edge for edge in outs if edge.target is None]
            if ends:
                plan[ends[0]] = "bottom"
            for edge in outs:
                if (edge not in plan and edge.target is not None and "bottom" not in plan.values()
                        and self.order[edge.target] == self.order[nomor] + 1):
                    plan[edge] = "bottom"
            for edge in outs:
                if edge in plan:
                    continue
                target = None if edge.target is None else self._symbol(edge.target)
                facing = "left" if target is not None and target.column < symbol.column else "right"
                other = "right" if facing == "left" else "left"
                plan[edge] = next(side for side in (facing, other, "bottom") if side not in plan.values())
            for edge, side in plan.items():
                symbol.ports[side] = "out"
                self.port[edge] = side

    def _adjacent(self, edge: Edge) -> bool:
        if edge.target is None or self.port[edge] != "bottom":
            return False
        canvas = self.page_of[edge.source]
        return (self.page_of[edge.target] is canvas
                and canvas.index[edge.target] == canvas.index[edge.source] + 1)

    @staticmethod
    def _label_room(edge: Edge) -> float:
        """How long the first stretch of a flow must be to hold its Ya/Tidak at the smallest size."""
        if edge.kind not in ("ya", "tidak"):
            return 0.0
        return text_width(_("Yes") if edge.kind == "ya" else _("No"), LABEL_SIZES[-1]) + 0.6 + LABEL_CLEAR + 0.3

    def _label(self, canvas: Canvas, flow: Flow, symbol: Symbol) -> None:
        if flow.edge.kind in ("ya", "tidak"):
            canvas.place_label(flow, _("Yes") if flow.edge.kind == "ya" else _("No"), symbol)

    def _route_adjacent(self, edge: Edge) -> None:
        canvas = self.page_of[edge.source]
        src, tgt = canvas.symbols[edge.source], canvas.symbols[edge.target]
        if abs(src.cx - tgt.cx) < EPS:
            points = [(src.cx, src.bottom), (tgt.cx, tgt.top)]
            canvas.run(src.cx, src.bottom, tgt.top)
        else:
            turn = tgt.row_top - CLEAR_LINE  # just above the line between the rows
            points = [(src.cx, src.bottom), (src.cx, turn), (tgt.cx, turn), (tgt.cx, tgt.top)]
            canvas.run(src.cx, src.bottom, turn)
            canvas.run(tgt.cx, turn, tgt.top)
        tgt.ports["top"] = "in"
        self._label(canvas, canvas.add_flow(Flow(edge, points)), src)

    def _route_exit(self, edge: Edge) -> None:
        canvas = self.page_of[edge.source]
        src, end = canvas.symbols[edge.source], canvas.exits[edge.source]
        side = self.port[edge]
        if side == "bottom":
            canvas.run(src.cx, src.bottom, end.top)
            end.ports["top"] = "in"
            flow = canvas.add_flow(Flow(edge, [(src.cx, src.bottom), (src.cx, end.top)]))
        else:  # both answers end the run: the second comes round into the Selesai's side
            found, shared = self._search(canvas, src, side, in_attaches(end, sides=("left", "right")), {src.nomor})
            _cost, x, start, finish = found
            flow = canvas.commit(edge, start, finish, x, shared=shared)
        self._label(canvas, flow, src)

    def _spare_sides(self, symbol: Symbol, side: str) -> list[str]:
        """The planned side first, then any side no other flow uses (when the planned one is shut in)."""
        return [side] + [other for other in ("left", "right", "bottom") if other != side and other not in symbol.ports]

    def _search(self, canvas: Canvas, src: Symbol, side: str, ends: list[Attach], ignore):
        """The cheapest way from ``src`` to one of ``ends``: by the planned side, then a spare side,
        then sharing a slot, then (last resort) passing a label. Returns (found, shared)."""
        for mode in (0, 1, 2, 3):
            for out in self._spare_sides(src, side):
                found = canvas.best(out_attaches(src, out), ends, ignore, mode=mode)
                if found is not None:
                    return found, mode > 0
        raise AssertionError("no way between two symbols: cannot happen, a side always has a slot")

    def _route_long(self, edge: Edge) -> None:
        src_page, tgt_page = self.page_of[edge.source], self.page_of[edge.target]
        src, tgt = self._symbol(edge.source), self._symbol(edge.target)
        side = self.port[edge]
        if src_page is tgt_page:
            ignore = {src.nomor, tgt.nomor}
            for out in self._spare_sides(src, side):
                found = src_page.best(out_attaches(src, out), in_attaches(tgt), ignore)
                if found is not None:
                    self._commit(src_page, edge, src, side, found, shared=False)
                    return
            if self._beside(edge, src_page, src, side, src_page, tgt, on_page=True):
                return
            found, shared = self._search(src_page, src, side, in_attaches(tgt), ignore)  # shares a slot
            self._commit(src_page, edge, src, side, found, shared=shared)
            return
        forward = src_page.number < tgt_page.number
        pair, self.pairs = self.pairs, self.pairs + 1
        # The source's half: to a connector at the foot (going on) or the head (going back).
        out_where, in_where = ("bottom", "top") if forward else ("top", "bottom")
        flow = self._strip_half(src_page, edge, src, side, out_where, pair)
        self._label(src_page, flow, src)
        # The target's half: from the twin connector at the head (coming on) or the foot (coming back).
        self._strip_half(tgt_page, edge, tgt, None, in_where, pair)

    def _commit(self, canvas: Canvas, edge: Edge, src: Symbol, side: str, found, *, shared: bool) -> None:
        _cost, x, start, end = found
        if start.side != side:
            src.ports.pop(side, None)
        self._label(canvas, canvas.commit(edge, start, end, x, shared=shared), src)

    def _strip_half(self, canvas: Canvas, edge: Edge, symbol: Symbol, side: str | None, where: str, pair: int) -> Flow:
        """One half of a flow across a page break: to (from) a connector in the strip, else beside the
        step, else sharing a slot. ``side``: the planned side of the source; None for the target."""
        sides = self._spare_sides(symbol, side) if side else [None]
        ignore = {symbol.nomor}
        for out in sides:
            attaches = out_attaches(symbol, out) if side else in_attaches(symbol)
            flow = self._half(canvas, edge, attaches, where, ignore, pair, "out" if side else "in", 0)
            if flow is not None:
                if side and out != side:
                    symbol.ports.pop(side, None)
                return flow
        attaches = [a for out in sides for a in (out_attaches(symbol, out) if side else in_attaches(symbol))]
        spot = canvas.beside(symbol, attaches, on_page=False, leg=self._label_room(edge) if side else 0.0)
        if spot is not None:
            attach, x = spot
            if side and attach.side != side:
                symbol.ports.pop(side, None)
            part = "out" if side else "in"
            points = canvas.place_beside(pair, attach, x, on_page=False, part=part)
            return canvas.add_flow(Flow(edge, points if side else points[::-1], part=part))
        for mode in (1, 2, 3):
            for out in sides:
                attaches = out_attaches(symbol, out) if side else in_attaches(symbol)
                flow = self._half(canvas, edge, attaches, where, ignore, pair, "out" if side else "in", mode)
                if flow is not None:
                    return flow
        raise AssertionError("a strip always takes a connector in the last resort")

    def _beside(self, edge: Edge, canvas: Canvas, src: Symbol, side: str, tgt_canvas: Canvas, tgt: Symbol, *,
                on_page: bool) -> bool:
        """Join src to tgt by a pair of connectors standing beside them, when no slot is free."""
        out = canvas.beside(src, [a for out in self._spare_sides(src, side) for a in out_attaches(src, out)],
                            on_page=on_page, leg=self._label_room(edge))
        if out is None:
            return False
        pair = self.pairs
        attach, x = out
        points = canvas.place_beside(pair, attach, x, on_page=on_page, part="out")
        into = tgt_canvas.beside(tgt, in_attaches(tgt), on_page=on_page)
        if into is None:  # undo the first
            canvas.connectors.pop()
            canvas.blocks.pop()
            canvas.connector_blocks.pop()
            canvas.segments.undo(4)
            attach.symbol.ports.pop(attach.side, None)
            src.ports[side] = "out"
            return False
        if attach.side != side:
            src.ports.pop(side, None)
        self.pairs += 1
        flow = canvas.add_flow(Flow(edge, points, part="out"))
        self._label(canvas, flow, src)
        tgt_attach, tgt_x = into
        tgt_points = tgt_canvas.place_beside(pair, tgt_attach, tgt_x, on_page=on_page, part="in")
        tgt_canvas.add_flow(Flow(edge, tgt_points[::-1], part="in"))
        return True

    @staticmethod
    def _half(canvas: Canvas, edge: Edge, attaches: list[Attach], where: str, ignore, pair: int, part: str,
              mode: int) -> Flow | None:
        found = canvas.to_strip(attaches, where, ignore, mode=mode, merge=part == "in")
        if found is None:
            return None
        _cost, attach, x, c, level = found
        _connector, tail = canvas.connector(pair, where, c, level, x)
        canvas.run(x, attach.y, tail[0][1], _into(attach) if part == "in" else None)
        if attach.symbol is not None:
            attach.symbol.ports[attach.side] = part
        points = _simplify([*attach.legs, (x, attach.y), *tail])
        if part == "in":
            points = points[::-1]
        return canvas.add_flow(Flow(edge, points, part=part, shared=mode > 0))

    def _letter(self) -> None:
        """Letter the connector pairs in reading order (by page, then down the page, then across):
        off-page connectors A, B, C…, on-page ones 1, 2, 3…"""
        first: dict[int, tuple] = {}
        found: dict[int, list[Connector]] = {}
        for canvas in self.canvases:
            for connector in canvas.connectors:
                key = (canvas.number, connector.top, connector.x)
                first[connector.pair] = min(first.get(connector.pair, key), key)
                found.setdefault(connector.pair, []).append(connector)
        letters, numbers = connector_labels(), iter(range(1, 10_000))
        for pair in sorted(first, key=first.get):
            label = str(next(numbers)) if found[pair][0].on_page else next(letters)
            for connector in found[pair]:
                connector.label = label
