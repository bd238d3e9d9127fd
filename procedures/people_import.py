"""Import an office's people from a spreadsheet (CSV or XLSX): name, NIP/NRP, rank, email, positions.

One file is for one office, chosen on the page. The file is read (``read_table``: any bytes give a
table or a :class:`PeopleFileError` with the reason, never an exception of a parser), every row is
checked, and only a file without a bad row is written, in one transaction (``users_import``):
each bad row is reported with its row number as the spreadsheet numbers it.

- A person already known — the same username, or the same NIP — is updated (name, email, rank,
  the positions added), never made twice.
- A new person gets no usable password: they set their own from an emailed link
  (``invite_send``) or the admin sets one on their page. No password is ever shown or mailed.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import smtplib
import zipfile
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from procedures import staffing
from procedures.models import Office, Position, Profile

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 2000
MAX_COLUMNS = 30
MAX_UNZIPPED = 40 * 1024 * 1024  # an XLSX of 2 MB that unpacks to more is a zip bomb

# The columns, as the template writes them, and other headings people use for them.
COLUMNS = ("username", "nama", "nip", "pangkat_golongan", "email", "jabatan")
ALIASES = {
    "nama_lengkap": "nama", "name": "nama", "nama_pegawai": "nama",
    "nip_nrp": "nip", "nrp": "nip", "nip/nrp": "nip",
    "pangkat": "pangkat_golongan", "golongan": "pangkat_golongan", "pangkat/golongan": "pangkat_golongan",
    "user": "username", "nama_pengguna": "username", "user_name": "username",
    "e-mail": "email", "e_mail": "email", "surel": "email",
    "position": "jabatan", "positions": "jabatan",
}
# Several positions in one cell: one a line (Alt+Enter in Excel), or separated by ";" or "|".
POSITION_SEPARATORS = re.compile(r"[\n|;]+")


class PeopleFileError(Exception):
    """A file that cannot be read as a table at all; the message is for the admin."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Cell:
    """A cell's text, and whether the spreadsheet held it as a fractional or huge number."""

    text: str
    number: bool = False


@dataclass
class RowProblem:
    row: int
    message: str

    def __str__(self) -> str:
        return _("row %(row)s: %(message)s") % {"row": self.row, "message": self.message}


@dataclass
class ImportOutcome:
    """What a file did (or, refused, why not)."""

    problems: list[RowProblem | str] = field(default_factory=list)
    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    holdings: int = 0  # positions given (new holder rows)
    notes: list[str] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return bool(self.problems)


# ---------------------------------------------------------------------------------------------
# Reading: bytes → rows of cells, with their row numbers
# ---------------------------------------------------------------------------------------------


def _heading(text: str) -> str:
    key = re.sub(r"[\s.]+", "_", text.strip().casefold()).strip("_")
    return ALIASES.get(key, key)


@dataclass
class Table:
    rows: list[tuple[int, dict[str, Cell]]]  # (row number as the spreadsheet shows it, cells by heading)
    ignored: list[str]  # headings that are not ours


