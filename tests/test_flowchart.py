"""The flowchart sopflow draws: symbols in their actors' columns and in their shapes, one arrow per
flow crossing no symbol and keeping off the table's lines, labels crossing no line, connectors in the
Pelaksana columns lettered in reading order, and every cell's text whole, however long."""

import os
import random
import re
from collections import Counter
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from django.utils import translation

from procedures import flowchart
from procedures.flowchart import KEPUTUSAN, Node, Sheet, layout
from procedures.flowchart.text import fit_labels
from procedures.library import sop_import_files
from procedures.models import SopRevision, Step
from tests.flowchart_checks import (
    A4,
    F4,
    NS,
    PageView,
    cells_of,
    check_drawing,
    generated,
    styles_of,
)

SEEDS = sorted((Path(__file__).resolve().parent.parent / "fixtures" / "sops").glob("*.yaml"))


@pytest.fixture
def seeds(db):
    sop_import_files(files=[(path.name, path.read_bytes()) for path in SEEDS])
    return list(SopRevision.objects.select_related("sop").order_by("sop__kode"))


def revision_of(seeds, kode: str) -> SopRevision:
    return next(r for r in seeds if r.sop.kode == kode)


def svg_of(page: str) -> ET.Element:
    return ET.fromstring(flowchart.page_svg(page))


def groups(svg: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in svg.iter(f"{NS}g") if g.get("class") == cls]


def steps_per_page(pages: list[str]) -> list[list[int]]:
    return [[int(g.get("data-step")) for g in groups(svg_of(page), "symbol")] for page in pages]


def whole(sheet: Sheet, pages: list[str]) -> None:
    """Every cell of every step printed whole and in order, over however many parts its row takes."""
    cells = cells_of(pages)
    for node in sheet.nodes:
        texts = {"kegiatan": node.kegiatan, "kelengkapan": "\n".join(f"- {item}" for item in node.kelengkapan),
                 "waktu": node.waktu, "output": node.output, "keterangan": node.keterangan}
        for key, text in texts.items():
            lines = [line for line in cells[node.nomor].get(key, [])
                     if not (key == "kegiatan" and line in ("(continued)", "(lanjutan)"))]
            assert "".join("".join(lines).split()) == "".join(text.split()), (node.nomor, key)


# ---------------------------------------------------------------------------------------------
# The five seed sheets
# ---------------------------------------------------------------------------------------------

def test_each_seed_sheet_draws_every_step_in_its_column_and_every_flow_once(seeds, django_assert_max_num_queries):
    assert len(seeds) == 5
    for revision in seeds:
        with django_assert_max_num_queries(3):
            sheet = flowchart.sheet_of(revision)
        steps = list(revision.steps.order_by("nomor"))
        # Independent activities (002) each start with a capsule, whatever their simbol.
        assert [n.kind for n in sheet.nodes] == (
            ["mulai"] * len(steps) if revision.kegiatan_terpisah else [s.simbol for s in steps])
        tidak = [s for s in steps if s.simbol == Step.Symbol.DECISION]
        assert sum(1 for edge in sheet.edges if edge.kind == "tidak") == len(tidak)
        check_drawing(sheet, flowchart.draw(sheet, width_mm=A4[0], height_mm=None, web=True), paged=False)
        for width, height in (A4, F4):
            pages = flowchart.sheet_pages(revision, width_mm=width, height_mm=height)
            check_drawing(sheet, pages, paged=True)
            whole(sheet, pages)


def test_patroli_decisions_end_the_run_below_the_diamond_in_its_own_column(seeds):
    revision = revision_of(seeds, "satpolpp-patroli-pengawasan-wilayah")
    with translation.override("id"):
        drawing = flowchart.flow_svg(revision)
    svg, view = ET.fromstring(drawing), PageView.read(drawing)
    exits = {int(end.attrs["data-step"]): end for end in view.exits}
    assert sorted(exits) == [7, 8, 9]
    assert {end.attrs["data-kind"] for end in exits.values()} == {"tidak"}
    symbols = {int(s.attrs["data-step"]): s for s in view.symbols}
    for step, end in exits.items():
        diamond = symbols[step]
        assert end.attrs["data-step"] == diamond.attrs["data-step"]
        left, right = view.columns[int(diamond.attrs["data-column"])]
        assert left < end.box[0] < end.box[2] < right, "the Selesai stands in the decision's own column"
        assert end.box[1] > diamond.box[3], "below the diamond"
    texts = {t.text for t in svg.iter(f"{NS}text")}
    assert {"Selesai", "Ya", "Tidak"} <= texts


