"""The five SOPs sopflow ships with, checked against what their sheets say."""

import io
from pathlib import Path

import jsonschema
import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse

from procedures.library import Outcome, sop_import
from procedures.models import Office, Position, Sop
from procedures.sopfile import DATE_KEYS, load, schema

SEEDS = Path(__file__).resolve().parent.parent / "fixtures" / "sops"
FILES = sorted(SEEDS.glob("*.yaml"))


def test_five_seed_files_ship():
    assert [path.name[:3] for path in FILES] == ["000", "001", "002", "003", "004"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_shipped_file_validates_against_the_published_schema(path):
    # A YAML 1.2 reader (as editors use) sees dates as text; so does BaseLoader-free safe_load of quoted dates.
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)  # noqa: S506
    # BaseLoader keeps every scalar as text; restore the integers and booleans the schema expects.
    for step in data["langkah"]:
        step["nomor"] = int(step["nomor"])
        for key in ("ya", "tidak"):
            if key in step and step[key] != "selesai":
                step[key] = int(step[key])
    if "revisi" in data:
        data["revisi"] = int(data["revisi"])
    for key in ("ditandatangani_elektronik", "kegiatan_terpisah"):
        if key in data:
            data[key] = {"true": True, "false": False}[data[key]]
    jsonschema.validate(data, schema())


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_shipped_file_is_valid_and_says_its_total_right(path):
    document = load(path.read_bytes())
    assert document.total().warning is None


def doc(prefix: str):
    return load(next(path for path in FILES if path.name.startswith(prefix)).read_bytes())


def actors(document) -> dict[int, str]:
    return {step.nomor: step.pelaksana for step in document.langkah}


def test_000_bina_potensi_masyarakat():
    document = doc("000")
    assert len(document.langkah) == 17
    kasi, kabid, sekretaris, kasat = document.pelaksana
    assert (kasi, kabid, sekretaris, kasat) == ("Kasi Bina Potensi Masyarakat", "Kabid Linmas", "Sekretaris", "Kasat Pol PP")
    expected = {1: kasi, 2: kasi, 3: kasi, 4: kasi, 5: kabid, 6: sekretaris, 7: kasi, 8: kasi, 9: kasat,
                10: kasat, 11: kabid, 12: kabid, 13: kabid, 14: kasi, 15: kabid, 16: kasat, 17: kasi}
    assert actors(document) == expected
    assert all(step.kelengkapan and step.output for step in document.langkah)


def test_001_kesbangpol_adds_up_to_its_printed_total():
    document = doc("001")
    assert len(document.langkah) == 15 and len(document.pelaksana) == 5
    assert document.jumlah_waktu == "5 hr 4 jam 45 Menit"  # as printed
    assert str(document.total().computed) == "5 hari 4 jam 45 menit"
    assert document.langkah[0].simbol == "mulai" and document.langkah[0].pelaksana == "Kasi"
    assert document.langkah[11].waktu == "2 hari" and "2 Menit" in document.langkah[11].catatan_transkripsi
    assert document.disahkan_oleh["nip"] == "196406061985031015"
    for section in ("dasar_hukum", "kualifikasi_pelaksana", "keterkaitan", "peralatan", "peringatan", "pencatatan"):
        assert getattr(document, section), section
    for step in document.langkah[4:]:
        assert "disimpulkan" in step.catatan_transkripsi, f"step {step.nomor} should say its actor was inferred"


def test_001_kesbangpol_has_its_kop_and_dates_of_month_and_year():
    document = doc("001")
    assert document.kop == ["PEMERINTAH KOTA TANGERANG", "KANTOR KESATUAN BANGSA DAN POLITIK"]
    for key in DATE_KEYS:  # "-----September 2018" on the sheet
        assert (str(getattr(document, key)), getattr(document, key).printed()) == ("2018-09", "September 2018")


def test_002_binpolmas_on_wita_with_nrp():
    document = doc("002")
    assert len(document.langkah) == 3 and len(document.pelaksana) == 6
    assert document.time_zone == "Asia/Makassar"
    assert document.disahkan_oleh["nip"] == "76050993"
    assert document.kop == ["KEPOLISIAN NEGARA REPUBLIK INDONESIA", "DAERAH GORONTALO", "RESOR GORONTALO KOTA"]
    assert (document.revisi, document.tanggal_revisi) == (1, None)  # "TGL REVISI : 01" is a revision number
    assert (str(document.tanggal_pembuatan), str(document.tanggal_efektif)) == ("2019-09-03", "2019-10-01")


def test_002_binpolmas_is_three_activities_of_their_own():
    document = doc("002")
    assert document.kegiatan_terpisah
    for step, letter in zip(document.langkah, "ABC"):
        assert step.label == letter
        assert step.kegiatan.startswith(f"{letter}.")
        assert "Maksud" in step.kegiatan and "Tujuan" in step.kegiatan
        assert step.waktu == "1 Jam"
    assert not document.jumlah_waktu


def test_003_prodeskel_decisions_and_loops():
    document = doc("003")
    assert len(document.langkah) == 13 and len(document.pelaksana) == 5
    decisions = {step.nomor: (step.ya, step.tidak) for step in document.langkah if step.simbol == "keputusan"}
    assert set(decisions) == {4, 5, 10}
    assert decisions[4] == (5, 3)
    assert decisions[5] == (6, 4)
    ya, tidak = decisions[10]
    assert actors(document)[tidak] == "Pokja Profil Kampung/Kelurahan"
    assert any(step.waktu.lower() == "1 bulan" for step in document.langkah)


