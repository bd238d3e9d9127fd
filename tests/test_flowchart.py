"""The flowchart sopflow draws: symbols in their actors' columns, one arrow per flow, none crossing a symbol."""

import random
import re
from collections import Counter
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from django.utils import translation

from procedures import flowchart
from procedures.flowchart import KEPUTUSAN, MULAI, PROSES, SELESAI, Node, Sheet
from procedures.library import sop_import_files
from procedures.models import SopRevision, Step

SEEDS = sorted((Path(__file__).resolve().parent.parent / "fixtures" / "sops").glob("*.yaml"))
NS = "{http://www.w3.org/2000/svg}"
A4 = (277.0, 190.0)  # the landscape content box of an A4 page with 10 mm margins
F4 = (310.0, 195.0)


@pytest.fixture
def seeds(db):
    sop_import_files(files=[(path.name, path.read_bytes()) for path in SEEDS])
    return list(SopRevision.objects.select_related("sop").order_by("sop__kode"))


def svg_of(page: str) -> ET.Element:
    """The SVG element of a page (a PDF page wraps it with the cells' text)."""
    return ET.fromstring(flowchart.page_svg(page))


def groups(svg: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in svg.iter(f"{NS}g") if g.get("class") == cls]


def box(group: ET.Element) -> tuple[float, float, float, float]:
    """Bounding box of a symbol, exit or connector shape."""
    shape = next(el for el in group if el.tag in (f"{NS}rect", f"{NS}polygon"))
    if shape.tag == f"{NS}rect":
        x, y = float(shape.get("x")), float(shape.get("y"))
        return x, y, x + float(shape.get("width")), y + float(shape.get("height"))
    points = [tuple(map(float, p.split(","))) for p in shape.get("points").split()]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def segments(flow: ET.Element):
    line = flow.find(f"{NS}polyline")
    points = [tuple(map(float, p.split(","))) for p in line.get("points").split()]
    return list(zip(points, points[1:]))


def crosses(segment, rect, margin=0.05) -> bool:
    """Whether an axis-parallel segment enters the inside of a box (touching its edge is fine)."""
    (x1, y1), (x2, y2) = segment
    left, top, right, bottom = rect[0] + margin, rect[1] + margin, rect[2] - margin, rect[3] - margin
    lo_x, hi_x, lo_y, hi_y = min(x1, x2), max(x1, x2), min(y1, y2), max(y1, y2)
    return lo_x < right and hi_x > left and lo_y < bottom and hi_y > top


def expected_edges(sheet: Sheet) -> Counter:
    """The flows, worked out here from the steps (not with the module's own function)."""
    edges = Counter()
    for i, node in enumerate(sheet.nodes):
        if node.kind == KEPUTUSAN:
            edges[(f"{node.nomor}-{node.ya or 'selesai'}", "ya")] += 1
            edges[(f"{node.nomor}-{node.tidak or 'selesai'}", "tidak")] += 1
        elif node.kind != SELESAI and i + 1 < len(sheet.nodes):
            edges[(f"{node.nomor}-{sheet.nodes[i + 1].nomor}", "next")] += 1
    return edges


def check_drawing(sheet: Sheet, pages: list[str], *, paged: bool) -> None:
    svgs = [svg_of(page) for page in pages]
    kinds = Counter(node.kind for node in sheet.nodes)
    drawn = Counter()
    flows = Counter()
    parts = Counter()
    labels = Counter()
    for svg in svgs:
        heads = {int(g.get("data-column")): (float(g.get("x")), float(g.get("x")) + float(g.get("width")))
                 for g in svg.iter(f"{NS}rect") if g.get("class") == "col-head"}
        assert len(heads) == len(sheet.columns)
        symbols = groups(svg, "symbol")
        obstacles = []
        for symbol in symbols:
            node = next(n for n in sheet.nodes if n.nomor == int(symbol.get("data-step")))
            drawn[symbol.get("data-kind")] += 1
            assert symbol.get("data-kind") == node.kind
            x0, y0, x1, y1 = box(symbol)
            left, right = heads[node.column]
            assert left < x0 < x1 < right, f"step {node.nomor} outside its actor's column"
            obstacles.append(("symbol", symbol.get("data-step"), (x0, y0, x1, y1)))
        obstacles += [("exit", g.get("data-step"), box(g)) for g in groups(svg, "exit")]
        obstacles += [("connector", g.get("data-label"), box(g)) for g in groups(svg, "connector")]
        for g in groups(svg, "connector"):
            labels[g.get("data-label")] += 1
        for flow in groups(svg, "flow"):
            key = (flow.get("data-edge"), flow.get("data-kind"))
            if flow.get("data-part"):
                parts[key] += 1
            else:
                flows[key] += 1
            for segment in segments(flow):
                for kind, name, rect in obstacles:
                    assert not crosses(segment, rect), f"flow {key} crosses {kind} {name}"
            assert flow.find(f"{NS}polygon") is not None or flow.get("data-part") == "out"
    assert drawn == kinds, "each step is drawn once, with its own symbol"
    expected = expected_edges(sheet)
    if not paged:
        assert flows == expected and not parts, "one arrow per flow"
    else:
        for key, count in expected.items():
            assert flows[key] + parts[key] // 2 == count and parts[key] % 2 == 0, key
        assert set(flows) | set(parts) == set(expected)
    assert all(count == 2 for count in labels.values()), "each off-page connector has its twin"
    assert len(labels) * 2 == sum(parts.values())


