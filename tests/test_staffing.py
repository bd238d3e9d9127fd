"""Staffing: offices and their superiors, NIP/NRP, holders, and the Plt/Plh rules of engine.acting_appoint."""

import datetime as dt

import pytest

from procedures import engine, staffing
from procedures.engine import InvalidInput
from procedures.library import sop_import
from procedures.models import ActingAssignment, Office, Position, Profile, Run, Task
from tests.factories import OfficeFactory, PositionFactory, UserFactory
from tests.sop_samples import sample

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


# --- NIP / NRP -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text, number", [
    ("198001012005011001", "198001012005011001"),
    ("19800101 200501 1 001", "198001012005011001"),  # as printed on a Kartu Pegawai
    ("19800101.200501.2.001", "198001012005012001"),
    ("85011234", "85011234"),  # an NRP of the Polri
    ("", ""),
])
def test_a_nip_or_nrp_is_accepted_without_its_separators(text, number):
    assert staffing.nip_clean(text) == (number, None)


@pytest.mark.parametrize("text, reason", [
    ("19800101200501100", "18 digits"),  # 17 digits
    ("1980010120050110011", "18 digits"),
    ("19801301200501 1 001", "birth date"),  # month 13
    ("19800101200513 1 001", "month of appointment"),
    ("19800101200501 3 001", "1 (male) or 2 (female)"),
    ("1980O1012005011001", "digits only"),  # a letter O
    ("١٩٨٠٠١٠١٢٠٠٥٠١١٠٠١", "digits only"),  # Arabic-Indic digits
])
def test_a_bad_nip_says_what_is_wrong(text, reason):
    _number, problem = staffing.nip_clean(text)
    assert reason in problem


# --- offices ---------------------------------------------------------------------------------------


def test_an_admin_administers_their_office_and_those_below_it():
    dinas = OfficeFactory(name="Dinas")
    upt = OfficeFactory(name="UPT", parent=dinas)
    other = OfficeFactory(name="Lain")
    kasubag = UserFactory(is_staff=True, office=dinas)

    assert staffing.admin_office_ids(kasubag) == {dinas.pk, upt.pk}
    assert staffing.lineage(upt.pk) == [upt.pk, dinas.pk]
    assert staffing.admin_office_ids(UserFactory(is_superuser=True)) is None
    assert staffing.admin_office_ids(UserFactory(office=other)) == {other.pk}


def test_a_user_belongs_to_their_profiles_office_and_their_positions_offices():
    kasi = PositionFactory()
    user = UserFactory(office=OfficeFactory())
    kasi.holders.add(user)
    assert staffing.user_office_ids(user) == {kasi.office_id, user.profile.office_id}


# --- holders ---------------------------------------------------------------------------------------


def test_holders_are_offered_from_the_office_and_from_no_office_only():
    kasi = PositionFactory(name="Kasi Trantib")
    colleague = UserFactory(first_name="Rina", office=kasi.office)
    newcomer = UserFactory(first_name="Rini")
    UserFactory(first_name="Rino", office=OfficeFactory())  # of another office

    offered = set(staffing.holder_candidates(kasi, "rin"))

    assert offered == {colleague, newcomer}


def test_holders_are_found_by_nip():
    kasi = PositionFactory()
    person = UserFactory(office=kasi.office)
    Profile.objects.filter(user=person).update(nip="198001012005011001")
    assert list(staffing.holder_candidates(kasi, "2005011")) == [person]


def test_adding_a_newcomer_makes_them_a_user_of_the_office():
    kasi = PositionFactory()
    newcomer = UserFactory()

    staffing.holders_add(position=kasi, users=[newcomer], by=None)

    assert list(kasi.holders.all()) == [newcomer]
    assert Profile.objects.get(user=newcomer).office == kasi.office


def test_a_user_of_another_office_cannot_be_added():
    kasi = PositionFactory()
    stranger = UserFactory(first_name="Asing", office=OfficeFactory())
    with pytest.raises(staffing.StaffingError, match="Asing"):
        staffing.holders_add(position=kasi, users=[stranger], by=None)
    assert not kasi.holders.exists()


def test_a_holder_with_a_claimed_task_is_not_removed(admin_user):
    sop_import(data=sample().encode(), source="uji.yaml")
    kepala = Position.objects.get(name="Kepala")
    holder = UserFactory(first_name="Sibuk", office=kepala.office)
    kepala.holders.add(holder)
    run = engine.run_start(revision=kepala.columns.get().revision, user=holder, perihal="Uji")
    engine.task_claim(task=run.tasks.get(), user=holder)

    with pytest.raises(staffing.StaffingError, match="Sibuk"):
        staffing.holders_remove(position=kepala, users=[holder], by=admin_user)
    assert kepala.holders.filter(pk=holder.pk).exists()

    engine.task_release(task=run.tasks.get(), user=holder)
    staffing.holders_remove(position=kepala, users=[holder], by=admin_user)
    assert not kepala.holders.exists()
    assert Task.objects.get().status == Task.Status.WAITING and Run.objects.get().status == Run.Status.RUNNING


