"""Impor dari Word: read an SOP sheet (.docx) into a draft in the SOP file format.

The sheet is laid out as Permenpan RB No. 35/2012 has it: an identity table (letterhead, Nomor SOP,
the dates, Disahkan oleh, Nama SOP, then Dasar Hukum … Pencatatan dan Pendataan), then the
procedure table No | Kegiatan | one column per Pelaksana | Mutu Baku (Kelengkapan, Waktu, Output) |
Keterangan, the actor of a step being the column that holds the row's mark.

:func:`read_docx` gives a :class:`WordDraft`: ``data`` is a dict with the keys of an SOP file
(``docs/sop-format.md``), ready for :func:`procedures.sopfile.validate` or the editor, and
``flags`` lists, by key path, every place where the sheet could not be read as it stands. What
cannot be read is kept as the text the sheet prints and flagged, never guessed silently. A file
that is no Word document, is too large, or holds no procedure table is refused with
:class:`WordImportError`, whose message names the file. See docs/authoring.md.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

import docx
from django.utils.text import slugify
from django.utils.translation import gettext as _

from procedures.authoring import docx_xml
from procedures.authoring.docx_xml import Cell, Content, Limits, Line, Table, TooLarge
from procedures.durations import DurationError, parse_total, parse_waktu

logger = logging.getLogger(__name__)

# Bounds that keep a hostile file from taking the server's memory or time. A 100-step sheet is
# a 60 KB .docx of some 700 table rows and 11,000 cells; Word itself allows at most 63 columns.
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_UNPACKED_BYTES = 60 * 1024 * 1024  # all parts of the zip, as its directory declares them
MAX_XML_BYTES = 15 * 1024 * 1024  # one XML part: its parsed tree takes some ten times as much memory
MAX_PARTS = 2_000
MAX_ROWS = 2_000
MAX_CELLS = 30_000
MAX_COLUMNS = 63
HEADER_SEARCH_ROWS = 400  # a procedure header further down a table is not looked for

END = "selesai"
LIST_KEYS = ("dasar_hukum", "kualifikasi_pelaksana", "keterkaitan", "peralatan", "peringatan", "pencatatan")
DATE_KEYS = ("tanggal_pembuatan", "tanggal_revisi", "tanggal_efektif")


# ---------------------------------------------------------------------------------------------
# The result
# ---------------------------------------------------------------------------------------------


class WordImportError(Exception):
    """A refused file: it is no SOP sheet that can be read. The message names the file."""

    def __init__(self, filename: str, reason: str):
        self.filename, self.reason = filename, reason
        super().__init__(_("“%(file)s”: %(reason)s") % {"file": filename, "reason": reason})


@dataclass(frozen=True)
class Flag:
    """Something of the sheet that needs the author: a key path of the draft and what is wrong.

    ``path`` is ``langkah[4].pelaksana``, ``tanggal_efektif``, ``pelaksana[2]``, ``pelaksana``,
    ``langkah`` (the procedure table as a whole) or ``""`` (the document).
    """

    path: str
    message: str

    @property
    def where(self) -> str:
        """The place in words: "langkah 5 · pelaksana" (steps by their number, not their index)."""
        match = re.fullmatch(r"langkah\[(\d+)\](?:\.(.+))?", self.path)
        if match:
            step = _("step %(nomor)s") % {"nomor": int(match[1]) + 1}
            return f"{step} · {match[2]}" if match[2] else step
        return self.path

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.path else self.message


@dataclass
class WordDraft:
    """A sheet read from Word: the SOP file's structure and the flags the author must look at."""

    filename: str
    data: dict[str, Any]
    flags: list[Flag] = field(default_factory=list)

    def flags_at(self, path: str) -> list[Flag]:
        """The flags of one key path, e.g. ``langkah[3].waktu``."""
        return [flag for flag in self.flags if flag.path == path]


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


def read_docx(data: bytes, *, filename: str) -> WordDraft:
    """Read the bytes of a .docx SOP sheet into a draft; refuse what is no readable sheet."""
    document = _open(data, filename)
    body = document.element.find(f"{{{docx_xml.W_NS}}}body")
    if body is None:
        raise WordImportError(filename, _("the document has no text"))
    reader = _SheetReader(filename)
    try:
        reader.read(body)
    except TooLarge as error:
        what = {"rows": _("too many table rows (at most %(n)s)") % {"n": MAX_ROWS},
                "cells": _("too many table cells (at most %(n)s)") % {"n": MAX_CELLS},
                "columns": _("too many columns (at most %(n)s)") % {"n": MAX_COLUMNS}}[error.what]
        raise WordImportError(filename, _("table %(table)s has %(what)s") % {
            "table": error.table, "what": what}) from None
    return WordDraft(filename, reader.draft(), reader.flags)