# ---------------------------------------------------------------------------------------------
# The five seed sheets
# ---------------------------------------------------------------------------------------------

def test_each_seed_sheet_draws_every_step_in_its_column_and_every_flow_once(seeds, django_assert_max_num_queries):
    assert len(seeds) == 5
    for revision in seeds:
        with django_assert_max_num_queries(3):
            sheet = flowchart.sheet_of(revision)
        steps = list(revision.steps.order_by("nomor"))
        assert [n.kind for n in sheet.nodes] == [s.simbol for s in steps]
        tidak = [s for s in steps if s.simbol == Step.Symbol.DECISION]
        assert sum(1 for edge in sheet.edges if edge.kind == "tidak") == len(tidak)
        check_drawing(sheet, flowchart.draw(sheet, width_mm=A4[0], height_mm=None, web=True), paged=False)
        for width, height in (A4, F4):
            check_drawing(sheet, flowchart.sheet_pages(revision, width_mm=width, height_mm=height), paged=True)


def test_patroli_decisions_end_the_run_beside_the_diamond(seeds):
    revision = next(r for r in seeds if r.sop.kode == "satpolpp-patroli-pengawasan-wilayah")
    with translation.override("id"):
        svg = ET.fromstring(flowchart.flow_svg(revision))
    exits = groups(svg, "exit")
    assert sorted(int(g.get("data-step")) for g in exits) == [7, 8, 9]
    assert {g.get("data-kind") for g in exits} == {"tidak"}
    texts = {t.text for t in svg.iter(f"{NS}text")}
    assert {"Selesai", "Ya", "Tidak"} <= texts


def test_prodeskel_tidak_flows_go_back(seeds):
    revision = next(r for r in seeds if r.sop.kode == "diskominfo-prodeskel")
    svg = ET.fromstring(flowchart.flow_svg(revision))
    back = {g.get("data-edge") for g in groups(svg, "flow") if g.get("data-kind") == "tidak"}
    assert {"4-3", "5-4", "10-9"} <= back


def test_pages_repeat_the_header_and_end_with_the_total(seeds):
    revision = next(r for r in seeds if r.sop.kode == "satpolpp-bina-potensi-masyarakat")
    with translation.override("id"):
        pages = flowchart.sheet_pages(revision, width_mm=A4[0], height_mm=A4[1])
    assert len(pages) > 1
    for page in pages:
        assert "Kegiatan" in page and "Kasat Pol PP" in page and "Mutu Baku" in page
        assert 'width="277mm"' in flowchart.page_svg(page)
    assert "Jumlah Waktu" in pages[-1] and all("Jumlah Waktu" not in page for page in pages[:-1])
    total = revision.jumlah_waktu or revision.total_waktu
    assert total and total in pages[-1]
    steps_per_page = [[int(g.get("data-step")) for g in groups(svg_of(p), "symbol")] for p in pages]
    assert sum(steps_per_page, []) == list(range(1, 18)), "every step once, in order, never split"


def test_web_drawing_marks_done_current_and_left(seeds):
    revision = next(r for r in seeds if r.sop.kode == "satpolpp-patroli-pengawasan-wilayah")
    svg = ET.fromstring(flowchart.flow_svg(revision, states={1: "done", 2: "done", 3: "current"}))
    states = {int(g.get("data-step")): g.get("data-state") for g in groups(svg, "symbol")}
    assert states[1] == states[2] == "done" and states[3] == "current" and states[4] is None
    assert svg.get("width") == "100%" and svg.get("role") == "img"


