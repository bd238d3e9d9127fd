"""Importing people from CSV/XLSX: the reader (fuzzed: any bytes give rows or a clear refusal) and the
all-or-nothing service that creates or updates users, their profiles and positions."""

import io
import random
import zipfile

import openpyxl
import pytest
from django.contrib.auth import get_user_model

from procedures.models import Position, Profile
from procedures.people_import import MAX_BYTES, MAX_ROWS, PeopleFileError, read_table, template_csv, template_xlsx, users_import
from tests.factories import OfficeFactory, PositionFactory, UserFactory
from tests.spreadsheets import xlsx_bytes

pytestmark = pytest.mark.django_db
User = get_user_model()

NIP_ANI = "198001012005012001"
NIP_BUDI = "197502152000031002"
HEADER = "username;nama;nip;pangkat_golongan;email;jabatan"


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def office():
    office = OfficeFactory(name="Satpol PP Kota Uji")
    for name in ("Kasat Pol PP", "Kasi Trantib", "Staf Trantib"):
        PositionFactory(office=office, name=name)
    return office


def csv_bytes(*rows: str, header: str = HEADER, encoding: str = "utf-8") -> bytes:
    return "\n".join([header, *rows]).encode(encoding)


def run(office, data: bytes, name: str = "pegawai.csv", by=None, **kwargs):
    return users_import(office=office, name=name, data=data, by=by or UserFactory(is_superuser=True), **kwargs)


def problems(outcome) -> list[str]:
    return [str(problem) for problem in outcome.problems]


# --- the service -----------------------------------------------------------------------------------


def test_good_rows_make_users_with_profiles_and_positions(office):
    outcome = run(office, csv_bytes(
        f";Dra. Ani Lestari, M.Si.;{NIP_ANI};Penata Tk. I (III/d);ani@kota.go.id;Kasi Trantib",
        f"budi;Budi Santoso;19750215 200003 1 002;;;\"Staf Trantib\nKasat Pol PP\"",
    ))

    assert not outcome.refused, problems(outcome)
    ani, budi = User.objects.get(username=NIP_ANI), User.objects.get(username="budi")
    assert (ani.get_full_name(), ani.email, ani.has_usable_password()) == ("Dra. Ani Lestari, M.Si.", "ani@kota.go.id", False)
    assert (ani.profile.nip, ani.profile.pangkat, ani.profile.office) == (NIP_ANI, "Penata Tk. I (III/d)", office)
    assert budi.profile.nip == NIP_BUDI
    assert sorted(budi.positions.values_list("name", flat=True)) == ["Kasat Pol PP", "Staf Trantib"]
    assert (len(outcome.created), outcome.updated, outcome.holdings) == (2, [], 3)


def test_a_known_person_is_updated_not_duplicated_by_username_or_nip(office):
    by_username = UserFactory(username="ani", first_name="Ani", last_name="Lama")
    by_nip = UserFactory(username="budi.s", office=office)
    Profile.objects.filter(user=by_nip).update(nip=NIP_BUDI)
    Position.objects.get(name="Kasi Trantib").holders.add(by_username)

    outcome = run(office, csv_bytes(f"ANI;Ani Lestari;{NIP_ANI};;;Kasi Trantib", f";Budi Santoso;{NIP_BUDI};;;Staf Trantib"))

    assert not outcome.refused, problems(outcome)
    assert User.objects.count() == 3  # the two, and the superuser importing
    by_username.refresh_from_db()
    assert (by_username.get_full_name(), by_username.profile.nip, by_username.profile.office) == ("Ani Lestari", NIP_ANI, office)
    assert list(by_nip.positions.values_list("name", flat=True)) == ["Staf Trantib"]
    assert (outcome.created, outcome.holdings) == ([], 1)  # Ani held the Kasi already


def test_each_bad_row_is_refused_with_its_number_and_nothing_is_written(office):
    outcome = run(office, csv_bytes(
        f"ani;Ani;{NIP_ANI};;;Kasi Trantib",  # row 2: good
        ";Tanpa NIP;;;;",  # row 3
        f"ani;Ani Dua;{NIP_BUDI};;;",  # row 4: the username again
        "cici;;;;;",  # row 5: no name
        "dodi;Dodi;12345;;;",  # row 6
        "eko;Eko;;;eko@;",  # row 7
        "fajar;Fajar;;;;Kasi Tantrib",  # row 8: unknown position, close to one
        "gita;Gita;;;;Kabid Lain",  # row 9
        "h a n;Han;;;;",  # row 10
        "iwan;=HYPERLINK(\"x\");;;;",  # row 11
        f"joko;Joko;{NIP_ANI};;;",  # row 12: the NIP again
    ))

    assert outcome.refused
    assert problems(outcome) == [
        "row 3: give a username or a NIP (the NIP then is the username)",
        "row 4: the username “ani” is also in row 2",
        "row 5: the name (nama) is missing",
        "row 6: bad NIP/NRP “12345”: a NIP has 18 digits and an NRP 8; this one has 5",
        "row 7: “eko@” is not an email address",
        "row 8: Satpol PP Kota Uji has no position “Kasi Tantrib” (did you mean “Kasi Trantib”?)",
        "row 9: Satpol PP Kota Uji has no position “Kabid Lain”",
        "row 10: the username “h a n” may hold only letters, digits and @ . + - _",
        "row 11: the column nama holds a formula (=HYPERLINK(\"x\")); paste its value instead",
        f"row 12: the NIP {NIP_ANI} is also in row 2",
    ]
    assert User.objects.count() == 1 and not Profile.objects.exists()