def test_independent_activities_each_have_their_own_start_and_end(seeds):
    revision = revision_of(seeds, "satbinmas-unit-binpolmas")
    assert revision.kegiatan_terpisah
    with translation.override("id"):
        drawing = flowchart.flow_svg(revision)
        pages = flowchart.sheet_pages(revision, width_mm=A4[0], height_mm=A4[1])
    view = PageView.read(drawing)
    symbols = {int(s.attrs["data-step"]): s for s in view.symbols}
    exits = {int(end.attrs["data-step"]): end for end in view.exits}
    assert {s.attrs["data-kind"] for s in symbols.values()} == {"mulai"}, "each activity starts with a capsule"
    assert sorted(exits) == [1, 2, 3], "and ends with its own Selesai below it"
    for step, end in exits.items():
        assert end.box[1] > symbols[step].box[3]
    edges = {g.get("data-edge") for g in groups(ET.fromstring(drawing), "flow")}
    assert edges == {"1-selesai", "2-selesai", "3-selesai"}, "no flow from one activity to another"
    cells = cells_of(pages)
    assert [cells[nomor]["no"] for nomor in (1, 2, 3)] == [["A"], ["B"], ["C"]], "the printed labels"
    assert "Jumlah Waktu" in pages[-1] and "3 jam" not in pages[-1], "no total"


def test_prodeskel_tidak_flows_go_back(seeds):
    revision = revision_of(seeds, "diskominfo-prodeskel")
    svg = ET.fromstring(flowchart.flow_svg(revision))
    back = {g.get("data-edge") for g in groups(svg, "flow") if g.get("data-kind") == "tidak"}
    assert {"4-3", "5-4", "10-9"} <= back


def test_pages_repeat_the_header_and_end_with_the_total(seeds):
    revision = revision_of(seeds, "satpolpp-bina-potensi-masyarakat")
    with translation.override("id"):
        pages = flowchart.sheet_pages(revision, width_mm=A4[0], height_mm=A4[1])
    assert len(pages) > 1
    for page in pages:
        assert "Kegiatan" in page and "Kasat Pol PP" in page and "Mutu Baku" in page
        assert 'width="277mm"' in flowchart.page_svg(page)
    assert "Jumlah Waktu" in pages[-1] and all("Jumlah Waktu" not in page for page in pages[:-1])
    assert revision.printed_total and revision.printed_total in pages[-1]
    assert sum(steps_per_page(pages), []) == list(range(1, 18)), "every step once, in order"


def notes_in_keterangan(revision: SopRevision, *, without: tuple[int, ...] = ()) -> Sheet:
    """The revision's sheet as the shipped files printed it before their transcription notes moved
    out of Keterangan: each step's ``catatan_transkripsi`` in its Keterangan (none for ``without``)."""
    sheet = flowchart.sheet_of(revision)
    notes = {step.nomor: step.catatan_transkripsi for step in revision.steps.all()}
    nodes = tuple(Node(**{**vars(node), "keterangan": "" if node.nomor in without else notes[node.nomor]})
                  for node in sheet.nodes)
    return Sheet(columns=sheet.columns, nodes=nodes, total=sheet.total)


def test_pages_are_filled_evenly_not_ending_with_a_lone_step(seeds):
    """Filled greedily, Prodeskel with its notes in Keterangan held 5, 4, 3 and 1 steps on its pages;
    now as many pages, evenly."""
    sheet = notes_in_keterangan(revision_of(seeds, "diskominfo-prodeskel"))
    lay = layout.layout_sheet(sheet, width=A4[0], height=A4[1])
    specs = [layout.row_spec(node, lay.cols, lay.shapes) for node in sheet.nodes]
    first_room = A4[1] - 2 * layout.INSET - lay.header.height
    greedy = layout._pages(specs, first_room=first_room, room=first_room - layout.STRIP, total=lay.total_height,
                           cap=float("inf"))
    assert [len(rows) for rows in greedy] == [5, 4, 3, 1], "the case: filled greedily, a lone step on the last page"
    counts = [len(steps) for steps in steps_per_page(flowchart.draw(sheet, width_mm=A4[0], height_mm=A4[1]))]
    assert len(counts) == 4 and sum(counts) == 13
    assert counts[-1] > 1 and max(counts) - min(counts) <= 1


def test_web_drawing_marks_done_current_and_left(seeds):
    revision = revision_of(seeds, "satpolpp-patroli-pengawasan-wilayah")
    svg = ET.fromstring(flowchart.flow_svg(revision, states={1: "done", 2: "done", 3: "current"}))
    states = {int(g.get("data-step")): g.get("data-state") for g in groups(svg, "symbol")}
    assert states[1] == states[2] == "done" and states[3] == "current" and states[4] is None
    assert svg.get("width") == "100%" and svg.get("role") == "img"


