"""Impor dari Word: sheets built with python-docx from the shipped SOPs, read back; damaged and
hostile files give flagged drafts or a clear refusal, never a traceback."""

import copy
import dataclasses
import io
import logging
import random
import struct
import zipfile
import zlib
from pathlib import Path

import docx
import pytest
from django.utils import translation
from docx.oxml import parse_xml

from procedures import sopfile
from procedures.authoring import word
from procedures.authoring.word import Flag, WordImportError, items, read_date, read_docx, read_waktu
from procedures.authoring.word_sheet import sheet_docx
from procedures.durations import parse_waktu

FIXTURES = sorted(Path(__file__).resolve().parent.parent.joinpath("fixtures", "sops").glob("*.yaml"))
# What a sheet carries of the SOP as a whole. Left out: kode and instansi (see the round trip),
# kegiatan_terpisah and zona_waktu (no sheet states them: the editor sets them), catatan_transkripsi
# (how the file was made: never printed).
IDENTITY_KEYS = ("nama", "nomor", "kop", "tanggal_pembuatan", "tanggal_revisi", "tanggal_efektif",
                 "disahkan_oleh", "ditandatangani_elektronik", "dasar_hukum", "kualifikasi_pelaksana", "keterkaitan",
                 "peralatan", "peringatan", "pencatatan", "jumlah_waktu")
# What a sheet in the Permenpan layout carries of a step, and the Word sheet (word_sheet.py) prints:
# No (or the step's label, A, B, C), Kegiatan, the mark in the actor's column with the Ya/Tidak
# targets and their words, Kelengkapan, Waktu as printed, Output, Keterangan.
ON_THE_SHEET = ("nomor", "label", "kegiatan", "pelaksana", "simbol", "ya", "tidak", "label_ya", "label_tidak",
                "kelengkapan", "waktu", "duration", "output", "keterangan")
# What neither the Word sheet nor the PDF sheet (procedures/flowchart) prints, and why.
NOT_ON_THE_SHEET = {
    "catatan_transkripsi": "how the file was made from its source: never printed, not in Keterangan either",
    "pertanyaan": "the question a decision answers: a sheet states it in the Kegiatan (\"… Setuju?\") and "
                  "prints the words of the answers",
}
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def shipped(name: str) -> dict:
    """The file format's structure of a shipped SOP ("004" for fixtures/sops/004-….yaml)."""
    path = next(path for path in FIXTURES if path.name.startswith(name))
    return sopfile.load(path.read_bytes()).as_dict()


def sheet(name: str = "004", **changes) -> bytes:
    return sheet_docx({**shipped(name), **changes})


def edit(blob: bytes, change) -> bytes:
    """The .docx with ``change(document)`` applied (python-docx's Document)."""
    document = docx.Document(io.BytesIO(blob))
    change(document)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def steps_table(document):
    return document.tables[-1]


def step_row(document, nomor: int):
    """The table row of step ``nomor`` in a sheet made by sheet_docx (two header rows)."""
    return steps_table(document).rows[1 + nomor]


def paths(draft) -> dict[str, str]:
    return {flag.path: flag.message for flag in draft.flags}


def valid(draft) -> sopfile.SopDocument:
    return sopfile.validate(draft.data)


def as_printed(steps: list[sopfile.StepDocument]) -> list[dict]:
    """What the sheet carries of each step (ON_THE_SHEET)."""
    return [{key: getattr(step, key) for key in ON_THE_SHEET} for step in steps]


def sheet_text(blob: bytes) -> str:
    """Every cell's text of a .docx sheet."""
    document = docx.Document(io.BytesIO(blob))
    return "\n".join(cell.text for table in document.tables for row in table.rows for cell in row.cells)


# ---------------------------------------------------------------------------------------------
# The round trip of the five shipped SOPs
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", FIXTURES, ids=lambda path: path.stem)
def test_a_sheet_of_a_shipped_sop_reads_back_to_the_same_steps_and_actors(path):
    document = sopfile.load(path.read_bytes())
    blob = sheet_docx(document.as_dict())
    draft = read_docx(blob, filename=path.stem + ".docx")

    again = valid(draft)
    assert again.pelaksana == document.pelaksana
    assert as_printed(again.langkah) == as_printed(document.langkah)
    assert all(not getattr(step, key) for step in again.langkah for key in NOT_ON_THE_SHEET)
    text = " ".join(sheet_text(blob).split())
    unprinted = [" ".join(getattr(step, key).split()) for step in document.langkah for key in NOT_ON_THE_SHEET]
    unprinted += [" ".join(note.split()) for note in document.catatan_transkripsi]
    assert not [words for words in unprinted if words and words in text], "printed though no sheet prints it"
    original = document.as_dict()
    assert {key: draft.data.get(key) for key in IDENTITY_KEYS} == {key: original.get(key) for key in IDENTITY_KEYS}
    assert draft.data.get("revisi", 0) == document.revisi
    # The office: the sheet prints its letterhead (kop), or the office's name where it has none; of a
    # letterhead the reader offers the line that names an office.
    assert draft.data["instansi"] in document.kop if document.kop else draft.data["instansi"] == document.instansi
    # Not on a sheet: the code (made from the name) and the office (chosen from the letterhead).
    assert set(paths(draft)) == {"kode", "instansi"}


