"""Readiness: what an SOP lacks before it can run, and the refusal to start one nobody can begin."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from procedures import engine, permissions
from procedures.library import sop_import
from procedures.models import ActingAssignment, Position, Run, Sop, SopRevision, Task
from procedures.readiness import sop_readiness, start_blockers
from tests.factories import UserFactory
from tests.sop_samples import sample

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def imported(**replace) -> Sop:
    result = sop_import(data=sample(**replace).encode(), source="uji.yaml")
    assert not result.refused, result.lines()
    return Sop.objects.get(kode=result.kode, office__name=result.instansi)


def test_a_new_sop_of_a_new_office_lacks_every_position_and_each_is_new():
    sop = imported()

    [readiness] = sop_readiness([sop])

    assert not readiness.ready and not readiness.can_start
    assert [(row.label, row.new, row.first, row.staffed) for row in readiness.positions] == [
        ("Kepala", True, True, False), ("Staf", True, False, False)]


def test_positions_the_office_had_are_not_new_and_holders_make_it_ready():
    imported()
    second = imported(**{"kode: uji-patroli": "kode: uji-dua", "  - Staf": "  - Staf\n  - Kasubag Umum",
                         "    pelaksana: Staf\n    waktu: 1-2 menit": "    pelaksana: Kasubag Umum\n    waktu: 1-2 menit"})
    kepala, staf = Position.objects.get(name="Kepala"), Position.objects.get(name="Staf")
    kepala.holders.add(UserFactory(first_name="Ani", last_name=""))
    staf.holders.add(UserFactory(first_name="Budi", last_name="", is_active=False))  # an inactive holder is nobody

    [readiness] = sop_readiness([second])

    assert [(row.position.name, row.new, row.holders) for row in readiness.positions] == [
        ("Kepala", False, ["Ani"]), ("Staf", False, []), ("Kasubag Umum", True, [])]
    assert readiness.can_start and not readiness.ready
    assert [row.position.name for row in readiness.missing] == ["Staf", "Kasubag Umum"]


def test_a_plh_of_today_staffs_a_position():
    sop = imported()
    kepala, staf = Position.objects.get(name="Kepala"), Position.objects.get(name="Staf")
    staf.holders.add(UserFactory())
    today = timezone.localdate(timezone=kepala.office.zoneinfo)
    admin = UserFactory(is_superuser=True)
    plh = UserFactory(first_name="Dewi", last_name="Plh", office=kepala.office)
    engine.acting_appoint(position=kepala, user=plh, kind="plh", starts_on=today - dt.timedelta(days=3),
                          ends_on=today - dt.timedelta(days=1), appointed_by=admin)  # over
    assert not sop_readiness([sop])[0].ready

    engine.acting_appoint(position=kepala, user=plh, kind="plh", starts_on=today, ends_on=today, appointed_by=admin)

    [readiness] = sop_readiness([sop])
    assert readiness.ready
    assert readiness.positions[0].acting == [f"Plh. Kepala: Dewi Plh ({today:%d-%m-%Y})"]


def test_a_new_position_with_a_name_close_to_an_old_one_is_pointed_out():
    imported()
    typo = imported(**{"kode: uji-patroli": "kode: uji-typo", "  - Staf": "  - Stafs",
                       "    pelaksana: Staf\n    waktu: 1 hari": "    pelaksana: Stafs\n    waktu: 1 hari",
                       "    pelaksana: Staf\n    waktu: 1-2 menit": "    pelaksana: Stafs\n    waktu: 1-2 menit"})
    [readiness] = sop_readiness([typo])
    assert [(row.position.name, row.new, row.similar) for row in readiness.positions] == [
        ("Kepala", False, []), ("Stafs", True, ["Staf"])]


def test_readiness_costs_the_same_queries_for_one_sop_or_many(django_assert_num_queries):
    sops = [imported(**{"kode: uji-patroli": f"kode: uji-{number}", "instansi: Kantor Uji": f"instansi: Kantor {number % 2}"})
            for number in range(6)]
    for sop in sops:
        Position.objects.filter(office=sop.office, name="Kepala").first().holders.add(UserFactory())
    # SOPs, revisions, columns, holders, Plt/Plh, and the office's names beside the new positions.
    with django_assert_num_queries(6):
        assert len(sop_readiness(sops[:1])) == 1
    with django_assert_num_queries(6):
        many = sop_readiness(sops)
    assert [readiness.sop for readiness in many] == sops


def test_readiness_of_nothing_asks_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert sop_readiness([]) == []


def test_readiness_reads_the_latest_revision():
    sop = imported()
    imported(**{"  - Staf": "  - Staf\n  - Arsiparis",
                "    pelaksana: Staf\n    waktu: 1-2 menit": "    pelaksana: Arsiparis\n    waktu: 1-2 menit"})
    [readiness] = sop_readiness([sop.pk])
    assert readiness.revision == sop.revisions.get(number=2)
    assert [row.position.name for row in readiness.new] == ["Kepala", "Staf", "Arsiparis"]


# --- starting a run nobody can begin -----------------------------------------------------------


def test_start_blockers_name_the_first_steps_position_in_three_queries(django_assert_num_queries):
    blocked, fine = imported(), imported(**{"kode: uji-patroli": "kode: uji-dua", "instansi: Kantor Uji": "instansi: Lain"})
    Position.objects.get(office=fine.office, name="Kepala").holders.add(UserFactory())
    revisions = list(SopRevision.objects.all())
    with django_assert_num_queries(3):
        found = start_blockers(revisions)
    assert found == {blocked.latest_revision.pk: Position.objects.get(office=blocked.office, name="Kepala")}


def test_an_sop_of_independent_activities_is_not_blocked_by_its_first_activity():
    sop = imported(**{"kode: uji-patroli": "kode: uji-patroli\nkegiatan_terpisah: true"})
    assert sop.latest_revision.kegiatan_terpisah
    assert start_blockers([sop.latest_revision]) == {}


def test_an_admin_cannot_start_a_run_whose_first_step_nobody_holds():
    sop = imported()
    kasubag = UserFactory(first_name="Kasubag", last_name="Organisasi", is_staff=True, office=sop.office)
    kasubag.user_permissions.add(Permission.objects.get(codename="change_position"))
    admin = UserFactory(is_superuser=True, is_staff=True)

    with pytest.raises(engine.NotAllowed) as refused:
        engine.run_start(revision=sop.latest_revision, user=admin, perihal="Uji")

    assert refused.value.message.startswith("nobody holds the position Kepala at Kantor Uji")
    assert "Kasubag Organisasi" in refused.value.message  # who can fix it
    assert not Run.objects.exists() and not Task.objects.exists()


def test_a_plh_of_today_lets_the_admin_start_it():
    sop = imported()
    kepala = Position.objects.get(name="Kepala")
    admin = UserFactory(is_superuser=True, is_staff=True)
    today = timezone.localdate(timezone=kepala.office.zoneinfo)
    ActingAssignment.objects.create(position=kepala, user=UserFactory(office=kepala.office), appointed_by=admin,
                                    starts_on=today, ends_on=today)
    assert permissions.start_refusal(sop.latest_revision, admin) is None
    engine.run_start(revision=sop.latest_revision, user=admin, perihal="Uji")
    assert Task.objects.get().position == kepala