# ---------------------------------------------------------------------------------------------
# Generated sheets: 1 to 100 steps, 2 to 8 columns, decisions jumping back and forth
# ---------------------------------------------------------------------------------------------

def generated(steps: int, columns: int, seed: int) -> Sheet:
    rnd = random.Random(seed)
    nodes = []
    for nomor in range(1, steps + 1):
        kind = MULAI if nomor == 1 else SELESAI if nomor == steps else PROSES
        ya = tidak = None
        if 1 < nomor < steps and rnd.random() < 0.3:
            kind = KEPUTUSAN
            ya = nomor + 1 if rnd.random() < 0.7 else rnd.randint(nomor + 1, steps)
            tidak = rnd.choice([None, rnd.randint(1, nomor - 1), rnd.randint(nomor + 1, steps)])
        words = " ".join(rnd.choice(["data", "laporan", "menyusun", "memeriksa", "Kepala", "Bidang"])
                         for _ in range(rnd.randint(3, 40)))
        nodes.append(Node(nomor=nomor, kind=kind, column=rnd.randrange(columns), kegiatan=f"Kegiatan {nomor} {words}",
                          kelengkapan=tuple(f"Dokumen {i}" for i in range(rnd.randint(0, 4))), waktu="15 menit",
                          output="Output", keterangan=words[: rnd.randint(0, 200)], ya=ya, tidak=tidak))
    return Sheet(columns=tuple(f"Pejabat Nomor {i + 1}" for i in range(columns)), nodes=tuple(nodes),
                 total="25 menit")


@pytest.mark.parametrize(("steps", "columns", "seed"), [
    (1, 2, 0), (2, 2, 1), (5, 3, 2), (17, 4, 3), (40, 5, 4), (100, 8, 5), (100, 2, 6), (60, 7, 7),
])
def test_generated_sheets_draw_cleanly(steps, columns, seed):
    sheet = generated(steps, columns, seed)
    check_drawing(sheet, flowchart.draw(sheet, width_mm=A4[0], height_mm=None, web=True), paged=False)
    for width, height in (A4, F4):
        pages = flowchart.draw(sheet, width_mm=width, height_mm=height)
        check_drawing(sheet, pages, paged=True)
        for page in pages:
            svg = svg_of(page)
            bottom = max(float(r.get("y")) + float(r.get("height")) for r in svg.iter(f"{NS}rect"))
            assert bottom <= height + 0.01, "nothing runs off the page"


def test_many_random_sheets_on_short_pages_draw_cleanly():
    """Small pages force page breaks between almost every pair of steps."""
    for seed in range(40):
        rnd = random.Random(seed)
        sheet = generated(rnd.randint(1, 30), rnd.randint(2, 8), 100 + seed)
        check_drawing(sheet, flowchart.draw(sheet, width_mm=A4[0], height_mm=None, web=True), paged=False)
        check_drawing(sheet, flowchart.draw(sheet, width_mm=A4[0], height_mm=rnd.choice([80.0, 120.0])), paged=True)


def test_a_step_taller_than_a_page_is_cut_not_split():
    sheet = generated(3, 2, 8)
    long = Node(nomor=2, kind=PROSES, column=1, kegiatan="kata " * 3000)
    sheet = Sheet(columns=sheet.columns, nodes=(sheet.nodes[0], long, sheet.nodes[2]), total="1 jam")
    pages = flowchart.draw(sheet, width_mm=A4[0], height_mm=A4[1])
    check_drawing(sheet, pages, paged=True)
    assert any("kata …" in page for page in pages)


def test_wrap_fits_the_width_and_cuts_long_words():
    lines = flowchart.wrap("Menyusun rencana Operasional Patroli dan berkoordinasi dengan Dinas", 30)
    assert len(lines) > 1 and all(flowchart.text_width(line) <= 30 for line in lines)
    assert " ".join(lines) == "Menyusun rencana Operasional Patroli dan berkoordinasi dengan Dinas"
    cut = flowchart.wrap("x" * 200, 20)
    assert "".join(cut) == "x" * 200 and all(flowchart.text_width(line) <= 20 for line in cut)
    assert flowchart.wrap("", 20) == []