def test_the_decisions_come_back_with_their_ya_and_tidak_targets():
    draft = read_docx(sheet("003"), filename="prodeskel.docx")
    decisions = {step["nomor"]: (step["ya"], step["tidak"]) for step in draft.data["langkah"]
                 if step["simbol"] == "keputusan"}
    assert decisions == {4: (5, 3), 5: (6, 4), 10: (11, 9)}
    draft = read_docx(sheet("004"), filename="patroli.docx")
    assert [(step["ya"], step["tidak"]) for step in draft.data["langkah"][6:9]] == [
        (8, "selesai"), (9, "selesai"), (10, "selesai")]


def test_the_letterhead_lines_are_kept_and_the_office_line_is_offered_as_instansi():
    blob = sheet("001", kop=["PEMERINTAH KOTA TANGERANG", "KANTOR KESATUAN BANGSA DAN POLITIK", "Jl. Satria Sudirman"])
    draft = read_docx(blob, filename="kop.docx")
    assert draft.data["kop"] == ["PEMERINTAH KOTA TANGERANG", "KANTOR KESATUAN BANGSA DAN POLITIK", "Jl. Satria Sudirman"]
    assert draft.data["instansi"] == "KANTOR KESATUAN BANGSA DAN POLITIK"
    assert "KANTOR KESATUAN BANGSA DAN POLITIK" in draft.flags_at("instansi")[0].message


def test_a_signed_electronically_sheet_and_a_revision_number_are_read():
    blob = sheet("002", ditandatangani_elektronik=True, revisi=2, tanggal_revisi="2020-01-15")
    draft = read_docx(blob, filename="binpolmas.docx")
    assert draft.data["ditandatangani_elektronik"] is True
    assert (draft.data["revisi"], draft.data["tanggal_revisi"]) == (2, "2020-01-15")
    assert draft.data["disahkan_oleh"] == shipped("002")["disahkan_oleh"]


def test_decision_words_in_the_mark_column_become_label_ya_and_label_tidak():
    data = shipped("003")
    data["langkah"][3] |= {"label_ya": "Setuju", "label_tidak": "Diperbaiki"}
    draft = read_docx(sheet_docx(data), filename="prodeskel.docx")
    step = draft.data["langkah"][3]
    assert (step["label_ya"], step["label_tidak"], step["ya"], step["tidak"]) == ("Setuju", "Diperbaiki", 5, 3)


def test_a_sheet_exported_in_english_reads_back_too():
    with translation.override("en"):
        blob = sheet("002")
    assert b"Quality standard" in zipfile.ZipFile(io.BytesIO(blob)).read("word/document.xml")
    draft = read_docx(blob, filename="binpolmas.docx")
    assert as_printed(valid(draft).langkah) == as_printed(sopfile.load(FIXTURES[2].read_bytes()).langkah)
    assert (draft.data["nomor"], draft.data["revisi"]) == ("SOP / 04 / IX / 2019", 1)


def test_every_field_of_a_step_is_on_the_sheet_or_left_out_for_a_reason():
    fields = [field.name for field in dataclasses.fields(sopfile.StepDocument)]
    assert sorted([*ON_THE_SHEET, *NOT_ON_THE_SHEET]) == sorted(fields)


def test_flag_where_names_the_step_by_its_number():
    assert Flag("langkah[4].pelaksana", "…").where == "langkah 5 · pelaksana"
    assert str(Flag("nama", "kosong")) == "nama: kosong"


# ---------------------------------------------------------------------------------------------
# Damaged sheets: flagged drafts
# ---------------------------------------------------------------------------------------------


def test_a_row_without_a_mark_keeps_no_actor_and_is_flagged():
    def remove_mark(document):
        for cell in step_row(document, 5).cells[2:6]:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.text = ""

    draft = read_docx(edit(sheet(), remove_mark), filename="patroli.docx")
    assert draft.data["langkah"][4]["pelaksana"] == ""
    assert "tanda" in draft.flags_at("langkah[4].pelaksana")[0].message
    assert draft.data["langkah"][4]["kegiatan"].startswith("Menerima Laporan")


def test_two_marks_in_one_row_name_both_columns_and_choose_neither():
    def second_mark(document):
        step_row(document, 2).cells[2].paragraphs[0].add_run("■")

    draft = read_docx(edit(sheet(), second_mark), filename="patroli.docx")
    assert draft.data["langkah"][1]["pelaksana"] == ""
    message = draft.flags_at("langkah[1].pelaksana")[0].message
    assert "Kasat Pol PP" in message and "Kabid Ketertiban dan Ketentraman Masyarakat" in message