def test_cell_styles_mean_one_thing_in_the_whole_document(seeds):
    """Each page used to name its cell styles c0, c1, … on its own, and a later page's rule applied
    to the whole PDF: Patroli without the notes of steps 8 and 9 printed page 2's notes bold and
    right-aligned over Kelengkapan. Now a class is defined once and means one cell shape. (The notes
    were those of steps 1, 7, 8 and 9, since moved to ``catatan_transkripsi``.)"""
    sheet = notes_in_keterangan(revision_of(seeds, "satpolpp-patroli-pengawasan-wilayah"), without=(8, 9))
    assert [node.nomor for node in sheet.nodes if node.keterangan] == [1, 7]
    pages = flowchart.draw(sheet, width_mm=A4[0], height_mm=A4[1])
    rules = styles_of(pages)
    lefts = {}
    for page in pages:
        for name, key in re.findall(r'<div class="(c\d+)" data-c="(\w+)">', page):
            left = re.search(r"left:([\d.]+)mm", rules[name]).group(1)
            assert lefts.setdefault(key, left) == left, f"{key} cells printed at two places"
            if key == "keterangan":
                assert "text-align:left" in rules[name] and "font-weight:normal" in rules[name]
    assert len(set(lefts.values())) == len(lefts) == 6, "each column at its own place"


# ---------------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------------

def test_wrap_fits_the_width_and_cuts_long_words():
    lines = flowchart.wrap("Menyusun rencana Operasional Patroli dan berkoordinasi dengan Dinas", 30)
    assert len(lines) > 1 and all(flowchart.text_width(line) <= 30 for line in lines)
    assert " ".join(lines) == "Menyusun rencana Operasional Patroli dan berkoordinasi dengan Dinas"
    cut = flowchart.wrap("x" * 200, 20)
    assert "".join(cut) == "x" * 200 and all(flowchart.text_width(line) <= 20 for line in cut)
    assert flowchart.wrap("", 20) == []


def test_a_20000_character_word_wraps_into_pieces_that_fit_and_lose_nothing():
    """Measured a character at a time, a 2,000-character word took 10 s and a 5,000-character one
    minutes; the pieces are now found from the word's running widths."""
    rnd = random.Random(1)
    word = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyzWMIl.0123456789ÀÉĳ中") for _ in range(20_000))
    for width in (1.0, 25.0, 60.0):
        lines = flowchart.wrap(f"awal {word} akhir", width)
        assert all(flowchart.text_width(line) <= width for line in lines if len(line) > 1)
        assert "".join(lines).replace(" ", "") == f"awal{word}akhir", "nothing lost, nothing added"
    assert lines[0] == "awal" and lines[-1].split()[-1] == "akhir", "the short words stay whole"


def test_a_long_word_breaks_after_a_slash_or_hyphen_when_one_fits():
    lines = flowchart.wrap("Kampung/Kelurahan/Desa/Kecamatan-Kabupaten", 22)
    assert "".join(lines) == "Kampung/Kelurahan/Desa/Kecamatan-Kabupaten"
    assert all(line.endswith(("/", "-")) for line in lines[:-1])


def test_role_names_break_between_words_or_after_a_slash():
    size, (lines,) = fit_labels(["Pokja Profil Kampung/Kelurahan"], 16.0)
    assert lines == ["Pokja Profil", "Kampung/", "Kelurahan"]
    assert size == 2.45


def test_a_role_name_too_wide_shrinks_then_hyphenates_never_breaking_a_word_silently():
    size, (lines,) = fit_labels(["Sekretaris"], 11.5)
    assert lines == ["Sekretaris"] and size < 2.45, "shrunk to fit whole"
    size, (lines,) = fit_labels(["Pemberdayaan Kelembagaan"], 8.0)
    assert all(flowchart.text_width(line, size, bold=True) <= 8.0 for line in lines)
    assert len(lines) > 2 and any(line.endswith("-") for line in lines)
    # A line ends where a word ends, or with a hyphen: read back so, the words come out whole.
    joined = "".join(line[:-1] if line.endswith("-") else line + " " for line in lines).strip()
    assert joined == "Pemberdayaan Kelembagaan", lines


