"""The admin of a Kasubag Organisasi (procedures.admin_people): readiness, holders, importing people,
pickers scoped to the office, the Plt/Plh form, step names in import messages, and the start page."""

import io
import json

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from procedures.library import sop_import
from procedures.models import ActingAssignment, Office, Position, Profile, Sop, SopRevision
from tests.factories import OfficeFactory, PositionFactory, UserFactory
from tests.spreadsheets import xlsx_bytes
from tests.sop_samples import sample

pytestmark = pytest.mark.django_db
User = get_user_model()

KASUBAG_PERMISSIONS = [
    "view_sop", "change_sop", "view_soprevision", "view_position", "change_position", "view_office",
    "view_user", "add_user", "change_user", "view_actingassignment", "add_actingassignment",
]
NIP = "198001012005012001"


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def sop() -> Sop:
    result = sop_import(data=sample().encode(), source="uji.yaml")
    return Sop.objects.get(kode=result.kode)


@pytest.fixture
def office(sop) -> Office:
    return sop.office


@pytest.fixture
def kasubag(client, office):
    """A staff member of the office with the admin permissions a Kasubag Organisasi gets; no superuser."""
    user = UserFactory(username="kasubag", first_name="Kasubag", last_name="Organisasi", is_staff=True, office=office)
    user.user_permissions.add(*Permission.objects.filter(codename__in=KASUBAG_PERMISSIONS))
    client.force_login(user)
    return user


def kepala() -> Position:
    return Position.objects.get(name="Kepala")


# --- readiness -------------------------------------------------------------------------------------


