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
SIGNER_KEYS = ("jabatan", "nama", "pangkat", "nip")
END = "selesai"
SYMBOLS = ("mulai", "proses", "keputusan", "selesai")
ZONES = {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}
# The largest values the database columns hold (SopRevision.revisi, Step.nomor): beyond them a
# file must be refused with a message, not fail in the database.
MAX_REVISI = 2_147_483_647
MAX_NOMOR = 32_767

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
    # Decisions only: a step number or END.
    ya: int | str | None = None
    tidak: int | str | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "nomor": self.nomor,
            "kegiatan": self.kegiatan,
            "pelaksana": self.pelaksana,
            "simbol": self.simbol,
        }
        if self.kelengkapan:
            data["kelengkapan"] = list(self.kelengkapan)
        data["waktu"] = self.waktu
        if self.output:
            data["output"] = self.output
        if self.keterangan:
            data["keterangan"] = self.keterangan
        if self.simbol == "keputusan":
            data["ya"] = self.ya
            data["tidak"] = self.tidak
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
    tanggal_pembuatan: dt.date | None = None
    tanggal_revisi: dt.date | None = None
    tanggal_efektif: dt.date | None = None
    disahkan_oleh: dict[str, str] = field(default_factory=dict)
    dasar_hukum: list[str] = field(default_factory=list)
    kualifikasi_pelaksana: list[str] = field(default_factory=list)
    keterkaitan: list[str] = field(default_factory=list)
    peralatan: list[str] = field(default_factory=list)
    peringatan: list[str] = field(default_factory=list)
    pencatatan: list[str] = field(default_factory=list)
    jumlah_waktu: str = ""
    zona_waktu: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The document in the file's key order, without empty optional keys."""
        data: dict[str, Any] = {"kode": self.kode, "nama": self.nama, "instansi": self.instansi}
        if self.nomor:
            data["nomor"] = self.nomor
        data["revisi"] = self.revisi
        for key in DATE_KEYS:
            value = getattr(self, key)
            if value:
                data[key] = value.isoformat()
        if self.disahkan_oleh:
            data["disahkan_oleh"] = {k: self.disahkan_oleh[k] for k in SIGNER_KEYS if self.disahkan_oleh.get(k)}
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


class _AliasRefused(yaml.YAMLError):
    pass


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key: Any, mark: yaml.Mark | None):
        self.key, self.mark = key, mark


class _NoAnchors:
    """Refuse anchors and aliases: an SOP sheet never needs them, and a "billion laughs" file
    would otherwise expand into gigabytes when validated. Hooks into PyYAML's Python composer,
    so it holds whichever scanner and parser produce the events."""

    def compose_node(self, parent, index):  # noqa: D102 (PyYAML's API)
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _AliasRefused(f"alias at line {event.start_mark.line + 1}")
        event = self.peek_event()
        if getattr(event, "anchor", None):
            raise _AliasRefused(f"anchor at line {event.start_mark.line + 1}")
        return super().compose_node(parent, index)


