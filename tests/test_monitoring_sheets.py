"""The Formulir Monitoring Pelaksanaan SOP (procedures.monitoring.sheets and its pages)."""

import pytest
import time_machine
from django.urls import reverse

from procedures.engine import Conflict, InvalidInput, NotAllowed
from procedures.models import MonitoringSheet, MonitoringSheetEvent, MonitoringSheetRow, Profile
from procedures.monitoring import sheets
from procedures.monitoring.scope import semester
from tests.monitoring_world import NOW, build_world
from tests.test_pdf import pdf_text

pytestmark = pytest.mark.django_db
NIP = "196406061985031015"


@pytest.fixture
def world():
    built = build_world()
    Profile.objects.filter(user=built.kepala).update(nip=NIP)
    built.kepala.first_name = "Budi Santoso, S.H."
    built.kepala.save(update_fields=["first_name"])
    return built


@pytest.fixture(autouse=True)
def now():
    with time_machine.travel(NOW, tick=False):
        yield


def prepared(world):
    return sheets.sheet_prepare(office=world.uji, period=semester("2026-2"), user=world.kepala)


def test_the_sheet_proposes_from_the_figures(world):
    sheet = prepared(world)
    row = sheet.rows.get()
    assert row.prosedur == "Patroli Uji (uji-patroli)"
    assert row.figures["within_share"] == 87.5 and row.figures["stuck"] == 0
    assert (row.figures["send_backs"], row.figures["returns"]) == (1, 1)  # a Tidak, and a Kembalikan (run F)
    assert row.proposed == row.assessment == MonitoringSheetRow.Assessment.GOOD
    assert prepared(world) == sheet  # the draft there is
    timur = sheets.sheet_prepare(office=world.timur, period=semester("2026-2"), user=world.kepala_timur)
    assert timur.rows.get().proposed == MonitoringSheetRow.Assessment.NOT_GOOD  # a stuck run


def test_only_a_head_of_the_office_prepares_and_signs(world):
    with pytest.raises(NotAllowed):
        sheets.sheet_prepare(office=world.uji, period=semester("2026-2"), user=world.staf)
    with pytest.raises(NotAllowed):
        sheets.sheet_prepare(office=world.uji, period=semester("2026-2"), user=world.kepala_timur)
    sheet = prepared(world)
    with pytest.raises(NotAllowed):
        sheets.sheet_sign(sheet=sheet, user=world.kadis)  # a superior office's head sees, does not sign


def test_signing_freezes_the_signature_locks_and_records(world):
    sheet = prepared(world)
    row = sheet.rows.get()
    sheets.sheet_save(sheet=sheet, user=world.kepala, rows={row.pk: {
        "assessment": "tidak_baik", "tindakan": "Tambah petugas", "catatan": "Langkah 2 lambat"}})
    sheets.sheet_sign(sheet=sheet, user=world.kepala)
    sheet.refresh_from_db()
    assert sheet.is_signed and (sheet.signer_name, sheet.signer_jabatan, sheet.signer_nip) == (
        "Budi Santoso, S.H.", "Kepala", NIP)
    assert sheet.signed_at == NOW
    assert list(sheet.events.values_list("action", flat=True)) == ["prepare", "save", "sign"]
    with pytest.raises(Conflict):
        sheets.sheet_save(sheet=sheet, user=world.kepala, rows={})
    assert sheet.rows.get().assessment == "tidak_baik"


def test_signing_needs_every_sop_assessed(world):
    sheet = prepared(world)
    row = sheet.rows.get()
    sheets.sheet_save(sheet=sheet, user=world.kepala, rows={row.pk: {"assessment": ""}})
    with pytest.raises(InvalidInput):
        sheets.sheet_sign(sheet=sheet, user=world.kepala)
    with pytest.raises(InvalidInput):
        sheets.sheet_save(sheet=sheet, user=world.kepala, rows={row.pk: {"assessment": "lumayan"}})


def test_a_plh_signs_as_plh(world):
    with time_machine.travel("2026-09-07 10:00 +0700", tick=False):
        sheet = prepared(world)
        sheets.sheet_sign(sheet=sheet, user=world.plh)
    assert MonitoringSheet.objects.get().signer_jabatan == "Plh. Kepala"


