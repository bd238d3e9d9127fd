"""The SOP editor in a browser: an editor of the Satpol PP builds a small SOP (two role columns, three
steps, a decision back to step 1), watches the sheet drawn live, submits it; the Kasat signs it on
Persetujuan; a run starts on it and reaches step 2. The author cannot sign his own draft."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from procedures.authoring.models import SopDraft
from procedures.models import Office, Profile, Run, SopRevision
from tests.browser.conftest import PASSWORD
from tests.browser.pages import serious_violations
from tests.engine_fixtures import SATPOL

KASAT = "Kasat Pol PP"
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""


@pytest.fixture
def penyusun(seeded):
    """An SOP editor of the Satpol PP (the group "Penyusun SOP"), without a position."""
    group = Group.objects.create(name="Penyusun SOP")
    group.permissions.add(Permission.objects.get(codename="edit_sop_draft"))
    user = get_user_model().objects.create_user("penyusun", password=PASSWORD, first_name="Rina Penyusun")
    Profile.objects.create(user=user, office=Office.objects.get(name=SATPOL))
    user.groups.add(group)
    kasat = seeded.user(KASAT)
    Profile.objects.update_or_create(user=kasat, defaults={"nip": "196406061985031015", "pangkat": "Pembina, IV/a"})
    return user


def fill_step(page, number: int, *, kegiatan: str, pelaksana: str, waktu: str) -> None:
    row = page.locator("table.draft-steps tbody tr").nth(number - 1)
    row.get_by_label("Activity (kegiatan)").fill(kegiatan)
    row.get_by_label("Actor (pelaksana)").select_option(label=pelaksana)
    row.get_by_label("Time (waktu)").fill(waktu)


def test_an_editor_builds_an_sop_the_kasat_signs_it_and_a_run_starts_on_it(penyusun, seeded, as_user, live_server,
                                                                          artifacts):
    editor = as_user("penyusun")
    # Every violation of the Content-Security-Policy is kept (the live preview's swaps included).
    editor.context.add_init_script(WATCH)
    editor.goto(live_server.url + "/sop/")
    editor.get_by_role("button", name="Create SOP").click()
    editor.wait_for_url(re.compile(r".*/draf/\d+/$"))
    editor.get_by_label("Code (kode)").fill("satpolpp-apel-pagi")
    editor.get_by_label("SOP name").fill("Apel Pagi")
    editor.get_by_label("Position (jabatan)").fill(KASAT)
    for _column in range(2):
        with editor.expect_navigation():
            editor.get_by_role("button", name="Add a role column").click()
    editor.get_by_label("Role column 1").fill(KASAT)
    editor.get_by_label("Role column 2").fill("Petugas Operasional")
    for _step in range(3):
        with editor.expect_navigation():
            editor.get_by_role("button", name="Add a step").click()
    assert editor.locator("table.draft-steps tbody tr").count() == 3

    fill_step(editor, 1, kegiatan="Memerintahkan apel pagi", pelaksana=KASAT, waktu="5 menit")
    fill_step(editor, 2, kegiatan="Memeriksa kesiapan pasukan. Siap?", pelaksana="Petugas Operasional",
              waktu="10 menit")
    fill_step(editor, 3, kegiatan="Melaksanakan apel", pelaksana="Petugas Operasional", waktu="sebentar")
    decision = editor.locator("table.draft-steps tbody tr").nth(1)
    decision.get_by_label("Symbol").select_option("keputusan")
    decision.get_by_label("Yes goes to").select_option(label="3. Melaksanakan apel")
    decision.get_by_label("No goes to").select_option(label="1. Memerintahkan apel pagi")

    # The sheet is drawn as the form changes, and the format's message stands at the waktu of step 3.
    editor.locator("#sheet-preview svg").wait_for()
    step3 = editor.locator("table.draft-steps tbody tr").nth(2)
    step3.locator(".field-errors", has_text="sebentar").wait_for()
    step3.get_by_label("Time (waktu)").fill("30 menit")
    editor.locator("[data-total]", has_text="45 menit").wait_for()
    editor.locator("[data-problems]", has_text="Complete").wait_for()
    editor.screenshot(path=artifacts / "editor.png", full_page=True)
    assert editor.evaluate("() => window.__violations") == []

    editor.get_by_role("button", name="Submit for approval").click()
    editor.wait_for_url(re.compile(r".*/draf/\d+/pengesahan/$"))
    draft = SopDraft.objects.get()
    assert draft.status == SopDraft.Status.SUBMITTED and draft.signer_position.name == KASAT

    # The Kasat finds it on Persetujuan, reads the sheet and approves it.
    kasat = as_user(seeded.user(KASAT).username)
    kasat.goto(live_server.url + "/persetujuan/")
    kasat.get_by_role("heading", name="SOPs awaiting approval").wait_for()
    kasat.get_by_role("link", name="Apel Pagi").click()
    kasat.locator(".draft-drawing svg").wait_for()
    kasat.screenshot(path=artifacts / "pengesahan.png", full_page=True)
    kasat.get_by_role("button", name="Approve", exact=True).click()
    kasat.wait_for_url(re.compile(r".*/sop/satpolpp-apel-pagi/$"))
    revision = SopRevision.objects.get(sop__kode="satpolpp-apel-pagi")
    assert (revision.disahkan_nama, revision.disahkan_nip) == (seeded.user(KASAT).get_full_name(), "196406061985031015")

    # A run starts on the signed SOP and reaches step 2.
    kasat.goto(live_server.url + "/pelaksanaan/mulai/")
    kasat.get_by_label("SOP").select_option(label=f"Apel Pagi — {SATPOL}")
    kasat.get_by_label("Subject (perihal)").fill("Apel pagi Senin")
    kasat.get_by_role("button", name="Start").click()
    kasat.wait_for_url(re.compile(r".*/(pelaksanaan|tugas)/\d+/$"))  # step 1's task when it is the starter's
    run = Run.objects.get(perihal="Apel pagi Senin")
    assert run.revision == revision
    task = run.tasks.get()
    kasat.goto(f"{live_server.url}/tugas/{task.pk}/")
    kasat.get_by_role("button", name="Complete this step").click()
    kasat.get_by_text("Step completed; the run has moved on.").wait_for()
    assert run.tasks.filter(step__nomor=2).exists()


def test_the_author_cannot_sign_his_own_draft(seeded, as_user, live_server):
    from procedures.authoring import drafts
    from tests.test_authoring_drafts import small_sop

    kasat_user = seeded.user(KASAT)
    group = Group.objects.create(name="Penyusun SOP")
    group.permissions.add(Permission.objects.get(codename="edit_sop_draft"))
    kasat_user.groups.add(group)
    kasat_user = get_user_model().objects.get(pk=kasat_user.pk)
    draft = drafts.draft_submit(draft=drafts.draft_create(office=Office.objects.get(name=SATPOL), user=kasat_user,
                                                          data=small_sop()), user=kasat_user)
    kasat = as_user(kasat_user.username)
    kasat.goto(f"{live_server.url}/draf/{draft.pk}/pengesahan/")
    kasat.get_by_text("nobody may approve their own work").wait_for()
    assert kasat.get_by_role("button", name="Approve", exact=True).count() == 0


STEP_LABELS = {
    "kegiatan": "Activity (kegiatan)", "waktu": "Time (waktu)", "output": "Output",
    "keterangan": "Remarks (keterangan)", "catatan_transkripsi": "Transcription note", "label": "Label",
    "pertanyaan": "Question", "label_ya": "Words of Yes", "label_tidak": "Words of No",
}
LINE_LABELS = {"kop": "Letterhead lines", "catatan_transkripsi": "Transcription notes (not printed)",
               "dasar_hukum": "Legal basis", "kualifikasi_pelaksana": "Implementer qualifications",
               "keterkaitan": "Related SOPs", "peralatan": "Equipment", "peringatan": "Warnings",
               "pencatatan": "Records and data keeping"}


def type_sop(page, sheet: dict) -> None:
    """Type a whole SOP file's values into an empty draft's editor, as a person would."""
    page.get_by_label("Code (kode)").fill(sheet["kode"])
    page.get_by_label("SOP name").fill(sheet["nama"])
    page.get_by_label("Position (jabatan)").fill(sheet["disahkan_oleh"]["jabatan"])
    for key, label in LINE_LABELS.items():
        if sheet.get(key):
            page.get_by_label(label, exact=True).fill("\n".join(sheet[key]))
    for _column in sheet["pelaksana"]:
        with page.expect_navigation():
            page.get_by_role("button", name="Add a role column").click()
    for number, name in enumerate(sheet["pelaksana"], start=1):
        page.get_by_label(f"Role column {number}", exact=True).fill(name)
    for _step in sheet["langkah"]:
        with page.expect_navigation():
            page.get_by_role("button", name="Add a step").click()
    rows = page.locator("table.draft-steps tbody tr")
    for index, step in enumerate(sheet["langkah"]):
        row = rows.nth(index)
        for key, label in STEP_LABELS.items():
            if step.get(key):
                row.get_by_label(label, exact=True).fill(step[key])
        row.get_by_label("Actor (pelaksana)").select_option(label=step["pelaksana"])
        if step.get("kelengkapan"):
            row.get_by_label("Requirements (kelengkapan), one per line").fill("\n".join(step["kelengkapan"]))
        if step.get("simbol") == "keputusan":
            row.get_by_label("Symbol").select_option("keputusan")
            for key, label in (("ya", "Yes goes to"), ("tidak", "No goes to")):
                target = step[key]
                if target == "selesai":
                    row.get_by_label(label).select_option("selesai")
                elif target != step["nomor"] + 1 or key == "tidak":
                    row.get_by_label(label).select_option(index=target)  # "the next step"/"—" first


def test_an_editor_builds_the_patroli_sop_from_nothing_and_it_runs(penyusun, seeded, as_user, live_server):
    from procedures.library import sop_export
    from procedures.sopfile import load
    from tests.engine_fixtures import SEEDS
    from tests.browser.test_runs import fill_in_work

    shipped = load(next(SEEDS.glob("004-*.yaml")).read_bytes()).as_dict()
    sheet = {**shipped, "kode": "satpolpp-patroli-disusun", "disahkan_oleh": {"jabatan": KASAT}}
    editor = as_user("penyusun")
    editor.goto(live_server.url + "/draf/")
    editor.get_by_role("button", name="Create SOP").click()
    editor.wait_for_url(re.compile(r".*/draf/\d+/$"))
    type_sop(editor, sheet)
    editor.locator("[data-problems]", has_text="Complete").wait_for()
    editor.get_by_role("button", name="Submit for approval").click()
    editor.wait_for_url(re.compile(r".*/draf/\d+/pengesahan/$"))

    kasat = as_user(seeded.user(KASAT).username)
    kasat.goto(live_server.url + "/persetujuan/")
    kasat.get_by_role("link", name="Patroli Pengawasan Wilayah").click()
    kasat.get_by_role("button", name="Approve", exact=True).click()
    kasat.wait_for_url(re.compile(r".*/sop/satpolpp-patroli-disusun/$"))
    revision = SopRevision.objects.get(sop__kode="satpolpp-patroli-disusun")
    exported = load(sop_export(revision=revision).encode()).as_dict()
    for key in ("kode", "disahkan_oleh", "tanggal_pembuatan", "tanggal_efektif"):
        exported.pop(key, None)
        shipped.pop(key, None)
    assert exported == shipped

    kasat.goto(live_server.url + "/pelaksanaan/mulai/")
    kasat.get_by_label("SOP").select_option(value=str(revision.pk))
    kasat.get_by_label("Subject (perihal)").fill("Patroli malam disusun di editor")
    kasat.get_by_role("button", name="Start").click()
    kasat.wait_for_url(re.compile(r".*/(pelaksanaan|tugas)/\d+/$"))  # step 1's task when it is the starter's
    run = Run.objects.get(perihal="Patroli malam disusun di editor")
    task = run.tasks.select_related("step").get()
    kasat.goto(f"{live_server.url}/tugas/{task.pk}/")
    fill_in_work(kasat, task)
    kasat.get_by_role("button", name="Complete this step").click()
    kasat.get_by_text("Step completed; the run has moved on.").wait_for()
    assert run.tasks.filter(step__nomor=2).exists()


def test_a_step_dragged_above_the_first_keeps_its_decision_on_the_same_steps(penyusun, as_user, live_server):
    """On a wide screen with a mouse, step 3 dragged above step 1 becomes step 1, as the ↑ button
    would make it; the decision's Ya still names that step (by its new number) and its Tidak the
    old step 1; on a phone the handle is hidden and the buttons stay."""
    from procedures.authoring import drafts
    from tests.test_authoring_drafts import small_sop

    draft = drafts.draft_create(office=Office.objects.get(name=SATPOL), user=penyusun, data=small_sop())
    editor = as_user("penyusun")
    editor.context.add_init_script(WATCH)
    editor.set_viewport_size({"width": 1366, "height": 900})
    editor.goto(f"{live_server.url}/draf/{draft.pk}/")
    rows = editor.locator("table.draft-steps tbody tr")
    handle = rows.nth(2).get_by_role("img", name="Drag to move the step 3")
    assert handle.is_visible()
    assert [v for v in serious_violations(editor) if "step-drag-handle" in v] == []
    # Rows are tall: scroll so that the handle of step 3 and the upper half of step 1 are both in
    # view (above the sticky bar of the form's buttons), then drag with the mouse.
    first = rows.nth(0).evaluate(
        "row => { const b = row.getBoundingClientRect(); return [b.top + scrollY, b.height]; }")
    aim = first[0] + first[1] / 2 - 20  # the upper half of step 1: before it
    editor.evaluate("y => window.scrollTo(0, y)", aim - 20)
    start = handle.bounding_box()
    bar = editor.locator("#draft-form .position-sticky.bottom-0").bounding_box()
    assert start["y"] + start["height"] < bar["y"], "step 1 and the handle of step 3 do not fit in one screen"
    with editor.expect_navigation():
        editor.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
        editor.mouse.down()
        editor.mouse.move(start["x"] + 40, 30, steps=8)
        editor.mouse.move(start["x"] + 40, 20, steps=2)
        editor.mouse.up()
    assert [rows.nth(i).get_by_label("Activity (kegiatan)").input_value() for i in range(3)] == [
        "Melaksanakan apel", "Menyiapkan apel", "Memeriksa kesiapan. Siap?"]
    decision = rows.nth(2)
    assert decision.get_by_label("Yes goes to").locator("option:checked").inner_text() == "1. Melaksanakan apel"
    assert decision.get_by_label("No goes to").locator("option:checked").inner_text() == "2. Menyiapkan apel"
    editor.locator("#sheet-preview svg").wait_for()
    with editor.expect_navigation():
        editor.get_by_role("button", name="Save draft").click()
    editor.get_by_text("Saved.").wait_for()
    draft.refresh_from_db()
    steps = draft.data["langkah"]
    assert [step["kegiatan"] for step in steps] == ["Melaksanakan apel", "Menyiapkan apel", "Memeriksa kesiapan. Siap?"]
    assert (steps[2]["ya"], steps[2]["tidak"]) == (1, 2)
    assert editor.evaluate("() => window.__violations") == []

    # A phone: no handle; the buttons move the step.
    editor.set_viewport_size({"width": 390, "height": 844})
    assert not rows.nth(0).locator(".step-drag-handle").is_visible()
    assert rows.nth(1).get_by_role("button", name="Move step up 2").is_visible()