def test_a_role_name_of_one_20000_character_word_is_cut_with_hyphens_and_kept_whole():
    word = "".join(random.Random(5).choice("abcdefghij") for _ in range(20_000))
    size, (lines,) = fit_labels([f"Kepala {word}"], 13.0)
    assert all(flowchart.text_width(line, size, bold=True) <= 13.0 for line in lines)
    assert lines[0] == "Kepala" and all(line.endswith("-") for line in lines[1:-1])
    assert "".join(line[:-1] for line in lines[1:-1]) + lines[-1] == word


def test_long_role_names_print_whole_in_the_header():
    roles = ("Kepala Seksi Pengembangan Kapasitas Kelembagaan Masyarakat Kampung/Kelurahan",
             "Sekretaris", "Kepala Sub Bagian Umum dan Kepegawaian") + tuple(f"Kasi {i}" for i in range(7))
    sheet = generated(12, len(roles), 3)
    sheet = Sheet(columns=roles, nodes=sheet.nodes, total=sheet.total)
    page = flowchart.draw(sheet, width_mm=A4[0], height_mm=A4[1])[0]
    text = "".join(re.findall(r'<div class="c\d+">([^<]+)</div>', page))  # the cells of no step: the header
    text = "".join(text.replace("-\n", "").split())
    for role in roles:
        assert "".join(role.split()) in text, role


# ---------------------------------------------------------------------------------------------
# Rows taller than a page
# ---------------------------------------------------------------------------------------------

def test_a_row_taller_than_a_page_continues_on_the_next_marked_lanjutan_with_its_text_whole():
    rnd = random.Random(4)
    note = " ".join(f"kata{i:04d}" for i in range(700))[:4000]  # a 4,000-character keterangan
    base = generated(5, 3, 8)
    nodes = list(base.nodes)
    nodes[2] = Node(**{**vars(nodes[2]), "keterangan": note, "kegiatan": "Memeriksa berkas " * rnd.randint(3, 6)})
    sheet = Sheet(columns=base.columns, nodes=tuple(nodes), total=base.total)
    with translation.override("id"):
        pages = flowchart.draw(sheet, width_mm=A4[0], height_mm=A4[1])
    check_drawing(sheet, pages, paged=True)
    parts = [re.findall(r'<div class="row" data-step="3"( data-part="(\d+)")?', page) for page in pages]
    pages_with_step_3 = [i for i, found in enumerate(parts) if found]
    assert len(pages_with_step_3) >= 2, "the row goes on over the next page"
    assert steps_per_page(pages)[pages_with_step_3[0]].count(3) == 1, "the symbol once, in the first part"
    for i in pages_with_step_3[1:]:
        assert "(lanjutan)" in pages[i]
    cells = cells_of(pages)
    assert " ".join(cells[3]["keterangan"]) == note, "the whole note, in order, nothing cut"
    assert "…" not in "".join(pages)


def test_a_20000_character_word_in_a_cell_prints_whole():
    word = "".join(random.Random(2).choice("QZ") for _ in range(20_000))
    base = generated(3, 2, 1)
    nodes = (base.nodes[0], Node(**{**vars(base.nodes[1]), "output": word}), base.nodes[2])
    sheet = Sheet(columns=base.columns, nodes=nodes, total=base.total)
    pages = flowchart.draw(sheet, width_mm=A4[0], height_mm=A4[1])
    check_drawing(sheet, pages, paged=True)
    assert "".join(cells_of(pages)[2]["output"]) == word
    web = flowchart.web_drawing(sheet)
    assert "".join(t.text for t in ET.fromstring(web).iter(f"{NS}tspan") if set(t.text) <= {"Q", "Z"}) == word


# ---------------------------------------------------------------------------------------------
# Shapes, lines and connectors on generated sheets
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("roles", [1, 2, 4, 8, 10, 12])
def test_terminators_stay_capsules_and_flows_keep_off_the_lines_with_any_number_of_roles(roles):
    sheet = generated(14, roles, roles, decisions=0.3)
    check_drawing(sheet, flowchart.draw(sheet, width_mm=A4[0], height_mm=A4[1]), paged=True)
    check_drawing(sheet, flowchart.draw(sheet, width_mm=A4[0], height_mm=None, web=True), paged=False)


def test_decisions_on_the_first_and_the_last_step():
    sheet = generated(9, 4, 11, first_decision=True, last_decision=True)
    assert sheet.nodes[0].kind == sheet.nodes[-1].kind == KEPUTUSAN and sheet.nodes[-1].ya is None
    for height in (A4[1], 80.0, None):
        check_drawing(sheet, flowchart.draw(sheet, width_mm=A4[0], height_mm=height, web=height is None),
                      paged=height is not None)