def test_a_signed_sheet_is_superseded_with_a_reason(world):
    sheet = prepared(world)
    sheets.sheet_sign(sheet=sheet, user=world.kepala)
    with pytest.raises(InvalidInput):
        sheets.sheet_supersede(sheet=sheet, user=world.kepala, reason=" ")
    new = sheets.sheet_supersede(sheet=sheet, user=world.kepala, reason="Salah menilai")
    assert (new.supersedes, new.status, new.rows.get().assessment) == (sheet, "draf", "baik")
    with pytest.raises(Conflict):
        sheets.sheet_supersede(sheet=sheet, user=world.kepala, reason="Lagi")
    assert MonitoringSheetEvent.objects.filter(sheet=sheet, action="supersede", reason="Salah menilai").exists()


# ---------------------------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------------------------


def test_a_head_prepares_fills_signs_and_prints(client, world):
    client.force_login(world.kepala)
    response = client.post(reverse("monitoring-sheets"), {"office": world.uji.pk, "periode": "2026-2"})
    sheet = MonitoringSheet.objects.get()
    assert response.url == reverse("monitoring-sheet", args=[sheet.pk])
    row = sheet.rows.get()
    response = client.post(response.url, {"action": "sign", f"r{row.pk}-assessment": "baik",
                                           f"r{row.pk}-tindakan": "Pertahankan"})
    assert response.status_code == 302
    sheet.refresh_from_db()
    assert sheet.is_signed and sheet.rows.get().tindakan == "Pertahankan"
    text = pdf_text(client.get(reverse("monitoring-sheet-pdf", args=[sheet.pk])).content)
    assert "Budi Santoso, S.H." in text and f"NIP. {NIP}" in text and "Pertahankan" in text
    assert "Persentil ke-90" in text  # the step chart of the period, as on the page


def test_a_signed_sheet_refuses_changes(client, world):
    sheet = prepared(world)
    sheets.sheet_sign(sheet=sheet, user=world.kepala)
    client.force_login(world.kepala)
    response = client.post(reverse("monitoring-sheet", args=[sheet.pk]), {"action": "save"})
    assert response.status_code == 409


def test_who_may_open_a_sheet(client, world):
    sheet = prepared(world)
    url = reverse("monitoring-sheet", args=[sheet.pk])
    client.force_login(world.staf)
    assert client.get(url).status_code == 403
    assert client.get(reverse("monitoring-sheets")).status_code == 403
    client.force_login(world.kepala_timur)
    assert client.get(url).status_code == 403
    client.force_login(world.kadis)  # the superior office's head reads it, cannot change it
    assert client.get(url).status_code == 200
    assert client.post(url, {"action": "save"}).status_code == 403
    client.force_login(world.kepala)
    assert client.post(reverse("monitoring-sheets"), {"office": world.timur.pk, "periode": "2026-2"}).status_code == 302
    assert MonitoringSheet.objects.count() == 1


# ---------------------------------------------------------------------------------------------
# The Formulir Evaluasi Penerapan SOP
# ---------------------------------------------------------------------------------------------


def test_the_evaluation_form_answers_the_criteria_with_evidence(client, world):
    sheet = sheets.sheet_prepare(office=world.uji, period=semester("2026-2"), user=world.kepala, kind="evaluasi")
    assert sheet != prepared(world)  # its own draft, beside the monitoring form's
    answers = sheet.rows.get().answers
    assert {key for key, _label in sheets.CRITERIA} == set(answers)  # (jsonb keeps no key order)
    assert answers["kinerja"]["usulan"] == "ya" and "87,5" in answers["kinerja"]["bukti"]
    # Two send-backs (a Tidak, and one outside the sheet's flow) over three finished runs: more than one.
    assert answers["dipahami"]["bukti"].startswith("2 ") and answers["dipahami"]["usulan"] == "tidak"
    assert answers["peran"]["usulan"] == "ya"
    assert answers["kebutuhan"]["jawaban"] == ""  # no proposal: the head answers
    row = sheet.rows.get()
    with pytest.raises(InvalidInput):
        sheets.sheet_sign(sheet=sheet, user=world.kepala)
    client.force_login(world.kepala)
    page = client.get(reverse("monitoring-sheet", args=[sheet.pk])).content.decode()
    assert "Mudah dipahami" in page and f'name="r{row.pk}-perlu_revisi"' in page
    data = {f"r{row.pk}-{key}": "ya" for key, _label in sheets.CRITERIA}
    data.update({"action": "sign", f"r{row.pk}-sinergi": "tidak", f"r{row.pk}-sinergi-catatan": "Belum terkait",
                 f"r{row.pk}-perlu_revisi": "1"})
    assert client.post(reverse("monitoring-sheet", args=[sheet.pk]), data).status_code == 302
    row.refresh_from_db()
    assert row.perlu_revisi and row.answers["sinergi"] == {**row.answers["sinergi"], "jawaban": "tidak",
                                                            "catatan": "Belum terkait"}
    assert "Perlu revisi" in client.get(reverse("monitoring-sheet", args=[sheet.pk])).content.decode()
    text = pdf_text(client.get(reverse("monitoring-sheet-pdf", args=[sheet.pk])).content)
    assert "Budi Santoso, S.H." in text and "Belum terkait" in text