def test_003_prodeskel_is_signed_electronically_under_its_full_name():
    document = doc("003")
    assert document.nama == "Kegiatan Pengembangan dan Pengelolaan Data Profil Kampung/ Desa dan Kelurahan"
    assert document.ditandatangani_elektronik
    assert document.disahkan_oleh == {"jabatan": "Kepala Bidang Layanan Komunikasi dan Informatika",
                                      "nama": "Rahmi Suryantari, ST, M.Si", "pangkat": "Pembina (IV/a)"}
    step4 = document.langkah[3]
    assert (step4.pertanyaan, step4.label_ya, step4.label_tidak) == (
        "Setuju dengan konsep SK Tim Kegiatan?", "Setuju, menyampaikan kepada Kadis",
        "Tidak setuju, menyerahkan kepada Kasubbid untuk diperbaiki")


def test_004_patroli_ends_without_violation():
    document = doc("004")
    assert len(document.langkah) == 12 and len(document.pelaksana) == 4
    decisions = {step.nomor: (step.ya, step.tidak) for step in document.langkah if step.simbol == "keputusan"}
    assert decisions == {7: (8, "selesai"), 8: (9, "selesai"), 9: (10, "selesai")}
    step4 = document.langkah[3]
    assert (step4.waktu, step4.duration.low, step4.duration.high) == ("3-4 jam", 3, 4)
    step7 = document.langkah[6]
    # Step 7 asks whether a violation of a Perda was found; "Tidak": none, the patrol ends.
    assert step7.pertanyaan == "Ada temuan pelanggaran Perda?"
    assert (step7.label_ya, step7.label_tidak) == ("Ada temuan pelanggaran Perda", "Tidak ada temuan, patroli selesai")


@pytest.mark.parametrize(("prefix", "unit"), [("000", "BIDANG LINMAS"),
                                              ("004", "BIDANG KETERTIBAN UMUM DAN KETENTRAMAN MASYARAKAT")])
def test_the_satpol_pp_sheets_name_their_unit_in_the_kop(prefix, unit):
    document = doc(prefix)
    assert document.kop == ["SATUAN POLISI PAMONG PRAJA", unit]
    assert document.instansi == "Satuan Polisi Pamong Praja"  # one office, as before


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_keterangan_holds_only_what_the_sheet_prints(path):
    # None of the five sheets prints anything in its Keterangan column: the transcriber's notes
    # are transcription notes.
    document = load(path.read_bytes())
    assert [step.nomor for step in document.langkah if step.keterangan] == []
    assert document.catatan_transkripsi


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_decision_asks_its_question_in_the_sheets_words(path):
    for step in load(path.read_bytes()).langkah:
        if step.simbol == "keputusan":
            assert step.pertanyaan.endswith("?") and step.label_ya and step.label_tidak, step.nomor


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_no_total_is_invented_where_the_sheet_prints_none(path):
    assert bool(load(path.read_bytes()).jumlah_waktu) == path.name.startswith("001")


@pytest.mark.django_db
def test_importing_the_seeds_gives_five_sops_and_shared_positions():
    results = [sop_import(data=path.read_bytes(), source=path.name) for path in FILES]
    assert [result.outcome for result in results] == [Outcome.CREATED] * 5
    assert all(not result.warnings for result in results)
    assert Sop.objects.count() == 5
    satpol = Office.objects.get(name="Satuan Polisi Pamong Praja")
    assert satpol.sops.count() == 2
    assert Position.objects.filter(office=satpol, name="Kasat Pol PP").count() == 1
    assert Position.objects.filter(office=satpol).count() == 7  # 4 + 4 columns, one shared
    assert Office.objects.get(name="Satbinmas Polres Gorontalo Kota").time_zone == "Asia/Makassar"


@pytest.mark.django_db
def test_the_seeds_import_again_unchanged_and_over_their_old_files_as_new_revisions():
    old = sorted((Path(__file__).resolve().parent / "data" / "sops-before-0003").glob("*.yaml"))
    assert [sop_import(data=path.read_bytes(), source=path.name).outcome for path in old] == [Outcome.CREATED] * 5
    assert [sop_import(data=path.read_bytes(), source=path.name).outcome for path in FILES] == [Outcome.REVISED] * 5
    assert [sop_import(data=path.read_bytes(), source=path.name).outcome for path in FILES] == [Outcome.UNCHANGED] * 5


@pytest.mark.django_db
def test_the_catalogue_prints_the_dates_as_the_sheet_gives_them(admin_client):
    for path in FILES:
        sop_import(data=path.read_bytes(), source=path.name)
    html = admin_client.get(reverse("sop-detail", args=["kesbangpol-sosialisasi-kepada-masyarakat"])).content.decode()
    assert html.count("<td>September 2018</td>") == 3  # the three dates (the staff's transcription note names it too)
    html = admin_client.get(reverse("sop-detail", args=["satbinmas-unit-binpolmas"])).content.decode()
    assert "3 September 2019" in html and "1 Oktober 2019" in html


@pytest.mark.django_db
def test_the_import_command_reports_no_warning_for_the_seeds():
    out, err = io.StringIO(), io.StringIO()
    call_command("import_sops", str(SEEDS), stdout=out, stderr=err)
    # One line per file, then the readiness of the SOPs (nobody holds their positions yet).
    assert sum(line.startswith(str(SEEDS)) for line in out.getvalue().splitlines()) == 5
    assert err.getvalue() == ""