def read_table(name: str, data: bytes) -> Table:
    """The rows of the file under its headings; empty rows skipped."""
    if len(data) > MAX_BYTES:
        raise PeopleFileError(_("the file is %(size)s KB; it may be at most %(limit)s KB") % {
            "size": len(data) // 1024, "limit": MAX_BYTES // 1024})
    if not data.strip():
        raise PeopleFileError(_("the file is empty"))
    lower = name.lower()
    if data[:4] == b"PK\x03\x04" or lower.endswith((".xlsx", ".xlsm")):
        rows = _xlsx_rows(data)
    elif data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" or lower.endswith(".xls"):
        raise PeopleFileError(_("this is an old Excel file (.xls); save it as .xlsx or as CSV"))
    else:
        rows = _csv_rows(data)
    return _under_headings(rows)


def _csv_rows(data: bytes) -> list[tuple[int, list[Cell]]]:
    text = _decode(data)
    if "\x00" in text:
        raise PeopleFileError(_("the file holds NUL characters: it is no CSV text"))
    first = next((line for line in text.splitlines() if line.strip()), "")
    # Excel in Indonesian writes ";" (the decimal mark is the comma); others write "," or a tab.
    delimiter = max(";,\t", key=lambda sign: (first.count(sign), sign == ","))
    rows = []
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        for values in reader:
            if len(rows) > MAX_ROWS:
                raise PeopleFileError(_("the file has more than %(limit)s rows; split it") % {"limit": MAX_ROWS})
            rows.append((reader.line_num, [Cell(value.strip()) for value in values[:MAX_COLUMNS]]))
    except csv.Error as error:
        raise PeopleFileError(_("line %(line)s cannot be read as CSV: %(reason)s") % {
            "line": reader.line_num, "reason": error}) from None
    return rows


def _decode(data: bytes) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Excel's "Unicode Text"
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # Excel's "CSV (Comma delimited)" on Windows writes the ANSI code page.
        return data.decode("cp1252")
    except UnicodeDecodeError as error:
        raise PeopleFileError(_("the file is neither UTF-8 nor Windows text (byte %(position)s); save it as "
                                "“CSV UTF-8” or as .xlsx") % {"position": error.start}) from None


def _xlsx_rows(data: bytes) -> list[tuple[int, list[Cell]]]:
    import openpyxl

    not_xlsx = _("the file is not an Excel workbook (.xlsx) that can be read; save it again as .xlsx or CSV")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "xl/workbook.xml" not in names and "[Content_Types].xml" not in names:
                raise PeopleFileError(not_xlsx)
            if sum(info.file_size for info in archive.infolist()) > MAX_UNZIPPED:
                raise PeopleFileError(_("the workbook unpacks to more than %(limit)s MB; it may not") % {
                    "limit": MAX_UNZIPPED // 1024 // 1024})
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise PeopleFileError(not_xlsx) from None
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except PeopleFileError:
        raise
    except Exception:  # openpyxl raises whatever its parsers meet in a damaged file
        raise PeopleFileError(not_xlsx) from None
    rows = []
    try:
        sheet = workbook.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1):
            if len(rows) > MAX_ROWS or number > 50 * MAX_ROWS:  # many rows, or a sheet of empty ones
                raise PeopleFileError(_("the file has more than %(limit)s rows; split it") % {"limit": MAX_ROWS})
            cells = [_xlsx_cell(value) for value in values]
            if any(cell.text for cell in cells):
                rows.append((number, cells))
    except PeopleFileError:
        raise
    except Exception:
        raise PeopleFileError(not_xlsx) from None
    finally:
        workbook.close()
    return rows


def _xlsx_cell(value) -> Cell:
    if value is None:
        return Cell("")
    if isinstance(value, bool):
        return Cell(str(value))
    if isinstance(value, int):
        return Cell(str(value))
    if isinstance(value, float):
        # Excel keeps 15 significant digits: an 18-digit NIP typed as a number has lost its end.
        if value.is_integer() and abs(value) < 1e15:
            return Cell(str(int(value)))
        return Cell(repr(value), number=True)
    return Cell(str(value).strip())


def _under_headings(rows: list[tuple[int, list[Cell]]]) -> Table:
    rows = [(number, cells) for number, cells in rows if any(cell.text for cell in cells)]
    if not rows:
        raise PeopleFileError(_("the file has no rows"))
    header_row, header = rows[0]
    headings = [_heading(cell.text) for cell in header]
    if "nama" not in headings:
        raise PeopleFileError(_("row %(row)s should name the columns (%(columns)s) but has no “nama” column; "
                                "start from the template") % {"row": header_row, "columns": ", ".join(COLUMNS)})
    doubled = sorted({heading for heading in headings if heading in COLUMNS and headings.count(heading) > 1})
    if doubled:
        raise PeopleFileError(_("the column %(columns)s appears twice in row %(row)s") % {
            "columns": ", ".join(doubled), "row": header_row})
    table = []
    for number, cells in rows[1:]:
        table.append((number, {heading: cell for heading, cell in zip(headings, cells) if heading in COLUMNS}))
    if not table:
        raise PeopleFileError(_("the file has column names but no person below them"))
    return Table(table, [cell.text for cell in header if cell.text and _heading(cell.text) not in COLUMNS])


# ---------------------------------------------------------------------------------------------
# Checking and writing
# ---------------------------------------------------------------------------------------------


@dataclass
class _Person:
    row: int
    name: str
    nip: str
    username: str
    email: str
    pangkat: str
    positions: list[Position]
    user: object = None  # an existing user to update


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _text(cells: dict[str, Cell], key: str, row: int, problems: list, *, limit: int) -> str:
    cell = cells.get(key, Cell(""))
    text = cell.text
    if text.startswith("=") and len(text) > 1:
        problems.append(RowProblem(row, _("the column %(column)s holds a formula (%(formula)s); paste its value "
                                          "instead") % {"column": key, "formula": text[:40]}))
        return ""
    if _CONTROL.search(text):
        problems.append(RowProblem(row, _("the column %(column)s holds control characters") % {"column": key}))
        return ""
    if len(text) > limit:
        problems.append(RowProblem(row, _("the column %(column)s is longer than %(limit)s characters") % {
            "column": key, "limit": limit}))
        return ""
    return text


def users_import(*, office: Office, name: str, data: bytes, by, check_only: bool = False) -> ImportOutcome:
    """Check every row of the file and, when none is bad, write them all in one transaction."""
    outcome = ImportOutcome()
    try:
        table = read_table(name, data)
    except PeopleFileError as error:
        outcome.problems.append(error.message)
        return outcome
    if table.ignored:
        outcome.notes.append(_("columns ignored: %(columns)s") % {"columns": ", ".join(table.ignored)})
    people = _check(office=office, table=table.rows, by=by, problems=outcome.problems)
    if outcome.problems or check_only:
        if check_only and not outcome.problems:
            outcome.created = [person for person in people if person.user is None]
            outcome.updated = [person for person in people if person.user is not None]
        return outcome
    try:
        with transaction.atomic():
            _write(office=office, people=people, outcome=outcome)
    except IntegrityError:
        outcome.problems.append(_("someone changed these users while the file was read (a username or NIP is "
                                  "taken now); nothing was written: import the file again"))
        outcome.created, outcome.updated, outcome.holdings = [], [], 0
    return outcome


def _check(*, office: Office, table, by, problems: list) -> list[_Person]:
    User = get_user_model()
    positions = {position.name.casefold(): position for position in Position.objects.filter(office=office)}
    username_field = User._meta.get_field(User.USERNAME_FIELD)
    people: list[_Person] = []
    seen_usernames: dict[str, int] = {}
    seen_nips: dict[str, int] = {}
    for row, cells in table:
        before = len(problems)
        name = _text(cells, "nama", row, problems, limit=User._meta.get_field("first_name").max_length)
        if not name and len(problems) == before:
            problems.append(RowProblem(row, _("the name (nama) is missing")))
        nip_cell = cells.get("nip", Cell(""))
        if nip_cell.number:
            problems.append(RowProblem(row, _("the NIP was typed as a number and Excel has cut its last digits "
                                              "(%(value)s); format the column as Text and type it again") % {
                "value": nip_cell.text}))
            nip = ""
        else:
            nip, nip_problem = staffing.nip_clean(_text(cells, "nip", row, problems, limit=40))
            if nip_problem:
                problems.append(RowProblem(row, _("bad NIP/NRP “%(nip)s”: %(reason)s") % {
                    "nip": nip, "reason": nip_problem}))
        username = _text(cells, "username", row, problems, limit=username_field.max_length) or nip
        if not username and len(problems) == before:
            problems.append(RowProblem(row, _("give a username or a NIP (the NIP then is the username)")))
        elif username:
            try:
                for validator in username_field.validators:
                    validator(username)
            except ValidationError:
                problems.append(RowProblem(row, _("the username “%(username)s” may hold only letters, digits and "
                                                  "@ . + - _") % {"username": username}))
        email = _text(cells, "email", row, problems, limit=254)
        if email:
            try:
                validate_email(email)
            except ValidationError:
                problems.append(RowProblem(row, _("“%(email)s” is not an email address") % {"email": email}))
        pangkat = _text(cells, "pangkat_golongan", row, problems, limit=Profile._meta.get_field("pangkat").max_length)
        held = []
        for wanted in POSITION_SEPARATORS.split(_text(cells, "jabatan", row, problems, limit=2000)):
            wanted = " ".join(wanted.split())
            if not wanted:
                continue
            position = positions.get(wanted.casefold())
            if position is None:
                close = difflib.get_close_matches(wanted.casefold(), list(positions), n=1, cutoff=0.75)
                hint = _(" (did you mean “%(name)s”?)") % {"name": positions[close[0]].name} if close else ""
                problems.append(RowProblem(row, _("%(office)s has no position “%(position)s”%(hint)s") % {
                    "office": office.name, "position": wanted, "hint": hint}))
            elif position not in held:
                held.append(position)
        if username:
            key = username.casefold()
            if key in seen_usernames:
                problems.append(RowProblem(row, _("the username “%(username)s” is also in row %(other)s") % {
                    "username": username, "other": seen_usernames[key]}))
            seen_usernames.setdefault(key, row)
        if nip:
            if nip in seen_nips:
                problems.append(RowProblem(row, _("the NIP %(nip)s is also in row %(other)s") % {
                    "nip": nip, "other": seen_nips[nip]}))
            seen_nips.setdefault(nip, row)
        people.append(_Person(row, name, nip, username, email, pangkat, held))
    _match(office=office, people=people, by=by, problems=problems)
    problems.sort(key=lambda problem: problem.row if isinstance(problem, RowProblem) else 0)
    return people


def _match(*, office: Office, people: list[_Person], by, problems: list) -> None:
    """Find the people already known, by username or NIP (two queries); refuse conflicting matches."""
    User = get_user_model()
    usernames = {person.username.casefold() for person in people if person.username}
    by_username: dict[str, object] = {}
    for chunk in _chunks(sorted(usernames)):
        for user in User.objects.annotate(_lower=Lower("username")).filter(_lower__in=chunk).select_related("profile"):
            by_username[user.username.casefold()] = user
    nips = [person.nip for person in people if person.nip]
    by_nip = {profile.nip: profile.user for profile in
              Profile.objects.filter(nip__in=nips).select_related("user__profile")} if nips else {}
    administered = staffing.admin_office_ids(by)
    for person in people:
        user = by_username.get(person.username.casefold()) if person.username else None
        other = by_nip.get(person.nip) if person.nip else None
        if user is not None and other is not None and user.pk != other.pk:
            problems.append(RowProblem(person.row, _("the username “%(username)s” is one person's and the NIP "
                                                     "%(nip)s another's (%(other)s)") % {
                "username": person.username, "nip": person.nip, "other": other.get_username()}))
            continue
        user = user or other
        if user is None:
            continue
        profile = staffing.profile_of(user)
        if person.nip and profile is not None and profile.nip and profile.nip != person.nip:
            problems.append(RowProblem(person.row, _("the user “%(username)s” has the NIP %(nip)s, not %(given)s") % {
                "username": user.get_username(), "nip": profile.nip, "given": person.nip}))
        elif user.is_superuser and not by.is_superuser:
            problems.append(RowProblem(person.row, _("“%(username)s” is a superuser: only a superuser changes "
                                                     "that account") % {"username": user.get_username()}))
        elif (administered is not None and profile is not None and profile.office_id
              and profile.office_id not in administered):
            problems.append(RowProblem(person.row, _("“%(username)s” is a user of %(office)s, which you do not "
                                                     "administer") % {"username": user.get_username(),
                                                                      "office": profile.office.name}))
        person.user = user


def _chunks(items: list[str], size: int = 900):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _write(*, office: Office, people: list[_Person], outcome: ImportOutcome) -> None:
    User = get_user_model()
    new = []
    for person in people:
        if person.user is not None:
            continue
        user = User(username=person.username, first_name=person.name, email=person.email, is_active=True)
        user.set_unusable_password()
        new.append((person, user))
    created = User.objects.bulk_create([user for _person, user in new])
    if not all(user.pk for user in created):  # backends without RETURNING on bulk insert
        ids = dict(User.objects.filter(username__in=[user.username for user in created])
                   .values_list("username", "pk"))
        for user in created:
            user.pk = ids[user.username]
    for (person, _unsaved), user in zip(new, created):
        person.user = user
    Profile.objects.bulk_create([
        Profile(user=person.user, nip=person.nip, pangkat=person.pangkat, office=office) for person, _user in new
    ])
    outcome.created = [person.user for person, _user in new]

    made = {id(person) for person, _user in new}
    for person in people:
        if id(person) in made:
            continue
        user = person.user
        user.first_name, user.last_name = person.name, ""
        if person.email:
            user.email = person.email
        user.save(update_fields=["first_name", "last_name", "email"])
        profile, _created = Profile.objects.get_or_create(user=user)
        profile.nip = profile.nip or person.nip
        profile.pangkat = person.pangkat or profile.pangkat
        profile.office = profile.office or office
        profile.save(update_fields=["nip", "pangkat", "office"])
        outcome.updated.append(user)

    through = Position.holders.through
    wanted = {(person.user.pk, position.pk) for person in people for position in person.positions}
    if wanted:
        existing = set(through.objects.filter(user_id__in={user_id for user_id, _p in wanted})
                       .values_list("user_id", "position_id"))
        missing = sorted(wanted - existing)
        through.objects.bulk_create([through(user_id=user_id, position_id=position_id)
                                     for user_id, position_id in missing])
        outcome.holdings = len(missing)


# ---------------------------------------------------------------------------------------------
# Templates and invitations
# ---------------------------------------------------------------------------------------------


def template_csv() -> bytes:
    """The CSV template: the headings, ";"-separated as Excel in Indonesian reads them, with a BOM."""
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerow(COLUMNS)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx(office: Office | None) -> bytes:
    """The XLSX template: the headings (NIP as text), and a second sheet listing the office's positions."""
    import openpyxl
    from openpyxl.styles import Font

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = _("People")[:31]
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column, width in zip("ABCDEF", (20, 40, 22, 26, 30, 50)):
        sheet.column_dimensions[column].width = width
        for row in range(2, 502):  # typed NIPs stay text, all 18 digits
            sheet[f"{column}{row}"].number_format = "@"
    notes = workbook.create_sheet(_("Positions")[:31])
    notes.append([_("Positions of %(office)s (copy the names into the column jabatan; several in one cell, "
                    "one a line)") % {"office": office.name} if office else _("Positions")])
    for position in (Position.objects.filter(office=office).order_by("level", "name") if office else []):
        notes.append([position.name])
    notes.column_dimensions["A"].width = 70
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def invite_send(*, users) -> tuple[int, list[str]]:
    """Email each new user with an address a link to set their password: how many were sent, and to
    whom sending failed (the mail server refused or was unreachable)."""
    sent, failed = 0, []
    for user in users:
        if not user.email:
            continue
        context = {
            "user": user, "uid": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user), "site_url": settings.SITE_URL,
            "hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
        }
        subject = render_to_string("registration/account_invite_subject.txt", context).strip()
        body = render_to_string("registration/account_invite_email.txt", context)
        try:
            send_mail(subject, body, None, [user.email])
        except (OSError, smtplib.SMTPException):
            failed.append(user.email)
        else:
            sent += 1
    return sent, failed