def test_a_kelengkapan_cell_merged_over_two_rows_is_copied_and_flagged():
    def merge_down(document):
        table = steps_table(document)
        top, below = table.cell(2 + 2, 6), table.cell(2 + 3, 6)  # steps 3 and 4, Kelengkapan
        for paragraph in below.paragraphs:
            for run in paragraph.runs:
                run.text = ""
        top.merge(below)

    draft = read_docx(edit(sheet(), merge_down), filename="patroli.docx")
    steps = draft.data["langkah"]
    assert steps[3]["kelengkapan"] == steps[2]["kelengkapan"] == ["Perintah dari Kabid"]
    assert "langkah 3" in draft.flags_at("langkah[3].kelengkapan")[0].message
    assert not draft.flags_at("langkah[2].kelengkapan")


def test_a_mark_in_a_cell_merged_across_two_actor_columns_is_flagged():
    def merge_across(document):
        row = step_row(document, 1)
        row.cells[2].merge(row.cells[3])

    draft = read_docx(edit(sheet(), merge_across), filename="patroli.docx")
    assert draft.data["langkah"][0]["pelaksana"] == ""
    assert "Kasat Pol PP" in draft.flags_at("langkah[0].pelaksana")[0].message


def test_an_extra_empty_column_is_ignored_and_flagged():
    def add_column(document):
        steps_table(document).add_column(docx.shared.Mm(10))

    draft = read_docx(edit(sheet(), add_column), filename="patroli.docx")
    assert as_printed(valid(draft).langkah) == as_printed(sopfile.load(FIXTURES[4].read_bytes()).langkah)
    assert "kosong" in draft.flags_at("langkah")[0].message or "empty" in draft.flags_at("langkah")[0].message


def test_an_empty_column_among_the_actors_is_ignored_and_flagged():
    def insert_column(document):
        for tr in steps_table(document)._tbl.tr_lst:
            tr.tc_lst[2].addprevious(copy.deepcopy(_empty_tc()))
        grid = steps_table(document)._tbl.tblGrid
        grid.insert(0, copy.deepcopy(grid[0]))

    draft = read_docx(edit(sheet(), insert_column), filename="patroli.docx")
    assert draft.data["pelaksana"] == shipped("004")["pelaksana"]
    assert as_printed(valid(draft).langkah) == as_printed(sopfile.load(FIXTURES[4].read_bytes()).langkah)
    assert draft.flags_at("pelaksana")


def test_a_second_table_after_the_procedure_table_is_left_out_and_flagged():
    def add_table(document):
        table = document.add_table(rows=2, cols=2)
        table.cell(0, 0).text = "Catatan revisi"
        table.cell(1, 1).text = "Revisi 1: langkah 5 diubah"

    draft = read_docx(edit(sheet(), add_table), filename="patroli.docx")
    assert len(draft.data["langkah"]) == 12
    assert "Catatan revisi" in draft.flags_at("")[0].message


def test_a_procedure_table_continued_in_a_second_table_gives_all_steps():
    def split(document):
        table = steps_table(document)
        continuation = copy.deepcopy(table._tbl)
        rows = table._tbl.tr_lst
        for tr in rows[8:]:  # steps 7-12 leave the first table
            table._tbl.remove(tr)
        for tr in continuation.tr_lst[2:8]:  # steps 1-6 leave the second
            continuation.remove(tr)
        table._tbl.addnext(continuation)

    draft = read_docx(edit(sheet(), split), filename="patroli.docx")
    assert as_printed(valid(draft).langkah) == as_printed(sopfile.load(FIXTURES[4].read_bytes()).langkah)
    assert draft.flags_at("langkah[6]")


def test_waktu_that_is_not_understood_is_kept_as_written_and_flagged():
    data = shipped("004")
    data["langkah"][1]["waktu"] = "secepatnya"
    draft = read_docx(sheet_docx(data), filename="patroli.docx")
    assert draft.data["langkah"][1]["waktu"] == "secepatnya"
    assert "secepatnya" in draft.flags_at("langkah[1].waktu")[0].message


def test_a_question_without_a_tidak_target_becomes_a_flagged_decision():
    data = shipped("004")
    data["langkah"][5]["kegiatan"] = "Laporan patroli lengkap?"
    draft = read_docx(sheet_docx(data), filename="patroli.docx")
    assert draft.data["langkah"][5]["simbol"] == "keputusan"
    assert draft.flags_at("langkah[5].tidak")
    assert draft.flags_at("langkah[5].simbol")  # its mark is a rectangle


def test_targets_written_in_keterangan_make_a_decision():
    data = shipped("004")
    data["langkah"][5]["keterangan"] = "Ya → 6; Tidak: kembali ke langkah 4"
    draft = read_docx(sheet_docx(data), filename="patroli.docx")
    step = draft.data["langkah"][5]
    assert (step["simbol"], step["ya"], step["tidak"]) == ("keputusan", 6, 4)
    assert step["keterangan"] == "Ya → 6; Tidak: kembali ke langkah 4"