def test_the_sop_page_says_which_positions_nobody_holds(client, kasubag, sop):
    response = client.get(reverse("admin:procedures_sop_change", args=[sop.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Not ready: 2 positions of the sheet have nobody." in content
    assert "No run can start: nobody may do its first step." in content
    assert content.count("new: created by this import") == 2
    assert reverse("admin:procedures_position_holders", args=[kepala().pk]) in content


def test_the_readiness_page_shows_several_sops_and_only_the_admins_offices(client, kasubag, sop):
    sop_import(data=sample(**{"instansi: Kantor Uji": "instansi: Kantor Lain"}).encode(), source="lain.yaml")
    other = Sop.objects.get(office__name="Kantor Lain")
    Position.objects.get(office=sop.office, name="Kepala").holders.add(UserFactory(office=sop.office))
    Position.objects.get(office=sop.office, name="Staf").holders.add(UserFactory(office=sop.office))

    response = client.get(reverse("admin:procedures_sop_readiness"), {"sop": [sop.pk, other.pk, "x"]})

    assert [item.sop for item in response.context["readiness"]] == [sop]
    assert "Ready: every position of the sheet has a holder or a Plt/Plh today." in response.content.decode()


def test_after_an_import_the_page_shows_what_is_missing(client, kasubag):
    upload = SimpleUploadedFile("dua.yaml", sample(**{"kode: uji-patroli": "kode: uji-dua"}).encode())
    response = client.post(reverse("admin:procedures_sop_import"), {"files": [upload]})
    assert response.status_code == 200
    [item] = response.context["readiness"]
    assert item.sop.kode == "uji-dua"
    assert [row.position.name for row in item.missing] == ["Kepala", "Staf"]
    assert "Assign holders" in response.content.decode()


def test_import_problems_name_the_step_by_its_nomor(client, kasubag):
    gap = sample(**{"  - nomor: 3": "  - nomor: 5"})
    response = client.post(reverse("admin:procedures_sop_import"),
                           {"files": [SimpleUploadedFile("gap.yaml", gap.encode())]})
    [row] = response.context["rows"]
    assert any(line.startswith("gap.yaml: langkah[2].nomor (step 5): ") for line in row["problems"]), row["problems"]
    assert not response.context.get("readiness")


def test_import_sops_names_the_step_too(tmp_path):
    from django.core.management import CommandError, call_command

    path = tmp_path / "salah.yaml"
    path.write_text(sample(**{"    pelaksana: Staf\n    waktu: 1 hari": "    pelaksana: Kabid\n    waktu: 1 hari"}))
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_sops", str(path), stdout=io.StringIO(), stderr=err)
    assert "salah.yaml: langkah[1].pelaksana (step 2): " in err.getvalue()


# --- holders ---------------------------------------------------------------------------------------


def holders_url(position: Position) -> str:
    return reverse("admin:procedures_position_holders", args=[position.pk])


def test_the_position_page_lists_its_holders_with_a_link_instead_of_every_user(client, kasubag):
    UserFactory(first_name="Orang", last_name="Lain", office=OfficeFactory())
    holder = UserFactory(first_name="Ani", last_name="Lestari", office=kepala().office)
    kepala().holders.add(holder)
    response = client.get(reverse("admin:procedures_position_change", args=[kepala().pk]))
    content = response.content.decode()
    assert "Ani Lestari" in content and holders_url(kepala()) in content
    assert "Orang Lain" not in content and 'name="holders"' not in content


def test_holders_are_searched_by_name_nip_or_username_and_added(client, kasubag, office):
    ani = UserFactory(username="ani.l", first_name="Ani", last_name="Lestari", office=office)
    Profile.objects.filter(user=ani).update(nip=NIP)
    UserFactory(first_name="Ani", last_name="Asing", office=OfficeFactory())  # of another office

    for term in ("lestari", "20050120", "ani.l"):
        page = client.get(holders_url(kepala()), {"q": term})
        assert [user for user, _profile in page.context["candidates"]] == [ani], term
    assert NIP in page.content.decode()

    response = client.post(holders_url(kepala()) + "?q=ani", {"action": "add", "user": [ani.pk]})

    assert response.status_code == 302 and response["Location"].endswith("?q=ani")
    assert list(kepala().holders.all()) == [ani]


def test_holders_are_removed_and_a_refusal_is_a_message(client, kasubag, office):
    ani = UserFactory(office=office)
    kepala().holders.add(ani)
    client.post(holders_url(kepala()), {"action": "remove", "user": [ani.pk]})
    assert not kepala().holders.exists()

    stranger = UserFactory(first_name="Asing", office=OfficeFactory())
    response = client.post(holders_url(kepala()), {"action": "add", "user": [stranger.pk, "x"]}, follow=True)
    assert "may not hold Kepala" in response.content.decode()
    assert not kepala().holders.exists()


def test_the_holders_of_another_offices_position_are_out_of_reach(client, kasubag):
    elsewhere = PositionFactory(office=OfficeFactory())
    assert client.get(holders_url(elsewhere)).status_code == 403
    assert client.post(holders_url(elsewhere), {"action": "add", "user": [kasubag.pk]}).status_code == 403


# --- pickers ---------------------------------------------------------------------------------------


def autocomplete(client, model_name: str, field_name: str, term: str = "") -> list[str]:
    response = client.get(reverse("admin:procedures_scoped_autocomplete"), {
        "app_label": "procedures", "model_name": model_name, "field_name": field_name, "term": term})
    assert response.status_code == 200
    return [result["text"] for result in json.loads(response.content)["results"]]


def test_pickers_offer_only_the_admins_office_and_show_it(client, kasubag, office):
    PositionFactory(name="Kepala Lain", office=OfficeFactory(name="Kantor Lain"))
    ani = UserFactory(username="ani", first_name="Ani", last_name="Lestari", office=office)
    Profile.objects.filter(user=ani).update(nip=NIP)
    UserFactory(username="asing", first_name="Ani", last_name="Asing", office=Office.objects.get(name="Kantor Lain"))

    assert autocomplete(client, "actingassignment", "position", "kepala") == ["Kepala — Kantor Uji"]
    assert autocomplete(client, "actingassignment", "user", "lestari") == [f"Ani Lestari · {NIP} · ani — Kantor Uji"]
    assert autocomplete(client, "actingassignment", "user", "asing") == []


def test_a_superuser_sees_every_office_in_the_pickers(admin_client, office):
    PositionFactory(name="Kepala Lain", office=OfficeFactory(name="Kantor Lain"))
    assert autocomplete(admin_client, "actingassignment", "position", "kepala") == [
        "Kepala Lain — Kantor Lain", "Kepala — Kantor Uji"]


# --- Plt/Plh ---------------------------------------------------------------------------------------


def appoint(client, **data):
    return client.post(reverse("admin:procedures_actingassignment_add"), {
        "kind": "plh", "starts_on": "2025-03-03", "ends_on": "2025-03-07", "reason": "Cuti", **data})


def test_the_plh_form_offers_the_admins_office_first(client, kasubag, office):
    OfficeFactory(name="Kantor Lain")
    page = client.get(reverse("admin:procedures_actingassignment_add"))
    form = page.context["adminform"].form
    assert list(form.fields["office"].queryset) == [office]
    assert form.initial["office"] == office.pk
    assert list(form.fields) [:2] == ["office", "position"]


def test_a_plh_form_with_a_position_of_another_office_is_refused(admin_client, office):
    other = OfficeFactory(name="Kantor Lain")
    elsewhere = PositionFactory(name="Kasi Lain", office=other)
    response = appoint(admin_client, office=office.pk, position=elsewhere.pk, user=UserFactory(office=other).pk)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["position"] == [
        "Kasi Lain is a position of Kantor Lain, not of Kantor Uji: choose a position of Kantor Uji"]
    assert not ActingAssignment.objects.exists()


def test_a_plh_from_another_office_or_overlapping_is_a_form_error(client, kasubag, office):
    kepala().holders.add(kasubag)  # the holder may name a Plh of their own position
    stranger = UserFactory(first_name="Budi", last_name="Asing", office=OfficeFactory(name="Kantor Lain"))
    response = appoint(client, office=office.pk, position=kepala().pk, user=stranger.pk)
    # The picker does not even offer him; were he posted, the engine would refuse him as well.
    assert "user" in response.context["adminform"].form.errors

    deputy, second = UserFactory(office=office), UserFactory(office=office)
    assert appoint(client, office=office.pk, position=kepala().pk, user=deputy.pk).status_code == 302
    response = appoint(client, office=office.pk, position=kepala().pk, user=second.pk, starts_on="2025-03-05",
                       ends_on="2025-03-10")
    assert response.context["adminform"].form.errors["starts_on"][0].startswith("Plh. Kepala is already")
    assert ActingAssignment.objects.count() == 1


# --- importing people ------------------------------------------------------------------------------


IMPORT_URL = "/admin/auth/user/import/"


def test_the_user_list_links_to_the_import_and_its_templates_download(client, kasubag, office):
    assert IMPORT_URL in client.get(reverse("admin:auth_user_changelist")).content.decode()
    page = client.get(IMPORT_URL)
    assert page.context["form"].initial["office"] == office.pk
    csv_file = client.get(reverse("admin:auth_user_import_template", args=["csv"]))
    assert csv_file.content.decode("utf-8-sig").startswith("username;nama;nip")
    xlsx = client.get(reverse("admin:auth_user_import_template", args=["xlsx"]), {"office": office.pk})
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).worksheets[1]
    assert [cell.value for cell in sheet["A"]][1:] == ["Kepala", "Staf"]
    assert client.get(reverse("admin:auth_user_import_template", args=["pdf"])).status_code == 403


def test_an_xlsx_of_people_is_imported_and_new_users_are_invited(client, kasubag, office):
    data = xlsx_bytes([["", "Ani Lestari", NIP, "Penata (III/c)", "ani@kota.go.id", "Kepala"],
                       ["budi", "Budi", "", "", "", "Staf"]])
    response = client.post(IMPORT_URL, {"office": office.pk, "send_invitations": "on",
                                        "file": SimpleUploadedFile("pegawai.xlsx", data)})
    assert response.status_code == 200
    assert "pegawai.xlsx imported: 2 new user(s), 0 updated, 2 position(s) given." in response.content.decode()
    ani = User.objects.get(username=NIP)
    assert list(ani.positions.all()) == [kepala()] and not ani.has_usable_password()
    [invitation] = mail.outbox
    assert invitation.to == ["ani@kota.go.id"] and "/akun/atur-ulang/" in invitation.body and NIP in invitation.body


def test_a_mail_server_that_fails_is_a_message_not_an_error(client, kasubag, office, settings, monkeypatch):
    import smtplib

    def refuse(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr("procedures.people_import.send_mail", refuse)
    response = client.post(IMPORT_URL, {"office": office.pk, "send_invitations": "on", "file": SimpleUploadedFile(
        "p.csv", b"username;nama;email\nani;Ani;ani@kota.go.id\n")}, follow=True)
    assert response.status_code == 200
    assert "The email to ani@kota.go.id could not be sent" in response.content.decode()
    assert User.objects.filter(username="ani").exists()


def test_a_file_with_bad_rows_is_refused_whole_with_their_numbers(client, kasubag, office):
    data = xlsx_bytes([["ani", "Ani", NIP, "", "", "Kepala"], ["budi", "Budi", "123", "", "", "Kabid"]])
    response = client.post(IMPORT_URL, {"office": office.pk, "file": SimpleUploadedFile("pegawai.xlsx", data)})
    assert response.status_code == 400
    content = response.content.decode()
    assert "pegawai.xlsx was refused; nothing was written." in content
    assert "row 3: bad NIP/NRP “123”" in content and "row 3: Kantor Uji has no position “Kabid”" in content
    assert not User.objects.filter(username__in=["ani", "budi"]).exists()


@pytest.mark.parametrize("name, data", [
    ("pegawai.xlsx", b"PK\x03\x04garbage"),
    ("pegawai.csv", b"\xff\xfe\x00\xd8"),
    ("pegawai.csv", b""),
    ("foto.jpg", b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4),
])
def test_a_file_that_is_no_table_gets_a_refusal_page_never_a_500(client, kasubag, office, name, data):
    response = client.post(IMPORT_URL, {"office": office.pk, "file": SimpleUploadedFile(name, data)})
    assert response.status_code == 400
    assert response.context["outcome"].refused


def test_a_kasubag_cannot_import_into_another_office(client, kasubag):
    other = OfficeFactory(name="Kantor Lain")
    response = client.post(IMPORT_URL, {"office": other.pk, "file": SimpleUploadedFile("p.csv", b"nama\nAni\n")})
    assert "office" in response.context["form"].errors
    assert not User.objects.filter(first_name="Ani").exists()


def test_importing_people_needs_the_add_and_change_user_permissions(client, office):
    clerk = UserFactory(is_staff=True, office=office)
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "change_user"]))
    client.force_login(clerk)
    assert client.get(IMPORT_URL).status_code == 403
    assert IMPORT_URL not in client.get(reverse("admin:auth_user_changelist")).content.decode()


