"""The SOP file format (``docs/sop-format.md``): parse, validate, serialise.

One YAML file holds one SOP. :func:`load` turns the bytes of a file into an :class:`SopDocument`
or raises :class:`SopFileError` listing *every* problem with its key path
(``langkah[3].pelaksana``); :func:`dump` writes a document back. ``load(dump(doc))`` gives the
same document, and :attr:`SopDocument.content_hash` tells whether two files say the same thing.

The structure rules live in ``procedures/schema/sop.schema.json`` (published for editors); the
rules a schema cannot state are checked here.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import itertools
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from django.conf import settings
from django.utils.translation import gettext as _

from procedures.durations import Duration, DurationError, TotalCheck, check_total, parse_waktu

SCHEMA_PATH = Path(__file__).parent / "schema" / "sop.schema.json"

LIST_SECTIONS = (
    "dasar_hukum",
    "kualifikasi_pelaksana",
    "keterkaitan",
    "peralatan",
    "peringatan",
    "pencatatan",
)
DATE_KEYS = ("tanggal_pembuatan", "tanggal_revisi", "tanggal_efektif")
# Keys only a decision (keputusan) has: its targets and the words of its question and answers.
DECISION_KEYS = ("ya", "tidak", "pertanyaan", "label_ya", "label_tidak")
SIGNER_KEYS = ("jabatan", "nama", "pangkat", "nip")
END = "selesai"
SYMBOLS = ("mulai", "proses", "keputusan", "selesai")
ZONES = {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}
# Bounds of the format (docs/sop-format.md, "Limits"), so that every file accepted imports,
# starts and runs; the schema states them too (maxItems, maxLength, maximum).
MAX_STEPS = 200

# Words that YAML 1.1 readers (plain PyYAML) turn into booleans or null.
YAML11_SPECIAL = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", ""}


# ---------------------------------------------------------------------------------------------
# Problems
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file, at a key path such as ``langkah[3].pelaksana``."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class SopFileError(Exception):
    """A refused file: every problem found in it."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(problem) for problem in problems))


def _path(parts) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


# ---------------------------------------------------------------------------------------------
# The document
# ---------------------------------------------------------------------------------------------

DAY, MONTH = "day", "month"
MONTHS_ID = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
             "Oktober", "November", "Desember")


@dataclass(frozen=True)
class SheetDate:
    """A date as a sheet gives it: a day (``2019-09-03``), or only a month (``2018-09``).

    A month is held as its first day with ``precision`` MONTH, so that it sorts and is stored as
    a date, and is written and printed as the sheet gave it.
    """

    date: dt.date
    precision: str = DAY

    def isoformat(self) -> str:
        """As the file writes it: ``2019-09-03`` or ``2018-09``."""
        return self.date.isoformat() if self.precision == DAY else f"{self.date.year:04d}-{self.date.month:02d}"

    __str__ = isoformat

    def printed(self) -> str:
        """As the sheet prints it, in Indonesian: ``3 September 2019`` or ``September 2018``."""
        month = f"{MONTHS_ID[self.date.month - 1]} {self.date.year}"
        return f"{self.date.day} {month}" if self.precision == DAY else month