def test_targets_that_disagree_are_flagged_and_the_mark_column_wins():
    data = shipped("003")
    data["langkah"][3]["keterangan"] = "Tidak - dikembalikan kepada Kasi (langkah 2)"
    draft = read_docx(sheet_docx(data), filename="prodeskel.docx")
    assert draft.data["langkah"][3]["tidak"] == 3
    assert "2" in draft.flags_at("langkah[3].tidak")[0].message


def test_a_jumlah_waktu_that_is_not_understood_is_kept_and_flagged():
    draft = read_docx(sheet("004", jumlah_waktu="kurang lebih seminggu"), filename="patroli.docx")
    assert draft.data["jumlah_waktu"] == "kurang lebih seminggu"
    assert draft.flags_at("jumlah_waktu")


# ---------------------------------------------------------------------------------------------
# Sheets as offices type them
# ---------------------------------------------------------------------------------------------


def _empty_tc():
    return parse_xml(f'<w:tc xmlns:w="{W}"><w:p/></w:tc>')


def office_sheet(identity: list[list[str]], header: list[list[str]], rows: list[list[str]]) -> bytes:
    """A sheet typed by hand: an identity table and a procedure table, cell texts as given
    ("\\n" separates paragraphs); in the header, "<" merges a cell with its left neighbour and
    "^" with the one above."""
    document = docx.Document()
    for block in (identity, header + rows):
        if not block:
            continue
        width = max(len(row) for row in block)
        table = document.add_table(rows=len(block), cols=width)
        for r, row in enumerate(block):
            for c, text in enumerate(row):
                if text in ("<", "^"):
                    continue
                lines = text.split("\n")
                cell = table.cell(r, c)
                cell.paragraphs[0].add_run(lines[0])
                for line in lines[1:]:
                    cell.add_paragraph(line)
        for r, row in enumerate(block):
            for c, text in enumerate(row):
                if text == "<":
                    table.cell(r, c - 1).merge(table.cell(r, c))
                elif text == "^":
                    table.cell(r - 1, c).merge(table.cell(r, c))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


HEADER = [
    ["NO.", "URAIAN KEGIATAN", "PELAKSANA", "<", "MUTU BAKU", "<", "<", "KET."],
    ["^", "^", "Kepala", "Staf", "Persyaratan/ Kelengkapan", "Waktu", "Output", "^"],
    ["1", "2", "3", "4", "5", "6", "7", "8"],
]
ROWS = [
    ["1", "Menerima surat masuk", "", "√", "1. Surat\n2. Buku agenda", "30 mnt", "Agenda", ""],
    ["2.", "Memeriksa surat. Setuju?", "■\nTidak: kembali ke langkah 1", "", "Surat; Disposisi", "1 Hari", "Disposisi", ""],
    ["3", "Mengarsipkan surat", "", "X", "- Disposisi", "15 Menit", "Arsip", "Ya → 3"],
    ["Jumlah Waktu", "<", "<", "<", "<", "1 hari 45 menit", "", ""],
]


def test_labels_are_matched_whatever_their_wording_and_case():
    identity = [
        ["PEMERINTAH KABUPATEN CONTOH\nDINAS KOMUNIKASI DAN INFORMATIKA", "NOMOR SOP : 800/12/DISKOMINFO/2021", "<"],
        ["^", "TGL. PEMBUATAN", "03 SEPTEMBER 2019"],
        ["^", "Tgl Revisi", "-"],
        ["^", "tanggal efektif :", "1 Okt 2019"],
        ["^", "DISAHKAN OLEH", "KEPALA DINAS\n\nIr. BUDI SANTOSO, M.T.\nPembina Utama Muda (IV/c)\nNIP. 19650101 199003 1 001"],
        ["^", "JUDUL SOP", "Pengelolaan Surat Masuk"],
        ["DASAR HUKUM:\n1. Undang-Undang Nomor 14 Tahun 2008 2. Peraturan Bupati Nomor 5", "KLARIFIKASI PELAKSANA", "<"],
        ["KETERKAITAN DENGAN SOP LAIN", "PERALATAN / PERLENGKAPAN", "<"],
        ["SOP Pengarsipan", "Komputer; Printer", "<"],
    ]
    draft = read_docx(office_sheet(identity, HEADER, ROWS), filename="surat.docx")
    data = draft.data
    assert data["nomor"] == "800/12/DISKOMINFO/2021"
    assert (data["tanggal_pembuatan"], data["tanggal_efektif"]) == ("2019-09-03", "2019-10-01")
    assert "tanggal_revisi" not in data
    assert data["nama"] == "Pengelolaan Surat Masuk"
    assert data["instansi"] == "DINAS KOMUNIKASI DAN INFORMATIKA"
    assert data["disahkan_oleh"] == {"jabatan": "KEPALA DINAS", "nama": "Ir. BUDI SANTOSO, M.T.",
                                     "pangkat": "Pembina Utama Muda (IV/c)", "nip": "196501011990031001"}
    assert data["dasar_hukum"] == ["Undang-Undang Nomor 14 Tahun 2008", "Peraturan Bupati Nomor 5"]
    assert data["keterkaitan"] == ["SOP Pengarsipan"]
    assert data["peralatan"] == ["Komputer", "Printer"]
    assert "kualifikasi_pelaksana" not in data