# --- Plt/Plh ---------------------------------------------------------------------------------------


def appoint(position, user, by, *, kind="plh", starts=(2025, 3, 3), ends=(2025, 3, 7)):
    return engine.acting_appoint(position=position, user=user, kind=kind, starts_on=dt.date(*starts),
                                 ends_on=dt.date(*ends), appointed_by=by)


def test_a_plh_must_be_a_user_of_the_office(admin_user):
    kasi = PositionFactory(office=OfficeFactory(name="Kecamatan Cibodas"))
    stranger = UserFactory(first_name="Budi", last_name="Asing", office=OfficeFactory(name="Kecamatan Lain"))

    with pytest.raises(InvalidInput) as refused:
        appoint(kasi, stranger, admin_user)

    assert refused.value.field == "user"
    assert "Budi Asing is not a user of Kecamatan Cibodas" in refused.value.message
    assert not ActingAssignment.objects.exists()


def test_a_plh_may_come_from_a_superior_office(admin_user):
    dinas = OfficeFactory(name="Dinas")
    kasi = PositionFactory(office=OfficeFactory(name="UPT", parent=dinas))
    from_above = UserFactory(office=dinas)
    assert appoint(kasi, from_above, admin_user).user == from_above


def test_a_plh_may_not_come_from_an_office_below(admin_user):
    dinas = OfficeFactory(name="Dinas")
    kabid = PositionFactory(office=dinas)
    from_below = UserFactory(office=OfficeFactory(name="UPT", parent=dinas))
    with pytest.raises(InvalidInput):
        appoint(kabid, from_below, admin_user)


def test_two_plh_of_one_position_cannot_overlap(admin_user):
    kasi = PositionFactory(name="Kasi Trantib")
    first, second = UserFactory(first_name="Satu", office=kasi.office), UserFactory(office=kasi.office)
    appoint(kasi, first, admin_user, starts=(2025, 3, 3), ends=(2025, 3, 7))

    with pytest.raises(InvalidInput) as refused:
        appoint(kasi, second, admin_user, starts=(2025, 3, 7), ends=(2025, 3, 10))  # shares the 7th

    assert refused.value.field == "starts_on"
    assert "Plh. Kasi Trantib is already Satu" in refused.value.message and "03-03-2025 to 07-03-2025" in refused.value.message
    # The day after, and a Plt over the same days, are fine.
    appoint(kasi, second, admin_user, starts=(2025, 3, 8), ends=(2025, 3, 10))
    appoint(kasi, second, admin_user, kind="plt", starts=(2025, 3, 1), ends=(2025, 3, 31))
    assert ActingAssignment.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_postgresql_refuses_an_overlap_that_bypasses_the_engine(admin_user):
    from django.db import IntegrityError, connection, transaction

    kasi = PositionFactory()
    user = UserFactory(office=kasi.office)
    row = {"position": kasi, "user": user, "kind": "plh", "appointed_by": admin_user}
    ActingAssignment.objects.create(**row, starts_on=dt.date(2025, 3, 3), ends_on=dt.date(2025, 3, 7))
    overlapping = {**row, "starts_on": dt.date(2025, 3, 5), "ends_on": dt.date(2025, 3, 9)}
    if connection.vendor == "postgresql":
        with pytest.raises(IntegrityError), transaction.atomic():
            ActingAssignment.objects.create(**overlapping)
    else:  # an exclusion constraint is PostgreSQL's: elsewhere the engine's check stands alone
        ActingAssignment.objects.create(**overlapping)


def test_an_office_cannot_be_above_itself(admin_client):
    from django.urls import reverse

    dinas = OfficeFactory(name="Dinas")
    upt = OfficeFactory(name="UPT", parent=dinas)
    url = reverse("admin:procedures_office_change", args=[dinas.pk])
    page = admin_client.get(url)
    data = {"name": "Dinas", "time_zone": Office.TimeZone.WIB, "parent": upt.pk}
    for formset in page.context["inline_admin_formsets"]:
        data.update({f"{formset.formset.prefix}-{key}": value
                     for key, value in formset.formset.management_form.initial.items()})
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "an office cannot be above itself" in response.context["adminform"].form.errors["parent"][0]