class _NoDuplicateKeys:
    """Refuse a key given twice instead of letting the last one silently win."""

    def construct_mapping(self, node, deep=False):  # noqa: D102
        seen = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key: let PyYAML report it
                continue
            if duplicate:
                raise _DuplicateKey(key, key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


# Dates stay strings, so that an impossible date gets our message, not a traceback, and a
# YAML 1.2 reader sees the same value: every loader below resolves plain scalars without the
# timestamp resolver (a copy of the table, so other loaders keep theirs).
_RESOLVERS_WITHOUT_DATES = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _Loader(_NoAnchors, _NoDuplicateKeys, yaml.SafeLoader):
    """PyYAML's safe loader, all in Python, with the three rules; used when libyaml is missing."""

    yaml_implicit_resolvers = _RESOLVERS_WITHOUT_DATES


if getattr(yaml, "__with_libyaml__", False):
    from yaml.composer import Composer
    from yaml.constructor import SafeConstructor
    from yaml.cyaml import CParser
    from yaml.resolver import Resolver

    class _CLoader(_NoAnchors, _NoDuplicateKeys, Composer, CParser, SafeConstructor, Resolver):
        """The three rules with libyaml scanning and parsing (about seven times faster).

        Python's composer comes before CParser's so that every event passes through
        ``_NoAnchors.compose_node`` (libyaml's composer would resolve an alias unseen). The
        constructor and resolver are the safe ones, as in CSafeLoader.
        """

        yaml_implicit_resolvers = _RESOLVERS_WITHOUT_DATES

        def __init__(self, stream):
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

    class _CFastLoader(_NoDuplicateKeys, CParser, SafeConstructor, Resolver):
        """libyaml's composer too (CSafeLoader with the other two rules), for a text without
        ``&`` and ``*``: it can hold no anchor and no alias."""

        yaml_implicit_resolvers = _RESOLVERS_WITHOUT_DATES

        def __init__(self, stream):
            CParser.__init__(self, stream)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

    def _loader_for(text: str) -> type:
        return _CLoader if "&" in text or "*" in text else _CFastLoader

else:  # pragma: no cover (PyYAML built without libyaml)

    def _loader_for(text: str) -> type:
        return _Loader


def _read_yaml(data: bytes) -> Any:
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
    try:
        return yaml.load(text, Loader=_loader_for(text))  # noqa: S506 (safe constructors only)
    except _AliasRefused:
        raise SopFileError([Problem("", _(
            "YAML anchors and aliases (& and *) are not allowed in an SOP file; write each value out"
        ))]) from None
    except _DuplicateKey as error:
        line = error.mark.line + 1 if error.mark else "?"
        raise SopFileError([Problem("", _(
            "the key “%(key)s” appears twice in one block (line %(line)s)"
        ) % {"key": error.key, "line": line})]) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = _(" (line %(line)s, column %(column)s)") % {
            "line": mark.line + 1, "column": mark.column + 1} if mark else ""
        reason = getattr(error, "problem", None) or str(error)
        raise SopFileError([Problem("", _("this is not valid YAML%(where)s: %(reason)s") % {
            "where": where, "reason": reason})]) from None


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


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


@cache
def _validator() -> jsonschema.Draft202012Validator:
    """The validator of the published schema, built once, with its references inlined.

    Following a ``$ref`` costs jsonschema a lookup in its registry on every step of every file
    (two thirds of the validation time); the inlined schema states the same rules and gives the
    same errors at the same paths. ``$defs`` stays, so a reference left in place still resolves.
    """
    published = schema()
    return jsonschema.Draft202012Validator(_inline_refs(published, published.get("$defs", {})))


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _clean_keys(value: Any, parts: tuple, problems: list[Problem]) -> Any:
    """Drop empty optional values and turn non-text keys into problems.

    YAML 1.1 reads the key ``no`` as the boolean false: a step numbered with ``no:`` arrives
    here as ``{False: 1}``, and the message must still point to ``nomor``.
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
                        "the key %(key)r is not text; keys are plain words such as “nomor”"
                    ) % {"key": key}))
                continue
            if _is_empty(item):  # an optional key left empty is the same as an absent one
                continue
            cleaned[key] = _clean_keys(item, parts + (key,), problems)
        return cleaned
    if isinstance(value, list):
        return [_clean_keys(item, parts + (index,), problems) for index, item in enumerate(value)]
    return value


def _schema_problem(error: jsonschema.ValidationError) -> Problem | None:
    path = _path(error.absolute_path)
    validator = error.validator
    if validator == "required":
        missing = re.search(r"'([^']+)' is a required property", error.message)
        key = missing.group(1) if missing else "?"
        if key == "nomor" and isinstance(error.instance, dict) and "__no__" in error.instance:
            return None  # already reported as the "no" key
        return Problem(_path(list(error.absolute_path) + [key]), _("this key is required and must not be empty"))
    if validator == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        problems = []
        for key in sorted(set(error.instance) - set(allowed)):
            if key == "__no__":
                continue
            close = difflib.get_close_matches(key, allowed, n=1)
            if key == "no":
                hint = _(" — to number a step, write “nomor”")
            elif close:
                hint = _(" — did you mean “%(key)s”?") % {"key": close[0]}
            else:
                hint = ""
            problems.append(_("unknown key “%(key)s”%(hint)s") % {"key": key, "hint": hint})
        if not problems:
            return None
        return Problem(path, "; ".join(problems))
    if validator == "type":
        expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        names = {"string": _("text"), "integer": _("a whole number"), "array": _("a list"),
                 "object": _("a block of keys"), "null": _("empty")}
        wanted = _(" or ").join(names.get(kind, kind) for kind in expected if kind != "null")
        got = error.instance
        if isinstance(got, bool):
            found = _("YAML reads this as the boolean %(value)s; put the text in quotes") % {
                "value": str(got).lower()}
        else:
            found = _("found %(value)r") % {"value": got}
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
            "“satpolpp-patroli-wilayah”") % {"value": error.instance})
    if validator == "minItems":
        return Problem(path, _("the list must not be empty"))
    if validator == "minimum":
        return Problem(path, _("must be at least %(minimum)s") % {"minimum": error.validator_value})
    if validator in ("enum", "oneOf", "const"):
        if path.endswith("simbol"):
            return Problem(path, _("“%(value)s” is not a symbol: use mulai, proses, keputusan or selesai") % {
                "value": error.instance})
        if path == "zona_waktu":
            return Problem(path, _("“%(value)s” is not a time zone: use WIB, WITA or WIT") % {
                "value": error.instance})
        if path.endswith(".ya") or path.endswith(".tidak"):
            return Problem(path, _("“%(value)s” must be a step number or “selesai”") % {
                "value": error.instance})
    if validator == "maxLength":
        return Problem(path, _("is too long (at most %(limit)s characters)") % {"limit": error.validator_value})
    return Problem(path, error.message)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _texts(value: Any) -> list[str]:
    return [_text(item) for item in value or []]


def _parse_date(value: Any, key: str, problems: list[Problem]) -> dt.date | None:
    if value is None:
        return None
    text = str(value)
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        problems.append(Problem(key, _("“%(value)s” is not a date: write YYYY-MM-DD, e.g. 2019-09-03") % {
            "value": text}))
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        problems.append(Problem(key, _("“%(value)s” is not a date of the calendar") % {"value": text}))
        return None


def _check_steps(raw_steps: list[Any], columns: dict[str, str], problems: list[Problem]) -> list[StepDocument]:
    """Check what the schema cannot: numbering, actors, targets, symbols, time standards."""
    steps: list[StepDocument] = []
    numbers = [raw.get("nomor") if isinstance(raw, dict) else None for raw in raw_steps]
    valid_numbers = {n for n in numbers if isinstance(n, int) and not isinstance(n, bool)}
    first_index: dict[int, int] = {}
    expected = 1
    for index, number in enumerate(numbers):
        if not isinstance(number, int) or isinstance(number, bool):
            expected += 1
            continue
        if number in first_index:
            problems.append(Problem(f"langkah[{index}].nomor", _(
                "step number %(number)s is used twice (also at langkah[%(other)s])"
            ) % {"number": number, "other": first_index[number]}))
        elif number != expected:
            problems.append(Problem(f"langkah[{index}].nomor", _(
                "steps are numbered 1, 2, 3 … in sheet order: expected %(expected)s here, found %(number)s"
            ) % {"expected": expected, "number": number}))
        first_index.setdefault(number, index)
        expected += 1

    last_index = len(raw_steps) - 1
    for index, raw in enumerate(raw_steps):
        if not isinstance(raw, dict):
            continue
        where = f"langkah[{index}]"
        actor = columns.get(_normal(_text(raw.get("pelaksana"))))
        if raw.get("pelaksana") is not None and isinstance(raw.get("pelaksana"), str) and actor is None:
            problems.append(Problem(f"{where}.pelaksana", _(
                "“%(actor)s” is not one of the role columns (%(columns)s)"
            ) % {"actor": raw["pelaksana"], "columns": ", ".join(columns.values())}))

        duration = None
        if isinstance(raw.get("waktu"), str):
            try:
                duration = parse_waktu(raw["waktu"])
            except DurationError as error:
                problems.append(Problem(f"{where}.waktu", str(error)))

        has_tidak = raw.get("tidak") is not None
        symbol = raw.get("simbol") or (
            "keputusan" if has_tidak else "mulai" if index == 0 else "selesai" if index == last_index else "proses"
        )
        if symbol == "keputusan" and not has_tidak:
            problems.append(Problem(f"{where}.tidak", _(
                "a decision (keputusan) must say which step follows “Tidak” (a step number or “selesai”)"
            )))
        if symbol != "keputusan":
            for key in ("ya", "tidak"):
                if raw.get(key) is not None:
                    problems.append(Problem(f"{where}.{key}", _(
                        "only a decision (simbol: keputusan) has “%(key)s”"
                    ) % {"key": key}))

        number = raw.get("nomor")
        targets = {}
        for key in ("ya", "tidak"):
            target = raw.get(key)
            if target is None or target == END or isinstance(target, bool) or not isinstance(target, int):
                targets[key] = target
                continue
            if target not in valid_numbers:
                problems.append(Problem(f"{where}.{key}", _(
                    "step %(target)s does not exist (the steps run from 1 to %(last)s)"
                ) % {"target": target, "last": len(raw_steps)}))
            elif target == number:
                problems.append(Problem(f"{where}.{key}", _("a decision cannot lead to itself")))
            targets[key] = target
        if symbol == "keputusan" and targets.get("ya") is None:
            # "Ya" defaults to the next step; after the last step the run ends.
            targets["ya"] = number + 1 if isinstance(number, int) and index < last_index else END

        if actor is None or duration is None or not isinstance(number, int):
            continue
        steps.append(StepDocument(
            nomor=number,
            kegiatan=_text(raw.get("kegiatan")),
            pelaksana=actor,
            simbol=symbol,
            waktu=_text(raw["waktu"]),
            duration=duration,
            kelengkapan=_texts(raw.get("kelengkapan")),
            output=_text(raw.get("output")),
            keterangan=_text(raw.get("keterangan")),
            ya=targets.get("ya") if symbol == "keputusan" else None,
            tidak=targets.get("tidak") if symbol == "keputusan" else None,
        ))
    return steps


def _normal(name: str) -> str:
    """Compare role names without case or repeated spaces ("KASAT POL PP" = "Kasat Pol PP")."""
    return " ".join(name.split()).casefold()


def validate(data: Any) -> SopDocument:
    """Check parsed YAML against every rule of the format; raise SopFileError with all problems."""
    if not isinstance(data, dict):
        kind = _("a list") if isinstance(data, list) else _("empty") if data is None else _("a single value")
        raise SopFileError([Problem("", _(
            "an SOP file is a block of keys (kode, nama, instansi, pelaksana, langkah …), but this file is %(kind)s"
        ) % {"kind": kind})])

    problems: list[Problem] = []
    data = _clean_keys(data, (), problems)
    # Sort by position in the file: langkah[2] before langkah[10].
    for error in sorted(_validator().iter_errors(data), key=lambda e: [(isinstance(p, str), p) for p in e.absolute_path]):
        problem = _schema_problem(error)
        if problem is not None:
            problems.append(problem)

    for key, value, maximum in [("revisi", data.get("revisi"), MAX_REVISI)] + [
        (f"langkah[{index}].nomor", step.get("nomor"), MAX_NOMOR)
        for index, step in enumerate(data.get("langkah") if isinstance(data.get("langkah"), list) else [])
        if isinstance(step, dict)
    ]:
        if isinstance(value, int) and not isinstance(value, bool) and value > maximum:
            problems.append(Problem(key, _("must be at most %(maximum)s") % {"maximum": maximum}))

    columns: dict[str, str] = {}
    raw_columns = data.get("pelaksana") if isinstance(data.get("pelaksana"), list) else []
    for index, name in enumerate(raw_columns):
        if not isinstance(name, str) or not name.strip():
            continue
        key = _normal(name)
        if key in columns:
            problems.append(Problem(f"pelaksana[{index}]", _("the role column “%(name)s” is listed twice") % {
                "name": name}))
        columns.setdefault(key, _text(name))

    raw_steps = data.get("langkah") if isinstance(data.get("langkah"), list) else []
    steps = _check_steps(raw_steps, columns, problems)
    dates = {key: _parse_date(data.get(key), key, problems) for key in DATE_KEYS}

    jumlah_waktu = _text(data.get("jumlah_waktu"))
    document = None
    if not problems:
        signer = data.get("disahkan_oleh") or {}
        document = SopDocument(
            kode=data["kode"],
            nama=_text(data["nama"]),
            instansi=_text(data["instansi"]),
            pelaksana=list(columns.values()),
            langkah=steps,
            nomor=_text(data.get("nomor")),
            revisi=data.get("revisi") or 0,
            disahkan_oleh={key: _text(signer.get(key)) for key in SIGNER_KEYS if signer.get(key) is not None},
            jumlah_waktu=jumlah_waktu,
            zona_waktu=_text(data.get("zona_waktu")),
            **dates,
            **{key: _texts(data.get(key)) for key in LIST_SECTIONS},
        )
        try:
            document.total()
        except DurationError as error:
            problems.append(Problem("jumlah_waktu", str(error)))
    if problems:
        raise SopFileError(problems)
    return document


def load(data: bytes) -> SopDocument:
    """Parse and validate the bytes of one SOP file."""
    return validate(_read_yaml(data))


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