@dataclass
class StepDocument:
    nomor: int
    kegiatan: str
    pelaksana: str
    simbol: str
    waktu: str
    duration: Duration
    kelengkapan: list[str] = field(default_factory=list)
    output: str = ""
    keterangan: str = ""
    catatan_transkripsi: str = ""
    label: str = ""
    # Decisions only: a step number or END, and the words of the question and the answers.
    ya: int | str | None = None
    tidak: int | str | None = None
    pertanyaan: str = ""
    label_ya: str = ""
    label_tidak: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The step in the contract's key order, without empty optional keys."""
        data: dict[str, Any] = {
            "nomor": self.nomor,
            "kegiatan": self.kegiatan,
            "pelaksana": self.pelaksana,
            "simbol": self.simbol,
        }
        if self.kelengkapan:
            data["kelengkapan"] = list(self.kelengkapan)
        data["waktu"] = self.waktu
        for key in ("output", "keterangan", "catatan_transkripsi", "label"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        if self.simbol == "keputusan":
            data["ya"] = self.ya
            data["tidak"] = self.tidak
            for key in ("pertanyaan", "label_ya", "label_tidak"):
                if getattr(self, key):
                    data[key] = getattr(self, key)
        return data


@dataclass
class SopDocument:
    """A valid SOP file, normalised: defaults applied, empty values dropped, texts trimmed."""

    kode: str
    nama: str
    instansi: str
    pelaksana: list[str]
    langkah: list[StepDocument]
    nomor: str = ""
    revisi: int = 0
    kop: list[str] = field(default_factory=list)
    tanggal_pembuatan: SheetDate | None = None
    tanggal_revisi: SheetDate | None = None
    tanggal_efektif: SheetDate | None = None
    disahkan_oleh: dict[str, str] = field(default_factory=dict)
    ditandatangani_elektronik: bool = False
    kegiatan_terpisah: bool = False
    catatan_transkripsi: list[str] = field(default_factory=list)
    dasar_hukum: list[str] = field(default_factory=list)
    kualifikasi_pelaksana: list[str] = field(default_factory=list)
    keterkaitan: list[str] = field(default_factory=list)
    peralatan: list[str] = field(default_factory=list)
    peringatan: list[str] = field(default_factory=list)
    pencatatan: list[str] = field(default_factory=list)
    jumlah_waktu: str = ""
    zona_waktu: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The document in the contract's key order, without empty optional keys.

        Keys added to the contract later are written only when set (``false`` is not written),
        so a file that does not use them keeps the content hash it had before they existed.
        """
        data: dict[str, Any] = {"kode": self.kode, "nama": self.nama, "instansi": self.instansi}
        if self.nomor:
            data["nomor"] = self.nomor
        data["revisi"] = self.revisi
        if self.kop:
            data["kop"] = list(self.kop)
        for key in DATE_KEYS:
            value = getattr(self, key)
            if value:
                data[key] = value.isoformat()
        if self.disahkan_oleh:
            data["disahkan_oleh"] = {k: self.disahkan_oleh[k] for k in SIGNER_KEYS if self.disahkan_oleh.get(k)}
        for key in ("ditandatangani_elektronik", "kegiatan_terpisah"):
            if getattr(self, key):
                data[key] = True
        if self.catatan_transkripsi:
            data["catatan_transkripsi"] = list(self.catatan_transkripsi)
        for key in LIST_SECTIONS:
            if getattr(self, key):
                data[key] = list(getattr(self, key))
        if self.jumlah_waktu:
            data["jumlah_waktu"] = self.jumlah_waktu
        if self.zona_waktu:
            data["zona_waktu"] = self.zona_waktu
        data["pelaksana"] = list(self.pelaksana)
        data["langkah"] = [step.as_dict() for step in self.langkah]
        return data

    @property
    def content_hash(self) -> str:
        """SHA-256 of the normalised content: equal for files that say the same thing."""
        canonical = json.dumps(self.as_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @property
    def time_zone(self) -> str:
        """The IANA name of ``zona_waktu`` (empty when the file gives none)."""
        return ZONES.get(self.zona_waktu, self.zona_waktu)

    def total(self) -> TotalCheck:
        """The computed total time and a warning when ``jumlah_waktu`` lies outside it."""
        return check_total([step.duration for step in self.langkah], self.jumlah_waktu or None)


# ---------------------------------------------------------------------------------------------
# Reading YAML safely
# ---------------------------------------------------------------------------------------------

# How deep blocks and lists may nest: a sheet needs four levels (the file, langkah, a step, its
# kelengkapan). Deeper nesting is refused while parsing, before it costs time or stack.
MAX_DEPTH = 16
# How many values (texts, numbers, lists, blocks, keys) a file may hold: 200 steps with every key
# and fifty kelengkapan items each hold some 17,000; the bound keeps the memory and the time of
# reading and checking small (some 10 µs a value).
MAX_VALUES = 25_000

# Characters no text of a sheet holds (C0 and C1 controls except tab and newline, lone
# surrogates, non-characters): YAML's escapes ("\0", "\x85", "\ud800") can write them, and the
# database, the HTML page or the PDF would fail on them.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

# Dates stay strings, so that an impossible date gets our message, not a traceback, and a
# YAML 1.2 reader sees the same value: plain scalars are resolved without the timestamp resolver
# (a copy of the table, so other loaders keep theirs).
_RESOLVERS_WITHOUT_DATES = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _Resolver(yaml.resolver.Resolver):
    yaml_implicit_resolvers = _RESOLVERS_WITHOUT_DATES


_RESOLVE = _Resolver().resolve
_STR = "tag:yaml.org,2002:str"
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
# The scalar tags a file may use, explicitly (!!int) or as YAML reads a plain value. The
# constructors are the safe loader's; "=" (YAML 1.1's value key) is text, as in YAML 1.2.
_SCALARS = {
    "tag:yaml.org,2002:null": yaml.constructor.SafeConstructor.construct_yaml_null,
    "tag:yaml.org,2002:bool": yaml.constructor.SafeConstructor.construct_yaml_bool,
    "tag:yaml.org,2002:int": yaml.constructor.SafeConstructor.construct_yaml_int,
    "tag:yaml.org,2002:float": yaml.constructor.SafeConstructor.construct_yaml_float,
    "tag:yaml.org,2002:timestamp": yaml.constructor.SafeConstructor.construct_yaml_timestamp,
    "tag:yaml.org,2002:binary": yaml.constructor.SafeConstructor.construct_yaml_binary,
    "tag:yaml.org,2002:value": lambda constructor, node: node.value,
}
_KINDS = {
    "tag:yaml.org,2002:null": "null", "tag:yaml.org,2002:bool": "true/false",
    "tag:yaml.org,2002:int": "!!int", "tag:yaml.org,2002:float": "!!float",
    "tag:yaml.org,2002:timestamp": "!!timestamp", "tag:yaml.org,2002:binary": "!!binary",
}
_PLAIN_TAGS = (None, "!")
_SEQUENCE_TAGS = (None, "!", "tag:yaml.org,2002:seq")
_MAPPING_TAGS = (None, "!", "tag:yaml.org,2002:map")


class _Refused(Exception):
    """A file that cannot be read further: one problem, no point in going on."""

    def __init__(self, problem: Problem):
        self.problem = problem


if getattr(yaml, "__with_libyaml__", False):
    from yaml.cyaml import CParser as _CParser
else:  # pragma: no cover (PyYAML built without libyaml)
    _CParser = None


class _PyParser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
    """PyYAML's scanner and parser, all in Python: the same events as libyaml's, slower."""

    def __init__(self, stream: str):
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)


def _parser_class() -> type:
    """libyaml's parser (about five times faster) when PyYAML has it, else PyYAML's own."""
    return _CParser or _PyParser


def _shown(value: Any, limit: int = 60) -> str:
    """A value as a message quotes it: short, whatever the file holds."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _line(mark) -> str:
    return _(" (line %(line)s)") % {"line": mark.line + 1} if mark is not None else ""


class _Builder:
    """Python values from the parser's events, without PyYAML's composer and constructor.

    It walks the events with a stack of its own (no recursion), so nesting costs no stack and
    is refused beyond ``MAX_DEPTH`` as soon as the parser reaches it; the values are counted and
    refused beyond ``MAX_VALUES``. The rules of the format's YAML: no anchors and aliases (a
    "billion laughs" file would expand into gigabytes), no key given twice in one block, no tag
    but the safe scalar ones, texts without control characters. Each problem has its key path.
    """

    def __init__(self, parser):
        self.parser = parser
        self.problems: list[Problem] = []
        # One frame per open list or block: [the list, _IN_LIST] or [the dict, the key whose value
        # comes next or _NO_KEY].
        self.stack: list[list] = []
        self.reading_key: str | None = None  # the text of a key being read

    def where(self, key: Any = None) -> str:
        parts = []
        for container, pending in self.stack:
            if isinstance(container, list):
                parts.append(len(container))
            elif pending is not _NO_KEY:
                parts.append(pending)
        if key is not None:
            parts.append(key)
        return _path(str(part) if not isinstance(part, (str, int)) or isinstance(part, bool) else part
                     for part in parts)

    def refuse(self, message: str, key: Any = None) -> _Refused:
        return _Refused(Problem(self.where(key), message))

    def document(self) -> Any:
        parser = self.parser
        parser.get_event()  # the stream's start
        if parser.check_event(yaml.StreamEndEvent):
            return None
        parser.get_event()  # the document's start
        value = self.value()
        parser.get_event()  # the document's end
        if not parser.check_event(yaml.StreamEndEvent):
            raise _Refused(Problem("", _(
                "the file holds more than one YAML document (a second one starts at line %(line)s); "
                "an SOP file is one document"
            ) % {"line": parser.peek_event().start_mark.line + 1}))
        return value

    def value(self) -> Any:
        """The next value in the stream, read to its end."""
        stack, get_event = self.stack, self.parser.get_event
        count = 0
        while True:
            event = get_event()
            kind = type(event)
            if kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                value = stack.pop()[0]
            else:
                count += 1
                if count > MAX_VALUES:
                    raise self.refuse(_(
                        "the file holds more than %(limit)s values; an SOP file holds far fewer"
                    ) % {"limit": f"{MAX_VALUES:,}"})
                if kind is yaml.AliasEvent or event.anchor is not None:
                    raise _Refused(Problem("", _(
                        "YAML anchors and aliases (& and *) are not allowed in an SOP file; write each value out"
                    )))
                if kind is yaml.ScalarEvent:
                    value = self.scalar(event)
                else:
                    awaiting_key = stack and stack[-1][1] is _NO_KEY
                    if awaiting_key:
                        raise self.refuse(_("a key must be a plain word, not a list or a block") + _line(
                            event.start_mark))
                    self.reading_key = None
                    if len(stack) >= MAX_DEPTH:
                        raise self.refuse(_(
                            "lists and blocks nest deeper than %(limit)s levels here%(line)s; an SOP file needs four"
                        ) % {"limit": MAX_DEPTH, "line": _line(event.start_mark)})
                    if kind is yaml.SequenceStartEvent:
                        if event.tag not in _SEQUENCE_TAGS:
                            self.tag_refused(event.tag)
                        stack.append([[], _IN_LIST])
                    elif kind is yaml.MappingStartEvent:
                        if event.tag not in _MAPPING_TAGS:
                            self.tag_refused(event.tag)
                        stack.append([{}, _NO_KEY])
                    else:  # pragma: no cover (the parser gives no other event inside a document)
                        raise self.refuse(_("this is not valid YAML%(where)s") % {"where": _line(event.start_mark)})
                    continue
            if not stack:
                return value
            frame = stack[-1]
            container, pending = frame
            if pending is _IN_LIST:
                container.append(value)
            elif pending is _NO_KEY:
                if value in container:  # keys are scalars here: hashable
                    raise self.refuse(_("the key “%(key)s” appears twice in one block (line %(line)s)") % {
                        "key": _shown(value), "line": event.start_mark.line + 1}, key=value)
                frame[1] = value
            else:
                container[pending] = value
                frame[1] = _NO_KEY

    def scalar(self, event) -> Any:
        # A problem of a key is at the key's own path; of a value, at its key's or list index's.
        self.reading_key = text = event.value
        if not (self.stack and self.stack[-1][1] is _NO_KEY):
            self.reading_key = None
        tag = event.tag
        if tag in _PLAIN_TAGS:
            tag = _RESOLVE(yaml.ScalarNode, text, event.implicit)
        if tag == _STR:
            value = text
        elif tag in _SCALARS:
            node = yaml.ScalarNode(tag, text, event.start_mark, event.end_mark, event.style)
            try:
                value = _SCALARS[tag](_CONSTRUCTOR, node)
            except Exception:  # noqa: BLE001 (each constructor fails its own way: ValueError, AttributeError …)
                self.problem(_("“%(value)s” cannot be read as %(kind)s") % {
                    "value": _shown(text), "kind": _KINDS.get(tag, tag)})
                value = text
        else:
            self.tag_refused(tag)
            value = text
        if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
            character = CONTROL_CHARACTERS.search(value).group()
            self.problem(_(
                "the text holds the control character U+%(code)04X (written as an escape such as “\\0”); "
                "remove it"
            ) % {"code": ord(character)})
        return value

    def tag_refused(self, tag: str) -> None:
        if tag == "tag:yaml.org,2002:merge":
            self.problem(_("“<<” (a YAML merge key) is not allowed in an SOP file; write each key out"))
        else:
            self.problem(_(
                "the YAML tag “%(tag)s” is not allowed in an SOP file; write texts, numbers and lists plainly"
            ) % {"tag": _shown(tag.replace("tag:yaml.org,2002:", "!!"))})

    def problem(self, message: str) -> None:
        self.problems.append(Problem(self.where(self.reading_key), message))


_NO_KEY = object()  # a block's frame waiting for a key rather than a value
_IN_LIST = object()  # a list's frame: its values have no key (a key may be null: "~: x")


@dataclass
class _Reading:
    """What reading a file gave: its values, and problems found on the way."""

    data: Any
    problems: list[Problem]


def _read_yaml(data: bytes) -> _Reading:
    limit = settings.SOP_FILE_MAX_BYTES
    if len(data) > limit:
        raise SopFileError([Problem("", _(
            "the file is %(size)s KB; an SOP file may be at most %(limit)s KB"
        ) % {"size": len(data) // 1024, "limit": limit // 1024})])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SopFileError([Problem("", _(
            "the file is not UTF-8 text (byte %(position)s); save it as UTF-8"
        ) % {"position": error.start})]) from None
    builder = _Builder(_parser_class()(text))
    try:
        return _Reading(builder.document(), builder.problems)
    except _Refused as refused:
        raise SopFileError([refused.problem]) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = _(" (line %(line)s, column %(column)s)") % {
            "line": mark.line + 1, "column": mark.column + 1} if mark else ""
        reason = getattr(error, "problem", None) or str(error)
        raise SopFileError([Problem("", _("this is not valid YAML%(where)s: %(reason)s") % {
            "where": where, "reason": _shown(reason, 200)})]) from None


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------

# A refused file lists its problems up to this many: a file with thousands tells its first ones.
MAX_PROBLEMS = 100
# Texts stored in columns of the database beyond what the schema states for text values: the
# two keys that may also be written as numbers.
NUMBER_TEXT_LIMITS = {"nomor": 255, "disahkan_oleh.nip": 64}


@cache
def schema() -> dict[str, Any]:
    """The published JSON Schema of the format."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _inline_refs(node: Any, defs: dict[str, Any], within: tuple[str, ...] = ()) -> Any:
    """``node`` with every ``{"$ref": "#/$defs/NAME"}`` replaced by the definition it names.

    A definition that refers to itself (directly or not) keeps its ``$ref`` there.
    """
    if isinstance(node, dict):
        ref = node.get("$ref")
        name = ref[len("#/$defs/"):] if isinstance(ref, str) and ref.startswith("#/$defs/") else None
        if len(node) == 1 and name in defs and name not in within:
            return _inline_refs(defs[name], defs, within + (name,))
        return {key: _inline_refs(value, defs, within) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline_refs(item, defs, within) for item in node]
    return node


def _is_whole_number(checker, instance: Any) -> bool:
    """JSON Schema's "integer" without 2.0: YAML's ``2.0`` is a float, and a float is no step number."""
    return isinstance(instance, int) and not isinstance(instance, bool)


_Validator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_whole_number),
)


@cache
def _validator() -> jsonschema.Draft202012Validator:
    """The validator of the published schema, built once, with its references inlined.

    Following a ``$ref`` costs jsonschema a lookup in its registry on every step of every file
    (two thirds of the validation time); the inlined schema states the same rules and gives the
    same errors at the same paths. ``$defs`` stays, so a reference left in place still resolves.
    """
    published = schema()
    return _Validator(_inline_refs(published, published.get("$defs", {})))


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _clean_keys(value: Any, parts: tuple, problems: list[Problem]) -> Any:
    """Drop empty optional values and turn non-text keys into problems.

    YAML 1.1 reads the key ``no`` as the boolean false: a step numbered with ``no:`` arrives
    here as ``{False: 1}``, and the message must still point to ``nomor``. The reader bounds the
    nesting, so this recursion is shallow.
    """
    if isinstance(value, dict):
        cleaned = {}
        for key, item in value.items():
            if not isinstance(key, str):
                if key is False or key is True:
                    hint = _(" — to number a step, write “nomor”") if key is False else ""
                    problems.append(Problem(_path(parts + ("no" if key is False else "yes",)), _(
                        "the key “%(key)s” is read by YAML as the boolean %(value)s and is not a "
                        "key of the format%(hint)s"
                    ) % {"key": "no" if key is False else "yes", "value": str(key).lower(), "hint": hint}))
                    if key is False:
                        cleaned["__no__"] = item
                else:
                    problems.append(Problem(_path(parts), _(
                        "the key %(key)s is not text; keys are plain words such as “nomor”"
                    ) % {"key": "null" if key is None else _shown(key)}))
                continue
            if _is_empty(item):  # an optional key left empty is the same as an absent one
                continue
            cleaned[key] = _clean_keys(item, parts + (key,), problems)
        return cleaned
    if isinstance(value, list):
        return [_clean_keys(item, parts + (index,), problems) for index, item in enumerate(value)]
    return value


# Unknown keys of one block get a "did you mean" hint up to this many (difflib is not free).
_HINTED_KEYS = 20


def _schema_problem(error: jsonschema.ValidationError) -> Problem | list[Problem] | None:
    path = _path(error.absolute_path)
    validator = error.validator
    if validator == "required":
        missing = re.search(r"'([^']+)' is a required property", error.message)
        key = missing.group(1) if missing else "?"
        if key == "nomor" and isinstance(error.instance, dict) and "__no__" in error.instance:
            return None  # already reported as the "no" key
        return Problem(_path(list(error.absolute_path) + [key]), _("this key is required and must not be empty"))
    if validator == "additionalProperties":
        # Each unknown key at its own path (langkah[1].outptu), with a hint when one is close.
        allowed = list(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed) - {"__no__"})
        problems = []
        for key in unknown[:_HINTED_KEYS]:
            close = difflib.get_close_matches(key, allowed, n=1)
            if key == "no":
                hint = _(" — to number a step, write “nomor”")
            elif close:
                hint = _(" — did you mean “%(key)s”?") % {"key": close[0]}
            else:
                hint = ""
            problems.append(Problem(_path([*error.absolute_path, key]), _("unknown key “%(key)s”%(hint)s") % {
                "key": _shown(key), "hint": hint}))
        if len(unknown) > _HINTED_KEYS:
            problems.append(Problem(path, _("and %(count)s more unknown keys") % {"count": len(unknown) - _HINTED_KEYS}))
        return problems
    if validator == "type":
        expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        names = {"string": _("text"), "integer": _("a whole number"), "array": _("a list"),
                 "object": _("a block of keys"), "null": _("empty"), "boolean": _("true or false")}
        wanted = _(" or ").join(names.get(kind, kind) for kind in expected if kind != "null")
        got = error.instance
        if isinstance(got, bool):
            found = _("YAML reads this as the boolean %(value)s; put the text in quotes") % {
                "value": str(got).lower()}
        else:
            found = _("found %(value)s") % {"value": _shown(got.isoformat() if isinstance(got, dt.date) else got)}
        return Problem(path, _("must be %(wanted)s (%(found)s)") % {"wanted": wanted, "found": found})
    if validator in ("minLength", "pattern") and error.absolute_path and error.absolute_path[-1] == "waktu":
        return None  # waktu gets its own, clearer message below
    if validator == "pattern" and path in DATE_KEYS:
        return None  # dates too
    if validator in ("minLength", "pattern") and error.schema.get("pattern") == r"\S":
        return Problem(path, _("must not be empty"))
    if validator == "pattern" and path == "kode":
        return Problem(path, _(
            "“%(value)s” is not a slug: use lower-case letters, digits and dashes, e.g. "
            "“satpolpp-patroli-wilayah”") % {"value": _shown(error.instance)})
    if validator == "minItems":
        return Problem(path, _("the list must not be empty"))
    if validator == "maxItems":
        return Problem(path, _("the list has %(count)s items; at most %(limit)s are allowed") % {
            "count": len(error.instance), "limit": error.validator_value})
    if validator == "minimum":
        return Problem(path, _("must be at least %(minimum)s") % {"minimum": error.validator_value})
    if validator == "maximum":
        return Problem(path, _("must be at most %(maximum)s") % {"maximum": error.validator_value})
    if validator in ("enum", "oneOf", "const"):
        if path.endswith("simbol"):
            return Problem(path, _("“%(value)s” is not a symbol: use mulai, proses, keputusan or selesai") % {
                "value": _shown(error.instance)})
        if path == "zona_waktu":
            return Problem(path, _("“%(value)s” is not a time zone: use WIB, WITA or WIT") % {
                "value": _shown(error.instance)})
        if path.endswith(".ya") or path.endswith(".tidak"):
            return Problem(path, _("“%(value)s” must be a step number or “selesai”") % {
                "value": _shown(error.instance)})
    if validator == "maxLength":
        return Problem(path, _("is too long: %(length)s characters, at most %(limit)s are allowed") % {
            "length": len(error.instance), "limit": error.validator_value})
    return Problem(path, _shown(error.message, 200))


def _schema_problems(data: dict[str, Any]) -> list[Problem]:
    """The schema's problems in the order of the file (langkah[2] before langkah[10])."""
    errors = itertools.islice(_validator().iter_errors(data), MAX_PROBLEMS)
    problems = []
    for error in sorted(errors, key=lambda e: [(isinstance(p, str), p) for p in e.absolute_path]):
        found = _schema_problem(error)
        problems += found if isinstance(found, list) else [found] if found is not None else []
    return problems


@cache
def _list_limits() -> tuple[dict[str, int], dict[str, int]]:
    """The schema's maxItems of the file's lists and of a step's lists, by key."""
    inlined = _validator().schema
    step = inlined["properties"]["langkah"]["items"]["properties"]
    return ({key: spec["maxItems"] for key, spec in inlined["properties"].items() if "maxItems" in spec},
            {key: spec["maxItems"] for key, spec in step.items() if "maxItems" in spec})


def _oversized_lists(data: dict[str, Any]) -> list[Problem]:
    """Lists longer than the schema allows, found before the schema checks each of their items."""
    top, step = _list_limits()
    problems = []

    def check(value: Any, limit: int, path: str) -> None:
        if isinstance(value, list) and len(value) > limit:
            problems.append(Problem(path, _("the list has %(count)s items; at most %(limit)s are allowed") % {
                "count": len(value), "limit": limit}))

    for key, limit in top.items():
        check(data.get(key), limit, key)
    steps = data.get("langkah")
    for index, raw in enumerate(steps[:top["langkah"]] if isinstance(steps, list) else []):
        for key, limit in step.items():
            check(raw.get(key) if isinstance(raw, dict) else None, limit, f"langkah[{index}].{key}")
    return problems


def _number_texts(data: dict[str, Any], problems: list[Problem]) -> None:
    """``nomor`` and ``nip`` may be numbers: as texts they must still fit their columns."""
    signer = data.get("disahkan_oleh")
    values = {"nomor": data.get("nomor"), "disahkan_oleh.nip": signer.get("nip") if isinstance(signer, dict) else None}
    for key, value in values.items():
        if isinstance(value, int) and not isinstance(value, bool) and len(str(value)) > NUMBER_TEXT_LIMITS[key]:
            problems.append(Problem(key, _("is too long: %(length)s characters, at most %(limit)s are allowed") % {
                "length": len(str(value)), "limit": NUMBER_TEXT_LIMITS[key]}))


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _texts(value: Any) -> list[str]:
    return [_text(item) for item in value or []]


def _parse_date(value: Any, key: str, problems: list[Problem]) -> SheetDate | None:
    if not isinstance(value, str):
        return None  # the schema reports it
    match = re.fullmatch(r"(\d{4})-(\d{2})(?:-(\d{2}))?", value)
    if match is None:
        problems.append(Problem(key, _(
            "“%(value)s” is not a date: write YYYY-MM-DD, e.g. 2019-09-03, or YYYY-MM where the sheet "
            "gives only month and year"
        ) % {"value": _shown(value)}))
        return None
    year, month, day = match.groups()
    try:
        return SheetDate(dt.date(int(year), int(month), int(day or 1)), DAY if day else MONTH)
    except ValueError:
        problems.append(Problem(key, _("“%(value)s” is not a date of the calendar") % {"value": value}))
        return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass
class _StepFacts:
    """What the checks of one step found out, for building its document once all is well."""

    actor: str
    symbol: str
    duration: Duration
    ya: int | str | None
    tidak: int | str | None


def _check_steps(raw_steps: list[Any], columns: dict[str, str], problems: list[Problem]) -> list[_StepFacts | None]:
    """Check what the schema cannot: numbering, actors, targets, symbols, time standards.

    Values of the wrong type are the schema's to report; these checks pass over them.
    """
    numbers = [raw.get("nomor") if isinstance(raw, dict) else None for raw in raw_steps]
    valid_numbers = {n for n in numbers if _is_number(n)}
    first_index: dict[int, int] = {}
    expected = 1
    for index, number in enumerate(numbers):
        if not _is_number(number):
            expected += 1
            continue
        if number in first_index:
            problems.append(Problem(f"langkah[{index}].nomor", _(
                "step number %(number)s is used twice (also at langkah[%(other)s])"
            ) % {"number": number, "other": first_index[number]}))
        elif number != expected:
            problems.append(Problem(f"langkah[{index}].nomor", _(
                "steps are numbered 1, 2, 3 … in sheet order: expected %(expected)s here, found %(number)s"
            ) % {"expected": expected, "number": _shown(number)}))
        first_index.setdefault(number, index)
        expected += 1

    facts: list[_StepFacts | None] = []
    last_index = len(raw_steps) - 1
    for index, raw in enumerate(raw_steps):
        facts.append(None)
        if not isinstance(raw, dict):
            continue
        where = f"langkah[{index}]"
        actor = None
        pelaksana = raw.get("pelaksana")
        if isinstance(pelaksana, str) and len(pelaksana) <= 255:
            actor = columns.get(_normal(pelaksana))
            if actor is None:
                problems.append(Problem(f"{where}.pelaksana", _(
                    "“%(actor)s” is not one of the role columns (%(columns)s)"
                ) % {"actor": _shown(pelaksana), "columns": ", ".join(_shown(name) for name in columns.values())}))

        duration = None
        waktu = raw.get("waktu")
        if isinstance(waktu, str) and len(waktu) <= 100:
            try:
                duration = parse_waktu(waktu)
            except DurationError as error:
                problems.append(Problem(f"{where}.waktu", str(error)))

        has_tidak = raw.get("tidak") is not None
        symbol = raw.get("simbol") if raw.get("simbol") in SYMBOLS else (
            "keputusan" if has_tidak else "mulai" if index == 0 else "selesai" if index == last_index else "proses"
        )
        if symbol == "keputusan" and not has_tidak:
            problems.append(Problem(f"{where}.tidak", _(
                "a decision (keputusan) must say which step follows “Tidak” (a step number or “selesai”)"
            )))
        if symbol != "keputusan":
            for key in DECISION_KEYS:
                if raw.get(key) is not None:
                    problems.append(Problem(f"{where}.{key}", _(
                        "only a decision (simbol: keputusan) has “%(key)s”"
                    ) % {"key": key}))

        number = raw.get("nomor")
        targets = {}
        for key in ("ya", "tidak"):
            target = raw.get(key)
            targets[key] = target
            if not _is_number(target):
                continue  # absent, "selesai", or the schema's to report
            if target not in valid_numbers:
                problems.append(Problem(f"{where}.{key}", _(
                    "step %(target)s does not exist (the steps run from 1 to %(last)s)"
                ) % {"target": _shown(target), "last": len(raw_steps)}))
            elif target == number:
                problems.append(Problem(f"{where}.{key}", _("a decision cannot lead to itself")))
        if symbol == "keputusan" and targets.get("ya") is None:
            # "Ya" defaults to the next step; after the last step the run ends.
            targets["ya"] = number + 1 if _is_number(number) and index < last_index else END

        if actor is not None and duration is not None:
            facts[index] = _StepFacts(
                actor=actor, symbol=symbol, duration=duration,
                ya=targets["ya"] if symbol == "keputusan" else None,
                tidak=targets["tidak"] if symbol == "keputusan" else None,
            )
    return facts


def _step_document(raw: dict[str, Any], facts: _StepFacts) -> StepDocument:
    """The document of a step that passed every check."""
    return StepDocument(
        nomor=raw["nomor"],
        kegiatan=_text(raw.get("kegiatan")),
        pelaksana=facts.actor,
        simbol=facts.symbol,
        waktu=_text(raw["waktu"]),
        duration=facts.duration,
        kelengkapan=_texts(raw.get("kelengkapan")),
        output=_text(raw.get("output")),
        keterangan=_text(raw.get("keterangan")),
        catatan_transkripsi=_text(raw.get("catatan_transkripsi")),
        label=_text(raw.get("label")),
        ya=facts.ya,
        tidak=facts.tidak,
        **{key: _text(raw.get(key)) for key in ("pertanyaan", "label_ya", "label_tidak")},
    )


def _normal(name: str) -> str:
    """Compare role names without case or repeated spaces ("KASAT POL PP" = "Kasat Pol PP")."""
    return " ".join(name.split()).casefold()


def validate(data: Any, *, problems: list[Problem] | None = None) -> SopDocument:
    """Check parsed YAML against every rule of the format; raise SopFileError with all problems.

    ``problems`` are those the reader already found (bad tags, control characters).
    """
    problems = list(problems or [])
    if not isinstance(data, dict):
        kind = _("a list") if isinstance(data, list) else _("empty") if data is None else _("a single value")
        raise SopFileError([Problem("", _(
            "an SOP file is a block of keys (kode, nama, instansi, pelaksana, langkah …), but this file is %(kind)s"
        ) % {"kind": kind})])

    data = _clean_keys(data, (), problems)
    oversized = _oversized_lists(data)
    if oversized:  # a list of 20,000 items: say so, without checking each item first
        raise SopFileError(_bounded(problems + oversized))
    problems += _schema_problems(data)
    _number_texts(data, problems)

    columns: dict[str, str] = {}
    raw_columns = data.get("pelaksana") if isinstance(data.get("pelaksana"), list) else []
    for index, name in enumerate(raw_columns):
        if not isinstance(name, str) or not name.strip():
            continue
        key = _normal(name)
        if key in columns:
            problems.append(Problem(f"pelaksana[{index}]", _("the role column “%(name)s” is listed twice") % {
                "name": _shown(name)}))
        columns.setdefault(key, _text(name))

    raw_steps = data.get("langkah") if isinstance(data.get("langkah"), list) else []
    facts = []
    if len(raw_steps) <= MAX_STEPS:  # else the schema said so; no need to check each step
        facts = _check_steps(raw_steps, columns, problems)
    dates = {key: _parse_date(data.get(key), key, problems) for key in DATE_KEYS}

    if problems:
        raise SopFileError(_bounded(problems))
    signer = data.get("disahkan_oleh") or {}
    document = SopDocument(
        kode=data["kode"],
        nama=_text(data["nama"]),
        instansi=_text(data["instansi"]),
        pelaksana=list(columns.values()),
        langkah=[_step_document(raw, step) for raw, step in zip(raw_steps, facts)],
        nomor=_text(data.get("nomor")),
        revisi=data.get("revisi") or 0,
        kop=_texts(data.get("kop")),
        disahkan_oleh={key: _text(signer[key]) for key in SIGNER_KEYS if _text(signer.get(key))},
        ditandatangani_elektronik=bool(data.get("ditandatangani_elektronik")),
        kegiatan_terpisah=bool(data.get("kegiatan_terpisah")),
        catatan_transkripsi=_texts(data.get("catatan_transkripsi")),
        jumlah_waktu=_text(data.get("jumlah_waktu")),
        zona_waktu=_text(data.get("zona_waktu")),
        **dates,
        **{key: _texts(data.get(key)) for key in LIST_SECTIONS},
    )
    try:
        document.total()
    except DurationError as error:
        raise SopFileError([Problem("jumlah_waktu", str(error))]) from None
    return document


def _bounded(problems: list[Problem]) -> list[Problem]:
    """At most ``MAX_PROBLEMS`` problems, and a word that there are more."""
    if len(problems) <= MAX_PROBLEMS:
        return problems
    return problems[:MAX_PROBLEMS] + [Problem("", _(
        "and more problems (%(count)s in all); fix these first") % {"count": len(problems)})]


def parse(data: bytes) -> Any:
    """The values of one SOP file, read within the format's limits but not validated."""
    return _read_yaml(data).data


def load(data: bytes) -> SopDocument:
    """Parse and validate the bytes of one SOP file."""
    reading = _read_yaml(data)
    return validate(reading.data, problems=reading.problems)


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------

_AMBIGUOUS = re.compile(
    r"""^(?:
        [-+]?(?:\d[\d_]*)(?:\.\d*)?(?:[eE][-+]?\d+)?   # numbers, as 1.1 and 1.2 read them
      | [-+]?\.\d+(?:[eE][-+]?\d+)?
      | 0[xXoObB][0-9a-fA-F_]+
      | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
      | \d{4}-\d{1,2}-\d{1,2}(?:[Tt ].*)?            # dates and timestamps
      | \d+(?::[0-5]?\d)+(?:\.\d*)?                  # YAML 1.1 sexagesimal numbers
    )$""",
    re.VERBOSE,
)


class _Dumper(yaml.SafeDumper):
    """Writes what every YAML 1.1 and 1.2 reader reads the same way."""

    def ignore_aliases(self, data):  # noqa: D102
        return True

    def increase_indent(self, flow=False, indentless=False):  # noqa: D102
        # Indent list items under their key, as people write them by hand.
        return super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    if value.lower() in YAML11_SPECIAL or _AMBIGUOUS.match(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _represent_str)


def dump(document: SopDocument, *, header: str | None = None) -> str:
    """Serialise a document to the text of an SOP file."""
    body = yaml.dump(
        document.as_dict(),
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=100,
    )
    if header:
        body = "".join(f"# {line}\n" for line in header.splitlines()) + body
    return body
