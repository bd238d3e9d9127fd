from pathlib import Path

import pytest
from django.db import OperationalError, connection

from procedures import library
from procedures.library import Outcome, find_revision, sop_export, sop_import, sop_import_files
from procedures.models import KelengkapanItem, Office, Position, Sop, SopColumn, SopRevision, Step
from tests.sop_samples import sample, sample_with_sheet_keys

pytestmark = pytest.mark.django_db


def import_text(text: str, source: str = "uji.yaml"):
    return sop_import(data=text.encode(), source=source)


def table_counts() -> dict[str, int]:
    models = [Office, Position, Sop, SopRevision, SopColumn, Step, KelengkapanItem]
    return {model.__name__: model.objects.count() for model in models}


def test_it_creates_an_sop_with_its_whole_sheet():
    result = import_text(sample())
    assert result.outcome is Outcome.CREATED
    revision = SopRevision.objects.get()
    assert revision.number == 1
    assert revision.sop.office.name == "Kantor Uji"
    assert revision.disahkan_nip == "196406061985031015"
    assert revision.dasar_hukum == ["Undang-Undang Nomor 1"]
    assert [column.label for column in revision.columns.all()] == ["Kepala", "Staf"]
    steps = list(revision.steps.order_by("nomor"))
    assert [step.simbol for step in steps] == ["mulai", "proses", "keputusan", "selesai"]
    assert [item.text for item in steps[0].kelengkapan.all()] == ["Surat Tugas", "Peta wilayah"]
    assert (steps[2].ya_step, steps[2].tidak_step) == (steps[3], steps[1])
    assert (steps[3].waktu_min, steps[3].waktu_max, steps[3].waktu_unit) == (1, 2, "menit")
    assert revision.total_waktu == "1 hari 1 jam 16 menit – 1 hari 1 jam 17 menit"


def test_the_same_file_again_changes_nothing():
    import_text(sample())
    before = table_counts()
    result = import_text(sample())
    assert result.outcome is Outcome.UNCHANGED
    assert result.revision == 1
    assert table_counts() == before


def test_other_content_makes_a_new_revision_and_keeps_the_old_one():
    import_text(sample())
    result = import_text(sample(**{"output: Laporan": "output: Laporan Patroli"}))
    assert (result.outcome, result.revision) == (Outcome.REVISED, 2)
    assert SopRevision.objects.count() == 2
    assert Position.objects.count() == 2  # positions are shared by the revisions


def test_positions_are_shared_by_the_sops_of_one_office_whatever_the_case():
    import_text(sample())
    import_text(sample(**{"kode: uji-patroli": "kode: uji-lain", "  - Kepala\n": "  - KEPALA\n"}))
    assert Position.objects.count() == 2
    assert SopColumn.objects.filter(label="KEPALA").get().position.name == "Kepala"


def test_export_then_import_is_unchanged():
    import_text(sample(**{"kegiatan: Melaksanakan patroli": "kegiatan: |\n      A. Patroli\n      1. Maksud"}))
    revision = SopRevision.objects.get()
    exported = sop_export(revision=revision)
    assert import_text(exported).outcome is Outcome.UNCHANGED


def test_a_refused_file_writes_nothing():
    import_text(sample())
    before = table_counts()
    result = import_text(sample(**{"    pelaksana: Staf": "    pelaksana: Kabid", "output: Laporan": "output: Lain"}))
    assert result.outcome is Outcome.REFUSED
    assert [problem.path for problem in result.problems] == ["langkah[1].pelaksana"]
    assert table_counts() == before


def test_a_stated_total_outside_the_sum_is_imported_with_a_warning():
    result = import_text(sample(**{"jumlah_waktu: 1 hari 1 jam 16 menit": "jumlah_waktu: 3 hari"}))
    assert result.outcome is Outcome.CREATED
    (warning,) = result.warnings
    assert "3 hari" in warning and "1 hari 1 jam 16 menit" in warning


def test_check_only_writes_nothing():
    result = sop_import(data=sample().encode(), source="uji.yaml", check_only=True)
    assert result.outcome is Outcome.VALID
    assert table_counts() == {name: 0 for name in table_counts()}


def test_the_time_zone_of_the_file_sets_a_new_office():
    import_text(sample(**{"jumlah_waktu:": "zona_waktu: WITA\njumlah_waktu:"}))
    assert Office.objects.get().time_zone == "Asia/Makassar"


def test_a_time_zone_contradicting_the_office_is_refused():
    import_text(sample())
    result = import_text(sample(**{"jumlah_waktu:": "zona_waktu: WIT\njumlah_waktu:", "kode: uji-patroli": "kode: lain"}))
    assert result.outcome is Outcome.REFUSED
    assert result.problems[0].path == "zona_waktu"


