"""The printed SOP sheet and the run report, read back with poppler's pdftotext and pdfinfo."""

from __future__ import annotations

import datetime as dt
import html
import re
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
import yaml
from django.core.management import CommandError, call_command
from django.utils import translation

from procedures import engine, flowchart, pdf, sopfile
from procedures.durations import Duration
from procedures.flowchart.layout import INSET, columns
from procedures.library import sop_import
from procedures.models import Position, Run, SopRevision
from procedures.working_calendar import calendar_for_office
from tests.engine_fixtures import (  # noqa: F401 (fixtures)
    KODE,
    SATPOL,
    _module_cast,
    cast,
    drive,
    english,
    open_task,
    work,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SEEDS = list(KODE)
WIB = ZoneInfo("Asia/Jakarta")


def normalise(text: str) -> str:
    return " ".join(text.split())


def pdf_text(content: bytes) -> str:
    """The text of a PDF as ``pdftotext -raw`` reads it, whitespace made single spaces."""
    result = subprocess.run(["pdftotext", "-raw", "-", "-"], input=content, capture_output=True, check=True)
    return normalise(result.stdout.decode())


def page_sizes(content: bytes) -> list[tuple[float, float]]:
    """Each page's (width, height) in points, from ``pdfinfo``."""
    result = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", "-"], input=content, capture_output=True, check=True)
    return [(float(width), float(height)) for width, height in
            re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", result.stdout.decode())]


def mm(points: float) -> float:
    return round(points * 25.4 / 72, 1)


_rendered: dict[tuple, bytes] = {}


def sheet(cast, number: str, *, paper: str = "a4", language: str = "id") -> bytes:
    """The PDF sheet of a seed SOP, rendered once per module (the seeds do not change in it)."""
    revision = cast.revision(number)
    key = (revision.pk, paper, language)
    if key not in _rendered:
        with translation.override(language):
            _rendered[key] = pdf.render_sop_pdf(revision, paper=paper)
    return _rendered[key]


# ---------------------------------------------------------------------------------------------
# The sheet
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("number", SEEDS)
def test_the_identity_page_has_every_identity_field(cast, number):
    revision = cast.revision(number)
    text = pdf_text(sheet(cast, number))
    assert normalise(revision.nama) in text
    for line in revision.kop or [revision.sop.office.name.upper()]:  # the kop, else the office
        assert normalise(line) in text
    for value in (revision.nomor, revision.disahkan_jabatan, pdf.name_in_capitals(revision.disahkan_nama),
                  revision.disahkan_pangkat, revision.disahkan_nip):
        if value:
            assert normalise(value) in text
    for section in ("dasar_hukum", "kualifikasi_pelaksana", "keterkaitan", "peralatan", "peringatan", "pencatatan"):
        for item in getattr(revision, section):
            assert normalise(item) in text, (section, item)


def test_dates_are_written_in_indonesian(cast):
    text = pdf_text(sheet(cast, "002"))
    assert "3 September 2019" in text  # tanggal pembuatan
    assert "1 Oktober 2019" in text  # tanggal efektif
    assert "NRP. 76050993" in text  # eight digits: a police officer's NRP


def test_a_civil_servants_number_is_a_nip(cast):
    assert "NIP. 196406061985031015" in pdf_text(sheet(cast, "001"))


def test_the_identity_labels_are_the_regulations(cast):
    with translation.override("en"):
        text = pdf_text(sheet(cast, "002", language="en"))
    for label in ("SOP number", "Date made", "Date revised", "Effective date", "Approved by", "SOP name",
                  "Legal basis:", "Implementer qualifications:", "Related SOPs:", "Equipment:", "Warnings:",
                  "Records and data keeping:"):
        assert label in text


@pytest.mark.parametrize("number", SEEDS)
def test_the_flowchart_pages_have_every_step_role_and_the_total(cast, number):
    revision = cast.revision(number)
    text = pdf_text(sheet(cast, number))
    for column in revision.columns.all():
        assert normalise(column.label) in text, column.label
    for step in revision.steps.all():
        assert normalise(step.kegiatan) in text, step.nomor
    if revision.kegiatan_terpisah:  # 002: independent activities, no total (docs/pdf.md)
        assert revision.total_waktu not in text and "Jumlah Waktu -" in text
        return
    totals = [total for total in (revision.jumlah_waktu, revision.total_waktu) if total]
    assert any(normalise(total) in text for total in totals), totals
    if not revision.jumlah_waktu:  # a total the sheet does not print is labelled computed
        assert "dihitung oleh sopflow dari waktu tiap langkah" in text


@pytest.mark.parametrize("paper", ["a4", "f4"])
def test_the_identity_page_is_portrait_and_the_flowchart_pages_landscape(cast, paper):
    revision = cast.revision("003")
    width, height = pdf.PAPERS[paper]
    sizes = page_sizes(sheet(cast, "003", paper=paper))
    flow_pages = flowchart.sheet_pages(revision, width_mm=pdf.flow_box(paper)[0], height_mm=pdf.flow_box(paper)[1])
    assert len(sizes) == 1 + len(flow_pages)  # no page left blank, no SVG split over two
    assert (mm(sizes[0][0]), mm(sizes[0][1])) == (width, height)
    assert all((mm(w), mm(h)) == (height, width) for w, h in sizes[1:])


def test_f4_is_taller_than_a4(cast):
    a4, f4 = page_sizes(sheet(cast, "000"))[0], page_sizes(sheet(cast, "000", paper="f4"))[0]
    assert (mm(a4[0]), mm(a4[1])) == (210, 297)
    assert (mm(f4[0]), mm(f4[1])) == (215, 330)


def test_the_flowchart_gets_the_landscape_content_box(cast, monkeypatch):
    asked = []

    def sheet_pages(revision, *, width_mm, height_mm):
        asked.append((width_mm, height_mm))
        return [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width_mm}mm" height="{height_mm}mm"/>'] * 2

    monkeypatch.setattr(flowchart, "sheet_pages", sheet_pages)
    content = pdf.render_sop_pdf(cast.revision("000"), paper="f4")
    top, right, bottom, left = pdf.FLOW_MARGINS
    assert asked == [(330 - left - right, 215 - top - bottom)]
    assert len(page_sizes(content)) == 3


@pytest.mark.parametrize("paper", ["a4", "f4"])
def test_a_100_step_8_role_sheet_renders(paper):
    from bench.sheets import generated_sop
    from procedures.library import sop_import
    from procedures.models import SopRevision

    roles = tuple(f"Pejabat Nomor {r}" for r in range(1, 9))
    data = generated_sop(kode="uji-seratus-langkah", instansi="Kantor Uji Besar", steps=100, roles=roles)
    result = sop_import(data=data, source="seratus.yaml")
    assert not result.refused, result.problems
    revision = SopRevision.objects.get(sop__kode="uji-seratus-langkah")
    assert revision.steps.count() == 100 and revision.columns.count() == 8
    with translation.override("id"):
        content = pdf.render_sop_pdf(revision, paper=paper)
    text = pdf_text(content)
    assert all(role in text for role in roles)
    assert all(f"Berita acara {n}" in text for n in range(1, 101))
    assert revision.total_waktu in text
    pages = page_sizes(content)
    assert len(pages) > 5 and all(width > height for width, height in pages[1:])


def words_with_boxes(content: bytes) -> list[tuple[int, float, float, str]]:
    """(page, left, right, word) of every word, in points, from ``pdftotext -bbox``."""
    result = subprocess.run(["pdftotext", "-bbox", "-", "-"], input=content, capture_output=True, check=True)
    words, page = [], 0
    for line in result.stdout.decode().splitlines():
        if "<page " in line:
            page += 1
        found = re.search(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">(.*)</word>', line)
        if found:
            words.append((page, float(found.group(1)), float(found.group(2)), html.unescape(found.group(3))))
    return words


def imported(data: dict, source: str) -> SopRevision:
    result = sop_import(data=yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode(), source=source)
    assert not result.refused, result.problems
    return SopRevision.objects.get(sop__kode=data["kode"])


SEED_FILES = Path(__file__).resolve().parent.parent / "fixtures" / "sops"


def test_patroli_without_the_notes_of_steps_8_and_9_prints_every_note_in_its_own_column(cast):
    """The reviewer's case: page 2 printed the notes of steps 1 and 7 bold, right-aligned over the
    Kelengkapan column (a later page's style rule), the Keterangan column left empty. The file then
    had notes in the Keterangan of steps 1, 7, 8 and 9; they have since moved to
    ``catatan_transkripsi``, so this copy puts them back, except those of steps 8 and 9."""
    data = yaml.safe_load((SEED_FILES / "004-patroli-pengawasan-wilayah.yaml").read_text(encoding="utf-8"))
    data["kode"] = "patroli-tanpa-keterangan-8-9"
    for step in data["langkah"]:
        if step["nomor"] not in (8, 9) and step.get("catatan_transkripsi"):
            step["keterangan"] = step["catatan_transkripsi"]
    assert [step["nomor"] for step in data["langkah"] if step.get("keterangan")] == [1, 7]
    revision = imported(data, "patroli.yaml")
    with translation.override("id"):
        content = pdf.render_sop_pdf(revision)
    cols = columns(pdf.flow_box()[0] - 2 * INSET, revision.columns.count())
    left_mm = pdf.FLOW_MARGINS[3] + INSET + cols.x["keterangan"]
    left, right = left_mm * 72 / 25.4, (left_mm + cols.width["keterangan"]) * 72 / 25.4
    steps = list(revision.steps.all())
    elsewhere = set(" ".join(f"{s.kegiatan} {s.output} {s.waktu}" for s in steps).split())
    elsewhere |= set(" ".join(item.text for s in steps for item in s.kelengkapan.all()).split())
    elsewhere |= set(" ".join(c.label for c in revision.columns.all()).split())
    elsewhere |= {"-", "No", "Kegiatan", "Pelaksana", "Mutu", "Baku", "Kelengkapan", "Waktu", "Output", "Keterangan",
                  "Ya", "Tidak", "Selesai"}
    notes = {word for s in steps for word in s.keterangan.split()} - elsewhere
    placed = [(page, x0, x1, word) for page, x0, x1, word in words_with_boxes(content) if page > 1 and word in notes]
    assert len(notes) > 20 and {word for *_, word in placed} == notes, "every word of the notes is printed"
    outside = [(page, round(x0), round(x1), word) for page, x0, x1, word in placed if not (left - 1 <= x0 and x1 <= right + 1)]
    assert not outside, (round(left), round(right), outside[:10])
    text = pdf_text(content)
    for step in steps:
        if step.keterangan:
            assert normalise(step.keterangan) in text, step.nomor


def test_a_4000_character_note_prints_whole_over_continued_pages(cast):
    """A row taller than a page was cut with " …": a signed sheet lost the end of its note."""
    from bench.sheets import generated_sop

    data = yaml.safe_load(generated_sop(kode="catatan-panjang", instansi="Kantor Uji Catatan", steps=6))
    words = [f"kata{i:04d}" for i in range(444)] + ["usai"]
    note = " ".join(words)
    assert len(note) == sopfile.schema()["$defs"]["step"]["properties"]["keterangan"]["maxLength"] == 4000, \
        "the longest note the format accepts"
    data["langkah"][2]["keterangan"] = note
    revision = imported(data, "catatan.yaml")
    with translation.override("id"):
        content = pdf.render_sop_pdf(revision)
    text = pdf_text(content)
    found = [text.find(word) for word in words]
    assert -1 not in found and found == sorted(found), "every word of the note, in order"
    assert all(text.count(word) == 1 for word in words)
    assert "(lanjutan)" in text and "…" not in text
    assert len(page_sizes(content)) >= 3


def test_a_sheet_of_12_roles_with_long_names_prints_every_name_and_step(cast):
    from bench.sheets import generated_sop

    roles = ("Kepala Seksi Pengembangan Kapasitas Kelembagaan Masyarakat Kampung/Kelurahan", "Sekretaris",
             "Kepala Sub Bagian Umum dan Kepegawaian", *(f"Kepala Seksi Pemberdayaan {i}" for i in range(1, 10)))
    data = yaml.safe_load(generated_sop(kode="dua-belas-peran", instansi="Kantor Uji Peran", steps=30, roles=roles))
    revision = imported(data, "peran.yaml")
    with translation.override("id"):
        content = pdf.render_sop_pdf(revision)
    text = pdf_text(content)
    joined = "".join(text.replace("- ", "").split())  # a role name may be hyphenated over two lines
    for role in roles:
        assert "".join(role.split()) in joined, role
    for step in revision.steps.all():
        assert normalise(step.kegiatan) in text, step.nomor


def test_the_total_prints_as_sums_are_written_never_carrying_jam_into_hari(cast):
    revision = cast.revision("000")
    revision.jumlah_waktu = "2 hari 27 jam 75 menit"
    revision.save(update_fields=["jumlah_waktu"])
    with translation.override("id"):
        text = pdf_text(pdf.render_sop_pdf(revision))
    assert "Jumlah Waktu 2 hari 28 jam 15 menit" in text and "75 menit" not in text


def test_the_fonts_are_embedded(cast):
    content = sheet(cast, "001")
    result = subprocess.run(["pdffonts", "-"], input=content, capture_output=True, check=True)
    rows = result.stdout.decode().splitlines()[2:]
    assert rows and all(flowchart.FONT_FAMILY in row and " yes yes " in row for row in rows), rows


def test_the_sheet_loads_nothing_from_outside(cast, monkeypatch):
    """Even a stray reference in the SVG is refused: only the vendored fonts are opened."""
    monkeypatch.setattr(flowchart, "sheet_pages", lambda revision, **box: [
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10mm" '
        'height="10mm"><image xlink:href="http://example.invalid/logo.png" width="5" height="5"/></svg>'])
    opened = []
    from weasyprint.urls import URLFetcher

    real_fetch = URLFetcher.fetch
    monkeypatch.setattr(URLFetcher, "fetch", lambda self, url, headers=None: opened.append(url) or real_fetch(self, url, headers))
    pdf.render_sop_pdf(cast.revision("000"))
    # The fonts (once per thread: WeasyPrint's font set is kept), and nothing else.
    assert set(opened) <= {path.as_uri() for path in flowchart.FONT_FILES.values()}


def test_a_text_cannot_break_out_of_the_page_footer(cast):
    assert pdf.css_string('a"b\\c</style>&') == '"a\\22 b\\5c c\\3c /style\\3e \\26 "'


# ---------------------------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------------------------


def test_the_command_writes_the_sheet(cast, tmp_path):
    target = tmp_path / "sheet.pdf"
    call_command("sop_pdf", KODE["002"], "--kertas", "F4", "-o", str(target))
    content = target.read_bytes()
    assert content.startswith(b"%PDF")
    assert mm(page_sizes(content)[0][1]) == 330
    assert "Unit Binpolmas" in pdf_text(content)


def test_the_command_takes_a_revision_and_an_office(cast, tmp_path):
    target = tmp_path / "sheet.pdf"
    call_command("sop_pdf", KODE["004"], "--revision", "1", "--instansi", SATPOL.upper(), "-o", str(target))
    assert "Patroli Pengawasan Wilayah" in pdf_text(target.read_bytes())


@pytest.mark.parametrize("args, message", [
    (["tidak-ada"], "there is no SOP with the code “tidak-ada”"),
    ([KODE["000"], "--revision", "7"], "has no revision 7"),
    ([KODE["000"], "--instansi", "Dinas Lain"], "there is no SOP with the code"),
])
def test_the_command_refuses_what_it_cannot_find(cast, tmp_path, args, message):
    target = tmp_path / "sheet.pdf"
    with pytest.raises(CommandError, match=message):
        call_command("sop_pdf", *args, "-o", str(target))
    assert not target.exists()


def test_the_command_says_when_it_cannot_write(cast, tmp_path):
    with pytest.raises(CommandError, match="cannot write"):
        call_command("sop_pdf", KODE["000"], "-o", str(tmp_path / "no" / "such" / "folder.pdf"))


# ---------------------------------------------------------------------------------------------
# The run report
# ---------------------------------------------------------------------------------------------

# How long each step of the Patroli run takes (minutes of working time), by step number.
PATROLI_MINUTES = {1: 10, 2: 25, 3: 30, 4: 300, 5: 10, 6: 10, 7: 10, 8: 10, 9: 10}
TIDAK_REASON = "Pelanggar sudah mentaati teguran"


@pytest.fixture
def patroli(cast):
    """A Patroli run worked to its end on a Tuesday: step 2 and 4 late, 7 by a Plh, 9 answered Tidak."""
    kasat = Position.objects.get(office__name=SATPOL, name="Kasat Pol PP")
    plh = UserFactory(first_name="Bambang", last_name="Plh", office=kasat.office)
    start = dt.datetime(2024, 9, 3, 8, 0, tzinfo=WIB)
    with time_machine.travel(start, tick=False) as traveller:
        engine.acting_appoint(position=kasat, user=plh, kind="plh", starts_on=start.date(), ends_on=start.date(),
                              appointed_by=cast.admin)
        run = cast.start("004", perihal="Patroli wilayah Kecamatan Cibodas")

        def spend(task):
            traveller.shift(dt.timedelta(minutes=PATROLI_MINUTES[task.step.nomor]))

        drive(run, cast, stop_at=7, before=spend)
        task = open_task(run)
        spend(task)
        work(task, plh, ("ya", ""))
        drive(run, cast, {9: ("tidak", TIDAK_REASON)}, before=spend)
    run.refresh_from_db()
    assert run.status == Run.Status.FINISHED
    return run


def test_the_report_measures_every_step_against_its_standard(patroli):
    report = pdf.run_report(patroli)
    assert [row.task.step.nomor for row in report.rows] == list(range(1, 10))
    actual = {row.task.step.nomor: round(row.measured.actual.total_seconds() / 60) for row in report.rows}
    assert actual == PATROLI_MINUTES
    over = {row.task.step.nomor: row.measured.over for row in report.rows if row.measured.over}
    assert over == {2: dt.timedelta(minutes=15), 4: dt.timedelta(hours=1)}
    assert report.done_standard == "5 jam 5 menit – 6 jam 5 menit"  # step 4 is 3-4 jam
    assert report.total.actual_text == "6 jam 55 menit"
    assert report.total.over == dt.timedelta(minutes=50)


def test_the_report_prints_who_when_and_how_long(patroli):
    text = pdf_text(pdf.render_run_pdf(patroli))
    revision = patroli.revision
    assert "Patroli Pengawasan Wilayah" in text and "Patroli wilayah Kecamatan Cibodas" in text
    for step in revision.steps.filter(nomor__lte=9):
        assert normalise(step.kegiatan) in text, step.nomor
    assert "03-09-2024 08.00 WIB" in text  # started
    assert "over the standard by 15 menit" in text  # step 2
    assert "over the standard by 1 jam" in text  # step 4
    assert text.count("within the standard") == 7
    assert "Plh. Kasat Pol PP (Bambang Plh)" in text  # step 7: the title, then the name
    assert f"Decision: No — {TIDAK_REASON}" in text
    assert "☑ Surat Tugas Patroli" in text  # step 1's kelengkapan, ticked
    assert "Surat Tugas Patroli (langkah 1)" in text  # its output
    assert "6 jam 55 menit" in text and "6 jam 5 menit" in text and "over the standard by 50 menit" in text


def test_the_report_is_in_the_offices_zone(cast):
    start = dt.datetime(2024, 9, 3, 9, 0, tzinfo=ZoneInfo("Asia/Makassar"))
    with time_machine.travel(start, tick=False):
        run = cast.start("002")
        task = open_task(run)
        engine.task_claim(task=task, user=cast.holder(task.position))
    text = pdf_text(pdf.render_run_pdf(run))
    assert "03-09-2024 09.00 WITA" in text


def test_a_send_back_is_printed_as_outside_the_sheets_flow(cast):
    run = cast.start("000")
    drive(run, cast, stop_at=5)
    engine.task_return(task=run.tasks.get(step__nomor=5), user=cast.user("Kabid Linmas"), reason="Lampiran kurang")
    text = pdf_text(pdf.render_run_pdf(run))
    assert "Sent back to the step before, outside the sheet's flow" in text and "Lampiran kurang" in text


def test_a_run_with_nothing_done_yet_has_a_report(cast):
    run = cast.start("000")
    text = pdf_text(pdf.render_run_pdf(run))
    assert "waiting" in text.lower()


def test_overrun_of_days_counts_working_time_after_the_deadline(cast):
    calendar = calendar_for_office(cast.revision("000").sop.office)
    friday = dt.datetime(2024, 9, 6, 10, 0, tzinfo=WIB)
    # 1 hari from Friday 10.00 is due Monday 10.00; done Monday 11.30: 1 jam 30 menit over.
    measured = pdf.measure(calendar, friday, friday + dt.timedelta(days=3, hours=1, minutes=30),
                           [Duration(1, 1, "hari")], "1 hari")
    assert measured.over == dt.timedelta(hours=1, minutes=30)
    assert measured.verdict == "over the standard by 1 jam 30 menit"
    within = pdf.measure(calendar, friday, friday + dt.timedelta(days=3), [Duration(1, 1, "hari")], "1 hari")
    assert within.over is None and within.verdict == "within the standard"


def test_a_range_is_within_up_to_its_upper_bound(cast):
    calendar = calendar_for_office(cast.revision("000").sop.office)
    start = dt.datetime(2024, 9, 3, 8, 0, tzinfo=WIB)
    assert pdf.measure(calendar, start, start + dt.timedelta(hours=4), [Duration(3, 4, "jam")], "3-4 jam").over is None


@pytest.mark.parametrize("nip, label", [("196406061985031015", "NIP"), ("76050993", "NRP"), ("12-34", "NIP/NRP")])
def test_the_signers_number_is_named_by_its_length(nip, label):
    assert pdf.signer_id_label(nip) == label


def test_unknown_paper_is_refused():
    with pytest.raises(ValueError, match="unknown paper"):
        pdf.paper_size("a3")