def test_a_sheet_typed_by_hand_gives_its_steps():
    draft = read_docx(office_sheet([["Nama SOP", "Surat Masuk"], ["Unit Kerja", "Bagian Umum"]], HEADER, ROWS),
                      filename="surat.docx")
    data = draft.data
    assert (data["nama"], data["instansi"], data["pelaksana"]) == ("Surat Masuk", "Bagian Umum", ["Kepala", "Staf"])
    first, second, third = data["langkah"]
    assert (first["pelaksana"], first["simbol"], first["waktu"]) == ("Staf", "mulai", "30 menit")
    assert first["kelengkapan"] == ["Surat", "Buku agenda"]
    assert (second["pelaksana"], second["simbol"], second["tidak"], second["waktu"]) == ("Kepala", "keputusan", 1, "1 Hari")
    assert second["kelengkapan"] == ["Surat", "Disposisi"]
    assert (third["simbol"], third["waktu"], third["kelengkapan"]) == ("keputusan", "15 Menit", ["Disposisi"])
    assert data["jumlah_waktu"] == "1 hari 45 menit"
    assert not draft.flags_at("instansi")
    valid_data = {**data, "langkah": data["langkah"][:2] + [{**third, "simbol": "selesai"}]}
    valid_data["langkah"][2].pop("ya")
    assert sopfile.validate(valid_data).langkah[1].tidak == 1


def test_a_header_of_one_row_with_the_actors_between_kegiatan_and_mutu_baku():
    header = [["No", "Kegiatan", "Kasubag", "Staf", "Kelengkapan", "Waktu", "Output", "Keterangan"]]
    rows = [["1", "Menyusun", "□", "", "", "1 jam", "", ""], ["2", "Mengirim", "", "□", "", "2 jam", "", ""]]
    draft = read_docx(office_sheet([["Nama SOP", "Kirim"]], header, rows), filename="kirim.docx")
    assert draft.data["pelaksana"] == ["Kasubag", "Staf"]
    assert [step["pelaksana"] for step in draft.data["langkah"]] == ["Kasubag", "Staf"]


def test_a_header_of_two_rows_typed_without_merging_its_cells():
    header = [["No", "Kegiatan", "Pelaksana", "Mutu Baku", "", "", "Keterangan"],
              ["", "", "Kasubag", "Kelengkapan", "Waktu", "Output", ""]]
    rows = [["1", "Menyusun", "□", "Data", "1 jam", "Konsep", ""], ["2", "Mengirim", "□", "", "2 jam", "Surat", ""]]
    draft = read_docx(office_sheet([["Nama SOP", "Kirim"]], header, rows), filename="kirim.docx")
    assert draft.data["pelaksana"] == ["Kasubag"]
    assert [(step["kegiatan"], step["waktu"]) for step in draft.data["langkah"]] == [("Menyusun", "1 jam"),
                                                                                  ("Mengirim", "2 jam")]
    assert draft.data["langkah"][0]["kelengkapan"] == ["Data"]


def test_an_unlabelled_actor_column_with_marks_gets_a_name_to_fix():
    header = [["No", "Kegiatan", "Pelaksana", "<", "Mutu Baku", "<", "<", "Keterangan"],
              ["^", "^", "Kasubag", "", "Kelengkapan", "Waktu", "Output", "^"]]
    rows = [["1", "Menyusun", "□", "", "", "1 jam", "", ""], ["2", "Mengirim", "", "□", "", "2 jam", "", ""]]
    draft = read_docx(office_sheet([["Nama SOP", "Kirim"]], header, rows), filename="kirim.docx")
    assert draft.data["pelaksana"] == ["Kasubag", "Pelaksana 2"]
    assert draft.flags_at("pelaksana[1]")