def test_a_username_of_one_person_and_a_nip_of_another_is_refused(office):
    UserFactory(username="ani")
    other = UserFactory(username="budi")
    Profile.objects.create(user=other, nip=NIP_ANI)
    outcome = run(office, csv_bytes(f"ani;Ani;{NIP_ANI};;;"))
    assert problems(outcome) == [f"row 2: the username “ani” is one person's and the NIP {NIP_ANI} another's (budi)"]


def test_a_kasubag_cannot_change_a_superuser_or_a_user_of_another_office(office):
    kasubag = UserFactory(is_staff=True, office=office)
    UserFactory(username="root", is_superuser=True)
    stranger = UserFactory(username="asing", office=OfficeFactory(name="Dinas Lain"))
    outcome = run(office, csv_bytes("root;Root;;;;", "asing;Asing;;;;"), by=kasubag)
    assert problems(outcome) == [
        "row 2: “root” is a superuser: only a superuser changes that account",
        "row 3: “asing” is a user of Dinas Lain, which you do not administer",
    ]
    stranger.refresh_from_db()
    assert stranger.first_name != "Asing"


def test_check_only_writes_nothing(office):
    outcome = run(office, csv_bytes(f";Ani;{NIP_ANI};;;Kasi Trantib"), check_only=True)
    assert not outcome.refused and len(outcome.created) == 1
    assert not User.objects.filter(username=NIP_ANI).exists()


def test_an_xlsx_nip_typed_as_a_number_is_refused_unless_excel_kept_it_whole(office):
    outcome = run(office, xlsx_bytes([["ani", "Ani", 1.98001012005012e17, None, None, None],
                                      ["nrp", "Brigpol Nur", 85011234, None, None, "Staf Trantib"]]), name="p.xlsx")
    assert len(outcome.problems) == 1
    assert str(outcome.problems[0]).startswith("row 2: the NIP was typed as a number and Excel has cut its last digits")
    outcome = run(office, xlsx_bytes([["nrp", "Brigpol Nur", 85011234, None, None, "Staf Trantib"]]), name="p.xlsx")
    assert not outcome.refused
    assert User.objects.get(username="nrp").profile.nip == "85011234"


def test_three_hundred_people_cost_a_dozen_queries(office, django_assert_max_num_queries):
    rows = [f"pegawai{n};Pegawai {n};;;pegawai{n}@kota.go.id;Staf Trantib" for n in range(300)]
    by = UserFactory(is_superuser=True)
    # Positions, known users by username: the writes go in bulk (SQLite splits its inserts in batches).
    with django_assert_max_num_queries(14):
        outcome = run(office, csv_bytes(*rows), by=by)
    assert len(outcome.created) == 300 and outcome.holdings == 300


# --- the reader ------------------------------------------------------------------------------------


def rows_of(name: str, data: bytes) -> list[tuple[int, dict[str, str]]]:
    return [(number, {key: cell.text for key, cell in cells.items()}) for number, cells in read_table(name, data).rows]


def test_excel_in_indonesian_writes_semicolons_a_bom_and_windows_text():
    data = b"\xef\xbb\xbf" + "nama;nip\r\nAni Müller;1\r\n".encode("utf-8")
    assert rows_of("a.csv", data) == [(2, {"nama": "Ani Müller", "nip": "1"})]
    windows = "Nama,Jabatan\r\nAndré,Kasi\r\n".encode("cp1252")
    assert rows_of("a.csv", windows) == [(2, {"nama": "André", "jabatan": "Kasi"})]
    utf16 = "nama\tnip\r\nAni\t2\r\n".encode("utf-16")
    assert rows_of("a.txt", utf16) == [(2, {"nama": "Ani", "nip": "2"})]


def test_empty_rows_are_skipped_and_row_numbers_stay_the_spreadsheets():
    data = b"\n\nnama;nip\n;\nAni;1\n\n;;\nBudi;2\n"
    assert [number for number, _cells in rows_of("a.csv", data)] == [5, 8]
    sheet = xlsx_bytes([["u", "Ani"], [None, None], ["v", "Budi"]])
    assert [number for number, _cells in rows_of("a.xlsx", sheet)] == [2, 4]


def test_headings_are_matched_loosely_and_unknown_ones_ignored():
    table = read_table("a.csv", b"No;Nama Lengkap;NIP/NRP;Pangkat/Golongan;E-mail;Catatan\n1;Ani;;;;x\n")
    assert list(table.rows[0][1]) == ["nama", "nip", "pangkat_golongan", "email"]
    assert table.ignored == ["No", "Catatan"]


