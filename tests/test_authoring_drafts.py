"""SOP drafts: who may write them, submitting (the format's validation), pengesahan by the signer
(holder or Plt/Plh, never the author), the revision it makes, and runs before and after."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from procedures import engine
from procedures.authoring import drafts
from procedures.authoring.models import DraftEvent, SopDraft
from procedures.engine import Conflict, InvalidInput, NotAllowed
from procedures.library import revision_document, sop_export
from procedures.models import Office, Position, Profile, Run, Sop, SopRevision
from procedures.sopfile import load
from tests.engine_fixtures import KODE, SATPOL, _module_cast, cast, english, open_task, refused  # noqa: F401
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

KASAT = "Kasat Pol PP"


def editor_of(office: Office, username: str = "penyusun"):
    """A user of ``office`` in the group "Penyusun SOP" (the editor permission)."""
    group, _new = Group.objects.get_or_create(name="Penyusun SOP")
    group.permissions.add(Permission.objects.get(codename="edit_sop_draft"))
    user = UserFactory(username=username, office=office, first_name="Penyusun")
    user.groups.add(group)
    return user


def small_sop(kode: str = "satpolpp-apel-pagi", signer: str = KASAT) -> dict:
    """A small valid SOP of the Satpol PP: three steps, one decision back to step 1."""
    return {
        "kode": kode, "nama": "Apel Pagi", "instansi": SATPOL,
        "disahkan_oleh": {"jabatan": signer},
        "pelaksana": [KASAT, "Petugas Operasional"],
        "langkah": [
            {"nomor": 1, "kegiatan": "Menyiapkan apel", "pelaksana": "Petugas Operasional", "waktu": "15 menit"},
            {"nomor": 2, "kegiatan": "Memeriksa kesiapan. Siap?", "pelaksana": KASAT, "simbol": "keputusan",
             "waktu": "10 menit", "ya": 3, "tidak": 1},
            {"nomor": 3, "kegiatan": "Melaksanakan apel", "pelaksana": "Petugas Operasional", "waktu": "30 menit"},
        ],
    }


@pytest.fixture
def satpol(cast) -> Office:
    return Office.objects.get(name=SATPOL)


@pytest.fixture
def editor(satpol):
    return editor_of(satpol)


def submitted(editor, satpol, data=None) -> SopDraft:
    draft = drafts.draft_create(office=satpol, user=editor, data=data or small_sop())
    return drafts.draft_submit(draft=draft, user=editor)


# Who may write ---------------------------------------------------------------------------------


def test_an_editor_of_the_office_creates_a_draft_with_an_event(editor, satpol):
    draft = drafts.draft_create(office=satpol, user=editor)
    assert (draft.status, draft.author, draft.data["instansi"]) == (SopDraft.Status.DRAFT, editor, SATPOL)
    assert list(draft.events.values_list("transition", "target")) == [("create", "draf")]


def test_it_refuses_a_user_without_the_editor_permission(cast, satpol):
    kasat = cast.user(KASAT)
    refused(NotAllowed, lambda: drafts.draft_create(office=satpol, user=kasat))
    assert not SopDraft.objects.exists()


def test_it_refuses_an_editor_of_another_office(cast, satpol):
    other = editor_of(Office.objects.exclude(pk=satpol.pk).first(), "penyusun-lain")
    refused(NotAllowed, lambda: drafts.draft_create(office=satpol, user=other))
    draft = drafts.draft_create(office=satpol, user=editor_of(satpol))
    refused(NotAllowed, lambda: drafts.draft_save(draft=draft, user=other, data=small_sop()))
    assert not drafts.may_view(draft, other)


def test_a_draft_may_be_saved_incomplete_but_not_submitted(editor, satpol):
    draft = drafts.draft_create(office=satpol, user=editor)
    draft = drafts.draft_save(draft=draft, user=editor, data={"nama": "Setengah jadi", "pelaksana": [], "langkah": []})
    error = refused(drafts.DraftInvalid, lambda: drafts.draft_submit(draft=draft, user=editor))
    paths = {problem.path for problem in error.problems}
    assert "kode" in paths and "langkah" in paths
    draft.refresh_from_db()
    assert draft.status == SopDraft.Status.DRAFT
    assert list(draft.events.values_list("transition", flat=True)) == ["create", "save"]


def test_submitting_goes_to_the_position_named_in_disahkan_oleh(editor, satpol):
    draft = submitted(editor, satpol)
    assert draft.status == SopDraft.Status.SUBMITTED
    assert draft.signer_position == Position.objects.get(office=satpol, name=KASAT)
    assert (draft.submitted_by, draft.events.last().transition) == (editor, "submit")
    refused(NotAllowed, lambda: drafts.draft_save(draft=draft, user=editor, data=small_sop()))


def test_submitting_without_a_known_signer_asks_for_the_position(editor, satpol):
    draft = drafts.draft_create(office=satpol, user=editor, data=small_sop(signer="Walikota"))
    error = refused(InvalidInput, lambda: drafts.draft_submit(draft=draft, user=editor))
    assert error.field == "signer_position"
    kabid = Position.objects.get(office=satpol, name="Kabid Ketertiban dan Ketentraman Masyarakat")
    draft = drafts.draft_submit(draft=draft, user=editor, signer_position=kabid)
    assert draft.signer_position == kabid


def test_a_new_sop_may_not_take_the_code_of_another(editor, satpol):
    draft = drafts.draft_create(office=satpol, user=editor, data=small_sop(kode=KODE["004"]))
    error = refused(drafts.DraftInvalid, lambda: drafts.draft_submit(draft=draft, user=editor))
    assert [problem.path for problem in error.problems] == ["kode"]


# Pengesahan ------------------------------------------------------------------------------------


def test_the_signer_approves_and_the_revision_equals_a_file_import(cast, editor, satpol):
    kasat = cast.user(KASAT)
    Profile.objects.update_or_create(user=kasat, defaults={"nip": "196406061985031015", "pangkat": "Pembina, IV/a"})
    draft = drafts.draft_approve(draft=submitted(editor, satpol), user=kasat)
    assert draft.status == SopDraft.Status.APPROVED
    revision = draft.revision
    assert (revision.sop.kode, revision.number, revision.imported_by) == ("satpolpp-apel-pagi", 1, kasat)
    today = timezone.localdate(timezone=satpol.zoneinfo)
    assert (revision.disahkan_jabatan, revision.disahkan_nama, revision.disahkan_nip, revision.disahkan_pangkat) == (
        KASAT, kasat.get_full_name(), "196406061985031015", "Pembina, IV/a")
    assert (revision.tanggal_pembuatan, revision.tanggal_efektif) == (today, today)
    assert [event.transition for event in draft.events.all()] == ["create", "submit", "approve"]
    # The export of the signed revision re-imports unchanged, and says what the draft said.
    exported = sop_export(revision=revision)
    assert load(exported.encode()).content_hash == revision.content_hash
    assert revision_document(revision).as_dict() == load(exported.encode()).as_dict()


def test_the_author_may_not_sign_his_own_draft(cast, satpol):
    kasat = cast.user(KASAT)
    group, _new = Group.objects.get_or_create(name="Penyusun SOP")
    group.permissions.add(Permission.objects.get(codename="edit_sop_draft"))
    kasat.groups.add(group)
    kasat = type(kasat).objects.get(pk=kasat.pk)  # permissions are cached per object
    draft = submitted(kasat, satpol)
    error = refused(NotAllowed, lambda: drafts.draft_approve(draft=draft, user=kasat))
    assert "own work" in error.message
    draft.refresh_from_db()
    assert (draft.status, draft.revision) == (SopDraft.Status.SUBMITTED, None)
    assert not Sop.objects.filter(kode="satpolpp-apel-pagi").exists()


def test_a_plh_of_the_signer_can_sign_and_is_recorded_as_such(cast, editor, satpol):
    plh = UserFactory(username="plh-kasat", office=satpol, first_name="Budi Santoso")
    today = timezone.localdate(timezone=satpol.zoneinfo)
    position = Position.objects.get(office=satpol, name=KASAT)
    engine.acting_appoint(position=position, user=plh, kind="plh", starts_on=today, ends_on=today,
                          appointed_by=cast.admin)
    draft = drafts.draft_approve(draft=submitted(editor, satpol), user=plh)
    assert draft.revision.disahkan_jabatan == "Plh. Kasat Pol PP"
    assert draft.revision.disahkan_nama == "Budi Santoso"
    assert draft.events.last().acting_title == "Plh. Kasat Pol PP"
    # The next revision of a sheet signed by the Plh goes to the Kasat again.
    revised = drafts.draft_submit(draft=drafts.draft_from_revision(revision=draft.revision, user=editor), user=editor)
    assert revised.signer_position == position


def test_a_holder_of_another_position_may_not_sign(cast, editor, satpol):
    kabid = cast.user("Kabid Ketertiban dan Ketentraman Masyarakat")
    draft = submitted(editor, satpol)
    refused(NotAllowed, lambda: drafts.draft_approve(draft=draft, user=kabid))
    refused(NotAllowed, lambda: drafts.draft_return(draft=draft, user=kabid, reason="Tidak"))


def test_returning_needs_a_reason_and_gives_the_draft_back_to_its_editors(cast, editor, satpol):
    kasat = cast.user(KASAT)
    draft = submitted(editor, satpol)
    refused(InvalidInput, lambda: drafts.draft_return(draft=draft, user=kasat, reason="  "))
    draft = drafts.draft_return(draft=draft, user=kasat, reason="Waktu langkah 3 terlalu lama")
    assert (draft.status, draft.return_reason, draft.decided_by) == (
        SopDraft.Status.RETURNED, "Waktu langkah 3 terlalu lama", kasat)
    assert draft.events.last().reason == "Waktu langkah 3 terlalu lama"
    draft = drafts.draft_save(draft=draft, user=editor, data=small_sop())
    draft = drafts.draft_submit(draft=draft, user=editor)
    assert (draft.status, draft.return_reason) == (SopDraft.Status.SUBMITTED, "")


def test_a_second_approval_is_a_conflict(cast, editor, satpol):
    kasat = cast.user(KASAT)
    draft = submitted(editor, satpol)
    stale = SopDraft.objects.get(pk=draft.pk)
    drafts.draft_approve(draft=draft, user=kasat)
    refused(Conflict, lambda: drafts.draft_approve(draft=stale, user=kasat))
    assert SopRevision.objects.filter(sop__kode="satpolpp-apel-pagi").count() == 1


def test_draft_events_are_append_only(editor, satpol):
    event = drafts.draft_create(office=satpol, user=editor).events.get()
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        DraftEvent.objects.all().delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE procedures_draftevent SET reason = 'x'")


# Ubah and Salin, and runs ----------------------------------------------------------------------


def test_ubah_makes_the_next_revision_and_only_new_runs_use_it(cast, editor, satpol):
    before = cast.revision("004")
    running = cast.start("004", "Patroli sebelum revisi")
    draft = drafts.draft_from_revision(revision=before, user=editor)
    assert (draft.origin, draft.sop, draft.based_on, draft.data["revisi"]) == (
        SopDraft.Origin.REVISION, before.sop, before, before.revisi + 1)
    data = dict(draft.data)
    data["langkah"] = [dict(step) for step in data["langkah"]]
    data["langkah"][1]["waktu"] = "20 menit"
    data["kode"] = "mencoba-kode-lain"  # an "Ubah" keeps its SOP's code whatever the form says
    data["disahkan_oleh"] = {"jabatan": KASAT}
    draft = drafts.draft_save(draft=draft, user=editor, data=data)
    draft = drafts.draft_approve(draft=drafts.draft_submit(draft=draft, user=editor), user=cast.user(KASAT))
    after = draft.revision
    assert (after.sop, after.number) == (before.sop, before.number + 1)
    assert after.tanggal_revisi == timezone.localdate(timezone=satpol.zoneinfo)
    assert after.steps.get(nomor=2).waktu == "20 menit"
    running.refresh_from_db()
    assert running.revision == before and open_task(running).step.revision == before
    started = engine.run_start(revision=after.sop.latest_revision, user=cast.user(KASAT), perihal="Patroli baru")
    assert started.revision == after


def test_salin_makes_a_new_sop_under_a_code_of_its_own(cast, editor, satpol):
    draft = drafts.draft_copy(revision=cast.revision("004"), user=editor)
    assert draft.kode == f"{KODE['004']}-salinan" and draft.sop is None
    assert "nama" not in draft.data.get("disahkan_oleh", {}) and "tanggal_pembuatan" not in draft.data
    draft.data["disahkan_oleh"] = {"jabatan": KASAT}
    draft = drafts.draft_save(draft=draft, user=editor, data=draft.data)
    draft = drafts.draft_approve(draft=drafts.draft_submit(draft=draft, user=editor), user=cast.user(KASAT))
    assert draft.revision.sop.kode == f"{KODE['004']}-salinan"
    assert Sop.objects.get(kode=KODE["004"]).revisions.count() == 1


def test_an_ubah_of_a_revision_that_is_no_longer_the_latest_is_refused(cast, editor, satpol):
    first = drafts.draft_from_revision(revision=cast.revision("004"), user=editor)
    second = drafts.draft_from_revision(revision=cast.revision("004"), user=editor)
    for draft in (first, second):
        draft.data["disahkan_oleh"] = {"jabatan": KASAT}
        drafts.draft_save(draft=draft, user=editor, data=draft.data)
    drafts.draft_approve(draft=drafts.draft_submit(draft=first, user=editor), user=cast.user(KASAT))
    error = refused(drafts.DraftInvalid, lambda: drafts.draft_submit(draft=second, user=editor))
    assert "newer revision (2)" in error.problems[0].message