def test_a_shape_a_picture_and_a_wingdings_character_count_as_marks():
    decision = f"""<w:r xmlns:w="{W}" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"
        xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"
        xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"
        xmlns:v="urn:schemas-microsoft-com:vml"><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing>
        <wps:wsp><wps:spPr><a:prstGeom prst="flowChartDecision"/></wps:spPr></wps:wsp></w:drawing></mc:Choice>
        <mc:Fallback><w:pict><v:shape type="#_x0000_t110"/></w:pict></mc:Fallback></mc:AlternateContent></w:r>"""
    connector = f"""<w:r xmlns:w="{W}" xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"
        xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><w:drawing><wps:wsp><wps:cNvCnPr/>
        <wps:spPr><a:prstGeom prst="straightConnector1"/></wps:spPr></wps:wsp></w:drawing></w:r>"""
    wingdings = f'<w:r xmlns:w="{W}"><w:sym w:font="Wingdings" w:char="F06E"/></w:r>'

    def marks(document):
        rows = [step_row(document, n) for n in (1, 2, 3)]
        for row in rows:
            for cell in row.cells[2:6]:
                for paragraph in cell.paragraphs:
                    for run in paragraph.runs:
                        run.text = ""
        rows[0].cells[2].paragraphs[0]._p.append(parse_xml(wingdings))
        rows[1].cells[3].paragraphs[0]._p.append(parse_xml(decision))
        rows[1].cells[4].paragraphs[0]._p.append(parse_xml(connector))  # a flow line, not a mark
        rows[2].cells[4].paragraphs[0].add_run().add_picture(io.BytesIO(_PNG))

    draft = read_docx(edit(sheet(), marks), filename="patroli.docx")
    first, second, third = draft.data["langkah"][:3]
    assert first["pelaksana"] == "Kasat Pol PP"
    assert (second["pelaksana"], second["simbol"]) == ("Kabid Ketertiban dan Ketentraman Masyarakat", "keputusan")
    assert draft.flags_at("langkah[1].tidak")
    assert third["pelaksana"] == "Kasie Operasional dan Pengendalian"