ONE_ROLE = """\
kode: satu-peran
nama: Satu Peran
instansi: Kantor Uji
pelaksana: [Staf]
langkah:
  - {nomor: 1, kegiatan: Menyusun konsep, pelaksana: Staf, waktu: 15 menit}
  - {nomor: 2, kegiatan: Memeriksa konsep. Setuju?, pelaksana: Staf, waktu: 15 menit, tidak: 1}
"""


def test_a_sheet_of_one_role_column_whose_decision_ends_the_run_is_drawn(db):
    """The format's tests found it: the Selesai below the decision had no column beside it to take
    its way from (IndexError), so such a sheet could not be printed or shown."""
    (result,) = sop_import_files(files=[("satu-peran.yaml", ONE_ROLE.encode())])
    assert not result.refused, result.problems
    revision = SopRevision.objects.get(sop__kode="satu-peran")
    sheet = flowchart.sheet_of(revision)
    assert len(sheet.columns) == 1 and (sheet.nodes[1].ya, sheet.nodes[1].tidak) == (None, 1)
    for width, height in (A4, F4, (A4[0], 60.0)):
        check_drawing(sheet, flowchart.sheet_pages(revision, width_mm=width, height_mm=height), paged=True)
    check_drawing(sheet, flowchart.draw(sheet, width_mm=A4[0], height_mm=None, web=True), paged=False)
    view = PageView.read(flowchart.flow_svg(revision))
    assert [end.attrs["data-kind"] for end in view.exits] == ["ya"], "Ya ends the run below the diamond"


def test_loops_back_and_forth_across_many_pages():
    """Small pages force page breaks between almost every pair of steps; every far flow crosses
    several: each gets a pair of connectors, lettered in the order a reader meets them."""
    sheet = generated(40, 5, 21, decisions=0.4, far=0.6)
    pages = flowchart.draw(sheet, width_mm=A4[0], height_mm=90.0)
    views = check_drawing(sheet, pages, paged=True)
    assert sum(len(view.connectors) for view in views) > 20


@pytest.mark.parametrize(("steps", "roles", "seed", "paper"), [
    (1, 1, 0, A4), (2, 2, 1, F4), (5, 3, 2, A4), (17, 4, 3, F4), (40, 8, 4, A4), (60, 7, 7, A4),
    (100, 8, 5, F4), (150, 6, 6, A4), (30, 12, 9, A4), (25, 1, 10, A4),
])
def test_generated_sheets_draw_cleanly(steps, roles, seed, paper):
    sheet = generated(steps, roles, seed, long_roles=seed % 2 == 1, long_cells=1 if steps > 10 else 0, reach=12,
                      decisions=0.25)
    pages = flowchart.draw(sheet, width_mm=paper[0], height_mm=paper[1])
    check_drawing(sheet, pages, paged=True)
    whole(sheet, pages)
    for page in pages:
        svg = svg_of(page)
        bottom = max(float(r.get("y")) + float(r.get("height")) for r in svg.iter(f"{NS}rect"))
        assert bottom <= paper[1] + 0.01, "nothing runs off the page"
    check_drawing(sheet, flowchart.draw(sheet, width_mm=A4[0], height_mm=None, web=True), paged=False)


def test_crowded_random_sheets_stay_clean():
    """Sheets no office writes (a third of the steps decisions jumping anywhere, up to 12 roles) on
    short pages: a flow may have to share a slot with another, but every other rule holds.
    SOPFLOW_FLOWCHART_SWEEP=500 runs that many more."""
    count = int(os.environ.get("SOPFLOW_FLOWCHART_SWEEP", "12"))
    for seed in range(count):
        rnd = random.Random(seed)
        sheet = generated(rnd.randint(1, 60), rnd.randint(1, 12), 100 + seed, long_roles=rnd.random() < 0.3,
                          long_cells=rnd.choice([0, 1]), first_decision=rnd.random() < 0.3,
                          last_decision=rnd.random() < 0.3)
        for height in (None, rnd.choice([80.0, 120.0, A4[1]])):
            pages = flowchart.draw(sheet, width_mm=A4[0], height_mm=height, web=height is None)
            check_drawing(sheet, pages, paged=height is not None, shared_ok=True)


def test_every_step_is_on_one_page_in_order_and_no_page_is_empty():
    sheet = generated(150, 6, 12)
    pages = steps_per_page(flowchart.draw(sheet, width_mm=A4[0], height_mm=A4[1]))
    assert sum(pages, []) == list(range(1, 151)) and all(pages)
    assert Counter(len(steps) for steps in pages[-1:])[1] == 0, "the last page holds more than one step"
