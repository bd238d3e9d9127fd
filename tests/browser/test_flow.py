"""Issue 13 in Chromium: decisions that ask the sheet's question, Kembalikan, the Plh banner, the inbox
leading with perihal, and approving several items at once with "Select all"."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.utils import formats, timezone

from procedures.models import ActingAssignment, Position, Run, Task
from tests.browser.conftest import PASSWORD
from tests.browser.test_runs import open_from_inbox
from tests.engine_fixtures import drive, open_task

KASAT = "Kasat Pol PP"


def patrol_at_7(seeded, perihal: str) -> tuple[Run, Task]:
    run = seeded.start("004", perihal=perihal)
    drive(run, seeded, stop_at=7)
    return run, open_task(run)


def no_dialogs(page) -> list[str]:
    """Fail on any browser dialog: confirmation is asked in the page."""
    seen: list[str] = []
    page.on("dialog", lambda dialog: (seen.append(dialog.message), dialog.dismiss()))
    return seen


def test_patrol_step_7_asks_the_sheets_question_and_confirms_the_end_in_the_page(seeded, as_user, live_server):
    run, task = patrol_at_7(seeded, "Patroli Pasar Anyar")
    page = as_user("kasat-pol-pp")
    dialogs = no_dialogs(page)
    open_from_inbox(page, live_server, task)

    page.locator("[data-question]").get_by_text("Ada temuan pelanggaran Perda?").wait_for()
    assert page.locator("[data-answer=ya] [data-leads-to]").inner_text() == "→ step 8, Kasat Pol PP"
    assert page.locator("[data-answer=tidak] [data-leads-to]").inner_text() == "→ the run ends"
    ending = page.get_by_role("button", name="Tidak ada temuan, patroli selesai (ends the run)")
    confirm = page.get_by_role("button", name="Yes, end the run")
    assert not confirm.is_visible()
    page.get_by_label("Reason (required for Tidak)").fill("Tidak ada pelanggaran di Pasar Anyar")
    ending.click()
    confirm.wait_for()  # revealed in the page, nothing posted yet
    assert open_task(run).pk == task.pk
    page.get_by_role("button", name="Not yet").click()
    assert not confirm.is_visible()
    ending.click()
    confirm.click()
    page.get_by_text("Decision recorded.").wait_for()
    run.refresh_from_db()
    assert run.status == Run.Status.FINISHED and dialogs == []


def test_prodeskel_step_4_says_where_each_answer_leads(seeded, as_user, live_server):
    run = seeded.start("003", perihal="SK Tim Prodeskel")
    drive(run, seeded, stop_at=4)
    task = open_task(run)
    page = as_user("kabid")
    open_from_inbox(page, live_server, task)
    page.get_by_text("Setuju dengan konsep SK Tim Kegiatan?").wait_for()
    answers = page.locator("[data-answer]")
    assert answers.nth(0).get_by_role("button").first.inner_text() == "Setuju, menyampaikan kepada Kadis"
    assert answers.nth(0).locator("[data-leads-to]").inner_text() == "→ step 5, Kadis"
    assert answers.nth(1).locator("[data-leads-to]").inner_text() == "→ step 3, Kasi"


def test_a_process_step_is_sent_back_and_the_record_says_so(seeded, as_user, live_server):
    run = seeded.start("000", perihal="Pembinaan RW 03")
    drive(run, seeded, stop_at=5)
    task = open_task(run)
    kabid = as_user("kabid-linmas")
    dialogs = no_dialogs(kabid)
    open_from_inbox(kabid, live_server, task)

    kabid.get_by_text("Send back to step 4 (Kasi Bina Potensi Masyarakat)").click()
    kabid.get_by_label("Why does the work go back?").fill("Daftar potensi per kelurahan belum dilampirkan")
    kabid.get_by_role("button", name="Send back to step 4", exact=True).click()
    kabid.wait_for_url(f"{live_server.url}/pelaksanaan/{run.pk}/")
    kabid.get_by_text("The work went back to step 4 (Kasi Bina Potensi Masyarakat).").wait_for()

    row = kabid.locator('[data-timeline] [data-step="5"]')
    assert "Sent back to step 4" in row.inner_text()
    assert row.locator("[data-off-sheet]").inner_text() == "outside the sheet's flow"
    assert "Daftar potensi per kelurahan belum dilampirkan" in row.inner_text()
    assert row.locator("[data-off-sheet]").is_visible()
    # The fine events are folded under each step's row.
    assert kabid.locator('[data-timeline] [data-step="1"] details').count() == 1

    reopened = open_task(run)
    assert (reopened.step.nomor, reopened.status) == (4, Task.Status.IN_PROGRESS)
    kasi = as_user("kasi-bina-potensi-masyarakat")
    open_from_inbox(kasi, live_server, reopened)
    assert "Daftar potensi per kelurahan belum dilampirkan" in kasi.get_by_role("alert").filter(
        has_text="Sent back").inner_text()
    assert dialogs == []


def test_a_plh_is_told_everywhere_and_the_inbox_leads_with_perihal(seeded, as_user, live_server):
    _run_a, task_a = patrol_at_7(seeded, "Patroli Pasar Anyar")
    _run_b, _task_b = patrol_at_7(seeded, "Patroli Taman Kota")
    position = Position.objects.get(name=KASAT)
    plh = get_user_model().objects.create_user("plh-kasat", password=PASSWORD, first_name="Dedi Plh")
    ends_on = timezone.localdate() + dt.timedelta(days=2)
    ActingAssignment.objects.create(position=position, user=plh, kind="plh", starts_on=timezone.localdate(),
                                    ends_on=ends_on, appointed_by=seeded.admin)
    page = as_user("plh-kasat")
    page.goto(live_server.url + "/")

    banner = f"You are acting as Plh {KASAT} until {formats.date_format(ends_on, 'l, j M Y')}"
    page.get_by_text(banner).wait_for()
    rows = page.locator("#approvals + ul > li, section[aria-labelledby=approvals] li")
    assert rows.count() == 2
    first = rows.nth(0)
    assert first.locator("[data-perihal]").inner_text() in {"Patroli Pasar Anyar", "Patroli Taman Kota"}
    assert first.inner_text().index(first.locator("[data-perihal]").inner_text()) == 0
    assert first.locator("[data-acting-row]").inner_text() == f"as Plh {KASAT}"
    # Counted once: under Persetujuan, not also under "My tasks".
    assert page.locator("[data-count=tasks]").inner_text() == "0"
    assert page.locator("[data-count=approvals]").inner_text() == "2"

    page.goto(f"{live_server.url}/tugas/{task_a.pk}/")
    page.get_by_text(f"You act on this step as Plh {KASAT}.").wait_for()
    page.goto(live_server.url + "/persetujuan/")
    page.get_by_text(banner).wait_for()


def test_bulk_approve_with_select_all(seeded, as_user, live_server):
    run_a, _task_a = patrol_at_7(seeded, "Patroli Pasar Anyar")
    run_b, _task_b = patrol_at_7(seeded, "Patroli Taman Kota")
    page = as_user("kasat-pol-pp")
    page.goto(live_server.url + "/persetujuan/")

    page.get_by_label("Select all").check()
    boxes = page.locator("input[name=selected]")
    assert boxes.count() == 2 and all(boxes.nth(i).is_checked() for i in range(2))
    # First without the kelengkapan checked: the selection stays, each error beside its item.
    page.get_by_role("button", name="Approve selected").click()
    page.get_by_text("2 items were not approved; see each item.").wait_for()
    assert page.locator("[data-item-error]").count() == 2
    assert all(boxes.nth(i).is_checked() for i in range(2))
    for checked in page.get_by_label("Kelengkapan checked (all items)").all():
        checked.check()
    page.get_by_role("button", name="Approve selected").click()
    page.wait_for_url(live_server.url + "/persetujuan/")
    page.get_by_text("Step 7 of “Patroli Pasar Anyar”: Answered “Ada temuan pelanggaran Perda”; "
                     "next: step 8, Kasat Pol PP.").wait_for()
    assert open_task(run_a).step.nomor == open_task(run_b).step.nomor == 8


def test_on_persetujuan_an_answer_that_ends_the_run_is_confirmed_in_place(seeded, as_user, live_server):
    run, task = patrol_at_7(seeded, "Patroli Pasar Anyar")
    page = as_user("kasat-pol-pp")
    dialogs = no_dialogs(page)
    page.goto(live_server.url + "/persetujuan/")
    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    item = page.locator(f"#approval-{task.pk}")
    item.get_by_label("Reason (required for Tidak)").fill("Nihil")
    item.get_by_role("button", name="Tidak ada temuan, patroli selesai (ends the run)").click()
    item.get_by_role("button", name="Yes, end the run").wait_for()
    assert posts == []  # asked in the page: htmx posted nothing yet
    item.get_by_role("button", name="Yes, end the run").click()
    page.locator(f"#approval-{task.pk}").get_by_text(
        "Answered “Tidak ada temuan, patroli selesai”; next: the run ends.").wait_for()
    assert posts == [f"{live_server.url}/persetujuan/?confirmed=1"]
    run.refresh_from_db()
    assert run.status == Run.Status.FINISHED and dialogs == []