def test_an_imported_user_may_ask_for_a_password_link_later(client, office):
    from procedures.people_import import users_import

    users_import(office=office, name="p.csv", data=b"username;nama;email\nani;Ani;ani@kota.go.id\n",
                 by=UserFactory(is_superuser=True))
    client.post(reverse("password_reset"), {"email": "ani@kota.go.id"})
    assert [message.to for message in mail.outbox] == [["ani@kota.go.id"]]


def test_the_users_page_edits_nip_and_refuses_a_bad_one(admin_client, office):
    user = UserFactory(username="ani")
    url = reverse("admin:auth_user_change", args=[user.pk])
    page = admin_client.get(url)
    # last_login and date_joined are read-only on the page: not posted.
    data = {"username": "ani", "first_name": "Ani", "last_name": "", "email": "", "is_active": "on"}
    for formset in page.context["inline_admin_formsets"]:
        data.update({f"{formset.formset.prefix}-{key}": value
                     for key, value in formset.formset.management_form.initial.items()})
    bad = admin_client.post(url, {**data, "profile-0-nip": "123", "profile-0-office": office.pk})
    assert bad.status_code == 200 and not Profile.objects.exists()
    good = admin_client.post(url, {**data, "profile-0-nip": "19800101 200501 2 001", "profile-0-office": office.pk})
    assert good.status_code == 302, [formset.formset.errors for formset in good.context["inline_admin_formsets"]]
    assert (Profile.objects.get().nip, Profile.objects.get().office) == (NIP, office)


# --- the start page --------------------------------------------------------------------------------


def test_the_start_page_shows_an_sop_nobody_can_begin_disabled_with_the_reason(admin_client, sop):
    response = admin_client.get(reverse("run-start"))
    content = response.content.decode()
    revision = SopRevision.objects.get()
    assert f'<option value="{revision.pk}" disabled' in content
    assert "cannot start: nobody holds Kepala" in content
    assert "nobody holds the position Kepala at Kantor Uji" in content

    posted = admin_client.post(reverse("run-start"), {"revision": revision.pk, "perihal": "Uji"})
    assert posted.status_code == 400
    assert "nobody holds the position Kepala" in posted.content.decode()

    kepala().holders.add(UserFactory(office=sop.office))
    assert f'<option value="{revision.pk}" disabled' not in admin_client.get(reverse("run-start")).content.decode()