def _png() -> bytes:
    """A 1×1 white PNG."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0\xff\xff\xff")) + chunk(b"IEND", b"")


_PNG = _png()


def test_a_pelaksana_column_naming_the_actor_in_words():
    header = [["No", "Kegiatan", "Pelaksana", "Kelengkapan", "Waktu", "Output"]]
    rows = [["1", "Menyusun konsep", "Kasubag Umum", "", "1 jam", "Konsep"],
            ["2", "Menandatangani", "Sekretaris", "", "15 menit", "Surat"],
            ["3", "Mengirim", "", "", "15 menit", "Tanda terima"]]
    draft = read_docx(office_sheet([["Nama SOP", "Kirim"]], header, rows), filename="kirim.docx")
    assert draft.data["pelaksana"] == ["Kasubag Umum", "Sekretaris"]
    assert [step["pelaksana"] for step in draft.data["langkah"]] == ["Kasubag Umum", "Sekretaris", ""]
    assert draft.flags_at("langkah[2].pelaksana")


def test_a_number_where_the_revision_date_belongs_is_read_as_the_revision():
    identity = [["Nama SOP", "Unit Binpolmas"], ["TGL REVISI", "01"], ["Instansi", "Satbinmas"]]
    draft = read_docx(office_sheet(identity, HEADER, ROWS), filename="binpolmas.docx")
    assert draft.data["revisi"] == 1
    assert "tanggal_revisi" not in draft.data
    assert "01" in draft.flags_at("revisi")[0].message


def test_a_title_above_the_procedure_table_names_an_sop_without_nama():
    header = [["SOP PATROLI WILAYAH", "<", "<", "<", "<", "<", "<", "<"]] + HEADER
    draft = read_docx(office_sheet([], header, ROWS), filename="patroli.docx")
    assert draft.data["nama"] == "PATROLI WILAYAH"
    assert "SOP PATROLI WILAYAH" in draft.flags_at("nama")[0].message
    assert draft.data["kode"] == "patroli-wilayah"


def test_text_of_no_identity_above_the_procedure_table_is_left_out_and_flagged():
    header = [["Lampiran II", "<", "<", "<", "<", "<", "<", "<"]] + HEADER
    draft = read_docx(office_sheet([], header, ROWS), filename="patroli.docx")
    assert "Lampiran II" in draft.flags_at("")[0].message
    assert len(draft.data["langkah"]) == 3


# ---------------------------------------------------------------------------------------------
# The pieces: waktu, dates, items, answers
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("written", "read"), [
    # What the grammar reads is kept as printed, as the SOP files keep it.
    ("15 Menit", "15 Menit"), ("1 Hari", "1 Hari"), ("2 jam", "2 jam"), ("3jam", "3jam"), ("3-4 jam", "3-4 jam"),
    ("1 Bulan", "1 Bulan"), ("10\nMenit", "10 Menit"), ("15 Menit.", "15 Menit"), ("2 hours", "2 hours"),
    ("3 - 4 jam", "3 - 4 jam"),
    # What sheets write beyond it is turned into the grammar.
    ("30 mnt", "30 menit"), ("3 s/d 4 Jam", "3-4 jam"), ("1 (satu) hari", "1 hari"), ("± 15 menit", "15 menit"),
    ("5 hr", "5 hari"),
])
def test_waktu_is_read_in_the_formats_grammar(written, read):
    assert read_waktu(written) == read
    assert parse_waktu(read)


@pytest.mark.parametrize("written", ["sebentar", "½ jam", "0 menit", "4-3 jam", "2 jam 30 menit", ""])
def test_waktu_outside_the_grammar_is_not_guessed(written):
    assert read_waktu(written) is None


@pytest.mark.parametrize(("written", "read"), [
    ("03 SEPTEMBER 2019", "2019-09-03"), ("3 September 2019", "2019-09-03"), ("2019-09-03", "2019-09-03"),
    ("03/09/2019", "2019-09-03"), ("-----September 2018", "2018-09"), ("1 Okt 2019", "2019-10-01"),
    ("Pebruari 2020", "2020-02"), ("Tgl. 5 Mei 2021", "2021-05-05"),
])
def test_dates_are_read_as_the_format_writes_them(written, read):
    assert read_date(written) == read


@pytest.mark.parametrize("written", ["31 Februari 2019", "2019", "kemarin", "01"])
def test_dates_that_are_not_dates_are_not_guessed(written):
    assert read_date(written) is None


def test_kelengkapan_is_split_on_lines_bullets_numbers_and_semicolons():
    lines = [word.Line(text) for text in ["1. Surat Tugas", "2) Peta; Kompas", "• Draf Undangan Narasumber, Peserta",
                                          "- ", "a. Buku", "1. UU 14 2. PP 61 3. Perbup"]]
    assert items(lines) == ["Surat Tugas", "Peta", "Kompas", "Draf Undangan Narasumber, Peserta", "Buku",
                            "UU 14", "PP 61", "Perbup"]


@pytest.mark.parametrize(("text", "answers"), [
    ("Ya → 5", {"ya": 5}),
    ("Tidak: kembali ke langkah 3", {"tidak": 3}),
    ("Keputusan: Ya (setuju) - ke Kadis (langkah 5); Tidak - dikembalikan (langkah 3).", {"ya": 5, "tidak": 3}),
    ("Ya - lanjut ke langkah 9; Tidak (mentaati) - proses selesai di sini. Lihat langkah 8.", {"ya": 9, "tidak": "selesai"}),
    ("Bila tidak setuju, dikembalikan", {}),
    ("Tidak ada perubahan pada langkah 2", {}),
])
def test_ya_and_tidak_are_read_where_a_text_writes_them(text, answers):
    assert word.answers_in_text(text) == answers


# ---------------------------------------------------------------------------------------------
# Refusals and hostile files
# ---------------------------------------------------------------------------------------------


def refusal(blob: bytes, filename: str = "berkas.docx") -> str:
    with pytest.raises(WordImportError) as caught:
        read_docx(blob, filename=filename)
    assert filename in str(caught.value)
    return caught.value.reason


def letter() -> bytes:
    document = docx.Document()
    document.add_paragraph("Kepada Yth. Kepala Dinas")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Nomor"
    table.cell(0, 1).text = "005/123"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_a_letter_is_refused_as_no_sop_sheet():
    assert "Kegiatan" in refusal(letter(), "surat undangan.docx")


def test_an_empty_document_is_refused():
    out = io.BytesIO()
    docx.Document().save(out)
    refusal(out.getvalue(), "kosong.docx")


@pytest.mark.parametrize("blob", [b"", b"hello", b"PK\x03\x04garbage", bytes(range(256)) * 4,
                                  b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100)])
def test_what_is_no_docx_is_refused(blob):
    refusal(blob)


def test_a_zip_that_is_not_a_word_document_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("word/readme.txt", "not a document")
    refusal(out.getvalue())


def test_a_zip_bomb_is_refused_before_it_is_inflated():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"\0" * (word.MAX_XML_BYTES + 1))
    assert len(out.getvalue()) < 100 * 1024
    assert "MB" in refusal(out.getvalue())


def test_parts_that_unpack_beyond_the_limit_together_are_refused(monkeypatch):
    monkeypatch.setattr(word, "MAX_UNPACKED_BYTES", 200 * 1024)
    blob = edit(sheet(), lambda document: document.add_picture(io.BytesIO(_PNG + bytes(300 * 1024))))
    assert "MB" in refusal(blob)


def test_a_table_with_too_many_rows_is_refused(monkeypatch):
    monkeypatch.setattr(word, "MAX_ROWS", 20)
    assert "20" in refusal(sheet("001"))


def test_a_table_with_too_many_columns_is_refused(monkeypatch):
    monkeypatch.setattr(word, "MAX_COLUMNS", 8)
    refusal(sheet("002"))


def test_a_huge_gridspan_is_refused_not_allocated():
    def widen(document):
        tc_pr = step_row(document, 1).cells[1]._tc.get_or_add_tcPr()
        tc_pr.append(parse_xml(f'<w:gridSpan xmlns:w="{W}" w:val="99999999"/>'))

    refusal(edit(sheet(), widen))


def test_damaged_documents_give_a_draft_or_a_refusal_never_a_traceback(caplog):
    """Random damage to the XML and the zip of a real sheet (a fixed seed, so a failure repeats)."""
    source = sheet("003")
    with zipfile.ZipFile(io.BytesIO(source)) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    document = parts["word/document.xml"]
    generator = random.Random(14)
    outcomes = {"draft": 0, "refused": 0}
    for attempt in range(40):
        damaged = bytearray(document)
        if attempt % 2:
            # Delete a stretch: unbalanced tags, cells and rows cut in half.
            start = generator.randrange(len(damaged))
            del damaged[start:start + generator.randrange(1, 400)]
        else:
            # Remove whole elements that hold the table's structure.
            for tag in generator.sample([b"<w:tc>", b"<w:tr>", b"<w:tcPr>", b"<w:gridSpan", b"<w:vMerge"], 2):
                damaged = bytearray(bytes(damaged).replace(tag, b"<w:bogus>", generator.randrange(1, 20)))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            for name, content in parts.items():
                archive.writestr(name, bytes(damaged) if name == "word/document.xml" else content)
        try:
            read_docx(out.getvalue(), filename="rusak.docx")
            outcomes["draft"] += 1
        except WordImportError:
            outcomes["refused"] += 1
    for _ in range(20):
        blob = bytearray(source)
        for _ in range(generator.randrange(1, 30)):
            blob[generator.randrange(len(blob))] = generator.randrange(256)
        try:
            read_docx(bytes(blob), filename="rusak.docx")
        except WordImportError:
            pass
    assert outcomes["refused"] and outcomes["draft"]
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


FUZZ_WORDS = ["No", "Kegiatan", "Pelaksana", "Mutu Baku", "Kelengkapan", "Waktu", "Output", "Keterangan", "Kasi",
              "□", "■", "◇", "X", "Ya → 3", "Tidak: kembali ke langkah 1", "Tidak → selesai", "15 menit", "", "", "",
              "Nama SOP", "Disahkan oleh", "Tgl Revisi", "01", "3 September 2019", "Jumlah Waktu", "1.", "A",
              "Dasar Hukum:", "1. UU; 2. PP", "NIP. 196406061985031015", "Setuju?", "Ya", ":", "-", "sebentar"]


def random_sheet(rng: random.Random) -> bytes:
    """Tables of random cells, merges and spans (some out of range), header words and marks."""
    def cell() -> str:
        props = ""
        if rng.random() < 0.15:
            props += f'<w:gridSpan w:val="{rng.choice([0, 1, 2, 3, -1, "x", 70])}"/>'
        if rng.random() < 0.15:
            props += rng.choice(["<w:vMerge/>", '<w:vMerge w:val="restart"/>', "<w:hMerge/>"])
        underline = '<w:rPr><w:u w:val="single"/></w:rPr>' if rng.random() < 0.1 else ""
        paragraphs = "".join(f'<w:p><w:r>{underline}<w:t xml:space="preserve">{rng.choice(FUZZ_WORDS)}</w:t></w:r></w:p>'
                             for _ in range(rng.randrange(3)))
        if rng.random() < 0.05:
            paragraphs += '<w:p><w:r><w:sym w:font="Wingdings" w:char="6E"/></w:r></w:p>'
        if rng.random() < 0.03:
            paragraphs += "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Kegiatan</w:t></w:r></w:p></w:tc></w:tr></w:tbl><w:p/>"
        return f"<w:tc><w:tcPr>{props}</w:tcPr>{paragraphs or '<w:p/>'}</w:tc>"

    document = docx.Document()
    body = document.element.body
    for _ in range(rng.randrange(1, 4)):
        header = "<w:tr>" + "".join(
            f"<w:tc><w:tcPr><w:gridSpan w:val=\"{rng.choice([1, 2])}\"/></w:tcPr><w:p><w:r><w:t>{title}</w:t></w:r></w:p></w:tc>"
            for title in ["No", "Kegiatan", "Pelaksana", "Mutu Baku", "Keterangan"] if rng.random() < 0.9) + "</w:tr>"
        rows = "".join("<w:tr>" + "".join(cell() for _ in range(rng.randrange(10))) + "</w:tr>"
                       for _ in range(rng.randrange(15)))
        body.insert(len(body) - 1, parse_xml(f'<w:tbl xmlns:w="{W}"><w:tblGrid/>{header if rng.random() < 0.7 else ""}{rows}</w:tbl>'))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_random_tables_give_a_draft_or_a_refusal_never_a_traceback():
    outcomes = {"draft": 0, "refused": 0}
    for seed in range(30):
        try:
            read_docx(random_sheet(random.Random(seed)), filename="acak.docx")
            outcomes["draft"] += 1
        except WordImportError:
            outcomes["refused"] += 1
    assert outcomes["draft"] and outcomes["refused"]