# "Perlu revisi": a draft of the SOP's next revision for the office's editors
# ---------------------------------------------------------------------------------------------


def evaluation_signed(world, *, perlu_revisi: bool, catatan: str = ""):
    sheet = sheets.sheet_prepare(office=world.uji, period=semester("2026-2"), user=world.kepala, kind="evaluasi")
    row = sheet.rows.get()
    values = {key: "ya" for key, _label in sheets.CRITERIA}
    values.update({"perlu_revisi": "1" if perlu_revisi else "", "catatan": catatan})
    sheets.sheet_save(sheet=sheet, user=world.kepala, rows={row.pk: values})
    return sheets.sheet_sign(sheet=sheet, user=world.kepala)


def test_signing_perlu_revisi_makes_a_draft_of_the_next_revision(world):
    from procedures.authoring.models import DraftEvent, SopDraft

    latest = world.sop.latest_revision
    sheet = evaluation_signed(world, perlu_revisi=True, catatan="Langkah 2 terlalu lama")
    row = sheet.rows.get()
    draft = SopDraft.objects.get(sop=world.sop)  # exactly one
    assert row.revision_draft == draft
    assert draft.origin == SopDraft.Origin.REVISION and draft.based_on == latest and draft.office == world.uji
    assert draft.author == world.kepala and draft.status == SopDraft.Status.DRAFT  # a head, not an editor
    assert draft.data["revisi"] == latest.revisi + 1
    event = DraftEvent.objects.get(draft=draft)
    assert event.transition == "create" and event.actor == world.kepala
    assert "Formulir Evaluasi Penerapan SOP" in event.reason and "Langkah 2 terlalu lama" in event.reason


def test_signing_again_links_the_open_draft(world):
    from procedures.authoring.models import SopDraft

    first = evaluation_signed(world, perlu_revisi=True).rows.get().revision_draft
    new = sheets.sheet_supersede(sheet=MonitoringSheet.objects.get(kind="evaluasi"), user=world.kepala,
                                 reason="Salah isi")
    signed = sheets.sheet_sign(sheet=new, user=world.kepala)
    assert signed.rows.get().revision_draft == first and SopDraft.objects.filter(sop=world.sop).count() == 1


def test_no_draft_without_perlu_revisi(world):
    from procedures.authoring.models import SopDraft

    assert evaluation_signed(world, perlu_revisi=False).rows.get().revision_draft is None
    assert not SopDraft.objects.exists()


def test_a_user_who_is_no_editor_still_may_not_make_drafts(world):
    from procedures.authoring import drafts

    with pytest.raises(NotAllowed):
        drafts.draft_from_revision(revision=world.sop.latest_revision, user=world.kepala)


def test_the_signed_evaluation_links_the_draft_for_an_editor(client, world):
    from tests.test_authoring_drafts import editor_of

    sheet = evaluation_signed(world, perlu_revisi=True)
    draft = sheet.rows.get().revision_draft
    url = reverse("monitoring-sheet", args=[sheet.pk])
    client.force_login(world.kepala)  # a head, no SOP editor
    page = client.get(url).content.decode()
    assert "Buka draf revisi" not in page and "dibuat untuk penyusun SOP Kantor Uji" in page
    world.kepala.groups.add(editor_of(world.uji).groups.get())  # the head joins "Penyusun SOP"
    page = client.get(url).content.decode()
    assert "Buka draf revisi" in page and reverse("draft-edit", args=[draft.pk]) in page