def _open(data: bytes, filename: str) -> docx.document.Document:
    """The parsed document, after checking that the package is a bounded Word file."""
    if not isinstance(data, bytes | bytearray):
        raise WordImportError(filename, _("the file could not be read"))
    if len(data) > MAX_FILE_BYTES:
        raise WordImportError(filename, _("the file is %(size)s MB; a Word sheet may be at most %(limit)s MB") % {
            "size": round(len(data) / 1024 / 1024, 1), "limit": MAX_FILE_BYTES // 1024 // 1024})
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise WordImportError(filename, _(
            "this is an old Word document (.doc); open it in Word and save it as .docx"))
    if data[:2] != b"PK":
        raise WordImportError(filename, _("this is not a Word document (.docx)"))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise WordImportError(filename, _("this is not a Word document (.docx): the file is damaged")) from None
    # python-docx reads every part; the zip's declared sizes bound what it can inflate (zipfile
    # stops at the declared size), so a "zip bomb" is refused here, before anything is inflated.
    if (len(parts) > MAX_PARTS or sum(part.file_size for part in parts) > MAX_UNPACKED_BYTES
            or any(part.file_size > MAX_XML_BYTES for part in parts if part.filename.endswith((".xml", ".rels")))):
        raise WordImportError(filename, _("the document unpacks to more than %(limit)s MB") % {
            "limit": MAX_UNPACKED_BYTES // 1024 // 1024})
    if not any(part.filename.startswith("word/") for part in parts):
        raise WordImportError(filename, _("this is not a Word document (.docx)"))
    try:
        return docx.Document(io.BytesIO(data))
    except Exception:  # noqa: BLE001 — python-docx raises KeyError, ValueError, lxml and zip errors on damaged packages
        logger.info("Word import: %s could not be opened", filename, exc_info=True)
        raise WordImportError(filename, _("this Word document is damaged and cannot be read")) from None


# ---------------------------------------------------------------------------------------------
# Words of the sheet
# ---------------------------------------------------------------------------------------------


def _norm(text: str) -> str:
    """Text reduced for comparing labels: "Tgl. Pembuatan :" → "tgl pembuatan"."""
    return " ".join(re.sub(r"[^\w]+", " ", text.casefold()).split())


def _words(pattern: str) -> re.Pattern:
    return re.compile(rf"(?:{pattern})")


# The wordings offices use, and the English of a sheet exported by sopflow in English.
IDENTITY_LABELS: list[tuple[str, re.Pattern]] = [
    ("nomor", _words(r"(?:nomor|no|nmr)(?: sop)?|sop number")),
    ("tanggal_pembuatan", _words(r"(?:tanggal|tgl) (?:pembuatan|dibuat|penyusunan)|date made")),
    ("tanggal_revisi", _words(r"(?:tanggal|tgl) (?:revisi|perubahan)|date revised")),
    ("tanggal_efektif", _words(r"(?:tanggal|tgl) (?:efektif|berlaku|pemberlakuan)|effective date")),
    ("revisi", _words(r"revisi(?: ke)?|(?:no|nomor) revisi")),
    ("disahkan_oleh", _words(r"(?:disahkan|ditetapkan) oleh|pengesahan|approved by")),
    ("nama", _words(r"(?:nama|judul) (?:sop|prosedur)|sop name")),
    ("instansi", _words(r"instansi|unit kerja|satuan kerja|perangkat daerah|opd|skpd|satker")),
    ("dasar_hukum", _words(r"dasar hukum|legal basis")),
    ("kualifikasi_pelaksana", _words(r"(?:kualifikasi|klarifikasi) pelaksana(?:an)?|implementer qualifications")),
    ("keterkaitan", _words(r"keterkaitan(?: dengan)?(?: sop)?(?: lain(?:nya)?)?|related sops")),
    ("peralatan", _words(r"peralatan(?: perlengkapan)?|perlengkapan(?: peralatan)?|equipment")),
    ("peringatan", _words(r"peringatan|warnings")),
    ("pencatatan", _words(r"(?:pencatatan|pendataan)(?:(?: dan)? (?:pencatatan|pendataan))?(?: dokumentasi)?"
                          r"|records and data keeping")),
]
HEADER_WORDS: list[tuple[str, re.Pattern]] = [
    ("no", _words(r"no|nomor|no urut|nomor urut")),
    ("kegiatan", _words(r"(?:uraian )?(?:kegiatan|aktivitas|aktifitas|prosedur|langkah)"
                        r"(?: (?:kegiatan|aktivitas|aktifitas|prosedur))?|uraian|activity")),
    ("pelaksana", _words(r"(?:pelaksana(?:an)?|pelaku|aktor)(?: (?:pelaksana|aktor))?|actors")),
    ("mutu", _words(r"mutu(?: baku)?|baku mutu|quality standard")),
    ("kelengkapan", _words(r"(?:(?:persyaratan|syarat|input) )?(?:kelengkapan|perlengkapan)(?: (?:persyaratan|syarat))?"
                           r"|persyaratan|syarat|input|requirements")),
    ("waktu", _words(r"waktu(?: \w+)?|time")),
    ("output", _words(r"(?:output|keluaran|hasil)(?: (?:output|keluaran|hasil))?")),
    ("keterangan", _words(r"keterangan|ket|catatan|notes")),
]
MUTU_KINDS = ("kelengkapan", "waktu", "output")
TOTAL_LABEL = re.compile(
    r"^\s*(?:jumlah|total)(?:\s+total)?(?:\s+(?:waktu|time))?(?:\s+penyelesaian)?\s*:?\s*(?P<rest>.*)$",
    re.IGNORECASE)
TITLE = re.compile(r"(?:standar operasional prosedur|standard operating procedure|sop)\b(?: sop)?")
# First words of the line of a letterhead that names the office itself.
OFFICE_WORDS = re.compile(
    r"(?:dinas|badan|kantor|satuan|satpol|sekretariat|inspektorat|kecamatan|kelurahan|rumah sakit|rsud|"
    r"puskesmas|uptd?|bagian|biro|direktorat|polres|polresta|polsek|polda|satbinmas|kejaksaan|pengadilan|"
    r"lembaga|kementerian|dprd)\b")
MONTHS = {
    **dict.fromkeys(("januari", "jan", "january"), 1),
    **dict.fromkeys(("februari", "pebruari", "feb", "peb", "february"), 2),
    **dict.fromkeys(("maret", "mar", "march"), 3),
    **dict.fromkeys(("april", "apr"), 4),
    **dict.fromkeys(("mei", "may"), 5),
    **dict.fromkeys(("juni", "jun", "june"), 6),
    **dict.fromkeys(("juli", "jul", "july"), 7),
    **dict.fromkeys(("agustus", "agu", "agt", "ags", "agst", "aug", "august"), 8),
    **dict.fromkeys(("september", "sep", "sept"), 9),
    **dict.fromkeys(("oktober", "okt", "oct", "october"), 10),
    **dict.fromkeys(("november", "nopember", "nov", "nop"), 11),
    **dict.fromkeys(("desember", "des", "dec", "december"), 12),
}
WAKTU_ALIASES = {"mnt": "menit", "mnit": "menit", "mins": "menit", "min": "menit", "hr": "hari", "hri": "hari",
                 "jm": "jam", "mgg": "minggu", "bln": "bulan"}
RANK = re.compile(
    r"\b(?:I{1,3}|IV)\s*/\s*[a-e]\b|\b(?:pembina|penata|pengatur|juru|komisaris|ajun|inspektur|brigadir|"
    r"bripka|briptu|bripda|aipda|aiptu|iptu|ipda|akp|kompol|akbp|kombes|kolonel|letnan|mayor|kapten)\b",
    re.IGNORECASE)
SIGNER_ID = re.compile(r"^(?:NIP|NRP|NIP/NRP)\b\.?\s*:?\s*(.*)$", re.IGNORECASE)
ELECTRONIC = re.compile(r"elektronik|electronic", re.IGNORECASE)
# A "Ya"/"Tidak" answer written beside a decision: a line of a mark column ("Ya → 5",
# "Tidak: kembali ke langkah 3") or a clause of a text ("…; Tidak - dikembalikan (langkah 3)").
ANSWER_LINE = re.compile(r"^(?P<answer>ya|tidak)\b\s*(?:\((?P<words>[^)]*)\))?\s*(?P<rest>.*)$", re.IGNORECASE)
ANSWER_IN_TEXT = re.compile(
    r"(?:^|(?<=[\s;:.,(\"“”]))(?P<answer>Ya|YA|Tidak|TIDAK)\s*(?:\([^)\n]*\))?\s*(?:->|=>|[:\-–—→=>])")
CLAUSE_END = re.compile(r";|\n|\.\s+(?=[\"“A-Z])")
TARGET_AFTER_WORD = re.compile(r"\b(?:langkah|step|no\.?|nomor)\s*(\d+)", re.IGNORECASE)
TARGET_AFTER_ARROW = re.compile(r"(?:->|=>|→|\bke)\s*(\d+)\b", re.IGNORECASE)
TARGET_FIRST = re.compile(r"^\W*(\d+)\b")
TARGET_END = re.compile(r"\bselesai\b", re.IGNORECASE)
BULLET = re.compile(r"^(?:[-–—•·▪◦●*>]\s*|\d{1,2}[.)](?=\s|[^\W\d])\s*|[a-z][.)]\s+)")
DECISION_MARKS = set("◇◆♦⬦⬥◊⧫❖")
TERMINATOR_MARKS = set("○◯●⬭⬬⚪◎")
PROCESS_MARKS = set("□■▢▭▯☐█❑❒▪◻◼")


def _kind_of(text: str, words: list[tuple[str, re.Pattern]]) -> str | None:
    normal = _norm(text)
    for kind, pattern in words:
        if pattern.fullmatch(normal):
            return kind
    return None


def _label(text: str) -> tuple[str, str | None] | None:
    """The identity key a line names, and the value written after it on the same line."""
    kind = _kind_of(text, IDENTITY_LABELS)
    if kind:
        return kind, None
    head, colon, rest = text.partition(":")
    if colon:
        kind = _kind_of(head, IDENTITY_LABELS)
        if kind:
            return kind, rest.strip() or None
    return None


def _is_placeholder(text: str) -> bool:
    return not re.sub(r"[-–—_.…:\s]", "", text)


def _split_numbered(text: str) -> list[str]:
    """ "1. A 2. B 3. C" typed in one paragraph → ["1. A", "2. B", "3. C"] (numbers in sequence)."""
    if not re.match(r"\s*1[.)]\s", text):
        return [text]
    parts, start, number = [], 0, 2
    while True:
        match = re.compile(rf"(?:(?<=\s)|(?<=[.;,]))({number})[.)]\s+(?=[^\W\d_])").search(text, start + 2)
        if not match:
            break
        parts.append(text[start:match.start()])
        start, number = match.start(), number + 1
    parts.append(text[start:])
    return parts


def items(lines: list[Line]) -> list[str]:
    """A list cell split into its items: lines, bullets, numbers ("1.", "a)"), ";"."""
    found = []
    for line in lines:
        for part in line.text.split(";"):
            for piece in _split_numbered(part):
                item = BULLET.sub("", piece.strip(), count=1).strip()
                if item and not _is_placeholder(item):
                    found.append(item)
    return found


def read_date(text: str) -> str | None:
    """A printed date as the format writes it: YYYY-MM-DD, or YYYY-MM when the day is not given."""
    value = text.strip().strip("-–—_.:,/ ")
    value = re.sub(r"^(?:tanggal|tgl)\.?\s*", "", value, flags=re.IGNORECASE)
    year = month = day = None
    if match := re.fullmatch(r"(\d{4})-(\d{1,2})(?:-(\d{1,2}))?", value):
        year, month, day = int(match[1]), int(match[2]), int(match[3]) if match[3] else None
    elif match := re.fullmatch(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})", value):
        day, month, year = int(match[1]), int(match[2]), int(match[3])
    elif match := re.fullmatch(r"(?:(\d{1,2})[\s\-/.]+)?([A-Za-z]+)\.?[\s\-/,]+(\d{4})", value):
        month = MONTHS.get(match[2].lower())
        day, year = (int(match[1]) if match[1] else None), int(match[3])
    if not (year and month) or not 1900 <= year <= 2999:
        return None
    try:
        date = dt.date(year, month, day or 1)
    except ValueError:
        return None
    return date.isoformat() if day else date.isoformat()[:7]


def read_waktu(text: str) -> str | None:
    """A printed time standard in the format's grammar, or None: as printed when the grammar reads it
    ("15 Menit", "3jam"), as the SOP files keep it; else what sheets write turned into the grammar
    ("30 mnt" → "30 menit", "3 s/d 4 Jam" → "3-4 jam")."""
    value = " ".join(text.split()).strip(" .;,")
    try:
        parse_waktu(value)
        return value
    except DurationError:
        pass
    value = re.sub(r"\([^)]*\)", " ", value)  # "1 (satu) hari"
    value = re.sub(r"^(?:±|\+/-|\+-|kurang lebih|maks(?:imal)?\.?|paling lama|selama)\s*", "", value,
                   flags=re.IGNORECASE)
    value = re.sub(r"(\d)\s*(?:s/d|s\.d\.?|sd|sampai dengan|sampai|–|—|-)\s*(\d)", r"\1-\2", value,
                   flags=re.IGNORECASE)
    value = re.sub(r"(\d)\s*([A-Za-z]+)\.?\s*$", lambda m: f"{m[1]} {WAKTU_ALIASES.get(m[2].lower(), m[2])}",
                   value.strip())
    try:
        return str(parse_waktu(value))
    except DurationError:
        return None


def _mark_kind(content: Content, lines: list[Line]) -> str | None:
    for shape in content.marks:
        if shape in (docx_xml.DECISION, docx_xml.TERMINATOR, docx_xml.PROCESS):
            return shape
    first = lines[0].text[:1] if lines else ""
    if first in DECISION_MARKS:
        return docx_xml.DECISION
    if first in TERMINATOR_MARKS:
        return docx_xml.TERMINATOR
    if first in PROCESS_MARKS:
        return docx_xml.PROCESS
    return None


def _target(clause: str) -> int | str | None:
    for pattern in (TARGET_AFTER_WORD, TARGET_AFTER_ARROW, TARGET_FIRST):
        if match := pattern.search(clause):
            return int(match[1])
    if TARGET_END.search(clause):
        return END
    return None


def answers_in_text(text: str) -> dict[str, int | str | None]:
    """The Ya/Tidak answers a free text states, each with its target when it names one."""
    found: dict[str, int | str | None] = {}
    matches = list(ANSWER_IN_TEXT.finditer(text))
    for index, match in enumerate(matches):
        stop = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        clause = text[match.end():stop]
        end = CLAUSE_END.search(clause)
        clause = clause[:end.start()] if end else clause
        key = "ya" if match["answer"].lower() == "ya" else "tidak"
        if key not in found or found[key] is None:
            found[key] = _target(clause)
    return found


def _answer_line(text: str) -> tuple[str, int | str | None, str] | None:
    """ "Ya → 5", "Tidak (Dikembalikan) → 3", "Tidak: kembali ke langkah 3": answer, target, words."""
    match = ANSWER_LINE.match(text)
    if not match:
        return None
    rest = match["rest"].strip()
    # "Ya" alone, or followed by a separator or a target: not a sentence that starts with "Tidak".
    if rest and not re.match(r"(?:->|=>|[:\-–—→=>]|\d|ke\b|langkah\b|selesai\b)", rest, re.IGNORECASE):
        return None
    return ("ya" if match["answer"].lower() == "ya" else "tidak"), _target(rest), (match["words"] or "").strip()


def _one_line(lines: list[Line]) -> str:
    return " ".join(line.text for line in lines)


def _as_text(lines: list[Line]) -> str:
    return "\n".join(line.text for line in lines)


def _roman_or_int(text: str) -> int | None:
    match = re.fullmatch(r"0*(\d{1,5})[.)]?", text.strip())
    return int(match[1]) if match else None


# ---------------------------------------------------------------------------------------------
# The reader
# ---------------------------------------------------------------------------------------------


@dataclass
class _Column:
    """A column of the procedure table: its kind (no, kegiatan, role, kelengkapan, waktu, output,
    keterangan, or None when not understood), the grid columns it covers, its header text."""

    kind: str | None
    cols: list[int]
    title: str = ""


@dataclass
class _Step:
    row: int
    table: Table
    data: dict[str, Any]
    printed: int | None = None
    answers: dict[str, list[tuple[int | str | None, str]]] = field(default_factory=dict)
    mark_kind: str | None = None
    words: dict[str, str] = field(default_factory=dict)  # label_ya / label_tidak written in the mark column


class _SheetReader:
    """Walks the document once: identity before the procedure table, steps in it, flags all along."""

    def __init__(self, filename: str):
        self.filename = filename
        self.flags: list[Flag] = []
        self._flagged: set[Flag] = set()
        self._step_of_row: dict[tuple[int, int], int] = {}  # (table, row) → nomor
        self.limits = Limits(rows=MAX_ROWS, cells=MAX_CELLS, columns=MAX_COLUMNS)
        self.fields: dict[str, list[Line]] = {}
        self.kop: list[str] = []
        self.titles: list[str] = []
        self.roles: list[str] = []
        self.role_columns: list[_Column] = []
        self.steps: list[_Step] = []
        self.jumlah_waktu: str | None = None

    def flag(self, path: str, message: str) -> None:
        flag = Flag(path, message)
        if flag not in self._flagged:
            self._flagged.add(flag)
            self.flags.append(flag)

    # -- the document ------------------------------------------------------------------------

    def read(self, body) -> None:
        tables: list[Table] = []
        procedure: tuple[Table, int] | None = None
        before: list = []
        for block in docx_xml.blocks(body):
            if block.tag == docx_xml.P:
                if procedure is None and not tables:
                    before.append(block)
                continue
            table = docx_xml.read_table(block, len(tables) + 1, self.limits)
            tables.append(table)
            if procedure is None:
                header = self._find_header(table)
                if header is not None:
                    procedure = (table, header)
        if procedure is None:
            raise WordImportError(self.filename, _(
                "this is not an SOP sheet: no table has the columns No, Kegiatan, Pelaksana and Mutu Baku "
                "(Kelengkapan, Waktu, Output)"))
        for paragraph in before:
            for line in docx_xml.paragraph_content(paragraph).lines:
                if TITLE.match(_norm(line.text)):
                    self.titles.append(line.text)
        table, header = procedure
        for earlier in tables[:tables.index(table)]:
            self._read_identity(earlier, len(earlier.rows))
        self._read_identity(table, header)
        columns, first_body = self._read_header(table, header)
        self._read_steps(table, columns, first_body)
        for later in tables[tables.index(table) + 1:]:
            self._read_later_table(later)
        self._settle_steps()

    # -- identity ----------------------------------------------------------------------------

    def _read_identity(self, table: Table, stop: int) -> None:
        """Read the label/value pairs of the rows before ``stop``; other text is the letterhead."""
        consumed: set[Cell] = set()
        loose: list[str] = []
        found_label = False
        for r in range(stop):
            for cell in table.rows[r]:
                if cell.merged_down or cell in consumed:
                    continue
                consumed.add(cell)
                opened: list[str] = []
                current = None
                for line in cell.content.lines:
                    label = _label(line.text)
                    if label and label[0] not in self.fields:
                        current, rest = label
                        opened.append(current)
                        self.fields[current] = [Line(rest, line.underline)] if rest else []
                    elif current:
                        self.fields[current].append(line)
                    else:
                        loose.append(line.text)
                found_label = found_label or bool(opened)
                if opened and not self.fields[opened[-1]]:
                    value = self._neighbour_value(table, cell, stop, consumed)
                    if value is not None:
                        consumed.add(value)
                        self.fields[opened[-1]] = [
                            Line(re.sub(r"^:\s*", "", line.text), line.underline) for line in value.content.lines]
        titles = [text for text in loose if TITLE.match(_norm(text))]
        self.titles.extend(titles)
        others = [text for text in loose if text not in titles and text.strip(":") and not _is_placeholder(text)]
        if found_label:
            self.kop.extend(others)  # the letterhead: what stands beside and above the labels
        elif others:
            self.flag("", _("the text “%(start)s” in table %(table)s, before the procedure table, is no SOP "
                            "identity and was left out") % {"table": table.number, "start": _start(others)})

    @staticmethod
    def _neighbour_value(table: Table, cell: Cell, stop: int, consumed: set[Cell]) -> Cell | None:
        """The value of a label alone in its cell: the cell to its right, else the one below."""
        for other in table.rows[cell.row]:
            if other.col < cell.col + cell.span or other.merged_down or other.content.text.strip() == ":":
                continue
            if other in consumed:
                break
            if not other.content.lines:
                return other  # the value is left blank on the sheet
            if _label(other.content.lines[0].text):
                break  # labels side by side ("Dasar Hukum | Kualifikasi Pelaksana"): values are below
            return other
        if cell.row + 1 < stop:
            below = table.at(cell.row + 1, cell.col)
            if below is not None and below.col == cell.col and not below.merged_down and below not in consumed:
                lines = below.content.lines
                if lines and not _label(lines[0].text):
                    return below
        return None

    # -- the procedure table -----------------------------------------------------------------

    @staticmethod
    def _row_kinds(table: Table, r: int) -> set[str]:
        return {kind for cell in table.rows[r] if not cell.merged_down
                for kind in [_kind_of(cell.content.text, HEADER_WORDS)] if kind}

    def _find_header(self, table: Table) -> int | None:
        for r in range(min(len(table.rows), HEADER_SEARCH_ROWS)):
            kinds = self._row_kinds(table, r)
            if "kegiatan" in kinds and kinds & {"pelaksana", "mutu", "waktu"}:
                return r
        return None

    def _read_header(self, table: Table, h: int) -> tuple[list[_Column], int]:
        """The columns of the procedure table and the first row after its header."""
        head = [cell for cell in table.rows[h] if not cell.merged_down]
        kinds = {cell: _kind_of(cell.content.text, HEADER_WORDS) for cell in head}
        below = table.rows[h + 1] if h + 1 < len(table.rows) else []
        # Two header rows: Pelaksana or Mutu Baku spans its sub-columns, cells are merged down from
        # the first row, or the second row names Kelengkapan/Waktu/Output under Mutu Baku.
        groups = {kind for kind in kinds.values() if kind in ("pelaksana", "mutu")}
        two_rows = any(kinds[cell] in groups and cell.span > 1 for cell in head) or any(
            cell.merged_down and cell.origin is not None and cell.origin.row == h for cell in below) or bool(
            groups and h + 1 < len(table.rows) and self._row_kinds(table, h + 1) & set(MUTU_KINDS))
        per_col: list[str | None] = [None] * table.width
        for cell in head:
            for c in cell.columns:
                per_col[c] = kinds[cell]
        columns: list[_Column] = []
        if two_rows:
            for cell in below:
                if cell.merged_down:
                    continue
                top_kind = per_col[cell.col] if cell.col < len(per_col) else None
                name = _one_line(cell.content.lines)
                if top_kind == "pelaksana":
                    kind = "role"
                elif top_kind == "mutu":
                    kind = _kind_of(name, HEADER_WORDS)
                    kind = kind if kind in MUTU_KINDS else None
                else:
                    kind = _kind_of(name, HEADER_WORDS) if top_kind is None else top_kind
                    if top_kind is not None:
                        continue  # a header cell that does not split in two: taken from the top row
                columns.append(_Column(kind, list(cell.columns), name))
            covered = {c for column in columns for c in column.cols}
            for cell in head:
                if not set(cell.columns) & covered:
                    columns.append(_Column(kinds[cell], list(cell.columns), _one_line(cell.content.lines)))
            columns.sort(key=lambda column: column.cols[0])
            first_body = h + 2
        else:
            columns = [_Column(kinds[cell], list(cell.columns), _one_line(cell.content.lines)) for cell in head]
            first_body = h + 1
        # Columns of no known heading between Kegiatan and Mutu Baku are roles (a header without
        # the word "Pelaksana" above them).
        starts = [i for i, column in enumerate(columns) if column.kind == "kegiatan"]
        if starts:
            ends = [i for i, column in enumerate(columns)
                    if i > starts[0] and column.kind in MUTU_KINDS + ("mutu", "keterangan")]
            for column in columns[starts[0] + 1:ends[0] if ends else len(columns)]:
                if column.kind is None:
                    column.kind = "role"
        for column in columns:
            column.cols = [c for c in column.cols if c < table.width]
        columns = [column for column in columns if column.cols]
        # A row of column numbers (1, 2, 3 …) under the header, as many sheets print.
        if first_body < len(table.rows):
            texts = [cell.content.text for cell in table.rows[first_body] if not cell.merged_down]
            filled = [text for text in texts if text]
            if len(filled) >= 3 and all(re.fullmatch(r"\(?\d{1,2}\)?", text) for text in filled):
                first_body += 1
        return self._settle_columns(table, columns, first_body), first_body

    def _column_empty(self, table: Table, column: _Column, first_body: int) -> bool:
        for r in range(first_body, len(table.rows)):
            for c in column.cols:
                cell = table.at(r, c)
                if cell is not None and not cell.merged_down and not cell.content.empty:
                    return False
        return True

    def _settle_columns(self, table: Table, columns: list[_Column], first_body: int) -> list[_Column]:
        """Name the roles, drop empty unnamed columns, flag what is not understood."""
        kept: list[_Column] = []
        for column in columns:
            place = _("column %(n)s") % {"n": column.cols[0] + 1}
            if column.kind == "pelaksana" and not any(c.kind == "role" for c in columns):
                # A single "Pelaksana" column whose cells name the actor in words.
                column.kind = "actor_text"
            if column.kind is None or (column.kind == "role" and not column.title):
                if self._column_empty(table, column, first_body):
                    self.flag("pelaksana" if column.kind == "role" else "langkah", _(
                        "an empty column without a heading (%(place)s) was ignored") % {"place": place})
                    continue
                if column.kind is None:
                    self.flag("langkah", _("the column “%(title)s” (%(place)s) is not a column of the SOP "
                                           "layout; its text was left out") % {
                        "title": column.title or "—", "place": place})
                    continue
                column.title = _("Pelaksana %(n)s") % {"n": len(self.roles) + 1}
                self.flag(f"pelaksana[{len(self.roles)}]", _(
                    "this role column has no name on the sheet (%(place)s); name it") % {"place": place})
            if column.kind == "role":
                normal = _norm(column.title)
                if any(_norm(name) == normal for name in self.roles):
                    self.flag(f"pelaksana[{len(self.roles)}]", _(
                        "the role column “%(name)s” is listed twice") % {"name": column.title})
                self.roles.append(column.title)
                self.role_columns.append(column)
            kept.append(column)
        if not self.role_columns and not any(column.kind == "actor_text" for column in kept):
            self.flag("pelaksana", _("the procedure table has no Pelaksana columns"))
        return kept

    def _row_fields(self, table: Table, r: int, columns: list[_Column], nomor: int) -> dict[str, Any]:
        """The texts of one row by column kind, with flags for merged cells."""
        values: dict[str, list[Line]] = {}
        path = f"langkah[{nomor - 1}]"
        for column in columns:
            if column.kind in (None, "role", "actor_text"):
                continue
            lines: list[Line] = []
            for cell in _unique_cells(table, r, column.cols):
                if cell.col < column.cols[0]:
                    continue  # merged in from a column to the left: read with that column
                others = [c for c in columns if c is not column and set(c.cols) & set(cell.columns)]
                if others and not cell.content.empty:
                    self.flag(f"{path}.{_field_name(column.kind)}", _(
                        "this cell is merged with the column(s) %(columns)s; its text was kept here") % {
                        "columns": ", ".join(_column_title(c) for c in others)})
                if cell.merged_down and not cell.content.empty:
                    self.flag(f"{path}.{_field_name(column.kind)}", _(
                        "this cell is merged with the row above (%(above)s); its text was copied from there") % {
                        "above": self._row_name(table, cell.origin.row if cell.origin else r - 1)})
                lines.extend(cell.content.lines)
            values[column.kind] = lines
        return values

    def _row_name(self, table: Table, row: int) -> str:
        nomor = self._step_of_row.get((table.number, row))
        if nomor is not None:
            return _("step %(nomor)s") % {"nomor": nomor}
        return _("row %(row)s") % {"row": row + 1}

    def _is_header_again(self, table: Table, r: int) -> bool:
        kinds = self._row_kinds(table, r)
        if "kegiatan" in kinds and kinds & {"pelaksana", "mutu", "waktu", "no"}:
            return True
        texts = [_norm(_one_line(cell.content.lines)) for column in self.role_columns
                 for cell in _unique_cells(table, r, column.cols)]
        return bool(self.roles) and texts == [_norm(name) for name in self.roles]

    def _total_row(self, table: Table, r: int, columns: list[_Column]) -> str | None:
        """The Jumlah Waktu of a total row (None when the row is no total row)."""
        cells = [cell for cell in table.rows[r] if not cell.merged_down and cell.content.lines]
        if not cells:
            return None
        label = TOTAL_LABEL.match(cells[0].content.lines[0].text)
        if not label or (label["rest"] and not label["rest"][:1].isdigit()):
            return None
        waktu = next((column for column in columns if column.kind == "waktu"), None)
        in_column = [line.text for cell in (_unique_cells(table, r, waktu.cols) if waktu else [])
                     if cell is not cells[0] for line in cell.content.lines]
        if in_column:
            return " ".join(in_column)
        rest = [label["rest"]] + [line.text for line in cells[0].content.lines[1:]]
        return " ".join(text for text in rest if text and not _is_placeholder(text))

    def _read_steps(self, table: Table, columns: list[_Column], first_body: int) -> None:
        after_total = False
        for r in range(first_body, len(table.rows)):
            if table.row_empty(r) or self._is_header_again(table, r):
                continue
            if after_total:
                self.flag("langkah", _("a row after the Jumlah Waktu row was left out (%(row)s)") % {
                    "row": _start([cell.content.text for cell in table.rows[r]])})
                continue
            total = self._total_row(table, r, columns)
            if total is not None:
                self.jumlah_waktu = total
                after_total = True
                continue
            self._read_step(table, r, columns)

    def _read_step(self, table: Table, r: int, columns: list[_Column]) -> None:
        nomor = len(self.steps) + 1
        path = f"langkah[{nomor - 1}]"
        values = self._row_fields(table, r, columns, nomor)
        step = _Step(r, table, {"nomor": nomor})
        self.steps.append(step)
        self._step_of_row[(table.number, r)] = nomor

        printed = _one_line(values.get("no", [])).strip()
        if printed:
            number = _roman_or_int(printed)
            if number is not None:
                step.printed = number
                if number != nomor:
                    self.flag(f"{path}.nomor", _(
                        "the sheet numbers this row “%(printed)s”; it is step %(nomor)s here") % {
                        "printed": printed, "nomor": nomor})
            elif len(printed) <= 8:
                step.data["label"] = printed.rstrip(".)")
            else:
                self.flag(f"{path}.nomor", _("the No cell reads “%(printed)s”, which is no step number") % {
                    "printed": printed})

        kegiatan = _as_text(values.get("kegiatan", []))
        step.data["kegiatan"] = kegiatan
        if not kegiatan:
            self.flag(f"{path}.kegiatan", _("this row has no activity (Kegiatan)"))

        step.data["pelaksana"] = self._actor(table, r, columns, step, path)

        kelengkapan = items(values.get("kelengkapan", []))
        if kelengkapan:
            step.data["kelengkapan"] = kelengkapan

        written = _one_line(values.get("waktu", []))
        waktu = read_waktu(written) if written else None
        step.data["waktu"] = waktu or written
        if not written:
            self.flag(f"{path}.waktu", _("this row has no time standard (Waktu)"))
        elif waktu is None:
            self.flag(f"{path}.waktu", _(
                "“%(text)s” is not understood as a time standard (e.g. “15 menit”, “3-4 jam”); kept as written") % {
                "text": written})

        for key in ("output", "keterangan"):
            text = _as_text(values.get(key, []))
            if text:
                step.data[key] = text
        for source in ("keterangan", "kegiatan"):
            for answer, target in answers_in_text(step.data.get(source, "")).items():
                step.answers.setdefault(answer, []).append((target, source))

    def _actor(self, table: Table, r: int, columns: list[_Column], step: _Step, path: str) -> str:
        """The role whose column holds the row's mark; "" (flagged) when none or several do."""
        text_column = next((column for column in columns if column.kind == "actor_text"), None)
        if text_column is not None:
            name = _one_line([line for cell in _unique_cells(table, r, text_column.cols) for line in cell.content.lines])
            if name and all(_norm(name) != _norm(role) for role in self.roles):
                self.roles.append(name)
            if not name:
                self.flag(f"{path}.pelaksana", _("this row names no actor in the Pelaksana column"))
            return name
        marked: list[str] = []
        seen: set[Cell] = set()
        for index, column in enumerate(self.role_columns):
            for cell in _unique_cells(table, r, column.cols):
                if cell in seen:
                    continue
                seen.add(cell)
                mark_lines = []
                for line in cell.content.lines:
                    answer = _answer_line(line.text)
                    if answer:
                        step.answers.setdefault(answer[0], []).append((answer[1], "mark"))
                        if answer[2]:
                            step.words.setdefault(answer[0], answer[2])
                    else:
                        mark_lines.append(line)
                if not mark_lines and not cell.content.marks:
                    continue
                if cell.col not in column.cols and not any(cell.col in other.cols for other in self.role_columns):
                    continue  # text of another column merged across this one (flagged there)
                if cell.merged_down:
                    self.flag(f"{path}.pelaksana", _(
                        "the mark is in a cell merged with the row above (%(above)s); choose the actor") % {
                        "above": self._row_name(table, cell.origin.row if cell.origin else r - 1)})
                    return ""
                spanned = [self.roles[i] for i, other in enumerate(self.role_columns)
                           if set(other.cols) & set(cell.columns)]
                if len(spanned) > 1 or len(cell.columns) > sum(len(c.cols) for c in self.role_columns
                                                                if set(c.cols) & set(cell.columns)):
                    self.flag(f"{path}.pelaksana", _(
                        "the mark is in a cell merged across the columns %(columns)s; choose the actor") % {
                        "columns": ", ".join(spanned)})
                    return ""
                marked.append(self.roles[index])
                step.mark_kind = step.mark_kind or _mark_kind(cell.content, mark_lines)
        if not marked:
            self.flag(f"{path}.pelaksana", _("there is no actor mark in this row; choose the actor"))
            return ""
        if len(marked) > 1:
            self.flag(f"{path}.pelaksana", _(
                "this row has a mark in %(count)s actor columns (%(columns)s); choose the actor") % {
                "count": len(marked), "columns": ", ".join(marked)})
            return ""
        return marked[0]

    def _read_later_table(self, table: Table) -> None:
        header = self._find_header(table) if table.rows else None
        if header is not None and header <= 2:
            # The same header again (a table broken across pages): its rows continue the steps.
            saved = (self.roles, self.role_columns, len(self.flags))
            self.roles, self.role_columns = [], []
            columns, first_body = self._read_header(table, header)
            if [_norm(name) for name in self.roles] == [_norm(name) for name in saved[0]]:
                self.flag(f"langkah[{len(self.steps)}]", _(
                    "the steps from here on come from table %(table)s, read as the continuation of the "
                    "procedure table") % {"table": table.number})
                self._read_steps(table, columns, first_body)
                return
            self.roles, self.role_columns = saved[0], saved[1]
            del self.flags[saved[2]:]
        texts = [cell.content.text for row in table.rows for cell in row if not cell.merged_down]
        if any(texts):
            self.flag("", _("table %(table)s after the procedure table was left out (“%(start)s”)") % {
                "table": table.number, "start": _start(texts)})

    # -- after all rows: symbols, decisions, targets -----------------------------------------

    def _settle_steps(self) -> None:
        if not self.steps:
            self.flag("langkah", _("the procedure table has no steps"))
            return
        by_printed = {step.printed: step.data["nomor"] for step in self.steps if step.printed is not None}
        last = len(self.steps) - 1
        for index, step in enumerate(self.steps):
            path = f"langkah[{index}]"
            targets: dict[str, int | str | None] = {}
            for answer in ("ya", "tidak"):
                given = step.answers.get(answer, [])
                named = [(target, source) for target, source in given if target is not None]
                if named:
                    targets[answer] = named[0][0]
                    for other, source in named[1:]:
                        if other != named[0][0]:
                            self.flag(f"{path}.{answer}", _(
                                "the sheet names two steps after “%(answer)s”: %(first)s and %(other)s (in %(source)s); "
                                "%(first)s was taken") % {
                                "answer": answer.capitalize(), "first": named[0][0], "other": other,
                                "source": _field_label(source)})
                elif given:
                    targets[answer] = None
            decision = (step.mark_kind == docx_xml.DECISION or bool(targets)
                        or step.data.get("kegiatan", "").rstrip().endswith("?"))
            if decision:
                step.data["simbol"] = "keputusan"
                if step.mark_kind in (docx_xml.PROCESS, docx_xml.TERMINATOR):
                    self.flag(f"{path}.simbol", _(
                        "read as a decision because the row names Ya/Tidak or asks a question, though its mark "
                        "is not a diamond"))
                for answer in ("ya", "tidak"):
                    target = targets.get(answer)
                    if isinstance(target, int):
                        if by_printed and target not in by_printed:
                            self.flag(f"{path}.{answer}", _(
                                "the sheet sends “%(answer)s” to step %(target)s, which is not on the sheet") % {
                                "answer": answer.capitalize(), "target": target})
                        else:
                            target = by_printed.get(target, target)
                    if target is not None:
                        step.data[answer] = target
                    if step.words.get(answer):
                        step.data[f"label_{answer}"] = step.words[answer]
                if "tidak" not in step.data:
                    self.flag(f"{path}.tidak", _(
                        "this decision does not say which step follows “Tidak”; choose the step (or selesai)"))
            else:
                step.data["simbol"] = "mulai" if index == 0 else "selesai" if index == last else "proses"

    # -- the draft ---------------------------------------------------------------------------

    def draft(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        fields = self.fields

        nama = _one_line(fields.get("nama", []))
        if not nama and self.titles:
            nama = re.sub(r"^\s*(?:standar operasional prosedur|standard operating procedure)?\s*(?:\(?sop\)?)?\s*[:.\-]?\s*",
                          "", self.titles[0], flags=re.IGNORECASE).strip()
            if nama:
                self.flag("nama", _("the sheet has no Nama SOP; the name was taken from its title “%(title)s”") % {
                    "title": self.titles[0]})
        if not nama:
            self.flag("nama", _("the sheet has no Nama SOP"))
        data["kode"] = slugify(nama)[:100].strip("-_")
        self.flag("kode", _("the code is made from the SOP's name; change it if the office uses another"))
        data["nama"] = nama

        instansi = _one_line(fields.get("instansi", []))
        if not instansi:
            instansi = next((line for line in self.kop if OFFICE_WORDS.match(_norm(line))), "")
            instansi = instansi or (self.kop[0] if self.kop else "")
            if instansi:
                self.flag("instansi", _("the office was taken from the letterhead (“%(line)s”); check it") % {
                    "line": instansi})
            else:
                self.flag("instansi", _("the sheet does not name the office (instansi)"))
        data["instansi"] = instansi

        nomor = _one_line(fields.get("nomor", []))
        if nomor and not _is_placeholder(nomor):
            data["nomor"] = nomor
        revisi = self._revisi()
        if revisi is not None:
            data["revisi"] = revisi
        if self.kop and self.kop != [instansi]:
            data["kop"] = list(self.kop)
        for key in DATE_KEYS:
            text = _one_line(fields.get(key, []))
            if not text or _is_placeholder(text):
                continue
            date = read_date(text)
            if date is None:
                self.flag(key, _("“%(text)s” is not understood as a date; kept as written") % {"text": text})
            data[key] = date or text
        signer, electronic = self._signer(fields.get("disahkan_oleh", []))
        if signer:
            data["disahkan_oleh"] = signer
        if electronic:
            data["ditandatangani_elektronik"] = True
        for key in LIST_KEYS:
            found = items(fields.get(key, []))
            if found:
                data[key] = found
        if self.jumlah_waktu:
            data["jumlah_waktu"] = self.jumlah_waktu
            try:
                parse_total(self.jumlah_waktu)
            except DurationError:
                self.flag("jumlah_waktu", _(
                    "“%(text)s” is not understood as a total time; kept as written") % {"text": self.jumlah_waktu})
        data["pelaksana"] = list(self.roles)
        data["langkah"] = [_ordered(step.data) for step in self.steps]
        return data

    def _revisi(self) -> int | None:
        text = _one_line(self.fields.get("revisi", []))
        if text and (number := _roman_or_int(re.sub(r"^(?:ke|revisi)\s*", "", text, flags=re.IGNORECASE))) is not None:
            return number
        if text and not _is_placeholder(text):
            self.flag("revisi", _("“%(text)s” is not understood as a revision number") % {"text": text})
        revised = self.fields.get("tanggal_revisi", [])
        joined = _one_line(revised)
        if match := re.search(r"\(?\s*rev(?:isi|ision)?\.?\s*(?:ke\s*)?[-:]?\s*(\d{1,4})\s*\)?", joined, re.IGNORECASE):
            # "3 September 2019 (revisi 1)": the revision number printed with the date.
            self.fields["tanggal_revisi"] = [Line((joined[:match.start()] + joined[match.end():]).strip())]
            return int(match[1])
        if re.fullmatch(r"\d{1,3}", joined.strip()):
            # "Tgl Revisi: 01" — a revision number where the date belongs.
            self.fields["tanggal_revisi"] = []
            self.flag("revisi", _("Tgl Revisi reads “%(text)s”: taken as revision %(n)s, without a date") % {
                "text": joined, "n": int(joined)})
            return int(joined)
        return None

    def _signer(self, lines: list[Line]) -> tuple[dict[str, str], bool]:
        """Jabatan, nama (the underlined line), pangkat and NIP from the Disahkan oleh cell."""
        electronic = any(ELECTRONIC.search(line.text) for line in lines)
        rest: list[Line] = []
        signer: dict[str, str] = {}
        for line in lines:
            if ELECTRONIC.search(line.text) or _norm(line.text) in ("ttd", "cap", "materai", "") or _is_placeholder(line.text):
                continue
            match = SIGNER_ID.match(line.text)
            if match and re.sub(r"[\s.]", "", match[1]).isdigit():
                signer["nip"] = re.sub(r"[\s.]", "", match[1])
            elif re.fullmatch(r"[\d\s]{8,}", line.text) and len(re.sub(r"\s", "", line.text)) in (8, 18):
                signer["nip"] = re.sub(r"\s", "", line.text)
            else:
                rest.append(line)
        if not rest:
            return _signer_order(signer), electronic
        underlined = [i for i, line in enumerate(rest) if line.underline]
        if len(underlined) == 1:
            i = underlined[0]
            jabatan, nama, pangkat = rest[:i], [rest[i]], rest[i + 1:]
        elif len(rest) == 1:
            jabatan, nama, pangkat = rest, [], []
            self.flag("disahkan_oleh.nama", _(
                "the signer's position, name and rank could not be told apart; all of it was kept as the position"))
        elif len(rest) == 2:
            jabatan, nama, pangkat = rest[:1], rest[1:], []
        else:
            jabatan, nama, pangkat = rest[:-2], rest[-2:-1], rest[-1:]
            if not RANK.search(rest[-1].text) or len(rest) > 3:
                self.flag("disahkan_oleh", _(
                    "check the signer: the lines were read as position, name and rank in this order"))
        for key, part in (("jabatan", jabatan), ("nama", nama), ("pangkat", pangkat)):
            if part:
                signer[key] = " ".join(line.text for line in part)
        return _signer_order(signer), electronic


def _signer_order(signer: dict[str, str]) -> dict[str, str]:
    return {key: signer[key] for key in ("jabatan", "nama", "pangkat", "nip") if key in signer}


STEP_KEYS = ("nomor", "kegiatan", "pelaksana", "simbol", "kelengkapan", "waktu", "output", "keterangan", "ya",
             "tidak", "label_ya", "label_tidak", "label")


def _ordered(step: dict[str, Any]) -> dict[str, Any]:
    return {key: step[key] for key in STEP_KEYS if key in step}


def _unique_cells(table: Table, r: int, cols: list[int]) -> list[Cell]:
    found: list[Cell] = []
    for c in cols:
        cell = table.at(r, c)
        if cell is not None and cell not in found:
            found.append(cell)
    return found


def _field_name(kind: str) -> str:
    return kind if kind != "no" else "nomor"


def _field_label(source: str) -> str:
    return {"mark": _("the actor column"), "keterangan": "Keterangan", "kegiatan": "Kegiatan"}[source]


def _column_title(column: _Column) -> str:
    return column.title or _("column %(n)s") % {"n": column.cols[0] + 1}


def _start(texts: list[str]) -> str:
    text = " ".join(" ".join(t.split()) for t in texts if t).strip()
    return text if len(text) <= 60 else text[:57] + "…"