def test_find_revision_names_what_is_missing():
    import_text(sample())
    assert find_revision(kode="uji-patroli").number == 1
    with pytest.raises(LookupError, match="tidak-ada"):
        find_revision(kode="tidak-ada")
    with pytest.raises(LookupError):
        find_revision(kode="uji-patroli", number=7)


def test_a_kode_shared_by_two_offices_needs_the_office():
    import_text(sample())
    import_text(sample(**{"instansi: Kantor Uji": "instansi: Kantor Lain"}))
    with pytest.raises(LookupError, match="--instansi"):
        find_revision(kode="uji-patroli")
    assert find_revision(kode="uji-patroli", instansi="kantor lain").sop.office.name == "Kantor Lain"


def test_an_import_uses_a_bounded_number_of_queries(django_assert_max_num_queries):
    # Bulk inserts: the query count does not grow with the number of steps or kelengkapan items.
    with django_assert_max_num_queries(30 if connection.vendor == "postgresql" else 40):
        import_text(sample())


def steps_sample(*, kode: str, steps: int, instansi: str = "Kantor Uji") -> str:
    """A valid file of ``steps`` steps over two columns; every fifth step is a decision."""
    lines = [f"kode: {kode}", "nama: SOP Uji", f"instansi: {instansi}", "pelaksana:", "  - Kepala", "  - Staf",
             "langkah:"]
    for nomor in range(1, steps + 1):
        lines += [f"  - nomor: {nomor}", f"    kegiatan: Kegiatan {nomor}",
                  f"    pelaksana: {'Kepala' if nomor % 2 else 'Staf'}", "    waktu: 15 menit",
                  f"    kelengkapan: [Berkas {nomor}, Formulir {nomor}]"]
        if nomor % 5 == 0 and nomor < steps:
            lines += ["    simbol: keputusan", f"    ya: {nomor + 1}", f"    tidak: {nomor - 1}"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("steps", [11, 30, 60])
def test_the_queries_of_a_new_file_do_not_grow_with_its_steps(steps, django_assert_num_queries):
    import_text(steps_sample(kode="uji-awal", steps=2))  # the office and its positions exist
    # The office, SAVEPOINT (the test's transaction), the SOP's lock, the new SOP, the revision,
    # the office's positions, the columns, the steps, the decisions' targets, the kelengkapan,
    # RELEASE SAVEPOINT. SQLite takes at most 999 parameters a statement: its steps' insert is
    # split in batches of as many rows as fit (PostgreSQL: one).
    step_fields = [field for field in Step._meta.concrete_fields if not field.primary_key]
    step_inserts = -(-steps // connection.ops.bulk_batch_size(step_fields, [None] * steps))
    with django_assert_num_queries(10 + step_inserts):
        result = import_text(steps_sample(kode="uji-baru", steps=steps))
    assert result.outcome is Outcome.CREATED
    revision = SopRevision.objects.get(sop__kode="uji-baru")
    assert revision.steps.count() == steps
    assert revision.steps.filter(simbol="keputusan").exclude(ya_step=None).exclude(tidak_step=None).count() == (steps - 1) // 5
    assert KelengkapanItem.objects.filter(step__revision=revision).count() == 2 * steps


def test_many_files_cost_the_queries_of_a_batch_not_of_each_file(django_assert_max_num_queries):
    import_text(steps_sample(kode="uji-awal", steps=2))
    files = [(f"uji-{number}.yaml", steps_sample(kode=f"uji-{number}", steps=12).encode()) for number in range(40)]
    # The same eleven statements as one file; SQLite splits the bigger inserts (999 parameters
    # per statement).
    with django_assert_max_num_queries(11 if connection.vendor == "postgresql" else 25):
        results = sop_import_files(files=files)
    assert [result.outcome for result in results] == [Outcome.CREATED] * 40
    assert SopRevision.objects.filter(sop__kode__startswith="uji-").exclude(sop__kode="uji-awal").count() == 40
    assert Step.objects.count() == 2 + 40 * 12


def test_many_files_store_what_each_file_imported_alone_stores():
    texts = [steps_sample(kode=f"uji-{number}", steps=3 + number) for number in range(6)]
    sop_import_files(files=[(f"{number}.yaml", text.encode()) for number, text in enumerate(texts)])
    together = {revision.sop.kode: sop_export(revision=revision) for revision in SopRevision.objects.all()}
    for kode, exported in together.items():
        assert import_text(exported).outcome is Outcome.UNCHANGED, kode
    for text in texts:
        assert import_text(text).outcome is Outcome.UNCHANGED
    steps = Step.objects.filter(revision__sop__kode="uji-5", nomor=5).select_related("ya_step", "tidak_step").get()
    assert (steps.ya_step.nomor, steps.tidak_step.nomor) == (6, 4)
    assert Position.objects.count() == 2


def test_one_call_may_hold_several_files_of_one_sop():
    first = steps_sample(kode="uji-sama", steps=3)
    second = steps_sample(kode="uji-sama", steps=4)
    results = sop_import_files(files=[("a.yaml", first.encode()), ("b.yaml", second.encode()),
                                      ("c.yaml", second.encode()), ("d.yaml", first.encode())])
    assert [(result.outcome, result.revision) for result in results] == [
        (Outcome.CREATED, 1), (Outcome.REVISED, 2), (Outcome.UNCHANGED, 2), (Outcome.REVISED, 3)]


def test_a_new_office_made_by_one_file_holds_for_the_next_files_of_the_call():
    wita = steps_sample(kode="uji-satu", steps=3, instansi="Kantor Baru").replace("pelaksana:", "zona_waktu: WITA\npelaksana:", 1)
    wit = steps_sample(kode="uji-dua", steps=3, instansi="KANTOR BARU").replace("pelaksana:", "zona_waktu: WIT\npelaksana:", 1)
    same = steps_sample(kode="uji-tiga", steps=3, instansi="kantor baru")
    results = sop_import_files(files=[("1.yaml", wita.encode()), ("2.yaml", wit.encode()), ("3.yaml", same.encode())])
    assert [result.outcome for result in results] == [Outcome.CREATED, Outcome.REFUSED, Outcome.CREATED]
    assert results[1].problems[0].path == "zona_waktu"
    assert Office.objects.get().time_zone == "Asia/Makassar"
    assert not Sop.objects.filter(kode="uji-dua").exists()


def test_refused_files_among_many_write_nothing_and_stop_nothing():
    good = [steps_sample(kode=f"uji-{number}", steps=3) for number in range(4)]
    bad = steps_sample(kode="uji-salah", steps=3).replace("pelaksana: Staf", "pelaksana: Kabid", 1)
    files = [("0.yaml", good[0]), ("salah.yaml", bad), ("1.yaml", good[1]), ("rusak.yaml", "kode: [\n"),
             ("2.yaml", good[2]), ("3.yaml", good[3])]
    results = sop_import_files(files=[(name, text.encode()) for name, text in files])
    assert [result.outcome for result in results] == [
        Outcome.CREATED, Outcome.REFUSED, Outcome.CREATED, Outcome.REFUSED, Outcome.CREATED, Outcome.CREATED]
    assert [problem.path for problem in results[1].problems] == ["langkah[1].pelaksana"]
    assert not Sop.objects.filter(kode="uji-salah").exists()
    assert Sop.objects.count() == 4


def test_a_batch_failing_in_the_database_is_written_again_file_by_file(monkeypatch):
    import_text(steps_sample(kode="uji-awal", steps=2))
    store, sizes = library._store, []

    def store_failing_for_batches(*, batch, **kwargs):
        sizes.append(len(batch))
        if len(batch) > 1:
            store(batch=batch, **kwargs)  # the writes happen, then roll back with the error
            raise OperationalError("deadlock detected")
        return store(batch=batch, **kwargs)

    monkeypatch.setattr(library, "_store", store_failing_for_batches)
    files = [(f"{number}.yaml", steps_sample(kode=f"uji-{number}", steps=4).encode()) for number in range(3)]
    results = sop_import_files(files=files)
    assert sizes == [3, 1, 1, 1]
    assert [(result.outcome, result.revision) for result in results] == [(Outcome.CREATED, 1)] * 3
    assert SopRevision.objects.count() == 4
    assert Step.objects.count() == 2 + 3 * 4


# ---------------------------------------------------------------------------------------------
# What the checks accept imports, starts and runs (issue 11, "files --check accepts that then fail")
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("waktu", ["525600 menit", "8760 jam", "365 hari", "52 minggu", "12 bulan"])
def test_a_step_of_the_longest_waktu_imports_and_starts_a_run(waktu, django_user_model):
    from procedures import engine
    from procedures.models import Task

    text = sample(**{"waktu: 15 menit": f"waktu: {waktu}", "jumlah_waktu: 1 hari 1 jam 16 menit\n": ""})
    assert sop_import(data=text.encode(), source="uji.yaml", check_only=True).outcome is Outcome.VALID
    assert import_text(text).outcome is Outcome.CREATED
    admin = django_user_model.objects.create_superuser("admin", "admin@example.invalid", "rahasia-uji-123")
    revision = SopRevision.objects.get()
    revision.steps.get(nomor=1).column.position.holders.add(admin)  # someone to do the first step
    run = engine.run_start(revision=revision, user=admin, perihal="Uji satu tahun")
    task = Task.objects.get(run=run)
    assert task.due_at.year - run.started_at.year <= 5  # a deadline on the calendar, years ahead at most


def test_the_widest_total_of_a_sheet_fits_its_column():
    # Two hundred steps of a year each in every unit, as ranges: the longest total text there is.
    units = ["11-12 bulan", "51-52 minggu", "364-365 hari", "525598-525599 menit"]
    lines = ["kode: uji-total", "nama: Uji", "instansi: Kantor Uji", "pelaksana: [Staf]", "langkah:"]
    for nomor in range(1, 201):
        lines += [f"  - nomor: {nomor}", "    kegiatan: K", "    pelaksana: Staf",
                  f"    waktu: {units[0] if nomor <= 2 else units[1] if nomor <= 4 else units[2] if nomor <= 7 else units[3]}"]
    result = import_text("\n".join(lines) + "\n")
    assert result.outcome is Outcome.CREATED, result.lines()
    total = SopRevision.objects.get().total_waktu
    assert len(total) > 100
    assert len(total) <= SopRevision._meta.get_field("total_waktu").max_length


def test_a_file_name_with_control_characters_is_stored_without_them():
    result = sop_import_files(files=[("uji\x00\x1b.yaml", sample().encode())])[0]
    assert result.outcome is Outcome.CREATED
    assert "\x00" not in result.source
    assert "\x00" not in SopRevision.objects.get().source_name


def test_a_file_the_database_refuses_after_every_check_is_refused_not_an_error(monkeypatch):
    from django.db import DataError

    def store_failing(**kwargs):
        raise DataError("value too long for type character varying(100)")

    monkeypatch.setattr(library, "_store", store_failing)
    result = import_text(sample())
    assert result.outcome is Outcome.REFUSED
    assert "DataError" in result.problems[0].message
    assert table_counts() == {name: 0 for name in table_counts()}


# ---------------------------------------------------------------------------------------------
# Keys the contract gained: stored, exported in its order, re-imported unchanged
# ---------------------------------------------------------------------------------------------


def test_the_gained_keys_are_stored_on_the_revision_and_its_steps():
    assert import_text(sample_with_sheet_keys()).outcome is Outcome.CREATED
    revision = SopRevision.objects.get()
    assert revision.kop == ["PEMERINTAH KOTA UJI", "KANTOR UJI"]
    assert (revision.ditandatangani_elektronik, revision.kegiatan_terpisah) == (True, True)
    assert revision.catatan_transkripsi == ["Disalin dari lembar cetak."]
    assert (str(revision.tanggal_pembuatan), revision.tanggal_pembuatan_precision) == ("2024-01-01", "month")
    assert (str(revision.tanggal_efektif), revision.tanggal_efektif_precision) == ("2024-02-03", "day")
    assert (revision.printed_tanggal_pembuatan, revision.printed_tanggal_efektif, revision.printed_tanggal_revisi) == (
        "Januari 2024", "3 Februari 2024", "")
    first, decision = revision.steps.filter(nomor__in=[1, 3]).order_by("nomor")
    assert (first.label, first.catatan_transkripsi) == ("A", "Tanda pelaksana hilang.")
    assert (decision.pertanyaan, decision.label_ya, decision.label_tidak) == (
        "Laporan lengkap?", "Lengkap", "Dikembalikan untuk dilengkapi")


def test_a_revision_with_the_gained_keys_exports_and_imports_again_unchanged():
    import_text(sample_with_sheet_keys())
    exported = sop_export(revision=SopRevision.objects.get())
    assert "tanggal_pembuatan: 2024-01\n" in exported and "kop:\n  - PEMERINTAH KOTA UJI\n" in exported
    assert import_text(exported).outcome is Outcome.UNCHANGED
    assert import_text(sample()).outcome is Outcome.REVISED  # without them the content differs


def test_a_file_of_before_the_gained_keys_imports_unchanged_over_its_old_revision():
    # What the code before this branch stored: the revision and the content hash it computed.
    path = Path(__file__).resolve().parent / "data" / "sops-before-0003" / "004-patroli-pengawasan-wilayah.yaml"
    assert import_text(path.read_text(encoding="utf-8")).outcome is Outcome.CREATED
    SopRevision.objects.update(content_hash="d147d89f765cd1b477d8341b7e16a8273c3352569d8a5e0352957ad429c088dc")
    assert import_text(path.read_text(encoding="utf-8")).outcome is Outcome.UNCHANGED