@pytest.mark.parametrize("name, data, message", [
    ("a.csv", b"", "the file is empty"),
    ("a.csv", b"   \n\n", "the file is empty"),
    ("a.csv", b"username;nip\nani;1\n", "no “nama” column"),
    ("a.csv", b"nama;nama\nAni;Ani\n", "the column nama appears twice"),
    ("a.csv", b"nama;nip\n", "no person below them"),
    ("a.csv", b"nama\x00;nip\nx;y", "NUL characters"),
    ("a.csv", b"nama\n\x81\x8d\x8f\x90\x9d", "neither UTF-8 nor Windows text"),
    ("a.csv", b'nama\n"Ani\n' + b"x" * 200_000, "cannot be read as CSV"),
    ("a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old Excel file (.xls)"),
    ("a.xlsx", b"PK\x03\x04 not really a zip", "not an Excel workbook"),
    ("a.xlsx", b"just text", "not an Excel workbook"),
])
def test_a_file_that_is_no_table_is_refused_with_the_reason(name, data, message):
    with pytest.raises(PeopleFileError) as refused:
        read_table(name, data)
    assert message in refused.value.message


def zipped(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_a_zip_that_is_no_workbook_and_a_zip_bomb_are_refused():
    with pytest.raises(PeopleFileError, match="not an Excel workbook"):
        read_table("a.xlsx", zipped({"word/document.xml": b"<w/>"}))
    with pytest.raises(PeopleFileError, match="unpacks to more than"):
        read_table("a.xlsx", zipped({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b" " * (50 * 1024 * 1024)}))
    damaged = zipped({"[Content_Types].xml": b"<x", "xl/workbook.xml": b"<workbook"})
    with pytest.raises(PeopleFileError, match="not an Excel workbook"):
        read_table("a.xlsx", damaged)


def test_formulas_in_a_workbook_are_refused_by_row():
    workbook = xlsx_bytes([["ani", '=CONCATENATE("A","ni")', None, None, None, None]])
    outcome_problems = problems(run(OfficeFactory(), workbook, name="a.xlsx"))
    assert outcome_problems == ['row 2: the column nama holds a formula (=CONCATENATE("A","ni")); paste its value instead']


def test_huge_files_and_too_many_rows_are_refused():
    with pytest.raises(PeopleFileError, match="it may be at most"):
        read_table("a.csv", b"nama\n" + b"x\n" * MAX_BYTES)
    with pytest.raises(PeopleFileError, match="more than 2000 rows"):
        read_table("a.csv", b"nama\n" + b"Ani\n" * (MAX_ROWS + 5))
    with pytest.raises(PeopleFileError, match="more than 2000 rows"):
        read_table("a.xlsx", xlsx_bytes([["u", "Ani"]] * (MAX_ROWS + 5)))


def test_the_templates_read_back_as_empty_tables_with_every_column(office):
    for name, data in (("t.csv", template_csv()), ("t.xlsx", template_xlsx(office))):
        with pytest.raises(PeopleFileError, match="no person below them"):
            read_table(name, data)
    workbook = openpyxl.load_workbook(io.BytesIO(template_xlsx(office)))
    assert [cell.value for cell in workbook.worksheets[1]["A"]][1:] == ["Kasat Pol PP", "Kasi Trantib", "Staf Trantib"]
    assert workbook.worksheets[0]["C2"].number_format == "@"  # a typed NIP stays text


def _mutations(seed_data: bytes, rng: random.Random):
    data = bytearray(seed_data)
    for _ in range(rng.randint(1, 12)):
        kind = rng.random()
        position = rng.randrange(len(data) or 1)
        if kind < 0.4 and data:
            data[position] = rng.randrange(256)
        elif kind < 0.7:
            data[position:position] = bytes(rng.choice([b";", b",", b"\t", b'"', b"\n", b"\r", b"\x00", b"=", b"\xff",
                                                        b"\xef\xbb\xbf", b"PK\x03\x04", b" "]))
        elif data:
            del data[position:position + rng.randint(1, 40)]
    return bytes(data)


def test_any_bytes_give_rows_or_a_refusal_never_an_exception(office):
    """Fuzz: mutations of good CSV and XLSX files, and random bytes, through the whole service."""
    rng = random.Random(20250303)
    seeds = [
        ("a.csv", csv_bytes(f"ani;Ani;{NIP_ANI};;ani@kota.go.id;Kasi Trantib", "budi;Budi;;;;Staf Trantib")),
        ("a.xlsx", xlsx_bytes([["ani", "Ani", NIP_ANI, None, None, "Kasi Trantib"]])),
    ]
    by = UserFactory(is_superuser=True)
    for round_number in range(150):
        name, seed = seeds[round_number % 2]
        data = _mutations(seed, rng) if round_number < 140 else bytes(rng.randrange(256) for _ in range(rng.randrange(600)))
        outcome = users_import(office=office, name=name, data=data, by=by, check_only=True)
        assert all(str(problem) for problem in outcome.problems)
