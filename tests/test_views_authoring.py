"""The editor's pages: Draf SOP, Buat/Ubah/Salin, the editor (buttons, live preview, messages at their
fields), submitting, the signer's page and the approvals page's section; query counts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from procedures.authoring import drafts, form
from procedures.authoring.models import SopDraft
from procedures.models import Office, Position, Sop
from tests.engine_fixtures import KODE, SATPOL, _module_cast, cast, english  # noqa: F401
from tests.test_authoring_drafts import KASAT, editor_of, small_sop

pytestmark = pytest.mark.django_db


@pytest.fixture
def satpol(cast) -> Office:
    return Office.objects.get(name=SATPOL)


@pytest.fixture
def editor(satpol):
    return editor_of(satpol)


def posted(draft: SopDraft, **changes) -> dict:
    """What the editor page posts for the draft as it is (its fields as the page names them)."""
    state = form.state_from_data(draft.data)
    data = {key: value for key, value in state.identity.items()}
    data.update(state.lines)
    data.update({f"disahkan_oleh-{key}": value for key, value in state.signer.items()})
    data.update({key: "on" for key, value in state.flags.items() if value})
    data["kolom"] = [column.key for column in state.columns]
    data.update({f"c-{column.key}-nama": column.nama for column in state.columns})
    data["langkah"] = [step.key for step in state.steps]
    for step in state.steps:
        prefix = f"s-{step.key}-"
        data.update({prefix + key: value for key, value in step.values.items()})
        data.update({prefix + "pelaksana": step.pelaksana, prefix + "simbol": step.simbol,
                     prefix + "kelengkapan": step.kelengkapan, prefix + "ya": step.ya, prefix + "tidak": step.tidak})
    data.update(changes)
    return data


def test_buat_sop_makes_a_draft_and_opens_the_editor(client, editor):
    client.force_login(editor)
    response = client.post(reverse("draft-create"))
    draft = SopDraft.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("draft-edit", args=[draft.pk])
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert b'id="sheet-preview"' in page.content and b"hx-post" in page.content


def test_a_user_without_the_permission_gets_403(client, cast):
    client.force_login(cast.user(KASAT))
    assert client.get(reverse("draft-list")).status_code == 403
    assert client.post(reverse("draft-create")).status_code == 403
    assert client.post(reverse("draft-revise", args=[KODE["004"]])).status_code == 403
    assert not SopDraft.objects.exists()


def test_the_editor_saves_moves_and_keeps_decision_targets(client, editor, satpol):
    draft = drafts.draft_create(office=satpol, user=editor, data=small_sop())
    client.force_login(editor)
    state = form.state_from_data(draft.data)
    first, decision, last = (step.key for step in state.steps)
    # Insert a step before step 1: the decision's Tidak still goes to the old step 1 (now 2).
    response = client.post(reverse("draft-edit", args=[draft.pk]), posted(draft, op=f"step-insert:{first}"))
    assert response.status_code == 302
    draft = SopDraft.objects.get(pk=draft.pk)
    steps = draft.data["langkah"]
    assert [step["nomor"] for step in steps] == [1, 2, 3, 4]
    assert steps[0]["kegiatan"] == "" and steps[2]["tidak"] == 2 and steps[2]["ya"] == 4
    assert [event.transition for event in draft.events.all()] == ["create", "save"]


def test_a_used_column_is_not_removed(client, editor, satpol):
    draft = drafts.draft_create(office=satpol, user=editor, data=small_sop())
    client.force_login(editor)
    column = form.state_from_data(draft.data).columns[0].key
    client.post(reverse("draft-edit", args=[draft.pk]), posted(draft, op=f"col-remove:{column}"))
    assert SopDraft.objects.get(pk=draft.pk).data["pelaksana"] == [KASAT, "Petugas Operasional"]


def test_the_preview_draws_the_sheet_and_puts_messages_at_their_fields(client, editor, satpol):
    draft = drafts.draft_create(office=satpol, user=editor, data=small_sop())
    client.force_login(editor)
    key = form.state_from_data(draft.data).steps[1].key
    response = client.post(reverse("draft-preview", args=[draft.pk]), posted(draft, **{f"s-{key}-waktu": "sebentar"}))
    assert response.status_code == 200
    content = response.content.decode()
    assert "<svg" in content and "45 menit" in content  # the total of the times that can be read
    box = content.split(f'id="err-s-{key}-waktu"')[1].split("</div></div>")[0]
    assert "sebentar" in box


def test_an_incomplete_draft_is_refused_on_submit_with_messages(client, editor, satpol):
    draft = drafts.draft_create(office=satpol, user=editor)
    client.force_login(editor)
    response = client.post(reverse("draft-edit", args=[draft.pk]), posted(draft, op="submit"))
    assert response.status_code == 400
    assert SopDraft.objects.get(pk=draft.pk).status == SopDraft.Status.DRAFT


def test_submit_then_the_signer_approves_on_the_review_page(client, cast, editor, satpol):
    draft = drafts.draft_create(office=satpol, user=editor, data=small_sop())
    client.force_login(editor)
    response = client.post(reverse("draft-edit", args=[draft.pk]), posted(draft, op="submit"))
    assert response.status_code == 302 and response["Location"] == reverse("draft-review", args=[draft.pk])
    kasat = cast.user(KASAT)
    client.force_login(kasat)
    approvals = client.get(reverse("approvals"))
    assert reverse("draft-review", args=[draft.pk]).encode() in approvals.content
    review = client.get(reverse("draft-review", args=[draft.pk]))
    assert review.status_code == 200 and b"<svg" in review.content
    assert reverse("draft-approve", args=[draft.pk]).encode() in review.content
    response = client.post(reverse("draft-approve", args=[draft.pk]))
    assert response.status_code == 302
    assert Sop.objects.get(kode="satpolpp-apel-pagi").revisions.count() == 1


def test_the_author_is_refused_with_the_reason(client, cast, satpol):
    kasat = cast.user(KASAT)
    from django.contrib.auth.models import Group, Permission
    group, _new = Group.objects.get_or_create(name="Penyusun SOP")
    group.permissions.add(Permission.objects.get(codename="edit_sop_draft"))
    kasat.groups.add(group)
    draft = drafts.draft_submit(draft=drafts.draft_create(office=satpol, user=kasat, data=small_sop()), user=kasat)
    client.force_login(kasat)
    response = client.post(reverse("draft-approve", args=[draft.pk]))
    assert response.status_code == 403 and b"own work" in response.content
    assert SopDraft.objects.get(pk=draft.pk).status == SopDraft.Status.SUBMITTED


def test_returning_needs_a_reason(client, cast, editor, satpol):
    draft = drafts.draft_submit(draft=drafts.draft_create(office=satpol, user=editor, data=small_sop()), user=editor)
    client.force_login(cast.user(KASAT))
    assert client.post(reverse("draft-return", args=[draft.pk]), {"reason": ""}).status_code == 400
    response = client.post(reverse("draft-return", args=[draft.pk]), {"reason": "Perbaiki langkah 2"})
    assert response.status_code == 302
    assert SopDraft.objects.get(pk=draft.pk).status == SopDraft.Status.RETURNED


def test_a_draft_is_private_to_its_office_editors_until_submitted(client, cast, editor, satpol):
    draft = drafts.draft_create(office=satpol, user=editor, data=small_sop())
    client.force_login(cast.user(KASAT))
    assert client.get(reverse("draft-review", args=[draft.pk])).status_code == 403
    assert client.get(reverse("draft-edit", args=[draft.pk])).status_code == 403
    drafts.draft_submit(draft=draft, user=editor)
    assert client.get(reverse("draft-review", args=[draft.pk])).status_code == 200


def test_ubah_and_salin_from_the_catalogue(client, editor):
    client.force_login(editor)
    response = client.post(reverse("draft-revise", args=[KODE["004"]]))
    assert response.status_code == 302
    response = client.post(reverse("draft-copy", args=[KODE["004"]]))
    assert response.status_code == 302
    assert sorted(SopDraft.objects.values_list("origin", flat=True)) == ["salin", "ubah"]


def test_the_draft_list_costs_the_same_queries_for_2_or_12_drafts(client, editor, satpol, django_assert_num_queries):
    client.force_login(editor)
    for _index in range(2):
        drafts.draft_create(office=satpol, user=editor, data=small_sop())
    client.get(reverse("draft-list"))  # warm the session and the permission caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("draft-list"))
    for _index in range(10):
        drafts.draft_create(office=satpol, user=editor, data=small_sop())
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(reverse("draft-list"))


def test_the_signers_section_costs_one_query_for_any_number_of_drafts(client, cast, satpol, django_assert_num_queries):
    kasat = cast.user(KASAT)
    editor = editor_of(satpol)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    client.force_login(kasat)
    client.get(reverse("approvals"))
    with CaptureQueriesContext(connection) as none:
        client.get(reverse("approvals"))
    for index in range(5):
        drafts.draft_submit(draft=drafts.draft_create(office=satpol, user=editor, data=small_sop(f"sop-{index}")),
                            user=editor)
    with django_assert_num_queries(len(none.captured_queries)):
        response = client.get(reverse("approvals"))
    assert response.content.count(b"/pengesahan/") >= 5
    assert Position.objects.filter(office=satpol, name=KASAT).exists()


def test_an_sop_made_in_the_editor_exports_a_file_that_reimports_unchanged(client, cast, editor, satpol):
    from procedures.library import Outcome, sop_import
    from procedures.sopfile import load

    data = small_sop()
    data.update({"kop": ["PEMERINTAH KOTA", "SATUAN POLISI PAMONG PRAJA"], "tanggal_efektif": "2026-01",
                 "ditandatangani_elektronik": True, "dasar_hukum": ["Perda Nomor 1 Tahun 2020"]})
    data["langkah"][1].update({"pertanyaan": "Pasukan siap?", "label_ya": "Siap", "label_tidak": "Belum siap"})
    draft = drafts.draft_submit(draft=drafts.draft_create(office=satpol, user=editor, data=data), user=editor)
    draft = drafts.draft_approve(draft=draft, user=cast.user(KASAT))
    client.force_login(cast.admin)
    response = client.get(f"/admin/procedures/soprevision/{draft.revision.pk}/export/")
    assert response.status_code == 200
    exported = b"".join(response.streaming_content) if response.streaming else response.content
    document = load(exported)
    assert document.as_dict() == load(exported).as_dict()
    # What the editor held, signed, is what the file says …
    signed = drafts.signed_content(draft, cast.user(KASAT), None)
    signed["tanggal_pembuatan"] = draft.revision.tanggal_pembuatan.isoformat()
    signed["tanggal_efektif"] = "2026-01"
    from procedures.sopfile import validate
    assert document.as_dict() == validate(signed).as_dict()
    assert document.tanggal_efektif.isoformat() == "2026-01" and document.ditandatangani_elektronik
    # … and importing it again changes nothing.
    result = sop_import(data=exported, source="ekspor.yaml")
    assert (result.outcome, result.revision) == (Outcome.UNCHANGED, 1)


def test_impor_dari_word_makes_a_draft_with_its_flags_at_the_fields(client, editor):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from procedures.authoring.word_sheet import sheet_docx

    data = small_sop()
    data["langkah"][2]["waktu"] = "secepatnya"
    client.force_login(editor)
    upload = SimpleUploadedFile("apel.docx", sheet_docx(data))
    response = client.post(reverse("draft-word"), {"file": upload})
    assert response.status_code == 302
    draft = SopDraft.objects.get()
    assert draft.origin == SopDraft.Origin.WORD and draft.data["langkah"][2]["waktu"] == "secepatnya"
    assert any(flag["path"] == "langkah[2].waktu" for flag in draft.flags)
    page = client.get(response["Location"]).content.decode()
    key = form.state_from_data(draft.data).steps[2].key
    after_box = page.split(f'id="err-s-{key}-waktu"')[1].split("</td>")[0]
    assert "From Word:" in after_box


def test_a_file_that_is_no_word_document_is_refused_with_a_message(client, editor):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(editor)
    response = client.post(reverse("draft-word"), {"file": SimpleUploadedFile("surat.docx", b"bukan word")})
    assert response.status_code == 400 and "surat.docx" in response.content.decode()
    assert not SopDraft.objects.exists()


def test_the_patroli_sop_typed_into_an_empty_draft_exports_as_the_shipped_file(client, cast, editor, satpol):
    """Every key of SOP 004 through the editor's form; the signed export equals the file but for
    what signing sets (the signer, the dates) and the code of a new SOP."""
    from procedures.library import sop_export
    from procedures.sopfile import load
    from tests.engine_fixtures import SEEDS

    shipped = load(next(SEEDS.glob("004-*.yaml")).read_bytes()).as_dict()
    draft = drafts.draft_create(office=satpol, user=editor)
    typed = SopDraft(pk=draft.pk, data={**shipped, "kode": "satpolpp-patroli-editor",
                                        "disahkan_oleh": {"jabatan": KASAT}})
    client.force_login(editor)
    response = client.post(reverse("draft-edit", args=[draft.pk]), posted(typed, op="submit"))
    assert response.status_code == 302, response.content.decode()[:2000]
    draft = drafts.draft_approve(draft=SopDraft.objects.get(pk=draft.pk), user=cast.user(KASAT))
    exported = load(sop_export(revision=draft.revision).encode()).as_dict()
    for key in ("kode", "disahkan_oleh", "tanggal_pembuatan", "tanggal_efektif"):
        exported.pop(key, None)
        shipped.pop(key, None)
    assert exported == shipped


def test_the_editor_and_its_preview_escape_what_the_author_types(client, editor, satpol):
    payload = "<img src=x onerror=alert(1)>"
    data = small_sop()
    data["nama"] = payload
    data["langkah"][0]["kegiatan"] = payload
    draft = drafts.draft_create(office=satpol, user=editor, data=data)
    client.force_login(editor)
    for response in (client.get(reverse("draft-edit", args=[draft.pk])),
                     client.post(reverse("draft-preview", args=[draft.pk]), posted(draft))):
        assert payload.encode() not in response.content
        assert b"&lt;img src=x onerror=alert(1)&gt;" in response.content


def test_the_editor_costs_the_same_queries_for_3_or_12_steps(client, editor, satpol, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    small = drafts.draft_create(office=satpol, user=editor, data=small_sop())
    data = small_sop()
    data["langkah"] = [dict(data["langkah"][0], nomor=n, kegiatan=f"Langkah {n}") for n in range(1, 13)]
    large = drafts.draft_create(office=satpol, user=editor, data=data)
    client.force_login(editor)
    client.get(reverse("draft-edit", args=[small.pk]))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("draft-edit", args=[small.pk]))
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(reverse("draft-edit", args=[large.pk]))


def test_a_post_that_is_not_the_editors_form_changes_nothing(client, editor, satpol):
    draft = drafts.draft_create(office=satpol, user=editor, data=small_sop())
    client.force_login(editor)
    response = client.post(reverse("draft-edit", args=[draft.pk]), {"op": "save"})
    assert response.status_code == 400
    assert SopDraft.objects.get(pk=draft.pk).data["langkah"] == small_sop()["langkah"]


def test_an_editor_without_a_position_sees_the_offices_sops_with_ubah_and_salin(client, editor):
    client.force_login(editor)
    page = client.get(reverse("sop-list")).content.decode()
    assert reverse("draft-revise", args=[KODE["004"]]) in page and reverse("draft-copy", args=[KODE["004"]]) in page
    assert reverse("draft-revise", args=[KODE["003"]]) not in page  # another office's SOP
    assert client.get(reverse("sop-detail", args=[KODE["004"]])).status_code == 200
    assert client.get(reverse("sop-detail", args=[KODE["003"]])).status_code == 403


def test_control_characters_typed_into_the_editor_are_kept_visible_not_a_500(client, editor, satpol):
    draft = drafts.draft_create(office=satpol, user=editor, data=small_sop())
    client.force_login(editor)
    key = form.state_from_data(draft.data).steps[0].key
    response = client.post(reverse("draft-edit", args=[draft.pk]),
                           posted(draft, **{f"s-{key}-kegiatan": "Menyiapkan\x00 apel", "op": "save"}))
    assert response.status_code == 302
    assert SopDraft.objects.get(pk=draft.pk).data["langkah"][0]["kegiatan"] == "Menyiapkan\N{REPLACEMENT CHARACTER} apel"
